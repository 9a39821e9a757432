//! The pipeline for `check`: discover → parse/resolve → check → (report).

use foldhash::{HashMap, HashMapExt};
use std::path::{Path, PathBuf};

use crate::deployment::Deployment;
use crate::deployment::{ConfigFacts, Project};
use crate::diagnostic::Diagnostic;
use crate::input::Overlay;
use crate::rules::{self, IniContext, ProjectContext};
use crate::settings::{ConfigError, Overrides, Settings};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::uwsgi::magic::HostFacts;
use crate::uwsgi::options::{CATALOGUE_VERSION, NEWEST_2_0};
use crate::uwsgi::resolve::{self, Invocation, ResolveOptions, display_name};

pub struct Report {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
    /// Every link made, for `--verbose` and the JSON `deployments` array.
    pub deployments: Vec<Deployment>,
    /// The Nginx configurations read (deployments point into it).
    pub nginx: Vec<crate::deployment::NginxConf>,
    /// Configs checked that no container runs (files other configs include
    /// left out), with the Nginx in front of each and why.
    pub unlinked: Vec<Unlinked>,
    /// The project has containers or orchestrator files at all.
    pub has_containers: bool,
    /// Configs checked because a context file asked for takes part in
    /// their deployment.
    pub via_context: Vec<PathBuf>,
    /// Templates, or parts of them, read only once rendered.
    pub not_read: Vec<crate::model::NotRead>,
}

/// A config no container runs.
pub struct Unlinked {
    pub config: PathBuf,
    pub fronts: Vec<(usize, String)>,
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
        let real = crate::source::canonicalize(file).ok();
        self.for_real(file, real.as_deref())
    }

    /// [`Self::for_file`] when the file's canonical path (if it exists) is known.
    fn for_real(&mut self, file: &Path, real: Option<&Path>) -> Result<&Settings, ConfigError> {
        let dir = real
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| file.parent().map(Path::to_path_buf).unwrap_or_default());
        if !self.by_dir.contains_key(&dir) {
            let s = self.overrides.settings_for(&dir)?;
            self.by_dir.insert(dir.clone(), s);
        }
        Ok(&self.by_dir[&dir])
    }
}

/// Discover, read, link and resolve everything under `paths`.
pub fn prepare(paths: &[PathBuf], overrides: &Overrides) -> Result<Prepared, LintError> {
    prepare_with(paths, overrides, &Overlay::new())
}

/// [`prepare`], reading the overlay's texts instead of the files they stand for.
pub fn prepare_with(
    paths: &[PathBuf],
    overrides: &Overrides,
    overlay: &Overlay,
) -> Result<Prepared, LintError> {
    crate::source::begin_run();
    let roots = if overrides.no_context {
        Vec::new()
    } else {
        crate::discover::context_roots(paths)
    };
    // One walk finds the context and the configs.
    let mut context = crate::discover::context(&roots, overlay);
    let inis = crate::discover::uwsgi_inis_in(paths, &context, overlay)?;
    // Every config of the project takes part in linking; only those under
    // `paths` are checked.
    let mut all = context.configs.clone();
    all.extend(inis.iter().cloned());
    let asked: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| crate::source::canonicalize(p).ok())
        .collect();
    prepare_inis(&inis, &all, &mut context, overlay, overrides, &asked)
}

pub fn lint(paths: &[PathBuf], overrides: &Overrides) -> Result<Report, LintError> {
    lint_with(paths, overrides, &Overlay::new()).map(|a| a.report)
}

/// A lint's report together with what the rules saw (the resolved configs),
/// for front ends that show more than findings (the LSP).
pub struct Analysis {
    pub report: Report,
    /// Each config as each container runs it (or on its own).
    pub runs: Vec<Run>,
}

/// [`lint`], reading the overlay's texts instead of the files they stand for.
pub fn lint_with(
    paths: &[PathBuf],
    overrides: &Overrides,
    overlay: &Overlay,
) -> Result<Analysis, LintError> {
    let (mut report, runs) = check(prepare_with(paths, overrides, overlay)?);
    retain_asked(&mut report, paths);
    Ok(Analysis { report, runs })
}

/// Report only on what was asked for (pre-commit passes single files): a
/// finding inside an included file outside `paths` belongs to that file.
pub(crate) fn retain_asked(report: &mut Report, paths: &[PathBuf]) {
    let mut asked: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| crate::source::canonicalize(p).ok())
        .collect();
    asked.extend(report.via_context.iter().cloned());
    let sources = &report.sources;
    report.diagnostics.retain(|d| {
        sources.get(d.file).path.as_ref().is_none_or(|p| {
            let p = crate::input::shown_path(p);
            asked.iter().any(|r| p.starts_with(r))
        })
    });
}

