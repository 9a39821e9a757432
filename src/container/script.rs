//! Shell scripts an image starts (`docker-entrypoint.sh`, `start.sh`,
//! `sh -c "…"`): read, never run, to find the command the script ends in
//! (`exec uwsgi …`, `exec supervisord -c …`, `exec "$@"`). Parameters are
//! expanded from the container's environment, the script's own
//! assignments and its arguments (`${VAR:-default}`, `${VAR-default}`,
//! `$VAR`, `$1`, `"$@"`); what only the running script knows (`$(…)`,
//! a variable set by a sourced file, a `read`, a loop) stays unknown.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::At;
use super::supervisord::unknown_marker;
use crate::source::Span;
use crate::uwsgi::resolve::UNKNOWN_WORD;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub path: PathBuf,
    pub stmts: Vec<Stmt>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Assign {
        name: String,
        value: Word,
        depth: usize,
    },
    Unset(Vec<String>),
    /// Variables only the running script knows (`read`, `for`).
    Unknowable(Vec<String>),
    /// `.`/`source`/`eval`: anything may be set from here on.
    Taint,
    /// `shift n` at a nesting depth.
    Shift(usize, usize),
    Command(Command),
    /// `case WORD in`: the branches that follow test WORD.
    Case(Word),
    /// `pattern|pattern)`: a branch of the innermost `case`.
    Branch(Vec<Word>),
    /// `esac`.
    EndCase,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub words: Vec<Word>,
    /// `VAR=value cmd`: the command's own environment.
    pub env: Vec<(String, Word)>,
    pub exec: bool,
    /// Inside `if`/`case`/loops/functions/`{ }`.
    pub depth: usize,
    /// Started with `&`.
    pub background: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub parts: Vec<Part>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Text, and whether it was quoted.
    Lit(String, bool),
    /// `$name`, `${name}`, `${name<op>word}`.
    Param {
        name: String,
        op: Option<(String, Box<Word>)>,
        quoted: bool,
    },
    /// `$(…)`, backquotes, `$((…))`, `${#x}`, `${x%…}`: only known when run.
    Unknown(String, bool),
}

impl Word {
    /// The word's text when it is a plain unquoted-or-quoted literal.
    fn literal(&self) -> Option<String> {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                Part::Lit(t, _) => s.push_str(t),
                _ => return None,
            }
        }
        Some(s)
    }

    /// Unquoted literal text (keywords, assignments are recognised only so).
    fn bare(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Lit(t, false)] => Some(t),
            _ => None,
        }
    }

    fn is_all_args(&self) -> bool {
        matches!(self.parts.as_slice(), [Part::Param { name, op: None, .. }] if name == "@" || name == "*")
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Word),
    /// `\n`, `;`, `;;`, `&&`, `||`, `|`, `&`, `(`, `)`.
    Sep(&'static str, usize),
}

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
    heredocs: Vec<(String, bool)>,
}

