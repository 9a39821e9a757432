//! The rule registry: code ↔ name ↔ default severity ↔ check function.
//!
//! A rule is a pure function of parsed and resolved data; it never does I/O.
//! A panic inside one is caught and reported as an internal error, and the
//! other rules still run.

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, SourceMap, Span};
use crate::uwsgi::options::{ValueKind, catalogue};
use crate::uwsgi::resolve::{Entry, Layer, Resolved};
use crate::uwsgi::values::{read_flag, read_numeric};
use crate::uwsgi::version::Version;

pub mod container;
pub mod hardening;
pub mod inputs;
pub mod lifecycle;
pub mod memory;
pub mod proxy;
pub mod values;

/// What every config of a run shares: the containers, Dockerfiles and Nginx
/// configurations around them, loaded into the source map.
#[derive(Default)]
pub struct ProjectContext {
    pub project: crate::deployment::Project,
    /// The file id of every context file loaded, by path.
    pub ids: std::collections::HashMap<std::path::PathBuf, FileId>,
    /// The file id of each part of each Nginx configuration.
    pub nginx_ids: Vec<Vec<FileId>>,
    /// Sockets of every uWSGI config of the project (resolved alone).
    pub all_sockets: Vec<crate::deployment::Socket>,
    /// Host names of containers that run uWSGI (Compose service names).
    pub uwsgi_hosts: Vec<String>,
    /// A container, Dockerfile or task was found at all (UW505).
    pub has_containers: bool,
    /// Configs some container runs.
    pub linked: Vec<std::path::PathBuf>,
    /// Files other configs include (not deployed on their own).
    pub included: std::collections::HashSet<std::path::PathBuf>,
    /// Files that define a container linked to some config, by directory.
    pub runner_files: std::collections::HashMap<std::path::PathBuf, Vec<std::path::PathBuf>>,
}

impl ProjectContext {
    /// A file defining a container linked to some config lies in a
    /// directory `path` is below, and relates to `path`: looked up by the
    /// ancestors of `path`, not by scanning every such file.
    pub fn runs_at_or_above(&self, path: &std::path::Path) -> bool {
        // (`starts_with("")` holds for every path.)
        let empty = path.is_absolute().then_some(std::path::Path::new(""));
        path.ancestors().chain(empty).any(|d| {
            self.runner_files
                .get(d)
                .is_some_and(|fs| fs.iter().any(|f| self.project.related(f, path)))
        })
    }

    /// A place in a context file as `(file, span)`.
    pub fn place(&self, p: &crate::container::Place) -> Option<(FileId, Span)> {
        self.ids.get(&p.file).map(|id| (*id, p.span))
    }

    /// A related label at a context place.
    pub fn related(&self, p: &crate::container::Place) -> Option<crate::diagnostic::Related> {
        self.place(p)
            .map(|(file, span)| crate::diagnostic::Related {
                file,
                span,
                message: p.message.clone(),
            })
    }

    /// A related label at `span` of a context file.
    pub fn label(
        &self,
        file: &std::path::Path,
        span: Span,
        message: impl Into<String>,
    ) -> Option<crate::diagnostic::Related> {
        self.at(file, span)
            .map(|(file, span)| crate::diagnostic::Related {
                file,
                span,
                message: message.into(),
            })
    }

    /// A place in a context file given by path and span.
    pub fn at(&self, file: &std::path::Path, span: Span) -> Option<(FileId, Span)> {
        self.ids.get(file).map(|id| (*id, span))
    }

    /// A place in the `part`-th file of the `conf`-th Nginx configuration
    /// (spans are already offsets into the file shown, dumps included).
    pub fn nginx_at(&self, conf: usize, part: usize, span: Span) -> Option<(FileId, Span)> {
        let id = *self.nginx_ids.get(conf)?.get(part)?;
        Some((id, span))
    }
}

