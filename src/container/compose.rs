//! Docker Compose files (containers-and-nginx.md §3.1): services with their
//! memory (`mem_limit`, `mem_reservation`, `memswap_limit`,
//! `deploy.resources`), CPUs, sysctls, command, environment, build context,
//! ports and stop grace period. `<<` merge keys are applied by the YAML
//! reader; `extends` within the file here.

use std::path::Path;

use super::yaml::{Node, Value};
use super::{At, Container, MemoryValue, Orchestrator, quantity, shell_form};
use crate::source::Span;

/// Is this YAML document a Compose file (a `services` map of maps)?
pub fn is_compose(doc: &Node) -> bool {
    doc.get("services").is_some_and(is_services)
}

/// A map of services: some entry has an image, a build or a command.
fn is_services(s: &Node) -> bool {
    s.is_map()
        && s.entries().iter().any(|(_, svc)| {
            ["image", "build", "command", "entrypoint", "extends"]
                .iter()
                .any(|k| svc.get(k).is_some())
        })
}

/// Is this a Compose file of format v1: the services at the top level (no
/// `services:` and no `version:`), every entry a map?
pub fn is_compose_v1(doc: &Node) -> bool {
    doc.get("services").is_none()
        && doc.get("version").is_none()
        && !doc.entries().is_empty()
        && doc.entries().iter().all(|(_, v)| v.is_map())
        && is_services(doc)
}

/// The map of services: `services:`, or the document itself in format v1.
fn services_of(doc: &Node) -> Option<&Node> {
    match doc.get("services") {
        Some(s) => Some(s),
        None => is_compose_v1(doc).then_some(doc),
    }
}

