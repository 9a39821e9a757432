//! Nginx configuration syntax, tokenized as `ngx_conf_read_token` does
//! (`src/core/ngx_conf_file.c`; containers-and-nginx.md §3.6):
//!
//! - words are separated by space, tab, CR, LF; `;` ends a directive, `{`
//!   opens a block, `}` closes one (only with no pending words);
//! - `#` starts a comment only where a word could start (`a#b` is one word);
//! - a word may be quoted with `"` or `'` (newlines allowed); after the
//!   closing quote only a blank, `;`, `{` or `)` may follow;
//! - `\` escapes the next character; when a word is stored, `\"`, `\'` and
//!   `\\` become the character and `\t`, `\r`, `\n` control characters;
//! - `$` then `{` inside a word (`${var}`) does not open a block.
//!
//! Variables are not expanded. Every word keeps its byte span.

use crate::source::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as nginx stores it (quotes removed, escapes applied).
    pub value: String,
    /// The word as written, quotes included.
    pub span: Span,
    pub quoted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: Word,
    pub args: Vec<Word>,
    /// The directives of its `{ ... }` block, if it has one.
    pub block: Option<Vec<Directive>>,
    /// From the name to the `;` or the closing `}`.
    pub span: Span,
    /// Which file of a loaded set it is in (0: the main file; `include`
    /// splices other files' directives in with their own index).
    pub file: usize,
}

impl Directive {
    /// Arguments as nginx's `if` handler sees them: the `(` and `)` around
    /// the condition removed.
    pub fn condition_args(&self) -> Vec<String> {
        let mut v: Vec<String> = self.args.iter().map(|a| a.value.clone()).collect();
        let wrapped = v.first().is_some_and(|f| f.starts_with('('))
            && v.last().is_some_and(|l| l.ends_with(')'));
        if self.name.value == "if" && wrapped {
            let first = v[0][1..].to_string();
            let n = v.len() - 1;
            let last = v[n][..v[n].len() - 1].to_string();
            v[0] = first;
            v[n] = last;
            // A lone `(` or `)` was a word of its own.
            if v[n].is_empty() {
                v.pop();
            }
            if v.first().is_some_and(String::is_empty) {
                v.remove(0);
            }
        }
        v
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub span: Span,
    pub message: String,
}

/// A parsed file: what was read up to the first error (nginx stops there).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub directives: Vec<Directive>,
    pub error: Option<ParseError>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// What ended a run of words.
enum End {
    Directive(usize),
    BlockStart,
    BlockDone(usize),
    Eof,
}

struct Lexer<'a> {
    b: &'a [u8],
    pos: usize,
}