/// What a uWSGI-file rule sees.
pub struct IniContext<'a> {
    pub sources: &'a SourceMap,
    /// The file being checked (the one `--ini` named).
    pub file: FileId,
    pub resolved: &'a Resolved,
    pub target: Version,
    /// Where the target version is written (a pin, a Dockerfile line).
    pub target_from: Option<crate::container::Place>,
    /// The container that runs this config, when one was linked.
    pub deployment: Option<&'a crate::deployment::Deployment>,
    pub project: &'a ProjectContext,
    /// The Nginx configurations in front of this config (indexes).
    pub nginx: Vec<usize>,
    /// Memory assumptions (`[memory]` in the configuration).
    pub memory: &'a crate::settings::Memory,
    /// The section header, found once (several rules point at it).
    pub header_cache: std::cell::OnceCell<Span>,
    /// Where new options go ([`IniContext::insertion_anchor`]), found once.
    pub anchor_cache: std::cell::OnceCell<(FileId, Span)>,
    /// The advice, computed once (UW202, UW203 and UW204 all use it).
    pub advice_cache: std::cell::OnceCell<crate::advise::plan::Plan>,
}

impl IniContext<'_> {
    /// The effective (last) entry of a single-valued option, any alias.
    pub fn last(&self, name: &str) -> Option<&Entry> {
        self.resolved.last(name)
    }

    /// The number uWSGI uses for `name`: the last entry read with the
    /// option's parser, else its default. `None` when the value is unknown.
    pub fn number(&self, name: &str) -> Option<u64> {
        let def = catalogue().get(name)?;
        match self.last(name) {
            Some(e) if !e.unknown.is_empty() => None,
            Some(e) => read_numeric(def.kind, e.value.as_deref()).map(|n| n.value),
            None => def.default_value(),
        }
    }

    /// Is a flag option on (`uwsgi_opt_true` semantics)? Unset is off.
    pub fn flag(&self, name: &str) -> bool {
        self.last(name)
            .is_some_and(|e| read_flag(e.value.as_deref()))
    }

    /// Is `name` set to something non-zero / non-empty?
    pub fn is_set(&self, name: &str) -> bool {
        match catalogue().get(name) {
            Some(d) if d.kind.is_numeric() => {
                self.last(name).is_some() && self.number(name) != Some(0)
            }
            Some(d) if matches!(d.kind, ValueKind::Flag) => self.flag(name),
            _ => self.last(name).is_some(),
        }
    }

    /// A fragment: the config binds no socket of any kind, and uWSGI refuses
    /// to start without one ("The -s/--socket option is missing"), so
    /// another file, the command line or the environment completes it.
    /// Rules about what is *absent* stay silent on a fragment.
    pub fn is_fragment(&self) -> bool {
        const BINDS: &[&str] = &[
            "socket",
            "uwsgi-socket",
            "http-socket",
            "https-socket",
            "http",
            "https",
            "fastcgi-socket",
            "scgi-socket",
            "raw-socket",
            "suwsgi-socket",
            "ssl-socket",
            "shared-socket",
            "zerg",
            "emperor",
        ];
        !self
            .resolved
            .entries
            .iter()
            .any(|e| e.def().is_some_and(|d| BINDS.contains(&d.name)))
    }

    /// Master is on when `master` reads true or any MASTER-flagged option is
    /// present (facts §4).
    pub fn master_on(&self) -> bool {
        self.flag("master")
            || self
                .resolved
                .entries
                .iter()
                .any(|e| e.def().is_some_and(|d| d.flags.enables_master()))
    }

    /// The primary place to point at for `name`: its last entry's key, else
    /// the checked file's first `[uwsgi]` header.
    pub fn anchor(&self, name: &str) -> (FileId, Span) {
        if let Some(e) = self.last(name)
            && let Some((file, key, _)) = self.spans(e)
        {
            return (file, key);
        }
        self.header()
    }

    /// Is this file read with uWSGI's YAML reader (so fixes write YAML)?
    pub fn is_yaml(&self, file: FileId) -> bool {
        let name = &self.sources.get(file).name;
        name.ends_with(".yaml") || name.ends_with(".yml")
    }

    /// The section header of the checked file (`[uwsgi]`, or `uwsgi:` in YAML).
    pub fn header(&self) -> (FileId, Span) {
        let span = *self.header_cache.get_or_init(|| {
            let f = self.sources.get(self.file);
            let found = if self.is_yaml(self.file) {
                crate::uwsgi::yaml::read(&f.bytes, b"uwsgi")
                    .sections
                    .iter()
                    .find(|s| &f.bytes[s.range()] == b"uwsgi")
                    .copied()
            } else {
                // The section uWSGI reads (`[uwsgi]`, or the one asked for).
                let wanted = self
                    .resolved
                    .files
                    .iter()
                    .find(|(file, _)| *file == self.file)
                    .map_or("uwsgi", |(_, s)| s.as_str());
                crate::uwsgi::syntax::parse(&f.bytes)
                    .lines
                    .iter()
                    .find_map(|l| match l.kind {
                        crate::uwsgi::syntax::LineKind::Section { header, name }
                            if &f.bytes[name.range()] == wanted.as_bytes() =>
                        {
                            Some(header)
                        }
                        _ => None,
                    })
            };
            found.unwrap_or_default()
        });
        (self.file, span)
    }

    /// An edit that makes `option = value` effective, the one way `check`'s
    /// fixes and `advise --write` both change a config:
    /// - the value of its last entry replaced when a file sets it;
    /// - else a misspelled key naming it (`max_worker_lifetime`) renamed and
    ///   given the value, in place (a new line would leave the misspelling
    ///   to become a duplicate once renamed);
    /// - else a new line after the recycling block of the checked file (or
    ///   its last option; same indentation; `key: value` in YAML).
    ///
    /// A list option (`hook-master-start`) gets a new line unless an entry
    /// holds the value already.
    pub fn set_option_edit(&self, option: &str, value: &str) -> Option<crate::diagnostic::Edit> {
        let multi = catalogue().get(option).is_some_and(|d| d.is_multi_valued());
        if multi {
            if self
                .resolved
                .all(option)
                .any(|e| e.value_str().trim() == value)
            {
                return None;
            }
        } else if let Some(e) = self.last(option) {
            let (file, _, span) = self.spans(e)?;
            return Some(crate::diagnostic::Edit {
                file,
                span,
                content: value.to_string(),
            });
        } else if let Some((file, key, span)) = self.misspelling_of(option) {
            let f = self.sources.get(file);
            let between = String::from_utf8_lossy(&f.bytes[key.end..span.start]);
            return Some(crate::diagnostic::Edit {
                file,
                span: Span::new(key.start, span.end),
                content: format!("{option}{between}{value}"),
            });
        }
        let (file, anchor) = self.insertion_anchor();
        Some(self.insert_option_edit(file, anchor, option, value))
    }

    /// The last entry of the checked file whose key is no option but a
    /// misspelling of `option` (its key and value spans).
    fn misspelling_of(&self, option: &str) -> Option<(FileId, Span, Span)> {
        self.file_entries()
            .filter(|(e, f, _, _)| {
                *f == self.file
                    && e.def().is_none()
                    && !e.placeholder_only
                    && !self.resolved.declared.contains(&e.key_str())
                    && crate::rules::values::suggestion(&e.key_str())
                        .is_some_and(|(n, _)| n == option)
            })
            .last()
            .map(|(_, f, k, v)| (f, k, v))
    }

    /// Where new options go: after the last recycling option of the checked
    /// file (so advice lands beside what it tunes), else after its last
    /// option, else after its section header.
    fn insertion_anchor(&self) -> (FileId, Span) {
        *self
            .anchor_cache
            .get_or_init(|| self.find_insertion_anchor())
    }

    fn find_insertion_anchor(&self) -> (FileId, Span) {
        const RECYCLING: &[&str] = &[
            "max-requests",
            "max-requests-delta",
            "max-worker-lifetime",
            "max-worker-lifetime-delta",
            "min-worker-lifetime",
            "reload-on-rss",
            "evil-reload-on-rss",
            "worker-reload-mercy",
        ];
        // Never inside an `if-*`/`for` block: a line there is conditional
        // (or swallowed, when the block is never closed).
        let blocks = self.logic_blocks();
        let mine = || {
            self.file_entries().filter(|(_, f, k, _)| {
                *f == self.file && !blocks.iter().any(|b| b.start <= k.start && k.start < b.end)
            })
        };
        mine()
            .filter(|(e, _, _, _)| e.def().is_some_and(|d| RECYCLING.contains(&d.name)))
            .max_by_key(|(_, _, k, _)| k.start)
            .or_else(|| mine().max_by_key(|(_, _, k, _)| k.start))
            .map(|(_, f, k, _)| (f, k))
            .unwrap_or_else(|| self.header())
    }

    /// The byte ranges of the checked file's logic blocks, from the opening
    /// line to the end of the closing one (or of the file).
    fn logic_blocks(&self) -> Vec<Span> {
        if self.is_yaml(self.file) {
            return Vec::new();
        }
        let bytes = &self.sources.get(self.file).bytes;
        let mut out = Vec::new();
        let mut open: Option<usize> = None;
        for line in &crate::uwsgi::syntax::parse(bytes).lines {
            let crate::uwsgi::syntax::LineKind::Entry { key, .. } = line.kind else {
                continue;
            };
            let k = &bytes[key.range()];
            if crate::uwsgi::resolve::is_block_closer(k) {
                if let Some(start) = open.take() {
                    out.push(Span::new(start, line.span.end));
                }
            } else if open.is_none()
                && crate::rules::inputs::is_logic_opener(&String::from_utf8_lossy(k))
            {
                open = Some(line.span.start);
            }
        }
        if let Some(start) = open {
            out.push(Span::new(start, bytes.len()));
        }
        out
    }

    /// A new `option = value` line after the line of `anchor`, with its
    /// indentation (`key: value` in YAML, one level in after `uwsgi:`).
    pub fn insert_option_edit(
        &self,
        file: FileId,
        anchor: Span,
        option: &str,
        value: &str,
    ) -> crate::diagnostic::Edit {
        let f = self.sources.get(file);
        let line = f.line_col(anchor.start).line;
        let at = f.lines.line_start(line).unwrap_or(f.bytes.len());
        let newline = if at > 0 && f.bytes.get(at - 1) == Some(&b'\n') {
            ""
        } else {
            "\n"
        };
        let line_start = f.lines.line_start(line - 1).unwrap_or(0);
        let mut indent: String = f.bytes[line_start..]
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .map(|&b| b as char)
            .collect();
        let entry = if self.is_yaml(file) {
            if anchor == self.header().1 && indent.is_empty() {
                indent = "  ".into();
            }
            format!("{indent}{option}: {value}")
        } else {
            format!("{indent}{option} = {value}")
        };
        crate::diagnostic::Edit {
            file,
            span: Span::new(at, at),
            content: format!("{newline}{entry}\n"),
        }
    }

    /// The edits that set several options, insertions at one point merged
    /// into one edit (in any file that holds one of them).
    pub fn set_options_edits(&self, pairs: &[(&str, String)]) -> Vec<crate::diagnostic::Edit> {
        let mut edits: Vec<crate::diagnostic::Edit> = Vec::new();
        for (option, value) in pairs {
            let Some(e) = self.set_option_edit(option, value) else {
                continue;
            };
            match edits.iter_mut().find(|x| {
                x.span.is_empty()
                    && e.span.is_empty()
                    && x.span.start == e.span.start
                    && x.file == e.file
            }) {
                Some(x) => x.content.push_str(e.content.trim_start_matches('\n')),
                None => edits.push(e),
            }
        }
        edits
    }

    /// One fix setting several options; `None` when they would touch more
    /// than one file (a fix is applied to one file).
    pub fn set_options_fix(&self, pairs: &[(&str, String)]) -> Option<crate::diagnostic::Fix> {
        let edits = self.set_options_edits(pairs);
        let file = edits.first()?.file;
        edits
            .iter()
            .all(|e| e.file == file)
            .then_some(crate::diagnostic::Fix {
                applicability: crate::diagnostic::Applicability::Unsafe,
                edits,
            })
    }

    /// The advice for this config with what `check` knows (no measurements).
    pub fn advice(&self) -> &crate::advise::plan::Plan {
        self.advice_cache.get_or_init(|| {
            crate::advise::plan::plan(self, None, &crate::advise::plan::Given::default())
        })
    }

    /// Entries read from files (not env/CLI), in order.
    pub fn file_entries(&self) -> impl Iterator<Item = (&Entry, FileId, Span, Span)> {
        self.resolved
            .entries
            .iter()
            .filter_map(|e| self.spans(e).map(|(f, k, v)| (e, f, k, v)))
    }

    /// The key and value spans of an entry read from a file.
    pub fn spans(&self, e: &Entry) -> Option<(FileId, Span, Span)> {
        match e.origin.layer {
            Layer::File {
                file, key, value, ..
            } => Some((file, key, value)),
            _ => None,
        }
    }
}

