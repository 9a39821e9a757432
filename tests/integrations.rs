//! The real integration tools: pre-commit runs our hooks from this checkout,
//! and a maturin wheel installs a working `uwsgi-lint` into a fresh venv.
//! Both build the crate in release mode, so they take a minute or two; in CI
//! (`CI=true`) the tools are required, locally the tests skip without them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A tool from the oracle venv `.ci/run` creates, or from PATH.
fn tool(name: &str, test: &str) -> Option<PathBuf> {
    let venv = common::manifest_dir().join(".venv-oracle/bin").join(name);
    if venv.is_file() {
        return Some(venv);
    }
    if let Some(p) = common::which(name) {
        return Some(p);
    }
    if common::in_ci() {
        panic!("{test}: `{name}` is required in CI; .ci/run installs it");
    }
    eprintln!("*** {test}: SKIPPED: `{name}` not installed (bash .ci/run installs it) ***");
    None
}

fn run(mut cmd: Command, secs: u64) -> (Option<i32>, String) {
    let out = common::run_bounded(
        {
            cmd.stdin(std::process::Stdio::null());
            cmd
        },
        Duration::from_secs(secs),
    );
    assert!(!out.timed_out, "timed out");
    (
        out.code,
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// A config no rule objects to at warning level.
const CLEAN: &str = "[uwsgi]
strict = true
master = true
die-on-term = true
need-app = true
module = app.wsgi:application
processes = 1
socket = 127.0.0.1:3031
harakiri = 30
post-buffering = 65536
reload-on-rss = 300
max-requests = 1000
max-worker-lifetime = 3600
uid = app
gid = app
single-interpreter = true
";

/// Note for local runs: `try-repo` builds from a copy of this checkout that
/// includes uncommitted changes to tracked files but not untracked files, so
/// new source files must be `git add`ed first (CI runs on a clean clone).
#[test]
fn pre_commit_try_repo_passes_clean_and_fails_bad() {
    let Some(pre_commit) = tool("pre-commit", "pre_commit_try_repo") else {
        return;
    };
    let repo = std::env::temp_dir().join(format!("uwsgi-lint-precommit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(repo.join("deploy")).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("deploy/uwsgi.ini"), CLEAN).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "clean"]);
    // One pre-commit home for both runs, so the hook is built once.
    let home = common::manifest_dir().join("target/pre-commit-home");
    let try_repo = |hook: &str| {
        let mut c = Command::new(&pre_commit);
        c.current_dir(&repo)
            .env("PRE_COMMIT_HOME", &home)
            .env_remove("GIT_DIR")
            .args([
                "try-repo",
                common::manifest_dir().to_str().unwrap(),
                hook,
                "--all-files",
                "--color",
                "never",
            ]);
        run(c, 1500)
    };
    let (code, out) = try_repo("uwsgi-lint");
    assert_eq!(code, Some(0), "clean config should pass:\n{out}");
    std::fs::write(
        repo.join("deploy/uwsgi.ini"),
        CLEAN.replace("harakiri = 30", "harakiri = \"30\""),
    )
    .unwrap();
    git(&repo, &["commit", "-q", "-am", "bad"]);
    let (code, out) = try_repo("uwsgi-lint");
    assert_eq!(code, Some(1), "bad config should fail:\n{out}");
    assert!(
        out.contains("UW103"),
        "the diagnostic is in the hook output:\n{out}"
    );
    let (code, out) = try_repo("uwsgi-lint-project");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("UW103"), "{out}");
}

#[test]
fn wheel_installs_a_working_binary() {
    let Some(maturin) = tool("maturin", "wheel_installs_a_working_binary") else {
        return;
    };
    let work = std::env::temp_dir().join(format!("uwsgi-lint-wheel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let mut build = Command::new(&maturin);
    build.current_dir(common::manifest_dir()).args([
        "build",
        "--release",
        "--quiet",
        "--out",
        work.join("dist").to_str().unwrap(),
    ]);
    let (code, out) = run(build, 1500);
    assert_eq!(code, Some(0), "maturin build failed:\n{out}");
    let wheel = std::fs::read_dir(work.join("dist"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .expect("a wheel");
    let mut venv = Command::new("python3");
    venv.args(["-m", "venv", work.join("venv").to_str().unwrap()]);
    assert_eq!(run(venv, 300).0, Some(0));
    let mut pip = Command::new(work.join("venv/bin/pip"));
    pip.args(["install", "--quiet", "--no-index", wheel.to_str().unwrap()]);
    let (code, out) = run(pip, 300);
    assert_eq!(code, Some(0), "{out}");
    let bin = work.join("venv/bin/uwsgi-lint");
    let mut version = Command::new(&bin);
    version.arg("--version");
    let (code, out) = run(version, 60);
    assert_eq!(code, Some(0));
    assert!(
        out.starts_with(&format!("uwsgi-lint {}", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    let mut check = Command::new(&bin);
    check.current_dir(common::manifest_dir()).args([
        "check",
        "--format",
        "concise",
        "examples/django-ecs",
    ]);
    let (code, out) = run(check, 60);
    assert_eq!(code, Some(1));
    assert!(out.contains("error[UW102]"), "{out}");
}
