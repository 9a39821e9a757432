//! Requests: hover, inlay hints, completion, code actions, definitions,
//! symbols and the effective config, all read off the library's analysis.

use std::path::{Path, PathBuf};

use lsp_types as lsp;
use serde_json::Value;

use super::convert::{self, Encoding};
use super::{Doc, Project, Server};
use crate::diagnostic::Applicability;
use crate::lint::Run;
use crate::source::{FileId, SourceFile, Span};
use crate::uwsgi::options::{NEWEST_2_0, OptionDef, ValueKind, catalogue};
use crate::uwsgi::resolve::{Entry, Layer};
use crate::uwsgi::values::{self, NumericRead};

/// What the server offers.
pub fn capabilities(enc: Encoding) -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        position_encoding: Some(enc.kind()),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::SaveOptions(
                    lsp::SaveOptions {
                        include_text: Some(false),
                    },
                )),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        inlay_hint_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec!["(".into(), "=".into()]),
            ..Default::default()
        }),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![lsp::CodeActionKind::QUICKFIX]),
                ..Default::default()
            },
        )),
        definition_provider: Some(lsp::OneOf::Left(true)),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        execute_command_provider: Some(lsp::ExecuteCommandOptions {
            commands: vec![super::SHOW_EFFECTIVE_CONFIG.into()],
            ..Default::default()
        }),
        workspace: Some(lsp::WorkspaceServerCapabilities {
            workspace_folders: Some(lsp::WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(lsp::OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..Default::default()
    }
}

/// Does answering `method` need the current texts analysed?
pub fn needs_analysis(method: &str) -> bool {
    !matches!(method, "textDocument/documentSymbol")
}

/// Answer a request: `Ok(None)` for a method this server does not have.
pub fn handle(server: &Server, method: &str, params: Value) -> Result<Option<Value>, String> {
    use lsp::request::*;
    fn p<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
        serde_json::from_value(v).map_err(|e| format!("unreadable parameters: {e}"))
    }
    let json = |v: Result<Value, serde_json::Error>| v.map_err(|e| e.to_string()).map(Some);
    match method {
        HoverRequest::METHOD => json(serde_json::to_value(hover(server, p(params)?))),
        InlayHintRequest::METHOD => json(serde_json::to_value(inlay_hints(server, p(params)?))),
        Completion::METHOD => json(serde_json::to_value(completion(server, p(params)?))),
        CodeActionRequest::METHOD => json(serde_json::to_value(code_actions(server, p(params)?))),
        GotoDefinition::METHOD => json(serde_json::to_value(definition(server, p(params)?))),
        DocumentSymbolRequest::METHOD => json(serde_json::to_value(symbols(server, p(params)?))),
        ExecuteCommand::METHOD => execute(server, p(params)?).map(Some),
        // Lets the protocol tests prove a failing handler leaves the server
        // serving; not in release builds.
        #[cfg(debug_assertions)]
        "uwsgi-lint/debugPanic" => panic!("requested by the client"),
        _ => Ok(None),
    }
}

/// An open document with its analysis.
struct At<'a> {
    server: &'a Server,
    doc: &'a Doc,
    project: Project<'a>,
    ids: Vec<FileId>,
}

impl<'a> At<'a> {
    fn new(server: &'a Server, uri: &lsp::Uri) -> Option<At<'a>> {
        let doc = server.doc(uri)?;
        let (project, ids) = server.file(doc.path.as_deref()?)?;
        Some(At {
            server,
            doc,
            project,
            ids,
        })
    }

    fn enc(&self) -> Encoding {
        self.server.encoding()
    }

    fn source(&self) -> &'a SourceFile {
        self.project.analysis.report.sources.get(self.ids[0])
    }

    fn offset(&self, pos: lsp::Position) -> usize {
        convert::offset(self.source(), pos, self.enc())
    }

    fn range(&self, span: Span) -> lsp::Range {
        convert::range(self.source(), span, self.enc())
    }

    fn runs(&self) -> impl Iterator<Item = &'a Run> + '_ {
        self.project.analysis.runs.iter()
    }

