//! Readers of the files around uWSGI configs: each input format is one
//! module behind [`Reader`], and [`READERS`] lists them. The walk offers
//! every file to the readers in order (the first to claim it reads it);
//! the pipeline knows no format by name. Adding a format is one module
//! and one line in [`READERS`].

pub mod aws;
pub mod aws_fronts;
pub mod cloudformation;
pub mod compose;
pub mod configmap;
pub mod copilot;
pub mod dockerfile;
pub mod ecs;
pub mod helm;
pub mod kubernetes;
pub mod nginx;
pub mod pins;
pub mod script;
pub mod supervisord;
pub mod terraform;

use foldhash::HashMap;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use crate::deployment::Project;
use crate::input::Overlay;
use crate::source::{FileId, SourceFile, SourceMap, Span};

/// One input format.
pub trait Reader: Sync {
    /// Its short name (`compose`, `nginx` …), as `-v` shows it.
    fn name(&self) -> &'static str;
    /// Is `file` one of this format's? By name first, content if needed.
    fn claims(&self, file: &Candidate) -> bool;
    /// Read every claimed file into the project (`files` sorted).
    fn read(&self, files: &[PathBuf], cx: &mut ReadContext);
}

/// Every reader, in the order files are offered to them.
pub static READERS: &[&dyn Reader] = &[
    &dockerfile::Dockerfiles,
    &pins::Pins,
    &terraform::TerraformFiles,
    &cloudformation::Templates,
    &copilot::Manifests,
    &ecs::EcsTasks,
    &helm::Charts,
    &kubernetes::Manifests,
    &compose::ComposeFiles,
    &supervisord::SupervisordConfs,
    &script::Scripts,
    &nginx::NginxConfigs,
];

/// The reader named `name`.
pub fn find(name: &str) -> Option<&'static dyn Reader> {
    READERS.iter().copied().find(|r| r.name() == name)
}

/// A file the walk found, offered to the readers; its content is read at
/// most once, and only if a reader asks.
pub struct Candidate<'a> {
    pub path: &'a Path,
    /// The file name, as written.
    pub name: &'a str,
    /// The extension, lower-case (`""` when none).
    pub ext: &'a str,
    read: &'a dyn Fn() -> std::io::Result<Vec<u8>>,
    bytes: OnceCell<Result<Vec<u8>, std::io::ErrorKind>>,
}

impl<'a> Candidate<'a> {
    pub fn new(
        path: &'a Path,
        name: &'a str,
        ext: &'a str,
        read: &'a dyn Fn() -> std::io::Result<Vec<u8>>,
    ) -> Self {
        Candidate {
            path,
            name,
            ext,
            read,
            bytes: OnceCell::new(),
        }
    }

    /// With the content already read.
    pub fn with_bytes(mut self, bytes: Vec<u8>) -> Self {
        self.bytes = OnceCell::from(Ok(bytes));
        self
    }

    /// The content; `None` when it cannot be read.
    pub fn text(&self) -> Option<&[u8]> {
        self.bytes
            .get_or_init(|| (self.read)().map_err(|e| e.kind()))
            .as_deref()
            .ok()
    }

    /// The file exists but cannot be read (too large, unreadable, not a
    /// regular file): a reader that claims it by name reports why.
    pub fn unreadable(&self) -> bool {
        self.text().is_none()
            && self
                .bytes
                .get()
                .is_some_and(|r| r.as_ref().err() != Some(&std::io::ErrorKind::NotFound))
    }

    /// The content, if it was read.
    pub fn into_bytes(self) -> Option<Vec<u8>> {
        self.bytes.into_inner().and_then(Result::ok)
    }

    /// The content as text (lossy), or `""`.
    pub fn str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.text().unwrap_or_default())
    }
}

/// The first reader (index into [`READERS`]) that claims `file`.
pub fn claimant(file: &Candidate) -> Option<usize> {
    READERS.iter().position(|r| r.claims(file))
}

/// Files of the project by the reader that claimed them, in [`READERS`] order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Claimed(pub Vec<Vec<PathBuf>>);

impl Claimed {
    pub fn new() -> Self {
        Claimed(vec![Vec::new(); READERS.len()])
    }

    /// Offer `file` to the readers; the first to claim it keeps it.
    pub fn offer(&mut self, file: &Candidate) -> bool {
        match claimant(file) {
            Some(i) => {
                self.0[i].push(file.path.to_path_buf());
                true
            }
            None => false,
        }
    }

    /// Every claimed file.
    pub fn all(&self) -> impl Iterator<Item = &PathBuf> {
        self.0.iter().flatten()
    }

    /// The files `name` claimed.
    pub fn of(&self, name: &str) -> &[PathBuf] {
        READERS
            .iter()
            .position(|r| r.name() == name)
            .map_or(&[], |i| &self.0[i][..])
    }

