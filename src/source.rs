//! Source files, byte spans and line indexes.
//!
//! Everything downstream refers to text by `(FileId, Span)`; conversion to
//! human line/column (and to UTF-16 for the LSP) happens only in renderers.

use std::path::{Path, PathBuf};

/// Index of a file inside a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct FileId(pub u32);

/// A half-open byte range `start..end` into one file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        debug_assert!(start <= end);
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
    /// Smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// A file's bytes (not necessarily UTF-8: uWSGI reads bytes) and its line index.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as the user or the including file named it (used for display).
    pub name: String,
    /// The path used to read it, if it came from disk.
    pub path: Option<PathBuf>,
    pub bytes: Vec<u8>,
    pub lines: LineIndex,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, path: Option<PathBuf>, bytes: Vec<u8>) -> SourceFile {
        let lines = LineIndex::new(&bytes);
        SourceFile {
            name: name.into(),
            path,
            bytes,
            lines,
        }
    }

    pub fn slice(&self, span: Span) -> &[u8] {
        let end = span.end.min(self.bytes.len());
        let start = span.start.min(end);
        &self.bytes[start..end]
    }

    /// The text of a span, with invalid UTF-8 replaced (for messages only).
    pub fn text(&self, span: Span) -> String {
        String::from_utf8_lossy(self.slice(span)).into_owned()
    }

    /// 1-based line and column (columns count Unicode scalar values).
    pub fn line_col(&self, offset: usize) -> LineCol {
        self.lines.line_col(&self.bytes, offset)
    }
}

/// A human position: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Start offsets of every line. Lines end at `\n` only (as uWSGI splits them);
/// a `\r` before it belongs to the line's content.
#[derive(Debug, Clone, Default)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(bytes: &[u8]) -> LineIndex {
        let mut starts = vec![0];
        // memchr: every keystroke in an editor indexes the whole file.
        starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        LineIndex { starts }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Byte offset where 0-based line `line` starts.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.starts.get(line).copied()
    }

    fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    /// 1-based line/column; an offset past the end clamps to the end.
    pub fn line_col(&self, bytes: &[u8], offset: usize) -> LineCol {
        let offset = offset.min(bytes.len());
        let line = self.line_of(offset);
        let start = self.starts[line];
        let column = String::from_utf8_lossy(&bytes[start..offset])
            .chars()
            .count()
            + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// 0-based line and UTF-16 code unit column, as the LSP counts.
    pub fn utf16_position(&self, bytes: &[u8], offset: usize) -> (usize, usize) {
        let offset = offset.min(bytes.len());
        let line = self.line_of(offset);
        let start = self.starts[line];
        let col = String::from_utf8_lossy(&bytes[start..offset])
            .chars()
            .map(char::len_utf16)
            .sum();
        (line, col)
    }

    /// 0-based line and byte column (the LSP's UTF-8 position encoding).
    pub fn utf8_position(&self, bytes: &[u8], offset: usize) -> (usize, usize) {
        let offset = offset.min(bytes.len());
        let line = self.line_of(offset);
        (line, offset - self.starts[line])
    }

    /// Inverse of [`utf8_position`]: clamped to the line's end (before its `\n`).
    pub fn offset_of_utf8(&self, bytes: &[u8], line: usize, col: usize) -> usize {
        let Some(&start) = self.starts.get(line) else {
            return bytes.len();
        };
        let end = match self.starts.get(line + 1) {
            Some(next) => next - 1,
            None => bytes.len(),
        };
        (start + col).min(end)
    }

    /// Inverse of [`utf16_position`]: the byte offset for an LSP position.
    pub fn offset_of_utf16(&self, bytes: &[u8], line: usize, col: usize) -> usize {
        let Some(&start) = self.starts.get(line) else {
            return bytes.len();
        };
        let end = self.starts.get(line + 1).copied().unwrap_or(bytes.len());
        let mut units = 0;
        let mut pos = start;
        while pos < end && units < col {
            let rest = &bytes[pos..end];
            let (ch_len, u16_len) = match std::str::from_utf8(&rest[..rest.len().min(4)]) {
                Ok(s) => s.chars().next().map(|c| (c.len_utf8(), c.len_utf16())),
                Err(e) if e.valid_up_to() > 0 => std::str::from_utf8(&rest[..e.valid_up_to()])
                    .ok()
                    .and_then(|s| s.chars().next())
                    .map(|c| (c.len_utf8(), c.len_utf16())),
                Err(_) => None,
            }
            .unwrap_or((1, 1));
            pos += ch_len;
            units += u16_len;
        }
        pos
    }
}

