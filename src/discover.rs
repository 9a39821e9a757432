//! Discover: walk the given paths and classify the files found.
//!
//! uWSGI configs are classified by content, not by name alone (a Django
//! `app.ini` is no uWSGI config); the context around them (containers,
//! Dockerfiles, Nginx, version pins) by name, then content.

use std::path::{Path, PathBuf};

use crate::input::Overlay;
use crate::readers::{Candidate, Claimed};
use crate::uwsgi::resolve::ConfigFormat;
use crate::uwsgi::syntax;

/// Directories never walked into.
const SKIP_DIRS: &[&str] = &["node_modules", "target", "__pycache__", "site-packages"];

/// Is this ini meant for uWSGI? It has a `[uwsgi]` section, or one that is a
/// near miss of it (`[ uwsgi ]`, `[uWSGI]`), which UW009 then reports.
///
/// A `[uwsgi]` that uWSGI cannot see counts too, so that UW009 says why the
/// file contributes nothing instead of the file passing unseen: behind a
/// byte-order mark, or in a file with old Mac line ends (`\r` only; uWSGI
/// splits lines on `\n` and finds no section in either).
pub fn is_uwsgi_ini(bytes: &[u8]) -> bool {
    let has = |bytes: &[u8]| {
        // Stops at the first: `[uwsgi]` is usually the first line.
        syntax::section_names_of(bytes).any(|name| {
            String::from_utf8_lossy(name)
                .trim()
                .eq_ignore_ascii_case("uwsgi")
        })
    };
    if has(bytes) {
        return true;
    }
    let unmarked = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if unmarked.len() != bytes.len() && has(unmarked) {
        return true;
    }
    !unmarked.contains(&b'\n') && unmarked.contains(&b'\r') && {
        let lines: Vec<u8> = unmarked
            .iter()
            .map(|&b| if b == b'\r' { b'\n' } else { b })
            .collect();
        has(&lines)
    }
}

/// A YAML file is a uWSGI config when it has a top-level `uwsgi:` key (what
/// uWSGI's own reader looks for); `services:\n  uwsgi:` in Compose is not.
pub fn is_uwsgi_yaml(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).lines().any(|l| {
        let l = l.split('#').next().unwrap_or_default().trim_end();
        l == "uwsgi:"
    })
}

/// A Helm chart's values file (`values*.yaml` beside `Chart.yaml`): its
/// `uwsgi:` key holds values for templates, not a config uWSGI reads.
fn is_chart_values(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("values"))
        && p.parent().is_some_and(|d| d.join("Chart.yaml").is_file())
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
/// hidden files. Texts of the overlay are classified by their content, and
/// those below a directory walked are found even if not saved yet.
pub fn uwsgi_inis(paths: &[PathBuf], overlay: &Overlay) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if !overlay.contains(p) {
            let meta = std::fs::metadata(p)?;
            if !meta.is_file() && !meta.is_dir() {
                // A FIFO or device named on the command line: reading it says
                // why it is not read.
                if format_of(p).is_some() {
                    out.push(p.clone());
                }
                continue;
            }
        }
        if overlay.contains(p) || std::fs::metadata(p)?.is_file() {
            if is_ini(p, overlay) {
                out.push(p.clone());
            }
            continue;
        }
        out.extend(files_under(p, overlay).filter(|f| is_ini(f, overlay)));
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// [`uwsgi_inis`] of `paths`, taking the configs of a directory that is
/// itself a root of `context` from that walk instead of walking it again
/// (the same tree and ignore files give the same files, named from `p`).
pub fn uwsgi_inis_in(
    paths: &[PathBuf],
    context: &ContextFiles,
    overlay: &Overlay,
) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        // A text of the overlay is a file, saved or not.
        let is_dir = !overlay.contains(p) && std::fs::metadata(p)?.is_dir();
        let walked = is_dir
            .then(|| crate::source::canonicalize(p).ok())
            .flatten()
            .and_then(|real| context.roots.iter().find(|r| **r == real));
        match walked {
            Some(root) => out.extend(
                context
                    .configs
                    .iter()
                    .filter_map(|c| c.strip_prefix(root).ok())
                    .map(|rel| p.join(rel)),
            ),
            None => out.extend(uwsgi_inis(std::slice::from_ref(p), overlay)?),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Files below `root`, honouring `.gitignore`, `.ignore` and hidden files,
/// and skipping dependency and build directories; then the overlay's texts
/// below `root` that are not on disk.
fn files_under(root: &Path, overlay: &Overlay) -> impl Iterator<Item = PathBuf> {
    let real = crate::source::canonicalize(root).ok();
    let unsaved = unsaved_under(root, real.as_deref(), overlay);
    entries_under(root)
        .map(|e| e.into_path())
        .chain(unsaved.into_iter().map(|(walked, _)| walked))
}

fn entries_under(root: &Path) -> impl Iterator<Item = ignore::DirEntry> {
    walker(root)
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
}

/// The walk of `root`: ignore files honoured, dependency directories skipped.
/// Not the user's global excludes file (`core.excludesFile` in
/// `~/.gitconfig`): that is outside the project, and what is checked must
/// not depend on whose machine checks it (a CI runner has none).
fn walker(root: &Path) -> ignore::WalkBuilder {
    let mut w = ignore::WalkBuilder::new(root);
    w.require_git(false)
        .git_global(false)
        .filter_entry(|e| !skipped_dir(e));
    w
}

/// A dependency or build directory, never walked into.
fn skipped_dir(e: &ignore::DirEntry) -> bool {
    e.file_type().is_some_and(|t| t.is_dir())
        && SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref())
}

