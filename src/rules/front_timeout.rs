//! UW408: harakiri against the timeout of a front that is not Nginx (an
//! AWS load balancer's idle timeout, an Ingress controller's read timeout,
//! Traefik's response timeout), read from the one front shape
//! (`rules::fronts`).

use crate::diagnostic::Diagnostic;

/// UW408: `harakiri` (or none) at least the timeout of a front that is
/// not Nginx: the front gives up and answers 504 while the worker keeps
/// running the request.
pub fn harakiri_exceeds_front_timeout(
    ctx: &super::RuleContext,
    rule: &super::Rule,
    out: &mut Vec<Diagnostic>,
) {
    let harakiri = ctx.number("harakiri").filter(|h| *h > 0);
    // With no harakiri a request may run for ever; on a fragment another
    // file may set it (as UW302 reads it).
    if harakiri.is_none() && ctx.is_fragment() {
        return;
    }
    let Some(f) = ctx
        .other_fronts()
        .into_iter()
        .filter(|f| {
            f.timeout
                .as_ref()
                .is_some_and(|t| harakiri.is_none_or(|h| h > t.value))
        })
        .min_by_key(|f| f.timeout.as_ref().map(|t| t.value))
    else {
        return;
    };
    let Some(t) = &f.timeout else { return };
    let secs = t.value;
    let (at, says) = match harakiri {
        Some(h) => (
            ctx.anchor("harakiri"),
            format!(
                "`harakiri = {h}` is above {} of {}: the front gives up after {secs} s (the client gets a 504) while the worker keeps running the request until harakiri kills it",
                t.shown, f.who
            ),
        ),
        None => (
            ctx.header(),
            format!(
                "no `harakiri`: a request may run past {} of {}; the front gives up after {secs} s (the client gets a 504) while the worker keeps running it",
                t.shown, f.who
            ),
        ),
    };
    let mut d = rule.at(at, says);
    match &t.at {
        Some(r) => d.related.push(r.clone()),
        None => d.related.extend(f.target_at.clone().map(|mut r| {
            r.message = format!("{} (its timeout is the default {secs} s)", r.message);
            r
        })),
    }
    if t.at.is_some() {
        d.related.extend(f.target_at.clone());
    }
    let advised = secs.saturating_sub(5).max(1);
    d.help = Some(format!(
        "set `harakiri` below {secs}, e.g. `harakiri = {advised}`, or raise the front's timeout"
    ));
    out.push(d);
}
