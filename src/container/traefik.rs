//! Traefik in front of Compose services, configured by labels on the
//! service it routes to (`traefik.http.routers.…`, `traefik.http.services.
//! NAME.loadbalancer.server.port`), with the timeout it waits for a
//! response from its static configuration on the Traefik service's command
//! line (`--serverstransport.forwardingtimeouts.responseheadertimeout=30s`;
//! Traefik's default is 0: it waits as long as it takes) and a body limit
//! from a `buffering` middleware the router uses (`maxRequestBodyBytes`;
//! none by default).

use std::path::Path;

use super::Place;
use super::front::{Front, FrontKind, Setting, Target, go_duration_seconds};
use super::yaml::{Node, Value};

const RESPONSE_HEADER_TIMEOUT: &str = "--serverstransport.forwardingtimeouts.responseheadertimeout";

/// The Traefik fronts of a Compose file.
pub fn fronts(file: &Path, doc: &Node) -> Vec<Front> {
    let Some(services) = doc.get("services") else {
        return Vec::new();
    };
    let place = |n: &Node, message: String| Place {
        file: file.to_path_buf(),
        span: n.span,
        message,
    };
    // The Traefik service's response timeout, and every label of the file
    // (middlewares are defined on any service).
    let mut timeout: Option<Setting> = None;
    let mut all_labels: Vec<(String, String, &Node)> = Vec::new();
    for (_, svc) in services.entries() {
        if svc
            .get("image")
            .and_then(Node::as_str)
            .is_some_and(|i| i.contains("traefik"))
        {
            for arg in svc.get("command").map(Node::as_seq).unwrap_or_default() {
                let Some(a) = arg.as_str() else { continue };
                let Some((k, v)) = a.split_once('=') else {
                    continue;
                };
                if k.trim().eq_ignore_ascii_case(RESPONSE_HEADER_TIMEOUT)
                    && let Some(s) = go_duration_seconds(v)
                    && s > 0
                {
                    timeout = Some(Setting::written(
                        s,
                        format!("`responseheadertimeout={}`", v.trim()),
                        place(arg, format!("waits {s} s for a response")),
                    ));
                }
            }
        }
        all_labels.extend(labels(svc));
    }
    // Middlewares' body limits by name, once (not a scan per use).
    let mut limits: std::collections::HashMap<&str, (u64, &Node)> =
        std::collections::HashMap::new();
    for (k, v, n) in &all_labels {
        let Some((name, key)) = k
            .strip_prefix("traefik.http.middlewares.")
            .and_then(|r| r.split_once('.'))
        else {
            continue;
        };
        if key.eq_ignore_ascii_case("buffering.maxRequestBodyBytes")
            && let Ok(b) = v.trim().parse::<u64>()
        {
            limits.insert(name, (b, *n));
        }
    }
    let middleware_body = |m: &str| {
        limits
            .get(m.trim().split('@').next().unwrap_or(""))
            .copied()
    };
    let mut out = Vec::new();
    for (key, svc) in services.entries() {
        let Some(name) = key.scalar_text() else {
            continue;
        };
        let ls = labels(svc);
        let get = |want: &str| ls.iter().find(|(k, _, _)| k == want);
        if get("traefik.enable").is_some_and(|(_, v, _)| v.trim() == "false") {
            continue;
        }
        let http: Vec<_> = ls
            .iter()
            .filter(|(k, _, _)| k.starts_with("traefik.http."))
            .collect();
        if http.is_empty() && get("traefik.enable").is_none_or(|(_, v, _)| v.trim() != "true") {
            continue;
        }
        let suffix = |s: &str| {
            http.iter().find(|(k, _, _)| {
                k.strip_prefix("traefik.http.services.")
                    .and_then(|r| r.split_once('.'))
                    .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(s))
            })
        };
        let port =
            suffix("loadbalancer.server.port").and_then(|(_, v, _)| v.trim().parse::<u16>().ok());
        let scheme = suffix("loadbalancer.server.scheme");
        let body = http
            .iter()
            .filter(|(k, _, _)| {
                k.starts_with("traefik.http.routers.") && k.ends_with(".middlewares")
            })
            .flat_map(|(_, v, _)| v.split(',').filter_map(middleware_body).collect::<Vec<_>>())
            .next()
            .map(|(b, n)| {
                Setting::written(
                    b,
                    format!("`buffering.maxRequestBodyBytes={b}`"),
                    place(n, "the body limit of its buffering middleware".into()),
                )
            });
        let anchor = http.first().map_or(key, |(_, _, n)| *n);
        out.push(Front {
            kind: FrontKind::Traefik,
            who: format!("Traefik (labels of `{name}`)"),
            place: place(anchor, "Traefik labels".into()),
            timeout: timeout.clone(),
            body_limit: body,
            protocol: scheme.map_or("HTTP".into(), |(_, v, _)| v.trim().to_ascii_uppercase()),
            protocol_place: scheme
                .map(|(_, _, n)| place(n, "the protocol it speaks to the service".into())),
            deregistration_delay: None,
            target: Target::Container {
                file: file.to_path_buf(),
                name: name.clone(),
                port,
            },
            target_place: place(
                suffix("loadbalancer.server.port").map_or(anchor, |(_, _, n)| *n),
                format!(
                    "routes to `{name}`{}",
                    port.map(|p| format!(" port {p}")).unwrap_or_default()
                ),
            ),
            via: format!("labels of service `{name}`"),
        });
    }
    out
}

/// A service's labels as `(key, value, node)`: a map, or a list of `k=v`.
fn labels(svc: &Node) -> Vec<(String, String, &Node)> {
    let Some(l) = svc.get("labels") else {
        return Vec::new();
    };
    match &l.value {
        Value::Map(m) => m
            .iter()
            .filter_map(|(k, v)| Some((k.scalar_text()?, v.scalar_text().unwrap_or_default(), v)))
            .collect(),
        Value::Seq(items) => items
            .iter()
            .filter_map(|i| {
                let (k, v) = i.as_str()?.split_once('=')?;
                Some((k.trim().to_string(), v.to_string(), i))
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Front> {
        let docs = crate::container::yaml::parse(text).unwrap();
        fronts(Path::new("/p/compose.yaml"), &docs[0])
    }

    #[test]
    fn labels_as_a_map_or_a_list_and_what_is_no_http_front() {
        let f = read(
            "services:\n  proxy:\n    image: traefik:v3\n    command: [\"--serverstransport.forwardingtimeouts.responseheadertimeout=1m30s\"]\n  web:\n    labels:\n      traefik.http.routers.w.rule: Host(`x`)\n      traefik.http.services.w.loadbalancer.server.port: \"8000\"\n  off:\n    labels: [traefik.enable=false, traefik.http.routers.o.rule=Host(`y`)]\n  tcp:\n    labels: [traefik.tcp.routers.t.rule=HostSNI(`*`)]\n  bare:\n    labels: [traefik.enable=true]\n",
        );
        let names: Vec<_> = f
            .iter()
            .map(|f| match &f.target {
                Target::Container { name, port, .. } => (name.as_str(), *port),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(names, [("web", Some(8000)), ("bare", None)]);
        assert_eq!(f[0].timeout.as_ref().map(|t| t.value), Some(90));
        // No buffering middleware: no body limit.
        assert!(f[0].body_limit.is_none());
    }

    #[test]
    fn no_response_timeout_means_none() {
        let f = read(
            "services:\n  proxy:\n    image: traefik:v3\n  web:\n    labels: [traefik.http.routers.w.rule=Host(`x`)]\n",
        );
        assert!(f[0].timeout.is_none());
    }
}
