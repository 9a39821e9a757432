//! Loading an Nginx configuration as Nginx does: `include file|mask`
//! spliced in place, a relative path taken against the configuration
//! prefix (the main file's directory unless given), masks expanded with
//! glob in sorted order, an empty match no error. Also the `nginx -T` dump:
//! `# configuration file /path:` headers followed by each file's contents,
//! includes then resolved among the dumped files.

use std::path::{Path, PathBuf};

use crate::nginx::syntax::{self, Config, Directive};
use crate::source::Span;

/// One file of a loaded set: where its bytes are shown from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The file on disk that holds the text (the dump file for a dump).
    pub path: PathBuf,
    /// Where the file's text starts in `path` (non-zero inside a dump).
    pub offset: usize,
    /// The name Nginx knows it by.
    pub name: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: usize,
    pub span: Span,
    pub message: String,
    /// An include naming no file (UW002), else a syntax error (UW001).
    pub missing_include: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub parts: Vec<Part>,
    pub config: Config,
    pub problems: Vec<Problem>,
}

const DUMP_HEADER: &str = "# configuration file ";

/// Is this text an `nginx -T` dump?
pub fn is_dump(text: &[u8]) -> bool {
    text.starts_with(DUMP_HEADER.as_bytes())
        || text
            .split(|b| *b == b'\n')
            .take(3)
            .any(|l| l.starts_with(DUMP_HEADER.as_bytes()) && l.ends_with(b":"))
}

/// The files of a dump: (name, offset of its text, text).
fn split_dump(text: &[u8]) -> Vec<(PathBuf, usize, &[u8])> {
    let mut out: Vec<(PathBuf, usize, usize)> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive(|b| *b == b'\n') {
        let l = String::from_utf8_lossy(line);
        let l = l.trim_end();
        if let Some(name) = l
            .strip_prefix(DUMP_HEADER)
            .and_then(|r| r.strip_suffix(':'))
        {
            if let Some(last) = out.last_mut() {
                last.2 = pos;
            }
            out.push((PathBuf::from(name), pos + line.len(), text.len()));
        }
        pos += line.len();
    }
    out.into_iter()
        .map(|(n, a, b)| (n, a, &text[a..b]))
        .collect()
}

/// Where included files come from: the disk (only below these roots: an
/// untrusted config must not pull `/home/runner/.ssh/id_rsa` into a report),
/// or a dump.
enum Files<'a> {
    Disk(Vec<PathBuf>, &'a crate::input::Overlay),
    Dump(&'a Path, Vec<(PathBuf, usize, &'a [u8])>),
}

impl Files<'_> {
    /// A disk path outside the roots (a dump holds only its own files).
    fn outside(&self, name: &Path) -> bool {
        match self {
            Files::Disk(roots, _) => crate::confine::is_outside(roots, name),
            Files::Dump(..) => false,
        }
    }

    fn read(&self, name: &Path) -> Option<(Part, Vec<u8>)> {
        match self {
            Files::Disk(roots, overlay) => {
                let real = crate::source::canonicalize(name)
                    .ok()
                    .or_else(|| overlay.contains(name).then(|| name.to_path_buf()))?;
                if !roots.iter().any(|r| real.starts_with(r)) {
                    return None;
                }
                let bytes = overlay.read(name).ok()?;
                Some((
                    Part {
                        path: name.to_path_buf(),
                        offset: 0,
                        name: name.to_path_buf(),
                    },
                    bytes,
                ))
            }
            Files::Dump(dump, files) => {
                files.iter().find(|(n, _, _)| n == name).map(|(n, at, t)| {
                    (
                        Part {
                            path: dump.to_path_buf(),
                            offset: *at,
                            name: n.clone(),
                        },
                        t.to_vec(),
                    )
                })
            }
        }
    }

    fn expand(&self, pattern: &Path) -> Vec<PathBuf> {
        let text = pattern.to_string_lossy();
        if !text.contains(['*', '?', '[']) {
            return vec![pattern.to_path_buf()];
        }
        match self {
            Files::Disk(roots, _) => {
                // Never walk or list outside (`include /etc/*;`, `/**/*.conf`).
                if crate::confine::glob_outside(roots, pattern) {
                    return Vec::new();
                }
                let mut v: Vec<PathBuf> = glob::glob(&text)
                    .map(|g| {
                        g.flatten()
                            // Matches reached through a link out of the project count
                            // too: they end the walk instead of extending it.
                            .take(crate::confine::MAX_GLOB_SCANNED)
                            .filter(|p| !crate::confine::is_outside(roots, p))
                            .take(crate::confine::MAX_GLOB_MATCHES)
                            .collect()
                    })
                    .unwrap_or_default();
                v.sort();
                v
            }
            Files::Dump(_, files) => {
                let Ok(p) = glob::Pattern::new(&text) else {
                    return Vec::new();
                };
                let mut v: Vec<PathBuf> = files
                    .iter()
                    .filter(|(n, _, _)| p.matches_path(n))
                    .map(|(n, _, _)| n.clone())
                    .collect();
                v.sort();
                v
            }
        }
    }
}

