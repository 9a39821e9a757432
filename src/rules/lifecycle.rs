//! UW3xx: timeouts and lifecycle (single-file forms).

use crate::diagnostic::Diagnostic;
use crate::rules::{IniContext, Rule};
use crate::uwsgi::version::Version;

pub fn no_harakiri(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // A harakiri that reads as 0 is UW103's finding.
    if ctx.last("harakiri").is_some() {
        return;
    }
    out.push(rule.at(ctx.anchor("processes"), "no `harakiri`: a request stuck on a slow query or an external call holds its worker forever").with_help("set `harakiri` a little below the proxy's read timeout (Nginx default 60 s), e.g. `harakiri = 55`"));
}

fn is_2_0(v: Version) -> bool {
    v.major == 2 && v.minor == 0
}

pub fn sigterm_reloads(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if !is_2_0(ctx.target) || !ctx.master_on() || ctx.flag("die-on-term") {
        return;
    }
    let hooked = ctx.resolved.all("hook-master-start").any(|e| {
        let v = e.value_str();
        v.contains("unix_signal:15") && v.contains("gracefully_kill_them_all")
    });
    if hooked {
        return;
    }
    out.push(rule.at(ctx.anchor("master"), "uWSGI 2.0 with a master reloads on SIGTERM instead of stopping: `docker stop` and rollouts wait the whole grace period, then SIGKILL in-flight requests").with_help("add `die-on-term = true`"));
}

pub fn harakiri_without_post_buffering(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if !ctx.is_set("harakiri") || ctx.is_set("post-buffering") {
        return;
    }
    out.push(rule.at(ctx.anchor("harakiri"), "`harakiri` without `post-buffering`: a slow client upload counts against the request timeout").with_help("add `post-buffering = 65536` (or buffer bodies in the proxy)"));
}

pub fn need_app_off(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if !is_2_0(ctx.target) || ctx.flag("need-app") {
        return;
    }
    out.push(rule.at(ctx.anchor("module"), "`need-app` is off (uWSGI 2.0 default): if the app fails to import, uWSGI keeps running and answers every request with an error while port health checks pass").with_help("add `need-app = true` so a broken deploy fails fast"));
}
