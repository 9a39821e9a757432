//! `advise --write` and `check --fix` share one edit engine: a misspelled
//! key is renamed in place (never set again beside its misspelling), values
//! are replaced in place, comments and order are kept, new options go after
//! the recycling block. And the two commute and settle: `advise --write`
//! twice is once, `check --fix` after it changes nothing, and `check --fix`
//! first gives the same file — on every fixture, the example and the shared
//! real-world corpus.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::uwsgi_lint as lint;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-write-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every file under `dir` with its bytes (the whole project's state).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(p);
            } else if t.is_file() {
                out.insert(
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    out
}

fn changed(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) -> String {
    let mut s = String::new();
    for (p, v) in b {
        if a.get(p) != Some(v) {
            s.push_str(&format!(
                "--- {}\n{}\n+++\n{}\n",
                p.display(),
                a.get(p)
                    .map(|x| String::from_utf8_lossy(x).into_owned())
                    .unwrap_or_default(),
                String::from_utf8_lossy(v)
            ));
        }
    }
    s
}

const ADVISE: &[&str] = &[
    "advise",
    "--no-config",
    "--write",
    "--memory-limit",
    "1GiB",
    "--cpus",
    "2",
    ".",
];
const FIX: &[&str] = &["check", "--no-config", "--fix", "."];

/// The four orders on one project; returns whether advise found a config.
fn commutes(name: &str, project: &Path) -> bool {
    let a = scratch(&format!("{name}-a"));
    common::copy_dir(project, &a);
    let before = snapshot(&a);
    let (code, out, err) = lint(&a, ADVISE);
    if code == Some(2) && err.contains("no uWSGI config found") {
        return false;
    }
    assert!(matches!(code, Some(0) | Some(2)), "{name}: {out}{err}");
    let once = snapshot(&a);
    let (_, out2, err2) = lint(&a, ADVISE);
    let twice = snapshot(&a);
    assert!(
        once == twice,
        "{name}: a second `advise --write` changed the project:\n{}\n{out2}{err2}\n(first run: {out}{err}; before it:\n{})",
        changed(&once, &twice),
        changed(&before, &once)
    );
    lint(&a, FIX);
    let fixed_after = snapshot(&a);
    assert!(
        once == fixed_after,
        "{name}: `check --fix` after `advise --write` changed the project:\n{}",
        changed(&once, &fixed_after)
    );
    let b = scratch(&format!("{name}-b"));
    common::copy_dir(project, &b);
    lint(&b, FIX);
    lint(&b, ADVISE);
    let reverse = snapshot(&b);
    assert!(
        once == reverse,
        "{name}: `check --fix` then `advise --write` differs from `advise --write`:\n{}",
        changed(&once, &reverse)
    );
    let _ = std::fs::remove_dir_all(&a);
    let _ = std::fs::remove_dir_all(&b);
    true
}

/// [`commutes`] on every project, a few at a time (each case runs the
/// binary five times); how many had a config to advise.
fn commutes_on_all(projects: &[PathBuf]) -> usize {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let chunk = projects.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = projects
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .filter(|p| {
                            let name = p.file_name().unwrap().to_string_lossy().into_owned();
                            commutes(&name, p)
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    })
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

#[test]
fn advise_and_fix_commute_and_settle_on_the_fixtures_and_the_example() {
    let root = common::manifest_dir();
    let mut projects = subdirs(&root.join("tests/fixtures/resolve"));
    projects.extend(subdirs(&root.join("examples")));
    let advised = commutes_on_all(&projects);
    // Most fixtures are configs advise has something to say about.
    assert!(
        advised * 2 > projects.len(),
        "{advised} of {}",
        projects.len()
    );
}

#[test]
fn advise_and_fix_commute_and_settle_on_the_realworld_corpus() {
    let Some(shared) = common::shared_dir("advise_write") else {
        assert!(
            !common::in_ci(),
            "CI checks out ../shared beside the clone: the corpus must be there"
        );
        return;
    };
    let projects = subdirs(&shared.join("corpus/realworld"));
    let advised = commutes_on_all(&projects);
    assert!(advised > 10, "{advised} of {}", projects.len());
}

const COLLIDING: &str = "[uwsgi]
module = app.wsgi:application
master = true
processes = 2
socket = 127.0.0.1:3031
; recycle periodically
max_worker_lifetime = 3600
reload-on-rss = 512
harakiri = 30
";

/// The collisions a new user met: the misspelled key and the advised one,
/// the comment above it, `strict` appearing on a second run, and
/// `min-worker-lifetime` advised but never written.
#[test]
fn the_misspelled_key_is_renamed_once_and_a_second_run_changes_nothing() {
    let d = scratch("collide");
    std::fs::write(d.join("uwsgi.ini"), COLLIDING).unwrap();
    let (code, out, err) = lint(&d, ADVISE);
    assert_eq!(code, Some(0), "{out}{err}");
    let text = std::fs::read_to_string(d.join("uwsgi.ini")).unwrap();
    assert!(!text.contains("max_worker_lifetime"), "{text}");
    assert_eq!(text.matches("max-worker-lifetime =").count(), 1, "{text}");
    // In place: right below the comment that explains it.
    assert!(
        text.contains("; recycle periodically\nmax-worker-lifetime = 3600\n"),
        "{text}"
    );
    assert!(text.contains("reload-on-rss = "), "{text}");
    assert_eq!(text.matches("strict = true").count(), 1, "{text}");
    // New options grouped after the recycling block, before `harakiri`.
    let evil = text.find("evil-reload-on-rss").unwrap();
    assert!(evil < text.find("harakiri").unwrap(), "{text}");
    assert!(evil > text.find("reload-on-rss = ").unwrap(), "{text}");
    // No duplicate for `check` to report.
    let (_, report, _) = lint(&d, &["check", "--no-config", "--format", "concise", "."]);
    assert!(!report.contains("UW106"), "{report}");
    assert!(!report.contains("UW101"), "{report}");
    // A second run: nothing to change, and every advised value is in the file.
    let (_, out2, _) = lint(&d, ADVISE);
    assert!(out2.contains("nothing to change"), "{out2}");
    assert_eq!(std::fs::read_to_string(d.join("uwsgi.ini")).unwrap(), text);
    let json = advice_json(&d, &[]);
    for r in json["deployments"][0]["recommendations"]
        .as_array()
        .unwrap()
    {
        assert!(
            r["current"] == r["value"] || is_default(&r["option"], &r["value"]),
            "advised but not written: {r}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}

fn advice_json(d: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "advise",
        "--no-config",
        "--format",
        "json",
        "--memory-limit",
        "1GiB",
        "--cpus",
        "2",
    ];
    args.extend_from_slice(extra);
    args.push(".");
    let (code, out, err) = lint(d, &args);
    assert_eq!(code, Some(0), "{err}");
    serde_json::from_str(&out).unwrap()
}

fn is_default(option: &serde_json::Value, value: &serde_json::Value) -> bool {
    let def = uwsgi_lint::uwsgi::options::catalogue().get(option.as_str().unwrap());
    def.and_then(|d| d.default_value())
        .is_some_and(|v| v.to_string() == value.as_str().unwrap())
}

fn log_line(pid: u32, req: u64, rss: u64, sec: u64) -> String {
    format!(
        "{{address space usage: 300000000 bytes/286MB}} {{rss usage: {rss} bytes/{}MB}} [pid: {pid}|app: 0|req: {req}/{req}] 10.0.0.1 () {{40 vars in 800 bytes}} [Thu Nov 26 10:{:02}:{:02} 2026] GET /api => generated 20 bytes in 12 msecs (HTTP/1.1 200) 2 headers in 80 bytes (1 switches on core 0)\n",
        rss >> 20,
        sec / 60,
        sec % 60
    )
}

/// With a fast measured leak `min-worker-lifetime` is advised, and then it
/// is written (the second run finds it in place).
#[test]
fn a_measured_min_worker_lifetime_is_written_not_only_advised() {
    let d = scratch("minlife");
    std::fs::write(d.join("uwsgi.ini"), COLLIDING).unwrap();
    // 1 MiB per request, 10 requests a second, from 80 MiB.
    let mut log = String::new();
    for r in 1..=200u64 {
        log.push_str(&log_line(7, r, (80 << 20) + r * (1 << 20), r / 10));
    }
    std::fs::write(d.join("uwsgi.log"), log).unwrap();
    let json = advice_json(&d, &["--log", "uwsgi.log"]);
    let recs = json["deployments"][0]["recommendations"]
        .as_array()
        .unwrap();
    let min = recs
        .iter()
        .find(|r| r["option"] == "min-worker-lifetime")
        .expect("a fast leak lowers min-worker-lifetime");
    assert_eq!(min["basis"], "measured", "{min}");
    let value = min["value"].as_str().unwrap().to_string();
    let (code, out, err) = lint(
        &d,
        &[
            "advise",
            "--no-config",
            "--write",
            "--memory-limit",
            "1GiB",
            "--cpus",
            "2",
            "--log",
            "uwsgi.log",
            ".",
        ],
    );
    assert_eq!(code, Some(0), "{out}{err}");
    let text = std::fs::read_to_string(d.join("uwsgi.ini")).unwrap();
    assert!(
        text.contains(&format!("min-worker-lifetime = {value}\n")),
        "{text}"
    );
    let json = advice_json(&d, &["--log", "uwsgi.log"]);
    for r in json["deployments"][0]["recommendations"]
        .as_array()
        .unwrap()
    {
        assert!(
            r["current"] == r["value"] || is_default(&r["option"], &r["value"]),
            "advised but not written: {r}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A value the config sets is kept when nothing measured or limiting
/// contradicts it; a heuristic fills only what is unset; the table says
/// which is which.
#[test]
fn explicit_values_are_kept_and_heuristics_fill_only_the_gaps() {
    let d = scratch("keep");
    std::fs::write(
        d.join("uwsgi.ini"),
        "[uwsgi]\nmodule = app.wsgi\nmaster = true\nprocesses = 2\nmax-requests = 5000\nharakiri = 20\n",
    )
    .unwrap();
    let json = advice_json(&d, &[]);
    let recs = json["deployments"][0]["recommendations"]
        .as_array()
        .unwrap();
    let get = |o: &str| recs.iter().find(|r| r["option"] == o).unwrap().clone();
    assert_eq!(get("max-requests")["value"], "5000");
    assert_eq!(get("max-requests")["basis"], "kept");
    assert_eq!(get("harakiri")["value"], "20");
    assert_eq!(get("harakiri")["basis"], "kept");
    assert_eq!(get("max-worker-lifetime")["basis"], "heuristic");
    assert_eq!(get("reload-on-rss")["basis"], "limit");
    // 500 is kept too (it was raised to 1000 by a guess before).
    std::fs::write(
        d.join("uwsgi.ini"),
        "[uwsgi]\nmodule = app.wsgi\nmaster = true\nprocesses = 2\nmax-requests = 500\n",
    )
    .unwrap();
    let json = advice_json(&d, &[]);
    let recs = json["deployments"][0]["recommendations"]
        .as_array()
        .unwrap();
    let mr = recs.iter().find(|r| r["option"] == "max-requests").unwrap();
    assert_eq!(mr["value"], "500", "{mr}");
    // The text table names the basis of every line.
    let (_, text, _) = lint(
        &d,
        &["advise", "--no-config", "--memory-limit", "1GiB", "."],
    );
    assert!(
        text.lines()
            .any(|l| l.contains("max-requests") && l.contains(" kept ")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// `processes = %k` is the host's CPU count: a number from the CPU limit
/// (or `--cpus`), or a problem saying it cannot be chosen.
#[test]
fn percent_k_becomes_a_number_or_a_stated_problem() {
    let d = scratch("pk");
    std::fs::write(
        d.join("uwsgi.ini"),
        "[uwsgi]\nmodule = app.wsgi\nmaster = true\nprocesses = %k\n",
    )
    .unwrap();
    let json = advice_json(&d, &[]);
    let recs = json["deployments"][0]["recommendations"]
        .as_array()
        .unwrap();
    let p = recs.iter().find(|r| r["option"] == "processes").unwrap();
    assert_eq!(p["value"], "4", "2 × 2 CPUs: {p}");
    assert_eq!(p["basis"], "limit");
    let (code, out, err) = lint(
        &d,
        &[
            "advise",
            "--no-config",
            "--format",
            "json",
            "--memory-limit",
            "1GiB",
            ".",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["deployments"][0]["recommendations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["option"] != "processes"),
        "{out}"
    );
    let problems = v["deployments"][0]["problems"].to_string();
    assert!(
        problems.contains("%k") && problems.contains("--cpus"),
        "{problems}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// The stop the advice writes is the one UW303 and UW308 ask for, and the
/// mercy it keeps is one UW304 accepts: after `advise --write` none of them
/// fires, with or without `die-on-term` in the config.
#[test]
fn the_advised_stop_satisfies_the_lifecycle_rules() {
    for extra in ["", "die-on-term = true\n"] {
        let d = scratch("stop");
        common::copy_dir(&common::manifest_dir().join("examples/django-ecs"), &d);
        let ini = d.join("deploy/uwsgi.ini");
        let text = std::fs::read_to_string(&ini).unwrap() + extra;
        std::fs::write(&ini, text).unwrap();
        let select = [
            "check",
            "--no-config",
            "--select",
            "UW303,UW304,UW308",
            "--format",
            "concise",
            ".",
        ];
        let (_, before, _) = lint(&d, &select);
        assert!(
            before.contains(if extra.is_empty() { "UW303" } else { "UW308" }),
            "{before}"
        );
        let (code, out, err) = lint(&d, &["advise", "--no-config", "--write", "."]);
        assert_eq!(code, Some(0), "{out}{err}");
        let written = std::fs::read_to_string(&ini).unwrap();
        assert!(
            written.contains("hook-master-start = unix_signal:15 gracefully_kill_them_all\n"),
            "{written}"
        );
        let (_, after, _) = lint(&d, &select);
        assert!(!after.contains("UW30"), "{after}");
        let _ = std::fs::remove_dir_all(&d);
    }
}

/// On uWSGI ≥ 2.1 the mercy bounds the stop: the advice brings it within
/// the grace period, as UW304 asks.
#[test]
fn on_2_1_the_mercy_is_brought_within_the_grace_period() {
    let d = scratch("mercy21");
    common::copy_dir(&common::manifest_dir().join("examples/django-ecs"), &d);
    let v = ["--uwsgi-version", "2.1.0"];
    let select = [
        &[
            "check",
            "--no-config",
            "--select",
            "UW304",
            "--format",
            "concise",
        ][..],
        &v,
        &["."],
    ]
    .concat();
    let (_, before, _) = lint(&d, &select);
    assert!(before.contains("UW304"), "{before}");
    let write = [&["advise", "--no-config", "--write"][..], &v, &["."]].concat();
    let (code, out, err) = lint(&d, &write);
    assert_eq!(code, Some(0), "{out}{err}");
    let (_, after, _) = lint(&d, &select);
    assert!(!after.contains("UW304"), "{after}");
    let _ = std::fs::remove_dir_all(&d);
}
