//! An incremental session: `check`'s analysis of one project, kept between
//! edits (what the language server runs on every change).
//!
//! A full build is `check`'s pipeline (discover, read the context, resolve
//! every config alone, link, resolve each checked config as it runs,
//! rules). After it, a change to the text of a uWSGI config (or of a file
//! configs include) re-reads only that file: the configs whose resolution
//! read it are resolved again, and their rules run again, against the
//! context kept from the build. Whatever else changes — a context file
//! (Compose, Nginx, Kubernetes …), settings, ignore files, a file that
//! starts or stops being a config, a change to the sockets linking matched
//! on — invalidates the session and the next analysis is a full build. The
//! findings are those `check` reports for the same texts, either way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diagnostic::Diagnostic;
use crate::input::Overlay;
use crate::lint::{Alone, Analysis, LintError, Prepared, Report};
use crate::rules::ProjectContext;
use crate::settings::Overrides;
use crate::uwsgi::magic::HostFacts;
use crate::uwsgi::resolve::{self, ConfigFormat, ResolveOptions};

/// How analyses were made since the session started (for tests and
/// benchmarks that must know which path ran).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub full: u64,
    pub incremental: u64,
}

pub struct Session {
    paths: Vec<PathBuf>,
    overrides: Overrides,
    /// Unsaved texts by path (canonical, as the language server names files).
    texts: BTreeMap<PathBuf, Arc<[u8]>>,
    /// Files changed since the last analysis.
    pending: BTreeSet<PathBuf>,
    /// The next analysis must be a full build.
    stale: bool,
    state: Option<State>,
    counts: Counts,
}

/// What a full build keeps for the changes after it.
struct State {
    analysis: Analysis,
    pctx: ProjectContext,
    host: HostFacts,
    opts: ResolveOptions,
    alone: Vec<Alone>,
    /// Problems found reading the context files.
    context: Vec<Diagnostic>,
    /// The findings of each run, in run order.
    found: Vec<Vec<Diagnostic>>,
    /// Some config reads a file's content through `@(…)` or `for-readline`,
    /// which the resolver does not list among the files it loaded.
    reads_other_files: bool,
    /// `[output] docs-url` of the settings where the project lies (what
    /// `check` run there links rule pages to).
    docs_url: Option<String>,
}

/// Names whose content is settings or steers the walk.
const SETTINGS_NAMES: &[&str] = &[
    "uwsgi-lint.toml",
    ".uwsgi-lint.toml",
    "pyproject.toml",
    ".gitignore",
    ".ignore",
];

impl Session {
    /// A session checking `paths` (the language server passes the project
    /// root) with `overrides` over the configuration files.
    pub fn new(paths: Vec<PathBuf>, overrides: Overrides) -> Session {
        Session {
            paths,
            overrides,
            texts: BTreeMap::new(),
            pending: BTreeSet::new(),
            stale: true,
            state: None,
            counts: Counts::default(),
        }
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// New settings: the next analysis is a full build.
    pub fn set_overrides(&mut self, overrides: Overrides) {
        self.overrides = overrides;
        self.stale = true;
    }

    /// Forget everything kept (a file was created or deleted, or anything
    /// the session cannot tell the effect of).
    pub fn invalidate(&mut self) {
        self.stale = true;
    }

    /// The unsaved texts, all of them: compared with the last ones, each
    /// text that changed (or was opened) is a change; a closed one is too.
    pub fn set_texts<'a>(&mut self, texts: impl IntoIterator<Item = (&'a Path, &'a [u8])>) {
        let mut now: BTreeMap<PathBuf, Arc<[u8]>> = BTreeMap::new();
        for (path, text) in texts {
            let same = self.texts.get(path).filter(|old| &old[..] == text).cloned();
            match same {
                Some(old) => {
                    now.insert(path.to_path_buf(), old);
                }
                None => {
                    self.pending.insert(path.to_path_buf());
                    now.insert(path.to_path_buf(), text.into());
                }
            }
        }
        // A closed document reads from disk again: no overlay entry can be
        // taken back from the resolver's options, so this is a full build.
        if self.texts.keys().any(|p| !now.contains_key(p)) {
            self.stale = true;
        }
        self.texts = now;
    }

