//! Human-readable output, rendered by miette: the message, the source lines
//! with the span labelled, the same for related places in other files, and
//! the help.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode, SourceSpan,
};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, SourceMap, Span};

/// A file's text as miette needs it (UTF-8), with byte spans mapped to it.
struct Text {
    source: NamedSource<String>,
}

fn text_of(sources: &SourceMap, file: FileId) -> Text {
    let f = sources.get(file);
    Text {
        source: NamedSource::new(
            f.name.clone(),
            String::from_utf8_lossy(&f.bytes).into_owned(),
        ),
    }
}

/// A byte span of the raw file as a span of its lossy UTF-8 text.
fn miette_span(sources: &SourceMap, file: FileId, span: Span) -> SourceSpan {
    let bytes = &sources.get(file).bytes;
    let at = |o: usize| String::from_utf8_lossy(&bytes[..o.min(bytes.len())]).len();
    let (s, e) = (at(span.start), at(span.end));
    SourceSpan::new(s.into(), e - s)
}

/// One place with its own file: the primary diagnostic, or a related one.
struct Place {
    message: String,
    code: Option<String>,
    severity: miette::Severity,
    help: Option<String>,
    text: Text,
    labels: Vec<LabeledSpan>,
    related: Vec<Place>,
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Place {}

impl miette::Diagnostic for Place {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .as_ref()
            .map(|c| Box::new(c) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.text.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|p| p as &dyn miette::Diagnostic),
        ))
    }
}

fn severity(s: Severity) -> miette::Severity {
    match s {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Info => miette::Severity::Advice,
    }
}

fn place(sources: &SourceMap, d: &Diagnostic) -> Place {
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(d.name.to_string()),
        miette_span(sources, d.file, d.span),
    )];
    let mut related = Vec::new();
    for r in &d.related {
        if r.file == d.file {
            labels.push(LabeledSpan::new_with_span(
                Some(r.message.clone()),
                miette_span(sources, r.file, r.span),
            ));
        } else {
            related.push(Place {
                message: r.message.clone(),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                text: text_of(sources, r.file),
                labels: vec![LabeledSpan::new_primary_with_span(
                    Some(r.message.clone()),
                    miette_span(sources, r.file, r.span),
                )],
                related: Vec::new(),
            });
        }
    }
    Place {
        // miette's snippet header carries file:line:col.
        message: d.message.clone(),
        code: Some(d.code.to_string()),
        severity: severity(d.severity),
        help: d.help.clone(),
        text: text_of(sources, d.file),
        labels,
        related,
    }
}

/// Render with or without colour; the width is fixed so output is stable.
pub fn render(sources: &SourceMap, diags: &[Diagnostic], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(110)
        .with_context_lines(1);
    let mut s = String::new();
    for d in diags {
        let _ = handler.render_report(&mut s, &place(sources, d));
        s.push('\n');
    }
    s
}
