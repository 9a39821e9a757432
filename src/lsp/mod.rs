//! `uwsgi-lint lsp`: a language server on stdio, a thin front end over the
//! library.
//!
//! Every analysis is the library's incremental session (`crate::session`)
//! of the project the document lies in (its workspace folder, else its
//! repository root), with the unsaved texts of every open document as an
//! overlay — so a document gets exactly the findings `check` reports for
//! that file, cross-file ones included, and an edit to an open Compose file
//! re-diagnoses the configs it runs. An edit to a uWSGI config re-reads
//! only that config; an edit to a context file or the settings rebuilds the
//! project's context. Changes are debounced: analysis waits until no
//! message arrived for `debounceMs`, or until a request needs it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use serde_json::Value;

use crate::lint::{Analysis, LintError};
use crate::session::Session;
use crate::settings::{Overrides, selector_known};

pub mod convert;
pub mod features;
pub mod transport;

use convert::Encoding;
use transport::Incoming;

/// The command `workspace/executeCommand` runs to show the effective config.
pub const SHOW_EFFECTIVE_CONFIG: &str = "uwsgi-lint.showEffectiveConfig";

/// An open document.
#[derive(Debug, Clone)]
pub struct Doc {
    pub uri: lsp::Uri,
    /// Its file (real path, or absolute path when not saved yet); `None` for
    /// `untitled:` and other schemes, which take part in nothing.
    pub path: Option<PathBuf>,
    pub text: String,
    pub version: i32,
}

/// The analysis of one project.
#[derive(Clone, Copy)]
pub struct Project<'a> {
    pub root: &'a Path,
    pub analysis: &'a Analysis,
    /// Where rule pages are published (`[output] docs-url`, `docsUrl`).
    pub docs_url: Option<&'a str>,
}

/// A project with an open document, and its session.
struct Tracked {
    root: PathBuf,
    session: Session,
}

pub struct Server {
    out: Sender<Message>,
    enc: Encoding,
    docs: BTreeMap<String, Doc>,
    folders: Vec<PathBuf>,
    overrides: Overrides,
    /// The settings `initializationOptions` gave.
    init_settings: serde_json::Map<String, Value>,
    debounce: Duration,
    dirty: bool,
    projects: Vec<Tracked>,
    /// What was last published per URI (version, diagnostics): unchanged
    /// diagnostics are not sent again.
    published: BTreeMap<String, (Option<i32>, Vec<lsp::Diagnostic>)>,
    /// The configuration errors last shown to the user.
    config_errors_shown: Vec<String>,
    initialized: bool,
    shutting_down: bool,
    next_request: i32,
    watch_dynamically: bool,
}

/// Run the server on stdin/stdout until `exit` or the end of input. `true`
/// when the client asked for `shutdown` first (the protocol's exit code 0).
pub fn run_stdio() -> bool {
    let (conn, incoming) = transport::stdio();
    let mut server = Server::new(conn.sender);
    server.serve(&incoming);
    server.shutting_down
}

fn log_stderr(text: &str) {
    eprintln!("uwsgi-lint lsp: {text}");
}

impl Server {
    pub fn new(out: Sender<Message>) -> Server {
        Server {
            out,
            enc: Encoding::Utf16,
            docs: BTreeMap::new(),
            folders: Vec::new(),
            overrides: Overrides::default(),
            init_settings: serde_json::Map::new(),
            debounce: Duration::from_millis(50),
            dirty: false,
            projects: Vec::new(),
            published: BTreeMap::new(),
            config_errors_shown: Vec::new(),
            initialized: false,
            shutting_down: false,
            next_request: 0,
            watch_dynamically: false,
        }
    }

