//! Process managers and entrypoint scripts inside the image: a container's
//! command followed through the project's shell scripts (`exec uwsgi …`,
//! `exec "$@"`, `${VAR:-default}`) and supervisord configurations
//! (`[program:x]`, `[include]`, `%(ENV_X)s`) to the uWSGI it starts, with
//! the findings of each fixture under `tests/fixtures/launch/` snapshotted
//! and the `-v` evidence asserted.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    common::manifest_dir()
        .join("tests/fixtures/launch")
        .join(name)
}

/// `check -v` (concise) and `check` (JSON) in `dir`.
fn run(dir: &Path) -> (String, Value) {
    let (_, text, err) = common::uwsgi_lint(
        dir,
        &["check", "--no-config", "-v", "--format", "concise", "."],
    );
    assert!(!text.is_empty(), "{err}");
    let (_, json, err) =
        common::uwsgi_lint(dir, &["check", "--no-config", "--format", "json", "."]);
    let v = serde_json::from_str(&json).unwrap_or_else(|_| panic!("{err}"));
    (text, v)
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => common::manifest_dir().join("snapshots"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(format!("launch_{name}"), text);
    });
}

fn find<'a>(v: &'a Value, code: &str) -> Option<&'a Value> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
}

/// A copy of a fixture to change a file in.
fn copy(name: &str, edits: &[(&str, &str, &str)]) -> PathBuf {
    let src = fixture(name);
    let dst = std::env::temp_dir().join(format!("uwsgi-lint-launch-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dst);
    for e in walk(&src) {
        let to = dst.join(e.strip_prefix(&src).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&e, &to).unwrap();
    }
    std::fs::create_dir_all(dst.join(".git")).unwrap();
    for (file, from, to) in edits {
        let p = dst.join(file);
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains(from), "{file}: {from}");
        std::fs::write(&p, text.replace(from, to)).unwrap();
    }
    dst
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn seed_topology_one_ecs_container_started_by_supervisord() {
    let (text, v) = run(&fixture("seed-ecs-supervisord"));
    snapshot("seed_ecs_supervisord", &text);
    // Dockerfile CMD supervisord -c … → deploy/supervisord.conf (copied
    // there) → program uwsgi → --ini the copied deploy/uwsgi.ini.
    assert!(
        text.contains("its command starts supervisord with `/etc/supervisor/supervisord.conf` (deploy/supervisord.conf), whose program `uwsgi` runs uWSGI"),
        "{text}"
    );
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{v}");
    assert_eq!(deps[0]["container"], "ecs/task-definition.json#web");
    assert_eq!(deps[0]["nginx_colocated"], true);
    let d = find(&v, "UW202").expect("UW202");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["file"], "deploy/uwsgi.ini");
    let m = d["message"].as_str().unwrap();
    // Nginx started by the same supervisord counts in the task's memory.
    assert!(m.starts_with("8 workers × reload-on-rss 220 MiB"), "{m}");
    assert!(m.contains("Nginx in the same container"), "{m}");
    assert!(m.contains("1 GiB task memory"), "{m}");
    assert_eq!(d["related"][0]["file"], "ecs/task-definition.json");
}

#[test]
fn supervisord_kills_after_its_stopwaitsecs_before_the_container_grace() {
    // No `stopwaitsecs`: supervisord SIGKILLs 10 s after the stop signal,
    // before ECS's 30 s; without the hook uWSGI 2.0 reloads on SIGTERM.
    let d = copy(
        "seed-ecs-supervisord",
        &[
            ("deploy/supervisord.conf", "stopwaitsecs=25\n", ""),
            (
                "deploy/uwsgi.ini",
                "die-on-term = true\nhook-master-start = unix_signal:15 gracefully_kill_them_all",
                "",
            ),
        ],
    );
    let (text, v) = run(&d);
    assert!(
        text.contains(
            "stop grace: 10 s (supervisord's `stopwaitsecs`, shorter than the container's)"
        ),
        "{text}"
    );
    assert_eq!(v["deployments"][0]["stop_grace_seconds"], 10, "{v}");
    let d303 = find(&v, "UW303").expect("UW303");
    let m = d303["message"].as_str().unwrap();
    assert!(
        m.contains("supervisord in the ECS container `web` waits its `stopwaitsecs` (10 s)"),
        "{m}"
    );
    assert!(
        d303["related"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["file"] == "deploy/supervisord.conf"
                && r["message"]
                    .as_str()
                    .unwrap()
                    .contains("10 s after its stop signal (`stopwaitsecs`, default)")),
        "{d303}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn entrypoint_default_raises_processes_past_the_limit() {
    let (text, v) = run(&fixture("entrypoint-workers"));
    snapshot("entrypoint_workers", &text);
    assert!(
        text.contains("its command runs `docker-entrypoint.sh` (docker/docker-entrypoint.sh), which runs uWSGI"),
        "{text}"
    );
    // `${UWSGI_WORKERS:-8}`: nothing sets it, the default applies.
    assert!(
        text.contains(
            "uWSGI arguments: --ini /app/config/uwsgi.ini --processes 8 --http-socket :8000"
        ),
        "{text}"
    );
    let m = find(&v, "UW202").expect("UW202")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.starts_with("8 workers × reload-on-rss 200 MiB"), "{m}");
    // The container's environment wins over the default: 3 × 200 fits.
    let d = copy(
        "entrypoint-workers",
        &[(
            "docker-compose.yml",
            "DJANGO_SETTINGS_MODULE: api.settings",
            "DJANGO_SETTINGS_MODULE: api.settings\n      UWSGI_WORKERS: \"3\"",
        )],
    );
    let (text, v) = run(&d);
    assert!(text.contains("--processes 3 "), "{text}");
    assert!(find(&v, "UW202").is_none(), "{v}");
}

#[test]
fn a_case_on_the_command_picks_the_branch_each_container_runs() {
    let d = copy(
        "entrypoint-workers",
        &[
            (
                "docker/docker-entrypoint.sh",
                "python manage.py migrate --noinput\n",
                "python manage.py migrate --noinput\ncase \"$1\" in\n  worker) exec celery -A api worker ;;\n  web|'')\n",
            ),
            (
                "docker/docker-entrypoint.sh",
                "--http-socket \":${PORT:-8000}\"\n",
                "--http-socket \":${PORT:-8000}\"\n    ;;\n  *) exec \"$@\" ;;\nesac\n",
            ),
            (
                "docker-compose.yml",
                "    mem_limit: 1g\n",
                "    mem_limit: 1g\n    command: [\"web\"]\n",
            ),
            (
                "docker-compose.yml",
                "  db:\n",
                "  worker:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile\n    command: [\"worker\"]\n    mem_limit: 512m\n  db:\n",
            ),
        ],
    );
    let (text, v) = run(&d);
    // Only `web` reaches uWSGI: one link, the budget checked against 1g.
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{text}");
    assert_eq!(deps[0]["container"], "docker-compose.yml#api", "{text}");
    assert!(
        text.contains("uWSGI arguments: --ini /app/config/uwsgi.ini --processes 8"),
        "{text}"
    );
    let m = find(&v, "UW202").expect("UW202")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.contains("`mem_limit: 1g` of `api`"), "{m}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn of_several_dockerfiles_the_one_that_copies_the_program_builds_the_image() {
    let (text, v) = run(&fixture("image-by-copied-program"));
    snapshot("image_by_copied_program", &text);
    // `wait-for-it.sh … -- /entrypoint-uwsgi.sh`: the wait is a wrapper;
    // only Dockerfile.django copies the script, and its ENV completes it.
    assert!(
        text.contains("its image taken to be the only Dockerfile of the project that copies the program it starts"),
        "{text}"
    );
    assert!(
        text.contains("uWSGI arguments: --socket 0.0.0.0:3031 --master --processes 4 --wsgi shop.wsgi:application"),
        "{text}"
    );
    assert!(
        text.contains("image built from: Dockerfile.django"),
        "{text}"
    );
    assert!(find(&v, "UW302").is_some(), "{v}");
    // An option only the running script knows (`$EXTRA_ARGS`, `--$KIND`)
    // may set anything: nothing is said to be missing.
    for (from, to) in [
        (
            "  --wsgi shop.wsgi:application\n",
            "  --wsgi shop.wsgi:application $EXTRA_ARGS\n",
        ),
        ("\"--${APP_SOCKET_KIND}\"", "\"--${KIND_FROM_RUNTIME}\""),
    ] {
        let d = copy(
            "image-by-copied-program",
            &[("docker/entrypoint-uwsgi.sh", from, to)],
        );
        let (text, v) = run(&d);
        assert!(
            text.contains("linked ecs/task-definition.json#uwsgi"),
            "{text}"
        );
        for absent in ["UW302", "UW307", "UW203", "UW303", "UW604", "UW004"] {
            assert!(find(&v, absent).is_none(), "{absent}: {v}");
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}

#[test]
fn exec_all_arguments_runs_the_image_command() {
    let (text, v) = run(&fixture("exec-cmd-args"));
    snapshot("exec_cmd_args", &text);
    assert!(
        text.contains("its command runs `/entrypoint.sh` (entrypoint.sh), which runs uWSGI"),
        "{text}"
    );
    let m = find(&v, "UW202").expect("UW202")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.starts_with("6 workers × reload-on-rss 128 MiB"), "{m}");
    // An entrypoint that ignores its arguments decides what runs.
    let d = copy(
        "exec-cmd-args",
        &[("entrypoint.sh", "exec \"$@\"", "exec gunicorn app:app")],
    );
    let (text, v) = run(&d);
    assert!(text.contains("no container linked"), "{text}");
    assert!(find(&v, "UW202").is_none(), "{v}");
}

#[test]
fn an_unknown_variable_computes_nothing() {
    let (text, v) = run(&fixture("unknown-workers"));
    snapshot("unknown_workers", &text);
    // Linked, but `--processes "$WEB_CONCURRENCY"` is unknown here: neither
    // the ini's 16 nor a guess is put against the 1 GiB limit.
    assert!(
        text.contains(
            "its command runs `/app/deploy/start.sh` (deploy/start.sh), which runs uWSGI"
        ),
        "{text}"
    );
    assert!(
        text.contains("--processes $(unknown:WEB_CONCURRENCY)"),
        "{text}"
    );
    assert!(find(&v, "UW202").is_none(), "{v}");
    assert!(find(&v, "UW203").is_none(), "{v}");
    // Once the Compose file sets it, it counts.
    let d = copy(
        "unknown-workers",
        &[(
            "docker-compose.yml",
            "    mem_limit: 1g\n",
            "    mem_limit: 1g\n    environment:\n      WEB_CONCURRENCY: \"6\"\n",
        )],
    );
    let (_, v) = run(&d);
    let m = find(&v, "UW202").expect("UW202")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.starts_with("6 workers"), "{m}");
}

#[test]
fn supervisord_includes_and_environment_expansions() {
    let (text, v) = run(&fixture("supervisord-include-env"));
    snapshot("supervisord_include_env", &text);
    // `[include] files = supervisord.d/*.conf`, relative to /etc, reaches
    // docker/supervisor/uwsgi.conf through `COPY docker/supervisor/ …`;
    // `%(ENV_WEB_WORKERS)s` is the Compose service's 12.
    assert!(
        text.contains("uWSGI arguments: --ini /srv/app/uwsgi.ini --processes 12"),
        "{text}"
    );
    let m = find(&v, "UW202").expect("UW202")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.starts_with("12 workers"), "{m}");
    assert!(m.contains("Nginx in the same container (2 workers)"), "{m}");
    // The program's `environment=UWSGI_HARAKIRI` reaches uWSGI (no UW302),
    // and its `user = app` is what uWSGI runs as (no UW604).
    assert!(find(&v, "UW302").is_none(), "{v}");
    assert!(find(&v, "UW604").is_none(), "{v}");
}

