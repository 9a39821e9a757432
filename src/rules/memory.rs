//! UW2xx: memory and recycling (single-file forms; the container budget
//! rules come with the deployment context).

use crate::diagnostic::{Applicability, Diagnostic, Fix, Severity};
use crate::rules::{Rule, RuleContext};
use crate::uwsgi::version::Version;

const RECYCLERS: &[(&str, &str)] = &[
    (
        "max-requests",
        "the worker that reaches it exits and nobody respawns it",
    ),
    (
        "reload-on-rss",
        "the worker that grows past it exits and nobody respawns it",
    ),
    (
        "reload-on-as",
        "the worker that grows past it exits and nobody respawns it",
    ),
    (
        "harakiri",
        "the worker stuck on a slow request is killed and not respawned",
    ),
];

pub fn recycling_without_master(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // What is absent may be set by an option only known at runtime.
    if ctx.is_open() {
        return;
    }
    if ctx.master_on() {
        return;
    }
    for (name, effect) in RECYCLERS {
        if ctx.is_set(name) {
            out.push(rule.at(ctx.anchor(name), format!("`{name}` without the master process: {effect}; when the last worker is gone uWSGI exits (status 30) and requests get connection refused")).with_help("add `master = true`"));
        }
    }
    if ctx.is_set("max-worker-lifetime") {
        out.push(rule.at(ctx.anchor("max-worker-lifetime"), "`max-worker-lifetime` is checked by the master only: without `master = true` it is silently ignored").with_help("add `master = true`"));
    }
}

pub fn unbounded_worker_memory(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if ["reload-on-rss", "evil-reload-on-rss", "reload-on-as"]
        .iter()
        .any(|n| ctx.is_set(n) || ctx.last(n).is_some())
        || ctx.is_open()
    {
        return;
    }
    // Only where a hard limit is known: there unbounded growth ends in an
    // OOM kill. Elsewhere it is advice (UW503 covers a container without a
    // limit; `advise` sizes the caps).
    if ctx.deployment.is_none_or(|d| d.limit().is_none()) {
        return;
    }
    let (file, span) = ctx.anchor("processes");
    let mut d = rule.diag(
        file,
        span,
        "nothing bounds a worker's memory (no `reload-on-rss`, `evil-reload-on-rss` or `reload-on-as`): Python workers grow and rarely shrink, until the container is OOM-killed",
    );
    // Advice without a known hard limit; a warning when a container has one.
    let limited = ctx.deployment.is_some_and(|d| d.limit().is_some());
    d.severity = if limited {
        Severity::Warning
    } else {
        Severity::Info
    };
    // Values from the model `advise` uses (relative to the app when no
    // limit is known).
    let advice = ctx.advice();
    let set: Vec<(&str, String)> = ["reload-on-rss", "evil-reload-on-rss"]
        .iter()
        .filter_map(|o| advice.value(o).map(|v| (*o, v)))
        .collect();
    let list: Vec<String> = set.iter().map(|(o, v)| format!("`{o} = {v}`")).collect();
    d.help = Some(if list.is_empty() {
        "add `reload-on-rss` (MiB) below the memory limit divided by `processes`".into()
    } else if limited {
        format!(
            "add {} (MiB): they fit the container's limit",
            list.join(" and ")
        )
    } else {
        format!(
            "add {} (MiB, twice the assumed app size; no memory limit was found to size it against)",
            list.join(" and ")
        )
    });
    d.fix = ctx.set_options_fix(&set);
    out.push(d);
}

pub fn no_request_recycling(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    // What is absent may be set by an option only known at runtime.
    if ctx.is_open() {
        return;
    }
    if ctx.last("max-requests").is_some() || ctx.last("max-worker-lifetime").is_some() {
        return;
    }
    let advice = ctx.advice();
    let set: Vec<(&str, String)> = [
        (
            "max-requests",
            advice
                .value("max-requests")
                .unwrap_or_else(|| "1000".into()),
        ),
        (
            "max-worker-lifetime",
            advice
                .value("max-worker-lifetime")
                .unwrap_or_else(|| "3600".into()),
        ),
    ]
    .into();
    let mut d = rule.at(ctx.anchor("processes"), "workers are never recycled by request count or age (no `max-requests`, no `max-worker-lifetime`): slow leaks are never reset").with_help(format!(
        "add `max-requests = {}` and `max-worker-lifetime = {}` (starting points without measurements; `uwsgi-lint advise --log` derives them from the app)",
        set[0].1, set[1].1
    ));
    d.fix = ctx.set_options_fix(&set);
    out.push(d);
}