/// Lint content read from standard input as if it were the file `name`
/// (its includes and its context are still read from disk, around where it
/// would be).
pub fn lint_stdin(
    name: &Path,
    content: Vec<u8>,
    overrides: &Overrides,
) -> Result<Report, LintError> {
    crate::source::begin_run();
    let cwd = std::env::current_dir()?;
    let abs = resolve::normalize_lexically(&cwd.join(name));
    // The name places the content in the project; a name outside it
    // (`../x.ini`, `/x.ini`) would make another directory, up to `/`, the
    // project whose files are read.
    let project = crate::discover::repo_root(&cwd);
    let real_cwd = std::fs::canonicalize(&cwd).unwrap_or_else(|_| cwd.clone());
    if !resolve::normalize_lexically(&real_cwd.join(name)).starts_with(&project) {
        return Err(LintError::Io(std::io::Error::other(format!(
            "--stdin-filename `{}` lies outside the project ({}); name the file as it is in the project",
            name.display(),
            project.display()
        ))));
    }
    let roots = if overrides.no_context {
        Vec::new()
    } else {
        vec![crate::discover::repo_root(abs.parent().unwrap_or(&cwd))]
    };
    let overlay = Overlay::single(&abs, content);
    let mut context = crate::discover::context(&roots, &overlay);
    let mut all = context.configs.clone();
    all.retain(|p| crate::source::canonicalize(p).ok().as_deref() != Some(abs.as_path()));
    all.push(name.to_path_buf());
    let prepared = prepare_inis(
        &[name.to_path_buf()],
        &all,
        &mut context,
        &overlay,
        overrides,
        &[],
    )?;
    Ok(check(prepared).0)
}

/// The uWSGI arguments of a linked container, with the config it names
/// replaced by the repository file (`spec`), so the other arguments and
/// their order still apply as uWSGI would see them.
fn container_invocation(d: &Deployment, spec: &str, yaml: bool) -> Vec<String> {
    let mut args = Vec::new();
    let mut replaced = false;
    let mut i = 0;
    let all: Vec<&str> = d.args.iter().map(|a| a.value.as_str()).collect();
    while i < all.len() {
        let a = all[i];
        if matches!(a, "--ini" | "--yaml" | "--yml") && i + 1 < all.len() && !replaced {
            args.push(a.to_string());
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
        } else if !a.starts_with('-') && crate::deployment::is_config_name(a) && !replaced {
            args.push(spec.to_string());
            replaced = true;
        } else {
            args.push(a.to_string());
        }
        i += 1;
    }
    if !replaced {
        args.insert(0, spec.to_string());
        args.insert(0, if yaml { "--yaml" } else { "--ini" }.to_string());
    }
    args
}

fn invocation(spec: &str, yaml: bool, env: &[(String, String)]) -> Invocation {
    let mut inv = Invocation::ini(spec, &[]);
    if yaml {
        inv.args[0] = "--yaml".into();
    }
    inv.env = env.to_vec();
    inv
}

/// One config as one container runs it (or on its own), resolved.
pub struct Run {
    pub ini: PathBuf,
    /// Index into [`Prepared::links`].
    pub deployment: Option<usize>,
    pub resolved: resolve::Resolved,
    pub file: FileId,
    pub nginx: Vec<usize>,
    /// Why each of `nginx` is taken to be in front (same order).
    pub nginx_why: Vec<String>,
    pub target: crate::uwsgi::version::Version,
    /// Where the target version is written (a pin, a Dockerfile line).
    pub target_from: Option<crate::container::Place>,
    pub settings: Settings,
    /// How it was resolved (an incremental session resolves it again).
    pub inv: Invocation,
}

impl Run {
    /// The context rules (and `advise`) see.
    pub fn context<'a>(
        &'a self,
        sources: &'a SourceMap,
        project: &'a ProjectContext,
        links: &'a [Deployment],
    ) -> IniContext<'a> {
        IniContext {
            sources,
            file: self.file,
            resolved: &self.resolved,
            target: self.target,
            target_from: self.target_from.clone(),
            deployment: self.deployment.map(|i| &links[i]),
            project,
            nginx: self.nginx.clone(),
            memory: &self.settings.memory,
            header_cache: Default::default(),
            anchor_cache: Default::default(),
            doc_cache: Default::default(),
            sockets_cache: Default::default(),
        }
    }
}

/// Everything up to the rules: sources read, context linked, configs resolved.
pub struct Prepared {
    pub sources: SourceMap,
    pub project: ProjectContext,
    pub links: Vec<Deployment>,
    pub runs: Vec<Run>,
    /// Problems found reading the context files.
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
    /// Configs checked because an asked context file takes part in their
    /// deployment (canonical).
    pub via_context: Vec<PathBuf>,
    /// The host and options every config was resolved with.
    pub host: HostFacts,
    pub opts: ResolveOptions,
    /// Each config of the project resolved alone (what linking saw).
    pub alone: Vec<Alone>,
}

