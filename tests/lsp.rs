//! Protocol tests: the `uwsgi-lint lsp` binary spoken to over a pipe, as an
//! editor does. Waiting is on messages (a `publishDiagnostics` of a given
//! document version, a response id), never on time; a generous bound only
//! turns a hang into a failure.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

use serde_json::{Value, json};

/// A hang is a failure, not a wait.
const BOUND: Duration = Duration::from_secs(120);

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications read while waiting for something else.
    queue: Vec<Value>,
    root: PathBuf,
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse().ok()?;
        }
    }
    let mut buf = vec![0; len];
    r.read_exact(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

impl Client {
    /// Start the server with `root` as the workspace folder.
    fn start(root: &Path, init_options: Value, encodings: Option<&[&str]>) -> (Client, Value) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
            .arg("lsp")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn uwsgi-lint lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(m) = read_message(&mut r) {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next_id: 0,
            queue: Vec::new(),
            root: root.to_path_buf(),
        };
        let mut caps = json!({ "textDocument": { "hover": {}, "inlayHint": {} } });
        if let Some(e) = encodings {
            caps["general"] = json!({ "positionEncodings": e });
        }
        let init = c.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "workspaceFolders": [{ "uri": uri(root), "name": "project" }],
                "capabilities": caps,
                "initializationOptions": init_options,
            }),
        );
        c.notify("initialized", json!({}));
        (c, init)
    }

    fn send(&mut self, v: &Value) {
        self.send_raw(v.to_string().as_bytes());
    }

    fn send_raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        self.stdin.write_all(body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn next(&mut self) -> Value {
        match self.rx.recv_timeout(BOUND) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("the server did not answer"),
            Err(RecvTimeoutError::Disconnected) => {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("the server exited; stderr:\n{err}")
            }
        }
    }

    /// The whole response (`result` or `error`).
    fn request_full(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let m = self.next();
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
            if m.get("id").is_some() && m.get("method").is_some() {
                // A request of the server's (registerCapability): accept it.
                let rid = m["id"].clone();
                self.send(&json!({ "jsonrpc": "2.0", "id": rid, "result": null }));
                continue;
            }
            self.queue.push(m);
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.request_full(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    /// The next diagnostics published for `path` at document `version`.
    fn diagnostics(&mut self, path: &Path, version: i64) -> Vec<Value> {
        let want = uri(path);
        let matches = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == want
                && m["params"]["version"] == version
        };
        if let Some(i) = self.queue.iter().position(matches) {
            let m = self.queue.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self.next();
            if matches(&m) {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
            if m.get("id").is_some() && m.get("method").is_some() {
                let rid = m["id"].clone();
                self.send(&json!({ "jsonrpc": "2.0", "id": rid, "result": null }));
                continue;
            }
            self.queue.push(m);
        }
    }

    fn open(&mut self, path: &Path, language: &str) -> String {
        let text = std::fs::read_to_string(path).unwrap();
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri(path), "languageId": language, "version": 1, "text": text } }),
        );
        text
    }

    fn change(&mut self, path: &Path, version: i64, changes: Value) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(path), "version": version }, "contentChanges": changes }),
        );
    }

    /// Shut down cleanly; the exit status must be success.
    fn stop(mut self) -> String {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        assert!(status.success(), "exit status {status}; stderr:\n{err}");
        err
    }

    /// Machine-independent text of a protocol value, for snapshots.
    fn redact(&self, v: &Value) -> String {
        self.redact_text(&serde_json::to_string_pretty(v).unwrap())
    }

    fn redact_text(&self, s: &str) -> String {
        let root = self.root.display().to_string();
        let manifest = common::manifest_dir().display().to_string();
        s.replace(&format!("file://{manifest}"), "file://[SOURCE]")
            .replace(&format!("file://{root}"), "file://[PROJECT]")
            .replace(&root, "[PROJECT]")
    }
}

