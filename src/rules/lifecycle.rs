//! UW3xx: timeouts and lifecycle (single-file forms).

use crate::diagnostic::Diagnostic;
use crate::model::GRACEFUL_STOP_HOOK;
use crate::rules::{Rule, RuleContext};
use crate::uwsgi::version::Version;

pub fn no_harakiri(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // A harakiri that reads as 0 is UW103's finding.
    if ctx.last("harakiri").is_some() || ctx.is_fragment() {
        return;
    }
    // With an async loop engine one worker serves many requests at once
    // (long streams, websockets): harakiri would kill them all, so leaving
    // it out is a deliberate choice there.
    if ["gevent", "async", "asyncio", "greenlet", "ugreen"]
        .iter()
        .any(|n| ctx.last(n).is_some())
    {
        return;
    }
    out.push(rule.at(ctx.anchor("processes"), "no `harakiri`: a request stuck on a slow query or an external call holds its worker forever").with_help("set `harakiri` a little below the proxy's read timeout (Nginx default 60 s), e.g. `harakiri = 55`"));
}

fn is_2_0(v: Version) -> bool {
    v.major == 2 && v.minor == 0
}

pub fn sigterm_reloads(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // What is absent may be set by an option only known at runtime.
    if ctx.is_open() {
        return;
    }
    if !is_2_0(ctx.target)
        || !ctx.master_on()
        || ctx.flag("die-on-term")
        || ctx.graceful_stop_hooked()
    {
        return;
    }
    let help = format!(
        "add `hook-master-start = {GRACEFUL_STOP_HOOK}`: SIGTERM then stops uWSGI and lets in-flight requests finish; `die-on-term = true` also stops it, but cuts in-flight requests"
    );
    // Only where something known stops it with SIGTERM: a container. A
    // config run by an Emperor (which stops vassals through a pipe) or a
    // host service manager set up with another signal is not affected.
    let Some(dep) = ctx.deployment else { return };
    // A launcher that stops uWSGI with another signal (supervisord's
    // `stopsignal`), or a shell in front of it (UW309): SIGTERM never
    // reaches it.
    if dep.stop_signal.is_some() || dep.shell_in_front.is_some() {
        return;
    }
    let waits = match dep.stop_wait_cuts() {
        Some(_) => format!(
            "supervisord in {} waits its `stopwaitsecs` ({} s)",
            dep.container.who(),
            dep.grace_seconds()
        ),
        None => format!(
            "{} waits its {} s grace period",
            dep.container.who(),
            dep.grace_seconds()
        ),
    };
    let mut d = rule
        .at(
            ctx.anchor("master"),
            format!(
                "uWSGI 2.0 with a master reloads on SIGTERM instead of stopping: {waits} on every stop and rollout, then SIGKILLs in-flight requests"
            ),
        )
        .with_help(help);
    if let Some(p) = &dep.args_place {
        d.related.extend(ctx.project.related(p));
    }
    if let Some(p) = dep.stop_wait_cuts() {
        d.related.extend(ctx.project.related(p));
    }
    out.push(d);
}

/// UW305: only where clients are known to reach uWSGI with unbuffered
/// bodies: a linked Nginx location that turns request buffering off, or a
/// container that publishes an HTTP port of uWSGI with no Nginx in front. A
/// buffering proxy (Nginx's default) reads the whole body first.
pub fn harakiri_without_post_buffering(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if !ctx.is_set("harakiri") || ctx.is_set("post-buffering") {
        return;
    }
    let mine = ctx.sockets();
    let fronts: Vec<_> = ctx
        .fronts()
        .into_iter()
        .filter(|f| ctx.reached_socket(f, mine).is_some())
        .collect();
    let unbuffered = fronts
        .iter()
        .find(|f| f.location.buffers_request_body() == Some(false));
    let evidence = match (unbuffered, ctx.deployment) {
        (Some(f), _) => {
            let s = match f.pass.kind {
                crate::nginx::model::PassKind::Uwsgi => &f.location.uwsgi_request_buffering,
                crate::nginx::model::PassKind::Proxy => &f.location.proxy_request_buffering,
            };
            s.from
                .and_then(|span| ctx.nginx_at(f.conf, s.file, span))
                .map(|(file, span)| (file, span, "request buffering is off here".to_string()))
        }
        (None, Some(dep)) if fronts.is_empty() && ctx.nginx.is_empty() => {
            let http_port = mine.iter().find_map(|s| match s.addr {
                crate::deployment::Addr::Tcp { port, .. }
                    if s.protocol == crate::deployment::Protocol::Http =>
                {
                    dep.container
                        .published
                        .iter()
                        .find(|(p, _)| p.value == port)
                }
                _ => None,
            });
            let Some((p, _)) = http_port else { return };
            ctx.project
                .at(&dep.container.file, p.span)
                .map(|(file, span)| {
                    (
                        file,
                        span,
                        format!("clients reach uWSGI here (port {})", p.value),
                    )
                })
        }
        _ => return,
    };
    let Some((file, span, message)) = evidence else {
        return;
    };
    let mut d = rule.at(ctx.anchor("harakiri"), "`harakiri` without `post-buffering`, and clients reach uWSGI with unbuffered request bodies: a slow upload counts against the request timeout and is killed");
    d.related.push(crate::diagnostic::Related {
        file,
        span,
        message,
    });
    d.help = Some("add `post-buffering = 65536` (uWSGI then reads the body before the app runs), or let the proxy buffer bodies".into());
    out.push(d);
}

