//! Kubernetes Ingresses (`networking.k8s.io/v1`, and the older
//! `serviceName`/`servicePort` backends) and Traefik `IngressRoute`s as
//! fronts: each backend Service they route to, with what the controller's
//! annotations say of timeouts and body size.
//!
//! Controllers and their documented defaults:
//! - ingress-nginx (`nginx.ingress.kubernetes.io/…`): `proxy-read-timeout`
//!   and `proxy-send-timeout` in seconds (default 60), `proxy-body-size`
//!   as an Nginx size (default `1m`, `0` = unlimited), `backend-protocol`
//!   (`HTTP` default; `HTTPS`, `GRPC`, `GRPCS`, `FCGI`, `AUTO_HTTP` — never
//!   uwsgi);
//! - NGINX Inc.'s controller (`nginx.org/…`): `proxy-read-timeout` as an
//!   Nginx time (default 60s), `client-max-body-size` (default `1m`);
//! - the AWS Load Balancer Controller (`alb.ingress.kubernetes.io/…`): an
//!   ALB, whose idle timeout is `idle_timeout.timeout_seconds` in
//!   `load-balancer-attributes` (default 60 s);
//! - any other (Traefik, GCE …) or an unknown class: an HTTP front whose
//!   timeouts are not known here.

use std::path::Path;

use super::Place;
use super::front::{Front, FrontKind, Setting, Target};
use super::yaml::{Node, Value};

const NGINX: &str = "nginx.ingress.kubernetes.io/";
const NGINX_INC: &str = "nginx.org/";
const ALB: &str = "alb.ingress.kubernetes.io/";

/// The fronts of the Ingresses and IngressRoutes among `docs`.
pub fn fronts(file: &Path, docs: &[Node]) -> Vec<Front> {
    let items = docs.iter().flat_map(|d| {
        if d.get("kind").and_then(Node::as_str) == Some("List") {
            d.get("items")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .collect::<Vec<_>>()
        } else {
            vec![d]
        }
    });
    let mut out = Vec::new();
    for d in items {
        match d.get("kind").and_then(Node::as_str) {
            Some("Ingress") => ingress(file, d, &mut out),
            Some("IngressRoute") => ingress_route(file, d, &mut out),
            _ => {}
        }
    }
    out
}

fn place(file: &Path, n: &Node, message: String) -> Place {
    Place {
        file: file.to_path_buf(),
        span: n.span,
        message,
    }
}

