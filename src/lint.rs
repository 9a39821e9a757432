//! The pipeline for `check`: discover → parse/resolve → check → (report).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::Diagnostic;
use crate::rules::{self, IniContext};
use crate::settings::{ConfigError, Overrides, Settings};
use crate::source::SourceMap;
use crate::uwsgi::magic::HostFacts;
use crate::uwsgi::options::{CATALOGUE_VERSION, NEWEST_2_0};
use crate::uwsgi::resolve::{self, Invocation, ResolveOptions, display_name};

pub struct Report {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
}

#[derive(Debug)]
pub enum LintError {
    Io(std::io::Error),
    Config(ConfigError),
}

impl std::fmt::Display for LintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LintError::Io(e) => write!(f, "{e}"),
            LintError::Config(e) => write!(f, "{e}"),
        }
    }
}

impl From<std::io::Error> for LintError {
    fn from(e: std::io::Error) -> Self {
        LintError::Io(e)
    }
}

impl From<ConfigError> for LintError {
    fn from(e: ConfigError) -> Self {
        LintError::Config(e)
    }
}

/// Settings per directory, each looked up once.
struct SettingsCache<'a> {
    overrides: &'a Overrides,
    by_dir: HashMap<PathBuf, Settings>,
}

impl SettingsCache<'_> {
    fn for_file(&mut self, file: &Path) -> Result<&Settings, ConfigError> {
        let dir = std::fs::canonicalize(file)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| file.parent().map(Path::to_path_buf).unwrap_or_default());
        if !self.by_dir.contains_key(&dir) {
            let s = self.overrides.settings_for(&dir)?;
            self.by_dir.insert(dir.clone(), s);
        }
        Ok(&self.by_dir[&dir])
    }
}

pub fn lint(paths: &[PathBuf], overrides: &Overrides) -> Result<Report, LintError> {
    let inis = crate::discover::uwsgi_inis(paths)?;
    let mut report = lint_inis(&inis, None, overrides)?;
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
pub fn lint_stdin(
    name: &Path,
    content: Vec<u8>,
    overrides: &Overrides,
) -> Result<Report, LintError> {
    let cwd = std::env::current_dir()?;
    let abs = resolve::normalize_lexically(&cwd.join(name));
    lint_inis(&[name.to_path_buf()], Some((abs, content)), overrides)
}

fn lint_inis(
    inis: &[PathBuf],
    stdin: Option<(PathBuf, Vec<u8>)>,
    overrides: &Overrides,
) -> Result<Report, LintError> {
    let cwd = std::env::current_dir()?;
    let mut host = HostFacts::local(CATALOGUE_VERSION);
    host.cwd = cwd.clone();
    let opts = ResolveOptions {
        fallback_to_including_dir: true,
        stdin,
    };
    let mut cache = SettingsCache {
        overrides,
        by_dir: HashMap::new(),
    };
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    for ini in inis {
        let settings = cache.for_file(ini)?.clone();
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
        let found = rules::check_ini(&ctx, &|r| settings.is_selected(r));
        let mut checked: Vec<_> = resolved.files.iter().map(|(f, _)| *f).collect();
        checked.sort();
        checked.dedup_by(|a, b| sources.get(*a).path == sources.get(*b).path);
        let found = crate::suppress::apply(&sources, &checked, found, &|r| settings.is_selected(r));
        for mut d in found {
            let path = sources.get(d.file).path.clone().unwrap_or_default();
            if settings.ignored_in(&path, d.code) {
                continue;
            }
            d.severity = settings.severity_of(d.code, d.severity);
            diagnostics.push(d);
        }
    }
    crate::output::normalize(&sources, &mut diagnostics);
    Ok(Report {
        sources,
        diagnostics,
        files: inis.len(),
    })
}
