//! Docker Compose files: services with their limits, commands, ports and
//! mounts, and the Traefik labels that put a front before them.

use std::path::{Path, PathBuf};

use std::collections::HashMap;

use super::{Candidate, ReadContext, Reader, is_yaml, yaml_parsed};
use crate::container::compose;
use crate::container::front::Front;
use crate::container::yaml::Node;
use crate::container::{At, Container};

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
        // Parsed and read in parallel; a file whose services extend those
        // of another file keeps its document for the reading of that file
        // below. Only what is kept leaves the thread.
        let parsed = cx.read_parsed(files, |f, text| {
            crate::container::yaml::parse(text).map(|docs| Found::of(f, docs))
        });
        for super::Parsed {
            path: f,
            id,
            text,
            value,
        } in parsed
        {
            let Some(found) = yaml_parsed(cx, id, &text, value) else {
                continue;
            };
            let (cs, fronts, problems) = match found {
                Found::Other => continue,
                Found::Read(cs, fronts, problems) => (cs, fronts, problems),
                Found::Extends(doc) => {
                    let (cs, problems) = with_extends(cx, f, &doc);
                    (cs, crate::container::traefik::fronts(f, &doc), problems)
                }
            };
            cx.project.containers.extend(cs);
            // Traefik labels: fronts of the services that carry them.
            cx.project.fronts.extend(fronts);
            for p in problems {
                cx.problem("UW001", id, p.span, p.value);
            }
        }
    }
}

/// What one Compose file holds.
enum Found {
    /// Not a Compose file.
    Other,
    /// Its containers, the fronts its labels make, and what was wrong.
    Read(Vec<Container>, Vec<Front>, Vec<At<String>>),
    /// Its document, whose services extend those of other files.
    Extends(Node),
}

impl Found {
    fn of(f: &Path, docs: Vec<Node>) -> Found {
        let Some(doc) = docs.into_iter().next() else {
            return Found::Other;
        };
        if !(compose::is_compose(&doc) || compose::is_compose_v1(&doc)) {
            return Found::Other;
        }
        if extended_files(&doc).next().is_some() {
            return Found::Extends(doc);
        }
        let (cs, problems) = compose::containers_with(f, &doc, &|_, _| None);
        let fronts = crate::container::traefik::fronts(f, &doc);
        Found::Read(cs, fronts, problems)
    }
}

/// The files `extends: {file, service}` names.
fn extended_files(doc: &Node) -> impl Iterator<Item = &str> {
    doc.get("services")
        .unwrap_or(doc)
        .entries()
        .iter()
        .filter_map(|(_, svc)| svc.at(&["extends", "file"]).and_then(Node::as_str))
}

/// The containers of `doc` (the Compose file `f`), with the services it
/// extends from other files, each read once.
fn with_extends(cx: &mut ReadContext, f: &Path, doc: &Node) -> (Vec<Container>, Vec<At<String>>) {
    let dir = f.parent().unwrap_or(Path::new(""));
    let mut others: HashMap<String, Option<Node>> = HashMap::new();
    for file in extended_files(doc) {
        if others.contains_key(file) {
            continue;
        }
        let path = dir.join(file);
        // (Only inside the project: a change must not make the check read
        // other files of the machine.)
        let other = cx
            .inside(&path)
            .then(|| cx.read(&path))
            .flatten()
            .and_then(|(_, t)| crate::container::yaml::parse(&t).ok())
            .and_then(|d| d.into_iter().next());
        others.insert(file.to_string(), other);
    }
    let external = |file: &str, name: &str| compose::service(others.get(file)?.as_ref()?, name);
    compose::containers_with(f, doc, &external)
}

/// The names Compose looks for by itself, and their variants
/// (`docker-compose.prod.yml`, `compose.override.yaml`).
fn compose_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("docker-compose") || n.starts_with("compose")
}