    /// Every collected option written in this file: (run, entry, key, value).
    fn entries(&self) -> Vec<(&'a Run, &'a Entry, Span, Span)> {
        let mut out = Vec::new();
        for run in self.runs() {
            for e in &run.resolved.entries {
                if let Layer::File {
                    file, key, value, ..
                } = e.origin.layer
                    && self.ids.contains(&file)
                {
                    out.push((run, e, key, value));
                }
            }
        }
        out
    }

    /// The target uWSGI version of this file's runs.
    fn target(&self) -> crate::uwsgi::version::Version {
        self.runs()
            .find(|r| self.ids.contains(&r.file))
            .map_or(NEWEST_2_0, |r| r.target)
    }

    /// The container running `run`, in words.
    fn who(&self, run: &Run) -> String {
        match run.deployment {
            Some(i) => self.project.analysis.report.deployments[i]
                .container
                .who_capitalized(),
            None => "On its own (no container runs it)".into(),
        }
    }

    /// Where an entry comes from, in words; `run` names command-line arguments.
    fn origin_in(&self, e: &Entry, run: &Run) -> String {
        if let (Layer::Cli { index }, Some(d)) = (&e.origin.layer, run.deployment) {
            let args = &self.project.analysis.report.deployments[d].args;
            if let Some(a) = args.get(*index) {
                return format!(
                    "the container's command line (`{}`, argument {})",
                    a.value,
                    index + 1
                );
            }
        }
        self.origin(e)
    }

    fn origin(&self, e: &Entry) -> String {
        let sources = &self.project.analysis.report.sources;
        match &e.origin.layer {
            Layer::Env { var } => format!("the environment variable `{var}`"),
            Layer::Cli { index } => format!("the command line (argument {})", index + 1),
            Layer::File { file, key, .. } => {
                let f = sources.get(*file);
                let line = f.line_col(key.start).line;
                if self.ids.contains(file) {
                    format!("line {line}")
                } else {
                    format!("`{}` line {line}", f.name)
                }
            }
        }
    }
}

/// A value as uWSGI reads it, in the option's unit.
fn reading(def: &OptionDef, value: Option<&[u8]>) -> Option<String> {
    match def.kind {
        ValueKind::Flag | ValueKind::FlagFalse => {
            let on = values::read_flag(value) == (def.kind == ValueKind::Flag);
            Some(if on { "on" } else { "off" }.into())
        }
        k if k.is_numeric() => Some(def.shown(values::read_numeric(k, value)?.value)),
        _ => None,
    }
}

fn hover(server: &Server, params: lsp::HoverParams) -> Option<lsp::Hover> {
    let tp = params.text_document_position_params;
    let at = At::new(server, &tp.text_document.uri)?;
    let off = at.offset(tp.position);
    let entries = at.entries();
    // On a key: the option.
    if let Some((_, e, key, _)) = entries
        .iter()
        .find(|(_, _, k, _)| k.start <= off && off <= k.end)
    {
        let mut md = option_doc(e.def(), &e.key_str(), at.target());
        md.push_str("\n\n---\n");
        let mut shown: Vec<String> = Vec::new();
        for (run, e2, k2, _) in &entries {
            if *k2 != *key {
                continue;
            }
            let text = effective(&at, run, e2, at.who(run));
            if !shown.contains(&text) {
                shown.push(text);
            }
        }
        md.push_str(&shown.join("\n\n"));
        return Some(markdown_hover(md, at.range(*key)));
    }
    // On a `%(x)`, `$(X)` or `@(file)` in a value: the expansion.
    let (_, e, _, value) = entries
        .iter()
        .find(|(_, _, _, v)| v.start <= off && off <= v.end)?;
    let src = at.source();
    let raw = src.slice(*value);
    let (kind, name, span) = reference_at(raw, off - value.start)?;
    let span = Span::new(value.start + span.start, value.start + span.end);
    let mut md = match kind {
        b'%' => {
            let found = at
                .runs()
                .find_map(|r| r.resolved.first_exact(name.as_bytes()));
            match found.and_then(|d| d.value.as_ref()) {
                Some(v) => format!(
                    "`%({name})` is `{}` (the first `{name}` set: {})",
                    String::from_utf8_lossy(v),
                    found.map(|d| at.origin(d)).unwrap_or_default()
                ),
                None => format!("`%({name})` names no option or placeholder: uWSGI keeps the text"),
            }
        }
        b'$' => format!("`$({name})`: the environment variable `{name}` where uWSGI starts"),
        _ => format!("`@({name})`: the content of the file `{name}`"),
    };
    md.push_str(&format!("\n\nThe whole value reads as `{}`", e.value_str()));
    for u in &e.unknown {
        md.push_str(&format!(
            "\n\n`{}` is unknown here: {}",
            u.reference, u.reason
        ));
    }
    Some(markdown_hover(md, at.range(span)))
}

