//! UW1xx: uWSGI option values, judged as uWSGI's own parsers read them.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::rules::{IniContext, Rule};
use crate::uwsgi::options::{OptionDef, Unit, ValueKind, catalogue};
use crate::uwsgi::resolve::{Entry, ViaKind};
use crate::uwsgi::values::{NumericRead, read_numeric};

/// Levenshtein distance, bounded use (option names are short).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest real option: the dashed spelling first, then edit distance ≤ 2.
fn suggestion(key: &str) -> Option<(&'static str, bool)> {
    let dashed = key.replace('_', "-").to_ascii_lowercase();
    if let Some(d) = catalogue().get(&dashed).filter(|d| d.in_build) {
        return Some((d.name, true));
    }
    if key.len() < 4 {
        return None;
    }
    catalogue()
        .iter()
        .filter(|d| d.in_build)
        .map(|d| (distance(&dashed, d.name), d.name))
        .filter(|(dist, _)| *dist <= 2)
        .min()
        .map(|(_, n)| (n, false))
}

/// Is `key` referenced as `%(key)` (or inside a `%(... key ...)` expression)?
fn used_as_placeholder(ctx: &IniContext, key: &str) -> bool {
    ctx.resolved.entries.iter().any(|e| {
        e.raw_value.as_deref().is_some_and(|v| {
            let v = String::from_utf8_lossy(v);
            v.match_indices("%(").any(|(i, _)| {
                let inner = &v[i + 2..];
                let inner = &inner[..inner.find(')').unwrap_or(inner.len())];
                inner.split(' ').any(|t| t == key)
            })
        })
    })
}

pub fn unknown_option(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for e in &ctx.resolved.entries {
        let Some((file, key_span, _)) = ctx.spans(e) else {
            continue;
        };
        let key = e.key_str();
        if e.def().is_some()
            || e.placeholder_only
            || key.is_empty()
            || e.origin
                .via
                .iter()
                .any(|v| matches!(v.what, ViaKind::Set { .. }))
            || ctx.resolved.declared.contains(&key)
            || used_as_placeholder(ctx, &key)
        {
            continue;
        }
        let mut d = rule.diag(file, key_span, "");
        match suggestion(&key) {
            Some((name, exact)) => {
                d.message = format!(
                    "`{key}` is not a uWSGI option: uWSGI ignores it silently, so `{name}` is not set"
                );
                d.help = Some(if exact {
                    format!("uWSGI does not turn `_` into `-` in ini files; write `{name}`")
                } else {
                    format!("did you mean `{name}`?")
                });
                d.fix = Some(Fix {
                    applicability: if exact {
                        Applicability::Safe
                    } else {
                        Applicability::Unsafe
                    },
                    edits: vec![Edit {
                        file,
                        span: key_span,
                        content: name.to_string(),
                    }],
                });
            }
            None => {
                d.severity = Severity::Warning;
                d.message = format!(
                    "`{key}` is not a uWSGI option and is not used as a `%({key})` placeholder: uWSGI ignores it"
                );
                d.help = Some(
                    "remove it, or enable `strict = true` so uWSGI refuses unknown keys".into(),
                );
            }
        }
        out.push(d);
    }
}

/// A numeric entry from a file, with what uWSGI reads from it.
fn numeric_entries<'a>(
    ctx: &'a IniContext,
) -> impl Iterator<Item = (&'a Entry, &'static OptionDef, String)> + 'a {
    ctx.resolved.entries.iter().filter_map(|e| {
        let def = e.def()?;
        if !def.kind.is_numeric() || !e.unknown.is_empty() || ctx.spans(e).is_none() {
            return None;
        }
        Some((
            e,
            def,
            String::from_utf8_lossy(e.value.as_deref()?).into_owned(),
        ))
    })
}

/// Multiplier of a size suffix in bytes (`k`, `MB`, `GiB` ...), case-insensitive.
fn size_suffix(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let s = s.strip_suffix('b').unwrap_or(&s);
    let s = s.strip_suffix('i').unwrap_or(s);
    match s {
        "k" => Some(1 << 10),
        "m" => Some(1 << 20),
        "g" => Some(1 << 30),
        "t" => Some(1 << 40),
        _ => None,
    }
}

fn unit_word(def: &OptionDef) -> &'static str {
    match def.unit() {
        Some(Unit::MiB) => "MiB",
        Some(Unit::Bytes) => "bytes",
        Some(Unit::Seconds) => "seconds",
        Some(Unit::Requests) => "requests",
        _ => "",
    }
}

fn shown(def: &OptionDef, value: u64) -> String {
    match def.kind {
        ValueKind::Megabytes => format!("{} MiB", value >> 20),
        _ => match unit_word(def) {
            "" => value.to_string(),
            u => format!("{value} {u}"),
        },
    }
}