/// A config resolved on its own: the facts linking matches on and the
/// files its resolution read.
#[derive(Debug, Clone)]
pub struct Alone {
    pub facts: ConfigFacts,
    pub inv: Invocation,
    /// Included files (canonical), in the order read.
    pub included: Vec<PathBuf>,
}

fn prepare_inis(
    inis: &[PathBuf],
    all_configs: &[PathBuf],
    context: &mut crate::discover::ContextFiles,
    overlay: &Overlay,
    overrides: &Overrides,
    asked: &[PathBuf],
) -> Result<Prepared, LintError> {
    let prefetched = std::mem::take(&mut context.texts);
    let context = &*context;
    // Context files asked for (a Compose file, an Nginx file …): the
    // deployments they take part in are checked too.
    let claimed: foldhash::HashSet<&PathBuf> = context.claimed.all().collect();
    let asked_context: Vec<PathBuf> = asked
        .iter()
        .filter(|p| claimed.contains(p))
        .cloned()
        .collect();
    let cwd = std::env::current_dir()?;
    let mut host = HostFacts::anonymous(CATALOGUE_VERSION);
    host.cwd = cwd.clone();
    // Files are read only inside the projects linted (their roots).
    let mut confine: Vec<PathBuf> = context.roots.clone();
    // A config inside a root that is a repository's has its repository
    // root inside that root: it adds nothing (and costs no look-up).
    // (Compared with real paths: a root as given, `.`, is a prefix of none.)
    let repos: Vec<PathBuf> = context
        .roots
        .iter()
        .filter(|r| r.join(".git").exists())
        .filter_map(|r| crate::source::canonicalize(r).ok())
        .collect();
    let elsewhere: Vec<PathBuf> = inis
        .iter()
        .filter(|p| {
            context
                .real_path(p)
                .map_or(true, |real| !repos.iter().any(|r| real.starts_with(r)))
        })
        .cloned()
        .collect();
    confine.extend(crate::discover::context_roots(&elsewhere));
    // An unsaved file's project is read too (`--stdin-filename`).
    for p in inis.iter().filter(|p| overlay.contains(p)) {
        let abs = resolve::normalize_lexically(&cwd.join(p));
        confine.push(crate::discover::repo_root(abs.parent().unwrap_or(&cwd)));
    }
    let confine = confine
        .into_iter()
        .filter_map(|r| crate::source::canonicalize(r).ok())
        .collect();
    let mut opts = ResolveOptions {
        foreign_host: true,
        fallback_to_including_dir: true,
        overlay: overlay.clone(),
        confine,
    };
    let mut cache = SettingsCache {
        overrides,
        by_dir: HashMap::new(),
    };
    let mut sources = SourceMap::new();
    let mut reading = crate::readers::ReadContext {
        overlay,
        sources: &mut sources,
        cwd: cwd.clone(),
        ids: HashMap::new(),
        problems: Vec::new(),
        not_read: Vec::new(),
        roots: &context.roots,
        nginx_prefix: overrides.nginx_prefix.as_deref(),
        project: Project::default(),
        nginx_ids: Vec::new(),
        embedded: HashMap::new(),
        embedded_configs: Vec::new(),
        prefetched,
    };
    reading.read_all(&context.claimed);
    let crate::readers::ReadContext {
        ids,
        problems,
        not_read,
        mut project,
        nginx_ids,
        embedded,
        embedded_configs,
        ..
    } = reading;
    let (inis, all_configs) = with_embedded(
        inis,
        all_configs,
        &mut opts.overlay,
        embedded,
        &embedded_configs,
        asked,
    );
    let (inis, all_configs) = (&inis[..], &all_configs[..]);
    if overrides.detect
        && let Some(d) =
            crate::container::cgroup::detect(Path::new("/sys/fs/cgroup"), Path::new("/proc"))
    {
        if let Some(problem) = &d.problem {
            return Err(LintError::Io(std::io::Error::other(format!(
                "--detect: {problem}"
            ))));
        }
        project.containers.push(d.container());
    }
    // Project directories: where files of a project lie, or a repository
    // root (a README, `.git`, ...); and the roots walked.
    project.roots = context.roots.clone();
    // Each config canonicalised once (the context files are already).
    let all: Vec<PathBuf> = all_configs
        .iter()
        .map(|p| {
            context
                .real_path(p)
                .unwrap_or_else(|_| resolve::normalize_lexically(&cwd.join(p)))
        })
        .collect();
    // A directory between a file and the root walked above it is not
    // looked at for project markers: the root is a project directory (what
    // `check DIR` was given) and covers it (`Project::covers`), so whether
    // it holds a README changes nothing. Each directory looked at once.
    let mut visited: foldhash::HashSet<&Path> = foldhash::HashSet::default();
    for f in context.claimed.all().chain(&all) {
        let mut dir = f.parent();
        if let Some(d) = dir
            && !project.dirs.contains(d)
        {
            project.dirs.insert(d.to_path_buf());
        }
        // Up to the roots walked: what lies above is not this project's.
        while let Some(d) = dir.filter(|d| context.roots.iter().any(|r| d.starts_with(r))) {
            if !visited.insert(d) {
                break;
            }
            if context.roots.iter().any(|r| r == d) {
                project.dirs.insert(d.to_path_buf());
            }
            dir = d.parent();
        }
    }
    // Problems in context files obey the settings that apply where they are.
    let mut diagnostics = Vec::new();
    for p in problems {
        let Some(rule) = rules::find(p.code) else {
            continue;
        };
        let mut d = rule.diag(p.file, p.span, p.message);
        let path = sources.get(d.file).path.clone().unwrap_or_default();
        let settings = cache.for_file(&path)?;
        let selected = rules::find(d.code).is_some_and(|r| settings.is_selected(r));
        if !selected || settings.ignored_in(&path, d.code) {
            continue;
        }
        d.severity = settings.severity_of(d.code, d.severity);
        diagnostics.push(d);
    }

    // Each config resolved alone, for the sockets linking matches on.
    let mut all = all;
    all.sort();
    all.dedup();
    // Settings first (they are cached and may fail), then every config
    // resolved on its own, in parallel: each into its own scratch map.
    let mut all_settings = Vec::with_capacity(all.len());
    for p in &all {
        // `all` is canonical: a path that exists is its own real path.
        all_settings.push(
            cache
                .for_real(p, crate::source::exists(p).then_some(p.as_path()))?
                .env
                .clone(),
        );
    }
    let inis_real: Vec<Option<PathBuf>> = inis.iter().map(|p| context.real_path(p).ok()).collect();
    let checked: foldhash::HashSet<&Path> =
        inis_real.iter().flatten().map(PathBuf::as_path).collect();
    let alone_in: Vec<(&PathBuf, &Vec<(String, String)>)> = all.iter().zip(&all_settings).collect();
    // A checked config's resolution is kept: a run with the same
    // invocation (no container, or one adding nothing) takes it instead
    // of resolving the config again.
    let (resolved_alone, kept): (Vec<Alone>, Vec<Option<KeptResolution>>) =
        crate::parallel::par_map(&alone_in, |(p, env)| {
            let yaml = crate::discover::format_of(p) == Some(resolve::ConfigFormat::Yaml);
            let inv = invocation(&display_name(&cwd, p), yaml, env);
            let mut scratch = SourceMap::new();
            let r = resolve::resolve(&inv, &host, &opts, &mut scratch);
            let a = alone_from((*p).clone(), inv, &r, &scratch);
            (a, checked.contains(p.as_path()).then_some((r, scratch)))
        })
        .into_iter()
        .unzip();
    let mut kept = kept;
    let mut facts = Vec::with_capacity(resolved_alone.len());
    let mut included = foldhash::HashSet::default();
    for a in &resolved_alone {
        facts.push(a.facts.clone());
        included.extend(a.included.iter().cloned());
    }
    // Each `[[deployment]]` once, in order: the configs of one settings
    // file all carry its list, and a repeat links nothing more.
    let mut explicit: Vec<crate::deployment::Explicit> = Vec::new();
    let mut seen_explicit = foldhash::HashSet::default();
    let asked_real = asked_context.iter().map(|p| (p, Some(p.as_path())));
    for (p, real) in inis
        .iter()
        .zip(inis_real.iter().map(|r| r.as_deref()))
        .chain(asked_real)
    {
        if let Ok(s) = cache.for_real(p, real) {
            for d in &s.deployments {
                if seen_explicit.insert(d.clone()) {
                    explicit.push(d.clone());
                }
            }
        }
    }
    let index = crate::deployment::Index::new(&facts, &project, &explicit);
    let mut links = crate::deployment::link_indexed(&index, &facts, &project, &explicit);
    crate::fronts::link(&mut links, &project);
    if overrides.detect {
        // Inside the container, every config checked runs in this cgroup.
        let cg = project
            .containers
            .iter()
            .find(|c| c.orchestrator == crate::container::Orchestrator::Cgroup);
        for p in &all {
            if let Some(c) = cg
                && !links.iter().any(|d| &d.uwsgi == p)
            {
                links.push(Deployment {
                    uwsgi: p.clone(),
                    container: c.clone(),
                    dockerfile: None,
                    reason: "`--detect`: the cgroup this runs in".into(),
                    args: Vec::new(),
                    args_place: None,
                    env: Vec::new(),
                    nginx: Vec::new(),
                    nginx_why: Vec::new(),
                    unix_aliases: Vec::new(),
                    nginx_colocated: None,
                    stop_signal: None,
                    stop_wait: None,
                    shell_in_front: None,
                    version: None,
                    command_line: false,
                    runtime_options: false,
                    fronts: Vec::new(),
                });
            }
        }
    }
    if let Some(limit) = overrides.memory_limit {
        for d in links.iter_mut().filter(|d| d.container.limit.is_none()) {
            d.container.limit = Some(crate::container::Limit {
                bytes: crate::units::Bytes(limit),
                explanation: format!("`--memory-limit` {}", crate::units::Bytes(limit)),
                places: Vec::new(),
            });
        }
    }
    // Configs of the deployments the asked context files take part in.
    let mut via_context: Vec<PathBuf> = Vec::new();
    if !asked_context.is_empty() {
        let asked: foldhash::HashSet<&Path> = asked_context.iter().map(PathBuf::as_path).collect();
        for d in links.iter().filter(|d| !d.command_line) {
            if crate::deployment::files_of(d, &project).any(|f| asked.contains(f)) {
                via_context.push(d.uwsgi.clone());
            }
        }
        // Configs no container runs, behind an asked Nginx file.
        let linked: foldhash::HashSet<&PathBuf> = links.iter().map(|d| &d.uwsgi).collect();
        for f in &facts {
            if linked.contains(&f.path) {
                continue;
            }
            let fronts = index.related_nginx(&project, &f.path, &f.sockets, None);
            if fronts.iter().any(|(n, _)| {
                project.nginx[*n]
                    .parts
                    .iter()
                    .any(|p| asked.contains(p.path.as_path()))
            }) {
                via_context.push(f.path.clone());
            }
        }
        let checked: foldhash::HashSet<&PathBuf> = inis_real.iter().flatten().collect();
        via_context.retain(|p| !checked.contains(p));
        via_context.sort();
        via_context.dedup();
    }
    let (inis, inis_real): (Vec<PathBuf>, Vec<Option<PathBuf>>) = inis
        .iter()
        .cloned()
        .zip(inis_real)
        .chain(via_context.iter().map(|p| (p.clone(), Some(p.clone()))))
        .unzip();
    // A config a linked container loads through `UWSGI_INI` is in use.
    included.extend(
        links
            .iter()
            .flat_map(|d| &d.env)
            .filter(|e| e.name == "UWSGI_INI" || e.name == "UWSGI_YAML")
            .map(|e| PathBuf::from(&e.value)),
    );
    let uwsgi_hosts = links
        .iter()
        .flat_map(|d| d.container.hostnames.iter().cloned())
        .filter(|h| h != "localhost" && h != "127.0.0.1")
        .collect();
    let pctx = ProjectContext {
        not_read,
        has_containers: !project.containers.is_empty() || !project.dockerfiles.is_empty(),
        linked: links.iter().map(|d| d.uwsgi.clone()).collect(),
        runner_files: {
            let mut by_dir: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
            for d in &links {
                if let Some(dir) = d.container.file.parent() {
                    by_dir
                        .entry(dir.to_path_buf())
                        .or_default()
                        .push(d.container.file.clone());
                }
            }
            by_dir
        },
        included,
        all_sockets: facts
            .iter()
            .flat_map(|f| f.sockets.iter().cloned())
            .collect(),
        uwsgi_hosts,
        project,
        ids,
        nginx_ids,
    };

    let mut runs = Vec::new();
    let mut links_of: HashMap<&Path, Vec<usize>> = HashMap::new();
    for (i, d) in links.iter().enumerate() {
        links_of.entry(d.uwsgi.as_path()).or_default().push(i);
    }
    // Each config as each container runs it (or on its own): the
    // invocations first (settings are cached and may fail), then each
    // resolved on its own, in parallel, into a source map of its own;
    // those are merged in order, which gives the file ids resolving one
    // after another into one map gives.
    struct Job {
        ini: usize,
        dep: Option<usize>,
        inv: Invocation,
    }
    let mut per_ini: Vec<(Settings, String, PathBuf)> = Vec::with_capacity(inis.len());
    let mut real_known: Vec<bool> = Vec::with_capacity(inis.len());
    let mut jobs: Vec<Job> = Vec::new();
    for (k, (ini, real)) in inis.iter().zip(&inis_real).enumerate() {
        let settings = cache.for_real(ini, real.as_deref())?.clone();
        let spec = display_name(&cwd, ini);
        let yaml = crate::discover::format_of(ini) == Some(resolve::ConfigFormat::Yaml);
        let canonical = real
            .clone()
            .unwrap_or_else(|| resolve::normalize_lexically(&cwd.join(ini)));
        let mine: Vec<usize> = links_of
            .get(canonical.as_path())
            .cloned()
            .unwrap_or_default();
        // Checked once per container that runs it, or once on its own.
        let deps: Vec<Option<usize>> = if mine.is_empty() {
            vec![None]
        } else {
            mine.into_iter().map(Some).collect()
        };
        for dep in deps {
            let d = dep.map(|i| &links[i]);
            let mut inv = invocation(&spec, yaml, &settings.env);
            if let Some(d) = d {
                inv.args = container_invocation(d, &spec, yaml);
                inv.env
                    .extend(d.env.iter().map(|e| (e.name.clone(), e.value.clone())));
            }
            jobs.push(Job { ini: k, dep, inv });
        }
        per_ini.push((settings, spec, canonical));
        real_known.push(real.is_some());
    }
    // The first job of a config whose invocation is the one it was
    // resolved with alone takes that resolution; the others are dropped
    // before the rest are resolved.
    let alone_at: HashMap<&Path, usize> = all
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_path(), i))
        .collect();
    let mut reused: Vec<Option<KeptResolution>> = jobs
        .iter()
        .map(|job| {
            let i = *alone_at.get(per_ini[job.ini].2.as_path())?;
            if resolved_alone[i].inv != job.inv {
                return None;
            }
            kept[i].take()
        })
        .collect();
    drop(kept);
    let fresh: Vec<usize> = (0..jobs.len()).filter(|i| reused[*i].is_none()).collect();
    let resolved_fresh = crate::parallel::par_map(&fresh, |i| {
        let mut scratch = SourceMap::new();
        let r = resolve::resolve(&jobs[*i].inv, &host, &opts, &mut scratch);
        (r, scratch)
    });
    for (i, r) in fresh.into_iter().zip(resolved_fresh) {
        reused[i] = Some(r);
    }
    let resolved_each = reused.into_iter().flatten();
    // A run is large and there are thousands: no doubling slack.
    runs.reserve_exact(jobs.len());
    for (job, (mut resolved, scratch)) in jobs.iter().zip(resolved_each) {
        let ids = sources.merge(scratch);
        resolved.remap_files(&ids);
        let ini = &inis[job.ini];
        let (settings, spec, canonical) = &per_ini[job.ini];
        let dep = job.dep;
        let d = dep.map(|i| &links[i]);
        // The checked file, not one `UWSGI_INI` loads before it.
        let own = resolved.files.iter().find(|(f, _)| {
            sources
                .get(*f)
                .path
                .as_deref()
                .is_some_and(|p| same_real(p, canonical, real_known[job.ini], &cwd))
        });
        let Some((file, _)) = own.or(resolved.files.first()).cloned() else {
            // The config itself could not be read (too large, unreadable,
            // not a regular file): said, never a silent pass.
            let id = sources.add(SourceFile::new(
                spec.clone(),
                Some(canonical.clone()),
                Vec::new(),
            ));
            let why = resolved
                .events
                .iter()
                .find(|e| e.fatal)
                .map_or_else(|| format!("cannot read `{spec}`"), |e| e.message.clone());
            if let Some(rule) = rules::find("UW001").filter(|r| settings.is_selected(r)) {
                diagnostics.push(rule.diag(id, Span::default(), why));
            }
            continue;
        };
        let (nginx, nginx_why): (Vec<usize>, Vec<String>) = match d {
            Some(d) => (d.nginx.clone(), d.nginx_why.clone()),
            None => index
                .related_nginx(
                    &pctx.project,
                    canonical,
                    &crate::deployment::sockets(&resolved),
                    None,
                )
                .into_iter()
                .unzip(),
        };
        // The target version, and where it is written when a file says it.
        let (target, target_from) = match settings.uwsgi_version {
            Some(v) => (v, None),
            None => match d
                .and_then(|d| d.version.clone())
                .or_else(|| pctx.project.pin_for(canonical))
            {
                Some((v, place)) => (v, Some(place)),
                None => (NEWEST_2_0, None),
            },
        };
        runs.push(Run {
            ini: ini.clone(),
            deployment: dep,
            resolved,
            file,
            nginx,
            nginx_why,
            target,
            target_from,
            settings: settings.clone(),
            inv: job.inv.clone(),
        });
    }
    // Containers whose command line is the whole config, below the paths
    // asked: checked like a file, their findings on the command's lines.
    let mut cli_configs = 0;
    for (i, d) in links.iter_mut().enumerate() {
        if !d.command_line {
            continue;
        }
        let Some(place) = d.args_place.clone() else {
            continue;
        };
        if !asked.iter().any(|a| place.file.starts_with(a)) {
            continue;
        }
        let Some(&file) = pctx.ids.get(&place.file) else {
            continue;
        };
        let settings = cache.for_file(&place.file)?.clone();
        let mut inv = Invocation {
            env: settings.env.clone(),
            args: d.args.iter().map(|a| a.value.clone()).collect(),
        };
        inv.env
            .extend(d.env.iter().map(|e| (e.name.clone(), e.value.clone())));
        let resolved = resolve::resolve(&inv, &host, &opts, &mut sources);
        let sockets = crate::deployment::sockets(&resolved);
        let fronts = index.related_nginx(&pctx.project, &d.uwsgi, &sockets, Some(&d.container));
        let (target, target_from) = match settings.uwsgi_version {
            Some(v) => (v, None),
            None => match d.version.clone() {
                Some((v, place)) => (v, Some(place)),
                None => (NEWEST_2_0, None),
            },
        };
        let (nginx, nginx_why): (Vec<usize>, Vec<String>) = fronts.into_iter().unzip();
        d.unix_aliases = index.unix_aliases(&pctx.project, &nginx, &sockets, &d.container);
        d.nginx = nginx.clone();
        d.nginx_why = nginx_why.clone();
        runs.push(Run {
            ini: d.uwsgi.clone(),
            deployment: Some(i),
            resolved,
            file,
            nginx,
            nginx_why,
            target,
            target_from,
            settings,
            inv,
        });
        cli_configs += 1;
    }
    Ok(Prepared {
        sources,
        project: pctx,
        links,
        runs,
        diagnostics,
        files: inis.len() + cli_configs,
        via_context,
        host,
        opts,
        alone: resolved_alone,
    })
}

