//! The pipeline for `check`: discover → parse/resolve → check → (report).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::deployment::Deployment;
use crate::diagnostic::Diagnostic;
use crate::rules::{self, DeploymentContext, IniContext};
use crate::settings::{ConfigError, Overrides, Settings};
use crate::source::{FileId, SourceFile, SourceMap};
use crate::uwsgi::magic::HostFacts;
use crate::uwsgi::options::{CATALOGUE_VERSION, NEWEST_2_0};
use crate::uwsgi::resolve::{self, Invocation, ResolveOptions, display_name};

pub struct Report {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
    /// Every link made, for `--verbose` and the JSON `deployments` array.
    pub deployments: Vec<Deployment>,
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
    let tasks = crate::discover::ecs_tasks(paths);
    let mut report = lint_inis(&inis, &tasks, None, overrides)?;
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
    let tasks = crate::discover::ecs_tasks(&[name.to_path_buf()]);
    lint_inis(
        &[name.to_path_buf()],
        &tasks,
        Some((abs, content)),
        overrides,
    )
}

/// Read the task definitions into `sources` and link them to the configs.
fn link(
    inis: &[PathBuf],
    task_files: &[PathBuf],
    sources: &mut SourceMap,
) -> Vec<(Deployment, Option<FileId>)> {
    let mut tasks = Vec::new();
    let mut ids = HashMap::new();
    for f in task_files {
        let Ok(bytes) = resolve::read_local(f) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Ok(Some(task)) = crate::container::ecs::parse(&text) {
            let cwd = std::env::current_dir().unwrap_or_default();
            let id = sources.add(SourceFile::new(
                display_name(&cwd, f),
                Some(f.clone()),
                bytes,
            ));
            ids.insert(f.clone(), id);
            tasks.push((f.clone(), task));
        }
    }
    let configs: Vec<PathBuf> = inis
        .iter()
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()))
        .collect();
    crate::deployment::link_ecs(&configs, &tasks)
        .into_iter()
        .map(|d| {
            let id = ids.get(&d.container_file).copied();
            (d, id)
        })
        .collect()
}

/// The uWSGI arguments of a linked container, with the config it names
/// replaced by the repository file (`spec`), so the other arguments and
/// their order still apply as uWSGI would see them.
fn container_invocation(d: &Deployment, spec: &str, yaml: bool) -> Vec<String> {
    let mut args = Vec::new();
    let mut replaced = false;
    let mut i = 0;
    let is_config = |a: &str| a.ends_with(".ini") || a.ends_with(".yaml") || a.ends_with(".yml");
    while i < d.args.len() {
        let a = &d.args[i];
        if matches!(a.as_str(), "--ini" | "--yaml" | "--yml") && i + 1 < d.args.len() && !replaced {
            args.push(a.clone());
            args.push(spec.to_string());
            replaced = true;
            i += 2;
            continue;
        }
        if (a.starts_with("--ini=") || a.starts_with("--yaml=") || a.starts_with("--yml="))
            && !replaced
        {
            let flag = a.split('=').next().unwrap_or("--ini");
            args.push(format!("{flag}={spec}"));
            replaced = true;
        } else if !a.starts_with('-') && is_config(a) && !replaced {
            args.push(spec.to_string());
            replaced = true;
        } else {
            args.push(a.clone());
        }
        i += 1;
    }
    if !replaced {
        args.insert(0, spec.to_string());
        args.insert(0, if yaml { "--yaml" } else { "--ini" }.to_string());
    }
    args
}

fn lint_inis(
    inis: &[PathBuf],
    task_files: &[PathBuf],
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
    let links = link(inis, task_files, &mut sources);
    let deployment_contexts: Vec<DeploymentContext> = links
        .iter()
        .map(|(d, id)| {
            let at = |p: &crate::deployment::Place| id.map(|f| (f, p.span, p.message.clone()));
            DeploymentContext {
                deployment: d.clone(),
                limit_places: d
                    .limit
                    .as_ref()
                    .map(|l| l.places.iter().filter_map(at).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    for ini in inis {
        let settings = cache.for_file(ini)?.clone();
        let spec = display_name(&cwd, ini);
        let yaml = crate::discover::format_of(ini) == Some(resolve::ConfigFormat::Yaml);
        let canonical = std::fs::canonicalize(ini).unwrap_or_else(|_| ini.clone());
        let mine: Vec<&DeploymentContext> = deployment_contexts
            .iter()
            .filter(|d| d.deployment.uwsgi == canonical)
            .collect();
        // Checked once per container that runs it, or once on its own.
        let runs: Vec<Option<&DeploymentContext>> = if mine.is_empty() {
            vec![None]
        } else {
            mine.into_iter().map(Some).collect()
        };
        for dep in runs {
            let mut inv = Invocation::ini(&spec, &[]);
            if yaml {
                inv.args[0] = "--yaml".into();
            }
            inv.env = settings.env.clone();
            if let Some(d) = dep {
                inv.args = container_invocation(&d.deployment, &spec, yaml);
                inv.env.extend(d.deployment.env.iter().cloned());
            }
            let resolved = resolve::resolve(&inv, &host, &opts, &mut sources);
            let Some((file, _)) = resolved.files.first().cloned() else {
                continue;
            };
            let ctx = IniContext {
                sources: &sources,
                file,
                resolved: &resolved,
                target: settings.uwsgi_version.unwrap_or(NEWEST_2_0),
                deployment: dep,
                memory: &settings.memory,
                header_cache: Default::default(),
            };
            let found = rules::check_ini(&ctx, &|r| settings.is_selected(r));
            let mut checked: Vec<_> = resolved.files.iter().map(|(f, _)| *f).collect();
            checked.sort();
            checked.dedup_by(|a, b| sources.get(*a).path == sources.get(*b).path);
            let found =
                crate::suppress::apply(&sources, &checked, found, &|r| settings.is_selected(r));
            for mut d in found {
                let path = sources.get(d.file).path.clone().unwrap_or_default();
                if settings.ignored_in(&path, d.code) {
                    continue;
                }
                d.severity = settings.severity_of(d.code, d.severity);
                diagnostics.push(d);
            }
        }
    }
    crate::output::normalize(&sources, &mut diagnostics);
    Ok(Report {
        sources,
        diagnostics,
        files: inis.len(),
        deployments: links.into_iter().map(|(d, _)| d).collect(),
    })
}
