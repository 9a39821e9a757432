//! Link: which container runs which uWSGI config, with what command line,
//! environment, memory limit and uWSGI version, and which Nginx locations
//! pass requests to it (architecture.md, "link").
//!
//! A container is linked to a config, in this order: by an explicit
//! `[[deployment]]`; when its command (or the image's CMD/ENTRYPOINT, or
//! `UWSGI_INI`) names the config, mapped through the Dockerfile's `COPY`s or
//! by the longest common path suffix; when a port it exposes is a socket
//! port of exactly one config; and when the project has exactly one config
//! and one container running uWSGI. Every link says why it was made.

use std::path::{Path, PathBuf};

use crate::container::dockerfile::Dockerfile;
use crate::container::{At, Container, Limit, Orchestrator, Place, argv, uwsgi_args};
use crate::nginx::include::Part;
use crate::nginx::model::{Model, PassKind, Target};
use crate::source::Span;
use crate::uwsgi::resolve::Resolved;
use crate::uwsgi::version::Version;

/// The protocol a uWSGI socket speaks.
/// A link written down (`[[deployment]]` in the settings): this config runs
/// in that container, behind those Nginx files, with that memory limit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Explicit {
    pub uwsgi: PathBuf,
    pub container: Option<String>,
    pub nginx: Vec<PathBuf>,
    pub memory_limit_bytes: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Uwsgi,
    Http,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Unix(String),
    Tcp { host: String, port: u16 },
}

/// A socket a config binds, and the option that binds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    pub protocol: Protocol,
    pub addr: Addr,
    pub option: String,
    pub raw: String,
}

/// A socket address as uWSGI binds it (`uwsgi_bind_sockets`, `core/socket.c`):
/// with a `:` anywhere it is TCP, the port being `atoi` of what follows the
/// *last* `:` (so `:8000 #Port` binds 8000) truncated to 16 bits by `htons`,
/// the host what precedes it (`[…]` for IPv6); without one, a unix path
/// (`@name` abstract). Every reading of a socket value goes through here.
pub fn parse_addr(raw: &str) -> Option<Addr> {
    let raw = raw.trim();
    if raw.is_empty() || raw.starts_with('=') {
        return None;
    }
    match raw.rsplit_once(':') {
        Some((host, port)) => {
            let port = crate::uwsgi::values::atoi(port.as_bytes()).0 as u16;
            let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
                Some(v6) => v6,
                None => host,
            };
            Some(Addr::Tcp {
                host: host.to_string(),
                port,
            })
        }
        None => Some(Addr::Unix(raw.to_string())),
    }
}

impl Addr {
    /// Does this TCP address listen on every interface (empty host, `0.0.0.0`, `::`)?
    pub fn binds_all(&self) -> bool {
        matches!(self, Addr::Tcp { host, .. } if host.is_empty() || host == "0.0.0.0" || host == "::" || host == "*")
    }
}

/// The sockets of a resolved config. `socket`/`uwsgi-socket` speak uwsgi
/// unless `protocol`/`socket-protocol` says http; `http-socket` and the
/// `http` router speak HTTP.
pub fn sockets(resolved: &Resolved) -> Vec<Socket> {
    let http_protocol = resolved
        .last("protocol")
        .or_else(|| resolved.last("socket-protocol"))
        .and_then(|e| e.value.as_deref())
        .is_some_and(|v| {
            String::from_utf8_lossy(v)
                .trim()
                .eq_ignore_ascii_case("http")
        });
    let mut out = Vec::new();
    for e in &resolved.entries {
        let Some(def) = e.def() else { continue };
        let protocol = match def.name {
            "socket" | "uwsgi-socket" if http_protocol => Protocol::Http,
            "socket" | "uwsgi-socket" => Protocol::Uwsgi,
            "http-socket" | "http" => Protocol::Http,
            _ => continue,
        };
        let Some(raw) = e.value.as_deref().map(String::from_utf8_lossy) else {
            continue;
        };
        let raw = raw.as_ref();
        // `http-socket = :8000,foo` takes options after a comma.
        let addr_text = raw.split(',').next().unwrap_or(raw);
        if let Some(addr) = parse_addr(addr_text) {
            out.push(Socket {
                protocol,
                addr,
                option: def.name.to_string(),
                raw: raw.to_string(),
            });
        }
    }
    out
}

/// An Nginx configuration with its includes.
#[derive(Debug, Clone)]
pub struct NginxConf {
    pub main: PathBuf,
    pub parts: Vec<Part>,
    pub model: Model,
}

/// A value of the container's environment, and where it is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
    pub place: Place,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// The uWSGI config (a repository file).
    pub uwsgi: PathBuf,
    pub container: Container,
    /// The Dockerfile the container's image is built from, when known.
    pub dockerfile: Option<Dockerfile>,
    /// Why these two were linked.
    pub reason: String,
    /// uWSGI's command-line arguments in the container (after the program).
    pub args: Vec<At<String>>,
    /// Where the command line is written (for labels).
    pub args_place: Option<Place>,
    /// The image's ENV, then the container's environment.
    pub env: Vec<EnvVar>,
    /// Indexes into the project's Nginx configurations that pass to it.
    pub nginx: Vec<usize>,
    /// Nginx runs in the same container (installed in its image).
    pub nginx_colocated: Option<Place>,
    /// The uWSGI version the image installs.
    pub version: Option<(Version, Place)>,
}

impl Deployment {
    pub fn limit(&self) -> Option<&Limit> {
        self.container.limit.as_ref()
    }
}

/// Everything around the configs.
#[derive(Debug, Default)]
pub struct Project {
    pub containers: Vec<Container>,
    pub dockerfiles: Vec<Dockerfile>,
    pub nginx: Vec<NginxConf>,
    /// uWSGI pins from requirements files and pyproject.toml.
    pub pins: Vec<(Version, Place)>,
    /// Directories that hold a project's files (a config, a container or
    /// Nginx file, a pin, `.git`, a README): two files relate only below one.
    pub dirs: std::collections::HashSet<PathBuf>,
    /// The roots walked.
    pub roots: Vec<PathBuf>,
}

