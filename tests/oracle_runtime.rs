//! Runtime behaviour of the real uWSGI (pyuwsgi 2.0.30) that rules rely on:
//! how it stops, which interpreter app 0 runs in, what `%()` arithmetic,
//! commented socket values, decimal sizes, `cheaper = true` and a doubled
//! app option really do; what a real Nginx does with `proxy_*` directives
//! next to `uwsgi_pass`; which option really reads a PROXY protocol line;
//! what the stats server gives away; how `harakiri` meets a slow upload
//! with and without Nginx buffering the body. Each test starts the server
//! on a tiny WSGI app from tests/fixtures/runtime, waits for evidence (a log
//! line, a marker file, an answer) with a bound, and kills every process it
//! started on every path.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const START: Duration = Duration::from_secs(20);
const STOP: Duration = Duration::from_secs(20);
/// How long a client waits for an answer before calling it lost.
const CLIENT: Duration = Duration::from_secs(30);

/// A fresh directory holding the fixture apps.
fn workdir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("uwsgi-lint-runtime-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    common::copy_dir(&common::manifest_dir().join("tests/fixtures/runtime"), &dir);
    dir
}

/// pyuwsgi's `uwsgi` is a Python script. A binary reload re-executes the
/// resolved interpreter, which outside the venv cannot import pyuwsgi, so
/// the reload needs the venv's own `python` as `binary-path`.
fn reload_binary(uwsgi: &Path) -> Option<PathBuf> {
    let head = fs::read(uwsgi).ok()?;
    if !head.starts_with(b"#!") {
        return None;
    }
    let python = uwsgi.parent()?.join("python");
    python.exists().then_some(python)
}

/// A running uWSGI: the master is the leader of its own process group, so
/// dropping the guard kills the master and every worker it forked.
struct Server {
    name: String,
    child: Child,
    reaped: bool,
    dir: PathBuf,
    log: PathBuf,
}

impl Server {
    fn start(uwsgi: &Path, name: &str, dir: &Path, ini: &str) -> Server {
        fs::write(dir.join("app.ini"), ini).unwrap();
        let log = dir.join("uwsgi.log");
        let out = fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let mut cmd = Command::new(uwsgi);
        // uWSGI reads every UWSGI_* variable as an option: give it none.
        cmd.current_dir(dir)
            .env_clear()
            .args(["--ini", "app.ini"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd.spawn().expect("spawn uWSGI");
        Server {
            name: name.to_string(),
            child,
            reaped: false,
            dir: dir.to_path_buf(),
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.log).unwrap_or_default()).into_owned()
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "{}: {what}\n--- uWSGI log ---\n{}--- end of log ---",
            self.name,
            self.log()
        );
    }