fn uri(p: &Path) -> String {
    let mut s = String::from("file://");
    for &b in p.as_os_str().as_encoded_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => common::manifest_dir().join("snapshots"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

/// A fresh copy of an example project (tests edit and save files).
fn project(name: &str, example: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    common::copy_dir(&common::manifest_dir().join(example), &d);
    common::canonical(&d)
}

/// `check --format json` on the project, run from its root.
fn check_json(root: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(".");
    let (_, out, err) = common::uwsgi_lint(root, &args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"))
}

/// `check`'s findings for one file, in the LSP's shape (0-based, ASCII files).
fn check_findings(check: &Value, file: &str) -> Vec<(String, String, String, [u64; 4])> {
    check["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == file)
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap() - 1;
            (
                d["code"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
                [n("line"), n("column"), n("end_line"), n("end_column")],
            )
        })
        .collect()
}

fn lsp_findings(diags: &[Value]) -> Vec<(String, String, String, [u64; 4])> {
    diags
        .iter()
        .map(|d| {
            let sev = match d["severity"].as_u64().unwrap() {
                1 => "error",
                2 => "warning",
                _ => "info",
            };
            let r = &d["range"];
            let n = |a: &str, b: &str| r[a][b].as_u64().unwrap();
            (
                d["code"].as_str().unwrap().to_string(),
                sev.to_string(),
                d["message"].as_str().unwrap().to_string(),
                [
                    n("start", "line"),
                    n("start", "character"),
                    n("end", "line"),
                    n("end", "character"),
                ],
            )
        })
        .collect()
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn initialize_negotiates_the_position_encoding() {
    let root = project("init", "examples/django-ecs");
    let (c, init) = Client::start(&root, json!({}), Some(&["utf-8", "utf-16"]));
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    snapshot("lsp_initialize", &c.redact(&init["capabilities"]));
    c.stop();
    let (c, init) = Client::start(&root, json!({}), None);
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-16");
    c.stop();
}

#[test]
fn an_open_config_gets_exactly_checks_findings_with_related_places_and_links() {
    let root = project("diags", "examples/django-ecs");
    let ini = root.join("deploy/uwsgi.ini");
    let (mut c, _) = Client::start(&root, json!({}), None);
    c.open(&ini, "uwsgi");
    let diags = c.diagnostics(&ini, 1);
    let expected = check_findings(&check_json(&root, &[]), "deploy/uwsgi.ini");
    assert!(!expected.is_empty());
    assert_eq!(lsp_findings(&diags), expected);
    // UW202 points into the ECS task definition, and links to its page.
    let uw202 = diags.iter().find(|d| d["code"] == "UW202").unwrap();
    let related = uw202["relatedInformation"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["location"]["uri"] == uri(&root.join("ecs/task-definition.json")))
    );
    assert!(
        uw202["codeDescription"]["href"]
            .as_str()
            .unwrap()
            .ends_with("rules/UW202.md")
    );
    // The protocol shape, on the cross-file finding (the rest is `check`'s).
    snapshot("lsp_diagnostic_uw202", &c.redact(uw202));
    c.stop();
}

/// Opens `ini` (UW202 expected), then types `new` over `old` in the context
/// file's buffer without saving: UW202 goes; typed back, it returns.
fn unsaved_limit_change_clears_uw202(
    c: &mut Client,
    ini: &Path,
    context: &Path,
    language: &str,
    (needle, offset, old, new): (&str, usize, &str, &str),
) {
    c.open(ini, "uwsgi");
    assert!(codes(&c.diagnostics(ini, 1)).contains(&"UW202".to_string()));
    let text = c.open(context, language);
    c.settle();
    let (line, col) = text
        .lines()
        .enumerate()
        .find_map(|(i, l)| l.find(needle).map(|c| (i, c + offset)))
        .unwrap();
    let range = json!({ "start": { "line": line, "character": col }, "end": { "line": line, "character": col + old.len() } });
    c.change(context, 2, json!([{ "range": range, "text": new }]));
    // Each publication carries the document's own version: the ini's is 1.
    let after = c.diagnostics(ini, 1);
    assert!(!codes(&after).contains(&"UW202".to_string()), "{after:?}");
    assert_eq!(
        std::fs::read_to_string(context).unwrap(),
        text,
        "nothing saved"
    );
    c.change(context, 3, json!([{ "range": range, "text": old }]));
    assert!(codes(&c.diagnostics(ini, 1)).contains(&"UW202".to_string()));
}

#[test]
fn an_unsaved_change_to_the_ecs_limit_rediagnoses_the_config() {
    let root = project("unsaved", "examples/django-ecs");
    let ini = root.join("deploy/uwsgi.ini");
    let task = root.join("ecs/task-definition.json");
    let (mut c, _) = Client::start(&root, json!({}), None);
    // `"memory": "1024"` → `"8192"`.
    unsaved_limit_change_clears_uw202(
        &mut c,
        &ini,
        &task,
        "json",
        ("\"memory\": \"1024\"", 11, "1024", "8192"),
    );
    // A context file's own problems are published on it, as `check` has them.
    let nginx = root.join("deploy/nginx.conf");
    let conf = c.open(&nginx, "nginx");
    c.change(
        &nginx,
        2,
        json!([{ "text": format!("include missing.conf;\n{conf}") }]),
    );
    let broken = c.diagnostics(&nginx, 2);
    assert_eq!(codes(&broken), vec!["UW002"], "{broken:?}");
    std::fs::write(&nginx, format!("include missing.conf;\n{conf}")).unwrap();
    assert_eq!(
        lsp_findings(&broken),
        check_findings(&check_json(&root, &[]), "deploy/nginx.conf")
    );
    c.stop();
}

#[test]
fn an_unsaved_change_to_the_compose_limit_rediagnoses_the_config() {
    let root = project("unsaved-compose", "rules/UW202/bad/variant-compose");
    let (mut c, _) = Client::start(&root, json!({}), None);
    // `mem_limit: 1g` → `8g`.
    unsaved_limit_change_clears_uw202(
        &mut c,
        &root.join("uwsgi.ini"),
        &root.join("docker-compose.yml"),
        "yaml",
        ("mem_limit: 1g", 11, "1g", "8g"),
    );
    c.stop();
}

#[test]
fn hover_inlay_hints_symbols_and_effective_config() {
    let root = project("hover", "examples/django-ecs");
    let ini = root.join("deploy/uwsgi.ini");
    let (mut c, _) = Client::start(&root, json!({}), None);
    let text = c.open(&ini, "uwsgi");
    c.diagnostics(&ini, 1);
    let pos = |needle: &str, delta: usize| {
        let (l, col) = text
            .lines()
            .enumerate()
            .find_map(|(i, l)| l.find(needle).map(|c| (i, c)))
            .unwrap();
        json!({ "line": l, "character": col + delta })
    };
    let doc = json!({ "uri": uri(&ini) });
    let mut out = String::new();
    for key in ["reload-on-rss", "harakiri", "buffer-size", "reload_on_as"] {
        let h = c.request(
            "textDocument/hover",
            json!({ "textDocument": doc, "position": pos(key, 2) }),
        );
        out.push_str(&format!(
            "## {key}\n{}\n\n",
            h["contents"]["value"].as_str().unwrap()
        ));
    }
    snapshot("lsp_hover", &c.redact_text(&out));
    let hints = c.request(
        "textDocument/inlayHint",
        json!({ "textDocument": doc, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 99, "character": 0 } } }),
    );
    let labels: Vec<&str> = hints
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["label"].as_str().unwrap())
        .collect();
    assert!(labels.contains(&"→ 32 bytes"), "{labels:?}");
    assert!(labels.contains(&"→ 0 seconds"), "{labels:?}");
    snapshot("lsp_inlay_hints", &c.redact(&hints));
    let symbols = c.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": doc }),
    );
    snapshot("lsp_symbols", &c.redact(&symbols));
    let shown = c.request(
        "workspace/executeCommand",
        json!({ "command": "uwsgi-lint.showEffectiveConfig", "arguments": [uri(&ini)] }),
    );
    snapshot("lsp_effective_config", shown.as_str().unwrap());
    // From Nginx's `uwsgi_pass` to the socket it reaches.
    let nginx = root.join("deploy/nginx.conf");
    let conf = c.open(&nginx, "nginx");
    let line = conf.lines().position(|l| l.contains("uwsgi_pass")).unwrap();
    let col = conf.lines().nth(line).unwrap().find("uwsgi_pass").unwrap();
    let socket = c.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri(&nginx) }, "position": { "line": line, "character": col + 2 } }),
    );
    let socket_line = text
        .lines()
        .position(|l| l.starts_with("socket ="))
        .unwrap();
    assert_eq!(socket[0]["uri"], uri(&ini), "{socket}");
    assert_eq!(socket[0]["range"]["start"]["line"], socket_line, "{socket}");
    c.stop();
}