fn ingress(file: &Path, d: &Node, out: &mut Vec<Front>) {
    let name_node = d.at(&["metadata", "name"]);
    let name = name_node.and_then(Node::scalar_text).unwrap_or_default();
    let namespace = d.at(&["metadata", "namespace"]).and_then(Node::scalar_text);
    let annotations: Vec<(&str, &Node)> = d
        .at(&["metadata", "annotations"])
        .map(|a| {
            a.entries()
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?, v)))
                .collect()
        })
        .unwrap_or_default();
    let ann = |key: &str| {
        annotations
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    };
    let class = d
        .at(&["spec", "ingressClassName"])
        .and_then(Node::scalar_text)
        .or_else(|| ann("kubernetes.io/ingress.class").and_then(Node::scalar_text))
        .unwrap_or_default();
    let any = |prefix: &str| annotations.iter().any(|(k, _)| k.starts_with(prefix));
    let who = format!("the Ingress `{name}`");
    let (kind, timeout, body, protocol) =
        if any(ALB) || class == "alb" {
            let idle = ann(&format!("{ALB}load-balancer-attributes")).and_then(|n| {
                let v = n.scalar_text()?;
                let secs = v.split(',').find_map(|kv| {
                    let (k, v) = kv.split_once('=')?;
                    (k.trim() == "idle_timeout.timeout_seconds")
                        .then(|| v.trim().parse::<u64>().ok())?
                })?;
                Some(Setting::written(
                    secs,
                    format!("`idle_timeout.timeout_seconds={secs}`"),
                    place(file, n, format!("idle timeout {secs} s")),
                ))
            });
            let protocol = ann(&format!("{ALB}backend-protocol"));
            (
                FrontKind::Alb,
                Some(idle.unwrap_or_else(|| {
                    Setting::default(60, "the idle timeout (default 60 s)".into())
                })),
                None,
                protocol,
            )
        } else if any(NGINX) || (class.contains("nginx") && !any(NGINX_INC)) {
            let timeout = match ann(&format!("{NGINX}proxy-read-timeout")) {
                Some(n) => n
                    .scalar_text()
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| {
                        Setting::written(
                            s,
                            format!("`proxy-read-timeout: \"{s}\"`"),
                            place(file, n, format!("proxy read timeout {s} s")),
                        )
                    }),
                None => Some(Setting::default(
                    60,
                    "ingress-nginx's `proxy-read-timeout` (default 60 s)".into(),
                )),
            };
            let body = match ann(&format!("{NGINX}proxy-body-size")) {
                Some(n) => n.scalar_text().and_then(|v| {
                    let b = crate::nginx::units::size(&v)?;
                    Some(Setting::written(
                        b.0,
                        format!("`proxy-body-size: {}`", v.trim()),
                        place(file, n, "`proxy-body-size` in effect here".into()),
                    ))
                }),
                None => Some(Setting::default(
                    1 << 20,
                    "ingress-nginx's `proxy-body-size` (default 1m)".into(),
                )),
            };
            (
                FrontKind::IngressNginx,
                timeout,
                body,
                ann(&format!("{NGINX}backend-protocol")),
            )
        } else if any(NGINX_INC) {
            let timeout = match ann(&format!("{NGINX_INC}proxy-read-timeout")) {
                Some(n) => n.scalar_text().and_then(|v| {
                    let s = crate::nginx::units::time(v.trim())?.as_secs();
                    Some(Setting::written(
                        s,
                        format!("`nginx.org/proxy-read-timeout: {}`", v.trim()),
                        place(file, n, format!("proxy read timeout {s} s")),
                    ))
                }),
                None => Some(Setting::default(
                    60,
                    "the NGINX Ingress `proxy-read-timeout` (default 60s)".into(),
                )),
            };
            let body = match ann(&format!("{NGINX_INC}client-max-body-size")) {
                Some(n) => n.scalar_text().and_then(|v| {
                    let b = crate::nginx::units::size(&v)?;
                    Some(Setting::written(
                        b.0,
                        format!("`nginx.org/client-max-body-size: {}`", v.trim()),
                        place(file, n, "`client-max-body-size` in effect here".into()),
                    ))
                }),
                None => Some(Setting::default(
                    1 << 20,
                    "the NGINX Ingress `client-max-body-size` (default 1m)".into(),
                )),
            };
            (FrontKind::IngressNginx, timeout, body, None)
        } else {
            let kind = if class.contains("traefik") {
                FrontKind::Traefik
            } else {
                FrontKind::Ingress
            };
            (kind, None, None, None)
        };
    let (protocol, protocol_place) = match protocol {
        Some(n) => (
            n.scalar_text()
                .unwrap_or_default()
                .trim()
                .to_ascii_uppercase(),
            Some(place(file, n, "the protocol it speaks to the pods".into())),
        ),
        None => ("HTTP".to_string(), None),
    };
    let mut backends: Vec<&Node> = Vec::new();
    for key in [&["spec", "defaultBackend"][..], &["spec", "backend"][..]] {
        backends.extend(d.at(key));
    }
    for r in d
        .at(&["spec", "rules"])
        .map(Node::as_seq)
        .unwrap_or_default()
    {
        for p in r
            .at(&["http", "paths"])
            .map(Node::as_seq)
            .unwrap_or_default()
        {
            backends.extend(p.get("backend"));
        }
    }
    let mut seen: std::collections::HashSet<(String, Option<u16>)> = Default::default();
    for b in backends {
        // v1: `service: {name, port: {number | name}}`; v1beta1:
        // `serviceName`, `servicePort` (a named port is left unknown).
        let (svc, port) = match b.get("service") {
            Some(s) => (
                s.get("name").and_then(Node::scalar_text),
                s.at(&["port", "number"]).and_then(port_number),
            ),
            None => (
                b.get("serviceName").and_then(Node::scalar_text),
                b.get("servicePort").and_then(port_number),
            ),
        };
        let Some(svc) = svc else { continue };
        if !seen.insert((svc.clone(), port)) {
            continue;
        }
        out.push(Front {
            kind,
            who: who.clone(),
            place: place(file, name_node.unwrap_or(d), "Ingress".into()),
            timeout: timeout.clone(),
            body_limit: body.clone(),
            protocol: protocol.clone(),
            protocol_place: protocol_place.clone(),
            deregistration_delay: None,
            target: Target::Host {
                host: svc.clone(),
                port,
                namespace: namespace.clone(),
            },
            target_place: place(
                file,
                b,
                format!(
                    "routes to Service `{svc}`{}",
                    port.map(|p| format!(" port {p}")).unwrap_or_default()
                ),
            ),
            via: format!("backend Service `{svc}`"),
        });
    }
}