pub type CheckFn = fn(&IniContext, &Rule, &mut Vec<Diagnostic>);

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// In the default rule set (opinions and rules that are often noise are
    /// not; `--select ALL` or `extend-select` turns them on).
    pub default: bool,
    pub summary: &'static str,
    /// `None` for rules the pipeline itself produces (suppressions).
    pub check: Option<CheckFn>,
    /// `rules/UWxxx.md`, compiled in for `explain`.
    pub page: &'static str,
}

impl Rule {
    /// A diagnostic of this rule at a `(file, span)` place.
    pub fn at(&self, (file, span): (FileId, Span), message: impl Into<String>) -> Diagnostic {
        self.diag(file, span, message)
    }

    /// A diagnostic of this rule at its default severity.
    pub fn diag(&self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code: self.code,
            name: self.name,
            severity: self.severity,
            message: message.into(),
            file,
            span,
            related: Vec::new(),
            help: None,
            fix: None,
        }
    }
}

macro_rules! registry {
    ($($code:ident $name:literal $sev:ident $default:ident $check:expr => $summary:literal;)*) => {
        pub static RULES: &[Rule] = &[
            $(Rule {
                code: stringify!($code),
                name: $name,
                severity: Severity::$sev,
                default: registry!(@default $default),
                summary: $summary,
                check: $check,
                page: include_str!(concat!("../../rules/", stringify!($code), ".md")),
            },)*
        ];
    };
    (@default on) => { true };
    (@default off) => { false };
}

