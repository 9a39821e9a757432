//! End to end in a real editor: headless Neovim's built-in LSP client runs
//! `uwsgi-lint lsp` on a copy of `examples/django-ecs` (tests/nvim/e2e.lua).
//! In CI a missing `nvim` is a failure; `.ci/run` installs it.

mod common;

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

#[test]
fn neovim_shows_checks_findings_hover_unsaved_context_and_applies_a_fix() {
    let Some(nvim) = common::which("nvim") else {
        if common::in_ci() {
            panic!("nvim is required in CI (CI=true); .ci/run installs it");
        }
        eprintln!("\n*** SKIPPED the Neovim end-to-end test: no `nvim` on PATH ***\n");
        return;
    };
    let root = std::env::temp_dir().join(format!("uwsgi-lint-nvim-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    common::copy_dir(&common::manifest_dir().join("examples/django-ecs"), &root);
    let root = common::canonical(&root);
    let result = root.join("nvim-result.json");

    // What `check` reports for the config, from the project root.
    let (_, out, err) = common::uwsgi_lint(&root, &["check", "--format", "json", "."]);
    let check: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
    let ini_before = std::fs::read_to_string(root.join("deploy/uwsgi.ini")).unwrap();
    let task_before = std::fs::read_to_string(root.join("ecs/task-definition.json")).unwrap();

    let mut cmd = Command::new(nvim);
    cmd.current_dir(&root)
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!(
            "luafile {}",
            common::manifest_dir().join("tests/nvim/e2e.lua").display()
        ))
        .env("PROJECT", &root)
        .env("SERVER", env!("CARGO_BIN_EXE_uwsgi-lint"))
        .env("RESULT", &result)
        .env("XDG_STATE_HOME", root.join(".nvim-state"))
        .env("XDG_DATA_HOME", root.join(".nvim-data"));
    let run = common::run_bounded(cmd, Duration::from_secs(300));
    let text = std::fs::read_to_string(&result).unwrap_or_else(|_| {
        panic!(
            "Neovim wrote no result (exit {:?}, timed out {}):\n{}\n{}",
            run.code,
            run.timed_out,
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let got: Value = serde_json::from_str(&text).unwrap();
    assert!(
        got.get("error").is_none(),
        "the Neovim script failed: {got:#}"
    );
    assert_eq!(run.code, Some(0));

    // The diagnostics Neovim holds are exactly `check`'s for the file.
    let severity = |s: &str| match s {
        "error" => 1,
        "warning" => 2,
        "info" => 3,
        _ => 4,
    };
    let mut expected: Vec<(String, u64, String, [u64; 4], u64)> = check["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == "deploy/uwsgi.ini")
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap() - 1;
            (
                d["code"].as_str().unwrap().to_string(),
                severity(d["severity"].as_str().unwrap()),
                d["message"].as_str().unwrap().to_string(),
                [n("line"), n("column"), n("end_line"), n("end_column")],
                d["related"].as_array().unwrap().len() as u64,
            )
        })
        .collect();
    let mut shown: Vec<(String, u64, String, [u64; 4], u64)> = got["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap();
            (
                d["code"].as_str().unwrap().to_string(),
                n("severity"),
                d["message"].as_str().unwrap().to_string(),
                [n("lnum"), n("col"), n("end_lnum"), n("end_col")],
                n("related"),
            )
        })
        .collect();
    expected.sort();
    shown.sort();
    assert!(!expected.is_empty());
    assert_eq!(shown, expected);

    // The hover says what uWSGI reads and where the value comes from.
    let hover = got["hover"].as_str().unwrap();
    assert!(hover.contains("**`reload-on-rss`**"), "{hover}");
    assert!(hover.contains("`512` = 512 MiB, from this line"), "{hover}");

    // The unsaved change to the ECS limit cleared UW202; nothing was saved.
    let has = |step: &Value, key: &str, code: &str| {
        step[key].as_array().unwrap().iter().any(|c| c == code)
    };
    let steps = got["steps"].as_array().unwrap();
    assert!(has(&steps[0], "before", "UW202"));
    assert!(!has(&steps[1], "after_limit_change", "UW202"));
    assert_eq!(got["modified_unsaved"], true);
    assert_eq!(
        std::fs::read_to_string(root.join("ecs/task-definition.json")).unwrap(),
        task_before
    );

    // The UW101 fix, applied in the buffer, removed the finding.
    assert!(!has(&steps[2], "after_fix", "UW101"));
    let lines: Vec<&str> = got["ini_after_fix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(lines.contains(&"reload-on-as = 2048"), "{lines:?}");
    assert!(ini_before.contains("reload_on_as = 2048"));
}
