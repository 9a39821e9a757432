//! Applying fixes: `check --fix`, `--unsafe-fixes`, `--diff`.
//!
//! A diagnostic's fix is applied whole or not at all; a fix overlapping one
//! already taken waits for the next round (the caller re-lints and repeats).
//! Files are written atomically and only if unchanged since they were read.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Applicability, Diagnostic, Edit};
use crate::source::SourceMap;

/// The new content of one file.
#[derive(Debug, Clone)]
pub struct FileFix {
    pub path: PathBuf,
    /// How it is named in output.
    pub name: String,
    pub original: Vec<u8>,
    pub fixed: Vec<u8>,
    /// How many diagnostics' fixes went in.
    pub applied: usize,
}

/// Per file: its display name, original bytes, and the edits of each fix.
type Pending = (String, Vec<u8>, Vec<Vec<Edit>>);

/// Which fixes are allowed.
pub fn allowed(applicability: Applicability, unsafe_fixes: bool) -> bool {
    applicability == Applicability::Safe || unsafe_fixes
}

/// Compute the fixed content of every file that has applicable fixes.
pub fn plan(sources: &SourceMap, diags: &[Diagnostic], unsafe_fixes: bool) -> Vec<FileFix> {
    // Per file (by path, since one file can be read under several ids).
    let mut per_file: BTreeMap<PathBuf, Pending> = BTreeMap::new();
    for d in diags {
        let Some(fix) = &d.fix else { continue };
        if !allowed(fix.applicability, unsafe_fixes) || fix.edits.is_empty() {
            continue;
        }
        // Every edit of a fix must be in one file on disk.
        let file = fix.edits[0].file;
        if fix.edits.iter().any(|e| e.file != file) {
            continue;
        }
        let src = sources.get(file);
        let Some(path) = src.path.clone() else {
            continue;
        };
        let entry = per_file
            .entry(path)
            .or_insert_with(|| (src.name.clone(), src.bytes.clone(), Vec::new()));
        entry.2.push(fix.edits.clone());
    }
    let mut out = Vec::new();
    for (path, (name, original, fixes)) in per_file {
        let mut taken: Vec<Edit> = Vec::new();
        let mut applied = 0;
        for edits in fixes {
            let overlaps = edits.iter().any(|e| {
                taken.iter().any(|t| {
                    // Two insertions at one point, or intersecting ranges.
                    (e.span.start < t.span.end && t.span.start < e.span.end)
                        || (e.span.start == t.span.start)
                })
            });
            if overlaps || edits.iter().any(|e| e.span.end > original.len()) {
                continue;
            }
            taken.extend(edits);
            applied += 1;
        }
        if applied == 0 {
            continue;
        }
        taken.sort_by_key(|e| std::cmp::Reverse((e.span.start, e.span.end)));
        let mut fixed = original.clone();
        for e in &taken {
            fixed.splice(e.span.range(), e.content.bytes());
        }
        out.push(FileFix {
            path,
            name,
            original,
            fixed,
            applied,
        });
    }
    out
}

/// The one way configs are rewritten (`check --fix` and `advise --write`):
/// every round's fixes are applied to in-memory texts that the next lint
/// reads, and nothing touches the disk until the end, when each file is
/// written once against what it held when first read.
#[derive(Debug, Default)]
pub struct Rewrite {
    overlay: crate::input::Overlay,
    /// Per path: its display name and its bytes on disk when first fixed.
    originals: BTreeMap<PathBuf, (String, Vec<u8>)>,
    texts: BTreeMap<PathBuf, Vec<u8>>,
    /// Fixes applied, over all rounds.
    pub applied: usize,
}

impl Rewrite {
    pub fn new() -> Rewrite {
        Rewrite::default()
    }

    /// The texts as rewritten so far, for the next lint to read.
    pub fn overlay(&self) -> &crate::input::Overlay {
        &self.overlay
    }

