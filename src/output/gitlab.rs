//! `--format gitlab`: a GitLab Code Quality report (JSON array).
//!
//! Fingerprints stay stable when lines move: they hash the rule, the file and
//! the text of the flagged line (plus an occurrence number for repeats), not
//! the line number.

use std::collections::HashMap;
use std::path::Path;

use serde_json::json;

use crate::diagnostic::{Diagnostic, Severity};
use crate::output::repo_relative;
use crate::source::SourceMap;

/// FNV-1a, 64-bit: small, stable across versions and platforms.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The GitLab renderer.
pub struct Gitlab;

impl super::Renderer for Gitlab {
    fn render(&self, input: &super::Input<'_>) -> String {
        render(input.sources, input.diagnostics, input.root)
    }
}

pub fn render(sources: &SourceMap, diags: &[Diagnostic], root: &Path) -> String {
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let items: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let f = sources.get(d.file);
            let a = f.line_col(d.span.start);
            let b = f.line_col(d.span.end);
            let path = repo_relative(sources, d.file, root);
            let start = f.lines.line_start(a.line - 1).unwrap_or(0);
            let end = f.bytes[start..]
                .iter()
                .position(|&c| c == b'\n')
                .map_or(f.bytes.len(), |i| start + i);
            let line_text = String::from_utf8_lossy(&f.bytes[start..end])
                .trim()
                .to_string();
            let key = fnv1a(format!("{}\0{path}\0{line_text}", d.code).as_bytes());
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            let fingerprint = format!("{:016x}", fnv1a(format!("{key:016x}\0{n}").as_bytes()));
            json!({
                "description": format!("{} {}", d.code, d.message),
                "check_name": format!("{} {}", d.code, d.name),
                "fingerprint": fingerprint,
                "severity": match d.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                    Severity::Info => "info",
                },
                "location": {"path": path, "lines": {"begin": a.line, "end": b.line}},
            })
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_default() + "\n"
}