/// A file the walk found: as walked, its real path, and what it is.
type WalkedFile = (PathBuf, PathBuf, Classified);

/// A tree of up to this many entries is walked on the calling thread:
/// starting the walk's threads costs more than such a tree takes (about a
/// millisecond, a fifth of a whole check of a small project).
const SMALL_TREE: usize = 1024;

/// A file entry with its real path and what it is.
fn file_of(
    e: &ignore::DirEntry,
    real: &dyn Fn(&Path, bool) -> Option<PathBuf>,
    overlay: &Overlay,
) -> Option<WalkedFile> {
    if !e.file_type().is_some_and(|t| t.is_file()) {
        return None;
    }
    let walked = e.path().to_path_buf();
    let real = real(&walked, e.path_is_symlink());
    let resolved = real.is_some();
    let p = real.unwrap_or_else(|| walked.clone());
    let mut c = classify(&walked, &p, overlay);
    c.resolved = resolved;
    Some((walked, p, c))
}

/// The files of [`entries_under`], each with its real path and what it is.
/// A large tree is walked and classified on several threads: directories
/// are listed and files read by whichever thread meets them (in no set
/// order).
fn walk_classified(root: &Path, real_root: Option<&Path>, overlay: &Overlay) -> Vec<WalkedFile> {
    // Entries below a canonical root are canonical unless they are links:
    // only those are resolved (a `canonicalize` per file is a `readlink`
    // per path component).
    let real = |walked: &Path, link: bool| match real_root {
        Some(r) if !link => Some(r.join(walked.strip_prefix(root).unwrap_or(walked))),
        _ => crate::source::canonicalize(walked).ok(),
    };
    let first: Vec<ignore::DirEntry> = walker(root)
        .build()
        .flatten()
        .take(SMALL_TREE + 1)
        .collect();
    if first.len() <= SMALL_TREE {
        // (Read in parallel only when there are enough files to pay for it.)
        let classified = crate::parallel::par_map(&first, |e| file_of(e, &real, overlay));
        return classified.into_iter().flatten().collect();
    }
    // Larger: walked again, on every core.
    drop(first);
    let shared = std::sync::Mutex::new(Vec::new());
    walker(root).threads(0).build_parallel().run(|| {
        let (shared, real) = (&shared, &real);
        Box::new(move |e| {
            if let Ok(e) = e {
                // Classified before the lock is taken.
                let file = file_of(&e, real, overlay);
                if let Ok(mut v) = shared.lock() {
                    v.extend(file);
                }
            }
            ignore::WalkState::Continue
        })
    });
    shared.into_inner().unwrap_or_default()
}

