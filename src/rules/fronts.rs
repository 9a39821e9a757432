//! The fronts of a config in one shape, whatever product they are: Nginx
//! locations (as UW301 reads them) and the fronts that are not Nginx
//! (`container::front`: AWS load balancers, Ingresses, Traefik) linked to
//! the container that runs it. UW402, UW404, UW408 and `advise` read this
//! shape; the Nginx-specific rules keep their own path.

use crate::deployment::{Addr, Protocol, Socket};
use crate::diagnostic::{Diagnostic, Related};
use crate::model::IniContext;
use crate::source::{FileId, Span};

/// A number a front is configured with, as messages show it, and where it
/// is written (`None`: the product's default).
#[derive(Debug, Clone)]
pub struct Value {
    pub value: u64,
    pub shown: String,
    pub at: Option<Related>,
}

/// One front of a config.
#[derive(Debug, Clone)]
pub struct FrontView {
    /// An Nginx location (UW301, UW402 and UW404 read it on their own path).
    pub nginx: bool,
    /// "the ALB `aws_lb.web`", "Nginx".
    pub who: String,
    /// How long it waits for the response (seconds).
    pub timeout: Option<Value>,
    /// The largest body it passes (bytes, 0 = no limit).
    pub body_limit: Option<Value>,
    /// The protocol it speaks to uWSGI (`HTTP`, `uwsgi` for `uwsgi_pass`).
    pub protocol: String,
    pub protocol_at: Option<Related>,
    /// The socket of this config it reaches, when found.
    pub socket: Option<Socket>,
    /// Where it names the container (the evidence of the link).
    pub target_at: Option<Related>,
}

impl IniContext<'_> {
    /// The fronts that are not Nginx linked to the container running this
    /// config.
    pub fn other_fronts(&self) -> Vec<FrontView> {
        let Some(dep) = self.deployment else {
            return Vec::new();
        };
        let mine = self.sockets();
        let related =
            |p: &Option<crate::container::Place>| p.as_ref().and_then(|p| self.project.related(p));
        dep.fronts
            .iter()
            .map(|l| {
                let f = &l.front;
                let value = |s: &crate::container::front::Setting| Value {
                    value: s.value,
                    shown: s.shown.clone(),
                    at: related(&s.place),
                };
                FrontView {
                    nginx: false,
                    who: f.who.clone(),
                    timeout: f.timeout.as_ref().map(value),
                    body_limit: f.body_limit.as_ref().map(value),
                    protocol: f.protocol.clone(),
                    protocol_at: related(&f.protocol_place),
                    socket: reached(mine, l.port),
                    target_at: self.project.related(&f.target_place),
                }
            })
            .collect()
    }

    /// Every front of this config with a known timeout: the Nginx
    /// locations that pass to it (their read timeout) and the others.
    pub fn front_timeouts(&self) -> Vec<FrontView> {
        let mine = self.sockets();
        let mut out = Vec::new();
        for f in self.fronts() {
            let Some(socket) = self.reached_socket(&f, mine) else {
                continue;
            };
            let (name, s, protocol) = match f.pass.kind {
                crate::nginx::model::PassKind::Uwsgi => (
                    "uwsgi_read_timeout",
                    &f.location.uwsgi_read_timeout,
                    "uwsgi",
                ),
                crate::nginx::model::PassKind::Proxy => {
                    ("proxy_read_timeout", &f.location.proxy_read_timeout, "HTTP")
                }
            };
            if s.unknown {
                continue;
            }
            let secs = s.value.as_secs();
            let at = match s.from {
                Some(span) => self.nginx_at(f.conf, s.file, span),
                None => self.nginx_at(f.conf, f.pass.file, f.pass.span),
            };
            out.push(FrontView {
                nginx: true,
                who: "Nginx".into(),
                timeout: Some(Value {
                    value: secs,
                    shown: if s.from.is_some() {
                        format!("`{name} {secs}s`")
                    } else {
                        format!("`{name}` (default {secs} s)")
                    },
                    at: at.map(|(file, span)| Related {
                        file,
                        span,
                        message: format!("gives up after {secs} s"),
                    }),
                }),
                body_limit: None,
                protocol: protocol.into(),
                protocol_at: None,
                socket: Some(socket),
                target_at: None,
            });
        }
        out.extend(
            self.other_fronts()
                .into_iter()
                .filter(|f| f.timeout.is_some()),
        );
        out
    }

    /// The key of the entry that binds `socket`.
    pub fn socket_anchor(&self, socket: &Socket) -> (FileId, Span) {
        self.resolved
            .entries
            .iter()
            .rev()
            .find(|e| {
                e.def().is_some_and(|d| d.name == socket.option) && e.value_str() == socket.raw
            })
            .and_then(|e| self.spans(e))
            .map_or_else(|| self.anchor(&socket.option), |(f, k, _)| (f, k))
    }
}