fn common_dir(a: &Path, b: &Path) -> PathBuf {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// The files a path may relate to: all, those below one directory, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Under(PathBuf),
    Nothing,
}

impl Project {
    fn is_dir_of(&self, d: &Path, with_roots: bool) -> bool {
        self.dirs.contains(d) || (with_roots && self.roots.iter().any(|r| r == d))
    }

    /// Some listed directory is a prefix of `common` (`starts_with`), looked
    /// up by the ancestors of `common` rather than by scanning the list.
    fn covers(&self, common: &Path, with_roots: bool) -> bool {
        self.is_dir_of(Path::new(""), with_roots)
            || common.ancestors().any(|d| self.is_dir_of(d, with_roots))
    }

    /// May `a` and `b` be linked: their common directory is inside a
    /// project directory or a root walked.
    pub fn related(&self, a: &Path, b: &Path) -> bool {
        (self.dirs.is_empty() && self.roots.is_empty()) || self.covers(&common_dir(a, b), true)
    }

    /// Are `a` and `b` of one project: their common directory is inside a
    /// directory that holds project files? A folder of unrelated checkouts
    /// does not, even when it is the root walked.
    pub fn same_project(&self, a: &Path, b: &Path) -> bool {
        self.covers(&common_dir(a, b), false)
    }

    /// Where the files `related` (with roots) or `same_project` (without)
    /// to `a` lie: below the topmost listed directory above `a`. (If a
    /// listed `d` is a prefix of the common directory of `a` and `b`, the
    /// topmost listed ancestor of `a` is a prefix of it too, and of `b`.)
    pub fn scope(&self, a: &Path, with_roots: bool) -> Scope {
        if (with_roots && self.dirs.is_empty() && self.roots.is_empty())
            || self.is_dir_of(Path::new(""), with_roots)
        {
            return Scope::All;
        }
        match a
            .ancestors()
            .filter(|d| self.is_dir_of(d, with_roots))
            .last()
        {
            Some(top) => Scope::Under(top.to_path_buf()),
            None => Scope::Nothing,
        }
    }
}

/// A path as a sort key: its components joined by NUL (which no component
/// holds), so that the paths below a directory are one range of keys and
/// the keys of its ancestors are prefixes of its own (comparing bytes is
/// much cheaper than comparing `Path`s component by component).
pub fn path_key(p: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut out = Vec::new();
    for (i, c) in p.components().enumerate() {
        if i > 0 {
            out.push(0);
        }
        out.extend_from_slice(c.as_os_str().as_bytes());
    }
    out
}

/// The keys of the ancestors of the path with key `key`, deepest first
/// (the path itself first), ending with the empty key, below which
/// everything lies.
fn ancestor_keys(key: &[u8]) -> impl Iterator<Item = &[u8]> {
    let cuts = key
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, b)| **b == 0)
        .map(|(i, _)| i);
    std::iter::once(key.len())
        .chain(cuts)
        .chain((!key.is_empty()).then_some(0))
        .map(move |end| &key[..end])
}

/// Items sorted by path key, so that those below a directory are one range.
type ByPath = Vec<(Vec<u8>, usize)>;

fn sorted(mut v: ByPath) -> ByPath {
    v.sort();
    v.dedup();
    v
}

/// The items of a key-sorted slice below the directory with key `dir`
/// (or equal to it).
fn under<'s>(items: &'s [(Vec<u8>, usize)], dir: &[u8]) -> &'s [(Vec<u8>, usize)] {
    crate::stats::link_steps(1);
    if dir.is_empty() {
        return items;
    }
    let lo = items.partition_point(|(k, _)| k.as_slice() < dir);
    let len = items[lo..].partition_point(|(k, _)| {
        k.starts_with(dir) && (k.len() == dir.len() || k[dir.len()] == 0)
    });
    &items[lo..lo + len]
}

fn within<'s>(items: &'s [(Vec<u8>, usize)], scope: &Scope) -> &'s [(Vec<u8>, usize)] {
    match scope {
        Scope::All => items,
        Scope::Under(d) => under(items, &path_key(d)),
        Scope::Nothing => &[],
    }
}

/// Of the items of `lists` (each sorted by key), the one sharing the most
/// leading components with `near`, if exactly one does. The deepest
/// ancestor of `near` with an item below it decides, so no list is scanned.
fn nearest_unique(lists: &[&[(Vec<u8>, usize)]], near: &Path) -> Option<usize> {
    if lists.iter().all(|l| l.is_empty()) {
        return None;
    }
    let near = path_key(near);
    for a in ancestor_keys(&near) {
        let mut found = None;
        for l in lists {
            // Each list holds an item once: two from one list are distinct.
            for (_, i) in under(l, a).iter().take(2) {
                crate::stats::link_steps(1);
                match found {
                    None => found = Some(*i),
                    Some(f) if f != *i => return None,
                    _ => {}
                }
            }
        }
        if found.is_some() {
            return found;
        }
    }
    None
}

/// A path as the file system names it, or lexically normalised when it
/// does not exist (repository paths that are not on this machine).
fn canon(p: &Path) -> PathBuf {
    crate::source::canonicalize(p).unwrap_or_else(|_| crate::uwsgi::resolve::normalize_lexically(p))
}

/// The last `k` components of a path, as a key.
fn suffix_key<'s>(parts: impl DoubleEndedIterator<Item = &'s str>, k: usize) -> String {
    let mut v: Vec<&str> = parts.rev().take(k).collect();
    v.reverse();
    v.join("\0")
}