    pub fn sort(&mut self) {
        for v in &mut self.0 {
            v.sort();
            v.dedup();
        }
    }
}

/// A file read and parsed by [`ReadContext::read_parsed`].
pub struct Parsed<'f, T> {
    pub path: &'f PathBuf,
    pub id: FileId,
    pub text: String,
    pub value: T,
}

/// A problem a reader found in a file: `UW001` (cannot be read as its
/// format), `UW002` (an include is missing), `UW004` (partly unknown).
#[derive(Debug, Clone)]
pub struct Problem {
    pub code: &'static str,
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// What readers read with and into: the files loaded so far (each added to
/// the source map once), the problems found, and the project model.
pub struct ReadContext<'a> {
    pub overlay: &'a Overlay,
    pub sources: &'a mut SourceMap,
    pub cwd: PathBuf,
    pub ids: HashMap<PathBuf, FileId>,
    /// Problems found in the files read, turned into findings later.
    pub problems: Vec<Problem>,
    /// Templates (or parts) read only once rendered: no findings.
    pub not_read: Vec<crate::model::NotRead>,
    /// The roots walked: files read through includes stay below them.
    pub roots: &'a [PathBuf],
    /// `--nginx-prefix`: where Nginx's relative includes start.
    pub nginx_prefix: Option<&'a Path>,
    pub project: Project,
    /// The file id of each part of each Nginx configuration.
    pub nginx_ids: Vec<Vec<FileId>>,
    /// Texts embedded in the files read (a ConfigMap's `uwsgi.ini`), by
    /// their [`crate::input::embedded_path`]: read like files.
    pub embedded: HashMap<PathBuf, Vec<u8>>,
    /// Which of them are uWSGI configs, in the order found.
    pub embedded_configs: Vec<PathBuf>,
    /// Content the walk already read (taken on first use, so each file is
    /// read from disk once).
    pub prefetched: HashMap<PathBuf, Vec<u8>>,
}

impl ReadContext<'_> {
    /// Read `path` once into the source map: its id and text. A file that
    /// exists but cannot be read is reported once (UW001), never skipped
    /// silently.
    pub fn read(&mut self, path: &Path) -> Option<(FileId, String)> {
        let bytes = match self.take_bytes(path) {
            Ok(b) => b,
            Err(e) => {
                self.unreadable(path, &e);
                return None;
            }
        };
        let text = crate::source::lossy_same_offsets(&bytes).into_owned();
        let id = match self.ids.get(path) {
            Some(id) => *id,
            None => {
                let file = self.source_file(path, bytes);
                self.register(path, file)
            }
        };
        Some((id, text))
    }

    /// The content of `path`: what the walk read, an embedded text, or the
    /// file.
    fn take_bytes(&mut self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.prefetched.remove(path).map(Ok).unwrap_or_else(|| {
            self.embedded
                .get(path)
                .map_or_else(|| self.overlay.read(path), |b| Ok(b.clone()))
        })
    }

    /// A file that exists but cannot be read: reported once (UW001).
    fn unreadable(&mut self, path: &Path, e: &std::io::Error) {
        if e.kind() != std::io::ErrorKind::NotFound && !self.ids.contains_key(path) {
            let id = self.sources.add(SourceFile::new(
                crate::uwsgi::resolve::display_name(&self.cwd, path),
                Some(path.to_path_buf()),
                Vec::new(),
            ));
            self.ids.insert(path.to_path_buf(), id);
            self.problem("UW001", id, Span::default(), format!("cannot read it: {e}"));
        }
    }

    /// `path` read as `bytes`, as the source map holds it (no `&mut`: built
    /// on any thread).
    fn source_file(&self, path: &Path, bytes: Vec<u8>) -> SourceFile {
        SourceFile::new(
            crate::uwsgi::resolve::display_name(&self.cwd, &crate::input::shown_path(path)),
            Some(path.to_path_buf()),
            bytes,
        )
    }

    /// The id of `path`: the one it has, else `file` added.
    fn register(&mut self, path: &Path, file: SourceFile) -> FileId {
        if let Some(id) = self.ids.get(path) {
            return *id;
        }
        let id = self.sources.add(file);
        self.ids.insert(path.to_path_buf(), id);
        id
    }

    /// Does `path` (links followed) lie inside a root walked? Files a
    /// context file names are read only then.
    pub fn inside(&self, path: &Path) -> bool {
        crate::source::canonicalize(path)
            .is_ok_and(|real| self.roots.iter().any(|r| real.starts_with(r)))
    }

    /// A problem with a context file (unreadable, malformed, a template).
    pub fn problem(&mut self, code: &'static str, file: FileId, span: Span, message: String) {
        self.problems.push(Problem {
            code,
            file,
            span,
            message,
        });
    }

    /// A template, or part of one, that is read only once rendered.
    pub fn not_read(&mut self, file: FileId, span: Span, message: String) {
        self.not_read.push(crate::model::NotRead {
            file,
            span,
            message,
        });
    }

    /// Run every reader on the files it claimed.
    pub fn read_all(&mut self, claimed: &Claimed) {
        self.prefetch(claimed);
        for (reader, files) in READERS.iter().zip(&claimed.0) {
            reader.read(files, self);
        }
        // Kept to the end of the check: without their growth slack (a
        // container or an Nginx model is large, and a big tree has thousands).
        let p = &mut self.project;
        p.containers.shrink_to_fit();
        p.dockerfiles.shrink_to_fit();
        p.nginx.shrink_to_fit();
    }

    /// Read the claimed files the walk did not read (claimed by name), in
    /// parallel: each reader then takes its files' content from memory.
    fn prefetch(&mut self, claimed: &Claimed) {
        let missing: Vec<&PathBuf> = claimed
            .all()
            .filter(|p| !self.prefetched.contains_key(*p) && !self.embedded.contains_key(*p))
            .collect();
        let overlay = self.overlay;
        let read = crate::parallel::par_map(&missing, |p| overlay.read(p).ok());
        for (p, b) in missing.into_iter().zip(read) {
            // An error is met again, and reported, when the reader reads it.
            if let Some(b) = b {
                self.prefetched.insert(p.clone(), b);
            }
        }
    }

    /// Each of `files` read into the source map in order (which fixes the
    /// file ids), then `parse` of every text in parallel: a reader's pure,
    /// costly step. The files that cannot be read are left out (reported).
    pub fn read_parsed<'f, T: Send>(
        &mut self,
        files: &'f [PathBuf],
        parse: impl Fn(&Path, &str) -> T + Sync + Send,
    ) -> Vec<Parsed<'f, T>> {
        // Each file's text, line index and parse built on the pool; then,
        // in order, the ids given and what cannot be read reported, as one
        // `read` after another would.
        let taken: Vec<(&PathBuf, std::io::Result<Vec<u8>>)> =
            files.iter().map(|f| (f, self.take_bytes(f))).collect();
        let this = &*self;
        let built = crate::parallel::par_map_owned(taken, |(f, bytes)| {
            bytes
                .map(|bytes| {
                    let text = crate::source::lossy_same_offsets(&bytes).into_owned();
                    let value = parse(f, &text);
                    // (Dropped by `register` for a file read before.)
                    (text, value, this.source_file(f, bytes))
                })
                .map_err(|e| (f, e))
                .map(|built| (f, built))
        });
        let mut out = Vec::with_capacity(built.len());
        for b in built {
            match b {
                Ok((path, (text, value, file))) => out.push(Parsed {
                    path,
                    id: self.register(path, file),
                    text,
                    value,
                }),
                Err((path, e)) => self.unreadable(path, &e),
            }
        }
        out
    }
}