/// Is `p` (relative to `cwd`) the file whose real path is `real`? Without
/// a system call when `p` names it plainly: no `..` (which a link would
/// change), and the path it spells is `real` itself (`real_exists`: it is
/// a real path, not a guess for a missing file).
fn same_real(p: &Path, real: &Path, real_exists: bool, cwd: &Path) -> bool {
    let plain = !p.components().any(|c| c == std::path::Component::ParentDir);
    if real_exists && plain && resolve::normalize_lexically(&cwd.join(p)) == real {
        return true;
    }
    crate::source::canonicalize(p).ok().as_deref() == Some(real)
}

/// A config's resolution and the sources it read.
type KeptResolution = (resolve::Resolved, SourceMap);

/// Resolve one config on its own, as linking sees it.
pub(crate) fn resolve_alone(
    path: PathBuf,
    inv: Invocation,
    host: &HostFacts,
    opts: &ResolveOptions,
) -> Alone {
    let mut scratch = SourceMap::new();
    let r = resolve::resolve(&inv, host, opts, &mut scratch);
    alone_from(path, inv, &r, &scratch)
}

/// What linking needs of a config resolved alone (`r`, read into `sources`).
pub(crate) fn alone_from(
    path: PathBuf,
    inv: Invocation,
    r: &resolve::Resolved,
    sources: &SourceMap,
) -> Alone {
    let included: Vec<PathBuf> = r
        .files
        .iter()
        .skip(1)
        .filter_map(|(f, _)| {
            let path = sources.get(*f).path.clone()?;
            Some(crate::source::canonicalize(&path).unwrap_or(path))
        })
        .collect::<Vec<_>>();
    // A config that loads a section of itself (`ini = :base`) is no file
    // another config includes.
    let me = crate::source::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let included: Vec<PathBuf> = included.into_iter().filter(|p| *p != me).collect();
    Alone {
        facts: ConfigFacts {
            path,
            sockets: crate::deployment::sockets(r),
        },
        inv,
        included,
    }
}