/// `${VAR:-default}` / `${VAR-default}` takes its default (what Compose does
/// with no `.env`), wherever it stands in the value; `$$` is a `$`; any
/// other interpolation leaves the value unknown.
fn interpolate(s: &str) -> Option<String> {
    if !s.contains('$') {
        return Some(s.to_string());
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(r) = rest.strip_prefix("$$") {
            out.push('$');
            rest = r;
            continue;
        }
        let inner = rest.strip_prefix("${")?;
        let end = inner.find('}')?;
        let (_, default) = inner[..end]
            .split_once(":-")
            .or_else(|| inner[..end].split_once('-'))?;
        if default.contains('$') {
            return None;
        }
        out.push_str(default);
        rest = &inner[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

fn at_text(n: &Node) -> Option<At<String>> {
    n.scalar_text().map(|s| At::new(s, n.span))
}

fn memory(n: &Node, key: &str, problems: &mut Vec<At<String>>) -> Option<MemoryValue> {
    let (raw, bytes) = match &n.value {
        // An integer in YAML is bytes.
        Value::Int(i) if *i >= 0 => (i.to_string(), Ok(crate::units::Bytes(*i as u64))),
        Value::Int(-1) => return None,
        Value::Str(s) => {
            let v = interpolate(s)?;
            let b = quantity::compose_bytes(&v);
            (v, b)
        }
        _ => (
            n.scalar_text().unwrap_or_default(),
            Err(quantity::QuantityError(format!(
                "`{key}` must be a byte value like `512m`"
            ))),
        ),
    };
    match bytes {
        Ok(bytes) => {
            let bare = raw.trim().chars().all(|c| c.is_ascii_digit());
            let slip = (bare && bytes.0 < 1 << 20).then(|| {
                format!("a bare number is bytes in Compose: `{raw}` is {raw} bytes; did you mean `{raw}m`?")
            });
            Some(MemoryValue {
                file: None,
                bytes,
                raw,
                key: key.to_string(),
                span: n.span,
                slip,
            })
        }
        Err(e) => {
            problems.push(At::new(e.0, n.span));
            None
        }
    }
}

/// Go duration (`1m30s`, `10s`, `500ms`) as whole seconds.
pub fn duration_seconds(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let n: f64 = rest[..end].parse().ok()?;
        rest = &rest[end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return None,
        };
        total += n * mult;
        rest = &rest[unit_end..];
    }
    Some(total as u64)
}

/// A command or entrypoint: a list (exec form) or a string (shell words).
fn argv(n: &Node) -> Option<Vec<At<String>>> {
    match &n.value {
        Value::Seq(items) => Some(items.iter().filter_map(at_text).collect()),
        Value::Str(_) => Some(shell_form(&at_text(n)?)),
        _ => None,
    }
}

/// `environment` as a map or a list of `K=V`.
pub fn environment(n: &Node) -> Vec<(At<String>, At<String>)> {
    match &n.value {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| Some((at_text(k)?, At::new(v.scalar_text()?, v.span))))
            .collect(),
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| {
                let s = i.as_str()?;
                let (k, v) = s.split_once('=')?;
                // Both halves point into the item (plain scalars keep offsets).
                let ks = Span::new(i.span.start, i.span.start + k.len());
                Some((At::new(k.to_string(), ks), At::new(v.to_string(), i.span)))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `sysctls` as a map or a list of `k=v`: `net.core.somaxconn`.
fn somaxconn(n: &Node) -> Option<At<u64>> {
    const KEY: &str = "net.core.somaxconn";
    match &n.value {
        Value::Map(m) => m.iter().find_map(|(k, v)| {
            (k.as_str() == Some(KEY))
                .then(|| Some(At::new(v.scalar_text()?.trim().parse().ok()?, v.span)))?
        }),
        Value::Seq(items) => items.iter().find_map(|i| {
            let (k, v) = i.as_str()?.split_once('=')?;
            (k.trim() == KEY).then(|| Some(At::new(v.trim().parse().ok()?, i.span)))?
        }),
        _ => None,
    }
}

/// Container-side ports: `"8000"`, `"80:8000"`, `"127.0.0.1:80:8000/tcp"`,
/// `8000`, or the long form `{target: 8000}`; with whether `ports` publishes
/// it on the host, and whether only on a loopback or private address.
fn ports(svc: &Node) -> Vec<(At<u16>, Option<bool>)> {
    let mut out = Vec::new();
    for key in ["ports", "expose"] {
        for p in svc.get(key).map(Node::as_seq).unwrap_or_default() {
            let (port, host_ip) = match &p.value {
                Value::Int(i) => (u16::try_from(*i).ok(), None),
                Value::Str(s) => {
                    let s = s.split('/').next().unwrap_or(s);
                    let parts: Vec<&str> = s.split(':').collect();
                    let ip = (parts.len() == 3).then(|| parts[0].to_string());
                    (parts.last().and_then(|t| t.parse().ok()), ip)
                }
                Value::Map(_) => (
                    p.get("target").and_then(|t| t.scalar_text()?.parse().ok()),
                    p.get("host_ip").and_then(Node::scalar_text),
                ),
                _ => (None, None),
            };
            let private = host_ip.is_some_and(|ip| {
                ip.starts_with("127.")
                    || ip.starts_with("10.")
                    || ip.starts_with("192.168.")
                    || ip == "::1"
            });
            let published = (key == "ports").then_some(private);
            out.extend(port.map(|v| (At::new(v, p.span), published)));
        }
    }
    out
}

/// Mounts, `./host/path:/container/path[:ro]` or the long form
/// `{type: bind, source, target}`: (path on the host, path in the
/// container). A named volume stands for itself: `<file>#volume:<name>`, a
/// path no file has, shared by the services of the file that mount it.
fn mounts(svc: &Node, file: &Path) -> Vec<(std::path::PathBuf, String)> {
    let dir = file.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    for v in svc.get("volumes").map(Node::as_seq).unwrap_or_default() {
        let (src, dst) = match &v.value {
            Value::Str(s) => {
                let mut parts = s.splitn(3, ':');
                match (parts.next(), parts.next()) {
                    (Some(a), Some(b)) => (a.to_string(), b.to_string()),
                    _ => continue,
                }
            }
            Value::Map(_) => match (
                v.get("source").and_then(Node::as_str),
                v.get("target").and_then(Node::as_str),
            ) {
                (Some(a), Some(b)) => (a.to_string(), b.to_string()),
                _ => continue,
            },
            _ => continue,
        };
        if src.starts_with('.') || src.starts_with('/') {
            out.push((dir.join(src), dst));
        } else if !src.is_empty() && !src.contains('$') {
            out.push((volume_path(file, &src), dst));
        }
    }
    out
}

/// Where a named volume of a Compose file is "on the host".
pub fn volume_path(file: &Path, name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}#volume:{name}", file.display()))
}

/// Deep merge for `extends`: `over`'s keys win, maps merge.
fn merge(base: &Node, over: &Node) -> Node {
    let (Value::Map(b), Value::Map(o)) = (&base.value, &over.value) else {
        return over.clone();
    };
    let mut out = o.clone();
    for (k, v) in b {
        match out.iter_mut().find(|(x, _)| x.value == k.value) {
            Some((_, mine)) => *mine = merge(v, mine),
            None => out.push((k.clone(), v.clone())),
        }
    }
    Node {
        value: Value::Map(out),
        span: over.span,
    }
}

/// Another Compose file's service, by file (as written) and service name:
/// what `extends: {file, service}` names.
pub type Extends<'a> = dyn Fn(&str, &str) -> Option<Node> + 'a;

/// Every span of a node and its children set to `span`.
fn respan(n: &Node, span: Span) -> Node {
    let value = match &n.value {
        Value::Seq(items) => Value::Seq(items.iter().map(|i| respan(i, span)).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (respan(k, span), respan(v, span)))
                .collect(),
        ),
        v => v.clone(),
    };
    Node { value, span }
}

/// A service with `extends` applied: `{service: x}` (or `x`) of this file,
/// `{file, service}` of another through `external`. What another file
/// gives is placed at the `extends` key (this file's labels cannot point
/// into that one).
fn effective(services: &Node, svc: &Node, depth: usize, external: &Extends) -> Node {
    let Some(e) = svc.get("extends") else {
        return svc.clone();
    };
    if depth >= 8 {
        return svc.clone();
    }
    let base = match &e.value {
        Value::Str(s) => services
            .get(s)
            .map(|b| effective(services, b, depth + 1, external)),
        Value::Map(_) => {
            let name = e.get("service").and_then(Node::as_str);
            match (e.get("file").and_then(Node::as_str), name) {
                (None, Some(n)) => services
                    .get(n)
                    .map(|b| effective(services, b, depth + 1, external)),
                (Some(f), Some(n)) => external(f, n).map(|b| respan(&b, e.span)),
                _ => None,
            }
        }
        _ => None,
    };
    match base {
        Some(b) => merge(&b, svc),
        None => svc.clone(),
    }
}

/// The services of a Compose document, and values present but unreadable.
pub fn containers(file: &Path, doc: &Node) -> (Vec<Container>, Vec<At<String>>) {
    containers_with(file, doc, &|_, _| None)
}

/// The service `name` of a Compose document, with the `extends` of its
/// own file applied (for another file's `extends: {file, service}`).
pub fn service(doc: &Node, name: &str) -> Option<Node> {
    let services = services_of(doc)?;
    Some(effective(services, services.get(name)?, 1, &|_, _| None))
}

/// [`containers`], with `extends: {file, service}` read through `external`.
pub fn containers_with(
    file: &Path,
    doc: &Node,
    external: &Extends,
) -> (Vec<Container>, Vec<At<String>>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let Some(services) = services_of(doc) else {
        return (out, problems);
    };
    let dir = file.parent().unwrap_or(Path::new(""));
    let members: std::sync::Arc<[String]> = services
        .entries()
        .iter()
        .filter_map(|(k, _)| k.scalar_text())
        .collect();
    for (key, raw_svc) in services.entries() {
        let Some(name) = key.scalar_text() else {
            continue;
        };
        let svc = effective(services, raw_svc, 0, external);
        let mut c = Container::new(
            Orchestrator::Compose,
            file.to_path_buf(),
            name.clone(),
            key.span,
        );
        c.group = doc.get("name").and_then(Node::scalar_text);
        c.image = svc.get("image").and_then(at_text);
        c.dockerfile = svc.get("build").and_then(|b| match &b.value {
            Value::Str(ctx) => Some(dir.join(ctx).join("Dockerfile")),
            Value::Map(_) => {
                let ctx = b.get("context").and_then(Node::as_str).unwrap_or(".");
                let df = b
                    .get("dockerfile")
                    .and_then(Node::as_str)
                    .unwrap_or("Dockerfile");
                // `Dockerfile.django-${OS:-debian}`: the default.
                Some(dir.join(interpolate(ctx)?).join(interpolate(df)?))
            }
            _ => None,
        });
        c.entrypoint = svc.get("entrypoint").and_then(argv);
        c.command = svc.get("command").and_then(argv);
        c.env = svc.get("environment").map(environment).unwrap_or_default();
        for path in [
            &["mem_limit"][..],
            &["deploy", "resources", "limits", "memory"],
        ] {
            if let Some(n) = svc.at(path) {
                c.hard.extend(memory(n, &path.join("."), &mut problems));
            }
        }
        for path in [
            &["mem_reservation"][..],
            &["deploy", "resources", "reservations", "memory"],
        ] {
            if let Some(n) = svc.at(path) {
                c.reservations
                    .extend(memory(n, &path.join("."), &mut problems));
            }
        }
        // `memswap_limit` (renamed `memory_swap` in newer schemas) is memory
        // plus swap; `-1` is unlimited and 0 unset.
        for key in ["memswap_limit", "memory_swap"] {
            if let Some(n) = svc.get(key)
                && !matches!(n.value, Value::Int(0) | Value::Int(-1))
            {
                c.swap = memory(n, key, &mut problems);
            }
        }
        c.cpus = ["cpus"]
            .iter()
            .map(|k| svc.get(k))
            .chain([svc.at(&["deploy", "resources", "limits", "cpus"])])
            .flatten()
            .find_map(|n| {
                let v: f64 = n.scalar_text()?.trim().parse().ok()?;
                (v > 0.0).then(|| At::new(v, n.span))
            });
        c.somaxconn = svc.get("sysctls").and_then(somaxconn);
        c.stop_grace = svc
            .get("stop_grace_period")
            .and_then(|n| Some(At::new(duration_seconds(&n.scalar_text()?)?, n.span)));
        for (port, published) in ports(&svc) {
            if let Some(private) = published {
                c.published.push((port.clone(), private));
            }
            c.ports.push(port);
        }
        c.hostnames = vec![name.clone()];
        for key in ["hostname", "container_name"] {
            if let Some(h) = svc.get(key).and_then(Node::scalar_text) {
                c.hostnames.push(h);
            }
        }
        c.mounts = mounts(&svc, file);
        c.group_members = members.clone();
        c.set_limit_from_hard();
        out.push(c);
    }
    // `links: [db:database]` makes a service reachable from the one that
    // links it under the alias too (format v1 and later).
    let mut aliases: Vec<(String, String)> = Vec::new();
    for (_, svc) in services.entries() {
        for l in svc.get("links").map(Node::as_seq).unwrap_or_default() {
            if let Some((target, alias)) = l.as_str().and_then(|s| s.split_once(':')) {
                aliases.push((target.trim().to_string(), alias.trim().to_string()));
            }
        }
    }
    for (target, alias) in aliases {
        if let Some(c) = out.iter_mut().find(|c| c.name == target)
            && !c.hostnames.contains(&alias)
        {
            c.hostnames.push(alias);
        }
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::yaml;
    use crate::units::{Bytes, MIB};

    const FILE: &str = "x-common: &common\n  mem_limit: 512m\n  stop_grace_period: 1m30s\nservices:\n  web:\n    <<: *common\n    build: .\n    command: uwsgi --ini deploy/uwsgi.ini\n    environment:\n      - UWSGI_PROCESSES=4\n    sysctls:\n      - net.core.somaxconn=1024\n    deploy:\n      resources:\n        limits: {memory: 1g, cpus: '1.5'}\n        reservations: {memory: 256m}\n    ports: [\"127.0.0.1:8000:3031\"]\n  worker:\n    extends: web\n    mem_limit: 300\n";

    #[test]
    fn reads_a_service_with_merge_keys_and_extends() {
        let doc = &yaml::parse(FILE).unwrap()[0];
        assert!(is_compose(doc));
        let (cs, problems) = containers(Path::new("/p/compose.yaml"), doc);
        assert!(problems.is_empty());
        let web = &cs[0];
        assert_eq!(web.hard.len(), 2);
        assert_eq!(web.limit.as_ref().unwrap().bytes, Bytes(512 * MIB));
        assert_eq!(web.reservations[0].bytes, Bytes(256 * MIB));
        assert_eq!(web.cpus.as_ref().unwrap().value, 1.5);
        assert_eq!(web.somaxconn.as_ref().unwrap().value, 1024);
        assert_eq!(web.stop_grace.as_ref().unwrap().value, 90);
        assert_eq!(web.ports[0].value, 3031);
        assert_eq!(web.env[0].0.value, "UWSGI_PROCESSES");
        assert_eq!(web.command.as_ref().unwrap()[2].value, "deploy/uwsgi.ini");
        assert_eq!(
            web.dockerfile.as_deref(),
            Some(Path::new("/p/./Dockerfile"))
        );
        let worker = &cs[1];
        assert_eq!(worker.limit.as_ref().unwrap().bytes, Bytes(300));
        assert!(worker.hard.iter().any(|m| m.slip.is_some()));
        assert_eq!(worker.somaxconn.as_ref().unwrap().value, 1024);
        let doc = &yaml::parse("services:\n  a:\n    image: x\n    mem_limit: 300m\n    memswap_limit: 1g\n  b:\n    image: x\n    memswap_limit: -1\n").unwrap()[0];
        let (cs, _) = containers(Path::new("c.yaml"), doc);
        assert_eq!(cs[0].swap.as_ref().unwrap().bytes, Bytes(1 << 30));
        assert!(cs[1].swap.is_none());
    }

    #[test]
    fn format_v1_has_its_services_at_the_top_level() {
        let text = "web:\n  build: .\n  command: uwsgi --ini uwsgi.ini\n  mem_limit: 256m\n  links:\n    - redis:cache\n    - db\nredis:\n  image: redis:3\ndb:\n  image: postgres\n";
        let doc = &yaml::parse(text).unwrap()[0];
        assert!(is_compose_v1(doc) && !is_compose(doc));
        let (cs, problems) = containers(Path::new("/p/docker-compose.yml"), doc);
        assert!(problems.is_empty());
        let names: Vec<&str> = cs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["web", "redis", "db"]);
        assert_eq!(cs[0].limit.as_ref().unwrap().bytes, Bytes(256 * MIB));
        assert_eq!(cs[1].hostnames, vec!["redis", "cache"]);
        // A v2+ file, or YAML that is something else, is not v1.
        for other in [
            "version: '2'\nweb:\n  image: x\n",
            "services:\n  web:\n    image: x\n",
            "name: x\nweb:\n  image: y\n",
            "a:\n  b: 1\n",
        ] {
            assert!(!is_compose_v1(&yaml::parse(other).unwrap()[0]), "{other}");
        }
    }

    #[test]
    fn extends_of_another_file_is_placed_at_the_extends_key() {
        let common = &yaml::parse("web:\n  image: acme/web\n  mem_limit: 1g\n").unwrap()[0];
        let text =
            "web:\n  extends:\n    file: common.yml\n    service: web\n  ports: [\"8000:8000\"]\n";
        let doc = &yaml::parse(text).unwrap()[0];
        let ext = |f: &str, n: &str| (f == "common.yml").then(|| service(common, n)).flatten();
        let (cs, _) = containers_with(Path::new("/p/docker-compose.yml"), doc, &ext);
        let web = &cs[0];
        assert_eq!(web.image.as_ref().unwrap().value, "acme/web");
        assert_eq!(web.limit.as_ref().unwrap().bytes, Bytes(1024 * MIB));
        // Labels point at `extends`, in this file.
        let at = web.image.as_ref().unwrap().span.start;
        assert!(
            text[at..].starts_with("file:") || text[..at].ends_with("extends:\n    "),
            "{at}"
        );
        assert_eq!(web.ports[0].value, 8000);
    }

    #[test]
    fn durations_and_interpolation() {
        assert_eq!(duration_seconds("1m30s"), Some(90));
        assert_eq!(duration_seconds("2h"), Some(7200));
        assert_eq!(duration_seconds("10"), Some(10));
        assert_eq!(duration_seconds("soon"), None);
        assert_eq!(interpolate("${MEM:-512m}").as_deref(), Some("512m"));
        assert_eq!(interpolate("${MEM}"), None);
        assert_eq!(
            interpolate("Dockerfile.django-${OS:-debian}").as_deref(),
            Some("Dockerfile.django-debian")
        );
        assert_eq!(interpolate("a$$b-${X-1}${Y:-2}").as_deref(), Some("a$b-12"));
        assert_eq!(interpolate("x-$OS"), None);
        assert_eq!(interpolate("${X:-$Y}"), None);
    }
}