fn markdown_hover(md: String, range: lsp::Range) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: md,
        }),
        range: Some(range),
    }
}

/// The reference (`%(x)`, `$(X)`, `@(f)`) around `at` in a raw value:
/// its sigil, its name and its span within the value.
fn reference_at(raw: &[u8], at: usize) -> Option<(u8, String, Span)> {
    let mut i = 0;
    while i + 1 < raw.len() {
        if matches!(raw[i], b'%' | b'$' | b'@')
            && raw[i + 1] == b'('
            && let Some(close) = raw[i + 2..].iter().position(|&b| b == b')')
        {
            let end = i + 2 + close + 1;
            if i <= at && at <= end {
                let name = String::from_utf8_lossy(&raw[i + 2..end - 1]).into_owned();
                return Some((raw[i], name, Span::new(i, end)));
            }
            i = end;
            continue;
        }
        i += 1;
    }
    None
}

/// An option's documentation, as Markdown.
fn option_doc(
    def: Option<&OptionDef>,
    key: &str,
    target: crate::uwsgi::version::Version,
) -> String {
    let Some(def) = def else {
        return format!("**`{key}`** is no uWSGI option: uWSGI ignores this line");
    };
    let mut md = format!("**`{}`**", def.name);
    if def.name != key {
        md.push_str(&format!(" (written `{key}`)"));
    }
    md.push_str(&format!(" — {}\n", def.help));
    let aliases: Vec<String> = def
        .aliases()
        .filter(|a| *a != def.name)
        .map(|a| format!("`{a}`"))
        .collect();
    if !aliases.is_empty() {
        md.push_str(&format!("\n- also written {}", aliases.join(", ")));
    }
    let unit = match (def.kind, def.unit_word()) {
        (ValueKind::Megabytes, _) => {
            "a whole number of MiB (suffixes such as `G` are ignored)".to_string()
        }
        (k, u) if k.is_numeric() && !u.is_empty() => {
            format!("a whole number of {u} (suffixes are ignored)")
        }
        (k, _) if k.is_numeric() => "a whole number".into(),
        (ValueKind::Flag | ValueKind::FlagFalse, _) => {
            "a flag: off only for `false`, `off`, `no` or `0`".into()
        }
        (ValueKind::List, _) => "a list: each line adds a value".into(),
        _ => "text".into(),
    };
    md.push_str(&format!("\n- value: {unit}"));
    if let Some(d) = def.default_value() {
        md.push_str(&format!("\n- default: {d}"));
    }
    match def.since() {
        Some(v) if v > target => md.push_str(&format!(
            "\n- since uWSGI {v} (newer than the target {target}: ignored there)"
        )),
        Some(v) => md.push_str(&format!("\n- since uWSGI {v}")),
        None => {}
    }
    if def.plugin != "core" {
        md.push_str(&format!("\n- plugin: `{}`", def.plugin));
    }
    md
}