    /// A file changed on disk (not one whose unsaved text the session has).
    pub fn changed_on_disk(&mut self, path: &Path) {
        if !self.texts.contains_key(path) {
            self.pending.insert(path.to_path_buf());
        }
    }

    /// The analysis of the current texts: incremental when only configs
    /// (and files they include) changed since the last one.
    pub fn analysis(&mut self) -> Result<&Analysis, LintError> {
        crate::source::begin_run();
        let pending: Vec<PathBuf> = std::mem::take(&mut self.pending).into_iter().collect();
        let incremental =
            !self.stale && self.state.is_some() && (pending.is_empty() || self.apply(&pending));
        if !incremental {
            // Nothing half-updated survives a failure.
            self.state = None;
            self.stale = true;
            self.build()?;
            self.stale = false;
            self.counts.full += 1;
        } else if !pending.is_empty() {
            self.counts.incremental += 1;
        }
        match &self.state {
            Some(s) => Ok(&s.analysis),
            None => Err(LintError::Io(std::io::Error::other("no analysis"))),
        }
    }

    /// Where rule pages are published, by the project's settings.
    pub fn docs_url(&self) -> Option<&str> {
        self.state.as_ref().and_then(|s| s.docs_url.as_deref())
    }

    /// The last analysis made, if any.
    pub fn last(&self) -> Option<&Analysis> {
        self.state.as_ref().map(|s| &s.analysis)
    }

    fn overlay(&self) -> Overlay {
        let mut o = Overlay::new();
        for (p, t) in &self.texts {
            o.insert(p, t.to_vec());
        }
        o
    }

    /// `check`'s pipeline, keeping what later changes need.
    fn build(&mut self) -> Result<(), LintError> {
        let prepared = crate::lint::prepare_with(&self.paths, &self.overrides, &self.overlay())?;
        // As `check` takes it: the settings of the first path's directory.
        let docs_url = match self.paths.first() {
            Some(p) => {
                let dir = if p.is_dir() {
                    p.as_path()
                } else {
                    p.parent().unwrap_or(Path::new("."))
                };
                self.overrides.settings_for(dir)?.docs_url
            }
            None => None,
        };
        let Prepared {
            sources,
            project: pctx,
            links,
            runs,
            diagnostics: context,
            files,
            via_context,
            host,
            opts,
            alone,
        } = prepared;
        let found: Vec<Vec<Diagnostic>> = {
            crate::parallel::par_map(&runs, |run| {
                crate::lint::check_run(run, &sources, &pctx, &links)
            })
        };
        let reads_other_files = sources.iter().any(|(_, f)| reads_other_files(&f.bytes));
        let report = Report {
            sources,
            diagnostics: Vec::new(),
            files,
            deployments: links,
            nginx: pctx.project.nginx.clone(),
            unlinked: crate::lint::unlinked(&runs, &pctx),
            has_containers: pctx.has_containers,
            via_context,
            not_read: pctx.not_read.clone(),
        };
        let mut state = State {
            analysis: Analysis { report, runs },
            pctx,
            host,
            opts,
            alone,
            context,
            found,
            reads_other_files,
            docs_url,
        };
        state.assemble(&self.paths);
        self.state = Some(state);
        Ok(())
    }