/// What linking looks up, built once: configs by path, by file-name suffix
/// and by port; Nginx configurations by what their passes reach. Every
/// lookup is a hash probe or a binary search, so linking N containers to N
/// configs is not N × N.
#[derive(Debug, Default)]
pub struct Index {
    /// Every config, sorted by path.
    configs: ByPath,
    /// A config by its (canonical) path: the first in `configs` order.
    by_path: std::collections::HashMap<PathBuf, usize>,
    /// Configs by their last k path components (k = 1, 2, …).
    by_suffix: std::collections::HashMap<String, ByPath>,
    /// Configs by the port of a TCP socket they bind.
    by_port: std::collections::HashMap<u16, ByPath>,
    /// Nginx configurations whose project has a single config (in front of it).
    nginx_solo: ByPath,
    /// Nginx configurations by a unix socket a pass reaches (normalised).
    nginx_unix: std::collections::HashMap<PathBuf, ByPath>,
    /// … by the port of a host a pass reaches, any host.
    nginx_port: std::collections::HashMap<u16, ByPath>,
    /// … by port and host.
    nginx_host: std::collections::HashMap<(u16, String), ByPath>,
    /// `[[deployment]]` entries: canonical config, Nginx configurations named.
    named_nginx: Vec<(PathBuf, Vec<usize>)>,
}

const LOOPBACK: [&str; 4] = ["localhost", "127.0.0.1", "::1", "0.0.0.0"];

impl Index {
    pub fn new(configs: &[ConfigFacts], project: &Project, explicit: &[Explicit]) -> Index {
        use std::collections::HashMap;
        let mut ix = Index::default();
        let mut by_suffix: HashMap<String, ByPath> = HashMap::new();
        let mut by_port: HashMap<u16, ByPath> = HashMap::new();
        for (i, c) in configs.iter().enumerate() {
            let key = path_key(&c.path);
            ix.configs.push((key.clone(), i));
            ix.by_path.entry(c.path.clone()).or_insert(i);
            let parts: Vec<String> = c
                .path
                .components()
                .map(|p| p.as_os_str().to_string_lossy().into_owned())
                .collect();
            for k in 1..=parts.len() {
                by_suffix
                    .entry(suffix_key(parts.iter().map(String::as_str), k))
                    .or_default()
                    .push((key.clone(), i));
            }
            for s in &c.sockets {
                if let Addr::Tcp { port, .. } = s.addr {
                    by_port.entry(port).or_default().push((key.clone(), i));
                }
            }
        }
        ix.configs = sorted(std::mem::take(&mut ix.configs));
        ix.by_suffix = by_suffix.into_iter().map(|(k, v)| (k, sorted(v))).collect();
        ix.by_port = by_port.into_iter().map(|(k, v)| (k, sorted(v))).collect();

        let mut unix: HashMap<PathBuf, ByPath> = HashMap::new();
        let mut port: HashMap<u16, ByPath> = HashMap::new();
        let mut host: HashMap<(u16, String), ByPath> = HashMap::new();
        for (i, n) in project.nginx.iter().enumerate() {
            let entry = (path_key(&n.main), i);
            // The project's only config is behind any of its Nginx files.
            if within(&ix.configs, &project.scope(&n.main, false)).len() == 1 {
                ix.nginx_solo.push(entry.clone());
            }
            for l in &n.model.locations {
                let Some(p) = &l.pass else { continue };
                for t in pass_targets(&n.model, &p.target) {
                    match t {
                        Target::Unix(u) => unix
                            .entry(crate::uwsgi::resolve::normalize_lexically(Path::new(u)))
                            .or_default()
                            .push(entry.clone()),
                        Target::Host {
                            host: h,
                            port: Some(p),
                        } => {
                            port.entry(*p).or_default().push(entry.clone());
                            host.entry((*p, h.clone())).or_default().push(entry.clone());
                        }
                        _ => {}
                    }
                }
            }
        }
        ix.nginx_solo = sorted(std::mem::take(&mut ix.nginx_solo));
        ix.nginx_unix = unix.into_iter().map(|(k, v)| (k, sorted(v))).collect();
        ix.nginx_port = port.into_iter().map(|(k, v)| (k, sorted(v))).collect();
        ix.nginx_host = host.into_iter().map(|(k, v)| (k, sorted(v))).collect();

        if !explicit.is_empty() {
            let mut mains: HashMap<PathBuf, Vec<usize>> = HashMap::new();
            for (i, n) in project.nginx.iter().enumerate() {
                mains.entry(canon(&n.main)).or_default().push(i);
            }
            for e in explicit {
                let named = e
                    .nginx
                    .iter()
                    .filter_map(|p| mains.get(&canon(p)))
                    .flatten()
                    .copied()
                    .collect();
                ix.named_nginx.push((canon(&e.uwsgi), named));
            }
        }
        ix
    }

    /// The config at `path` (canonical), if it is within `scope`.
    fn config_at(&self, path: &Path, configs: &[ConfigFacts], scope: &Scope) -> Option<usize> {
        let i = *self.by_path.get(path)?;
        let p = &configs[i].path;
        match scope {
            Scope::All => Some(i),
            Scope::Under(d) => p.starts_with(d).then_some(i),
            Scope::Nothing => None,
        }
    }

