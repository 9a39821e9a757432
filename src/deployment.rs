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
use crate::uwsgi::resolve::UNKNOWN_WORD;
use crate::uwsgi::version::Version;

mod launch;
use launch::{Launchers, PATH_DIRS, Started, with_context};

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
    /// Why each of `nginx` was taken to be in front (same order).
    pub nginx_why: Vec<String>,
    /// Unix sockets Nginx names by another path (a shared mount):
    /// `(Nginx's path, uWSGI's path)`.
    pub unix_aliases: Vec<(String, String)>,
    /// Nginx runs in the same container (installed in its image).
    pub nginx_colocated: Option<Place>,
    /// The signal uWSGI gets when the container stops, where it is not
    /// SIGTERM (a supervisord program's `stopsignal`).
    pub stop_signal: Option<Place>,
    /// A launcher's own wait before SIGKILL (supervisord's `stopwaitsecs`,
    /// 10 s unless set), in seconds, with where it is set.
    pub stop_wait: Option<(u64, Place)>,
    /// A shell script the container starts runs uWSGI (or what starts it)
    /// without `exec` and sets no `trap`: the shell stays in front of it
    /// and does not pass the container's SIGTERM on.
    pub shell_in_front: Option<(String, Place)>,
    /// The uWSGI version the image installs.
    pub version: Option<(Version, Place)>,
    /// The container's command line is the whole config: it names no
    /// config file, and `uwsgi` is `file#name` of the container.
    pub command_line: bool,
    /// An option of the command line is only known at runtime (left out):
    /// the config may set anything more.
    pub runtime_options: bool,
    /// Fronts other than Nginx that route to this container (an ALB, an
    /// Ingress, Traefik), linked by the `fronts` module.
    pub fronts: Vec<crate::container::front::Linked>,
}

/// Every file a deployment's facts come from: the container's file, its
/// image's Dockerfile, where its command and limit are written, the Nginx
/// in front (all parts), the other fronts (where each is defined and where
/// it names the container).
pub fn files_of<'a>(d: &'a Deployment, project: &'a Project) -> impl Iterator<Item = &'a Path> {
    let limit = d
        .container
        .limit
        .iter()
        .flat_map(|l| l.places.iter().map(|p| p.file.as_path()));
    let nginx = d
        .nginx
        .iter()
        .filter_map(|n| project.nginx.get(*n))
        .flat_map(|n| n.parts.iter().map(|p| p.path.as_path()));
    std::iter::once(d.container.file.as_path())
        .chain(d.dockerfile.iter().map(|f| f.path.as_path()))
        .chain(d.args_place.iter().map(|p| p.file.as_path()))
        .chain(limit)
        .chain(nginx)
        .chain(d.fronts.iter().flat_map(|l| {
            [&l.front.place.file, &l.front.target_place.file]
                .into_iter()
                .map(PathBuf::as_path)
        }))
}

impl Deployment {
    /// Seconds from the stop signal to SIGKILL: the container's grace
    /// period, or a launcher's shorter wait (supervisord's `stopwaitsecs`).
    pub fn grace_seconds(&self) -> u64 {
        let grace = self.container.grace_seconds();
        self.stop_wait
            .as_ref()
            .map_or(grace, |(w, _)| grace.min(*w))
    }

    /// The launcher's wait, where it is what cuts the stop short.
    pub fn stop_wait_cuts(&self) -> Option<&Place> {
        self.stop_wait
            .as_ref()
            .filter(|(w, _)| *w < self.container.grace_seconds())
            .map(|(_, p)| p)
    }

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
    /// supervisord configurations, which start programs in a container.
    pub supervisord: Vec<crate::container::supervisord::Supervisord>,
    /// Shell scripts an image may start (entrypoints, start scripts).
    pub scripts: Vec<crate::container::script::Script>,
    /// Fronts that are not Nginx (load balancers, Ingresses, Traefik).
    pub fronts: Vec<crate::container::front::Front>,
    /// Directories that hold a project's files (a config, a container or
    /// Nginx file, a pin, `.git`, a README): two files relate only below one.
    pub dirs: foldhash::HashSet<PathBuf>,
    /// The roots walked.
    pub roots: Vec<PathBuf>,
    /// `pins` by the directory of their file, built on first use.
    pin_dirs: std::sync::OnceLock<foldhash::HashMap<PathBuf, Vec<usize>>>,
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
    /// The uWSGI pin that applies to `path`: the one in the deepest
    /// directory above it (a monorepo's services pin their own versions),
    /// among those of its project.
    pub fn pin_for(&self, path: &Path) -> Option<(Version, Place)> {
        let by_dir = self.pin_dirs.get_or_init(|| {
            let mut m: foldhash::HashMap<PathBuf, Vec<usize>> = Default::default();
            for (i, (_, p)) in self.pins.iter().enumerate() {
                if let Some(dir) = p.file.parent() {
                    m.entry(dir.to_path_buf()).or_default().push(i);
                }
            }
            m
        });
        path.ancestors().skip(1).find_map(|dir| {
            by_dir
                .get(dir)?
                .iter()
                .map(|i| &self.pins[*i])
                .find(|(_, p)| self.related(&p.file, path))
                .cloned()
        })
    }

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
    std::iter::once(key.len())
        .chain(separators_from_end(key))
        .chain((!key.is_empty()).then_some(0))
        .map(move |end| &key[..end])
}