/// The YAML documents of a claimed file, or `None` with the reason
/// reported: a template (Jinja, Go) is YAML only once rendered (UW004);
/// anything else that does not parse is UW001.
pub fn yaml_documents(
    cx: &mut ReadContext,
    id: FileId,
    text: &str,
) -> Option<Vec<crate::container::yaml::Node>> {
    yaml_parsed(cx, id, text, crate::container::yaml::parse(text))
}

/// [`yaml_documents`] of a text already parsed (`parsed`: the documents,
/// or what a reader made of them on another thread).
pub fn yaml_parsed<T>(
    cx: &mut ReadContext,
    id: FileId,
    text: &str,
    parsed: Result<T, crate::container::yaml::YamlError>,
) -> Option<T> {
    match parsed {
        Ok(d) => Some(d),
        Err(e) => {
            // Over the alias budget: said whatever the file is.
            if crate::container::is_template(text) && !e.message.contains("aliases expand") {
                cx.not_read(
                    id,
                    e.span,
                    "a template (Jinja or Go placeholders) is YAML only once rendered: its containers and limits are not read".into(),
                );
            } else {
                cx.problem(
                    "UW001",
                    id,
                    e.span,
                    format!("not valid YAML: {}", e.message),
                );
            }
            None
        }
    }
}

/// A YAML file by extension.
pub fn is_yaml(file: &Candidate) -> bool {
    matches!(file.ext, "yml" | "yaml")
}

/// What reading an ECS task found wrong (UW001) or left unknown until it
/// is deployed (UW004), said at its place.
pub fn report_task(
    cx: &mut ReadContext,
    id: FileId,
    task: &crate::container::ecs::EcsTask,
    unknowns: Vec<crate::container::At<String>>,
) {
    for p in &task.problems {
        cx.problem(
            "UW001",
            id,
            p.span,
            format!("ECS task definition: {}", p.value),
        );
    }
    for u in unknowns {
        cx.problem("UW004", id, u.span, u.value);
    }
}
