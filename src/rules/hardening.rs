//! UW6xx: production hardening.

use crate::container::Orchestrator;
use crate::diagnostic::Diagnostic;
use crate::rules::{IniContext, Rule};
use crate::uwsgi::version::Version;

pub fn strict_off(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
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

/// Does a socket address bind every interface (`:3031`, `0.0.0.0:3031`, `[::]:3031`)?
fn binds_all(addr: &str) -> bool {
    let a = addr.trim();
    a.starts_with(':') || a.starts_with("0.0.0.0:") || a.starts_with("[::]:") || a.starts_with("*:")
}

pub fn uwsgi_socket_public(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
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
        let v = e.value_str();
        if !binds_all(&v) {
            continue;
        }
        let Some((file, _, value_span)) = ctx.spans(e) else {
            continue;
        };
        // In a container, binding every interface is how a sibling Nginx
        // reaches it; it is exposed only where the port is published.
        let mut severity = rule.severity;
        let mut published_at = None;
        if let Some(dep) = ctx.deployment
            && !matches!(
                dep.container.orchestrator,
                Orchestrator::Docker | Orchestrator::Cgroup
            )
        {
            let port = v
                .trim()
                .rsplit(':')
                .next()
                .and_then(|p| p.parse::<u16>().ok());
            match dep
                .container
                .published
                .iter()
                .find(|(p, _)| Some(p.value) == port)
            {
                None => continue,
                Some((_, true)) => severity = crate::diagnostic::Severity::Info,
                Some(_) => {}
            }
            published_at = dep
                .container
                .published
                .iter()
                .find(|(p, _)| Some(p.value) == port)
                .and_then(|(p, _)| ctx.project.at(&dep.container.file, p.span));
        }
        let mut d = rule.diag(
            file,
            value_span,
            format!("the uwsgi-protocol socket `{}` listens on every interface: anyone who reaches it can set UWSGI_FILE and similar variables to load code", v.trim()),
        );
        d.severity = severity;
        if let Some((f, span)) = published_at {
            d.related.push(crate::diagnostic::Related {
                file: f,
                span,
                message: "published on the host here".into(),
            });
        }
        d.help = Some("bind to 127.0.0.1 or a unix socket, or make sure only the proxy can reach the port (in a container: don't publish it)".into());
        out.push(d);
    }
}

pub fn socket_world_writable(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
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

pub fn runs_as_root(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if ctx.last("uid").is_some() || ctx.last("gid").is_some() {
        return;
    }
    // The image already drops root (`USER app`, not `USER root`/`0`).
    let image_user = ctx
        .deployment
        .and_then(|d| d.dockerfile.as_ref())
        .and_then(|df| df.user.as_ref())
        .is_some_and(|u| !matches!(u.value.split(':').next(), Some("root" | "0")));
    if image_user {
        return;
    }
    out.push(
        rule.at(
            ctx.header(),
            "no `uid`/`gid`: unless the container sets a `USER`, uWSGI and the app run as root",
        )
        .with_help("add `uid = app` and `gid = app` (or a `USER` in the Dockerfile)"),
    );
}

pub fn autoreload_in_production(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
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

pub fn single_interpreter_off(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if ctx.flag("single-interpreter") {
        return;
    }
    out.push(rule.at(ctx.anchor("module"), "`single-interpreter` is off: the app runs in a sub-interpreter, which some C extensions (numpy, grpc, ...) handle badly").with_help("add `single-interpreter = true` (one app per instance)"));
}

pub fn vacuum_off(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
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

pub fn threads_disabled(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if ctx.target >= Version::new(2, 0, 27)
        || ctx.last("enable-threads").is_some()
        || ctx.number("threads").unwrap_or(1) > 1
    {
        return;
    }
    out.push(rule.at(ctx.header(), format!("uWSGI {} runs Python without threads unless `enable-threads` is set: APM agents, Sentry and other background threads never run between requests", ctx.target)).with_help("add `enable-threads = true`"));
}

pub fn http_router_behind_proxy(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(e) = ctx.last("http") else { return };
    let Some((file, key_span, _)) = ctx.spans(e) else {
        return;
    };
    let mut d = rule.diag(
        file,
        key_span,
        "`http =` starts an extra router process in front of the workers; behind Nginx or a load balancer that is a second proxy hop",
    );
    d.help = Some("behind a proxy use `http-socket =` (workers speak HTTP directly) or `socket =` with `uwsgi_pass`".into());
    out.push(d);
}