pub fn need_app_off(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if !is_2_0(ctx.target) || ctx.flag("need-app") || ctx.is_fragment() {
        return;
    }
    out.push(rule.at(ctx.anchor("module"), "`need-app` is off (uWSGI 2.0 default): if the app fails to import, uWSGI keeps running and answers every request with an error while port health checks pass").with_help("add `need-app = true` so a broken deploy fails fast"));
}

/// A front's timeout in seconds, how to name it, and where it is set.
type FrontTimeout = (
    u64,
    String,
    Option<(crate::source::FileId, crate::source::Span)>,
);

/// The front timeout of a linked Nginx location, with its place.
fn front_timeouts(ctx: &RuleContext) -> Vec<FrontTimeout> {
    let mine = ctx.sockets();
    let mut out = Vec::new();
    for f in ctx.fronts() {
        if ctx.reached_socket(&f, mine).is_none() {
            continue;
        }
        let (name, s) = match f.pass.kind {
            crate::nginx::model::PassKind::Uwsgi => {
                ("uwsgi_read_timeout", &f.location.uwsgi_read_timeout)
            }
            crate::nginx::model::PassKind::Proxy => {
                ("proxy_read_timeout", &f.location.proxy_read_timeout)
            }
        };
        if s.unknown {
            continue;
        }
        let at = match s.from {
            Some(span) => ctx.nginx_at(f.conf, s.file, span),
            None => ctx.nginx_at(f.conf, f.pass.file, f.pass.span),
        };
        let what = if s.from.is_some() {
            format!("`{name} {}s`", s.value.as_secs())
        } else {
            format!("`{name}` (default {} s)", s.value.as_secs())
        };
        out.push((s.value.as_secs(), what, at));
    }
    out
}

/// UW301: harakiri at or above the proxy's read timeout.
pub fn harakiri_exceeds_proxy_timeout(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(harakiri) = ctx.number("harakiri").filter(|h| *h > 0) else {
        return;
    };
    let mut fronts = front_timeouts(ctx);
    // uWSGI's own `http` router times out after `http-timeout` (default 60).
    if ctx.last("http").is_some() {
        let t = ctx.number("http-timeout").unwrap_or(60);
        fronts.push((
            t,
            format!("the `http` router's `http-timeout` ({t} s)"),
            None,
        ));
    }
    let Some((timeout, what, at)) = fronts
        .into_iter()
        // Equal timeouts fire in the same second: nothing outlives the other.
        .filter(|f| harakiri > f.0)
        .min_by_key(|f| f.0)
    else {
        return;
    };
    let mut d = rule.at(
        ctx.anchor("harakiri"),
        format!("`harakiri = {harakiri}` is above {what}: the proxy gives up on the request after {timeout} s (the client gets an error) while the worker keeps running it until harakiri kills it"),
    );
    if let Some((file, span)) = at {
        d.related.push(crate::diagnostic::Related {
            file,
            span,
            message: format!("gives up after {timeout} s"),
        });
    }
    d.help = Some(format!(
        "set `harakiri` below {timeout}, e.g. `harakiri = {}`",
        timeout.saturating_sub(5).max(1)
    ));
    out.push(d);
}

