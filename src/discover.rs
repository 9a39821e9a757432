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

/// uWSGI inis under `paths` (files given directly are taken if they are
/// inis). Directory walks respect `.gitignore`, `.ignore` and hidden files.
pub fn uwsgi_inis(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p)?;
        if meta.is_file() {
            if is_ini(p) {
                out.push(p.clone());
            }
            continue;
        }
        let walker = ignore::WalkBuilder::new(p)
            .require_git(false)
            .filter_entry(|e| {
                !(e.file_type().is_some_and(|t| t.is_dir())
                    && SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref()))
            })
            .build();
        for entry in walker.flatten() {
            if entry.file_type().is_some_and(|t| t.is_file()) && is_ini(entry.path()) {
                out.push(entry.path().to_path_buf());
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_content() {
        assert!(is_uwsgi_ini(b"[uwsgi]\nprocesses = 2\n"));
        assert!(is_uwsgi_ini(b"[ uwsgi ]\nprocesses = 2\n"));
        assert!(!is_uwsgi_ini(b"[app]\ndebug = true\n"));
        assert!(!is_uwsgi_ini(b"[pytest]\naddopts = -q\n"));
    }

    #[test]
    fn walk_respects_gitignore() {
        let d = std::env::temp_dir().join(format!("uwsgi-lint-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("build")).unwrap();
        std::fs::create_dir_all(d.join("deploy")).unwrap();
        std::fs::write(d.join(".gitignore"), "build/\n").unwrap();
        std::fs::write(d.join("build/uwsgi.ini"), "[uwsgi]\n").unwrap();
        std::fs::write(d.join("deploy/uwsgi.ini"), "[uwsgi]\n").unwrap();
        std::fs::write(d.join("deploy/settings.ini"), "[django]\n").unwrap();
        let found = uwsgi_inis(std::slice::from_ref(&d)).unwrap();
        assert_eq!(found, vec![d.join("deploy/uwsgi.ini")]);
    }
}