    /// Poll `probe` until it yields a value; fail with the log after `limit`.
    fn wait_for<T>(
        &mut self,
        what: &str,
        limit: Duration,
        mut probe: impl FnMut(&str) -> Option<T>,
    ) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = probe(&self.log()) {
                return v;
            }
            if !self.reaped
                && let Ok(Some(status)) = self.child.try_wait()
            {
                self.reaped = true;
                // One last look: the line may have come with the exit.
                if let Some(v) = probe(&self.log()) {
                    return v;
                }
                self.fail(&format!("uWSGI exited ({status}) while waiting for {what}"));
            }
            if start.elapsed() > limit {
                self.fail(&format!("no {what} within {limit:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn wait_log(&mut self, needle: &str) {
        self.wait_for(&format!("log line `{needle}`"), START, |log| {
            log.contains(needle).then_some(())
        });
    }

    /// The port of the `n`th TCP socket, from uWSGI's own bind line.
    fn tcp_port(&mut self, n: usize) -> u16 {
        let prefix = format!("uwsgi socket {n} bound to TCP address 127.0.0.1:");
        self.wait_for(&format!("socket {n} bound"), START, |log| {
            let rest = &log[log.find(&prefix)? + prefix.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
    }

    fn signal(&self, sig: &str) {
        assert!(!self.reaped, "{}: signal to a reaped process", self.name);
        let ok = Command::new("kill")
            .args(["-s", sig, &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            self.fail(&format!("could not send SIG{sig}"));
        }
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                self.reaped = true;
                return status;
            }
            if start.elapsed() > STOP {
                self.fail(&format!("uWSGI did not exit within {STOP:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn running(&mut self) -> bool {
        !self.reaped && matches!(self.child.try_wait(), Ok(None))
    }

    /// `n` workers have entered the accepting phase (the `hook-accepting`
    /// line). Only then are their signal handlers installed: a worker still
    /// starting up runs the master's inherited handlers, so a stop signal
    /// that reaches it then is lost and the master waits for it forever
    /// (seen in 3 of 9 runs before this wait).
    fn wait_accepting(&mut self, n: usize) {
        self.wait_for(&format!("{n} accepting worker(s)"), START, |log| {
            (log.lines().filter(|l| *l == ACCEPTING).count() >= n).then_some(())
        });
    }

    /// The master has entered its loop: its signal handlers and the
    /// `hook-master-start` hooks before this line are in place.
    fn wait_master_loop(&mut self) {
        self.wait_for("the master loop", START, |log| {
            log.lines().any(|l| l == MASTER_LOOP).then_some(())
        });
    }

    /// The app's marker file has at least `n` lines: `n` requests are inside it.
    fn wait_started(&mut self, n: usize) {
        let marker = self.dir.join("started");
        self.wait_for(&format!("{n} request(s) inside the app"), START, |_| {
            let text = fs::read_to_string(&marker).ok()?;
            (text.lines().count() >= n).then_some(())
        });
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.reaped {
            // The unreaped master keeps its pid, and so the group id, ours.
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", self.pid())])
                .status();
            let _ = self.child.kill();
            let _ = self.child.wait();
        } else {
            // A group id cannot be reused while members remain: kill those.
            for pid in group_members(self.pid()) {
                let _ = Command::new("kill")
                    .args(["-s", "KILL", &pid.to_string()])
                    .status();
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn group_members(pgid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = fs::read_to_string(e.path().join("stat")).unwrap_or_default();
        // Fields after the command: state ppid pgrp ...
        let pgrp = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<u32>().ok());
        if pgrp == Some(pgid) {
            out.push(pid);
        }
    }
    out
}

/// Send an HTTP/1.0 GET and read until the server closes. An error (reset)
/// counts as no answer, like an empty read.
fn http_get(mut stream: impl Read + Write, target: &str) -> Vec<u8> {
    let req = format!("GET {target} HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut buf = Vec::new();
    if stream.write_all(req.as_bytes()).is_ok() {
        let _ = stream.read_to_end(&mut buf);
    }
    buf
}

fn tcp(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(CLIENT)).unwrap();
    s
}

fn get_tcp(port: u16, target: &str) -> String {
    String::from_utf8_lossy(&http_get(tcp(port), target)).into_owned()
}

/// A request in flight on another thread.
fn in_flight(port: u16, target: &str) -> std::thread::JoinHandle<String> {
    let target = target.to_string();
    std::thread::spawn(move || get_tcp(port, &target))
}

fn complete_200(resp: &str, body: &str) -> bool {
    resp.starts_with("HTTP/1.") && resp.contains(" 200 OK") && resp.ends_with(body)
}

/// A port nobody listens on right now (the OS chose it).
fn free_port(host: &str) -> u16 {
    TcpListener::bind((host, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------- stopping

/// The master logs this line as its last `hook-master-start`.
const MASTER_LOOP: &str = "master-loop";

/// Append after any other `hook-master-start`.
const MASTER_LOOP_HOOK: &str = "hook-master-start = log:master-loop\n";

/// Every worker logs this line once its signal handlers are in place.
const ACCEPTING: &str = "worker-accepting";

const SLOW_SERVER: &str = "[uwsgi]\nmaster = true\nprocesses = 2\nhttp-socket = 127.0.0.1:0\nwsgi-file = slow.py\nhook-accepting = log:worker-accepting\n";

#[test]
fn die_on_term_cuts_the_request_in_flight() {
    let name = "die_on_term_cuts";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let dir = workdir(name);
    let ini = format!("{SLOW_SERVER}die-on-term = true\n{MASTER_LOOP_HOOK}");
    let mut srv = Server::start(&uwsgi, name, &dir, &ini);
    let port = srv.tcp_port(0);
    srv.wait_master_loop();
    srv.wait_accepting(2);
    let client = in_flight(port, "/?3");
    srv.wait_started(1);
    srv.signal("TERM");
    let resp = client.join().unwrap();
    let status = srv.wait_exit();
    let log = srv.log();
    assert!(
        !resp.contains(" 200 ") && !resp.contains("slept"),
        "die-on-term answered the request in flight: {resp:?}\n{log}"
    );
    assert!(
        log.contains("SIGINT/SIGTERM received...killing workers..."),
        "{log}"
    );
    assert!(log.contains("goodbye to uWSGI."), "{log}");
    // The request never finished, so uWSGI never logged it.
    assert!(!log.contains("GET /?3 =>"), "{log}");
    assert_eq!(status.code(), Some(0), "{log}");
}

const GRACEFUL_HOOK: &str = "hook-master-start = unix_signal:15 gracefully_kill_them_all\n";

#[test]
fn graceful_hook_drains_the_request_in_flight() {
    let name = "hook_drains";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let dir = workdir(name);
    let ini = format!("{SLOW_SERVER}{GRACEFUL_HOOK}{MASTER_LOOP_HOOK}");
    let mut srv = Server::start(&uwsgi, name, &dir, &ini);
    let port = srv.tcp_port(0);
    srv.wait_master_loop();
    srv.wait_accepting(2);
    let client = in_flight(port, "/?2");
    srv.wait_started(1);
    srv.signal("TERM");
    let resp = client.join().unwrap();
    let status = srv.wait_exit();
    let log = srv.log();
    assert!(complete_200(&resp, "slept 2.0"), "{resp:?}\n{log}");
    assert!(log.contains("graceful shutdown triggered..."), "{log}");
    assert!(log.contains("Gracefully killing worker"), "{log}");
    assert!(log.contains("goodbye to uWSGI."), "{log}");
    assert_eq!(status.code(), Some(0), "{log}");
}

/// `worker-reload-mercy` does not bound the hook's drain on 2.0.30:
/// `gracefully_kill_them_all` runs inside the master's signal handler and
/// blocks in `waitpid()` on each worker, so the master loop that enforces the
/// mercy only runs once every worker has finished. The `NO MERCY` lines come
/// afterwards, for workers that are already gone.
#[test]
fn worker_reload_mercy_does_not_bound_the_graceful_drain() {
    let name = "mercy_drain";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let dir = workdir(name);
    let ini = format!("{SLOW_SERVER}{GRACEFUL_HOOK}worker-reload-mercy = 1\n{MASTER_LOOP_HOOK}");
    let mut srv = Server::start(&uwsgi, name, &dir, &ini);
    let port = srv.tcp_port(0);
    srv.wait_log("your mercy for graceful operations on workers is 1 seconds");
    srv.wait_master_loop();
    srv.wait_accepting(2);
    // Four times the mercy: a mercy that bounded the drain would cut it.
    let client = in_flight(port, "/?4");
    srv.wait_started(1);
    srv.signal("TERM");
    let resp = client.join().unwrap();
    let status = srv.wait_exit();
    let log = srv.log();
    assert!(complete_200(&resp, "slept 4.0"), "{resp:?}\n{log}");
    let served = log.find("GET /?4 =>").unwrap_or_else(|| panic!("{log}"));
    let no_mercy = log
        .find("is taking too much time to die...NO MERCY !!!")
        .unwrap_or_else(|| panic!("no NO MERCY line\n{log}"));
    assert!(
        no_mercy > served,
        "NO MERCY was logged before the request finished\n{log}"
    );
    assert_eq!(status.code(), Some(0), "{log}");
}

/// The same blocked master does not enforce `harakiri` during the drain
/// either; outside a shutdown the same harakiri cuts the same request.
#[test]
fn harakiri_does_not_bound_the_graceful_drain() {
    let name = "harakiri_drain";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let dir = workdir(name);
    let ini = format!("{SLOW_SERVER}{GRACEFUL_HOOK}harakiri = 1\n{MASTER_LOOP_HOOK}");
    let mut srv = Server::start(&uwsgi, name, &dir, &ini);
    let port = srv.tcp_port(0);
    srv.wait_master_loop();
    srv.wait_accepting(2);
    let control = get_tcp(port, "/?4");
    srv.wait_log("HARAKIRI triggered by worker");
    // The replacement worker must be ready for the stop signal too.
    srv.wait_accepting(3);
    assert!(
        !control.contains("slept"),
        "harakiri = 1 did not cut a 4 s request: {control:?}\n{}",
        srv.log()
    );
    let client = in_flight(port, "/?4");
    srv.wait_started(2);
    srv.signal("TERM");
    let resp = client.join().unwrap();
    let status = srv.wait_exit();
    let log = srv.log();
    assert!(complete_200(&resp, "slept 4.0"), "{resp:?}\n{log}");
    assert_eq!(status.code(), Some(0), "{log}");
}

/// Without die-on-term and without the hook, SIGTERM is a brutal reload: the
/// same master (same pid) serves again with new workers.
#[test]
fn plain_sigterm_reloads_and_keeps_serving() {
    let name = "term_reloads";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let dir = workdir(name);
    // A unix socket keeps its name across the reload (a TCP port 0 would be
    // bound again to a new port).
    let sock = dir.join("http.sock");
    let mut ini = format!(
        "[uwsgi]\nmaster = true\nprocesses = 2\nhttp-socket = {}\nwsgi-file = pid.py\nhook-accepting = log:{ACCEPTING}\n{MASTER_LOOP_HOOK}",
        sock.display()
    );
    if let Some(python) = reload_binary(&uwsgi) {
        ini += &format!("binary-path = {}\n", python.display());
    }
    let mut srv = Server::start(&uwsgi, name, &dir, &ini);
    srv.wait_master_loop();
    srv.wait_accepting(2);
    let get = |sock: &Path| {
        let s = UnixStream::connect(sock).expect("connect");
        s.set_read_timeout(Some(CLIENT)).unwrap();
        String::from_utf8_lossy(&http_get(s, "/")).into_owned()
    };
    let before = get(&sock);
    assert!(complete_200(&before, ""), "{before:?}\n{}", srv.log());
    srv.signal("TERM");
    srv.wait_log("gracefully (RE)spawned uWSGI master process");
    let after = get(&sock);
    let log = srv.log();
    assert!(complete_200(&after, ""), "{after:?}\n{log}");
    assert!(log.contains("...brutally killing workers..."), "{log}");
    assert!(log.contains("binary reloading uWSGI..."), "{log}");
    assert!(
        log.contains(&format!(
            "gracefully (RE)spawned uWSGI master process (pid: {})",
            srv.pid()
        )),
        "{log}"
    );
    let worker = |r: &str| r.rsplit("\r\n\r\n").next().unwrap_or("").to_string();
    assert_ne!(
        worker(&before),
        worker(&after),
        "the workers were not replaced\n{log}"
    );
    assert!(srv.running(), "the master exited after SIGTERM\n{log}");
}

// ------------------------------------------------------------ interpreters

/// `(app 0 address, main interpreter address, other apps' addresses)`.
fn interpreter_addresses(log: &str) -> (String, String, Vec<String>) {
    let addr = |line: &str| {
        line.rsplit_once(" 0x")
            .map(|(_, a)| a.split_whitespace().next().unwrap_or("").to_string())
    };
    let main = log
        .lines()
        .find(|l| l.starts_with("Python main interpreter initialized at"))
        .and_then(addr)
        .unwrap_or_default();
    let mut app0 = String::new();
    let mut others = Vec::new();
    for l in log.lines().filter(|l| l.starts_with("WSGI app ")) {
        let a = l
            .split(" on interpreter 0x")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or("")
            .to_string();
        if l.starts_with("WSGI app 0 ") {
            app0 = a;
        } else {
            others.push(a);
        }
    }
    (app0, main, others)
}

#[test]
fn app_zero_runs_in_the_main_interpreter() {
    let name = "app0_main";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    // `module` for app 0, plus a mounted app as the contrast: it gets a
    // sub-interpreter, so the comparison below can tell them apart.
    let dir = workdir(name);
    let ini = "[uwsgi]\nhttp-socket = 127.0.0.1:0\nmodule = interp\nmount = /other=interp.py\nmanage-script-name = true\n";
    let mut srv = Server::start(&uwsgi, name, &dir, ini);
    let port = srv.tcp_port(0);
    srv.wait_log("WSGI app 1 (mountpoint='/other') ready");
    // (uWSGI prints the mode after the apps are loaded: wait for it, a
    // read right after the line above may come too early.)
    srv.wait_log("*** uWSGI is running in multiple interpreter mode ***");
    let log = srv.log();
    let (app0, main, others) = interpreter_addresses(&log);
    assert!(
        !main.is_empty() && app0 == main,
        "app 0 not on the main interpreter\n{log}"
    );
    assert_eq!(others.len(), 1, "{log}");
    assert_ne!(
        others[0], main,
        "the mounted app shares the main interpreter\n{log}"
    );
    let root = get_tcp(port, "/");
    let other = get_tcp(port, "/other");
    // Where Python exposes its interpreters, the apps confirm it themselves.
    if !root.ends_with("unknown") {
        assert!(complete_200(&root, "main"), "{root:?}\n{log}");
        assert!(complete_200(&other, "sub"), "{other:?}\n{log}");
    }
    drop(srv);

    // `wsgi-file` alone, no single-interpreter: the same.
    let dir = workdir(&format!("{name}-file"));
    let ini = "[uwsgi]\nhttp-socket = 127.0.0.1:0\nwsgi-file = interp.py\n";
    let mut srv = Server::start(&uwsgi, name, &dir, ini);
    srv.wait_log("WSGI app 0 (mountpoint='') ready");
    let log = srv.log();
    let (app0, main, others) = interpreter_addresses(&log);
    assert!(
        !main.is_empty() && app0 == main && others.is_empty(),
        "{log}"
    );
}

// ------------------------------------------------------ %() arithmetic

/// The raw values `--show-config` prints between `[uwsgi]` and its end marker.
fn show_config(uwsgi: &Path, name: &str, ini: &str) -> (Vec<(String, String)>, String) {
    let dir = workdir(name);
    fs::write(dir.join("app.ini"), ini).unwrap();
    let mut cmd = Command::new(uwsgi);
    cmd.current_dir(&dir).env_clear().args([
        "--ini",
        "app.ini",
        "--show-config",
        "--hook-pre-jail",
        "exit:",
    ]);
    let out = common::run_bounded(cmd, START);
    let _ = fs::remove_dir_all(&dir);
    let log =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code, Some(0), "{log}");
    let block = log
        .split_once("\n[uwsgi]\n")
        .and_then(|(_, rest)| rest.split_once(";end of configuration"))
        .map(|(b, _)| b.to_string())
        .unwrap_or_else(|| panic!("no --show-config block\n{log}"));
    let pairs = block
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (pairs, log)
}

#[test]
fn placeholder_arithmetic_has_no_precedence_and_no_parentheses() {
    let name = "arith";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let cases: &[(&str, &str, &str)] = &[
        // key, expression, what 2.0.30 makes of it
        ("x", "%(processes * 2 + 1)", "5"),
        ("paren", "%((processes * 2) + 1)", "1"),
        ("cpus", "%((%k * 2) + 1)", "1"),
        ("left_to_right", "%(1 + processes * 3)", "9"),
        ("numbers", "%(2 + 3 * 4)", "20"),
        ("spaced_parens", "%(( 2 + 3 ) * 4)", "20"),
        ("inner_parens", "%(processes * ( 2 + 1 ))", "3"),
        ("concat", "%(processes processes + 1)", "23"),
        ("unknown_name", "%(processes nosuch)", "2"),
        ("no_space", "%(processes*2)", "%(processes*2)"),
        ("no_space_parens", "%((processes))", "%((processes))"),
        ("div_zero", "%(processes / 0)", "0"),
        ("int_div", "%(7 / 2 * 2)", "6"),
        ("incr", "%(processes ++ ++)", "4"),
        ("negative", "%(3 - 5)", "-2"),
        ("after_nested", "%((processes * 2) + 1) tail", "1 tail"),
        ("stray_close", "%(2 * 3 ) )", "6 )"),
        ("two", "%(processes + 1)%(processes + 2)", "34"),
    ];
    let mut ini = String::from("[uwsgi]\nprocesses = 2\nk = %k\nk_expr = %(%k * 2 + 1)\n");
    for (k, e, _) in cases {
        ini += &format!("{k} = {e}\n");
    }
    let (pairs, log) = show_config(&uwsgi, name, &ini);
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no `{key}` in --show-config\n{log}"))
    };
    for (k, e, want) in cases {
        assert_eq!(get(k), *want, "`{k} = {e}`\n{log}");
    }
    // `%k` is the CPU count uWSGI detects; without parentheses it computes.
    let k: i64 = get("k").parse().unwrap_or_else(|_| panic!("{log}"));
    assert!(
        log.contains(&format!("detected number of CPU cores: {k}\n")),
        "{log}"
    );
    assert_eq!(get("k_expr"), (2 * k + 1).to_string(), "{log}");

    // The parsed number is what the server then uses: one worker.
    let dir = workdir(&format!("{name}-probe"));
    fs::write(
        dir.join("app.ini"),
        "[uwsgi]\nprocesses = %((%k * 2) + 1)\nsocket = 127.0.0.1:0\nwsgi-file = probe.py\n",
    )
    .unwrap();
    let mut cmd = Command::new(&uwsgi);
    cmd.current_dir(&dir).env_clear().args(["--ini", "app.ini"]);
    let out = common::run_bounded(cmd, START);
    let _ = fs::remove_dir_all(&dir);
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(log.contains("PROBE numproc=1\n"), "{log}");
}

// --------------------------------------------------------------- sockets

/// A minimal uwsgi-protocol GET (what `uwsgi_pass` sends).
fn uwsgi_get(port: u16) -> String {
    let port_s = port.to_string();
    let vars = [
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", "/"),
        ("QUERY_STRING", ""),
        ("SERVER_PROTOCOL", "HTTP/1.0"),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", port_s.as_str()),
        ("REMOTE_ADDR", "127.0.0.1"),
    ];
    let mut body = Vec::new();
    for (k, v) in vars {
        for s in [k, v] {
            body.extend_from_slice(&(s.len() as u16).to_le_bytes());
            body.extend_from_slice(s.as_bytes());
        }
    }
    let mut packet = vec![0u8];
    packet.extend_from_slice(&(body.len() as u16).to_le_bytes());
    packet.push(0);
    packet.extend_from_slice(&body);
    let mut s = tcp(port);
    let mut buf = Vec::new();
    if s.write_all(&packet).is_ok() {
        let _ = s.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Local IPv4 addresses listening on `port`, from /proc/net/tcp.
fn listening_on(port: u16) -> Vec<String> {
    let table = fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let mut out = Vec::new();
    for line in table.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let Some((ip, p)) = f.get(1).and_then(|a| a.split_once(':')) else {
            continue;
        };
        if f.get(3) == Some(&"0A") && u16::from_str_radix(p, 16) == Ok(port) {
            let n = u32::from_str_radix(ip, 16).unwrap_or(0);
            // The kernel prints the address in host (little-endian) order.
            out.push(std::net::Ipv4Addr::from(n.swap_bytes()).to_string());
        }
    }
    out
}

#[test]
fn socket_value_with_an_inline_comment_binds_its_port() {
    let name = "socket_comment";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let dir = workdir(name);
    let (http, uw, any) = (
        free_port("127.0.0.1"),
        free_port("127.0.0.1"),
        free_port("0.0.0.0"),
    );
    let ini = format!(
        "[uwsgi]\nhttp-socket = 127.0.0.1:{http} #Port number\nsocket = 127.0.0.1:{uw} #Port number\nsocket = :{any} ; comment\nwsgi-file = pid.py\n"
    );
    let mut srv = Server::start(&uwsgi, name, &dir, &ini);
    srv.wait_log("WSGI app 0 (mountpoint='') ready");
    let log = srv.log();
    // The log repeats the value, comment and all.
    for line in [
        format!("uwsgi socket 0 bound to TCP address 127.0.0.1:{http} #Port number fd "),
        format!("uwsgi socket 1 bound to TCP address 127.0.0.1:{uw} #Port number fd "),
        format!("uwsgi socket 2 bound to TCP address :{any} ; comment fd "),
    ] {
        assert!(log.contains(&line), "no `{line}`\n{log}");
    }
    // What is really bound: the port before the comment, and for `:PORT`
    // every IPv4 address.
    assert_eq!(listening_on(http), ["127.0.0.1"], "{log}");
    assert_eq!(listening_on(uw), ["127.0.0.1"], "{log}");
    assert_eq!(listening_on(any), ["0.0.0.0"], "{log}");
    let r = get_tcp(http, "/");
    assert!(complete_200(&r, ""), "http-socket: {r:?}\n{log}");
    for port in [uw, any] {
        let r = uwsgi_get(port);
        assert!(
            r.starts_with("HTTP/1.0 200 OK"),
            "socket :{port}: {r:?}\n{log}"
        );
    }
}

// ---------------------------------------------------- decimal sizes

/// Two requests to a one-worker server: did the worker recycle in between?
fn recycles_after_a_request(uwsgi: &Path, value: &str) -> bool {
    let name = format!("rss_{}", value.replace('.', "_"));
    let dir = workdir(&name);
    // min-worker-lifetime = 0 lets the worker recycle after its first request.
    let ini = format!(
        "[uwsgi]\nmaster = true\nprocesses = 1\nmin-worker-lifetime = 0\nreload-on-rss = {value}\nhttp-socket = 127.0.0.1:0\nwsgi-file = pid.py\n"
    );
    let mut srv = Server::start(uwsgi, &name, &dir, &ini);
    let port = srv.tcp_port(0);
    srv.wait_log("spawned uWSGI worker 1");
    let body = |r: String| r.rsplit("\r\n\r\n").next().unwrap_or("").to_string();
    let first = body(get_tcp(port, "/"));
    let second = body(get_tcp(port, "/"));
    let log = srv.log();
    assert!(
        first.parse::<u32>().is_ok() && second.parse::<u32>().is_ok(),
        "{first:?} {second:?}\n{log}"
    );
    let recycled = first != second;
    assert_eq!(
        recycled,
        log.contains(&format!("...The work of process {first} is done. Seeya!")),
        "{log}"
    );
    recycled
}

/// Run the probe app with extra options; the log.
fn probe_log(uwsgi: &Path, name: &str, ini: &str) -> String {
    let dir = workdir(name);
    fs::write(dir.join("app.ini"), ini).unwrap();
    let mut cmd = Command::new(uwsgi);
    cmd.current_dir(&dir)
        .env_clear()
        .args(["--ini", "app.ini", "--wsgi-file", "probe.py"]);
    let out = common::run_bounded(cmd, START);
    let _ = fs::remove_dir_all(&dir);
    assert!(!out.timed_out, "{name} timed out");
    String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout)
}

#[test]
fn decimal_sizes_read_their_integer_part_in_mib() {
    let name = "decimal_sizes";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    // reload-on-rss is MiB (the suffix is ignored): 1.5G and 1.0G read 1 MiB,
    // below any worker's RSS, so the worker recycles after every request;
    // 0.5G reads 0, which switches the check off.
    assert!(recycles_after_a_request(&uwsgi, "1.5G"));
    assert!(recycles_after_a_request(&uwsgi, "1.0G"));
    assert!(!recycles_after_a_request(&uwsgi, "0.5G"));

    // limit-as has the same parser and prints the number it read.
    for (value, read) in [
        ("1.5G", Some("1048576 bytes (1 MB)")),
        ("1.0G", Some("1048576 bytes (1 MB)")),
        ("0.5G", None),
        ("512M", Some("536870912 bytes (512 MB)")),
    ] {
        let log = probe_log(
            &uwsgi,
            &format!("limit_as_{}", value.replace('.', "_")),
            &format!("[uwsgi]\nlimit-as = {value}\nsocket = 127.0.0.1:0\n"),
        );
        match read {
            Some(r) => assert!(
                log.contains(&format!("your process address space limit is {r}")),
                "limit-as = {value}\n{log}"
            ),
            None => {
                assert!(
                    !log.contains("limiting address space"),
                    "limit-as = {value}\n{log}"
                );
                assert!(log.contains("PROBE numproc=1"), "{log}");
            }
        }
    }
}

// ---------------------------------------------------------------- cheaper

/// Worker statuses from the stats server, which the master answers only
/// from its loop, after spawning the initial workers.
fn worker_statuses(uwsgi: &Path, cheaper: &str) -> Vec<String> {
    let name = format!("cheaper_{cheaper}");
    let dir = workdir(&name);
    let stats = dir.join("stats.sock");
    let ini = format!(
        "[uwsgi]\nmaster = true\nprocesses = 4\ncheaper = {cheaper}\nhttp-socket = 127.0.0.1:0\nwsgi-file = pid.py\nstats = {}\n",
        stats.display()
    );
    let mut srv = Server::start(uwsgi, &name, &dir, &ini);
    srv.wait_log("Stats server enabled on");
    let mut s = UnixStream::connect(&stats).expect("connect to the stats socket");
    s.set_read_timeout(Some(CLIENT)).unwrap();
    let mut json = String::new();
    s.read_to_string(&mut json).expect("read stats");
    let v: serde_json::Value = serde_json::from_str(&json)
        .unwrap_or_else(|e| srv.fail(&format!("stats JSON: {e}: {json}")));
    v["workers"]
        .as_array()
        .unwrap_or_else(|| srv.fail(&format!("no workers in {json}")))
        .iter()
        .map(|w| w["status"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn cheaper_true_reads_zero_and_leaves_the_cheaper_subsystem_off() {
    let name = "cheaper_true";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    // `true` reads 0 (atoi), and cheaper 0 turns the subsystem off: all four
    // workers run.
    let on = worker_statuses(&uwsgi, "true");
    assert_eq!(on.len(), 4, "{on:?}");
    assert!(on.iter().all(|s| s != "cheap"), "{on:?}");
    // The contrast: cheaper = 1 starts one worker and keeps three cheap.
    let one = worker_statuses(&uwsgi, "1");
    assert_eq!(one.iter().filter(|s| *s == "cheap").count(), 3, "{one:?}");
}

// --------------------------------------------------- module and wsgi-file

#[test]
fn module_wins_over_wsgi_file() {
    let name = "module_wins";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    for order in [
        "module = modapp\nwsgi-file = fileapp.py\n",
        "wsgi-file = fileapp.py\nmodule = modapp\n",
    ] {
        let dir = workdir(name);
        let ini = format!("[uwsgi]\nhttp-socket = 127.0.0.1:0\n{order}");
        let mut srv = Server::start(&uwsgi, name, &dir, &ini);
        let port = srv.tcp_port(0);
        srv.wait_log("mountpoint  already configured. skip.");
        let resp = get_tcp(port, "/");
        let log = srv.log();
        assert!(complete_200(&resp, "modapp"), "{order}: {resp:?}\n{log}");
        assert!(log.contains("IMPORTED modapp"), "{log}");
        assert!(
            !log.contains("IMPORTED fileapp"),
            "{order}: the file was imported\n{log}"
        );
        assert_eq!(log.matches("WSGI app ").count(), 1, "{log}");
    }
}

// ------------------------------------------------- Nginx in front of uWSGI

/// A running Nginx with its prefix, config, pid file, logs and temp paths in
/// its own directory. It leads its own process group, so dropping the guard
/// kills the master and its workers.
struct Nginx {
    name: String,
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Nginx {
    /// Start Nginx with `locations` in a server on 127.0.0.1. Nginx cannot
    /// listen on port 0 and say where, so it gets a port the OS just chose,
    /// and is started again on another one if something took it meanwhile.
    fn start(nginx: &Path, name: &str, dir: &Path, locations: &str) -> Nginx {
        for _ in 0..5 {
            let _ = fs::remove_dir_all(dir);
            fs::create_dir_all(dir).unwrap();
            let port = free_port("127.0.0.1");
            let d = dir.display();
            // As root, workers would otherwise run as `nobody`, which cannot
            // write the temp paths; elsewhere `user` only earns a warning.
            let user = if running_as_root() {
                "user root;\n"
            } else {
                ""
            };
            let conf = format!(
                "{user}worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
                 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
                 server {{\n    listen 127.0.0.1:{port};\n{locations}  }}\n}}\n"
            );
            fs::write(dir.join("nginx.conf"), conf).unwrap();
            let out = fs::File::create(dir.join("stderr.log")).unwrap();
            let err = out.try_clone().unwrap();
            let child = Command::new(nginx)
                .arg("-p")
                .arg(dir)
                .args(["-c", "nginx.conf", "-g", "daemon off;", "-e"])
                .arg(dir.join("error.log"))
                .env_clear()
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .process_group(0)
                .spawn()
                .expect("spawn nginx");
            let mut ng = Nginx {
                name: name.to_string(),
                child,
                dir: dir.to_path_buf(),
                port,
            };
            // Nginx writes its pid file once its sockets are listening.
            let start = Instant::now();
            loop {
                if fs::read_to_string(dir.join("nginx.pid")).is_ok_and(|p| p.ends_with('\n')) {
                    return ng;
                }
                if let Ok(Some(status)) = ng.child.try_wait() {
                    if ng.log().contains("Address already in use") {
                        break;
                    }
                    ng.fail(&format!("nginx exited ({status}) while starting"));
                }
                if start.elapsed() > START {
                    ng.fail(&format!("nginx not listening within {START:?}"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("{name}: nginx found its port taken five times in a row");
    }

    fn log(&self) -> String {
        let read = |f: &str| {
            String::from_utf8_lossy(&fs::read(self.dir.join(f)).unwrap_or_default()).into_owned()
        };
        read("error.log") + &read("stderr.log")
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "{}: {what}\n--- nginx log ---\n{}--- end of log ---",
            self.name,
            self.log()
        );
    }

    fn get(&self, target: &str) -> String {
        get_tcp(self.port, target)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in group_members(self.child.id()) {
            let _ = Command::new("kill")
                .args(["-s", "KILL", &pid.to_string()])
                .status();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        .unwrap_or(false)
}

/// The CGI variables a uwsgi_pass location needs (Nginx's own uwsgi_params
/// file, trimmed to what the apps read).
const UWSGI_PARAMS: &str = "uwsgi_param REQUEST_METHOD $request_method;\nuwsgi_param QUERY_STRING $query_string;\n\
uwsgi_param REQUEST_URI $request_uri;\nuwsgi_param CONTENT_TYPE $content_type;\n\
uwsgi_param CONTENT_LENGTH $content_length;\n\
uwsgi_param PATH_INFO $document_uri;\nuwsgi_param SERVER_PROTOCOL $server_protocol;\n\
uwsgi_param SERVER_NAME $server_name;\nuwsgi_param SERVER_PORT $server_port;\nuwsgi_param REMOTE_ADDR $remote_addr;\n";

/// UW407: the `proxy_*` directives belong to `proxy_pass`; next to
/// `uwsgi_pass` Nginx accepts them without a word and ignores them. The same
/// directives under `proxy_pass` to the same uWSGI are the contrast.
#[test]
fn proxy_directives_do_nothing_next_to_uwsgi_pass() {
    let name = "nginx_proxy_on_uwsgi";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let Some(nginx) = common::nginx_oracle(name) else {
        return;
    };
    let dir = workdir(name);
    // Socket 0 speaks uwsgi (for uwsgi_pass), socket 1 HTTP (for proxy_pass).
    let ini = "[uwsgi]\nmaster = true\nprocesses = 2\nsocket = 127.0.0.1:0\nhttp-socket = 127.0.0.1:0\nwsgi-file = echo.py\n";
    let mut srv = Server::start(&uwsgi, name, &dir, ini);
    let (up, hp) = (srv.tcp_port(0), srv.tcp_port(1));
    srv.wait_log("WSGI app 0 (mountpoint='') ready");
    let params = dir.join("uwsgi_params");
    fs::write(&params, UWSGI_PARAMS).unwrap();
    let uw = |directive: &str| {
        format!(
            "{directive} uwsgi_pass 127.0.0.1:{up}; include {};",
            params.display()
        )
    };
    let http = |directive: &str| format!("{directive} proxy_pass http://127.0.0.1:{hp};");
    let locations = [
        ("/uwsgi/proxy_read_timeout", uw("proxy_read_timeout 1s;")),
        ("/uwsgi/uwsgi_read_timeout", uw("uwsgi_read_timeout 1s;")),
        ("/http/proxy_read_timeout", http("proxy_read_timeout 1s;")),
        (
            "/uwsgi/proxy_set_header",
            uw("proxy_set_header X-Test abc;"),
        ),
        ("/uwsgi/uwsgi_param", uw("uwsgi_param HTTP_X_TEST abc;")),
        (
            "/http/proxy_set_header",
            http("proxy_set_header X-Test abc;"),
        ),
    ]
    .iter()
    .map(|(path, body)| format!("    location {path} {{ {body} }}\n"))
    .collect::<String>();
    let ng = Nginx::start(&nginx, name, &dir.join("nginx"), &locations);
    let logs = |ng: &Nginx, srv: &Server| format!("{}\n--- uWSGI ---\n{}", ng.log(), srv.log());

    // The app sleeps 2 s before it answers, so a 200 means Nginx waited past
    // the 1 s that proxy_read_timeout asked for.
    let r = ng.get("/uwsgi/proxy_read_timeout?2");
    let quiet = "remote_addr=127.0.0.1 x_test=<absent>";
    assert!(complete_200(&r, quiet), "{r:?}\n{}", logs(&ng, &srv));
    let r = ng.get("/uwsgi/uwsgi_read_timeout?2");
    assert!(
        r.starts_with("HTTP/1.1 504 Gateway Time-out\r\n"),
        "{r:?}\n{}",
        logs(&ng, &srv)
    );
    let r = ng.get("/http/proxy_read_timeout?2");
    assert!(
        r.starts_with("HTTP/1.1 504 Gateway Time-out\r\n"),
        "{r:?}\n{}",
        logs(&ng, &srv)
    );
    let log = ng.log();
    for upstream in [
        format!("upstream: \"uwsgi://127.0.0.1:{up}\""),
        format!("upstream: \"http://127.0.0.1:{hp}/"),
    ] {
        assert!(
            log.lines().any(|l| l.contains("upstream timed out (110: Connection timed out) while reading response header from upstream") && l.contains(&upstream)),
            "no time-out logged for {upstream}\n{log}"
        );
    }

    // Headers: proxy_set_header never reaches the app behind uwsgi_pass.
    let r = ng.get("/uwsgi/proxy_set_header");
    assert!(complete_200(&r, quiet), "{r:?}\n{}", logs(&ng, &srv));
    let r = ng.get("/uwsgi/uwsgi_param");
    assert!(
        complete_200(&r, "remote_addr=127.0.0.1 x_test=abc"),
        "{r:?}\n{}",
        logs(&ng, &srv)
    );
    let r = ng.get("/http/proxy_set_header");
    assert!(
        complete_200(&r, "remote_addr=127.0.0.1 x_test=abc"),
        "{r:?}\n{}",
        logs(&ng, &srv)
    );
    // Nginx said nothing about the misplaced directives.
    assert!(!log.contains("[warn]") && !log.contains("[emerg]"), "{log}");
}

/// Bytes a slow client uploads, in `UPLOAD_CHUNKS` equal chunks.
const UPLOAD_BYTES: usize = 40_000;
const UPLOAD_CHUNKS: usize = 10;
/// The client's own pause between chunks: nine pauses make a 4.5 s upload,
/// well past `harakiri = 2` (which the master enforces within about 3 s).
const UPLOAD_PAUSE: Duration = Duration::from_millis(500);

/// POST `UPLOAD_BYTES` announced up front by Content-Length, sent in chunks
/// with a pause before each but the first; `after(i)` runs once chunk `i` is
/// out. A write the server refuses ends the upload; whatever answer comes
/// back is returned (empty if the connection was reset).
fn slow_upload(port: u16, target: &str, mut after: impl FnMut(usize)) -> String {
    let mut s = tcp(port);
    let head = format!(
        "POST {target} HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: {UPLOAD_BYTES}\r\n\r\n"
    );
    let chunk = vec![b'x'; UPLOAD_BYTES / UPLOAD_CHUNKS];
    let mut sent = s.write_all(head.as_bytes()).is_ok();
    for i in 0..UPLOAD_CHUNKS {
        if !sent {
            break;
        }
        if i > 0 {
            std::thread::sleep(UPLOAD_PAUSE);
        }
        sent = s.write_all(&chunk).is_ok();
        after(i);
    }
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

/// UW305: without `post-buffering` the app reads the body from the socket
/// while the request runs, so a slow upload counts against `harakiri`. Nginx
/// buffers request bodies by default and so shields uWSGI from the slow
/// client; `uwsgi_request_buffering off` takes the shield away.
#[test]
fn slow_upload_is_killed_by_harakiri_only_when_nginx_does_not_buffer() {
    let name = "harakiri_slow_upload";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let Some(nginx) = common::nginx_oracle(name) else {
        return;
    };
    let dir = workdir(name);
    let ini = "[uwsgi]\nmaster = true\nprocesses = 1\nharakiri = 2\nsocket = 127.0.0.1:0\nwsgi-file = upload.py\n";
    let mut srv = Server::start(&uwsgi, name, &dir, ini);
    let up = srv.tcp_port(0);
    srv.wait_log("WSGI app 0 (mountpoint='') ready");
    let params = dir.join("uwsgi_params");
    fs::write(&params, UWSGI_PARAMS).unwrap();
    let pass = format!("include {}; uwsgi_pass 127.0.0.1:{up};", params.display());
    let locations = format!(
        "    client_max_body_size 10m;\n    location /buffered {{ {pass} }}\n    \
         location /unbuffered {{ uwsgi_request_buffering off; {pass} }}\n"
    );
    let ng = Nginx::start(&nginx, name, &dir.join("nginx"), &locations);
    let logs = |ng: &Nginx, srv: &Server| format!("{}\n--- uWSGI ---\n{}", ng.log(), srv.log());
    let marker = dir.join("started");

    // Buffered: the app sees nothing until the last chunk is in, then reads
    // the whole body at once, well inside harakiri.
    let r = slow_upload(ng.port, "/buffered", |i| {
        if i == UPLOAD_CHUNKS - 2 {
            assert!(
                !marker.exists(),
                "the app got the request before the body was complete\n{}",
                logs(&ng, &srv)
            );
        }
    });
    assert!(
        complete_200(&r, &format!("read {UPLOAD_BYTES}")),
        "{r:?}\n{}",
        logs(&ng, &srv)
    );
    assert!(!srv.log().contains("HARAKIRI"), "{}", logs(&ng, &srv));

    // Unbuffered: the request reaches the app with the first chunk and the
    // app waits on the client for the rest, until harakiri kills it.
    let _ = fs::remove_file(&marker);
    let r = slow_upload(ng.port, "/unbuffered", |i| {
        if i == 0 {
            srv.wait_started(1);
        }
    });
    assert!(
        r.starts_with("HTTP/1.1 502 Bad Gateway\r\n"),
        "{r:?}\n{}",
        logs(&ng, &srv)
    );
    srv.wait_log("*** HARAKIRI ON WORKER 1 ");
    let log = srv.log();
    assert!(
        log.contains("HARAKIRI [core 0] 127.0.0.1 - POST /unbuffered since "),
        "{log}"
    );
    // uWSGI itself warns about this combination when it starts.
    assert!(
        log.contains("WARNING: you have enabled harakiri without post buffering"),
        "{log}"
    );
}

// ------------------------------------------------------- PROXY protocol

/// An HTTP/1.0 GET preceded by a PROXY protocol v1 line claiming 1.2.3.4.
fn proxied_get(port: u16) -> String {
    let mut s = tcp(port);
    let req = "PROXY TCP4 1.2.3.4 127.0.0.1 1111 2222\r\nGET / HTTP/1.0\r\nHost: localhost\r\n\r\n";
    let mut buf = Vec::new();
    if s.write_all(req.as_bytes()).is_ok() {
        let _ = s.read_to_end(&mut buf);
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// UW119: `http-enable-proxy-protocol` belongs to the HTTP router (`http =`);
/// on a server with only `http-socket` it is accepted and does nothing, so a
/// PROXY line is read as a broken request. `enable-proxy-protocol` is the
/// option for the socket itself.
#[test]
fn router_proxy_protocol_option_does_nothing_on_an_http_socket() {
    let name = "router_proxy_protocol";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let base = "[uwsgi]\nmaster = true\nhttp-socket = 127.0.0.1:0\nwsgi-file = echo.py\n";
    let plain_ok = "remote_addr=127.0.0.1 x_test=<absent>";

    let dir = workdir(name);
    let ini = format!("{base}http-enable-proxy-protocol = true\n");
    let mut srv = Server::start(&uwsgi, name, &dir, &ini);
    let port = srv.tcp_port(0);
    srv.wait_log("WSGI app 0 (mountpoint='') ready");
    let r = proxied_get(port);
    // The answer is nothing at all: uWSGI closes the connection.
    assert_eq!(r, "", "{}", srv.log());
    srv.wait_log("invalid HTTP request");
    let r = get_tcp(port, "/");
    let log = srv.log();
    assert!(complete_200(&r, plain_ok), "{r:?}\n{log}");
    assert!(!log.contains("1.2.3.4"), "{log}");
    drop(srv);

    let dir = workdir(&format!("{name}-socket"));
    let ini = format!("{base}enable-proxy-protocol = true\n");
    let mut srv = Server::start(&uwsgi, name, &dir, &ini);
    let port = srv.tcp_port(0);
    srv.wait_log("WSGI app 0 (mountpoint='') ready");
    let r = proxied_get(port);
    assert!(
        complete_200(&r, "remote_addr=1.2.3.4 x_test=<absent>"),
        "{r:?}\n{}",
        srv.log()
    );
    // The PROXY line is optional there: a plain request still works.
    let r = get_tcp(port, "/");
    let log = srv.log();
    assert!(complete_200(&r, plain_ok), "{r:?}\n{log}");
    assert!(log.contains("] 1.2.3.4 () {"), "{log}");
    assert!(!log.contains("invalid HTTP request"), "{log}");
}

// ------------------------------------------------------------ stats server

/// The local TCP port of the socket `pid` holds as descriptor `fd`.
fn port_of_fd(pid: u32, fd: u32) -> Option<u16> {
    let link = fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    let inode = link
        .to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .to_string();
    let table = fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(9) != Some(&inode.as_str()) {
            return None;
        }
        u16::from_str_radix(f.get(1)?.split_once(':')?.1, 16).ok()
    })
}

/// UW610: the stats server writes its JSON to whoever connects, at once,
/// without reading a byte or asking for any credential.
#[test]
fn stats_server_answers_any_client_without_authentication() {
    let name = "stats_public";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let dir = workdir(name);
    let ini = "[uwsgi]\nmaster = true\nprocesses = 2\nhttp-socket = 127.0.0.1:0\nwsgi-file = echo.py\nstats = 127.0.0.1:0\n";
    let mut srv = Server::start(&uwsgi, name, &dir, ini);
    let http = srv.tcp_port(0);
    // The log repeats `:0`; the real port comes from the master's descriptor.
    let prefix = "*** Stats server enabled on 127.0.0.1:0 fd: ";
    let fd: u32 = srv.wait_for("the stats server", START, |log| {
        let rest = &log[log.find(prefix)? + prefix.len()..];
        rest.split_whitespace().next()?.parse().ok()
    });
    let pid = srv.pid();
    let stats = port_of_fd(pid, fd).unwrap_or_else(|| srv.fail("no port for the stats socket"));
    let r = get_tcp(http, "/");
    assert!(
        complete_200(&r, "remote_addr=127.0.0.1 x_test=<absent>"),
        "{r:?}\n{}",
        srv.log()
    );

    let read_stats = || {
        // Connect, send nothing, read until the server closes.
        let mut s = tcp(stats);
        let mut json = String::new();
        s.read_to_string(&mut json).ok()?;
        serde_json::from_str::<serde_json::Value>(&json).ok()
    };
    // The worker counts the request after the client has its answer.
    let v = srv.wait_for("the request in the stats", START, |_| {
        let v = read_stats()?;
        let total: u64 = v["workers"]
            .as_array()?
            .iter()
            .filter_map(|w| w["requests"].as_u64())
            .sum();
        (total == 1).then_some(v)
    });
    let log = srv.log();
    let workers = v["workers"].as_array().unwrap();
    assert_eq!(workers.len(), 2, "{v}\n{log}");
    let members = group_members(pid);
    for w in workers {
        let wpid = w["pid"].as_u64().unwrap_or_else(|| panic!("{w}"));
        assert!(
            members.contains(&(wpid as u32)),
            "worker pid {wpid} is not a live worker\n{v}"
        );
        assert!(w["requests"].is_u64() && w["rss"].is_u64(), "{w}");
    }
    // It also tells the master's pid, the version, the directory and the sockets.
    assert_eq!(v["pid"].as_u64(), Some(u64::from(pid)), "{v}");
    assert!(
        v["version"].as_str().is_some_and(|s| s.starts_with("2.0.")),
        "{v}"
    );
    assert_eq!(
        v["cwd"].as_str().map(|c| common::canonical(Path::new(c))),
        Some(common::canonical(&dir)),
        "{v}"
    );
    assert_eq!(
        v["sockets"][0]["name"].as_str(),
        Some(&*format!("127.0.0.1:{http}")),
        "{v}"
    );
}
