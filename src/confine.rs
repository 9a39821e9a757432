//! Keeping `check`, `advise` and the editor inside the project: whether a
//! path lies outside its roots, and globs that never walk or list outside.
//!
//! Outside-ness is decided from where a path is (or would be), never from
//! whether it exists out there: otherwise `if-exists = /etc/shadow` would
//! tell the report a fact of the machine it runs on.

use std::path::{Component, Path, PathBuf};

/// Most files one glob may list (`for-glob = **/*` in a large checkout).
pub const MAX_GLOB_MATCHES: usize = 10_000;
/// Most matches looked at, inside or not (a committed `root -> /` link).
pub const MAX_GLOB_SCANNED: usize = 100_000;

fn inside(roots: &[PathBuf], p: &Path) -> bool {
    roots.iter().any(|r| p.starts_with(r))
}

/// Whether `path` lies outside every root (roots are canonical; an empty
/// list confines nothing). A link is judged by its target, and a link that
/// cannot be resolved counts as outside; an absent path by where it would
/// be, from its nearest existing ancestor.
pub fn is_outside(roots: &[PathBuf], path: &Path) -> bool {
    if roots.is_empty() {
        return false;
    }
    // Resolved once per run with every other path (realpath reads each
    // component again: most of the check's `readlink`s were here).
    match crate::source::canonicalize(path) {
        Ok(real) => return !inside(roots, &real),
        // There, but not to be resolved (a dangling link): outside.
        Err(_) if std::fs::symlink_metadata(path).is_ok() => return true,
        Err(_) => {}
    }
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        match crate::source::cwd() {
            Ok(cwd) => cwd.join(path),
            Err(_) => return true,
        }
    };
    let abs = crate::input::normalize_lexically(&abs);
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    let mut base = abs.as_path();
    loop {
        if let Ok(real) = crate::source::canonicalize(base) {
            let mut full = real;
            full.extend(rest.iter().rev());
            return !inside(roots, &full);
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                base = parent;
            }
            _ => return true,
        }
    }
}

/// The directory a glob pattern starts walking from: its components up to
/// the first one with a wildcard.
pub fn glob_base(pattern: &Path) -> PathBuf {
    let mut base = PathBuf::new();
    for c in pattern.components() {
        if let Component::Normal(s) = c
            && s.to_string_lossy().contains(['*', '?', '['])
        {
            break;
        }
        base.push(c);
    }
    base
}

/// Whether a glob would start walking outside the roots (`/etc/*`,
/// `../*`, `/**/*`).
pub fn glob_outside(roots: &[PathBuf], pattern: &Path) -> bool {
    is_outside(roots, &glob_base(pattern))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_is_decided_without_looking_outside() {
        let d = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(d.path()).unwrap();
        let roots = vec![root.clone()];
        assert!(!is_outside(&roots, &root.join("a/b/absent.ini")));
        assert!(!is_outside(&roots, &root));
        assert!(is_outside(&roots, Path::new("/etc/passwd")));
        assert!(is_outside(&roots, Path::new("/no/such/file")));
        assert!(is_outside(&roots, &root.join("../x.ini")));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc", root.join("etc")).unwrap();
            assert!(is_outside(&roots, &root.join("etc")));
            std::os::unix::fs::symlink("/no/such/target", root.join("dangling")).unwrap();
            assert!(is_outside(&roots, &root.join("dangling")));
        }
        assert_eq!(glob_base(Path::new("/etc/*.conf")), PathBuf::from("/etc"));
        assert_eq!(glob_base(Path::new("/**/*")), PathBuf::from("/"));
        assert!(glob_outside(&roots, Path::new("/**/*")));
        assert!(!glob_outside(&roots, &root.join("conf.d/*.conf")));
        assert!(!is_outside(&[], Path::new("/etc")));
    }
}