    /// Bring the kept analysis up to date with changes to `changed`;
    /// `false` when only a full build can.
    fn apply(&mut self, changed: &[PathBuf]) -> bool {
        let Some(st) = self.state.as_mut() else {
            return false;
        };
        let mut affected_alone: BTreeSet<usize> = BTreeSet::new();
        let mut affected_runs: BTreeSet<usize> = BTreeSet::new();
        let mut new_texts: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        for path in changed {
            // (Settings are looked up above the project too.)
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if SETTINGS_NAMES.contains(&name)
                || self.overrides.config.as_deref() == Some(path.as_path())
                || st.pctx.ids.contains_key(path)
            {
                return false;
            }
            if !st.pctx.project.roots.iter().any(|r| path.starts_with(r))
                && !self.paths.iter().any(|r| path.starts_with(r))
            {
                // Outside the project: nothing here reads it.
                continue;
            }
            let bytes = match self.texts.get(path) {
                Some(t) => t.to_vec(),
                None => match crate::input::read_local(path) {
                    Ok(b) => b,
                    Err(_) => return false,
                },
            };
            let was_config = st.alone.iter().any(|a| a.facts.path == *path);
            let is_config = match crate::discover::format_of(path) {
                Some(ConfigFormat::Ini) => crate::discover::is_uwsgi_ini(&bytes),
                Some(ConfigFormat::Yaml) => crate::discover::is_uwsgi_yaml(&bytes),
                None => false,
            };
            if was_config != is_config {
                return false;
            }
            if !was_config && claimed_as_context(path, &bytes) {
                return false;
            }
            let mut read = false;
            for (i, a) in st.alone.iter().enumerate() {
                if a.facts.path == *path || a.included.contains(path) {
                    affected_alone.insert(i);
                    read = true;
                }
            }
            let sources = &st.analysis.report.sources;
            for (i, run) in st.analysis.runs.iter().enumerate() {
                if run
                    .resolved
                    .files
                    .iter()
                    .any(|(f, _)| sources.get(*f).path.as_deref() == Some(path.as_path()))
                {
                    affected_runs.insert(i);
                    read = true;
                }
            }
            if !read {
                if !st.opts.overlay.contains(path) && !path.exists() {
                    // A new unsaved file: an include or `if-exists` that
                    // missed it may find it now.
                    return false;
                }
                if st.reads_other_files {
                    return false;
                }
                // Nothing reads it.
                if let Some(t) = self.texts.get(path) {
                    st.opts.overlay.insert(path, t.to_vec());
                }
                continue;
            }
            if reads_other_files(&bytes) {
                st.reads_other_files = true;
            }
            new_texts.push((path.clone(), bytes));
        }
        // The resolver reads the new texts.
        for (path, bytes) in &new_texts {
            if self.texts.contains_key(path) {
                st.opts.overlay.insert(path, bytes.clone());
            }
        }
        let report = &mut st.analysis.report;
        let ids: Vec<_> = report
            .sources
            .iter()
            .filter(|(_, f)| {
                f.path
                    .as_deref()
                    .is_some_and(|p| new_texts.iter().any(|(q, _)| q == p))
            })
            .map(|(id, f)| (id, f.path.clone()))
            .collect();
        for (id, path) in ids {
            if let Some((_, bytes)) = new_texts.iter().find(|(q, _)| Some(q) == path.as_ref()) {
                report.sources.replace_bytes(id, bytes.clone());
            }
        }
        // The two resolutions of a changed config (alone, for linking; as
        // each container runs it, for the rules) are independent: on two
        // cores a keystroke waits for one of them, not both.
        let State {
            alone,
            analysis,
            host,
            opts,
            ..
        } = st;
        // A config no container runs is resolved the same way alone and as
        // run: its run's resolution gives the linking facts too.
        let (shared, own): (Vec<(usize, usize)>, BTreeSet<usize>) = {
            let mut shared = Vec::new();
            let mut own = BTreeSet::new();
            for &i in &affected_alone {
                match affected_runs
                    .iter()
                    .find(|&&j| analysis.runs[j].inv == alone[i].inv)
                {
                    Some(&j) => shared.push((i, j)),
                    None => {
                        own.insert(i);
                    }
                }
            }
            (shared, own)
        };
        let (alone_ok, runs_ok) = if own.is_empty() {
            // Nothing to hand to another thread (waking one costs more
            // than nothing at the tail of the latency).
            (true, re_resolve_runs(analysis, &affected_runs, host, opts))
        } else {
            rayon::join(
                || re_resolve_alone(alone, &own, host, opts),
                || re_resolve_runs(analysis, &affected_runs, host, opts),
            )
        };
        if !alone_ok || !runs_ok {
            return false;
        }
        for (i, j) in shared {
            let old = &alone[i];
            let new = crate::lint::alone_from(
                old.facts.path.clone(),
                old.inv.clone(),
                &analysis.runs[j].resolved,
                &analysis.report.sources,
            );
            if !replace_if_linked_alike(&mut alone[i], new) {
                return false;
            }
        }
        for &i in &affected_runs {
            let run = &st.analysis.runs[i];
            let found = crate::lint::check_run(
                run,
                &st.analysis.report.sources,
                &st.pctx,
                &st.analysis.report.deployments,
            );
            drop_aside(std::mem::replace(&mut st.found[i], found));
        }
        st.assemble(&self.paths);
        true
    }
}

