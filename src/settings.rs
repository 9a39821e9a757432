//! Configuration: `uwsgi-lint.toml`, `.uwsgi-lint.toml` or `[tool.uwsgi-lint]`
//! in `pyproject.toml`, found by searching from each linted file's directory
//! upward to the project root (the nearest directory holding `.git`), or given
//! with `--config`. Command-line flags override it.
//!
//! Unknown keys and bad values are errors that point at the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::Severity;
use crate::rules::{self, Rule};
use crate::uwsgi::version::Version;

/// Every key, its type and what it does: the source of `docs/configuration.md`.
pub const KEYS: &[(&str, &str, &str)] = &[
    (
        "select",
        "list of rule selectors",
        "Rules to run: codes (`UW102`), families (`UW1`), names, or `ALL`. Default: the default rule set (`uwsgi-lint rules` marks it); a selector turns on every rule it names, default or not.",
    ),
    (
        "extend-select",
        "list of rule selectors",
        "Rules to run in addition to `select`.",
    ),
    ("ignore", "list of rule selectors", "Rules to skip."),
    (
        "fail-on",
        "`error` | `warning` | `info`",
        "Lowest severity that makes `check` exit 1. Default `warning`.",
    ),
    (
        "uwsgi-version",
        "string `X.Y.Z`",
        "The uWSGI release the configs run on (version-gated rules). Default: the newest 2.0.x.",
    ),
    (
        "[severity]",
        "table rule → `error` | `warning` | `info`",
        "Per-rule severity overrides, e.g. `UW302 = \"info\"`.",
    ),
    (
        "[per-file-ignores]",
        "table glob → list of rule selectors",
        "Rules to skip in files matching a glob, relative to the configuration file's directory.",
    ),
    (
        "[memory] baseline-rss",
        "size (`120MiB`)",
        "Assumed RSS of one worker after start-up, where nothing is measured (memory budget, `advise`). Default 100MiB.",
    ),
    (
        "[memory] headroom",
        "number 0–0.9",
        "Fraction of the memory limit kept free. Default 0.10.",
    ),
    (
        "[memory] nginx-worker",
        "size",
        "Memory of one co-located Nginx worker. Default 16MiB.",
    ),
    (
        "[memory] master",
        "size",
        "Memory of the uWSGI master. Default 16MiB.",
    ),
    (
        "[output] docs-url",
        "string (absolute URL)",
        "Where the rule pages are published: SARIF `helpUri` and JSON `url` point there. `{code}` in it is replaced by the rule's code, else `/UW202.md` is appended, e.g. `https://github.com/you/uwsgi-lint/blob/v0.1.0/rules`. Also `--docs-url`.",
    ),
    (
        "[[deployment]] uwsgi",
        "path",
        "Explicit link: the uWSGI config of a deployment.",
    ),
    (
        "[[deployment]] container",
        "string `file#name`",
        "The container that runs it, e.g. `docker-compose.yml#web`.",
    ),
    (
        "[[deployment]] nginx",
        "list of paths",
        "The Nginx configs in front of it.",
    ),
    (
        "[[deployment]] memory-limit",
        "size",
        "The memory limit, when no container file gives one.",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl From<Level> for Severity {
    fn from(l: Level) -> Severity {
        match l {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Info => Severity::Info,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileConfig {
    select: Option<Vec<Spanned<String>>>,
    extend_select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    fail_on: Option<Level>,
    uwsgi_version: Option<Spanned<String>>,
    severity: Option<BTreeMap<Spanned<String>, Level>>,
    per_file_ignores: Option<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>,
    memory: Option<MemoryConfig>,
    output: Option<OutputConfig>,
    deployment: Option<Vec<DeploymentConfig>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct OutputConfig {
    docs_url: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct MemoryConfig {
    baseline_rss: Option<Spanned<String>>,
    headroom: Option<Spanned<f64>>,
    nginx_worker: Option<Spanned<String>>,
    master: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct DeploymentConfig {
    uwsgi: Spanned<String>,
    container: Option<Spanned<String>>,
    nginx: Option<Vec<Spanned<String>>>,
    memory_limit: Option<Spanned<String>>,
}

/// `pyproject.toml`: only `[tool.uwsgi-lint]` is ours; the rest is ignored.
#[derive(Debug, Deserialize)]
struct PyProject {
    tool: Option<PyTool>,
}

#[derive(Debug, Deserialize)]
struct PyTool {
    #[serde(rename = "uwsgi-lint")]
    uwsgi_lint: Option<FileConfig>,
}

pub use crate::model::Memory;

pub use crate::deployment::Explicit as Deployment;

#[derive(Debug, Clone)]
pub struct PerFileIgnore {
    /// The glob as written, and the directory it is relative to.
    pub pattern: String,
    pub base: PathBuf,
    matcher: globset::GlobMatcher,
    pub rules: Vec<String>,
}

impl PerFileIgnore {
    pub fn matches(&self, file: &Path) -> bool {
        let rel = file.strip_prefix(&self.base).unwrap_or(file);
        self.matcher.is_match(rel)
    }
}

/// The effective settings for one file: configuration merged with the CLI.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub select: Vec<String>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    pub fail_on: Option<Level>,
    pub uwsgi_version: Option<Version>,
    pub severity: Vec<(&'static str, Severity)>,
    pub per_file_ignores: Vec<PerFileIgnore>,
    pub memory: Memory,
    pub deployments: Vec<Deployment>,
    /// `--env` pairs (resolution environment).
    pub env: Vec<(String, String)>,
    /// `[output] docs-url` / `--docs-url`: where rule pages are published.
    pub docs_url: Option<String>,
    /// The configuration file these came from, if any.
    pub config: Option<PathBuf>,
}

/// Does `sel` (a code, a family prefix such as `UW1`, a name, or `ALL`) match?
pub fn selector_matches(rule: &Rule, sel: &str) -> bool {
    sel.eq_ignore_ascii_case("ALL")
        || rule.name == sel
        || rule
            .code
            .to_ascii_uppercase()
            .starts_with(&sel.to_ascii_uppercase())
}

/// Is `sel` a valid selector (matches at least one rule)?
pub fn selector_known(sel: &str) -> bool {
    rules::RULES.iter().any(|r| selector_matches(r, sel))
}

impl Settings {
    pub fn is_selected(&self, rule: &Rule) -> bool {
        // Without `select`, the default rule set; a selector picks every rule
        // it names, default or not (as ruff does).
        let base = if self.select.is_empty() {
            rule.default
        } else {
            self.select.iter().any(|s| selector_matches(rule, s))
        };
        let extra = self.extend_select.iter().any(|s| selector_matches(rule, s));
        (base || extra) && !self.ignore.iter().any(|s| selector_matches(rule, s))
    }

    /// Is `code` ignored for `file` by `[per-file-ignores]`?
    pub fn ignored_in(&self, file: &Path, code: &str) -> bool {
        let Some(rule) = rules::find(code) else {
            return false;
        };
        self.per_file_ignores
            .iter()
            .any(|p| p.matches(file) && p.rules.iter().any(|s| selector_matches(rule, s)))
    }

    pub fn severity_of(&self, code: &str, default: Severity) -> Severity {
        self.severity
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(default, |(_, s)| *s)
    }
}

/// A configuration error, with the file and 1-based line/column of the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

fn error_at(file: &Path, text: &str, span: std::ops::Range<usize>, message: String) -> ConfigError {
    let (line, column) = position(text, span.start);
    ConfigError {
        file: file.to_path_buf(),
        line,
        column,
        message,
    }
}

/// Sizes in our own configuration: a number with an optional binary unit
/// (`B`, `K`/`KiB`/`KB`, `M`/`MiB`/`MB`, `G`/`GiB`/`GB`), case-insensitive;
/// a bare number is bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    let bytes = n * mult as f64;
    // Memory sizes: anything past a pebibyte is a typo, and bounded values
    // keep the budget arithmetic far from overflow.
    (n >= 0.0 && n.is_finite() && bytes <= MAX_SIZE as f64).then_some(bytes as u64)
}

/// A docs base URL: absolute, `http` or `https`, no spaces.
pub fn parse_docs_url(s: &str) -> Result<String, String> {
    let ok = (s.starts_with("https://") || s.starts_with("http://"))
        && s.split_once("://")
            .is_some_and(|(_, rest)| !rest.is_empty())
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not an absolute http(s) URL (e.g. https://github.com/you/uwsgi-lint/blob/main/rules)"
        ))
    }
}

/// The largest size accepted anywhere (1 PiB).
pub const MAX_SIZE: u64 = 1 << 50;

/// A memory limit: a size above zero.
pub fn parse_limit(s: &str) -> Result<u64, String> {
    match parse_size(s) {
        Some(0) => Err(format!(
            "`{s}`: a memory limit of 0 leaves nothing to run in"
        )),
        Some(n) => Ok(n),
        None => Err(format!(
            "`{s}` is not a size up to 1 PiB (e.g. 512MiB, 1GiB)"
        )),
    }
}

/// Load and validate one configuration file.
pub fn load(path: &Path) -> Result<Option<Settings>, ConfigError> {
    let cannot = |e: String| ConfigError {
        file: path.to_path_buf(),
        line: 1,
        column: 1,
        message: format!("cannot read the configuration: {e}"),
    };
    let bytes = crate::source::read_regular(path, crate::source::MAX_FILE)
        .map_err(|e| cannot(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| cannot("it is not UTF-8".into()))?;
    let parsed: Result<Option<FileConfig>, toml::de::Error> =
        if path.file_name().is_some_and(|n| n == "pyproject.toml") {
            toml::from_str::<PyProject>(&text).map(|p| p.tool.and_then(|t| t.uwsgi_lint))
        } else {
            toml::from_str::<FileConfig>(&text).map(Some)
        };
    let cfg = match parsed {
        Ok(Some(c)) => c,
        Ok(None) => return Ok(None),
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            return Err(error_at(path, &text, span, e.message().trim().to_string()));
        }
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    validate(path, &text, &base, cfg).map(Some)
}

fn selectors(
    path: &Path,
    text: &str,
    list: Option<Vec<Spanned<String>>>,
) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for s in list.unwrap_or_default() {
        if !selector_known(s.get_ref()) {
            return Err(error_at(
                path,
                text,
                s.span(),
                format!("`{}` matches no rule (see `uwsgi-lint rules`)", s.get_ref()),
            ));
        }
        out.push(s.into_inner());
    }
    Ok(out)
}

fn size(
    path: &Path,
    text: &str,
    v: Option<Spanned<String>>,
    default: u64,
) -> Result<u64, ConfigError> {
    match v {
        None => Ok(default),
        Some(s) => parse_size(s.get_ref()).ok_or_else(|| {
            error_at(
                path,
                text,
                s.span(),
                format!(
                    "`{}` is not a size (write e.g. `120MiB` or `1GiB`)",
                    s.get_ref()
                ),
            )
        }),
    }
}

fn validate(
    path: &Path,
    text: &str,
    base: &Path,
    cfg: FileConfig,
) -> Result<Settings, ConfigError> {
    let mut s = Settings {
        select: selectors(path, text, cfg.select)?,
        extend_select: selectors(path, text, cfg.extend_select)?,
        ignore: selectors(path, text, cfg.ignore)?,
        fail_on: cfg.fail_on,
        config: Some(path.to_path_buf()),
        ..Settings::default()
    };
    if let Some(v) = cfg.uwsgi_version {
        s.uwsgi_version = Some(
            v.get_ref()
                .parse()
                .map_err(|m: String| error_at(path, text, v.span(), m))?,
        );
    }
    for (code, level) in cfg.severity.unwrap_or_default() {
        let rule = rules::find(code.get_ref()).ok_or_else(|| {
            error_at(
                path,
                text,
                code.span(),
                format!("`{}` is not a rule", code.get_ref()),
            )
        })?;
        s.severity.push((rule.code, level.into()));
    }
    for (pattern, list) in cfg.per_file_ignores.unwrap_or_default() {
        let glob = globset::Glob::new(pattern.get_ref())
            .map_err(|e| error_at(path, text, pattern.span(), format!("bad glob: {e}")))?;
        s.per_file_ignores.push(PerFileIgnore {
            pattern: pattern.get_ref().clone(),
            base: base.to_path_buf(),
            matcher: glob.compile_matcher(),
            rules: selectors(path, text, Some(list))?,
        });
    }
    if let Some(m) = cfg.memory {
        let d = Memory::default();
        s.memory = Memory {
            baseline_rss_bytes: size(path, text, m.baseline_rss, d.baseline_rss_bytes)?,
            nginx_worker_bytes: size(path, text, m.nginx_worker, d.nginx_worker_bytes)?,
            master_bytes: size(path, text, m.master, d.master_bytes)?,
            headroom: match m.headroom {
                None => d.headroom,
                Some(h) if (0.0..=0.9).contains(h.get_ref()) => *h.get_ref(),
                Some(h) => {
                    return Err(error_at(
                        path,
                        text,
                        h.span(),
                        format!(
                            "headroom {} is outside 0–0.9 (a fraction of the limit)",
                            h.get_ref()
                        ),
                    ));
                }
            },
        };
    }
    if let Some(url) = cfg.output.and_then(|o| o.docs_url) {
        s.docs_url =
            Some(parse_docs_url(url.get_ref()).map_err(|m| error_at(path, text, url.span(), m))?);
    }
    for d in cfg.deployment.unwrap_or_default() {
        s.deployments.push(Deployment {
            uwsgi: base.join(d.uwsgi.get_ref()),
            container: d.container.map(Spanned::into_inner),
            nginx: d
                .nginx
                .unwrap_or_default()
                .into_iter()
                .map(|n| base.join(n.get_ref()))
                .collect(),
            memory_limit_bytes: match d.memory_limit {
                Some(m) => match parse_limit(m.get_ref()) {
                    Ok(n) => Some(n),
                    Err(e) => return Err(error_at(path, text, m.span(), e)),
                },
                None => None,
            },
        });
    }
    Ok(s)
}

/// The configuration that applies in `dir`: the first of `uwsgi-lint.toml`,
/// `.uwsgi-lint.toml`, or a `pyproject.toml` with `[tool.uwsgi-lint]`, from
/// `dir` upward, stopping after the project root (a directory with `.git`).
pub fn find_for(dir: &Path) -> Result<Option<Settings>, ConfigError> {
    let mut cur = Some(dir);
    while let Some(d) = cur {
        for name in ["uwsgi-lint.toml", ".uwsgi-lint.toml", "pyproject.toml"] {
            let p = d.join(name);
            if !p.is_file() {
                continue;
            }
            // Found, not named by the user: it must lie in the project. A
            // symlink out of it (`uwsgi-lint.toml -> /etc/passwd`) would let
            // a change under review quote another file in the error.
            if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
                let root = crate::discover::repo_root(d);
                let inside = std::fs::canonicalize(&p).is_ok_and(|t| t.starts_with(&root));
                if !inside {
                    return Err(ConfigError {
                        file: p,
                        line: 1,
                        column: 1,
                        message: "a symbolic link to a file outside the project; not read".into(),
                    });
                }
            }
            if let Some(s) = load(&p)? {
                return Ok(Some(s));
            }
        }
        if d.join(".git").exists() {
            break;
        }
        cur = d.parent();
    }
    Ok(None)
}

/// Command-line values that override the configuration file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub select: Option<Vec<String>>,
    pub extend_select: Vec<String>,
    pub ignore: Vec<String>,
    pub fail_on: Option<Level>,
    pub uwsgi_version: Option<Version>,
    pub env: Vec<(String, String)>,
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--no-config`.
    pub no_config: bool,
    /// `--no-context`: lint only the given files, discover nothing around them.
    pub no_context: bool,
    /// `--detect`: the cgroup this runs in is the container of every config.
    pub detect: bool,
    /// `--memory-limit`: for deployments with no limit found.
    pub memory_limit: Option<u64>,
    /// `--nginx-prefix`: where relative Nginx includes are taken from.
    pub nginx_prefix: Option<PathBuf>,
    /// `--docs-url`.
    pub docs_url: Option<String>,
}

impl Overrides {
    /// The effective settings for files in `dir`.
    pub fn settings_for(&self, dir: &Path) -> Result<Settings, ConfigError> {
        let mut s = if self.no_config {
            Settings::default()
        } else if let Some(path) = &self.config {
            load(path)?.unwrap_or_default()
        } else {
            find_for(dir)?.unwrap_or_default()
        };
        if let Some(sel) = &self.select {
            s.select = sel.clone();
        }
        s.extend_select.extend(self.extend_select.iter().cloned());
        s.ignore.extend(self.ignore.iter().cloned());
        if self.fail_on.is_some() {
            s.fail_on = self.fail_on;
        }
        if self.uwsgi_version.is_some() {
            s.uwsgi_version = self.uwsgi_version;
        }
        s.env = self.env.clone();
        if self.docs_url.is_some() {
            s.docs_url = self.docs_url.clone();
        }
        Ok(s)
    }
}

/// `docs/configuration.md`, generated from [`KEYS`].
pub fn reference_markdown() -> String {
    let mut s = String::from(
        "# Configuration\n\nGenerated from the settings type (`src/settings.rs`). uwsgi-lint reads the first of\n`uwsgi-lint.toml`, `.uwsgi-lint.toml` or `[tool.uwsgi-lint]` in `pyproject.toml`, searching from\neach linted file's directory upward to the project root (the directory holding `.git`), or the file\ngiven with `--config` (`--no-config` ignores them all). Command-line flags override it:\n`--select` replaces `select`; `--extend-select` and `--ignore` add to theirs. Unknown keys and bad\nvalues are errors that name the file, line and column. `uwsgi-lint check --show-settings` prints\nthe settings in effect.\n\n| key | type | meaning |\n|---|---|---|\n",
    );
    for (k, t, d) in KEYS {
        s.push_str(&format!("| `{k}` | {} | {d} |\n", t.replace('|', "\\|")));
    }
    s.push_str(
        "\n## Example\n\n```toml\nselect = [\"ALL\"]\nignore = [\"UW601\"]\nfail-on = \"warning\"\nuwsgi-version = \"2.0.21\"\n\n[severity]\nUW302 = \"info\"\n\n[per-file-ignores]\n\"legacy/*.ini\" = [\"UW104\"]\n\n[memory]\nbaseline-rss = \"120MiB\"\nheadroom = 0.10\nnginx-worker = \"16MiB\"\nmaster = \"16MiB\"\n\n[output]\ndocs-url = \"https://github.com/you/uwsgi-lint/blob/main/rules\"\n\n[[deployment]]\nuwsgi = \"deploy/uwsgi.ini\"\ncontainer = \"docker-compose.yml#web\"\nnginx = [\"deploy/nginx.conf\"]\nmemory-limit = \"1GiB\"\n```\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("uwsgi-lint-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn the_documented_example_loads() {
        let d = tmp("example");
        let md = reference_markdown();
        let example = md
            .split("```toml\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        let p = write(&d, "uwsgi-lint.toml", example);
        let s = load(&p).unwrap().unwrap();
        assert_eq!(s.ignore, vec!["UW601"]);
        assert_eq!(s.uwsgi_version, Some(Version::new(2, 0, 21)));
        assert_eq!(s.severity, vec![("UW302", Severity::Info)]);
        assert_eq!(s.memory.baseline_rss_bytes, 120 << 20);
        assert_eq!(s.deployments[0].memory_limit_bytes, Some(1 << 30));
        assert!(s.ignored_in(&d.join("legacy/a.ini"), "UW104"));
        assert!(!s.ignored_in(&d.join("deploy/a.ini"), "UW104"));
    }

    /// Every documented key is in the example, and the example (which the
    /// settings type accepts) has no key the table does not document.
    #[test]
    fn keys_table_matches_the_settings_type() {
        let md = reference_markdown();
        let example = md
            .split("```toml\n")
            .nth(1)
            .unwrap()
            .split("```")
            .next()
            .unwrap();
        let table: toml::Table = toml::from_str(example).unwrap();
        let mut found = Vec::new();
        for (k, v) in &table {
            match v {
                toml::Value::Table(t) if k == "memory" || k == "output" => {
                    found.extend(t.keys().map(|sub| format!("[{k}] {sub}")))
                }
                toml::Value::Table(_) => found.push(format!("[{k}]")),
                toml::Value::Array(a) if a.iter().all(|x| x.is_table()) && !a.is_empty() => {
                    for t in a {
                        found.extend(
                            t.as_table()
                                .unwrap()
                                .keys()
                                .map(|sub| format!("[[{k}]] {sub}")),
                        );
                    }
                }
                _ => found.push(k.clone()),
            }
        }
        found.sort();
        found.dedup();
        let mut documented: Vec<String> = KEYS
            .iter()
            .map(|(k, _, _)| k.to_string())
            .filter(|k| k != "extend-select")
            .collect();
        documented.sort();
        assert_eq!(found, documented);
    }

    #[test]
    fn unknown_keys_and_bad_values_point_at_the_key() {
        let d = tmp("errors");
        let p = write(
            &d,
            "uwsgi-lint.toml",
            "select = [\"UW1\"]\nfail_on = \"error\"\n",
        );
        let e = load(&p).unwrap_err();
        assert_eq!((e.line, e.column), (2, 1), "{e}");
        assert!(e.message.contains("fail_on"), "{e}");
        let p = write(&d, "uwsgi-lint.toml", "\nignore = [\"UW1\", \"UW999\"]\n");
        let e = load(&p).unwrap_err();
        assert_eq!((e.line, e.column), (2, 18), "{e}");
        let p = write(&d, "uwsgi-lint.toml", "[memory]\nheadroom = 2.0\n");
        assert_eq!(load(&p).unwrap_err().line, 2);
        let p = write(&d, "uwsgi-lint.toml", "[memory]\nmaster = \"lots\"\n");
        assert!(load(&p).unwrap_err().message.contains("not a size"));
        let p = write(&d, "uwsgi-lint.toml", "fail-on = \"sometimes\"\n");
        assert_eq!(load(&p).unwrap_err().line, 1);
    }

    #[test]
    fn pyproject_section_and_upward_search() {
        let d = tmp("pyproject");
        write(
            &d,
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.uwsgi-lint]\nignore = [\"UW6\"]\n",
        );
        std::fs::create_dir_all(d.join(".git")).unwrap();
        std::fs::create_dir_all(d.join("deploy/sub")).unwrap();
        let s = find_for(&d.join("deploy/sub")).unwrap().unwrap();
        assert_eq!(s.ignore, vec!["UW6"]);
        // a nearer uwsgi-lint.toml wins
        write(&d.join("deploy"), "uwsgi-lint.toml", "ignore = [\"UW1\"]\n");
        assert_eq!(
            find_for(&d.join("deploy/sub")).unwrap().unwrap().ignore,
            vec!["UW1"]
        );
        // a pyproject without our table is no configuration
        let e = tmp("pyproject-none");
        write(&e, "pyproject.toml", "[project]\nname = \"x\"\n");
        std::fs::create_dir_all(e.join(".git")).unwrap();
        assert!(find_for(&e).unwrap().is_none());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("120MiB"), Some(120 << 20));
        assert_eq!(parse_size("1GiB"), Some(1 << 30));
        assert_eq!(parse_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("2000000GiB"), None);
        assert_eq!(
            parse_limit("0"),
            Err("`0`: a memory limit of 0 leaves nothing to run in".into())
        );
        assert!(parse_limit("1e300").is_err());
        assert_eq!(parse_limit("1GiB"), Ok(1 << 30));
    }
}
