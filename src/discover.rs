//! Discover: walk the given paths and classify the files found.
//!
//! For now only uWSGI inis are classified, by content, not by name alone:
//! a Django `app.ini` is no uWSGI config.

use std::path::{Path, PathBuf};

use crate::uwsgi::syntax;

/// Directories never walked into.
const SKIP_DIRS: &[&str] = &["node_modules", "target", "__pycache__", "site-packages"];

/// Is this ini meant for uWSGI? It has a `[uwsgi]` section, or one that is a
/// near miss of it (`[ uwsgi ]`, `[uWSGI]`), which UW009 then reports.
pub fn is_uwsgi_ini(bytes: &[u8]) -> bool {
    let doc = syntax::parse(bytes);
    doc.section_names(bytes).iter().any(|name| {
        String::from_utf8_lossy(name)
            .trim()
            .eq_ignore_ascii_case("uwsgi")
    })
}

/// uWSGI inis under `paths` (files given directly are taken if they are inis).
pub fn uwsgi_inis(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)?;
        if meta.is_file() {
            if is_ini(p) {
                out.push(p.clone());
            }
        } else {
            walk(p, &mut out);
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn is_ini(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "ini")
        && crate::uwsgi::resolve::read_local(p).is_ok_and(|b| is_uwsgi_ini(&b))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if !name.starts_with('.') && !SKIP_DIRS.contains(&name.as_str()) {
                walk(&p, out);
            }
        } else if ft.is_file() && is_ini(&p) {
            out.push(p);
        }
    }
}
