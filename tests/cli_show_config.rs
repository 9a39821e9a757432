//! The `show-config` command as a user runs it.

mod common;

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"));
    c.current_dir(common::manifest_dir());
    c
}

#[test]
fn text_output_is_uwsgis_block() {
    let out = bin()
        .args(["show-config", "examples/django-ecs/deploy/uwsgi.ini"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(
        ";uWSGI instance configuration\n[uwsgi]\nini = examples/django-ecs/deploy/uwsgi.ini\n"
    ));
    assert!(text.contains("\nharakiri = \"30\"\n"));
    assert!(text.contains("\nreload_on_as = 2048\n"));
    assert!(text.ends_with(";end of configuration\n"));
}

#[test]
fn json_output_has_lines_and_layers() {
    let out = bin()
        .args([
            "show-config",
            "--format",
            "json",
            "--env",
            "UWSGI_THREADS=4",
            "examples/django-ecs/deploy/uwsgi.ini",
            "--",
            "--processes",
            "8",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["section"], "uwsgi");
    let opts = v["options"].as_array().unwrap();
    assert_eq!(opts[0]["key"], "threads");
    assert_eq!(opts[0]["layer"], "env");
    let processes: Vec<_> = opts.iter().filter(|o| o["key"] == "processes").collect();
    assert_eq!(processes.len(), 2);
    assert_eq!(processes[0]["line"], 6);
    assert_eq!(processes[0]["file"], "examples/django-ecs/deploy/uwsgi.ini");
    assert_eq!(processes[1]["layer"], "cli");
    assert_eq!(processes[1]["value"], "8");
}

#[test]
fn missing_file_is_exit_2_with_a_message() {
    let out = bin().args(["show-config", "nope.ini"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.ini"));
}

#[test]
fn fatal_resolution_is_exit_1_and_says_why() {
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.ini"), "[uwsgi]\ninclude = b.ini:prod\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(&dir)
        .args(["show-config", "a.ini"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a.ini:2: error:"), "{err}");
    assert!(err.contains("use `ini =` with the same value"), "{err}");
}
