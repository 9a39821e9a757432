//! Kubernetes manifests: pod templates of every workload kind, with their
//! containers' resources, commands, ports and grace period; the Services
//! that name pods, and the Ingresses in front of them.

use std::path::PathBuf;

use super::{Candidate, ReadContext, Reader, configmap, is_yaml, yaml_parsed};
use crate::container::kubernetes;
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
        // Parsed in parallel; a Helm template is not parsed.
        let parsed = cx.read_parsed(files, |_, text| {
            (!kubernetes::is_helm_template(text)).then(|| crate::container::yaml::parse(text))
        });
        for super::Parsed {
            path: f,
            id,
            text,
            value,
        } in parsed
        {
            let Some(docs) = value else {
                cx.not_read(id,
                    Span::new(0, text.find('\n').unwrap_or(text.len())),
                    "a template (`{{ … }}` placeholders: Helm, Jinja) is YAML only once rendered: its containers and limits are not read (lint the rendered output, e.g. of `helm template`)".into(),
                );
                continue;
            };
            let Some(docs) = yaml_parsed(cx, id, &text, docs) else {
                continue;
            };
            if docs.iter().any(kubernetes::is_manifest) {
                let (cs, problems) = kubernetes::containers(f, &docs);
                cx.project.containers.extend(cs);
                for p in problems {
                    cx.problem("UW001", id, p.span, p.value);
                }
            }
            services.extend(kubernetes::services(&docs));
            // Ingresses and IngressRoutes: fronts of the Services they name.
            cx.project
                .fronts
                .extend(crate::container::ingress::fronts(f, &docs));
            let entries = kubernetes::config_map_entries(&docs);
            for name in configmap::read(cx, f, id, &text, &entries, &|_| false) {
                defined.push((name, f.clone()));
            }
        }
        configmap::resolve_mounts(&mut cx.project.containers[first..], &defined);
        // A Service names the pods it selects (in any manifest read).
        kubernetes::apply_services(&mut cx.project.containers[first..], &services);
    }
}
