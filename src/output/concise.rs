//! `--format concise`: one line per finding, `file:line:col: severity[CODE] message`.

use crate::diagnostic::Diagnostic;
use crate::source::SourceMap;

pub fn render(sources: &SourceMap, diags: &[Diagnostic]) -> String {
    let mut s = String::new();
    for d in diags {
        let f = sources.get(d.file);
        let pos = f.line_col(d.span.start);
        s.push_str(&format!(
            "{}:{}:{}: {}[{}] {}\n",
            f.name,
            pos.line,
            pos.column,
            d.severity.as_str(),
            d.code,
            d.message
        ));
    }
    s
}
