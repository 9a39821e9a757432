//! Configs held in Kubernetes ConfigMaps (`data: {uwsgi.ini: |…}`), shared
//! by the readers of manifests and Helm charts: each uWSGI or Nginx config
//! becomes a file of its own at `<manifest>#<ConfigMap>/<key>`, whose text
//! is the manifest's with every byte outside the block scalar's content
//! replaced by a space (newlines kept). Offsets and lines are then the
//! manifest's, and the text parses as the embedded one: uWSGI's ini reader
//! strips blanks around each line (`ini_lstrip`/`ini_rstrip`, core/ini.c),
//! Nginx ignores whitespace. Containers that mount the ConfigMap see its
//! keys as files, like a bind mount's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::ReadContext;
use crate::container::Container;
use crate::container::kubernetes::{CONFIG_MAP_SOURCE, ConfigMapEntry};
use crate::container::yaml::Node;
use crate::source::{FileId, Span};

/// What a ConfigMap key holds, by its name and content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    UwsgiIni,
    UwsgiYaml,
    Nginx,
}

fn kind_of(key: &str, text: &str) -> Option<Kind> {
    let lower = key.to_ascii_lowercase();
    // A `[uwsgi]` section; or a top-level `uwsgi:` (as the walk recognises
    // config files). A folded or quoted value may hold `[uwsgi]` mid-line:
    // it is said not linted too.
    if lower.ends_with(".ini") && text.to_ascii_lowercase().contains("[uwsgi]") {
        return Some(Kind::UwsgiIni);
    }
    if (lower.ends_with(".yaml") || lower.ends_with(".yml"))
        && text
            .lines()
            .any(|l| l.split('#').next().unwrap_or_default().trim_end() == "uwsgi:")
    {
        return Some(Kind::UwsgiYaml);
    }
    super::nginx::is_nginx(Path::new(key), text.as_bytes()).then_some(Kind::Nginx)
}

/// The byte range of a literal block scalar's content (`key: |`, `|-`,
/// `|+`, `|2`), from the line after the indicator to the last line indented
/// deeper than the key; or why the value cannot be mapped line for line.
fn block_content(text: &str, key: &Node) -> Result<(usize, usize), &'static str> {
    let bytes = text.as_bytes();
    let line_start = text[..key.span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let key_indent = key.span.start - line_start;
    let mut i = key.span.end.min(text.len());
    // Past a quoted key's closing quote, then `:`.
    while i < bytes.len() && bytes[i] != b':' && bytes[i] != b'\n' {
        i += 1;
    }
    i += 1;
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
        i += 1;
    }
    match bytes.get(i) {
        Some(b'|') => {}
        Some(b'>') => return Err("a folded block scalar (`>`) joins its lines"),
        Some(b'"') | Some(b'\'') => return Err("a quoted scalar"),
        _ => return Err("a plain scalar"),
    }
    let start = match text[i..].find('\n') {
        Some(n) => i + n + 1,
        None => return Ok((bytes.len(), bytes.len())),
    };
    let mut end = start;
    let mut at = start;
    for line in text[start..].split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        if !body.trim().is_empty() {
            if indent <= key_indent {
                break;
            }
            end = at + body.len();
        }
        at += line.len();
    }
    Ok((start, end))
}

/// The host text with everything outside `start..end` blanked.
fn mask_outside(text: &str, start: usize, end: usize) -> Vec<u8> {
    text.bytes()
        .enumerate()
        .map(|(i, b)| {
            if (start..end).contains(&i) || b == b'\n' {
                b
            } else {
                b' '
            }
        })
        .collect()
}

/// Do the masked lines hold the decoded value's lines (blanks around each
/// line aside)? A guard against block scalars this reading gets wrong.
fn same_lines(masked: &[u8], decoded: &str) -> bool {
    let a = String::from_utf8_lossy(masked);
    let trimmed = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.trim_matches([' ', '\t', '\r']).to_string())
            .filter(|l| !l.is_empty())
            .collect()
    };
    trimmed(&a) == trimmed(decoded)
}

/// The text a literal block scalar `key: |` of `text` is read as: the
/// whole text with every byte outside the block's content blanked (same
/// length and lines), or why the value cannot be mapped so.
pub fn masked_block(text: &str, key: &Node, decoded: &str) -> Result<Vec<u8>, &'static str> {
    let (start, end) = block_content(text, key)?;
    let m = mask_outside(text, start, end);
    if same_lines(&m, decoded) {
        Ok(m)
    } else {
        Err("a block scalar read differently")
    }
}