/// What a bad reading does in production, for the common options.
fn consequence(def: &OptionDef, value: u64) -> String {
    match (def.name, value) {
        ("processes" | "workers", 0) => "no workers: requests hang".into(),
        ("threads", 0) => "a single thread per worker".into(),
        ("harakiri", 0) => "no request timeout at all".into(),
        ("buffer-size", v) if v < 1024 => {
            "every request is rejected with \"invalid request block size\"".into()
        }
        ("reload-on-rss" | "reload-on-as", v) if v < 64 << 20 && v > 0 => {
            "every worker is recycled after almost every request".into()
        }
        ("evil-reload-on-rss" | "evil-reload-on-as", v) if v < 64 << 20 && v > 0 => {
            "workers are SIGKILLed every few seconds".into()
        }
        ("limit-as", v) if v < 64 << 20 => "uWSGI cannot even start (mmap fails)".into(),
        (_, 0) => "0, which turns it off".into(),
        _ => String::new(),
    }
}

/// ` — <consequence>` for a message, or nothing when there is none to tell.
fn effect_suffix(def: &OptionDef, value: u64) -> String {
    match consequence(def, value) {
        e if e.is_empty() => e,
        e => format!(" — {e}"),
    }
}

pub fn unit_suffix_ignored(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, def, text) in numeric_entries(ctx) {
        let Some(n) = read_numeric(def.kind, Some(text.as_bytes())) else {
            continue;
        };
        if n.read != NumericRead::Prefix {
            continue;
        }
        let (number, rest) = text.split_at(n.stop);
        let rest_t = rest.trim();
        let decimal = rest_t.starts_with('.') && rest_t[1..].chars().all(|c| c.is_ascii_digit());
        let suffix = size_suffix(rest_t);
        if suffix.is_none() && !decimal {
            continue;
        }
        let (file, _, value_span) = ctx.spans(e).unwrap();
        let key = e.key_str();
        let mut d = rule.diag(
            file,
            value_span,
            format!(
                "`{key} = {text}` is read as {}{}: uWSGI ignores {}",
                shown(def, n.value),
                effect_suffix(def, n.value),
                if decimal {
                    "the decimal part"
                } else {
                    "unit suffixes"
                }
            ),
        );
        // The intended value in the option's own unit, when it is exact.
        let base: u64 = number.trim().parse().unwrap_or(0);
        let intended = suffix.and_then(|mult| {
            let bytes = base.checked_mul(mult)?;
            match (def.kind, def.unit()) {
                (ValueKind::Megabytes, _) if bytes % (1 << 20) == 0 => Some(bytes >> 20),
                (ValueKind::U16, _) => Some(bytes.min(65535)),
                (_, Some(Unit::Bytes)) => Some(bytes),
                _ => None,
            }
        });
        match intended {
            Some(v) => {
                d.help = Some(format!(
                    "`{key}` takes {}: write `{key} = {v}`",
                    unit_word(def)
                ));
                d.fix = Some(Fix {
                    applicability: Applicability::Safe,
                    edits: vec![Edit {
                        file,
                        span: value_span,
                        content: v.to_string(),
                    }],
                });
            }
            None => {
                d.help = Some(format!(
                    "`{key}` takes a whole number of {}",
                    match unit_word(def) {
                        "" => "units",
                        u => u,
                    }
                ))
            }
        }
        out.push(d);
    }
}

pub fn non_numeric_value(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, def, text) in numeric_entries(ctx) {
        let Some(n) = read_numeric(def.kind, Some(text.as_bytes())) else {
            continue;
        };
        let rest = text[n.stop..].trim_start();
        let flagged = match n.read {
            NumericRead::NoDigits => true,
            // A prefix followed by something that is neither a unit suffix nor
            // a decimal (UW102) nor a comment (UW104): `0x10`, `4abc`.
            NumericRead::Prefix => {
                size_suffix(rest).is_none()
                    && !rest.starts_with('.')
                    && !rest.starts_with(';')
                    && !rest.starts_with('#')
            }
            NumericRead::Exact => false,
        };
        if !flagged {
            continue;
        }
        let (file, _, value_span) = ctx.spans(e).unwrap();
        let key = e.key_str();
        let shown_text = if text.is_empty() {
            format!("a bare `{key}`")
        } else {
            format!("`{key} = {text}`")
        };
        let mut d = rule.diag(
            file,
            value_span,
            format!(
                "{shown_text} is read as {}{}",
                shown(def, n.value),
                effect_suffix(def, n.value)
            ),
        );
        let unquoted = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .or_else(|| text.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')));
        match unquoted {
            Some(inner) if !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) => {
                d.help = Some(format!(
                    "uWSGI keeps quotes in values: write `{key} = {inner}`"
                ));
                d.fix = Some(Fix {
                    applicability: Applicability::Safe,
                    edits: vec![Edit {
                        file,
                        span: value_span,
                        content: inner.to_string(),
                    }],
                });
            }
            _ => {
                d.help = Some(format!(
                    "`{key}` is read with C `atoi`/`strtoul`: only leading decimal digits count"
                ))
            }
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(suggestion("reload_on_rss"), Some(("reload-on-rss", true)));
        assert_eq!(suggestion("max-request"), Some(("max-requests", false)));
        assert_eq!(suggestion("project_name"), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suffixes() {
        assert_eq!(size_suffix("G"), Some(1 << 30));
        assert_eq!(size_suffix("MiB"), Some(1 << 20));
        assert_eq!(size_suffix("kb"), Some(1 << 10));
        assert_eq!(size_suffix("x"), None);
    }
}
