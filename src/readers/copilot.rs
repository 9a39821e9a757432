//! AWS Copilot service manifests (`copilot/<service>/manifest.yml`): an
//! ECS task on Fargate whose `memory` (MiB) and `cpu` are the task's, with
//! the main container's `command`/`entrypoint` (a string or a list),
//! `variables`, `image.port` and `image.build` (the Dockerfile, relative to
//! the workspace: the directory holding `copilot/`), and `sidecars` sharing
//! the task. `exec: true` turns on ECS Exec; it is not a command.
//! Of `environments:` overrides, only `memory` is read (the smallest). A
//! Request-Driven Web Service (App Runner) or Static Site is no ECS task.
//! The `http` section puts the service behind the environment's ALB (a
//! front, `container::front`).

use std::path::{Path, PathBuf};

use super::{Candidate, ReadContext, Reader};
use crate::container::ecs::{EcsContainer, EcsTask};
use crate::container::yaml::{Node, Value};
use crate::container::{At, ecs, quantity};

pub struct Manifests;

impl Reader for Manifests {
    fn name(&self) -> &'static str {
        "copilot"
    }

    fn claims(&self, file: &Candidate) -> bool {
        is_yaml_name(file.name) && service_dir(file.path).is_some()
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        for f in files {
            let Some((id, text)) = cx.read(f) else {
                continue;
            };
            let Some(docs) = super::yaml_documents(cx, id, &text) else {
                continue;
            };
            let Some(doc) = docs.first().filter(|d| d.is_map()) else {
                continue;
            };
            // App Runner and static sites are not ECS tasks.
            if matches!(
                doc.get("type").and_then(Node::as_str),
                Some("Request-Driven Web Service" | "Static Site")
            ) {
                continue;
            }
            let workspace = service_dir(f)
                .and_then(|d| d.parent()?.parent().map(Path::to_path_buf))
                .unwrap_or_default();
            let name = doc
                .get("name")
                .and_then(Node::as_str)
                .map(str::to_string)
                .or_else(|| {
                    service_dir(f)?
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                })
                .unwrap_or_default();
            let mut task = EcsTask {
                family: Some(name.clone()),
                ..EcsTask::default()
            };
            // An environment may override `memory`: the smallest is the
            // limit of at least one environment (the base one applies to
            // environments that do not override it).
            let memory = std::iter::once((None, doc.get("memory")))
                .chain(
                    doc.get("environments")
                        .map_or(&[][..], Node::entries)
                        .iter()
                        .map(|(name, env)| (name.as_str(), env.get("memory"))),
                )
                .filter_map(|(env, m)| Some((env, m?)))
                .min_by_key(|(_, m)| {
                    m.scalar_text()
                        .and_then(|t| quantity::ecs_task_memory(&t).ok())
                        .map_or(u64::MAX, |b| b.0)
                });
            // Which environment the limit is that of, where not the base.
            let memory_env = memory.and_then(|(env, _)| env).map(str::to_string);
            let memory = memory.map(|(_, m)| m);
            if let Some(m) = memory {
                match m.scalar_text().map(|t| quantity::ecs_task_memory(&t)) {
                    Some(Ok(b)) => task.memory = Some(At::new(b, m.span)),
                    Some(Err(e)) => task.problems.push(At::new(e.0, m.span)),
                    None => task
                        .problems
                        .push(At::new("`memory` must be a number of MiB".into(), m.span)),
                }
            }
            let mut main = container(&name, doc, doc.get("image"));
            main.span = doc.get("name").map_or(doc.span, |n| n.span);
            task.containers.push(main);
            for (k, v) in doc.get("sidecars").map_or(&[][..], Node::entries) {
                let Some(sidecar) = k.as_str() else { continue };
                let mut c = container(sidecar, v, Some(v));
                c.span = k.span;
                c.image = v.get("image").and_then(Node::as_str).map(str::to_string);
                task.containers.push(c);
            }
            for p in &task.problems {
                cx.problem(
                    "UW001",
                    id,
                    p.span,
                    format!("Copilot manifest: {}", p.value),
                );
            }
            let mut containers = ecs::containers(f, &task);
            if let Some(main) = containers.first_mut() {
                if let (Some(env), Some(limit)) = (&memory_env, main.limit.as_mut()) {
                    limit.explanation.push_str(&format!(
                        " (of the environment `{env}`, the smallest of the manifest)"
                    ));
                }
                main.dockerfile = dockerfile(doc, &workspace);
                main.image = doc
                    .at(&["image", "location"])
                    .and_then(|l| Some(At::new(l.as_str()?.to_string(), l.span)));
            }
            cx.project.containers.extend(containers);
            cx.project.fronts.extend(front(f, doc, &name));
        }
    }
}

