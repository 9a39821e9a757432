//! Configuration files as users write them, through the CLI.

mod common;

use std::path::{Path, PathBuf};

fn project(name: &str, config: Option<(&str, &str)>) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-cfg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join(".git")).unwrap();
    std::fs::create_dir_all(d.join("legacy")).unwrap();
    let ini = "[uwsgi]\nmaster = true\nprocesses = 4\nharakiri = \"30\"\nchdir = /srv ; app\n";
    std::fs::write(d.join("uwsgi.ini"), ini).unwrap();
    std::fs::write(d.join("legacy/old.ini"), ini).unwrap();
    if let Some((file, text)) = config {
        std::fs::write(d.join(file), text).unwrap();
    }
    d
}

fn check(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    common::uwsgi_lint(dir, &all)
}

#[test]
fn config_selects_ignores_and_overrides_severity() {
    let d = project(
        "apply",
        Some((
            "uwsgi-lint.toml",
            "select = [\"UW1\"]\nignore = [\"UW104\"]\n[severity]\nUW103 = \"info\"\n",
        )),
    );
    let (code, out, err) = check(&d, &["--format", "concise"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("info[UW103]"), "{out}");
    assert!(!out.contains("UW104") && !out.contains("UW302"), "{out}");
    // the CLI overrides the file
    let (code, out, _) = check(&d, &["--format", "concise", "--fail-on", "info"]);
    assert_eq!(code, Some(1), "{out}");
    let (_, out, _) = check(
        &d,
        &["--format", "concise", "--no-config", "--select", "UW104"],
    );
    assert!(out.contains("UW104"), "{out}");
}

#[test]
fn per_file_ignores_from_pyproject() {
    let d = project(
        "pyproject",
        Some((
            "pyproject.toml",
            "[project]\nname = \"app\"\n\n[tool.uwsgi-lint]\nselect = [\"UW104\"]\n[tool.uwsgi-lint.per-file-ignores]\n\"legacy/*.ini\" = [\"inline-comment\"]\n",
        )),
    );
    let (_, out, _) = check(&d, &["--format", "concise"]);
    assert!(
        out.contains("uwsgi.ini:5:") && out.contains("UW104"),
        "{out}"
    );
    assert!(!out.contains("legacy/old.ini"), "{out}");
}

#[test]
fn bad_config_is_exit_2_with_the_keys_position() {
    let d = project(
        "bad",
        Some((
            "uwsgi-lint.toml",
            "select = [\"UW1\"]\n\n[memory]\nbaseline = \"100MiB\"\n",
        )),
    );
    let (code, _, err) = check(&d, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("uwsgi-lint.toml:4:1:"), "{err}");
    assert!(err.contains("baseline"), "{err}");
}

#[test]
fn show_settings_prints_the_effective_settings() {
    let d = project(
        "show",
        Some((
            "uwsgi-lint.toml",
            "uwsgi-version = \"2.0.21\"\n[memory]\nheadroom = 0.2\n",
        )),
    );
    let (code, out, _) = check(&d, &["--show-settings", "--ignore", "UW6"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["uwsgi-version"], "2.0.21");
    assert_eq!(v["memory"]["headroom"], 0.2);
    assert_eq!(v["ignore"][0], "UW6");
    assert!(v["config"].as_str().unwrap().ends_with("uwsgi-lint.toml"));
    assert!(
        !v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("UW6"))
    );
}
