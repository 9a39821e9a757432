//! The effective option list, collected exactly as uWSGI 2.0.x collects it.
//!
//! This follows `uwsgi_setup` (facts §7): `UWSGI_*` environment variables,
//! then the command line left to right (each `--ini` spliced in at its
//! position, immediate options applied as they are added), then the `$()`,
//! `@()` and `%()` passes over non-immediate values, then the configure step
//! where `inherit =` appends its file at the end. Logic blocks (`if-*`,
//! `for*`) are the same global state machine uWSGI has, so an unclosed block
//! swallows everything after it, as it does in uWSGI.
//!
//! Nothing a config names is ever executed or fetched: scheme URLs
//! (`exec://`, `http://` ...) are left as they are and reported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::input::Overlay;
pub use crate::input::{normalize_lexically, read_local};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::uwsgi::magic::{self, HostFacts, MagicTable};
use crate::uwsgi::options::{Argument, OptionDef, catalogue};
use crate::uwsgi::syntax::{self, LineKind};
use crate::uwsgi::values;
use crate::uwsgi::yaml;

/// URL schemes uWSGI registers (`core/io.c`); never followed here.
pub const SCHEMES: &[&str] = &[
    "emperor", "http", "data", "sym", "section", "fd", "exec", "call", "callint",
];

/// Deepest include nesting followed; uWSGI has no guard and crashes.
const MAX_DEPTH: usize = 64;
/// Bound on `$()`/`@()`/`%()` replacements in one value (self-references grow forever).
const MAX_EXPANSIONS: usize = 1000;
const MAX_VALUE_LEN: usize = 1 << 20;
/// Bound on the bytes all expansions of one config build together: values
/// fanned out by `for-times` (an 800-byte file asking for gigabytes) stop
/// being expanded there, with a diagnostic. It bounds the work too (each
/// expansion copies its value): 16 MiB is about 30 ms, and far beyond any
/// real config; 64 MiB took over a second in a fuzzer's instrumented build.
const MAX_EXPANDED_TOTAL: usize = 16 << 20;
/// Bound on collected options (`for-times = 100000000` must not exhaust
/// memory). Each option is scanned by three passes and may give events:
/// 100,000 options with unknown references took over a second under the
/// fuzzer; real configs have a few hundred.
const MAX_ENTRIES: usize = 10_000;
/// How often one file may be inherited before it is taken for a cycle
/// (uWSGI loops forever on `inherit` cycles).
const MAX_INHERITS_OF_ONE_FILE: usize = 8;
/// Bound on config files read for one config: `include` inside
/// `for-times = 2000` reads a file per round, each with its system calls and
/// parse (over a second in a fuzzer's instrumented build). Real configs read
/// a few dozen.
const MAX_FILE_READS: usize = 500;

/// How uWSGI is started: its environment and its command line (without argv[0]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Invocation {
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
}

impl Invocation {
    /// `uwsgi --ini SPEC [extra...]`, the shape `show-config` resolves.
    pub fn ini(spec: &str, extra: &[String]) -> Invocation {
        let mut args = vec!["--ini".to_string(), spec.to_string()];
        args.extend(extra.iter().cloned());
        Invocation {
            env: Vec::new(),
            args,
        }
    }

    fn getenv(&self, name: &[u8]) -> Option<&str> {
        // Like getenv(3): the first match in environ order.
        self.env
            .iter()
            .find(|(k, _)| k.as_bytes() == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Where an option came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Layer {
    /// A `UWSGI_*` environment variable.
    Env { var: String },
    /// The n-th command-line argument (0-based, without argv[0]).
    Cli { index: usize },
    /// A line of an ini file.
    File {
        #[serde(skip)]
        file: FileId,
        #[serde(skip)]
        line: Span,
        #[serde(skip)]
        key: Span,
        #[serde(skip)]
        value: Span,
    },
}

/// Why an option exists at this point: the include, block or `set` that put it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    pub layer: Layer,
    pub what: ViaKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViaKind {
    /// Loaded by `ini =`, `include =`, `inherit =`, `--ini` or a positional file.
    Include { directive: String },
    /// Produced by a logic block (`for`, `if-env` ...).
    Logic { directive: String },
    /// Produced by `set =` / `set-placeholder =`.
    Set { directive: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub layer: Layer,
    /// Outermost first. Shared: every entry of a file has the same.
    pub via: std::sync::Arc<Vec<Via>>,
}

impl Origin {
    pub fn file(&self) -> Option<FileId> {
        match self.layer {
            Layer::File { file, .. } => Some(file),
            _ => None,
        }
    }
}

/// One collected `key = value`, in uWSGI's order.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: Vec<u8>,
    /// `None` for a command-line flag given without an argument.
    pub value: Option<Vec<u8>>,
    /// The value as collected, when the `$()`/`@()`/`%()` passes changed
    /// it (most values they leave alone share `value`: no copy per entry).
    raw: Option<Vec<u8>>,
    pub origin: Origin,
    /// Applied at parse time (immediate) or a `set-placeholder`: the passes skip it.
    pub configured: bool,
    pub placeholder_only: bool,
    /// Appended by `inherit =` during the configure step.
    pub inherited: bool,
    /// Parts of the value that cannot be known statically.
    pub unknown: Vec<Unknown>,
    /// The catalogue's entry for `key`, looked up once (rules ask for it
    /// on every entry, many times over).
    def: Option<&'static OptionDef>,
}

impl Entry {
    pub fn key_str(&self) -> String {
        String::from_utf8_lossy(&self.key).into_owned()
    }
    /// The value as uWSGI's `--show-config` prints it.
    pub fn value_str(&self) -> String {
        match &self.value {
            Some(v) => String::from_utf8_lossy(v).into_owned(),
            None => "true".to_string(),
        }
    }
    pub fn def(&self) -> Option<&'static OptionDef> {
        self.def
    }
    /// The value as collected, before the `$()`/`@()`/`%()` passes.
    pub fn raw_value(&self) -> Option<&[u8]> {
        self.raw.as_deref().or(self.value.as_deref())
    }
}

/// A reference that stays unresolved without running or fetching anything.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unknown {
    pub reference: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    IncludeNotFound,
    IncludeCycle,
    RuntimeValue,
    UnclosedLogicBlock,
    NestedLogicBlock,
    SectionNotFound,
    IncludeWithSection,
    UnsupportedConfig,
    InvalidDirective,
    UnknownCliOption,
    ExpansionLimit,
    /// `strict = true` and a key that is no option: uWSGI exits.
    StrictUnknown,
    /// An option's parser refuses its value and uWSGI exits (a negative
    /// `uwsgi_opt_set_int`); UW108 reports the value itself.
    InvalidValue,
}

/// Something found while resolving; rules turn these into diagnostics.
#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub origin: Origin,
    pub message: String,
    /// uWSGI would exit (or crash) at startup because of it.
    pub fatal: bool,
}

/// How a launcher's word only known at runtime is written into uWSGI's
/// arguments (see `container::supervisord::unknown_marker`).
pub const UNKNOWN_WORD: &str = "$(unknown:";

/// The result: uWSGI's `exported_opts` plus what happened on the way.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub entries: Vec<Entry>,
    pub events: Vec<Event>,
    /// Files loaded, in order, with the section asked of each.
    pub files: Vec<(FileId, String)>,
    /// `strict` was on at the end of collection.
    pub strict: bool,
    /// Names declared with `declare-option`.
    pub declared: Vec<String>,
    /// `%X` magic variables used, with where.
    pub magic_uses: Vec<(FileId, Span, u8)>,
    /// A command-line word only known at runtime stands where options go
    /// (a launcher's `$EXTRA_ARGS`): any option may be set there.
    pub open: bool,
    /// Entries by the hash of their key, built at the first lookup (rules
    /// look up hundreds of options in configs of thousands of lines).
    index: std::sync::OnceLock<KeyIndex>,
}

/// Entry positions by key hash, for the entry count it was built at: the
/// first and last entry of each hash, and each entry's next of the same
/// hash (no allocation per key: a large tree keeps thousands of these).
#[derive(Debug, Clone, Default)]
struct KeyIndex {
    len: usize,
    ends: HashMap<u64, (u32, u32), foldhash::fast::FixedState>,
    next: Vec<u32>,
}

impl KeyIndex {
    const NONE: u32 = u32::MAX;

    /// Entry `i` (the next position) has a key hashing to `hash`.
    fn push(&mut self, hash: u64, i: u32) {
        self.next.push(Self::NONE);
        match self.ends.get_mut(&hash) {
            Some((_, last)) => {
                if let Some(n) = self.next.get_mut(*last as usize) {
                    *n = i;
                }
                *last = i;
            }
            None => {
                self.ends.insert(hash, (i, i));
            }
        }
        self.len = i as usize + 1;
    }

    /// The positions of the entries whose key hashes to `hash`, in order.
    fn get(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.ends.get(&hash).map(|(first, _)| *first);
        std::iter::from_fn(move || {
            let i = at?;
            at = self
                .next
                .get(i as usize)
                .copied()
                .filter(|n| *n != Self::NONE);
            Some(i)
        })
    }
}

fn key_hash(key: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0).hash_one(key)
}