    /// The Nginx configurations in front of a config: those of its project
    /// that pass to one of its sockets (or its project's only config), the
    /// closest of them (a port like 8000 is everywhere in a tree of several
    /// projects); and those `[[deployment]]` names.
    pub fn related_nginx(
        &self,
        project: &Project,
        uwsgi: &Path,
        sockets: &[Socket],
        hostnames: &[String],
    ) -> Vec<usize> {
        let scope = project.scope(uwsgi, false);
        let mut found: Vec<Option<&ByPath>> = Vec::new();
        for s in sockets {
            match &s.addr {
                Addr::Unix(q) => found.push(
                    self.nginx_unix
                        .get(&crate::uwsgi::resolve::normalize_lexically(Path::new(q))),
                ),
                Addr::Tcp { host: h, port } => {
                    if h.is_empty() || h == "0.0.0.0" || h == "::" {
                        found.push(self.nginx_port.get(port));
                    } else {
                        for name in LOOPBACK
                            .iter()
                            .copied()
                            .chain([h.as_str()])
                            .chain(hostnames.iter().map(String::as_str))
                        {
                            found.push(self.nginx_host.get(&(*port, name.to_string())));
                        }
                    }
                }
            }
        }
        let lists: Vec<&[(Vec<u8>, usize)]> = [Some(&self.nginx_solo)]
            .into_iter()
            .chain(found)
            .flatten()
            .map(|l| within(l, &scope))
            .collect();
        let mut out: Vec<usize> = Vec::new();
        if lists.iter().any(|l| !l.is_empty()) {
            let me = path_key(uwsgi);
            for a in ancestor_keys(&me) {
                for l in &lists {
                    let found = under(l, a);
                    crate::stats::link_steps(found.len());
                    out.extend(found.iter().map(|(_, i)| *i));
                }
                if !out.is_empty() {
                    break;
                }
            }
        }
        if !self.named_nginx.is_empty() {
            let me = canon(uwsgi);
            for (c, named) in &self.named_nginx {
                if *c == me {
                    out.extend(named);
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

/// A config, and the sockets it binds on its own.
#[derive(Debug, Clone)]
pub struct ConfigFacts {
    pub path: PathBuf,
    pub sockets: Vec<Socket>,
}

/// Config files a uWSGI command line names (`--ini x`, `--ini=x`, `--yaml x`,
/// a positional file), then `UWSGI_INI`/`UWSGI_YAML`.
pub fn named_configs(args: &[At<String>], env: &[EnvVar]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].value.as_str();
        if let Some(v) = ["--ini=", "--yaml=", "--yml="]
            .iter()
            .find_map(|p| a.strip_prefix(p))
        {
            out.push(v.to_string());
        } else if matches!(a, "--ini" | "--yaml" | "--yml") && i + 1 < args.len() {
            out.push(args[i + 1].value.clone());
            i += 1;
        } else if !a.starts_with('-') && is_config_name(a) {
            out.push(a.to_string());
        }
        i += 1;
    }
    out.extend(
        env.iter()
            .filter(|e| e.name == "UWSGI_INI" || e.name == "UWSGI_YAML")
            .map(|e| e.value.clone()),
    );
    out
}

pub fn is_config_name(a: &str) -> bool {
    let a = a.split(':').next().unwrap_or(a);
    a.ends_with(".ini") || a.ends_with(".yaml") || a.ends_with(".yml")
}

/// The repository config whose path shares the longest suffix with `named`
/// (at least the file name); among equals, the one nearest the container's
/// file (a tree of several projects has many `deploy/uwsgi.ini`); a
/// remaining tie links nothing. Only configs within `scope` count.
fn match_config(named: &str, index: &Index, scope: &Scope, near: &Path) -> Option<usize> {
    let named = named.split(':').next().unwrap_or(named);
    let want: Vec<&str> = named
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    // The longest suffix any config shares, then the nearest among those.
    for k in (1..=want.len()).rev() {
        let Some(group) = index.by_suffix.get(&suffix_key(want.iter().copied(), k)) else {
            continue;
        };
        let group = within(group, scope);
        if !group.is_empty() {
            return nearest_unique(&[group], near);
        }
    }
    None
}

/// Does an Nginx target reach this socket? Hosts: loopback, a wildcard bind,
/// the same host, or a name the container is known by.
fn reaches(target: &Target, socket: &Socket, hostnames: &[String]) -> bool {
    match (target, &socket.addr) {
        (Target::Unix(p), Addr::Unix(q)) => {
            crate::uwsgi::resolve::normalize_lexically(Path::new(p))
                == crate::uwsgi::resolve::normalize_lexically(Path::new(q))
        }
        (
            Target::Host {
                host,
                port: Some(p),
            },
            Addr::Tcp { host: h, port },
        ) => {
            let loopback = ["localhost", "127.0.0.1", "::1", "0.0.0.0"];
            p == port
                && (loopback.contains(&host.as_str())
                    || h.is_empty()
                    || h == "0.0.0.0"
                    || h == "::"
                    || h == host
                    || hostnames.iter().any(|n| n == host))
        }
        _ => false,
    }
}

/// The targets a pass resolves to: itself, or an upstream's members.
pub fn pass_targets<'a>(model: &'a Model, target: &'a Target) -> Vec<&'a Target> {
    if let Target::Host { host, port: None } = target
        && let Some(u) = model.upstreams.iter().find(|u| &u.name == host)
    {
        return u.servers.iter().map(|(t, _)| t).collect();
    }
    vec![target]
}

/// Does any pass of `conf` reach one of `sockets`?
pub fn serves(conf: &NginxConf, sockets: &[Socket], hostnames: &[String]) -> bool {
    conf.model.locations.iter().any(|l| {
        l.pass.as_ref().is_some_and(|p| {
            pass_targets(&conf.model, &p.target)
                .iter()
                .any(|t| sockets.iter().any(|s| reaches(t, s, hostnames)))
        })
    })
}

/// Which socket of `sockets` a target reaches.
pub fn reached<'a>(
    target: &Target,
    sockets: &'a [Socket],
    hostnames: &[String],
) -> Option<&'a Socket> {
    sockets.iter().find(|s| reaches(target, s, hostnames))
}

/// Is `kind` pass to `target` one that should reach a uWSGI socket here?
pub fn aims_at_uwsgi(kind: PassKind, target: &Target, uwsgi_hosts: &[String]) -> bool {
    match (kind, target) {
        (_, Target::Dynamic) => false,
        (PassKind::Uwsgi, _) => true,
        (PassKind::Proxy, Target::Host { host, .. }) => uwsgi_hosts.iter().any(|h| h == host),
        (PassKind::Proxy, Target::Unix(_)) => false,
    }
}

fn env_of(c: &Container, image: Option<&Dockerfile>) -> Vec<EnvVar> {
    // A later setting replaces an earlier one and moves to the end; by
    // index, so that 100,000 `ENV` lines stay linear.
    let mut out: Vec<Option<EnvVar>> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut push = |file: &Path, k: &At<String>, v: &At<String>| {
        if let Some(i) = at.insert(k.value.clone(), out.len()) {
            out[i] = None;
        }
        out.push(Some(EnvVar {
            name: k.value.clone(),
            value: v.value.clone(),
            place: Place {
                file: file.to_path_buf(),
                span: Span::new(k.span.start, v.span.end.max(k.span.end)),
                message: format!("`{}` set here", k.value),
            },
        }));
    };
    if let Some(d) = image {
        for (k, v) in &d.env {
            push(&d.path, k, v);
        }
    }
    for (k, v) in &c.env {
        push(&c.file, k, v);
    }
    out.into_iter().flatten().collect()
}

/// A container about to be linked, with what its image adds.
struct Runner<'a> {
    container: Container,
    image: Option<&'a Dockerfile>,
    args: Vec<At<String>>,
    args_place: Option<Place>,
    env: Vec<EnvVar>,
    /// Why the Dockerfile was attributed, when it was a guess.
    image_reason: Option<&'static str>,
}