registry! {
    UW001 "parse-error" Error on Some(inputs::parse_error) => "a file cannot be read as uWSGI reads it (NUL bytes, UTF-16)";
    UW002 "include-not-found" Error on Some(inputs::include_not_found) => "an included file (`ini`, `include`, `inherit`, `@(path)`) does not exist";
    UW003 "include-cycle" Error on Some(inputs::include_cycle) => "an ini includes or inherits itself: uWSGI crashes or loops";
    UW004 "runtime-value" Info on Some(inputs::runtime_value) => "a value needs execution, network or an unset env var; it is never run here";
    UW005 "unclosed-logic-block" Error on Some(inputs::unclosed_logic_block) => "an `if-*`/`for*` block is never closed and swallows every later option";
    UW006 "nested-logic-block" Error on Some(inputs::nested_logic_block) => "a logic block inside another: uWSGI exits at startup";
    UW007 "invalid-suppression" Warning on None => "a `uwsgi-lint: ignore[...]` comment names an unknown rule or gives no reason";
    UW008 "unused-suppression" Warning on None => "a suppression comment that suppressed nothing";
    UW009 "section-not-found" Error on Some(inputs::section_not_found) => "the requested section (default `uwsgi`) is absent: the file contributes nothing";
    UW101 "unknown-option" Error on Some(values::unknown_option) => "a key is no uWSGI option and is silently ignored";
    UW102 "unit-suffix-ignored" Error on Some(values::unit_suffix_ignored) => "a size or number carries a suffix or decimal that uWSGI ignores";
    UW103 "non-numeric-value" Error on Some(values::non_numeric_value) => "a numeric option's value reads as 0 or a prefix (quotes, hex, words, bare key)";
    UW104 "inline-comment" Error on Some(values::inline_comment_rule) => "a value contains `;`/`#` comment text, which uWSGI keeps in the value";
    UW105 "quoted-value" Error on Some(values::quoted_value) => "a string option keeps its quotes";
    UW106 "duplicate-option" Warning on Some(values::duplicate_option) => "a single-valued option is set more than once";
    UW107 "stray-percent" Error on Some(values::stray_percent) => "`%` before a character that is no magic variable is deleted, with it";
    UW108 "value-out-of-range" Error on Some(values::value_out_of_range) => "zero workers, negative counts, clamped buffer-size, zero backlog";
    UW109 "immediate-option-placeholder" Error on Some(values::immediate_option_placeholder) => "`$()`/`%()`/`@()` in an immediate option is never expanded";
    UW110 "option-needs-newer-uwsgi" Warning on Some(values::option_needs_newer_uwsgi) => "an option newer than the target uWSGI is silently ignored";
    UW111 "inherit-overrides" Warning on Some(values::inherit_overrides) => "`inherit =` is applied last and overrides later keys and the command line";
    UW112 "include-with-section" Error on Some(inputs::include_with_section) => "`include = f.ini:section` fails at startup; use `ini =`";
    UW113 "conflicting-app-entry" Warning on Some(values::conflicting_app_entry) => "more than one application entry point (`module`, `wsgi-file` ...)";
    UW114 "reload-mercy-ineffective" Warning on Some(values::reload_mercy_ineffective) => "`reload-mercy` without `worker-reload-mercy` does not bound worker shutdown";
    UW115 "lifetime-not-above-min" Error on Some(values::lifetime_not_above_min) => "`max-worker-lifetime` ≤ `min-worker-lifetime`: startup fails";
    UW116 "invalid-cheaper" Error on Some(values::invalid_cheaper) => "`cheaper` not below `processes`, non-numeric, or rss limits given in MB";
    UW117 "strict-rejects-input" Error on Some(values::strict_rejects_input) => "`strict = true` with a key that is no option: startup fails";
    UW118 "placeholder-math-misread" Warning on Some(values::placeholder_math_misread) => "a `%()` expression uWSGI evaluates differently from arithmetic (no parentheses, no precedence)";
    UW119 "router-option-without-router" Warning on Some(values::router_option_without_router) => "an option of the `http` router where no router runs (`http-socket` ignores it)";
    UW201 "recycling-without-master" Error on Some(memory::recycling_without_master) => "recycling or harakiri without the master: the first recycle ends the server";
    UW202 "memory-budget-exceeded" Error on Some(memory::memory_budget_exceeded) => "worst-case memory of the workers exceeds the container's hard limit";
    UW203 "unbounded-worker-memory" Warning on Some(memory::unbounded_worker_memory) => "nothing bounds a worker's memory";
    UW204 "no-request-recycling" Info off Some(memory::no_request_recycling) => "neither `max-requests` nor `max-worker-lifetime`: slow leaks never reset";
    UW205 "synchronized-recycling" Info off Some(memory::synchronized_recycling) => "all workers recycle at the same count or age";
    UW206 "recycle-storm" Warning on Some(memory::recycle_storm) => "recycling thresholds so low that workers respawn constantly";
    UW207 "address-space-limit-misuse" Warning on Some(memory::address_space_limit_misuse) => "`reload-on-as`/`limit-as` small or not above `reload-on-rss`";
    UW208 "soft-limit-only" Warning on Some(memory::soft_limit_only) => "only a memory reservation and no hard limit: workers can grow into the whole host";
    UW209 "lazy-apps-memory" Info off Some(memory::lazy_apps_memory) => "`lazy-apps` with several workers multiplies app memory";
    UW210 "suspicious-memory-limit" Warning on Some(memory::suspicious_memory_limit) => "a memory limit that is almost surely a unit mistake (`mem_limit: 512`, `400m` in Kubernetes)";
    UW211 "limits-disagree" Warning on Some(memory::limits_disagree) => "two sources give one container different hard memory limits";
    UW301 "harakiri-exceeds-proxy-timeout" Warning on Some(lifecycle::harakiri_exceeds_proxy_timeout) => "`harakiri` above the proxy's read timeout: the client gets an error while the worker keeps running";
    UW302 "no-harakiri" Warning on Some(lifecycle::no_harakiri) => "no request timeout: a stuck request holds a worker forever";
    UW303 "sigterm-reloads" Error on Some(lifecycle::sigterm_reloads) => "uWSGI 2.0 with a master in a container, and nothing makes SIGTERM stop it: every stop waits the grace period, then SIGKILL";
    UW304 "mercy-exceeds-grace-period" Warning on Some(lifecycle::mercy_exceeds_grace_period) => "uWSGI ≥ 2.1: `worker-reload-mercy` longer than the container's stop grace period";
    UW305 "harakiri-without-post-buffering" Info on Some(lifecycle::harakiri_without_post_buffering) => "slow uploads count against harakiri";
    UW306 "daemonize-in-container" Error on Some(lifecycle::daemonize_in_container) => "`daemonize` in a container: the main process exits and the container stops";
    UW307 "need-app-off" Warning on Some(lifecycle::need_app_off) => "an import error leaves a server that answers every request with an error";
    UW308 "stop-drops-requests" Info on Some(lifecycle::stop_drops_requests) => "in a container, `die-on-term` without the graceful hook: every stop cuts in-flight requests";
    UW401 "upstream-not-served" Error on Some(proxy::upstream_not_served) => "an Nginx `uwsgi_pass`/`proxy_pass` target matches no socket of the uWSGI config";
    UW402 "protocol-mismatch" Error on Some(proxy::protocol_mismatch) => "`uwsgi_pass` to an HTTP socket or `proxy_pass` to a uwsgi-protocol socket: every request is a 502";
    UW403 "buffer-size-below-proxy-headers" Warning on Some(proxy::buffer_size_below_proxy_headers) => "uWSGI `buffer-size` below the request headers Nginx lets through";
    UW404 "body-size-mismatch" Warning on Some(proxy::body_size_mismatch) => "Nginx `client_max_body_size` above uWSGI `limit-post`";
    UW405 "unix-socket-permissions" Warning on Some(proxy::unix_socket_permissions) => "a unix socket Nginx connects to with no `chmod-socket`/`chown-socket`";
    UW406 "nginx-workers-auto-in-container" Warning on Some(proxy::nginx_workers_auto_in_container) => "co-located Nginx with `worker_processes auto` under a CPU limit counts host CPUs";
    UW407 "proxy-directive-on-uwsgi-pass" Warning on Some(proxy::proxy_directive_on_uwsgi_pass) => "`proxy_*` directives in a location that passes with `uwsgi_pass`: they have no effect";
    UW501 "listen-exceeds-somaxconn" Error on Some(container::listen_exceeds_somaxconn) => "`listen` above the container's `net.core.somaxconn`: startup fails";
    UW502 "workers-exceed-cpu" Warning on Some(container::workers_exceed_cpu) => "`%k` in a container (host CPUs), or workers far above the CPU limit";
    UW503 "no-memory-limit" Info off Some(container::no_memory_limit) => "uWSGI runs in a container with no hard memory limit";
    UW504 "env-overridden-by-ini" Warning on Some(container::env_overridden_by_ini) => "a `UWSGI_*` variable of the container whose option the ini sets again: the env value is dead";
    UW505 "config-not-used" Info on Some(container::config_not_used) => "containers run uWSGI, but none runs this config";
    UW601 "strict-off" Info off Some(hardening::strict_off) => "`strict` is off: typos are silently ignored";
    UW602 "uwsgi-socket-public" Warning on Some(hardening::uwsgi_socket_public) => "a uwsgi-protocol socket on all interfaces, published by its container";
    UW603 "socket-world-writable" Warning off Some(hardening::socket_world_writable) => "`chmod-socket` 666/777";
    UW604 "runs-as-root" Info on Some(hardening::runs_as_root) => "no `uid`/`gid`";
    UW605 "autoreload-in-production" Warning on Some(hardening::autoreload_in_production) => "`py-autoreload`/`fs-reload` with several workers";
    UW606 "single-interpreter-off" Info on Some(hardening::single_interpreter_off) => "`single-interpreter` is off";
    UW607 "vacuum-off" Info off Some(hardening::vacuum_off) => "`vacuum` off with unix sockets or pid files";
    UW608 "threads-disabled" Warning on Some(hardening::threads_disabled) => "uWSGI < 2.0.27 without `enable-threads`: background threads never run";
    UW609 "http-router-behind-proxy" Info on Some(hardening::http_router_behind_proxy) => "`http =` adds a router process; behind a proxy use `http-socket`";
    UW610 "stats-server-public" Warning on Some(hardening::stats_server_public) => "the stats server on all interfaces, published by its container";
}

