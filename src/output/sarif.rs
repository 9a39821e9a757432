//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning and other tools read it.
//! URIs are relative to the repository root (`%SRCROOT%`); columns count
//! Unicode code points, as our positions do.

use std::path::Path;

use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, Severity};
use crate::output::repo_relative;
use crate::source::{FileId, SourceMap, Span};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn location(sources: &SourceMap, root: &Path, file: FileId, span: Span) -> Value {
    let f = sources.get(file);
    let a = f.line_col(span.start);
    let b = f.line_col(span.end);
    json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri_escape(&repo_relative(sources, file, root)), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": a.line, "startColumn": a.column, "endLine": b.line, "endColumn": b.column}
        }
    })
}

/// Percent-encode what may not stand in a URI path.
fn uri_escape(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn driver(rules: Vec<Value>) -> Value {
    let mut d = json!({
        "name": "uwsgi-lint",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": rules,
    });
    if let Some(url) = crate::output::project_url() {
        d["informationUri"] = json!(url);
    }
    d
}

/// The SARIF renderer.
pub struct Sarif;

impl super::Renderer for Sarif {
    fn render(&self, input: &super::Input<'_>) -> String {
        render(
            input.sources,
            input.diagnostics,
            input.root,
            input.options.docs_url.as_deref(),
        )
    }
}

/// A rule page without its front matter.
pub fn page_body(page: &str) -> &str {
    page.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(page, |(_, body)| body)
        .trim()
}

/// The first paragraph of a page's `## What it does`, as one line.
pub fn full_description(page: &str) -> Option<String> {
    let body = page_body(page);
    let (_, rest) = body.split_once("## What it does")?;
    let para: Vec<&str> = rest
        .trim_start()
        .lines()
        .take_while(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::trim)
        .collect();
    (!para.is_empty()).then(|| para.join(" "))
}

/// A page as plain text: headings without their `#`, code fences dropped.
pub fn plain_text(page: &str) -> String {
    let mut out = String::new();
    for line in page_body(page).lines() {
        if line.starts_with("```") {
            continue;
        }
        out.push_str(line.trim_start_matches('#').trim_start_matches(' '));
        out.push('\n');
    }
    out.trim_end().to_string()
}

pub fn render(
    sources: &SourceMap,
    diags: &[Diagnostic],
    root: &Path,
    docs_url: Option<&str>,
) -> String {
    let mut rule_ids: Vec<&str> = diags.iter().map(|d| d.code).collect();
    rule_ids.sort();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .filter_map(|code| crate::rules::find(code))
        .map(|r| {
            let mut rule = json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "helpUri": crate::output::rule_url(r.code, docs_url),
                "help": {"text": plain_text(r.page), "markdown": page_body(r.page)},
                "defaultConfiguration": {"level": level(r.severity)},
            });
            if let Some(full) = full_description(r.page) {
                rule["fullDescription"] = json!({"text": full});
            }
            rule
        })
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut result = json!({
                "ruleId": d.code,
                "level": level(d.severity),
                "message": {"text": match &d.help {
                    Some(h) => format!("{} ({h})", d.message),
                    None => d.message.clone(),
                }},
                "locations": [location(sources, root, d.file, d.span)],
            });
            if let Some(i) = rule_ids.iter().position(|c| *c == d.code) {
                result["ruleIndex"] = json!(i);
            }
            if !d.related.is_empty() {
                result["relatedLocations"] = Value::Array(
                    d.related
                        .iter()
                        .enumerate()
                        .map(|(i, r)| {
                            let mut l = location(sources, root, r.file, r.span);
                            l["id"] = json!(i);
                            l["message"] = json!({"text": r.message});
                            l
                        })
                        .collect(),
                );
            }
            result
        })
        .collect();
    let root_uri = format!(
        "file://{}/",
        uri_escape(root.to_string_lossy().trim_end_matches('/'))
    );
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver(rules)},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
