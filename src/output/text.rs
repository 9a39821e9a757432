//! `--format text` (the default): in the rustc and ruff tradition, each
//! finding as `error[UW202]: message`, its place (`--> file:line:col`) and
//! source lines with the span labelled, related places in other files as
//! `note:` sections, the help, then a summary. Rendered by annotate-snippets
//! (the crate rustc and ruff use for this), fed only the lines it shows.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use annotate_snippets::{Annotation, AnnotationKind, Group, Level, Renderer, Snippet};

use crate::diagnostic::{Diagnostic, Related, Severity};
use crate::source::{FileId, SourceMap, Span};

use super::Input;

/// The text renderer.
pub struct Text;

impl super::Renderer for Text {
    fn render(&self, input: &Input<'_>) -> String {
        let mut s = render(input.sources, input.diagnostics, input.options.color);
        s.push_str(&super::summary::render(input));
        s
    }
}

/// A file's text as shown (lossy UTF-8), computed once per file and shared
/// by every diagnostic in it, with its line starts and the byte-offset map,
/// so that rendering one diagnostic costs what it prints, not the size of
/// the file.
struct Lossy {
    text: String,
    /// Line starts.
    starts: Vec<usize>,
    /// For a file that is not valid UTF-8: per chunk, its raw start, its
    /// start in `text`, its valid length and its invalid length.
    chunks: Option<Vec<(usize, usize, usize, usize)>>,
}

/// A line longer than this is shown as an excerpt around the label (a
/// whole long line per finding would make the output quadratic).
const LONG_LINE: usize = 4096;
/// Bytes of the line shown on each side of a label in an excerpt.
const EXCERPT_MARGIN: usize = 40;

impl Lossy {
    fn new(bytes: &[u8]) -> Lossy {
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
        // Lines end at `\n` only, as uWSGI and every other place we report
        // split them (a lone `\r` stays inside its line).
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lossy {
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

    /// The line (0-based) holding `offset`.
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

    /// `i` moved back to the start of the character it falls in.
    fn char_start(&self, mut i: usize) -> usize {
        while !self.text.is_char_boundary(i) {
            i -= 1;
        }
        i
    }

    /// `i` moved on to the end of the character it falls in.
    fn char_end(&self, mut i: usize) -> usize {
        while !self.text.is_char_boundary(i) {
            i += 1;
        }
        i
    }

    fn line_len(&self, l: usize) -> usize {
        self.line_end(l) - self.starts[l]
    }
}

type Cache = HashMap<FileId, Arc<Lossy>>;

fn text_of(sources: &SourceMap, cache: &mut Cache, file: FileId) -> Arc<Lossy> {
    cache
        .entry(file)
        .or_insert_with(|| Arc::new(Lossy::new(&sources.get(file).bytes)))
        .clone()
}

/// A span over more lines than this is shown by its first lines only.
const MAX_SPAN_LINES: usize = 6;
/// A related place in the same file this close (in lines) to the finding is
/// labelled in the same snippet; further away it gets a `note:` of its own.
const NEAR: usize = 3;

/// A labelled span, as offsets into a file's shown text.
struct Mark {
    start: usize,
    end: usize,
    label: Option<String>,
    primary: bool,
}

/// One kept line of a window: where it starts in the file text, how much of
/// it is kept, where the kept part starts in the window source, and the
/// length of the `…` put before it.
struct Kept {
    from: usize,
    len: usize,
    at: usize,
    prefix: usize,
}

/// The source lines a snippet shows (joined by `\n`), its first line number
/// (1-based), and the marks as ranges of that source.
fn window(f: &Lossy, marks: &mut [Mark]) -> (String, usize, Vec<std::ops::Range<usize>>) {
    // Cut multi-line spans to their first lines, and to one line when any
    // line they cover is long (an excerpt shows one line).
    for m in marks.iter_mut() {
        m.end = m.end.max(m.start);
        let ls = f.line_of(m.start);
        let le = f
            .line_of(m.end.saturating_sub(1).max(m.start))
            .min(ls + MAX_SPAN_LINES - 1);
        if (ls..=le).any(|l| f.line_len(l) > LONG_LINE) {
            m.end = m.end.min(f.line_end(ls)).max(m.start);
        } else {
            m.end = m.end.min(f.line_end(le)).max(m.start);
        }
    }
    let first = marks.iter().map(|m| f.line_of(m.start)).min().unwrap_or(0);
    let last = marks
        .iter()
        .map(|m| f.line_of(m.end.saturating_sub(1).max(m.start)))
        .max()
        .unwrap_or(first)
        .max(first);
    let mut source = String::new();
    let mut kept = Vec::with_capacity(last - first + 1);
    for l in first..=last {
        if l > first {
            source.push('\n');
        }
        let (start, end) = (f.starts[l], f.line_end(l));
        let (mut a, mut b) = (start, end);
        if end - start > LONG_LINE {
            // An excerpt around the first mark on this line.
            let at = marks
                .iter()
                .filter(|m| f.line_of(m.start) == l)
                .map(|m| (m.start, m.end))
                .min()
                .unwrap_or((start, start));
            a = at.0.saturating_sub(EXCERPT_MARGIN).max(start);
            b = (at.0 + (at.1 - at.0).min(LONG_LINE) + EXCERPT_MARGIN).min(end);
            a = f.char_start(a);
            b = f.char_end(b);
        }
        let prefix = if a > start { "…" } else { "" };
        source.push_str(prefix);
        kept.push(Kept {
            from: a,
            len: b - a,
            at: source.len() - prefix.len(),
            prefix: prefix.len(),
        });
        // A lone `\r` would move the terminal's cursor: shown as a space.
        source.push_str(&f.text[a..b].replace('\r', " "));
        if b < end {
            source.push('…');
        }
    }
    let map = |pos: usize| {
        let k = &kept[f.line_of(pos).clamp(first, last) - first];
        k.at + k.prefix + pos.clamp(k.from, k.from + k.len) - k.from
    };
    let ranges = marks
        .iter()
        .map(|m| {
            let s = map(m.start);
            s..map(m.end).max(s)
        })
        .collect();
    (source, first + 1, ranges)
}

/// A snippet of one file with its marks (the first one gives the
/// `--> file:line:col`), and, when its line is shown as an excerpt, the
/// location annotate-snippets prints (counted in the excerpt) and the true one.
fn snippet<'a>(
    sources: &SourceMap,
    cache: &mut Cache,
    file: FileId,
    at: Span,
    mut marks: Vec<Mark>,
) -> (Snippet<'a, Annotation<'a>>, Option<(String, String)>) {
    let src = sources.get(file);
    let pos = src.line_col(at.start);
    let f = text_of(sources, cache, file);
    let (source, line_start, ranges) = window(&f, &mut marks);
    let fixup = ranges.first().and_then(|r| {
        let line_from = source[..r.start].rfind('\n').map_or(0, |i| i + 1);
        let line = line_start + source[..r.start].matches('\n').count();
        let column = source[line_from..r.start].chars().count() + 1;
        ((line, column) != (pos.line, pos.column)).then(|| {
            (
                format!("{}:{line}:{column}", src.name),
                format!("{}:{}:{}", src.name, pos.line, pos.column),
            )
        })
    });
    let annotations = marks.into_iter().zip(ranges).map(|(m, r)| {
        let kind = if m.primary {
            AnnotationKind::Primary
        } else {
            AnnotationKind::Context
        };
        kind.span(r).label(m.label)
    });
    let snippet = Snippet::source(source)
        .path(src.name.clone())
        .line_start(line_start)
        .fold(false)
        .annotations(annotations);
    (snippet, fixup)
}

fn level(s: Severity) -> Level<'static> {
    match s {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Info => Level::INFO,
    }
}