/// A project with an include, a placeholder and suffixed sizes.
fn placeholder_project() -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-lsp-defs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("base.ini"),
        "[uwsgi]\nbase = /srv/app\nmaster = true\n",
    )
    .unwrap();
    std::fs::write(
        d.join("uwsgi.ini"),
        "[uwsgi]\nini = base.ini\nchdir = %(base)/src\nreload-on-rss = 1G\nprocesses = %k\nharakiri = 30\nreload-on-rss = 1G\n",
    )
    .unwrap();
    common::canonical(&d)
}

#[test]
fn definitions_placeholders_and_hints_in_a_multi_file_config() {
    let root = placeholder_project();
    let ini = root.join("uwsgi.ini");
    let (mut c, _) = Client::start(&root, json!({}), None);
    c.open(&ini, "uwsgi");
    c.diagnostics(&ini, 1);
    let doc = json!({ "uri": uri(&ini) });
    let at = |line: u32, character: u32| json!({ "textDocument": doc, "position": { "line": line, "character": character } });
    let include = c.request("textDocument/definition", at(1, 8));
    assert_eq!(include["uri"], uri(&root.join("base.ini")));
    let placeholder = c.request("textDocument/definition", at(2, 11));
    assert_eq!(placeholder["uri"], uri(&root.join("base.ini")));
    assert_eq!(placeholder["range"]["start"]["line"], 1);
    let hover = c.request("textDocument/hover", at(2, 11));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(
        text.contains("`/srv/app`") && text.contains("/srv/app/src"),
        "{text}"
    );
    // The key's hover says a later line overrides this one.
    let hover = c.request("textDocument/hover", at(3, 3));
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("line 7 (this line is overridden)"), "{text}");
    let hints = c.request(
        "textDocument/inlayHint",
        json!({ "textDocument": doc, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 9, "character": 0 } } }),
    );
    snapshot("lsp_inlay_hints_units", &c.redact(&hints));
    c.stop();
}