impl Resolved {
    /// Every file id mapped through `ids` (old id → new id): the result
    /// of resolving into a source map of its own, once that map is merged
    /// into another ([`SourceMap::merge`]).
    pub fn remap_files(&mut self, ids: &[FileId]) {
        use std::sync::Arc;
        let map = |f: &mut FileId| *f = ids[f.0 as usize];
        // Entries share their include chain: each chain is remapped once
        // (the old one is kept here, so its address names it until done).
        type Chain = Arc<Vec<Via>>;
        let mut chains: HashMap<*const Vec<Via>, (Chain, Chain)> = HashMap::new();
        let mut origin = |o: &mut Origin| {
            if let Layer::File { file, .. } = &mut o.layer {
                map(file);
            }
            if o.via.is_empty() {
                return;
            }
            let (_, new) = chains.entry(Arc::as_ptr(&o.via)).or_insert_with(|| {
                let mut via = Vec::clone(&o.via);
                for v in &mut via {
                    if let Layer::File { file, .. } = &mut v.layer {
                        map(file);
                    }
                }
                (o.via.clone(), Arc::new(via))
            });
            o.via = new.clone();
        };
        for e in &mut self.entries {
            origin(&mut e.origin);
        }
        for e in &mut self.events {
            origin(&mut e.origin);
        }
        for (f, _) in &mut self.files {
            map(f);
        }
        for (f, _, _) in &mut self.magic_uses {
            map(f);
        }
    }

    /// The block uWSGI's `--show-config` prints.
    pub fn show_config_text(&self) -> String {
        let mut s = String::from(";uWSGI instance configuration\n[uwsgi]\n");
        for e in &self.entries {
            s.push_str(&format!("{} = {}\n", e.key_str(), e.value_str()));
        }
        s.push_str(";end of configuration\n");
        s
    }

    /// Does uWSGI exit at startup for a reason found while collecting?
    pub fn fatal(&self) -> Option<&Event> {
        self.events.iter().find(|e| e.fatal)
    }

    /// The entries the running server sees for `name` (any alias), in order.
    pub fn all<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Entry> + 'a {
        let names = catalogue().get(name).into_iter().flat_map(|d| d.aliases());
        let index = self.index.get_or_init(|| {
            let mut index = KeyIndex::default();
            for (i, e) in self.entries.iter().enumerate() {
                index.push(key_hash(&e.key), i as u32);
            }
            index
        });
        let mut hits: Vec<u32> = Vec::new();
        // (Each alias's `'static` name shortened to `name`'s lifetime.)
        let shorten = |n: &'static str| -> &[u8] { n.as_bytes() };
        let wanted =
            std::iter::once(name.as_bytes()).chain(names.filter(|n| *n != name).map(shorten));
        if index.len == self.entries.len() {
            for n in wanted {
                hits.extend(
                    index
                        .get(key_hash(n))
                        .filter(|&i| self.entries[i as usize].key == n),
                );
            }
            hits.sort_unstable();
            hits.dedup();
        } else {
            // Entries were added after the index was built.
            let wanted: Vec<&[u8]> = wanted.collect();
            hits.extend(
                (0..self.entries.len() as u32)
                    .filter(|&i| wanted.iter().any(|n| *n == self.entries[i as usize].key)),
            );
        }
        hits.into_iter().map(move |i| &self.entries[i as usize])
    }

    /// The effective (last) entry for a single-valued option.
    pub fn last(&self, name: &str) -> Option<&Entry> {
        self.all(name).last()
    }

    /// `uwsgi_get_exported_opt`: the first entry with exactly this key.
    pub fn first_exact(&self, key: &[u8]) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LogicKind {
    For,
    ForGlob,
    ForReadline,
    ForTimes,
    IfOpt(bool),
    IfEnv(bool),
    IfExists(bool),
    IfFile(bool),
    IfDir(bool),
    IfReload(bool),
    IfPlugin(bool),
    IfHostname(bool),
    IfHostnameMatch(bool),
}

fn logic_kind(name: &str) -> Option<LogicKind> {
    use LogicKind::*;
    Some(match name {
        "for" => For,
        "for-glob" => ForGlob,
        "for-readline" => ForReadline,
        "for-times" => ForTimes,
        "if-opt" => IfOpt(true),
        "if-not-opt" => IfOpt(false),
        "if-env" => IfEnv(true),
        "if-not-env" => IfEnv(false),
        "if-exists" => IfExists(true),
        "if-not-exists" => IfExists(false),
        "if-file" => IfFile(true),
        "if-not-file" => IfFile(false),
        "if-dir" => IfDir(true),
        "if-not-dir" => IfDir(false),
        "if-reload" => IfReload(true),
        "if-not-reload" => IfReload(false),
        "if-plugin" => IfPlugin(true),
        "if-not-plugin" => IfPlugin(false),
        "if-hostname" => IfHostname(true),
        "if-not-hostname" => IfHostname(false),
        "if-hostname-match" => IfHostnameMatch(true),
        "if-not-hostname-match" => IfHostnameMatch(false),
        _ => return None,
    })
}

pub fn is_block_closer(key: &[u8]) -> bool {
    matches!(key, b"end" | b"endfor" | b"endif" | b"end-if" | b"end-for")
}

/// Every logic option is named `if…` or `for…` (the catalogue's
/// `uwsgi_opt_logic` parser; a test holds this), so other keys are not
/// looked up.
pub fn is_logic_opener(key: &str) -> bool {
    (key.starts_with("if") || key.starts_with("for"))
        && catalogue()
            .get(key)
            .is_some_and(|d| d.parser == "uwsgi_opt_logic")
}

#[derive(Debug, Clone)]
struct Logic {
    kind: LogicKind,
    arg: Vec<u8>,
    origin: Origin,
    directive: String,
    swallowed: usize,
}

/// The config file formats uwsgi-lint reads (uWSGI's own readers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFormat {
    Ini,
    /// uWSGI's built-in line-based YAML reader.
    Yaml,
}

/// Resolution settings that are not part of the uWSGI invocation.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// When an included file is missing relative to the working directory,
    /// also try the including file's directory (what a repo checkout needs;
    /// uWSGI itself only uses its cwd, so this is off for exact emulation).
    pub fallback_to_including_dir: bool,
    /// In-memory texts read instead of the files they stand for
    /// (`--stdin-filename`, an editor's unsaved buffers).
    pub overlay: Overlay,
    /// Read no file outside these directories (empty: no limit). A linter
    /// run on an untrusted change must not copy `/home/runner/.ssh/…` into
    /// its report through `ini = /…`; such files become unknown values.
    pub confine: Vec<PathBuf>,
    /// The machine that will run uWSGI is not this one (`check`, `advise`):
    /// values built from host magic variables (`%k` CPUs, `%h` host name,
    /// `%u` user …) are unknown rather than this machine's.
    pub foreign_host: bool,
}

/// Magic variables whose value depends on the machine (and moment) uWSGI
/// starts on, and what each is.
pub const HOST_MAGIC: &[(u8, &str)] = &[
    (b'k', "the CPU count of the machine that runs uWSGI"),
    (b'h', "the host name of the machine that runs uWSGI"),
    (b'u', "the uid uWSGI runs as"),
    (b'U', "the user uWSGI runs as"),
    (b'g', "the gid uWSGI runs as"),
    (b'G', "the group uWSGI runs as"),
    (b't', "the time uWSGI starts"),
    (b'T', "the time uWSGI starts"),
    (b'v', "the directory uWSGI starts in"),
];

impl ResolveOptions {
    /// Does `path` exist outside the directories files may be read from?
    pub fn is_outside(&self, path: &Path) -> bool {
        crate::confine::is_outside(&self.confine, path)
    }
}

struct Resolver<'a> {
    inv: &'a Invocation,
    host: &'a HostFacts,
    opts: &'a ResolveOptions,
    sources: &'a mut SourceMap,
    out: Resolved,
    magic: MagicTable,
    logic: Option<Logic>,
    logic_running: bool,
    last_file: Option<Vec<u8>>,
    /// (path, section) being loaded, for cycle detection.
    stack: Vec<(PathBuf, Vec<u8>)>,
    via: std::sync::Arc<Vec<Via>>,
    /// Directory of the file currently being read (for the fallback).
    dir_stack: Vec<PathBuf>,
    in_configure: bool,
    /// How often each (file, section) was loaded by `inherit`.
    inherit_counts: Vec<((PathBuf, Vec<u8>), usize)>,
    /// The option cap was hit (reported once).
    overflowed: bool,
    /// Config files read so far (see [`MAX_FILE_READS`]).
    file_reads: usize,
    /// Entries by key, kept as they are added: the first of a key answers
    /// `uwsgi_get_exported_opt` (a scan per placeholder would be quadratic
    /// in `for-times` output), and the whole is [`Resolved`]'s index.
    index: KeyIndex,
    /// Bytes built by `$()`/`@()`/`%()` expansion so far.
    expanded: usize,
    /// The expansion budget ran out (reported once).
    expansion_exhausted: bool,
}

/// Resolve `inv` as uWSGI would, reading files relative to `host.cwd`.
pub fn resolve(
    inv: &Invocation,
    host: &HostFacts,
    opts: &ResolveOptions,
    sources: &mut SourceMap,
) -> Resolved {
    let mut r = Resolver {
        inv,
        host,
        opts,
        sources,
        out: Resolved::default(),
        magic: MagicTable::new(host),
        logic: None,
        logic_running: false,
        last_file: None,
        stack: Vec::new(),
        via: Default::default(),
        dir_stack: Vec::new(),
        in_configure: false,
        inherit_counts: Vec::new(),
        overflowed: false,
        file_reads: 0,
        index: KeyIndex::default(),
        expanded: 0,
        expansion_exhausted: false,
    };
    r.collect_env();
    r.collect_cli();
    r.pass(b'$');
    r.pass(b'@');
    r.pass(b'%');
    r.configure();
    r.check_strict();
    if let Some(logic) = r.logic.take() {
        let msg = format!(
            "`{}` block is never closed: the {} option(s) after it{} are swallowed",
            logic.directive,
            logic.swallowed,
            if logic.swallowed > 0 {
                ", including any given later on the command line,"
            } else {
                ""
            }
        );
        r.out.events.push(Event {
            kind: EventKind::UnclosedLogicBlock,
            origin: logic.origin,
            message: msg,
            fatal: false,
        });
    }
    // Built while collecting: rules look options up from the start.
    r.index.next.shrink_to_fit();
    r.out.index = std::sync::OnceLock::from(r.index);
    // Kept until the report: without the growth slack (a large tree
    // holds thousands of resolutions at once).
    r.out.entries.shrink_to_fit();
    r.out.events.shrink_to_fit();
    r.out
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// C string semantics: everything after a NUL is invisible.
fn cstr(b: &[u8]) -> &[u8] {
    match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    }
}

