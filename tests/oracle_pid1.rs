//! UW309 on the real kernel and the real uWSGI: a container's main process
//! is PID 1 of its own PID namespace (`unshare --pid --fork` here). A
//! script that runs uWSGI without `exec` stays PID 1: the SIGTERM a
//! container stop sends is dropped (PID 1 has no handler for it) and uWSGI,
//! which `die-on-term` would stop, keeps serving. The same uWSGI started
//! with `exec` is PID 1 itself and stops on the same signal.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const START: Duration = Duration::from_secs(60);

/// Root and `unshare`, or a loud skip (a failure in CI, which runs as root).
fn namespaces_available() -> bool {
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2)?.parse::<u32>().ok())
        })
        == Some(0);
    let unshare = Command::new("unshare")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if root && unshare {
        return true;
    }
    assert!(
        !common::in_ci(),
        "CI runs as root with util-linux: root {root}, unshare {unshare}"
    );
    eprintln!("\n*** oracle_pid1: SKIPPED: needs root ({root}) and unshare ({unshare}) ***\n");
    false
}

struct Namespace {
    child: Child,
    log: PathBuf,
}

impl Namespace {
    /// `script` run as PID 1 of a new PID namespace, in `dir`.
    fn start(dir: &Path, script: &str) -> Namespace {
        let path = dir.join("start.sh");
        std::fs::write(&path, script).unwrap();
        let log = dir.join("uwsgi.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new("unshare")
            .args(["--pid", "--fork", "--kill-child", "sh"])
            .arg(&path)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Namespace { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_log(&self, needle: &str) -> String {
        let t = Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            assert!(t.elapsed() < START, "no `{needle}` in the log:\n{log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The host PID of the namespace's PID 1 (the child `unshare` forked).
    fn pid1(&self) -> u32 {
        let me = self.child.id();
        let t = Instant::now();
        loop {
            let children = std::fs::read_to_string(format!("/proc/{me}/task/{me}/children"))
                .unwrap_or_default();
            if let Some(p) = children.split_whitespace().next() {
                return p.parse().unwrap();
            }
            assert!(t.elapsed() < START, "unshare forked no child");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        // `--kill-child`: the namespace goes with unshare.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args(["-s", sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -s {sig} {pid}");
}

fn port(log: &str) -> u16 {
    let prefix = "bound to TCP address 127.0.0.1:";
    let rest = &log[log.find(prefix).expect("bound") + prefix.len()..];
    rest.chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

fn get(port: u16) -> String {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(START)).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

fn project(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-pid1-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("app.py"),
        "def application(env, start):\n    start('200 OK', [('Content-Type', 'text/plain')])\n    return [b'served']\n",
    )
    .unwrap();
    d
}

fn script(uwsgi: &Path, exec: bool) -> String {
    format!(
        "#!/bin/sh\n{}{} --http-socket 127.0.0.1:0 --master --die-on-term --processes 1 --wsgi-file app.py\n",
        if exec { "exec " } else { "" },
        uwsgi.display()
    )
}

#[test]
fn sigterm_to_a_shell_without_exec_never_reaches_uwsgi() {
    let Some(uwsgi) = common::uwsgi_oracle("oracle_pid1") else {
        return;
    };
    if !namespaces_available() {
        return;
    }
    let dir = project("shell");
    let ns = Namespace::start(&dir, &script(&uwsgi, false));
    let log = ns.wait_log("spawned uWSGI worker 1");
    let port = port(&log);
    let sh = ns.pid1();
    // The shell is PID 1; uWSGI's master is its child.
    let comm = std::fs::read_to_string(format!("/proc/{sh}/comm")).unwrap();
    assert_eq!(comm.trim(), "sh");
    signal(sh, "TERM");
    // Dropped when sent (PID 1 has no handler): nothing pending, the shell
    // is still there, and uWSGI still serves, not told to stop.
    let status = std::fs::read_to_string(format!("/proc/{sh}/status")).unwrap();
    for pending in ["SigPnd:", "ShdPnd:"] {
        let line = status.lines().find(|l| l.starts_with(pending)).unwrap();
        assert!(line.ends_with("0000000000000000"), "{line}");
    }
    assert!(alive(sh));
    assert!(get(port).ends_with("served"), "uWSGI stopped serving");
    let log = ns.log();
    assert!(!log.contains("SIGTERM received"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_to_uwsgi_started_with_exec_stops_it() {
    let Some(uwsgi) = common::uwsgi_oracle("oracle_pid1") else {
        return;
    };
    if !namespaces_available() {
        return;
    }
    let dir = project("exec");
    let ns = Namespace::start(&dir, &script(&uwsgi, true));
    ns.wait_log("spawned uWSGI worker 1");
    let pid1 = ns.pid1();
    signal(pid1, "TERM");
    // (uWSGI's own line for the signal, `die-on-term` stopping it.)
    ns.wait_log("SIGINT/SIGTERM received...killing workers");
    let _ = std::fs::remove_dir_all(&dir);
}
