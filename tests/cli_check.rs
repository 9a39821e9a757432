//! The `check` command as a user and a CI job run it.

mod common;

use std::process::Command;

fn check(args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    common::uwsgi_lint(&common::manifest_dir(), &all)
}

#[test]
fn example_reports_the_demo_mistakes() {
    let (code, out, _) = check(&["--format", "concise", "examples/django-ecs"]);
    assert_eq!(code, Some(1));
    for needle in [
        "deploy/uwsgi.ini:9:15: error[UW102]",
        "deploy/uwsgi.ini:17:12: error[UW103]",
        "deploy/uwsgi.ini:19:1: error[UW101]",
    ] {
        assert!(out.contains(needle), "missing {needle} in\n{out}");
    }
}

#[test]
fn text_output_shows_snippets_and_help() {
    let (code, out, _) = check(&[
        "--color",
        "never",
        "--select",
        "UW103",
        "examples/django-ecs",
    ]);
    assert_eq!(code, Some(1));
    assert!(
        out.starts_with("error[UW103]: `harakiri = \"30\"` is read as 0 seconds"),
        "{out}"
    );
    assert!(
        out.contains("--> examples/django-ecs/deploy/uwsgi.ini:17:12\n"),
        "{out}"
    );
    assert!(out.contains("17 | harakiri = \"30\""), "{out}");
    assert!(
        out.contains("= help: uWSGI keeps quotes in values: write `harakiri = 30`"),
        "{out}"
    );
    assert!(!out.contains("\u{1b}["), "colour with --color never");
}