/// The rule index as Markdown (docs/rules.md is this, kept current by a test).
pub fn index_markdown() -> String {
    let mut s = String::from(
        "# Rules\n\nGenerated from the rule registry (`uwsgi-lint rules`); each code links to its page.\nRules marked \"no\" under *default* are opinions or depend on taste: they run only when\nselected (`--select ALL`, `--extend-select UW601`, or `extend-select` in the configuration).\n\n| code | name | default severity | default | what it finds |\n|---|---|---|---|---|\n",
    );
    for r in RULES {
        s.push_str(&format!(
            "| [{code}](../rules/{code}.md) | {name} | {sev} | {on} | {summary} |\n",
            code = r.code,
            name = r.name,
            sev = r.severity.as_str(),
            on = if r.default { "yes" } else { "no" },
            summary = r.summary.replace('|', "\\|")
        ));
    }
    s
}

pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// Run every selected rule on one resolved ini; a panicking rule becomes an
/// internal-error diagnostic instead of stopping the run.
pub fn check_ini(ctx: &IniContext, selected: &dyn Fn(&Rule) -> bool) -> Vec<Diagnostic> {
    run_rules(ctx, RULES, selected)
}

fn run_rules(
    ctx: &IniContext,
    rules: &[Rule],
    selected: &dyn Fn(&Rule) -> bool,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| selected(r)) {
        let Some(check) = rule.check else { continue };
        let mut found = Vec::new();
        let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check(ctx, rule, &mut found)
        }));
        match ok {
            Ok(()) => out.extend(found),
            Err(_) => out.push(Diagnostic {
                code: "UW000",
                name: "internal-error",
                severity: Severity::Error,
                message: format!(
                    "rule {} ({}) failed on this file; please report it",
                    rule.code, rule.name
                ),
                file: ctx.file,
                span: Span::default(),
                related: Vec::new(),
                help: None,
                fix: None,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;

    fn boom(_: &IniContext, _: &Rule, _: &mut Vec<Diagnostic>) {
        panic!("rule bug");
    }

    fn quiet(ctx: &IniContext, rule: &Rule, out: &mut Vec<Diagnostic>) {
        out.push(rule.diag(ctx.file, Span::default(), "ran"));
    }

    #[test]
    fn a_panicking_rule_becomes_an_internal_error_and_others_still_run() {
        let mut sources = SourceMap::new();
        let file = sources.add(SourceFile::new("x.ini", None, b"[uwsgi]\n".to_vec()));
        let resolved = Resolved::default();
        let ctx = IniContext {
            sources: &sources,
            file,
            resolved: &resolved,
            target: Version::new(2, 0, 30),
            target_from: None,
            deployment: None,
            project: &ProjectContext::default(),
            nginx: Vec::new(),
            memory: &crate::settings::Memory::default(),
            header_cache: Default::default(),
            anchor_cache: Default::default(),
            advice_cache: Default::default(),
        };
        let rule = |code, check| Rule {
            code,
            name: "test",
            severity: Severity::Warning,
            default: true,
            summary: "",
            check: Some(check),
            page: "",
        };
        let rules = [
            rule("UW990", boom as CheckFn),
            rule("UW991", quiet as CheckFn),
        ];
        let out = run_rules(&ctx, &rules, &|_| true);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].code, "UW000");
        assert!(out[0].message.contains("UW990"));
        assert_eq!(out[1].code, "UW991");
    }
}
