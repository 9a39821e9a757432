//! Suppression comments (own line only: uWSGI keeps inline comment text in values).
//!
//! ```ini
//! ; uwsgi-lint: ignore[UW302] batch jobs legitimately run for hours
//! harakiri-verbose = true
//! ; uwsgi-lint: ignore-file[UW601] strict breaks our placeholders
//! ```
//! `ignore[...]` covers the next option line, `ignore-file[...]` the whole file.
//! A reason is required (UW007 otherwise); one that suppressed nothing is UW008.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{self, Rule};
use crate::source::{FileId, SourceMap, Span};
use crate::uwsgi::syntax::{self, LineKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The option on this 1-based line.
    Line(usize),
    File,
}

#[derive(Debug, Clone)]
pub struct Suppression {
    pub file: FileId,
    pub span: Span,
    pub scope: Scope,
    pub codes: Vec<&'static str>,
    pub reason: String,
}

/// A comment that looks like a suppression but is not a valid one.
#[derive(Debug, Clone)]
pub struct Invalid {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// A parsed suppression comment: (file-wide, rule names, reason).
type Parsed = (bool, Vec<String>, String);

/// Parse one comment's text (after `;`/`#`). `None` if it is no suppression at all.
fn parse_comment(text: &str) -> Option<Result<Parsed, String>> {
    let rest = text.trim().strip_prefix("uwsgi-lint:")?.trim_start();
    let (file_wide, rest) = if let Some(r) = rest.strip_prefix("ignore-file[") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("ignore[") {
        (false, r)
    } else {
        return Some(Err(format!(
            "unrecognised suppression `{}`: write `uwsgi-lint: ignore[CODE] reason` or `uwsgi-lint: ignore-file[CODE] reason`",
            text.trim()
        )));
    };
    let Some((codes, reason)) = rest.split_once(']') else {
        return Some(Err("the suppression's `[` is never closed".into()));
    };
    let codes: Vec<String> = codes
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    Some(Ok((file_wide, codes, reason.trim().to_string())))
}

/// Find the suppressions of one ini file.
pub fn collect(sources: &SourceMap, file: FileId) -> (Vec<Suppression>, Vec<Invalid>) {
    let bytes = &sources.get(file).bytes;
    let (mut found, mut invalid) = (Vec::new(), Vec::new());
    // Every suppression comment holds this; most files have none, and
    // this runs at every keystroke.
    if memchr::memmem::find(bytes, b"uwsgi-lint:").is_none() {
        return (found, invalid);
    }
    let doc = syntax::parse(bytes);
    for (i, line) in doc.lines.iter().enumerate() {
        let LineKind::Comment { span, .. } = line.kind else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes[span.start + 1..span.end]).into_owned();
        let Some(parsed) = parse_comment(&text) else {
            continue;
        };
        let (file_wide, names, reason) = match parsed {
            Ok(p) => p,
            Err(message) => {
                invalid.push(Invalid {
                    file,
                    span,
                    message,
                });
                continue;
            }
        };
        let mut codes = Vec::new();
        for n in &names {
            match rules::find(n) {
                Some(r) => codes.push(r.code),
                None => invalid.push(Invalid {
                    file,
                    span,
                    message: format!("`{n}` is not a uwsgi-lint rule (see `uwsgi-lint rules`)"),
                }),
            }
        }
        if names.is_empty() {
            invalid.push(Invalid {
                file,
                span,
                message: "the suppression names no rule".into(),
            });
            continue;
        }
        if reason.is_empty() {
            invalid.push(Invalid {
                file,
                span,
                message:
                    "a suppression needs a reason after the `]`; it is not applied without one"
                        .into(),
            });
            continue;
        }
        let scope = if file_wide {
            Scope::File
        } else {
            // The next option line, skipping blanks and other comments.
            match doc.lines[i + 1..]
                .iter()
                .find(|l| matches!(l.kind, LineKind::Entry { .. } | LineKind::Section { .. }))
            {
                Some(l) if matches!(l.kind, LineKind::Entry { .. }) => {
                    Scope::Line(sources.get(file).line_col(l.content.start).line)
                }
                _ => {
                    invalid.push(Invalid {
                        file,
                        span,
                        message: "`ignore[...]` must stand right above the option it covers".into(),
                    });
                    continue;
                }
            }
        };
        if !codes.is_empty() {
            found.push(Suppression {
                file,
                span,
                scope,
                codes,
                reason,
            });
        }
    }
    (found, invalid)
}