    /// The message loop: returns at `exit` or when the input ends.
    pub fn serve(&mut self, incoming: &Receiver<Incoming>) {
        loop {
            let next = if self.dirty {
                match incoming.recv_timeout(self.debounce) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => {
                        self.analyse();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match incoming.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            };
            match next {
                Incoming::Malformed(problem) => self.log(lsp::MessageType::WARNING, &problem),
                Incoming::Message(Message::Request(req)) => self.request(req),
                Incoming::Message(Message::Notification(n)) => {
                    if n.method == "exit" {
                        break;
                    }
                    self.notification(n);
                }
                // Answers to our own requests (capability registration).
                Incoming::Message(Message::Response(r)) => {
                    if let Err(e) = r.response_result {
                        self.log(
                            lsp::MessageType::LOG,
                            &format!("the client refused a request: {}", e.message),
                        );
                    }
                }
            }
        }
    }

    fn send(&self, m: impl Into<Message>) {
        let _ = self.out.send(m.into());
    }

    fn notify<N: lsp::notification::Notification>(&self, params: N::Params) {
        self.send(Notification::new(N::METHOD.to_string(), params));
    }

    /// Log to stderr and to the client's log.
    pub fn log(&self, typ: lsp::MessageType, text: &str) {
        log_stderr(text);
        if self.initialized {
            self.notify::<lsp::notification::LogMessage>(lsp::LogMessageParams {
                typ,
                message: text.to_string(),
            });
        }
    }

    fn request(&mut self, req: Request) {
        let id = req.id.clone();
        if req.method == "initialize" {
            let result = self.initialize(req.params);
            self.send(Response::new_ok(id, result));
            return;
        }
        if !self.initialized {
            self.send(Response::new_err(
                id,
                ErrorCode::ServerNotInitialized as i32,
                "initialize first".into(),
            ));
            return;
        }
        if req.method == "shutdown" {
            self.shutting_down = true;
            self.send(Response::new_ok(id, Value::Null));
            return;
        }
        if self.shutting_down {
            self.send(Response::new_err(
                id,
                ErrorCode::InvalidRequest as i32,
                "the server is shutting down".into(),
            ));
            return;
        }
        // A request sees the current texts: analyse now if a change waits.
        if self.dirty && features::needs_analysis(&req.method) {
            self.analyse();
        }
        let method = req.method.clone();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            features::handle(self, &req.method, req.params)
        }));
        match outcome {
            Ok(Ok(Some(result))) => self.send(Response::new_ok(id, result)),
            Ok(Ok(None)) => self.send(Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("`{method}` is not supported"),
            )),
            Ok(Err(message)) => {
                self.log(lsp::MessageType::WARNING, &format!("{method}: {message}"));
                self.send(Response::new_err(
                    id,
                    ErrorCode::InvalidParams as i32,
                    message,
                ));
            }
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                self.log(
                    lsp::MessageType::ERROR,
                    &format!("internal error answering {method}: {what}; please report it"),
                );
                self.send(Response::new_err(
                    id,
                    ErrorCode::InternalError as i32,
                    format!("internal error: {what}"),
                ));
            }
        }
    }

    fn initialize(&mut self, params: Value) -> Value {
        let params: lsp::InitializeParams = match serde_json::from_value(params) {
            Ok(p) => p,
            Err(e) => {
                log_stderr(&format!(
                    "initialize: unreadable parameters ({e}); using defaults"
                ));
                lsp::InitializeParams::default()
            }
        };
        self.enc = Encoding::negotiate(
            params
                .capabilities
                .general
                .as_ref()
                .and_then(|g| g.position_encodings.as_deref()),
        );
        self.watch_dynamically = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        #[allow(deprecated)]
        let mut folders: Vec<PathBuf> = params
            .workspace_folders
            .iter()
            .flatten()
            .filter_map(|f| convert::uri_to_path(&f.uri))
            .chain(params.root_uri.as_ref().and_then(convert::uri_to_path))
            .map(|p| convert::canonical(&p))
            .collect();
        folders.sort();
        folders.dedup();
        self.folders = folders;
        if let Some(opts) = params.initialization_options {
            self.apply_settings(&opts, true);
        }
        self.initialized = true;
        serde_json::json!({
            "capabilities": features::capabilities(self.enc),
            "serverInfo": { "name": "uwsgi-lint", "version": env!("CARGO_PKG_VERSION") },
        })
    }

    /// `initializationOptions` or `workspace/didChangeConfiguration` settings
    /// (either bare or under `uwsgi-lint`): what the command-line flags of
    /// `check` would say, over the configuration files. The keys of a
    /// configuration change replace those of `initializationOptions`; the
    /// keys it leaves out keep theirs (eglot, for one, sends an empty change
    /// right after initializing).
    fn apply_settings(&mut self, v: &Value, initial: bool) {
        let v = v
            .get("uwsgi-lint")
            .or_else(|| v.get("uwsgiLint"))
            .unwrap_or(v);
        let Some(given) = v.as_object() else {
            return;
        };
        if initial {
            self.init_settings = given.clone();
        }
        let mut merged = self.init_settings.clone();
        merged.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
        let v = &Value::Object(merged);
        let mut o = Overrides::default();
        let mut problems = Vec::new();
        let list = |key: &str, problems: &mut Vec<String>| -> Vec<String> {
            let items: Vec<String> = v
                .get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            items
                .into_iter()
                .filter(|s| {
                    let ok = selector_known(s);
                    if !ok {
                        problems.push(format!("`{key}`: `{s}` matches no rule"));
                    }
                    ok
                })
                .collect()
        };
        if v.get("select").is_some() {
            o.select = Some(list("select", &mut problems));
        }
        o.extend_select = list("extendSelect", &mut problems);
        o.ignore = list("ignore", &mut problems);
        if let Some(s) = v.get("uwsgiVersion").and_then(Value::as_str) {
            match s.parse() {
                Ok(ver) => o.uwsgi_version = Some(ver),
                Err(e) => problems.push(format!("`uwsgiVersion`: {e}")),
            }
        }
        if let Some(env) = v.get("env").and_then(Value::as_object) {
            o.env = env
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect();
        }
        o.config = v
            .get("config")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        o.no_config = v.get("noConfig").and_then(Value::as_bool).unwrap_or(false);
        o.no_context = v.get("noContext").and_then(Value::as_bool).unwrap_or(false);
        if let Some(s) = v.get("memoryLimit").and_then(Value::as_str) {
            match crate::settings::parse_size(s) {
                Some(b) => o.memory_limit = Some(b),
                None => problems.push(format!("`memoryLimit`: `{s}` is not a size")),
            }
        }
        o.nginx_prefix = v
            .get("nginxPrefix")
            .and_then(Value::as_str)
            .map(PathBuf::from);
        if let Some(s) = v.get("docsUrl").and_then(Value::as_str) {
            match crate::settings::parse_docs_url(s) {
                Ok(url) => o.docs_url = Some(url),
                Err(e) => problems.push(format!("`docsUrl`: {e}")),
            }
        }
        if let Some(ms) = v.get("debounceMs").and_then(Value::as_u64) {
            self.debounce = Duration::from_millis(ms.min(5_000));
        }
        for p in problems {
            self.log(
                lsp::MessageType::WARNING,
                &format!("settings: {p} (ignored)"),
            );
        }
        self.overrides = o;
    }

    fn notification(&mut self, n: Notification) {
        use lsp::notification::*;
        if !self.initialized {
            return;
        }
        let method = n.method.clone();
        let result: Result<(), String> = (|| {
            match method.as_str() {
                Initialized::METHOD => self.register_watchers(),
                DidOpenTextDocument::METHOD => {
                    let p: lsp::DidOpenTextDocumentParams = parse(n.params)?;
                    let d = p.text_document;
                    let path = convert::uri_to_path(&d.uri).map(|p| convert::canonical(&p));
                    self.docs.insert(
                        d.uri.as_str().to_string(),
                        Doc {
                            uri: d.uri,
                            path,
                            text: d.text,
                            version: d.version,
                        },
                    );
                    self.dirty = true;
                }
                DidChangeTextDocument::METHOD => {
                    let p: lsp::DidChangeTextDocumentParams = parse(n.params)?;
                    let enc = self.enc;
                    let doc = self
                        .docs
                        .get_mut(p.text_document.uri.as_str())
                        .ok_or("a change to a document that is not open")?;
                    for change in p.content_changes {
                        apply_change(&mut doc.text, change, enc);
                    }
                    doc.version = p.text_document.version;
                    self.dirty = true;
                }
                DidSaveTextDocument::METHOD => {
                    let p: lsp::DidSaveTextDocumentParams = parse(n.params)?;
                    if let (Some(text), Some(doc)) =
                        (p.text, self.docs.get_mut(p.text_document.uri.as_str()))
                    {
                        doc.text = text;
                    }
                    self.dirty = true;
                }
                DidCloseTextDocument::METHOD => {
                    let p: lsp::DidCloseTextDocumentParams = parse(n.params)?;
                    self.docs.remove(p.text_document.uri.as_str());
                    if self
                        .published
                        .remove(p.text_document.uri.as_str())
                        .is_some_and(|(_, d)| !d.is_empty())
                    {
                        self.publish(p.text_document.uri, Vec::new(), None);
                    }
                    // Its saved text replaces the unsaved one in other analyses.
                    self.dirty = true;
                }
                DidChangeWatchedFiles::METHOD => {
                    let p: lsp::DidChangeWatchedFilesParams = parse(n.params)?;
                    if p.changes.is_empty() {
                        // Something changed, it does not say what.
                        for t in &mut self.projects {
                            t.session.invalidate();
                        }
                    }
                    for change in p.changes {
                        let Some(path) = convert::uri_to_path(&change.uri) else {
                            continue;
                        };
                        let path = convert::canonical(&path);
                        for t in &mut self.projects {
                            // A created or deleted file changes what is
                            // discovered; a changed one may be re-read alone.
                            if change.typ == lsp::FileChangeType::CHANGED {
                                t.session.changed_on_disk(&path);
                            } else {
                                t.session.invalidate();
                            }
                        }
                    }
                    self.dirty = true;
                }
                DidChangeConfiguration::METHOD => {
                    let p: lsp::DidChangeConfigurationParams = parse(n.params)?;
                    self.apply_settings(&p.settings, false);
                    for t in &mut self.projects {
                        t.session.set_overrides(self.overrides.clone());
                    }
                    self.dirty = true;
                }
                DidChangeWorkspaceFolders::METHOD => {
                    let p: lsp::DidChangeWorkspaceFoldersParams = parse(n.params)?;
                    let gone: Vec<PathBuf> = p
                        .event
                        .removed
                        .iter()
                        .filter_map(|f| convert::uri_to_path(&f.uri))
                        .map(|p| convert::canonical(&p))
                        .collect();
                    self.folders.retain(|f| !gone.contains(f));
                    self.folders.extend(
                        p.event
                            .added
                            .iter()
                            .filter_map(|f| convert::uri_to_path(&f.uri))
                            .map(|p| convert::canonical(&p)),
                    );
                    self.dirty = true;
                }
                _ => {}
            }
            Ok(())
        })();
        if let Err(e) = result {
            self.log(lsp::MessageType::WARNING, &format!("{method}: {e}"));
        }
    }

    /// Ask the client to tell us about changes to context and settings files
    /// that are not open (when it can watch files for us).
    fn register_watchers(&mut self) {
        if !self.watch_dynamically {
            return;
        }
        let globs = [
            "**/*.{ini,yml,yaml,json,conf,toml,txt,template,nginx}",
            "**/{Dockerfile,Containerfile}*",
            "**/*.{Dockerfile,dockerfile}",
            "**/{sites-*,conf.d,nginx}/*",
        ];
        let options = lsp::DidChangeWatchedFilesRegistrationOptions {
            watchers: globs
                .iter()
                .map(|g| lsp::FileSystemWatcher {
                    glob_pattern: lsp::GlobPattern::String(g.to_string()),
                    kind: None,
                })
                .collect(),
        };
        self.next_request += 1;
        let params = lsp::RegistrationParams {
            registrations: vec![lsp::Registration {
                id: "uwsgi-lint-watch".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(options).ok(),
            }],
        };
        self.send(Request::new(
            RequestId::from(self.next_request),
            "client/registerCapability".into(),
            params,
        ));
    }

    /// The project a file belongs to: the innermost workspace folder holding
    /// it, else its repository root (as `check FILE` finds it).
    fn root_for(&self, path: &Path) -> PathBuf {
        self.folders
            .iter()
            .filter(|f| path.starts_with(f))
            .max_by_key(|f| f.components().count())
            .cloned()
            .unwrap_or_else(|| crate::discover::repo_root(path.parent().unwrap_or(Path::new("/"))))
    }

    /// Analyse every project with an open document (each through its
    /// session: incremental where it can be), then publish.
    pub fn analyse(&mut self) {
        self.dirty = false;
        let mut roots: Vec<PathBuf> = self
            .docs
            .values()
            .filter_map(|d| d.path.as_deref())
            .map(|p| self.root_for(p))
            .collect();
        roots.sort();
        roots.dedup();
        // Projects with no open document left are dropped with their session.
        let mut tracked: Vec<Tracked> = std::mem::take(&mut self.projects)
            .into_iter()
            .filter(|t| roots.contains(&t.root))
            .collect();
        for root in &roots {
            if !tracked.iter().any(|t| &t.root == root) {
                tracked.push(Tracked {
                    root: root.clone(),
                    session: Session::new(vec![root.clone()], self.overrides.clone()),
                });
            }
        }
        let texts: Vec<(&Path, &[u8])> = self
            .docs
            .values()
            .filter_map(|d| Some((d.path.as_deref()?, d.text.as_bytes())))
            .collect();
        let mut config_errors = Vec::new();
        let mut logs = Vec::new();
        for t in &mut tracked {
            // Relative names resolve from the project root, as `check` run
            // there resolves them (uWSGI reads includes from its cwd).
            if let Err(e) = std::env::set_current_dir(&t.root) {
                logs.push((
                    lsp::MessageType::WARNING,
                    format!("cannot enter {}: {e}", t.root.display()),
                ));
                continue;
            }
            t.session.set_texts(texts.iter().copied());
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                t.session.analysis().map(|_| ())
            }));
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(LintError::Config(e))) => {
                    logs.push((lsp::MessageType::ERROR, e.to_string()));
                    config_errors.push(e);
                }
                Ok(Err(LintError::Io(e))) => logs.push((
                    lsp::MessageType::WARNING,
                    format!("{}: {e}", t.root.display()),
                )),
                Err(_) => {
                    // Whatever it kept may be half updated.
                    t.session = Session::new(vec![t.root.clone()], self.overrides.clone());
                    logs.push((
                        lsp::MessageType::ERROR,
                        format!(
                            "internal error linting {}; please report it",
                            t.root.display()
                        ),
                    ));
                }
            }
        }
        self.projects = tracked;
        for (typ, text) in logs {
            self.log(typ, &text);
        }
        self.publish_all(&config_errors);
    }

    /// The analysed projects.
    fn analysed(&self) -> impl Iterator<Item = Project<'_>> {
        self.projects.iter().filter_map(|t| {
            Some(Project {
                root: &t.root,
                analysis: t.session.last()?,
                docs_url: t.session.docs_url(),
            })
        })
    }

    /// The project and the ids under which the library read `path`.
    pub fn file(&self, path: &Path) -> Option<(Project<'_>, Vec<crate::source::FileId>)> {
        self.analysed().find_map(|p| {
            let ids: Vec<_> = p
                .analysis
                .report
                .sources
                .iter()
                .filter(|(_, f)| {
                    f.path.as_deref().map(crate::input::shown_path).as_deref() == Some(path)
                })
                .map(|(id, _)| id)
                .collect();
            (!ids.is_empty()).then_some((p, ids))
        })
    }

    fn publish(&self, uri: lsp::Uri, diagnostics: Vec<lsp::Diagnostic>, version: Option<i32>) {
        self.notify::<lsp::notification::PublishDiagnostics>(lsp::PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        });
    }

    fn publish_all(&mut self, config_errors: &[crate::settings::ConfigError]) {
        let mut published = BTreeMap::new();
        for doc in self.docs.values() {
            let Some(path) = &doc.path else { continue };
            let mut out = Vec::new();
            if let Some(project) = self.analysed().find(|p| path.starts_with(p.root)) {
                let report = &project.analysis.report;
                for d in &report.diagnostics {
                    // (A config embedded in a manifest shows in the manifest.)
                    let file = report.sources.get(d.file).path.as_deref();
                    if file.map(crate::input::shown_path).as_deref() == Some(path.as_path()) {
                        out.push(convert::diagnostic(
                            &report.sources,
                            d,
                            self.enc,
                            project.docs_url,
                        ));
                    }
                }
            }
            for e in config_errors {
                if convert::canonical(&e.file) == *path {
                    let pos = lsp::Position::new(
                        e.line.saturating_sub(1) as u32,
                        e.column.saturating_sub(1) as u32,
                    );
                    out.push(lsp::Diagnostic {
                        range: lsp::Range::new(pos, pos),
                        severity: Some(lsp::DiagnosticSeverity::ERROR),
                        source: Some("uwsgi-lint".into()),
                        message: e.message.clone(),
                        ..Default::default()
                    });
                }
            }
            let key = doc.uri.as_str().to_string();
            let now = (Some(doc.version), out);
            if self.published.get(&key) == Some(&now) {
                continue;
            }
            self.publish(doc.uri.clone(), now.1.clone(), now.0);
            published.insert(key, now);
        }
        // Shown once per distinct problem, not at every keystroke.
        let shown: Vec<String> = config_errors.iter().map(|e| e.to_string()).collect();
        if !shown.is_empty() && shown != self.config_errors_shown {
            self.notify::<lsp::notification::ShowMessage>(lsp::ShowMessageParams {
                typ: lsp::MessageType::ERROR,
                message: format!("uwsgi-lint configuration: {}", shown.join("; ")),
            });
        }
        self.config_errors_shown = shown;
        // Documents whose diagnostics did not change keep their entry.
        for (k, v) in std::mem::take(&mut self.published) {
            if self.docs.contains_key(&k) {
                published.entry(k).or_insert(v);
            }
        }
        self.published = published;
    }

    pub fn encoding(&self) -> Encoding {
        self.enc
    }

    pub fn doc(&self, uri: &lsp::Uri) -> Option<&Doc> {
        self.docs.get(uri.as_str())
    }

    /// Is a document open for this file?
    pub fn doc_at(&self, path: &Path) -> bool {
        self.docs.values().any(|d| d.path.as_deref() == Some(path))
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("unreadable parameters: {e}"))
}