fn has_scheme(spec: &[u8]) -> Option<&'static str> {
    SCHEMES.iter().copied().find(|s| {
        spec.len() > s.len() + 3
            && spec.starts_with(s.as_bytes())
            && &spec[s.len()..s.len() + 3] == b"://"
    })
}

/// Replace every `%(_)` in `value` with `with` (`uwsgi_substitute`).
fn substitute_underscore(value: &[u8], with: Option<&[u8]>) -> Vec<u8> {
    let Some(with) = with else {
        return value.to_vec();
    };
    let mut out = Vec::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if value[i..].starts_with(b"%(_)") {
            out.extend_from_slice(with);
            i += 4;
        } else {
            out.push(value[i]);
            i += 1;
        }
    }
    out
}

impl Resolver<'_> {
    fn cli_origin(&self, index: usize) -> Origin {
        Origin {
            layer: Layer::Cli { index },
            via: self.via.clone(),
        }
    }

    /// [`Resolved::first_exact`] through the index.
    fn first_exact(&self, key: &[u8]) -> Option<&Entry> {
        self.index
            .get(key_hash(key))
            .map(|i| &self.out.entries[i as usize])
            .find(|e| e.key == key)
    }

    fn event(&mut self, kind: EventKind, origin: Origin, message: String, fatal: bool) {
        self.out.events.push(Event {
            kind,
            origin,
            message,
            fatal,
        });
    }

    // ---- collection -------------------------------------------------------

    fn collect_env(&mut self) {
        const SKIP: &[&str] = &[
            "UWSGI_RELOADS",
            "UWSGI_VASSALS_DIR",
            "UWSGI_EMPEROR_FD",
            "UWSGI_BROODLORD_NUM",
            "UWSGI_EMPEROR_FD_CONFIG",
            "UWSGI_EMPEROR_PROXY",
            "UWSGI_JAIL_PID",
            "UWSGI_ORIGINAL_PROC_NAME",
        ];
        for (name, value) in self.inv.env.clone() {
            let Some(rest) = name.strip_prefix("UWSGI_") else {
                continue;
            };
            if SKIP.contains(&name.as_str()) {
                continue;
            }
            let key: Vec<u8> = rest
                .bytes()
                .map(|b| match b.to_ascii_lowercase() {
                    b'_' => b'-',
                    c => c,
                })
                .collect();
            let origin = Origin {
                layer: Layer::Env { var: name.clone() },
                via: Default::default(),
            };
            self.add(key, Some(value.into_bytes()), origin, false);
        }
    }

    /// GNU `getopt_long` over the catalogue, as `uwsgi_commandline_config`.
    fn collect_cli(&mut self) {
        let args = self.inv.args.clone();
        let mut positional = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            if arg == "--" {
                positional.extend((i + 1..args.len()).map(|j| (j, args[j].clone())));
                break;
            }
            if let Some(long) = arg.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_string())),
                    None => (long, None),
                };
                let Some(def) = self.long_option(name) else {
                    let origin = self.cli_origin(i);
                    self.event(
                        EventKind::UnknownCliOption,
                        origin,
                        format!("unrecognized command-line option `--{name}`: uWSGI exits (getopt_long() error)"),
                        true,
                    );
                    i += 1;
                    continue;
                };
                let index = i;
                let value = match def.argument {
                    Argument::None => None,
                    Argument::Optional => inline,
                    Argument::Required => match inline {
                        Some(v) => Some(v),
                        None if i + 1 < args.len() => {
                            i += 1;
                            Some(args[i].clone())
                        }
                        None => {
                            let origin = self.cli_origin(index);
                            self.event(
                                EventKind::UnknownCliOption,
                                origin,
                                format!("option `--{}` requires an argument", def.name),
                                true,
                            );
                            i += 1;
                            continue;
                        }
                    },
                };
                let origin = self.cli_origin(index);
                self.add(
                    def.name.as_bytes().to_vec(),
                    value.map(String::into_bytes),
                    origin,
                    false,
                );
            } else if arg.len() > 1 && arg.starts_with('-') {
                let chars: Vec<char> = arg[1..].chars().collect();
                let mut k = 0;
                let index = i;
                while k < chars.len() {
                    let Some(def) = catalogue().by_short(chars[k]) else {
                        let origin = self.cli_origin(index);
                        self.event(
                            EventKind::UnknownCliOption,
                            origin,
                            format!("unrecognized command-line option `-{}`", chars[k]),
                            true,
                        );
                        break;
                    };
                    let rest: String = chars[k + 1..].iter().collect();
                    let value = match def.argument {
                        Argument::None => {
                            k += 1;
                            None
                        }
                        Argument::Optional => {
                            k = chars.len();
                            (!rest.is_empty()).then_some(rest)
                        }
                        Argument::Required => {
                            k = chars.len();
                            if !rest.is_empty() {
                                Some(rest)
                            } else if i + 1 < args.len() {
                                i += 1;
                                Some(args[i].clone())
                            } else {
                                let origin = self.cli_origin(index);
                                self.event(
                                    EventKind::UnknownCliOption,
                                    origin,
                                    format!("option `-{}` requires an argument", chars[k - 1]),
                                    true,
                                );
                                break;
                            }
                        }
                    };
                    let origin = self.cli_origin(index);
                    self.add(
                        def.name.as_bytes().to_vec(),
                        value.map(String::into_bytes),
                        origin,
                        false,
                    );
                }
            } else {
                // getopt permutes: non-options are handled after all options.
                positional.push((i, arg.clone()));
            }
            i += 1;
        }
        for (index, arg) in positional {
            if arg.contains(UNKNOWN_WORD) {
                self.out.open = true;
                continue;
            }
            if !arg.starts_with('[') {
                let origin = self.cli_origin(index);
                self.load_any(arg.as_bytes(), origin, "positional argument");
            }
        }
    }

    /// Exact name, else a unique prefix (GNU getopt abbreviations).
    fn long_option(&self, name: &str) -> Option<&'static OptionDef> {
        let cat = catalogue();
        if let Some(d) = cat.get(name).filter(|d| d.in_build) {
            return Some(d);
        }
        let matches = cat.with_prefix(name);
        let first = *matches.first()?;
        if matches
            .iter()
            .all(|o| o.target == first.target && o.parser == first.parser)
        {
            Some(first)
        } else {
            None
        }
    }

    /// `add_exported_option_do`.
    fn add(
        &mut self,
        key: Vec<u8>,
        value: Option<Vec<u8>>,
        origin: Origin,
        placeholder_only: bool,
    ) {
        if !self.logic_running {
            if is_block_closer(&key) {
                self.logic = None;
            }
            // The block stays active while it runs, as uWSGI's global state does,
            // so a block opened inside it is seen as nested.
            if let Some(logic) = self.logic.clone() {
                self.logic_running = true;
                let added = self.run_logic(&logic, &key, value.as_deref(), &origin);
                self.logic_running = false;
                if !added && let Some(l) = &mut self.logic {
                    l.swallowed += 1;
                }
                return;
            }
        }
        let idx = self.out.entries.len();
        if idx >= MAX_ENTRIES {
            if !self.overflowed {
                self.overflowed = true;
                let msg = format!("more than {MAX_ENTRIES} options collected; the rest is ignored");
                self.event(EventKind::ExpansionLimit, origin, msg, true);
            }
            return;
        }
        self.index.push(key_hash(&key), idx as u32);
        // Looked up once: every added option goes through here.
        let def = std::str::from_utf8(&key)
            .ok()
            .and_then(|k| catalogue().get(k));
        // Immediate options are applied with the value as written.
        let immediate = match def {
            Some(d) if d.is_immediate() && !placeholder_only => value.clone(),
            _ => None,
        };
        self.out.entries.push(Entry {
            def,
            key,
            raw: None,
            value,
            origin,
            configured: false,
            placeholder_only,
            inherited: self.in_configure,
            unknown: Vec::new(),
        });
        let entry = &self.out.entries[idx];
        // uWSGI looks every added key up (`uwsgi_opt_get`), which exits on
        // an unknown one while `strict` is on: a later `strict = false` does
        // not undo it (found by the generated differential test).
        if self.out.strict
            && !placeholder_only
            && def.is_none_or(|d| !d.in_build)
            && !self.out.declared.iter().any(|d| d.as_bytes() == entry.key)
            && !self
                .out
                .events
                .iter()
                .any(|e| e.kind == EventKind::StrictUnknown)
        {
            let key_s = lossy(&entry.key);
            let msg = format!(
                "`strict` is on and `{key_s}` is no uWSGI option: uWSGI exits with \"[strict-mode] unknown config directive\""
            );
            let origin = entry.origin.clone();
            self.event(EventKind::StrictUnknown, origin, msg, true);
        }
        if placeholder_only {
            if def.is_some_and(|d| d.in_build) {
                let entry = &self.out.entries[idx];
                let key_s = lossy(&entry.key);
                let origin = entry.origin.clone();
                self.event(
                    EventKind::InvalidDirective,
                    origin,
                    format!("`{key_s}` is a uWSGI option and cannot be set as a placeholder: uWSGI exits"),
                    true,
                );
            }
            self.out.entries[idx].configured = true;
            return;
        }
        if let Some(def) = def
            && def.is_immediate()
        {
            self.out.entries[idx].configured = true;
            let origin = self.out.entries[idx].origin.clone();
            // An immediate integer (`listen`) is parsed right away: a
            // negative one stops uWSGI there.
            if let Some(msg) = refused_value(&self.out.entries[idx]) {
                self.event(EventKind::InvalidValue, origin.clone(), msg, true);
            }
            self.apply_immediate(def, immediate.as_deref(), origin);
        }
    }

    /// Evaluate the active block for one option; true if it was added.
    fn run_logic(
        &mut self,
        logic: &Logic,
        key: &[u8],
        value: Option<&[u8]>,
        origin: &Origin,
    ) -> bool {
        use LogicKind::*;
        let arg = logic.arg.clone();
        let mut origin = origin.clone();
        std::sync::Arc::make_mut(&mut origin.via).push(Via {
            layer: logic.origin.layer.clone(),
            what: ViaKind::Logic {
                directive: logic.directive.clone(),
            },
        });
        let add_with = |this: &mut Self, with: Option<&[u8]>| {
            let v = value.map(|v| substitute_underscore(v, with));
            this.add(key.to_vec(), v, origin.clone(), false);
        };
        let path_of = |this: &Self, p: &[u8]| this.host.cwd.join(Path::new(&lossy(p)));
        match logic.kind {
            For => {
                let items: Vec<Vec<u8>> = arg
                    .split(|&b| b == b' ')
                    .filter(|t| !t.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect();
                for item in items {
                    add_with(self, Some(&item));
                }
                true
            }
            ForTimes => {
                let (n, _, _) = values::atoi(&arg);
                for i in 1..=n.max(0) {
                    if self.overflowed {
                        break;
                    }
                    add_with(self, Some(i.to_string().as_bytes()));
                }
                true
            }
            ForGlob if crate::confine::glob_outside(&self.opts.confine, &path_of(self, &arg)) => {
                let msg = format!(
                    "`for-glob = {}` lists files outside the project, which are not listed here; the options it gives are unknown",
                    lossy(&arg)
                );
                self.event(EventKind::RuntimeValue, origin.clone(), msg, false);
                false
            }
            ForGlob => {
                let (items, capped) =
                    glob_mark_nocheck(&self.host.cwd, &lossy(&arg), &self.opts.confine);
                if capped {
                    let msg = format!(
                        "`for-glob = {}` matches more than {} files; the rest are skipped",
                        lossy(&arg),
                        crate::confine::MAX_GLOB_MATCHES
                    );
                    self.event(EventKind::ExpansionLimit, origin.clone(), msg, false);
                }
                for item in items {
                    add_with(self, Some(item.as_bytes()));
                }
                true
            }
            ForReadline if self.opts.is_outside(&path_of(self, &arg)) => false,
            ForReadline => match self.opts.overlay.read(&path_of(self, &arg)) {
                Ok(content) => {
                    for line in fgets_lines(&content) {
                        add_with(self, Some(&line));
                    }
                    true
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
                Err(e) => {
                    let msg = format!(
                        "`for-readline = {}`: cannot read it here: {e}; the lines it gives are unknown",
                        lossy(&arg)
                    );
                    self.event(EventKind::RuntimeValue, origin.clone(), msg, false);
                    false
                }
            },
            IfOpt(want) | IfEnv(want) => {
                let (name, expect) = match arg.iter().position(|&b| b == b'=') {
                    Some(i) => (&arg[..i], Some(&arg[i + 1..])),
                    None => (&arg[..], None),
                };
                let found: Option<Vec<u8>> = match logic.kind {
                    IfOpt(_) => self.first_exact(name).and_then(|e| e.value.clone()),
                    _ => self.inv.getenv(name).map(|v| v.as_bytes().to_vec()),
                };
                let hit = match (&found, expect) {
                    (Some(f), Some(e)) => f.as_slice() == e,
                    (Some(_), None) => true,
                    (None, _) => false,
                };
                if hit == want {
                    add_with(self, found.as_deref());
                    true
                } else {
                    false
                }
            }
            IfExists(_) | IfFile(_) | IfDir(_) if self.opts.is_outside(&path_of(self, &arg)) => {
                // Whether it exists out there must not change the report.
                // (Named by the block's directive: `key` is the option in it.)
                let msg = format!(
                    "`{} = {}` tests a path outside the project, which is not looked at here; the block's options are unknown",
                    logic.directive,
                    lossy(&arg)
                );
                self.event(EventKind::RuntimeValue, origin.clone(), msg, false);
                false
            }
            IfExists(want) | IfFile(want) | IfDir(want) => {
                let p = path_of(self, &arg);
                let meta = std::fs::metadata(&p);
                let hit = match logic.kind {
                    IfExists(_) => meta.is_ok(),
                    IfFile(_) => meta.map(|m| m.is_file()).unwrap_or(false),
                    _ => meta.map(|m| m.is_dir()).unwrap_or(false),
                };
                if hit == want {
                    add_with(self, Some(&arg));
                    true
                } else {
                    false
                }
            }
            IfReload(want) => {
                // Resolution models a first start, never a reload.
                if !want {
                    self.add(key.to_vec(), value.map(<[u8]>::to_vec), origin, false);
                }
                !want
            }
            IfPlugin(want) => {
                // The python plugin is what this tool lints for; others unknown.
                let hit = arg == b"python" || arg == b"python3";
                if hit == want {
                    add_with(self, Some(&arg));
                }
                hit == want
            }
            IfHostname(want) | IfHostnameMatch(want) => {
                let hit =
                    matches!(logic.kind, IfHostname(_)) && arg == self.host.hostname.as_bytes();
                if hit == want {
                    add_with(self, Some(&arg));
                }
                hit == want
            }
        }
    }

    fn apply_immediate(&mut self, def: &OptionDef, value: Option<&[u8]>, origin: Origin) {
        let value = value.unwrap_or_default().to_vec();
        match def.parser {
            "uwsgi_opt_logic" => {
                if let Some(outer) = &self.logic {
                    let msg = format!(
                        "`{}` inside the `{}` block: uWSGI exits with \"recursive logic in options is not supported\"",
                        def.name, outer.directive
                    );
                    self.event(EventKind::NestedLogicBlock, origin, msg, true);
                    return;
                }
                if let Some(kind) = logic_kind(def.name) {
                    self.logic = Some(Logic {
                        kind,
                        arg: value,
                        origin,
                        directive: def.name.to_string(),
                        swallowed: 0,
                    });
                }
            }
            "uwsgi_opt_load_ini" => self.load_ini(&value, origin, false, def.name),
            "uwsgi_opt_load" => self.load_any(&value, origin, def.name),
            "uwsgi_opt_load_yml" => self.load_yaml(&value, origin, false, def.name),
            "uwsgi_opt_load_json" | "uwsgi_opt_load_xml"
            | "uwsgi_opt_load_sqlite3" | "uwsgi_opt_load_config" | "uwsgi_opt_ini_paste" => {
                let msg = format!(
                    "`{} = {}` loads a {} configuration, which uwsgi-lint does not read: its options are not checked",
                    def.name,
                    lossy(&value),
                    def.name
                );
                self.event(EventKind::UnsupportedConfig, origin, msg, false);
            }
            "uwsgi_opt_set_placeholder" => match value.iter().position(|&b| b == b'=') {
                Some(i) => {
                    let mut o = origin.clone();
                    std::sync::Arc::make_mut(&mut o.via).push(Via {
                        layer: origin.layer.clone(),
                        what: ViaKind::Set {
                            directive: def.name.to_string(),
                        },
                    });
                    let ph = def.target != "NULL";
                    self.add(value[..i].to_vec(), Some(value[i + 1..].to_vec()), o, ph);
                }
                None => self.event(
                    EventKind::InvalidDirective,
                    origin,
                    format!("`{}` needs `name=value`: uWSGI exits with \"invalid placeholder/--set value\"", def.name),
                    true,
                ),
            },
            "uwsgi_opt_add_custom_option" => {
                if let Some(i) = value.iter().position(|&b| b == b'=') {
                    self.out.declared.push(lossy(&value[..i]));
                }
            }
            _ if def.name == "strict" => self.out.strict = values::read_flag(Some(&value)),
            _ => {}
        }
    }

    // ---- files --------------------------------------------------------------

    /// `uwsgi_opt_load`: `include =`, `inherit =` and positional files,
    /// dispatched on the extension.
    fn load_any(&mut self, spec: &[u8], origin: Origin, directive: &str) {
        let s = lossy(spec);
        // For messages: a path under the working directory is shown relative to it.
        let shown = match s.rsplit_once(':') {
            Some((f, sec)) if !f.is_empty() && !f.contains("://") => {
                format!("{}:{sec}", display_name(&self.host.cwd, Path::new(f)))
            }
            _ if !s.contains("://") && !s.is_empty() => display_name(&self.host.cwd, Path::new(&s)),
            _ => s.clone(),
        };
        if s.ends_with(".ini") {
            return self.load_ini(spec, origin, true, directive);
        }
        if s.ends_with(".yaml") || s.ends_with(".yml") {
            return self.load_yaml(spec, origin, true, directive);
        }
        for ext in [".xml", ".json", ".js"] {
            if s.ends_with(ext) {
                let msg = format!(
                    "`{directive} = {shown}` loads a {} file, which uwsgi-lint does not read: its options are not checked",
                    &ext[1..]
                );
                return self.event(EventKind::UnsupportedConfig, origin, msg, false);
            }
        }
        // Falls through to the pluggable loaders, which fail for `x.ini:sec`.
        if let Some((file, _)) = s.rsplit_once(':')
            && file.ends_with(".ini")
        {
            let msg = format!(
                "`{directive} = {shown}` fails at startup (\"unable to load configuration from …\"): `{directive}` cannot take a section; use `ini =` with the same value"
            );
            return self.event(EventKind::IncludeWithSection, origin, msg, true);
        }
        let msg = format!(
            "uWSGI cannot load `{s}` (\"unable to load configuration from {s}\") and exits"
        );
        self.event(EventKind::UnsupportedConfig, origin, msg, true);
    }

    fn resolve_path(&self, file: &str) -> PathBuf {
        let p = Path::new(file);
        let direct = self.host.cwd.join(p);
        if self.opts.fallback_to_including_dir
            && !p.is_absolute()
            && std::fs::symlink_metadata(&direct).is_err()
            && !self.opts.overlay.contains(&direct)
            && let Some(dir) = self.dir_stack.last()
        {
            let alt = dir.join(p);
            if alt.exists() || self.opts.overlay.contains(&alt) {
                return alt;
            }
        }
        direct
    }

    /// `uwsgi_opt_load_ini` → `config_magic_table_fill` + `uwsgi_ini_config`.
    fn load_ini(&mut self, spec: &[u8], origin: Origin, keep_upper: bool, directive: &str) {
        self.load_config(spec, origin, keep_upper, directive, ConfigFormat::Ini)
    }

    /// `uwsgi_opt_load_yml` → `config_magic_table_fill` + `uwsgi_yaml_config`.
    fn load_yaml(&mut self, spec: &[u8], origin: Origin, keep_upper: bool, directive: &str) {
        self.load_config(spec, origin, keep_upper, directive, ConfigFormat::Yaml)
    }

    fn load_config(
        &mut self,
        spec: &[u8],
        origin: Origin,
        keep_upper: bool,
        directive: &str,
        format: ConfigFormat,
    ) {
        // Split off the section: at the last ':' (after the last '/' for URLs).
        let scheme = has_scheme(spec);
        let search_from = if scheme.is_some() {
            spec.iter().rposition(|&b| b == b'/').unwrap_or(0)
        } else {
            0
        };
        let colon = spec[search_from..]
            .iter()
            .rposition(|&b| b == b':')
            .map(|i| i + search_from);
        let (mut file, section): (Vec<u8>, Vec<u8>) = match colon {
            Some(c) => {
                let sec = if c + 1 < spec.len() {
                    spec[c + 1..].to_vec()
                } else {
                    b"uwsgi".to_vec()
                };
                (spec[..c].to_vec(), sec)
            }
            None => (spec.to_vec(), b"uwsgi".to_vec()),
        };
        if colon == Some(0) {
            match &self.last_file {
                Some(last) => file = last.clone(),
                None => {
                    let msg = format!(
                        "`{directive} = {}` names a section of the previous ini file, but no ini file was read before",
                        lossy(spec)
                    );
                    return self.event(EventKind::IncludeNotFound, origin, msg, true);
                }
            }
        }
        if let Some(sch) = scheme {
            let msg = format!(
                "`{directive} = {}` is read through the `{sch}://` scheme at startup; uwsgi-lint never executes or fetches it, so its options are unknown",
                lossy(spec)
            );
            return self.event(EventKind::RuntimeValue, origin, msg, false);
        }
        if file == b"-" {
            let msg = format!(
                "`{directive} = -` reads the config from standard input; its options are unknown"
            );
            return self.event(EventKind::RuntimeValue, origin, msg, false);
        }
        // A project template (cookiecutter, Jinja, Helm): the name is known
        // only once rendered, so a missing file says nothing yet.
        if self.opts.foreign_host && (contains(&file, b"{{") || contains(&file, b"{%")) {
            let msg = format!(
                "`{directive} = {}` names a template placeholder; the file is known only once the template is rendered, so its options are unknown",
                lossy(spec)
            );
            return self.event(EventKind::RuntimeValue, origin, msg, false);
        }
        let file_s = lossy(&file);
        let path = self.resolve_path(&file_s);
        // How the file is named in messages: relative to the working directory
        // (a `%d/` value is absolute and would make messages machine-specific).
        let shown_file = display_name(&self.host.cwd, &path);
        let shown = match colon {
            Some(_) => format!("{shown_file}:{}", lossy(&section)),
            None => shown_file.clone(),
        };
        // An in-memory text (standard input, an unsaved buffer) replaces the
        // file; one with no file on disk is named by its absolute path.
        let abs = normalize_lexically(&self.host.cwd.join(&path));
        let in_memory: Option<Vec<u8>> = self.opts.overlay.get(&abs).map(<[u8]>::to_vec);
        // One `lstat` answers all three questions (a config load used to
        // make three of the same call).
        let meta = std::fs::symlink_metadata(&path);
        let is_virtual = in_memory.is_some() && meta.is_err();
        let is_link = meta.as_ref().is_ok_and(|m| m.file_type().is_symlink());
        // uWSGI's %p: realpath, or for a symlink the cwd-joined name as typed.
        let full = if is_virtual {
            Some(abs.clone())
        } else if is_link {
            Some(if Path::new(&file_s).is_absolute() {
                PathBuf::from(&file_s)
            } else {
                PathBuf::from(format!("{}/{}", self.host.cwd.display(), file_s))
            })
        } else {
            crate::source::canonicalize(&path).ok()
        };
        let Some(full) = full else {
            let msg = format!(
                "`{directive} = {shown}`: file `{shown_file}` not found (uWSGI exits at startup)"
            );
            return self.event(EventKind::IncludeNotFound, origin, msg, true);
        };
        if self.opts.is_outside(&path) {
            let msg = format!(
                "`{directive} = {shown}`: `{shown_file}` is outside the project, so it is not read here (uWSGI reads it on the server); its options are unknown"
            );
            return self.event(EventKind::RuntimeValue, origin, msg, false);
        }
        self.file_reads += 1;
        if self.file_reads > MAX_FILE_READS {
            // Said once, at the first file left unread.
            if self.file_reads == MAX_FILE_READS + 1 {
                let msg = format!(
                    "`{directive} = {shown}`: more than {MAX_FILE_READS} config files read for one config; this one and every later one are not read"
                );
                self.event(EventKind::ExpansionLimit, origin, msg, true);
            }
            return;
        }
        let read = match in_memory {
            Some(b) => Ok(b),
            None => read_local(&path),
        };
        let bytes = match read {
            Ok(b) => b,
            Err(e) => {
                let msg = format!("`{directive} = {shown}`: cannot read `{shown_file}`: {e}");
                return self.event(EventKind::IncludeNotFound, origin, msg, true);
            }
        };
        let canon = if is_virtual {
            abs
        } else {
            crate::source::canonicalize(&path).unwrap_or(full.clone())
        };
        if self.stack.iter().any(|(p, s)| *p == canon && *s == section) {
            let msg = format!(
                "`{directive} = {shown}` includes a file that is already being read: uWSGI recurses until it crashes (SIGSEGV)"
            );
            return self.event(EventKind::IncludeCycle, origin, msg, true);
        }
        if self.in_configure {
            let key = (canon.clone(), section.clone());
            let count = match self.inherit_counts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    self.inherit_counts.push((key, 1));
                    1
                }
            };
            if count > MAX_INHERITS_OF_ONE_FILE {
                let msg = format!(
                    "`{directive} = {shown}` inherits a file that inherits itself: uWSGI loops forever at startup"
                );
                return self.event(EventKind::IncludeCycle, origin, msg, true);
            }
        }
        if self.stack.len() >= MAX_DEPTH {
            let msg = format!("includes nest deeper than {MAX_DEPTH} levels; not followed further");
            return self.event(EventKind::IncludeCycle, origin, msg, true);
        }
        let inode = {
            use std::os::unix::fs::MetadataExt;
            // An unsaved text is named by its lexical path, which may not
            // be where `lstat` of `path` lands (`link/../x.ini`).
            if is_link || is_virtual {
                std::fs::symlink_metadata(&full).ok().map(|m| m.ino())
            } else {
                // `full` is `path` with its links resolved: the same file.
                meta.as_ref().ok().map(|m| m.ino())
            }
        };
        self.magic
            .fill_for_file(spec, Some(&full), inode, keep_upper || self.in_configure);
        let file_id = match self.sources.find_path(&canon) {
            Some(id) => id,
            None => self.sources.add(SourceFile::new(
                // A text embedded in a manifest is named by the manifest.
                display_name(&self.host.cwd, &crate::input::shown_path(&path)),
                Some(canon.clone()),
                bytes.clone(),
            )),
        };
        self.last_file = Some(file.clone());
        self.out.files.push((file_id, lossy(&section)));

        let mut sub = magic::substitute(&bytes, &self.magic);
        for u in &sub.uses {
            self.out
                .magic_uses
                // A `%` ending the file is one byte (found by fuzzing: the
                // span ran past the end of the file).
                .push((file_id, Span::new(u.at, (u.at + 2).min(bytes.len())), u.var));
        }
        // The (line, key, value) spans uWSGI collects from the asked section.
        let text = std::mem::take(&mut sub.text);
        let (found, got_section, present): (Vec<(Span, Span, Span)>, bool, Vec<String>) =
            match format {
                ConfigFormat::Ini => {
                    let doc = syntax::parse(&text);
                    let mut current: &[u8] = b"";
                    let mut found = Vec::new();
                    for line in &doc.lines {
                        match &line.kind {
                            LineKind::Section { name, .. } => current = &text[name.range()],
                            LineKind::Entry { key, value, .. } if current == section.as_slice() => {
                                found.push((line.content, *key, *value));
                            }
                            _ => {}
                        }
                    }
                    let names = doc
                        .section_names(&text)
                        .into_iter()
                        .map(|s| format!("[{}]", lossy(s)))
                        .collect();
                    let got = !found.is_empty();
                    (found, got, names)
                }
                ConfigFormat::Yaml => {
                    let r = yaml::read(&text, &section);
                    let names = r
                        .sections
                        .iter()
                        .map(|s| format!("`{}:`", lossy(&text[s.range()])))
                        .collect();
                    let found = r.entries.iter().map(|e| (e.line, e.key, e.value)).collect();
                    (found, r.found_section, names)
                }
            };
        self.stack.push((canon.clone(), section.clone()));
        self.dir_stack
            .push(canon.parent().map(Path::to_path_buf).unwrap_or_default());
        std::sync::Arc::make_mut(&mut self.via).push(Via {
            layer: origin.layer.clone(),
            what: ViaKind::Include {
                directive: directive.to_string(),
            },
        });
        // Grown once, not by doubling: an entry is large to copy.
        self.out.entries.reserve(found.len().min(MAX_ENTRIES));
        for (line, key, value) in found {
            let origin = Origin {
                layer: Layer::File {
                    file: file_id,
                    line: sub.map_span(line.start, line.end),
                    key: sub.map_span(key.start, key.end),
                    value: sub.map_span(value.start, value.end),
                },
                via: self.via.clone(),
            };
            let raw_value = sub.map_span(value.start, value.end);
            let before = self.out.entries.len();
            self.add(
                text[key.range()].to_vec(),
                Some(text[value.range()].to_vec()),
                origin,
                false,
            );
            if self.opts.foreign_host && self.out.entries.len() > before {
                // The entry of this line (an `ini =` may have added more after it).
                let host_vars: Vec<Unknown> = sub
                    .uses
                    .iter()
                    .filter(|u| u.at >= raw_value.start && u.at < raw_value.end)
                    .filter_map(|u| HOST_MAGIC.iter().find(|(v, _)| *v == u.var))
                    .map(|(v, what)| Unknown {
                        reference: format!("%{}", *v as char),
                        reason: format!("is {what}, not known here"),
                    })
                    .collect();
                self.out.entries[before].unknown.extend(host_vars);
            }
        }
        std::sync::Arc::make_mut(&mut self.via).pop();
        self.dir_stack.pop();
        self.stack.pop();
        if !got_section {
            let msg = format!(
                "section {} not found in `{}` ({}): the file contributes nothing",
                match format {
                    ConfigFormat::Ini => format!("[{}]", lossy(&section)),
                    ConfigFormat::Yaml => format!("`{}:`", lossy(&section)),
                },
                shown_file,
                if present.is_empty() {
                    "it has no section".to_string()
                } else {
                    format!("it has {}", present.join(", "))
                }
            );
            self.event(EventKind::SectionNotFound, origin, msg, false);
        }
    }

    // ---- substitution passes ------------------------------------------------

    /// `uwsgi_apply_config_pass`: expand `$()`, `@()` or `%()` in every value
    /// that was not applied at parse time.
    fn pass(&mut self, symbol: u8) {
        for i in 0..self.out.entries.len() {
            let e = &self.out.entries[i];
            if e.configured {
                continue;
            }
            let Some(v) = e.value.as_deref() else {
                continue;
            };
            if self.expansion_exhausted {
                break;
            }
            // Most values have no `X(`: nothing below would change them (no
            // copy, no event), so they are not copied to be scanned.
            if !syntax::has_reference(v, symbol) {
                continue;
            }
            let mut value = v.to_vec();
            let mut unknown = Vec::new();
            let mut fatal = Vec::new();
            let mut expansions = 0;
            let mut j = 0;
            let mut has = 0usize;
            let mut depth = 0usize;
            let mut key_start = 0usize;
            // Where the references still open at `j` start, outermost first
            // (`%(%(a))`: the outer one is re-read with what `a` gives).
            let mut open: Vec<usize> = Vec::new();
            while j < value.len() {
                let c = value[j];
                if c == symbol {
                    if has == 0 {
                        open.clear();
                    }
                    open.push(j);
                    has = 1;
                } else if c == b'(' && has == 1 {
                    has = 2;
                    depth = 0;
                    key_start = j + 1;
                } else if has > 1 {
                    if c == b'(' {
                        has += 1;
                        depth += 1;
                    } else if c == b')' {
                        if depth > 0 {
                            has += 1;
                            depth -= 1;
                            j += 1;
                            continue;
                        }
                        if has <= 2 {
                            has = 0;
                            open.clear();
                            j += 1;
                            continue;
                        }
                        let key = value[key_start..key_start + has - 2].to_vec();
                        let found = self.lookup(symbol, &key, i, &mut unknown, &mut fatal);
                        let Some(v) = found else {
                            has = 0;
                            open.clear();
                            j += 1;
                            continue;
                        };
                        // What replaces the reference holds it again (`a =
                        // x%(a)`: uWSGI finds the value being expanded) where
                        // the rescan, which restarts at index 1, meets it: it
                        // is expanded again, for ever. Said at once rather
                        // than after an expansion budget runs out. (`a =
                        // %(a)x` puts it at index 0, which the rescan skips:
                        // uWSGI gives `%(a)xx`.)
                        let at = key_start - 2;
                        let given = cstr(&v);
                        // (Most values give no reference at all: nothing is built for them.)
                        let gives_itself = syntax::has_reference(given, symbol) && {
                            let mut reference = vec![symbol, b'('];
                            reference.extend_from_slice(&key);
                            reference.push(b')');
                            memchr::memmem::find_iter(given, &reference).any(|k| at + k >= 1)
                        };
                        if gives_itself {
                            fatal.push((
                                EventKind::ExpansionLimit,
                                format!(
                                    "`{}`: expanding `{}({})` never ends (what it gives contains it again); uWSGI would loop",
                                    lossy(&self.out.entries[i].key),
                                    symbol as char,
                                    lossy(&key)
                                ),
                            ));
                            break;
                        }
                        let mut nv = value[..key_start - 2].to_vec();
                        nv.extend_from_slice(cstr(&v));
                        nv.extend_from_slice(&value[key_start + has - 1..]);
                        self.expanded += nv.len();
                        value = nv;
                        has = 0;
                        expansions += 1;
                        if self.expanded > MAX_EXPANDED_TOTAL {
                            self.expansion_exhausted = true;
                            let origin = self.out.entries[i].origin.clone();
                            let msg = format!(
                                "`{}`: `{}(...)` expansions build more than {} in total; this value and every later one are left unexpanded",
                                lossy(&self.out.entries[i].key),
                                symbol as char,
                                crate::units::Bytes(MAX_EXPANDED_TOTAL as u64)
                            );
                            self.event(EventKind::ExpansionLimit, origin, msg, false);
                            value = self.out.entries[i].value.clone().unwrap_or_default();
                            break;
                        }
                        if expansions > MAX_EXPANSIONS || value.len() > MAX_VALUE_LEN {
                            let origin = self.out.entries[i].origin.clone();
                            let msg = format!(
                                "`{}`: expanding `{}(...)` never ends (it refers to itself); uWSGI would loop",
                                lossy(&self.out.entries[i].key),
                                symbol as char
                            );
                            self.event(EventKind::ExpansionLimit, origin, msg, true);
                            value.truncate(MAX_VALUE_LEN);
                            break;
                        }
                        // uWSGI sets j = 0 and its loop increments it: the scan
                        // restarts at index 1. Rescanning the unchanged text
                        // before the outermost reference still open finds
                        // nothing new (its references were looked up already,
                        // and a symbol byte resets the scanner whatever came
                        // before), so the scan resumes there: the same result
                        // without going over the whole value again per
                        // expansion (quadratic; found by fuzzing).
                        j = open.first().copied().unwrap_or(key_start - 2).max(1);
                        open.clear();
                        continue;
                    } else {
                        has += 1;
                    }
                } else {
                    has = 0;
                    open.clear();
                }
                j += 1;
            }
            let origin = self.out.entries[i].origin.clone();
            for (kind, msg) in fatal {
                self.event(kind, origin.clone(), msg, true);
            }
            // An unset environment variable is a property of the entry, not
            // an event: UW004 reports it once per variable where it matters.
            // (A reference met again on a rescan is one note.)
            if unknown.len() > 1 {
                let mut seen = std::collections::HashSet::new();
                unknown.retain(|u| seen.insert((u.reference.clone(), u.reason.clone())));
            }
            for u in unknown.iter().filter(|u| !u.reference.starts_with("$(")) {
                let msg = format!(
                    "`{}`: `{}` {}",
                    lossy(&self.out.entries[i].key),
                    u.reference,
                    u.reason
                );
                self.event(EventKind::RuntimeValue, origin.clone(), msg, false);
            }
            let e = &mut self.out.entries[i];
            if e.raw.is_none() {
                e.raw = e.value.take();
            }
            e.value = Some(value);
            e.unknown.extend(unknown);
        }
    }

    fn lookup(
        &self,
        symbol: u8,
        key: &[u8],
        entry: usize,
        unknown: &mut Vec<Unknown>,
        fatal: &mut Vec<(EventKind, String)>,
    ) -> Option<Vec<u8>> {
        let reference = format!("{}({})", symbol as char, lossy(key));
        match symbol {
            b'$' => {
                let v = self.inv.getenv(cstr(key));
                if v.is_none() {
                    unknown.push(Unknown {
                        reference,
                        reason: "refers to an environment variable that is not set here; uWSGI keeps the text as it is".into(),
                    });
                }
                v.map(|s| s.as_bytes().to_vec())
            }
            b'@' => {
                if let Some(s) = has_scheme(key) {
                    unknown.push(Unknown {
                        reference,
                        reason: format!("is read through `{s}://` at startup; uwsgi-lint never executes or fetches it"),
                    });
                    return None;
                }
                let name = lossy(cstr(key));
                let mut path = self.host.cwd.join(&name);
                if self.opts.fallback_to_including_dir
                    && !path.exists()
                    && let Some(dir) = self.entry_dir(entry)
                {
                    path = dir.join(&name);
                }
                if self.opts.is_outside(&path) {
                    unknown.push(Unknown {
                        reference,
                        reason: "names a file outside the project, which is not read here".into(),
                    });
                    return None;
                }
                match self.opts.overlay.read(&path) {
                    Ok(mut content) => {
                        if let Some(&last) = content.last()
                            && (last == b'\n' || last == b'\r')
                        {
                            content.pop();
                        }
                        Some(content)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        fatal.push((
                            EventKind::IncludeNotFound,
                            format!(
                                "`{reference}`: file `{name}` not found (uWSGI exits at startup)"
                            ),
                        ));
                        None
                    }
                    Err(e) => {
                        unknown.push(Unknown {
                            reference,
                            reason: format!("cannot be read here: {e}"),
                        });
                        None
                    }
                }
            }
            _ => {
                let v = self.placeholder(key);
                // `%(status)` in a request-log template is the logger's, not unknown.
                let template = self.out.entries[entry]
                    .def()
                    .is_some_and(OptionDef::has_own_placeholders);
                if v.is_none() && !template {
                    unknown.push(Unknown {
                        reference,
                        reason: "names no option or placeholder; uWSGI keeps the text as it is"
                            .into(),
                    });
                }
                v
            }
        }
    }

    fn entry_dir(&self, entry: usize) -> Option<PathBuf> {
        let file = self.out.entries[entry].origin.file()?;
        self.sources
            .get(file)
            .path
            .as_ref()?
            .parent()
            .map(Path::to_path_buf)
    }

    /// `uwsgi_manage_placeholder`: a lookup, or left-to-right arithmetic.
    fn placeholder(&self, key: &[u8]) -> Option<Vec<u8>> {
        placeholder_value(key, |k| self.first_exact(k).and_then(|e| e.value.clone()))
    }

    /// With `strict`, uWSGI re-checks every key in configure and exits on the
    /// first one that is no option (facts §2).
    fn check_strict(&mut self) {
        let reported = self
            .out
            .events
            .iter()
            .any(|e| e.kind == EventKind::StrictUnknown);
        if !self.out.strict || reported {
            return;
        }
        let bad = self.out.entries.iter().find(|e| {
            !e.placeholder_only
                && e.def().is_none_or(|d| !d.in_build)
                && !self.out.declared.iter().any(|d| d.as_bytes() == e.key)
        });
        if let Some(e) = bad {
            let msg = format!(
                "`strict` is on and `{}` is no uWSGI option: uWSGI exits with \"[strict-mode] unknown config directive\"",
                e.key_str()
            );
            let origin = e.origin.clone();
            self.event(EventKind::StrictUnknown, origin, msg, true);
        }
    }

    // ---- configure ----------------------------------------------------------

    /// `uwsgi_configure`: apply the rest in order; `inherit` appends its file
    /// at the end (so it overrides everything, including the command line).
    fn configure(&mut self) {
        self.in_configure = true;
        let mut applied = vec![false; self.out.entries.len()];
        let mut i = 0;
        while i < self.out.entries.len() {
            if applied.len() < self.out.entries.len() {
                applied.resize(self.out.entries.len(), false);
            }
            let e = &self.out.entries[i];
            if e.configured || applied[i] {
                i += 1;
                continue;
            }
            applied[i] = true;
            if let Some(msg) = refused_value(e) {
                let origin = e.origin.clone();
                self.event(EventKind::InvalidValue, origin, msg, true);
                // uWSGI exits here: nothing later is applied.
                break;
            }
            if e.key == b"inherit" {
                let spec = e.value.clone().unwrap_or_default();
                let origin = e.origin.clone();
                let before = self.out.entries.len();
                self.load_any(&spec, origin, "inherit");
                if self.out.entries.len() != before {
                    // uWSGI's dirty_config: restart from the top.
                    i = 0;
                    continue;
                }
            }
            i += 1;
        }
        self.in_configure = false;
    }
}