fn rule(code: &str) -> &'static Rule {
    rules::find(code).expect("registered")
}

/// Drop suppressed diagnostics; add UW007 for invalid and UW008 for unused
/// suppressions (UW008 only for rules that ran: `selected`).
pub fn apply(
    sources: &SourceMap,
    files: &[FileId],
    diags: Vec<Diagnostic>,
    selected: &dyn Fn(&Rule) -> bool,
) -> Vec<Diagnostic> {
    let same_file = |a: FileId, b: FileId| a == b || sources.get(a).path == sources.get(b).path;
    let mut supps = Vec::new();
    let mut out = Vec::new();
    for &f in files {
        let (s, invalid) = collect(sources, f);
        supps.extend(s.into_iter().map(|s| (s, false)));
        let r = rule("UW007");
        if selected(r) {
            out.extend(
                invalid
                    .into_iter()
                    .map(|i| r.diag(i.file, i.span, i.message)),
            );
        }
    }
    for d in diags {
        let line = sources.get(d.file).line_col(d.span.start).line;
        let hit = supps.iter_mut().find(|(s, _)| {
            same_file(s.file, d.file)
                && s.codes.contains(&d.code)
                && match s.scope {
                    Scope::File => true,
                    Scope::Line(l) => l == line,
                }
        });
        match hit {
            Some((_, used)) => *used = true,
            None => out.push(d),
        }
    }
    let unused = rule("UW008");
    if selected(unused) {
        for (s, used) in supps {
            if !used && s.codes.iter().all(|c| selected(rule(c))) {
                let mut d = unused.diag(
                    s.file,
                    s.span,
                    format!(
                        "this suppression of {} suppressed nothing",
                        s.codes.join(", ")
                    ),
                );
                d.severity = Severity::Warning;
                d.help =
                    Some("remove it, or move it right above the option it is meant for".into());
                out.push(d);
            }
        }
    }
    out
}

/// What `--add-suppressions` writes: the new content of each file, the
/// findings it covers, and those it leaves alone with the reason.
#[derive(Debug, Default)]
pub struct Additions {
    pub files: Vec<Commented>,
    pub covered: usize,
    pub skipped: Vec<(Diagnostic, String)>,
}

/// A file with the comments added: written by the caller (through the
/// atomic writer of `--fix`; this module stays below `fix` in the pipeline).
#[derive(Debug, Clone)]
pub struct Commented {
    pub path: std::path::PathBuf,
    pub name: String,
    pub original: Vec<u8>,
    pub fixed: Vec<u8>,
    /// Comments added.
    pub applied: usize,
}

/// One comment to insert before a line: its indentation and line break,
/// whether it is file-wide, and the rules it names.
type Insert = (
    String,
    &'static str,
    bool,
    std::collections::BTreeSet<&'static str>,
);

/// Per file on disk: display name, bytes, comment marker, inserts by offset.
type PerFile = (
    String,
    Vec<u8>,
    u8,
    std::collections::BTreeMap<usize, Insert>,
);