/// What [`canonicalize`] learnt during one run: the working directory, and
/// the real path of each path it resolved (directories and files).
/// Forgotten when a run begins ([`begin_run`]), so that an editor session
/// never answers from an older tree.
#[derive(Default)]
struct Learnt {
    cwd: Option<PathBuf>,
    real: foldhash::HashMap<PathBuf, PathBuf>,
    /// uWSGI configs the walk read, by real path: the resolver reads each
    /// again, and an include shared by every config many times.
    texts: foldhash::HashMap<PathBuf, std::sync::Arc<[u8]>>,
}

/// `p` is spelt as a directory (`x/`, `x/.`): realpath then asks more of
/// it than of `x` (a file fails, a link to a directory resolves), while
/// `Path` compares and hashes it as `x`, so what was learnt of `x` does
/// not answer for it.
fn spelt_as_dir(p: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let b = p.as_os_str().as_bytes();
    b.len() > 1 && (b.ends_with(b"/") || b.ends_with(b"/."))
}

impl Learnt {
    /// How `canonicalize` names `p` among what it learnt: absolute. None
    /// for a path [`spelt_as_dir`].
    fn key<'p>(&self, p: &'p Path) -> Option<std::borrow::Cow<'p, Path>> {
        if spelt_as_dir(p) {
            return None;
        }
        if p.is_absolute() {
            Some(std::borrow::Cow::Borrowed(p))
        } else {
            Some(std::borrow::Cow::Owned(self.cwd.as_ref()?.join(p)))
        }
    }
}

fn learnt() -> std::sync::MutexGuard<'static, Learnt> {
    static LEARNT: std::sync::OnceLock<std::sync::Mutex<Learnt>> = std::sync::OnceLock::new();
    let m = LEARNT.get_or_init(Default::default);
    // A panic elsewhere while holding it leaves nothing half-written.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A run (a check, an editor's analysis) begins: the tree may have changed
/// since the last one, so nothing [`canonicalize`] learnt before is kept.
pub fn begin_run() {
    let mut l = learnt();
    *l = Learnt {
        cwd: std::env::current_dir().ok(),
        ..Learnt::default()
    };
}

/// The working directory, as learnt when the run began.
pub fn cwd() -> std::io::Result<PathBuf> {
    let known = learnt().cwd.clone();
    known.map_or_else(std::env::current_dir, Ok)
}

/// Real paths learnt elsewhere in this run (the walk knows the real path of
/// every file it met that is no link), as `canonicalize` would have found
/// them: each key an absolute path without `.` or `..`.
pub fn learn_real(pairs: impl IntoIterator<Item = (PathBuf, PathBuf)>) {
    let pairs = pairs.into_iter();
    let mut l = learnt();
    // Sized up front: the walk hands over tens of thousands at once, and a
    // path is slow to hash again at each doubling.
    l.real.reserve(pairs.size_hint().1.unwrap_or(0));
    l.real.extend(pairs.filter(|(k, _)| {
        !spelt_as_dir(k)
            && k.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::RootDir | std::path::Component::Normal(_)
                )
            })
    }));
}

/// `p.exists()`, answered without a system call for a path already
/// resolved in this run (the walk resolves every file it meets).
pub fn exists(p: &Path) -> bool {
    let known = {
        let l = learnt();
        l.key(p).is_some_and(|k| l.real.contains_key(k.as_ref()))
    };
    known || p.exists()
}

/// The content of the file at real path `real`, read in this run.
pub fn learn_text(real: PathBuf, bytes: std::sync::Arc<[u8]>) {
    learnt().texts.insert(real, bytes);
}

/// The content of `path` as read earlier in this run, if its real path is
/// already known (no system call is made to find out).
pub fn learnt_text(path: &Path) -> Option<Vec<u8>> {
    let l = learnt();
    let real = l.real.get(l.key(path)?.as_ref())?;
    l.texts.get(real).map(|t| t.to_vec())
}

