//! Dockerfiles (containers-and-nginx.md §3.4): they set no limits, but say
//! what the image runs (`CMD`/`ENTRYPOINT`), its environment, which ini and
//! Nginx files are copied where, whether Nginx is installed beside uWSGI,
//! and which uWSGI version it installs. Only the final stage counts.

use std::path::{Path, PathBuf};

use super::At;
use crate::source::Span;
use crate::uwsgi::version::Version;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dockerfile {
    pub path: PathBuf,
    /// The final stage's base image.
    pub from: Option<At<String>>,
    pub entrypoint: Option<Vec<At<String>>>,
    pub cmd: Option<Vec<At<String>>>,
    pub env: Vec<(At<String>, At<String>)>,
    /// `COPY`/`ADD` sources (relative to the build context) and destination.
    pub copies: Vec<(Vec<At<String>>, At<String>)>,
    /// Where Nginx is installed or the base image ships it.
    pub nginx: Option<At<String>>,
    /// `pip install uwsgi==X`, or the Debian/Ubuntu package of the base.
    pub uwsgi_version: Option<At<Version>>,
    pub user: Option<At<String>>,
    pub expose: Vec<At<u16>>,
    pub workdir: Option<String>,
}

/// One logical instruction: keyword, arguments text, and its span.
struct Instruction<'a> {
    keyword: String,
    args: &'a str,
    args_start: usize,
    span: Span,
}

/// Split into instructions: `#` comment lines, `\` line continuations.
fn instructions(text: &str) -> Vec<Instruction<'_>> {
    let mut out = Vec::new();
    let mut pos = 0;
    let lines: Vec<(usize, &str)> = text
        .split_inclusive('\n')
        .map(|l| {
            let at = pos;
            pos += l.len();
            (at, l)
        })
        .collect();
    let mut i = 0;
    while i < lines.len() {
        let (start, line) = lines[i];
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let mut end = start + line.trim_end().len();
        while lines[i].1.trim_end().ends_with('\\') && i + 1 < lines.len() {
            i += 1;
            end = lines[i].0 + lines[i].1.trim_end().len();
        }
        i += 1;
        let body = &text[start..end];
        let lead = body.len() - body.trim_start().len();
        let body_t = body.trim_start();
        let kw_len = body_t.find(char::is_whitespace).unwrap_or(body_t.len());
        let args = body_t[kw_len..].trim_start();
        out.push(Instruction {
            keyword: body_t[..kw_len].to_ascii_uppercase(),
            args,
            args_start: end - args.len(),
            span: Span::new(start + lead, end),
        });
    }
    out
}

/// Exec form (`["a", "b"]`) or shell form (`/bin/sh -c "..."`).
fn command(ins: &Instruction) -> Vec<At<String>> {
    let span = Span::new(ins.args_start, ins.span.end);
    let a = ins.args.trim();
    if a.starts_with('[')
        && let Ok(v) = serde_json::from_str::<Vec<String>>(&join_continuations(a))
    {
        return v.into_iter().map(|s| At::new(s, span)).collect();
    }
    vec![
        At::new("/bin/sh".to_string(), span),
        At::new("-c".to_string(), span),
        At::new(join_continuations(a), span),
    ]
}

fn join_continuations(s: &str) -> String {
    s.replace("\\\r\n", " ").replace("\\\n", " ")
}

/// `ENV K=V K2="V 2"` or the legacy `ENV K V`.
fn env(ins: &Instruction) -> Vec<(At<String>, At<String>)> {
    let span = Span::new(ins.args_start, ins.span.end);
    let words = super::shell_words(&join_continuations(ins.args));
    if words.first().is_some_and(|w| !w.contains('=')) {
        let k = words[0].clone();
        let v = ins.args.trim()[k.len()..].trim().to_string();
        return vec![(At::new(k, span), At::new(v, span))];
    }
    words
        .iter()
        .filter_map(|w| {
            let (k, v) = w.split_once('=')?;
            Some((At::new(k.to_string(), span), At::new(v.to_string(), span)))
        })
        .collect()
}

/// `uwsgi==2.0.23` / `pyuwsgi==2.0.30` inside a pip command line.
pub fn pip_pin(text: &str) -> Option<Version> {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .find_map(|w| {
            let lower = w.to_ascii_lowercase();
            let v = lower
                .strip_prefix("uwsgi==")
                .or_else(|| lower.strip_prefix("pyuwsgi=="))?;
            v.split([';', ',']).next()?.parse().ok()
        })
}

/// uWSGI shipped by Debian/Ubuntu releases (uwsgi-facts.md: bookworm 2.0.21).
fn distro_uwsgi(image: &str) -> Option<Version> {
    let image = image.to_ascii_lowercase();
    let tag = image.rsplit(':').next().unwrap_or("");
    [
        ("bookworm", Version::new(2, 0, 21)),
        ("bullseye", Version::new(2, 0, 19)),
    ]
    .into_iter()
    .find_map(|(name, v)| {
        (tag.contains(name) || image.contains(&format!("debian:{name}"))).then_some(v)
    })
    .or_else(|| {
        (image.starts_with("debian:12") || image == "debian:stable").then(|| Version::new(2, 0, 21))
    })
}

