//! The shape of the code, checked: top-level modules never import in a
//! loop, and the pipeline stages only look downstream (discover → read →
//! resolve → link → check → report).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

mod common;

/// Top-level module → the top-level modules its files name as `crate::x`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = common::manifest_dir().join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "main" || top == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let deps = graph.entry(top.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && name != top {
                deps.insert(name);
            }
        }
    }
    graph
}

#[test]
fn no_module_imports_in_a_loop() {
    let graph = imports();
    assert!(graph.len() > 10, "modules found: {graph:?}");
    // Depth-first search for a back edge, reporting the loop.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut cycle = path[i..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            if graph.contains_key(d)
                && let Some(c) = visit(d, graph, path, done)
            {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("import loop: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn stages_only_look_downstream() {
    let graph = imports();
    // Each stage and what it must never import (a later stage or a front end).
    let rules: &[(&str, &[&str])] = &[
        (
            "input",
            &[
                "discover", "readers", "lint", "rules", "output", "cli", "lsp",
            ],
        ),
        (
            "discover",
            &["lint", "rules", "deployment", "output", "cli", "lsp"],
        ),
        (
            "readers",
            &["lint", "rules", "advise", "output", "cli", "lsp"],
        ),
        (
            "uwsgi",
            &[
                "readers",
                "deployment",
                "lint",
                "rules",
                "output",
                "cli",
                "lsp",
            ],
        ),
        (
            "deployment",
            &[
                "lint", "rules", "advise", "settings", "output", "cli", "lsp",
            ],
        ),
        (
            "model",
            &["lint", "rules", "advise", "output", "cli", "lsp"],
        ),
        (
            "rules",
            &["lint", "readers", "discover", "output", "cli", "lsp"],
        ),
        ("output", &["lint", "cli", "lsp"]),
        // The incremental session is the library's; the LSP front end uses it.
        ("lint", &["session", "cli", "lsp"]),
        ("session", &["cli", "lsp"]),
    ];
    let mut wrong = Vec::new();
    for (stage, never) in rules {
        let deps = graph
            .get(*stage)
            .unwrap_or_else(|| panic!("no module {stage}"));
        for n in *never {
            if deps.contains(*n) {
                wrong.push(format!("{stage} imports {n}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
}

#[test]
fn every_reader_is_registered_under_its_file_name_and_listed_in_the_readme() {
    let dir = common::manifest_dir().join("src/readers");
    let readme = std::fs::read_to_string(common::manifest_dir().join("README.md")).unwrap();
    let layout = &readme[readme.find("## Layout").expect("a Layout section")..];
    // Each file that implements `Reader` is one reader (support modules
    // shared by several readers implement none).
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("impl Reader for")))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs")
                .filter(|s| *s != "mod")
                .map(str::to_string)
        })
        .collect();
    files.sort();
    let mut registered: Vec<String> = uwsgi_lint::readers::READERS
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    registered.sort();
    assert_eq!(
        files, registered,
        "one reader per file in src/readers/, named after it"
    );
    for f in &files {
        assert!(
            layout.contains(&format!("`{f}.rs`")),
            "README Layout does not list `{f}.rs`"
        );
    }
}
