//! The proof obligation of memory-model.md, against the real server: uWSGI
//! (pyuwsgi) runs a WSGI app that leaks a known amount per request; its
//! memory-report log feeds `advise` with a budget; the advised config, under
//! thousands of requests on loopback, keeps master + workers (RSS summed from
//! /proc) under the budget, while the same load on the unadvised config goes
//! above it. The growth `advise` measures must be within 20 % of the leak.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the app leaks per request.
const LEAK: u64 = 128 << 10;
const BUDGET: u64 = 256 << 20;

const APP: &str = "import time\nLEAK = []\n\ndef application(env, start_response):\n    # A new bytes object is written in full, so its pages are resident.\n    LEAK.append(b'x' * 131072)\n    time.sleep(0.01)\n    start_response('200 OK', [('Content-Type', 'text/plain')])\n    return [b'ok']\n";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// RSS (bytes) of `pid` and of every process whose parent it is.
fn unit_rss(master: u32) -> u64 {
    let rss = |pid: &str| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            })
            .map_or(0, |kib| kib * 1024)
    };
    let mut total = rss(&master.to_string());
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{name}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`: the comm may hold spaces.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(master) {
            total += rss(&name);
        }
    }
    total
}

struct Server {
    child: Child,
    port: u16,
    stats: u16,
    dir: PathBuf,
}

impl Server {
    fn start(uwsgi: &Path, dir: &Path, ini: &str) -> Server {
        let port = free_port();
        let stats = loop {
            // Two ephemeral ports taken one after the other can coincide.
            let p = free_port();
            if p != port {
                break p;
            }
        };
        std::fs::write(dir.join("app.py"), APP).unwrap();
        std::fs::write(
            dir.join("uwsgi.ini"),
            ini.replace("SPORT", &stats.to_string())
                .replace("PORT", &port.to_string()),
        )
        .unwrap();
        let log = dir.join("uwsgi.log");
        let _ = std::fs::remove_file(&log);
        let mut cmd = Command::new(uwsgi);
        // uWSGI reads every `UWSGI_*` variable as an option (`UWSGI_ORACLE`
        // from .ci/run would be `--oracle`, which `strict` refuses).
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("UWSGI_") {
                cmd.env_remove(k);
            }
        }
        let child = cmd
            .current_dir(dir)
            .args(["--ini", "uwsgi.ini", "--logto"])
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("uwsgi.stderr")).unwrap())
            .spawn()
            .expect("start uwsgi");
        let s = Server {
            child,
            port,
            stats,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while get(port).is_err() {
            assert!(
                Instant::now() < deadline,
                "uWSGI did not start: {}",
                s.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        s
    }

    /// The log, and what uWSGI printed before its log was open.
    fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("uwsgi.log")).unwrap_or_default();
        let early = std::fs::read_to_string(self.dir.join("uwsgi.stderr")).unwrap_or_default();
        format!("{early}{log}")
    }

    /// `requests` requests from 4 clients; the peak unit RSS seen meanwhile.
    fn load(&self, requests: u64) -> u64 {
        let done = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let sampler = {
            let (done, peak) = (done.clone(), peak.clone());
            let pid = self.child.id();
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(unit_rss(pid), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        };
        let next = Arc::new(AtomicU64::new(0));
        let clients: Vec<_> = (0..4)
            .map(|_| {
                let (next, port) = (next.clone(), self.port);
                std::thread::spawn(move || {
                    while next.fetch_add(1, Ordering::Relaxed) < requests {
                        // A recycled worker can drop a connection: retry.
                        for _ in 0..20 {
                            if get(port).is_ok() {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                })
            })
            .collect();
        for c in clients {
            c.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        sampler.join().unwrap();
        peak.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGINT stops uWSGI 2.0 (SIGTERM would reload it).
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(port: u16) -> std::io::Result<()> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    if buf.starts_with(b"HTTP/1.0 200") || buf.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(std::io::Error::other("not 200"))
    }
}

const UNADVISED: &str = "[uwsgi]\nmaster = true\nhttp-socket = 127.0.0.1:PORT\nstats = 127.0.0.1:SPORT\nwsgi-file = app.py\nprocesses = 2\nmax-requests = 5000\nmemory-report = true\ndisable-logging = false\n";

#[test]
fn advice_keeps_the_real_server_under_its_budget() {
    let Some(uwsgi) = common::uwsgi_oracle("advice_keeps_the_real_server_under_its_budget") else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // 1. Measure the app: a short run with memory-report on; the log, and
    // the live stats server sampled by `advise --stats`.
    let lint = env!("CARGO_BIN_EXE_uwsgi-lint");
    let measured_log = dir.join("measure.log");
    {
        let s = Server::start(&uwsgi, &dir, UNADVISED);
        s.load(600);
        std::fs::write(&measured_log, s.log()).unwrap();
        let addr = format!("127.0.0.1:{}", s.stats);
        let out = Command::new(lint)
            .current_dir(&dir)
            .args([
                "advise",
                "--no-config",
                "--format",
                "json",
                "--memory-limit",
                "256MiB",
            ])
            .args([
                "--stats",
                &addr,
                "--samples",
                "3",
                "--interval",
                "0.2",
                "uwsgi.ini",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let est = &v["measurements"]["estimates"];
        assert_eq!(est["workers"], 2, "{v}");
        // Both workers served requests and grew: the stats baseline is
        // above the app's idle size.
        assert!(est["baseline"].as_u64().unwrap() > 4 << 20, "{est}");
    }

    // 2. Ask for advice under the budget, as JSON and applied in place.
    std::fs::write(dir.join("uwsgi.ini"), UNADVISED.replace("PORT", "9")).unwrap();
    let out = Command::new(lint)
        .current_dir(&dir)
        .args([
            "advise",
            "--no-config",
            "--format",
            "json",
            "--memory-limit",
            "256MiB",
            "--log",
        ])
        .arg(&measured_log)
        .arg("uwsgi.ini")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let growth = v["measurements"]["estimates"]["growth"]
        .as_f64()
        .expect("growth measured");
    let err = (growth - LEAK as f64).abs() / LEAK as f64;
    assert!(
        err < 0.2,
        "measured {growth:.0} B/request for a {LEAK} B leak ({:.0} %)",
        err * 100.0
    );
    let recs = v["deployments"][0]["recommendations"].as_array().unwrap();
    let value = |o: &str| {
        recs.iter()
            .find(|r| r["option"] == o)
            .map(|r| r["value"].as_str().unwrap().to_string())
    };
    assert!(
        value("reload-on-rss").is_some() && value("evil-reload-on-rss").is_some(),
        "{v}"
    );

    let ini = UNADVISED.to_string();
    std::fs::write(dir.join("template.ini"), &ini).unwrap();
    let out = Command::new(lint)
        .current_dir(&dir)
        .args([
            "advise",
            "--no-config",
            "--write",
            "--memory-limit",
            "256MiB",
            "--log",
        ])
        .arg(&measured_log)
        .arg("template.ini")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let advised = std::fs::read_to_string(dir.join("template.ini")).unwrap();
    assert!(advised.contains("reload-on-rss = "), "{advised}");

    // 3. The same load on both configs.
    let requests = 3000;
    let peak_advised = {
        let s = Server::start(&uwsgi, &dir, &advised);
        let peak = s.load(requests);
        let log = s.log();
        assert!(
            log.contains("recycling") || log.contains("RSS") || log.contains("Respawned"),
            "the advised config never recycled a worker:\n{log}"
        );
        peak
    };
    let peak_unadvised = {
        let s = Server::start(&uwsgi, &dir, UNADVISED);
        s.load(requests)
    };
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    eprintln!(
        "budget {:.0} MiB: advised peak {:.1} MiB, unadvised peak {:.1} MiB; growth {:.1} KiB/request\n{advised}",
        mib(BUDGET),
        mib(peak_advised),
        mib(peak_unadvised),
        growth / 1024.0
    );
    assert!(
        peak_advised < BUDGET,
        "advised config peaked at {:.1} MiB",
        mib(peak_advised)
    );
    assert!(
        peak_unadvised > BUDGET,
        "unadvised config stayed at {:.1} MiB",
        mib(peak_unadvised)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
