//! UW5xx: uWSGI inside its container: kernel limits, CPUs, memory limits
//! that are missing, environment that is dead, configs nothing runs.

use crate::container::Orchestrator;
use crate::diagnostic::Diagnostic;
use crate::rules::{Rule, RuleContext};
use crate::uwsgi::resolve::Layer;

/// UW501: `listen` above the kernel's `net.core.somaxconn`.
pub fn listen_exceeds_somaxconn(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if ctx.last("listen").is_none() {
        return;
    }
    let Some(listen) = ctx.number("listen") else {
        return;
    };
    let sysctl = ctx
        .deployment
        .and_then(|d| d.container.somaxconn.as_ref().map(|s| (d, s)));
    let d = match sysctl {
        Some((dep, s)) if listen > s.value => {
            let mut d = rule.at(
                ctx.anchor("listen"),
                format!(
                    "`listen = {listen}` is above the container's `net.core.somaxconn` of {}: uWSGI exits at startup with \"Listen queue size is greater than the system max net.core.somaxconn\"",
                    s.value
                ),
            );
            d.related.extend(ctx.project.label(&dep.container.file, s.span, format!("somaxconn {}", s.value)));
            d.help = Some(format!("lower `listen` to {} or raise the sysctl", s.value));
            d
        }
        Some(_) => return,
        None if listen > 4096 => rule
            .at(
                ctx.anchor("listen"),
                format!("`listen = {listen}` is above 4096, the default `net.core.somaxconn` of current kernels: uWSGI exits at startup unless the container raises the sysctl"),
            )
            .with_help("set the sysctl `net.core.somaxconn` in the container (Compose `sysctls`, Kubernetes `securityContext.sysctls`) or lower `listen`"),
        // Kernels before 5.4 defaulted to 128, but those are end of life:
        // `listen = 1024` starts on every current host, so no finding.
        None => return,
    };
    out.push(d);
}

/// UW502: worker counts from the host's CPUs, or far above the CPU limit.
pub fn workers_exceed_cpu(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    if dep.container.orchestrator == Orchestrator::Cgroup && dep.container.cpus.is_none() {
        return;
    }
    for name in ["processes", "threads", "cheaper", "cheaper-initial"] {
        // `%k` is expanded as the file is read: look at the text written.
        let written = ctx.last(name).and_then(|e| ctx.spans(e)).map(|(f, _, v)| {
            ctx.sources
                .get(f)
                .bytes
                .get(v.range())
                .unwrap_or_default()
                .to_vec()
        });
        if written.is_some_and(|v| v.windows(2).any(|w| w == b"%k")) {
            let mut d = rule.at(
                ctx.anchor(name),
                format!("`{name}` uses `%k`, the CPU count of the host, not of the container: on a 64-core node that is 64 workers in a container limited to a few CPUs and a few GiB"),
            );
            d.help = Some(match &dep.container.cpus {
                Some(c) => format!(
                    "write the number: the container has {} CPU{}",
                    c.value,
                    if c.value == 1.0 { "" } else { "s" }
                ),
                None => {
                    "write the number of workers the container's memory and CPU limits allow".into()
                }
            });
            out.push(d);
            return;
        }
    }
    let Some(cpus) = &dep.container.cpus else {
        return;
    };
    let processes = ctx.number("processes").unwrap_or(1).max(1);
    let threads = ctx.number("threads").unwrap_or(1).max(1);
    // Threads mostly wait on I/O; flag only a count far beyond the CPUs.
    let total = processes * threads;
    if (total as f64) <= 4.0 * cpus.value.max(1.0)
        || processes as f64 <= 2.0 * cpus.value.max(1.0) + 1.0
    {
        return;
    }
    let mut d = rule.at(
        ctx.anchor("processes"),
        format!(
            "{processes} workers × {threads} thread{} on {} CPU{}: CPU-bound requests queue behind each other and each worker still costs its memory",
            if threads == 1 { "" } else { "s" },
            cpus.value,
            if cpus.value == 1.0 { "" } else { "s" }
        ),
    );
    d.related.extend(
        ctx.project
            .label(&dep.container.file, cpus.span, "CPU limit"),
    );
    d.help = Some(format!(
        "about {} workers (2 × CPUs + 1) is a usual start",
        (2.0 * cpus.value).ceil() as u64 + 1
    ));
    out.push(d);
}

