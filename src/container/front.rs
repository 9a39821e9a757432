//! Fronts that are not Nginx: an AWS load balancer, a Kubernetes Ingress,
//! Traefik. Every reader turns its product into one [`Front`] shape — what
//! kind it is, how long it waits for a response, the largest request body
//! it lets through, the protocol it speaks to the backend, and where each
//! is written — so linking and the rules read one model, not one code path
//! per product.

use std::path::PathBuf;

use super::Place;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrontKind {
    /// An AWS Application Load Balancer (`aws_lb`, `AWS::ElasticLoadBalancingV2::LoadBalancer`).
    Alb,
    /// A Classic Load Balancer with an HTTP listener (`aws_elb`).
    ClassicElb,
    /// An Ingress served by an Nginx-based controller (ingress-nginx, or
    /// NGINX Inc.'s): its annotations set the proxy's timeouts and body size.
    IngressNginx,
    /// An Ingress of another or unknown controller: it speaks HTTP, its
    /// timeouts are not known here.
    Ingress,
    /// Traefik, configured by labels or an `IngressRoute`.
    Traefik,
}

impl FrontKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FrontKind::Alb => "alb",
            FrontKind::ClassicElb => "elb",
            FrontKind::IngressNginx => "ingress-nginx",
            FrontKind::Ingress => "ingress",
            FrontKind::Traefik => "traefik",
        }
    }
}

/// A number a front is configured with (seconds or bytes), where it is
/// written, or the product's default (`place` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: u64,
    /// How messages name it: "`idle_timeout = 60`", "`idle_timeout` (default 60 s)".
    pub shown: String,
    pub place: Option<Place>,
}

impl Setting {
    pub fn written(value: u64, shown: String, place: Place) -> Self {
        Setting {
            value,
            shown,
            place: Some(place),
        }
    }

    pub fn default(value: u64, shown: String) -> Self {
        Setting {
            value,
            shown,
            place: None,
        }
    }
}

/// What a front routes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An ECS container by name (the service's `load_balancer` block), in
    /// one of these task definitions (label, logical id or family; empty
    /// when not known).
    Ecs {
        container: String,
        port: Option<u16>,
        tasks: Vec<String>,
        /// The container is defined in this file, or in a file directly in
        /// this directory (a Terraform module): a service names a task of
        /// its own template or module.
        within: Option<PathBuf>,
    },
    /// A host name other containers reach a container by (a Kubernetes
    /// Service), the port asked on it, and the namespace it is asked in.
    Host {
        host: String,
        port: Option<u16>,
        namespace: Option<String>,
    },
    /// A container of a file by name (Compose labels on the service itself).
    Container {
        file: PathBuf,
        name: String,
        port: Option<u16>,
    },
}

/// One front and the backend it routes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Front {
    pub kind: FrontKind,
    /// How messages name it: "the ALB `aws_lb.web`", "the Ingress `shop`".
    pub who: String,
    /// Where it is defined.
    pub place: Place,
    /// How long it waits for the backend's response before giving up
    /// (idle timeout, proxy read timeout); `None` when not known or none.
    pub timeout: Option<Setting>,
    /// The largest request body it passes (bytes, 0 = no limit); `None`
    /// when it sets none.
    pub body_limit: Option<Setting>,
    /// The protocol it speaks to the backend (`HTTP`, `HTTPS`, `GRPC` …;
    /// never uwsgi).
    pub protocol: String,
    pub protocol_place: Option<Place>,
    /// A target group's deregistration delay (seconds), shown by `check -v`.
    pub deregistration_delay: Option<Setting>,
    pub target: Target,
    /// Where the target is named (an ECS service's `load_balancer` block,
    /// an Ingress backend): the evidence of the link.
    pub target_place: Place,
    /// The chain read to get here: "listener `aws_lb_listener.http` → target group `…`".
    pub via: String,
}

/// A front linked to a deployment, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    /// The front (a copy: a deployment says all it is linked to).
    pub front: Front,
    pub why: String,
    /// The container port it reaches, when known.
    pub port: Option<u16>,
}

/// A Go duration (`30s`, `1m30s`) or a bare number of seconds, as Traefik
/// reads its timeouts.
pub fn go_duration_seconds(s: &str) -> Option<u64> {
    super::compose::duration_seconds(s)
}