/// An image no project builds for its uWSGI app: an official library image
/// (`nginx:1.27`, `redis`, `docker.io/library/postgres`) or one whose name
/// says it is a proxy, a database or a broker (`nginxinc/nginx-unprivileged`,
/// `bitnami/redis`).
fn plainly_other_image(image: &str) -> bool {
    let no_tag = image.split('@').next().unwrap_or(image);
    let name = match no_tag.rsplit_once('/') {
        Some((_, last)) => last,
        None => no_tag,
    };
    let name = name.split(':').next().unwrap_or(name).to_ascii_lowercase();
    let official = !no_tag.contains('/') || no_tag.contains("/library/");
    const OTHERS: &[&str] = &[
        "nginx",
        "redis",
        "postgres",
        "postgis",
        "mysql",
        "mariadb",
        "memcached",
        "rabbitmq",
        "traefik",
        "envoy",
        "haproxy",
        "caddy",
        "mongo",
        "elasticsearch",
        "varnish",
    ];
    official
        || OTHERS
            .iter()
            .any(|o| name.starts_with(o) || name.contains(&format!("-{o}")))
}

fn runners(project: &Project) -> Vec<Runner<'_>> {
    use std::collections::{HashMap, HashSet};
    let mut out = Vec::new();
    // Each Dockerfile path canonicalised once (the first of equals wins, as
    // a scan in order would find it).
    let mut dockerfile_at: HashMap<PathBuf, usize> = HashMap::new();
    for (i, d) in project.dockerfiles.iter().enumerate() {
        dockerfile_at.entry(canon(&d.path)).or_insert(i);
    }
    let used_image = |c: &Container| -> (Option<&Dockerfile>, Option<&'static str>) {
        if let Some(df) = &c.dockerfile {
            return (
                dockerfile_at
                    .get(&canon(df))
                    .map(|i| &project.dockerfiles[*i]),
                None,
            );
        }
        // A Kubernetes/ECS image is built somewhere: with one Dockerfile in
        // the project, that one, unless it is an official library image
        // (`nginx:1.27`, `redis`), which no project builds.
        let library = c
            .image
            .as_ref()
            .is_some_and(|i| plainly_other_image(&i.value));
        if project.dockerfiles.len() == 1 && !library {
            return (
                project.dockerfiles.first(),
                Some("the project's only Dockerfile"),
            );
        }
        (None, None)
    };
    for c in &project.containers {
        let (image, image_reason) = used_image(c);
        let av = argv(c, image);
        let env = env_of(c, image);
        // (A proxy or database image beside the app, a sidecar, runs no uWSGI.)
        let unseen = av.is_empty()
            && c.image
                .as_ref()
                .is_some_and(|i| i.value.contains('/') && !plainly_other_image(&i.value));
        let Some(args) = uwsgi_args(&av).or_else(|| {
            // `UWSGI_INI` in the environment, or an image of the project's
            // whose command is not visible here (linked by port only).
            (unseen
                || env
                    .iter()
                    .any(|e| e.name == "UWSGI_INI" || e.name == "UWSGI_YAML"))
            .then(Vec::new)
        }) else {
            continue;
        };
        let args_place = av.first().map(|a| {
            let from_image = c.entrypoint.is_none() && c.command.is_none();
            Place {
                file: match (from_image, image) {
                    (true, Some(d)) => d.path.clone(),
                    _ => c.file.clone(),
                },
                span: Span::new(a.span.start, av.last().map_or(a.span.end, |l| l.span.end)),
                message: "runs uWSGI".into(),
            }
        });
        out.push(Runner {
            container: c.clone(),
            image,
            args,
            args_place,
            env,
            image_reason,
        });
    }
    // Dockerfiles no container builds: `docker run` of the image (only
    // when no orchestrator file runs uWSGI: those describe the deployment).
    // Same project as an orchestrator file `f` = below `f`'s scope.
    let mut orchestrated_all = false;
    let mut orchestrated: HashSet<PathBuf> = HashSet::new();
    for r in &out {
        match project.scope(&r.container.file, false) {
            Scope::All => orchestrated_all = true,
            Scope::Under(d) => {
                orchestrated.insert(d);
            }
            Scope::Nothing => {}
        }
    }
    let built: HashSet<PathBuf> = project
        .containers
        .iter()
        .filter_map(|c| c.dockerfile.as_deref().map(canon))
        .collect();
    let guessed: HashSet<PathBuf> = out
        .iter()
        .filter_map(|r| r.image.map(|i| i.path.clone()))
        .collect();
    for d in project
        .dockerfiles
        .iter()
        .filter(|d| !(orchestrated_all || d.path.ancestors().any(|a| orchestrated.contains(a))))
    {
        if built.contains(&canon(&d.path)) || guessed.contains(&d.path) {
            continue;
        }
        let name = d
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut c = Container::new(Orchestrator::Docker, d.path.clone(), name, Span::default());
        c.image = d.from.clone();
        c.ports = d.expose.clone();
        let av = argv(&c, Some(d));
        let env = env_of(&c, Some(d));
        let Some(args) = uwsgi_args(&av) else {
            continue;
        };
        let args_place = av.first().map(|a| Place {
            file: d.path.clone(),
            span: a.span,
            message: "runs uWSGI".into(),
        });
        out.push(Runner {
            container: c,
            image: Some(d),
            args,
            args_place,
            env,
            image_reason: None,
        });
    }
    out
}