#[test]
fn completion_offers_options_aliases_and_placeholders_for_the_target_version() {
    let root = placeholder_project();
    let ini = root.join("uwsgi.ini");
    let labels = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["label"].as_str().unwrap().to_string())
            .collect()
    };
    for (version, has_delta) in [("2.0.30", true), ("2.0.20", false)] {
        let (mut c, _) = Client::start(&root, json!({ "uwsgiVersion": version }), None);
        c.open(&ini, "uwsgi");
        c.diagnostics(&ini, 1);
        c.change(
            &ini,
            2,
            json!([{ "range": { "start": { "line": 7, "character": 0 }, "end": { "line": 7, "character": 0 } }, "text": "max-req\n" }]),
        );
        let items = c.request(
            "textDocument/completion",
            json!({ "textDocument": { "uri": uri(&ini) }, "position": { "line": 7, "character": 7 } }),
        );
        let got = labels(&items);
        assert!(got.contains(&"max-requests".to_string()), "{got:?}");
        assert_eq!(
            got.contains(&"max-requests-delta".to_string()),
            has_delta,
            "{version}: {got:?}"
        );
        if version == "2.0.30" {
            snapshot("lsp_completion_max_req", &c.redact(&items));
        }
        // An alias says which option it is the same as; the option does not.
        // (Line 7 is replaced whole, and left as it was: `max-req`.)
        let mut detail = |typed: &str, label: &str, version: i64| {
            c.change(
                &ini,
                version,
                json!([{ "range": { "start": { "line": 7, "character": 0 }, "end": { "line": 8, "character": 0 } }, "text": format!("{typed}\n") }]),
            );
            let items = c.request(
                "textDocument/completion",
                json!({ "textDocument": { "uri": uri(&ini) }, "position": { "line": 7, "character": typed.len() } }),
            );
            items
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["label"] == label)
                .map(|i| i["detail"].as_str().unwrap().to_string())
        };
        assert_eq!(
            detail("worke", "workers", 3).as_deref(),
            Some("core (same as `processes`)")
        );
        assert_eq!(detail("proces", "processes", 4).as_deref(), Some("core"));
        assert!(detail("max-req", "max-requests", 5).is_some());
        // Placeholders after `%(`.
        c.change(
            &ini,
            6,
            json!([{ "range": { "start": { "line": 7, "character": 0 }, "end": { "line": 7, "character": 7 } }, "text": "pythonpath = %(" }]),
        );
        let items = c.request(
            "textDocument/completion",
            json!({ "textDocument": { "uri": uri(&ini) }, "position": { "line": 7, "character": 15 } }),
        );
        assert!(labels(&items).contains(&"base".to_string()));
        c.stop();
    }
}

/// Apply a WorkspaceEdit's edits for `u` to `text` (ASCII text: columns are bytes).
fn apply(text: &str, edit: &Value, u: &str) -> String {
    let mut edits: Vec<&Value> = edit["changes"][u].as_array().unwrap().iter().collect();
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let col = p["character"].as_u64().unwrap() as usize;
        text.split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>()
            + col
    };
    edits.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    let mut out = text.to_string();
    for e in edits {
        out.replace_range(
            offset(&e["range"]["start"])..offset(&e["range"]["end"]),
            e["newText"].as_str().unwrap(),
        );
    }
    out
}

