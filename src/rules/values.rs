//! UW1xx: uWSGI option values, judged as uWSGI's own parsers read them.

use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::model::IniContext;
use crate::rules::{Rule, RuleContext};
use crate::source::{FileId, Span};
use crate::uwsgi::options::{OptionDef, Unit, ValueKind, catalogue};
use crate::uwsgi::resolve::{Entry, ViaKind};
pub(crate) use crate::uwsgi::suggest::suggestion;
use crate::uwsgi::values::{NumericRead, read_flag, read_numeric};

/// Every name referenced as `%(key)` (or inside a `%(... key ...)`
/// expression) or tested by `if-opt`/`if-not-opt` (which read collected
/// keys), gathered once per config.
fn used_names(ctx: &RuleContext) -> std::collections::HashSet<String> {
    let mut names = std::collections::HashSet::new();
    for e in &ctx.resolved.entries {
        let Some(v) = e.raw_value() else {
            continue;
        };
        let logic = matches!(e.key.as_slice(), b"if-opt" | b"if-not-opt");
        // Most values name no option: only those are decoded.
        if !logic && !crate::uwsgi::syntax::has_reference(v, b'%') {
            continue;
        }
        let v = String::from_utf8_lossy(v);
        if logic {
            names.extend(v.split('=').next().map(|k| k.trim().to_string()));
        }
        for (i, _) in v.match_indices("%(") {
            let inner = &v[i + 2..];
            let inner = &inner[..inner.find(')').unwrap_or(inner.len())];
            names.extend(inner.split(' ').map(str::to_string));
        }
    }
    names
}

