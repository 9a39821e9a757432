//! The precision gate: every finding of the default rule set on the shared
//! real-world corpus, on our own cases (`tests/precision/cases/`) and on the
//! bundled example must be labelled, and labelled true, in
//! `tests/precision/labels.toml`. Prints the precision per rule.

mod common;

use std::collections::{BTreeMap, HashMap};

#[derive(serde::Deserialize)]
struct Labels {
    finding: Vec<Label>,
}

#[derive(serde::Deserialize)]
struct Label {
    case: String,
    at: String,
    code: String,
    verdict: bool,
    reason: String,
}

#[test]
fn every_default_finding_on_the_corpus_is_labelled_true() {
    let text = std::fs::read_to_string(common::manifest_dir().join("tests/precision/labels.toml"))
        .expect("labels file");
    let labels: Labels = toml::from_str(&text).expect("labels.toml parses");
    let mut by_key: HashMap<(String, String, String), &Label> = HashMap::new();
    for l in &labels.finding {
        assert!(
            !l.reason.trim().is_empty(),
            "label without a reason: {}",
            l.at
        );
        let dup = by_key.insert((l.case.clone(), l.at.clone(), l.code.clone()), l);
        assert!(
            dup.is_none(),
            "{} {} {} labelled twice",
            l.case,
            l.at,
            l.code
        );
    }
    // The shared corpus (when beside this checkout), then our own
    // multi-file cases for what it lacks, and the bundled example.
    let root = common::manifest_dir();
    let mut cases: Vec<(String, std::path::PathBuf)> = Vec::new();
    let mut add = |prefix: &str, dir: &std::path::Path| {
        let mut found: Vec<_> = std::fs::read_dir(dir)
            .expect("case directory")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        found.sort();
        for p in found {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            cases.push((format!("{prefix}{name}"), p));
        }
    };
    if let Some(shared) = common::shared_dir("precision (corpus part)") {
        add("", &shared.join("corpus/realworld"));
    }
    add("cases/", &root.join("tests/precision/cases"));
    add("examples/", &root.join("examples"));
    // (findings, true) per rule.
    let mut per_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut problems = Vec::new();
    let mut seen = 0;
    let mut matched = std::collections::HashSet::new();
    for (case, dir) in &cases {
        let case = case.clone();
        let (_, out, err) =
            common::uwsgi_lint(dir, &["check", "--no-config", "--format", "json", "."]);
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&out) else {
            // A case with no uWSGI config at all says so and exits 2.
            assert!(err.contains("no uWSGI config"), "{case}: {err}");
            continue;
        };
        for d in v["diagnostics"].as_array().into_iter().flatten() {
            let code = d["code"].as_str().unwrap_or_default().to_string();
            let at = format!("{}:{}", d["file"].as_str().unwrap_or_default(), d["line"]);
            let entry = per_rule.entry(code.clone()).or_default();
            entry.0 += 1;
            seen += 1;
            let key = (case.clone(), at.clone(), code.clone());
            if by_key.contains_key(&key) {
                matched.insert(key.clone());
            }
            match by_key.get(&key) {
                None => problems.push(format!(
                    "unlabelled: {case} {at} {code} {}",
                    d["message"].as_str().unwrap_or_default()
                )),
                Some(l) if !l.verdict => {
                    problems.push(format!("false finding: {case} {at} {code}: {}", l.reason))
                }
                Some(_) => entry.1 += 1,
            }
        }
    }
    let (all, good) = per_rule
        .values()
        .fold((0, 0), |(a, g), (n, t)| (a + n, g + t));
    eprintln!(
        "precision of the default rule set on {} cases:",
        cases.len()
    );
    eprintln!(
        "{:<7} {:>8} {:>5} {:>9}",
        "rule", "findings", "true", "precision"
    );
    for (code, (n, t)) in &per_rule {
        eprintln!(
            "{code:<7} {n:>8} {t:>5} {:>8.1}%",
            100.0 * *t as f64 / *n as f64
        );
    }
    if all > 0 {
        eprintln!(
            "{:<7} {all:>8} {good:>5} {:>8.1}%",
            "all",
            100.0 * good as f64 / all as f64
        );
    }
    // (Labels of corpus cases are all stale where the corpus is absent.)
    for k in by_key.keys().filter(|k| !matched.contains(*k)) {
        eprintln!("stale label: {} {} {}", k.0, k.1, k.2);
    }
    assert!(seen > 0, "the corpus produced no finding at all");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
