//! Measurements of the real app (memory-model.md, "Measurements"): uWSGI
//! `memory-report` log lines, saved stats-server documents, or a live stats
//! server; and the robust estimates `advise` needs from them — the baseline
//! RSS of a worker, the growth per request, the biggest jump of one request,
//! and the request rate per worker.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// One observation of one worker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The worker's identity: its pid, and its spawn time when known (a
    /// respawn under the same pid is a new worker).
    pub pid: u32,
    pub spawn: u64,
    /// Requests this worker has served.
    pub requests: u64,
    pub rss: u64,
    /// Seconds since some epoch, when known.
    pub time: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub struct Measurements {
    pub samples: Vec<Sample>,
    /// Where they came from, for the report.
    pub sources: Vec<String>,
    /// Lines or documents that could not be read.
    pub skipped: usize,
}

/// What the measurements say, each `None` when they cannot say it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Estimates {
    /// Median RSS of a worker after its first request (bytes).
    pub baseline: Option<u64>,
    /// Bytes per request (Theil–Sen slope, pooled over workers).
    pub growth: Option<f64>,
    /// p99 of the positive RSS jumps over one request (bytes).
    pub jump: Option<u64>,
    /// Requests per second per worker.
    pub rate: Option<f64>,
    pub workers: usize,
    pub samples: usize,
}

/// Why the measurements cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable(pub String);

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Most bytes of one log or stats file, as stored and once un-gzipped.
pub const MAX_MEASUREMENTS: usize = 256 << 20;

/// Read a file, un-gzipping it when it is gzip (rotated logs). Only a
/// regular file is read (a FIFO would block, `/dev/zero` never ends), and
/// at most [`MAX_MEASUREMENTS`] bytes of it, before and after un-gzipping
/// (a small gzip bomb expands a thousandfold).
pub fn read_maybe_gzip(path: &Path) -> std::io::Result<String> {
    let bytes = crate::source::read_regular(path, MAX_MEASUREMENTS)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(MAX_MEASUREMENTS as u64 + 1)
            .read_to_end(&mut out)?;
        if out.len() > MAX_MEASUREMENTS {
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!(
                    "un-gzips to more than {}; not read (give a shorter excerpt)",
                    crate::units::Bytes(MAX_MEASUREMENTS as u64)
                ),
            ));
        }
        return Ok(String::from_utf8_lossy(&out).into_owned());
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn number_after(line: &str, marker: &str) -> Option<u64> {
    let at = line.find(marker)? + marker.len();
    let digits: String = line[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

/// `Thu Nov 26 04:14:12 2026` → seconds since 1970 (UTC, as logged).
fn log_time(line: &str) -> Option<f64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // The date is the first `[...]` after the request part.
    let rest = &line[line.find("] ")?..];
    let open = rest.find('[')?;
    let close = open + rest[open..].find(']')?;
    let words: Vec<&str> = rest[open + 1..close].split_whitespace().collect();
    let [_, mon, day, hms, year] = words.as_slice() else {
        return None;
    };
    let m = MONTHS.iter().position(|x| x == mon)? as i64 + 1;
    let d: i64 = day.parse().ok()?;
    let y: i64 = year.parse().ok()?;
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, s) = (t.next()??, t.next()??, t.next()??);
    // Days from civil (Howard Hinnant's algorithm).
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some((days * 86400 + h * 3600 + mi * 60 + s) as f64)
}

/// One `memory-report` request line:
/// `{address space usage: N bytes/NMB} {rss usage: N bytes/NMB} [pid: P|app: A|req: X/Y] …`.
pub fn parse_log_line(line: &str) -> Option<Sample> {
    let rss = number_after(line, "{rss usage: ")?;
    let pid = number_after(line, "[pid: ")? as u32;
    // `req: X/Y`: X counts this worker's requests for the app, Y the server's.
    let requests = number_after(line, "|req: ")?;
    Some(Sample {
        pid,
        spawn: 0,
        requests,
        rss,
        time: log_time(line),
    })
}

impl Measurements {
    /// Add every memory-report line of a log text.
    pub fn add_log(&mut self, name: &str, text: &str) {
        let before = self.samples.len();
        for line in text.lines() {
            if line.contains("{rss usage: ") {
                match parse_log_line(line) {
                    Some(s) => self.samples.push(s),
                    None => self.skipped += 1,
                }
            }
        }
        self.sources.push(format!(
            "{name}: {} memory-report lines",
            self.samples.len() - before
        ));
    }

    /// Add stats-server documents (one or more JSON documents, as saved by
    /// `uwsgi --connect-and-read` or `nc`); `time` for a live sample.
    pub fn add_stats(&mut self, name: &str, text: &str, time: Option<f64>) {
        let before = self.samples.len();
        let docs = serde_json::Deserializer::from_str(text).into_iter::<serde_json::Value>();
        let mut n = 0;
        for doc in docs {
            let Ok(doc) = doc else {
                self.skipped += 1;
                break;
            };
            n += 1;
            for w in doc["workers"].as_array().into_iter().flatten() {
                let (Some(pid), Some(requests), Some(rss)) =
                    (w["pid"].as_u64(), w["requests"].as_u64(), w["rss"].as_u64())
                else {
                    continue;
                };
                // A worker that has not started yet (pid 0) says nothing.
                if pid == 0 {
                    continue;
                }
                self.samples.push(Sample {
                    pid: pid as u32,
                    spawn: w["last_spawn"].as_u64().unwrap_or(0),
                    requests,
                    rss,
                    time,
                });
            }
        }
        self.sources.push(format!(
            "{name}: {n} stats document{} ({} worker samples)",
            if n == 1 { "" } else { "s" },
            self.samples.len() - before
        ));
    }

