//! Kubernetes manifests (containers-and-nginx.md §3.2): workloads of every
//! kind that carries a pod template, multi-document files and `List`s,
//! containers and init containers, container and pod-level resources,
//! command/args/env, sysctls and the termination grace period.

use std::path::Path;

use super::quantity::{self, KubeQuantity};
use super::yaml::{Node, Value};
use super::{At, Container, MemoryValue, Orchestrator};

/// The pod spec of a workload document, by kind.
fn pod_spec(doc: &Node) -> Option<&Node> {
    let kind = doc.get("kind")?.as_str()?;
    let path: &[&str] = match kind {
        "Pod" => &["spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    };
    doc.at(path)
}

/// The labels of a workload's pods (what Services select).
fn pod_labels(doc: &Node) -> Vec<(String, String)> {
    let path: &[&str] = match doc.get("kind").and_then(Node::as_str) {
        Some("Pod") => &["metadata", "labels"],
        Some("CronJob") => &[
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "metadata",
            "labels",
        ],
        _ => &["spec", "template", "metadata", "labels"],
    };
    doc.at(path)
        .map(|l| {
            l.entries()
                .iter()
                .filter_map(|(k, v)| Some((k.scalar_text()?, v.scalar_text()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// A Service: the pods it selects, and its ports (`port` → `targetPort`,
/// a number; a named target port is left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub namespace: Option<String>,
    pub selector: Vec<(String, String)>,
    pub ports: Vec<(u16, u16)>,
}

/// The Services among `docs` (also inside a `kind: List`).
pub fn services(docs: &[Node]) -> Vec<Service> {
    let mut out = Vec::new();
    let items = docs.iter().flat_map(|d| {
        if d.get("kind").and_then(Node::as_str) == Some("List") {
            d.get("items")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .collect::<Vec<_>>()
        } else {
            vec![d]
        }
    });
    for d in items {
        if d.get("kind").and_then(Node::as_str) != Some("Service") {
            continue;
        }
        let Some(name) = d.at(&["metadata", "name"]).and_then(Node::scalar_text) else {
            continue;
        };
        let selector = d
            .at(&["spec", "selector"])
            .map(|s| {
                s.entries()
                    .iter()
                    .filter_map(|(k, v)| Some((k.scalar_text()?, v.scalar_text()?)))
                    .collect()
            })
            .unwrap_or_default();
        let number = |n: Option<&Node>| match n.map(|n| &n.value) {
            Some(Value::Int(i)) => u16::try_from(*i).ok(),
            _ => None,
        };
        let ports = d
            .at(&["spec", "ports"])
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| {
                let port = number(p.get("port"))?;
                let target = match p.get("targetPort") {
                    None => port,
                    t => number(t)?,
                };
                Some((port, target))
            })
            .collect();
        out.push(Service {
            name,
            namespace: d.at(&["metadata", "namespace"]).and_then(Node::scalar_text),
            selector,
            ports,
        });
    }
    out
}

/// Give the containers each Service selects its names (`web`,
/// `web.shop`, `web.shop.svc.cluster.local`) and its port mapping.
pub fn apply_services(containers: &mut [Container], services: &[Service]) {
    // Containers by each label of their pod: a Service looks at those that
    // carry its rarest selector label, not at every container.
    let mut by_label: std::collections::HashMap<(&str, &str), Vec<usize>> =
        std::collections::HashMap::new();
    for (i, c) in containers.iter().enumerate() {
        if c.orchestrator == Orchestrator::Kubernetes {
            for (k, v) in &c.labels {
                by_label
                    .entry((k.as_str(), v.as_str()))
                    .or_default()
                    .push(i);
            }
        }
    }
    // (container, Service, name) for each name a Service gives a container.
    let mut names_of: Vec<(usize, &Service, String)> = Vec::new();
    for s in services.iter().filter(|s| !s.selector.is_empty()) {
        let mut names = vec![s.name.clone()];
        if let Some(ns) = &s.namespace {
            names.push(format!("{}.{ns}", s.name));
            names.push(format!("{}.{ns}.svc", s.name));
            names.push(format!("{}.{ns}.svc.cluster.local", s.name));
        }
        let candidates = s
            .selector
            .iter()
            .map(|(k, v)| {
                by_label
                    .get(&(k.as_str(), v.as_str()))
                    .map_or(&[][..], |l| &l[..])
            })
            .min_by_key(|l| l.len())
            .unwrap_or_default();
        for &i in candidates {
            if s.selector
                .iter()
                .all(|kv| containers[i].labels.contains(kv))
            {
                for n in &names {
                    names_of.push((i, s, n.clone()));
                }
            }
        }
    }
    for (i, s, n) in names_of {
        let c = &mut containers[i];
        for (port, target) in s.ports.iter().filter(|(p, t)| p != t) {
            c.port_aliases.push((n.clone(), *port, *target));
        }
        if !c.hostnames.contains(&n) {
            c.hostnames.push(n);
        }
    }
}

/// Is this a Kubernetes document we read (a workload or a `List` of them)?
pub fn is_manifest(doc: &Node) -> bool {
    doc.get("apiVersion").is_some()
        && (pod_spec(doc).is_some() || doc.get("kind").and_then(Node::as_str) == Some("List"))
}

/// Helm templates are not YAML until rendered.
pub fn is_helm_template(text: &str) -> bool {
    text.contains("{{") && (text.contains("apiVersion") || text.contains(".Values"))
}

fn text(n: &Node) -> Option<At<String>> {
    n.scalar_text().map(|s| At::new(s, n.span))
}

fn memory(n: &Node, key: &str, problems: &mut Vec<At<String>>) -> Option<MemoryValue> {
    memory_in(n, key, None, problems)
}

fn memory_in(
    n: &Node,
    key: &str,
    file: Option<&Path>,
    problems: &mut Vec<At<String>>,
) -> Option<MemoryValue> {
    let raw = n.scalar_text()?;
    match quantity::kube_quantity(raw.trim()) {
        Ok(q) => {
            let bytes = q.bytes()?;
            let slip = milli_slip(&raw, q);
            Some(MemoryValue {
                file: file.map(Path::to_path_buf),
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

/// `400m` of memory is 0.4 bytes: almost surely meant `400Mi`.
fn milli_slip(raw: &str, q: KubeQuantity) -> Option<String> {
    raw.trim().ends_with('m').then(|| {
        format!(
            "`{raw}` is {} bytes (`m` is milli); did you mean `{}Mi`?",
            q.milli as f64 / 1000.0,
            raw.trim().trim_end_matches('m')
        )
    })
}

fn cpus(n: &Node) -> Option<At<f64>> {
    let raw = n.scalar_text()?;
    let q = quantity::kube_quantity(raw.trim()).ok()?;
    (q.milli > 0).then(|| At::new(q.milli as f64 / 1000.0, n.span))
}

fn strings(n: Option<&Node>) -> Option<Vec<At<String>>> {
    n.map(|n| n.as_seq().iter().filter_map(text).collect())
}

/// Every workload document, flattening `List`s.
fn workloads(docs: &[Node]) -> Vec<&Node> {
    let mut out = Vec::new();
    for d in docs {
        if d.get("kind").and_then(Node::as_str) == Some("List") {
            out.extend(
                d.get("items")
                    .map(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .filter(|i| pod_spec(i).is_some()),
            );
        } else if pod_spec(d).is_some() {
            out.push(d);
        }
    }
    out
}

/// The containers of every workload in the documents, and values present
/// but unreadable.
pub fn containers(file: &Path, docs: &[Node]) -> (Vec<Container>, Vec<At<String>>) {
    let (cs, problems) = containers_with(file, docs, &|_| None);
    (cs, problems.into_iter().map(|(_, p)| p).collect())
}

/// Where a container's `resources` come from when its own mapping has
/// none: another file's node (a Helm chart's `values.yaml`).
pub type ResourcesFrom<'a> = dyn Fn(&Node) -> Option<(std::path::PathBuf, Node)> + 'a;

/// [`containers`], with `resources` found elsewhere for containers that
/// write none, and problems named by the file they are in (`None`: this one).
#[allow(clippy::type_complexity)]
pub fn containers_with(
    file: &Path,
    docs: &[Node],
    resources_from: &ResourcesFrom,
) -> (
    Vec<Container>,
    Vec<(Option<std::path::PathBuf>, At<String>)>,
) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut own = Vec::new();
    let mut pod_problems = Vec::new();
    for doc in workloads(docs) {
        let Some(spec) = pod_spec(doc) else { continue };
        let workload = doc.at(&["metadata", "name"]).and_then(Node::scalar_text);
        let all: Vec<&Node> = spec
            .get("containers")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .chain(
                // Only sidecars (restartPolicy: Always) run beside uWSGI.
                spec.get("initContainers")
                    .map(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .filter(|c| c.get("restartPolicy").and_then(Node::as_str) == Some("Always")),
            )
            .collect();
        let members: std::sync::Arc<[String]> = all
            .iter()
            .filter_map(|c| c.get("name").and_then(Node::scalar_text))
            .collect();
        let pod_limit = spec
            .at(&["resources", "limits", "memory"])
            .and_then(|n| memory(n, "spec.resources.limits.memory", &mut pod_problems));
        let somaxconn = spec
            .at(&["securityContext", "sysctls"])
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .find(|s| s.get("name").and_then(Node::as_str) == Some("net.core.somaxconn"))
            .and_then(|s| {
                let v = s.get("value")?;
                Some(At::new(v.scalar_text()?.trim().parse().ok()?, v.span))
            });
        let grace = spec
            .get("terminationGracePeriodSeconds")
            .and_then(|n| match n.value {
                Value::Int(i) if i >= 0 => Some(At::new(i as u64, n.span)),
                _ => None,
            });
        for c in all {
            let name_node = c.get("name");
            let name = name_node.and_then(Node::scalar_text).unwrap_or_default();
            let mut k = Container::new(
                Orchestrator::Kubernetes,
                file.to_path_buf(),
                name.clone(),
                name_node.map_or(c.span, |n| n.span),
            );
            k.group = workload.clone();
            k.image = c.get("image").and_then(text);
            k.entrypoint = strings(c.get("command"));
            k.command = strings(c.get("args"));
            k.env = c
                .get("env")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(|e| Some((text(e.get("name")?)?, text(e.get("value")?)?)))
                .collect();
            let elsewhere = match c.get("resources") {
                Some(r) if r.is_map() => None,
                _ => resources_from(c),
            };
            let (res_file, res) = match &elsewhere {
                Some((f, n)) => (Some(f.as_path()), Some(n)),
                None => (None, c.get("resources")),
            };
            let mut theirs = Vec::new();
            let found = if res_file.is_some() {
                &mut theirs
            } else {
                &mut own
            };
            if let Some(n) = res.and_then(|r| r.at(&["limits", "memory"])) {
                k.hard
                    .extend(memory_in(n, "resources.limits.memory", res_file, found));
            }
            k.hard.extend(pod_limit.clone());
            if let Some(n) = res.and_then(|r| r.at(&["requests", "memory"])) {
                k.reservations
                    .extend(memory_in(n, "resources.requests.memory", res_file, found));
            }
            problems.extend(
                theirs
                    .into_iter()
                    .map(|p| (res_file.map(Path::to_path_buf), p)),
            );
            k.cpus = res.and_then(|r| r.at(&["limits", "cpu"])).and_then(cpus);
            k.somaxconn = somaxconn.clone();
            k.stop_grace = grace.clone();
            k.ports = c
                .get("ports")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(|p| {
                    let n = p.get("containerPort")?;
                    match n.value {
                        Value::Int(i) => Some(At::new(u16::try_from(i).ok()?, n.span)),
                        _ => None,
                    }
                })
                .collect();
            // Containers of a pod share the network namespace.
            k.hostnames = vec!["localhost".into(), "127.0.0.1".into()];
            k.group_members = members.clone();
            k.mounts = config_map_mounts(spec, c);
            k.labels = pod_labels(doc);
            k.set_limit_from_hard();
            out.push(k);
        }
    }
    problems.extend(own.into_iter().map(|p| (None, p)));
    problems.extend(pod_problems.into_iter().map(|p| (None, p)));
    (out, problems)
}

/// The prefix of a mount source that stands for a ConfigMap by name, until
/// the reader knows which file defines it (`configmap:NAME/KEY`).
pub const CONFIG_MAP_SOURCE: &str = "configmap:";

/// The ConfigMaps a container mounts: (`configmap:NAME[/KEY]`, path in the
/// container). A whole ConfigMap is a directory of its keys (or of the
/// `items` it lists, each at its `path`); `subPath` mounts one key as a file.
fn config_map_mounts(spec: &Node, c: &Node) -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    let volumes = spec.get("volumes").map(Node::as_seq).unwrap_or_default();
    for m in c.get("volumeMounts").map(Node::as_seq).unwrap_or_default() {
        let (Some(vol), Some(target)) = (
            m.get("name").and_then(Node::scalar_text),
            m.get("mountPath").and_then(Node::scalar_text),
        ) else {
            continue;
        };
        let Some(cm) = volumes
            .iter()
            .find(|v| v.get("name").and_then(Node::scalar_text).as_deref() == Some(&vol))
            .and_then(|v| v.get("configMap"))
        else {
            continue;
        };
        let Some(name) = cm.get("name").and_then(Node::scalar_text) else {
            continue;
        };
        let source = std::path::PathBuf::from(format!("{CONFIG_MAP_SOURCE}{name}"));
        // `items` rename keys: each key at its own path below the mount.
        let items: Vec<(String, String)> = cm
            .get("items")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(|i| Some((i.get("key")?.scalar_text()?, i.get("path")?.scalar_text()?)))
            .collect();
        let sub = m.get("subPath").and_then(Node::scalar_text);
        let at = |path: &str| -> Option<String> {
            match &sub {
                Some(s) => (s.as_str() == path).then(|| target.clone()),
                None => Some(format!("{}/{path}", target.trim_end_matches('/'))),
            }
        };
        if items.is_empty() {
            match &sub {
                Some(s) => out.push((source.join(s), target.clone())),
                None => out.push((source, target.clone())),
            }
        } else {
            for (key, path) in items {
                if let Some(t) = at(&path) {
                    out.push((source.join(key), t));
                }
            }
        }
    }
    out
}

/// One `data` entry of a ConfigMap: its name, the key, the key's node and
/// the value's.
pub struct ConfigMapEntry<'a> {
    pub config_map: String,
    pub key: &'a Node,
    pub value: &'a Node,
}

/// The `data` entries of every ConfigMap in the documents (`List`s too).
pub fn config_map_entries(docs: &[Node]) -> Vec<ConfigMapEntry<'_>> {
    let mut out = Vec::new();
    let all = docs.iter().flat_map(|d| {
        if d.get("kind").and_then(Node::as_str) == Some("List") {
            d.get("items")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .collect()
        } else {
            vec![d]
        }
    });
    for d in all {
        if d.get("kind").and_then(Node::as_str) != Some("ConfigMap") {
            continue;
        }
        let Some(name) = d.at(&["metadata", "name"]).and_then(Node::scalar_text) else {
            continue;
        };
        for (k, v) in d.get("data").map(Node::entries).unwrap_or_default() {
            out.push(ConfigMapEntry {
                config_map: name.clone(),
                key: k,
                value: v,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::yaml;
    use crate::units::{Bytes, MIB};

    #[test]
    fn reads_deployments_cronjobs_and_lists() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      terminationGracePeriodSeconds: 20\n      securityContext:\n        sysctls: [{name: net.core.somaxconn, value: \"512\"}]\n      containers:\n        - name: app\n          command: [uwsgi]\n          args: [--ini, /etc/uwsgi.ini]\n          env: [{name: UWSGI_PROCESSES, value: \"4\"}]\n          resources:\n            limits: {memory: 1Gi, cpu: 500m}\n            requests: {memory: 400m}\n          ports: [{containerPort: 3031}]\n      initContainers:\n        - name: migrate\n        - name: proxy\n          restartPolicy: Always\n---\napiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: job}]\n---\napiVersion: v1\nkind: Service\n";
        let docs = yaml::parse(text).unwrap();
        assert!(is_manifest(&docs[0]) && is_manifest(&docs[1]) && !is_manifest(&docs[2]));
        let (cs, problems) = containers(Path::new("k.yaml"), &docs);
        assert!(problems.is_empty(), "{problems:?}");
        let names: Vec<&str> = cs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["app", "proxy", "job"]);
        let app = &cs[0];
        assert_eq!(app.limit.as_ref().unwrap().bytes, Bytes(1024 * MIB));
        assert_eq!(app.cpus.as_ref().unwrap().value, 0.5);
        assert_eq!(app.somaxconn.as_ref().unwrap().value, 512);
        assert_eq!(app.grace_seconds(), 20);
        assert!(app.reservations[0].slip.is_some());
        assert_eq!(app.command.as_ref().unwrap()[1].value, "/etc/uwsgi.ini");
        assert_eq!(app.ports[0].value, 3031);
        assert_eq!(cs[2].grace_seconds(), 30);
    }

    #[test]
    fn helm_templates_are_recognised() {
        assert!(is_helm_template(
            "apiVersion: v1\nmetadata:\n  name: {{ .Release.Name }}\n"
        ));
        assert!(!is_helm_template("apiVersion: v1\n"));
    }
}
