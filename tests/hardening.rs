//! An untrusted change (or a careless flag) cannot crash, hang or exhaust the
//! tool, nor make it read, list or write outside the project: one
//! reproduction per class (docs/security.md lists them).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A fresh project directory (with `.git`, so it is the project root).
fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join(".git")).unwrap();
    for (name, content) in files {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    d
}

/// Run the tool in `dir`, bounded: a hang fails the test instead of the run.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    run_with_stdin(dir, args, None)
}

fn run_with_stdin(
    dir: &Path,
    args: &[&str],
    stdin: Option<PathBuf>,
) -> (Option<i32>, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"));
    cmd.current_dir(dir).args(args);
    let out = match stdin {
        Some(p) => {
            // run_bounded gives a null stdin; a shell redirects it instead.
            let mut sh = Command::new("sh");
            let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
            sh.current_dir(dir).arg("-c").arg(format!(
                "exec '{}' {} < '{}'",
                env!("CARGO_BIN_EXE_uwsgi-lint"),
                quoted.join(" "),
                p.display()
            ));
            common::run_bounded(sh, Duration::from_secs(120))
        }
        None => common::run_bounded(cmd, Duration::from_secs(120)),
    };
    assert!(!out.timed_out, "uwsgi-lint {args:?} hung");
    (
        out.code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const INI: &[u8] =
    b"[uwsgi]\nmaster = true\nmodule = app.wsgi\nhttp-socket = :8000\nprocesses = 2\n";

#[test]
fn user_numbers_are_validated() {
    let p = project(&[("uwsgi.ini", INI)]);
    for (flag, value) in [
        ("--cpus", "NaN"),
        ("--cpus", "inf"),
        ("--cpus", "0"),
        ("--cpus", "-3"),
        ("--memory-limit", "0"),
        ("--memory-limit", "1e300"),
        ("--interval", "inf"),
        ("--interval", "1e300"),
        ("--interval", "-1"),
    ] {
        let (code, out, err) = run(p.path(), &["advise", &format!("{flag}={value}")]);
        assert_eq!(code, Some(2), "{flag} {value}: {out}{err}");
        assert!(err.contains(value), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, _, err) = run(p.path(), &["check", "--memory-limit=0"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, out, err) = run(p.path(), &["advise", "--cpus=1.5", "--memory-limit=1GiB"]);
    assert_eq!(code, Some(0), "{out}{err}");
}
