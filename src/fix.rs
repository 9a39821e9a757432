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

/// Write `new` to `path` through a temporary file and a rename, keeping the
/// permissions, unless the file no longer holds `expected`.
pub fn write_atomically(path: &Path, expected: &[u8], new: &[u8]) -> std::io::Result<()> {
    let current = std::fs::read(path)?;
    if current != expected {
        return Err(std::io::Error::other(format!(
            "{} changed since it was read; not fixed",
            path.display()
        )));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.uwsgi-lint-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(new)?;
        f.sync_all()?;
        std::fs::set_permissions(&tmp, std::fs::metadata(path)?.permissions())?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
        let d = std::env::temp_dir().join(format!("uwsgi-lint-fix-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join("u.ini");
        std::fs::write(&p, "edited meanwhile\n").unwrap();
        assert!(write_atomically(&p, b"original\n", b"fixed\n").is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "edited meanwhile\n");
        std::fs::write(&p, "original\n").unwrap();
        write_atomically(&p, b"original\n", b"fixed\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "fixed\n");
        // no temporary file left behind
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
    }
}