fn is_name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_name(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer {
            s,
            b: s.as_bytes(),
            i: 0,
            heredocs: Vec::new(),
        }
    }

    fn peek(&self, k: usize) -> u8 {
        *self.b.get(self.i + k).unwrap_or(&0)
    }

    fn tokens(&mut self) -> Vec<Tok> {
        let mut out = Vec::new();
        while self.i < self.b.len() {
            let c = self.b[self.i];
            match c {
                b'\\' if self.peek(1) == b'\n' => self.i += 2,
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'\n' => {
                    out.push(Tok::Sep("\n", self.i));
                    self.i += 1;
                    self.skip_heredocs();
                }
                b'#' => {
                    while self.i < self.b.len() && self.b[self.i] != b'\n' {
                        self.i += 1;
                    }
                }
                b';' | b'&' | b'|' => {
                    let two = self.peek(1) == c;
                    let sep = match (c, two) {
                        (b';', true) => ";;",
                        (b';', false) => ";",
                        (b'&', true) => "&&",
                        (b'&', false) => "&",
                        (b'|', true) => "||",
                        _ => "|",
                    };
                    out.push(Tok::Sep(sep, self.i));
                    self.i += if two { 2 } else { 1 };
                }
                b'(' => {
                    out.push(Tok::Sep("(", self.i));
                    self.i += 1;
                }
                b')' => {
                    out.push(Tok::Sep(")", self.i));
                    self.i += 1;
                }
                b'<' | b'>' => self.redirection(),
                _ => {
                    let w = self.word();
                    // `2>&1`: the digits belong to the redirection.
                    if matches!(self.peek(0), b'<' | b'>')
                        && w.literal()
                            .is_some_and(|t| t.bytes().all(|c| c.is_ascii_digit()))
                    {
                        continue;
                    }
                    out.push(Tok::Word(w));
                }
            }
        }
        out
    }

    /// `>`, `>>`, `2>&1`, `<file`, `<<EOF` (its body is skipped after the line).
    fn redirection(&mut self) {
        if self.peek(0) == b'<' && self.peek(1) == b'<' && self.peek(2) != b'<' {
            self.i += 2;
            let strip_tabs = self.peek(0) == b'-';
            if strip_tabs {
                self.i += 1;
            }
            while matches!(self.peek(0), b' ' | b'\t') {
                self.i += 1;
            }
            let w = self.word();
            let delim: String = w
                .parts
                .iter()
                .map(|p| match p {
                    Part::Lit(t, _) => t.clone(),
                    _ => String::new(),
                })
                .collect();
            if !delim.is_empty() {
                self.heredocs.push((delim, strip_tabs));
            }
            return;
        }
        while matches!(self.peek(0), b'<' | b'>' | b'&' | b'|') {
            self.i += 1;
        }
        while matches!(self.peek(0), b' ' | b'\t') {
            self.i += 1;
        }
        if !matches!(self.peek(0), b'\n' | b';' | 0) {
            self.word();
        }
    }

    fn skip_heredocs(&mut self) {
        for (delim, strip_tabs) in std::mem::take(&mut self.heredocs) {
            while self.i < self.b.len() {
                let end = self.s[self.i..]
                    .find('\n')
                    .map_or(self.b.len(), |e| self.i + e);
                let line = self.s[self.i..end].trim_end_matches('\r');
                let line = if strip_tabs {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                self.i = (end + 1).min(self.b.len());
                if line == delim {
                    break;
                }
            }
        }
    }

    fn word(&mut self) -> Word {
        let start = self.i;
        let mut parts: Vec<Part> = Vec::new();
        let mut lit = String::new();
        let flush = |lit: &mut String, parts: &mut Vec<Part>, quoted: bool| {
            if !lit.is_empty() {
                parts.push(Part::Lit(std::mem::take(lit), quoted));
            }
        };
        while self.i < self.b.len() {
            let c = self.b[self.i];
            match c {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => {
                    break;
                }
                b'\\' => {
                    if self.peek(1) == b'\n' {
                        self.i += 2;
                        continue;
                    }
                    self.i += 1;
                    if let Some(ch) = self.s[self.i..].chars().next() {
                        lit.push(ch);
                        self.i += ch.len_utf8();
                    }
                }
                b'\'' => {
                    flush(&mut lit, &mut parts, false);
                    self.i += 1;
                    let end = self.s[self.i..]
                        .find('\'')
                        .map_or(self.b.len(), |e| self.i + e);
                    parts.push(Part::Lit(self.s[self.i..end].to_string(), true));
                    self.i = (end + 1).min(self.b.len());
                }
                b'"' => {
                    flush(&mut lit, &mut parts, false);
                    self.i += 1;
                    self.double_quoted(&mut parts);
                }
                b'$' => {
                    flush(&mut lit, &mut parts, false);
                    self.dollar(&mut parts, false);
                }
                b'`' => {
                    flush(&mut lit, &mut parts, false);
                    let text = self.backquoted();
                    parts.push(Part::Unknown(text, false));
                }
                _ => {
                    let ch = self.s[self.i..].chars().next().unwrap_or('\0');
                    lit.push(ch);
                    self.i += ch.len_utf8().max(1);
                }
            }
        }
        flush(&mut lit, &mut parts, false);
        if parts.is_empty() {
            // `""`: an empty word.
            parts.push(Part::Lit(String::new(), true));
        }
        Word {
            parts,
            span: Span::new(start, self.i),
        }
    }

    fn double_quoted(&mut self, parts: &mut Vec<Part>) {
        let mut lit = String::new();
        let before = parts.len();
        while self.i < self.b.len() {
            let c = self.b[self.i];
            match c {
                b'"' => {
                    self.i += 1;
                    break;
                }
                b'\\' if matches!(self.peek(1), b'$' | b'`' | b'"' | b'\\') => {
                    lit.push(self.peek(1) as char);
                    self.i += 2;
                }
                b'\\' if self.peek(1) == b'\n' => self.i += 2,
                b'$' => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit), true));
                    }
                    self.dollar(parts, true);
                }
                b'`' => {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit), true));
                    }
                    let text = self.backquoted();
                    parts.push(Part::Unknown(text, true));
                }
                _ => {
                    let ch = self.s[self.i..].chars().next().unwrap_or('\0');
                    lit.push(ch);
                    self.i += ch.len_utf8().max(1);
                }
            }
        }
        // `""` keeps an (empty) quoted word.
        if !lit.is_empty() || parts.len() == before {
            parts.push(Part::Lit(lit, true));
        }
    }

    fn backquoted(&mut self) -> String {
        let start = self.i;
        self.i += 1;
        while self.i < self.b.len() && self.b[self.i] != b'`' {
            if self.b[self.i] == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        self.i = (self.i + 1).min(self.b.len());
        self.s[start..self.i].to_string()
    }

    /// The end of a bracketed text starting at `self.i` (just after the
    /// opener), nesting and quotes considered.
    fn matching(&self, open: u8, close: u8) -> usize {
        let mut depth = 1usize;
        let mut j = self.i;
        while j < self.b.len() {
            match self.b[j] {
                b'\\' => j += 1,
                b'\'' => {
                    j += 1;
                    while j < self.b.len() && self.b[j] != b'\'' {
                        j += 1;
                    }
                }
                c if c == open => depth += 1,
                c if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        return j;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        self.b.len()
    }

    fn dollar(&mut self, parts: &mut Vec<Part>, quoted: bool) {
        let start = self.i;
        self.i += 1;
        match self.peek(0) {
            b'(' => {
                self.i += 1;
                let end = self.matching(b'(', b')');
                self.i = (end + 1).min(self.b.len());
                let inner = self.s.get(start + 2..end.min(self.b.len())).unwrap_or("");
                // `$(command -v uwsgi)`, `$(which uwsgi)`: the program's path,
                // found on PATH; its name is what matters here.
                let words: Vec<&str> = inner.split_whitespace().collect();
                let program = match words[..] {
                    ["command", "-v", name] | ["which", name] => Some(name),
                    _ => None,
                }
                .filter(|n| {
                    n.bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(&c))
                });
                match program {
                    Some(name) => parts.push(Part::Lit(name.to_string(), quoted)),
                    None => parts.push(Part::Unknown(self.s[start..self.i].to_string(), quoted)),
                }
            }
            b'{' => {
                self.i += 1;
                let end = self.matching(b'{', b'}');
                let inner = &self.s[self.i..end.min(self.b.len())];
                self.i = (end + 1).min(self.b.len());
                parts.push(braced(inner, &self.s[start..self.i], quoted));
            }
            c if is_name_start(c) => {
                let s = self.i;
                while is_name(self.peek(0)) {
                    self.i += 1;
                }
                parts.push(Part::Param {
                    name: self.s[s..self.i].to_string(),
                    op: None,
                    quoted,
                });
            }
            c if c.is_ascii_digit()
                || matches!(c, b'@' | b'*' | b'#' | b'?' | b'$' | b'!' | b'-') =>
            {
                self.i += 1;
                parts.push(Part::Param {
                    name: (c as char).to_string(),
                    op: None,
                    quoted,
                });
            }
            _ => parts.push(Part::Lit("$".into(), quoted)),
        }
    }
}

/// `${…}`: a parameter, with `:-`, `-`, `:=`, `=`, `:+`, `+`, `:?`, `?`;
/// anything else (`${#x}`, `${x%.*}`, `${x/a/b}`) is unknown.
fn braced(inner: &str, whole: &str, quoted: bool) -> Part {
    let b = inner.as_bytes();
    let name_len = if b.first().is_some_and(|c| is_name_start(*c)) {
        b.iter().take_while(|c| is_name(**c)).count()
    } else if b
        .first()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'@' | b'*' | b'?' | b'$' | b'!'))
        && (b.len() == 1 || !b[0].is_ascii_digit() || b.iter().all(u8::is_ascii_digit))
    {
        if b[0].is_ascii_digit() {
            b.iter().take_while(|c| c.is_ascii_digit()).count()
        } else {
            1
        }
    } else {
        0
    };
    if name_len == 0 {
        return Part::Unknown(whole.to_string(), quoted);
    }
    let name = inner[..name_len].to_string();
    let rest = &inner[name_len..];
    if rest.is_empty() {
        return Part::Param {
            name,
            op: None,
            quoted,
        };
    }
    for op in [":-", ":=", ":+", ":?", "-", "=", "+", "?"] {
        if let Some(arg) = rest.strip_prefix(op) {
            let mut lx = Lexer::new(arg);
            // The word after the operator, quotes and expansions as in a word.
            let mut w = lx.word();
            while lx.i < arg.len() {
                // Spaces inside `${X:-a b}` belong to the word.
                let ch = arg[lx.i..].chars().next().unwrap_or(' ');
                w.parts.push(Part::Lit(ch.to_string(), quoted));
                lx.i += ch.len_utf8();
                let more = lx.word();
                w.parts.extend(more.parts);
            }
            if quoted {
                for p in &mut w.parts {
                    if let Part::Lit(_, q) | Part::Unknown(_, q) = p {
                        *q = true;
                    }
                    if let Part::Param { quoted: q, .. } = p {
                        *q = true;
                    }
                }
            }
            return Part::Param {
                name,
                op: Some((op.to_string(), Box::new(w))),
                quoted,
            };
        }
    }
    Part::Unknown(whole.to_string(), quoted)
}