/// The configs to check and to link, with those embedded in context files
/// (a ConfigMap's `uwsgi.ini`) added: their texts go into the resolver's
/// overlay, so they are read (and include) like files. Every one takes
/// part in linking; those whose host file lies under `asked` are checked.
fn with_embedded(
    inis: &[PathBuf],
    all: &[PathBuf],
    overlay: &mut Overlay,
    texts: HashMap<PathBuf, Vec<u8>>,
    configs: &[PathBuf],
    asked: &[PathBuf],
) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let mut inis = inis.to_vec();
    let mut all = all.to_vec();
    if configs.is_empty() {
        return (inis, all);
    }
    for (path, text) in texts {
        overlay.insert(&path, text);
    }
    for c in configs {
        all.push(c.clone());
        let host = crate::input::shown_path(c);
        if asked.iter().any(|a| host.starts_with(a)) {
            inis.push(c.clone());
        }
    }
    (inis, all)
}

/// Where the resolver stopped at one of its budgets (options collected,
/// bytes expanded): the analysis of that config is incomplete, so it is a
/// UW001 error naming what was skipped, never a silent pass.
fn budget_diagnostics(run: &Run, settings: &Settings) -> Vec<Diagnostic> {
    let Some(rule) = rules::find("UW001").filter(|r| settings.is_selected(r)) else {
        return Vec::new();
    };
    run.resolved
        .events
        .iter()
        .filter(|e| e.kind == resolve::EventKind::ExpansionLimit)
        .map(|e| {
            let (file, span) = match e.origin.layer {
                resolve::Layer::File { file, line, .. } => (file, line),
                _ => (run.file, Span::default()),
            };
            rule.diag(file, span, e.message.clone())
        })
        .collect()
}

