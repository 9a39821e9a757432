//! Checking one file (the per-file pre-commit hook, an editor) reports for
//! that file exactly what a check of the whole repository reports for it,
//! cross-file findings included: on a generated monorepo of every shape of
//! deployment, and on each multi-file fixture project (copied into a
//! repository of its own, since a file's context is its repository).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use uwsgi_lint::lint::Report;
use uwsgi_lint::settings::Overrides;

mod common;

/// A finding as the user sees it, independent of file ids.
type Finding = (
    PathBuf,
    &'static str,
    String,
    (usize, usize),
    String,
    Option<String>,
    Vec<(PathBuf, (usize, usize), String)>,
);

fn lint(path: &Path) -> Report {
    let overrides = Overrides {
        no_config: true,
        ..Overrides::default()
    };
    uwsgi_lint::lint::lint(&[path.to_path_buf()], &overrides).expect("check runs")
}

fn path_of(r: &Report, id: uwsgi_lint::source::FileId) -> PathBuf {
    let p = r.sources.get(id).path.clone().unwrap_or_default();
    std::fs::canonicalize(&p).unwrap_or(p)
}

/// The findings of `r` in `file` (canonical).
fn findings_in(r: &Report, file: &Path) -> BTreeSet<Finding> {
    r.diagnostics
        .iter()
        .filter(|d| path_of(r, d.file) == file)
        .map(|d| {
            (
                path_of(r, d.file),
                d.code,
                format!("{:?}", d.severity),
                (d.span.start, d.span.end),
                d.message.clone(),
                d.help.clone(),
                d.related
                    .iter()
                    .map(|x| {
                        (
                            path_of(r, x.file),
                            (x.span.start, x.span.end),
                            x.message.clone(),
                        )
                    })
                    .collect(),
            )
        })
        .collect()
}

/// Every uWSGI config a check of `root` reads, each checked alone: its
/// findings equal those the whole check reports in it. Returns how many
/// configs and findings were compared.
fn compare(root: &Path) -> (usize, usize) {
    let whole = lint(root);
    let mut configs: BTreeSet<PathBuf> = BTreeSet::new();
    for d in &whole.diagnostics {
        let p = path_of(&whole, d.file);
        // (A config embedded in a manifest is checked through the manifest.)
        if p.extension().is_some_and(|e| e == "ini") && p.is_file() {
            configs.insert(p);
        }
    }
    let mut compared = 0;
    for c in &configs {
        let alone = lint(c);
        let (a, b) = (findings_in(&whole, c), findings_in(&alone, c));
        assert_eq!(
            a,
            b,
            "{}: the whole check (left) and the check of the file alone (right) differ",
            c.display()
        );
        compared += a.len();
    }
    (configs.len(), compared)
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-one-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn one_config_of_a_generated_monorepo_gets_the_whole_check_findings() {
    let dir = temp("mono");
    let status = Command::new("python3")
        .arg(common::manifest_dir().join("scripts/gen-monorepo"))
        .arg("36")
        .arg(&dir)
        .status()
        .expect("python3 runs scripts/gen-monorepo");
    assert!(status.success());
    let dir = std::fs::canonicalize(&dir).unwrap();
    let (configs, findings) = compare(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    // Every deployment's config, with findings, cross-file ones included.
    assert!(configs >= 30, "only {configs} configs had findings");
    assert!(findings >= configs, "{findings} findings compared");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &t);
        } else if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

#[test]
fn one_config_of_each_fixture_project_gets_the_whole_check_findings() {
    let fixtures = common::manifest_dir().join("tests/fixtures");
    let mut projects = Vec::new();
    for group in ["linking", "k8s", "aws", "launch"] {
        let Ok(entries) = std::fs::read_dir(fixtures.join(group)) else {
            continue;
        };
        for e in entries.flatten().filter(|e| e.path().is_dir()) {
            projects.push(e.path());
        }
    }
    projects.sort();
    assert!(projects.len() >= 10, "{projects:?}");
    let (mut configs, mut findings) = (0, 0);
    for p in &projects {
        // A repository of its own: `.git` makes it the root a file's
        // context is found from.
        let dir = temp("fixture");
        copy_dir(p, &dir);
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        let dir = std::fs::canonicalize(&dir).unwrap();
        let (c, f) = compare(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        configs += c;
        findings += f;
    }
    assert!(configs >= 10, "{configs} configs compared");
    assert!(findings >= 20, "{findings} findings compared");
}