/// `std::fs::canonicalize` (realpath), each directory and file resolved
/// once per run: a path is its resolved parent joined with its name unless
/// it is a link, which one `lstat` tells. realpath itself reads every
/// component again (a failing `readlink` each), and the pipeline asks for
/// most paths several times; for a tree of 50k files these calls were the
/// larger part of the system time. `a/b/../c` is resolved through the real
/// path of `a/b`, as realpath does; links, paths spelt as directories and
/// anything unusual go to realpath itself. Reads only; a tree that changes
/// during a run may be seen as it was.
pub fn canonicalize(p: impl AsRef<Path>) -> std::io::Result<PathBuf> {
    use std::path::Component;
    let p = p.as_ref();
    if spelt_as_dir(p) {
        return realpath(p);
    }
    // `./a` is `a`; a relative path is below the working directory.
    let joined;
    let p = if p.is_absolute() {
        p
    } else {
        let Ok(cwd) = cwd() else {
            return realpath(p);
        };
        joined = cwd.join(
            p.components()
                .filter(|c| *c != Component::CurDir)
                .collect::<PathBuf>(),
        );
        &joined
    };
    if let Some(known) = learnt().real.get(p) {
        return Ok(known.clone());
    }
    let parts: Vec<Component> = p.components().collect();
    // `a/b/../c` (an include relative to its file): realpath resolves `a/b`
    // and steps up from where that really is, so do the same through what
    // is known, instead of realpath reading every component again.
    if let Some(i) = parts.iter().position(|c| *c == Component::ParentDir) {
        let before: PathBuf = parts[..i].iter().collect();
        let real = canonicalize(&before)?;
        if !std::fs::metadata(&real)?.is_dir() {
            return realpath(p);
        }
        // (`/..` is `/`.)
        let up = real.parent().map_or(real.clone(), Path::to_path_buf);
        let after: PathBuf = parts[i + 1..].iter().collect();
        let real = if after.as_os_str().is_empty() {
            canonicalize(&up)?
        } else {
            canonicalize(up.join(after))?
        };
        learnt().real.insert(p.to_path_buf(), real.clone());
        return Ok(real);
    }
    let plain = parts
        .iter()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)));
    let (Some(parent), Some(name), true) = (p.parent(), p.file_name(), plain) else {
        return realpath(p);
    };
    let meta = std::fs::symlink_metadata(p)?;
    let real = if meta.file_type().is_symlink() {
        realpath(p)?
    } else {
        canonicalize(parent)?.join(name)
    };
    learnt().real.insert(p.to_path_buf(), real.clone());
    Ok(real)
}

fn realpath(p: &Path) -> std::io::Result<PathBuf> {
    crate::stats::realpath();
    std::fs::canonicalize(p)
}

/// All files read during one run, addressed by [`FileId`].
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    /// The first file read from each path (looked up for every include).
    by_path: foldhash::HashMap<PathBuf, FileId>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        let id = FileId(self.files.len() as u32);
        if let Some(p) = &file.path {
            self.by_path.entry(p.clone()).or_insert(id);
        }
        self.files.push(file);
        id
    }

    /// Add the files of `other` that this map has not read (by path),
    /// in order; the id each of `other`'s files has here, by its old id.
    pub fn merge(&mut self, other: SourceMap) -> Vec<FileId> {
        other
            .files
            .into_iter()
            .map(|f| match f.path.as_ref().and_then(|p| self.find_path(p)) {
                Some(id) => id,
                None => self.add(f),
            })
            .collect()
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// Put a new text in place of a file's (same id, same path): an
    /// incremental session re-reads a changed file under its old id.
    pub fn replace_bytes(&mut self, id: FileId, bytes: Vec<u8>) {
        let old = &self.files[id.0 as usize];
        let file = SourceFile::new(old.name.clone(), old.path.clone(), bytes);
        self.files[id.0 as usize] = file;
    }

    /// The id of a file already read from `path`, if any.
    pub fn find_path(&self, path: &Path) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Largest file read as a config or context file.
pub const MAX_FILE: usize = 16 << 20;

/// Read a regular file, at most `max` bytes (larger is an error saying so).
///
/// The file is opened without blocking and its type checked on the open
/// handle: opening a FIFO for reading blocks until a writer comes, and a
/// device such as `/dev/zero` never ends, so a config naming either must not
/// be able to hang or exhaust the tool.
pub fn read_regular(path: &Path, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other(
            "not a regular file (a FIFO, device or directory is never read)",
        ));
    }
    if meta.len() > max as u64 {
        return Err(too_large(max));
    }
    // One read for the usual file: asked for one byte more than its size,
    // a read that returns exactly the size is at the end (`read_to_end`
    // would ask again to be told so: a second call for every file).
    let len = meta.len() as usize;
    let mut buf = vec![0; len + 1];
    let n = loop {
        match (&file).read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => break r?,
        }
    };
    buf.truncate(n);
    if n != len {
        // Cut short, or grown since: read on to the end as usual.
        (&file)
            .take(max.saturating_add(1).saturating_sub(n) as u64)
            .read_to_end(&mut buf)?;
    }
    if buf.len() > max {
        return Err(too_large(max));
    }
    Ok(buf)
}

