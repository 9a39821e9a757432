//! UW4xx: Nginx in front of uWSGI. Each rule looks at the Nginx
//! configurations linked to the config being checked (they pass to one of
//! its sockets, `[[deployment]]` names them, or the project has one config).

use crate::deployment::{Protocol, Socket, pass_targets, reached};
use crate::diagnostic::{Diagnostic, Related};
use crate::model::IniContext;
use crate::nginx::model::{Location, Pass, PassKind, Target, WorkerProcesses};
use crate::rules::{Rule, RuleContext};
use crate::source::{FileId, Span};

/// A location of a linked Nginx configuration that passes somewhere.
pub struct Front<'a> {
    pub conf: usize,
    pub location: &'a Location,
    pub pass: &'a Pass,
    /// The pass target, or the upstream's members.
    pub targets: Vec<&'a Target>,
}

impl IniContext<'_> {
    /// The sockets this config binds (container arguments included).
    pub fn sockets(&self) -> &[Socket] {
        self.sockets_cache
            .get_or_init(|| crate::deployment::sockets(self.resolved))
    }

    /// Every passing location of the linked Nginx configurations.
    pub fn fronts(&self) -> Vec<Front<'_>> {
        let mut out = Vec::new();
        for &i in &self.nginx {
            let Some(conf) = self.project.project.nginx.get(i) else {
                continue;
            };
            for l in &conf.model.locations {
                if let Some(p) = &l.pass {
                    out.push(Front {
                        conf: i,
                        location: l,
                        pass: p,
                        targets: pass_targets(&conf.model, &p.target),
                    });
                }
            }
        }
        out
    }

    /// Host names the container running this config is reached by.
    pub fn hostnames(&self) -> &[String] {
        self.deployment
            .map(|d| d.container.hostnames.as_slice())
            .unwrap_or_default()
    }

    /// Unix sockets the linked Nginx names by another path.
    pub fn unix_aliases(&self) -> &[(String, String)] {
        self.deployment
            .map(|d| d.unix_aliases.as_slice())
            .unwrap_or_default()
    }

    /// Ports the container is reached by under a name (a Service's).
    pub fn port_aliases(&self) -> &[(String, u16, u16)] {
        self.deployment
            .map(|d| d.container.port_aliases.as_slice())
            .unwrap_or_default()
    }

    /// Which of this config's sockets a front reaches.
    pub fn reached_socket(&self, front: &Front, sockets: &[Socket]) -> Option<Socket> {
        front.targets.iter().find_map(|t| {
            crate::deployment::reached_via(
                t,
                sockets,
                self.hostnames(),
                self.unix_aliases(),
                self.port_aliases(),
            )
            .cloned()
        })
    }

    /// An Nginx place as `(file, span)`.
    pub fn nginx_at(&self, conf: usize, file: usize, span: Span) -> Option<(FileId, Span)> {
        self.project.nginx_at(conf, file, span)
    }

    /// The entry that binds `socket`, as a related label.
    pub fn socket_label(&self, socket: &Socket, message: String) -> Option<Related> {
        let e = self.resolved.entries.iter().rev().find(|e| {
            e.def().is_some_and(|d| d.name == socket.option) && e.value_str() == socket.raw
        })?;
        let (file, _, value) = self.spans(e)?;
        Some(Related {
            file,
            span: value,
            message,
        })
    }
}

fn related(
    ctx: &RuleContext,
    conf: usize,
    file: usize,
    span: Span,
    message: String,
) -> Option<Related> {
    ctx.nginx_at(conf, file, span).map(|(file, span)| Related {
        file,
        span,
        message,
    })
}

/// UW401: a pass aimed at uWSGI that reaches no socket of any config.
pub fn upstream_not_served(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let mine = ctx.sockets();
    if mine.is_empty() {
        // Sockets set where we cannot see (an env file, a runtime value).
        return;
    }
    for f in ctx.fronts() {
        if !crate::deployment::aims_at_uwsgi(f.pass.kind, &f.pass.target, &ctx.project.uwsgi_hosts)
            || f.targets.iter().any(|t| matches!(t, Target::Dynamic))
        {
            continue;
        }
        let served = f.targets.iter().any(|t| {
            crate::deployment::reached_via(
                t,
                mine,
                ctx.hostnames(),
                ctx.unix_aliases(),
                ctx.port_aliases(),
            )
            .is_some()
                || reached(t, &ctx.project.all_sockets, &ctx.project.uwsgi_hosts).is_some()
        });
        if served {
            continue;
        }
        let Some(at) = ctx.nginx_at(f.conf, f.pass.file, f.pass.span) else {
            continue;
        };
        let list: Vec<String> = mine
            .iter()
            .map(|s| format!("`{} = {}`", s.option, s.raw))
            .collect();
        let mut d = rule.at(
            at,
            format!(
                "`{}` reaches no uWSGI socket: the linked config binds {}; every request here gets 502",
                f.pass.raw,
                list.join(", ")
            ),
        );
        d.related.extend(
            mine.iter()
                .filter_map(|s| ctx.socket_label(s, "uWSGI listens here".into())),
        );
        d.help = Some("make the pass target and the uWSGI socket the same address (a unix path, or host:port)".into());
        out.push(d);
    }
}