/// Where a path key's components are joined (its NULs), the last first.
fn separators_from_end(key: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memrchr_iter(0, key)
}

/// A path key shared by every list an item is in (one allocation per path).
type Key = std::sync::Arc<[u8]>;

/// Items sorted by path key, so that those below a directory are one range.
type ByPath = Vec<(Key, usize)>;
type ByPathSlice = [(Key, usize)];

fn sorted(mut v: ByPath) -> ByPath {
    v.sort();
    v.dedup();
    v
}

/// The items of a key-sorted slice below the directory with key `dir`
/// (or equal to it).
fn under<'s>(items: &'s ByPathSlice, dir: &[u8]) -> &'s ByPathSlice {
    crate::stats::link_steps(1);
    if dir.is_empty() {
        return items;
    }
    let lo = items.partition_point(|(k, _)| &k[..] < dir);
    let len = items[lo..].partition_point(|(k, _)| {
        k.starts_with(dir) && (k.len() == dir.len() || k[dir.len()] == 0)
    });
    &items[lo..lo + len]
}

fn within<'s>(items: &'s ByPathSlice, scope: &Scope) -> &'s ByPathSlice {
    match scope {
        Scope::All => items,
        Scope::Under(d) => under(items, &path_key(d)),
        Scope::Nothing => &[],
    }
}