/// Resolve the changed configs alone again (`false` when what linking
/// matched on changed).
fn re_resolve_alone(
    alone: &mut [Alone],
    affected: &BTreeSet<usize>,
    host: &HostFacts,
    opts: &ResolveOptions,
) -> bool {
    for &i in affected {
        let old = &alone[i];
        let new = crate::lint::resolve_alone(old.facts.path.clone(), old.inv.clone(), host, opts);
        if !replace_if_linked_alike(&mut alone[i], new) {
            return false;
        }
    }
    true
}

/// Linking saw each config alone: its links hold while the sockets and
/// includes it matched on are the same. Keeps `new` then; `false` when they
/// changed (only a full build can take the change in).
fn replace_if_linked_alike(old: &mut Alone, new: Alone) -> bool {
    if new.facts.sockets != old.facts.sockets || new.included != old.included {
        return false;
    }
    drop_aside(std::mem::replace(old, new));
    true
}

/// Frees a replaced result on another thread: freeing a 2,000-line
/// config's resolution took a tenth of a keystroke's time.
fn drop_aside<T: Send + 'static>(old: T) {
    rayon::spawn(move || drop(old));
}

/// Resolve the changed runs again into the report's sources (`false` when
/// only a full build can take the change in).
fn re_resolve_runs(
    analysis: &mut Analysis,
    affected: &BTreeSet<usize>,
    host: &HostFacts,
    opts: &ResolveOptions,
) -> bool {
    let report = &mut analysis.report;
    for &i in affected {
        let run = &mut analysis.runs[i];
        let resolved = resolve::resolve(&run.inv, host, opts, &mut report.sources);
        let command_line = run
            .deployment
            .is_some_and(|d| report.deployments[d].command_line);
        if !command_line {
            let canonical = crate::source::canonicalize(&run.ini)
                .unwrap_or_else(|_| resolve::normalize_lexically(&host.cwd.join(&run.ini)));
            let own = resolved.files.iter().find(|(f, _)| {
                report.sources.get(*f).path.as_deref().is_some_and(|p| {
                    crate::source::canonicalize(p).ok().as_deref() == Some(canonical.as_path())
                })
            });
            let Some((file, _)) = own.or(resolved.files.first()).cloned() else {
                return false;
            };
            run.file = file;
        }
        // A config no container runs found its Nginx by these sockets.
        if run.deployment.is_none()
            && crate::deployment::sockets(&resolved) != crate::deployment::sockets(&run.resolved)
        {
            return false;
        }
        drop_aside(std::mem::replace(&mut run.resolved, resolved));
    }
    true
}

impl State {
    /// The report's findings from the kept parts, as `check` orders and
    /// filters them.
    fn assemble(&mut self, paths: &[PathBuf]) {
        let report = &mut self.analysis.report;
        let mut all = self.context.clone();
        for f in &self.found {
            all.extend(f.iter().cloned());
        }
        crate::output::normalize(&report.sources, &mut all);
        report.diagnostics = all;
        crate::lint::retain_asked(report, paths);
    }
}

/// Does a config read other files' contents (`@(file)`, `for-readline`)?
fn reads_other_files(bytes: &[u8]) -> bool {
    memchr::memmem::find(bytes, b"@(").is_some()
        || memchr::memmem::find(bytes, b"for-readline").is_some()
}

/// Would a context reader claim this file (by name or content)?
fn claimed_as_context(path: &Path, bytes: &[u8]) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let read = || Ok(bytes.to_vec());
    let candidate =
        crate::readers::Candidate::new(path, &name, &ext, &read).with_bytes(bytes.to_vec());
    let mut claimed = crate::readers::Claimed::new();
    claimed.offer(&candidate)
}