/// UW503: a container with no hard memory limit (reservations are UW208's).
pub fn no_memory_limit(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    // A Dockerfile cannot set a limit (`docker run -m` does): nothing to fix here.
    if dep.limit().is_some()
        || !dep.container.reservations.is_empty()
        || dep.container.orchestrator == Orchestrator::Docker
    {
        return;
    }
    let c = &dep.container;
    let mut d = rule.at(
        ctx.header(),
        format!(
            "{} runs this config with no hard memory limit: nothing caps the workers, and the memory budget cannot be checked",
            c.who_capitalized()
        ),
    );
    d.related
        .extend(ctx.project.label(&c.file, c.name_span, "no memory limit"));
    d.help = Some(match c.orchestrator {
        Orchestrator::Compose => "set `mem_limit` (or `deploy.resources.limits.memory`)".into(),
        Orchestrator::Kubernetes => "set `resources.limits.memory`".into(),
        Orchestrator::Ecs => "set the container's `memory` or the task's `memory`".into(),
        _ => "run it with a memory limit (`docker run -m`), or give `--memory-limit` to check the budget".into(),
    });
    out.push(d);
}

/// UW504: a `UWSGI_*` variable whose option the ini sets again (the ini wins).
pub fn env_overridden_by_ini(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let Some(dep) = ctx.deployment else { return };
    for e in &ctx.resolved.entries {
        let Layer::Env { var } = &e.origin.layer else {
            continue;
        };
        let Some(def) = e.def() else { continue };
        if def.is_multi_valued() {
            continue;
        }
        let Some(last) = ctx.last(def.name) else {
            continue;
        };
        if !matches!(last.origin.layer, Layer::File { .. }) {
            continue;
        }
        // `processes = $(UWSGI_WORKERS)` reads the variable itself, and an
        // equal value changes nothing: the environment is not dead then.
        let reads_it = last
            .raw_value()
            .is_some_and(|v| String::from_utf8_lossy(v).contains(&format!("$({var})")));
        if reads_it || last.value == e.value {
            continue;
        }
        let Some((file, key, _)) = ctx.spans(last) else {
            continue;
        };
        let mut d = rule.diag(
            file,
            key,
            format!(
                "`{var}={}` in the container's environment is dead: uWSGI reads the environment first and this line sets `{}` again, so `{}` wins",
                e.value_str(),
                def.name,
                last.value_str()
            ),
        );
        if let Some(env) = dep.env.iter().find(|v| &v.name == var) {
            d.related.extend(ctx.project.related(&env.place));
        }
        d.help = Some(format!(
            "remove `{var}` from the container, or remove this line and keep the value in the environment"
        ));
        out.push(d);
    }
}

/// UW505: containers run uWSGI, but none of them this config.
pub fn config_not_used(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if ctx.deployment.is_some() || ctx.project.linked.is_empty() {
        return;
    }
    let Some(path) = ctx.sources.get(ctx.file).path.clone() else {
        return;
    };
    let path = crate::source::canonicalize(&path).unwrap_or(path);
    if ctx.project.included.contains(&path) {
        return;
    }
    // Only containers defined at or above this config's directory count:
    // a sibling project's compose file says nothing about this one.
    if !ctx.project.runs_at_or_above(&path) {
        return;
    }
    out.push(rule.at(
        ctx.header(),
        "no container runs this config, though containers here run uWSGI with other configs: it is dead, or it is linked in a way not seen here",
    ).with_help("delete it, or add a `[[deployment]]` naming it and its container in uwsgi-lint.toml"));
}
