//! Link: which container runs which uWSGI config, with what command line,
//! environment and memory limit. So far for ECS task definitions; Compose
//! and Kubernetes follow the same shape.
//!
//! A container is linked to a config when its command (or entry point)
//! names the config (`--ini`, `--yaml`, a positional file, or `UWSGI_INI`),
//! matched to a repository file by the longest common path suffix; failing
//! that, when the project has exactly one uWSGI config and one container
//! that runs uWSGI, those two. Every link says why it was made.

use std::path::{Path, PathBuf};

use crate::container::ecs::{At, EcsContainer, EcsTask};
use crate::source::Span;
use crate::units::Bytes;

/// A place in a file other than the config, for related labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub span: Span,
    pub message: String,
}

/// The hard memory limit that applies to the uWSGI container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub bytes: Bytes,
    /// How it was derived, for messages: "1024 MiB task memory − 64 MiB reserved by `nginx`".
    pub explanation: String,
    /// Where it is written (the limit line first).
    pub places: Vec<Place>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// The uWSGI config (a repository file).
    pub uwsgi: PathBuf,
    /// `file#container`, as `[[deployment]]` names it.
    pub container: String,
    pub container_file: PathBuf,
    /// Why these two were linked.
    pub reason: String,
    /// uWSGI's command-line arguments in the container (after the program).
    pub args: Vec<String>,
    /// The container's environment (`UWSGI_*` become options; `$(VAR)` reads it).
    pub env: Vec<(String, String)>,
    pub limit: Option<Limit>,
    /// Reservations only, no hard limit (UW208 material).
    pub soft_only: Option<Place>,
    /// Seconds between SIGTERM and SIGKILL.
    pub stop_grace_seconds: u64,
}

/// The uWSGI arguments of a container's command, if it runs uWSGI.
fn uwsgi_args(c: &EcsContainer) -> Option<Vec<String>> {
    let argv: Vec<&str> = c
        .entry_point
        .iter()
        .chain(&c.command)
        .map(|a| a.value.as_str())
        .collect();
    // `sh -c "uwsgi --ini x"`: split the shell string on blanks.
    let words: Vec<String> = if argv.len() >= 3 && matches!(argv[1], "-c" | "-ec") {
        argv[2].split_whitespace().map(String::from).collect()
    } else {
        argv.iter().map(|s| s.to_string()).collect()
    };
    let at = words.iter().position(|w| {
        let base = w.rsplit('/').next().unwrap_or(w);
        base == "uwsgi" || base == "pyuwsgi"
    })?;
    Some(words[at + 1..].to_vec())
}

/// Config files a uWSGI command line names (`--ini x`, `--ini=x`, `--yaml x`, positional).
fn named_configs(args: &[String], env: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(v) = ["--ini=", "--yaml=", "--yml="]
            .iter()
            .find_map(|p| a.strip_prefix(p))
        {
            out.push(v.to_string());
        } else if matches!(a.as_str(), "--ini" | "--yaml" | "--yml") && i + 1 < args.len() {
            out.push(args[i + 1].clone());
            i += 1;
        } else if !a.starts_with('-')
            && (a.ends_with(".ini") || a.ends_with(".yaml") || a.ends_with(".yml"))
        {
            out.push(a.clone());
        }
        i += 1;
    }
    out.extend(
        env.iter()
            .filter(|(k, _)| k == "UWSGI_INI" || k == "UWSGI_YAML")
            .map(|(_, v)| v.clone()),
    );
    out
}

/// The repository config whose path shares the longest suffix with `named`
/// (at least the file name).
fn match_config<'a>(named: &str, configs: &'a [PathBuf]) -> Option<&'a PathBuf> {
    let named = named.split(':').next().unwrap_or(named);
    let want: Vec<&str> = named
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let score = |p: &PathBuf| {
        let have: Vec<String> = p
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        want.iter()
            .rev()
            .zip(have.iter().rev())
            .take_while(|(a, b)| **a == b.as_str())
            .count()
    };
    let best = configs
        .iter()
        .map(|p| (score(p), p))
        .max_by_key(|(s, _)| *s)?;
    // Ambiguous ties (two `uwsgi.ini` matched by name only) link nothing.
    let ties = configs.iter().filter(|p| score(p) == best.0).count();
    (best.0 >= 1 && ties == 1).then_some(best.1)
}

fn place<T>(file: &Path, at: &At<T>, message: String) -> Place {
    Place {
        file: file.to_path_buf(),
        span: at.span,
        message,
    }
}

