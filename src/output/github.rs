//! `--format github`: GitHub Actions workflow commands, one per finding,
//! which show as annotations on the pull request.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Severity};
use crate::output::repo_relative;
use crate::source::SourceMap;

/// Escaping for a command's message (`%`, CR, LF).
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping for a property value (also `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The GitHub renderer.
pub struct Github;

impl super::Renderer for Github {
    fn render(&self, input: &super::Input<'_>) -> String {
        render(input.sources, input.diagnostics, input.root)
    }
}

pub fn render(sources: &SourceMap, diags: &[Diagnostic], root: &Path) -> String {
    let mut out = String::new();
    for d in diags {
        let f = sources.get(d.file);
        let a = f.line_col(d.span.start);
        let b = f.line_col(d.span.end);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let message = match &d.help {
            Some(h) => format!("{}\n{h}", d.message),
            None => d.message.clone(),
        };
        out.push_str(&format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(&repo_relative(sources, d.file, root)),
            a.line,
            a.column,
            b.line,
            b.column,
            escape_property(&format!("{} {}", d.code, d.name)),
            escape_data(&message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_per_the_workflow_command_rules() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