pub fn unknown_option(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let used = used_names(ctx);
    unknown_env_options(ctx, rule, &used, out);
    // A file this config includes could not be read: it may use any key as
    // a `%(placeholder)`, so an unused key is not known to be unused.
    let unread_include = ctx.resolved.events.iter().any(|ev| {
        ev.kind == crate::uwsgi::resolve::EventKind::IncludeNotFound
            || (ev.kind == crate::uwsgi::resolve::EventKind::RuntimeValue
                && ["ini", "include", "inherit", "yaml", "json", "xml"]
                    .iter()
                    .any(|k| ev.message.starts_with(&format!("`{k} "))))
    });
    let declared: std::collections::HashSet<&String> = ctx.resolved.declared.iter().collect();
    let mut suggestions = std::collections::HashMap::new();
    for e in &ctx.resolved.entries {
        // Known options first: nearly every entry is one.
        if e.def().is_some() || e.placeholder_only {
            continue;
        }
        let Some((file, key_span, _)) = ctx.spans(e) else {
            continue;
        };
        let key = e.key_str();
        if key.is_empty()
            || e.origin
                .via
                .iter()
                .any(|v| matches!(v.what, ViaKind::Set { .. }))
            || declared.contains(&key)
            || used.contains(&key)
        {
            continue;
        }
        let suggested = *suggestions
            .entry(key.clone())
            .or_insert_with(|| suggestion(&key));
        if suggested.is_none() && unread_include {
            continue;
        }
        let mut d = rule.diag(file, key_span, "");
        match suggested {
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

/// `UWSGI_*` variables of the container that name no option: uWSGI turns
/// every one into an option and silently ignores the unknown ones.
fn unknown_env_options(
    ctx: &RuleContext,
    rule: &Rule,
    used: &std::collections::HashSet<String>,
    out: &mut Vec<Diagnostic>,
) {
    let Some(dep) = ctx.deployment else { return };
    for e in &ctx.resolved.entries {
        let crate::uwsgi::resolve::Layer::Env { var } = &e.origin.layer else {
            continue;
        };
        if e.def().is_some() || used.contains(&e.key_str()) {
            continue;
        }
        let Some(env) = dep.env.iter().find(|v| &v.name == var) else {
            continue;
        };
        let Some((file, span)) = ctx.project.place(&env.place) else {
            continue;
        };
        let key = e.key_str();
        let mut d = rule.diag(
            file,
            span,
            format!("`{var}` is read by uWSGI as the option `{key}`, which does not exist: uWSGI ignores it silently"),
        );
        if let Some((name, _)) = suggestion(&key) {
            d.help = Some(format!(
                "did you mean `UWSGI_{}`?",
                name.replace('-', "_").to_ascii_uppercase()
            ));
        } else {
            d.severity = Severity::Warning;
            d.help =
                Some("rename or remove it; under `strict = true` it stops uWSGI at startup".into());
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
        ("worker-reload-mercy", 0) => {
            "a worker being reloaded or recycled gets no time to finish its request".into()
        }
        (_, 0) => "0, which turns it off".into(),
        _ => String::new(),
    }
}

/// ` — <consequence>` for a message, or nothing when there is none to tell.
pub(crate) fn effect_suffix(def: &OptionDef, value: u64) -> String {
    match consequence(def, value) {
        e if e.is_empty() => e,
        e => format!(" — {e}"),
    }
}

pub fn unit_suffix_ignored(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, def, text) in numeric_entries(ctx) {
        let Some(n) = read_numeric(def.kind, Some(text.as_bytes())) else {
            continue;
        };
        if n.read != NumericRead::Prefix {
            continue;
        }
        let (number, rest) = text.split_at(n.stop);
        let rest_t = rest.trim();
        // `1.5G`: a decimal part, then maybe a unit suffix (both ignored).
        let (fraction, after) = match rest_t.strip_prefix('.') {
            Some(r) => {
                let digits = r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                (Some(&r[..digits]), r[digits..].trim())
            }
            None => (None, rest_t),
        };
        let decimal = fraction.is_some_and(|f| !f.is_empty());
        let suffix = if after.is_empty() {
            None
        } else {
            match size_suffix(after) {
                Some(m) => Some(m),
                None => continue,
            }
        };
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
                def.shown(n.value),
                effect_suffix(def, n.value),
                match (decimal, suffix.is_some()) {
                    (true, true) => "the decimal part and unit suffixes",
                    (true, false) => "the decimal part",
                    _ => "unit suffixes",
                }
            ),
        );
        // The intended value in the option's own unit, when it is exact.
        let base: u64 = number.trim().parse().unwrap_or(0);
        let frac = fraction.unwrap_or("");
        let intended = suffix.and_then(|mult| {
            // `1.5G` = 1536 MiB: the fraction scaled by the suffix, when exact.
            let scale = 10u64.checked_pow(u32::try_from(frac.len()).ok()?)?;
            let whole: u64 = format!("{base}{frac}").parse().ok()?;
            let scaled = whole.checked_mul(mult)?;
            if scaled % scale != 0 {
                return None;
            }
            let bytes = scaled / scale;
            match (def.kind, def.unit()) {
                (ValueKind::Megabytes, _) if bytes % (1 << 20) == 0 => Some(bytes >> 20),
                (ValueKind::U16, _) => Some(bytes.min(65535)),
                (_, Some(Unit::Bytes)) => Some(bytes),
                _ => None,
            }
        });
        // `reload-on-rss = 512M` reads 512 MiB: what was meant, only fragile.
        let same = intended.is_some_and(|v| match def.kind {
            ValueKind::Megabytes => n.value >> 20 == v,
            _ => n.value == v,
        });
        if same {
            d.severity = Severity::Warning;
            d.message = format!(
                "`{key} = {text}` is read as {} only because uWSGI ignores the suffix: the option is in {} already",
                def.shown(n.value),
                def.unit_word()
            );
        }
        match intended {
            Some(v) => {
                d.help = Some(format!(
                    "`{key}` takes {}: write `{key} = {v}`",
                    def.unit_word()
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
                    match def.unit_word() {
                        "" => "units",
                        u => u,
                    }
                ))
            }
        }
        out.push(d);
    }
}

pub fn non_numeric_value(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, def, text) in numeric_entries(ctx) {
        if def.name == "cheaper" {
            continue; // UW116 explains what a non-numeric `cheaper` does
        }
        if def.is_immediate() && ["$(", "%(", "@("].iter().any(|p| text.contains(p)) {
            continue; // UW109 explains the root cause
        }
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
                def.shown(n.value),
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

// ---- UW104–UW117 ----------------------------------------------------------

/// Where an inline comment starts in `value`: `;` or `#` after a blank.
fn inline_comment(b: &[u8]) -> Option<usize> {
    (1..b.len())
        .find(|&i| (b[i] == b';' || b[i] == b'#') && (b[i - 1] == b' ' || b[i - 1] == b'\t'))
}

/// Options whose values are commands or templates, where `;`, `#` and
/// quotes belong to the text (a shell or a router reads them).
fn is_command_like(name: &str) -> bool {
    [
        "exec-",
        "attach-",
        "smart-attach",
        "hook-",
        "cron",
        "legion",
        "route",
        "log-format",
        "logformat",
        "unique-cron",
        "spooler-",
        "mule",
        "farm",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        || name.contains("-route")
}

/// An argument of a command line: the shell or the manifest's syntax has
/// already taken its quotes and comments, so its text is no ini value.
fn from_command_line(e: &Entry) -> bool {
    matches!(e.origin.layer, crate::uwsgi::resolve::Layer::Cli { .. })
}

pub fn inline_comment_rule(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, file, _, value_span) in ctx.file_entries() {
        if from_command_line(e) {
            continue;
        }
        let Some(def) = e.def() else { continue };
        // The bytes first: most values have no comment to decode.
        let bytes = ctx.sources.get(file).slice(value_span);
        let Some(at) = inline_comment(bytes) else {
            continue;
        };
        if is_command_like(def.name) || !e.unknown.is_empty() {
            continue;
        }
        // Offsets in this text are offsets in the file.
        let value = crate::source::lossy_same_offsets(bytes);
        let kept = value[..at].trim_end();
        let comment = value[at..].to_string();
        let key = e.key_str();
        let mut d = rule.diag(
            file,
            Span::new(value_span.start + at, value_span.end),
            format!(
                "`{comment}` is part of the value: uWSGI has no inline comments, so `{key}` is `{value}`"
            ),
        );
        // What the parser makes of the value with and without the comment.
        // The loop-engine shortcuts read their value with `atoi`.
        let atoi_custom = matches!(def.name, "gevent" | "async");
        let same_meaning = match def.kind {
            _ if atoi_custom => {
                crate::uwsgi::values::atoi(value.as_bytes()).0
                    == crate::uwsgi::values::atoi(kept.as_bytes()).0
            }
            k if k.is_numeric() => {
                read_numeric(k, Some(value.as_bytes())).map(|n| n.value)
                    == read_numeric(k, Some(kept.as_bytes())).map(|n| n.value)
            }
            ValueKind::Flag | ValueKind::FlagFalse => {
                read_flag(Some(value.as_bytes())) == read_flag(Some(kept.as_bytes()))
            }
            _ => false,
        };
        if same_meaning {
            d.severity = Severity::Warning;
            d.message.push_str(" (it still reads the same)");
        } else if matches!(def.kind, ValueKind::Flag | ValueKind::FlagFalse) {
            d.message.push_str(&format!(
                " — so `{key}` is ON: only exactly `false`, `off`, `no` or `0` turn a flag off"
            ));
        }
        // Move the comment onto its own line above, keeping the indentation.
        let f = ctx.sources.get(file);
        let line_start = f
            .lines
            .line_start(f.line_col(value_span.start).line - 1)
            .unwrap_or(0);
        let indent: String = String::from_utf8_lossy(&f.bytes[line_start..])
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        // A YAML line must stay a comment for uWSGI's YAML reader: only `#` is.
        let marker = if comment.starts_with('#') || ctx.is_yaml(file) {
            "#"
        } else {
            ";"
        };
        let text = comment[1..].trim();
        d.help = Some(format!(
            "put the comment on its own line: `{marker} {text}`"
        ));
        d.fix = Some(Fix {
            applicability: Applicability::Safe,
            edits: vec![
                Edit {
                    file,
                    span: Span::new(line_start, line_start),
                    content: format!("{indent}{marker} {text}\n"),
                },
                Edit {
                    file,
                    span: value_span,
                    content: kept.to_string(),
                },
            ],
        });
        out.push(d);
    }
}

fn strip_quotes(v: &str) -> Option<&str> {
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        Some(&v[1..v.len() - 1])
    } else {
        None
    }
}

pub fn quoted_value(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, file, _, value_span) in ctx.file_entries() {
        if from_command_line(e) {
            continue;
        }
        let Some(def) = e.def() else { continue };
        let bytes = ctx.sources.get(file).slice(value_span);
        // Most values hold no quote at all.
        if memchr::memchr2(b'"', b'\'', bytes).is_none()
            || def.kind.is_numeric()
            || is_command_like(def.name)
        {
            continue;
        }
        // Offsets in this text are offsets in the file.
        let value = crate::source::lossy_same_offsets(bytes);
        // `env = KEY="v"`: the quotes land in the environment variable.
        let (span, inner, what) = match (strip_quotes(&value), value.split_once('=')) {
            (Some(inner), _) => (value_span, inner.to_string(), format!("`{}`", e.key_str())),
            (None, Some((k, v))) if def.name == "env" && strip_quotes(v).is_some() => (
                Span::new(value_span.start + k.len() + 1, value_span.end),
                strip_quotes(v).unwrap().to_string(),
                format!("the environment variable `{k}`"),
            ),
            _ => continue,
        };
        let mut d = rule.diag(
            file,
            span,
            format!(
                "uWSGI keeps quotes: {what} is set to `{}` including the quotes",
                &value[span.start - value_span.start..]
            ),
        );
        d.help = Some(format!("write it without quotes: `{inner}`"));
        d.fix = Some(Fix {
            applicability: Applicability::Safe,
            edits: vec![Edit {
                file,
                span,
                content: inner,
            }],
        });
        out.push(d);
    }
}