fn valid_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty() && is_name_start(b[0]) && b.iter().all(|c| is_name(*c))
}

/// `NAME=value` as the start of a word: the name and the value's word.
fn assignment(w: &Word) -> Option<(String, Word)> {
    let Some(Part::Lit(first, false)) = w.parts.first() else {
        return None;
    };
    let (name, rest) = first.split_once('=')?;
    if !valid_name(name) {
        return None;
    }
    let mut parts = Vec::new();
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_string(), false));
    }
    parts.extend(w.parts[1..].iter().cloned());
    Some((
        name.to_string(),
        Word {
            parts,
            span: w.span,
        },
    ))
}

pub fn parse(path: &Path, text: &str) -> Script {
    let toks = Lexer::new(text).tokens();
    let mut stmts = Vec::new();
    let mut depth = 0usize;
    let mut cases = 0usize;
    let mut words: Vec<Word> = Vec::new();
    // After `case … in` and after `;;`: the next words are patterns.
    let mut want_pattern = false;
    let mut patterns: Vec<Word> = Vec::new();
    let mut k = 0;
    while k <= toks.len() {
        let sep = match toks.get(k) {
            Some(Tok::Word(w)) => {
                words.push(w.clone());
                k += 1;
                continue;
            }
            Some(Tok::Sep(s, _)) => *s,
            None => "\n",
        };
        k += 1;
        // `name()` starts a function: its body (`{ … }`) is nested.
        if sep == "(" && words.len() == 1 && matches!(toks.get(k), Some(Tok::Sep(")", _))) {
            words.clear();
            k += 1;
            continue;
        }
        // `case WORD in` (a first pattern may follow on the same line).
        if words.first().and_then(Word::bare) == Some("case") && words.len() >= 3 {
            stmts.push(Stmt::Case(words[1].clone()));
            depth += 1;
            cases += 1;
            want_pattern = true;
            words.drain(..3);
        }
        if want_pattern {
            match sep {
                "|" => {
                    patterns.append(&mut words);
                    continue;
                }
                ")" => {
                    patterns.append(&mut words);
                    stmts.push(Stmt::Branch(std::mem::take(&mut patterns)));
                    want_pattern = false;
                    continue;
                }
                // `(pattern)`: the opening parenthesis is optional.
                "\n" | ";" | "(" if words.is_empty() => continue,
                _ => {}
            }
        }
        // `pattern)` inside `case` not seen as one: not a command.
        if sep == ")" && cases > 0 {
            words.clear();
            continue;
        }
        let closes = words.first().and_then(Word::bare) == Some("esac");
        let cmd = std::mem::take(&mut words);
        command(cmd, sep == "&", &mut depth, &mut cases, &mut stmts);
        if closes {
            patterns.clear();
            want_pattern = false;
        }
        if sep == ";;" && cases > 0 {
            want_pattern = true;
        }
    }
    Script {
        path: path.to_path_buf(),
        stmts,
    }
}

