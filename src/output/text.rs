//! Human-readable output, rendered by miette: the message, the source lines
//! with the span labelled, the same for related places in other files, and
//! the help.

use std::collections::HashMap;
use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, SourceMap, Span};

/// A file's text as miette needs it (lossy UTF-8), computed once per file
/// and shared by every diagnostic in it, with the line starts miette counts
/// and the byte-offset map, so that rendering one diagnostic costs what it
/// prints, not the size of the file.
struct Lossy {
    name: String,
    text: String,
    /// Line starts as miette counts lines (`\n`, `\r\n` and a lone `\r`).
    starts: Vec<usize>,
    /// For a file that is not valid UTF-8: per chunk, its raw start, its
    /// start in `text`, its valid length and its invalid length.
    chunks: Option<Vec<(usize, usize, usize, usize)>>,
}

/// A line longer than this, or a label further right, is shown as an
/// excerpt around the label (miette cannot pad past column 65,535, and a
/// whole long line per finding would make the output quadratic).
const LONG_LINE: usize = 4096;
/// Bytes of the line shown on each side of a label in an excerpt.
const EXCERPT_MARGIN: usize = 40;

impl Lossy {
    fn new(name: &str, bytes: &[u8]) -> Lossy {
        let (text, chunks) = match std::str::from_utf8(bytes) {
            Ok(t) => (t.to_string(), None),
            Err(_) => {
                let mut text = String::with_capacity(bytes.len());
                let mut chunks = Vec::new();
                let mut raw = 0;
                for c in bytes.utf8_chunks() {
                    chunks.push((raw, text.len(), c.valid().len(), c.invalid().len()));
                    text.push_str(c.valid());
                    if !c.invalid().is_empty() {
                        text.push(char::REPLACEMENT_CHARACTER);
                    }
                    raw += c.valid().len() + c.invalid().len();
                }
                (text, Some(chunks))
            }
        };
        let b = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\r' if b.get(i + 1) == Some(&b'\n') => {
                    i += 2;
                    starts.push(i);
                }
                b'\r' | b'\n' => {
                    i += 1;
                    starts.push(i);
                }
                _ => i += 1,
            }
        }
        Lossy {
            name: name.to_string(),
            text,
            starts,
            chunks,
        }
    }

    /// A raw byte offset as an offset into `text`.
    fn offset(&self, raw: usize) -> usize {
        let Some(chunks) = &self.chunks else {
            return raw.min(self.text.len());
        };
        let i = chunks.partition_point(|c| c.0 <= raw).saturating_sub(1);
        let Some(&(r, t, valid, invalid)) = chunks.get(i) else {
            return 0;
        };
        let inside = raw - r;
        if inside <= valid {
            t + inside
        } else if invalid > 0 {
            // Inside or at the end of an invalid sequence: one U+FFFD.
            t + valid + char::REPLACEMENT_CHARACTER.len_utf8()
        } else {
            t + valid
        }
    }

    /// The line (0-based, miette's count) holding `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// Where line `l` ends, its line break excluded.
    fn line_end(&self, l: usize) -> usize {
        let b = self.text.as_bytes();
        let mut end = self.starts.get(l + 1).copied().unwrap_or(b.len());
        while end > self.starts[l] && matches!(b[end - 1], b'\r' | b'\n') {
            end -= 1;
        }
        end
    }

    fn line_len(&self, l: usize) -> usize {
        self.line_end(l) - self.starts[l]
    }

    /// Whether a span is shown as an excerpt of its line.
    fn long(&self, start: usize, end: usize, before: usize, after: usize) -> bool {
        let (ls, le) = (self.line_of(start), self.line_of(end));
        let first = ls.saturating_sub(before);
        let last = (le + after).min(self.starts.len() - 1);
        start - self.starts[ls] > LONG_LINE
            || (le - ls) < 64 && (first..=last).any(|l| self.line_len(l) > LONG_LINE)
    }
}

/// One file of a place: the shared text, read by span on demand.
struct Text {
    file: std::sync::Arc<Lossy>,
}

