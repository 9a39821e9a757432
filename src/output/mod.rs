//! Report: renderers that turn diagnostics into text or JSON.

pub mod concise;
pub mod json;
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
