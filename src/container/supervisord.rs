//! supervisord configurations (supervisord.org, "Configuration File"): what
//! a process manager inside the image starts. A Python ConfigParser file:
//! `[section]` headers, `key = value` or `key: value`, full-line `;`/`#`
//! comments, inline comments after whitespace, indented continuation lines.
//! Read here: `[program:x]` (`command`, `environment`, `stopsignal`,
//! `stopwaitsecs`), `[supervisord] environment` and `[include] files`.
//! `%(ENV_X)s` and the other expansions are applied at link time, when the
//! container's environment is known.

use std::path::{Path, PathBuf};

use super::At;
use crate::source::Span;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Supervisord {
    pub path: PathBuf,
    pub programs: Vec<Program>,
    /// `[include] files`: space-separated globs, relative ones from the
    /// file's own directory.
    pub includes: Vec<At<String>>,
    /// `[supervisord] environment`, given to every program.
    pub environment: Option<At<String>>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Program {
    pub name: String,
    /// The section header.
    pub span: Span,
    pub command: Option<At<String>>,
    pub environment: Option<At<String>>,
    pub stopsignal: Option<At<String>>,
    pub stopwaitsecs: Option<At<String>>,
    /// `user`: the program runs as this user.
    pub user: Option<At<String>>,
    /// `numprocs` > 1 starts several copies (`%(process_num)s` differs).
    pub numprocs: Option<At<String>>,
}

/// Does this text look like a supervisord configuration: a section only
/// supervisord has (`[program:x]`, `[supervisord]`, `[eventlistener:x]`,
/// `[group:x]`) at the start of a line?
pub fn looks_like(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_end();
        l.starts_with("[program:")
            || l == "[supervisord]"
            || l.starts_with("[eventlistener:")
            || l.starts_with("[fcgi-program:")
    })
}

/// Strip an inline comment: `;` or `#` after whitespace (a `;` inside
/// `nginx -g "daemon off;"` stays).
fn strip_inline_comment(v: &str) -> &str {
    let b = v.as_bytes();
    for i in 1..b.len() {
        if (b[i] == b';' || b[i] == b'#') && b[i - 1].is_ascii_whitespace() {
            return v[..i].trim_end();
        }
    }
    v
}

pub fn parse(path: &Path, text: &str) -> Supervisord {
    let mut out = Supervisord {
        path: path.to_path_buf(),
        ..Supervisord::default()
    };
    // (section, key, value with its span), continuation lines joined.
    let mut entries: Vec<(String, Span, String, At<String>)> = Vec::new();
    let mut section: Option<(String, Span)> = None;
    let mut pos = 0usize;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim();
        if trimmed.is_empty() || trimmed.starts_with(';') || trimmed.starts_with('#') {
            continue;
        }
        let indented = body.starts_with([' ', '\t']);
        if indented && let Some((_, _, _, v)) = entries.last_mut() {
            // A continuation of the previous value.
            let part = strip_inline_comment(trimmed);
            v.value.push('\n');
            v.value.push_str(part);
            let lead = body.len() - body.trim_start().len();
            v.span.end = start + lead + part.len();
            continue;
        }
        if trimmed.starts_with('[') && trimmed.ends_with(']') {
            let lead = body.len() - body.trim_start().len();
            section = Some((
                trimmed[1..trimmed.len() - 1].to_string(),
                Span::new(start + lead, start + lead + trimmed.len()),
            ));
            continue;
        }
        let Some((sec, sec_span)) = &section else {
            continue;
        };
        let Some(at) = body.find(['=', ':']) else {
            continue;
        };
        let key = body[..at].trim().to_ascii_lowercase();
        let raw = &body[at + 1..];
        let value = strip_inline_comment(raw.trim());
        let lead = raw.len() - raw.trim_start().len();
        let vstart = start + at + 1 + lead;
        entries.push((
            sec.clone(),
            *sec_span,
            key,
            At::new(value.to_string(), Span::new(vstart, vstart + value.len())),
        ));
    }
    for (sec, sec_span, key, value) in entries {
        if let Some(name) = sec.strip_prefix("program:") {
            let p = match out.programs.iter_mut().find(|p| p.name == name) {
                Some(p) => p,
                None => {
                    out.programs.push(Program {
                        name: name.to_string(),
                        span: sec_span,
                        ..Program::default()
                    });
                    out.programs.last_mut().expect("just pushed")
                }
            };
            match key.as_str() {
                "command" => p.command = Some(value),
                "environment" => p.environment = Some(value),
                "stopsignal" => p.stopsignal = Some(value),
                "stopwaitsecs" => p.stopwaitsecs = Some(value),
                "numprocs" => p.numprocs = Some(value),
                "user" => p.user = Some(value),
                _ => {}
            }
        } else if sec == "include" && key == "files" {
            let mut off = 0;
            for w in value.value.split_whitespace() {
                let at = value.value[off..].find(w).map_or(off, |i| off + i);
                off = at + w.len();
                let s = value.span.start + at;
                out.includes
                    .push(At::new(w.to_string(), Span::new(s, s + w.len())));
            }
        } else if sec == "supervisord" && key == "environment" {
            out.environment = Some(value);
        }
    }
    out
}

