//! AWS load balancers in front of ECS containers, from Terraform
//! (`aws_lb`/`aws_alb`, `aws_lb_target_group`, `aws_lb_listener`,
//! `aws_lb_listener_rule`, `aws_elb`, the `load_balancer` block of
//! `aws_ecs_service`) and CloudFormation (the `AWS::ElasticLoadBalancingV2::*`
//! resources, `AWS::ElasticLoadBalancing::LoadBalancer`, the `LoadBalancers`
//! of `AWS::ECS::Service`). Both are read into the same few facts, then
//! followed service → target group → listener → load balancer, by id.
//!
//! Facts (AWS documentation): an ALB's and a Classic Load Balancer's
//! connection idle timeout is 60 s unless set; a target group's
//! deregistration delay is 300 s unless set; an ALB target group speaks
//! HTTP or HTTPS to its targets (TCP, TLS, UDP are Network Load Balancer
//! target groups, which pass bytes and are no HTTP front).

use std::collections::HashMap;
use std::path::PathBuf;

use super::aws::{Tree, Val};
use crate::container::Place;
use crate::container::front::{Front, FrontKind, Setting, Target};
use crate::source::Span;

/// One resource read from a template or a Terraform module.
#[derive(Debug, Clone)]
pub struct Resource {
    pub file: PathBuf,
    /// Ids are unique within a scope: a Terraform module's directory, a
    /// CloudFormation template.
    pub scope: PathBuf,
    /// `aws_lb`, `AWS::ElasticLoadBalancingV2::LoadBalancer` …
    pub kind: String,
    /// `aws_lb.web` (Terraform), the logical id (CloudFormation).
    pub id: String,
    pub tree: Tree,
    pub span: Span,
}

/// Terraform resource types read here.
pub const TERRAFORM_TYPES: &[&str] = &[
    "aws_lb",
    "aws_alb",
    "aws_elb",
    "aws_lb_target_group",
    "aws_alb_target_group",
    "aws_lb_listener",
    "aws_alb_listener",
    "aws_lb_listener_rule",
    "aws_alb_listener_rule",
    "aws_ecs_service",
    "aws_ecs_task_definition",
];

/// CloudFormation types read here.
pub const CLOUDFORMATION_TYPES: &[&str] = &[
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ElasticLoadBalancing::LoadBalancer",
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
];

struct Lb<'a> {
    r: &'a Resource,
    classic: bool,
    idle: Option<(u64, Span, &'static str)>,
    /// A classic ELB: some listener speaks HTTP(S) to the instances.
    http: bool,
}

struct Tg<'a> {
    r: &'a Resource,
    protocol: Option<(String, Span)>,
    dereg: Option<(u64, Span, &'static str)>,
}

struct Attach<'a> {
    r: &'a Resource,
    tg: Option<String>,
    elb: Option<String>,
    container: String,
    port: Option<u16>,
    span: Span,
}

/// The fronts the resources describe.
pub fn fronts(resources: &[Resource]) -> Vec<Front> {
    let mut by_scope: HashMap<&PathBuf, Vec<&Resource>> = HashMap::new();
    for r in resources {
        by_scope.entry(&r.scope).or_default().push(r);
    }
    let mut scopes: Vec<_> = by_scope.into_iter().collect();
    scopes.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = Vec::new();
    for (_, rs) in scopes {
        out.extend(scope_fronts(&rs));
    }
    out
}