pub fn duplicate_option(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(&'static str, &Entry, FileId, Span)> = Vec::new();
    for (e, file, key_span, _) in ctx.file_entries() {
        let Some(def) = e.def() else { continue };
        if def.is_multi_valued()
            || def.is_immediate()
            || e.inherited
            || e.origin
                .via
                .iter()
                .any(|v| matches!(v.what, ViaKind::Logic { .. }))
        {
            continue;
        }
        // Overriding a key of an included base file is what `ini =` is for:
        // only a repeat within one file is a finding.
        let first = def.aliases().find_map(|a| {
            seen.iter()
                .find(|(c, _, f, _)| *c == a && *f == file)
                .cloned()
        });
        match first {
            Some((_, prev, pfile, pspan)) => {
                let identical = prev.value == e.value;
                let mut d = rule.diag(
                    file,
                    key_span,
                    format!(
                        "`{}` is set again: this value wins, while `%({})` placeholders see the first one (`{}`)",
                        e.key_str(),
                        prev.key_str(),
                        prev.value_str()
                    ),
                );
                d.related.push(crate::diagnostic::Related {
                    file: pfile,
                    span: pspan,
                    message: "first set here".into(),
                });
                if identical {
                    // The same value twice changes nothing: tidiness, not a bug.
                    d.severity = Severity::Info;
                    d.message = format!(
                        "`{}` is set again to the same value (`{}`): the repeat has no effect",
                        e.key_str(),
                        e.value_str()
                    );
                }
                d.help = Some("keep one of them".into());
                out.push(d);
            }
            None => seen.push((def.name, e, file, key_span)),
        }
    }
}

pub fn stray_percent(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for &(file, span, var) in &ctx.resolved.magic_uses {
        if crate::uwsgi::magic::is_known_var(var) {
            continue;
        }
        let (msg, fix) = match var {
            b'\n' => (
                "`%` at the end of a line deletes the newline: the next line is glued to this value and its option is lost".to_string(),
                "%%".to_string(),
            ),
            0 => (
                "`%` at the end of the file is deleted (and uWSGI reads past its buffer)".to_string(),
                "%%".to_string(),
            ),
            v => (
                format!(
                    "`%{}` is not a magic variable: uWSGI deletes both characters",
                    String::from_utf8_lossy(&[v])
                ),
                format!("%%{}", String::from_utf8_lossy(&[v])),
            ),
        };
        let mut d = rule.diag(file, span, msg);
        d.help = Some("write `%%` for a literal percent sign".into());
        d.fix = Some(Fix {
            applicability: Applicability::Safe,
            edits: vec![Edit {
                file,
                span,
                content: fix,
            }],
        });
        out.push(d);
    }
}

pub fn value_out_of_range(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, def, text) in numeric_entries(ctx) {
        let Some(n) = read_numeric(def.kind, Some(text.as_bytes())) else {
            continue;
        };
        let (file, _, value_span) = ctx.spans(e).unwrap();
        let key = e.key_str();
        let (sev, msg) = if n.negative {
            (
                Severity::Error,
                format!(
                    "`{key} = {text}` is negative: uWSGI exits with \"invalid value for option\""
                ),
            )
        } else if n.clamped {
            (
                // 65536 → 65535 is one byte off what was meant: a note.
                if text[..n.stop].trim() == "65536" {
                    Severity::Info
                } else {
                    Severity::Warning
                },
                format!(
                    "`{key} = {}` is above 65535 and silently clamped to 65535 (the uwsgi packet size is 16-bit)",
                    text[..n.stop].trim()
                ),
            )
        } else if n.read == NumericRead::Exact && n.value == 0 {
            match def.name {
                "processes" | "workers" => (
                    Severity::Error,
                    format!(
                        "`{key} = 0` starts no workers: the socket is bound but nothing accepts, requests hang"
                    ),
                ),
                "threads" => (Severity::Error, format!("`{key} = 0` reads as no threads")),
                "listen" => (
                    Severity::Error,
                    "`listen = 0` gives the socket no backlog".to_string(),
                ),
                "buffer-size" => (
                    Severity::Error,
                    "`buffer-size = 0` rejects every request (\"invalid request block size\")"
                        .to_string(),
                ),
                _ => continue,
            }
        } else {
            continue;
        };
        let mut d = rule.diag(file, value_span, msg);
        d.severity = sev;
        out.push(d);
    }
}

