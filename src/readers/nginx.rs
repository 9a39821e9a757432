//! Nginx configurations (files and `nginx -T` dumps), with their includes:
//! a file another configuration includes is read as part of that one.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{Candidate, ReadContext, Reader};
use crate::source::{FileId, Span};

pub struct NginxConfigs;

impl Reader for NginxConfigs {
    fn name(&self) -> &'static str {
        "nginx"
    }

    fn claims(&self, file: &Candidate) -> bool {
        // Judged by name first: most files of a repository (sources, docs)
        // are then not read at all.
        if matches!(file.ext, "json" | "yml" | "yaml") || other_format(file.path) {
            return false;
        }
        if file.unreadable() {
            // Said why it is not read, as an Nginx file by its name.
            return file.ext == "conf";
        }
        file.text().is_some_and(|t| is_nginx(file.path, t))
    }

    fn read(&self, files: &[PathBuf], cx: &mut ReadContext) {
        let (prefix, roots, overlay) = (cx.nginx_prefix, cx.roots, cx.overlay);
        // Each file with its includes loaded and modelled in parallel.
        let loaded = cx.read_parsed(files, |f, text| {
            let mut l =
                crate::nginx::include::load_with(f, text.as_bytes(), prefix, roots, overlay);
            let model = crate::nginx::model::build(&l.config);
            // Only the model is kept; the directives are freed here, on the
            // thread that made them, not one after another on the caller's.
            l.config = Default::default();
            (l, model)
        });
        // (Inside a dump every part is the dump file itself.)
        let seen: HashSet<&PathBuf> = loaded
            .iter()
            .flat_map(|p| {
                let f = p.path;
                p.value.0.parts.iter().skip(1).filter(move |x| &x.path != f)
            })
            .map(|x| &x.path)
            .collect();
        let kept: Vec<_> = loaded.iter().map(|p| !seen.contains(p.path)).collect();
        for (p, keep) in loaded.into_iter().zip(kept) {
            if keep {
                let (l, model) = p.value;
                add_modelled(cx, p.path.clone(), l, model);
            }
        }
    }
}

/// Add a loaded Nginx configuration (a file's, or one embedded in a
/// manifest) to the project, with the problems found in its parts.
pub(crate) fn add(cx: &mut ReadContext, f: PathBuf, l: crate::nginx::include::Loaded) {
    let model = crate::nginx::model::build(&l.config);
    add_modelled(cx, f, l, model);
}

/// [`add`] with the model already built.
fn add_modelled(
    cx: &mut ReadContext,
    f: PathBuf,
    l: crate::nginx::include::Loaded,
    model: crate::nginx::model::Model,
) {
    let mut ids: Vec<FileId> = Vec::new();
    for part in &l.parts {
        // The main file is read already (each file is read once).
        if let Some(id) = cx.ids.get(&part.path) {
            ids.push(*id);
            continue;
        }
        match cx.read(&part.path) {
            Some((id, _)) => ids.push(id),
            None => ids.push(*ids.first().unwrap_or(&FileId(0))),
        }
    }
    // A template (`${VAR}` for envsubst, Jinja) is Nginx only once
    // rendered: a syntax error there is the template's, not a bug.
    let template = l.parts.iter().any(|p| {
        cx.sources.find_path(&p.path).is_some_and(|id| {
            crate::container::is_template(&String::from_utf8_lossy(&cx.sources.get(id).bytes))
        })
    });
    let mut told = false;
    for p in &l.problems {
        let id = ids[p.file];
        let span = Span::new(p.span.start, p.span.end);
        if template && !p.missing_include {
            if !told {
                cx.not_read(id,
                        span,
                        format!("Nginx: {} — this file is a template (`${{…}}` or Jinja placeholders), read as Nginx only once rendered; its settings are not checked", p.message),
                    );
                told = true;
            }
            continue;
        }
        let code = if p.missing_include { "UW002" } else { "UW001" };
        cx.problem(code, id, span, format!("Nginx: {}", p.message));
    }
    cx.project.nginx.push(crate::deployment::NginxConf {
        main: f,
        parts: l.parts,
        model,
    });
    cx.nginx_ids.push(ids);
}

/// An Nginx config by name and content: `.conf`, `.template`, `.nginx` or
/// a name with `nginx` in it, or any file under `sites-*`/`conf.d`, holding
/// directives Nginx has and nothing else does.
pub fn is_nginx(p: &Path, text: &[u8]) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let in_nginx_dir = p.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        c.starts_with("sites-") || c == "conf.d" || c == "nginx"
    });
    let by_name = name.ends_with(".conf")
        || name.ends_with(".template")
        || name.ends_with(".nginx")
        || name.contains("nginx")
        || (in_nginx_dir && !name.contains('.'));
    if other_format(p) || text.starts_with(b"#!") || text.contains(&0) {
        return false;
    }
    if !by_name {
        // Any other name (`deploy/mediacms.io`): only a server that passes
        // requests on, which nothing but Nginx writes this way.
        let t = String::from_utf8_lossy(text);
        return (t.contains("server {") || t.contains("server{"))
            && t.contains("location")
            && (t.contains("uwsgi_pass") || t.contains("proxy_pass"));
    }
    let t = String::from_utf8_lossy(text);
    crate::nginx::include::is_dump(text)
        || [
            "uwsgi_pass",
            "proxy_pass",
            "server_name",
            "worker_processes",
            "upstream ",
        ]
        .iter()
        .any(|k| t.contains(k))
        || (t.contains("location ") && t.contains('{'))
}

/// Scripts, docs and other formats that mention Nginx directives (a shell
/// script writing a config, a README's example) are not Nginx
/// configurations, whatever they hold.
fn other_format(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    // Judged by the name a template renders to (`configmap.yml.j2` is YAML).
    let rendered = [".j2", ".jinja", ".jinja2", ".tmpl", ".tpl"]
        .iter()
        .find_map(|t| name.strip_suffix(t))
        .unwrap_or(&name);
    [
        ".ini", ".py", ".sh", ".bash", ".yml", ".yaml", ".json", ".md", ".txt", ".toml", ".rst",
        ".html", ".htm", ".adoc", ".org", ".tex", ".js", ".ts", ".go", ".rb", ".c", ".h", ".php",
        ".pl", ".lua", ".tf", ".hcl", ".xml", ".csv", ".svg", ".lock", ".cfg", ".env",
    ]
    .iter()
    .any(|e| rendered.ends_with(e))
}
