//! Helm charts: a directory with `Chart.yaml`, its `values.yaml` and the
//! manifests under `templates/`, read without rendering
//! ([`crate::container::helm::mask`]): the literal parts of each template
//! (container names, commands, args, ports, grace period, ConfigMaps), the
//! `resources` its `toYaml .Values.…` puts in from `values.yaml` (findings
//! about limits point there), and a UW004 for what stays unread.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Candidate, ReadContext, Reader, configmap};
use crate::container::helm;
use crate::container::kubernetes;
use crate::container::yaml::Node;
use crate::container::{At, Container};
use crate::source::Span;

pub struct Charts;

/// The chart directory a file belongs to: the directory holding
/// `Chart.yaml` of which it is `Chart.yaml`, `values.yaml` or a template.
fn chart_of(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let dir = path.parent()?;
    if matches!(name, "Chart.yaml" | "values.yaml") {
        return dir.join("Chart.yaml").is_file().then(|| dir.to_path_buf());
    }
    // templates/…/x.yaml: the chart is the parent of `templates`.
    let templates = path
        .ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "templates"))?;
    let chart = templates.parent()?;
    chart
        .join("Chart.yaml")
        .is_file()
        .then(|| chart.to_path_buf())
}

impl Reader for Charts {
    fn name(&self) -> &'static str {
        "helm"
    }

    fn claims(&self, file: &Candidate) -> bool {
        // `.tpl` files hold only `define`s (helpers): nothing to read.
        matches!(file.ext, "yaml" | "yml") && chart_of(file.path).is_some()
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        let mut charts: BTreeMap<PathBuf, Vec<&PathBuf>> = BTreeMap::new();
        for f in files {
            if let Some(c) = chart_of(f) {
                charts.entry(c).or_default().push(f);
            }
        }
        for (dir, files) in charts {
            read_chart(cx, &dir, &files);
        }
    }
}

fn read_chart(cx: &mut ReadContext, dir: &Path, files: &[&PathBuf]) {
    let values_path = dir.join("values.yaml");
    let readable = cx.inside(&values_path);
    let values: Option<Node> = match readable.then(|| cx.read(&values_path)).flatten() {
        Some((id, text)) => super::yaml_documents(cx, id, &text).map(|d| {
            d.into_iter().next().unwrap_or(Node {
                value: crate::container::yaml::Value::Map(Vec::new()),
                span: Span::default(),
            })
        }),
        None => None,
    };
    let first = cx.project.containers.len();
    let mut defined = Vec::new();
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if matches!(name, "Chart.yaml" | "values.yaml") && f.parent() == Some(dir) {
            continue;
        }
        let Some((id, text)) = cx.read(f) else {
            continue;
        };
        let masked = helm::mask(&text, values.as_ref());
        let docs = match crate::container::yaml::parse(&masked.text) {
            Ok(d) => d,
            Err(e) => {
                cx.not_read(id,
                    e.span,
                    format!("a Helm template whose literal parts are not YAML ({}): its containers and limits are read only once rendered (lint the output of `helm template`)", e.message),
                );
                continue;
            }
        };
        let templated = |s: Span| masked.unknown_in(s);
        if docs.iter().any(kubernetes::is_manifest) {
            let spliced = |c: &Node| -> Option<(PathBuf, Node)> {
                let v = values.as_ref()?;
                let s = masked.splices.iter().find(|s| resources_region(c, s.at))?;
                Some((values_path.clone(), helm::value_at(v, &s.path)?.clone()))
            };
            let (mut cs, problems) = kubernetes::containers_with(f, &docs, &spliced);
            for c in &mut cs {
                forget_templated(c, &templated, &text);
            }
            cx.project.containers.extend(cs);
            for (file, p) in problems {
                let at = match file {
                    Some(v) => cx.ids.get(&v).copied().unwrap_or(id),
                    None => id,
                };
                cx.problem("UW001", at, p.span, p.value);
            }
        }
        let entries = kubernetes::config_map_entries(&docs);
        for name in configmap::read(cx, f, id, &masked.text, &entries, &templated) {
            defined.push((name, f.to_path_buf()));
        }
        if let Some(first) = masked.unread.first() {
            cx.not_read(id,
                *first,
                format!(
                    "Helm: {} part{} of this template {} rendering to read (a `range`, or a condition other than `.Values.x` or `not .Values.x`, which is all uwsgi-lint evaluates): not read; the rest is (lint the output of `helm template` to check all of it)",
                    masked.unread.len(),
                    if masked.unread.len() == 1 { "" } else { "s" },
                    if masked.unread.len() == 1 { "needs" } else { "need" },
                ),
            );
        }
    }
    configmap::resolve_mounts(&mut cx.project.containers[first..], &defined);
}

/// Is `at` inside the `resources:` entry of the container mapping `c`
/// (between its key and the next key)?
fn resources_region(c: &Node, at: usize) -> bool {
    let entries = c.entries();
    let Some(i) = entries
        .iter()
        .position(|(k, _)| k.as_str() == Some("resources"))
    else {
        return false;
    };
    let start = entries[i].0.span.start;
    let end = entries
        .iter()
        .map(|(k, _)| k.span.start)
        .filter(|s| *s > start)
        .min()
        .unwrap_or(c.span.end);
    (start..end).contains(&at)
}

/// Values a template computes are unknown, not the mask's `_`s: an image,
/// an environment value or a command word written with `{{ … }}`.
fn forget_templated(c: &mut Container, templated: &dyn Fn(Span) -> bool, text: &str) {
    if templated(c.name_span) {
        c.name = text
            .get(c.name_span.start..)
            .and_then(|t| t.lines().next())
            .unwrap_or_default()
            .trim()
            .to_string();
    }
    if c.image.as_ref().is_some_and(|i| templated(i.span)) {
        c.image = None;
    }
    c.env
        .retain(|(k, v)| !templated(k.span) && !templated(v.span));
    for words in [&mut c.entrypoint, &mut c.command].into_iter().flatten() {
        *words = known_words(std::mem::take(words), templated);
    }
}

/// A command line without its templated words, and without the option
/// whose value is templated (`--processes {{ … }}`).
fn known_words(words: Vec<At<String>>, templated: &dyn Fn(Span) -> bool) -> Vec<At<String>> {
    let mut out: Vec<At<String>> = Vec::new();
    for w in words {
        if templated(w.span) {
            if out
                .last()
                .is_some_and(|p| p.value.starts_with('-') && !p.value.contains('='))
            {
                out.pop();
            }
            continue;
        }
        out.push(w);
    }
    out
}