/// Read the uWSGI and Nginx configs held in the ConfigMaps of `docs` (the
/// documents of `host`, whose text is `text` and id `id`). `templated`
/// says whether a span of the text holds template placeholders (a Helm
/// chart's `{{ … }}`): such a config is known only once rendered (UW004).
/// Returns the ConfigMaps found, by name.
pub fn read(
    cx: &mut ReadContext,
    host: &Path,
    id: FileId,
    text: &str,
    entries: &[ConfigMapEntry],
    templated: &dyn Fn(Span) -> bool,
) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for e in entries {
        if !names.contains(&e.config_map) {
            names.push(e.config_map.clone());
        }
        let (Some(key), Some(decoded)) = (e.key.scalar_text(), e.value.as_str()) else {
            continue;
        };
        let Some(kind) = kind_of(&key, decoded) else {
            continue;
        };
        let what = match kind {
            Kind::UwsgiIni | Kind::UwsgiYaml => "uWSGI config",
            Kind::Nginx => "Nginx config",
        };
        let at = e.key.span;
        let region = block_content(text, e.key).map_or(e.value.span, |(s, e)| Span::new(s, e));
        if templated(region) || decoded.contains("{{") || decoded.contains("{%") {
            cx.not_read(id,
                at,
                format!("the {what} `{key}` of the ConfigMap `{}` is a template (`{{{{ … }}}}` placeholders that are not plain values of `values.yaml`): it is read only once rendered, not linted", e.config_map),
            );
            continue;
        }
        // uWSGI's YAML reader wants `uwsgi:` at the start of a line (checked
        // on uWSGI 2.0.30): an indented copy would read as nothing.
        let block = match kind {
            Kind::UwsgiYaml => Err("uWSGI YAML, which uWSGI reads only from the start of a line"),
            _ => Ok(()),
        };
        let masked = block.and_then(|_| masked_block(text, e.key, decoded));
        let masked = match masked {
            Ok(m) => m,
            Err(why) => {
                cx.not_read(id,
                    at,
                    format!("the {what} `{key}` of the ConfigMap `{}` is {why}: not linted (a literal block, `{key}: |`, is read line for line)", e.config_map),
                );
                continue;
            }
        };
        let path = crate::input::embedded_path(host, &e.config_map, &key);
        cx.embedded.insert(path.clone(), masked.clone());
        match kind {
            Kind::UwsgiIni | Kind::UwsgiYaml => {
                if !cx.embedded_configs.contains(&path) {
                    cx.embedded_configs.push(path);
                }
            }
            Kind::Nginx => {
                let l = crate::nginx::include::load_with(
                    &path,
                    &masked,
                    cx.nginx_prefix,
                    cx.roots,
                    cx.overlay,
                );
                super::nginx::add(cx, path, l);
            }
        }
    }
    names
}

/// Point the ConfigMap mounts of `containers` (`configmap:NAME/…`) at the
/// file that defines the ConfigMap: of those named so in `defined` (name,
/// file), the one sharing the longest path with the container's file; a
/// ConfigMap not found, or found twice as near, mounts nothing known.
pub fn resolve_mounts(containers: &mut [Container], defined: &[(String, PathBuf)]) {
    let mut by_name: HashMap<&str, Vec<&Path>> = HashMap::new();
    for (n, f) in defined {
        by_name.entry(n.as_str()).or_default().push(f);
    }
    for c in containers {
        let file = c.file.clone();
        c.mounts.retain_mut(|(src, _)| {
            let Some(rest) = src.to_str().and_then(|s| s.strip_prefix(CONFIG_MAP_SOURCE)) else {
                return true;
            };
            let (name, key) = rest.split_once('/').unwrap_or((rest, ""));
            let Some(hosts) = by_name.get(name) else {
                return false;
            };
            let depth = |h: &Path| crate::deployment::common_depth(h, &file);
            let best = hosts.iter().map(|h| depth(h)).max().unwrap_or(0);
            let nearest: Vec<&&Path> = hosts.iter().filter(|h| depth(h) == best).collect();
            let [host] = nearest[..] else {
                return false;
            };
            let dir = crate::input::embedded_path(host, name, "");
            *src = if key.is_empty() { dir } else { dir.join(key) };
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::yaml;

    const MANIFEST: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  uwsgi.ini: |\n    [uwsgi]\n    processes = 4\n\n    socket = :3031\n  other: x\n";

    #[test]
    fn a_literal_block_keeps_its_lines_and_offsets() {
        let docs = yaml::parse(MANIFEST).unwrap();
        let (k, v) = &docs[0].get("data").unwrap().entries()[0];
        let (s, e) = block_content(MANIFEST, k).unwrap();
        let m = mask_outside(MANIFEST, s, e);
        assert_eq!(m.len(), MANIFEST.len());
        let masked = String::from_utf8(m.clone()).unwrap();
        assert_eq!(masked.lines().count(), MANIFEST.lines().count());
        assert_eq!(masked.lines().nth(7).unwrap(), "    processes = 4");
        assert!(masked.lines().nth(10).unwrap().trim().is_empty());
        assert!(same_lines(&m, v.as_str().unwrap()));
    }

    #[test]
    fn folded_and_quoted_values_are_not_mapped() {
        let t = "data:\n  a.ini: >\n    [uwsgi]\n  b.ini: \"[uwsgi]\\nx = 1\"\n";
        let docs = yaml::parse(t).unwrap();
        let e = docs[0].get("data").unwrap().entries();
        assert!(block_content(t, &e[0].0).is_err());
        assert!(block_content(t, &e[1].0).is_err());
    }
}