/// The hard limit of `c` inside `task` (facts §3.3): the container's own
/// `memory`, and the task's `memory` less what the other containers hold.
fn ecs_limit(file: &Path, task: &EcsTask, c: &EcsContainer) -> Option<Limit> {
    let own = c.memory.as_ref().map(|m| Limit {
        bytes: m.value,
        explanation: format!("container `{}` memory {}", c.name, m.value),
        places: vec![place(file, m, format!("hard memory limit {}", m.value))],
    });
    let shared = task.memory.as_ref().map(|tm| {
        let mut others = Vec::new();
        let mut held = Bytes(0);
        for o in task.containers.iter().filter(|o| o.name != c.name) {
            if let Some(m) = o.memory.as_ref().or(o.memory_reservation.as_ref()) {
                held = Bytes(held.0 + m.value.0);
                others.push((o.name.clone(), m));
            }
        }
        let bytes = Bytes(tm.value.0.saturating_sub(held.0));
        let mut explanation = format!("{} task memory", tm.value);
        let mut places = vec![place(file, tm, format!("task memory {}", tm.value))];
        for (name, m) in others {
            explanation.push_str(&format!(" − {} held by `{name}`", m.value));
            places.push(place(file, m, format!("`{name}` holds {}", m.value)));
        }
        if held.0 > 0 {
            explanation.push_str(&format!(" = {bytes}"));
        }
        Limit {
            bytes,
            explanation,
            places,
        }
    });
    match (own, shared) {
        (Some(a), Some(b)) => Some(if a.bytes <= b.bytes { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// Link ECS containers that run uWSGI to the repository's configs.
pub fn link_ecs(configs: &[PathBuf], tasks: &[(PathBuf, EcsTask)]) -> Vec<Deployment> {
    let mut out = Vec::new();
    let runners: Vec<(&PathBuf, &EcsTask, &EcsContainer, Vec<String>)> = tasks
        .iter()
        .flat_map(|(f, t)| {
            t.containers
                .iter()
                .filter_map(move |c| uwsgi_args(c).map(|a| (f, t, c, a)))
        })
        .collect();
    for (file, task, c, args) in &runners {
        let env: Vec<(String, String)> = c
            .environment
            .iter()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect();
        let named = named_configs(args, &env);
        let (config, reason) = match named
            .iter()
            .find_map(|n| match_config(n, configs).map(|p| (p, n)))
        {
            Some((p, n)) => (p.clone(), format!("its command names `{n}`")),
            None if named.is_empty() && configs.len() == 1 && runners.len() == 1 => (
                configs[0].clone(),
                "the only uWSGI config and the only container running uWSGI".to_string(),
            ),
            None => continue,
        };
        // The command's own config argument is replaced by the repository
        // file when resolving; other arguments stay as layers.
        let limit = ecs_limit(file, task, c);
        let soft_only = match (&limit, &c.memory_reservation) {
            (None, Some(r)) => Some(place(file, r, format!("soft limit only: {}", r.value))),
            _ => None,
        };
        out.push(Deployment {
            uwsgi: config,
            container: format!("{}#{}", file.display(), c.name),
            container_file: file.to_path_buf(),
            reason,
            args: args.clone(),
            env,
            limit,
            soft_only,
            stop_grace_seconds: c.stop_timeout.as_ref().map_or(30, |s| s.value),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::ecs;

    fn task(json: &str) -> (PathBuf, EcsTask) {
        (
            PathBuf::from("/repo/ecs/task.json"),
            ecs::parse(json).unwrap().unwrap(),
        )
    }

    #[test]
    fn links_by_command_and_computes_the_shared_limit() {
        let t = task(
            r#"{"memory": "1024", "containerDefinitions": [
                {"name": "web", "command": ["uwsgi", "--ini", "/app/deploy/uwsgi.ini", "--processes", "8"],
                 "environment": [{"name": "UWSGI_HARAKIRI", "value": "20"}]},
                {"name": "nginx", "memoryReservation": 64}]}"#,
        );
        let configs = vec![
            PathBuf::from("/repo/deploy/uwsgi.ini"),
            PathBuf::from("/repo/other/uwsgi.ini"),
        ];
        let d = link_ecs(&configs, &[t]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].uwsgi, PathBuf::from("/repo/deploy/uwsgi.ini"));
        assert!(d[0].reason.contains("/app/deploy/uwsgi.ini"));
        assert_eq!(
            d[0].args,
            vec!["--ini", "/app/deploy/uwsgi.ini", "--processes", "8"]
        );
        assert_eq!(d[0].env[0].0, "UWSGI_HARAKIRI");
        let l = d[0].limit.as_ref().unwrap();
        assert_eq!(l.bytes, Bytes::from_mib(960));
        assert_eq!(l.places.len(), 2);
        assert_eq!(d[0].stop_grace_seconds, 30);
    }

    #[test]
    fn container_limit_wins_when_smaller_and_ambiguity_links_nothing() {
        let t = task(
            r#"{"memory": "2048", "containerDefinitions": [
                {"name": "web", "memory": 512, "entryPoint": ["sh", "-c", "exec uwsgi --ini uwsgi.ini"]}]}"#,
        );
        let one = vec![PathBuf::from("/repo/uwsgi.ini")];
        let d = link_ecs(&one, std::slice::from_ref(&t));
        assert_eq!(d[0].limit.as_ref().unwrap().bytes, Bytes::from_mib(512));
        let two = vec![
            PathBuf::from("/repo/a/uwsgi.ini"),
            PathBuf::from("/repo/b/uwsgi.ini"),
        ];
        assert!(link_ecs(&two, &[t]).is_empty());
    }

    #[test]
    fn the_only_config_and_container_are_linked() {
        let t = task(
            r#"{"containerDefinitions": [{"name": "web", "command": ["uwsgi"], "memoryReservation": 256}]}"#,
        );
        let d = link_ecs(&[PathBuf::from("/repo/app.ini")], &[t]);
        assert!(d[0].reason.contains("only"));
        assert!(d[0].limit.is_none());
        assert!(d[0].soft_only.is_some());
    }
}