/// nginx's storing rule for a word's bytes.
pub fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 1 < raw.len() {
            match raw[i + 1] {
                b'"' | b'\'' | b'\\' => {
                    out.push(raw[i + 1]);
                    i += 2;
                    continue;
                }
                b't' => {
                    out.push(b'\t');
                    i += 2;
                    continue;
                }
                b'r' => {
                    out.push(b'\r');
                    i += 2;
                    continue;
                }
                b'n' => {
                    out.push(b'\n');
                    i += 2;
                    continue;
                }
                _ => {}
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Lexer<'_> {
    /// Read the words of one directive: `ngx_conf_read_token`.
    fn words(&mut self, words: &mut Vec<Word>) -> Result<End, ParseError> {
        let b = self.b;
        let mut need_space = false;
        let mut last_space = true;
        let mut sharp_comment = false;
        let mut variable = false;
        let mut quoted = false;
        let (mut s_quoted, mut d_quoted) = (false, false);
        let mut start = 0;
        let mut word_start = 0;
        while self.pos < b.len() {
            let at = self.pos;
            let ch = b[at];
            self.pos += 1;
            if ch == b'\n' && sharp_comment {
                sharp_comment = false;
            }
            if sharp_comment {
                continue;
            }
            if quoted {
                quoted = false;
                continue;
            }
            if need_space {
                if is_space(ch) {
                    last_space = true;
                    need_space = false;
                    continue;
                }
                match ch {
                    b';' => return Ok(End::Directive(at)),
                    b'{' => return Ok(End::BlockStart),
                    // `if ($a = "b")`: the `)` starts a word of its own
                    // (nginx falls through), which `if` then drops.
                    b')' => {
                        last_space = true;
                        need_space = false;
                    }
                    _ => {
                        return Err(ParseError {
                            span: Span::new(at, at + 1),
                            message: format!("unexpected \"{}\"", ch as char),
                        });
                    }
                }
            }
            if last_space {
                if is_space(ch) {
                    continue;
                }
                start = at;
                word_start = at;
                match ch {
                    b';' | b'{' => {
                        if words.is_empty() {
                            return Err(ParseError {
                                span: Span::new(at, at + 1),
                                message: format!("unexpected \"{}\"", ch as char),
                            });
                        }
                        return Ok(if ch == b'{' {
                            End::BlockStart
                        } else {
                            End::Directive(at)
                        });
                    }
                    b'}' => {
                        if !words.is_empty() {
                            return Err(ParseError {
                                span: Span::new(at, at + 1),
                                message: "unexpected \"}\"".into(),
                            });
                        }
                        return Ok(End::BlockDone(at));
                    }
                    b'#' => {
                        sharp_comment = true;
                        continue;
                    }
                    b'\\' => {
                        quoted = true;
                        last_space = false;
                        continue;
                    }
                    b'"' => {
                        start = at + 1;
                        d_quoted = true;
                        last_space = false;
                        continue;
                    }
                    b'\'' => {
                        start = at + 1;
                        s_quoted = true;
                        last_space = false;
                        continue;
                    }
                    b'$' => {
                        variable = true;
                        last_space = false;
                        continue;
                    }
                    _ => {
                        last_space = false;
                    }
                }
            } else {
                if ch == b'{' && variable {
                    continue;
                }
                variable = false;
                if ch == b'\\' {
                    quoted = true;
                    continue;
                }
                if ch == b'$' {
                    variable = true;
                    continue;
                }
                let mut found = false;
                let mut end_of_word = at;
                if d_quoted {
                    if ch == b'"' {
                        d_quoted = false;
                        need_space = true;
                        found = true;
                    }
                } else if s_quoted {
                    if ch == b'\'' {
                        s_quoted = false;
                        need_space = true;
                        found = true;
                    }
                } else if is_space(ch) || ch == b';' || ch == b'{' {
                    last_space = true;
                    found = true;
                }
                if found {
                    let is_quoted = need_space;
                    if is_quoted {
                        end_of_word = at + 1;
                    }
                    words.push(Word {
                        value: unescape(&b[start..at]),
                        span: Span::new(word_start, end_of_word),
                        quoted: is_quoted,
                    });
                    if ch == b';' {
                        return Ok(End::Directive(at));
                    }
                    if ch == b'{' {
                        return Ok(End::BlockStart);
                    }
                }
            }
        }
        if !words.is_empty() || !last_space {
            return Err(ParseError {
                span: Span::new(b.len(), b.len()),
                message: "unexpected end of file, expecting \";\" or \"}\"".into(),
            });
        }
        Ok(End::Eof)
    }

    /// `ngx_conf_parse` for one level; `depth` > 0 inside a block.
    fn block(
        &mut self,
        depth: usize,
        out: &mut Vec<Directive>,
    ) -> Result<Option<usize>, ParseError> {
        loop {
            let mut words = Vec::new();
            match self.words(&mut words)? {
                End::Eof => {
                    if depth > 0 {
                        return Err(ParseError {
                            span: Span::new(self.b.len(), self.b.len()),
                            message: "unexpected end of file, expecting \"}\"".into(),
                        });
                    }
                    return Ok(None);
                }
                End::BlockDone(at) => {
                    if depth == 0 {
                        return Err(ParseError {
                            span: Span::new(at, at + 1),
                            message: "unexpected \"}\"".into(),
                        });
                    }
                    return Ok(Some(at));
                }
                End::Directive(at) => {
                    let mut it = words.into_iter();
                    let name = it.next().expect("a directive has a name");
                    let start = name.span.start;
                    out.push(Directive {
                        file: 0,
                        name,
                        args: it.collect(),
                        block: None,
                        span: Span::new(start, at + 1),
                    });
                }
                End::BlockStart => {
                    let mut it = words.into_iter();
                    let name = it.next().expect("a directive has a name");
                    let start = name.span.start;
                    let args = it.collect();
                    let mut inner = Vec::new();
                    let close = if depth >= 64 {
                        Err(ParseError {
                            span: name.span,
                            message: "blocks nest deeper than 64 levels".into(),
                        })
                    } else {
                        self.block(depth + 1, &mut inner)
                    };
                    let end = match &close {
                        Ok(Some(at)) => at + 1,
                        _ => self.b.len(),
                    };
                    out.push(Directive {
                        file: 0,
                        name,
                        args,
                        block: Some(inner),
                        span: Span::new(start, end),
                    });
                    close?;
                }
            }
        }
    }
}

/// Parse one file. Never panics: a syntax error ends parsing (as in nginx)
/// and is returned with what was read before it.
pub fn parse(bytes: &[u8]) -> Config {
    let mut lexer = Lexer { b: bytes, pos: 0 };
    let mut directives = Vec::new();
    let error = lexer.block(0, &mut directives).err();
    Config { directives, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(c: &Config) -> Vec<String> {
        c.directives.iter().map(|d| d.name.value.clone()).collect()
    }

    #[test]
    fn words_comments_quotes_and_blocks() {
        let src = b"# c\nhttp {\n  server { listen 80; a#b c; }\n  set $x \"q\\\"x\" 'y';\n  root ${ROOT}/html;\n}\n";
        let c = parse(src);
        assert!(c.error.is_none(), "{:?}", c.error);
        assert_eq!(names(&c), vec!["http"]);
        let http = c.directives[0].block.as_ref().unwrap();
        let server = http[0].block.as_ref().unwrap();
        assert_eq!(server[1].name.value, "a#b");
        assert_eq!(http[1].args[1].value, "q\"x");
        assert!(http[1].args[1].quoted);
        assert_eq!(&src[http[1].args[1].span.range()], b"\"q\\\"x\"");
        assert_eq!(http[2].args[0].value, "${ROOT}/html");
    }

    #[test]
    fn if_condition() {
        let c = parse(b"if ($request_method = POST) { return 405; }");
        assert_eq!(
            c.directives[0].condition_args(),
            vec!["$request_method", "=", "POST"]
        );
        let c = parse(b"if ($x ~* \"a b\") { }");
        assert_eq!(c.directives[0].condition_args(), vec!["$x", "~*", "a b"]);
    }

    #[test]
    fn errors_are_positioned() {
        let c = parse(b"server { listen 80;\n");
        assert!(c.error.unwrap().message.contains("expecting \"}\""));
        let c = parse(b"listen 80; }");
        assert_eq!(c.error.unwrap().span.start, 11);
        let c = parse(b"a \"b\"c;");
        assert_eq!(c.error.unwrap().message, "unexpected \"c\"");
        let c = parse(b";");
        assert!(c.error.is_some());
        assert_eq!(c.directives.len(), 0);
    }

    #[test]
    fn storing_rule() {
        assert_eq!(unescape(br"a\tb\\c\;d\n"), "a\tb\\c\\;d\n");
    }
}
