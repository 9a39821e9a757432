//! Launchers: what a container's command starts in the end, followed
//! through the project's shell scripts, supervisord configurations and
//! wrappers (read, never run).

use super::*;

/// What a container's command starts in the end, followed through the
/// scripts and supervisord configurations of the project (read, never run).
#[derive(Debug, Clone, Default)]
pub(super) struct Started {
    /// uWSGI's arguments (after the program).
    pub(super) args: Vec<At<String>>,
    /// Where the uWSGI command is written, when not in the container's file.
    pub(super) place: Option<Place>,
    /// How it was reached: "its command runs `/entrypoint.sh` (…)".
    pub(super) via: Vec<String>,
    /// Environment the launchers add (supervisord `environment=`, `VAR=x cmd`).
    pub(super) env: Vec<EnvVar>,
    /// A program of the same supervisord runs Nginx.
    pub(super) nginx: Option<Place>,
    /// The user a launcher switches to (`user=` of the supervisord
    /// program, `gosu app …`).
    pub(super) user: Option<String>,
    /// supervisord stops the program with another signal than SIGTERM.
    pub(super) stop_signal: Option<Place>,
    /// supervisord's `stopwaitsecs` (10 s unless set): it SIGKILLs then.
    pub(super) stop_wait: Option<(u64, Place)>,
    /// The script the container starts runs this without `exec`.
    pub(super) shell_in_front: Option<(String, Place)>,
}

/// The project's launchers, by canonical path.
pub(super) struct Launchers<'a> {
    pub(super) project: &'a Project,
    pub(super) scripts: std::collections::HashMap<PathBuf, usize>,
    pub(super) supervisord: std::collections::HashMap<PathBuf, usize>,
    /// Dockerfiles built from a context other than their own directory,
    /// as if they were written there (see [`with_context`]).
    pub(super) moved: std::collections::HashMap<PathBuf, Dockerfile>,
}

thread_local! {
    /// Steps left for following one container's command: launchers that
    /// start one another (a supervisord of many programs, each running a
    /// script that starts it again) stay bounded. Per thread, so that
    /// containers are followed in parallel; one container's command is
    /// followed on one thread ([`Launchers::start`]).
    static BUDGET: std::cell::Cell<usize> = const { std::cell::Cell::new(FOLLOW_BUDGET) };
}

/// Launcher steps followed per container at most.
pub(super) const FOLLOW_BUDGET: usize = 256;

/// A Dockerfile built from a directory above its own (`docker build -f
/// docker/Dockerfile .`, Compose `context: .`): the nearest ancestor below
/// which more of its `COPY`/`ADD` sources exist than below its own
/// directory. The Dockerfile as if it were written there, or `None`.
pub(super) fn with_context(d: &Dockerfile, roots: &[PathBuf]) -> Option<Dockerfile> {
    let dir = d.path.parent()?;
    let sources: Vec<&str> = d
        .copies
        .iter()
        .flat_map(|(srcs, _)| srcs.iter().map(|s| s.value.trim_end_matches('/')))
        .filter(|s| {
            !s.is_empty() && *s != "." && !s.contains(['*', '?', '$']) && !s.contains("://")
        })
        .collect();
    if sources.is_empty() {
        return None;
    }
    let count = |base: &Path| {
        sources
            .iter()
            .filter(|s| crate::source::exists(&base.join(s)))
            .count()
    };
    let own = count(dir);
    if own == sources.len() {
        return None;
    }
    let (best, n) = dir
        .ancestors()
        .skip(1)
        .take(4)
        // Nothing above the roots walked is looked at.
        .filter(|a| roots.iter().any(|r| a.starts_with(r)))
        .map(|a| (a, count(a)))
        .max_by_key(|(a, n)| (*n, a.components().count()))?;
    (n > own).then(|| {
        let mut moved = d.clone();
        moved.path = best.join(d.path.file_name().unwrap_or_default());
        moved
    })
}

/// Directories a bare program name is looked up in (`PATH` of the usual images).
pub(super) const PATH_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// How deep launchers may start one another before we stop following.
pub(super) const MAX_FOLLOW: usize = 8;