/// UW304: the stop's wait for busy workers may outlast the container's
/// grace period. Only for uWSGI ≥ 2.1, where SIGTERM stops gracefully: on
/// 2.0.x the mercy plays no part in a stop — without a hook SIGTERM
/// reloads, `die-on-term` cuts at once, and the graceful hook waits for
/// each worker in a blocking `waitpid` that the mercy check cannot
/// interrupt (all shown on the real server in tests/oracle_runtime.rs).
pub fn mercy_exceeds_grace_period(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    if dep.stop_signal.is_some() || dep.shell_in_front.is_some() {
        return;
    }
    if is_2_0(ctx.target) {
        return;
    }
    let Some(mercy) = ctx.number("worker-reload-mercy") else {
        return;
    };
    let grace = dep.grace_seconds();
    if mercy <= grace {
        return;
    }
    let c = &dep.container;
    let explicit = ctx.last("worker-reload-mercy").is_some();
    let killed = match dep.stop_wait_cuts() {
        Some(_) => {
            format!("supervisord SIGKILLs uWSGI {grace} s after its stop signal (`stopwaitsecs`)")
        }
        None => format!(
            "{} is SIGKILLed {grace} s after SIGTERM{}",
            c.who(),
            if c.stop_grace.is_some() {
                ""
            } else {
                " (the orchestrator's default)"
            }
        ),
    };
    let mut d = rule.at(
        ctx.anchor("worker-reload-mercy"),
        format!(
            "the graceful stop waits up to `worker-reload-mercy` = {mercy} s{} for busy workers, but {killed}: a slow request is killed mid-way instead of finishing",
            if explicit { "" } else { " (default)" },
        ),
    );
    if let Some(p) = dep.stop_wait_cuts() {
        d.related.extend(ctx.project.related(p));
    } else if let Some(g) = &c.stop_grace {
        d.related.extend(
            ctx.project
                .label(&c.file, g.span, format!("stop grace {grace} s")),
        );
    }
    d.help = Some(format!(
        "set `worker-reload-mercy = {}` or raise the grace period above {mercy} s",
        grace.saturating_sub(5).max(1)
    ));
    out.push(d);
}

/// UW308: in a container, `die-on-term` without the graceful hook: every
/// stop and rollout cuts in-flight requests (SIGINT to the workers).
pub fn stop_drops_requests(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // What is absent may be set by an option only known at runtime.
    if ctx.is_open() {
        return;
    }
    let Some(dep) = ctx.deployment else { return };
    if dep.stop_signal.is_some() || dep.shell_in_front.is_some() {
        return;
    }
    if !is_2_0(ctx.target)
        || !ctx.master_on()
        || !ctx.flag("die-on-term")
        || ctx.graceful_stop_hooked()
    {
        return;
    }
    let grace = dep.grace_seconds();
    let mut d = rule.at(
        ctx.anchor("die-on-term"),
        format!(
            "`die-on-term` makes SIGTERM stop uWSGI at once: the workers are interrupted mid-request, so every stop and rollout of {} cuts the requests in flight (clients get an empty reply or a 502)",
            dep.container.who()
        ),
    );
    d.help = Some(format!(
        "to drain instead, add `hook-master-start = {GRACEFUL_STOP_HOOK}`: each worker finishes its request first (requests longer than the {grace} s stop grace period are still cut by SIGKILL)"
    ));
    out.push(d);
}

/// UW309: the container's script runs uWSGI without `exec` and sets no
/// `trap`: the shell gets the container's SIGTERM and does not pass it on
/// (as PID 1 it ignores it; otherwise it dies and leaves uWSGI behind), so
/// uWSGI is SIGKILLed with its requests in flight (shown on the real
/// kernel in tests/oracle_pid1.rs).
pub fn shell_in_front(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    let Some((script, place)) = &dep.shell_in_front else {
        return;
    };
    let Some(at) = ctx.project.at(&place.file, place.span) else {
        return;
    };
    let mut d = rule.at(
        at,
        format!(
            "`{script}` runs uWSGI without `exec`: the shell stays in front of it and does not pass SIGTERM on when {} is stopped, so uWSGI never stops gracefully and is SIGKILLed with its requests in flight",
            dep.container.who()
        ),
    );
    d.help = Some("start it with `exec` (`exec uwsgi …`): uWSGI replaces the shell and gets the signal itself".into());
    d.related.push(crate::diagnostic::Related {
        file: ctx.file,
        span: ctx.header().1,
        message: "the uWSGI config it runs".into(),
    });
    out.push(d);
}

/// UW306: `daemonize` in a container: PID 1 exits.
pub fn daemonize_in_container(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    for name in ["daemonize", "daemonize2"] {
        if ctx.last(name).is_some() {
            let mut d = rule.at(
                ctx.anchor(name),
                format!("`{name}` detaches uWSGI from the terminal: as the container's main process it exits at once, and {} stops (or restarts forever)", dep.container.who()),
            );
            d.help = Some("remove it; log with `logto` or to stdout".into());
            out.push(d);
            return;
        }
    }
}