#[test]
fn the_uw101_code_action_applied_removes_the_finding_and_suppression_is_offered() {
    let root = project("actions", "examples/django-ecs");
    let ini = root.join("deploy/uwsgi.ini");
    let (mut c, _) = Client::start(&root, json!({}), None);
    let text = c.open(&ini, "uwsgi");
    let diags = c.diagnostics(&ini, 1);
    let uw101 = diags.iter().find(|d| d["code"] == "UW101").unwrap().clone();
    let actions = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&ini) }, "range": uw101["range"], "context": { "diagnostics": [uw101] } }),
    );
    snapshot("lsp_code_actions_uw101", &c.redact(&actions));
    let actions = actions.as_array().unwrap();
    let fix = actions
        .iter()
        .find(|a| a["title"].as_str().unwrap().starts_with("Fix UW101"))
        .unwrap();
    assert!(
        actions
            .iter()
            .any(|a| a["title"] == "Suppress UW101 on this line, with a reason")
    );
    let fixed = apply(&text, &fix["edit"], &uri(&ini));
    c.change(&ini, 2, json!([{ "text": fixed }]));
    let after = c.diagnostics(&ini, 2);
    assert!(!codes(&after).contains(&"UW101".to_string()), "{after:?}");
    // Every fix of the file is offered, marked safe or unsafe.
    let all = c.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri(&ini) }, "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 99, "character": 0 } }, "context": { "diagnostics": [] } }),
    );
    let fixes = after
        .iter()
        .filter(|d| d["data"]["fix"].is_string())
        .count();
    let offered = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["title"].as_str().unwrap().starts_with("Fix "))
        .count();
    assert_eq!(offered, fixes);
    c.stop();
}

#[test]
fn settings_come_from_the_config_file_and_init_options_and_reload() {
    let root = project("settings", "examples/django-ecs");
    let ini = root.join("deploy/uwsgi.ini");
    std::fs::write(root.join("uwsgi-lint.toml"), "ignore = [\"UW101\"]\n").unwrap();
    let (mut c, _) = Client::start(&root, json!({ "ignore": ["UW601"] }), None);
    c.open(&ini, "uwsgi");
    let d = codes(&c.diagnostics(&ini, 1));
    assert!(!d.contains(&"UW101".into()) && !d.contains(&"UW601".into()));
    assert!(d.contains(&"UW102".into()), "{d:?}");
    assert_eq!(
        lsp_findings(&c.republish(&ini, 5)),
        check_findings(
            &check_json(&root, &["--ignore", "UW601"]),
            "deploy/uwsgi.ini"
        )
    );
    // The configuration file changes on disk: the watcher's event reloads it.
    std::fs::write(root.join("uwsgi-lint.toml"), "ignore = [\"UW102\"]\n").unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({ "changes": [{ "uri": uri(&root.join("uwsgi-lint.toml")), "type": 2 }] }),
    );
    let d = codes(&c.diagnostics(&ini, 5));
    assert!(
        d.contains(&"UW101".into()) && !d.contains(&"UW102".into()),
        "{d:?}"
    );
    // A broken configuration is reported, and the server keeps serving.
    std::fs::write(root.join("uwsgi-lint.toml"), "ignore = [\"UW999\"]\n").unwrap();
    c.notify("workspace/didChangeWatchedFiles", json!({ "changes": [] }));
    let shown = loop {
        let m = c.next();
        if m["method"] == "window/showMessage" {
            break m;
        }
    };
    assert!(
        shown["params"]["message"]
            .as_str()
            .unwrap()
            .contains("UW999")
    );
    c.stop();
}

impl Client {
    /// Publish the document's diagnostics again, under a new version (an
    /// empty change), and return them.
    fn republish(&mut self, path: &Path, version: i64) -> Vec<Value> {
        self.change(path, version, json!([]));
        self.diagnostics(path, version)
    }

    /// Wait until every change sent so far is analysed (a request makes the
    /// server analyse first; what it published before answering is
    /// dropped), so the next publication reflects the next change.
    fn settle(&mut self) {
        self.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": "file:///nonexistent.ini" }, "position": { "line": 0, "character": 0 } }),
        );
        self.queue.clear();
    }
}

