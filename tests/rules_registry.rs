//! Every registered rule has its page and fixtures; each `bad` fixture raises
//! its rule and each `good` one does not; the rendered output of every bad
//! fixture is snapshotted (text and JSON) under `snapshots/`.

mod common;

use std::path::PathBuf;

use uwsgi_lint::lint::lint;
use uwsgi_lint::output;
use uwsgi_lint::rules::RULES;
use uwsgi_lint::settings::Overrides;

/// All rules run, default set or not (UW008 needs to know which did); a rule's fixtures may pin
/// the target uWSGI version in `rules/UWxxx/uwsgi-version.txt`.
fn settings(code: &str) -> Overrides {
    let pinned = std::fs::read_to_string(
        common::manifest_dir().join(format!("rules/{code}/uwsgi-version.txt")),
    )
    .ok()
    .map(|v| v.trim().parse().expect("uwsgi-version.txt"));
    Overrides {
        uwsgi_version: pinned,
        select: Some(vec!["ALL".into()]),
        no_config: true,
        ..Overrides::default()
    }
}

/// Paths inside messages are absolute where uWSGI's would be; make them stable.
fn stable(text: &str) -> String {
    text.replace(
        &common::manifest_dir().to_string_lossy().to_string(),
        "[ROOT]",
    )
}

/// The `variant-*` subdirectories of a fixture, sorted.
fn variants(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("variant-"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn every_rule_has_page_fixtures_and_fires_on_bad_only() {
    let root = common::manifest_dir();
    let mut problems = Vec::new();
    for rule in RULES {
        let page = root.join(format!("rules/{}.md", rule.code));
        match std::fs::read_to_string(&page) {
            Ok(text) => {
                for needle in [
                    format!("code: {}", rule.code),
                    format!("name: {}", rule.name),
                    format!("severity: {}", rule.severity.as_str()),
                    format!("default: {}", if rule.default { "yes" } else { "no" }),
                ] {
                    if !text.contains(&needle) {
                        problems.push(format!("{}: page lacks `{needle}`", rule.code));
                    }
                }
            }
            Err(_) => problems.push(format!("{}: no rules/{}.md", rule.code, rule.code)),
        }
        for (kind, must_fire) in [("bad", true), ("good", false)] {
            let dir = PathBuf::from(format!("rules/{}/{kind}", rule.code));
            if !root.join(&dir).is_dir() {
                problems.push(format!("{}: no {} fixture", rule.code, dir.display()));
                continue;
            }
            // `variant-*` subdirectories are projects of their own (the same
            // finding from Compose, Kubernetes and ECS), each linted alone.
            let variants: Vec<(String, PathBuf)> = match variants(&root.join(&dir)) {
                v if v.is_empty() => vec![(String::new(), dir.clone())],
                v => v
                    .into_iter()
                    .map(|n| (format!("-{}", &n[8..]), dir.join(&n)))
                    .collect(),
            };
            for (suffix, dir) in variants {
                let report = lint(std::slice::from_ref(&dir), &settings(rule.code)).expect("lint");
                let own: Vec<_> = report
                    .diagnostics
                    .iter()
                    .filter(|d| d.code == rule.code)
                    .cloned()
                    .collect();
                let fired = !own.is_empty();
                if fired != must_fire {
                    problems.push(format!(
                        "{}: {kind} fixture {} {} the rule",
                        rule.code,
                        dir.display(),
                        if fired { "raises" } else { "does not raise" }
                    ));
                }
                if must_fire {
                    let options = output::Options::default();
                    let input = output::Input {
                        sources: &report.sources,
                        diagnostics: &own,
                        files: report.files,
                        deployments: &report.deployments,
                        nginx: &report.nginx,
                        root: &root,
                        options: &options,
                    };
                    let text = output::text::render(&report.sources, &own, false);
                    let json = output::json::render(&input);
                    insta::with_settings!({snapshot_path => root.join("snapshots"), prepend_module_to_snapshot => false}, {
                        insta::assert_snapshot!(format!("{}{suffix}_text", rule.code), stable(&text));
                        insta::assert_snapshot!(format!("{}{suffix}_json", rule.code), stable(&json));
                    });
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rule_codes_and_names_are_unique() {
    let mut codes: Vec<_> = RULES.iter().map(|r| r.code).collect();
    let mut names: Vec<_> = RULES.iter().map(|r| r.name).collect();
    codes.sort();
    names.sort();
    let n = RULES.len();
    codes.dedup();
    names.dedup();
    assert_eq!((codes.len(), names.len()), (n, n));
}
