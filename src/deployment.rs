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

/// uWSGI's address syntax: `host:port`/`:port` is TCP, anything else a unix
/// path (`@name` abstract).
pub fn parse_addr(raw: &str) -> Option<Addr> {
    let raw = raw.trim();
    if raw.is_empty() || raw.starts_with('=') {
        return None;
    }
    if let Some((host, port)) = raw.rsplit_once(':')
        && !host.contains('/')
        && let Ok(port) = port.parse()
    {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        return Some(Addr::Tcp {
            host: host.to_string(),
            port,
        });
    }
    Some(Addr::Unix(raw.to_string()))
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
    pub dirs: std::collections::BTreeSet<PathBuf>,
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

impl Project {
    /// May `a` and `b` be linked: their common directory is inside a
    /// project directory or a root walked.
    pub fn related(&self, a: &Path, b: &Path) -> bool {
        let common = common_dir(a, b);
        (self.dirs.is_empty() && self.roots.is_empty())
            || self
                .dirs
                .iter()
                .chain(&self.roots)
                .any(|d| common.starts_with(d))
    }

    /// Are `a` and `b` of one project: their common directory is inside a
    /// directory that holds project files? A folder of unrelated checkouts
    /// does not, even when it is the root walked.
    pub fn same_project(&self, a: &Path, b: &Path) -> bool {
        let common = common_dir(a, b);
        self.dirs.iter().any(|d| common.starts_with(d))
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
/// remaining tie links nothing.
fn match_config<'a>(named: &str, configs: &'a [ConfigFacts], near: &Path) -> Option<&'a PathBuf> {
    let named = named.split(':').next().unwrap_or(named);
    let want: Vec<&str> = named
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let score = |p: &Path| {
        let have: Vec<String> = p
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let suffix = want
            .iter()
            .rev()
            .zip(have.iter().rev())
            .take_while(|(a, b)| **a == b.as_str())
            .count();
        (suffix, common_depth(p, near))
    };
    let best = configs.iter().map(|c| score(&c.path)).max()?;
    let mut winners = configs.iter().filter(|c| score(&c.path) == best);
    let first = winners.next()?;
    (best.0 >= 1 && winners.next().is_none()).then_some(&first.path)
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

fn same_file(a: &Path, b: &Path) -> bool {
    let c = |p: &Path| {
        std::fs::canonicalize(p).unwrap_or_else(|_| crate::uwsgi::resolve::normalize_lexically(p))
    };
    c(a) == c(b)
}

fn runners(project: &Project) -> Vec<Runner<'_>> {
    let mut out = Vec::new();
    let used_image = |c: &Container| -> (Option<&Dockerfile>, Option<&'static str>) {
        if let Some(df) = &c.dockerfile {
            return (
                project.dockerfiles.iter().find(|d| same_file(&d.path, df)),
                None,
            );
        }
        // A Kubernetes/ECS image is built somewhere: with one Dockerfile in
        // the project, that one, unless it is an official library image
        // (`nginx:1.27`, `redis`), which no project builds.
        let library = c.image.as_ref().is_some_and(|i| !i.value.contains('/'));
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
        let unseen = av.is_empty() && c.image.as_ref().is_some_and(|i| i.value.contains('/'));
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
    let orchestrated: Vec<PathBuf> = out.iter().map(|r| r.container.file.clone()).collect();
    for d in project.dockerfiles.iter().filter(|d| {
        !orchestrated
            .iter()
            .any(|f| project.same_project(f, &d.path))
    }) {
        let built = project.containers.iter().any(|c| {
            c.dockerfile
                .as_deref()
                .is_some_and(|p| same_file(p, &d.path))
        });
        let guessed = out
            .iter()
            .any(|r| r.image.is_some_and(|i| i.path == d.path));
        if built || guessed {
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

/// The config a runner's command names, through the image's `COPY`s first.
fn named_config(r: &Runner, configs: &[ConfigFacts]) -> Option<(PathBuf, String)> {
    for n in named_configs(&r.args, &r.env) {
        let file = n.split(':').next().unwrap_or(&n);
        if let Some(src) = r.image.and_then(|d| d.source_of(file))
            && let Some(c) = configs.iter().find(|c| same_file(&c.path, &src))
        {
            return Some((
                c.path.clone(),
                format!("its command names `{n}`, copied from the build context"),
            ));
        }
        if let Some(src) = crate::container::mounted_source(&r.container.mounts, file)
            && let Some(c) = configs.iter().find(|c| same_file(&c.path, &src))
        {
            let base = r.container.file.parent().unwrap_or(Path::new(""));
            let shown = src.strip_prefix(base).unwrap_or(&src).display().to_string();
            return Some((
                c.path.clone(),
                format!("its command names `{n}`, a bind mount of `{shown}`"),
            ));
        }
        if let Some(p) = match_config(&n, configs, &r.container.file) {
            return Some((p.clone(), format!("its command names `{n}`")));
        }
    }
    None
}

/// Link containers to configs, and Nginx configurations to both.
pub fn link(
    configs: &[ConfigFacts],
    project: &Project,
    explicit: &[crate::settings::Deployment],
) -> Vec<Deployment> {
    let runners = runners(project);
    let mut out: Vec<Deployment> = Vec::new();
    // Runners whose command is visible (for the only-one rule).
    let seen_files: Vec<PathBuf> = runners
        .iter()
        .filter(|r| r.args_place.is_some() || !r.args.is_empty())
        .map(|r| r.container.file.clone())
        .collect();
    for r in runners {
        // Only configs of the container's own project are candidates.
        let local: Vec<ConfigFacts> = configs
            .iter()
            .filter(|c| project.related(&r.container.file, &c.path))
            .cloned()
            .collect();
        let configs = local.as_slice();
        let explicit_hit = explicit.iter().find(|e| {
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
            configs
                .iter()
                .find(|c| same_file(&c.path, &e.uwsgi))
                .map(|c| (c.path.clone(), "`[[deployment]]` in the configuration".to_string()))
        } else {
            named_config(&r, configs)
        }
        .or_else(|| {
            // A port the container exposes that is a socket of one config.
            let by_port: Vec<&ConfigFacts> = configs
                .iter()
                .filter(|c| {
                    c.sockets.iter().any(|s| {
                        matches!(s.addr, Addr::Tcp { port, .. } if r.container.ports.iter().any(|p| p.value == port))
                    })
                })
                .collect();
            let nearest = by_port
                .iter()
                .map(|c| common_depth(&c.path, &r.container.file))
                .max()
                .unwrap_or(0);
            let by_port: Vec<&&ConfigFacts> = by_port
                .iter()
                .filter(|c| common_depth(&c.path, &r.container.file) == nearest)
                .collect();
            (by_port.len() == 1).then(|| {
                (by_port[0].path.clone(), "a port it exposes is the config's socket port".to_string())
            })
        })
        .or_else(|| {
            let runners_here = configs.first().map_or(0, |c| {
                seen_files.iter().filter(|f| project.related(f, &c.path)).count()
            });
            (configs.len() == 1 && runners_here == 1 && !unseen).then(|| {
                (
                    configs[0].path.clone(),
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
        if let Some(e) =
            explicit_hit.or_else(|| explicit.iter().find(|e| same_file(&e.uwsgi, &uwsgi)))
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
    for e in explicit.iter().filter(|e| e.container.is_none()) {
        if out.iter().any(|d| same_file(&d.uwsgi, &e.uwsgi)) {
            continue;
        }
        let Some(c) = configs.iter().find(|c| same_file(&c.path, &e.uwsgi)) else {
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
        let sockets = configs
            .iter()
            .find(|c| c.path == d.uwsgi)
            .map(|c| c.sockets.as_slice())
            .unwrap_or_default();
        d.nginx = related_nginx(
            project,
            configs,
            &d.uwsgi,
            sockets,
            &d.container.hostnames,
            explicit,
        );
    }
    out
}

/// The Nginx configurations in front of a config: those that pass to one of
/// its sockets, those `[[deployment]]` names, or all when the project has a
/// single config.
pub fn related_nginx(
    project: &Project,
    configs: &[ConfigFacts],
    uwsgi: &Path,
    sockets: &[Socket],
    hostnames: &[String],
    explicit: &[crate::settings::Deployment],
) -> Vec<usize> {
    let named = |n: &NginxConf| {
        explicit
            .iter()
            .any(|e| same_file(&e.uwsgi, uwsgi) && e.nginx.iter().any(|p| same_file(p, &n.main)))
    };
    let serving: Vec<usize> = project
        .nginx
        .iter()
        .enumerate()
        .filter(|(_, n)| project.same_project(&n.main, uwsgi))
        .filter(|(_, n)| {
            // The project's only config is behind any of its Nginx files.
            let configs_here = configs
                .iter()
                .filter(|c| project.same_project(&c.path, &n.main))
                .count();
            configs_here == 1 || serves(n, sockets, hostnames)
        })
        .map(|(i, _)| i)
        .collect();
    // In a tree of several projects, the closest configurations are the
    // ones in front of this config (a port like 8000 is everywhere).
    let closeness = |i: &usize| common_depth(&project.nginx[*i].main, uwsgi);
    let best = serving.iter().map(closeness).max().unwrap_or(0);
    let mut out: Vec<usize> = serving
        .into_iter()
        .filter(|i| closeness(i) == best)
        .collect();
    for (i, n) in project.nginx.iter().enumerate() {
        if named(n) && !out.contains(&i) {
            out.push(i);
        }
    }
    out.sort();
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
