//! Lossless syntax tree of a uWSGI ini file, split exactly as `core/ini.c` does.
//!
//! uWSGI's reader (facts §1.1): lines end at `\n`; space, tab and `\r` are
//! stripped on both sides; a line starting with `[` is a section whose name is
//! everything after `[` minus the last character; `;` or `#` first is a comment;
//! anything else splits at the first `=` (no `=`: the value is empty). The C
//! code works on NUL-terminated strings, so a NUL byte ends the line's content.
//!
//! Every byte of the input belongs to exactly one [`Token`], so printing the
//! tokens gives the input back byte for byte (fixes rely on this).

use crate::source::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    Blank,
    /// `header` covers `[...]` as written; `name` is what uWSGI compares.
    Section {
        header: Span,
        name: Span,
    },
    Comment {
        marker: u8,
        span: Span,
    },
    Entry {
        key: Span,
        eq: Option<Span>,
        value: Span,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IniLine {
    /// The whole line without its `\n`.
    pub span: Span,
    /// The part uWSGI looks at: stripped, and cut at a NUL byte.
    pub content: Span,
    /// Bytes after a NUL that uWSGI never sees (usually empty).
    pub ignored: Span,
    pub newline: Option<Span>,
    pub kind: LineKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Whitespace,
    SectionHeader,
    Comment,
    Key,
    /// Blanks between key, `=` and value.
    Gap,
    Equals,
    Value,
    /// Bytes after a NUL, invisible to uWSGI.
    Ignored,
    Newline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IniDoc {
    pub lines: Vec<IniLine>,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r'
}

/// Trim uWSGI's blanks from both ends of `span`.
fn strip(bytes: &[u8], mut span: Span) -> Span {
    while span.start < span.end && is_blank(bytes[span.start]) {
        span.start += 1;
    }
    while span.end > span.start && is_blank(bytes[span.end - 1]) {
        span.end -= 1;
    }
    span
}

/// Parse one file. Never fails: every byte sequence is some ini to uWSGI.
pub fn parse(bytes: &[u8]) -> IniDoc {
    // Sized up front: a 2,000-line config would otherwise be copied as the
    // vector grows, at every keystroke.
    let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', bytes).count() + 1);
    lines.extend(lines_of(bytes));
    IniDoc { lines }
}

/// Does `value` hold `X(` for this `symbol` (`%`, `$`, `@`)? Asked of every
/// value by the resolver's passes and by rules: a byte search, no searcher
/// built per value.
pub fn has_reference(value: &[u8], symbol: u8) -> bool {
    memchr::memchr_iter(symbol, value).any(|i| value.get(i + 1) == Some(&b'('))
}

/// Each line of `bytes` as [`parse`] reads it, one at a time, without
/// keeping them (a caller may stop early).
pub fn lines_of(bytes: &[u8]) -> impl Iterator<Item = IniLine> + '_ {
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        // memchr: the parser runs on every config at every keystroke.
        let nl = memchr::memchr(b'\n', &bytes[start..]);
        let (end, newline) = match nl {
            Some(i) => (start + i, Some(Span::new(start + i, start + i + 1))),
            None => (bytes.len(), None),
        };
        let line = parse_line(bytes, Span::new(start, end), newline);
        start = newline.map_or(end, |n| n.end);
        Some(line)
    })
}

/// The names of the sections of `bytes`, in order, as [`IniDoc::section_names`] gives them.
pub fn section_names_of(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    lines_of(bytes).filter_map(|line| match line.kind {
        LineKind::Section { name, .. } => Some(&bytes[name.range()]),
        _ => None,
    })
}

fn parse_line(bytes: &[u8], span: Span, newline: Option<Span>) -> IniLine {
    let visible_end = memchr::memchr(0, &bytes[span.range()]).map_or(span.end, |i| span.start + i);
    let ignored = Span::new(visible_end, span.end);
    let content = strip(bytes, Span::new(span.start, visible_end));
    let kind = if content.is_empty() {
        LineKind::Blank
    } else {
        match bytes[content.start] {
            b'[' => {
                // Name: after '[', minus the last character whatever it is.
                let name_end = (content.end - 1).max(content.start + 1);
                LineKind::Section {
                    header: content,
                    name: Span::new(content.start + 1, name_end),
                }
            }
            m @ (b';' | b'#') => LineKind::Comment {
                marker: m,
                span: content,
            },
            _ => {
                let eq = memchr::memchr(b'=', &bytes[content.range()]);
                match eq {
                    Some(i) => {
                        let eq_at = content.start + i;
                        LineKind::Entry {
                            key: strip(bytes, Span::new(content.start, eq_at)),
                            eq: Some(Span::new(eq_at, eq_at + 1)),
                            value: strip(bytes, Span::new(eq_at + 1, content.end)),
                        }
                    }
                    None => LineKind::Entry {
                        key: content,
                        eq: None,
                        value: Span::new(content.end, content.end),
                    },
                }
            }
        }
    };
    IniLine {
        span,
        content,
        ignored,
        newline,
        kind,
    }
}

