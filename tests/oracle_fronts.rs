//! What UW402 says of a front that is not Nginx, checked on the real uWSGI
//! (pyuwsgi 2.0.30): an ALB, an Ingress controller or Traefik sends plain
//! HTTP, and a `socket =` speaks the uwsgi protocol — it answers an HTTP
//! request with no HTTP response at all (the front turns that into a 502),
//! while the same server answers a uwsgi-protocol request, and an
//! `http-socket` answers the HTTP request. And what UW404 says of a front
//! with a larger body limit: uWSGI refuses a body above `limit-post`
//! before the app sees it.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the server's whole process group however the test ends.
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Send `bytes`, close our side, read what the server sends until it closes.
fn exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // A server that refuses the request may close before all is written.
    let _ = s.write_all(bytes);
    let _ = s.shutdown(Shutdown::Write);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    buf
}

/// A minimal uwsgi-protocol GET (what `uwsgi_pass` sends).
fn uwsgi_packet() -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in [
        ("REQUEST_METHOD", "GET"),
        ("PATH_INFO", "/"),
        ("SERVER_PROTOCOL", "HTTP/1.0"),
        ("SERVER_NAME", "localhost"),
        ("SERVER_PORT", "80"),
    ] {
        for s in [k, v] {
            body.extend_from_slice(&(s.len() as u16).to_le_bytes());
            body.extend_from_slice(s.as_bytes());
        }
    }
    let mut p = vec![0u8];
    p.extend_from_slice(&(body.len() as u16).to_le_bytes());
    p.push(0);
    p.extend_from_slice(&body);
    p
}

/// A started uWSGI (killed on drop) and the ports of its TCP sockets.
struct Server {
    _group: Group,
    dir: std::path::PathBuf,
    log: std::path::PathBuf,
    ports: Vec<u16>,
}

impl Server {
    /// Start `ini` (its sockets on `127.0.0.1:0`: the OS chooses) with the
    /// fixture app `app` and wait until `n` sockets are bound and a worker
    /// serves.
    fn start(uwsgi: &std::path::Path, name: &str, ini: &str, app: &str, n: usize) -> Server {
        let dir =
            std::env::temp_dir().join(format!("uwsgi-lint-fronts-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            common::manifest_dir()
                .join("tests/fixtures/runtime")
                .join(app),
            dir.join(app),
        )
        .unwrap();
        std::fs::write(dir.join("app.ini"), ini).unwrap();
        let log = dir.join("uwsgi.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(uwsgi)
            .current_dir(&dir)
            .env_clear()
            .args(["--ini", "app.ini"])
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0)
            .spawn()
            .expect("spawn uWSGI");
        let mut srv = Server {
            _group: Group(child),
            dir,
            log,
            ports: Vec::new(),
        };
        let port = |i: usize, text: &str| -> Option<u16> {
            let prefix = format!("uwsgi socket {i} bound to TCP address 127.0.0.1:");
            let rest = &text[text.find(&prefix)? + prefix.len()..];
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        };
        let begun = Instant::now();
        loop {
            let text = srv.log();
            let ports: Option<Vec<u16>> = (0..n).map(|i| port(i, &text)).collect();
            if let Some(p) = ports
                && text.contains("spawned uWSGI worker 1")
            {
                srv.ports = p;
                return srv;
            }
            assert!(
                begun.elapsed() < Duration::from_secs(20),
                "uWSGI did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_socket_answers_an_http_front_with_no_http() {
    let name = "a_socket_answers_an_http_front_with_no_http";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let srv = Server::start(
        &uwsgi,
        "socket",
        "[uwsgi]\nmaster = true\nprocesses = 1\nsocket = 127.0.0.1:0\nhttp-socket = 127.0.0.1:0\nwsgi-file = pid.py\n",
        "pid.py",
        2,
    );
    let (uw, http) = (srv.ports[0], srv.ports[1]);
    let read_log = || srv.log();
    let http_request = b"GET / HTTP/1.1\r\nHost: shop.example.com\r\nConnection: close\r\n\r\n";
    // What an ALB, an Ingress controller or Traefik sends, to `socket =`.
    let to_socket = exchange(uw, http_request);
    assert!(
        !to_socket.starts_with(b"HTTP/"),
        "a uwsgi-protocol socket answered HTTP: {:?}\n{}",
        String::from_utf8_lossy(&to_socket),
        read_log()
    );
    // The same socket does serve the uwsgi protocol …
    let via_uwsgi = String::from_utf8_lossy(&exchange(uw, &uwsgi_packet())).into_owned();
    assert!(via_uwsgi.contains(" 200 OK"), "{via_uwsgi}\n{}", read_log());
    // … and `http-socket` answers the front's request.
    let via_http = String::from_utf8_lossy(&exchange(http, http_request)).into_owned();
    assert!(
        via_http.starts_with("HTTP/1.1 200 OK"),
        "{via_http}\n{}",
        read_log()
    );
}

#[test]
fn limit_post_refuses_a_body_the_front_let_through() {
    let name = "limit_post_refuses_a_body_the_front_let_through";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let srv = Server::start(
        &uwsgi,
        "limit_post",
        "[uwsgi]\nmaster = true\nprocesses = 1\nhttp-socket = 127.0.0.1:0\nlimit-post = 1024\nwsgi-file = upload.py\n",
        "upload.py",
        1,
    );
    let post = |size: usize| {
        let mut req = format!(
            "POST / HTTP/1.1\r\nHost: shop.example.com\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        req.extend(std::iter::repeat_n(b'x', size));
        String::from_utf8_lossy(&exchange(srv.ports[0], &req)).into_owned()
    };
    // Within `limit-post`: the app reads it all.
    let small = post(1000);
    assert!(
        small.starts_with("HTTP/1.1 200 OK") && small.ends_with("read 1000"),
        "{small}\n{}",
        srv.log()
    );
    // Above it (what a front with a larger limit passes on): refused
    // before the app sees it.
    let big = post(4096);
    // uWSGI logs why and closes the connection with no answer (the front
    // then answers 502).
    let log = srv.log();
    assert!(log.contains("Invalid (too big) CONTENT_LENGTH"), "{log}");
    assert!(big.is_empty(), "{big}");
    assert!(!big.contains("read 4096"), "{big}\n{}", srv.log());
    assert!(!big.starts_with("HTTP/1.1 200"), "{big}\n{}", srv.log());
    assert!(
        std::fs::read_to_string(srv.dir.join("started"))
            .unwrap_or_default()
            .lines()
            .count()
            == 1,
        "the app saw the big body\n{}",
        srv.log()
    );
}
