//! Human-readable output: one header line per finding, the source line with
//! the span underlined, then the help.

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
        let start = f.lines.line_start(pos.line - 1).unwrap_or(0);
        let end = f.bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(f.bytes.len(), |i| start + i);
        let line = String::from_utf8_lossy(&f.bytes[start..end]).replace('\t', " ");
        let line = line.trim_end_matches('\r');
        if !line.is_empty() {
            let width = String::from_utf8_lossy(f.slice(d.span))
                .chars()
                .count()
                .max(1);
            s.push_str(&format!("{:>5} | {line}\n", pos.line));
            s.push_str(&format!(
                "      | {}{}\n",
                " ".repeat(pos.column - 1),
                "^".repeat(width)
            ));
        }
        if let Some(h) = &d.help {
            s.push_str(&format!("      = help: {h}\n"));
        }
        s.push('\n');
    }
    s
}