/// What `uwsgi_configure` exits with when it applies `e`, if anything:
/// `uwsgi_opt_set_int` exits on a value whose `atoi` is negative (found by
/// the differential generator: `processes = -1` stops uWSGI before
/// `--show-config` prints anything).
fn refused_value(e: &Entry) -> Option<String> {
    let def = e.def()?;
    // An unknown part (an unset `$(X)` …) stays as written: before the
    // digits it makes the number 0, after them it cannot change it.
    if def.parser != "uwsgi_opt_set_int" || !def.in_build {
        return None;
    }
    let (n, _, _) = values::atoi(e.value.as_deref()?);
    (n < 0).then(|| {
        format!(
            "invalid value for option \"{}\": must be > 0 (uWSGI exits)",
            e.key_str()
        )
    })
}

/// C `strtoll` base 10 (saturating), as used by the placeholder arithmetic.
fn strtoll(v: &[u8]) -> i64 {
    values::strtoll(v)
}

/// Lines as `fgets(line, 1024)` + `uwsgi_chomp` produce them.
fn fgets_lines(content: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let take = match rest.iter().take(1023).position(|&b| b == b'\n') {
            Some(i) => i + 1,
            None => rest.len().min(1023),
        };
        let mut line = cstr(&rest[..take]).to_vec();
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        out.push(line);
        rest = &rest[take..];
    }
    out
}