/// `KEY="value",KEY2=value2` (`dict_of_key_value_pairs`: shell-like
/// quoting, pairs separated by commas).
pub fn environment_pairs(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut key = String::new();
    let mut val = String::new();
    let mut in_val = false;
    let mut chars = s.chars().peekable();
    let mut push = |k: &mut String, v: &mut String| {
        let k = std::mem::take(k).trim().to_string();
        if !k.is_empty() {
            out.push((k, std::mem::take(v).trim().to_string()));
        }
        v.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' if in_val => {
                for q in chars.by_ref() {
                    if q == c {
                        break;
                    }
                    val.push(q);
                }
            }
            '=' if !in_val => in_val = true,
            ',' => {
                push(&mut key, &mut val);
                in_val = false;
            }
            '\n' => {}
            _ if in_val => val.push(c),
            _ => key.push(c),
        }
    }
    push(&mut key, &mut val);
    out
}

/// A value after supervisord's expansions: `%(ENV_X)s` from `env`,
/// `%(here)s` (the file's directory in the container, when known),
/// `%(program_name)s`/`%(group_name)s`, `%(process_num)s` (0), `%%`. An
/// expansion not known here becomes [`Piece::Unknown`].
pub fn expand(
    value: &str,
    env: &dyn Fn(&str) -> Option<String>,
    here: Option<&str>,
    program: &str,
) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut lit = String::new();
    let mut rest = value;
    while let Some(i) = rest.find('%') {
        lit.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('%') {
            lit.push('%');
            rest = r;
            continue;
        }
        let Some(close) = after.strip_prefix('(').and_then(|a| a.find(')')) else {
            lit.push('%');
            rest = after;
            continue;
        };
        let name = &after[1..close + 1];
        // The conversion letter after `)`: `s`, `d` …
        let spec = &after[close + 2..];
        let flags = spec
            .find(|c: char| !"-#0 +.0123456789".contains(c))
            .unwrap_or(spec.len());
        let conv = spec[flags..]
            .chars()
            .next()
            .filter(char::is_ascii_alphabetic)
            .map_or(0, |_| 1);
        rest = &spec[flags + conv..];
        let known = if let Some(var) = name.strip_prefix("ENV_") {
            env(var)
        } else {
            match name {
                "here" => here.map(str::to_string),
                "program_name" | "group_name" => Some(program.to_string()),
                "process_num" => Some("0".to_string()),
                _ => None,
            }
        };
        match known {
            Some(v) => lit.push_str(&v),
            None => {
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                out.push(Piece::Unknown(format!("%({name})")));
            }
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    out
}

/// Part of a value: known text, or something only known at runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Lit(String),
    /// What was written (`%(ENV_WORKERS)`, `$WORKERS`, `$(nproc)`).
    Unknown(String),
}