/// The value uWSGI uses for the option of `e`, and where it comes from.
fn effective(at: &At, run: &Run, e: &Entry, who: String) -> String {
    let resolved = &run.resolved;
    let Some(def) = e.def() else {
        return format!("{who}: not applied (no such option)");
    };
    let all: Vec<&Entry> = resolved.all(def.name).collect();
    let same = |a: &Entry| a.origin == e.origin;
    if def.is_multi_valued() {
        let values: Vec<String> = all
            .iter()
            .map(|a| format!("`{}` ({})", a.value_str(), at.origin_in(a, run)))
            .collect();
        return format!("{who}, every value applies: {}", values.join(", "));
    }
    let Some(last) = all.last() else {
        return format!("{who}: not applied");
    };
    // How uWSGI reads it, where that says more than the text.
    let read = reading(def, last.value.as_deref())
        .filter(|r| *r != last.value_str())
        .map(|r| format!(" = {r}"))
        .unwrap_or_default();
    if same(last) {
        format!("{who}: `{}`{read}, from this line", last.value_str())
    } else {
        format!(
            "{who}: `{}`{read}, from {} (this line is overridden)",
            last.value_str(),
            at.origin_in(last, run)
        )
    }
}

fn inlay_hints(server: &Server, params: lsp::InlayHintParams) -> Option<Vec<lsp::InlayHint>> {
    let at = At::new(server, &params.text_document.uri)?;
    let src = at.source();
    let (from, to) = (at.offset(params.range.start), at.offset(params.range.end));
    let mut hints: Vec<(Span, String)> = Vec::new();
    for (_, e, _, value) in at.entries() {
        if value.end < from || value.start > to || hints.iter().any(|(s, _)| *s == value) {
            continue;
        }
        let written = src.slice(value);
        if written.windows(2).any(|w| w == b"%k") {
            hints.push((value, "CPUs of the host".into()));
            continue;
        }
        let Some(def) = e.def() else { continue };
        if !def.kind.is_numeric() {
            continue;
        }
        let Some(n) = values::read_numeric(def.kind, e.value.as_deref()) else {
            continue;
        };
        if (n.read != NumericRead::Exact || n.clamped)
            && let Some(r) = reading(def, e.value.as_deref())
        {
            hints.push((value, r));
        }
    }
    hints.sort_by_key(|(s, _)| *s);
    Some(
        hints
            .into_iter()
            .map(|(span, label)| lsp::InlayHint {
                position: convert::position(src, span.end, at.enc()),
                label: lsp::InlayHintLabel::String(format!("→ {label}")),
                kind: None,
                text_edits: None,
                tooltip: Some(lsp::InlayHintTooltip::String(
                    "how uWSGI reads this value".into(),
                )),
                padding_left: Some(true),
                padding_right: None,
                data: None,
            })
            .collect(),
    )
}

fn completion(server: &Server, params: lsp::CompletionParams) -> Option<lsp::CompletionResponse> {
    let tp = params.text_document_position;
    let doc = server.doc(&tp.text_document.uri)?;
    let file = SourceFile::new("", None, doc.text.clone().into_bytes());
    let off = convert::offset(&file, tp.position, server.encoding());
    let line_start = file.bytes[..off]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let before = String::from_utf8_lossy(&file.bytes[line_start..off]).into_owned();
    let at = At::new(server, &tp.text_document.uri);
    let target = at.as_ref().map_or(NEWEST_2_0, At::target);
    let mut items = Vec::new();
    if let Some(i) = before.rfind("%(")
        && !before[i..].contains(')')
    {
        // Placeholders: every option and `set-placeholder` name collected.
        let mut names: Vec<String> = at
            .iter()
            .flat_map(|a| a.runs())
            .flat_map(|r| r.resolved.entries.iter().map(Entry::key_str))
            .collect();
        names.sort();
        names.dedup();
        for n in names {
            items.push(lsp::CompletionItem {
                label: n,
                kind: Some(lsp::CompletionItemKind::VARIABLE),
                ..Default::default()
            });
        }
        return Some(lsp::CompletionResponse::Array(items));
    }
    let trimmed = before.trim_start();
    if trimmed.starts_with(['[', ';', '#']) {
        return Some(lsp::CompletionResponse::Array(items));
    }
    if let Some((key, _)) = trimmed.split_once(['=', ':']) {
        // A value: the flag words for flags.
        if let Some(def) = catalogue().get(key.trim())
            && matches!(def.kind, ValueKind::Flag | ValueKind::FlagFalse)
        {
            for w in ["true", "false"] {
                items.push(lsp::CompletionItem {
                    label: w.into(),
                    kind: Some(lsp::CompletionItemKind::VALUE),
                    ..Default::default()
                });
            }
        }
        return Some(lsp::CompletionResponse::Array(items));
    }
    // A key: every option and alias the target version has.
    let typed = trimmed;
    for def in catalogue().iter() {
        if def.since().is_some_and(|v| v > target) || !def.name.starts_with(typed) {
            continue;
        }
        // An alias names the option first in uWSGI's table (`workers` →
        // `processes`).
        let canonical = def.group.first().copied().unwrap_or(def.name);
        items.push(lsp::CompletionItem {
            label: def.name.to_string(),
            kind: Some(lsp::CompletionItemKind::PROPERTY),
            detail: Some(if canonical == def.name {
                def.plugin.to_string()
            } else {
                format!("{} (same as `{canonical}`)", def.plugin)
            }),
            documentation: Some(lsp::Documentation::MarkupContent(lsp::MarkupContent {
                kind: lsp::MarkupKind::Markdown,
                value: option_doc(Some(def), def.name, target),
            })),
            ..Default::default()
        });
    }
    items.sort_by(|a, b| a.label.cmp(&b.label));
    Some(lsp::CompletionResponse::Array(items))
}