/// Files every Nginx package installs in its configuration prefix.
fn bundled(p: &Path) -> bool {
    const SHIPPED: &[&str] = &[
        "uwsgi_params",
        "fastcgi_params",
        "fastcgi.conf",
        "scgi_params",
        "mime.types",
        "koi-utf",
        "koi-win",
        "win-utf",
        "proxy_params",
    ];
    p.to_str().is_some_and(|s| SHIPPED.contains(&s))
}

fn shift(ds: &mut [Directive], file: usize, by: usize) {
    let mv = |s: &mut Span| *s = Span::new(s.start + by, s.end + by);
    for d in ds {
        d.file = file;
        mv(&mut d.span);
        mv(&mut d.name.span);
        for a in &mut d.args {
            mv(&mut a.span);
        }
        if let Some(b) = &mut d.block {
            shift(b, file, by);
        }
    }
}

struct Loader<'a> {
    files: Files<'a>,
    prefix: PathBuf,
    out: Loaded,
}

impl Loader<'_> {
    fn load(&mut self, part: Part, bytes: &[u8], depth: usize) -> Vec<Directive> {
        let index = self.out.parts.len();
        let offset = part.offset;
        self.out.parts.push(part);
        let mut config = syntax::parse(bytes);
        shift(&mut config.directives, index, offset);
        if let Some(e) = config.error {
            self.out.problems.push(Problem {
                file: index,
                span: Span::new(e.span.start + offset, e.span.end + offset),
                message: e.message,
                missing_include: false,
            });
        }
        self.splice(config.directives, depth)
    }

    fn splice(&mut self, ds: Vec<Directive>, depth: usize) -> Vec<Directive> {
        let mut out = Vec::new();
        for mut d in ds {
            if let Some(b) = d.block.take() {
                d.block = Some(self.splice(b, depth));
                out.push(d);
                continue;
            }
            if d.name.value != "include" || d.args.len() != 1 {
                out.push(d);
                continue;
            }
            let arg_text = d.args[0].value.clone();
            let arg = Path::new(&arg_text);
            let pattern = if arg.is_absolute() {
                arg.to_path_buf()
            } else {
                self.prefix.join(arg)
            };
            let names = self.files.expand(&pattern);
            let literal = !pattern.to_string_lossy().contains(['*', '?', '[']);
            let (file, span) = (d.file, d.args[0].span);
            out.push(d);
            for name in names {
                let cycle = self.out.parts.iter().filter(|p| p.name == name).count() > 0;
                if depth > 16 || cycle {
                    self.out.problems.push(Problem {
                        file,
                        span,
                        message: format!("`{}` includes itself", name.display()),
                        missing_include: false,
                    });
                    continue;
                }
                match self.files.read(&name) {
                    Some((part, bytes)) => out.extend(self.load(part, &bytes, depth + 1)),
                    // Absolute paths name the server's files, and Nginx
                    // ships `uwsgi_params`, `mime.types` ... in its prefix.
                    None if literal && arg.is_relative() && !bundled(arg) && !self.files.outside(&name) && !crate::source::exists(&name) => self.out.problems.push(Problem {
                        file,
                        span,
                        message: format!(
                            "`{}` does not exist (relative includes are taken against the configuration prefix {})",
                            name.display(),
                            self.prefix.display()
                        ),
                        missing_include: true,
                    }),
                    None => {}
                }
            }
        }
        out
    }
}

/// Load `path` (a config or an `nginx -T` dump) with its includes. `prefix`
/// defaults to the main file's directory (for a dump, the first file's).
///
/// Included files are read only below `within` (default: the main file's
/// directory); others are left out as if absent, without a finding.
pub fn load(path: &Path, bytes: &[u8], prefix: Option<&Path>, within: &[PathBuf]) -> Loaded {
    load_with(path, bytes, prefix, within, &crate::input::Overlay::new())
}