impl<'a> Launchers<'a> {
    pub(super) fn new(project: &'a Project) -> Self {
        Launchers {
            project,
            scripts: project
                .scripts
                .iter()
                .enumerate()
                .map(|(i, s)| (canon(&s.path), i))
                .collect(),
            supervisord: project
                .supervisord
                .iter()
                .enumerate()
                .map(|(i, s)| (canon(&s.path), i))
                .collect(),
            moved: project
                .dockerfiles
                .iter()
                .filter_map(|d| Some((d.path.clone(), with_context(d, &project.roots)?)))
                .collect(),
        }
    }

    /// The image as its build context sees it.
    pub(super) fn image<'b>(&'b self, image: Option<&'b Dockerfile>) -> Option<&'b Dockerfile> {
        image.map(|d| self.moved.get(&d.path).unwrap_or(d))
    }

    /// The project file at `in_image` (a path the container names): through
    /// the image's `COPY`/`ADD`, or a bind mount.
    pub(super) fn project_file(
        &self,
        in_image: &str,
        c: &Container,
        image: Option<&Dockerfile>,
    ) -> Option<PathBuf> {
        project_file(in_image, c, self.image(image))
    }
    /// Where a project file lands in the image (the reverse of
    /// [`Dockerfile::source_of`]): every `COPY` that takes it, every bind
    /// mount that shows it.
    pub(super) fn in_image(
        &self,
        file: &Path,
        c: &Container,
        image: Option<&Dockerfile>,
    ) -> Vec<String> {
        let image = self.image(image);
        let mut out = Vec::new();
        if let Some(d) = image {
            let context = canon(d.path.parent().unwrap_or(Path::new("")));
            let workdir = d.workdir.as_deref().unwrap_or("/");
            for (srcs, dest) in &d.copies {
                let dest_abs = if dest.value.starts_with('/') {
                    dest.value.clone()
                } else {
                    format!("{}/{}", workdir.trim_end_matches('/'), dest.value)
                };
                let into_dir = dest.value.ends_with('/') || srcs.len() > 1;
                for src in srcs {
                    let s = src.value.trim_end_matches('/');
                    let src_path = if s == "." {
                        context.clone()
                    } else {
                        canon(&context.join(s))
                    };
                    if file == src_path {
                        let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                        out.push(match (into_dir, name) {
                            (true, Some(n)) => format!("{}/{n}", dest_abs.trim_end_matches('/')),
                            _ => dest_abs.clone(),
                        });
                    } else if let Ok(rest) = file.strip_prefix(&src_path) {
                        out.push(format!(
                            "{}/{}",
                            dest_abs.trim_end_matches('/'),
                            rest.display()
                        ));
                    }
                }
            }
        }
        for (host, target) in &c.mounts {
            let host = canon(host);
            if file == host {
                out.push(target.clone());
            } else if let Ok(rest) = file.strip_prefix(&host) {
                out.push(format!(
                    "{}/{}",
                    target.trim_end_matches('/'),
                    rest.display()
                ));
            }
        }
        out
    }

    /// Follow a container's argument vector (written in `file`) to the
    /// uWSGI it starts, if any, within [`FOLLOW_BUDGET`] steps.
    pub(super) fn start(
        &self,
        av: &[At<String>],
        file: &Path,
        c: &Container,
        image: Option<&Dockerfile>,
        env: &[EnvVar],
    ) -> Vec<Started> {
        BUDGET.set(FOLLOW_BUDGET);
        self.follow(av, file, c, image, env, 0)
    }