/// The config a runner's command names: through a mount first (it hides
/// what the image has at that path), then the image's `COPY`s.
fn named_config(
    r: &Runner,
    configs: &[ConfigFacts],
    index: &Index,
    scope: &Scope,
) -> Option<(PathBuf, String)> {
    for n in named_configs(&r.args, &r.env) {
        let file = n.split(':').next().unwrap_or(&n);
        let mounted = crate::container::mounted_source(&r.container.mounts, file);
        if let Some(src) = &mounted
            && let Some(c) = index.config_at(&canon(src), configs, scope)
        {
            return Some((
                configs[c].path.clone(),
                format!("its command names `{n}`, {}", mount_of(r, src)),
            ));
        }
        // A ConfigMap's key that is not read (a template): the file is
        // that, not the image's nor another of the same name.
        if mounted
            .as_deref()
            .is_some_and(|m| crate::input::embedded_host(m).is_some())
        {
            continue;
        }
        if let Some(src) = r.image.and_then(|d| d.source_of(file))
            && let Some(c) = index.config_at(&canon(&src), configs, scope)
        {
            return Some((
                configs[c].path.clone(),
                format!("its command names `{n}`, copied from the build context"),
            ));
        }
        // (A config held in a ConfigMap is there only through its mount.)
        if let Some(c) = match_config(&n, index, scope, &r.container.file)
            && crate::input::embedded_host(&configs[c].path).is_none()
        {
            return Some((configs[c].path.clone(), format!("its command names `{n}`")));
        }
    }
    None
}

/// How a link names a mount's source: a bind mount of a file, or a
/// ConfigMap's key (`<manifest>#<ConfigMap>/<key>`).
fn mount_of(r: &Runner, src: &Path) -> String {
    let base = r.container.file.parent().unwrap_or(Path::new(""));
    if let Some(host) = crate::input::embedded_host(src) {
        let inner = src.to_string_lossy();
        let tail = inner.rsplit_once('#').map_or("", |(_, t)| t);
        let (cm, key) = tail.split_once('/').unwrap_or((tail, ""));
        let shown = host
            .strip_prefix(base)
            .unwrap_or(&host)
            .display()
            .to_string();
        return format!("the key `{key}` of the ConfigMap `{cm}` (in `{shown}`) mounted there");
    }
    let shown = src.strip_prefix(base).unwrap_or(src).display().to_string();
    format!("a bind mount of `{shown}`")
}

/// A config mounted into a runner whose command names none: the only
/// config among its file mounts and mounted ConfigMaps (a directory bind
/// mount of the project is no evidence: every service of it has one).
fn mounted_config(
    r: &Runner,
    configs: &[ConfigFacts],
    index: &Index,
    scope: &Scope,
    shared: &std::collections::HashSet<PathBuf>,
) -> Option<(PathBuf, String)> {
    let mut found: Option<(usize, String)> = None;
    for (src, target) in &r.container.mounts {
        let src = canon(src);
        // Mounted into several containers that show no command (a web
        // and a worker of one image): which runs uWSGI is not known.
        if shared.contains(&src) {
            continue;
        }
        let mounted: Vec<usize> = if crate::input::embedded_host(&src).is_some() {
            within(under(&index.configs, &path_key(&src)), scope)
                .iter()
                .map(|(_, c)| *c)
                .collect()
        } else {
            index.config_at(&src, configs, scope).into_iter().collect()
        };
        for c in &mounted {
            // Where the config is in the container.
            let rest = configs[*c].path.strip_prefix(&src).unwrap_or(Path::new(""));
            let at = if rest.as_os_str().is_empty() {
                target.clone()
            } else {
                format!("{}/{}", target.trim_end_matches('/'), rest.display())
            };
            match &found {
                Some((f, _)) if f != c => return None,
                _ => found = Some((*c, at)),
            }
        }
    }
    let (c, at) = found?;
    let src = &configs[c].path;
    Some((
        src.clone(),
        format!(
            "it shows no command and has the config at `{at}`: {}",
            mount_of(r, src)
        ),
    ))
}

/// Link containers to configs, and Nginx configurations to both.
pub fn link(configs: &[ConfigFacts], project: &Project, explicit: &[Explicit]) -> Vec<Deployment> {
    link_indexed(
        &Index::new(configs, project, explicit),
        configs,
        project,
        explicit,
    )
}