// `lsp_types::Uri` caches parts of itself in cells, which clippy sees as
// interior mutability; it is never changed while it is a key here.
#[allow(clippy::mutable_key_type)]
fn edit_map(
    at: &At,
    edits: &[crate::diagnostic::Edit],
) -> Option<std::collections::HashMap<lsp::Uri, Vec<lsp::TextEdit>>> {
    let sources = &at.project.analysis.report.sources;
    let mut changes: std::collections::HashMap<lsp::Uri, Vec<lsp::TextEdit>> = Default::default();
    for e in edits {
        let f = sources.get(e.file);
        let uri = convert::path_to_uri(&crate::input::shown_path(f.path.as_deref()?))?;
        changes.entry(uri).or_default().push(lsp::TextEdit {
            range: convert::range(f, e.span, at.enc()),
            new_text: e.content.clone(),
        });
    }
    Some(changes)
}

fn code_actions(
    server: &Server,
    params: lsp::CodeActionParams,
) -> Option<Vec<lsp::CodeActionOrCommand>> {
    let at = At::new(server, &params.text_document.uri)?;
    let (from, to) = (at.offset(params.range.start), at.offset(params.range.end));
    let report = &at.project.analysis.report;
    let src = at.source();
    let is_config = at
        .runs()
        .any(|r| r.resolved.files.iter().any(|(f, _)| at.ids.contains(f)));
    let yaml = at
        .doc
        .path
        .as_deref()
        .and_then(Path::extension)
        .is_some_and(|e| e == "yaml" || e == "yml");
    let mut out = Vec::new();
    for d in &report.diagnostics {
        if !at.ids.contains(&d.file) || d.span.end < from || d.span.start > to {
            continue;
        }
        let diag = convert::diagnostic(&report.sources, d, at.enc(), at.project.docs_url);
        if let Some(fix) = &d.fix
            && let Some(changes) = edit_map(&at, &fix.edits)
        {
            let safe = fix.applicability == Applicability::Safe;
            let what = d.help.clone().unwrap_or_else(|| d.message.clone());
            out.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title: format!(
                    "Fix {}{}: {what}",
                    d.code,
                    if safe {
                        ""
                    } else {
                        " (unsafe: changes behaviour)"
                    }
                ),
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diag.clone()]),
                edit: Some(lsp::WorkspaceEdit {
                    changes: Some(changes),
                    ..Default::default()
                }),
                is_preferred: Some(safe),
                ..Default::default()
            }));
        }
        if is_config && d.code != "UW007" && d.code != "UW008" && d.code != "UW000" {
            // An own-line comment above the option (the only kind uWSGI allows).
            let line_start = src.bytes[..d.span.start.min(src.bytes.len())]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let indent: String = src.bytes[line_start..]
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .map(|&b| b as char)
                .collect();
            let marker = if yaml { '#' } else { ';' };
            let edit = crate::diagnostic::Edit {
                file: at.ids[0],
                span: Span::new(line_start, line_start),
                content: format!(
                    "{indent}{marker} uwsgi-lint: ignore[{}] <why this is fine here>\n",
                    d.code
                ),
            };
            if let Some(changes) = edit_map(&at, &[edit]) {
                out.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                    title: format!("Suppress {} on this line, with a reason", d.code),
                    kind: Some(lsp::CodeActionKind::QUICKFIX),
                    diagnostics: Some(vec![diag]),
                    edit: Some(lsp::WorkspaceEdit {
                        changes: Some(changes),
                        ..Default::default()
                    }),
                    ..Default::default()
                }));
            }
        }
    }
    Some(out)
}