fn installs(args: &str, pkg: &str) -> bool {
    let is_install = args.contains("apt-get install")
        || args.contains("apt install")
        || args.contains("apk add")
        || args.contains("yum install")
        || args.contains("dnf install");
    is_install
        && args
            .split(|c: char| c.is_whitespace() || c == '\\')
            .any(|w| {
                w == pkg
                    || w.starts_with(&format!("{pkg}="))
                    || w.starts_with(&format!("{pkg}-full"))
                    || w.starts_with(&format!("{pkg}-light"))
            })
}

pub fn parse(path: &Path, text: &str) -> Dockerfile {
    let mut d = Dockerfile {
        path: path.to_path_buf(),
        ..Dockerfile::default()
    };
    let mut apt_uwsgi: Option<Span> = None;
    // Named stages (`FROM x AS builder`): a later `FROM builder` starts from
    // that stage's state (its USER, ENV, CMD …), as Docker builds it.
    let mut stages: std::collections::HashMap<String, Dockerfile> = Default::default();
    let mut stage_name: Option<String> = None;
    for ins in instructions(text) {
        let span = Span::new(ins.args_start, ins.span.end);
        match ins.keyword.as_str() {
            "FROM" => {
                if let Some(name) = stage_name.take() {
                    stages.insert(name, d.clone());
                }
                let words: Vec<&str> = ins
                    .args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let image = words.first().copied().unwrap_or("").to_string();
                if words.len() >= 3 && words[1].eq_ignore_ascii_case("as") {
                    stage_name = Some(words[2].to_ascii_lowercase());
                }
                let keep_pin = d.uwsgi_version.take();
                d = match stages.get(&image.to_ascii_lowercase()) {
                    Some(parent) => parent.clone(),
                    // A new stage starts over.
                    None => Dockerfile {
                        path: path.to_path_buf(),
                        from: Some(At::new(image.clone(), span)),
                        ..Dockerfile::default()
                    },
                };
                // A pin in a builder stage still describes the wheel copied over.
                d.uwsgi_version = keep_pin.or(d.uwsgi_version.take());
                apt_uwsgi = None;
                if image.to_ascii_lowercase().contains("nginx") {
                    d.nginx = Some(At::new(image, span));
                }
            }
            "CMD" => d.cmd = Some(command(&ins)),
            "ENTRYPOINT" => {
                d.entrypoint = Some(command(&ins));
                // ENTRYPOINT resets an inherited CMD.
                d.cmd = None;
            }
            "ENV" => d.env.extend(env(&ins)),
            "USER" => d.user = Some(At::new(ins.args.trim().to_string(), span)),
            "WORKDIR" => d.workdir = Some(ins.args.trim().to_string()),
            "EXPOSE" => d.expose.extend(
                ins.args
                    .split_whitespace()
                    .filter_map(|p| p.split('/').next()?.parse().ok())
                    .map(|p| At::new(p, span)),
            ),
            "COPY" | "ADD" => {
                let words: Vec<String> = super::shell_words(&join_continuations(ins.args))
                    .into_iter()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                if ins.args.contains("--from=") {
                    continue;
                }
                let words: Vec<String> = if ins.args.trim_start().starts_with('[') {
                    serde_json::from_str(ins.args.trim()).unwrap_or_default()
                } else {
                    words
                };
                if let Some((dest, srcs)) = words.split_last()
                    && !srcs.is_empty()
                {
                    d.copies.push((
                        srcs.iter().map(|s| At::new(s.clone(), span)).collect(),
                        At::new(dest.clone(), span),
                    ));
                }
            }
            "RUN" => {
                if installs(ins.args, "nginx") {
                    d.nginx = Some(At::new("nginx".into(), span));
                }
                if let Some(v) = pip_pin(ins.args)
                    && (ins.args.contains("pip") || ins.args.contains("uv "))
                {
                    d.uwsgi_version = Some(At::new(v, span));
                }
                if installs(ins.args, "uwsgi") || installs(ins.args, "uwsgi-core") {
                    apt_uwsgi = Some(span);
                }
            }
            _ => {}
        }
    }
    if d.uwsgi_version.is_none()
        && let (Some(span), Some(from)) = (apt_uwsgi, &d.from)
        && let Some(v) = distro_uwsgi(&from.value)
    {
        d.uwsgi_version = Some(At::new(v, span));
    }
    d
}

