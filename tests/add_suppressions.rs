//! `check --add-suppressions REASON`: adopting uwsgi-lint in an existing
//! project. Every finding in a uWSGI ini or YAML config gets a suppression
//! comment the linter then honours; findings elsewhere are listed, not
//! touched; a second run changes nothing.

mod common;

use std::path::Path;

/// Added to the uWSGI config of the UW406 fixture (whose finding is in
/// `nginx.conf`).
const MORE: &str = "harakiri = \"30\"\nbuffer-size = 32k\n";

const YAML: &str = "uwsgi:\r\n  master: true\r\n  processes: 4 ; four workers\r\n";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    common::copy_dir(&common::manifest_dir().join("rules/UW406/bad"), p);
    std::fs::create_dir_all(p.join(".git")).unwrap();
    let ini = std::fs::read_to_string(p.join("uwsgi.ini")).unwrap();
    let ini = ini.trim_end().to_string() + "\n" + MORE;
    std::fs::write(p.join("uwsgi.ini"), ini).unwrap();
    std::fs::write(p.join("app.yaml"), YAML).unwrap();
    dir
}

fn concise(dir: &Path) -> String {
    let (_, out, err) =
        common::uwsgi_lint(dir, &["check", "--no-config", "--format", "concise", "."]);
    assert!(!err.contains("uwsgi-lint: error"), "{err}");
    out
}

#[test]
fn adds_comments_that_suppress_and_is_idempotent() {
    let dir = project();
    let p = dir.path();
    let before = concise(p);
    assert!(before.contains("uwsgi.ini:10:"), "{before}");
    assert!(before.contains("app.yaml:3:"), "{before}");
    assert!(before.contains("nginx.conf:"), "{before}");

    let (code, out, err) = common::uwsgi_lint(
        p,
        &[
            "check",
            "--no-config",
            "--add-suppressions",
            "adopted before review",
            ".",
        ],
    );
    // The Nginx finding cannot be suppressed by a comment: exit 1, named.
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("not suppressed: nginx.conf:"), "{out}");
    assert!(out.contains("not in a uWSGI config"), "{out}");

    let ini = std::fs::read_to_string(p.join("uwsgi.ini")).unwrap();
    assert!(
        ini.contains("; uwsgi-lint: ignore[UW103] adopted before review\nharakiri = \"30\"\n"),
        "{ini}"
    );
    assert!(
        ini.contains(
            "; uwsgi-lint: ignore[UW102, UW403] adopted before review\nbuffer-size = 32k\n"
        ),
        "{ini}"
    );
    // A finding on the section header is covered file-wide.
    assert!(
        ini.starts_with("; uwsgi-lint: ignore-file[UW604] adopted before review\n[uwsgi]\n"),
        "{ini}"
    );
    // The YAML file keeps its CRLF line ends and indentation, with `#`.
    let yaml = std::fs::read_to_string(p.join("app.yaml")).unwrap();
    assert!(
        yaml.contains("  # uwsgi-lint: ignore[UW104] adopted before review\r\n  processes: 4 ; four workers\r\n"),
        "{yaml:?}"
    );

    // Only the Nginx finding is left, and no suppression is unused or invalid.
    let after = concise(p);
    let left: Vec<&str> = after
        .lines()
        .filter(|l| l.contains(": error[") || l.contains(": warning[") || l.contains(": info["))
        .collect();
    assert!(!left.is_empty(), "{after}");
    assert!(left.iter().all(|l| l.starts_with("nginx.conf:")), "{after}");
    assert!(
        !after.contains("UW007") && !after.contains("UW008"),
        "{after}"
    );

    // A second run adds nothing and leaves the files as they are.
    let (code, out, _) = common::uwsgi_lint(
        p,
        &[
            "check",
            "--no-config",
            "--add-suppressions",
            "adopted before review",
            ".",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Added 0 suppression comments"), "{out}");
    assert_eq!(std::fs::read_to_string(p.join("uwsgi.ini")).unwrap(), ini);
    assert_eq!(std::fs::read_to_string(p.join("app.yaml")).unwrap(), yaml);
}

#[test]
fn a_reason_is_required() {
    let dir = project();
    for reason in ["", "   "] {
        let (code, out, err) = common::uwsgi_lint(
            dir.path(),
            &["check", "--no-config", "--add-suppressions", reason, "."],
        );
        assert_eq!(code, Some(2), "{out}{err}");
        assert!(err.contains("needs a reason"), "{err}");
    }
    let ini = std::fs::read_to_string(dir.path().join("uwsgi.ini")).unwrap();
    assert!(!ini.contains("uwsgi-lint:"), "{ini}");
    let (code, _, err) = common::uwsgi_lint(
        dir.path(),
        &["check", "--no-config", "--add-suppressions", "."],
    );
    assert_eq!(code, Some(2), "a path is not taken as the reason: {err}");
}
