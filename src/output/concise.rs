//! `--format concise`: one line per finding, `file:line:col: severity[CODE] message`.

use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;

use super::Input;

/// The concise renderer: the findings, then the summary.
pub struct Concise;

impl super::Renderer for Concise {
    fn render(&self, input: &Input<'_>) -> String {
        render(input.sources, input.diagnostics) + &super::summary::render(input)
    }
}

/// One line per finding, in the order text output shows them.
pub fn render(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    let mut s = String::new();
    for d in super::text::order(sources, diags) {
        s.push_str(&line(sources, d));
        s.push('\n');
    }
    s
}

/// `file:line:col: severity[CODE] message`, without the newline.
pub fn line(sources: &SourceMap, d: &Diagnostic) -> String {
    let f = sources.get(d.file);
    let pos = f.line_col(d.span.start);
    format!(
        "{}:{}:{}: {}[{}] {}",
        f.name,
        pos.line,
        pos.column,
        d.severity.as_str(),
        d.code,
        d.message
    )
}