/// glob(3) with GLOB_MARK | GLOB_NOCHECK: sorted matches, directories get a
/// trailing `/`; no match gives the pattern itself.
///
/// Matches outside `confine` are left out, and at most
/// [`crate::confine::MAX_GLOB_MATCHES`] are listed (`true`: some were cut).
fn glob_mark_nocheck(cwd: &Path, pattern: &str, confine: &[PathBuf]) -> (Vec<String>, bool) {
    let absolute = pattern.starts_with('/');
    let full = if absolute {
        pattern.to_string()
    } else {
        format!("{}/{}", cwd.display(), pattern)
    };
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut capped = false;
    let mut out: Vec<String> = match glob::glob_with(&full, opts) {
        Ok(paths) => paths
            .filter_map(Result::ok)
            // Matches reached through a link out of the project count
            // too: they end the walk instead of extending it.
            .take(crate::confine::MAX_GLOB_SCANNED)
            .filter(|p| !crate::confine::is_outside(confine, p))
            .take(crate::confine::MAX_GLOB_MATCHES + 1)
            .map(|p| {
                let shown = if absolute {
                    p.to_string_lossy().into_owned()
                } else {
                    p.strip_prefix(cwd)
                        .unwrap_or(&p)
                        .to_string_lossy()
                        .into_owned()
                };
                if p.is_dir() {
                    format!("{shown}/")
                } else {
                    shown
                }
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    if out.len() > crate::confine::MAX_GLOB_MATCHES {
        out.truncate(crate::confine::MAX_GLOB_MATCHES);
        capped = true;
    }
    out.sort();
    if out.is_empty() {
        out.push(pattern.to_string());
    }
    (out, capped)
}

/// A path for display: relative to `cwd` when below it.
pub fn display_name(cwd: &Path, path: &Path) -> String {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    };
    let clean: PathBuf = abs.components().collect();
    match clean.strip_prefix(cwd) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().into_owned(),
        _ => clean.to_string_lossy().into_owned(),
    }
}

/// Does `hay` contain `needle`?
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `uwsgi_manage_placeholder` (`core/config.c`): a lookup of the first value
/// of `key`, or — with spaces — its tokens evaluated strictly left to right
/// (`+ - * /`, `++`/`--`, adjacent operands concatenated), no precedence.
pub fn placeholder_value(key: &[u8], first: impl Fn(&[u8]) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    if !key.contains(&b' ') {
        return first(key);
    }
    #[derive(Clone, Copy)]
    enum Op {
        Concat,
        Add,
        Sub,
        Mul,
        Div,
    }
    let num = |v: &[u8]| strtoll(v);
    let mut op = Op::Concat;
    let mut cur: Option<Vec<u8>> = None;
    for tok in key.split(|&b| b == b' ').filter(|t| !t.is_empty()) {
        let value: Vec<u8> = match tok {
            b"+" => {
                op = Op::Add;
                continue;
            }
            b"-" => {
                op = Op::Sub;
                continue;
            }
            b"*" => {
                op = Op::Mul;
                continue;
            }
            b"/" => {
                op = Op::Div;
                continue;
            }
            b"++" | b"--" => {
                if let Some(c) = &cur {
                    let d = if tok == b"++" { 1 } else { -1 };
                    cur = Some(num(c).wrapping_add(d).to_string().into_bytes());
                }
                op = Op::Concat;
                continue;
            }
            t if t.iter().all(u8::is_ascii_digit) => t.to_vec(),
            t => first(t).unwrap_or_default(),
        };
        let a = cur.as_deref().map(num).unwrap_or(0);
        let b = num(&value);
        cur = Some(match op {
            Op::Concat => {
                let mut c = cur.take().unwrap_or_default();
                c.extend_from_slice(cstr(&value));
                c
            }
            Op::Add => a.wrapping_add(b).to_string().into_bytes(),
            Op::Sub => a.wrapping_sub(b).to_string().into_bytes(),
            Op::Mul => a.wrapping_mul(b).to_string().into_bytes(),
            Op::Div => {
                if b == 0 {
                    b"0".to_vec()
                } else {
                    a.wrapping_div(b).to_string().into_bytes()
                }
            }
        });
        op = Op::Concat;
    }
    cur
}

#[cfg(test)]
mod tests {
    /// The key index gives every position of a hash, in order, whatever
    /// other hashes come between, and nothing for a hash never pushed.
    #[test]
    fn key_index_chains_positions_in_order() {
        let mut ix = super::KeyIndex::default();
        for (i, h) in [7u64, 3, 7, 7, 9, 3].into_iter().enumerate() {
            ix.push(h, i as u32);
        }
        let at = |h| ix.get(h).collect::<Vec<u32>>();
        assert_eq!(at(7), vec![0, 2, 3]);
        assert_eq!(at(3), vec![1, 5]);
        assert_eq!(at(9), vec![4]);
        assert!(at(1).is_empty());
        assert_eq!(ix.len, 6);
    }

    /// `%i` of an unsaved text reached through `link/../x.ini` is the inode
    /// of the file named lexically (`x.ini`), as before the config load's
    /// `lstat`s were merged (found in review: it kept the including file's).
    #[test]
    fn inode_of_an_unsaved_text_named_through_a_link() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let d = crate::source::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(d.join("real/sub")).unwrap();
        std::os::unix::fs::symlink(d.join("real/sub"), d.join("link")).unwrap();
        std::fs::write(d.join("x.ini"), "[uwsgi]\nfoo = disk\n").unwrap();
        std::fs::write(d.join("main.ini"), "[uwsgi]\nini = link/../x.ini\n").unwrap();
        let mut overlay = crate::input::Overlay::new();
        overlay.insert(&d.join("x.ini"), b"[uwsgi]\nfoo = %i\n".to_vec());
        let opts = super::ResolveOptions {
            overlay,
            ..Default::default()
        };
        let mut host = super::HostFacts::local("2.0.30");
        host.cwd = d.clone();
        let mut sources = crate::source::SourceMap::new();
        let r = super::resolve(
            &super::Invocation::ini("main.ini", &[]),
            &host,
            &opts,
            &mut sources,
        );
        let foo = r
            .entries
            .iter()
            .find(|e| e.key == b"foo")
            .map(|e| e.value_str());
        let ino = std::fs::symlink_metadata(d.join("x.ini")).unwrap().ino();
        assert_eq!(foo, Some(ino.to_string()));
    }

    /// `is_logic_opener` skips the lookup for keys not named `if…`/`for…`.
    #[test]
    fn every_logic_option_is_named_if_or_for() {
        let logic: Vec<&str> = catalogue()
            .iter()
            .filter(|d| d.parser == "uwsgi_opt_logic")
            .flat_map(|d| d.aliases())
            .collect();
        assert!(logic.len() > 20, "{logic:?}");
        for name in logic {
            assert!(super::is_logic_opener(name), "{name}");
        }
    }

    use super::*;

    fn host(dir: &Path) -> HostFacts {
        let mut h = HostFacts::local("2.0.30");
        h.cwd = dir.to_path_buf();
        h
    }

    fn run(dir: &Path, ini: &str, env: &[(&str, &str)]) -> (Resolved, SourceMap) {
        std::fs::write(dir.join("main.ini"), ini).unwrap();
        let mut inv = Invocation::ini("main.ini", &[]);
        inv.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut sources = SourceMap::new();
        let r = resolve(&inv, &host(dir), &ResolveOptions::default(), &mut sources);
        (r, sources)
    }

    fn tempdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("uwsgi-lint-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn schemes_are_never_executed_or_fetched() {
        let dir = tempdir("schemes");
        let marker = dir.join("executed");
        let ini = format!(
            "[uwsgi]\nprocesses = @(exec://touch {m})\nini = exec://touch {m}\ninclude = http://127.0.0.1:9/x.ini\nsecret = @(http://127.0.0.1:9/s)\n",
            m = marker.display()
        );
        let (r, _) = run(&dir, &ini, &[]);
        assert!(!marker.exists(), "a config command was executed");
        let runtime: Vec<_> = r
            .events
            .iter()
            .filter(|e| e.kind == EventKind::RuntimeValue)
            .collect();
        assert_eq!(runtime.len(), 4, "{:#?}", r.events);
        assert!(r.fatal().is_none());
        let p = r.last("processes").unwrap();
        assert_eq!(p.unknown.len(), 1);
        assert!(p.value_str().starts_with("@(exec://"));
    }

    #[test]
    fn origins_point_at_the_raw_text() {
        let dir = tempdir("origins");
        let (r, sources) = run(&dir, "[uwsgi]\nname = %n-x\n  processes = 4\n", &[]);
        let e = r.last("processes").unwrap();
        let Layer::File {
            file, key, value, ..
        } = e.origin.layer
        else {
            panic!("{:?}", e.origin)
        };
        let f = sources.get(file);
        assert_eq!(f.text(key), "processes");
        assert_eq!(f.text(value), "4");
        assert_eq!(f.line_col(key.start).line, 3);
        // a value produced by a magic variable maps back to the `%n` text
        let n = r.last("name").unwrap();
        let Layer::File { value, .. } = n.origin.layer else {
            panic!()
        };
        assert_eq!(f.text(value), "%n-x");
        assert_eq!(n.value_str(), "main-x");
    }

    #[test]
    fn special_files_are_not_read() {
        let dir = tempdir("special");
        let (r, _) = run(
            &dir,
            "[uwsgi]\nx = @(/dev/zero)\nfor-readline = /dev/zero\ny = %(_)\nendfor =\n",
            &[],
        );
        // Neither read (uWSGI would read forever): both are unknowns.
        let unknown = r
            .events
            .iter()
            .filter(|e| {
                e.kind == EventKind::RuntimeValue && e.message.contains("not a regular file")
            })
            .count();
        assert_eq!(unknown, 2, "{:?}", r.events);
        assert!(r.entries.iter().all(|e| e.key != b"y"));
    }

    #[test]
    fn self_referencing_placeholder_is_bounded() {
        let dir = tempdir("selfref");
        let (r, _) = run(&dir, "[uwsgi]\na = y%(a)\n", &[]);
        assert!(r.events.iter().any(|e| e.kind == EventKind::ExpansionLimit));
    }

    #[test]
    fn inherit_cycle_and_huge_loops_terminate() {
        let dir = tempdir("inheritcycle");
        std::fs::write(dir.join("other.ini"), "[uwsgi]\ninherit = other.ini\n").unwrap();
        let (r, _) = run(&dir, "[uwsgi]\ninherit = other.ini\n", &[]);
        assert!(
            r.events
                .iter()
                .any(|e| e.kind == EventKind::IncludeCycle && e.fatal)
        );
        let (r, _) = run(
            &dir,
            "[uwsgi]\nfor-times = 100000000\nx = %(_)\nendfor =\n",
            &[],
        );
        assert!(r.events.iter().any(|e| e.kind == EventKind::ExpansionLimit));
        assert!(r.entries.len() <= MAX_ENTRIES);
    }

    #[test]
    fn unclosed_block_reports_swallowed_options() {
        let dir = tempdir("unclosed");
        std::fs::write(
            dir.join("main.ini"),
            "[uwsgi]\nif-env = NOPE\nsocket = :1\nmaster = 1\n",
        )
        .unwrap();
        let inv = Invocation::ini("main.ini", &["--processes".into(), "8".into()]);
        let mut sources = SourceMap::new();
        let r = resolve(&inv, &host(&dir), &ResolveOptions::default(), &mut sources);
        let ev = r
            .events
            .iter()
            .find(|e| e.kind == EventKind::UnclosedLogicBlock)
            .unwrap();
        assert!(ev.message.contains("3 option(s)"), "{}", ev.message);
        assert!(r.last("processes").is_none());
    }

    #[test]
    fn include_falls_back_to_the_including_dir_when_asked() {
        let dir = tempdir("fallback");
        std::fs::create_dir_all(dir.join("deploy")).unwrap();
        std::fs::write(dir.join("deploy/base.ini"), "[uwsgi]\nprocesses = 3\n").unwrap();
        std::fs::write(dir.join("deploy/app.ini"), "[uwsgi]\nini = base.ini\n").unwrap();
        let inv = Invocation::ini("deploy/app.ini", &[]);
        let mut sources = SourceMap::new();
        let exact = resolve(&inv, &host(&dir), &ResolveOptions::default(), &mut sources);
        assert!(exact.fatal().is_some());
        let opts = ResolveOptions {
            foreign_host: false,
            fallback_to_including_dir: true,
            ..ResolveOptions::default()
        };
        let lenient = resolve(&inv, &host(&dir), &opts, &mut sources);
        assert!(lenient.fatal().is_none());
        assert_eq!(lenient.last("workers").unwrap().value_str(), "3");
    }
}
