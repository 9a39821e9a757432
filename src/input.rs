//! The input layer: how the pipeline reads files.
//!
//! Every read of a config, an include or a context file goes through here, so
//! texts that are not (or not yet) on disk — an editor's unsaved buffers,
//! standard input — take the place of the files they stand for, for every
//! stage alike (discovery, includes, linking, rules). Nothing downstream
//! knows whether a text came from disk or from an [`Overlay`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Read a regular local file, bounded: a config may name `/dev/zero` or a FIFO,
/// which must neither hang nor exhaust memory.
pub fn read_local(path: &Path) -> std::io::Result<Vec<u8>> {
    if let Some(known) = crate::source::learnt_text(path) {
        return Ok(known);
    }
    crate::stats::file_read();
    crate::source::read_regular(path, crate::source::MAX_FILE)
}

/// `a/./b/../c` → `a/c`, without touching the filesystem.
pub fn normalize_lexically(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The path a text embedded in another file is read at: a ConfigMap's
/// `data` key in a manifest is `<manifest>#<ConfigMap name>/<key>`, so that
/// a mount of the whole ConfigMap maps to its keys like a directory's files.
pub fn embedded_path(host: &Path, container: &str, key: &str) -> PathBuf {
    let mut name = host.as_os_str().to_os_string();
    name.push(format!("#{container}"));
    PathBuf::from(name).join(key)
}

/// The file an [`embedded_path`] lies in (`None` for any other path): the
/// path up to the first component `<name>.yaml#…` (or `.yml`, `.json`).
pub fn embedded_host(p: &Path) -> Option<PathBuf> {
    // Asked of every path the run meets: most have no `#` at all.
    if !p.as_os_str().as_encoded_bytes().contains(&b'#') {
        return None;
    }
    let mut host = PathBuf::new();
    for c in p.components() {
        let s = c.as_os_str().to_string_lossy();
        if let Some((file, _)) = s.split_once('#')
            && [".yaml", ".yml", ".json"].iter().any(|e| file.ends_with(e))
        {
            host.push(file);
            return Some(host);
        }
        host.push(c);
    }
    None
}

/// The file to name for `p`: its host when it is embedded, else itself.
pub fn shown_path(p: &Path) -> std::borrow::Cow<'_, Path> {
    match embedded_host(p) {
        Some(h) => std::borrow::Cow::Owned(h),
        None => std::borrow::Cow::Borrowed(p),
    }
}

/// In-memory texts that replace files, keyed by absolute path.
///
/// Cheap to clone (the texts are shared). A path is looked up as written
/// (made absolute against the current directory and normalised) and through
/// its real path, so a buffer opened through a symlink still replaces the
/// file the config names.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    files: HashMap<PathBuf, Arc<[u8]>>,
}

impl Overlay {
    pub fn new() -> Overlay {
        Overlay::default()
    }

    /// An overlay of one text (`check --stdin-filename`).
    pub fn single(path: &Path, bytes: Vec<u8>) -> Overlay {
        let mut o = Overlay::new();
        o.insert(path, bytes);
        o
    }

    fn absolute(path: &Path) -> PathBuf {
        if path.is_absolute() {
            normalize_lexically(path)
        } else {
            let cwd = std::env::current_dir().unwrap_or_default();
            normalize_lexically(&cwd.join(path))
        }
    }

    /// Use `bytes` wherever `path` is read.
    pub fn insert(&mut self, path: &Path, bytes: Vec<u8>) {
        let text: Arc<[u8]> = bytes.into();
        let abs = Overlay::absolute(path);
        if let Ok(real) = std::fs::canonicalize(&abs)
            && real != abs
        {
            self.files.insert(real, text.clone());
        }
        self.files.insert(abs, text);
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The in-memory text standing for `path`, if any.
    pub fn get(&self, path: &Path) -> Option<&[u8]> {
        if self.files.is_empty() {
            return None;
        }
        let abs = Overlay::absolute(path);
        if let Some(t) = self.files.get(&abs) {
            return Some(t);
        }
        // Through links (the process-wide cached realpath: one `lstat` for a
        // path that is no link, as for every other file the pipeline reads).
        let real = crate::source::canonicalize(&abs).ok()?;
        self.files.get(&real).map(|t| &t[..])
    }

    /// Is there a text for `path` (whether or not the file exists)?
    pub fn contains(&self, path: &Path) -> bool {
        self.get(path).is_some()
    }

    /// Read `path`: its in-memory text, else the file (bounded, regular files only).
    pub fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        match self.get(path) {
            Some(t) => Ok(t.to_vec()),
            None => read_local(path),
        }
    }

    /// Paths of texts below `root` (for files not yet saved to disk).
    pub fn paths_under<'a>(&'a self, root: &'a Path) -> impl Iterator<Item = &'a PathBuf> + 'a {
        self.files.keys().filter(move |p| p.starts_with(root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_replaces_files_and_falls_back_to_disk() {
        let d = std::env::temp_dir().join(format!("uwsgi-lint-overlay-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        let on_disk = d.join("a.ini");
        std::fs::write(&on_disk, "[uwsgi]\nprocesses = 2\n").unwrap();
        let mut o = Overlay::new();
        assert_eq!(o.read(&on_disk).unwrap(), b"[uwsgi]\nprocesses = 2\n");
        o.insert(
            &d.join("./x/../a.ini"),
            b"[uwsgi]\nprocesses = 4\n".to_vec(),
        );
        assert_eq!(o.read(&on_disk).unwrap(), b"[uwsgi]\nprocesses = 4\n");
        // Not on disk at all: still readable, and listed under its directory.
        o.insert(&d.join("new.ini"), b"[uwsgi]\n".to_vec());
        assert_eq!(o.read(&d.join("new.ini")).unwrap(), b"[uwsgi]\n");
        assert_eq!(o.paths_under(&d).count(), 2);
        assert!(o.read(&d.join("missing.ini")).is_err());
    }

    #[test]
    fn embedded_texts_name_their_host() {
        let host = Path::new("/repo/k8s/app.yaml");
        let p = embedded_path(host, "uwsgi-config", "uwsgi.ini");
        assert_eq!(p, Path::new("/repo/k8s/app.yaml#uwsgi-config/uwsgi.ini"));
        assert_eq!(embedded_host(&p).as_deref(), Some(host));
        assert_eq!(shown_path(&p), host);
        assert_eq!(embedded_host(host), None);
        assert_eq!(embedded_host(Path::new("/repo/notes#1/uwsgi.ini")), None);
    }
}
