//! The summary under text and concise output: counts per severity and per
//! rule, what `--fix` can do, which rules did not run, where to read more.
//! Also `--statistics`, the per-rule table alone.

use std::collections::BTreeMap;

use crate::diagnostic::{Applicability, Diagnostic, Severity};

use super::Input;

/// `n thing` or `n things`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Per rule: (severity, code, name, count, safe fixes, unsafe fixes), the
/// most severe and then most frequent first.
pub fn per_rule(
    diags: &[Diagnostic],
) -> Vec<(Severity, &'static str, &'static str, usize, usize, usize)> {
    let mut m: BTreeMap<(Severity, &str), (&str, usize, usize, usize)> = BTreeMap::new();
    for d in diags {
        let e = m.entry((d.severity, d.code)).or_insert((d.name, 0, 0, 0));
        e.1 += 1;
        match d.fix.as_ref().map(|f| f.applicability) {
            Some(Applicability::Safe) => e.2 += 1,
            Some(Applicability::Unsafe) => e.3 += 1,
            None => {}
        }
    }
    let mut v: Vec<_> = m
        .into_iter()
        .map(|((sev, code), (name, n, safe, unsafe_))| (sev, code, name, n, safe, unsafe_))
        .collect();
    v.sort_by(|a, b| (b.0, b.3, a.1).cmp(&(a.0, a.3, b.1)));
    v
}

pub fn render(input: &Input<'_>) -> String {
    render_with(input, true)
}

/// The summary, with or without the per-rule line (`--statistics` has a table).
fn render_with(input: &Input<'_>, by_rule_line: bool) -> String {
    let diags = input.diagnostics;
    let mut s = String::new();
    if let Some(fixed) = input.options.fixed {
        s.push_str(&format!(
            "Fixed {}.\n",
            plural(fixed, "finding", "findings")
        ));
    }
    let files = plural(input.files, "uWSGI file", "uWSGI files");
    if diags.is_empty() {
        s.push_str(&format!("No findings in {files}.\n"));
    } else {
        let count = |sev| diags.iter().filter(|d| d.severity == sev).count();
        let by_severity: Vec<String> = [
            (Severity::Error, "error", "errors"),
            (Severity::Warning, "warning", "warnings"),
            (Severity::Info, "info", "infos"),
        ]
        .iter()
        .filter(|(sev, ..)| count(*sev) > 0)
        .map(|(sev, one, many)| plural(count(*sev), one, many))
        .collect();
        s.push_str(&format!(
            "Found {} in {files}: {}.\n",
            plural(diags.len(), "finding", "findings"),
            by_severity.join(", ")
        ));
        let rules = per_rule(diags);
        let by_rule: Vec<String> = rules
            .iter()
            .map(|(_, code, name, n, ..)| format!("{code} {name} ×{n}"))
            .collect();
        if by_rule_line {
            s.push_str(&format!("By rule: {}.\n", by_rule.join(", ")));
        }
        let safe: usize = rules.iter().map(|r| r.4).sum();
        let unsafe_: usize = rules.iter().map(|r| r.5).sum();
        match (safe, unsafe_) {
            (0, 0) => {}
            (s_, 0) => s.push_str(&format!("{s_} fixable with `--fix`.\n")),
            (0, u) => s.push_str(&format!("{u} fixable with `--fix --unsafe-fixes`.\n")),
            (s_, u) => s.push_str(&format!(
                "{s_} fixable with `--fix` ({u} more with `--fix --unsafe-fixes`).\n"
            )),
        }
        if let Some((_, code, ..)) = rules.first() {
            s.push_str(&format!(
                "`uwsgi-lint explain {code}` shows a rule's page; `--statistics` counts per rule.\n"
            ));
        }
    }
    let off = input.options.rules_not_run;
    if off > 0 {
        s.push_str(&format!(
            "{off} of {} rules did not run (not selected, ignored, or not in the default set): `uwsgi-lint rules` marks the default set, `--select ALL` runs every rule.\n",
            crate::rules::RULES.len()
        ));
    }
    s
}

/// `--statistics`: one line per rule with its count, then the totals.
pub fn statistics(input: &Input<'_>) -> String {
    let rules = per_rule(input.diagnostics);
    let width = rules
        .iter()
        .map(|r| r.3.to_string().len())
        .max()
        .unwrap_or(1);
    let name_width = rules.iter().map(|r| r.2.len()).max().unwrap_or(0);
    let mut s = String::new();
    for (sev, code, name, n, safe, unsafe_) in &rules {
        s.push_str(&format!(
            "{n:>width$}  {code}  {:<7}  {name:<name_width$}",
            sev.as_str()
        ));
        if *safe > 0 {
            s.push_str(&format!("  {safe} fixable"));
        }
        if *unsafe_ > 0 {
            s.push_str(&format!("  {unsafe_} fixable with --unsafe-fixes"));
        }
        let trimmed = s.trim_end_matches(' ').len();
        s.truncate(trimmed);
        s.push('\n');
    }
    s.push_str(&render_with(input, false));
    s
}

/// `--statistics --format json`: the per-rule counts as a JSON array.
pub fn statistics_json(input: &Input<'_>) -> String {
    let v: Vec<serde_json::Value> = per_rule(input.diagnostics)
        .into_iter()
        .map(|(sev, code, name, n, safe, unsafe_)| {
            serde_json::json!({"code": code, "name": name, "severity": sev, "count": n,
                "fixable": safe, "unsafe_fixable": unsafe_})
        })
        .collect();
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
