//! `uwsgi-lint advise [PATH]`: a tuning plan for each deployment found.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::advise::measure::{self, Measurements};
use crate::advise::plan::{self, Given, Plan};
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity};
use crate::settings::Overrides;
use crate::source::Span;
use crate::uwsgi::version::Version;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The memory limit, where none is found (or to override it): `1GiB`, `512MiB`.
    #[arg(long, value_name = "SIZE", value_parser = crate::settings::parse_limit)]
    pub memory_limit: Option<u64>,
    /// CPUs available to the container.
    #[arg(long, value_name = "N", value_parser = super::parse_cpus)]
    pub cpus: Option<f64>,
    /// A uWSGI log with `memory-report` lines (repeatable; gzip welcome).
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<PathBuf>,
    /// Saved stats-server JSON documents (repeatable).
    #[arg(long = "stats-file", value_name = "FILE")]
    pub stats_files: Vec<PathBuf>,
    /// A live stats server: `host:port`, a unix socket path, or `http://host:port` (a regular file: saved documents).
    #[arg(long, value_name = "ADDR")]
    pub stats: Option<String>,
    /// Samples to take from `--stats`.
    #[arg(long, default_value_t = 10)]
    pub samples: u32,
    /// Seconds between `--stats` samples.
    #[arg(long, default_value_t = 1.0, value_parser = super::parse_interval)]
    pub interval: f64,
    /// Print the advice as a unified diff of the config.
    #[arg(long)]
    pub diff: bool,
    /// Apply the advice to the config in place (atomically; comments and order kept).
    #[arg(long, conflicts_with = "diff")]
    pub write: bool,
    /// Draw the projected memory (current vs advised, with the limit) as SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// The uWSGI version the configs run on (default: found in the project, else the newest 2.0.x).
    #[arg(long, value_parser = |s: &str| s.parse::<Version>())]
    pub uwsgi_version: Option<Version>,
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Lint only the given files: no containers or Nginx around them.
    #[arg(long)]
    pub no_context: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn measurements(args: &Args) -> Result<Option<Measurements>, String> {
    if args.logs.is_empty() && args.stats_files.is_empty() && args.stats.is_none() {
        return Ok(None);
    }
    let mut m = Measurements::default();
    for f in &args.logs {
        let text = measure::read_maybe_gzip(f).map_err(|e| format!("{}: {e}", f.display()))?;
        m.add_log(&f.display().to_string(), &text);
    }
    for f in &args.stats_files {
        let text = measure::read_maybe_gzip(f).map_err(|e| format!("{}: {e}", f.display()))?;
        m.add_stats(&f.display().to_string(), &text, None);
    }
    // `--stats` naming a regular file: saved documents (cli.md); a unix
    // socket is no regular file.
    if let Some(addr) = args
        .stats
        .as_ref()
        .filter(|a| std::path::Path::new(a).is_file())
    {
        let text = measure::read_maybe_gzip(std::path::Path::new(addr))
            .map_err(|e| format!("{addr}: {e}"))?;
        m.add_stats(addr, &text, None);
    } else if let Some(addr) = &args.stats {
        let start = std::time::Instant::now();
        let interval = std::time::Duration::from_secs_f64(args.interval.max(0.01));
        for i in 0..args.samples.max(1) {
            if i > 0 {
                std::thread::sleep(interval);
            }
            let text = measure::fetch_stats(addr, std::time::Duration::from_secs(5))
                .map_err(|e| format!("stats server {addr}: {e}"))?;
            m.add_stats(addr, &text, Some(start.elapsed().as_secs_f64()));
        }
    }
    Ok(Some(m))
}

struct Unit {
    uwsgi: String,
    container: Option<String>,
    file_name: String,
    plan: Plan,
    fixes: Vec<Diagnostic>,
}