fn scope_fronts(rs: &[&Resource]) -> Vec<Front> {
    let mut lbs: HashMap<&str, Lb> = HashMap::new();
    let mut tgs: HashMap<&str, Tg> = HashMap::new();
    // Listener id → (load balancer, target groups).
    let mut listeners: HashMap<&str, (Option<String>, Vec<String>)> = HashMap::new();
    let mut rules: Vec<(Option<String>, Vec<String>)> = Vec::new();
    let mut attaches: Vec<Attach> = Vec::new();
    // Task definition id → its names (id, family).
    let mut families: HashMap<&str, String> = HashMap::new();
    for r in rs {
        let t = &r.tree;
        match r.kind.as_str() {
            "aws_lb" | "aws_alb" => {
                let kind = t.get("load_balancer_type").and_then(text);
                if kind.is_some_and(|k| k != "application") {
                    continue;
                }
                lbs.insert(
                    &r.id,
                    Lb {
                        r,
                        classic: false,
                        idle: number(t.get("idle_timeout")).map(|(v, s)| (v, s, "idle_timeout")),
                        http: true,
                    },
                );
            }
            "aws_elb" => {
                let http = all(t, "listener").any(|l| {
                    l.get("instance_protocol").and_then(text).is_some_and(|p| {
                        p.eq_ignore_ascii_case("http") || p.eq_ignore_ascii_case("https")
                    })
                });
                lbs.insert(
                    &r.id,
                    Lb {
                        r,
                        classic: true,
                        idle: number(t.get("idle_timeout")).map(|(v, s)| (v, s, "idle_timeout")),
                        http,
                    },
                );
            }
            "AWS::ElasticLoadBalancingV2::LoadBalancer" => {
                let kind = t.get("Type").and_then(text);
                if kind.is_some_and(|k| k != "application") {
                    continue;
                }
                lbs.insert(
                    &r.id,
                    Lb {
                        r,
                        classic: false,
                        idle: attribute(
                            t.get("LoadBalancerAttributes"),
                            "idle_timeout.timeout_seconds",
                        )
                        .map(|(v, s)| (v, s, "idle_timeout.timeout_seconds")),
                        http: true,
                    },
                );
            }
            "AWS::ElasticLoadBalancing::LoadBalancer" => {
                let http = items(t.get("Listeners")).any(|l| {
                    l.get("InstanceProtocol").and_then(text).is_some_and(|p| {
                        p.eq_ignore_ascii_case("http") || p.eq_ignore_ascii_case("https")
                    })
                });
                lbs.insert(
                    &r.id,
                    Lb {
                        r,
                        classic: true,
                        idle: number(
                            t.get("ConnectionSettings")
                                .and_then(|c| c.get("IdleTimeout")),
                        )
                        .map(|(v, s)| (v, s, "ConnectionSettings.IdleTimeout")),
                        http,
                    },
                );
            }
            "aws_lb_target_group" | "aws_alb_target_group" => {
                tgs.insert(
                    &r.id,
                    Tg {
                        r,
                        protocol: t
                            .get("protocol")
                            .and_then(|p| Some((text(p)?.to_string(), p.span))),
                        dereg: number(t.get("deregistration_delay"))
                            .map(|(v, s)| (v, s, "deregistration_delay")),
                    },
                );
            }
            "AWS::ElasticLoadBalancingV2::TargetGroup" => {
                tgs.insert(
                    &r.id,
                    Tg {
                        r,
                        protocol: t
                            .get("Protocol")
                            .and_then(|p| Some((text(p)?.to_string(), p.span))),
                        dereg: attribute(
                            t.get("TargetGroupAttributes"),
                            "deregistration_delay.timeout_seconds",
                        )
                        .map(|(v, s)| (v, s, "deregistration_delay.timeout_seconds")),
                    },
                );
            }
            "aws_lb_listener" | "aws_alb_listener" => {
                let lb = t.get("load_balancer_arn").and_then(reference);
                let groups = all(t, "default_action").flat_map(action_groups).collect();
                listeners.insert(&r.id, (lb, groups));
            }
            "AWS::ElasticLoadBalancingV2::Listener" => {
                let lb = t.get("LoadBalancerArn").and_then(reference);
                let groups = items(t.get("DefaultActions"))
                    .flat_map(action_groups)
                    .collect();
                listeners.insert(&r.id, (lb, groups));
            }
            "aws_lb_listener_rule" | "aws_alb_listener_rule" => {
                let l = t.get("listener_arn").and_then(reference);
                rules.push((l, all(t, "action").flat_map(action_groups).collect()));
            }
            "AWS::ElasticLoadBalancingV2::ListenerRule" => {
                let l = t.get("ListenerArn").and_then(reference);
                rules.push((l, items(t.get("Actions")).flat_map(action_groups).collect()));
            }
            "aws_ecs_service" => {
                for b in all(t, "load_balancer") {
                    let Some(container) = b.get("container_name").and_then(text) else {
                        continue;
                    };
                    attaches.push(Attach {
                        r,
                        tg: b.get("target_group_arn").and_then(reference),
                        elb: b.get("elb_name").and_then(reference),
                        container: container.to_string(),
                        port: number(b.get("container_port"))
                            .and_then(|(p, _)| u16::try_from(p).ok()),
                        span: b.span,
                    });
                }
            }
            "AWS::ECS::Service" => {
                for b in items(t.get("LoadBalancers")) {
                    let Some(container) = b.get("ContainerName").and_then(text) else {
                        continue;
                    };
                    attaches.push(Attach {
                        r,
                        tg: b.get("TargetGroupArn").and_then(reference),
                        elb: b.get("LoadBalancerName").and_then(reference),
                        container: container.to_string(),
                        port: number(b.get("ContainerPort"))
                            .and_then(|(p, _)| u16::try_from(p).ok()),
                        span: b.span,
                    });
                }
            }
            "aws_ecs_task_definition" | "AWS::ECS::TaskDefinition" => {
                if let Some(f) = t.get("family").or_else(|| t.get("Family")).and_then(text) {
                    families.insert(&r.id, f.to_string());
                }
            }
            _ => {}
        }
    }
    // Target group → the load balancers whose listeners forward to it.
    let mut tg_lbs: HashMap<String, Vec<String>> = HashMap::new();
    let mut add = |tg: &String, lb: &Option<String>| {
        if let Some(lb) = lb {
            let v = tg_lbs.entry(tg.clone()).or_default();
            if !v.contains(lb) {
                v.push(lb.clone());
            }
        }
    };
    for (lb, groups) in listeners.values() {
        for g in groups {
            add(g, lb);
        }
    }
    for (l, groups) in &rules {
        let lb = l
            .as_deref()
            .and_then(|l| listeners.get(l))
            .and_then(|(lb, _)| lb.clone());
        for g in groups {
            add(g, &lb);
        }
    }
    let mut out = Vec::new();
    for a in &attaches {
        let task =
            a.r.tree
                .get("task_definition")
                .or_else(|| a.r.tree.get("TaskDefinition"))
                .and_then(reference);
        let mut tasks: Vec<String> = Vec::new();
        if let Some(t) = &task {
            // Containers are grouped by family when known, else by the
            // resource's label / logical id.
            tasks.push(t.rsplit('.').next().unwrap_or(t).to_string());
            if let Some(f) = families.get(t.as_str()) {
                tasks.push(f.clone());
            }
        }
        let target = Target::Ecs {
            container: a.container.clone(),
            port: a.port,
            tasks,
            within: Some(a.r.scope.clone()),
        };
        let target_place = Place {
            file: a.r.file.clone(),
            span: a.span,
            message: format!(
                "`{}` routes to container `{}`{}",
                a.r.id,
                a.container,
                a.port.map(|p| format!(" port {p}")).unwrap_or_default()
            ),
        };
        if let Some(tg) = a.tg.as_deref().and_then(|t| tgs.get(t)) {
            // Only an HTTP target group is an HTTP front.
            let Some((protocol, pspan)) = &tg.protocol else {
                continue;
            };
            let protocol = protocol.to_ascii_uppercase();
            if protocol != "HTTP" && protocol != "HTTPS" {
                continue;
            }
            let dereg = Some(match tg.dereg {
                Some((v, s, key)) => Setting::written(
                    v,
                    format!("`{key} = {v}`"),
                    place(tg.r, s, format!("deregistration delay {v} s")),
                ),
                None => Setting::default(300, "the deregistration delay (default 300 s)".into()),
            });
            let protocol_place = Some(place(
                tg.r,
                *pspan,
                format!("speaks {protocol} to the container"),
            ));
            let mut lb_ids: Vec<&String> =
                tg_lbs.get(tg.r.id.as_str()).into_iter().flatten().collect();
            lb_ids.retain(|l| lbs.get(l.as_str()).is_some_and(|lb| !lb.classic));
            let via = format!("target group `{}` of service `{}`", tg.r.id, a.r.id);
            if lb_ids.is_empty() {
                // An HTTP target group is an ALB's, though which one is not
                // found here: its timeout is unknown.
                out.push(Front {
                    kind: FrontKind::Alb,
                    who: format!("the load balancer of target group `{}`", tg.r.id),
                    place: place(tg.r, tg.r.span, "target group".into()),
                    timeout: None,
                    body_limit: None,
                    protocol,
                    protocol_place,
                    deregistration_delay: dereg,
                    target,
                    target_place,
                    via,
                });
                continue;
            }
            for l in lb_ids {
                let lb = &lbs[l.as_str()];
                out.push(Front {
                    kind: FrontKind::Alb,
                    who: format!("the ALB `{}`", lb.r.id),
                    place: place(lb.r, lb.r.span, "load balancer".into()),
                    timeout: Some(idle(lb)),
                    body_limit: None,
                    protocol: protocol.clone(),
                    protocol_place: protocol_place.clone(),
                    deregistration_delay: dereg.clone(),
                    target: target.clone(),
                    target_place: target_place.clone(),
                    via: format!("its listener forwards to {via}"),
                });
            }
        } else if let Some(lb) = a.elb.as_deref().and_then(|e| lbs.get(e)) {
            if !lb.classic || !lb.http {
                continue;
            }
            out.push(Front {
                kind: FrontKind::ClassicElb,
                who: format!("the Classic Load Balancer `{}`", lb.r.id),
                place: place(lb.r, lb.r.span, "load balancer".into()),
                timeout: Some(idle(lb)),
                body_limit: None,
                protocol: "HTTP".into(),
                protocol_place: None,
                deregistration_delay: None,
                target,
                target_place,
                via: format!("named by service `{}`", a.r.id),
            });
        }
    }
    out
}