/// UW402: a protocol mismatch between the pass and the socket it reaches.
pub fn protocol_mismatch(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let mine = ctx.sockets();
    for f in ctx.fronts() {
        let Some(s) = ctx.reached_socket(&f, mine) else {
            continue;
        };
        let (says, fix) = match (f.pass.kind, s.protocol) {
            (PassKind::Uwsgi, Protocol::Http) => (
                format!(
                    "`uwsgi_pass` speaks the uwsgi protocol, but `{} = {}` expects HTTP",
                    s.option, s.raw
                ),
                "use `proxy_pass http://…` in Nginx, or bind the socket with `socket =` (uwsgi protocol)",
            ),
            (PassKind::Proxy, Protocol::Uwsgi) => (
                format!(
                    "`proxy_pass` speaks HTTP, but `{} = {}` expects the uwsgi protocol",
                    s.option, s.raw
                ),
                "use `uwsgi_pass` with `include uwsgi_params;`, or bind the socket with `http-socket =`",
            ),
            _ => continue,
        };
        let Some(at) = ctx.nginx_at(f.conf, f.pass.file, f.pass.span) else {
            continue;
        };
        let mut d = rule.at(at, format!("{says}: every request fails with 502"));
        d.related.extend(ctx.socket_label(
            &s,
            format!(
                "{} socket",
                if s.protocol == Protocol::Http {
                    "HTTP"
                } else {
                    "uwsgi-protocol"
                }
            ),
        ));
        d.help = Some(fix.into());
        out.push(d);
    }
    // The fronts that are not Nginx (ALB, Ingress, Traefik).
    crate::rules::fronts::protocol_mismatch(ctx, rule, out);
}

/// UW403: `buffer-size` below the request headers Nginx lets through.
pub fn buffer_size_below_proxy_headers(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let mine = ctx.sockets();
    let Some(buffer) = ctx.number("buffer-size") else {
        return;
    };
    let mut done = false;
    for f in ctx.fronts() {
        if done || f.pass.kind != PassKind::Uwsgi || ctx.reached_socket(&f, mine).is_none() {
            continue;
        }
        let conf = &ctx.project.project.nginx[f.conf];
        let setting = f
            .location
            .server
            .and_then(|i| conf.model.servers.get(i))
            .map(|s| s.large_client_header_buffers.clone());
        let (n, size, from, file) = match &setting {
            Some(s) if s.unknown => continue,
            Some(s) => (s.value.0, s.value.1, s.from, s.file),
            None => (4, crate::units::Bytes(8 << 10), None, 0),
        };
        let accepted = u64::from(n) * size.0;
        if buffer >= accepted {
            continue;
        }
        done = true;
        let mut d = rule.at(
            ctx.anchor("buffer-size"),
            format!(
                "uWSGI's `buffer-size` is {buffer} bytes, but Nginx passes request headers up to {n} × {size} = {accepted} bytes (`large_client_header_buffers`{}): a request with big cookies gets \"invalid request block size\" and a 502",
                if from.is_some() { "" } else { ", compiled default" }
            ),
        );
        let place = from.unwrap_or(f.pass.span);
        let label = if from.is_some() {
            "Nginx accepts headers this large".to_string()
        } else {
            "Nginx passes here with its default 4 × 8k header buffers".to_string()
        };
        d.related.extend(related(
            ctx,
            f.conf,
            if from.is_some() { file } else { f.pass.file },
            place,
            label,
        ));
        d.help = Some(format!("set `buffer-size = {}`", accepted.max(buffer)));
        out.push(d);
    }
}

/// UW404: Nginx accepts bodies larger than `limit-post`.
pub fn body_size_mismatch(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(limit) = ctx.number("limit-post").filter(|n| *n > 0) else {
        return;
    };
    // The fronts that are not Nginx (an Ingress, Traefik's buffering).
    crate::rules::fronts::body_size_mismatch(ctx, rule, limit, out);
    let mine = ctx.sockets();
    for f in ctx.fronts() {
        if ctx.reached_socket(&f, mine).is_none() {
            continue;
        }
        let body = &f.location.client_max_body_size;
        if body.unknown {
            continue;
        }
        // 0 disables Nginx's check: any size passes.
        let nginx = if body.value.0 == 0 {
            u64::MAX
        } else {
            body.value.0
        };
        if nginx <= limit {
            continue;
        }
        let shown = if body.value.0 == 0 {
            "unlimited (0)".to_string()
        } else {
            format!("{}", body.value)
        };
        let mut d = rule.at(
            ctx.anchor("limit-post"),
            format!(
                "Nginx accepts request bodies up to {shown}{} but uWSGI's `limit-post` is {limit} bytes: uploads in between pass Nginx and then fail in uWSGI",
                if body.from.is_some() { "" } else { " (compiled default)" }
            ),
        );
        d.related.extend(related(
            ctx,
            f.conf,
            if body.from.is_some() {
                body.file
            } else {
                f.pass.file
            },
            body.from.unwrap_or(f.pass.span),
            "`client_max_body_size` in effect here".into(),
        ));
        d.help = Some("make `client_max_body_size` and `limit-post` the same size".into());
        out.push(d);
        return;
    }
}

