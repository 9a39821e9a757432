//! What UW402 says of a front that is not Nginx, checked on the real uWSGI
//! (pyuwsgi 2.0.30): an ALB, an Ingress controller or Traefik sends plain
//! HTTP, and a `socket =` speaks the uwsgi protocol — it answers an HTTP
//! request with no HTTP response at all (the front turns that into a 502),
//! while the same server answers a uwsgi-protocol request, and an
//! `http-socket` answers the HTTP request.

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
    s.write_all(bytes).unwrap();
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

#[test]
fn a_socket_answers_an_http_front_with_no_http() {
    let name = "a_socket_answers_an_http_front_with_no_http";
    let Some(uwsgi) = common::uwsgi_oracle(name) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-fronts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        common::manifest_dir().join("tests/fixtures/runtime/pid.py"),
        dir.join("pid.py"),
    )
    .unwrap();
    // Port 0: the OS chooses; uWSGI logs the port it got.
    std::fs::write(
        dir.join("app.ini"),
        "[uwsgi]\nmaster = true\nprocesses = 1\nsocket = 127.0.0.1:0\nhttp-socket = 127.0.0.1:0\nwsgi-file = pid.py\n",
    )
    .unwrap();
    let log = dir.join("uwsgi.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(&uwsgi)
        .current_dir(&dir)
        .env_clear()
        .args(["--ini", "app.ini"])
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .process_group(0)
        .spawn()
        .expect("spawn uWSGI");
    let _group = Group(child);
    let read_log =
        || String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
    let port = |n: usize, text: &str| -> Option<u16> {
        let prefix = format!("uwsgi socket {n} bound to TCP address 127.0.0.1:");
        let rest = &text[text.find(&prefix)? + prefix.len()..];
        rest.chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    let start = Instant::now();
    let (uw, http) = loop {
        let text = read_log();
        // Both bound and a worker spawned: requests are served.
        if let (Some(a), Some(b)) = (port(0, &text), port(1, &text))
            && text.contains("spawned uWSGI worker 1")
        {
            break (a, b);
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "uWSGI did not start:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
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
    let _ = std::fs::remove_dir_all(&dir);
}
