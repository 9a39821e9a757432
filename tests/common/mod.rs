//! Helpers shared by the integration tests: finding the real-server oracles,
//! running them with a time bound, and the snapshot location.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The real uWSGI used as an oracle: `$UWSGI_ORACLE`, else the venv that
/// `.ci/run` creates, else `uwsgi` on PATH. In CI a missing oracle fails the
/// test; locally the test says loudly that it skipped.
pub fn uwsgi_oracle(test: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("UWSGI_ORACLE").map(PathBuf::from),
        Some(manifest_dir().join(".venv-oracle/bin/uwsgi")),
    ];
    for c in candidates.into_iter().flatten() {
        if c.is_file() {
            return Some(c);
        }
    }
    if let Some(p) = which("uwsgi") {
        return Some(p);
    }
    if in_ci() {
        panic!(
            "{test}: the real uWSGI oracle is required in CI (CI=true) but was not found; .ci/run installs it"
        );
    }
    eprintln!(
        "\n*** {test}: SKIPPED the real-uWSGI comparison: no oracle found (set UWSGI_ORACLE or run `bash .ci/run`) ***\n"
    );
    None
}

/// The real Nginx: on PATH, else Debian's /usr/sbin/nginx. In CI a missing
/// one fails the test; locally the test says loudly that it skipped.
pub fn nginx_oracle(test: &str) -> Option<PathBuf> {
    let found = which("nginx").or_else(|| {
        let p = PathBuf::from("/usr/sbin/nginx");
        p.is_file().then_some(p)
    });
    if found.is_none() {
        if in_ci() {
            panic!(
                "{test}: a real nginx is required in CI (CI=true); .ci/run installs nginx-light"
            );
        }
        eprintln!("\n*** {test}: SKIPPED the real-Nginx comparison: nginx is not installed ***\n");
    }
    found
}

pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// The shared reference corpus, when this checkout sits beside it.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let p = manifest_dir().join("../shared");
    if p.join("corpus/realworld").is_dir() {
        Some(p)
    } else {
        eprintln!("*** {test}: SKIPPED: ../shared/corpus is not present in this checkout ***");
        None
    }
}

pub struct Output {
    /// None when the process was killed by a signal or timed out.
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
}

/// Run a command with a bound; on time-out it is sent SIGINT (never SIGTERM:
/// a uWSGI master reloads on SIGTERM), then SIGKILL.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            std::thread::sleep(Duration::from_millis(500));
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        code: status.code(),
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
        timed_out,
    }
}

/// Split bytes into lines (without the `\n`).
pub fn lines(b: &[u8]) -> Vec<&[u8]> {
    let mut v: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
    if v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

pub fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Run `uwsgi-lint ARGS` in `dir`: (exit code, stdout, stderr).
pub fn uwsgi_lint(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run uwsgi-lint");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Python from the oracle venv (`.ci/run` creates it) that can import
/// `module`. In CI a missing one fails the test; locally the test says it skipped.
pub fn venv_python(module: &str, test: &str) -> Option<PathBuf> {
    let py = std::env::var_os("ORACLE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join(".venv-oracle/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(py);
    }
    if in_ci() {
        panic!("{test}: CI needs Python with `{module}`; .ci/run installs it");
    }
    eprintln!("*** {test}: SKIPPED: no .venv-oracle Python with `{module}` (bash .ci/run) ***");
    None
}

/// Copy a directory tree (fixtures are mini-projects).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}