pub fn immediate_option_placeholder(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, file, _, value_span) in ctx.file_entries() {
        let Some(def) = e.def() else { continue };
        if !def.is_immediate() {
            continue;
        }
        let value = e.value_str();
        let Some(at) = ["$(", "%(", "@("]
            .iter()
            .filter_map(|p| value.find(p))
            .filter(|&i| !value[i..].starts_with("%(_)"))
            .min()
        else {
            continue;
        };
        let mut d = rule.diag(
            file,
            value_span,
            format!(
                "`{}` is applied while the file is read, before `$()`, `@()` and `%()` are expanded: `{}` stays literal",
                def.name,
                &value[at..value[at..].find(')').map_or(value.len(), |j| at + j + 1)]
            ),
        );
        d.help = Some(match def.name {
            "listen" => "write the number itself (`listen = $(X)` is always 0)".into(),
            _ => "write the value itself, or use a `UWSGI_*` environment variable for it".into(),
        });
        out.push(d);
    }
}

pub fn option_needs_newer_uwsgi(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, file, key_span, _) in ctx.file_entries() {
        let Some(def) = e.def() else { continue };
        let Some(since) = def.since() else { continue };
        if ctx.target >= since {
            continue;
        }
        let mut d = rule.diag(
            file,
            key_span,
            format!(
                "`{}` exists since uWSGI {since}; the target {} does not know it and ignores it silently",
                def.name, ctx.target
            ),
        );
        d.help = Some(format!("upgrade to uWSGI ≥ {since}, or drop the option"));
        if let Some(p) = &ctx.target_from {
            d.related.extend(ctx.project.related(p));
        }
        out.push(d);
    }
}