#[test]
fn json_has_the_fixes_the_issue_names() {
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("uwsgi.ini"),
        "[uwsgi]\nmaster = true\nreload_on_rss = 512\nreload-on-rss = 1G\nharakiri = \"30\"\n",
    )
    .unwrap();
    let (code, out, _) = check(&["--format", "json", dir.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let diags = v["diagnostics"].as_array().unwrap();
    let by = |c: &str| diags.iter().find(|d| d["code"] == c).unwrap().clone();
    assert_eq!(by("UW101")["fix"]["edits"][0]["content"], "reload-on-rss");
    assert_eq!(by("UW102")["fix"]["edits"][0]["content"], "1024");
    assert_eq!(by("UW103")["line"], 5);
    assert_eq!(v["summary"]["errors"], 3);
}

#[test]
fn exit_codes_and_selection() {
    let (code, out, _) = check(&["--select", "UW0", "examples/django-ecs"]);
    assert_eq!(code, Some(0), "{out}");
    let (code, _, _) = check(&["--exit-zero", "examples/django-ecs"]);
    assert_eq!(code, Some(0));
    let (code, out, _) = check(&["--ignore", "unknown-option,UW102", "examples/django-ecs"]);
    assert_eq!(code, Some(1));
    assert!(!out.contains("UW101") && !out.contains("UW102") && out.contains("UW103"));
    let (code, _, err) = check(&["--select", "UW999", "examples"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("UW999"));
    let (code, _, err) = check(&["src"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("nothing to lint"), "{err}");
}

#[test]
fn whole_corpus_runs_without_crash_or_exit_2() {
    let Some(shared) = common::shared_dir("whole_corpus_runs_without_crash_or_exit_2") else {
        return;
    };
    let (code, out, err) = check(&[
        "--format",
        "json",
        shared.join("corpus/realworld").to_str().unwrap(),
    ]);
    assert!(matches!(code, Some(0 | 1)), "exit {code:?}: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["summary"]["files"].as_u64().unwrap() >= 20);
    assert!(
        !out.contains("UW000"),
        "a rule crashed on the corpus: {out}"
    );
}

#[test]
fn explain_and_rules() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, out) = run(&["explain", "unit-suffix-ignored"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("# UW102 unit-suffix-ignored"), "{out}");
    assert!(!out.contains("severity:"));
    let (code, _) = run(&["explain", "UW999"]);
    assert_eq!(code, Some(2));
    let (code, out) = run(&["rules", "--format", "json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), uwsgi_lint::rules::RULES.len());
}

#[test]
fn suppressions_apply_and_are_checked() {
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-supp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("uwsgi.ini"),
        "[uwsgi]\nmaster = true\n; uwsgi-lint: ignore[UW103] templated later\nharakiri = \"30\"\n; uwsgi-lint: ignore[UW102]\nbuffer-size = 32k\n; uwsgi-lint: ignore[UW101] nothing here\nprocesses = 2\n",
    )
    .unwrap();
    let (_, out, _) = check(&[
        "--format",
        "json",
        "--select",
        "UW0,UW1",
        dir.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let codes: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    // UW103 suppressed; the reason-less one is UW007 and does not apply; the
    // UW101 one suppressed nothing.
    assert!(!codes.contains(&"UW103"), "{codes:?}");
    assert!(codes.contains(&"UW102"), "{codes:?}");
    assert!(codes.contains(&"UW007"), "{codes:?}");
    assert!(codes.contains(&"UW008"), "{codes:?}");
}

/// Run `check ARGS` in `dir` with `input` on standard input: exit code and
/// standard output.
fn check_stdin(
    dir: &std::path::Path,
    args: &[std::ffi::OsString],
    input: &[u8],
) -> (Option<i32>, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(dir)
        .arg("check")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Arguments, to which paths can be added.
fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(|a| a.into()).collect()
}

#[test]
fn stdin_filename_reports_under_the_given_name() {
    let args = os(&[
        "--format",
        "concise",
        "--select",
        "UW103,UW002",
        "--stdin-filename",
        "examples/django-ecs/deploy/unsaved.ini",
        "-",
    ]);
    let (code, text) = check_stdin(
        &common::manifest_dir(),
        &args,
        b"[uwsgi]\nharakiri = \"30\"\nini = %d/uwsgi.ini\n",
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("examples/django-ecs/deploy/unsaved.ini:2:12: error[UW103]"),
        "{text}"
    );
    // its include is read from disk next to where the file would be
    assert!(!text.contains("UW002"), "{text}");
}

/// An unsaved file named by its absolute path, whose run loads another
/// config first (`UWSGI_INI`): the findings of the config loaded first are
/// that config's, as uWSGI reads it (found in review: the walk gave the
/// unsaved file a real path, and the run took it for the checked file).
#[test]
fn stdin_file_with_a_config_loaded_first_reports_on_that_config() {
    let tmp = tempfile::tempdir().unwrap();
    let root = common::canonical(tmp.path());
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("api")).unwrap();
    std::fs::create_dir_all(root.join("web")).unwrap();
    std::fs::write(root.join("api/uwsgi.ini"), "[uwsgi]\nmodule = api.wsgi\n").unwrap();
    let mut args = os(&[
        "--no-config",
        "--format",
        "concise",
        "--select",
        "UW601",
        "--env",
        "UWSGI_INI=api/uwsgi.ini",
        "--stdin-filename",
    ]);
    args.push(root.join("web/new.ini").into_os_string());
    args.push("-".into());
    let (_, text) = check_stdin(&root, &args, b"[uwsgi]\nmodule = web.wsgi\n");
    assert!(text.contains("api/uwsgi.ini:1:1: info[UW601]"), "{text}");
    assert!(!text.contains("web/new.ini:1:1"), "{text}");
}

#[test]
fn given_files_report_only_on_themselves() {
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-given-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("base")).unwrap();
    std::fs::write(
        dir.join("app.ini"),
        "[uwsgi]\nini = %d/base/common.ini\nmaster = true\n",
    )
    .unwrap();
    std::fs::write(dir.join("base/common.ini"), "[uwsgi]\nharakiri = \"30\"\n").unwrap();
    let (code, out, _) = check(&[
        "--format",
        "concise",
        "--select",
        "UW103",
        dir.join("app.ini").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{out}");
    let (code, out, _) = check(&[
        "--format",
        "concise",
        "--select",
        "UW103",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("common.ini:2:12: error[UW103]"), "{out}");
}

/// The user's global excludes file (`core.excludesFile` in `~/.gitconfig`)
/// lies outside the project and differs from machine to machine: the walk
/// does not read it, so a config it would hide is still checked, while the
/// repository's own `.gitignore` still applies.
#[test]
fn the_users_global_git_excludes_are_not_read() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(project.join(".git")).unwrap();
    std::fs::write(home.join("excludes"), "*.ini\n").unwrap();
    std::fs::write(
        home.join(".gitconfig"),
        format!(
            "[core]\n\texcludesFile = {}\n",
            home.join("excludes").display()
        ),
    )
    .unwrap();
    std::fs::write(project.join(".gitignore"), "ignored.ini\n").unwrap();
    for name in ["uwsgi.ini", "ignored.ini"] {
        std::fs::write(project.join(name), "[uwsgi]\nmodule = app:application\n").unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .args(["check", "--no-config", "--format", "json", "."])
        .current_dir(&project)
        .env("HOME", &home)
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["summary"]["files"], 1, "{json}");
    let files: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["file"].as_str())
        .collect();
    assert!(files.iter().all(|f| *f == "uwsgi.ini"), "{files:?}");
}