/// Plan a suppression comment above every finding located in a uWSGI ini or
/// YAML config: `ignore[CODES] reason` above the option line it is on, or
/// `ignore-file[CODES] reason` when it points at no option (a section
/// header, a file-wide finding). Findings elsewhere (Nginx, containers) and
/// those about suppression comments themselves are returned as skipped.
pub fn additions(
    sources: &SourceMap,
    diags: &[Diagnostic],
    reason: &str,
) -> Result<Additions, String> {
    let reason = reason.trim();
    if !reason.chars().any(char::is_alphanumeric) {
        return Err(format!(
            "--add-suppressions needs a reason (words, e.g. \"adopted before review\"); `{reason}` is none: it is written into every comment"
        ));
    }
    if reason.contains(['\n', '\r']) {
        return Err("the reason of --add-suppressions must be one line".into());
    }
    let mut out = Additions::default();
    let mut per_file: std::collections::BTreeMap<std::path::PathBuf, PerFile> =
        std::collections::BTreeMap::new();
    for d in diags {
        if matches!(d.code, "UW007" | "UW008") {
            out.skipped.push((
                d.clone(),
                "it is about a suppression comment: fix or remove that comment".into(),
            ));
            continue;
        }
        let src = sources.get(d.file);
        let Some(path) = src.path.clone() else {
            out.skipped
                .push((d.clone(), "not read from a file on disk".into()));
            continue;
        };
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let marker = if ext == "ini" || crate::discover::is_uwsgi_ini(&src.bytes) {
            b';'
        } else if matches!(ext, "yaml" | "yml") && crate::discover::is_uwsgi_yaml(&src.bytes) {
            b'#'
        } else {
            out.skipped.push((
                d.clone(),
                "not in a uWSGI config: suppression comments are read only in uWSGI ini and YAML files (use `ignore` or `[per-file-ignores]` in uwsgi-lint.toml)".into(),
            ));
            continue;
        };
        let entry = per_file.entry(path).or_insert_with(|| {
            (
                src.name.clone(),
                src.bytes.clone(),
                marker,
                Default::default(),
            )
        });
        let doc = syntax::parse(&entry.1);
        let at = d.span.start.min(entry.1.len());
        let i = doc
            .lines
            .partition_point(|l| l.newline.map_or(l.span.end, |n| n.end) <= at)
            .min(doc.lines.len().saturating_sub(1));
        let Some(line) = doc.lines.get(i) else {
            // An empty file: a file-wide comment at its start.
            let e = entry
                .3
                .entry(0)
                .or_insert((String::new(), "\n", true, Default::default()));
            e.3.insert(d.code);
            out.covered += 1;
            continue;
        };
        let bytes = &entry.1;
        let indent = String::from_utf8_lossy(
            &bytes[line.span.start..line.content.start.max(line.span.start)],
        )
        .into_owned();
        let eol = if line.span.end > line.span.start && bytes[line.span.end - 1] == b'\r' {
            "\r\n"
        } else {
            "\n"
        };
        let file_wide = !matches!(line.kind, LineKind::Entry { .. });
        let e =
            entry
                .3
                .entry(line.span.start)
                .or_insert((indent, eol, file_wide, Default::default()));
        e.3.insert(d.code);
        out.covered += 1;
    }
    for (path, (name, original, marker, inserts)) in per_file {
        if inserts.is_empty() {
            continue;
        }
        let mut fixed = original.clone();
        for (&at, (indent, eol, file_wide, codes)) in inserts.iter().rev() {
            let kind = if *file_wide { "ignore-file" } else { "ignore" };
            let codes: Vec<&str> = codes.iter().copied().collect();
            let comment = format!(
                "{indent}{} uwsgi-lint: {kind}[{}] {reason}{eol}",
                marker as char,
                codes.join(", ")
            );
            // A file whose last line has no line break: the comment still
            // goes before it, so only what follows the insertion matters.
            fixed.splice(at..at, comment.bytes());
        }
        out.files.push(Commented {
            path,
            name,
            original,
            fixed,
            applied: inserts.len(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert!(parse_comment(" just a comment").is_none());
        let Some(Ok((file, codes, reason))) =
            parse_comment(" uwsgi-lint: ignore[UW302, no-harakiri] long jobs")
        else {
            panic!()
        };
        assert!(!file);
        assert_eq!(codes, vec!["UW302", "no-harakiri"]);
        assert_eq!(reason, "long jobs");
        assert!(
            matches!(parse_comment(" uwsgi-lint: ignore-file[UW601]"), Some(Ok((true, _, r))) if r.is_empty())
        );
        assert!(matches!(
            parse_comment(" uwsgi-lint: disable UW601"),
            Some(Err(_))
        ));
    }
}
