//! Kubernetes manifests: pod templates of every workload kind, with their
//! containers' resources, commands, ports and grace period; the Services
//! that name pods, and the Ingresses in front of them.

use std::path::{Path, PathBuf};

use super::{Candidate, ReadContext, Reader, configmap, is_yaml, yaml_parsed};
use crate::container::front::Front;
use crate::container::kubernetes;
use crate::container::yaml::Node;
use crate::container::{At, Container};
use crate::source::Span;

pub struct Manifests;

impl Reader for Manifests {
    fn name(&self) -> &'static str {
        "kubernetes"
    }

    fn claims(&self, file: &Candidate) -> bool {
        is_yaml(file) && file.str().contains("apiVersion:")
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        let first = cx.project.containers.len();
        let mut defined = Vec::new();
        let mut services = Vec::new();
        // Parsed and read in parallel; a Helm template is not parsed. Only
        // what is kept leaves the thread: the documents of a thousand
        // manifests held at once would outweigh the whole project.
        let parsed = cx.read_parsed(files, |f, text| {
            (!kubernetes::is_helm_template(text))
                .then(|| crate::container::yaml::parse(text).map(|docs| Found::of(f, docs)))
        });
        for super::Parsed {
            path: f,
            id,
            text,
            value,
        } in parsed
        {
            let Some(found) = value else {
                cx.not_read(id,
                    Span::new(0, text.find('\n').unwrap_or(text.len())),
                    "a template (`{{ … }}` placeholders: Helm, Jinja) is YAML only once rendered: its containers and limits are not read (lint the rendered output, e.g. of `helm template`)".into(),
                );
                continue;
            };
            let Some(found) = yaml_parsed(cx, id, &text, found) else {
                continue;
            };
            if let Some((cs, problems)) = found.containers {
                cx.project.containers.extend(cs);
                for p in problems {
                    cx.problem("UW001", id, p.span, p.value);
                }
            }
            services.extend(found.services);
            // Ingresses and IngressRoutes: fronts of the Services they name.
            cx.project.fronts.extend(found.fronts);
            if let Some(docs) = found.config_maps {
                let entries = kubernetes::config_map_entries(&docs);
                for name in configmap::read(cx, f, id, &text, &entries, &|_| false) {
                    defined.push((name, f.clone()));
                }
            }
        }
        configmap::resolve_mounts(&mut cx.project.containers[first..], &defined);
        // A Service names the pods it selects (in any manifest read).
        kubernetes::apply_services(&mut cx.project.containers[first..], &services);
    }
}

/// What one manifest holds.
struct Found {
    /// Its workloads' containers, when it has any, and what was wrong.
    containers: Option<(Vec<Container>, Vec<At<String>>)>,
    services: Vec<kubernetes::Service>,
    fronts: Vec<Front>,
    /// The documents, kept only when they hold ConfigMap entries.
    config_maps: Option<Vec<Node>>,
}

impl Found {
    fn of(f: &Path, docs: Vec<Node>) -> Found {
        let containers = docs
            .iter()
            .any(kubernetes::is_manifest)
            .then(|| kubernetes::containers(f, &docs));
        let services = kubernetes::services(&docs);
        let fronts = crate::container::ingress::fronts(f, &docs);
        let config_maps = (!kubernetes::config_map_entries(&docs).is_empty()).then_some(docs);
        Found {
            containers,
            services,
            fronts,
            config_maps,
        }
    }
}