impl SourceCode for Text {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let f = &*self.file;
        let (s, len) = (span.offset(), span.len());
        if s + len > f.text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let e = s + len.saturating_sub(1);
        let ls = f.line_of(s);
        if f.long(s, e, before, after) {
            // An excerpt of the label's line, no context lines.
            let line_end = f.line_end(ls);
            if len > LONG_LINE || s + len > line_end.max(s) {
                return Err(MietteError::OutOfBounds);
            }
            let mut a = s.saturating_sub(EXCERPT_MARGIN).max(f.starts[ls]);
            while !f.text.is_char_boundary(a) {
                a -= 1;
            }
            let mut b = (s + len + EXCERPT_MARGIN).min(line_end).max(s + len);
            while !f.text.is_char_boundary(b) {
                b += 1;
            }
            let column = if before == 0 { s - f.starts[ls] } else { 0 };
            return Ok(Box::new(MietteSpanContents::new_named(
                f.name.clone(),
                &f.text.as_bytes()[a..b],
                SourceSpan::new(a.into(), b - a),
                ls,
                column,
                ls,
            )));
        }
        // miette's own reading, on a window of whole lines around the span
        // (one more on each side than asked), shifted back to the file.
        let first = ls.saturating_sub(before + 1);
        let last = f.line_of(e) + after + 2;
        let base = f.starts[first];
        let stop = f.starts.get(last).copied().unwrap_or(f.text.len());
        let window = &f.text.as_bytes()[base..stop];
        let c = window.read_span(&SourceSpan::new((s - base).into(), len), before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            f.name.clone(),
            c.data(),
            SourceSpan::new((c.span().offset() + base).into(), c.span().len()),
            c.line() + first,
            c.column(),
            c.line_count() + first,
        )))
    }
}

type Cache = HashMap<FileId, std::sync::Arc<Lossy>>;

fn text_of(sources: &SourceMap, cache: &mut Cache, file: FileId) -> Text {
    let f = cache.entry(file).or_insert_with(|| {
        let src = sources.get(file);
        std::sync::Arc::new(Lossy::new(&src.name, &src.bytes))
    });
    Text { file: f.clone() }
}