/// Options whose value names a config file.
const INCLUDES: &[&str] = &["ini", "include", "inherit", "yaml", "yml", "config"];

fn definition(
    server: &Server,
    params: lsp::GotoDefinitionParams,
) -> Option<lsp::GotoDefinitionResponse> {
    let tp = params.text_document_position_params;
    let at = At::new(server, &tp.text_document.uri)?;
    let off = at.offset(tp.position);
    if let Some(sockets) = nginx_pass_targets(&at, off) {
        return Some(lsp::GotoDefinitionResponse::Array(sockets));
    }
    let src = at.source();
    let sources = &at.project.analysis.report.sources;
    let (_, e, _, value) = at
        .entries()
        .into_iter()
        .find(|(_, _, _, v)| v.start <= off && off <= v.end)?;
    let raw = src.slice(value);
    let target: Option<(PathBuf, Option<(FileId, Span)>)> =
        match reference_at(raw, off - value.start) {
            Some((b'%', name, _)) => {
                let d = at
                    .runs()
                    .find_map(|r| r.resolved.first_exact(name.as_bytes()))?;
                match d.origin.layer {
                    Layer::File { file, key, .. } => {
                        Some((sources.get(file).path.clone()?, Some((file, key))))
                    }
                    _ => None,
                }
            }
            Some((b'@', name, _)) => Some((file_named(&at, &name)?, None)),
            Some(_) => None,
            None if INCLUDES.contains(&e.key_str().as_str()) => {
                Some((file_named(&at, &String::from_utf8_lossy(raw))?, None))
            }
            None => None,
        };
    let (path, place) = target?;
    let range = match place {
        Some((file, span)) => convert::range(sources.get(file), span, at.enc()),
        None => lsp::Range::default(),
    };
    Some(lsp::GotoDefinitionResponse::Scalar(lsp::Location::new(
        convert::path_to_uri(&path)?,
        range,
    )))
}