/// [`link`] with the lookups built once by the caller. `configs` are
/// canonical paths (or lexically normal ones that do not exist).
pub fn link_indexed(
    index: &Index,
    configs: &[ConfigFacts],
    project: &Project,
    explicit: &[Explicit],
) -> Vec<Deployment> {
    use std::collections::HashMap;
    let runners = runners(project);
    let mut out: Vec<Deployment> = Vec::new();
    // Runners whose command is visible (for the only-one rule), counted by
    // the directory below which they relate to configs.
    let mut seen_all = 0usize;
    let mut seen_under: HashMap<PathBuf, usize> = HashMap::new();
    for r in runners
        .iter()
        .filter(|r| r.args_place.is_some() || !r.args.is_empty())
    {
        match project.scope(&r.container.file, true) {
            Scope::All => seen_all += 1,
            Scope::Under(d) => *seen_under.entry(d).or_default() += 1,
            Scope::Nothing => {}
        }
    }
    let explicit_canon: Vec<PathBuf> = explicit.iter().map(|e| canon(&e.uwsgi)).collect();
    // Mount sources of runners that show no command, mounted by several.
    let shared: std::collections::HashSet<PathBuf> = {
        let mut seen = std::collections::HashSet::new();
        let mut twice = std::collections::HashSet::new();
        for r in runners.iter().filter(|r| r.args.is_empty()) {
            for (src, _) in &r.container.mounts {
                if !seen.insert(canon(src)) {
                    twice.insert(canon(src));
                }
            }
        }
        twice
    };
    for r in runners {
        // Only configs of the container's own project are candidates.
        let scope = project.scope(&r.container.file, true);
        let local = within(&index.configs, &scope);
        let explicit_hit = explicit.iter().position(|e| {
            e.container.as_deref().is_some_and(|want| {
                let (file, name) = want.rsplit_once('#').unwrap_or((want, ""));
                r.container.name == name
                    && r.container.file.ends_with(file.trim_start_matches("./"))
            })
        });
        let unseen = r.args.is_empty()
            && r.args_place.is_none()
            && !r
                .env
                .iter()
                .any(|e| e.name == "UWSGI_INI" || e.name == "UWSGI_YAML");
        let found = if let Some(e) = explicit_hit {
            index
                .config_at(&explicit_canon[e], configs, &scope)
                .map(|c| {
                    (
                        configs[c].path.clone(),
                        "`[[deployment]]` in the configuration".to_string(),
                    )
                })
        } else {
            named_config(&r, configs, index, &scope)
                .or_else(|| mounted_config(&r, configs, index, &scope, &shared))
        }
        .or_else(|| {
            // A port the container exposes that is a socket of one config.
            let mut ports: Vec<u16> = r.container.ports.iter().map(|p| p.value).collect();
            ports.sort();
            ports.dedup();
            let lists: Vec<&[(Vec<u8>, usize)]> = ports
                .iter()
                .filter_map(|p| index.by_port.get(p))
                .map(|l| within(l, &scope))
                .collect();
            nearest_unique(&lists, &r.container.file).map(|c| {
                (
                    configs[c].path.clone(),
                    "a port it exposes is the config's socket port".to_string(),
                )
            })
        })
        .or_else(|| {
            let [(_, only)] = local else {
                return None;
            };
            let only = &configs[*only].path;
            let runners_here = seen_all
                + only
                    .ancestors()
                    .filter_map(|a| seen_under.get(a))
                    .sum::<usize>();
            (runners_here == 1 && !unseen).then(|| {
                (
                    only.clone(),
                    "the only uWSGI config and the only container running uWSGI".to_string(),
                )
            })
        });
        let Some((uwsgi, mut reason)) = found else {
            continue;
        };
        if let Some(why) = r.image_reason {
            reason.push_str(&format!("; its image taken to be {why}"));
        }
        let mut container = r.container;
        if let Some(e) = explicit_hit
            .or_else(|| explicit_canon.iter().position(|e| *e == canon(&uwsgi)))
            .map(|i| &explicit[i])
            && let Some(bytes) = e.memory_limit_bytes
        {
            container.limit = Some(Limit {
                bytes: crate::units::Bytes(bytes),
                explanation: format!(
                    "`memory-limit` {} in `[[deployment]]`",
                    crate::units::Bytes(bytes)
                ),
                places: Vec::new(),
            });
        }
        let version = r
            .image
            .and_then(|d| {
                d.uwsgi_version.as_ref().map(|v| {
                    (
                        v.value,
                        Place {
                            file: d.path.clone(),
                            span: v.span,
                            message: format!("installs uWSGI {}", v.value),
                        },
                    )
                })
            })
            .or_else(|| project.pins.first().cloned());
        let nginx_colocated = r.image.and_then(|d| {
            d.nginx.as_ref().map(|n| Place {
                file: d.path.clone(),
                span: n.span,
                message: "Nginx runs in the same container".into(),
            })
        });
        out.push(Deployment {
            uwsgi,
            container,
            dockerfile: r.image.cloned(),
            reason,
            args: r.args,
            args_place: r.args_place,
            env: r.env,
            nginx: Vec::new(),
            nginx_colocated,
            version,
        });
    }
    // Explicit links that name no container: the config with a given limit.
    for (e, want) in explicit
        .iter()
        .zip(&explicit_canon)
        .filter(|(e, _)| e.container.is_none())
    {
        if out.iter().any(|d| d.uwsgi == *want) {
            continue;
        }
        let Some(c) = index.by_path.get(want).map(|i| &configs[*i]) else {
            continue;
        };
        let mut container = Container::new(
            Orchestrator::Docker,
            c.path.clone(),
            "[[deployment]]".into(),
            Span::default(),
        );
        if let Some(bytes) = e.memory_limit_bytes {
            container.limit = Some(Limit {
                bytes: crate::units::Bytes(bytes),
                explanation: format!(
                    "`memory-limit` {} in `[[deployment]]`",
                    crate::units::Bytes(bytes)
                ),
                places: Vec::new(),
            });
        }
        out.push(Deployment {
            uwsgi: c.path.clone(),
            container,
            dockerfile: None,
            reason: "`[[deployment]]` in the configuration".into(),
            args: Vec::new(),
            args_place: None,
            env: Vec::new(),
            nginx: Vec::new(),
            nginx_colocated: None,
            version: project.pins.first().cloned(),
        });
    }
    for d in &mut out {
        let sockets = index
            .by_path
            .get(&d.uwsgi)
            .map(|i| configs[*i].sockets.as_slice())
            .unwrap_or_default();
        d.nginx = index.related_nginx(project, &d.uwsgi, sockets, &d.container.hostnames);
    }
    out
}

