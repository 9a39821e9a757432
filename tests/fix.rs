//! `--fix` on every fixable bad fixture: the rule no longer fires, comments
//! survive, and the diff is snapshotted under `snapshots/`.

mod common;

use std::path::{Path, PathBuf};

use uwsgi_lint::fix::{FileFix, unified_diff};
use uwsgi_lint::rules::RULES;

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let (code, out, err) = common::uwsgi_lint(dir, &all);
    (code, out + &err)
}

/// Every file below `dir` (fixtures are mini-projects with subdirectories).
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(files(&p));
        } else {
            v.push(p);
        }
    }
    v.sort();
    v
}

fn comments(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| l.starts_with(';') || l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn fix_removes_the_finding_and_keeps_comments() {
    let root = common::manifest_dir();
    let mut fixable = Vec::new();
    for rule in RULES {
        let bad = root.join(format!("rules/{}/bad", rule.code));
        let work = std::env::temp_dir().join(format!(
            "uwsgi-lint-fixall-{}-{}",
            rule.code,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&work);
        common::copy_dir(&bad, &work);
        let mut args = vec!["--no-config", "--select", rule.code, "--format", "json"];
        let pinned = root.join(format!("rules/{}/uwsgi-version.txt", rule.code));
        let version = std::fs::read_to_string(&pinned)
            .ok()
            .map(|v| v.trim().to_string());
        if let Some(v) = &version {
            args.extend(["--uwsgi-version", v]);
        }
        let (_, before) = run(&work, &args);
        let v: serde_json::Value = serde_json::from_str(&before).unwrap();
        let has_fix = v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == rule.code && !d["fix"].is_null());
        if !has_fix {
            continue;
        }
        fixable.push(rule.code);
        let originals: Vec<(PathBuf, String)> = files(&work)
            .into_iter()
            .map(|p| {
                let t = std::fs::read_to_string(&p).unwrap();
                (p, t)
            })
            .collect();
        let mut fix_args = args.clone();
        fix_args.extend(["--fix", "--unsafe-fixes"]);
        let (_, out) = run(&work, &fix_args);
        let after: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(
            !after["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["code"] == rule.code),
            "{}: still fires after --fix:\n{out}",
            rule.code
        );
        let mut diff = String::new();
        for (path, original) in &originals {
            let fixed = std::fs::read_to_string(path).unwrap();
            for c in comments(original) {
                assert!(
                    comments(&fixed).contains(&c),
                    "{}: comment `{c}` lost",
                    rule.code
                );
            }
            diff.push_str(&unified_diff(&FileFix {
                path: path.clone(),
                name: path
                    .strip_prefix(&work)
                    .unwrap_or(path)
                    .to_string_lossy()
                    .into_owned(),
                original: original.clone().into_bytes(),
                fixed: fixed.into_bytes(),
                applied: 0,
            }));
        }
        insta::with_settings!({snapshot_path => root.join("snapshots"), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("{}_fix", rule.code), diff);
        });
    }
    for expected in [
        "UW101", "UW102", "UW103", "UW104", "UW105", "UW107", "UW205",
    ] {
        assert!(
            fixable.contains(&expected),
            "{expected} has no fix in its bad fixture; fixable: {fixable:?}"
        );
    }
}

#[test]
fn diff_does_not_write() {
    let root = common::manifest_dir();
    let work = std::env::temp_dir().join(format!("uwsgi-lint-diff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    common::copy_dir(&root.join("rules/UW102/bad"), &work);
    let before = std::fs::read_to_string(work.join("uwsgi.ini")).unwrap();
    let (code, out) = run(&work, &["--no-config", "--diff"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("-reload-on-rss = 1G\n+reload-on-rss = 1024\n"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(work.join("uwsgi.ini")).unwrap(),
        before
    );
}
