//! AWS ECS task definitions (JSON, as registered or as `aws ecs
//! describe-task-definition` prints them under `taskDefinition`), with the
//! span of every value taken from them (containers-and-nginx.md §3.3).

use jsonc_parser::ast::{Object, Value};
use jsonc_parser::{CollectOptions, ParseOptions, parse_to_ast};

use crate::container::quantity;
use crate::source::Span;
use crate::units::Bytes;

pub use super::At;
use super::{Container, Limit, MemoryValue, Orchestrator, Place};
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EcsContainer {
    pub name: String,
    pub span: Span,
    pub image: Option<String>,
    /// Hard limit (`memory`, MiB).
    pub memory: Option<At<Bytes>>,
    /// Soft limit (`memoryReservation`, MiB).
    pub memory_reservation: Option<At<Bytes>>,
    pub command: Vec<At<String>>,
    pub entry_point: Vec<At<String>>,
    pub environment: Vec<(At<String>, At<String>)>,
    /// Seconds between SIGTERM and SIGKILL (`stopTimeout`, default 30).
    pub stop_timeout: Option<At<u64>>,
    pub container_ports: Vec<At<u16>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EcsTask {
    pub family: Option<String>,
    /// Task-level hard limit (`memory`: MiB, or `"1GB"`).
    pub memory: Option<At<Bytes>>,
    pub containers: Vec<EcsContainer>,
    /// Values present but unreadable, with why.
    pub problems: Vec<At<String>>,
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub span: Span,
    pub message: String,
}

fn span(r: jsonc_parser::common::Range) -> Span {
    Span::new(r.start, r.end)
}

/// Is this JSON text an ECS task definition (a `containerDefinitions` array,
/// at the top or under `taskDefinition`)? Cheap textual pre-check first.
pub fn looks_like_task_definition(text: &str) -> bool {
    // One that does not parse (truncated, say) is taken too, so that it is
    // reported (UW001) rather than skipped.
    text.contains("\"containerDefinitions\"") && !matches!(parse(text), Ok(None))
}

fn number(v: &Value) -> Option<(f64, Span)> {
    match v {
        Value::NumberLit(n) => n.value.parse().ok().map(|x| (x, span(n.range))),
        Value::StringLit(s) => s.value.trim().parse().ok().map(|x| (x, span(s.range))),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<At<String>> {
    match v {
        Some(Value::Array(a)) => a
            .elements
            .iter()
            .filter_map(|e| match e {
                Value::StringLit(s) => Some(At {
                    value: s.value.to_string(),
                    span: span(s.range),
                }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn prop<'a, 'b>(o: &'b Object<'a>, name: &str) -> Option<&'b Value<'a>> {
    o.get(name).map(|p| &p.value)
}

/// Parse a task definition; `Ok(None)` when the JSON is something else.
pub fn parse(text: &str) -> Result<Option<EcsTask>, JsonError> {
    let ast =
        parse_to_ast(text, &CollectOptions::default(), &ParseOptions::default()).map_err(|e| {
            JsonError {
                span: span(e.range()),
                message: e.kind().to_string(),
            }
        })?;
    let Some(Value::Object(top)) = ast.value else {
        return Ok(None);
    };
    let root = match prop(&top, "taskDefinition") {
        Some(Value::Object(inner)) => inner,
        _ => &top,
    };
    let Some(Value::Array(defs)) = prop(root, "containerDefinitions") else {
        return Ok(None);
    };
    let mut task = EcsTask {
        family: root.get_string("family").map(|s| s.value.to_string()),
        ..EcsTask::default()
    };
    if let Some(v) = prop(root, "memory") {
        let (text, at) = match v {
            Value::StringLit(s) => (s.value.to_string(), span(s.range)),
            Value::NumberLit(n) => (n.value.to_string(), span(n.range)),
            _ => (String::new(), Span::default()),
        };
        match quantity::ecs_task_memory(&text) {
            Ok(b) => task.memory = Some(At { value: b, span: at }),
            Err(e) => task.problems.push(At {
                value: e.0,
                span: at,
            }),
        }
    }
    for def in &defs.elements {
        let Value::Object(c) = def else { continue };
        let mut container = EcsContainer {
            name: c
                .get_string("name")
                .map(|s| s.value.to_string())
                .unwrap_or_default(),
            span: span(c.range),
            image: c.get_string("image").map(|s| s.value.to_string()),
            command: strings(prop(c, "command")),
            entry_point: strings(prop(c, "entryPoint")),
            ..EcsContainer::default()
        };
        for (key, slot) in [("memory", 0), ("memoryReservation", 1)] {
            let Some(v) = prop(c, key) else { continue };
            match number(v) {
                Some((n, at)) if n.fract() == 0.0 => match quantity::ecs_container_mib(n as i64) {
                    Ok(b) => {
                        let at = At { value: b, span: at };
                        if slot == 0 {
                            container.memory = Some(at);
                        } else {
                            container.memory_reservation = Some(at);
                        }
                    }
                    Err(e) => task.problems.push(At {
                        value: e.0,
                        span: at,
                    }),
                },
                _ => task.problems.push(At {
                    value: format!("`{key}` must be a whole number of MiB"),
                    span: container.span,
                }),
            }
        }
        if let Some(v) = prop(c, "stopTimeout")
            && let Some((n, at)) = number(v)
        {
            container.stop_timeout = Some(At {
                value: n.max(0.0) as u64,
                span: at,
            });
        }
        if let Some(Value::Array(env)) = prop(c, "environment") {
            for e in &env.elements {
                if let Value::Object(kv) = e
                    && let (Some(k), Some(v)) = (kv.get_string("name"), kv.get_string("value"))
                {
                    container.environment.push((
                        At {
                            value: k.value.to_string(),
                            span: span(k.range),
                        },
                        At {
                            value: v.value.to_string(),
                            span: span(v.range),
                        },
                    ));
                }
            }
        }
        if let Some(Value::Array(ports)) = prop(c, "portMappings") {
            for p in &ports.elements {
                if let Value::Object(pm) = p
                    && let Some(v) = prop(pm, "containerPort")
                    && let Some((n, at)) = number(v)
                    && (0.0..=65535.0).contains(&n)
                {
                    container.container_ports.push(At {
                        value: n as u16,
                        span: at,
                    });
                }
            }
        }
        task.containers.push(container);
    }
    Ok(Some(task))
}

fn mib_value(key: &str, at: &At<Bytes>) -> MemoryValue {
    let mib = at.value.0 / crate::units::MIB;
    MemoryValue {
        file: None,
        bytes: at.value,
        raw: mib.to_string(),
        key: key.to_string(),
        span: at.span,
        // Docker refuses less than 6 MiB (facts §3.3).
        slip: (at.value.0 < 6 * crate::units::MIB)
            .then(|| format!("{mib} MiB is below the 6 MiB Docker accepts: is the unit MiB?")),
    }
}

/// The hard limit of `c` inside `task` (facts §3.3): the container's own
/// `memory`, and the task's `memory` less what the other containers hold.
fn limit(file: &Path, task: &EcsTask, c: &EcsContainer) -> Option<Limit> {
    let place = |span, message: String| Place {
        file: file.to_path_buf(),
        span,
        message,
    };
    let own = c.memory.as_ref().map(|m| Limit {
        bytes: m.value,
        explanation: format!("container `{}` memory {}", c.name, m.value),
        places: vec![place(m.span, format!("hard memory limit {}", m.value))],
    });
    let shared = task.memory.as_ref().map(|tm| {
        let mut explanation = format!("{} task memory", tm.value);
        let mut places = vec![place(tm.span, format!("task memory {}", tm.value))];
        let mut held = 0u64;
        for o in task.containers.iter().filter(|o| o.name != c.name) {
            if let Some(m) = o.memory.as_ref().or(o.memory_reservation.as_ref()) {
                held += m.value.0;
                explanation.push_str(&format!(" − {} held by `{}`", m.value, o.name));
                places.push(place(m.span, format!("`{}` holds {}", o.name, m.value)));
            }
        }
        let bytes = Bytes(tm.value.0.saturating_sub(held));
        if held > 0 {
            explanation.push_str(&format!(" = {bytes}"));
        }
        Limit {
            bytes,
            explanation,
            places,
        }
    });
    match (own, shared) {
        (Some(a), Some(b)) => Some(if a.bytes <= b.bytes { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// The task's containers in the common shape.
pub fn containers(file: &Path, task: &EcsTask) -> Vec<Container> {
    let members: std::sync::Arc<[String]> =
        task.containers.iter().map(|c| c.name.clone()).collect();
    task.containers
        .iter()
        .map(|c| {
            let mut out = Container::new(
                Orchestrator::Ecs,
                file.to_path_buf(),
                c.name.clone(),
                c.span,
            );
            out.group = task.family.clone();
            out.image = c.image.clone().map(|i| At::new(i, c.span));
            out.entrypoint = (!c.entry_point.is_empty()).then(|| c.entry_point.clone());
            out.command = (!c.command.is_empty()).then(|| c.command.clone());
            out.env = c.environment.clone();
            out.hard
                .extend(c.memory.as_ref().map(|m| mib_value("memory", m)));
            if let Some(tm) = &task.memory {
                out.hard.push(MemoryValue {
                    file: None,
                    key: "task memory".into(),
                    ..mib_value("memory", tm)
                });
            }
            out.reservations.extend(
                c.memory_reservation
                    .as_ref()
                    .map(|m| mib_value("memoryReservation", m)),
            );
            out.limit = limit(file, task, c);
            out.stop_grace = c.stop_timeout.clone();
            out.ports = c.container_ports.clone();
            // Containers of a task share the network namespace.
            out.hostnames = vec!["localhost".into(), "127.0.0.1".into()];
            out.group_members = members.clone();
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_task_definition() {
        let text = include_str!("../../examples/django-ecs/ecs/task-definition.json");
        let task = parse(text).unwrap().unwrap();
        assert_eq!(task.family.as_deref(), Some("shop-web"));
        let mem = task.memory.as_ref().unwrap();
        assert_eq!(mem.value, Bytes::from_mib(1024));
        assert_eq!(&text[mem.span.range()], "\"1024\"");
        let web = &task.containers[0];
        assert_eq!(web.name, "web");
        assert_eq!(
            web.command
                .iter()
                .map(|c| c.value.as_str())
                .collect::<Vec<_>>(),
            vec!["uwsgi", "--ini", "/app/deploy/uwsgi.ini"]
        );
        assert_eq!(web.stop_timeout.as_ref().unwrap().value, 30);
        assert_eq!(web.environment[0].0.value, "DJANGO_SETTINGS_MODULE");
        let nginx = &task.containers[1];
        assert_eq!(
            nginx.memory_reservation.as_ref().unwrap().value,
            Bytes::from_mib(64)
        );
        assert!(nginx.memory.is_none());
        assert_eq!(nginx.container_ports[0].value, 8080);
        assert!(looks_like_task_definition(text));
    }

    #[test]
    fn describe_output_gb_strings_and_errors() {
        let text = r#"{"taskDefinition": {"memory": "2 GB", "containerDefinitions": [{"name": "app", "memory": 512}]}}"#;
        let task = parse(text).unwrap().unwrap();
        assert_eq!(task.memory.unwrap().value, Bytes::from_mib(2048));
        assert_eq!(
            task.containers[0].memory.as_ref().unwrap().value,
            Bytes::from_mib(512)
        );
        assert_eq!(parse(r#"{"name": "x"}"#), Ok(None));
        let bad = parse(r#"{"memory": "lots", "containerDefinitions": [{"memory": 1.5}]}"#)
            .unwrap()
            .unwrap();
        assert_eq!(bad.problems.len(), 2);
        let err = parse("{\"containerDefinitions\": [").unwrap_err();
        assert!(err.span.start > 0);
        assert!(!looks_like_task_definition("{\"a\": 1}"));
    }
}
