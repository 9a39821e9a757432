//! Benchmarks of each stage and of the whole check (divan: `cargo bench`).
//! Inputs are the bundled example and trees written by scripts/gen-monorepo,
//! so the figures match docs/performance.md.

use std::path::{Path, PathBuf};

use uwsgi_lint::container::{compose, dockerfile, ecs, kubernetes, yaml};
use uwsgi_lint::deployment::{self, ConfigFacts, Project};
use uwsgi_lint::settings::Overrides;
use uwsgi_lint::source::SourceMap;
use uwsgi_lint::uwsgi::magic::HostFacts;
use uwsgi_lint::uwsgi::resolve::{self, Invocation, ResolveOptions};

fn main() {
    divan::main();
    // The generated trees are this process's own.
    for n in [6, 100, 1000] {
        let _ = std::fs::remove_dir_all(tree(n));
    }
}

fn tree(n: usize) -> PathBuf {
    std::env::temp_dir().join(format!("uwsgi-lint-bench-{n}-{}", std::process::id()))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/django-ecs")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(example().join(rel)).expect("the example is there")
}

/// A generated tree of `n` deployments, written once per process.
fn monorepo(n: usize) -> PathBuf {
    let dir = tree(n);
    if !dir.exists() {
        let ok = std::process::Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/gen-monorepo"))
            .arg(n.to_string())
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "scripts/gen-monorepo {n} failed");
    }
    dir
}

#[divan::bench]
fn ini_parse(b: divan::Bencher) {
    let bytes = read("deploy/uwsgi.ini");
    b.bench(|| uwsgi_lint::uwsgi::syntax::parse(divan::black_box(&bytes)));
}

#[divan::bench]
fn ini_resolve(b: divan::Bencher) {
    let dir = example();
    let mut host = HostFacts::local("2.0.30");
    host.cwd = dir.clone();
    let opts = ResolveOptions::default();
    let inv = Invocation::ini("deploy/uwsgi.ini", &[]);
    b.bench(|| {
        let mut sources = SourceMap::new();
        resolve::resolve(&inv, &host, &opts, &mut sources)
    });
}

#[divan::bench]
fn nginx_parse(b: divan::Bencher) {
    let bytes = read("deploy/nginx.conf");
    b.bench(|| {
        let config = uwsgi_lint::nginx::syntax::parse(divan::black_box(&bytes));
        uwsgi_lint::nginx::model::build(&config)
    });
}

#[divan::bench]
fn ecs_read(b: divan::Bencher) {
    let text = String::from_utf8(read("ecs/task-definition.json")).unwrap();
    let file = example().join("ecs/task-definition.json");
    b.bench(|| {
        let task = ecs::parse(divan::black_box(&text)).unwrap().unwrap();
        ecs::containers(&file, &task)
    });
}

#[divan::bench]
fn dockerfile_read(b: divan::Bencher) {
    let text = String::from_utf8(read("Dockerfile")).unwrap();
    let file = example().join("Dockerfile");
    b.bench(|| dockerfile::parse(&file, divan::black_box(&text)));
}

#[divan::bench]
fn compose_read(b: divan::Bencher) {
    let dir = monorepo(6);
    let file = dir.join("services/svc-00000/docker-compose.yml");
    let text = std::fs::read_to_string(&file).unwrap();
    b.bench(|| {
        let docs = yaml::parse(divan::black_box(&text)).unwrap();
        compose::containers(&file, &docs[0])
    });
}

#[divan::bench]
fn kubernetes_read(b: divan::Bencher) {
    let dir = monorepo(6);
    let file = dir.join("services/svc-00004/k8s/web.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    b.bench(|| {
        let docs = yaml::parse(divan::black_box(&text)).unwrap();
        kubernetes::containers(&file, &docs)
    });
}

/// `n` ECS tasks, each naming its own `deploy/uwsgi.ini`, and those configs.
fn link_inputs(n: usize) -> (Vec<ConfigFacts>, Project) {
    let mut project = Project::default();
    let mut configs = Vec::new();
    for i in 0..n {
        let dir = PathBuf::from(format!("/repo/services/svc-{i:05}"));
        let json = format!(
            r#"{{"memory": "1024", "containerDefinitions": [{{"name": "web",
               "image": "registry.example.com/svc-{i}:1",
               "command": ["uwsgi", "--ini", "/app/deploy/uwsgi.ini"],
               "portMappings": [{{"containerPort": 3031}}]}}]}}"#
        );
        let task = ecs::parse(&json).unwrap().unwrap();
        project
            .containers
            .extend(ecs::containers(&dir.join("ecs/task.json"), &task));
        project.dirs.insert(dir.clone());
        configs.push(ConfigFacts {
            path: dir.join("deploy/uwsgi.ini"),
            sockets: Vec::new(),
        });
    }
    project.dirs.insert(PathBuf::from("/repo"));
    (configs, project)
}

#[divan::bench(args = [100, 1000, 10000])]
fn link(b: divan::Bencher, n: usize) {
    let (configs, project) = link_inputs(n);
    b.bench(|| deployment::link(&configs, &project, &[]));
}