    /// [`Launchers::start`], `depth` launchers down.
    pub(super) fn follow(
        &self,
        av: &[At<String>],
        file: &Path,
        c: &Container,
        image: Option<&Dockerfile>,
        env: &[EnvVar],
        depth: usize,
    ) -> Vec<Started> {
        if av.is_empty() || depth > MAX_FOLLOW || BUDGET.get() == 0 {
            return Vec::new();
        }
        BUDGET.set(BUDGET.get() - 1);
        let direct = uwsgi_args(av).map(|args| {
            let (args, dropped) = known_options(args);
            Started {
                args,
                via: dropped
                    .into_iter()
                    .map(|d| format!("whose option `{d}` is only known at runtime (left out)"))
                    .collect(),
                ..Started::default()
            }
        });
        let texts: Vec<String> = av.iter().map(|a| a.value.clone()).collect();
        let program = crate::container::script::strip_wrappers(&texts)
            .first()
            .map(|p| p.rsplit('/').next().unwrap_or(p).to_string());
        if let Some(d) = direct.clone()
            && matches!(program.as_deref(), Some("uwsgi" | "pyuwsgi"))
        {
            return vec![d];
        }
        // A script (or `sh -c`) before uWSGI's words decides what runs;
        // when it cannot be followed, the words themselves still say uWSGI.
        match self.follow_launcher(av, &texts, file, c, image, env, depth) {
            Some(followed) => followed,
            None => direct.into_iter().collect(),
        }
    }