/// The ALB a Load Balanced Web Service (or a Backend Service with `http`)
/// sits behind: `http.target_container` (default the main container) on
/// `http.target_port` (default `image.port`). The environment's load
/// balancer is not in the manifest, so its idle timeout is the AWS
/// default, 60 s.
fn front(f: &Path, doc: &Node, name: &str) -> Option<crate::container::front::Front> {
    use crate::container::Place;
    use crate::container::front::{Front, FrontKind, Setting, Target};
    if !matches!(
        doc.get("type").and_then(Node::as_str),
        Some("Load Balanced Web Service" | "Backend Service")
    ) {
        return None;
    }
    let http = doc.get("http").filter(|h| h.is_map())?;
    let place = |n: &Node, message: String| Place {
        file: f.to_path_buf(),
        span: n.span,
        message,
    };
    let container = http
        .get("target_container")
        .and_then(Node::scalar_text)
        .unwrap_or_else(|| name.to_string());
    let port = http
        .get("target_port")
        .or_else(|| doc.at(&["image", "port"]))
        .and_then(|p| p.scalar_text()?.parse::<u16>().ok());
    let dereg = http.get("deregistration_delay").and_then(|d| {
        let text = d.scalar_text()?;
        let secs = crate::container::front::go_duration_seconds(&text)?;
        Some(Setting::written(
            secs,
            format!("`deregistration_delay: {text}`"),
            place(d, format!("deregistration delay {secs} s")),
        ))
    });
    Some(Front {
        kind: FrontKind::Alb,
        who: format!("the ALB of Copilot service `{name}`"),
        place: place(
            http,
            "`http`: behind the environment's load balancer".into(),
        ),
        timeout: Some(Setting::default(
            60,
            "the idle timeout (default 60 s)".into(),
        )),
        body_limit: None,
        protocol: "HTTP".into(),
        protocol_place: None,
        deregistration_delay: dereg,
        target: Target::Ecs {
            container: container.clone(),
            port,
            tasks: vec![name.to_string()],
            within: Some(f.to_path_buf()),
        },
        target_place: place(
            http,
            format!(
                "routes to container `{container}`{}",
                port.map(|p| format!(" port {p}")).unwrap_or_default()
            ),
        ),
        via: "the manifest's `http` section".into(),
    })
}

fn is_yaml_name(name: &str) -> bool {
    matches!(name, "manifest.yml" | "manifest.yaml")
}

/// `…/copilot/<service>` of a manifest, when it is one.
fn service_dir(path: &Path) -> Option<&Path> {
    let dir = path.parent()?;
    (dir.parent()?.file_name()? == "copilot").then_some(dir)
}

/// A container of the manifest: `command`, `entrypoint`, `variables` and
/// `port` from `fields`, the port also from `image`.
fn container(name: &str, fields: &Node, image: Option<&Node>) -> EcsContainer {
    let mut c = EcsContainer {
        name: name.to_string(),
        command: words(fields.get("command")),
        entry_point: words(fields.get("entrypoint")),
        ..EcsContainer::default()
    };
    for (k, v) in fields.get("variables").map_or(&[][..], Node::entries) {
        if let (Some(k), Some(v)) = (k.as_str(), v.scalar_text()) {
            c.environment.push((
                At::new(k.to_string(), k_span(fields, k)),
                At::new(v, v_span(fields, k)),
            ));
        }
    }
    if let Some(p) = image.and_then(|i| i.get("port"))
        && let Some(n) = p.scalar_text().and_then(|t| t.parse::<u16>().ok())
    {
        c.container_ports.push(At::new(n, p.span));
    }
    c
}

fn k_span(fields: &Node, key: &str) -> crate::source::Span {
    fields
        .get("variables")
        .and_then(|v| v.entries().iter().find(|(k, _)| k.as_str() == Some(key)))
        .map_or(fields.span, |(k, _)| k.span)
}

fn v_span(fields: &Node, key: &str) -> crate::source::Span {
    fields
        .at(&["variables", key])
        .map_or(fields.span, |v| v.span)
}

/// A list of words, or a string split as a shell would.
fn words(n: Option<&Node>) -> Vec<At<String>> {
    match n.map(|n| (&n.value, n)) {
        Some((Value::Seq(items), _)) => items
            .iter()
            .filter_map(|i| Some(At::new(i.scalar_text()?, i.span)))
            .collect(),
        Some((_, n)) => n
            .scalar_text()
            .map(|s| crate::container::shell_form(&At::new(s, n.span)))
            .unwrap_or_default(),
        None => Vec::new(),
    }
}

/// The Dockerfile `image.build` names: a path, or `dockerfile`/`context`.
fn dockerfile(doc: &Node, workspace: &Path) -> Option<PathBuf> {
    let build = doc.at(&["image", "build"])?;
    let rel = match &build.value {
        Value::Str(s) => PathBuf::from(s),
        Value::Map(_) => match (
            build.get("dockerfile").and_then(Node::as_str),
            build.get("context").and_then(Node::as_str),
        ) {
            (Some(d), _) => PathBuf::from(d),
            (None, Some(ctx)) => Path::new(ctx).join("Dockerfile"),
            (None, None) => return None,
        },
        _ => return None,
    };
    Some(crate::input::normalize_lexically(&workspace.join(rel)))
}