impl IniLine {
    /// The tokens of this line, tiling `span` and the newline with no gap.
    pub fn tokens(&self) -> Vec<Token> {
        let mut out = Vec::new();
        let mut push = |kind, span: Span| {
            if !span.is_empty() {
                out.push(Token { kind, span });
            }
        };
        push(
            TokenKind::Whitespace,
            Span::new(self.span.start, self.content.start),
        );
        match &self.kind {
            LineKind::Blank => {}
            LineKind::Section { header, .. } => push(TokenKind::SectionHeader, *header),
            LineKind::Comment { span, .. } => push(TokenKind::Comment, *span),
            LineKind::Entry { key, eq, value } => {
                push(TokenKind::Key, *key);
                match eq {
                    Some(eq) => {
                        push(TokenKind::Gap, Span::new(key.end, eq.start));
                        push(TokenKind::Equals, *eq);
                        push(TokenKind::Gap, Span::new(eq.end, value.start));
                        push(TokenKind::Value, *value);
                    }
                    None => push(TokenKind::Value, *value),
                }
            }
        }
        push(
            TokenKind::Whitespace,
            Span::new(self.content.end, self.ignored.start),
        );
        push(TokenKind::Ignored, self.ignored);
        if let Some(nl) = self.newline {
            push(TokenKind::Newline, nl);
        }
        out
    }
}

impl IniDoc {
    pub fn tokens(&self) -> impl Iterator<Item = Token> + '_ {
        self.lines.iter().flat_map(|l| l.tokens())
    }

    /// Print the tree back: byte-identical to the parsed input.
    pub fn print(&self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for t in self.tokens() {
            out.extend_from_slice(&bytes[t.span.range()]);
        }
        out
    }

    /// Entries with the section they appear under (`None` before any header).
    pub fn entries_with_section<'a>(
        &'a self,
        bytes: &'a [u8],
    ) -> impl Iterator<Item = (Option<&'a [u8]>, &'a IniLine)> + 'a {
        let mut section: Option<&[u8]> = None;
        self.lines.iter().filter_map(move |l| match &l.kind {
            LineKind::Section { name, .. } => {
                section = Some(&bytes[name.range()]);
                None
            }
            LineKind::Entry { .. } => Some((section, l)),
            _ => None,
        })
    }

    /// Names of all sections, in order of appearance (duplicates kept).
    pub fn section_names<'a>(&'a self, bytes: &'a [u8]) -> Vec<&'a [u8]> {
        self.lines
            .iter()
            .filter_map(|l| match &l.kind {
                LineKind::Section { name, .. } => Some(&bytes[name.range()]),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(doc: &IniDoc, bytes: &[u8], i: usize) -> (String, String) {
        match &doc.lines[i].kind {
            LineKind::Entry { key, value, .. } => (
                String::from_utf8_lossy(&bytes[key.range()]).into(),
                String::from_utf8_lossy(&bytes[value.range()]).into(),
            ),
            k => panic!("not an entry: {k:?}"),
        }
    }

    #[test]
    fn quirks() {
        let src = b"[uwsgi]\r\nprocesses = 4 ; inline\n  master\nharakiri = \"30\"\nk = a = b\n[ uwsgi ]\n# c\n\n=v";
        let doc = parse(src);
        assert_eq!(doc.print(src), src.to_vec());
        assert!(
            matches!(doc.lines[0].kind, LineKind::Section { name, .. } if &src[name.range()] == b"uwsgi")
        );
        assert_eq!(
            entry(&doc, src, 1),
            ("processes".into(), "4 ; inline".into())
        );
        assert_eq!(entry(&doc, src, 2), ("master".into(), "".into()));
        assert_eq!(entry(&doc, src, 3), ("harakiri".into(), "\"30\"".into()));
        assert_eq!(entry(&doc, src, 4), ("k".into(), "a = b".into()));
        assert!(
            matches!(doc.lines[5].kind, LineKind::Section { name, .. } if &src[name.range()] == b" uwsgi ")
        );
        assert!(matches!(
            doc.lines[6].kind,
            LineKind::Comment { marker: b'#', .. }
        ));
        assert_eq!(doc.lines[7].kind, LineKind::Blank);
        assert_eq!(entry(&doc, src, 8), ("".into(), "v".into()));
    }

    #[test]
    fn section_name_chops_last_char_whatever_it_is() {
        for (src, name) in [
            (&b"[uwsgi"[..], &b"uwsg"[..]),
            (b"[", b""),
            (b"[]", b""),
            (b"[prod]x", b"prod]"),
        ] {
            let doc = parse(src);
            match doc.lines[0].kind {
                LineKind::Section { name: n, .. } => assert_eq!(&src[n.range()], name),
                ref k => panic!("{k:?}"),
            }
        }
    }

    #[test]
    fn nul_ends_the_line_for_uwsgi() {
        let src = b"processes = 4\0junk\nmaster = 1";
        let doc = parse(src);
        assert_eq!(entry(&doc, src, 0), ("processes".into(), "4".into()));
        assert_eq!(&src[doc.lines[0].ignored.range()], b"\0junk");
        assert_eq!(doc.print(src), src.to_vec());
    }
}
