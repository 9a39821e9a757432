//! Discover: walk the given paths and classify the files found.
//!
//! For now only uWSGI inis are classified, by content, not by name alone:
//! a Django `app.ini` is no uWSGI config.

use std::path::{Path, PathBuf};

use crate::uwsgi::resolve::ConfigFormat;
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

/// A YAML file is a uWSGI config when it has a top-level `uwsgi:` key (what
/// uWSGI's own reader looks for); `services:\n  uwsgi:` in Compose is not.
pub fn is_uwsgi_yaml(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).lines().any(|l| {
        let l = l.split('#').next().unwrap_or_default().trim_end();
        l == "uwsgi:"
    })
}

/// The config format of a path, by extension.
pub fn format_of(p: &Path) -> Option<ConfigFormat> {
    match p.extension()?.to_str()? {
        "ini" => Some(ConfigFormat::Ini),
        "yaml" | "yml" => Some(ConfigFormat::Yaml),
        _ => None,
    }
}

/// uWSGI configs (ini and YAML) under `paths`; files given directly are taken
/// if they are configs. Directory walks respect `.gitignore`, `.ignore` and
/// hidden files.
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
        out.extend(files_under(p).filter(|f| is_ini(f)));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Files below `root`, honouring `.gitignore`, `.ignore` and hidden files,
/// and skipping dependency and build directories.
fn files_under(root: &Path) -> impl Iterator<Item = PathBuf> {
    ignore::WalkBuilder::new(root)
        .require_git(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref()))
        })
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
}

fn is_ini(p: &Path) -> bool {
    let Some(format) = format_of(p) else {
        return false;
    };
    crate::uwsgi::resolve::read_local(p).is_ok_and(|b| match format {
        ConfigFormat::Ini => is_uwsgi_ini(&b),
        ConfigFormat::Yaml => is_uwsgi_yaml(&b),
    })
}

/// The repository root: the nearest directory above `start` holding `.git`,
/// else `start` itself.
pub fn repo_root(start: &std::path::Path) -> std::path::PathBuf {
    let start = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(std::path::Path::to_path_buf)
        .unwrap_or(start)
}

/// ECS task definitions under `paths` (JSON files with `containerDefinitions`).
/// For a path that is a file, the project around it is searched (its
/// repository root), since the container that runs a config is context.
pub fn ecs_tasks(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            if p.is_file() {
                repo_root(p.parent().unwrap_or(Path::new(".")))
            } else {
                p.clone()
            }
        })
        .collect();
    roots.sort();
    roots.dedup();
    let mut out = Vec::new();
    for root in roots {
        for p in files_under(&root) {
            if p.extension().is_some_and(|x| x == "json")
                && crate::uwsgi::resolve::read_local(&p).is_ok_and(|b| {
                    crate::container::ecs::looks_like_task_definition(&String::from_utf8_lossy(&b))
                })
            {
                out.push(std::fs::canonicalize(&p).unwrap_or(p));
            }
        }
    }
    out.sort();
    out.dedup();
    out
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
        assert!(is_uwsgi_yaml(b"uwsgi:\n  master: 1\n"));
        assert!(!is_uwsgi_yaml(b"services:\n  uwsgi:\n    image: x\n"));
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