fn too_large(max: usize) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!("larger than {}; not read", crate::units::Bytes(max as u64)),
    )
}

/// The text of `bytes` with each byte that is not UTF-8 replaced by `?`:
/// one byte for one, so offsets into the text are offsets into the bytes
/// (U+FFFD is three bytes; found by fuzzing: spans past the end of a file).
pub fn lossy_same_offsets(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    // Rules call this on every value at every keystroke; most are UTF-8.
    if let Ok(s) = std::str::from_utf8(bytes) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(std::iter::repeat_n('?', chunk.invalid().len()));
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the run learnt answers as realpath does: through links to
    /// directories, `..` after a link, a file taken for a directory, a link
    /// that leads nowhere, a missing file, names spelt as directories
    /// (`x/`, found by review: `x` learnt, `x/` was answered by it); asked
    /// twice (the second answer comes from what was learnt).
    #[test]
    fn canonicalize_agrees_with_realpath() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(base.join("a/b/c")).unwrap();
        std::fs::write(base.join("a/b/c/x.ini"), "[uwsgi]\n").unwrap();
        std::fs::write(base.join("a/f"), "").unwrap();
        std::os::unix::fs::symlink(base.join("a/b/c"), base.join("link")).unwrap();
        std::os::unix::fs::symlink(base.join("nowhere"), base.join("dangling")).unwrap();
        std::os::unix::fs::symlink("b/c/x.ini", base.join("a/rel.ini")).unwrap();
        let asked = [
            "a/b/c/x.ini",
            "a/b/c/../c/x.ini",
            "a/b/../../a/f",
            "link/x.ini",
            "link/../c/x.ini",
            "link/../../f",
            "a/rel.ini",
            "a/f/../f",
            "a/f/x",
            "dangling",
            "dangling/../a",
            "missing/../a",
            "a/b/c/missing.ini",
            "a/..",
            // Spelt as directories: a file fails, a link resolves, though
            // `Path` takes each for the name without the slash.
            "a/f/",
            "a/f/.",
            "a/b/../f/",
            "link/",
            "link/.",
            "link/../c/",
            "a/rel.ini/",
        ];
        begin_run();
        for _ in 0..2 {
            for rel in asked {
                let p = base.join(rel);
                let ours = canonicalize(&p).map_err(|e| e.kind());
                let real = std::fs::canonicalize(&p).map_err(|e| e.kind());
                assert_eq!(
                    ours.is_ok(),
                    real.is_ok(),
                    "{rel}: {ours:?} against {real:?}"
                );
                if real.is_ok() {
                    assert_eq!(ours, real, "{rel}");
                }
                assert_eq!(exists(&p), p.exists(), "{rel}");
            }
        }
    }

    /// A file is read whole in one go, and a limit still holds.
    #[test]
    fn read_regular_reads_whole_files() {
        let tmp = tempfile::tempdir().unwrap();
        for len in [0usize, 1, 4095, 4096, 70_000] {
            let p = tmp.path().join(format!("f{len}"));
            let body: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(&p, &body).unwrap();
            assert_eq!(read_regular(&p, MAX_FILE).unwrap(), body, "{len}");
            if len > 0 {
                let e = read_regular(&p, len - 1).unwrap_err();
                assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge, "{len}");
            }
        }
    }

    #[test]
    fn line_col_counts_scalar_values() {
        let text = "a = 1\nbé = x\n".as_bytes();
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, column: 1 });
        // "bé = " is 6 bytes but 5 characters
        let off = "a = 1\nbé = ".len();
        assert_eq!(idx.line_col(text, off), LineCol { line: 2, column: 6 });
        assert_eq!(idx.line_col(text, 10_000).line, 3);
    }

    #[test]
    fn utf16_round_trip() {
        let text = "x = 😀y\n".as_bytes();
        let idx = LineIndex::new(text);
        let off = "x = 😀".len();
        assert_eq!(idx.utf16_position(text, off), (0, 6));
        assert_eq!(idx.offset_of_utf16(text, 0, 6), off);
    }

    #[test]
    fn invalid_utf8_does_not_panic() {
        let text = b"k = \xff\xfe\nz";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 6).column, 7);
        assert_eq!(idx.offset_of_utf16(text, 0, 5), 5);
    }
}
