//! The model the rules and `advise` both read: one uWSGI config as resolved,
//! with the project around it (containers, Nginx, links) and the memory
//! assumptions. Built by the pipeline; read-only from here on.

use crate::source::{FileId, SourceMap, Span};
use crate::uwsgi::options::{ValueKind, catalogue};
use crate::uwsgi::resolve::{Entry, Layer, Resolved};
use crate::uwsgi::values::{read_flag, read_numeric};
use crate::uwsgi::version::Version;

/// Memory assumptions (used by the memory budget and `advise`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Memory {
    pub baseline_rss_bytes: u64,
    pub headroom: f64,
    pub nginx_worker_bytes: u64,
    pub master_bytes: u64,
}

impl Default for Memory {
    fn default() -> Memory {
        Memory {
            baseline_rss_bytes: 100 << 20,
            headroom: 0.10,
            nginx_worker_bytes: 16 << 20,
            master_bytes: 16 << 20,
        }
    }
}

/// A context file, or part of one, that is read only once rendered (a Helm,
/// Jinja or envsubst template): not a fault of the file, so it is no
/// finding; `check` says how much was left unread.
#[derive(Debug, Clone)]
pub struct NotRead {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// What every config of a run shares: the containers, Dockerfiles and Nginx
/// configurations around them, loaded into the source map.
#[derive(Default)]
pub struct ProjectContext {
    pub project: crate::deployment::Project,
    /// The file id of every context file loaded, by path.
    pub ids: foldhash::HashMap<std::path::PathBuf, FileId>,
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
    pub included: foldhash::HashSet<std::path::PathBuf>,
    /// Files that define a container linked to some config, by directory.
    pub runner_files: foldhash::HashMap<std::path::PathBuf, Vec<std::path::PathBuf>>,
    /// Templates (or parts of them) not read.
    pub not_read: Vec<NotRead>,
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
    pub memory: &'a Memory,
    /// The section header, found once (several rules point at it).
    pub header_cache: std::cell::OnceCell<Span>,
    /// Where new options go ([`IniContext::insertion_anchor`]), found once.
    pub anchor_cache: std::cell::OnceCell<(FileId, Span)>,
    /// The checked file's lines, parsed once for the rules that read them.
    pub doc_cache: std::cell::OnceCell<crate::uwsgi::syntax::IniDoc>,
    /// The sockets, found once (a dozen rules compare them).
    pub sockets_cache: std::cell::OnceCell<Vec<crate::deployment::Socket>>,
}

impl IniContext<'_> {
    /// The lines of `file` as an ini: parsed once for the checked file.
    pub fn ini_doc(&self, file: FileId) -> std::borrow::Cow<'_, crate::uwsgi::syntax::IniDoc> {
        if file == self.file {
            std::borrow::Cow::Borrowed(
                self.doc_cache.get_or_init(|| {
                    crate::uwsgi::syntax::parse(&self.sources.get(self.file).bytes)
                }),
            )
        } else {
            std::borrow::Cow::Owned(crate::uwsgi::syntax::parse(&self.sources.get(file).bytes))
        }
    }

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
        self.is_open() || self.binds_nothing()
    }

    /// Options only known at runtime may complete the config (a launcher's
    /// unknown option or `$EXTRA_ARGS`): what is absent may be set there.
    pub fn is_open(&self) -> bool {
        self.resolved.open || self.deployment.is_some_and(|d| d.runtime_options)
    }

    fn binds_nothing(&self) -> bool {
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
        // By the path read (a config embedded in a manifest is named by
        // the manifest, but read as what its key says).
        let f = self.sources.get(file);
        let name = f
            .path
            .as_ref()
            .map_or_else(|| f.name.clone(), |p| p.to_string_lossy().into_owned());
        name.ends_with(".yaml") || name.ends_with(".yml")
    }

    /// The section header of the checked file (`[uwsgi]`, or `uwsgi:` in YAML).
    pub fn header(&self) -> (FileId, Span) {
        if let Some(place) = self.command_line().and_then(|d| d.args_place.as_ref()) {
            return (self.file, place.span);
        }
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
                self.ini_doc(self.file)
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
        // A manifest's command line is not rewritten.
        if self.command_line().is_some() {
            return None;
        }
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
                    && crate::uwsgi::suggest::suggestion(&e.key_str())
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
        // The blocks are disjoint and in file order: one binary search per
        // line, not a scan of every block (a large config has hundreds).
        let in_block = |at: usize| {
            let i = blocks.partition_point(|b| b.start <= at);
            i > 0 && at < blocks[i - 1].end
        };
        let mine = || {
            self.file_entries()
                .filter(|(_, f, k, _)| *f == self.file && !in_block(k.start))
        };
        // Through the index: a scan comparing every entry's name with each
        // of these showed in the keystroke's profile.
        RECYCLING
            .iter()
            .flat_map(|name| self.resolved.all(name))
            .filter_map(|e| self.spans(e).map(|(f, k, v)| (e, f, k, v)))
            .filter(|(_, f, k, _)| *f == self.file && !in_block(k.start))
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
        for line in &self.ini_doc(self.file).lines {
            let crate::uwsgi::syntax::LineKind::Entry { key, .. } = line.kind else {
                continue;
            };
            let k = &bytes[key.range()];
            if crate::uwsgi::resolve::is_block_closer(k) {
                if let Some(start) = open.take() {
                    out.push(Span::new(start, line.span.end));
                }
            } else if open.is_none()
                && std::str::from_utf8(k).is_ok_and(crate::uwsgi::resolve::is_logic_opener)
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

    /// Does SIGTERM stop gracefully here: is [`GRACEFUL_STOP_HOOK`] set?
    pub fn graceful_stop_hooked(&self) -> bool {
        // As `uwsgi_hook_unix_signal` reads it: `atoi` up to the first space,
        // then the rest is the symbol name, exactly.
        self.resolved.all("hook-master-start").any(|e| {
            let v = e.value_str();
            v.strip_prefix("unix_signal:")
                .and_then(|arg| arg.split_once(' '))
                .is_some_and(|(num, func)| {
                    crate::uwsgi::values::atoi(num.as_bytes()).0 == 15
                        && func == "gracefully_kill_them_all"
                })
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
            // A command line that is the whole config: its words are the
            // config's lines (a shell-form command is one span).
            Layer::Cli { index } => {
                let args = &self.command_line()?.args;
                let key = args.get(index)?;
                let value = match (key.value.contains('='), e.value.is_some()) {
                    (false, true) => args.get(index + 1).unwrap_or(key),
                    _ => key,
                };
                Some((self.file, key.span, value.span))
            }
            _ => None,
        }
    }

    /// The deployment, when its command line is the whole config.
    pub fn command_line(&self) -> Option<&crate::deployment::Deployment> {
        self.deployment.filter(|d| d.command_line)
    }
}

/// The hook that makes SIGTERM a graceful stop (each worker finishes its
/// request): `hook-master-start = unix_signal:15 gracefully_kill_them_all`.
pub const GRACEFUL_STOP_HOOK: &str = "unix_signal:15 gracefully_kill_them_all";