/// Of the items of `lists` (each sorted by key), the one sharing the most
/// leading components with `near`, if exactly one does. The deepest
/// ancestor of `near` with an item below it decides, so no list is scanned.
fn nearest_unique(lists: &[&ByPathSlice], near: &Path) -> Option<usize> {
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

/// The last `k` of `parts`, as the end of a path key: joined by NUL.
fn suffix_key(parts: &[&str], k: usize) -> Vec<u8> {
    parts[parts.len() - k..].join("\0").into_bytes()
}

/// The suffixes of a path key, shortest first: the key after each NUL
/// from the last, then the whole key (none for the empty key).
fn key_suffixes(key: &[u8]) -> impl Iterator<Item = &[u8]> {
    separators_from_end(key)
        .map(|i| i + 1)
        .chain((!key.is_empty()).then_some(0))
        .map(move |start| &key[start..])
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
    by_path: foldhash::HashMap<PathBuf, usize>,
    /// Configs by their last k path components (k = 1, 2, …).
    by_suffix: foldhash::HashMap<Box<[u8]>, ByPath>,
    /// Configs by the port of a TCP socket they bind.
    by_port: foldhash::HashMap<u16, ByPath>,
    /// Nginx configurations whose project has a single config (in front of it).
    nginx_solo: ByPath,
    /// Nginx configurations by a unix socket a pass reaches (normalised).
    nginx_unix: foldhash::HashMap<PathBuf, ByPath>,
    /// … by the port of a host a pass reaches, any host.
    nginx_port: foldhash::HashMap<u16, ByPath>,
    /// … by port and host.
    nginx_host: foldhash::HashMap<(u16, String), ByPath>,
    /// … by where a unix socket they pass to lies outside the Nginx
    /// container (a bind-mounted directory or a named volume it shares).
    nginx_unix_shared: foldhash::HashMap<PathBuf, ByPath>,
    /// The containers that mount each Nginx configuration (by index).
    nginx_mounted_in: foldhash::HashMap<usize, Vec<usize>>,
    /// … by port and the name of a container that host names (a Compose
    /// service): those passes reach that container, not any port.
    nginx_named: foldhash::HashMap<(u16, String), ByPath>,
    /// `[[deployment]]` entries: canonical config, Nginx configurations named.
    named_nginx: Vec<(PathBuf, Vec<usize>)>,
}

const LOOPBACK: [&str; 4] = ["localhost", "127.0.0.1", "::1", "0.0.0.0"];

impl Index {
    pub fn new(configs: &[ConfigFacts], project: &Project, explicit: &[Explicit]) -> Index {
        use foldhash::{HashMap, HashMapExt};
        let mut ix = Index::default();
        // (Sized up front: growing them was a quarter of building the index.)
        let mut by_suffix: HashMap<Box<[u8]>, ByPath> = HashMap::with_capacity(configs.len() * 4);
        let mut by_port: HashMap<u16, ByPath> = HashMap::new();
        ix.configs.reserve(configs.len());
        ix.by_path.reserve(configs.len());
        for (i, c) in configs.iter().enumerate() {
            let key: Key = path_key(&c.path).into();
            ix.configs.push((key.clone(), i));
            ix.by_path.entry(c.path.clone()).or_insert(i);
            for suffix in key_suffixes(&key) {
                match by_suffix.get_mut(suffix) {
                    Some(v) => v.push((key.clone(), i)),
                    None => {
                        by_suffix.insert(suffix.into(), vec![(key.clone(), i)]);
                    }
                }
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
        let mut named: HashMap<(u16, String), ByPath> = HashMap::new();
        // Host names by which containers reach a container of the project.
        let known: foldhash::HashSet<&str> = project
            .containers
            .iter()
            .flat_map(|c| c.hostnames.iter().map(String::as_str))
            .filter(|h| !LOOPBACK.contains(h))
            .collect();
        // A name reached on another port than the one listened on (a
        // Kubernetes Service's `port` → `targetPort`).
        let forwarded: HashMap<(&str, u16), u16> = project
            .containers
            .iter()
            .flat_map(|c| {
                c.port_aliases
                    .iter()
                    .map(|(h, p, t)| ((h.as_str(), *p), *t))
            })
            .collect();
        for (i, n) in project.nginx.iter().enumerate() {
            let entry: (Key, usize) = (path_key(&n.main).into(), i);
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
                        } if known.contains(h.as_str()) => {
                            let p = forwarded.get(&(h.as_str(), *p)).unwrap_or(p);
                            named
                                .entry((*p, h.clone()))
                                .or_default()
                                .push(entry.clone());
                        }
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
        // Nginx files a container mounts (the Nginx service of a Compose
        // project): a unix socket they pass to, seen from outside.
        let mut mounted: HashMap<PathBuf, Vec<usize>> = HashMap::new();
        for (ci, c) in project.containers.iter().enumerate() {
            for (host, _) in &c.mounts {
                mounted
                    .entry(crate::uwsgi::resolve::normalize_lexically(host))
                    .or_default()
                    .push(ci);
            }
        }
        let mut shared: HashMap<PathBuf, ByPath> = HashMap::new();
        if !mounted.is_empty() {
            for (i, n) in project.nginx.iter().enumerate() {
                let mut runs_it: Vec<usize> = n
                    .main
                    .ancestors()
                    .filter_map(|a| mounted.get(a))
                    .flatten()
                    .copied()
                    .collect();
                runs_it.sort();
                runs_it.dedup();
                for &ci in &runs_it {
                    let c = &project.containers[ci];
                    for l in &n.model.locations {
                        let Some(p) = &l.pass else { continue };
                        for t in pass_targets(&n.model, &p.target) {
                            if let Target::Unix(u) = t
                                && let Some(h) = crate::container::mounted_source(&c.mounts, u)
                            {
                                shared
                                    .entry(crate::uwsgi::resolve::normalize_lexically(&h))
                                    .or_default()
                                    .push((path_key(&n.main).into(), i));
                            }
                        }
                    }
                }
                if !runs_it.is_empty() {
                    ix.nginx_mounted_in.insert(i, runs_it);
                }
            }
        }
        ix.nginx_unix_shared = shared.into_iter().map(|(k, v)| (k, sorted(v))).collect();
        ix.nginx_solo = sorted(std::mem::take(&mut ix.nginx_solo));
        ix.nginx_unix = unix.into_iter().map(|(k, v)| (k, sorted(v))).collect();
        ix.nginx_port = port.into_iter().map(|(k, v)| (k, sorted(v))).collect();
        ix.nginx_host = host.into_iter().map(|(k, v)| (k, sorted(v))).collect();
        ix.nginx_named = named.into_iter().map(|(k, v)| (k, sorted(v))).collect();

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

    /// The Nginx configurations in front of a config, each with why.
    ///
    /// A pass that names the container running the config (its Compose
    /// service) decides first. Otherwise: those of its project that pass to
    /// one of its sockets (or to its project's only config), the closest of
    /// them (a port like 8000 is everywhere in a tree of several projects),
    /// leaving out those beside another config (they front that one). And
    /// those `[[deployment]]` names.
    pub fn related_nginx(
        &self,
        project: &Project,
        uwsgi: &Path,
        sockets: &[Socket],
        container: Option<&Container>,
    ) -> Vec<(usize, String)> {
        let hostnames = container.map_or(&[][..], |c| &c.hostnames[..]);
        let scope = project.scope(uwsgi, false);
        let mut by_name: Vec<(Option<&ByPath>, String)> = Vec::new();
        let mut others: Vec<(Option<&ByPath>, String)> = Vec::new();
        for s in sockets {
            match &s.addr {
                Addr::Unix(q) => {
                    // Through a directory or volume both containers mount.
                    if let Some(h) =
                        container.and_then(|c| crate::container::mounted_source(&c.mounts, q))
                    {
                        by_name.push((
                            self.nginx_unix_shared
                                .get(&crate::uwsgi::resolve::normalize_lexically(&h)),
                            format!("it passes to the unix socket `{q}` through a mount both containers share"),
                        ));
                    }
                    others.push((
                        self.nginx_unix
                            .get(&crate::uwsgi::resolve::normalize_lexically(Path::new(q))),
                        format!("it passes to the unix socket `{q}`"),
                    ))
                }
                Addr::Tcp { host: h, port } => {
                    for name in hostnames.iter().filter(|n| !LOOPBACK.contains(&n.as_str())) {
                        by_name.push((
                            self.nginx_named.get(&(*port, name.clone())),
                            format!(
                                "it passes to `{name}:{port}`, the container that runs this config"
                            ),
                        ));
                    }
                    if h.is_empty() || h == "0.0.0.0" || h == "::" {
                        others.push((
                            self.nginx_port.get(port),
                            format!("it passes to port {port}, where this config listens"),
                        ));
                    } else {
                        for name in LOOPBACK.iter().copied().chain([h.as_str()]) {
                            others.push((
                                self.nginx_host.get(&(*port, name.to_string())),
                                format!("it passes to `{name}:{port}`, where this config listens"),
                            ));
                        }
                    }
                }
            }
        }
        let mut out = self.closest(&by_name, &scope, uwsgi);
        if out.is_empty() {
            let solo = (
                Some(&self.nginx_solo),
                "the only uWSGI config of its project".to_string(),
            );
            others.push(solo);
            out = self.closest(&others, &scope, uwsgi);
        }
        if !self.named_nginx.is_empty() {
            let me = canon(uwsgi);
            for (c, named) in &self.named_nginx {
                if *c == me {
                    out.extend(
                        named
                            .iter()
                            .map(|n| (*n, "named in `[[deployment]]`".to_string())),
                    );
                }
            }
        }
        out.sort_by_key(|(n, _)| *n);
        out.dedup_by_key(|(n, _)| *n);
        out
    }

    /// Unix sockets one path names for Nginx and another for uWSGI: the
    /// same file, through a directory or volume both containers mount
    /// (`(Nginx's path, uWSGI's path)`).
    pub fn unix_aliases(
        &self,
        project: &Project,
        fronts: &[usize],
        sockets: &[Socket],
        container: &Container,
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for &n in fronts {
            let (Some(conf), Some(cs)) = (project.nginx.get(n), self.nginx_mounted_in.get(&n))
            else {
                continue;
            };
            for l in &conf.model.locations {
                let Some(p) = &l.pass else { continue };
                for t in pass_targets(&conf.model, &p.target) {
                    let Target::Unix(u) = t else { continue };
                    for &ci in cs {
                        let outside =
                            crate::container::mounted_source(&project.containers[ci].mounts, u)
                                .map(|h| crate::uwsgi::resolve::normalize_lexically(&h));
                        for s in sockets {
                            let Addr::Unix(q) = &s.addr else { continue };
                            let mine = crate::container::mounted_source(&container.mounts, q)
                                .map(|h| crate::uwsgi::resolve::normalize_lexically(&h));
                            if outside.is_some() && outside == mine {
                                out.push((u.clone(), q.clone()));
                            }
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Of the Nginx configurations in `lists`, those below the deepest
    /// ancestor of `uwsgi` that has any, except those in a subdirectory
    /// holding another config (a sibling deployment's own Nginx).
    fn closest(
        &self,
        lists: &[(Option<&ByPath>, String)],
        scope: &Scope,
        uwsgi: &Path,
    ) -> Vec<(usize, String)> {
        let lists: Vec<(&ByPathSlice, &String)> = lists
            .iter()
            .filter_map(|(l, why)| l.map(|l| (within(l, scope), why)))
            .filter(|(l, _)| !l.is_empty())
            .collect();
        let mut out = Vec::new();
        if lists.is_empty() {
            return out;
        }
        let me = path_key(uwsgi);
        for a in ancestor_keys(&me) {
            let mut seen_any = false;
            for (l, why) in &lists {
                let found = under(l, a);
                crate::stats::link_steps(found.len());
                for (key, i) in found {
                    seen_any = true;
                    if !self.beside_other_config(a, key, &me) {
                        out.push((*i, (*why).clone()));
                    }
                }
            }
            if seen_any {
                break;
            }
        }
        out
    }

    /// Does the file with key `key`, below the directory with key `a`, lie
    /// in a subdirectory of `a` that holds a config other than `me`?
    fn beside_other_config(&self, a: &[u8], key: &[u8], me: &[u8]) -> bool {
        let start = if a.is_empty() { 0 } else { a.len() + 1 };
        let Some(rest) = key.get(start..) else {
            return false;
        };
        let Some(end) = rest.iter().position(|b| *b == 0) else {
            // Directly in `a`: beside every config of `a`, so no sibling's.
            return false;
        };
        let child = &key[..start + end];
        under(&self.configs, child)
            .iter()
            .any(|(k, _)| &k[..] != me)
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
        let Some(group) = index.by_suffix.get(&suffix_key(&want, k)[..]) else {
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

/// [`reached`], with unix paths Nginx names by another path (a shared
/// mount) taken as the socket they are, and a port the container is
/// reached by under a name (a Kubernetes Service's `port`) taken as the
/// port it listens on (`targetPort`).
pub fn reached_via<'a>(
    target: &Target,
    sockets: &'a [Socket],
    hostnames: &[String],
    aliases: &[(String, String)],
    ports: &[(String, u16, u16)],
) -> Option<&'a Socket> {
    if let Target::Unix(p) = target
        && let Some((_, q)) = aliases.iter().find(|(n, _)| n == p)
    {
        return reached(&Target::Unix(q.clone()), sockets, hostnames);
    }
    if let Target::Host {
        host,
        port: Some(p),
    } = target
        && let Some((_, _, t)) = ports.iter().find(|(h, from, _)| h == host && from == p)
    {
        let inside = Target::Host {
            host: host.clone(),
            port: Some(*t),
        };
        return reached(&inside, sockets, hostnames);
    }
    reached(target, sockets, hostnames)
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
    let mut at: foldhash::HashMap<String, usize> = foldhash::HashMap::default();
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
    /// The scripts and supervisord that start uWSGI, in order.
    via: Vec<String>,
    /// A program of the same supervisord runs Nginx.
    nginx: Option<Place>,
    /// The user a launcher switches to.
    user: Option<String>,
    /// The signal a launcher stops uWSGI with, when not SIGTERM.
    stop_signal: Option<Place>,
    /// A launcher's wait before SIGKILL.
    stop_wait: Option<(u64, Place)>,
    /// The container's own script runs it without `exec`.
    shell_in_front: Option<(String, Place)>,
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
        || OTHERS.iter().any(|o| {
            name.starts_with(o) || name.match_indices(o).any(|(i, _)| name[..i].ends_with('-'))
        })
}

/// Does `[[deployment]]` entry `e` name container `c` (`file#name`)?
fn names_container(e: &Explicit, c: &Container) -> bool {
    e.container.as_deref().is_some_and(|want| {
        let (file, name) = want.rsplit_once('#').unwrap_or((want, ""));
        c.name == name && c.file.ends_with(file.trim_start_matches("./"))
    })
}

fn runners<'p>(project: &'p Project, explicit: &[Explicit]) -> Vec<Runner<'p>> {
    use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
    // Each Dockerfile path canonicalised once (the first of equals wins, as
    // a scan in order would find it).
    let mut dockerfile_at: HashMap<PathBuf, usize> = HashMap::new();
    for (i, d) in project.dockerfiles.iter().enumerate() {
        dockerfile_at.entry(canon(&d.path)).or_insert(i);
    }
    // Dockerfiles by the places they copy files to in their image.
    let mut by_destination: HashMap<String, Vec<usize>> = HashMap::new();
    if project.dockerfiles.len() > 1 {
        for (i, d) in project.dockerfiles.iter().enumerate() {
            for dest in d.destinations() {
                // (The root is "" there.)
                let dest = if dest.is_empty() {
                    "/".to_string()
                } else {
                    dest
                };
                by_destination.entry(dest).or_default().push(i);
            }
        }
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
        // Several: the one Dockerfile of its project that copies the
        // program the container starts (`EntryPoint: /entrypoint-uwsgi.sh`
        // ← `COPY docker/entrypoint-uwsgi.sh /`) into its image.
        let program = c
            .entrypoint
            .as_ref()
            .or(c.command.as_ref())
            .map(|w| w.iter().map(|a| a.value.clone()).collect::<Vec<_>>())
            .and_then(|w| {
                crate::container::script::strip_wrappers(&w)
                    .first()
                    .cloned()
            })
            .filter(|p| p.starts_with('/') && p.len() > 1);
        if let (false, Some(program)) = (library, program) {
            let mut found: Vec<usize> = Path::new(&program)
                .ancestors()
                .filter_map(|a| by_destination.get(a.to_str()?))
                .flatten()
                .copied()
                .filter(|&i| {
                    let df = &project.dockerfiles[i];
                    df.source_of(&program).is_some_and(|src| src.is_file())
                        && project.same_project(&df.path, &c.file)
                })
                .collect();
            found.sort_unstable();
            found.dedup();
            if let [one] = found[..] {
                return (
                    Some(&project.dockerfiles[one]),
                    Some("the only Dockerfile of the project that copies the program it starts"),
                );
            }
        }
        (None, None)
    };
    let launchers = Launchers::new(project);
    // Each container followed on its own, in parallel; runners kept in
    // container order.
    let per_container = crate::parallel::par_map(&project.containers, |c| {
        let mut out = Vec::new();
        let (image, image_reason) = used_image(c);
        let av = argv(c, image);
        let env = env_of(c, image);
        // (A proxy or database image beside the app, a sidecar, runs no uWSGI.)
        let unseen = av.is_empty()
            && c.image
                .as_ref()
                .is_some_and(|i| i.value.contains('/') && !plainly_other_image(&i.value));
        let from_image = c.entrypoint.is_none() && c.command.is_none();
        let av_file = match (from_image, image) {
            (true, Some(d)) => d.path.clone(),
            _ => c.file.clone(),
        };
        let mut started = launchers.start(&av, &av_file, c, image, &env);
        if started.is_empty()
            && (unseen
                || env
                    .iter()
                    .any(|e| e.name == "UWSGI_INI" || e.name == "UWSGI_YAML")
                || explicit.iter().any(|e| names_container(e, c)))
        {
            // `UWSGI_INI` in the environment, an image of the project's
            // whose command is not visible here (linked by port only), or
            // a container `[[deployment]]` says runs uWSGI.
            started.push(Started::default());
        }
        for s in started {
            let args_place = s.place.clone().or_else(|| {
                av.first().map(|a| Place {
                    file: av_file.clone(),
                    span: Span::new(a.span.start, av.last().map_or(a.span.end, |l| l.span.end)),
                    message: "runs uWSGI".into(),
                })
            });
            let mut env = env.clone();
            env.extend(s.env);
            out.push(Runner {
                container: c.clone(),
                image,
                args: s.args,
                args_place,
                env,
                image_reason,
                via: s.via,
                nginx: s.nginx,
                user: s.user,
                stop_signal: s.stop_signal,
                stop_wait: s.stop_wait,
                shell_in_front: s.shell_in_front,
            });
        }
        out
    });
    let mut out: Vec<Runner> = per_container.into_iter().flatten().collect();
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
        for s in launchers.start(&av, &d.path, &c, Some(d), &env) {
            let args_place = s.place.clone().or_else(|| {
                av.first().map(|a| Place {
                    file: d.path.clone(),
                    span: a.span,
                    message: "runs uWSGI".into(),
                })
            });
            let mut env = env.clone();
            env.extend(s.env);
            out.push(Runner {
                container: c.clone(),
                image: Some(d),
                args: s.args,
                args_place,
                env,
                image_reason: None,
                via: s.via,
                nginx: s.nginx,
                user: s.user,
                stop_signal: s.stop_signal,
                stop_wait: s.stop_wait,
                shell_in_front: s.shell_in_front,
            });
        }
    }
    out
}

/// The project file at `in_image` (a path the container names): through
/// the image's `COPY`/`ADD`, or a bind mount.
fn project_file(in_image: &str, c: &Container, image: Option<&Dockerfile>) -> Option<PathBuf> {
    let in_image = in_image.trim();
    if in_image.is_empty() || in_image.contains(UNKNOWN_WORD) {
        return None;
    }
    let candidates: Vec<String> = if in_image.contains('/') {
        vec![in_image.to_string()]
    } else {
        // A bare name is looked up in PATH (and the working directory
        // only when it has a `/`).
        PATH_DIRS
            .iter()
            .map(|d| format!("{d}/{in_image}"))
            .collect()
    };
    for p in candidates {
        let p = p.strip_prefix("./").unwrap_or(&p).to_string();
        if let Some(src) = image.and_then(|d| d.source_of(&p)) {
            return Some(canon(&src));
        }
        if p.starts_with('/')
            && let Some(src) = crate::container::mounted_source(&c.mounts, &p)
        {
            return Some(canon(&src));
        }
    }
    None
}

/// uWSGI's arguments without the options whose *name* is only known at
/// runtime (`"--${MODE}" x`): uWSGI's getopt would read them as it reads
/// whatever the variable holds, which is not known here, so they (and a
/// value after them) are left out rather than read as an unknown option.
fn known_options(args: Vec<At<String>>) -> (Vec<At<String>>, Vec<String>) {
    let mut out = Vec::with_capacity(args.len());
    let mut dropped = Vec::new();
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        let name = a.value.split('=').next().unwrap_or(&a.value);
        if a.value.starts_with('-') && name.contains(UNKNOWN_WORD) {
            if !a.value.contains('=') && it.peek().is_some_and(|n| !n.value.starts_with('-')) {
                it.next();
            }
            dropped.push(a.value);
            continue;
        }
        out.push(a);
    }
    (out, dropped)
}

/// A project file as `-v` names it: relative to the container's file.
fn shown_path(p: &Path, near: &Path) -> String {
    let mut base = near.parent().unwrap_or(Path::new(""));
    // Up to the common directory.
    while !p.starts_with(base) {
        match base.parent() {
            Some(b) => base = b,
            None => break,
        }
    }
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}

/// The config a runner's command names: through a mount first (it hides
/// what the image has at that path), then the image's `COPY`s.
fn named_config(
    r: &Runner,
    configs: &[ConfigFacts],
    index: &Index,
    scope: &Scope,
    roots: &[PathBuf],
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
        let moved = r.image.and_then(|d| with_context(d, roots));
        if let Some(src) = moved.as_ref().or(r.image).and_then(|d| d.source_of(file))
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

/// uWSGI arguments that are a config of their own: at least one option,
/// and no config file named (`--ini`, `--yaml`, a positional file,
/// `UWSGI_INI`).
pub fn is_command_line_config(args: &[At<String>], env: &[EnvVar]) -> bool {
    args.iter().any(|a| a.value.starts_with('-'))
        && named_configs(args, env).is_empty()
        && !args.iter().any(|a| {
            [
                "--include",
                "--json",
                "--xml",
                "--inherit",
                "--emperor",
                "--vassal",
            ]
            .iter()
            .any(|o| a.value == *o || a.value.starts_with(&format!("{o}=")))
        })
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
    shared: &foldhash::HashSet<PathBuf>,
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
    use foldhash::{HashMap, HashMapExt};
    let runners = runners(project, explicit);
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
    let shared: foldhash::HashSet<PathBuf> = {
        let mut seen = foldhash::HashSet::default();
        let mut twice = foldhash::HashSet::default();
        for r in runners.iter().filter(|r| r.args.is_empty()) {
            for (src, _) in &r.container.mounts {
                if !seen.insert(canon(src)) {
                    twice.insert(canon(src));
                }
            }
        }
        twice
    };
    // Each runner linked on its own, in parallel, in runner order.
    let linked = crate::parallel::par_map_owned(runners, |r| {
        // Only configs of the container's own project are candidates.
        let scope = project.scope(&r.container.file, true);
        let local = within(&index.configs, &scope);
        let explicit_hit = explicit
            .iter()
            .position(|e| names_container(e, &r.container));
        let unseen = r.args.is_empty()
            && r.args_place.is_none()
            && !r
                .env
                .iter()
                .any(|e| e.name == "UWSGI_INI" || e.name == "UWSGI_YAML");
        // A command line that names no config file is the config itself:
        // no file in the repository is what it runs.
        let command_line = explicit_hit.is_none() && is_command_line_config(&r.args, &r.env);
        let found = if command_line {
            Some((
                PathBuf::from(r.container.id()),
                "its command line is the whole config (it names no config file)".to_string(),
            ))
        } else if let Some(e) = explicit_hit {
            index
                .config_at(&explicit_canon[e], configs, &scope)
                .map(|c| {
                    (
                        configs[c].path.clone(),
                        "`[[deployment]]` in the configuration".to_string(),
                    )
                })
        } else {
            named_config(&r, configs, index, &scope, &project.roots)
                .or_else(|| mounted_config(&r, configs, index, &scope, &shared))
        }
        .or_else(|| {
            // A port the container exposes that is a socket of one config.
            let mut ports: Vec<u16> = r.container.ports.iter().map(|p| p.value).collect();
            ports.sort();
            ports.dedup();
            let lists: Vec<&ByPathSlice> = ports
                .iter()
                .filter_map(|p| index.by_port.get(p))
                .map(|l| within(l, &scope))
                .collect();
            nearest_unique(&lists, &r.container.file).map(|c| {
                (
                    configs[c].path.clone(),
                    "a port it exposes is one the config listens on".to_string(),
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
        let (uwsgi, mut reason) = found?;
        // The launchers passed: "its command runs `/entrypoint.sh` (…),
        // which starts supervisord …, whose program `uwsgi` runs uWSGI".
        let (notes, steps): (Vec<&String>, Vec<&String>) =
            r.via.iter().partition(|v| v.starts_with("whose option"));
        if !steps.is_empty() {
            let mut chain = String::from("its command");
            for (i, v) in steps.iter().enumerate() {
                chain.push_str(match (i, v.starts_with("whose")) {
                    (0, _) => " ",
                    (_, true) => ", ",
                    _ => ", which ",
                });
                chain.push_str(v);
            }
            if !chain.contains("runs uWSGI") {
                chain.push_str(", which runs uWSGI");
            }
            reason = format!(
                "{chain}; {}",
                reason.replacen("its command names", "that command names", 1)
            );
        }
        for n in &notes {
            // "uWSGI's option `--$(unknown:MODE)` is only known at runtime (left out)"
            reason.push_str(&format!("; uWSGI's {}", n.trim_start_matches("whose ")));
        }
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
            .or_else(|| project.pin_for(&uwsgi));
        let nginx_colocated = r.nginx.clone().or_else(|| {
            r.image.and_then(|d| {
                d.nginx.as_ref().map(|n| Place {
                    file: d.path.clone(),
                    span: n.span,
                    message: "Nginx runs in the same container".into(),
                })
            })
        });
        // `UWSGI_INI`/`UWSGI_YAML` name an image path: the project file
        // copied there is what uWSGI loads (and the linked config itself
        // is already given as `--ini`).
        let env: Vec<EnvVar> = r
            .env
            .into_iter()
            .filter_map(|mut e| {
                if e.name == "UWSGI_INI" || e.name == "UWSGI_YAML" {
                    let file = e.value.split(':').next().unwrap_or(&e.value).to_string();
                    let moved = r.image.and_then(|d| with_context(d, &project.roots));
                    if let Some(src) = project_file(&file, &container, moved.as_ref().or(r.image)) {
                        if src == uwsgi && r.args.is_empty() {
                            return None;
                        }
                        e.value = src.display().to_string();
                    }
                }
                Some(e)
            })
            .collect();
        let mut dockerfile = r.image.cloned();
        if let (Some(d), Some(u)) = (dockerfile.as_mut(), &r.user) {
            // What uWSGI runs as: the launcher's user over the image's USER.
            d.user = Some(At::new(u.clone(), Span::default()));
        }
        Some(Deployment {
            uwsgi,
            container,
            dockerfile,
            reason,
            args: r.args,
            args_place: r.args_place,
            env,
            nginx: Vec::new(),
            nginx_why: Vec::new(),
            unix_aliases: Vec::new(),
            nginx_colocated,
            stop_signal: r.stop_signal,
            stop_wait: r.stop_wait,
            shell_in_front: r.shell_in_front,
            version,
            command_line,
            runtime_options: !notes.is_empty(),
            fronts: Vec::new(),
        })
    });
    // In place: `filter_map` over an owned Vec reuses its buffer, where
    // `flatten` builds a second one beside it (at the check's peak memory).
    #[allow(clippy::filter_map_identity)]
    let mut out: Vec<Deployment> = linked.into_iter().filter_map(|d| d).collect();
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
            nginx_why: Vec::new(),
            unix_aliases: Vec::new(),
            nginx_colocated: None,
            stop_signal: None,
            stop_wait: None,
            shell_in_front: None,
            version: project.pin_for(&c.path),
            command_line: false,
            runtime_options: false,
            fronts: Vec::new(),
        });
    }
    // The Nginx in front of each, in parallel.
    let fronts = crate::parallel::par_map(&out, |d| {
        let sockets = index
            .by_path
            .get(&d.uwsgi)
            .map(|i| configs[*i].sockets.as_slice())
            .unwrap_or_default();
        let fronts = index.related_nginx(project, &d.uwsgi, sockets, Some(&d.container));
        let (nginx, why): (Vec<usize>, Vec<String>) = fronts.into_iter().unzip();
        let aliases = index.unix_aliases(project, &nginx, sockets, &d.container);
        (nginx, why, aliases)
    });
    for (d, (nginx, why, aliases)) in out.iter_mut().zip(fronts) {
        (d.nginx, d.nginx_why, d.unix_aliases) = (nginx, why, aliases);
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

    #[test]
    fn each_service_of_a_monorepo_gets_its_own_pin() {
        let pin = |file: &str, minor: u32, patch: u32| {
            (
                Version::new(2, minor, patch),
                Place {
                    file: PathBuf::from(file),
                    span: Span::default(),
                    message: String::new(),
                },
            )
        };
        let mut project = Project {
            pins: vec![
                pin("/r/shop/requirements.txt", 0, 18),
                pin("/r/requirements.txt", 0, 30),
                pin("/r/blog/requirements.txt", 0, 28),
            ],
            ..Project::default()
        };
        project.roots = vec![PathBuf::from("/r")];
        let of = |p: &str| project.pin_for(Path::new(p)).map(|(v, _)| v);
        assert_eq!(of("/r/blog/deploy/uwsgi.ini"), Some(Version::new(2, 0, 28)));
        assert_eq!(of("/r/shop/uwsgi.ini"), Some(Version::new(2, 0, 18)));
        assert_eq!(of("/r/api/uwsgi.ini"), Some(Version::new(2, 0, 30)));
        assert_eq!(of("/elsewhere/uwsgi.ini"), None);
    }

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
    fn scripts_are_followed_and_their_lines_are_the_command_place() {
        use crate::container::{dockerfile, script};
        let project = |entry: &str| {
            let mut p = project_of(
                r#"{"memory": "512", "containerDefinitions": [{"name": "web", "image": "registry.example.com/web:1"}]}"#,
            );
            p.dockerfiles.push(dockerfile::parse(
                Path::new("/repo/Dockerfile"),
                "FROM python:3.12\nCOPY entrypoint.sh /entrypoint.sh\nCOPY uwsgi.ini /etc/uwsgi.ini\nENTRYPOINT [\"/entrypoint.sh\"]\nCMD [\"uwsgi\", \"--ini\", \"/etc/uwsgi.ini\"]\n",
            ));
            p.scripts
                .push(script::parse(Path::new("/repo/entrypoint.sh"), entry));
            p
        };
        let configs = vec![facts("/repo/uwsgi.ini", &[])];
        // `exec "$@"`: the image's CMD runs, written in the Dockerfile.
        let d = link(&configs, &project("#!/bin/sh\nexec \"$@\"\n"), &[]);
        assert_eq!(d.len(), 1);
        assert!(
            d[0].reason.contains("runs `/entrypoint.sh`"),
            "{}",
            d[0].reason
        );
        let place = d[0].args_place.as_ref().unwrap();
        assert_eq!(place.file, PathBuf::from("/repo/Dockerfile"));
        // The script's own command: written in the script.
        let text = "#!/bin/sh\nexec uwsgi --ini /etc/uwsgi.ini --processes ${N:-3}\n";
        let d = link(&configs, &project(text), &[]);
        let place = d[0].args_place.as_ref().unwrap();
        assert_eq!(place.file, PathBuf::from("/repo/entrypoint.sh"));
        assert_eq!(
            &text[place.span.range()],
            "uwsgi --ini /etc/uwsgi.ini --processes ${N:-3}"
        );
        let args: Vec<&str> = d[0].args.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(args, vec!["--ini", "/etc/uwsgi.ini", "--processes", "3"]);
        // A script that runs something else: not uWSGI, whatever CMD says.
        let d = link(
            &configs,
            &project("#!/bin/sh\nexec gunicorn app:app\n"),
            &[],
        );
        assert!(d.is_empty());
    }

    #[test]
    fn options_named_at_runtime_are_left_out() {
        let at = |v: &[&str]| -> Vec<At<String>> {
            v.iter()
                .map(|s| At::new(s.to_string(), Span::default()))
                .collect()
        };
        let (args, dropped) = known_options(at(&[
            "--ini",
            "a.ini",
            "--$(unknown:MODE)",
            "$(unknown:ENDPOINT)",
            "--x-$(unknown:Y)=1",
            "--master",
        ]));
        let args: Vec<&str> = args.iter().map(|a| a.value.as_str()).collect();
        assert_eq!(args, vec!["--ini", "a.ini", "--master"]);
        assert_eq!(dropped.len(), 2);
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
            // After a dash, anywhere in the name.
            "acme/shop-api-redis:3",
            "acme/edge-haproxy-2",
        ] {
            assert!(plainly_other_image(i), "{i}");
        }
        for i in [
            "registry.example.com/shop/web:2",
            "123.dkr.ecr.eu-west-1.amazonaws.com/api:1",
            // Inside a word is not a dash before it.
            "acme/mynginx:1",
            "acme/shop_redis:1",
        ] {
            assert!(!plainly_other_image(i), "{i}");
        }
    }

    /// The suffixes by which linking finds a config are its last 1, 2, …
    /// components joined as a container's path to it is joined.
    #[test]
    fn a_path_key_ends_with_each_suffix_of_the_path() {
        let key = path_key(Path::new("/srv/app/deploy/uwsgi.ini"));
        let got: Vec<&[u8]> = key_suffixes(&key).collect();
        let want: Vec<Vec<u8>> = (1..=5)
            .map(|k| suffix_key(&["/", "srv", "app", "deploy", "uwsgi.ini"], k))
            .collect();
        assert_eq!(got, want.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert_eq!(got[1], b"deploy\0uwsgi.ini");
        assert_eq!(key_suffixes(b"").count(), 0);
        let ancestors: Vec<&[u8]> = ancestor_keys(&key).collect();
        assert_eq!(ancestors.len(), 6);
        assert_eq!(ancestors[1], &key[..key.len() - b"\0uwsgi.ini".len()]);
        assert_eq!(ancestors[5], b"");
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
