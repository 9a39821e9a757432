//! Containers around uWSGI (Compose, Kubernetes, ECS, Dockerfiles, the live
//! cgroup): each reader turns its files into [`Container`]s, one shape for
//! all, so linking and the rules never care which orchestrator it was.

pub mod cgroup;
pub mod compose;
pub mod dockerfile;
pub mod ecs;
pub mod front;
pub mod helm;
pub mod ingress;
pub mod kubernetes;
pub mod quantity;
pub mod script;
pub mod supervisord;
pub mod traefik;
pub mod yaml;

use std::path::PathBuf;

use crate::source::Span;
use crate::units::Bytes;

/// A value and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub span: Span,
}

impl<T> At<T> {
    pub fn new(value: T, span: Span) -> Self {
        At { value, span }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orchestrator {
    Compose,
    Kubernetes,
    Ecs,
    /// A Dockerfile with nothing around it (`docker run`).
    Docker,
    /// The cgroup this process runs in (`--detect`).
    Cgroup,
}

impl Orchestrator {
    /// Seconds between SIGTERM and SIGKILL when nothing says otherwise.
    pub fn default_grace_seconds(self) -> u64 {
        match self {
            Orchestrator::Compose | Orchestrator::Docker | Orchestrator::Cgroup => 10,
            Orchestrator::Kubernetes | Orchestrator::Ecs => 30,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Orchestrator::Compose => "compose",
            Orchestrator::Kubernetes => "kubernetes",
            Orchestrator::Ecs => "ecs",
            Orchestrator::Docker => "docker",
            Orchestrator::Cgroup => "cgroup",
        }
    }
}

/// A memory value as written, with the key that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryValue {
    pub bytes: Bytes,
    /// The text written (`512`, `400m`, `"1GB"`).
    pub raw: String,
    /// `mem_limit`, `resources.limits.memory`, `memory` ...
    pub key: String,
    pub span: Span,
    /// The file it is written in when not the container's own (a Helm
    /// chart's `values.yaml`).
    pub file: Option<PathBuf>,
    /// The grammar the value was read with says it is likely a unit slip
    /// (a bare Compose number is bytes; a Kubernetes `m` is milli-bytes).
    pub slip: Option<String>,
}

/// A place in a file, with a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub span: Span,
    pub message: String,
}

/// The hard memory limit that applies to a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub bytes: Bytes,
    /// How it was derived: "1024 MiB task memory − 64 MiB held by `nginx`".
    pub explanation: String,
    /// Where it is written (the limit line first).
    pub places: Vec<Place>,
}

/// One container, whatever described it.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub orchestrator: Orchestrator,
    /// The file that describes it (compose file, manifest, task, Dockerfile).
    pub file: PathBuf,
    /// Service, container or Dockerfile name.
    pub name: String,
    /// The enclosing unit: task family, pod/workload name, compose project.
    pub group: Option<String>,
    pub name_span: Span,
    pub image: Option<At<String>>,
    /// The Dockerfile its image is built from, when known.
    pub dockerfile: Option<PathBuf>,
    /// `None` when the image's own ENTRYPOINT/CMD applies.
    pub entrypoint: Option<Vec<At<String>>>,
    pub command: Option<Vec<At<String>>>,
    pub env: Vec<(At<String>, At<String>)>,
    /// Every hard limit stated for this container, own or shared.
    pub hard: Vec<MemoryValue>,
    /// The effective hard limit.
    pub limit: Option<Limit>,
    pub reservations: Vec<MemoryValue>,
    /// Memory plus swap (Compose `memswap_limit`).
    pub swap: Option<MemoryValue>,
    pub cpus: Option<At<f64>>,
    /// `net.core.somaxconn` from the container's sysctls.
    pub somaxconn: Option<At<u64>>,
    pub stop_grace: Option<At<u64>>,
    /// Ports the container publishes or exposes.
    pub ports: Vec<At<u16>>,
    /// Ports published on the host (Compose `ports`), and whether only on a
    /// loopback or private address.
    pub published: Vec<(At<u16>, bool)>,
    /// Host names other containers reach it by (Compose service name).
    pub hostnames: Vec<String>,
    /// Every container of the pod/task/project by name, this one included
    /// ([`Container::siblings`] leaves it out). One list shared by the
    /// group: a copy per container was quadratic (5,000 Compose services
    /// took 2.8 GB).
    pub group_members: std::sync::Arc<[String]>,
    /// Bind mounts: (path on the host, path in the container).
    pub mounts: Vec<(PathBuf, String)>,
    /// Labels of the pod (Kubernetes), which Services select by.
    pub labels: Vec<(String, String)>,
    /// Ports it is reached by under a name that differ from the port it
    /// listens on: (host name, port, port in the container) — a Kubernetes
    /// Service's `port` → `targetPort`.
    pub port_aliases: Vec<(String, u16, u16)>,
}