pub fn run(args: &Args) -> Result<u8, String> {
    let overrides = Overrides {
        uwsgi_version: args.uwsgi_version,
        config: args.config.clone(),
        no_config: args.no_config,
        no_context: args.no_context,
        ..Overrides::default()
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    for p in &paths {
        if !p.exists() {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    let measured = measurements(args)?;
    let estimates = match &measured {
        Some(m) => Some(m.estimate().map_err(|e| format!("measurements: {e}"))?),
        None => None,
    };
    // The advice is computed on the config as `check --fix` leaves it (its
    // safe fixes applied in memory, and written along with the advice), so
    // the two never disagree: a misspelled key is renamed once, not set
    // again beside its misspelling.
    let mut rewrite = crate::fix::Rewrite::new();
    rewrite
        .fix_rounds(&paths, &overrides, false)
        .map_err(|e| e.to_string())?;
    let check_fixes = rewrite.applied;
    let prepared = crate::lint::prepare_with(&paths, &overrides, rewrite.overlay())
        .map_err(|e| e.to_string())?;
    if prepared.runs.is_empty() {
        return Err("nothing to advise: no uWSGI config found".into());
    }
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let given = Given {
        memory_limit: args.memory_limit,
        cpus: args.cpus,
    };
    let units = units_of(&prepared, estimates.as_ref(), &given, &cwd);

    let mut plots = Vec::new();
    if let Some(path) = &args.plot {
        // One picture per deployment: `memory.svg`, then `memory-2.svg` ...
        for (i, u) in units.iter().enumerate() {
            let title = match &u.container {
                Some(c) => format!("{} in {c}", u.uwsgi),
                None => u.uwsgi.clone(),
            };
            let svg = crate::advise::plot::svg(&u.plan, &title)?;
            let file = if i == 0 {
                path.clone()
            } else {
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                path.with_file_name(format!("{stem}-{}.svg", i + 1))
            };
            std::fs::write(&file, svg).map_err(|e| format!("{}: {e}", file.display()))?;
            plots.push(file.display().to_string());
        }
    }
    let plot_lines: String = plots
        .iter()
        .map(|p| format!("plot written to {p}\n"))
        .collect();

    if args.diff || args.write {
        // An edit overlapping another (two configs setting an option in a
        // file both read) waits for the next round, on the text as the
        // round before left it, until nothing changes.
        let mut round = (prepared, units);
        for _ in 0..10 {
            let diags: Vec<Diagnostic> = round
                .1
                .iter()
                .flat_map(|u| u.fixes.iter().cloned())
                .collect();
            if !rewrite.apply(crate::fix::plan(&round.0.sources, &diags, true)) {
                break;
            }
            rewrite
                .fix_rounds(&paths, &overrides, false)
                .map_err(|e| e.to_string())?;
            let p = crate::lint::prepare_with(&paths, &overrides, rewrite.overlay())
                .map_err(|e| e.to_string())?;
            let u = units_of(&p, estimates.as_ref(), &given, &cwd);
            round = (p, u);
        }
        let files = rewrite.files();
        let mut out = String::new();
        if args.write {
            for name in rewrite.write()? {
                out.push_str(&format!("wrote {name}\n"));
            }
        } else {
            for f in &files {
                out.push_str(&crate::fix::unified_diff(f));
            }
        }
        if files.is_empty() {
            out.push_str("nothing to change\n");
        } else if check_fixes > 0 {
            out.push_str(&format!(
                "(with the {check_fixes} safe fix{} of `check --fix`, which the advice builds on)\n",
                if check_fixes == 1 { "" } else { "es" }
            ));
        }
        out.push_str(&plot_lines);
        super::emit(&out);
        return Ok(0);
    }

    let text = match args.format {
        Format::Json => json(&units, estimates.as_ref(), measured.as_ref(), &plots),
        Format::Text => text(&units, measured.as_ref(), check_fixes) + &plot_lines,
    };
    super::emit(&text);
    Ok(0)
}

/// The plan of every deployment, with the edits that apply it (one fix
/// per file it touches).
fn units_of(
    prepared: &crate::lint::Prepared,
    estimates: Option<&measure::Estimates>,
    given: &Given,
    cwd: &std::path::Path,
) -> Vec<Unit> {
    let mut units = Vec::new();
    for run in &prepared.runs {
        let ctx = run.context(&prepared.sources, &prepared.project, &prepared.links);
        let p = plan::plan(&ctx, estimates, given);
        // One fix per file it touches, made by the edit engine `check`'s
        // fixes use (IniContext::set_option_edit).
        let pairs: Vec<(&str, String)> = p
            .recommendations
            .iter()
            .filter(|r| r.changes())
            .map(|r| (r.option, r.value.clone()))
            .collect();
        let mut by_file: BTreeMap<crate::source::FileId, Vec<Edit>> = BTreeMap::new();
        // A file whose section uWSGI never finds contributes nothing: a line
        // written there would not be read either.
        let unread = ctx
            .resolved
            .events
            .iter()
            .any(|e| e.kind == crate::uwsgi::resolve::EventKind::SectionNotFound);
        let mut p = p;
        let edits = if unread {
            p.problems.push(format!(
                "uWSGI finds no section it reads in {}: nothing written there would be read",
                prepared.sources.get(run.file).name
            ));
            Vec::new()
        } else {
            ctx.set_options_edits(&pairs)
        };
        for e in edits {
            by_file.entry(e.file).or_default().push(e);
        }
        let fixes = by_file
            .into_iter()
            .map(|(file, edits)| Diagnostic {
                code: "advise",
                name: "advise",
                severity: Severity::Info,
                message: String::new(),
                file,
                span: Span::default(),
                related: Vec::new(),
                help: None,
                fix: Some(Fix {
                    applicability: Applicability::Unsafe,
                    edits,
                }),
            })
            .collect();
        let dep = run.deployment.map(|i| &prepared.links[i]);
        units.push(Unit {
            uwsgi: crate::uwsgi::resolve::display_name(cwd, &run.ini),
            container: dep.map(|d| {
                format!(
                    "{}#{}",
                    crate::uwsgi::resolve::display_name(cwd, &d.container.file),
                    d.container.name
                )
            }),
            file_name: prepared.sources.get(run.file).name.clone(),
            plan: p,
            fixes,
        });
    }

    units
}

fn json(
    units: &[Unit],
    est: Option<&measure::Estimates>,
    m: Option<&Measurements>,
    plots: &[String],
) -> String {
    let v = serde_json::json!({
        "version": 1,
        "plots": plots,
        "measurements": m.map(|m| serde_json::json!({"sources": m.sources, "estimates": est})),
        "deployments": units.iter().map(|u| serde_json::json!({
            "uwsgi": u.uwsgi,
            "container": u.container,
            "limit_bytes": u.plan.limit_bytes,
            "inputs": u.plan.inputs,
            "recommendations": u.plan.recommendations,
            "problems": u.plan.problems,
        })).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn text(units: &[Unit], m: Option<&Measurements>, check_fixes: usize) -> String {
    let mut s = String::new();
    if check_fixes > 0 {
        s.push_str(&format!(
            "read with the {check_fixes} safe fix{} of `check --fix` applied (`--write` applies them too)\n\n",
            if check_fixes == 1 { "" } else { "es" }
        ));
    }
    if let Some(m) = m {
        for src in &m.sources {
            s.push_str(&format!("measured: {src}\n"));
        }
        s.push('\n');
    }
    for u in units {
        s.push_str(&match &u.container {
            Some(c) => format!("{} as {c} runs it\n", u.file_name),
            None => format!("{} (no container found)\n", u.file_name),
        });
        s.push_str("\n  inputs\n");
        for i in &u.plan.inputs {
            s.push_str(&format!(
                "    {:<32} {:<14} {:<9} {}\n",
                i.name,
                i.value,
                format!("{:?}", i.source).to_lowercase(),
                i.note
            ));
        }
        s.push_str("\n  advice\n");
        // Columns as wide as their longest cell (the hook's value is long).
        let recs = &u.plan.recommendations;
        let width = |f: &dyn Fn(&plan::Recommendation) -> usize, min: usize| {
            recs.iter().map(f).max().unwrap_or(0).max(min)
        };
        let wo = width(&|r| r.option.len(), 6);
        let wc = width(&|r| r.current.as_deref().map_or(1, str::len), 7);
        let wv = width(&|r| r.value.len(), 7);
        s.push_str(&format!(
            "    {:<wo$} {:<wc$} {:<wv$} {:<9} why\n",
            "option", "current", "advised", "basis"
        ));
        for r in recs {
            s.push_str(&format!(
                "    {:<wo$} {:<wc$} {:<wv$} {:<9} {}\n",
                r.option,
                r.current.as_deref().unwrap_or("-"),
                r.value,
                r.basis.as_str(),
                r.reason
            ));
        }
        for p in &u.plan.problems {
            s.push_str(&format!("\n  problem: {p}\n"));
        }
        s.push('\n');
    }
    s.push_str("basis: measured (from the app), limit (a limit requires it), heuristic (a rule of thumb for what is unset), kept (the config's value; nothing contradicts it)\n");
    s.push_str("apply with `uwsgi-lint advise --diff` (review) or `--write`\n");
    s
}