#[divan::bench(sample_count = 20)]
fn check_example(b: divan::Bencher) {
    let overrides = Overrides {
        no_config: true,
        ..Overrides::default()
    };
    let dir = example();
    b.bench(|| uwsgi_lint::lint::lint(std::slice::from_ref(&dir), &overrides).unwrap());
}

#[divan::bench(args = [100, 1000], sample_count = 5)]
fn check_monorepo(b: divan::Bencher, n: usize) {
    let overrides = Overrides {
        no_config: true,
        ..Overrides::default()
    };
    let dir = monorepo(n);
    b.bench(|| uwsgi_lint::lint::lint(std::slice::from_ref(&dir), &overrides).unwrap());
}

/// The walk: list, read and classify every file of a generated tree (in
/// parallel from 16 files on).
#[divan::bench(args = [100, 1000], sample_count = 5)]
fn discover(b: divan::Bencher, n: usize) {
    let dir = monorepo(n);
    let overlay = uwsgi_lint::input::Overlay::new();
    b.bench(|| uwsgi_lint::discover::context(std::slice::from_ref(&dir), &overlay));
}

/// One config inside a generated tree, as the per-file pre-commit hook
/// asks for it: its context is still the whole repository.
#[divan::bench(args = [100, 1000], sample_count = 5)]
fn check_one_file(b: divan::Bencher, n: usize) {
    let overrides = Overrides {
        no_config: true,
        ..Overrides::default()
    };
    let file = monorepo(n).join("services/svc-00042/deploy/uwsgi.ini");
    b.bench(|| uwsgi_lint::lint::lint(std::slice::from_ref(&file), &overrides).unwrap());
}

/// Option lookups by name (every collected key, every rule), in the
/// catalogue's build-time table.
#[divan::bench]
fn catalogue_get(b: divan::Bencher) {
    let names = [
        "processes",
        "reload-on-rss",
        "harakiri",
        "socket",
        "no-such-option",
    ];
    b.bench(|| {
        names
            .iter()
            .filter(|n| {
                uwsgi_lint::uwsgi::options::catalogue()
                    .get(divan::black_box(n))
                    .is_some()
            })
            .count()
    });
}

/// A 2,000-line config: the example's, then comments, env lines, routes
/// and mounts, as large real configs grow.
fn big_ini() -> Vec<u8> {
    let mut s = String::from_utf8(read("deploy/uwsgi.ini")).unwrap();
    let mut i = 0;
    while s.lines().count() < 2000 {
        s.push_str(&format!(
            "; block {i}\nenv = FEATURE_{i}=on\nroute = ^/legacy/{i}/ redirect:/new/{i}/\nstatic-map = /assets/{i}=/app/static/{i}\nif-env = STAGE_{i}\nworkers = %(processes)\nendif =\n"
        ));
        i += 1;
    }
    s.into_bytes()
}

/// The editor's case: one keystroke in a 2,000-line `uwsgi.ini` of the
/// example project, re-linted from the unsaved text (what `uwsgi-lint lsp`
/// runs on each change).
#[divan::bench(sample_count = 200)]
fn relint_2000_line_ini(b: divan::Bencher) {
    let dir = tree(6);
    if !dir.exists() {
        let ok = std::process::Command::new("cp")
            .arg("-r")
            .arg(example())
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "copying the example");
    }
    let ini = dir.join("deploy/uwsgi.ini");
    let text = big_ini();
    let overrides = Overrides {
        no_config: true,
        ..Overrides::default()
    };
    let mut n = 0u64;
    b.bench_local(|| {
        // A different text each time, as typing makes it.
        n += 1;
        let mut t = text.clone();
        t.extend_from_slice(format!("; keystroke {n}\n").as_bytes());
        let overlay = uwsgi_lint::input::Overlay::single(&ini, t);
        uwsgi_lint::lint::lint_with(std::slice::from_ref(&dir), &overrides, &overlay).unwrap()
    });
}

/// The language server's per-change path: the session of the example
/// project keeps its context, and each keystroke in the 2,000-line
/// `uwsgi.ini` re-reads, resolves and checks only that config (the first,
/// full analysis is made before timing).
#[divan::bench(sample_count = 200)]
fn relint_session_2000_line_ini(b: divan::Bencher) {
    let dir = tree(6);
    if !dir.exists() {
        let ok = std::process::Command::new("cp")
            .arg("-r")
            .arg(example())
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "copying the example");
    }
    let dir = uwsgi_lint::source::canonicalize(&dir).unwrap();
    std::env::set_current_dir(&dir).unwrap();
    let ini = dir.join("deploy/uwsgi.ini");
    let text = big_ini();
    let overrides = Overrides {
        no_config: true,
        ..Overrides::default()
    };
    let mut session = uwsgi_lint::session::Session::new(vec![dir.clone()], overrides);
    session.set_texts([(ini.as_path(), &text[..])]);
    session.analysis().unwrap();
    let mut n = 0u64;
    b.bench_local(|| {
        n += 1;
        let mut t = text.clone();
        t.extend_from_slice(format!("; keystroke {n}\n").as_bytes());
        session.set_texts([(ini.as_path(), &t[..])]);
        session.analysis().unwrap().report.diagnostics.len()
    });
    let counts = session.counts();
    assert_eq!(
        counts.full, 1,
        "every keystroke stays incremental: {counts:?}"
    );
}
