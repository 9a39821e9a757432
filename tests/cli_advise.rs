//! `uwsgi-lint advise` through the CLI: the example's advice fits its ECS
//! limit, `--diff`/`--write` keep comments and make UW202 go away, `--plot`
//! draws the SVG, and measurements come from gzip logs and stats documents.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn lint(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example_copy(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-adv-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    common::copy_dir(&common::manifest_dir().join("examples/django-ecs"), &d);
    std::fs::create_dir_all(d.join(".git")).unwrap();
    d
}

#[test]
fn example_advice_fits_the_ecs_limit() {
    let (code, out, err) = lint(
        &common::manifest_dir(),
        &["advise", "--format", "json", "examples/django-ecs"],
    );
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = &v["deployments"][0];
    assert_eq!(
        d["container"],
        "examples/django-ecs/ecs/task-definition.json#web"
    );
    let limit = d["limit_bytes"].as_u64().unwrap();
    assert_eq!(limit, 960 << 20);
    let recs = d["recommendations"].as_array().unwrap();
    let get = |o: &str| -> u64 {
        recs.iter()
            .find(|r| r["option"] == o)
            .unwrap_or_else(|| panic!("{o} in {d}"))["value"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let worst = get("processes") * (get("evil-reload-on-rss") << 20) + (16 << 20);
    assert!(worst <= limit, "{worst} > {limit}");
    assert!(get("reload-on-rss") < get("evil-reload-on-rss"));
    // uWSGI 2.0.23 is pinned: no max-requests-delta (2.0.29).
    assert!(!recs.iter().any(|r| r["option"] == "max-requests-delta"));
    // Every input says where it came from.
    for i in d["inputs"].as_array().unwrap() {
        assert!(i["source"].is_string(), "{i}");
    }
    let limit_input = d["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "memory limit")
        .unwrap();
    assert_eq!(limit_input["source"], "container");
}

#[test]
fn write_applies_the_advice_and_check_agrees() {
    let d = example_copy("write");
    let ini = d.join("deploy/uwsgi.ini");
    let before = std::fs::read_to_string(&ini).unwrap();
    let (code, diff, err) = lint(&d, &["advise", "--no-config", "--diff", "."]);
    assert_eq!(code, Some(0), "{err}");
    assert!(diff.contains("+reload-on-rss = "), "{diff}");
    assert_eq!(
        std::fs::read_to_string(&ini).unwrap(),
        before,
        "--diff wrote"
    );
    let (code, out, err) = lint(&d, &["advise", "--no-config", "--write", "."]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("wrote"), "{out}");
    let after = std::fs::read_to_string(&ini).unwrap();
    for line in before.lines().filter(|l| l.trim_start().starts_with(';')) {
        assert!(after.contains(line), "comment `{line}` lost:\n{after}");
    }
    let (_, out, _) = lint(&d, &["check", "--no-config", "--format", "concise", "."]);
    assert!(!out.contains("UW202"), "{out}");
    assert!(!out.contains("UW203"), "{out}");
}

#[test]
fn plot_draws_both_configs_and_the_limit() {
    let d = example_copy("plot");
    let (code, out, err) = lint(&d, &["advise", "--no-config", "--plot", "memory.svg", "."]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("plot written to memory.svg"), "{out}");
    let svg = std::fs::read_to_string(d.join("memory.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
    for label in [
        "current: 4 workers",
        "advised: 4 workers",
        "hard limit 960 MiB",
        "computed by the model",
        "above the limit after",
    ] {
        assert!(svg.contains(label), "{label} missing");
    }
    // Nothing measured: a request count is not drawn, so not claimed.
    assert!(!svg.contains("max-requests 1000"), "{svg}");
    // Integer tick labels, and the legend below the plotting area (every
    // legend text lower than every tick label).
    let texts: Vec<(f64, String)> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| {
            let y = t.split("y=\"").nth(1)?.split('"').next()?.parse().ok()?;
            let body = t.split('>').nth(1)?.split('<').next()?.trim().to_string();
            Some((y, body))
        })
        .collect();
    let ticks: Vec<&(f64, String)> = texts
        .iter()
        .filter(|(_, b)| !b.is_empty() && b.chars().all(|c| c.is_ascii_digit()))
        .collect();
    assert!(ticks.len() > 5, "{texts:?}");
    assert!(!texts.iter().any(|(_, b)| b.ends_with(".0")), "{texts:?}");
    let lowest_tick = ticks.iter().map(|t| t.0).fold(0.0, f64::max);
    for (y, b) in texts
        .iter()
        .filter(|(_, b)| b.starts_with("advised:") || b.starts_with("current:"))
    {
        assert!(
            *y > lowest_tick,
            "legend `{b}` at {y} is inside the chart (ticks to {lowest_tick})"
        );
    }
    assert!(svg.matches("<polyline").count() >= 3 || svg.matches("<path").count() >= 3);
}

fn log_line(pid: u32, req: u64, rss: u64) -> String {
    format!(
        "{{address space usage: 300000000 bytes/286MB}} {{rss usage: {rss} bytes/{}MB}} [pid: {pid}|app: 0|req: {req}/{req}] 10.0.0.1 () {{40 vars in 800 bytes}} [Thu Nov 26 10:00:{:02} 2026] GET /api => generated 20 bytes in 12 msecs (HTTP/1.1 200) 2 headers in 80 bytes (1 switches on core 0)\n",
        rss >> 20,
        req % 60
    )
}

#[test]
fn measurements_from_gzip_logs_and_stats_documents() {
    let d = example_copy("measure");
    // 200 KiB per request over a 120 MiB baseline, two workers, rotated + gzip.
    let mut plain = String::new();
    let mut rotated = String::new();
    for r in 1..=300u64 {
        let rss = (120 << 20) + r * (200 << 10);
        plain.push_str(&log_line(41, r, rss));
        rotated.push_str(&log_line(42, r, rss + (1 << 20)));
    }
    std::fs::write(d.join("uwsgi.log"), &plain).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(rotated.as_bytes()).unwrap();
    std::fs::write(d.join("uwsgi.log.1.gz"), gz.finish().unwrap()).unwrap();
    let stats = r#"{"workers": [{"pid": 43, "requests": 10, "rss": 130000000, "last_spawn": 5}]}
{"workers": [{"pid": 43, "requests": 20, "rss": 132000000, "last_spawn": 5}]}"#;
    std::fs::write(d.join("stats.json"), stats).unwrap();
    let (code, out, err) = lint(
        &d,
        &[
            "advise",
            "--no-config",
            "--format",
            "json",
            "--log",
            "uwsgi.log",
            "--log",
            "uwsgi.log.1.gz",
            "--stats",
            "stats.json",
            ".",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let est = &v["measurements"]["estimates"];
    assert_eq!(est["workers"], 3);
    let g = est["growth"].as_f64().unwrap();
    assert!((g - 204800.0).abs() / 204800.0 < 0.05, "{g}");
    let sources = v["measurements"]["sources"].as_array().unwrap();
    assert!(
        sources
            .iter()
            .any(|s| s.as_str().unwrap().contains("300 memory-report lines"))
    );
    let recs = v["deployments"][0]["recommendations"].as_array().unwrap();
    let mr = recs.iter().find(|r| r["option"] == "max-requests").unwrap();
    assert_eq!(mr["basis"], "measured");

    // Stats with memory sampling off: a clear message, not a number.
    std::fs::write(
        d.join("zero.json"),
        r#"{"workers": [{"pid": 7, "requests": 10, "rss": 0}]}"#,
    )
    .unwrap();
    let (code, _, err) = lint(
        &d,
        &["advise", "--no-config", "--stats-file", "zero.json", "."],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("memory-report"), "{err}");
}