/// The marks of a span of `file` (raw bytes) in its shown text.
fn mark(f: &Lossy, span: Span, label: Option<String>, primary: bool) -> Mark {
    // A span may end inside a character (`%` and the first byte of `А`:
    // uWSGI's magic variables are bytes); the mark covers whole characters
    // (found by fuzzing: the renderer panicked).
    let start = f.char_start(f.offset(span.start));
    let end = f.char_end(f.offset(span.end).max(start));
    Mark {
        start,
        end,
        label,
        primary,
    }
}

/// One finding, as annotate-snippets renders it.
fn finding(sources: &SourceMap, cache: &mut Cache, d: &Diagnostic, renderer: &Renderer) -> String {
    let line = |file: FileId, at: usize| sources.get(file).line_col(at).line;
    let here = line(d.file, d.span.start);
    let (near, far): (Vec<&Related>, Vec<&Related>) = d
        .related
        .iter()
        .partition(|r| r.file == d.file && line(r.file, r.span.start).abs_diff(here) <= NEAR);
    let f = text_of(sources, cache, d.file);
    let mut marks = vec![mark(&f, d.span, Some(d.name.to_string()), true)];
    marks.extend(
        near.iter()
            .map(|r| mark(&f, r.span, Some(r.message.clone()), false)),
    );
    let mut fixups = Vec::new();
    let (first, fixup) = snippet(sources, cache, d.file, d.span, marks);
    fixups.extend(fixup);
    let mut main = level(d.severity)
        .primary_title(d.message.as_str())
        .id(d.code)
        .element(first);
    if let Some(help) = &d.help {
        main = main.element(Level::HELP.message(help.as_str()));
    }
    let mut groups = vec![main];
    for r in far {
        let other = text_of(sources, cache, r.file);
        let marks = vec![mark(&other, r.span, None, false)];
        let (other, fixup) = snippet(sources, cache, r.file, r.span, marks);
        fixups.extend(fixup);
        groups.push(
            Group::with_title(Level::NOTE.secondary_title(r.message.as_str())).element(other),
        );
    }
    let mut out = renderer.render(&groups);
    // An excerpt's column counts from the excerpt: name the true one.
    for (shown, real) in fixups {
        out = out.replacen(&format!("{shown}\n"), &format!("{real}\n"), 1);
    }
    out
}

/// The order findings are shown in: by file, then line, errors first within
/// a line, then column and code.
pub fn order<'a>(sources: &SourceMap, diags: &'a [Diagnostic]) -> Vec<&'a Diagnostic> {
    let key = |d: &Diagnostic| {
        let f = sources.get(d.file);
        let p = f.line_col(d.span.start);
        (p.line, Reverse(d.severity), p.column)
    };
    let mut v: Vec<_> = diags.iter().map(|d| (key(d), d)).collect();
    v.sort_by(|(ka, a), (kb, b)| {
        (&sources.get(a.file).name, ka, a.code).cmp(&(&sources.get(b.file).name, kb, b.code))
    });
    v.into_iter().map(|(_, d)| d).collect()
}

/// The findings, each followed by a blank line (no summary).
pub fn render(sources: &SourceMap, diags: &[Diagnostic], color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut s = String::new();
    let mut cache = Cache::new();
    for d in order(sources, diags) {
        s.push_str(&finding(sources, &mut cache, d, &renderer));
        s.push_str("\n\n");
    }
    s
}