#[test]
fn positions_follow_the_negotiated_encoding() {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-lsp-enc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let ini = d.join("uwsgi.ini");
    // `😀` is 4 bytes in UTF-8 and 2 units in UTF-16.
    std::fs::write(&ini, "[uwsgi]\nprocname = 😀x\nbuffer-size = 😀32k\n").unwrap();
    let d = common::canonical(&d);
    let ini = d.join("uwsgi.ini");
    let mut starts = Vec::new();
    for enc in [Some(&["utf-8"][..]), None] {
        let (mut c, _) = Client::start(&d, json!({ "select": ["UW103"] }), enc);
        c.open(&ini, "uwsgi");
        let diags = c.diagnostics(&ini, 1);
        let uw103 = diags.iter().find(|x| x["code"] == "UW103").unwrap();
        starts.push(uw103["range"]["end"]["character"].as_u64().unwrap());
        c.stop();
    }
    // `😀32k` ends 7 bytes / 5 UTF-16 units after the value's start (col 14).
    assert_eq!(starts, vec![14 + 7, 14 + 5]);
}

#[test]
fn malformed_messages_unknown_methods_other_files_and_failures_keep_it_serving() {
    let root = project("robust", "examples/django-ecs");
    let ini = root.join("deploy/uwsgi.ini");
    let (mut c, _) = Client::start(&root, json!({}), None);
    c.send_raw(b"{ this is not json");
    c.send_raw(b"[1, 2, 3]");
    c.notify("$/somethingUnknown", json!({}));
    c.notify("textDocument/didChange", json!({ "bogus": true }));
    let r = c.request_full("textDocument/unknownFeature", json!({}));
    assert_eq!(r["error"]["code"], -32601, "{r}");
    let r = c.request_full("textDocument/hover", json!({ "wrong": 1 }));
    assert_eq!(r["error"]["code"], -32602, "{r}");
    let r = c.request_full("uwsgi-lint/debugPanic", json!({}));
    assert_eq!(r["error"]["code"], -32603, "{r}");
    // Files that are no uWSGI config: no findings, no failure.
    let readme = root.join("README.md");
    c.open(&readme, "markdown");
    let settings = root.join("myproject/settings.py");
    c.open(&settings, "python");
    c.open(&ini, "uwsgi");
    assert!(!c.diagnostics(&ini, 1).is_empty());
    let h = c.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri(&settings) }, "position": { "line": 0, "character": 0 } }),
    );
    assert!(h.is_null());
    let err = c.stop();
    assert!(err.contains("malformed message ignored"), "{err}");
    assert!(
        err.contains("internal error answering uwsgi-lint/debugPanic"),
        "{err}"
    );
}

#[test]
fn hover_names_the_container_layer_that_wins_and_unsaved_new_configs_are_linted() {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-lsp-layers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("docker-compose.yml"),
        "services:\n  web:\n    image: app\n    command: [\"uwsgi\", \"--ini\", \"uwsgi.ini\", \"--processes\", \"8\"]\n    environment:\n      UWSGI_HARAKIRI: \"60\"\n    mem_limit: 1g\n",
    )
    .unwrap();
    std::fs::write(
        d.join("uwsgi.ini"),
        "[uwsgi]\nmaster = true\nprocesses = 4\nharakiri = 30\n",
    )
    .unwrap();
    let d = common::canonical(&d);
    let ini = d.join("uwsgi.ini");
    let (mut c, _) = Client::start(&d, json!({}), None);
    c.open(&ini, "uwsgi");
    c.diagnostics(&ini, 1);
    let hover = |c: &mut Client, line: u32| {
        let h = c.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri(&ini) }, "position": { "line": line, "character": 2 } }),
        );
        h["contents"]["value"].as_str().unwrap().to_string()
    };
    let processes = hover(&mut c, 2);
    let harakiri = hover(&mut c, 3);
    snapshot(
        "lsp_hover_layers",
        &c.redact_text(&format!("{processes}\n\n{harakiri}")),
    );
    assert!(
        processes.contains(
            "`8`, from the container's command line (`--processes`, argument 3) (this line is overridden)"
        ),
        "{processes}"
    );
    assert!(
        harakiri.contains("`30` = 30 seconds, from this line"),
        "{harakiri}"
    );
    // A config that exists only in the editor (never saved) is linted too.
    let new = d.join("staging-uwsgi.ini");
    c.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri(&new), "languageId": "uwsgi", "version": 1, "text": "[uwsgi]\nbuffer-size = 64k\n" } }),
    );
    let diags = c.diagnostics(&new, 1);
    assert!(codes(&diags).contains(&"UW102".to_string()), "{diags:?}");
    assert!(!new.exists());
    c.stop();
}