pub fn inherit_overrides(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let inherited: Vec<&Entry> = ctx
        .resolved
        .entries
        .iter()
        .filter(|e| e.inherited)
        .collect();
    for (e, file, key_span, _) in ctx.file_entries() {
        if e.key != b"inherit" {
            continue;
        }
        let mut overridden: Vec<String> = inherited
            .iter()
            .filter(|i| {
                ctx.resolved.entries.iter().any(|o| {
                    !o.inherited && o.key == i.key && o.def().is_some_and(|d| !d.is_multi_valued())
                })
            })
            .map(|i| format!("`{}`", i.key_str()))
            .collect();
        overridden.sort();
        overridden.dedup();
        if overridden.is_empty() {
            continue;
        }
        let mut d = rule.diag(
            file,
            key_span,
            format!(
                "`inherit` is applied last, so the inherited file overrides {} set here and on the command line",
                overridden.join(", ")
            ),
        );
        d.help = Some(
            "use `ini = base.ini` at the top instead: later keys then override the base".into(),
        );
        out.push(d);
    }
}

/// Options that load an application, in the order the Python plugin loads
/// them (`uwsgi_python_init_apps`); `mount`s come after.
pub const APP_ENTRIES: &[&str] = &[
    "module",
    "wsgi",
    "wsgi-file",
    "file",
    "pecan",
    "paste",
    "eval",
    "mount",
];

