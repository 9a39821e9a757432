//! UW6xx: production hardening.

use crate::deployment::{Addr, parse_addr};
use crate::diagnostic::Diagnostic;
use crate::rules::{Rule, RuleContext};
use crate::source::{FileId, Span};
use crate::uwsgi::version::Version;

pub fn strict_off(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // What is absent may be set by an option only known at runtime.
    if ctx.is_open() {
        return;
    }
    if ctx.resolved.strict {
        return;
    }
    out.push(
        rule.at(
            ctx.header(),
            "`strict` is off: uWSGI silently ignores misspelled or unknown keys",
        )
        .with_help("add `strict = true` (declare ad-hoc variables with `set-placeholder`)"),
    );
}

/// Where the linked container publishes `port` on the host: whether only on
/// a private address, and the place that publishes it. `None` without that
/// evidence (a bare file, or a port only other containers reach).
fn published(ctx: &RuleContext, port: u16) -> Option<(bool, Option<(FileId, Span)>)> {
    let dep = ctx.deployment?;
    let (p, private) = dep
        .container
        .published
        .iter()
        .find(|(p, _)| p.value == port)?;
    Some((*private, ctx.project.at(&dep.container.file, p.span)))
}

/// A socket bound on every interface and published by the container: a
/// warning, or info when published only on a private address.
fn public_socket_finding(
    ctx: &RuleContext,
    rule: &Rule,
    e: &crate::uwsgi::resolve::Entry,
    message: String,
) -> Option<Diagnostic> {
    let v = e.value_str();
    let addr = parse_addr(v.split(',').next().unwrap_or(&v))?;
    let Addr::Tcp { port, .. } = addr else {
        return None;
    };
    if !addr.binds_all() {
        return None;
    }
    let (private, at) = published(ctx, port)?;
    let (file, _, value_span) = ctx.spans(e)?;
    let mut d = rule.diag(file, value_span, message);
    if private {
        d.severity = crate::diagnostic::Severity::Info;
    }
    if let Some((f, span)) = at {
        d.related.push(crate::diagnostic::Related {
            file: f,
            span,
            message: format!(
                "port {port} published on the host{}",
                if private { " (private address)" } else { "" }
            ),
        });
    }
    Some(d)
}

pub fn uwsgi_socket_public(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let http_protocol = ["protocol", "socket-protocol"].iter().any(|n| {
        ctx.last(n)
            .is_some_and(|e| e.value_str().trim().starts_with("http"))
    });
    if http_protocol {
        return;
    }
    for e in ctx
        .resolved
        .all("socket")
        .chain(ctx.resolved.all("uwsgi-socket"))
    {
        let message = format!(
            "the uwsgi-protocol socket `{}` listens on every interface and the container publishes its port: anyone who reaches it can set UWSGI_FILE and similar variables to load code",
            e.value_str().trim()
        );
        if let Some(mut d) = public_socket_finding(ctx, rule, e, message) {
            d.help = Some("bind to 127.0.0.1 or a unix socket, or stop publishing the port (a sibling Nginx container reaches it without)".into());
            out.push(d);
        }
    }
}

/// UW610: the stats server on every interface, published by the container.
pub fn stats_server_public(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(e) = ctx.last("stats") else { return };
    let message = format!(
        "the stats server `{}` listens on every interface and the container publishes its port: anyone who reaches it reads, without authentication, every worker's pid, state and request counts, the app's directory and its sockets",
        e.value_str().trim()
    );
    if let Some(mut d) = public_socket_finding(ctx, rule, e, message) {
        d.help = Some(
            "bind it to 127.0.0.1 (`stats = 127.0.0.1:9191`) or a unix socket, or stop publishing the port"
                .into(),
        );
        out.push(d);
    }
}

/// UW603: a world-writable unix socket on a shared host. In a container the
/// socket lives in the container's (or a shared volume's) filesystem, where
/// 666 is how a sibling Nginx container's user reaches it: no finding.
pub fn socket_world_writable(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if ctx.deployment.is_some() || ctx.project.has_containers {
        return;
    }
    let unix = ctx
        .sockets()
        .iter()
        .any(|s| matches!(s.addr, Addr::Unix(_)));
    if !unix {
        return;
    }
    let Some(e) = ctx.last("chmod-socket") else {
        return;
    };
    let v = e.value_str();
    let mode = v.trim();
    if !(mode.ends_with('6') || mode.ends_with('7')) || mode.len() < 3 {
        return;
    }
    let Some((file, _, value_span)) = ctx.spans(e) else {
        return;
    };
    let mut d = rule.diag(
        file,
        value_span,
        format!("`chmod-socket = {mode}` lets every local user talk to the app server directly"),
    );
    d.help = Some("use 660 with `chown-socket` set to the proxy's group".into());
    out.push(d);
}