/// Pieces as text, unknown parts written as uWSGI's own `$(…)` reference
/// to a variable no environment sets, so that the option they land in is
/// unknown to the resolver and no rule computes with a guess.
pub fn pieces_text(pieces: &[Piece]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(s) => s.clone(),
            Piece::Unknown(what) => unknown_marker(what),
        })
        .collect()
}

/// The text standing for an unknown part (see [`pieces_text`]): only
/// characters no uWSGI expansion (`$()`, `@()`, `%()`) reads inside.
pub fn unknown_marker(what: &str) -> String {
    let name: String = what
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.:/".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let name = name.trim_matches('_');
    format!(
        "{}{})",
        crate::uwsgi::resolve::UNKNOWN_WORD,
        if name.is_empty() {
            "runtime_value"
        } else {
            name
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "[supervisord]\nnodaemon=true\nenvironment=A=\"1\",B=\"x,y\"\n\n[include]\nfiles = conf.d/*.conf /etc/supervisor/extra.conf\n\n[program:uwsgi]\ncommand=/usr/local/bin/uwsgi --ini /etc/uwsgi/app.ini\n  --processes %(ENV_WORKERS)s ; comment\nstopsignal=QUIT\nstopwaitsecs = 20\n\n[program:nginx]\ncommand=/usr/sbin/nginx -g \"daemon off;\"\n";

    #[test]
    fn reads_programs_includes_and_continuations() {
        let s = parse(Path::new("/p/supervisord.conf"), CONF);
        assert_eq!(s.programs.len(), 2);
        let u = &s.programs[0];
        let cmd = u.command.as_ref().unwrap();
        assert_eq!(
            cmd.value,
            "/usr/local/bin/uwsgi --ini /etc/uwsgi/app.ini\n--processes %(ENV_WORKERS)s"
        );
        assert!(CONF[cmd.span.range()].starts_with("/usr/local/bin/uwsgi"));
        assert!(CONF[cmd.span.range()].ends_with("%(ENV_WORKERS)s"));
        assert_eq!(u.stopsignal.as_ref().unwrap().value, "QUIT");
        assert_eq!(u.stopwaitsecs.as_ref().unwrap().value, "20");
        assert_eq!(
            s.programs[1].command.as_ref().unwrap().value,
            "/usr/sbin/nginx -g \"daemon off;\""
        );
        let inc: Vec<&str> = s.includes.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(inc, vec!["conf.d/*.conf", "/etc/supervisor/extra.conf"]);
        assert_eq!(
            &CONF[s.includes[1].span.range()],
            "/etc/supervisor/extra.conf"
        );
        assert_eq!(
            environment_pairs(&s.environment.unwrap().value),
            vec![("A".into(), "1".into()), ("B".into(), "x,y".into())]
        );
        assert!(looks_like(CONF));
        assert!(!looks_like("[uwsgi]\nprocesses = 4\n"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[\\[\\]a-z:=;# \n%()_A-Z\"',é.-]{0,160}") {
            let conf = parse(Path::new("/p/s.conf"), &s);
            for p in &conf.programs {
                if let Some(c) = &p.command {
                    let _ = pieces_text(&expand(&c.value, &|_| None, Some("/etc"), &p.name));
                }
                if let Some(e) = &p.environment {
                    let _ = environment_pairs(&e.value);
                }
            }
            let _ = looks_like(&s);
        }
    }

    #[test]
    fn expansions_known_and_unknown() {
        let env = |k: &str| (k == "PORT").then(|| "8000".to_string());
        let p = expand(
            "--http :%(ENV_PORT)s --procs %(ENV_N)s %%",
            &env,
            None,
            "web",
        );
        assert_eq!(
            p,
            vec![
                Piece::Lit("--http :8000 --procs ".into()),
                Piece::Unknown("%(ENV_N)".into()),
                Piece::Lit(" %".into())
            ]
        );
        assert_eq!(
            pieces_text(&expand(
                "%(program_name)s-%(process_num)02d",
                &env,
                None,
                "w"
            )),
            "w-0"
        );
    }
}
