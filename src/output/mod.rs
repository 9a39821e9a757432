//! Report: renderers that turn diagnostics into text, JSON, SARIF, GitHub
//! annotations or GitLab Code Quality. Each lives in its own file behind one
//! interface, [`Renderer`], fed one [`Input`].

pub mod concise;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod sarif;
pub mod summary;
pub mod text;

use std::path::Path;

use crate::deployment::{Deployment, NginxConf};
use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;

/// The output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Concise,
    Json,
    Sarif,
    Github,
    Gitlab,
}

/// Everything a renderer may show: the findings and what they were found in.
pub struct Input<'a> {
    pub sources: &'a SourceMap,
    /// Sorted and de-duplicated ([`normalize`]).
    pub diagnostics: &'a [Diagnostic],
    /// uWSGI configs linted.
    pub files: usize,
    pub deployments: &'a [Deployment],
    pub nginx: &'a [NginxConf],
    /// The repository root: CI formats give paths relative to it.
    pub root: &'a Path,
    pub options: &'a Options,
}

/// How to render (what the command line and settings asked for).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// ANSI colour in text output.
    pub color: bool,
    /// Absolute base URL of the rule pages (`[output] docs-url`, `--docs-url`).
    pub docs_url: Option<String>,
    /// Rules that did not run (not in the default set, or ignored): the
    /// summary says how to run them.
    pub rules_not_run: usize,
    /// Findings `--fix` fixed before this report, when it ran.
    pub fixed: Option<usize>,
}

/// One output format.
pub trait Renderer {
    fn render(&self, input: &Input<'_>) -> String;

    /// Write the rendering to `out`. A format may stream it instead of
    /// building the whole text first (JSON of a large tree is tens of MB).
    fn render_to(&self, input: &Input<'_>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        out.write_all(self.render(input).as_bytes())
    }
}

/// The renderer of a format.
pub fn renderer(format: Format) -> &'static dyn Renderer {
    match format {
        Format::Text => &text::Text,
        Format::Concise => &concise::Concise,
        Format::Json => &json::Json,
        Format::Sarif => &sarif::Sarif,
        Format::Github => &github::Github,
        Format::Gitlab => &gitlab::Gitlab,
    }
}

/// Sort by (file, line, column, code) and drop exact duplicates (a file
/// included by several inis is checked once per includer).
pub fn normalize(sources: &SourceMap, diags: &mut Vec<Diagnostic>) {
    sort(sources, diags);
    diags.dedup_by(|a, b| {
        a.code == b.code
            && a.message == b.message
            && a.span == b.span
            && sources.get(a.file).path == sources.get(b.file).path
    });
    cap_per_file(sources, diags);
}

fn sort(sources: &SourceMap, diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let fa = &sources.get(a.file).name;
        let fb = &sources.get(b.file).name;
        (fa, a.span.start, a.code, &a.message).cmp(&(fb, b.span.start, b.code, &b.message))
    });
}

/// Findings shown per file at most: a config that expands to 100,000
/// options can produce a finding per option, which no reader (nor an
/// editor) can use, and which would cost memory and time in every format.
pub const MAX_FINDINGS_PER_FILE: usize = 1000;

/// Keep the first [`MAX_FINDINGS_PER_FILE`] findings of each file (in
/// position order) and replace the rest by one finding, at the first one
/// left out, that says how many there are. It takes the highest severity
/// of those it replaces, so the exit status is the one the whole list
/// would give.
fn cap_per_file(sources: &SourceMap, diags: &mut Vec<Diagnostic>) {
    let mut shown: std::collections::HashMap<crate::source::FileId, usize> =
        std::collections::HashMap::new();
    // Per file: (findings left out, highest severity, the first one left out).
    let mut cut: Vec<(usize, crate::diagnostic::Severity, usize)> = Vec::new();
    let mut cut_of: std::collections::HashMap<crate::source::FileId, usize> =
        std::collections::HashMap::new();
    let mut kept = Vec::with_capacity(diags.len().min(MAX_FINDINGS_PER_FILE * 4));
    for (i, d) in diags.iter().enumerate() {
        let n = shown.entry(d.file).or_insert(0);
        if *n < MAX_FINDINGS_PER_FILE {
            *n += 1;
            kept.push(i);
            continue;
        }
        let c = *cut_of.entry(d.file).or_insert_with(|| {
            cut.push((0, d.severity, i));
            cut.len() - 1
        });
        cut[c].0 += 1;
        cut[c].1 = cut[c].1.max(d.severity);
    }
    if cut.is_empty() {
        return;
    }
    let summaries: Vec<Diagnostic> = cut
        .iter()
        .map(|&(n, severity, first)| {
            let d = &diags[first];
            Diagnostic {
                code: "UW001",
                name: "parse-error",
                severity,
                message: format!(
                    "{n} more finding(s) in this file from here on are not shown: at most {MAX_FINDINGS_PER_FILE} are reported per file"
                ),
                file: d.file,
                span: d.span,
                related: Vec::new(),
                help: Some("fix the findings shown (often one cause repeated) and run again".into()),
                fix: None,
            }
        })
        .collect();
    let mut all = std::mem::take(diags);
    let mut keep = vec![false; all.len()];
    for i in kept {
        keep[i] = true;
    }
    let mut i = 0;
    all.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    all.extend(summaries);
    sort(sources, &mut all);
    *diags = all;
}

/// A file's path relative to `root`, with `/` separators (its display name
/// when it has no path on disk, or lies outside the root).
pub fn repo_relative(
    sources: &SourceMap,
    file: crate::source::FileId,
    root: &std::path::Path,
) -> String {
    let f = sources.get(file);
    // A config embedded in a manifest is reported at the manifest.
    let path = f.path.as_deref().map(crate::input::shown_path);
    match path.as_ref().and_then(|p| p.strip_prefix(root).ok()) {
        Some(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        None => f.name.clone(),
    }
}

/// Where the project lives: `repository` in Cargo.toml, when set.
pub fn project_url() -> Option<&'static str> {
    Some(env!("CARGO_PKG_REPOSITORY")).filter(|u| !u.is_empty())
}

/// A rule's documentation page: under `docs_url` when one is configured
/// (its `{code}` replaced, else `/UW102.md` appended), else on the
/// repository when it is known, else the page's path in the source tree
/// (`rules/UW102.md`).
pub fn rule_url(code: &str, docs_url: Option<&str>) -> String {
    if let Some(base) = docs_url {
        return if base.contains("{code}") {
            base.replace("{code}", code)
        } else {
            format!("{}/{code}.md", base.trim_end_matches('/'))
        };
    }
    match project_url() {
        Some(url) => format!("{}/blob/main/rules/{code}.md", url.trim_end_matches('/')),
        None => format!("rules/{code}.md"),
    }
}