    /// Take planned fixes into the in-memory texts; `false` when there were none.
    pub fn apply(&mut self, files: Vec<FileFix>) -> bool {
        let any = !files.is_empty();
        for f in files {
            self.originals
                .entry(f.path.clone())
                .or_insert_with(|| (f.name.clone(), f.original.clone()));
            self.overlay.insert(&f.path, f.fixed.clone());
            self.texts.insert(f.path, f.fixed);
            self.applied += f.applied;
        }
        any
    }

    /// `check`'s fixes, re-linted and repeated until none is left (fixes
    /// can uncover others: a renamed key's value is then checked), in a
    /// bounded number of rounds.
    pub fn fix_rounds(
        &mut self,
        paths: &[PathBuf],
        overrides: &crate::settings::Overrides,
        unsafe_fixes: bool,
    ) -> Result<(), crate::lint::LintError> {
        for _ in 0..10 {
            let a = crate::lint::lint_with(paths, overrides, &self.overlay)?;
            if !self.apply(plan(&a.report.sources, &a.report.diagnostics, unsafe_fixes)) {
                break;
            }
        }
        Ok(())
    }

    /// Every file whose text differs from what it held on disk: `original`
    /// is that, `fixed` the final text.
    pub fn files(&self) -> Vec<FileFix> {
        self.originals
            .iter()
            .filter_map(|(path, (name, original))| {
                let fixed = self.texts.get(path)?;
                (fixed != original).then(|| FileFix {
                    path: path.clone(),
                    name: name.clone(),
                    original: original.clone(),
                    fixed: fixed.clone(),
                    applied: 0,
                })
            })
            .collect()
    }

    /// Write every changed file (atomically, each only if unchanged on disk).
    pub fn write(&self) -> Result<Vec<String>, String> {
        let mut names = Vec::new();
        for f in self.files() {
            write_atomically(&f.path, &f.original, &f.fixed)
                .map_err(|e| format!("{}: {e}", f.name))?;
            names.push(f.name);
        }
        Ok(names)
    }
}

/// Write `new` to `path` through a temporary file and a rename, unless the
/// file no longer holds `expected`.
///
/// The target is refused when it is a symbolic link, has other hard links or
/// is read-only: a rename would replace the link, split the hard link or
/// defeat the read-only mark, each a surprise outside what was asked. The
/// temporary file gets an unpredictable name created with `O_EXCL` (a
/// symlink planted in the directory is never followed), the target's owner
/// and mode before any content is written (so it is never more readable than
/// the target), and the target is checked again for a concurrent edit right
/// before the rename.
pub fn write_atomically(path: &Path, expected: &[u8], new: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, expected, new, || {})
}

/// The callers name the file; the message says why it was left alone.
fn refuse(why: &str) -> std::io::Error {
    std::io::Error::other(format!("{why}; not written"))
}

/// What identifies one version of a file on disk.
#[cfg(unix)]
fn identity(m: &std::fs::Metadata) -> (u64, u64, u64, i64, i64) {
    use std::os::unix::fs::MetadataExt;
    (m.dev(), m.ino(), m.size(), m.mtime(), m.mtime_nsec())
}

#[cfg(not(unix))]
fn identity(m: &std::fs::Metadata) -> (u64, Option<std::time::SystemTime>) {
    (m.len(), m.modified().ok())
}

/// Check the target is a plain, writable, singly linked file and read it.
fn read_target(path: &Path) -> std::io::Result<(std::fs::Metadata, Vec<u8>)> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(refuse(
            "is a symbolic link (rewriting would replace the link by a copy); fix the file it points to",
        ));
    }
    if !meta.is_file() {
        return Err(refuse("is not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Err(refuse(&format!(
                "has {} hard links (rewriting would split them)",
                meta.nlink()
            )));
        }
    }
    if meta.permissions().readonly() {
        return Err(refuse("is read-only"));
    }
    let bytes = crate::source::read_regular(path, crate::source::MAX_FILE)?;
    Ok((meta, bytes))
}

