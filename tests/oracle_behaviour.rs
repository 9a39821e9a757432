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

#[test]
fn listen_above_somaxconn_fails_start() {
    // UW501: the backlog is checked against the kernel's somaxconn at bind.
    let Some(max) = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    else {
        eprintln!("*** no /proc/sys/net/core/somaxconn: skipped ***");
        return;
    };
    let ini = format!(
        "[uwsgi]\nmaster = true\nlisten = {}\nsocket = 127.0.0.1:0\n",
        max + 1
    );
    let Some(log) = start_log("listen", &ini) else {
        return;
    };
    assert!(
        log.contains(&format!(
            "Listen queue size is greater than the system max net.core.somaxconn ({max})"
        )),
        "{log}"
    );
    assert!(!log.contains("PROBE loaded"), "{log}");
}

#[test]
fn daemonize_returns_at_once() {
    // UW306: the process a container starts exits while the server lives on.
    let Some(uwsgi) = common::uwsgi_oracle("daemonize_returns_at_once") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-oracle-daemon-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("uwsgi.pid");
    let mut cmd = Command::new(uwsgi);
    cmd.current_dir(&dir).env_clear().args([
        "--socket",
        "127.0.0.1:0",
        "--master",
        "--daemonize",
        "daemon.log",
        "--pidfile",
    ]);
    cmd.arg(&pidfile);
    let out = common::run_bounded(cmd, Duration::from_secs(20));
    assert!(
        out.code == Some(0) && !out.timed_out,
        "{:?} {}",
        out.code,
        String::from_utf8_lossy(&out.stderr)
    );
    // The daemon writes its pid file; stop it.
    let mut pid = None;
    for _ in 0..50 {
        pid = std::fs::read_to_string(&pidfile)
            .ok()
            .filter(|p| !p.trim().is_empty());
        if pid.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = pid.expect("the daemonized server wrote its pid file");
    let pid = pid.trim().to_string();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    // An app-less worker ignores the polite stop: kill the master's
    // children, then the master.
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stat = std::fs::read_to_string(format!("/proc/{name}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1).map(str::to_string));
        if ppid.as_deref() == Some(pid.as_str()) {
            let _ = Command::new("kill").args(["-KILL", &name]).status();
        }
    }
    let _ = Command::new("kill").args(["-KILL", &pid]).status();
}