#[test]
fn supervisord_stop_signal_decides_what_uwsgi_gets() {
    // Without the graceful hook, the default `stopsignal` (TERM) reloads a
    // 2.0 master: UW303, with the program's command line as the place that
    // runs uWSGI.
    let hookless = (
        "app/uwsgi.ini",
        "die-on-term = true\nhook-master-start = unix_signal:15 gracefully_kill_them_all\n",
        "",
    );
    let d = copy("supervisord-include-env", &[hookless]);
    let (_, v) = run(&d);
    let reload = find(&v, "UW303").expect("UW303");
    let related: Vec<&str> = reload["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert!(
        related.contains(&"docker/supervisor/uwsgi.conf"),
        "{reload}"
    );
    // `stopsignal = INT`: SIGTERM never reaches uWSGI; supervisord's SIGINT
    // stops it (cutting requests), so the SIGTERM findings do not apply.
    let d = copy(
        "supervisord-include-env",
        &[
            hookless,
            (
                "docker/supervisor/uwsgi.conf",
                "stopsignal = TERM",
                "stopsignal = INT",
            ),
        ],
    );
    let (text, v) = run(&d);
    assert!(
        text.contains("(`stopsignal = INT`, `stopwaitsecs = 30`)"),
        "{text}"
    );
    assert!(find(&v, "UW303").is_none(), "{v}");
    assert!(find(&v, "UW308").is_none(), "{v}");
}