/// The findings of one run: its rules, budgets, suppressions and the
/// settings that apply to its files.
pub(crate) fn check_run(
    run: &Run,
    sources: &SourceMap,
    pctx: &ProjectContext,
    links: &[Deployment],
) -> Vec<Diagnostic> {
    let settings = &run.settings;
    let ctx = run.context(sources, pctx, links);
    let mut found = rules::check_ini(&ctx, &|r| settings.is_selected(r));
    found.extend(budget_diagnostics(run, settings));
    if ctx.command_line().is_some() {
        // A manifest's command line is not rewritten by fixes
        // (a shell-form command is one span).
        for d in &mut found {
            d.fix = None;
        }
    }
    let mut checked: Vec<_> = run.resolved.files.iter().map(|(f, _)| *f).collect();
    checked.sort();
    checked.dedup_by(|a, b| sources.get(*a).path == sources.get(*b).path);
    let found = crate::suppress::apply(sources, &checked, found, &|r| settings.is_selected(r));
    let mut out = Vec::new();
    for mut d in found {
        let path = sources.get(d.file).path.clone().unwrap_or_default();
        if settings.ignored_in(&path, d.code) {
            continue;
        }
        d.severity = settings.severity_of(d.code, d.severity);
        out.push(d);
    }
    out
}