/// UW113: two entry points for the default app. The Python plugin loads
/// them in a fixed order and skips the later ones ("mountpoint already
/// configured. skip."), so only the first ever serves.
pub fn conflicting_app_entry(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let mut found: Vec<(&str, FileId, Span)> = Vec::new();
    for name in APP_ENTRIES.iter().filter(|n| **n != "mount") {
        if found.iter().any(|(n, ..)| {
            catalogue()
                .get(n)
                .is_some_and(|d| d.aliases().any(|a| a == *name))
        }) {
            continue;
        }
        if let Some(e) = ctx.last(name)
            && let Some((file, key_span, _)) = ctx.spans(e)
        {
            found.push((name, file, key_span));
        }
    }
    if found.len() < 2 {
        return;
    }
    let (winner, wfile, wspan) = found[0];
    for &(name, file, span) in &found[1..] {
        let mut d = rule.diag(
            file,
            span,
            format!(
                "`{name}` is never loaded: `{winner}` loads the app first and uWSGI skips a second app on the same mount point (\"mountpoint already configured. skip.\")"
            ),
        );
        d.related.push(crate::diagnostic::Related {
            file: wfile,
            span: wspan,
            message: "this app is the one served".into(),
        });
        d.help = Some(format!("remove `{name}`: keep one entry point"));
        out.push(d);
    }
}

pub fn reload_mercy_ineffective(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if ctx.last("reload-mercy").is_none() || ctx.last("worker-reload-mercy").is_some() {
        return;
    }
    out.push(rule.at(ctx.anchor("reload-mercy"), "`reload-mercy` does not bound how long workers get to finish in uWSGI 2.0; `worker-reload-mercy` (default 60 s) does").with_help(format!(
        "set `worker-reload-mercy = {}` as well",
        ctx.number("reload-mercy").unwrap_or(60)
    )));
}

pub fn lifetime_not_above_min(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let (Some(max), Some(min)) = (
        ctx.number("max-worker-lifetime"),
        ctx.number("min-worker-lifetime"),
    ) else {
        return;
    };
    if max == 0 || min < max {
        return;
    }
    out.push(rule.at(ctx.anchor("max-worker-lifetime"), format!(
            "`max-worker-lifetime = {max}` is not above `min-worker-lifetime` ({min}{}): uWSGI refuses to start",
            if ctx.last("min-worker-lifetime").is_none() { ", the default" } else { "" }
        )).with_help(format!(
        "raise `max-worker-lifetime` above {min}, or set `min-worker-lifetime` below {max}"
    )));
}

pub fn invalid_cheaper(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    if let Some(e) = ctx.last("cheaper")
        && let Some((file, key_span, value_span)) = ctx.spans(e)
        && e.unknown.is_empty()
    {
        let cheaper = ctx.number("cheaper").unwrap_or(0);
        let processes = ctx.number("processes").unwrap_or(1);
        let text = e.value_str();
        if cheaper == 0 && !text.trim().starts_with('0') {
            let mut d = rule.diag(file, value_span, format!("`cheaper = {text}` reads as 0, which leaves the cheaper subsystem off: all workers run all the time"));
            // Nothing fails: the intent is lost, quietly.
            d.severity = Severity::Warning;
            d.help = Some("give the minimum number of workers to keep, e.g. `cheaper = 2`".into());
            out.push(d);
        } else if cheaper >= processes {
            let d = rule.diag(
                file,
                key_span,
                format!(
                    "`cheaper = {cheaper}` is not below `processes` ({processes}{}): uWSGI exits with \"invalid cheaper value: must be lower than processes\"",
                    if ctx.last("processes").is_none() { ", the default" } else { "" }
                ),
            );
            out.push(d);
        }
    }
    for name in ["cheaper-rss-limit-soft", "cheaper-rss-limit-hard"] {
        if let Some(v) = ctx.number(name)
            && v > 0
            && v < 1 << 20
            && let Some(e) = ctx.last(name)
            && let Some((file, _, value_span)) = ctx.spans(e)
        {
            let mut d = rule.diag(
                file,
                value_span,
                format!(
                    "`{name} = {v}` is in bytes, not MB: {v} bytes is far below any worker's memory"
                ),
            );
            d.help = Some(format!("write `{name} = {}` for {v} MiB", v << 20));
            out.push(d);
        }
    }
}