/// A byte span of the raw file as a span of its lossy UTF-8 text; a label
/// on a long line is cut to that line and to [`LONG_LINE`] bytes.
fn miette_span(text: &Text, span: Span) -> SourceSpan {
    let f = &*text.file;
    let s = f.offset(span.start);
    let mut e = f.offset(span.end).max(s);
    let ls = f.line_of(s);
    if f.long(s, e.saturating_sub(1).max(s), 1, 1) {
        e = e.min(f.line_end(ls)).min(s + LONG_LINE).max(s);
        while !f.text.is_char_boundary(e) {
            e -= 1;
        }
    }
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
        Some(&self.text)
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

fn place(sources: &SourceMap, cache: &mut Cache, d: &Diagnostic) -> Place {
    let text = text_of(sources, cache, d.file);
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        Some(d.name.to_string()),
        miette_span(&text, d.span),
    )];
    let mut related = Vec::new();
    for r in &d.related {
        if r.file == d.file {
            labels.push(LabeledSpan::new_with_span(
                Some(r.message.clone()),
                miette_span(&text, r.span),
            ));
        } else {
            let other = text_of(sources, cache, r.file);
            let span = miette_span(&other, r.span);
            related.push(Place {
                message: r.message.clone(),
                code: None,
                severity: miette::Severity::Advice,
                help: None,
                text: other,
                labels: vec![LabeledSpan::new_primary_with_span(
                    Some(r.message.clone()),
                    span,
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
        text,
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
    let mut cache = Cache::new();
    for d in diags {
        let _ = handler.render_report(&mut s, &place(sources, &mut cache, d));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Related;
    use crate::source::SourceFile;

    fn diag(file: FileId, span: (usize, usize), related: &[(usize, usize)]) -> Diagnostic {
        Diagnostic {
            code: "UW001",
            name: "here",
            severity: Severity::Warning,
            message: "a message".into(),
            file,
            span: Span::new(span.0, span.1),
            related: related
                .iter()
                .map(|&(s, e)| Related {
                    file,
                    span: Span::new(s, e),
                    message: "there".into(),
                })
                .collect(),
            help: None,
            fix: None,
        }
    }

    /// What miette renders from the whole file, as this module did before
    /// it read files by window.
    struct Whole {
        source: miette::NamedSource<String>,
        labels: Vec<LabeledSpan>,
    }
    impl fmt::Debug for Whole {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a message")
        }
    }
    impl fmt::Display for Whole {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a message")
        }
    }
    impl std::error::Error for Whole {}
    impl miette::Diagnostic for Whole {
        fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
            Some(Box::new("UW001"))
        }
        fn severity(&self) -> Option<miette::Severity> {
            Some(miette::Severity::Warning)
        }
        fn source_code(&self) -> Option<&dyn SourceCode> {
            Some(&self.source)
        }
        fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn whole(bytes: &[u8], span: (usize, usize), related: &[(usize, usize)]) -> String {
        let at = |o: usize| String::from_utf8_lossy(&bytes[..o]).len();
        let sp = |(s, e): (usize, usize)| SourceSpan::new(at(s).into(), at(e) - at(s));
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some("here".into()),
            sp(span),
        )];
        labels.extend(
            related
                .iter()
                .map(|&r| LabeledSpan::new_with_span(Some("there".into()), sp(r))),
        );
        let w = Whole {
            source: miette::NamedSource::new("u.ini", String::from_utf8_lossy(bytes).into_owned()),
            labels,
        };
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_links(false)
            .with_width(110)
            .with_context_lines(1);
        let mut s = String::new();
        handler.render_report(&mut s, &w).unwrap();
        s.push('\n');
        s
    }

    type Case<'a> = (&'a [u8], (usize, usize), Vec<(usize, usize)>);

    #[test]
    fn windows_render_as_miette_renders_the_whole_file() {
        let many: String = (0..40).map(|i| format!("k{i} = {i}\n")).collect();
        let cases: Vec<Case> = vec![
            (b"[uwsgi]\nmaster = true\nworkers = 4\n", (8, 14), vec![]),
            (
                b"[uwsgi]\r\nmaster = true\r\nworkers = 4\r\n",
                (9, 15),
                vec![(25, 32)],
            ),
            (b"[uwsgi]\rmaster = true\rworkers = 4", (8, 14), vec![]),
            (
                b"a = \xff\xfe\nb = \xe2\x82\nc = 3\n",
                (11, 13),
                vec![(4, 6)],
            ),
            (b"only", (0, 4), vec![]),
            (b"a = 1\nb = 2\n", (12, 12), vec![]),
            (b"a = 1\nb = 2\nc = 3\n", (0, 11), vec![]),
            (
                many.as_bytes(),
                (many.len() - 7, many.len() - 1),
                vec![(0, 2)],
            ),
            (many.as_bytes(), (100, 104), vec![(108, 110)]),
        ];
        for (bytes, span, related) in cases {
            let mut sources = SourceMap::new();
            let f = sources.add(SourceFile::new("u.ini", None, bytes.to_vec()));
            let ours = render(&sources, &[diag(f, span, &related)], false);
            assert_eq!(
                ours,
                whole(bytes, span, &related),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn a_label_past_column_65535_is_shown_as_an_excerpt() {
        let mut text = "x".repeat(70_000);
        text.push_str(" harakiri = 30\nnext = 1\n");
        let mut sources = SourceMap::new();
        let f = sources.add(SourceFile::new("u.ini", None, text.clone().into_bytes()));
        let at = 70_001;
        let out = render(&sources, &[diag(f, (at, at + 8), &[(3, 5)])], false);
        assert!(out.contains("[u.ini:1:70002]"), "{out}");
        assert!(out.contains("xx harakiri = 30"), "{out}");
        assert!(out.len() < 2_000, "{} bytes", out.len());
        // A label wider than a long line's excerpt is cut, not a panic.
        let out = render(&sources, &[diag(f, (10, 70_010), &[])], false);
        assert!(out.contains("[u.ini:1:11]"), "{out}");
        assert!(out.len() < 30_000, "{} bytes", out.len());
    }
}
