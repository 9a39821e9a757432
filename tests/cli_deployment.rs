//! Deployment context through the CLI: an ECS task definition linked to the
//! config it runs, its command line and environment applied as uWSGI applies
//! them, and UW202 against its memory limit.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn check(dir: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(dir)
        .args(["check", "--no-config", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

fn uw202(v: &serde_json::Value) -> Option<&serde_json::Value> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "UW202")
}

fn project(name: &str, ini: &str, task: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-dep-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join(".git")).unwrap();
    std::fs::create_dir_all(d.join("ecs")).unwrap();
    std::fs::write(d.join("uwsgi.ini"), ini).unwrap();
    std::fs::write(d.join("ecs/task.json"), task).unwrap();
    d
}

#[test]
fn example_reports_uw202_in_both_files() {
    let (code, v) = check(&common::manifest_dir(), &["examples/django-ecs"]);
    assert_eq!(code, Some(1));
    let d = uw202(&v).expect("UW202");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "examples/django-ecs/deploy/uwsgi.ini");
    assert_eq!(d["line"], 14);
    let related = d["related"].as_array().unwrap();
    assert_eq!(
        related[0]["file"],
        "examples/django-ecs/ecs/task-definition.json"
    );
    assert_eq!(related[0]["line"], 6);
    assert!(d["message"].as_str().unwrap().contains("2064 MiB"));
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1);
    assert_eq!(
        deps[0]["container"],
        "examples/django-ecs/ecs/task-definition.json#web"
    );
    assert_eq!(deps[0]["memory_limit_bytes"], 960u64 << 20);
}

#[test]
fn container_command_line_overrides_the_ini() {
    // `--processes 8` after `--ini` wins over the ini's 2 (facts §7).
    let d = project(
        "cli",
        "[uwsgi]\nmaster = true\nprocesses = 2\nreload-on-rss = 100\n",
        r#"{"memory": "512", "containerDefinitions": [{"name": "app", "command": ["uwsgi", "--ini", "/srv/uwsgi.ini", "--processes", "8"]}]}"#,
    );
    let (_, v) = check(&d, &["."]);
    let m = uw202(&v).expect("UW202")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.starts_with("8 workers × reload-on-rss 100 MiB"), "{m}");
}

#[test]
fn container_environment_is_the_lowest_layer_and_headroom_warns() {
    let task = |rss: u32| {
        format!(
            r#"{{"memory": "1024", "containerDefinitions": [{{"name": "app", "command": ["uwsgi", "--ini", "uwsgi.ini"],
               "environment": [{{"name": "UWSGI_RELOAD_ON_RSS", "value": "{rss}"}}, {{"name": "UWSGI_PROCESSES", "value": "99"}}]}}]}}"#
        )
    };
    let ini = "[uwsgi]\nmaster = true\nprocesses = 8\n";
    // 8 × 100 + 16 = 816 MiB ≤ 1024 × 0.9: fits.
    let (_, v) = check(&project("env-fit", ini, &task(100)), &["."]);
    assert!(uw202(&v).is_none(), "{v}");
    // 8 × 120 + 16 = 976 MiB: under 1024, inside the 10 % headroom → warning.
    let (_, v) = check(&project("env-headroom", ini, &task(120)), &["."]);
    let d = uw202(&v).expect("UW202");
    assert_eq!(d["severity"], "warning");
    assert!(
        d["message"].as_str().unwrap().starts_with("8 workers"),
        "{d}"
    );
}

#[test]
fn no_link_no_budget_check() {
    let d = project(
        "nolink",
        "[uwsgi]\nmaster = true\nprocesses = 8\nreload-on-rss = 500\n",
        r#"{"memory": "512", "containerDefinitions": [{"name": "worker", "command": ["celery", "worker"]}]}"#,
    );
    let (_, v) = check(&d, &["."]);
    assert!(uw202(&v).is_none());
    assert!(v["deployments"].as_array().unwrap().is_empty());
}

#[test]
fn verbose_shows_links_soft_limits_and_grace() {
    let d = project(
        "verbose",
        "[uwsgi]\nmaster = true\nprocesses = 2\n",
        r#"{"containerDefinitions": [{"name": "app", "command": ["uwsgi", "--ini", "uwsgi.ini"], "memoryReservation": 256, "stopTimeout": 20}]}"#,
    );
    let (code, out, _) = common::uwsgi_lint(
        &d,
        &["check", "--no-config", "-v", "--format", "concise", "."],
    );
    assert!(matches!(code, Some(0 | 1)));
    assert!(
        out.contains("linked uwsgi.ini ← ecs/task.json#app (ecs): its command names `uwsgi.ini`"),
        "{out}"
    );
    assert!(
        out.contains("memory limit: none, only a reservation (`memoryReservation: 256`)"),
        "{out}"
    );
    assert!(out.contains("stop grace: 20 s"), "{out}");
}

#[test]
fn a_cap_below_the_baseline_does_not_shrink_the_worst_case() {
    // `reload-on-rss = 60` with 8 workers: each worker still holds its
    // baseline (100 MiB assumed) and is recycled after every request.
    let (_, v) = check(
        &project(
            "below-baseline",
            "[uwsgi]\nmaster = true\nprocesses = 8\nreload-on-rss = 60\n",
            r#"{"memory": "512", "containerDefinitions": [{"name": "app", "command": ["uwsgi", "--ini", "uwsgi.ini"]}]}"#,
        ),
        &["."],
    );
    let d = uw202(&v).expect("UW202");
    assert_eq!(d["severity"], "error");
    let m = d["message"].as_str().unwrap();
    assert!(m.contains("below a worker's baseline"), "{m}");
}