fn command(
    mut words: Vec<Word>,
    background: bool,
    depth: &mut usize,
    cases: &mut usize,
    stmts: &mut Vec<Stmt>,
) {
    let mut words_start = 0usize;
    while let Some(first) = words
        .get(words_start)
        .and_then(Word::bare)
        .map(str::to_string)
    {
        match first.as_str() {
            "if" | "while" | "until" | "elif" => {
                if first != "elif" {
                    *depth += 1;
                }
                // The condition runs, but is no launch.
                return;
            }
            "for" | "select" => {
                *depth += 1;
                if let Some(v) = words.get(words_start + 1).and_then(Word::bare) {
                    stmts.push(Stmt::Unknowable(vec![v.to_string()]));
                }
                return;
            }
            "case" => {
                *depth += 1;
                *cases += 1;
                return;
            }
            "esac" => {
                if *cases > 0 {
                    stmts.push(Stmt::EndCase);
                }
                *depth = depth.saturating_sub(1);
                *cases = cases.saturating_sub(1);
                words_start += 1;
            }
            "fi" | "done" | "}" => {
                *depth = depth.saturating_sub(1);
                words_start += 1;
            }
            "then" | "else" | "do" | "!" => {
                words_start += 1;
            }
            "{" => {
                *depth += 1;
                words_start += 1;
            }
            "function" => {
                words_start += 2;
            }
            _ => break,
        }
    }
    // Leading `NAME=value` words: assignments, or the command's environment.
    let mut env = Vec::new();
    while let Some(a) = words.get(words_start).and_then(assignment) {
        env.push(a);
        words_start += 1;
    }
    words.drain(..words_start.min(words.len()));
    if words.is_empty() {
        for (name, value) in env {
            stmts.push(Stmt::Assign {
                name,
                value,
                depth: *depth,
            });
        }
        return;
    }
    let Some(program) = words[0].literal() else {
        push_command(words, env, false, *depth, background, stmts);
        return;
    };
    match program.as_str() {
        "export" | "local" | "declare" | "typeset" | "readonly" => {
            for w in &words[1..] {
                if let Some((name, value)) = assignment(w) {
                    stmts.push(Stmt::Assign {
                        name,
                        value,
                        depth: *depth,
                    });
                }
            }
        }
        "unset" => stmts.push(Stmt::Unset(
            words[1..]
                .iter()
                .filter_map(Word::bare)
                .filter(|w| !w.starts_with('-'))
                .map(str::to_string)
                .collect(),
        )),
        "read" => stmts.push(Stmt::Unknowable(
            words[1..]
                .iter()
                .filter_map(Word::bare)
                .filter(|w| !w.starts_with('-'))
                .map(str::to_string)
                .collect(),
        )),
        "." | "source" | "eval" => stmts.push(Stmt::Taint),
        "shift" => {
            let n = words
                .get(1)
                .and_then(Word::bare)
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            stmts.push(Stmt::Shift(n, *depth));
        }
        "exec" => {
            words.remove(0);
            if !words.is_empty() {
                push_command(words, env, true, *depth, background, stmts);
            }
        }
        _ => push_command(words, env, false, *depth, background, stmts),
    }
}

fn push_command(
    words: Vec<Word>,
    env: Vec<(String, Word)>,
    exec: bool,
    depth: usize,
    background: bool,
    stmts: &mut Vec<Stmt>,
) {
    let span = Span::new(
        words.first().map_or(0, |w| w.span.start),
        words.last().map_or(0, |w| w.span.end),
    );
    stmts.push(Stmt::Command(Command {
        words,
        env,
        exec,
        depth,
        background,
        span,
    }));
}

/// What a variable holds at some point of the script.
#[derive(Debug, Clone)]
enum Val {
    Set(String),
    Unknown,
}

/// Does the current branch of a `case` run?
#[derive(Debug, Clone, Copy, PartialEq)]
enum Taken {
    Yes,
    No,
    Maybe,
}

struct Frame {
    /// The word tested, where known.
    subject: Option<String>,
    /// A branch surely ran: the later ones do not.
    decided: bool,
    branch: Taken,
    /// An earlier branch may have run.
    maybe_before: bool,
}

struct State<'a> {
    vars: HashMap<String, Val>,
    /// After a `.`/`eval`: any variable not assigned since is unknown.
    tainted: bool,
    args: Vec<At<String>>,
    /// A `shift` in a branch: the arguments are unknown.
    args_known: bool,
    script: &'a Path,
}

/// A piece of an expanded word.
enum Got {
    Text(String),
    Unknown(String),
}