/// UW405: a unix socket Nginx reaches with no permissions set for it.
pub fn unix_socket_permissions(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if ctx.last("chmod-socket").is_some() || ctx.last("chown-socket").is_some() {
        return;
    }
    let mine = ctx.sockets();
    for f in ctx.fronts() {
        let Some(s) = ctx.reached_socket(&f, mine) else {
            continue;
        };
        if !matches!(s.addr, crate::deployment::Addr::Unix(_)) {
            continue;
        }
        let Some(e) = ctx
            .resolved
            .entries
            .iter()
            .rev()
            .find(|e| e.def().is_some_and(|d| d.name == s.option) && e.value_str() == s.raw)
        else {
            continue;
        };
        let Some((file, key, _)) = ctx.spans(e) else {
            continue;
        };
        let mut d = rule.diag(
            file,
            key,
            format!("Nginx connects to the unix socket `{}`, but no `chmod-socket`/`chown-socket` is set: the socket is created with uWSGI's user and umask, and Nginx (another user, often another container) gets \"permission denied\" and 502", s.raw),
        );
        d.related.extend(related(
            ctx,
            f.conf,
            f.pass.file,
            f.pass.span,
            "Nginx connects here".into(),
        ));
        d.help =
            Some("add `chmod-socket = 660` and `chown-socket = <uwsgi user>:<nginx group>`".into());
        out.push(d);
        return;
    }
}

/// UW406: `worker_processes auto` in a CPU-limited container counts the host's CPUs.
pub fn nginx_workers_auto_in_container(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    let Some(cpus) = &dep.container.cpus else {
        return;
    };
    if dep.nginx_colocated.is_none() {
        return;
    }
    for &i in &ctx.nginx {
        let conf = &ctx.project.project.nginx[i];
        let wp = &conf.model.worker_processes;
        let (WorkerProcesses::Auto, Some(from)) = (&wp.value, wp.from) else {
            continue;
        };
        let Some(at) = ctx.nginx_at(i, wp.file, from) else {
            continue;
        };
        let mut d = rule.at(
            at,
            format!(
                "`worker_processes auto` starts one Nginx worker per host CPU, but the container shares {} CPU{} with uWSGI: on a big host that is dozens of workers, each with its own memory",
                cpus.value,
                if cpus.value == 1.0 { "" } else { "s" }
            ),
        );
        d.related.extend(
            ctx.project
                .label(&dep.container.file, cpus.span, "CPU limit"),
        );
        d.help = Some(format!(
            "set `worker_processes {};`",
            (cpus.value.ceil() as u64).max(1)
        ));
        out.push(d);
    }
}

/// The `uwsgi_*` directive that does what a `proxy_*` one does, where the
/// uwsgi module has one (same suffix); `None` for HTTP-only directives.
fn uwsgi_equivalent(proxy: &str) -> Option<String> {
    let rest = proxy.strip_prefix("proxy_")?;
    const HTTP_ONLY: &[&str] = &[
        "set_header",
        "http_version",
        "redirect",
        "cookie_domain",
        "cookie_path",
        "cookie_flags",
        "set_body",
        "method",
        "headers_hash_max_size",
        "headers_hash_bucket_size",
    ];
    (!HTTP_ONLY.contains(&rest)).then(|| format!("uwsgi_{rest}"))
}

/// UW407: `proxy_*` directives in a location that passes with `uwsgi_pass`.
pub fn proxy_directive_on_uwsgi_pass(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let mine = ctx.sockets();
    for f in ctx.fronts() {
        if f.pass.kind != PassKind::Uwsgi || ctx.reached_socket(&f, mine).is_none() {
            continue;
        }
        for (name, file, span) in &f.location.proxy_directives {
            let Some(at) = ctx.nginx_at(f.conf, *file, *span) else {
                continue;
            };
            let (what, help) = match uwsgi_equivalent(name) {
                Some(u) => (
                    format!("`{name}` belongs to `proxy_pass`: this location passes with `uwsgi_pass`, which reads `{u}` instead, so this line has no effect"),
                    format!("write `{u}` instead"),
                ),
                None if name == "proxy_set_header" => (
                    format!("`{name}` belongs to `proxy_pass`: this location passes with `uwsgi_pass`, so the header is never sent"),
                    "pass it with `uwsgi_param HTTP_X_NAME value;` (the app sees it as the request header `X-Name`)".to_string(),
                ),
                None => (
                    format!("`{name}` belongs to `proxy_pass`: this location passes with `uwsgi_pass`, so this line has no effect"),
                    "remove it".to_string(),
                ),
            };
            let mut d = rule.at(at, what);
            d.related.extend(related(
                ctx,
                f.conf,
                f.pass.file,
                f.pass.span,
                "requests here go through `uwsgi_pass`".into(),
            ));
            d.help = Some(help);
            out.push(d);
        }
    }
}