pub fn synchronized_recycling(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let processes = ctx.number("processes").unwrap_or(1);
    if processes < 2 {
        return;
    }
    let pairs = [
        ("max-requests", "max-requests-delta", Version::new(2, 0, 29)),
        (
            "max-worker-lifetime",
            "max-worker-lifetime-delta",
            Version::new(2, 0, 19),
        ),
    ];
    for (base, delta, since) in pairs {
        let Some(value) = ctx.number(base).filter(|v| *v > 0) else {
            continue;
        };
        if ctx.last(base).is_none() || ctx.last(delta).is_some() {
            continue;
        }
        let e = ctx.last(base).unwrap();
        let Some((file, key_span, _)) = ctx.spans(e) else {
            continue;
        };
        let mut d = rule.diag(
            file,
            key_span,
            format!("{processes} workers all recycle at `{base} = {value}`: started together, they restart together and capacity drops at once"),
        );
        if ctx.target >= since {
            // Spread the thresholds over half the base value (memory-model.md §6/§7).
            let step = crate::advise::model::stagger(value, processes);
            d.help = Some(format!(
                "add `{delta} = {step}` so worker i recycles at {base} + (i−1)×{step}"
            ));
            d.fix = Some(Fix {
                applicability: Applicability::Unsafe,
                edits: vec![ctx.insert_option_edit(file, key_span, delta, &step.to_string())],
            });
        } else {
            d.help = Some(format!(
                "`{delta}` needs uWSGI ≥ {since} (target {}); stagger the workers' start instead",
                ctx.target
            ));
        }
        out.push(d);
    }
}

pub fn recycle_storm(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if let Some(n) = ctx.number("max-requests").filter(|n| *n > 0 && *n < 100) {
        let (file, span) = ctx.anchor("max-requests");
        let mut d = rule.diag(
            file,
            span,
            format!("`max-requests = {n}`: workers respawn every {n} requests, re-importing the app each time (CPU, latency spikes, cold caches)"),
        );
        d.help =
            Some("use at least a few hundred; bound memory with `reload-on-rss` instead".into());
        out.push(d);
    }
    for name in ["reload-on-rss", "evil-reload-on-rss"] {
        let Some(e) = ctx.last(name) else { continue };
        // A unit suffix is UW102's finding; don't report it twice.
        if e.value_str()
            .trim()
            .chars()
            .any(|c| c.is_ascii_alphabetic() || c == '.')
        {
            continue;
        }
        if let Some(bytes) = ctx.number(name).filter(|b| *b > 0 && *b < 64 << 20) {
            out.push(rule.at(ctx.anchor(name), format!("`{name} = {}` MiB is below what a Python web worker needs just to start: workers are recycled constantly", bytes >> 20)).with_help("measure a worker's RSS after start-up and set the cap well above it (typically 200–600 MiB)"));
        }
    }
}

pub fn address_space_limit_misuse(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let rss = ctx.number("reload-on-rss").unwrap_or(0);
    for name in ["reload-on-as", "limit-as"] {
        let Some(e) = ctx.last(name) else { continue };
        if e.value_str()
            .trim()
            .chars()
            .any(|c| c.is_ascii_alphabetic())
        {
            continue; // UW102
        }
        let Some(v) = ctx.number(name).filter(|v| *v > 0) else {
            continue;
        };
        let small = v < 1024 << 20;
        if !(small || (rss > 0 && v <= rss)) {
            continue;
        }
        let (file, span) = ctx.anchor(name);
        let effect = if name == "limit-as" {
            "allocations fail (or uWSGI cannot start)"
        } else {
            "it fires on every request"
        };
        let mut d = rule.diag(
            file,
            span,
            format!(
                "`{name} = {}` MiB limits virtual size, which for Python with threads is far above RSS{}: {effect}",
                v >> 20,
                if rss > 0 && v <= rss { " (it is not even above `reload-on-rss`)" } else { "" }
            ),
        );
        d.help = Some("bound memory with `reload-on-rss` (resident memory) instead".into());
        out.push(d);
    }
}