impl State<'_> {
    fn lookup(&self, name: &str) -> Option<Val> {
        if let Ok(n) = name.parse::<usize>() {
            if n == 0 {
                return Some(Val::Set(self.script.display().to_string()));
            }
            if !self.args_known {
                return Some(Val::Unknown);
            }
            return self.args.get(n - 1).map(|a| Val::Set(a.value.clone()));
        }
        match name {
            "#" if self.args_known => return Some(Val::Set(self.args.len().to_string())),
            "#" | "?" | "$" | "!" | "-" => return Some(Val::Unknown),
            _ => {}
        }
        match self.vars.get(name) {
            Some(v) => Some(v.clone()),
            None if self.tainted => Some(Val::Unknown),
            None => None,
        }
    }

    /// A word's fields: unquoted expansions split on blanks, `"$@"` one
    /// field per argument. Unknown parts are written as markers.
    /// A `case` pattern as a glob: unquoted text keeps `*`, `?`, `[…]`;
    /// quoted text and expansions match literally. `None` where unknown.
    fn pattern(&mut self, w: &Word) -> Option<glob::Pattern> {
        let mut p = String::new();
        for part in &w.parts {
            match part {
                Part::Lit(t, false) => p.push_str(t),
                Part::Lit(t, true) => p.push_str(&glob::Pattern::escape(t)),
                other => {
                    let one = Word {
                        parts: vec![other.clone()],
                        span: w.span,
                    };
                    let t = self.expand(&one).join(" ");
                    if t.contains(UNKNOWN_WORD) {
                        return None;
                    }
                    p.push_str(&glob::Pattern::escape(&t));
                }
            }
        }
        glob::Pattern::new(&p).ok()
    }

    fn expand(&mut self, w: &Word) -> Vec<String> {
        if w.is_all_args() {
            if !self.args_known {
                return vec![unknown_marker("$@")];
            }
            let quoted = matches!(&w.parts[0], Part::Param { quoted: true, .. });
            let mut out = Vec::new();
            for a in &self.args {
                if quoted {
                    out.push(a.value.clone());
                } else {
                    out.extend(a.value.split_whitespace().map(str::to_string));
                }
            }
            return out;
        }
        let mut fields: Vec<String> = vec![String::new()];
        let mut any = false;
        for p in &w.parts {
            match p {
                Part::Lit(t, _) => {
                    fields.last_mut().expect("one field").push_str(t);
                    any = true;
                }
                Part::Unknown(t, _) => {
                    fields
                        .last_mut()
                        .expect("one field")
                        .push_str(&unknown_marker(t));
                    any = true;
                }
                Part::Param { name, op, quoted } => {
                    let got = self.param(name, op.as_ref().map(|(o, w)| (o.as_str(), &**w)));
                    match got {
                        Got::Unknown(what) => {
                            fields
                                .last_mut()
                                .expect("one field")
                                .push_str(&unknown_marker(&what));
                            any = true;
                        }
                        Got::Text(t) if *quoted => {
                            fields.last_mut().expect("one field").push_str(&t);
                            any = true;
                        }
                        Got::Text(t) => {
                            // Field splitting on blanks.
                            let starts = t.starts_with(char::is_whitespace);
                            let ends = t.ends_with(char::is_whitespace);
                            let pieces: Vec<&str> = t.split_whitespace().collect();
                            for (i, piece) in pieces.iter().enumerate() {
                                if (i > 0 || starts) && !fields.last().expect("one").is_empty() {
                                    fields.push(String::new());
                                }
                                fields.last_mut().expect("one field").push_str(piece);
                                any = true;
                            }
                            if ends && !pieces.is_empty() {
                                fields.push(String::new());
                            }
                        }
                    }
                }
            }
        }
        let quoted_any = w.parts.iter().any(|p| match p {
            Part::Lit(_, q) | Part::Unknown(_, q) => *q,
            Part::Param { quoted, .. } => *quoted,
        });
        if fields.last().is_some_and(String::is_empty) && (fields.len() > 1 || !quoted_any) {
            fields.pop();
        }
        if !any && !quoted_any {
            return Vec::new();
        }
        fields
    }

    fn param(&mut self, name: &str, op: Option<(&str, &Word)>) -> Got {
        let v = self.lookup(name);
        let what = format!("${name}");
        let Some((op, word)) = op else {
            return match v {
                Some(Val::Set(s)) => Got::Text(s),
                _ => Got::Unknown(what),
            };
        };
        let default = |st: &mut State| -> Got {
            let fields = st.expand(word);
            Got::Text(fields.join(" "))
        };
        let colon = op.starts_with(':');
        match (op.trim_start_matches(':'), v) {
            (_, Some(Val::Unknown)) => Got::Unknown(what),
            ("-" | "=", Some(Val::Set(s))) if !(colon && s.is_empty()) => Got::Text(s),
            ("-" | "=", _) => {
                let d = default(self);
                if op.ends_with('=')
                    && let Got::Text(t) = &d
                {
                    self.vars.insert(name.to_string(), Val::Set(t.clone()));
                }
                d
            }
            ("+", Some(Val::Set(s))) if !(colon && s.is_empty()) => default(self),
            ("+", _) => Got::Text(String::new()),
            // `${X:?message}` stops the script when unset: set, it is X.
            ("?", Some(Val::Set(s))) => Got::Text(s),
            _ => Got::Unknown(what),
        }
    }

    fn assign(&mut self, name: &str, value: &Word, depth: usize) {
        let fields = self.expand(value);
        let text = fields.join(" ");
        let known = !text.contains(UNKNOWN_WORD);
        let new = if known { Val::Set(text) } else { Val::Unknown };
        let v = if depth == 0 {
            new
        } else {
            // May or may not happen: known only if it changes nothing.
            match (self.lookup(name), new) {
                (Some(Val::Set(a)), Val::Set(b)) if a == b => Val::Set(a),
                _ => Val::Unknown,
            }
        };
        self.vars.insert(name.to_string(), v);
    }
}