#[test]
fn a_configmap_manifest_gets_the_findings_of_the_config_it_holds_and_follows_edits() {
    let root = project("configmap", "tests/fixtures/k8s/configmap-ini");
    std::fs::create_dir_all(root.join(".git")).unwrap();
    let manifest = root.join("k8s/configmap.yaml");
    let (mut c, _) = Client::start(&root, json!({}), None);
    let text = c.open(&manifest, "yaml");
    let diags = c.diagnostics(&manifest, 1);
    // Exactly `check`'s findings, at the manifest's lines.
    let expected = check_findings(&check_json(&root, &["--no-config"]), "k8s/configmap.yaml");
    assert!(codes(&diags).contains(&"UW202".to_string()), "{diags:?}");
    assert_eq!(lsp_findings(&diags), expected);
    let uw202 = diags.iter().find(|d| d["code"] == "UW202").unwrap();
    assert_eq!(uw202["range"]["start"]["line"], 16);
    // The limit's label is in the Deployment.
    assert!(
        uw202["relatedInformation"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["location"]["uri"] == uri(&root.join("k8s/deployment.yaml")))
    );
    // An unsaved edit of the embedded config: 2 workers fit.
    let line = text
        .lines()
        .position(|l| l.trim() == "processes = 8")
        .unwrap();
    let range = json!({ "start": { "line": line, "character": 16 }, "end": { "line": line, "character": 17 } });
    c.change(&manifest, 2, json!([{ "range": range, "text": "2" }]));
    let after = c.diagnostics(&manifest, 2);
    assert!(!codes(&after).contains(&"UW202".to_string()), "{after:?}");
    c.stop();
}

/// Everything a finding says, in one shape for `check --format json` and
/// for the protocol: code, severity, message, range (0-based), the related
/// places (file, range, message), the help and the fix's applicability.
type Full = (
    String,
    String,
    String,
    [u64; 4],
    Vec<String>,
    String,
    String,
);

fn check_full(check: &Value, file: &str) -> Vec<Full> {
    let range = |d: &Value| {
        let n = |k: &str| d[k].as_u64().unwrap() - 1;
        [n("line"), n("column"), n("end_line"), n("end_column")]
    };
    check["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == file)
        .map(|d| {
            let related = d["related"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    format!(
                        "{} {:?} {}",
                        r["file"].as_str().unwrap(),
                        range(r),
                        r["message"]
                    )
                })
                .collect();
            (
                d["code"].as_str().unwrap().to_string(),
                d["severity"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
                range(d),
                related,
                d["help"].to_string(),
                d["fix"]["applicability"].to_string(),
            )
        })
        .collect()
}

fn lsp_full(root: &Path, diags: &[Value]) -> Vec<Full> {
    let prefix = format!("{}/", uri(root));
    let range = |r: &Value| {
        let n = |a: &str, b: &str| r[a][b].as_u64().unwrap();
        [
            n("start", "line"),
            n("start", "character"),
            n("end", "line"),
            n("end", "character"),
        ]
    };
    lsp_findings(diags)
        .into_iter()
        .zip(diags)
        .map(|((code, sev, msg, at), d)| {
            let related = d["relatedInformation"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    let file = r["location"]["uri"].as_str().unwrap();
                    let file = file.strip_prefix(&prefix).unwrap_or(file);
                    format!(
                        "{file} {:?} {}",
                        range(&r["location"]["range"]),
                        r["message"]
                    )
                })
                .collect();
            (
                code,
                sev,
                msg,
                at,
                related,
                d["data"]["help"].to_string(),
                d["data"]["fix"].to_string(),
            )
        })
        .collect()
}

/// Replace the first `find` in `text` by `by` through a ranged change
/// (ASCII text), and return the new text.
fn edit(c: &mut Client, path: &Path, version: i64, text: &str, find: &str, by: &str) -> String {
    let at = text
        .find(find)
        .unwrap_or_else(|| panic!("`{find}` in {text}"));
    let pos = |off: usize| {
        let before = &text[..off];
        let line = before.matches('\n').count();
        let col = off - before.rfind('\n').map_or(0, |i| i + 1);
        json!({ "line": line, "character": col })
    };
    let range = json!({ "start": pos(at), "end": pos(at + find.len()) });
    c.change(path, version, json!([{ "range": range, "text": by }]));
    text.replacen(find, by, 1)
}