/// Apply one `didChange` event to a document's text.
pub fn apply_change(text: &mut String, change: lsp::TextDocumentContentChangeEvent, enc: Encoding) {
    let Some(range) = change.range else {
        *text = change.text;
        return;
    };
    let lines = crate::source::LineIndex::new(text.as_bytes());
    let at = |p: lsp::Position| {
        let (line, col) = (p.line as usize, p.character as usize);
        match enc {
            Encoding::Utf8 => lines.offset_of_utf8(text.as_bytes(), line, col),
            Encoding::Utf16 => lines.offset_of_utf16(text.as_bytes(), line, col),
        }
    };
    let start = at(range.start);
    let end = at(range.end).max(start);
    if text.is_char_boundary(start) && text.is_char_boundary(end) {
        // In place: an edit near the top of a large file moves the rest once.
        text.replace_range(start..end, &change.text);
        return;
    }
    // Offsets from a UTF-8 client can split a character only if it sent a
    // bad position; the text stays valid either way.
    let mut bytes = std::mem::take(text).into_bytes();
    bytes.splice(start..end, change.text.into_bytes());
    *text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(
        l1: u32,
        c1: u32,
        l2: u32,
        c2: u32,
        text: &str,
    ) -> lsp::TextDocumentContentChangeEvent {
        lsp::TextDocumentContentChangeEvent {
            range: Some(lsp::Range::new(
                lsp::Position::new(l1, c1),
                lsp::Position::new(l2, c2),
            )),
            range_length: None,
            text: text.into(),
        }
    }

    #[test]
    fn incremental_changes_in_both_encodings() {
        // `é` is 2 bytes, 1 UTF-16 unit; `😀` is 4 bytes, 2 units.
        let mut t = String::from("[uwsgi]\nname = é😀x\nmaster = true\n");
        apply_change(&mut t, change(1, 10, 1, 11, "y"), Encoding::Utf16);
        assert_eq!(t, "[uwsgi]\nname = é😀y\nmaster = true\n");
        apply_change(&mut t, change(1, 14, 2, 6, ""), Encoding::Utf8);
        assert_eq!(t, "[uwsgi]\nname = é😀y = true\n");
        // A whole-document change replaces everything.
        let full = lsp::TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: "[uwsgi]\n".into(),
        };
        apply_change(&mut t, full, Encoding::Utf16);
        assert_eq!(t, "[uwsgi]\n");
    }
}