/// The overlay's texts below `root` (whose real path is `real_root`) that
/// are not on disk, each named as the walk would name it (below `root`) and
/// by its own path: an editor's new, unsaved file.
fn unsaved_under(
    root: &Path,
    real_root: Option<&Path>,
    overlay: &Overlay,
) -> Vec<(PathBuf, PathBuf)> {
    if overlay.is_empty() {
        return Vec::new();
    }
    let real = real_root.unwrap_or(root);
    let mut v: Vec<(PathBuf, PathBuf)> = overlay
        .paths_under(real)
        .filter(|p| std::fs::symlink_metadata(p).is_err())
        .map(|p| {
            let walked = p
                .strip_prefix(real)
                .map_or_else(|_| p.clone(), |r| root.join(r));
            (walked, p.clone())
        })
        .collect();
    v.sort();
    v
}

fn is_ini(p: &Path, overlay: &Overlay) -> bool {
    let Some(format) = format_of(p) else {
        return false;
    };
    match overlay.read(p) {
        Ok(b) => match format {
            ConfigFormat::Ini => is_uwsgi_ini(&b),
            ConfigFormat::Yaml => is_uwsgi_yaml(&b) && !is_chart_values(p),
        },
        // Too large, unreadable, a FIFO: taken, so that reading it reports
        // why (UW001) instead of the file passing unseen.
        Err(e) => e.kind() != std::io::ErrorKind::NotFound,
    }
}

/// The repository root: the nearest directory above `start` holding `.git`,
/// else `start` itself.
pub fn repo_root(start: &std::path::Path) -> std::path::PathBuf {
    let start = crate::source::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(std::path::Path::to_path_buf)
        .unwrap_or(start)
}

/// The files around the uWSGI configs, by the reader that claimed them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ContextFiles {
    /// The roots walked; context files read through includes stay below them.
    pub roots: Vec<PathBuf>,
    pub claimed: Claimed,
    /// uWSGI configs, as the walk names them (below a root, not resolved),
    /// so that the walk that finds the context finds them too.
    pub configs: Vec<PathBuf>,
    /// The content of claimed files the walk read to classify them, for
    /// their reader (canonical path → bytes).
    pub texts: foldhash::HashMap<PathBuf, Vec<u8>>,
    /// The real path of each of `configs`, as the walk learnt it.
    pub real: foldhash::HashMap<PathBuf, PathBuf>,
}

impl ContextFiles {
    /// The real path of `p`: the walk's, else looked up.
    pub fn real_path(&self, p: &Path) -> std::io::Result<PathBuf> {
        match self.real.get(p) {
            Some(r) => Ok(r.clone()),
            None => crate::source::canonicalize(p),
        }
    }
}

/// The project roots around `paths`: for a file, its repository root,
/// since the container that runs a config is context.
pub fn context_roots(paths: &[PathBuf]) -> Vec<PathBuf> {
    // Files of one directory share its root: looked up once per directory
    // (given every config of a 10,000-service tree, this was 40,000 `stat`s).
    let mut by_dir: foldhash::HashMap<&Path, PathBuf> = foldhash::HashMap::default();
    let mut roots: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            if !p.is_dir() {
                // `uwsgi.ini` has the parent "", which is the current directory.
                let dir = p
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                by_dir.entry(dir).or_insert_with(|| repo_root(dir)).clone()
            } else {
                crate::source::canonicalize(p).unwrap_or_else(|_| p.clone())
            }
        })
        .collect();
    // Sorted by component, a root's descendants follow it directly: one
    // look at the last kept root drops them (a root inside another is
    // walked once), without comparing every pair.
    roots.sort();
    roots.dedup();
    let mut kept: Vec<PathBuf> = Vec::with_capacity(roots.len());
    for r in roots {
        if !kept.last().is_some_and(|k| r.starts_with(k)) {
            kept.push(r);
        }
    }
    kept
}