#[test]
fn a_sequence_of_edits_to_the_config_and_to_compose_keeps_exactly_checks_findings() {
    let root = project("session", "rules/UW202/bad/variant-compose");
    let ini = root.join("uwsgi.ini");
    let compose = root.join("docker-compose.yml");
    // An include, so that findings come from two files of one config.
    std::fs::write(root.join("base.ini"), "[uwsgi]\nharakiri = \"30\"\n").unwrap();
    let text = std::fs::read_to_string(&ini).unwrap();
    std::fs::write(&ini, text.replace("[uwsgi]\n", "[uwsgi]\nini = base.ini\n")).unwrap();
    let (mut c, _) = Client::start(&root, json!({}), None);
    let mut ini_text = c.open(&ini, "uwsgi");
    let mut compose_text = c.open(&compose, "yaml");
    let (mut iv, mut cv) = (1, 1);
    // Each step: an edit, then the diagnostics of both documents compared
    // with `check --format json` on the same texts, saved.
    let steps: &[(&str, &str, &str)] = &[
        ("ini", "processes = 4", "processes = 2"),
        (
            "ini",
            "master = true\n",
            "master = true\nreload_on_rss = 100\n",
        ),
        (
            "ini",
            "[uwsgi]\n",
            "[uwsgi]\n; moved down a line\nbuffer-size = 32k\n",
        ),
        ("compose", "mem_limit: 1g", "mem_limit: 512m"),
        ("ini", "processes = 2", "processes = 8"),
        // A socket: what linking matches on changes.
        ("ini", "master = true\n", "master = true\nsocket = :3031\n"),
        ("ini", "buffer-size = 32k\n", ""),
        ("compose", "mem_limit: 512m", "mem_limit: 8g"),
        ("ini", "reload_on_rss = 100\n", "reload-on-rss = 100\n"),
    ];
    for (i, &(which, find, by)) in steps.iter().enumerate() {
        if which == "ini" {
            iv += 1;
            ini_text = edit(&mut c, &ini, iv, &ini_text, find, by);
        } else {
            cv += 1;
            compose_text = edit(&mut c, &compose, cv, &compose_text, find, by);
        }
        iv += 1;
        let on_ini = c.republish(&ini, iv);
        cv += 1;
        let on_compose = c.republish(&compose, cv);
        std::fs::write(&ini, &ini_text).unwrap();
        std::fs::write(&compose, &compose_text).unwrap();
        let check = check_json(&root, &[]);
        assert_eq!(
            lsp_full(&root, &on_ini),
            check_full(&check, "uwsgi.ini"),
            "step {i}: {which} `{find}` → `{by}`"
        );
        assert_eq!(
            lsp_full(&root, &on_compose),
            check_full(&check, "docker-compose.yml"),
            "step {i}: {which} `{find}` → `{by}`"
        );
        if i == 2 {
            // The findings of the include are `check`'s too.
            assert!(!check_full(&check, "base.ini").is_empty());
        }
    }
    c.stop();
}

#[test]
fn rule_links_follow_the_docs_url_setting_as_checks_do() {
    let root = project("docs-url", "examples/django-ecs");
    let ini = root.join("deploy/uwsgi.ini");
    std::fs::write(
        root.join("uwsgi-lint.toml"),
        "[output]\ndocs-url = \"https://docs.example.com/rules\"\n",
    )
    .unwrap();
    let links = |diags: &[Value]| -> Vec<(String, String)> {
        diags
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["codeDescription"]["href"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let check_links = |check: &Value| -> Vec<(String, String)> {
        check["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["file"] == "deploy/uwsgi.ini")
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["url"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // From the configuration file: the links `check --format json` gives.
    let (mut c, _) = Client::start(&root, json!({}), None);
    c.open(&ini, "uwsgi");
    let got = links(&c.diagnostics(&ini, 1));
    assert!(got.contains(&(
        "UW202".into(),
        "https://docs.example.com/rules/UW202.md".into()
    )));
    assert_eq!(got, check_links(&check_json(&root, &[])));
    c.stop();
    // The client's setting wins, as `--docs-url` does; `{code}` is replaced.
    let url = "https://lint.example.org/r/{code}";
    let (mut c, _) = Client::start(&root, json!({ "docsUrl": url }), None);
    c.open(&ini, "uwsgi");
    let got = links(&c.diagnostics(&ini, 1));
    assert!(got.contains(&("UW202".into(), "https://lint.example.org/r/UW202".into())));
    assert_eq!(got, check_links(&check_json(&root, &["--docs-url", url])));
    // A relative URL is refused with a message, and the file's setting holds.
    c.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "docsUrl": "rules/" } }),
    );
    let warned = loop {
        let m = c.next();
        if m["method"] == "window/logMessage" {
            break m;
        }
    };
    assert!(
        warned["params"]["message"]
            .as_str()
            .unwrap()
            .contains("docsUrl")
    );
    let got = links(&c.republish(&ini, 2));
    assert!(got.contains(&(
        "UW202".into(),
        "https://docs.example.com/rules/UW202.md".into()
    )));
    c.stop();
}