/// UW604: uWSGI runs as root. An explicit `uid = root`/`0` says so by
/// itself; no `uid` at all only where the image is known (a Dockerfile the
/// container is built from) and it does not switch to another `USER`.
pub fn runs_as_root(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // What is absent may be set by an option only known at runtime.
    if ctx.is_open() {
        return;
    }
    let is_root = |v: &str| matches!(v.trim(), "root" | "0");
    for name in ["uid", "gid"] {
        if let Some(e) = ctx.last(name)
            && e.unknown.is_empty()
            && is_root(&e.value_str())
            && let Some((file, _, value_span)) = ctx.spans(e)
        {
            let mut d = rule.diag(
                file,
                value_span,
                format!("`{name} = {}` runs uWSGI and the app as root: a bug in the app is a root shell", e.value_str().trim()),
            );
            d.help = Some("use an unprivileged user, e.g. `uid = app` and `gid = app`".into());
            out.push(d);
            return;
        }
    }
    if ctx.last("uid").is_some() || ctx.last("gid").is_some() {
        return;
    }
    let Some(dep) = ctx.deployment else { return };
    let Some(df) = dep.dockerfile.as_ref() else {
        return;
    };
    if df
        .user
        .as_ref()
        .is_some_and(|u| !u.value.split(':').next().is_some_and(is_root))
    {
        return;
    }
    let mut d = rule.at(
        ctx.header(),
        format!(
            "no `uid`/`gid`, and the image of {} does not switch to another `USER`: uWSGI and the app run as root",
            dep.container.who()
        ),
    );
    d.help = Some("add `USER app` to the Dockerfile, or `uid = app` and `gid = app` here".into());
    out.push(d);
}

pub fn autoreload_in_production(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let processes = ctx.number("processes").unwrap_or(1);
    let container = ctx.deployment.map(|d| d.container.who());
    if processes < 2 && container.is_none() {
        return;
    }
    for name in ["py-autoreload", "fs-reload"] {
        if ctx.last(name).is_some() && ctx.number(name) != Some(0) {
            let whr = match &container {
                Some(c) => format!("in {c}"),
                None => format!("with {processes} workers"),
            };
            out.push(rule.at(ctx.anchor(name), format!("`{name}` {whr}: a development reloader that restarts every worker when a file changes")).with_help("enable it only in development (e.g. inside `if-env = DEBUG`)"));
        }
    }
}

/// UW606: only where a second app can be loaded. Apps from `module`,
/// `wsgi-file`, `paste`, `eval` … always run in the main interpreter
/// (`uwsgi_python_init_apps` passes it); each `mount` after the first app
/// gets a sub-interpreter unless `single-interpreter` is on.
pub fn single_interpreter_off(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // What is absent may be set by an option only known at runtime.
    if ctx.is_open() {
        return;
    }
    if ctx.flag("single-interpreter") {
        return;
    }
    let mounts: Vec<_> = ctx.resolved.all("mount").collect();
    let entry = crate::rules::values::APP_ENTRIES
        .iter()
        .any(|n| *n != "mount" && ctx.last(n).is_some());
    let apps = mounts.len() + usize::from(entry);
    if apps < 2 {
        return;
    }
    // The first mount that gets a sub-interpreter.
    let sub = if entry { mounts[0] } else { mounts[1] };
    let Some((file, key, _)) = ctx.spans(sub) else {
        return;
    };
    let mut d = rule.diag(file, key, format!("this config loads {apps} apps and `single-interpreter` is off: this `mount` runs in a Python sub-interpreter, which some C extensions (numpy, grpc, psycopg …) do not support"));
    d.help = Some("add `single-interpreter = true` if the apps can share one interpreter".into());
    out.push(d);
}

pub fn vacuum_off(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // What is absent may be set by an option only known at runtime.
    if ctx.is_open() {
        return;
    }
    if ctx.flag("vacuum") {
        return;
    }
    let unix = ctx
        .resolved
        .entries
        .iter()
        .filter(|e| {
            matches!(
                e.key.as_slice(),
                b"socket" | b"uwsgi-socket" | b"http-socket" | b"pidfile" | b"pidfile2"
            )
        })
        .find(|e| {
            let v = e.value_str();
            let v = v.trim();
            e.key.starts_with(b"pidfile")
                || v.starts_with('/')
                || v.starts_with("unix:")
                || v.starts_with('@')
        });
    let Some(e) = unix else { return };
    let Some((file, key_span, _)) = ctx.spans(e) else {
        return;
    };
    let mut d = rule.diag(
        file,
        key_span,
        "`vacuum` is off: unix socket and pid files are left behind when uWSGI exits",
    );
    d.help = Some("add `vacuum = true`".into());
    out.push(d);
}

pub fn threads_disabled(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // What is absent may be set by an option only known at runtime.
    if ctx.is_open() {
        return;
    }
    if ctx.target >= Version::new(2, 0, 27)
        || ctx.last("enable-threads").is_some()
        || ctx.number("threads").unwrap_or(1) > 1
    {
        return;
    }
    out.push(rule.at(ctx.header(), format!("uWSGI {} runs Python without threads unless `enable-threads` is set: APM agents, Sentry and other background threads never run between requests", ctx.target)).with_help("add `enable-threads = true`"));
}

/// UW609: the `http` router behind a linked proxy that reaches it.
pub fn http_router_behind_proxy(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(e) = ctx.last("http") else { return };
    let Some((file, key_span, _)) = ctx.spans(e) else {
        return;
    };
    let router: Vec<_> = ctx
        .sockets()
        .iter()
        .filter(|s| s.option == "http")
        .cloned()
        .collect();
    let Some(front) = ctx
        .fronts()
        .into_iter()
        .find(|f| ctx.reached_socket(f, &router).is_some())
    else {
        return;
    };
    let mut d = rule.diag(
        file,
        key_span,
        "`http =` starts an extra router process in front of the workers, and Nginx already proxies to it: every request takes a second proxy hop",
    );
    d.related.extend(
        ctx.nginx_at(front.conf, front.pass.file, front.pass.span)
            .map(|(file, span)| crate::diagnostic::Related {
                file,
                span,
                message: "Nginx passes requests to the router here".into(),
            }),
    );
    d.help = Some("behind a proxy use `http-socket =` (workers speak HTTP directly) or `socket =` with `uwsgi_pass`".into());
    out.push(d);
}