/// How many leading path components two paths share.
pub fn common_depth(a: &Path, b: &Path) -> usize {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::ecs;

    fn facts(p: &str, sockets: &[&str]) -> ConfigFacts {
        ConfigFacts {
            path: PathBuf::from(p),
            sockets: sockets
                .iter()
                .map(|s| Socket {
                    protocol: Protocol::Uwsgi,
                    addr: parse_addr(s).unwrap(),
                    option: "socket".into(),
                    raw: s.to_string(),
                })
                .collect(),
        }
    }

    fn project_of(json: &str) -> Project {
        let file = PathBuf::from("/repo/ecs/task.json");
        let task = ecs::parse(json).unwrap().unwrap();
        Project {
            containers: ecs::containers(&file, &task),
            ..Project::default()
        }
    }

    #[test]
    fn links_by_command_and_computes_the_shared_limit() {
        let p = project_of(
            r#"{"memory": "1024", "containerDefinitions": [
                {"name": "web", "command": ["uwsgi", "--ini", "/app/deploy/uwsgi.ini", "--processes", "8"],
                 "environment": [{"name": "UWSGI_HARAKIRI", "value": "20"}]},
                {"name": "nginx", "memoryReservation": 64}]}"#,
        );
        let configs = vec![
            facts("/repo/deploy/uwsgi.ini", &[]),
            facts("/repo/other/uwsgi.ini", &[]),
        ];
        let d = link(&configs, &p, &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].uwsgi, PathBuf::from("/repo/deploy/uwsgi.ini"));
        assert!(d[0].reason.contains("/app/deploy/uwsgi.ini"));
        let args: Vec<&str> = d[0].args.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(
            args,
            vec!["--ini", "/app/deploy/uwsgi.ini", "--processes", "8"]
        );
        assert_eq!(d[0].env[0].name, "UWSGI_HARAKIRI");
        let l = d[0].limit().unwrap();
        assert_eq!(l.bytes, crate::units::Bytes::from_mib(960));
        assert_eq!(l.places.len(), 2);
        assert_eq!(d[0].container.grace_seconds(), 30);
    }

    #[test]
    fn ambiguity_links_nothing_but_a_port_does() {
        let p = project_of(
            r#"{"containerDefinitions": [{"name": "web", "entryPoint": ["sh", "-c", "exec uwsgi --ini uwsgi.ini"],
                "portMappings": [{"containerPort": 3031}]}]}"#,
        );
        let two = vec![
            facts("/repo/a/uwsgi.ini", &[":3031"]),
            facts("/repo/b/uwsgi.ini", &["/tmp/b.sock"]),
        ];
        let d = link(&two, &p, &[]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].uwsgi, PathBuf::from("/repo/a/uwsgi.ini"));
        assert!(d[0].reason.contains("port"));
        let none = vec![
            facts("/repo/a/uwsgi.ini", &[]),
            facts("/repo/b/uwsgi.ini", &[]),
        ];
        assert!(link(&none, &p, &[]).is_empty());
    }

    #[test]
    fn the_only_config_and_container_are_linked() {
        let p = project_of(
            r#"{"containerDefinitions": [{"name": "web", "command": ["uwsgi"], "memoryReservation": 256}]}"#,
        );
        let d = link(&[facts("/repo/app.ini", &[])], &p, &[]);
        assert!(d[0].reason.contains("only"));
        assert!(d[0].limit().is_none());
        assert_eq!(d[0].container.reservations.len(), 1);
    }

    #[test]
    fn images_that_are_plainly_something_else() {
        for i in [
            "nginx:1.27",
            "redis",
            "docker.io/library/postgres:16",
            "nginxinc/nginx-unprivileged:1.27",
            "bitnami/redis:7",
            "registry.example.com/team/nginx-proxy:2",
        ] {
            assert!(plainly_other_image(i), "{i}");
        }
        for i in [
            "registry.example.com/shop/web:2",
            "123.dkr.ecr.eu-west-1.amazonaws.com/api:1",
        ] {
            assert!(!plainly_other_image(i), "{i}");
        }
    }

    #[test]
    fn addresses_and_targets() {
        assert_eq!(
            parse_addr(":3031"),
            Some(Addr::Tcp {
                host: String::new(),
                port: 3031
            })
        );
        assert_eq!(
            parse_addr("/run/u.sock"),
            Some(Addr::Unix("/run/u.sock".into()))
        );
        // uWSGI reads the port with `atoi` after the last `:`: an inline
        // comment after it still binds the port (checked on the real server
        // in tests/oracle_runtime.rs).
        assert_eq!(
            parse_addr(":8000 #Port number"),
            Some(Addr::Tcp {
                host: String::new(),
                port: 8000
            })
        );
        // ... and a `:` inside the comment moves the split: port `atoi(" x")` = 0.
        assert_eq!(
            parse_addr(":8000 ; see: x"),
            Some(Addr::Tcp {
                host: ":8000 ; see".into(),
                port: 0
            })
        );
        assert_eq!(
            parse_addr("[::]:8000"),
            Some(Addr::Tcp {
                host: "::".into(),
                port: 8000
            })
        );
        let s = facts("/x.ini", &["0.0.0.0:3031"]).sockets;
        let t = |h: &str| Target::Host {
            host: h.into(),
            port: Some(3031),
        };
        assert!(reaches(&t("127.0.0.1"), &s[0], &[]));
        assert!(reaches(&t("web"), &s[0], &[]));
        let local = facts("/x.ini", &["127.0.0.1:3031"]).sockets;
        assert!(!reaches(&t("db"), &local[0], &[]));
        assert!(reaches(&t("web"), &local[0], &["web".into()]));
    }
}
