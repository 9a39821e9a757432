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
    let doc = syntax::parse(bytes);
    let (mut found, mut invalid) = (Vec::new(), Vec::new());
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