/// On an Nginx `uwsgi_pass`/`proxy_pass`: the socket lines of the uWSGI
/// configs it passes to (as linked for `check`).
fn nginx_pass_targets(at: &At, off: usize) -> Option<Vec<lsp::Location>> {
    let path = at.doc.path.as_deref()?;
    let report = &at.project.analysis.report;
    let sources = &report.sources;
    let mut out = Vec::new();
    for (ci, conf) in report.nginx.iter().enumerate() {
        let on_pass = conf.model.locations.iter().any(|l| {
            l.pass.as_ref().is_some_and(|p| {
                conf.parts.get(p.file).is_some_and(|part| part.path == path)
                    && p.span.start <= off
                    && off <= p.span.end
            })
        });
        if !on_pass {
            continue;
        }
        for run in at.runs().filter(|r| r.nginx.contains(&ci)) {
            for e in &run.resolved.entries {
                let is_socket = e.def().is_some_and(|d| {
                    matches!(d.name, "socket" | "uwsgi-socket" | "http-socket" | "http")
                });
                if let (true, Layer::File { file, line, .. }) = (is_socket, &e.origin.layer) {
                    let f = sources.get(*file);
                    let Some(uri) = f
                        .path
                        .as_deref()
                        .and_then(|p| convert::path_to_uri(&crate::input::shown_path(p)))
                    else {
                        continue;
                    };
                    let loc = lsp::Location::new(uri, convert::range(f, *line, at.enc()));
                    if !out.contains(&loc) {
                        out.push(loc);
                    }
                }
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The file a value names (`base.ini`, `base.ini:section`), from the project
/// root (uWSGI's working directory) or the including file's directory.
fn file_named(at: &At, name: &str) -> Option<PathBuf> {
    let name = name.trim();
    let dir = at.doc.path.as_deref()?.parent()?;
    let mut candidates = vec![name];
    if let Some((file, _)) = name.rsplit_once(':') {
        candidates.push(file);
    }
    for c in candidates {
        for base in [at.project.root, dir] {
            let p = crate::input::normalize_lexically(&base.join(c));
            if p.is_file() || at.server.doc_at(&p) {
                return Some(p);
            }
        }
    }
    None
}

#[allow(deprecated)]
fn symbols(
    server: &Server,
    params: lsp::DocumentSymbolParams,
) -> Option<lsp::DocumentSymbolResponse> {
    let doc = server.doc(&params.text_document.uri)?;
    let is_ini = doc
        .path
        .as_deref()
        .and_then(Path::extension)
        .is_some_and(|e| e == "ini");
    if !is_ini {
        return Some(lsp::DocumentSymbolResponse::Nested(Vec::new()));
    }
    let file = SourceFile::new("", None, doc.text.clone().into_bytes());
    let enc = server.encoding();
    let parsed = crate::uwsgi::syntax::parse(&file.bytes);
    let mut sections: Vec<lsp::DocumentSymbol> = Vec::new();
    for line in &parsed.lines {
        match &line.kind {
            crate::uwsgi::syntax::LineKind::Section { name, .. } => {
                let r = convert::range(&file, line.span, enc);
                sections.push(lsp::DocumentSymbol {
                    name: format!("[{}]", file.text(*name)),
                    detail: None,
                    kind: lsp::SymbolKind::NAMESPACE,
                    tags: None,
                    deprecated: None,
                    range: r,
                    selection_range: r,
                    children: Some(Vec::new()),
                });
            }
            crate::uwsgi::syntax::LineKind::Entry { key, value, .. } => {
                let sym = lsp::DocumentSymbol {
                    name: file.text(*key),
                    detail: Some(file.text(*value)),
                    kind: lsp::SymbolKind::PROPERTY,
                    tags: None,
                    deprecated: None,
                    range: convert::range(&file, line.span, enc),
                    selection_range: convert::range(&file, *key, enc),
                    children: None,
                };
                match sections.last_mut() {
                    Some(s) => {
                        s.range.end = sym.range.end;
                        s.children.get_or_insert_with(Vec::new).push(sym);
                    }
                    // Options before any section: uWSGI reads none of them,
                    // but they are still in the outline.
                    None => sections.push(sym),
                }
            }
            _ => {}
        }
    }
    Some(lsp::DocumentSymbolResponse::Nested(sections))
}

/// `uwsgi-lint.showEffectiveConfig <uri>`: the options uWSGI collects, as
/// `show-config` prints them, once per container that runs the file.
fn execute(server: &Server, params: lsp::ExecuteCommandParams) -> Result<Value, String> {
    if params.command != super::SHOW_EFFECTIVE_CONFIG {
        return Err(format!("unknown command `{}`", params.command));
    }
    let uri: lsp::Uri = params
        .arguments
        .first()
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or("give the document's URI as the argument")?;
    let at = At::new(server, &uri).ok_or("the document is not open, or not analysed")?;
    let mut out = String::new();
    for run in at.runs().filter(|r| at.ids.contains(&r.file)) {
        out.push_str(&format!("; {}\n", at.who(run)));
        out.push_str(&run.resolved.show_config_text());
    }
    if out.is_empty() {
        return Err("not a uWSGI config that is linted".into());
    }
    Ok(Value::String(out))
}