/// The command a script ends in, expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub words: Vec<At<String>>,
    /// `VAR=value` before the command.
    pub env: Vec<(String, String, Span)>,
    pub span: Span,
    pub exec: bool,
    /// The command is the script's arguments (`exec "$@"`): its words are
    /// written where the arguments are.
    pub from_args: bool,
}

/// What a script runs in the end.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Runs(Launch),
    /// Several different commands, each in its own branch.
    Ambiguous(Vec<Span>),
    Nothing,
}

/// Does `program` (a path or name) start uWSGI, supervisord, or another
/// script that may?
pub fn launches(words: &[String]) -> bool {
    let words = strip_wrappers(words);
    let Some(p) = words.first() else { return false };
    let base = p.rsplit('/').next().unwrap_or(p);
    matches!(base, "uwsgi" | "pyuwsgi" | "supervisord")
        || (matches!(base, "sh" | "bash" | "dash" | "ash") && words.len() > 1)
        || base.ends_with(".sh")
}

/// The words after wrappers that only start the real program: `tini --`,
/// `dumb-init`, `gosu USER`, `su-exec USER`, `env [A=B]…`, `nice -n N`.
pub fn strip_wrappers(words: &[String]) -> &[String] {
    let mut w = words;
    loop {
        let Some(first) = w.first() else { return w };
        let base = first.rsplit('/').next().unwrap_or(first);
        let skip = match base {
            "tini" | "dumb-init" | "catatonit" => {
                1 + w[1..].iter().take_while(|a| a.starts_with('-')).count()
            }
            "gosu" | "su-exec" | "setpriv" | "chpst" => 2,
            // `wait-for-it.sh db:5432 -t 30 -- cmd …`: waits, then runs cmd.
            b if b.starts_with("wait-for") => match w.iter().position(|a| a == "--") {
                Some(dd) => dd + 1,
                None => return w,
            },
            "env" => {
                1 + w[1..]
                    .iter()
                    .take_while(|a| a.contains('=') || a.starts_with('-'))
                    .count()
            }
            "nice" => {
                if w.get(1).is_some_and(|a| a == "-n") {
                    3
                } else {
                    1
                }
            }
            _ => return w,
        };
        if skip >= w.len() {
            return &w[w.len()..];
        }
        w = &w[skip..];
    }
}

impl Script {
    /// Does the script set a `trap` (to pass signals on to its child)?
    pub fn traps_signals(&self) -> bool {
        self.stmts.iter().any(|s| {
            matches!(s, Stmt::Command(c)
                if c.words.first().and_then(Word::literal).as_deref() == Some("trap"))
        })
    }

    /// The command this script ends in, with `env` the container's
    /// environment and `args` the script's arguments.
    pub fn outcome(&self, env: &HashMap<String, String>, args: &[At<String>]) -> Outcome {
        let mut st = State {
            vars: env
                .iter()
                .map(|(k, v)| (k.clone(), Val::Set(v.clone())))
                .collect(),
            tainted: false,
            args: args.to_vec(),
            args_known: true,
            script: &self.path,
        };
        let last_top = self
            .stmts
            .iter()
            .rposition(|s| matches!(s, Stmt::Command(c) if c.depth == 0 && !c.background));
        let mut found: Vec<(Launch, bool)> = Vec::new();
        // The `case`s we are in: which branch runs, where the subject and
        // the patterns are known.
        let mut frames: Vec<Frame> = Vec::new();
        for (i, s) in self.stmts.iter().enumerate() {
            match s {
                Stmt::Case(w) => {
                    let skipped = frames.iter().any(|f| f.branch == Taken::No);
                    let subject = st.expand(w).join(" ");
                    frames.push(Frame {
                        subject: (!subject.contains(UNKNOWN_WORD)).then_some(subject),
                        decided: skipped,
                        branch: if skipped { Taken::No } else { Taken::Maybe },
                        maybe_before: false,
                    });
                    continue;
                }
                Stmt::Branch(patterns) => {
                    let globs: Vec<Option<glob::Pattern>> =
                        patterns.iter().map(|p| st.pattern(p)).collect();
                    if let Some(f) = frames.last_mut() {
                        f.branch = match &f.subject {
                            _ if f.decided => Taken::No,
                            Some(subject) if globs.iter().all(Option::is_some) => {
                                if globs.iter().flatten().any(|g| g.matches(subject)) {
                                    f.decided = !f.maybe_before;
                                    if f.maybe_before {
                                        Taken::Maybe
                                    } else {
                                        Taken::Yes
                                    }
                                } else {
                                    Taken::No
                                }
                            }
                            _ => {
                                f.maybe_before = true;
                                Taken::Maybe
                            }
                        };
                    }
                    continue;
                }
                Stmt::EndCase => {
                    frames.pop();
                    continue;
                }
                _ if frames.iter().any(|f| f.branch == Taken::No) => continue,
                _ => {}
            }
            // Nesting that only chosen branches make is no nesting.
            let chosen = frames.iter().filter(|f| f.branch == Taken::Yes).count();
            match s {
                Stmt::Case(_) | Stmt::Branch(_) | Stmt::EndCase => {}
                Stmt::Assign { name, value, depth } => {
                    st.assign(name, value, depth.saturating_sub(chosen))
                }
                Stmt::Unset(names) => {
                    for n in names {
                        if st.tainted {
                            st.vars.insert(n.clone(), Val::Unknown);
                        } else {
                            st.vars.remove(n);
                        }
                    }
                }
                Stmt::Unknowable(names) => {
                    for n in names {
                        st.vars.insert(n.clone(), Val::Unknown);
                    }
                }
                Stmt::Taint => {
                    // Everything set so far may be overwritten: forgotten,
                    // and a lookup of a forgotten name is unknown.
                    st.tainted = true;
                    st.vars.clear();
                }
                Stmt::Shift(n, depth) => {
                    if depth.saturating_sub(chosen) > 0 {
                        st.args_known = false;
                    } else {
                        st.args.drain(..(*n).min(st.args.len()));
                    }
                }
                Stmt::Command(c) => {
                    if c.background {
                        continue;
                    }
                    let mut words: Vec<At<String>> = Vec::new();
                    for w in &c.words {
                        let all_args = w.is_all_args() && st.args_known;
                        for f in st.expand(w) {
                            // Arguments keep where they are written.
                            let span = if all_args {
                                st.args
                                    .iter()
                                    .find(|a| a.value == f)
                                    .map_or(w.span, |a| a.span)
                            } else {
                                w.span
                            };
                            words.push(At::new(f, span));
                        }
                    }
                    let texts: Vec<String> = words.iter().map(|w| w.value.clone()).collect();
                    let runs_args = c.words.first().is_some_and(Word::is_all_args);
                    // A launch: `exec` of anything, uWSGI/supervisord/a
                    // script however started, `"$@"` at the end.
                    let relevant = c.exec || launches(&texts) || (runs_args && Some(i) == last_top);
                    if !relevant || words.is_empty() {
                        continue;
                    }
                    // A script run without `exec` before the end returns.
                    if !c.exec
                        && !matches!(
                            strip_wrappers(&texts)
                                .first()
                                .map(|p| p.rsplit('/').next().unwrap_or(p)),
                            Some("uwsgi" | "pyuwsgi" | "supervisord")
                        )
                        && Some(i) != last_top
                    {
                        continue;
                    }
                    let env = c
                        .env
                        .iter()
                        .map(|(k, v)| (k.clone(), st.expand(v).join(" "), v.span))
                        .collect();
                    found.push((
                        Launch {
                            words,
                            env,
                            span: c.span,
                            exec: c.exec,
                            from_args: runs_args,
                        },
                        c.depth.saturating_sub(chosen) == 0,
                    ));
                }
            }
        }
        let same = |a: &Launch, b: &Launch| {
            a.words.len() == b.words.len()
                && a.words
                    .iter()
                    .zip(&b.words)
                    .all(|(x, y)| x.value == y.value)
        };
        match found.len() {
            0 => Outcome::Nothing,
            _ if found.iter().all(|(l, _)| same(l, &found[0].0)) => {
                Outcome::Runs(found.pop().expect("non-empty").0)
            }
            _ => Outcome::Ambiguous(found.iter().map(|(l, _)| l.span).collect()),
        }
    }
}