pub fn lazy_apps_memory(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let processes = ctx.number("processes").unwrap_or(1);
    if !(ctx.flag("lazy-apps") || ctx.flag("lazy")) || processes < 2 {
        return;
    }
    let (file, span) = ctx.anchor(if ctx.flag("lazy-apps") {
        "lazy-apps"
    } else {
        "lazy"
    });
    out.push(rule.diag(
        file,
        span,
        format!("`lazy-apps` loads the app in each of the {processes} workers: no copy-on-write sharing, so app memory is multiplied by {processes}"),
    ));
}

/// UW202: the worst case of the unit against its hard limit
/// (memory-model.md): `processes × P + master + extra`, where P is
/// `evil-reload-on-rss`, else `reload-on-rss` (+ one request's growth,
/// unknown here, so 0), else the assumed baseline.
pub fn memory_budget_exceeded(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    let Some(limit) = dep.limit() else {
        return;
    };
    let Some(processes) = ctx.number("processes") else {
        return;
    };
    let processes = processes.max(1);
    let (cap_name, per_worker, assumed) = if ctx.is_set("evil-reload-on-rss") {
        (
            "evil-reload-on-rss",
            ctx.number("evil-reload-on-rss"),
            false,
        )
    } else if ctx.is_set("reload-on-rss") {
        ("reload-on-rss", ctx.number("reload-on-rss"), false)
    } else {
        ("baseline", Some(ctx.memory.baseline_rss_bytes), true)
    };
    let Some(cap) = per_worker else { return };
    // A worker never uses less than the app's baseline: a cap below it
    // recycles after every request (UW206) but does not shrink the worker.
    let below_baseline = !assumed && cap < ctx.memory.baseline_rss_bytes;
    let per_worker = cap.max(ctx.memory.baseline_rss_bytes);
    // The model `advise` uses (memory-model.md): master, router, mules and
    // spooler, and an Nginx in the same container.
    let overhead = crate::advise::model::overhead(ctx);
    let total = crate::advise::model::worst_case(processes, per_worker, &overhead);
    let l = limit.bytes.0;
    let usable = (l as f64 * (1.0 - ctx.memory.headroom)) as u64;
    if total <= usable {
        return;
    }
    let mib = |b: u64| b >> 20;
    // Built on an assumed baseline (no cap written), the total is an
    // estimate: a warning. With explicit caps it is the configuration's own
    // worst case.
    let severity = if total > l && !assumed {
        Severity::Error
    } else {
        Severity::Warning
    };
    let workers = if processes == 1 { "worker" } else { "workers" };
    let what = if assumed {
        format!(
            "{processes} {workers} × an assumed {} MiB each (no per-worker cap; `[memory] baseline-rss`)",
            mib(per_worker)
        )
    } else if below_baseline {
        format!(
            "{processes} {workers} × {} MiB each (`{cap_name}` is {} MiB, below a worker's baseline of {} MiB (`[memory] baseline-rss`): every worker is recycled after each request and still uses its baseline)",
            mib(per_worker),
            mib(cap),
            mib(per_worker)
        )
    } else {
        format!("{processes} {workers} × {cap_name} {} MiB", mib(per_worker))
    };
    let master = overhead.master;
    let mut extra_text = if overhead.extra > 0 {
        format!(" + router, mules and spooler {} MiB", mib(overhead.extra))
    } else {
        String::new()
    };
    if overhead.nginx > 0 {
        let workers = overhead.nginx_workers;
        extra_text.push_str(&format!(
            " + Nginx in the same container ({workers} worker{}) {} MiB",
            if workers == 1 { "" } else { "s" },
            mib(overhead.nginx)
        ));
    }
    let verdict = if total > l {
        format!(
            "exceeds the memory the container may use: {}",
            limit.explanation
        )
    } else {
        format!(
            "leaves less than {:.0}% headroom under the container's limit: {}",
            ctx.memory.headroom * 100.0,
            limit.explanation
        )
    };
    let anchor = if assumed { "processes" } else { cap_name };
    let mut d = rule.at(
        ctx.anchor(anchor),
        format!(
            "{what} + master {} MiB{extra_text} = {} MiB {verdict}; the kernel OOM-kills the container before uWSGI recycles a worker",
            mib(master),
            mib(total)
        ),
    );
    d.severity = severity;
    // The values that fit come from the model `advise` uses.
    let advice = ctx.advice();
    let mut set: Vec<(&str, String)> = Vec::new();
    if let Some(p) = advice
        .value("processes")
        .filter(|p| p.parse::<u64>().ok() != Some(processes))
    {
        set.push(("processes", p));
    }
    for o in ["reload-on-rss", "evil-reload-on-rss"] {
        if let Some(v) = advice.value(o) {
            set.push((o, v));
        }
    }
    d.help = Some(if set.is_empty() {
        advice
            .problems
            .first()
            .cloned()
            .unwrap_or_else(|| "raise the limit or run fewer workers".into())
    } else {
        let list: Vec<String> = set.iter().map(|(o, v)| format!("`{o} = {v}`")).collect();
        format!(
            "set {} (MiB): the worst case then fits with {:.0}% headroom; `uwsgi-lint advise` shows the whole plan",
            list.join(" and "),
            ctx.memory.headroom * 100.0
        )
    });
    if !set.is_empty() {
        d.fix = ctx.set_options_fix(&set);
    }
    d.related
        .extend(limit.places.iter().filter_map(|p| ctx.project.related(p)));
    out.push(d);
}