    /// The estimates, or why there are none.
    pub fn estimate(&self) -> Result<Estimates, Unusable> {
        if self.samples.is_empty() {
            return Err(Unusable(
                "no memory samples found: the log needs `memory-report = true` lines, the stats documents a `workers` list".into(),
            ));
        }
        if self.samples.iter().all(|s| s.rss == 0) {
            return Err(Unusable(
                "every sample has rss 0: uWSGI samples memory only with `memory-report` or a `reload-on-*`/`evil-reload-on-*` option; enable one and measure again".into(),
            ));
        }
        let mut by_worker: BTreeMap<(u32, u64), Vec<Sample>> = BTreeMap::new();
        for s in self.samples.iter().filter(|s| s.rss > 0) {
            by_worker.entry((s.pid, s.spawn)).or_default().push(*s);
        }
        let mut baselines = Vec::new();
        let mut slopes = Vec::new();
        let mut jumps = Vec::new();
        let mut rates = Vec::new();
        for samples in by_worker.values_mut() {
            samples.sort_by(|a, b| {
                a.requests.cmp(&b.requests).then(
                    a.time
                        .partial_cmp(&b.time)
                        .unwrap_or(std::cmp::Ordering::Equal),
                )
            });
            samples.dedup_by_key(|s| s.requests);
            if let Some(first) = samples.iter().find(|s| s.requests >= 1) {
                baselines.push(first.rss as f64);
            }
            // Theil–Sen: the median of pairwise slopes, on at most 200
            // evenly spaced samples per worker.
            let step = samples.len().div_ceil(200).max(1);
            let thin: Vec<&Sample> = samples.iter().step_by(step).collect();
            for i in 0..thin.len() {
                for j in i + 1..thin.len() {
                    let dr = thin[j].requests - thin[i].requests;
                    if dr > 0 {
                        slopes.push((thin[j].rss as f64 - thin[i].rss as f64) / dr as f64);
                    }
                }
            }
            for w in samples.windows(2) {
                if w[1].requests == w[0].requests + 1 && w[1].rss > w[0].rss {
                    jumps.push((w[1].rss - w[0].rss) as f64);
                }
            }
            if let (Some(a), Some(b)) = (samples.first(), samples.last())
                && let (Some(ta), Some(tb)) = (a.time, b.time)
                && tb > ta
                && b.requests > a.requests
            {
                rates.push((b.requests - a.requests) as f64 / (tb - ta));
            }
        }
        Ok(Estimates {
            baseline: median(&mut baselines).map(|b| b as u64),
            growth: median(&mut slopes).map(|g| g.max(0.0)),
            jump: percentile(&mut jumps, 0.99).map(|j| j as u64),
            rate: median(&mut rates),
            workers: by_worker.len(),
            samples: self.samples.len(),
        })
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    percentile(v, 0.5)
}

fn percentile(v: &mut [f64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    Some(v[i.min(v.len() - 1)])
}

/// Read one document from a live stats server: `host:port`, a unix socket
/// path, or `http://host:port` (the `--stats-http` form). The address is
/// the user's, given on the command line, never one a config names.
pub fn fetch_stats(addr: &str, timeout: std::time::Duration) -> std::io::Result<String> {
    use std::io::Write;
    fn read_all(r: impl Read) -> std::io::Result<String> {
        let mut buf = Vec::new();
        r.take(64 << 20).read_to_end(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
    if let Some(rest) = addr.strip_prefix("http://") {
        let hostport = rest.split('/').next().unwrap_or(rest);
        let mut s = connect(hostport, timeout)?;
        // One buffer, written whole, then our side closed: the server has
        // the complete request before it answers.
        s.write_all(format!("GET / HTTP/1.0\r\nHost: {hostport}\r\n\r\n").as_bytes())?;
        s.shutdown(std::net::Shutdown::Write)?;
        let text = read_all(s)?;
        return Ok(text
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_string())
            .unwrap_or(text));
    }
    if addr.contains('/') {
        #[cfg(unix)]
        {
            let s = std::os::unix::net::UnixStream::connect(addr)?;
            s.set_read_timeout(Some(timeout))?;
            return read_all(s);
        }
        #[cfg(not(unix))]
        return Err(std::io::Error::other("unix sockets need a unix system"));
    }
    read_all(connect(addr, timeout)?)
}

fn connect(hostport: &str, timeout: std::time::Duration) -> std::io::Result<std::net::TcpStream> {
    use std::net::ToSocketAddrs;
    let addr = hostport
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("`{hostport}` resolves to no address")))?;
    let s = std::net::TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(pid: u32, req: u64, rss: u64, sec: u32) -> String {
        format!(
            "{{address space usage: 17756160 bytes/16MB}} {{rss usage: {rss} bytes/{}MB}} [pid: {pid}|app: 0|req: {req}/{req}] 127.0.0.1 () {{24 vars in 244 bytes}} [Thu Nov 26 04:14:{sec:02} 2026] GET / => generated 2 bytes in 0 msecs (HTTP/1.1 200) 1 headers in 45 bytes (1 switches on core 0)",
            rss >> 20
        )
    }

    #[test]
    fn reads_the_real_log_line() {
        let s = parse_log_line(&line(8130, 3, 10522624, 12)).unwrap();
        assert_eq!((s.pid, s.requests, s.rss), (8130, 3, 10522624));
        // 2026-11-26 04:14:12 UTC
        assert_eq!(s.time, Some(1795666452.0));
    }

    #[test]
    fn growth_is_robust_to_outliers_and_respawns() {
        let mut m = Measurements::default();
        let mut text = String::new();
        for r in 1..=50u64 {
            // 1 MiB per request from 30 MiB, one wild outlier.
            let rss = if r == 25 {
                900 << 20
            } else {
                (30 << 20) + r * (1 << 20)
            };
            text.push_str(&line(100, r, rss, (r % 60) as u32));
            text.push('\n');
        }
        // A respawned worker starts again from the baseline.
        for r in 1..=20u64 {
            text.push_str(&line(101, r, (30 << 20) + r * (1 << 20), 0));
            text.push('\n');
        }
        text.push_str("unrelated line\n");
        m.add_log("uwsgi.log", &text);
        let e = m.estimate().unwrap();
        let g = e.growth.unwrap();
        assert!((g - (1 << 20) as f64).abs() < 1.0, "{g}");
        assert_eq!(e.baseline, Some(31 << 20));
        assert_eq!(e.workers, 2);
        assert_eq!(e.jump, Some(1 << 20));
    }

    #[test]
    fn stats_documents_and_zero_rss() {
        let doc = r#"{"workers": [{"pid": 7, "requests": 10, "rss": 0, "last_spawn": 1}, {"pid": 0, "requests": 0, "rss": 0}]}
{"workers": [{"pid": 7, "requests": 20, "rss": 0, "last_spawn": 1}]}"#;
        let mut m = Measurements::default();
        m.add_stats("stats.json", doc, None);
        assert_eq!(m.samples.len(), 2);
        let err = m.estimate().unwrap_err();
        assert!(err.0.contains("memory-report"), "{err}");
        assert!(Measurements::default().estimate().is_err());
    }

    #[test]
    fn live_stats_over_tcp_http_and_unix_sockets() {
        use std::io::Write;
        let doc = r#"{"workers": [{"pid": 9, "requests": 3, "rss": 1000}]}"#;
        let serve = move |mut s: std::net::TcpStream, http: bool| {
            if http {
                // Read the whole request (up to the blank line) before
                // answering: closing with unread bytes makes the kernel send
                // a reset, which can destroy the answer in flight.
                let mut req = Vec::new();
                let mut buf = [0u8; 64];
                while !req.ends_with(b"\r\n\r\n") {
                    let n = s.read(&mut buf).unwrap();
                    assert!(n > 0, "request ended early: {req:?}");
                    req.extend_from_slice(&buf[..n]);
                }
                assert!(req.starts_with(b"GET / HTTP/1.0\r\n"), "{req:?}");
                s.write_all(
                    format!("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{doc}")
                        .as_bytes(),
                )
                .unwrap();
            } else {
                s.write_all(doc.as_bytes()).unwrap();
            }
        };
        for http in [false, true] {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            let t = std::thread::spawn(move || serve(l.accept().unwrap().0, http));
            let addr = if http {
                format!("http://127.0.0.1:{port}")
            } else {
                format!("127.0.0.1:{port}")
            };
            let text = fetch_stats(&addr, std::time::Duration::from_secs(5)).unwrap();
            t.join().unwrap();
            assert_eq!(text, doc);
        }
        #[cfg(unix)]
        {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("stats.sock");
            let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
            let t = std::thread::spawn(move || {
                l.accept().unwrap().0.write_all(doc.as_bytes()).unwrap();
            });
            let text =
                fetch_stats(path.to_str().unwrap(), std::time::Duration::from_secs(5)).unwrap();
            t.join().unwrap();
            assert_eq!(text, doc);
            // Nobody listens there: an error, not a hang.
            let absent = dir.path().join("absent.sock");
            assert!(
                fetch_stats(absent.to_str().unwrap(), std::time::Duration::from_secs(1)).is_err()
            );
        }
    }

    #[test]
    fn idle_workers_give_no_slope() {
        let mut m = Measurements::default();
        m.add_stats(
            "s",
            r#"{"workers": [{"pid": 7, "requests": 0, "rss": 5000000}]}"#,
            None,
        );
        let e = m.estimate().unwrap();
        assert_eq!((e.growth, e.baseline), (None, None));
    }
}