/// [`load`], with included files read through `overlay`.
pub fn load_with(
    path: &Path,
    bytes: &[u8],
    prefix: Option<&Path>,
    within: &[PathBuf],
    overlay: &crate::input::Overlay,
) -> Loaded {
    if is_dump(bytes) {
        let files = split_dump(bytes);
        let Some((main, _, _)) = files.first().cloned() else {
            return Loaded::default();
        };
        let prefix = prefix
            .map(Path::to_path_buf)
            .unwrap_or_else(|| main.parent().map(Path::to_path_buf).unwrap_or_default());
        let mut l = Loader {
            files: Files::Dump(path, files),
            prefix,
            out: Loaded::default(),
        };
        if let Some((part, text)) = l.files.read(&main) {
            let ds = l.load(part, &text, 0);
            l.out.config.directives = ds;
        }
        return l.out;
    }
    let prefix = prefix
        .map(Path::to_path_buf)
        .unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default());
    let roots: Vec<PathBuf> = if within.is_empty() {
        path.parent()
            .and_then(|p| crate::source::canonicalize(p).ok())
            .into_iter()
            .collect()
    } else {
        within
            .iter()
            .filter_map(|r| crate::source::canonicalize(r).ok())
            .collect()
    };
    let mut l = Loader {
        files: Files::Disk(roots, overlay),
        prefix,
        out: Loaded::default(),
    };
    let part = Part {
        path: path.to_path_buf(),
        offset: 0,
        name: path.to_path_buf(),
    };
    let ds = l.load(part, bytes, 0);
    l.out.config.directives = ds;
    l.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_are_spliced_from_the_prefix_with_globs() {
        let dir = std::env::temp_dir().join(format!("uwsgi-lint-inc-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(
            dir.join("conf.d/b.conf"),
            "server { location / { uwsgi_pass unix:/b.sock; } }\n",
        )
        .unwrap();
        std::fs::write(dir.join("conf.d/a.conf"), "uwsgi_read_timeout 30s;\n").unwrap();
        let main = dir.join("nginx.conf");
        let text = b"http {\n    include conf.d/*.conf;\n    include missing.conf;\n    include conf.d/none-*.conf;\n}\n";
        std::fs::write(&main, text).unwrap();
        let l = load(&main, text, None, &[]);
        assert_eq!(l.parts.len(), 3);
        assert!(l.parts[1].name.ends_with("a.conf"));
        let m = crate::nginx::model::build(&l.config);
        assert_eq!(m.locations.len(), 1);
        assert_eq!(m.locations[0].file, 2);
        assert_eq!(m.locations[0].uwsgi_read_timeout.file, 1);
        assert_eq!(m.locations[0].uwsgi_read_timeout.value.as_secs(), 30);
        assert_eq!(l.problems.len(), 1);
        assert!(l.problems[0].missing_include);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn files_outside_the_roots_are_not_read() {
        let dir = std::env::temp_dir().join(format!("uwsgi-lint-inc-out-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("repo")).unwrap();
        std::fs::write(dir.join("secret.conf"), "worker_processes 9;\n").unwrap();
        let main = dir.join("repo/nginx.conf");
        let text = b"include ../secret.conf;\ninclude /etc/hostname;\n";
        std::fs::write(&main, text).unwrap();
        let l = load(&main, text, None, &[dir.join("repo")]);
        assert_eq!(l.parts.len(), 1);
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_dump_rebuilds_the_file_set_with_offsets() {
        let dump = b"# configuration file /etc/nginx/nginx.conf:\nhttp { include /etc/nginx/sites/*; }\n\n# configuration file /etc/nginx/sites/app:\nserver { location / { uwsgi_pass 127.0.0.1:3031; } }\n";
        assert!(is_dump(dump));
        let l = load(Path::new("dump.txt"), dump, None, &[]);
        assert_eq!(l.parts.len(), 2);
        let m = crate::nginx::model::build(&l.config);
        let pass = m.locations[0].pass.as_ref().unwrap();
        assert_eq!(&dump[pass.span.range()], b"uwsgi_pass 127.0.0.1:3031;");
        assert_eq!(l.parts[pass.file].path, PathBuf::from("dump.txt"));
    }
}