/// Classify every file under `roots` that describes what runs uWSGI (by the
/// overlay's text where it has one). Files are read and classified in
/// parallel and kept in walk order, so the result does not depend on the
/// scheduling; the content read to classify a claimed file is kept for the
/// reader (each file is read once).
pub fn context(roots: &[PathBuf], overlay: &Overlay) -> ContextFiles {
    let mut out = ContextFiles {
        roots: roots.to_vec(),
        claimed: Claimed::new(),
        configs: Vec::new(),
        texts: foldhash::HashMap::default(),
        real: foldhash::HashMap::default(),
    };
    let mut found: Vec<WalkedFile> = Vec::new();
    for root in roots {
        let real_root = crate::source::canonicalize(root).ok();
        let walked = walk_classified(root, real_root.as_deref(), overlay);
        // Only a file on disk has a real path (an unsaved one has none).
        // (Maps sized up front here and below: a path is slow to hash again
        // at each doubling.)
        out.real
            .reserve(walked.iter().filter(|(_, _, c)| c.config).count());
        for (w, p, c) in &walked {
            if c.config {
                out.real.insert(w.clone(), p.clone());
            }
        }
        // The rest of the run asks for these again (ids, includes, links).
        crate::source::learn_real(
            walked
                .iter()
                .filter(|(_, _, c)| c.resolved)
                .map(|(w, p, _)| (w.clone(), p.clone())),
        );
        found.extend(walked);
        let unsaved = unsaved_under(root, real_root.as_deref(), overlay);
        let classified =
            crate::parallel::par_map(&unsaved, |(walked, p)| classify(walked, p, overlay));
        found.extend(
            unsaved
                .into_iter()
                .zip(classified)
                .map(|((walked, p), c)| (walked, p, c)),
        );
    }
    out.texts.reserve(
        found
            .iter()
            .filter(|(_, _, c)| c.reader.is_some() && c.bytes.is_some())
            .count(),
    );
    for (walked, p, c) in found {
        if c.config {
            out.configs.push(walked);
        }
        // A config's text is kept for the resolver, a claimed file's for its
        // reader; copied only for a file that is both. (An unsaved text is
        // the overlay's, never to be taken for the file.)
        let keep_text = c.config && !overlay.contains(&p);
        match (c.reader, c.bytes) {
            (Some(i), Some(b)) => {
                if keep_text {
                    crate::source::learn_text(p.clone(), b.as_slice().into());
                }
                out.claimed.0[i].push(p.clone());
                out.texts.insert(p, b);
            }
            (Some(i), None) => out.claimed.0[i].push(p),
            (None, Some(b)) if keep_text => crate::source::learn_text(p, b.into()),
            (None, _) => {}
        }
    }
    out.claimed.sort();
    out.configs.sort();
    out.configs.dedup();
    out
}

/// What the walk learnt of one file.
struct Classified {
    /// A uWSGI config (by content).
    config: bool,
    /// The reader that claimed it ([`crate::readers::READERS`] index).
    reader: Option<usize>,
    /// Its content, when reading it was needed to classify it.
    bytes: Option<Vec<u8>>,
    /// Its real path is known (not so for a link that leads nowhere, which
    /// goes by the name it was walked by).
    resolved: bool,
}