fn write_atomically_with(
    path: &Path,
    expected: &[u8],
    new: &[u8],
    before_rename: impl FnOnce(),
) -> std::io::Result<()> {
    let (meta, current) = read_target(path)?;
    if current != expected {
        return Err(refuse("changed since it was read"));
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".uwsgi-lint-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let file = tmp.as_file();
        // Owner first (changing it clears set-id bits), then the mode, both
        // before the content; the file is created 0600.
        if std::os::unix::fs::fchown(file, Some(meta.uid()), Some(meta.gid())).is_err() {
            let mine = file.metadata()?.uid();
            if mine != meta.uid() {
                return Err(refuse(&format!(
                    "is owned by uid {} and its owner cannot be kept",
                    meta.uid()
                )));
            }
            // Same owner, another group we cannot give: keep our group.
        }
        file.set_permissions(meta.permissions())?;
    }
    tmp.write_all(new)?;
    tmp.as_file().sync_all()?;
    before_rename();
    // A concurrent edit (or a swap for a link) since the first look.
    let (again, now) = read_target(path)?;
    if identity(&again) != identity(&meta) || now != expected {
        return Err(refuse("changed while it was being fixed"));
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A unified diff of one file's fix.
pub fn unified_diff(fix: &FileFix) -> String {
    let old = String::from_utf8_lossy(&fix.original);
    let new = String::from_utf8_lossy(&fix.fixed);
    similar::TextDiff::from_lines(old.as_ref(), new.as_ref())
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{}", fix.name), &format!("b/{}", fix.name))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Fix, Severity};
    use crate::source::{SourceFile, Span};

    fn diag(
        file: crate::source::FileId,
        edits: Vec<(usize, usize, &str)>,
        app: Applicability,
    ) -> Diagnostic {
        Diagnostic {
            code: "UW102",
            name: "x",
            severity: Severity::Error,
            message: String::new(),
            file,
            span: Span::default(),
            related: vec![],
            help: None,
            fix: Some(Fix {
                applicability: app,
                edits: edits
                    .into_iter()
                    .map(|(s, e, c)| Edit {
                        file,
                        span: Span::new(s, e),
                        content: c.into(),
                    })
                    .collect(),
            }),
        }
    }

    #[test]
    fn applies_non_overlapping_fixes_and_defers_the_rest() {
        let mut sources = SourceMap::new();
        let text = b"a = 1G\nb = 2\n".to_vec();
        let f = sources.add(SourceFile::new("u.ini", Some("/tmp/u.ini".into()), text));
        let diags = vec![
            diag(f, vec![(4, 6, "1024")], Applicability::Safe),
            diag(f, vec![(4, 5, "9")], Applicability::Safe),
            diag(f, vec![(0, 0, "; c\n"), (11, 12, "3")], Applicability::Safe),
            diag(f, vec![(7, 8, "z")], Applicability::Unsafe),
        ];
        let plan1 = plan(&sources, &diags, false);
        assert_eq!(plan1.len(), 1);
        assert_eq!(
            String::from_utf8_lossy(&plan1[0].fixed),
            "; c\na = 1024\nb = 3\n"
        );
        assert_eq!(plan1[0].applied, 2);
        let plan2 = plan(&sources, &diags, true);
        assert_eq!(
            String::from_utf8_lossy(&plan2[0].fixed),
            "; c\na = 1024\nz = 3\n"
        );
    }

    #[test]
    fn never_overwrites_a_changed_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("u.ini");
        std::fs::write(&p, "edited meanwhile\n").unwrap();
        assert!(write_atomically(&p, b"original\n", b"fixed\n").is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "edited meanwhile\n");
        std::fs::write(&p, "original\n").unwrap();
        write_atomically(&p, b"original\n", b"fixed\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "fixed\n");
        // no temporary file left behind
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_edit_up_to_the_rename_is_kept_and_the_fix_refused() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("u.ini");
        std::fs::write(&p, "original\n").unwrap();
        let err = write_atomically_with(&p, b"original\n", b"fixed\n", || {
            std::fs::write(&p, "edited by hand\n").unwrap();
        })
        .unwrap_err();
        assert!(err.to_string().contains("changed while"), "{err}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "edited by hand\n");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    mod unix {
        use super::super::*;
        use std::os::unix::fs::PermissionsExt;

        fn mode(p: &Path) -> u32 {
            std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
        }

        #[test]
        fn a_symlink_at_the_old_temporary_name_is_not_followed() {
            let project = tempfile::tempdir().unwrap();
            let outside = tempfile::tempdir().unwrap();
            let victim = outside.path().join("victim");
            std::fs::write(&victim, "outside\n").unwrap();
            std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
            let p = project.path().join("u.ini");
            std::fs::write(&p, "original\n").unwrap();
            // The name the tool used to write through (pid-based, predictable).
            let planted = project
                .path()
                .join(format!(".u.ini.uwsgi-lint-{}.tmp", std::process::id()));
            std::os::unix::fs::symlink(&victim, &planted).unwrap();
            write_atomically(&p, b"original\n", b"fixed\n").unwrap();
            assert_eq!(std::fs::read_to_string(&victim).unwrap(), "outside\n");
            assert_eq!(mode(&victim), 0o600);
            assert_eq!(std::fs::read_to_string(&p).unwrap(), "fixed\n");
            assert!(
                std::fs::symlink_metadata(&planted)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
        }

        #[test]
        fn a_private_file_is_never_readable_by_others() {
            let d = tempfile::tempdir().unwrap();
            let p = d.path().join("u.ini");
            std::fs::write(&p, "secret = 1\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
            let mut seen = 0;
            write_atomically_with(&p, b"secret = 1\n", b"secret = 2\n", || {
                // Every file in the directory, the temporary one included,
                // while the new content is already in it.
                for e in std::fs::read_dir(d.path()).unwrap() {
                    let path = e.unwrap().path();
                    assert_eq!(mode(&path), 0o600, "{}", path.display());
                    seen += 1;
                }
            })
            .unwrap();
            assert_eq!(seen, 2, "the temporary file exists before the rename");
            assert_eq!(mode(&p), 0o600);
            assert_eq!(std::fs::read_to_string(&p).unwrap(), "secret = 2\n");
        }

        #[test]
        fn the_mode_is_kept() {
            let d = tempfile::tempdir().unwrap();
            let p = d.path().join("u.ini");
            std::fs::write(&p, "a = 1\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
            write_atomically(&p, b"a = 1\n", b"a = 2\n").unwrap();
            assert_eq!(mode(&p), 0o640);
        }

        #[test]
        fn a_read_only_file_is_refused() {
            let d = tempfile::tempdir().unwrap();
            let p = d.path().join("u.ini");
            std::fs::write(&p, "a = 1\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
            let err = write_atomically(&p, b"a = 1\n", b"a = 2\n").unwrap_err();
            assert!(err.to_string().contains("read-only"), "{err}");
            assert_eq!(std::fs::read_to_string(&p).unwrap(), "a = 1\n");
            assert_eq!(mode(&p), 0o444);
            assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        }

        #[test]
        fn a_symlinked_target_is_refused() {
            let project = tempfile::tempdir().unwrap();
            let outside = tempfile::tempdir().unwrap();
            let real = outside.path().join("real.ini");
            std::fs::write(&real, "a = 1\n").unwrap();
            let p = project.path().join("u.ini");
            std::os::unix::fs::symlink(&real, &p).unwrap();
            let err = write_atomically(&p, b"a = 1\n", b"a = 2\n").unwrap_err();
            assert!(err.to_string().contains("symbolic link"), "{err}");
            assert_eq!(std::fs::read_to_string(&real).unwrap(), "a = 1\n");
            assert!(
                std::fs::symlink_metadata(&p)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
        }

        #[test]
        fn a_hard_linked_target_is_refused() {
            let d = tempfile::tempdir().unwrap();
            let p = d.path().join("u.ini");
            let other = d.path().join("copy.ini");
            std::fs::write(&p, "a = 1\n").unwrap();
            std::fs::hard_link(&p, &other).unwrap();
            let err = write_atomically(&p, b"a = 1\n", b"a = 2\n").unwrap_err();
            assert!(err.to_string().contains("hard links"), "{err}");
            assert_eq!(std::fs::read_to_string(&p).unwrap(), "a = 1\n");
            assert_eq!(std::fs::read_to_string(&other).unwrap(), "a = 1\n");
        }
    }
}