/// UW208: only a reservation, no hard limit.
pub fn soft_limit_only(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    let c = &dep.container;
    let Some(r) = c.reservations.first() else {
        return;
    };
    if dep.limit().is_some() {
        return;
    }
    let Some(at) = ctx.project.at(r.file.as_deref().unwrap_or(&c.file), r.span) else {
        return;
    };
    let mut d = rule.at(
        at,
        format!(
            "{} has only a reservation (`{}: {}`), no hard memory limit: the workers can grow into the whole host's memory, and the host's OOM killer picks the victim",
            c.who_capitalized(),
            r.key,
            r.raw
        ),
    );
    d.related.push(crate::diagnostic::Related {
        file: ctx.file,
        span: ctx.header().1,
        message: "the uWSGI config it runs".into(),
    });
    d.help = Some(
        match c.orchestrator {
            crate::container::Orchestrator::Compose => {
                "add `mem_limit` (or `deploy.resources.limits.memory`)"
            }
            crate::container::Orchestrator::Kubernetes => "add `resources.limits.memory`",
            _ => "add the container's `memory` (hard limit)",
        }
        .into(),
    );
    out.push(d);
}

/// UW210: a memory value that is almost surely a unit mistake.
pub fn suspicious_memory_limit(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    let c = &dep.container;
    for m in c.hard.iter().chain(&c.reservations) {
        let why = match &m.slip {
            Some(s) => s.clone(),
            None if m.bytes.0 < 32 << 20 => {
                format!("{} is less than any Python worker needs", m.bytes)
            }
            None => continue,
        };
        let Some(at) = ctx.project.at(m.file.as_deref().unwrap_or(&c.file), m.span) else {
            continue;
        };
        let mut d = rule.at(
            at,
            format!("`{}: {}` looks like a unit mistake: {why}", m.key, m.raw),
        );
        d.related.push(crate::diagnostic::Related {
            file: ctx.file,
            span: ctx.header().1,
            message: "the uWSGI config it runs".into(),
        });
        out.push(d);
    }
}

/// UW211: two hard limits for one container that disagree.
pub fn limits_disagree(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    let c = &dep.container;
    // A shared (task or pod) limit above the container's own is normal;
    // the reverse, or two own limits that differ, is not.
    let shared = |k: &str| k == "task memory" || k.starts_with("spec.resources");
    let own: Vec<_> = c.hard.iter().filter(|m| !shared(&m.key)).collect();
    let pooled: Vec<_> = c.hard.iter().filter(|m| shared(&m.key)).collect();
    let pair = own
        .windows(2)
        .find(|w| w[0].bytes != w[1].bytes)
        .map(|w| (w[0], w[1]))
        .or_else(|| {
            own.iter()
                .find_map(|o| pooled.iter().find(|p| o.bytes > p.bytes).map(|p| (*o, *p)))
        });
    let Some((a, b)) = pair else { return };
    let Some(at) = ctx.project.at(a.file.as_deref().unwrap_or(&c.file), a.span) else {
        return;
    };
    let low = a.bytes.min(b.bytes);
    let mut d = rule.at(
        at,
        format!(
            "`{}: {}` and `{}: {}` give {} different hard limits: the smaller, {low}, is the one the kernel enforces",
            a.key,
            a.raw,
            b.key,
            b.raw,
            c.who()
        ),
    );
    d.related.extend(ctx.project.label(
        b.file.as_deref().unwrap_or(&c.file),
        b.span,
        format!("{} here", b.bytes),
    ));
    d.help = Some("state the limit once, or make both the same".into());
    out.push(d);
}