fn idle(lb: &Lb) -> Setting {
    match lb.idle {
        Some((v, s, key)) => Setting::written(
            v,
            format!("`{key} = {v}`"),
            place(lb.r, s, format!("idle timeout {v} s")),
        ),
        None => Setting::default(60, "the idle timeout (default 60 s)".into()),
    }
}

fn place(r: &Resource, span: Span, message: String) -> Place {
    Place {
        file: r.file.clone(),
        span,
        message,
    }
}

/// A scalar as text.
fn text(t: &Tree) -> Option<&str> {
    match &t.val {
        Val::Str(s) | Val::Num(s) => Some(s.trim()),
        _ => None,
    }
}

/// A whole number written as a number or a string.
fn number(t: Option<&Tree>) -> Option<(u64, Span)> {
    let t = t?;
    text(t)?.parse().ok().map(|n| (n, t.span))
}

/// Every nested block named `key` (Terraform repeats the key).
fn all<'a>(t: &'a Tree, key: &'a str) -> impl Iterator<Item = &'a Tree> {
    let entries = match &t.val {
        Val::Obj(o) => &o[..],
        _ => &[],
    };
    entries
        .iter()
        .filter(move |(k, _)| k == key)
        .flat_map(|(_, v)| match &v.val {
            Val::Arr(a) => a.iter().collect::<Vec<_>>(),
            _ => vec![v],
        })
}

