//! Report: renderers that turn diagnostics into text or JSON.

pub mod concise;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod sarif;
pub mod text;

use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;

/// Sort by (file, line, column, code) and drop exact duplicates (a file
/// included by several inis is checked once per includer).
pub fn normalize(sources: &SourceMap, diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        let fa = &sources.get(a.file).name;
        let fb = &sources.get(b.file).name;
        (fa, a.span.start, a.code, &a.message).cmp(&(fb, b.span.start, b.code, &b.message))
    });
    diags.dedup_by(|a, b| {
        a.code == b.code
            && a.message == b.message
            && a.span == b.span
            && sources.get(a.file).path == sources.get(b.file).path
    });
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

/// A rule's documentation page: on the repository when it is known, else
/// the page's path in the source tree (`rules/UW102.md`).
pub fn rule_url(code: &str) -> String {
    match project_url() {
        Some(url) => format!("{}/blob/main/rules/{code}.md", url.trim_end_matches('/')),
        None => format!("rules/{code}.md"),
    }
}
