//! Docker Compose files: services with their limits, commands, ports and
//! mounts, and the Traefik labels that put a front before them.

use std::path::PathBuf;

use std::collections::HashMap;

use super::{Candidate, ReadContext, Reader, is_yaml, yaml_parsed};
use crate::container::compose;
use crate::container::yaml::Node;

pub struct ComposeFiles;

impl Reader for ComposeFiles {
    fn name(&self) -> &'static str {
        "compose"
    }

    fn claims(&self, file: &Candidate) -> bool {
        if !is_yaml(file) {
            return false;
        }
        if file.unreadable() {
            // Said why it is not read, as a Compose file by its name.
            return file.name.contains("compose");
        }
        // `services:` is a top-level key: at the start of a line. A file
        // named as Compose's own may be format v1 (services at the top).
        file.str().lines().any(|l| l.trim_end() == "services:") || compose_name(file.name)
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        let parsed = cx.read_parsed(files, |_, text| crate::container::yaml::parse(text));
        for super::Parsed {
            path: f,
            id,
            text,
            value,
        } in parsed
        {
            let Some(docs) = yaml_parsed(cx, id, &text, value) else {
                continue;
            };
            if docs
                .first()
                .is_some_and(|d| compose::is_compose(d) || compose::is_compose_v1(d))
            {
                // Other files `extends: {file, service}` names, each read once.
                let dir = f.parent().unwrap_or(std::path::Path::new(""));
                let mut others: HashMap<String, Option<Node>> = HashMap::new();
                for (_, svc) in docs[0].get("services").unwrap_or(&docs[0]).entries() {
                    let Some(file) = svc.at(&["extends", "file"]).and_then(Node::as_str) else {
                        continue;
                    };
                    if others.contains_key(file) {
                        continue;
                    }
                    let path = dir.join(file);
                    // (Only inside the project: a change must not make the
                    // check read other files of the machine.)
                    let doc = cx
                        .inside(&path)
                        .then(|| cx.read(&path))
                        .flatten()
                        .and_then(|(_, t)| crate::container::yaml::parse(&t).ok())
                        .and_then(|d| d.into_iter().next());
                    others.insert(file.to_string(), doc);
                }
                let external =
                    |file: &str, name: &str| compose::service(others.get(file)?.as_ref()?, name);
                let (cs, problems) = compose::containers_with(f, &docs[0], &external);
                cx.project.containers.extend(cs);
                // Traefik labels: fronts of the services that carry them.
                cx.project
                    .fronts
                    .extend(crate::container::traefik::fronts(f, &docs[0]));
                for p in problems {
                    cx.problem("UW001", id, p.span, p.value);
                }
            }
        }
    }
}

/// The names Compose looks for by itself, and their variants
/// (`docker-compose.prod.yml`, `compose.override.yaml`).
fn compose_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("docker-compose") || n.starts_with("compose")
}