/// A Traefik `IngressRoute`: each Service of its routes. Traefik speaks
/// HTTP to it (`scheme` may say `https` or `h2c`); its timeouts live in a
/// `ServersTransport`, not read here.
fn ingress_route(file: &Path, d: &Node, out: &mut Vec<Front>) {
    let name_node = d.at(&["metadata", "name"]);
    let name = name_node.and_then(Node::scalar_text).unwrap_or_default();
    let namespace = d.at(&["metadata", "namespace"]).and_then(Node::scalar_text);
    for r in d
        .at(&["spec", "routes"])
        .map(Node::as_seq)
        .unwrap_or_default()
    {
        for s in r.get("services").map(Node::as_seq).unwrap_or_default() {
            if s.get("kind")
                .and_then(Node::as_str)
                .is_some_and(|k| k != "Service")
            {
                continue;
            }
            let Some(svc) = s.get("name").and_then(Node::scalar_text) else {
                continue;
            };
            let port = s.get("port").and_then(port_number);
            let scheme = s.get("scheme");
            out.push(Front {
                kind: FrontKind::Traefik,
                who: format!("the Traefik IngressRoute `{name}`"),
                place: place(file, name_node.unwrap_or(d), "IngressRoute".into()),
                timeout: None,
                body_limit: None,
                protocol: scheme
                    .and_then(Node::scalar_text)
                    .map_or("HTTP".into(), |v| v.to_ascii_uppercase()),
                protocol_place: scheme
                    .map(|n| place(file, n, "the protocol it speaks to the pods".into())),
                deregistration_delay: None,
                target: Target::Host {
                    host: svc.clone(),
                    port,
                    namespace: s
                        .get("namespace")
                        .and_then(Node::scalar_text)
                        .or_else(|| namespace.clone()),
                },
                target_place: place(
                    file,
                    s,
                    format!(
                        "routes to Service `{svc}`{}",
                        port.map(|p| format!(" port {p}")).unwrap_or_default()
                    ),
                ),
                via: format!("route to Service `{svc}`"),
            });
        }
    }
}

fn port_number(n: &Node) -> Option<u16> {
    match &n.value {
        Value::Int(i) => u16::try_from(*i).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Front> {
        fronts(
            Path::new("/p/ing.yaml"),
            &crate::container::yaml::parse(text).unwrap(),
        )
    }

    #[test]
    fn controllers_and_their_defaults() {
        // ingress-nginx by class, defaults; a named port is left unknown.
        let f = read(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: a, namespace: shop}\nspec:\n  ingressClassName: nginx\n  rules:\n  - http:\n      paths:\n      - backend: {service: {name: web, port: {name: http}}}\n      - backend: {service: {name: web, port: {name: http}}}\n",
        );
        assert_eq!(f.len(), 1, "one front per Service and port");
        assert_eq!(f[0].kind, FrontKind::IngressNginx);
        assert_eq!(
            f[0].timeout.as_ref().map(|t| (t.value, t.place.is_none())),
            Some((60, true))
        );
        assert_eq!(f[0].body_limit.as_ref().map(|b| b.value), Some(1 << 20));
        assert_eq!(
            f[0].target,
            Target::Host {
                host: "web".into(),
                port: None,
                namespace: Some("shop".into())
            }
        );
        // An unparsable timeout is unknown, not the default; `0` body is no limit.
        let f = read(
            "kind: Ingress\nmetadata:\n  name: b\n  annotations:\n    nginx.ingress.kubernetes.io/proxy-read-timeout: 2m\n    nginx.ingress.kubernetes.io/proxy-body-size: \"0\"\n    nginx.ingress.kubernetes.io/backend-protocol: grpc\nspec:\n  backend: {serviceName: web, servicePort: 80}\n",
        );
        assert!(f[0].timeout.is_none());
        assert_eq!(f[0].body_limit.as_ref().map(|b| b.value), Some(0));
        assert_eq!(f[0].protocol, "GRPC");
        assert_eq!(
            f[0].target,
            Target::Host {
                host: "web".into(),
                port: Some(80),
                namespace: None
            }
        );
        // The AWS Load Balancer Controller: an ALB and its attribute.
        let f = read(
            "kind: Ingress\nmetadata:\n  name: c\n  annotations:\n    alb.ingress.kubernetes.io/load-balancer-attributes: deletion_protection.enabled=true,idle_timeout.timeout_seconds=120\nspec:\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n",
        );
        assert_eq!(f[0].kind, FrontKind::Alb);
        assert_eq!(f[0].timeout.as_ref().map(|t| t.value), Some(120));
        assert!(f[0].body_limit.is_none());
        // Another controller: HTTP, nothing known of its timeouts.
        let f = read(
            "kind: Ingress\nmetadata: {name: d}\nspec:\n  ingressClassName: gce\n  defaultBackend: {service: {name: web, port: {number: 80}}}\n",
        );
        assert_eq!(
            (f[0].kind, f[0].timeout.is_none(), f[0].protocol.as_str()),
            (FrontKind::Ingress, true, "HTTP")
        );
    }

    #[test]
    fn ingress_routes_name_their_services() {
        let f = read(
            "apiVersion: traefik.io/v1alpha1\nkind: IngressRoute\nmetadata: {name: r, namespace: shop}\nspec:\n  routes:\n  - match: Host(`x`)\n    services:\n    - {name: web, port: 8000, scheme: h2c}\n    - {name: api@file, kind: TraefikService}\n",
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].kind, FrontKind::Traefik);
        assert_eq!(f[0].protocol, "H2C");
        assert_eq!(
            f[0].target,
            Target::Host {
                host: "web".into(),
                port: Some(8000),
                namespace: Some("shop".into())
            }
        );
    }
}
