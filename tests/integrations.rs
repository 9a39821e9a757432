//! The real integration tools:
//!
//! - maturin builds the `manylinux2014` wheel once (`--zig`, the `ziglang`
//!   package); it installs into a clean venv and runs, and `auditwheel`
//!   shows its tag;
//! - pre-commit runs the wheel hooks (`pre-commit-wheel/`, `language:
//!   python`) from that wheel, so nothing compiles;
//! - pre-commit runs the source hooks (`.pre-commit-hooks.yaml`, `language:
//!   rust`), which compile the crate once more, without optimisation (the
//!   hook is under test, not the binary's speed).
//!
//! In CI (`CI=true`) the tools are required; locally the tests skip without them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// A tool from `$TOOLS_BIN` (a venv's `bin`), the oracle venv `.ci/run`
/// creates, or PATH.
fn tool(name: &str, test: &str) -> Option<PathBuf> {
    let dirs = [
        std::env::var_os("TOOLS_BIN").map(PathBuf::from),
        Some(common::manifest_dir().join(".venv-oracle/bin")),
    ];
    for dir in dirs.into_iter().flatten() {
        if dir.join(name).is_file() {
            return Some(dir.join(name));
        }
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

/// PATH with the directory of `tool` first (maturin finds `python -m
/// ziglang` through the interpreter beside it).
fn path_with(tool: &Path) -> std::ffi::OsString {
    let mut dirs = vec![tool.parent().unwrap().to_path_buf()];
    if let Some(p) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&p));
    }
    std::env::join_paths(dirs).unwrap()
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

/// The host's target triple (`rustc -vV`): the wheel is built for it
/// explicitly (as maturin's zig mode does anyway), so its artifacts live
/// under `target/<triple>/release`, apart from a plain release build.
fn host_triple() -> String {
    let out = Command::new("rustc").arg("-vV").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

/// The manylinux2014 wheel, built once for every test of this file.
fn wheel(test: &str) -> Option<PathBuf> {
    static WHEEL: OnceLock<Option<PathBuf>> = OnceLock::new();
    WHEEL
        .get_or_init(|| {
            let maturin = tool("maturin", test)?;
            let dist = common::manifest_dir().join("target/ci-wheels");
            let _ = std::fs::remove_dir_all(&dist);
            let mut build = Command::new(&maturin);
            build
                .current_dir(common::manifest_dir())
                .env("PATH", path_with(&maturin))
                .args([
                    "build",
                    "--release",
                    "--locked",
                    "--zig",
                    "--compatibility",
                    "manylinux2014",
                    "--target",
                    &host_triple(),
                    "--quiet",
                    "--out",
                    dist.to_str().unwrap(),
                ]);
            let (code, out) = run(build, 1800);
            assert_eq!(code, Some(0), "maturin build failed:\n{out}");
            let wheel = std::fs::read_dir(&dist)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "whl"))
                .expect("a wheel");
            Some(wheel)
        })
        .clone()
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

/// A git repository with a clean config, to run hooks in.
fn project(name: &str) -> PathBuf {
    let repo = std::env::temp_dir().join(format!("uwsgi-lint-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&repo);
    std::fs::create_dir_all(repo.join("deploy")).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("deploy/uwsgi.ini"), CLEAN).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "clean"]);
    repo
}

/// Both hooks of `hook_repo` pass on the clean config and fail, naming the
/// finding, once it is broken.
fn hooks_pass_clean_and_fail_bad(
    pre_commit: &Path,
    hook_repo: &Path,
    name: &str,
    env: &[(&str, &std::ffi::OsStr)],
) {
    let repo = project(name);
    let home = common::manifest_dir().join(format!("target/pre-commit-home-{name}"));
    let try_files = |hook: &str, files: &[&str]| {
        let mut c = Command::new(pre_commit);
        c.current_dir(&repo)
            .env("PRE_COMMIT_HOME", &home)
            .env("PATH", path_with(pre_commit))
            .env_remove("GIT_DIR")
            .args(["try-repo", hook_repo.to_str().unwrap(), hook]);
        if files.is_empty() {
            c.arg("--all-files");
        } else {
            c.arg("--files").args(files);
        }
        c.args(["--color", "never"]);
        for (k, v) in env {
            c.env(k, v);
        }
        run(c, 1800)
    };
    let try_repo = |hook: &str| try_files(hook, &[]);
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
        out.contains("error[UW103]"),
        "the diagnostic is in the hook output:\n{out}"
    );
    let (code, out) = try_repo("uwsgi-lint-project");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("error[UW103]"), "{out}");
    // Only a Compose file changes, and its lower limit breaks the config's
    // memory budget: the per-file hook, given just that file, reports the
    // UW202 it causes on the config.
    std::fs::write(repo.join("deploy/uwsgi.ini"), CLEAN).unwrap();
    let compose = |limit: &str| {
        format!(
            "services:\n  web:\n    image: registry.example.org/shop:1.0\n    command: [\"uwsgi\", \"--ini\", \"/srv/deploy/uwsgi.ini\"]\n    volumes:\n      - ./deploy:/srv/deploy:ro\n    mem_limit: {limit}\n    stop_grace_period: 30s\n"
        )
    };
    std::fs::write(repo.join("docker-compose.yml"), compose("1g")).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "compose"]);
    let (code, out) = try_files("uwsgi-lint", &["docker-compose.yml"]);
    assert_eq!(code, Some(0), "the limit fits:\n{out}");
    std::fs::write(repo.join("docker-compose.yml"), compose("256m")).unwrap();
    git(&repo, &["commit", "-q", "-am", "lower the limit"]);
    let (code, out) = try_files("uwsgi-lint", &["docker-compose.yml"]);
    assert_eq!(code, Some(1), "a lower limit should fail:\n{out}");
    assert!(out.contains("error[UW202]"), "{out}");
    let _ = std::fs::remove_dir_all(&repo);
}