pub fn strict_rejects_input(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for ev in ctx
        .resolved
        .events
        .iter()
        .filter(|e| e.kind == crate::uwsgi::resolve::EventKind::StrictUnknown)
    {
        let (file, span) = match ev.origin.layer {
            crate::uwsgi::resolve::Layer::File { file, key, .. } => (file, key),
            _ => ctx.anchor("strict"),
        };
        let mut d = rule.diag(file, span, ev.message.clone());
        d.help = Some(
            "declare ad-hoc variables with `set-placeholder = name=value`, or turn `strict` off"
                .into(),
        );
        out.push(d);
    }
}

/// Options that start uWSGI's HTTP router (the `http` plugin's gateway).
const HTTP_ROUTER: &[&str] = &[
    "http",
    "httprouter",
    "https",
    "https2",
    "http-zerg",
    "http-to-https",
];

/// UW119: options of the HTTP router set where no router runs: the workers
/// serve `http-socket` themselves and never read them.
pub fn router_option_without_router(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let router = ctx.resolved.entries.iter().any(|e| {
        e.def()
            .is_some_and(|d| d.plugin == "http" && HTTP_ROUTER.contains(&d.name))
    });
    // A fragment gets its sockets (maybe `--http`) from elsewhere.
    if router || ctx.is_fragment() {
        return;
    }
    for (e, file, key_span, _) in ctx.file_entries() {
        let Some(def) = e.def() else { continue };
        if def.plugin != "http" || HTTP_ROUTER.contains(&def.name) {
            continue;
        }
        let core = match def.name {
            "http-enable-proxy-protocol" => Some("enable-proxy-protocol"),
            "http-timeout" => Some("socket-timeout"),
            "http-keepalive" => Some(
                "http-keepalive` has no worker equivalent; use `add-header = Connection: Keep-Alive",
            ),
            "http-auto-chunked" => Some("http-auto-chunked` has no worker equivalent"),
            _ => None,
        };
        let mut d = rule.diag(
            file,
            key_span,
            format!(
                "`{}` configures uWSGI's HTTP router (`http =`), which this config does not start: nothing reads it",
                def.name
            ),
        );
        d.help = Some(match core {
            Some(c) if !c.contains('`') => {
                format!("for `http-socket`, served by the workers, write `{c}`")
            }
            Some(c) => format!("`{c}"),
            None => "remove it, or start the router with `http =`".into(),
        });
        out.push(d);
    }
}

/// Conventional arithmetic (`*` and `/` before `+` and `-`) over the tokens
/// of a `%()` expression; `None` when a token is not a number or operator.
fn conventional(tokens: &[i64], ops: &[u8]) -> Option<i64> {
    // Fold `*`/`/` first, then `+`/`-` left to right.
    let mut terms = vec![*tokens.first()?];
    let mut signs = Vec::new();
    for (op, &b) in ops.iter().zip(&tokens[1..]) {
        match op {
            b'*' => *terms.last_mut()? = terms.last()?.wrapping_mul(b),
            b'/' => {
                let a = *terms.last()?;
                *terms.last_mut()? = if b == 0 { 0 } else { a.wrapping_div(b) };
            }
            _ => {
                signs.push(*op);
                terms.push(b);
            }
        }
    }
    let mut v = terms[0];
    for (op, t) in signs.iter().zip(&terms[1..]) {
        v = if *op == b'+' {
            v.wrapping_add(*t)
        } else {
            v.wrapping_sub(*t)
        };
    }
    Some(v)
}

