//! What uwsgi-lint needs from an Nginx config: upstreams, servers and
//! locations, where each location passes requests (`uwsgi_pass`,
//! `proxy_pass`), and the values that count against uWSGI, inherited from
//! `http` → `server` → `location` as Nginx inherits them, with the compiled
//! defaults (containers-and-nginx.md §3.6) when nothing sets them.
//!
//! `include`s are spliced in by [`crate::nginx::include`] before this runs;
//! every place carries the index of the file it is in.

use std::time::Duration;

use crate::nginx::syntax::{Config, Directive};
use crate::nginx::units;
use crate::source::Span;
use crate::units::Bytes;

/// A value and the directive it came from (`None`: the compiled default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting<T> {
    pub value: T,
    pub from: Option<Span>,
    /// The file `from` is in (index into the loaded set).
    pub file: usize,
    /// Written with a `${VAR}` placeholder (a template): the value in effect
    /// is not known; `value` is what applies around it.
    pub unknown: bool,
}

impl<T> Setting<T> {
    fn mark_unknown(&mut self, from: Option<Span>, file: usize) {
        self.from = from;
        self.file = file;
        self.unknown = true;
    }

    fn default_value(value: T) -> Setting<T> {
        Setting {
            value,
            from: None,
            file: 0,
            unknown: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassKind {
    /// `uwsgi_pass`: the uwsgi protocol.
    Uwsgi,
    /// `proxy_pass`: HTTP.
    Proxy,
}

/// Where a location sends requests, parsed from the directive's argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pass {
    pub kind: PassKind,
    /// The argument as written.
    pub raw: String,
    pub target: Target,
    pub span: Span,
    pub file: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `unix:/run/app.sock`
    Unix(String),
    /// A host (name or address) and port; `upstream` names have no port.
    Host { host: String, port: Option<u16> },
    /// Contains variables: resolved at runtime.
    Dynamic,
}

/// Parse a `uwsgi_pass` / `proxy_pass` / upstream `server` address.
pub fn parse_target(raw: &str) -> Target {
    if raw.contains('$') {
        return Target::Dynamic;
    }
    let mut s = raw;
    for scheme in ["uwsgi://", "suwsgi://", "http://", "https://", "grpc://"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = rest;
            break;
        }
    }
    if let Some(path) = s.strip_prefix("unix:") {
        // `unix:/path:/uri` is possible for proxy_pass; keep the path part.
        let path = path.trim_start_matches("//");
        let path = match path.find(":/") {
            Some(i) if i > 0 => &path[..i],
            _ => path,
        };
        return Target::Unix(path.to_string());
    }
    let hostport = s.split('/').next().unwrap_or_default();
    if let Some(rest) = hostport.strip_prefix('[') {
        // [::1]:3031
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        return Target::Host {
            host: host.to_string(),
            port,
        };
    }
    match hostport.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => Target::Host {
            host: h.to_string(),
            port: p.parse().ok(),
        },
        _ => Target::Host {
            host: hostport.to_string(),
            port: None,
        },
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    pub name: String,
    pub servers: Vec<(Target, Span)>,
    pub span: Span,
    pub file: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Index into [`Model::servers`] (`None` for a location outside a server,
    /// as in an included snippet).
    pub server: Option<usize>,
    /// The location's arguments, e.g. `~* \.php$`.
    pub path: String,
    pub span: Span,
    pub file: usize,
    pub pass: Option<Pass>,
    pub uwsgi_read_timeout: Setting<Duration>,
    pub proxy_read_timeout: Setting<Duration>,
    pub client_max_body_size: Setting<Bytes>,
    /// `uwsgi_request_buffering` (on by default): the body is read whole
    /// before the request is passed.
    pub uwsgi_request_buffering: Setting<bool>,
    /// `proxy_request_buffering` (on by default).
    pub proxy_request_buffering: Setting<bool>,
    /// `proxy_*` directives written in this location's own block (name,
    /// file, span): the proxy module's, which `uwsgi_pass` never reads.
    pub proxy_directives: Vec<(String, usize, Span)>,
}

impl Location {
    /// Does Nginx read the whole request body before passing it on?
    pub fn buffers_request_body(&self) -> Option<bool> {
        let s = match self.pass.as_ref()?.kind {
            PassKind::Uwsgi => &self.uwsgi_request_buffering,
            PassKind::Proxy => &self.proxy_request_buffering,
        };
        (!s.unknown).then_some(s.value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub span: Span,
    pub file: usize,
    pub server_names: Vec<String>,
    /// `large_client_header_buffers number size`.
    pub large_client_header_buffers: Setting<(u32, Bytes)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum WorkerProcesses {
    Auto,
    Count(u32),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub worker_processes: Setting<WorkerProcesses>,
    pub upstreams: Vec<Upstream>,
    pub servers: Vec<Server>,
    pub locations: Vec<Location>,
    /// Directives whose value could not be read (name, file, span).
    pub unreadable: Vec<(String, usize, Span)>,
}

/// Inherited values at one level of the tree.
#[derive(Clone)]
struct Scope {
    uwsgi_read_timeout: Setting<Duration>,
    proxy_read_timeout: Setting<Duration>,
    client_max_body_size: Setting<Bytes>,
    large_client_header_buffers: Setting<(u32, Bytes)>,
    uwsgi_request_buffering: Setting<bool>,
    proxy_request_buffering: Setting<bool>,
    server: Option<usize>,
}

fn first_arg(d: &Directive) -> Option<&str> {
    d.args.first().map(|a| a.value.as_str())
}

/// Build the model of one parsed file.
pub fn build(config: &Config) -> Model {
    let mut m = Model {
        worker_processes: Setting::default_value(WorkerProcesses::Count(1)),
        upstreams: Vec::new(),
        servers: Vec::new(),
        locations: Vec::new(),
        unreadable: Vec::new(),
    };
    let scope = Scope {
        uwsgi_read_timeout: Setting::default_value(Duration::from_secs(60)),
        proxy_read_timeout: Setting::default_value(Duration::from_secs(60)),
        client_max_body_size: Setting::default_value(Bytes(1 << 20)),
        large_client_header_buffers: Setting::default_value((4, Bytes(8 << 10))),
        uwsgi_request_buffering: Setting::default_value(true),
        proxy_request_buffering: Setting::default_value(true),
        server: None,
    };
    let mut scope = scope;
    own_settings(&config.directives, &mut scope, &mut m);
    walk(&config.directives, scope, &mut m);
    m
}

/// Apply the directives of one block to its scope (Nginx merges a level's
/// own settings regardless of where in the block they stand).
fn own_settings(ds: &[Directive], scope: &mut Scope, m: &mut Model) {
    for d in ds {
        let arg = first_arg(d).unwrap_or_default();
        let span = Some(d.span);
        let file = d.file;
        let mut bad = false;
        match d.name.value.as_str() {
            "uwsgi_read_timeout" | "proxy_read_timeout" => match units::time(arg) {
                Some(t) => {
                    let slot = if d.name.value == "uwsgi_read_timeout" {
                        &mut scope.uwsgi_read_timeout
                    } else {
                        &mut scope.proxy_read_timeout
                    };
                    *slot = Setting {
                        value: t,
                        from: span,
                        file,
                        unknown: false,
                    };
                }
                None => bad = true,
            },
            "client_max_body_size" => match units::size(arg) {
                Some(b) => {
                    scope.client_max_body_size = Setting {
                        value: b,
                        from: span,
                        file,
                        unknown: false,
                    }
                }
                None => bad = true,
            },
            "uwsgi_request_buffering" | "proxy_request_buffering" => {
                let on = match arg {
                    "on" => Some(true),
                    "off" => Some(false),
                    _ => None,
                };
                let slot = if d.name.value == "uwsgi_request_buffering" {
                    &mut scope.uwsgi_request_buffering
                } else {
                    &mut scope.proxy_request_buffering
                };
                match on {
                    Some(v) => {
                        *slot = Setting {
                            value: v,
                            from: span,
                            file,
                            unknown: false,
                        }
                    }
                    // A template placeholder or a typo: known to be set, not to what.
                    None => slot.mark_unknown(span, file),
                }
            }
            "large_client_header_buffers" => {
                let n = arg.parse::<u32>().ok();
                let size = d.args.get(1).and_then(|a| units::size(&a.value));
                match (n, size) {
                    (Some(n), Some(s)) => {
                        scope.large_client_header_buffers = Setting {
                            value: (n, s),
                            from: span,
                            file,
                            unknown: false,
                        }
                    }
                    _ => bad = true,
                }
            }
            _ => {}
        }
        if bad && d.args.iter().any(|a| a.value.contains('$')) {
            // A template placeholder: known to be set, not to what.
            match d.name.value.as_str() {
                "uwsgi_read_timeout" => scope.uwsgi_read_timeout.mark_unknown(span, file),
                "proxy_read_timeout" => scope.proxy_read_timeout.mark_unknown(span, file),
                "client_max_body_size" => scope.client_max_body_size.mark_unknown(span, file),
                _ => scope.large_client_header_buffers.mark_unknown(span, file),
            }
        } else if bad {
            m.unreadable.push((d.name.value.clone(), d.file, d.span));
        }
    }
}

/// Visit one block whose own settings are already in `scope`.
fn walk(ds: &[Directive], scope: Scope, m: &mut Model) {
    for d in ds {
        match (d.name.value.as_str(), &d.block) {
            ("worker_processes", None) => {
                let arg = first_arg(d).unwrap_or_default();
                m.worker_processes = Setting {
                    value: match arg {
                        "auto" => WorkerProcesses::Auto,
                        n => match n.parse() {
                            Ok(n) => WorkerProcesses::Count(n),
                            Err(_) => {
                                m.unreadable.push((d.name.value.clone(), d.file, d.span));
                                continue;
                            }
                        },
                    },
                    from: Some(d.span),
                    file: d.file,
                    unknown: false,
                };
            }
            ("upstream", Some(block)) => {
                let servers = block
                    .iter()
                    .filter(|s| s.name.value == "server")
                    .filter_map(|s| {
                        s.args.first().map(|a| {
                            // An upstream server without a port is on port 80.
                            let t = match parse_target(&a.value) {
                                Target::Host { host, port: None } => Target::Host {
                                    host,
                                    port: Some(80),
                                },
                                t => t,
                            };
                            (t, a.span)
                        })
                    })
                    .collect();
                m.upstreams.push(Upstream {
                    name: first_arg(d).unwrap_or_default().to_string(),
                    servers,
                    span: d.span,
                    file: d.file,
                });
            }
            ("server", Some(block)) => {
                let mut inner = scope.clone();
                own_settings(block, &mut inner, m);
                m.servers.push(Server {
                    span: d.span,
                    file: d.file,
                    server_names: block
                        .iter()
                        .filter(|x| x.name.value == "server_name")
                        .flat_map(|x| x.args.iter().map(|a| a.value.clone()))
                        .collect(),
                    large_client_header_buffers: inner.large_client_header_buffers.clone(),
                });
                inner.server = Some(m.servers.len() - 1);
                walk(block, inner, m);
            }
            ("location", Some(block)) => {
                let mut inner = scope.clone();
                own_settings(block, &mut inner, m);
                let pass = block.iter().find_map(|x| {
                    let kind = match x.name.value.as_str() {
                        "uwsgi_pass" => PassKind::Uwsgi,
                        "proxy_pass" => PassKind::Proxy,
                        _ => return None,
                    };
                    let a = x.args.first()?;
                    Some(Pass {
                        kind,
                        raw: a.value.clone(),
                        target: parse_target(&a.value),
                        span: x.span,
                        file: x.file,
                    })
                });
                m.locations.push(Location {
                    server: inner.server,
                    path: d
                        .args
                        .iter()
                        .map(|a| a.value.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    span: d.span,
                    file: d.file,
                    pass,
                    uwsgi_read_timeout: inner.uwsgi_read_timeout.clone(),
                    proxy_read_timeout: inner.proxy_read_timeout.clone(),
                    client_max_body_size: inner.client_max_body_size.clone(),
                    uwsgi_request_buffering: inner.uwsgi_request_buffering.clone(),
                    proxy_request_buffering: inner.proxy_request_buffering.clone(),
                    proxy_directives: block
                        .iter()
                        .filter(|x| x.block.is_none())
                        .filter(|x| {
                            x.name.value.starts_with("proxy_") && x.name.value != "proxy_pass"
                        })
                        .map(|x| (x.name.value.clone(), x.file, x.span))
                        .collect(),
                });
                // Nested locations inherit from this one.
                walk(block, inner, m);
            }
            (_, Some(block)) => {
                let mut inner = scope.clone();
                own_settings(block, &mut inner, m);
                walk(block, inner, m);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nginx::syntax::parse;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("unix:/run/app.sock"),
            Target::Unix("/run/app.sock".into())
        );
        assert_eq!(
            parse_target("unix:///tmp/app.sock"),
            Target::Unix("/tmp/app.sock".into())
        );
        assert_eq!(
            parse_target("http://backend:8000/api/"),
            Target::Host {
                host: "backend".into(),
                port: Some(8000)
            }
        );
        assert_eq!(
            parse_target("uwsgi://[::1]:3031"),
            Target::Host {
                host: "::1".into(),
                port: Some(3031)
            }
        );
        assert_eq!(
            parse_target("django"),
            Target::Host {
                host: "django".into(),
                port: None
            }
        );
        assert_eq!(parse_target("http://$backend"), Target::Dynamic);
        assert_eq!(
            parse_target("http://unix:/run/gunicorn.sock:/api/"),
            Target::Unix("/run/gunicorn.sock".into())
        );
    }

    #[test]
    fn inheritance_and_defaults() {
        let src = b"worker_processes auto;\nhttp {\n  uwsgi_read_timeout 120s;\n  client_max_body_size 20m;\n  upstream app { server 127.0.0.1:3031; server unix:/run/a.sock backup; }\n  server {\n    large_client_header_buffers 4 16k;\n    location / { uwsgi_pass app; }\n    location /upload { client_max_body_size 100m; uwsgi_read_timeout 1h; uwsgi_pass app;\n      location /upload/big { uwsgi_pass app; }\n    }\n    location /api { proxy_pass http://api:8000; }\n  }\n}\n";
        let m = build(&parse(src));
        assert_eq!(m.worker_processes.value, WorkerProcesses::Auto);
        assert_eq!(m.upstreams[0].name, "app");
        assert_eq!(m.upstreams[0].servers.len(), 2);
        assert_eq!(
            m.servers[0].large_client_header_buffers.value,
            (4, Bytes(16 << 10))
        );
        let root = &m.locations[0];
        assert_eq!(root.path, "/");
        assert_eq!(root.uwsgi_read_timeout.value, Duration::from_secs(120));
        assert!(root.uwsgi_read_timeout.from.is_some());
        assert_eq!(root.client_max_body_size.value, Bytes(20 << 20));
        let upload = &m.locations[1];
        assert_eq!(upload.uwsgi_read_timeout.value, Duration::from_secs(3600));
        let big = &m.locations[2];
        assert_eq!(big.path, "/upload/big");
        assert_eq!(big.client_max_body_size.value, Bytes(100 << 20));
        let api = &m.locations[3];
        assert_eq!(api.pass.as_ref().unwrap().kind, PassKind::Proxy);
        assert_eq!(api.proxy_read_timeout.value, Duration::from_secs(60));
        assert!(api.proxy_read_timeout.from.is_none());
        assert_eq!(api.server, Some(0));
    }

    #[test]
    fn unreadable_values_are_reported_once() {
        let m = build(&parse(
            b"http { server { location / { uwsgi_read_timeout soon; } } }",
        ));
        assert_eq!(m.unreadable.len(), 1);
        assert_eq!(
            m.locations[0].uwsgi_read_timeout.value,
            Duration::from_secs(60)
        );
    }

    #[test]
    fn defaults_without_anything() {
        let m = build(&parse(
            b"server { location / { uwsgi_pass 127.0.0.1:3031; } }",
        ));
        assert_eq!(m.worker_processes.value, WorkerProcesses::Count(1));
        assert!(m.worker_processes.from.is_none());
        assert_eq!(m.locations[0].client_max_body_size.value, Bytes(1 << 20));
        assert_eq!(
            m.servers[0].large_client_header_buffers.value,
            (4, Bytes(8192))
        );
    }
}