impl Container {
    pub fn new(orchestrator: Orchestrator, file: PathBuf, name: String, name_span: Span) -> Self {
        Container {
            orchestrator,
            file,
            name,
            group: None,
            name_span,
            image: None,
            dockerfile: None,
            entrypoint: None,
            command: None,
            env: Vec::new(),
            hard: Vec::new(),
            limit: None,
            reservations: Vec::new(),
            swap: None,
            cpus: None,
            somaxconn: None,
            stop_grace: None,
            ports: Vec::new(),
            published: Vec::new(),
            hostnames: Vec::new(),
            group_members: std::sync::Arc::from(Vec::new()),
            mounts: Vec::new(),
            labels: Vec::new(),
            port_aliases: Vec::new(),
        }
    }

    /// `file#name`, as `[[deployment]]` and messages name it.
    /// Other containers sharing the pod/task/project, by name.
    pub fn siblings(&self) -> impl Iterator<Item = &str> {
        self.group_members
            .iter()
            .map(String::as_str)
            .filter(move |n| *n != self.name)
    }

    pub fn id(&self) -> String {
        format!("{}#{}", self.file.display(), self.name)
    }

    /// How messages name it: "the Compose service `web`".
    pub fn who(&self) -> String {
        match self.orchestrator {
            Orchestrator::Compose => format!("the Compose service `{}`", self.name),
            Orchestrator::Kubernetes => format!("the Kubernetes container `{}`", self.name),
            Orchestrator::Ecs => format!("the ECS container `{}`", self.name),
            Orchestrator::Docker => format!("the container run from `{}`", self.name),
            Orchestrator::Cgroup => "this container".to_string(),
        }
    }

    /// [`Container::who`] at the start of a sentence.
    pub fn who_capitalized(&self) -> String {
        let w = self.who();
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    }

    pub fn grace_seconds(&self) -> u64 {
        self.stop_grace
            .as_ref()
            .map_or(self.orchestrator.default_grace_seconds(), |g| g.value)
    }

    /// The smallest stated hard limit, as the effective one (Compose and
    /// Kubernetes; ECS computes its own with the task share).
    pub fn set_limit_from_hard(&mut self) {
        if let Some(m) = self.hard.iter().min_by_key(|m| m.bytes) {
            self.limit = Some(Limit {
                bytes: m.bytes,
                explanation: format!("`{}: {}` of `{}`", m.key, m.raw, self.name),
                places: vec![Place {
                    file: m.file.clone().unwrap_or_else(|| self.file.clone()),
                    span: m.span,
                    message: format!("hard memory limit {}", m.bytes),
                }],
            });
        }
    }
}

/// Split a shell-form command into words (quotes and backslashes as sh
/// does; no expansion). Spans of the words are the whole string's.
pub fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        _ => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// A shell-form string as words that all point at the string.
pub fn shell_form(s: &At<String>) -> Vec<At<String>> {
    shell_words(&s.value)
        .into_iter()
        .map(|w| At::new(w, s.span))
        .collect()
}