#[test]
fn wheel_is_manylinux2014_and_installs_a_working_binary() {
    let Some(wheel) = wheel("wheel_is_manylinux2014") else {
        return;
    };
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.contains("manylinux_2_17"), "{name}");
    if let Some(auditwheel) = tool("auditwheel", "wheel_is_manylinux2014") {
        let mut show = Command::new(auditwheel);
        show.arg("show").arg(&wheel);
        let (code, out) = run(show, 120);
        assert_eq!(code, Some(0), "{out}");
        let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            out.contains("is consistent with the following platform tag: \"manylinux_2_17_"),
            "{out}"
        );
    }
    let work = std::env::temp_dir().join(format!("uwsgi-lint-wheel-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
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
    let _ = std::fs::remove_dir_all(&work);
}

/// The wheel hooks are the source hooks with another installer: same ids,
/// entries and file patterns, and they pin this version.
#[test]
fn wheel_hooks_match_the_source_hooks() {
    let root = common::manifest_dir();
    let source = std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).unwrap();
    let wheel =
        std::fs::read_to_string(root.join("pre-commit-wheel/.pre-commit-hooks.yaml")).unwrap();
    let body = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| !l.contains("language:") && !l.contains("additional_dependencies:"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(body(&source), body(&wheel));
    assert!(source.contains("language: rust"));
    let pin = format!(
        "  language: python\n  additional_dependencies: [uwsgi-lint=={}]\n",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(wheel.matches(&pin).count(), 2, "{wheel}");
}

/// Note for local runs: pre-commit copies the hook repository's committed
/// state plus uncommitted changes to tracked files, not untracked files.
#[test]
fn pre_commit_wheel_hooks_install_the_wheel_and_run() {
    let Some(pre_commit) = tool("pre-commit", "pre_commit_wheel_hooks") else {
        return;
    };
    let Some(wheel) = wheel("pre_commit_wheel_hooks") else {
        return;
    };
    // A hook repository made from pre-commit-wheel/, pinned to the wheel
    // just built instead of the release on PyPI.
    let hooks = std::env::temp_dir().join(format!("uwsgi-lint-hooks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&hooks);
    common::copy_dir(&common::manifest_dir().join("pre-commit-wheel"), &hooks);
    let manifest = hooks.join(".pre-commit-hooks.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        &format!("uwsgi-lint=={}", env!("CARGO_PKG_VERSION")),
        wheel.to_str().unwrap(),
    );
    std::fs::write(&manifest, text).unwrap();
    git(&hooks, &["init", "-q"]);
    git(&hooks, &["add", "."]);
    git(&hooks, &["commit", "-q", "-m", "hooks"]);
    hooks_pass_clean_and_fail_bad(&pre_commit, &hooks, "precommit-wheel", &[]);
    let _ = std::fs::remove_dir_all(&hooks);
}

/// Note for local runs: `try-repo` builds from a copy of this checkout that
/// includes uncommitted changes to tracked files but not untracked files, so
/// new source files must be `git add`ed first (CI runs on a clean clone).
#[test]
fn pre_commit_source_hooks_build_and_run() {
    let Some(pre_commit) = tool("pre-commit", "pre_commit_source_hooks") else {
        return;
    };
    // pre-commit's `cargo install` builds from its own copy of the checkout
    // in a target directory of its own, so nothing of the wheel's build can
    // be reused (maturin's zig mode also builds with other cargo settings).
    // This test checks the hook, not the binary's speed: the release
    // profile without optimisation compiles several times faster.
    hooks_pass_clean_and_fail_bad(
        &pre_commit,
        &common::manifest_dir(),
        "precommit-source",
        &[
            ("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0".as_ref()),
            ("CARGO_PROFILE_RELEASE_DEBUG", "false".as_ref()),
            ("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "256".as_ref()),
            ("CARGO_PROFILE_RELEASE_STRIP", "false".as_ref()),
        ],
    );
}
