//! Behaviour that rule messages claim, checked against the real uWSGI.

mod common;

use std::process::Command;
use std::time::Duration;

/// Start uWSGI on `ini` with a WSGI file that exits at import, and return its log.
fn start_log(name: &str, ini: &str) -> Option<String> {
    let uwsgi = common::uwsgi_oracle(name)?;
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-oracle-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("app.ini"), ini).unwrap();
    std::fs::write(
        dir.join("probe.py"),
        "import os, sys\nsys.stderr.write('PROBE loaded\\n')\nos._exit(0)\n",
    )
    .unwrap();
    let mut cmd = Command::new(uwsgi);
    cmd.current_dir(&dir)
        .env_clear()
        .args(["--ini", "app.ini", "--wsgi-file", "probe.py"]);
    let out = common::run_bounded(cmd, Duration::from_secs(20));
    Some(String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout))
}

const NO_MASTER: &str = "without its master process manager";

#[test]
fn flag_with_inline_comment_stays_on() {
    // UW104: `master = false ; ...` is not `false`, so the master runs.
    let Some(log) = start_log(
        "flag_comment",
        "[uwsgi]\nmaster = false ; disabled\nsocket = 127.0.0.1:0\n",
    ) else {
        return;
    };
    assert!(log.contains("PROBE loaded"), "{log}");
    assert!(!log.contains(NO_MASTER), "{log}");
}

#[test]
fn exact_false_turns_the_flag_off() {
    let Some(log) = start_log(
        "flag_false",
        "[uwsgi]\nmaster = false\nsocket = 127.0.0.1:0\n",
    ) else {
        return;
    };
    assert!(log.contains(NO_MASTER), "{log}");
}

#[test]
fn max_worker_lifetime_not_above_min_fails_start() {
    // UW115
    let Some(log) = start_log(
        "lifetime",
        "[uwsgi]\nmaster = true\nmax-worker-lifetime = 5\nsocket = 127.0.0.1:0\n",
    ) else {
        return;
    };
    assert!(log.contains("invalid min-worker-lifetime value"), "{log}");
    assert!(!log.contains("PROBE loaded"));
}

#[test]
fn cheaper_not_below_processes_fails_start() {
    // UW116
    let Some(log) = start_log(
        "cheaper",
        "[uwsgi]\nmaster = true\nprocesses = 2\ncheaper = 2\nsocket = 127.0.0.1:0\n",
    ) else {
        return;
    };
    assert!(log.contains("invalid cheaper value"), "{log}");
}