    /// [`Launchers::follow`] past uWSGI itself: wrappers, shells, scripts,
    /// supervisord. `None` when no launcher of the project is found (or a
    /// script's end is ambiguous); `Some` with what the launcher starts.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn follow_launcher(
        &self,
        av: &[At<String>],
        texts: &[String],
        file: &Path,
        c: &Container,
        image: Option<&Dockerfile>,
        env: &[EnvVar],
        depth: usize,
    ) -> Option<Vec<Started>> {
        let skip = texts.len() - crate::container::script::strip_wrappers(texts).len();
        // `gosu app …`, `su-exec app …`: what follows runs as that user.
        let user = texts[..skip].windows(2).find_map(|w| {
            let base = w[0].rsplit('/').next().unwrap_or(&w[0]);
            matches!(base, "gosu" | "su-exec").then(|| w[1].clone())
        });
        if user.is_some() {
            let mut out = self.follow(&av[skip..], file, c, image, env, depth + 1);
            for s in &mut out {
                if s.user.is_none() {
                    s.user = user.clone();
                }
            }
            return Some(out);
        }
        let av = &av[skip..];
        let prog = av.first()?;
        let base = prog.value.rsplit('/').next().unwrap_or(&prog.value);
        let shell = matches!(base, "sh" | "bash" | "dash" | "ash");
        // `sh -c "…"`: the string is a script of its own.
        if shell
            && let Some(i) = av[1..].iter().position(|a| {
                a.value.starts_with('-') && !a.value.starts_with("--") && a.value.contains('c')
            })
            && let Some(string) = av.get(i + 2)
        {
            let script = crate::container::script::parse(file, &string.value);
            let args: Vec<At<String>> = av.get(i + 4..).unwrap_or_default().to_vec();
            return self.run_script(
                &script,
                &args,
                file,
                Some(string.span),
                c,
                image,
                env,
                depth,
                "",
                None,
            );
        }
        // The container's own command (no wrapper, no launcher before it):
        // the script's shell is the container's main process.
        let main_process = depth == 0 && skip == 0;
        // `bash /app/start.sh args`, or the script itself.
        let (path, args) = if shell {
            match av[1..].iter().position(|a| !a.value.starts_with('-')) {
                Some(i) => (&av[i + 1], &av[i + 2..]),
                None => return None,
            }
        } else {
            (prog, &av[1..])
        };
        if base == "supervisord" {
            return self.supervisord(av, c, image, env, depth);
        }
        let src = self.project_file(&path.value, c, image)?;
        let script = self.scripts.get(&src).map(|i| &self.project.scripts[*i])?;
        let shown = shown_path(&src, &c.file);
        self.run_script(
            script,
            args,
            file,
            None,
            c,
            image,
            env,
            depth,
            &format!("runs `{}` ({shown})", path.value),
            main_process.then_some(path.value.as_str()),
        )
    }

    /// The command a script ends in, followed. `caller` is the file the
    /// script's arguments (and an inline `sh -c` script) are written in.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn run_script(
        &self,
        script: &crate::container::script::Script,
        args: &[At<String>],
        caller: &Path,
        // Inline (`sh -c`): every word points at the string.
        inline: Option<Span>,
        c: &Container,
        image: Option<&Dockerfile>,
        env: &[EnvVar],
        depth: usize,
        what: &str,
        // The script as the container's command names it, where its shell
        // is the container's main process.
        main_process: Option<&str>,
    ) -> Option<Vec<Started>> {
        use crate::container::script::Outcome;
        let known: std::collections::HashMap<String, String> = env
            .iter()
            .map(|e| (e.name.clone(), e.value.clone()))
            .collect();
        let Outcome::Runs(l) = script.outcome(&known, args) else {
            return None;
        };
        let words: Vec<At<String>> = match inline {
            Some(span) if !l.from_args => l
                .words
                .iter()
                .map(|w| At::new(w.value.clone(), span))
                .collect(),
            _ => l.words.clone(),
        };
        // `exec "$@"`: the command is written where the arguments are.
        let file: &Path = if inline.is_some() || l.from_args {
            caller
        } else {
            &script.path
        };
        let here = (!l.from_args).then(|| Place {
            file: file.to_path_buf(),
            span: inline.unwrap_or(l.span),
            message: "runs uWSGI".into(),
        });
        let extra: Vec<EnvVar> = l
            .env
            .iter()
            .map(|(k, v, span)| EnvVar {
                name: k.clone(),
                value: v.clone(),
                place: Place {
                    file: file.to_path_buf(),
                    span: inline.unwrap_or(*span),
                    message: format!("`{k}` set here"),
                },
            })
            .collect();
        let mut env2 = env.to_vec();
        env2.extend(extra.iter().cloned());
        // Started without `exec` and no `trap`: the shell stays in front.
        let in_front = main_process
            .filter(|_| !l.exec && !script.traps_signals())
            .map(|name| {
                (
                    name.to_string(),
                    Place {
                        file: script.path.clone(),
                        span: l.span,
                        message: format!("`{name}` runs this without `exec`"),
                    },
                )
            });
        let mut out = self.follow(&words, file, c, image, &env2, depth + 1);
        for s in &mut out {
            if s.place.is_none() {
                s.place = here.clone();
            }
            if s.shell_in_front.is_none() {
                s.shell_in_front = in_front.clone();
            }
            if !what.is_empty() {
                s.via.insert(0, what.to_string());
            }
            let mut e = extra.clone();
            e.append(&mut s.env);
            s.env = e;
        }
        Some(out)
    }

    /// supervisord started with `-c path` (or its default paths): the
    /// programs of that configuration and the files it includes.
    pub(super) fn supervisord(
        &self,
        av: &[At<String>],
        c: &Container,
        image: Option<&Dockerfile>,
        env: &[EnvVar],
        depth: usize,
    ) -> Option<Vec<Started>> {
        let mut named: Option<String> = None;
        let mut i = 1;
        while i < av.len() {
            let a = av[i].value.as_str();
            if matches!(a, "-c" | "--configuration") {
                named = av.get(i + 1).map(|v| v.value.clone());
                i += 1;
            } else if let Some(v) = a.strip_prefix("--configuration=") {
                named = Some(v.to_string());
            } else if let Some(v) = a.strip_prefix("-c") {
                named = Some(v.to_string());
            }
            i += 1;
        }
        // supervisord.org, "Configuration File": the search order without `-c`.
        let exe = &av[0].value;
        let exe_dir = Path::new(exe).parent().and_then(Path::parent);
        let workdir = image
            .and_then(|d| d.workdir.clone())
            .unwrap_or_else(|| "/".into());
        let paths: Vec<String> = match &named {
            Some(n) if n.starts_with('/') => vec![n.clone()],
            Some(n) => vec![format!("{}/{n}", workdir.trim_end_matches('/'))],
            None => {
                let mut v = Vec::new();
                if let Some(d) = exe_dir.filter(|d| d.is_absolute()) {
                    v.push(format!("{}/etc/supervisord.conf", d.display()));
                    v.push(format!("{}/supervisord.conf", d.display()));
                }
                let w = workdir.trim_end_matches('/');
                v.push(format!("{w}/supervisord.conf"));
                v.push(format!("{w}/etc/supervisord.conf"));
                v.push("/etc/supervisord.conf".into());
                v.push("/etc/supervisor/supervisord.conf".into());
                v
            }
        };
        let found = paths.iter().find_map(|p| {
            let src = self.project_file(p, c, image)?;
            let i = self.supervisord.get(&src)?;
            Some((p.clone(), *i))
        });
        // The files read: the main one and what it includes, each with its
        // path in the image.
        let mut files: Vec<(String, usize)> = Vec::new();
        let main_found = found.is_some();
        let how = match found {
            Some((p, i)) => {
                files.push((p.clone(), i));
                format!(
                    "starts supervisord with `{p}` ({})",
                    shown_path(&self.project.supervisord[i].path, &c.file)
                )
            }
            None if named.is_none() => {
                // Debian's and Alpine's packaged supervisord.conf include
                // `/etc/supervisor/conf.d/*.conf` and `/etc/supervisor.d/*.ini`.
                files.extend(self.matching(
                    &[
                        "/etc/supervisor/conf.d/*.conf".to_string(),
                        "/etc/supervisor.d/*.ini".to_string(),
                    ],
                    c,
                    image,
                ));
                if files.is_empty() {
                    return None;
                }
                "starts supervisord, whose packaged configuration includes the files copied to `/etc/supervisor/conf.d/` (or `/etc/supervisor.d/`)".to_string()
            }
            None => return None,
        };
        // `[include] files` of the main file (supervisord does not follow
        // includes of included files): globs, relative to its directory,
        // `%(here)s` expanded.
        if main_found {
            let (at, i) = files[0].clone();
            let dir = Path::new(&at)
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            let pats: Vec<String> = self.project.supervisord[i]
                .includes
                .iter()
                .map(|p| {
                    let p = crate::container::supervisord::pieces_text(
                        &crate::container::supervisord::expand(&p.value, &|_| None, Some(&dir), ""),
                    );
                    if p.starts_with('/') {
                        p
                    } else {
                        format!("{}/{p}", dir.trim_end_matches('/'))
                    }
                })
                .collect();
            for m in self.matching(&pats, c, image) {
                if !files.iter().any(|(_, j)| *j == m.1) {
                    files.push(m);
                }
            }
        }
        let main_env: Vec<(String, String)> = files
            .iter()
            .filter_map(|(_, i)| self.project.supervisord[*i].environment.as_ref())
            .flat_map(|e| crate::container::supervisord::environment_pairs(&e.value))
            .collect();
        let mut out = Vec::new();
        let mut nginx: Option<Place> = None;
        for (at, i) in &files {
            let conf = &self.project.supervisord[*i];
            let here = Path::new(at).parent().map(|d| d.display().to_string());
            for p in &conf.programs {
                let Some(cmd) = &p.command else { continue };
                // `%(ENV_X)s`: supervisord's environment, then its own and
                // the program's `environment=`.
                let prog_env: Vec<(String, String)> = p
                    .environment
                    .as_ref()
                    .map(|e| crate::container::supervisord::environment_pairs(&e.value))
                    .unwrap_or_default();
                let lookup = |k: &str| -> Option<String> {
                    prog_env
                        .iter()
                        .rev()
                        .chain(main_env.iter().rev())
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .or_else(|| {
                            env.iter()
                                .rev()
                                .find(|e| e.name == k)
                                .map(|e| e.value.clone())
                        })
                };
                let text = crate::container::supervisord::pieces_text(
                    &crate::container::supervisord::expand(
                        &cmd.value,
                        &lookup,
                        here.as_deref(),
                        &p.name,
                    ),
                );
                let words: Vec<At<String>> = crate::container::shell_words(&text)
                    .into_iter()
                    .map(|w| At::new(w, cmd.span))
                    .collect();
                let program = words
                    .first()
                    .map(|w| w.value.rsplit('/').next().unwrap_or(&w.value).to_string());
                if program.as_deref() == Some("nginx") && nginx.is_none() {
                    nginx = Some(Place {
                        file: conf.path.clone(),
                        span: p.span,
                        message: format!(
                            "supervisord program `{}` runs Nginx in the same container",
                            p.name
                        ),
                    });
                }
                let place = Place {
                    file: conf.path.clone(),
                    span: cmd.span,
                    message: "runs uWSGI".into(),
                };
                let added: Vec<EnvVar> = main_env
                    .iter()
                    .chain(&prog_env)
                    .map(|(k, v)| EnvVar {
                        name: k.clone(),
                        value: v.clone(),
                        place: Place {
                            file: conf.path.clone(),
                            span: p.environment.as_ref().map_or(p.span, |e| e.span),
                            message: format!("`{k}` set here"),
                        },
                    })
                    .collect();
                let mut env2 = env.to_vec();
                env2.extend(added.iter().cloned());
                for mut s in self.follow(&words, &conf.path, c, image, &env2, depth + 1) {
                    if s.place.is_none() {
                        s.place = Some(place.clone());
                    }
                    if s.user.is_none() {
                        s.user = p.user.as_ref().map(|u| u.value.clone());
                    }
                    // supervisord passes the container's stop on as the
                    // program's `stopsignal` (TERM unless set).
                    if let Some(sig) = &p.stopsignal {
                        let name = sig.value.trim().to_ascii_uppercase();
                        let name = name.strip_prefix("SIG").unwrap_or(&name).to_string();
                        if name != "TERM" && name != "15" && s.stop_signal.is_none() {
                            s.stop_signal = Some(Place {
                                file: conf.path.clone(),
                                span: sig.span,
                                message: format!("supervisord stops uWSGI with SIG{name}"),
                            });
                        }
                    }
                    // supervisord SIGKILLs the program `stopwaitsecs`
                    // after its stop signal (10 s unless set).
                    if s.stop_wait.is_none() {
                        let secs = p
                            .stopwaitsecs
                            .as_ref()
                            .map_or(Some(10), |w| w.value.trim().parse::<u64>().ok());
                        if let Some(secs) = secs {
                            s.stop_wait = Some((
                                secs,
                                Place {
                                    file: conf.path.clone(),
                                    span: p.stopwaitsecs.as_ref().map_or(p.span, |w| w.span),
                                    message: format!(
                                        "supervisord SIGKILLs uWSGI {secs} s after its stop signal (`stopwaitsecs`{})",
                                        if p.stopwaitsecs.is_some() {
                                            ""
                                        } else {
                                            ", default"
                                        }
                                    ),
                                },
                            ));
                        }
                    }
                    let stop: Vec<String> = [
                        ("stopsignal", &p.stopsignal),
                        ("stopwaitsecs", &p.stopwaitsecs),
                    ]
                    .iter()
                    .filter_map(|(k, v)| v.as_ref().map(|v| format!("`{k} = {}`", v.value)))
                    .collect();
                    s.via.insert(
                        0,
                        if stop.is_empty() {
                            format!("whose program `{}` runs uWSGI", p.name)
                        } else {
                            format!(
                                "whose program `{}` runs uWSGI ({})",
                                p.name,
                                stop.join(", ")
                            )
                        },
                    );
                    let mut e = added.clone();
                    e.append(&mut s.env);
                    s.env = e;
                    out.push(s);
                }
            }
        }
        for s in &mut out {
            s.via.insert(0, how.clone());
            if s.nginx.is_none() {
                s.nginx = nginx.clone();
            }
        }
        Some(out)
    }

    /// The project's supervisord files that land in the image where one of
    /// `patterns` (globs, as supervisord expands them) matches.
    pub(super) fn matching(
        &self,
        patterns: &[String],
        c: &Container,
        image: Option<&Dockerfile>,
    ) -> Vec<(String, usize)> {
        let matchers: Vec<globset::GlobMatcher> = patterns
            .iter()
            .filter_map(|p| {
                globset::GlobBuilder::new(p)
                    .literal_separator(true)
                    .build()
                    .ok()
                    .map(|g| g.compile_matcher())
            })
            .collect();
        let mut out = Vec::new();
        for (i, s) in self.project.supervisord.iter().enumerate() {
            let file = canon(&s.path);
            // Only the container's own project.
            if !self.project.related(&file, &c.file) {
                continue;
            }
            for at in self.in_image(&file, c, image) {
                if matchers.iter().any(|m| m.is_match(&at)) {
                    out.push((at, i));
                    break;
                }
            }
        }
        out.sort();
        out
    }
}
