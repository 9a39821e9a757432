//! `uwsgi-lint check [PATH]...`

use std::path::PathBuf;

use std::path::Path;

use crate::diagnostic::Severity;
use crate::lint;
use crate::settings::{Level, Overrides, Settings, selector_known};
use crate::uwsgi::version::Version;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories to lint (default: the current directory).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print how many findings each rule has instead of the findings.
    #[arg(long)]
    pub statistics: bool,
    /// Add `; uwsgi-lint: ignore[CODE] REASON` above every finding in a uWSGI config, so an
    /// existing project starts clean (the reason is required).
    #[arg(long, value_name = "REASON", conflicts_with_all = ["fix", "diff", "statistics"])]
    pub add_suppressions: Option<String>,
    /// Absolute base URL of the rule pages, for SARIF `helpUri` and JSON `url` (`[output] docs-url`).
    #[arg(long, value_name = "URL", value_parser = crate::settings::parse_docs_url)]
    pub docs_url: Option<String>,
    /// Lowest severity that makes the exit code 1 (default: the config's, else warning).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Always exit 0 when linting succeeded, whatever was found.
    #[arg(long)]
    pub exit_zero: bool,
    /// Only these rules: codes (`UW102`), families (`UW1`), names, or `ALL`.
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Run these rules too (same forms as --select).
    #[arg(long, value_delimiter = ',')]
    pub extend_select: Vec<String>,
    /// Skip these rules (same forms as --select).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Use this configuration file instead of searching for one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ignore every configuration file.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Apply safe fixes in place (atomically; comments and order kept), then report what remains.
    #[arg(long)]
    pub fix: bool,
    /// With --fix or --diff: apply unsafe fixes too.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print the fixes as a unified diff instead of writing them (exit 1 if there are any).
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,
    /// Show which container runs which config, and why they were linked.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Print the settings in effect (for the first path) and exit.
    #[arg(long)]
    pub show_settings: bool,
    /// The uWSGI version the configs run on (default: the newest 2.0.x).
    #[arg(long, value_parser = |s: &str| s.parse::<Version>())]
    pub uwsgi_version: Option<Version>,
    /// Colour in text output (`auto`: when stdout is a terminal and NO_COLOR is unset).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Read one file from standard input (give `-` as the path) and report it as NAME.
    #[arg(long, value_name = "NAME")]
    pub stdin_filename: Option<PathBuf>,
    /// An environment variable the server would see. Repeatable.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = super::parse_env_pair)]
    pub env: Vec<(String, String)>,
    /// Lint only the given files: no containers, Dockerfiles or Nginx around them.
    #[arg(long)]
    pub no_context: bool,
    /// Running inside the container: take its memory and CPU limits from the live cgroup.
    #[arg(long)]
    pub detect: bool,
    /// The memory limit of deployments where none is found (`512MiB`, `1GiB`).
    #[arg(long, value_name = "SIZE", value_parser = crate::settings::parse_limit)]
    pub memory_limit: Option<u64>,
    /// Directory relative Nginx `include`s are taken from (default: each main file's directory).
    #[arg(long, value_name = "DIR")]
    pub nginx_prefix: Option<PathBuf>,
}

pub use crate::output::Format;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl From<FailOn> for Level {
    fn from(f: FailOn) -> Level {
        match f {
            FailOn::Error => Level::Error,
            FailOn::Warning => Level::Warning,
            FailOn::Info => Level::Info,
        }
    }
}

fn overrides(args: &Args) -> Result<Overrides, String> {
    for sel in args
        .select
        .iter()
        .chain(&args.extend_select)
        .chain(&args.ignore)
    {
        if !selector_known(sel) {
            return Err(format!("`{sel}` matches no rule (see `uwsgi-lint rules`)"));
        }
    }
    Ok(Overrides {
        select: (!args.select.is_empty()).then(|| args.select.clone()),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
        fail_on: args.fail_on.map(Level::from),
        uwsgi_version: args.uwsgi_version,
        no_context: args.no_context,
        detect: args.detect,
        memory_limit: args.memory_limit,
        nginx_prefix: args.nginx_prefix.clone(),
        env: args.env.clone(),
        config: args.config.clone(),
        no_config: args.no_config,
        docs_url: args.docs_url.clone(),
    })
}