/// A shell script by its first line (`#!/bin/sh`, `#!/usr/bin/env bash` …).
pub fn has_shell_shebang(text: &[u8]) -> bool {
    let first = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    let Some(rest) = first.strip_prefix("#!") else {
        return false;
    };
    let mut words = rest.split_whitespace();
    let Some(prog) = words.next() else {
        return false;
    };
    let prog = if prog.ends_with("/env") {
        words.find(|w| !w.starts_with('-')).unwrap_or("")
    } else {
        prog
    };
    let base = prog.rsplit('/').next().unwrap_or(prog);
    matches!(base, "sh" | "bash" | "dash" | "ash" | "ksh" | "zsh")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, env: &[(&str, &str)], args: &[&str]) -> Outcome {
        let s = parse(Path::new("/p/start.sh"), text);
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let args: Vec<At<String>> = args
            .iter()
            .map(|a| At::new(a.to_string(), Span::default()))
            .collect();
        s.outcome(&env, &args)
    }

    fn words(o: &Outcome) -> Vec<String> {
        match o {
            Outcome::Runs(l) => l.words.iter().map(|w| w.value.clone()).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults_env_and_continuations() {
        let text = "#!/bin/sh\nset -e\n# migrate first\npython manage.py migrate --noinput\nexec uwsgi --ini /app/uwsgi.ini \\\n    --processes \"${UWSGI_WORKERS:-8}\" --threads ${THREADS-2} $EXTRA # tail\n";
        let o = run(text, &[], &[]);
        assert_eq!(
            words(&o),
            vec![
                "uwsgi",
                "--ini",
                "/app/uwsgi.ini",
                "--processes",
                "8",
                "--threads",
                "2",
                "$(unknown:EXTRA)"
            ]
        );
        let o = run(
            text,
            &[("UWSGI_WORKERS", "3"), ("EXTRA", "--master --lazy")],
            &[],
        );
        let w = words(&o);
        assert_eq!(w[4], "3");
        assert_eq!(&w[7..], ["--master", "--lazy"]);
        if let Outcome::Runs(l) = &o {
            assert!(text[l.words[4].span.range()].contains("UWSGI_WORKERS"));
        }
    }

    #[test]
    fn unknowns_stay_unknown() {
        let text = "#!/bin/bash\nN=$(nproc)\n. /etc/profile.d/app.sh\nexec uwsgi --processes \"${N}\" --threads ${T:-4}\n";
        let w = words(&run(text, &[("T", "1")], &[]));
        assert!(w[2].starts_with("$(unknown:"), "{w:?}");
        // The sourced file may set T: not the default, not the env.
        assert!(w[4].starts_with("$(unknown:"), "{w:?}");
    }

    #[test]
    fn exec_all_args_and_branches() {
        let text = "#!/bin/sh\nif [ \"$1\" = web ]; then\n  echo web\nfi\ncat <<EOF\nexec \"$@\" not here\nEOF\nexec \"$@\"\n";
        assert_eq!(
            words(&run(text, &[], &["/start.sh", "a b"])),
            vec!["/start.sh", "a b"]
        );
        let branches = "#!/bin/bash\ncase \"$1\" in\nweb)\n  exec supervisord -c /a.conf\n  ;;\nworker)\n  exec celery worker\n  ;;\nesac\n";
        // The argument picks the branch; unknown, every branch may run.
        assert_eq!(
            words(&run(branches, &[], &["web"])),
            vec!["supervisord", "-c", "/a.conf"]
        );
        assert_eq!(
            words(&run(branches, &[], &["worker"])),
            vec!["celery", "worker"]
        );
        assert_eq!(run(branches, &[], &["beat"]), Outcome::Nothing);
        assert!(matches!(
            run(branches, &[], &[]),
            Outcome::Ambiguous(v) if v.len() == 2
        ));
        let one = "#!/bin/sh\nif [ -f /x ]; then\n  . /x\nfi\nexec /usr/bin/supervisord\n";
        assert_eq!(words(&run(one, &[], &[])), vec!["/usr/bin/supervisord"]);
        let bg = "#!/bin/sh\nnginx &\n./wait.sh db\nuwsgi --ini a.ini # start\n";
        assert_eq!(words(&run(bg, &[], &[])), vec!["uwsgi", "--ini", "a.ini"]);
        let found = "#!/bin/bash\n$(command -v uwsgi) --ini /app/u.ini\n";
        assert_eq!(
            words(&run(found, &[], &[])),
            vec!["uwsgi", "--ini", "/app/u.ini"]
        );
        let which = "#!/bin/sh\nexec \"$(which uwsgi)\" --ini a.ini\n";
        assert_eq!(
            words(&run(which, &[], &[])),
            vec!["uwsgi", "--ini", "a.ini"]
        );
        let none = "#!/bin/sh\n./wait-for-it.sh db:3306 -- echo up\npython run.py\n";
        assert_eq!(run(none, &[], &[]), Outcome::Nothing);
    }

    #[test]
    fn case_branches_follow_the_known_word() {
        // Alternatives, globs, quoted patterns, `(pattern)`, one line, the
        // default branch, and `shift` inside the branch that runs.
        let text = "#!/bin/sh\nset -e\ncmd=$1\nshift\ncase \"$cmd\" in\n  (web|simple)\n    exec uwsgi --ini /app/uwsgi.ini \"$@\"\n    ;;\n  \"work\"*) exec celery worker;;\n  run) shift; exec \"$@\" ;;\n  *)\n    exec \"$cmd\" \"$@\"\n    ;;\nesac\n";
        assert_eq!(
            words(&run(text, &[], &["simple", "--processes", "4"])),
            vec!["uwsgi", "--ini", "/app/uwsgi.ini", "--processes", "4"]
        );
        assert_eq!(
            words(&run(text, &[], &["workers"])),
            vec!["celery", "worker"]
        );
        assert_eq!(
            words(&run(text, &[], &["run", "x", "uwsgi", "--http", ":80"])),
            vec!["uwsgi", "--http", ":80"]
        );
        assert_eq!(words(&run(text, &[], &["bash"])), vec!["bash"]);
        let one = "case $MODE in web) exec uwsgi a.ini;; *) exec sleep 1;; esac\n";
        assert_eq!(
            words(&run(one, &[("MODE", "web")], &[])),
            vec!["uwsgi", "a.ini"]
        );
        // Nested: the inner `case` of a branch that does not run is skipped.
        let nested =
            "case $1 in\na) case $2 in x) exec uwsgi x.ini;; esac;;\nb) exec uwsgi b.ini;;\nesac\n";
        assert_eq!(
            words(&run(nested, &[], &["b", "x"])),
            vec!["uwsgi", "b.ini"]
        );
        assert_eq!(
            words(&run(nested, &[], &["a", "x"])),
            vec!["uwsgi", "x.ini"]
        );
        // A pattern only the running script knows: any branch may run.
        let unknown = "case $1 in\n$(date)) exec uwsgi a.ini;;\nb) exec uwsgi b.ini;;\nesac\n";
        assert!(matches!(
            run(unknown, &[], &["b"]),
            Outcome::Ambiguous(v) if v.len() == 2
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_shell_like_text(s in "[a-z$@*#{}()`'\"\\\n;&|<>=:+?%/ .é0-9-]{0,120}") {
            let script = parse(Path::new("/p/x.sh"), &s);
            let _ = script.outcome(&HashMap::new(), &[At::new("a b".to_string(), Span::default())]);
        }

        #[test]
        fn never_panics_on_bytes(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let s = String::from_utf8_lossy(&b);
            let script = parse(Path::new("/p/x.sh"), &s);
            let _ = script.outcome(&HashMap::new(), &[]);
        }
    }

    #[test]
    fn shebangs_and_wrappers() {
        assert!(has_shell_shebang(b"#!/usr/bin/env bash\n"));
        assert!(has_shell_shebang(b"#! /bin/sh -e\n"));
        assert!(!has_shell_shebang(b"#!/usr/bin/env python3\n"));
        let w: Vec<String> = ["tini", "--", "gosu", "app", "uwsgi", "--ini", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(strip_wrappers(&w)[0], "uwsgi");
        let w: Vec<String> = [
            "/wait-for-it.sh",
            "db:5432",
            "-t",
            "30",
            "--",
            "/run.sh",
            "a",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(strip_wrappers(&w), &w[5..]);
        // Without `--` it runs nothing after the wait.
        assert_eq!(strip_wrappers(&w[..4]), &w[..4]);
    }
}
