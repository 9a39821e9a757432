//! Link the fronts that are not Nginx (`container::front`) to the
//! containers they route to: an ECS service's `load_balancer` names the
//! container, an Ingress names a Service (whose pods carry its name as a
//! host name), Traefik labels sit on the service itself. Fronts are
//! indexed by what they name, and each container looks up its own names:
//! linear in fronts + containers, no scan per pair.

use std::collections::HashMap;
use std::path::Path;

use crate::container::front::{Linked, Target};
use crate::container::{Container, Orchestrator};
use crate::deployment::{Deployment, Project};

/// Fill `fronts` of every deployment.
pub fn link(links: &mut [Deployment], project: &Project) {
    let fronts = &project.fronts;
    if fronts.is_empty() {
        return;
    }
    let mut by_ecs: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_host: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_container: HashMap<(&Path, &str), Vec<usize>> = HashMap::new();
    for (i, f) in fronts.iter().enumerate() {
        match &f.target {
            Target::Ecs { container, .. } => by_ecs.entry(container).or_default().push(i),
            Target::Host { host, .. } => by_host.entry(host).or_default().push(i),
            Target::Container { file, name, .. } => by_container
                .entry((file.as_path(), name.as_str()))
                .or_default()
                .push(i),
        }
    }
    for d in links.iter_mut() {
        d.fronts = linked(&d.container, project, &by_ecs, &by_host, &by_container);
    }
}

fn linked(
    c: &Container,
    project: &Project,
    by_ecs: &HashMap<&str, Vec<usize>>,
    by_host: &HashMap<&str, Vec<usize>>,
    by_container: &HashMap<(&Path, &str), Vec<usize>>,
) -> Vec<Linked> {
    let fronts = &project.fronts;
    let mut out: Vec<Linked> = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    let mut push = |i: usize, why: String, port: Option<u16>| {
        if !seen.contains(&i) {
            seen.push(i);
            out.push(Linked {
                front: fronts[i].clone(),
                why,
                port,
            });
        }
    };
    let related = |i: usize| project.related(&fronts[i].place.file, &c.file);
    // Among the fronts that fit, the nearest to the container's file: a
    // repository of several deployments (or overlays per environment)
    // names the same container or Service in each.
    let nearest = |ids: Vec<usize>| -> Vec<usize> {
        let depth = |i: usize| crate::deployment::common_depth(&fronts[i].place.file, &c.file);
        let best = ids.iter().map(|&i| depth(i)).max().unwrap_or(0);
        ids.into_iter().filter(|&i| depth(i) == best).collect()
    };
    if c.orchestrator == Orchestrator::Ecs {
        let fits = |i: &usize| {
            let Target::Ecs { tasks, within, .. } = &fronts[*i].target else {
                return false;
            };
            // A service names its task definition: the container must be
            // of that one when it is known, in its template or module.
            let in_task = tasks.is_empty()
                || c.group
                    .as_ref()
                    .is_some_and(|g| tasks.iter().any(|t| t == g));
            let here = within
                .as_ref()
                .is_none_or(|w| c.file == *w || c.file.parent() == Some(w.as_path()));
            in_task && here && related(*i)
        };
        let ids = by_ecs
            .get(c.name.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(fits)
            .collect();
        for i in nearest(ids) {
            let f = &fronts[i];
            let Target::Ecs { port, .. } = &f.target else {
                continue;
            };
            push(
                i,
                format!(
                    "it routes to container `{}`{}: {}",
                    c.name,
                    port.map(|p| format!(" port {p}")).unwrap_or_default(),
                    f.via
                ),
                *port,
            );
        }
    }
    // Namespaced host names (`web.shop`) say the Service declares its namespace.
    let namespaced = c.hostnames.iter().any(|h| h.contains('.'));
    // Only pods are reached through a Service (a Compose service's name is
    // a host name too, but no Ingress routes to it).
    let pod = c.orchestrator == Orchestrator::Kubernetes;
    for h in c.hostnames.iter().filter(|_| pod) {
        let fits = |i: &usize| {
            let Target::Host { namespace, .. } = &fronts[*i].target else {
                return false;
            };
            let ns_ok = match namespace {
                Some(ns) if namespaced => c.hostnames.contains(&format!("{h}.{ns}")),
                _ => true,
            };
            ns_ok && related(*i)
        };
        let ids = by_host
            .get(h.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(fits)
            .collect();
        for i in nearest(ids) {
            let Target::Host { port, .. } = &fronts[i].target else {
                continue;
            };
            // The Service's port → the container's (`targetPort`).
            let inside = port.map(|p| {
                c.port_aliases
                    .iter()
                    .find(|(n, from, _)| n == h && *from == p)
                    .map_or(p, |(_, _, to)| *to)
            });
            push(
                i,
                format!(
                    "it routes to Service `{h}`{}, which selects this pod{}",
                    port.map(|p| format!(" port {p}")).unwrap_or_default(),
                    match (port, inside) {
                        (Some(p), Some(t)) if *p != t => format!(" (target port {t})"),
                        _ => String::new(),
                    }
                ),
                inside,
            );
        }
    }
    for &i in by_container
        .get(&(c.file.as_path(), c.name.as_str()))
        .into_iter()
        .flatten()
    {
        let f = &fronts[i];
        let Target::Container { port, .. } = &f.target else {
            continue;
        };
        push(
            i,
            format!(
                "it routes to this service{}: {}",
                port.map(|p| format!(" port {p}")).unwrap_or_default(),
                f.via
            ),
            *port,
        );
    }
    out
}

/// One front as `check -v` shows it: what it is, why it is linked, and
/// what it is configured with.
pub fn describe(l: &Linked, shown: &dyn Fn(&Path) -> String) -> String {
    let f = &l.front;
    let setting = |s: &Option<crate::container::front::Setting>, unit: &str| match s {
        Some(s) if s.place.is_some() => format!("{} {unit} ({})", s.value, s.shown),
        Some(s) => format!("{} {unit} (default)", s.value),
        None => "not known".to_string(),
    };
    let mut out = format!(
        "  front ({}): {} in {} ({})\n    timeout: {}; body limit: {}; speaks {} to it\n",
        f.kind.as_str(),
        f.who,
        shown(&f.place.file),
        l.why,
        setting(&f.timeout, "s"),
        match &f.body_limit {
            Some(b) if b.value == 0 => "none (0)".to_string(),
            Some(_) => setting(&f.body_limit, "bytes"),
            None => "none set".to_string(),
        },
        f.protocol,
    );
    if let Some(d) = &f.deregistration_delay {
        out.push_str(&format!(
            "    deregistration delay: {}\n",
            setting(&Some(d.clone()), "s")
        ));
    }
    out
}
