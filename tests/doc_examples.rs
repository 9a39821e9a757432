//! Every output example in the documentation is produced by this test, so
//! the docs cannot drift from what the tool prints.
//!
//! An example is a fenced block right after a marker comment:
//!
//! ```text
//! <!-- output: check --select UW103 examples/django-ecs -->
//! <!-- output 12: check examples/django-ecs -->   (the first 12 lines, then `…`)
//! ```
//!
//! The block holds `$ uwsgi-lint ARGS` and what it prints, run from the
//! repository root. `UPDATE_DOCS=1 cargo test --test doc_examples` rewrites
//! the blocks.

mod common;

use std::path::PathBuf;

/// The documents that may hold examples.
fn documents() -> Vec<PathBuf> {
    let root = common::manifest_dir();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    docs.push(root.join("README.md"));
    docs
}

/// Split a command line on blanks, keeping "double-quoted" words whole.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// What the block after a marker must hold.
fn produce(marker: &str) -> String {
    let (head, args) = marker.split_once(':').expect("`output[ N]: ARGS`");
    let limit: Option<usize> = head
        .trim()
        .strip_prefix("output")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.parse().expect("a line count"));
    let args = args.trim();
    let argv = words(args);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let (code, out, err) = common::uwsgi_lint(&common::manifest_dir(), &argv);
    assert!(
        matches!(code, Some(0) | Some(1)),
        "`uwsgi-lint {args}` failed: {err}"
    );
    let mut block = format!("$ uwsgi-lint {args}\n");
    match limit {
        Some(n) if out.lines().count() > n => {
            for l in out.lines().take(n) {
                block.push_str(l);
                block.push('\n');
            }
            block.push_str("…\n");
        }
        _ => block.push_str(&out),
    }
    block
}

#[test]
fn output_examples_in_the_docs_are_current() {
    let update = std::env::var("UPDATE_DOCS").is_ok();
    let mut stale = Vec::new();
    let mut examples = 0;
    for path in documents() {
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut i = 0;
        while i < lines.len() {
            out.push_str(lines[i]);
            let marker = lines[i]
                .trim()
                .strip_prefix("<!-- ")
                .and_then(|m| m.strip_suffix(" -->"))
                .filter(|m| m.starts_with("output"));
            let Some(marker) = marker else {
                i += 1;
                continue;
            };
            examples += 1;
            let name = format!("{}:{}", path.display(), i + 1);
            assert!(
                lines.get(i + 1).is_some_and(|l| l.starts_with("```")),
                "{name}: an output marker must be followed by a fenced block"
            );
            out.push_str(lines[i + 1]);
            let end = (i + 2..lines.len())
                .find(|&j| lines[j].trim_end() == "```")
                .unwrap_or_else(|| panic!("{name}: the block is never closed"));
            let actual: String = lines[i + 2..end].concat();
            let expected = produce(marker);
            if actual != expected {
                stale.push(format!(
                    "{name}\n--- in the document\n{actual}--- printed\n{expected}"
                ));
            }
            out.push_str(&expected);
            out.push_str(lines[end]);
            i = end + 1;
        }
        if update && out != text {
            std::fs::write(&path, out).unwrap();
        }
    }
    assert!(examples >= 4, "only {examples} output examples found");
    assert!(
        update || stale.is_empty(),
        "output examples out of date (UPDATE_DOCS=1 cargo test --test doc_examples):\n{}",
        stale.join("\n")
    );
}