/// UW118: a `%()` expression uWSGI evaluates differently from arithmetic:
/// parentheses end the expression at the first `)`, and operators apply
/// strictly left to right.
pub fn placeholder_math_misread(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (e, file, _, value_span) in ctx.file_entries() {
        let Some(raw) = e.raw_value() else {
            continue;
        };
        if !crate::uwsgi::syntax::has_reference(raw, b'%') {
            continue;
        }
        let raw = String::from_utf8_lossy(raw);
        let mut rest = raw.as_ref();
        while let Some(i) = rest.find("%(") {
            let after = &rest[i + 2..];
            // Like uWSGI, the placeholder ends at the *matching* `)`.
            let mut depth = 1usize;
            let Some(close) = after.char_indices().find_map(|(j, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                (depth == 0).then_some(j)
            }) else {
                break;
            };
            let expr = &after[..close];
            rest = &after[close + 1..];
            let shown_value = if e.unknown.is_empty() {
                format!(" (here: `{}`)", e.value_str())
            } else {
                String::new()
            };
            if expr.contains('(') {
                let mut d = rule.diag(
                    file,
                    value_span,
                    format!(
                        "parentheses do not group in `%({expr})`: uWSGI splits it at spaces and reads words such as `(x` or `2)` as option names (empty, so 0), then applies the operators left to right{shown_value}"
                    ),
                );
                d.help = Some("uWSGI evaluates strictly left to right: order the operands so no grouping is needed (`%(x * 2 + 1)`), or compute the number yourself".into());
                out.push(d);
                continue;
            }
            if !expr.contains(' ') {
                continue;
            }
            // Operands: numbers or placeholders (their first value, as uWSGI reads them).
            let mut nums = Vec::new();
            let mut ops = Vec::new();
            let mut ok = true;
            for t in expr.split(' ').filter(|t| !t.is_empty()) {
                match t {
                    "+" | "-" | "*" | "/" => ops.push(t.as_bytes()[0]),
                    t if t.chars().all(|c| c.is_ascii_digit()) => {
                        nums.push(crate::uwsgi::values::strtoll(t.as_bytes()))
                    }
                    t => match ctx
                        .resolved
                        .first_exact(t.as_bytes())
                        .and_then(|x| x.value.clone())
                    {
                        Some(v) if x_is_number(&v) => nums.push(crate::uwsgi::values::strtoll(&v)),
                        _ => ok = false,
                    },
                }
            }
            if !ok || ops.len() < 2 || nums.len() != ops.len() + 1 {
                continue;
            }
            let left_to_right = crate::uwsgi::resolve::placeholder_value(expr.as_bytes(), |k| {
                ctx.resolved.first_exact(k).and_then(|x| x.value.clone())
            })
            .map(|v| crate::uwsgi::values::strtoll(&v));
            let (Some(ltr), Some(conv)) = (left_to_right, conventional(&nums, &ops)) else {
                continue;
            };
            if ltr == conv {
                continue;
            }
            let mut d = rule.diag(
                file,
                value_span,
                format!(
                    "`%({expr})` is {ltr} in uWSGI, not {conv}: it applies the operators strictly left to right, without precedence"
                ),
            );
            d.help = Some(
                "reorder the expression so left to right gives the intended value, or write the number".into(),
            );
            out.push(d);
        }
    }
}

fn x_is_number(v: &[u8]) -> bool {
    !v.is_empty() && v.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::uwsgi::suggest::{distance, within};

    #[test]
    fn suggestions() {
        assert_eq!(suggestion("reload_on_rss"), Some(("reload-on-rss", true)));
        assert_eq!(suggestion("max-request"), Some(("max-requests", false)));
        assert_eq!(suggestion("project_name"), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(within("kitten", "sitting", 2), None);
        assert_eq!(within("max-request", "max-requests", 2), Some(1));
        // The index finds what a scan of the whole catalogue finds.
        let scan = |key: &str| {
            let dashed = key.replace('_', "-").to_ascii_lowercase();
            catalogue()
                .iter()
                .filter(|d| d.in_build)
                .map(|d| (distance(&dashed, d.name), d.name))
                .filter(|(dist, _)| *dist <= 2)
                .min()
                .map(|(_, n)| n)
        };
        for key in [
            "max-request",
            "harakri",
            "procesess",
            "wokers",
            "reload-on-rs",
            "buffersize",
            "socket-timout",
            "htpp-socket",
            "thread",
            "chdirr",
            "xxxxxxxx",
            "vacum",
            "mastr",
        ] {
            assert_eq!(suggestion(key).map(|s| s.0), scan(key), "{key}");
        }
        // A key far longer than any option is compared with none.
        assert_eq!(suggestion(&"reload-on-rss".repeat(8000)), None);
    }

    #[test]
    fn suffixes() {
        assert_eq!(size_suffix("G"), Some(1 << 30));
        assert_eq!(size_suffix("MiB"), Some(1 << 20));
        assert_eq!(size_suffix("kb"), Some(1 << 10));
        assert_eq!(size_suffix("x"), None);
    }
}