fn classify(walked: &Path, p: &Path, overlay: &Overlay) -> Classified {
    // A uWSGI config is found by content, whatever else it is.
    let mut config = false;
    let mut bytes = None;
    if let Some(format) = format_of(walked)
        && let Ok(b) = overlay.read(walked)
    {
        config = match format {
            ConfigFormat::Ini => is_uwsgi_ini(&b),
            ConfigFormat::Yaml => is_uwsgi_yaml(&b) && !is_chart_values(walked),
        };
        bytes = Some(b);
    }
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = p
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let read = || overlay.read(p);
    let mut candidate = Candidate::new(p, &name, &ext, &read);
    if let Some(b) = bytes {
        candidate = candidate.with_bytes(b);
    }
    let reader = crate::readers::claimant(&candidate);
    Classified {
        config,
        reader,
        bytes: (config || reader.is_some())
            .then(|| candidate.into_bytes())
            .flatten(),
        resolved: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A root inside another is dropped; a sibling whose name extends
    /// another's (`a-b` beside `a`) is not inside it.
    #[test]
    fn context_roots_keep_the_outermost() {
        let tmp = tempfile::tempdir().unwrap();
        let base = crate::source::canonicalize(tmp.path()).unwrap();
        for d in ["a/.git", "a/b/.git", "a-b/.git", "c/d"] {
            std::fs::create_dir_all(base.join(d)).unwrap();
        }
        let files: Vec<PathBuf> = ["a/x.ini", "a/b/y.ini", "a/b/z.ini", "a-b/w.ini"]
            .iter()
            .map(|f| base.join(f))
            .chain([base.join("c/d")])
            .collect();
        assert_eq!(
            context_roots(&files),
            vec![base.join("a"), base.join("a-b"), base.join("c/d")]
        );
    }

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
        let found = uwsgi_inis(std::slice::from_ref(&d), &Overlay::new()).unwrap();
        assert_eq!(found, vec![d.join("deploy/uwsgi.ini")]);
    }

    /// Hidden and ignored directories are not walked, unless an ignore
    /// file names them again (`!.deploy/`), as in the one-thread walk.
    #[test]
    fn walk_keeps_the_ignore_rules_for_hidden_names() {
        let tmp = tempfile::tempdir().unwrap();
        let base = crate::source::canonicalize(tmp.path()).unwrap();
        for dir in [
            "repo/.git",
            "repo/app/deploy",
            "repo/.cache/x",
            "repo/.deploy",
            "repo/out",
        ] {
            std::fs::create_dir_all(base.join(dir)).unwrap();
        }
        for (f, text) in [
            ("repo/.gitignore", "out/\n!.deploy/\n"),
            ("repo/app/deploy/uwsgi.ini", "[uwsgi]\nprocesses = 2\n"),
            ("repo/.cache/x/uwsgi.ini", "[uwsgi]\n"),
            ("repo/.deploy/uwsgi.ini", "[uwsgi]\n"),
            ("repo/out/uwsgi.ini", "[uwsgi]\n"),
        ] {
            std::fs::write(base.join(f), text).unwrap();
        }
        let root = base.join("repo");
        let cx = context(std::slice::from_ref(&root), &Overlay::new());
        let mut serial: Vec<PathBuf> = entries_under(&root).map(|e| e.into_path()).collect();
        serial.sort();
        let configs: Vec<PathBuf> = serial
            .iter()
            .filter(|p| p.ends_with("uwsgi.ini"))
            .cloned()
            .collect();
        assert_eq!(
            configs,
            vec![
                root.join(".deploy/uwsgi.ini"),
                root.join("app/deploy/uwsgi.ini")
            ]
        );
        assert_eq!(cx.configs, configs);
        assert_eq!(
            cx.real.get(&root.join("app/deploy/uwsgi.ini")),
            Some(&root.join("app/deploy/uwsgi.ini"))
        );
    }

    /// A tree larger than [`SMALL_TREE`] is walked on several threads and
    /// gives what the one-thread walk gives.
    #[test]
    fn a_large_tree_walked_in_parallel_finds_the_same() {
        let tmp = tempfile::tempdir().unwrap();
        let root = crate::source::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for i in 0..70 {
            let d = root.join(format!("svc-{i:02}"));
            std::fs::create_dir_all(d.join("deploy")).unwrap();
            std::fs::write(d.join("deploy/uwsgi.ini"), "[uwsgi]\nprocesses = 2\n").unwrap();
            std::fs::write(d.join("Dockerfile"), "FROM python\n").unwrap();
            if i % 3 == 0 {
                std::fs::write(d.join("README.md"), "x\n").unwrap();
            }
            for j in 0..14 {
                std::fs::write(d.join(format!("m{j}.py")), "x = 1\n").unwrap();
            }
        }
        let cx = context(std::slice::from_ref(&root), &Overlay::new());
        let serial: Vec<PathBuf> = entries_under(&root).map(|e| e.into_path()).collect();
        assert!(serial.len() > SMALL_TREE, "{} files", serial.len());
        let mut want: Vec<PathBuf> = serial
            .iter()
            .filter(|p| p.ends_with("deploy/uwsgi.ini"))
            .cloned()
            .collect();
        want.sort();
        assert_eq!(cx.configs, want);
        assert_eq!(cx.claimed.of("dockerfile").len(), 70);
    }
}