impl Dockerfile {
    /// Every `COPY`/`ADD` destination, absolute in the image (as
    /// [`Dockerfile::source_of`] reads them): to index Dockerfiles by it.
    pub fn destinations(&self) -> impl Iterator<Item = String> + '_ {
        self.copies.iter().map(|(_, dest)| {
            let d = dest.value.trim_end_matches('/');
            if dest.value.starts_with('/') {
                d.to_string()
            } else {
                format!("{}/{d}", self.workdir.as_deref().unwrap_or(""))
            }
        })
    }

    /// Where a file of the build context lands in the image, for a path the
    /// container names (`/app/deploy/uwsgi.ini` ← `COPY . /app`).
    pub fn source_of(&self, in_image: &str) -> Option<PathBuf> {
        let context = self.path.parent().unwrap_or(Path::new(""));
        let abs = if in_image.starts_with('/') {
            in_image.to_string()
        } else {
            format!("{}/{in_image}", self.workdir.as_deref().unwrap_or("/"))
        };
        for (srcs, dest) in self.copies.iter().rev() {
            let dest_dir = dest.value.trim_end_matches('/');
            // (`COPY x /`: the root, "" once trimmed.)
            let dest_abs = if dest.value.starts_with('/') {
                dest_dir.to_string()
            } else {
                format!("{}/{dest_dir}", self.workdir.as_deref().unwrap_or(""))
            };
            for src in srcs {
                let src = src.value.trim_end_matches('/');
                // `COPY deploy/uwsgi.ini /etc/uwsgi/uwsgi.ini`
                if abs == dest_abs {
                    return Some(context.join(src));
                }
                // `COPY . /app` or `COPY deploy/ /etc/uwsgi/`
                if let Some(rest) = abs.strip_prefix(&format!("{dest_abs}/")) {
                    let base = if src == "." {
                        context.to_path_buf()
                    } else {
                        context.join(src)
                    };
                    let candidate = base.join(rest);
                    if crate::source::exists(&candidate) {
                        return Some(candidate);
                    }
                    // `COPY uwsgi.ini /etc/uwsgi/` keeps the file name.
                    if Path::new(src).file_name() == Path::new(rest).file_name() {
                        return Some(context.join(src));
                    }
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "FROM python:3.12 AS build\nRUN pip wheel uwsgi==2.0.23\n\nFROM python:3.12-slim-bookworm\n# comment\nRUN apt-get update && \\\n    apt-get install -y --no-install-recommends nginx-light\nENV UWSGI_PROCESSES=4 DJANGO_SETTINGS_MODULE=\"app.settings\"\nENV LEGACY some value\nWORKDIR /app\nCOPY . /app\nCOPY deploy/uwsgi.ini /etc/uwsgi/uwsgi.ini\nUSER app\nEXPOSE 3031/tcp\nCMD [\"uwsgi\", \"--ini\", \"/etc/uwsgi/uwsgi.ini\"]\n";

    #[test]
    fn a_stage_built_from_a_named_stage_inherits_it() {
        let d = parse(
            Path::new("Dockerfile"),
            "FROM python:3.12 AS base\nUSER app\nENV A=1\nFROM base AS production\nCMD [\"uwsgi\"]\n",
        );
        assert_eq!(d.user.map(|u| u.value), Some("app".to_string()));
        assert_eq!(d.from.map(|f| f.value), Some("python:3.12".to_string()));
        assert_eq!(d.env.len(), 1);
    }

    #[test]
    fn reads_the_final_stage() {
        let d = parse(Path::new("/p/Dockerfile"), FILE);
        assert_eq!(d.from.as_ref().unwrap().value, "python:3.12-slim-bookworm");
        assert!(d.nginx.is_some());
        assert_eq!(
            d.uwsgi_version.as_ref().unwrap().value,
            Version::new(2, 0, 23)
        );
        let env: Vec<(&str, &str)> = d
            .env
            .iter()
            .map(|(k, v)| (k.value.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(
            env,
            vec![
                ("UWSGI_PROCESSES", "4"),
                ("DJANGO_SETTINGS_MODULE", "app.settings"),
                ("LEGACY", "some value")
            ]
        );
        assert_eq!(d.cmd.as_ref().unwrap()[2].value, "/etc/uwsgi/uwsgi.ini");
        assert_eq!(
            &FILE[d.cmd.as_ref().unwrap()[0].span.range()],
            "[\"uwsgi\", \"--ini\", \"/etc/uwsgi/uwsgi.ini\"]"
        );
        assert_eq!(d.expose[0].value, 3031);
        assert_eq!(d.user.as_ref().unwrap().value, "app");
        assert_eq!(
            d.source_of("/etc/uwsgi/uwsgi.ini"),
            Some(PathBuf::from("/p/deploy/uwsgi.ini"))
        );
    }

    #[test]
    fn shell_forms_and_distro_versions() {
        let d = parse(
            Path::new("D"),
            "FROM debian:bookworm\nRUN apt-get install -y uwsgi uwsgi-plugin-python3\nENTRYPOINT uwsgi --ini app.ini\n",
        );
        assert_eq!(d.uwsgi_version.unwrap().value, Version::new(2, 0, 21));
        let ep = d.entrypoint.unwrap();
        assert_eq!(ep[0].value, "/bin/sh");
        assert_eq!(ep[2].value, "uwsgi --ini app.ini");
        assert_eq!(
            pip_pin("pip install 'uWSGI==2.0.28' django"),
            Some(Version::new(2, 0, 28))
        );
        assert_eq!(pip_pin("pip install uwsgi"), None);
    }
}
