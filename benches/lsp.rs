//! The language server's keystroke, end to end: `uwsgi-lint lsp` over its
//! pipes, as an editor drives it. Each round sends one edit (`didChange`)
//! and a hover, which the server answers only after analysing the new text,
//! and times the round trip. Prints the median, p99 and maximum for a
//! 2,000-line `uwsgi.ini` alone and the same size in the bundled example
//! (run by an ECS task, Nginx in front: the cross-file case).
//!
//! `cargo bench --bench lsp` (edits per case: `UWSGI_LINT_BENCH_EDITS`,
//! default 1,000, or 3 under `cargo test`; another binary:
//! `UWSGI_LINT_BENCH_BIN`). A measurement:
//! it asserts nothing about time.

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use lsp_server::{Message, Notification, Request, RequestId};
use serde_json::{Value, json};

const LINES: usize = 2000;

fn main() {
    // `cargo test` runs benches too (without `--bench`): a few rounds then,
    // enough to see the server answer, on a debug build.
    let bench = std::env::args().any(|a| a == "--bench");
    let edits: usize = std::env::var("UWSGI_LINT_BENCH_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench { 1000 } else { 3 });
    let tmp = tempfile::tempdir().expect("a temporary directory");

    // A config no container runs: one resolution per keystroke.
    let lone = tmp.path().join("lone");
    std::fs::create_dir_all(&lone).unwrap();
    let lone_ini = lone.join("uwsgi.ini");
    let text = grow("[uwsgi]\nmaster = true\nprocesses = 4\nsocket = 127.0.0.1:3031\n".into());
    std::fs::write(&lone_ini, &text).unwrap();
    let a = measure(&lone, &lone_ini, &text, edits);

    // The example: the config an ECS task runs, behind Nginx.
    let linked = tmp.path().join("example");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/django-ecs"),
        &linked,
    );
    let linked_ini = linked.join("deploy/uwsgi.ini");
    let text = grow(std::fs::read_to_string(&linked_ini).unwrap());
    std::fs::write(&linked_ini, &text).unwrap();
    let b = measure(&linked, &linked_ini, &text, edits);

    println!("uwsgi-lint lsp, {LINES}-line uwsgi.ini, {edits} edits (edit + hover round trip):");
    println!("| case | median | p99 | max |");
    println!("|---|---|---|---|");
    for (name, t) in [("alone", a), ("in the example (ECS, Nginx)", b)] {
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms |",
            t.median, t.p99, t.max
        );
    }
}

/// `head` grown to 2,000 lines the way large configs grow: environment,
/// routes and mounts, which give few findings.
fn grow(mut head: String) -> String {
    let mut i = 0;
    while head.lines().count() < LINES {
        i += 1;
        head.push_str(&format!(
            "; block {i}\nenv = APP_SETTING_{i}=value-{i}\nroute = ^/legacy/{i}/ redirect:/v2/{i}/\nstatic-map = /static/{i}=/srv/static/{i}\n"
        ));
    }
    head.lines().take(LINES).map(|l| format!("{l}\n")).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

struct Times {
    median: f64,
    p99: f64,
    max: f64,
}

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: i32,
}

impl Client {
    fn start(root: &Path) -> Client {
        // Another build (or a profiler wrapping one) can be timed instead.
        let bin = std::env::var_os("UWSGI_LINT_BENCH_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_uwsgi-lint").into());
        let mut child = Command::new(bin)
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("uwsgi-lint lsp starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Client {
            child,
            stdin,
            stdout,
            next: 0,
        }
    }

    fn send(&mut self, msg: Message) {
        msg.write(&mut self.stdin).expect("the server reads");
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(Message::Notification(Notification::new(
            method.into(),
            params,
        )));
    }

    /// Sends a request and waits for its answer (diagnostics published on
    /// the way are read and dropped, as an editor reads them).
    fn request(&mut self, method: &str, params: Value) -> Option<Value> {
        self.next += 1;
        let id = RequestId::from(self.next);
        self.send(Message::Request(Request::new(
            id.clone(),
            method.into(),
            params,
        )));
        loop {
            match Message::read(&mut self.stdout).expect("the server writes") {
                Some(Message::Response(r)) if r.id == id => return r.response_result.ok(),
                Some(_) => {}
                None => panic!("the server exited"),
            }
        }
    }
}

fn measure(root: &Path, ini: &Path, text: &str, edits: usize) -> Times {
    let uri = format!("file://{}", ini.display());
    let mut c = Client::start(root);
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": format!("file://{}", root.display()), "capabilities": {}}),
    );
    c.notify("initialized", json!({}));
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "uwsgi", "version": 1, "text": text}}),
    );
    // The edit changes the number of workers, which the memory check reads.
    let (line, col) = processes_value_end(text);
    let hover = json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": 2}});
    c.request("textDocument/hover", hover.clone());
    let mut times = Vec::with_capacity(edits);
    for n in 0..edits {
        let edit = json!({
            "range": {"start": {"line": line, "character": col - 1}, "end": {"line": line, "character": col}},
            "text": (2 + n % 7).to_string(),
        });
        let start = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": n + 2}, "contentChanges": [edit]}),
        );
        c.request("textDocument/hover", hover.clone());
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    let _ = c.child.wait();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((q * times.len() as f64) as usize).min(times.len() - 1)];
    Times {
        median: at(0.5),
        p99: at(0.99),
        max: times[times.len() - 1],
    }
}

/// Line and end column of the `processes = N` line (one ASCII digit last).
fn processes_value_end(text: &str) -> (u32, u32) {
    let (i, l) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("processes"))
        .expect("the config sets processes");
    (i as u32, l.len() as u32)
}