/// The items of a list.
fn items(t: Option<&Tree>) -> impl Iterator<Item = &Tree> {
    let v = match t.map(|t| &t.val) {
        Some(Val::Arr(a)) => &a[..],
        _ => &[],
    };
    v.iter()
}

/// A CloudFormation `[{Key, Value}]` attribute list's number.
fn attribute(list: Option<&Tree>, key: &str) -> Option<(u64, Span)> {
    items(list)
        .filter(|a| a.get("Key").and_then(text) == Some(key))
        .filter_map(|a| number(a.get("Value")))
        .last()
}

/// The target groups an action forwards to (`target_group_arn`, or a
/// weighted `forward` block; `TargetGroupArn`, `ForwardConfig`).
fn action_groups(a: &Tree) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for key in ["target_group_arn", "TargetGroupArn"] {
        out.extend(a.get(key).and_then(reference));
    }
    for f in all(a, "forward") {
        for g in all(f, "target_group") {
            out.extend(g.get("arn").and_then(reference));
        }
    }
    if let Some(f) = a.get("ForwardConfig") {
        for g in items(f.get("TargetGroups")) {
            out.extend(g.get("TargetGroupArn").and_then(reference));
        }
    }
    out
}

/// The resource an unknown value refers to: Terraform `aws_lb.web.arn`
/// (`"${…}"`, `x[0]`) → `aws_lb.web`; CloudFormation `Ref Web`,
/// `!GetAtt Web.Arn` → `Web`.
fn reference(t: &Tree) -> Option<String> {
    let Val::Unknown(e) = &t.val else {
        return None;
    };
    let e = e.trim().trim_matches('"');
    let e = e
        .strip_prefix("${")
        .and_then(|e| e.strip_suffix('}'))
        .unwrap_or(e)
        .trim();
    if let Some(r) = e.strip_prefix("Ref ") {
        return Some(r.trim().to_string());
    }
    if let Some(r) = e.strip_prefix("!GetAtt ") {
        return r.split('.').next().map(|s| s.trim().to_string());
    }
    let mut parts = e.split('.').map(|p| p.split('[').next().unwrap_or(p));
    let (kind, name) = (parts.next()?, parts.next()?);
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    (kind.starts_with("aws_") && ident(kind) && ident(name)).then(|| format!("{kind}.{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(e: &str) -> Tree {
        Tree::new(Val::Unknown(e.into()), Span::default())
    }

    #[test]
    fn references_to_resources() {
        for (e, want) in [
            ("aws_lb.web.arn", Some("aws_lb.web")),
            (
                "\"${aws_lb_target_group.app[0].arn}\"",
                Some("aws_lb_target_group.app"),
            ),
            ("Ref ShopTargets", Some("ShopTargets")),
            ("!GetAtt PublicLB.Arn", Some("PublicLB")),
            ("var.target_group_arn", None),
            ("module.lb.arn", None),
        ] {
            assert_eq!(reference(&unknown(e)).as_deref(), want, "{e}");
        }
    }

    fn resource(kind: &str, id: &str, fields: Vec<(&str, Tree)>) -> Resource {
        Resource {
            file: "/p/main.tf".into(),
            scope: "/p".into(),
            kind: kind.into(),
            id: id.into(),
            tree: Tree::new(
                Val::Obj(
                    fields
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                ),
                Span::default(),
            ),
            span: Span::default(),
        }
    }

    fn s(v: &str) -> Tree {
        Tree::new(Val::Str(v.into()), Span::default())
    }

    #[test]
    fn network_load_balancers_are_no_http_front() {
        let service = |tg: &str| {
            resource(
                "aws_ecs_service",
                "aws_ecs_service.a",
                vec![(
                    "load_balancer",
                    Tree::new(
                        Val::Obj(vec![
                            ("target_group_arn".into(), unknown(&format!("{tg}.arn"))),
                            ("container_name".into(), s("web")),
                        ]),
                        Span::default(),
                    ),
                )],
            )
        };
        let rs = vec![
            resource(
                "aws_lb_target_group",
                "aws_lb_target_group.t",
                vec![("protocol", s("TCP"))],
            ),
            resource(
                "aws_lb_target_group",
                "aws_lb_target_group.h",
                vec![("protocol", s("HTTP"))],
            ),
            service("aws_lb_target_group.t"),
            service("aws_lb_target_group.h"),
        ];
        let f = fronts(&rs);
        assert_eq!(f.len(), 1, "{f:?}");
        // Its load balancer is not found: HTTP, timeout unknown.
        assert!(f[0].timeout.is_none());
        assert_eq!(
            f[0].deregistration_delay.as_ref().map(|d| d.value),
            Some(300)
        );
    }
}