fn show_settings(settings: &Settings) -> String {
    let v = serde_json::json!({
        "config": settings.config.as_ref().map(|p| p.display().to_string()),
        "select": settings.select,
        "extend-select": settings.extend_select,
        "ignore": settings.ignore,
        "fail-on": format!("{:?}", settings.fail_on.unwrap_or(Level::Warning)).to_lowercase(),
        "uwsgi-version": settings.uwsgi_version.unwrap_or(crate::uwsgi::options::NEWEST_2_0).to_string(),
        "severity": settings.severity.iter().map(|(c, s)| (c.to_string(), s.as_str())).collect::<std::collections::BTreeMap<_, _>>(),
        "per-file-ignores": settings.per_file_ignores.iter().map(|p| (p.pattern.clone(), p.rules.clone())).collect::<std::collections::BTreeMap<_, _>>(),
        "memory": settings.memory,
        "output": {"docs-url": settings.docs_url},
        "deployment": settings.deployments,
        "rules": crate::rules::RULES.iter().filter(|r| settings.is_selected(r)).map(|r| r.code).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// `--verbose`: one paragraph per link, then the configs no container runs.
fn verbose_links(report: &crate::lint::Report, cwd: &Path) -> String {
    let (deployments, nginx) = (&report.deployments, &report.nginx);
    let shown = |p: &Path| crate::uwsgi::resolve::display_name(cwd, p);
    let mut s = String::new();
    if deployments.is_empty() {
        s.push_str("no container linked to a uWSGI config\n\n");
    }
    for d in deployments {
        let c = &d.container;
        let limit = match (d.limit(), c.reservations.first()) {
            (Some(l), _) => l.explanation.clone(),
            (None, Some(r)) => format!("none, only a reservation (`{}: {}`)", r.key, r.raw),
            (None, None) => "none found".to_string(),
        };
        s.push_str(&format!(
            "linked {} ← {}#{} ({}): {}\n  uWSGI arguments: {}\n  memory limit: {limit}\n  stop grace: {} s{}\n",
            shown(&d.uwsgi),
            shown(&c.file),
            c.name,
            c.orchestrator.as_str(),
            d.reason,
            if d.args.is_empty() {
                "none seen".to_string()
            } else {
                d.args.iter().map(|a| a.value.as_str()).collect::<Vec<_>>().join(" ")
            },
            d.grace_seconds(),
            if d.stop_wait_cuts().is_some() {
                " (supervisord's `stopwaitsecs`, shorter than the container's)"
            } else {
                ""
            },
        ));
        if let Some(sw) = &c.swap {
            s.push_str(&format!("  memory + swap: `{}: {}`\n", sw.key, sw.raw));
        }
        if let Some(df) = &d.dockerfile {
            s.push_str(&format!("  image built from: {}\n", shown(&df.path)));
        }
        if let Some((v, p)) = &d.version {
            s.push_str(&format!("  uWSGI version: {v} ({})\n", shown(&p.file)));
        }
        for (n, why) in d.nginx.iter().zip(&d.nginx_why) {
            if let Some(conf) = nginx.get(*n) {
                s.push_str(&format!(
                    "  Nginx in front: {} ({why})\n",
                    shown(&conf.main)
                ));
            }
        }
        if d.nginx_colocated.is_some() {
            s.push_str("  Nginx runs in the same container\n");
        }
        for l in &d.fronts {
            s.push_str(&crate::fronts::describe(l, &shown));
        }
        s.push('\n');
    }
    for u in &report.unlinked {
        s.push_str(&format!(
            "not linked {}: no container found that runs it\n",
            shown(&u.config)
        ));
        for (n, why) in &u.fronts {
            if let Some(conf) = nginx.get(*n) {
                s.push_str(&format!(
                    "  Nginx in front: {} ({why})\n",
                    shown(&conf.main)
                ));
            }
        }
        s.push('\n');
    }
    s
}

/// The templates (or parts) left unread that concern this run: every one
/// for a directory, only the files named when files are given (the
/// per-file hook is not told about the rest of the repository).
fn not_read<'a>(
    report: &'a crate::lint::Report,
    paths: &[PathBuf],
) -> Vec<&'a crate::model::NotRead> {
    let named: Option<std::collections::HashSet<PathBuf>> =
        paths.iter().all(|p| p.is_file()).then(|| {
            paths
                .iter()
                .filter_map(|p| crate::source::canonicalize(p).ok())
                .collect()
        });
    report
        .not_read
        .iter()
        .filter(|n| match &named {
            None => true,
            Some(named) => {
                report.sources.get(n.file).path.as_ref().is_some_and(|p| {
                    crate::source::canonicalize(p).is_ok_and(|p| named.contains(&p))
                })
            }
        })
        .collect()
}

/// `--verbose`: each template left unread, where and why.
fn verbose_not_read(report: &crate::lint::Report, paths: &[PathBuf]) -> String {
    let mut s = String::new();
    for n in not_read(report, paths) {
        let f = report.sources.get(n.file);
        let at = f.line_col(n.span.start);
        s.push_str(&format!(
            "not read {}:{}:{}: {}\n",
            f.name, at.line, at.column, n.message
        ));
    }
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// One line for the templates left unread: not the files' fault, so no
/// findings, but what they hold was not checked.
fn not_read_note(report: &crate::lint::Report, paths: &[PathBuf]) -> Option<String> {
    let mut files: Vec<&str> = not_read(report, paths)
        .iter()
        .map(|n| report.sources.get(n.file).name.as_str())
        .collect();
    files.sort_unstable();
    files.dedup();
    let first = files.first()?;
    let which = match files.len() {
        1 => format!("{first} is a template"),
        n => format!("{first} and {} more files are templates", n - 1),
    };
    Some(format!(
        "note: {which} (Helm, Jinja, envsubst) read only once rendered, so what they hold was not checked; `check -v` says which parts, and the rendered output can be linted\n"
    ))
}

/// One line when the project has containers but some config checked is
/// run by none of them: the checks that need the container did not run.
fn unlinked_note(report: &crate::lint::Report, cwd: &Path) -> Option<String> {
    if !report.has_containers || report.unlinked.is_empty() {
        return None;
    }
    let shown = |p: &Path| crate::uwsgi::resolve::display_name(cwd, p);
    let n = report.unlinked.len();
    let first = shown(&report.unlinked[0].config);
    let which = if n == 1 {
        format!("{first} is")
    } else {
        format!("{first} and {} more are", n - 1)
    };
    Some(format!(
        "note: {which} run by no container found here, so the checks against a container (memory limit, stop grace, ports) did not run; if one runs it, name it in a `[[deployment]]` entry of uwsgi-lint.toml (`check -v` shows what was linked)\n"
    ))
}

pub fn run(args: &Args) -> Result<u8, String> {
    let overrides = overrides(args)?;
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    // Name the path, not only the system's message.
    if let Some(p) = paths
        .iter()
        .find(|p| p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err())
    {
        return Err(format!("{}: no such file or directory", p.display()));
    }
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let first_dir = match paths
        .first()
        .and_then(|p| crate::source::canonicalize(p).ok())
    {
        Some(p) if p.is_dir() => p,
        Some(p) => p.parent().map(Path::to_path_buf).unwrap_or(cwd.clone()),
        None => cwd.clone(),
    };
    let top = overrides
        .settings_for(&first_dir)
        .map_err(|e| e.to_string())?;
    if args.show_settings {
        super::emit(&show_settings(&top));
        return Ok(0);
    }
    let reading_stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    if (args.fix || args.diff || args.add_suppressions.is_some())
        && (reading_stdin || args.stdin_filename.is_some())
    {
        return Err(
            "--fix, --diff and --add-suppressions work on files, not on standard input".into(),
        );
    }
    if let Some(reason) = &args.add_suppressions {
        return add_suppressions(&paths, &overrides, reason, args.exit_zero);
    }
    if args.diff {
        // What `--fix` would write, every round of it.
        let mut rw = crate::fix::Rewrite::new();
        rw.fix_rounds(&paths, &overrides, args.unsafe_fixes)
            .map_err(|e| e.to_string())?;
        let files = rw.files();
        let mut out = String::new();
        for f in &files {
            out.push_str(&crate::fix::unified_diff(f));
        }
        let n = rw.applied;
        out.push_str(&format!(
            "{n} fix{} would be applied in {} file{}\n",
            if n == 1 { "" } else { "es" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ));
        super::emit(&out);
        return Ok(if n > 0 && !args.exit_zero { 1 } else { 0 });
    }
    let mut fixed = 0;
    if args.fix {
        let mut rw = crate::fix::Rewrite::new();
        rw.fix_rounds(&paths, &overrides, args.unsafe_fixes)
            .map_err(|e| e.to_string())?;
        rw.write()?;
        fixed = rw.applied;
    }
    let report = match (&args.stdin_filename, reading_stdin) {
        (Some(name), _) => {
            use std::io::Read;
            let max = crate::source::MAX_FILE;
            let mut content = Vec::new();
            std::io::stdin()
                .take(max as u64 + 1)
                .read_to_end(&mut content)
                .map_err(|e| format!("reading standard input: {e}"))?;
            if content.len() > max {
                return Err(format!(
                    "standard input is larger than {}; not read",
                    crate::units::Bytes(max as u64)
                ));
            }
            lint::lint_stdin(name, content, &overrides)
        }
        (None, true) => {
            return Err("`-` reads standard input: give `--stdin-filename NAME` too".into());
        }
        (None, false) => {
            // The process ends after the report.
            lint::lint_then_exit(&paths, &overrides)
        }
    }
    .map_err(|e| e.to_string())?;
    if report.files == 0 {
        // Files handed over one by one (pre-commit) that are no uWSGI config
        // are fine; a directory with none is a mistake worth exit 2.
        if paths.iter().all(|p| p.is_file()) {
            super::emit("no uWSGI config among the given files\n");
            return Ok(0);
        }
        return Err(format!(
            "nothing to lint: no uWSGI config found in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // For people (stderr): machine formats stay as they are.
    if matches!(args.format, Format::Text | Format::Concise)
        && !args.verbose
        && let Some(note) = unlinked_note(&report, &cwd)
    {
        eprint!("{note}");
    }
    if matches!(args.format, Format::Text | Format::Concise)
        && !args.verbose
        && let Some(note) = not_read_note(&report, &paths)
    {
        eprint!("{note}");
    }
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            use std::io::IsTerminal;
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let options = crate::output::Options {
        color,
        docs_url: top.docs_url.clone(),
        rules_not_run: crate::rules::RULES
            .iter()
            .filter(|r| !top.is_selected(r))
            .count(),
        fixed: args.fix.then_some(fixed),
    };
    let root = crate::discover::repo_root(&cwd);
    let input = crate::output::Input {
        sources: &report.sources,
        diagnostics: &report.diagnostics,
        files: report.files,
        deployments: &report.deployments,
        nginx: &report.nginx,
        root: &root,
        options: &options,
    };
    let rendered = match (args.statistics, args.format) {
        (true, Format::Text | Format::Concise) => Some(crate::output::summary::statistics(&input)),
        (true, Format::Json) => Some(crate::output::summary::statistics_json(&input)),
        (true, f) => {
            return Err(format!(
                "--statistics prints text or JSON, not `{}`",
                clap::ValueEnum::to_possible_value(&f)
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default()
            ));
        }
        (false, _) => None,
    };
    if args.verbose && matches!(args.format, Format::Text | Format::Concise) {
        super::emit(&verbose_links(&report, &cwd));
        super::emit(&verbose_not_read(&report, &paths));
    }
    match rendered {
        Some(text) => super::emit(&text),
        // Written as it is rendered: a large report is not held twice.
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error, as in `emit`.
            let _ = crate::output::renderer(args.format)
                .render_to(&input, &mut out)
                .and_then(|()| out.flush());
        }
    }
    let threshold: Severity = top.fail_on.unwrap_or(Level::Warning).into();
    let failing = report.diagnostics.iter().any(|d| d.severity >= threshold);
    // (Likewise the report: the process exits next.)
    std::mem::forget(report);
    Ok(if failing && !args.exit_zero { 1 } else { 0 })
}

/// `--add-suppressions REASON`: a suppression comment above every finding
/// in a uWSGI config (written atomically, each file only if unchanged since
/// it was read); says what it could not suppress and why. Running it again
/// adds nothing: the findings it covered are suppressed.
fn add_suppressions(
    paths: &[PathBuf],
    overrides: &Overrides,
    reason: &str,
    exit_zero: bool,
) -> Result<u8, String> {
    let report = lint::lint(paths, overrides).map_err(|e| e.to_string())?;
    let plan = crate::suppress::additions(&report.sources, &report.diagnostics, reason)?;
    for f in &plan.files {
        crate::fix::write_atomically(&f.path, &f.original, &f.fixed)
            .map_err(|e| format!("{}: {e}", f.name))?;
    }
    let mut out = String::new();
    for (d, why) in &plan.skipped {
        out.push_str(&format!(
            "not suppressed: {}: {why}\n",
            crate::output::concise::line(&report.sources, d)
        ));
    }
    let added: usize = plan.files.iter().map(|f| f.applied).sum();
    use crate::output::summary::plural;
    out.push_str(&format!(
        "Added {} covering {} in {}.\n",
        plural(added, "suppression comment", "suppression comments"),
        plural(plan.covered, "finding", "findings"),
        plural(plan.files.len(), "file", "files"),
    ));
    if !plan.skipped.is_empty() {
        out.push_str(&format!(
            "{} left as they are (see above).\n",
            plural(plan.skipped.len(), "finding", "findings")
        ));
    }
    super::emit(&out);
    Ok(if plan.skipped.is_empty() || exit_zero {
        0
    } else {
        1
    })
}