/// The socket a front reaches: the TCP socket on its port, or, with no
/// port known, the only TCP socket — one other machines can reach (not
/// bound to loopback).
fn reached(sockets: &[Socket], port: Option<u16>) -> Option<Socket> {
    let reachable = |s: &&Socket| match &s.addr {
        Addr::Tcp { host, .. } => !matches!(host.as_str(), "127.0.0.1" | "localhost" | "::1"),
        Addr::Unix(_) => false,
    };
    let mut tcp = sockets.iter().filter(reachable);
    match port {
        Some(p) => tcp
            .find(|s| matches!(&s.addr, Addr::Tcp { port, .. } if *port == p))
            .cloned(),
        None => {
            let first = tcp.next()?;
            tcp.next().is_none().then(|| first.clone())
        }
    }
}

/// UW402 for fronts that are not Nginx: they speak HTTP (or HTTPS, gRPC),
/// never the uwsgi protocol a `socket` speaks.
pub fn protocol_mismatch(ctx: &IniContext, rule: &super::Rule, out: &mut Vec<Diagnostic>) {
    for f in ctx.other_fronts() {
        let Some(s) = f.socket.as_ref().filter(|s| s.protocol == Protocol::Uwsgi) else {
            continue;
        };
        let mut d = rule.at(
            ctx.socket_anchor(s),
            format!(
                "{} speaks {} to `{} = {}`, which expects the uwsgi protocol: every request fails (the front answers 502)",
                f.who, f.protocol, s.option, s.raw
            ),
        );
        d.related.extend(f.target_at.clone());
        d.related.extend(f.protocol_at.clone());
        d.help = Some(format!(
            "bind it with `http-socket = {}` (HTTP), keeping the port the front uses",
            s.raw
        ));
        out.push(d);
    }
}

/// UW404 for fronts that are not Nginx: a body limit they state above
/// `limit-post` (a front that sets none is left alone: uWSGI's is the
/// only limit then, as intended).
pub fn body_size_mismatch(
    ctx: &IniContext,
    rule: &super::Rule,
    limit: u64,
    out: &mut Vec<Diagnostic>,
) {
    for f in ctx.other_fronts() {
        let Some(b) = &f.body_limit else { continue };
        let front = if b.value == 0 { u64::MAX } else { b.value };
        if front <= limit {
            continue;
        }
        let size = if b.value == 0 {
            "any size".to_string()
        } else {
            format!("up to {}", crate::units::Bytes(b.value))
        };
        let mut d = rule.at(
            ctx.anchor("limit-post"),
            format!(
                "{} accepts request bodies {size} ({}) but uWSGI's `limit-post` is {limit} bytes: uploads in between pass the front and then fail in uWSGI",
                f.who, b.shown
            ),
        );
        d.related.extend(b.at.clone());
        d.related.extend(f.target_at.clone());
        d.help = Some("make the front's body limit and `limit-post` the same size".into());
        out.push(d);
        return;
    }
}
