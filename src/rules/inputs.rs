//! UW0xx: inputs and meta — problems found while collecting the options.

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::{Rule, RuleContext};
use crate::source::{FileId, Span};
use crate::uwsgi::resolve::{EventKind, Layer, is_block_closer};
use crate::uwsgi::syntax::LineKind;

/// Report every resolver event of `kind` as a diagnostic of `rule`.
fn report(ctx: &RuleContext, rule: &Rule, kind: EventKind, out: &mut Vec<Diagnostic>) {
    for ev in ctx.resolved.events.iter().filter(|e| e.kind == kind) {
        let (file, span) = match ev.origin.layer {
            Layer::File { file, line, .. } => (file, line),
            // From the environment or the command line: no place in a file.
            _ => (ctx.file, Span::default()),
        };
        let mut d = rule.diag(file, span, ev.message.clone());
        if kind == EventKind::RuntimeValue && ev.fatal {
            d.severity = Severity::Error;
        }
        out.push(d);
    }
}

pub fn include_not_found(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    report(ctx, rule, EventKind::IncludeNotFound, out);
}

pub fn include_cycle(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    report(ctx, rule, EventKind::IncludeCycle, out);
}

pub fn runtime_value(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let before = out.len();
    report(ctx, rule, EventKind::RuntimeValue, out);
    // One finding per message and place (a loop repeats the same reference).
    let mut seen = std::collections::HashSet::new();
    let fresh = out.split_off(before);
    out.extend(
        fresh
            .into_iter()
            .filter(|d| seen.insert((d.file, d.span, d.message.clone()))),
    );
    unset_env_vars(ctx, rule, out);
}

/// `$(VAR)` that the environment here does not set: uWSGI keeps the text,
/// which only matters where an option reads a number or a flag from it.
/// One finding per variable and file, at the first such option.
fn unset_env_vars(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    use crate::uwsgi::options::ValueKind;
    let mut done: std::collections::HashSet<(FileId, String)> = std::collections::HashSet::new();
    for (e, file, _, _) in ctx.file_entries() {
        let Some(def) = e.def() else { continue };
        let numeric = def.kind.is_numeric();
        let flag = matches!(def.kind, ValueKind::Flag | ValueKind::FlagFalse);
        if !numeric && !flag {
            continue;
        }
        // (A launcher's unknown word is no variable uWSGI reads: unknown.)
        for u in e.unknown.iter().filter(|u| {
            u.reference.starts_with("$(")
                && !u.reference.starts_with(crate::uwsgi::resolve::UNKNOWN_WORD)
        }) {
            if !done.insert((file, u.reference.clone())) {
                continue;
            }
            let var = &u.reference[2..u.reference.len().saturating_sub(1)];
            let value = e.value_str();
            let reads = if numeric {
                match crate::uwsgi::values::read_numeric(def.kind, e.value.as_deref()) {
                    Some(n) => format!(
                        "{}{}",
                        def.shown(n.value),
                        crate::rules::values::effect_suffix(def, n.value)
                    ),
                    None => continue,
                }
            } else if crate::uwsgi::values::read_flag(e.value.as_deref()) {
                "on (any text but `false`, `off`, `no` or `0` turns a flag on)".to_string()
            } else {
                "off".to_string()
            };
            let Some((file, _, value_span)) = ctx.spans(e) else {
                continue;
            };
            let mut d = rule.diag(
                file,
                value_span,
                format!(
                    "`{} = {value}`: where `{var}` is not set, uWSGI keeps `{}` as text and reads it as {reads}; checks that need this value are skipped",
                    e.key_str(),
                    u.reference
                ),
            );
            d.help = Some(format!(
                "make sure `{var}` is set where uWSGI runs (pass `--env {var}=…` to check a value), or give a default with `if-not-env`"
            ));
            out.push(d);
        }
    }
}

pub fn unclosed_logic_block(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let before = out.len();
    report(ctx, rule, EventKind::UnclosedLogicBlock, out);
    for d in &mut out[before..] {
        d.help = Some("close the block with `endif =` (or `endfor =` for loops)".into());
    }
}

/// Nesting is found in the text, not only when uWSGI trips over it: uWSGI
/// exits only when the outer block is active, but the nesting is wrong either way.
pub fn nested_logic_block(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    let before = out.len();
    report(ctx, rule, EventKind::NestedLogicBlock, out);
    let reported: Vec<(FileId, Span)> = out[before..].iter().map(|d| (d.file, d.span)).collect();
    for (file, section) in &ctx.resolved.files {
        let bytes = &ctx.sources.get(*file).bytes;
        let doc = ctx.ini_doc(*file);
        let mut open: Option<String> = None;
        for (sec, line) in doc.entries_with_section(bytes) {
            if sec != Some(section.as_bytes()) {
                continue;
            }
            let LineKind::Entry { key, .. } = line.kind else {
                continue;
            };
            let k = &bytes[key.range()];
            if is_block_closer(k) {
                open = None;
            } else if let Ok(k) = std::str::from_utf8(k)
                && crate::uwsgi::resolve::is_logic_opener(k)
            {
                match &open {
                    Some(outer) if !reported.contains(&(*file, line.content)) => {
                        let mut d = rule.diag(
                            *file,
                            line.content,
                            format!(
                                "`{k}` opens a block inside the `{outer}` block: when the outer condition holds, uWSGI exits with \"recursive logic in options is not supported\""
                            ),
                        );
                        d.help = Some(format!(
                            "close the `{outer}` block first, or combine the conditions"
                        ));
                        out.push(d);
                    }
                    Some(_) => {}
                    None => open = Some(k.to_string()),
                }
            }
        }
    }
}

pub fn section_not_found(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    report(ctx, rule, EventKind::SectionNotFound, out);
}

pub fn include_with_section(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    report(ctx, rule, EventKind::IncludeWithSection, out);
}

/// uWSGI's reader is line-based and cannot fail, but a NUL byte (binary
/// content, a UTF-16 file) silently ends each line early.
pub fn parse_error(ctx: &RuleContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
    for (file, _) in &ctx.resolved.files {
        let bytes = &ctx.sources.get(*file).bytes;
        if let Some(at) = memchr::memchr(0, bytes) {
            let utf16 = bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]);
            let mut d = rule.diag(
                *file,
                Span::new(at, at + 1),
                if utf16 {
                    "the file is UTF-16: uWSGI reads bytes and stops each line at the first NUL, so it sees almost nothing".to_string()
                } else {
                    "NUL byte: uWSGI stops reading this line here and ignores the rest of it".to_string()
                },
            );
            d.help = Some("save the file as UTF-8 text".into());
            out.push(d);
        }
    }
}