/// Configs checked that no container runs (and no config includes).
pub(crate) fn unlinked(runs: &[Run], pctx: &ProjectContext) -> Vec<Unlinked> {
    runs.iter()
        .filter(|r| r.deployment.is_none())
        .filter(|r| {
            crate::source::canonicalize(&r.ini).map_or(true, |p| !pctx.included.contains(&p))
        })
        .map(|r| Unlinked {
            config: r.ini.clone(),
            fronts: r
                .nginx
                .iter()
                .copied()
                .zip(r.nginx_why.iter().cloned())
                .collect(),
        })
        .collect()
}

/// [`lint`] for a process that exits after the report: what the rules saw
/// (the runs, the project's context) is never freed piece by piece, which
/// takes a tenth of a second on a large tree.
pub fn lint_then_exit(paths: &[PathBuf], overrides: &Overrides) -> Result<Report, LintError> {
    let (mut report, runs, pctx) = check_keeping(prepare(paths, overrides)?);
    std::mem::forget(runs);
    std::mem::forget(pctx);
    retain_asked(&mut report, paths);
    Ok(report)
}

/// Run the rules on every prepared config.
fn check(prepared: Prepared) -> (Report, Vec<Run>) {
    let (report, runs, _) = check_keeping(prepared);
    (report, runs)
}

/// [`check`], handing the project's context back for the caller to drop
/// (or not).
fn check_keeping(prepared: Prepared) -> (Report, Vec<Run>, ProjectContext) {
    let Prepared {
        sources,
        project: mut pctx,
        links,
        runs,
        mut diagnostics,
        files,
        via_context,
        ..
    } = prepared;
    // Rules are pure functions of the prepared data: each run is checked on
    // its own, in parallel, and the findings kept in run order.
    let found: Vec<Vec<Diagnostic>> =
        { crate::parallel::par_map(&runs, |run| check_run(run, &sources, &pctx, &links)) };
    diagnostics.extend(found.into_iter().flatten());
    crate::output::normalize(&sources, &mut diagnostics);
    let unlinked = unlinked(&runs, &pctx);
    let report = Report {
        sources,
        diagnostics,
        files,
        deployments: links,
        nginx: std::mem::take(&mut pctx.project.nginx),
        unlinked,
        has_containers: pctx.has_containers,
        via_context,
        not_read: std::mem::take(&mut pctx.not_read),
    };
    (report, runs, pctx)
}