/// The argument vector a container runs: entrypoint then command, with the
/// image's (Dockerfile's) ENTRYPOINT/CMD where the container sets none.
/// Kubernetes semantics: `command` replaces ENTRYPOINT and drops CMD.
pub fn argv(c: &Container, image: Option<&dockerfile::Dockerfile>) -> Vec<At<String>> {
    let ep = c
        .entrypoint
        .clone()
        .or_else(|| image.and_then(|d| d.entrypoint.clone()))
        .unwrap_or_default();
    let cmd = match (&c.command, &c.entrypoint) {
        (Some(cmd), _) => cmd.clone(),
        (None, Some(_)) => Vec::new(),
        (None, None) => image.and_then(|d| d.cmd.clone()).unwrap_or_default(),
    };
    let mut v = ep;
    v.extend(cmd);
    v
}

/// The uWSGI arguments of an argument vector, if it runs uWSGI (directly,
/// through `sh -c`, `exec`, or a wrapper like `dumb-init`/`tini`).
pub fn uwsgi_args(argv: &[At<String>]) -> Option<Vec<At<String>>> {
    let words: Vec<At<String>> = match argv {
        [sh, flag, script, ..]
            if sh.value.ends_with("sh") && matches!(flag.value.as_str(), "-c" | "-ec" | "-ce") =>
        {
            shell_form(script)
        }
        _ => argv.to_vec(),
    };
    let at = words.iter().position(|w| {
        let base = w.value.rsplit('/').next().unwrap_or(&w.value);
        base == "uwsgi" || base == "pyuwsgi"
    })?;
    // A shell script continues after `&&`/`;`: uWSGI's arguments stop there
    // (a `;` may be glued to the last argument).
    let mut rest = Vec::new();
    for w in &words[at + 1..] {
        if matches!(w.value.as_str(), "&&" | ";" | "||" | "|" | "&") {
            break;
        }
        if let Some(last) = w.value.strip_suffix(';') {
            rest.push(At::new(last.to_string(), w.span));
            break;
        }
        rest.push(w.clone());
    }
    Some(rest)
}

/// The host file a bind mount puts at `in_container` (a file mount, or a
/// file below a mounted directory).
pub fn mounted_source(mounts: &[(PathBuf, String)], in_container: &str) -> Option<PathBuf> {
    mounts.iter().rev().find_map(|(host, target)| {
        let target = target.trim_end_matches('/');
        if in_container == target {
            return Some(host.clone());
        }
        in_container
            .strip_prefix(&format!("{target}/"))
            .map(|rest| host.join(rest))
    })
}

/// Is this text a template rather than the format itself: Jinja/Go
/// (`{{ … }}`, `{% … %}`) or envsubst (`${VAR}`) placeholders?
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("${")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(v: &[&str]) -> Vec<At<String>> {
        v.iter()
            .map(|s| At::new(s.to_string(), Span::default()))
            .collect()
    }

    #[test]
    fn shell_words_follow_sh_quoting() {
        assert_eq!(
            shell_words(r#"uwsgi --ini "/app/my app.ini" --set 'a=b c' x\ y"#),
            vec!["uwsgi", "--ini", "/app/my app.ini", "--set", "a=b c", "x y"]
        );
    }

    #[test]
    fn uwsgi_args_through_shells_and_wrappers() {
        let v = uwsgi_args(&at(&[
            "sh",
            "-c",
            "python manage.py migrate && uwsgi --ini u.ini",
        ]));
        assert_eq!(
            v.unwrap()
                .iter()
                .map(|a| a.value.as_str())
                .collect::<Vec<_>>(),
            vec!["--ini", "u.ini"]
        );
        let v = uwsgi_args(&at(&[
            "tini",
            "--",
            "/usr/local/bin/uwsgi",
            "--http",
            ":80",
        ]))
        .unwrap();
        assert_eq!(v.len(), 2);
        assert!(uwsgi_args(&at(&["gunicorn", "app"])).is_none());
    }
}
