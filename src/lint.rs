//! The pipeline for `check`: discover → parse/resolve → check → (report).

use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::rules::{self, IniContext, Rule};
use crate::source::SourceMap;
use crate::uwsgi::magic::HostFacts;
use crate::uwsgi::options::{CATALOGUE_VERSION, NEWEST_2_0};
use crate::uwsgi::resolve::{self, Invocation, ResolveOptions, display_name};
use crate::uwsgi::version::Version;

pub struct Settings {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub uwsgi_version: Option<Version>,
    pub env: Vec<(String, String)>,
}

pub struct Report {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
}

/// Does `sel` (a code, a family prefix such as `UW1`, a name, or `ALL`) match?
fn matches(rule: &Rule, sel: &str) -> bool {
    sel.eq_ignore_ascii_case("ALL")
        || rule.name == sel
        || rule
            .code
            .to_ascii_uppercase()
            .starts_with(&sel.to_ascii_uppercase())
}

pub fn is_selected(settings: &Settings, rule: &Rule) -> bool {
    let selected = settings.select.is_empty() || settings.select.iter().any(|s| matches(rule, s));
    selected && !settings.ignore.iter().any(|s| matches(rule, s))
}

pub fn lint(paths: &[PathBuf], settings: &Settings) -> std::io::Result<Report> {
    let inis = crate::discover::uwsgi_inis(paths)?;
    let mut report = lint_inis(&inis, None, settings)?;
    // Report only on what was asked for (pre-commit passes single files): a
    // finding inside an included file outside `paths` belongs to that file.
    let roots: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let sources = &report.sources;
    report.diagnostics.retain(|d| {
        sources
            .get(d.file)
            .path
            .as_ref()
            .is_none_or(|p| roots.iter().any(|r| p.starts_with(r)))
    });
    Ok(report)
}

/// Lint content read from standard input as if it were the file `name`
/// (its includes are still read from disk, relative to where it would be).
pub fn lint_stdin(name: &Path, content: Vec<u8>, settings: &Settings) -> std::io::Result<Report> {
    let cwd = std::env::current_dir()?;
    let abs = resolve::normalize_lexically(&cwd.join(name));
    lint_inis(&[name.to_path_buf()], Some((abs, content)), settings)
}

fn lint_inis(
    inis: &[PathBuf],
    stdin: Option<(PathBuf, Vec<u8>)>,
    settings: &Settings,
) -> std::io::Result<Report> {
    let cwd = std::env::current_dir()?;
    let mut host = HostFacts::local(CATALOGUE_VERSION);
    host.cwd = cwd.clone();
    let opts = ResolveOptions {
        fallback_to_including_dir: true,
        stdin,
    };
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let mut checked = Vec::new();
    for ini in inis {
        let spec = display_name(&cwd, ini);
        let mut inv = Invocation::ini(&spec, &[]);
        if crate::discover::format_of(ini) == Some(resolve::ConfigFormat::Yaml) {
            inv.args[0] = "--yaml".into();
        }
        inv.env = settings.env.clone();
        let resolved = resolve::resolve(&inv, &host, &opts, &mut sources);
        let Some((file, _)) = resolved.files.first().cloned() else {
            continue;
        };
        let ctx = IniContext {
            sources: &sources,
            file,
            resolved: &resolved,
            target: settings.uwsgi_version.unwrap_or(NEWEST_2_0),
        };
        diagnostics.extend(rules::check_ini(&ctx, &|r| is_selected(settings, r)));
        checked.extend(resolved.files.iter().map(|(f, _)| *f));
    }
    // Each file once, even when several inis include it.
    checked.sort();
    checked.dedup_by(|a, b| sources.get(*a).path == sources.get(*b).path);
    let mut diagnostics = crate::suppress::apply(&sources, &checked, diagnostics, &|r| {
        is_selected(settings, r)
    });
    crate::output::normalize(&sources, &mut diagnostics);
    Ok(Report {
        sources,
        diagnostics,
        files: inis.len(),
    })
}
