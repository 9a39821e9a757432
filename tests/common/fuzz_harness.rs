//! The fuzz targets' bodies, shared by the fuzz crate (`fuzz/`, which
//! includes this file) and the normal test run (`tests/fuzz_regressions.rs`
//! runs every input the fuzzers ever crashed on, kept under
//! `tests/fixtures/fuzz/<target>/`). Each function takes the raw input of
//! one target and panics only on a bug.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use uwsgi_lint::input::Overlay;
use uwsgi_lint::source::SourceMap;
use uwsgi_lint::uwsgi::magic::HostFacts;
use uwsgi_lint::uwsgi::resolve::{self, Invocation, Layer, ResolveOptions};

/// Separates the files of one input (`check`, `nginx`, `containers`): a
/// line the fuzzer learns from the dictionary and the seeds.
pub const FILE_SEPARATOR: &[u8] = b"\n%%%%\n";

/// `data` cut at [`FILE_SEPARATOR`] into at most `n` parts (missing parts empty).
pub fn split(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(n);
    let mut rest = data;
    while out.len() + 1 < n {
        match find(rest, FILE_SEPARATOR) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + FILE_SEPARATOR.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out.resize(n, &[][..]);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Where the projects are made: under the test run's own temporary
/// directory (`target/tmp`, reused by every run: the files on disk are
/// placeholders, the overlay gives their text), or a fresh temporary
/// directory for the fuzz binaries.
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| match option_env!("CARGO_TARGET_TMPDIR") {
        Some(t) => Path::new(t).join("fuzz-harness"),
        None => tempfile::tempdir().expect("temp dir").keep(),
    })
}

/// A directory holding `files` (empty, parents created) and a `.git`
/// marker, made once per `key` and kept for the life of the process.
pub fn project(key: &'static str, files: &[&str]) -> PathBuf {
    let empty: Vec<(&str, &[u8])> = files.iter().map(|f| (*f, &b""[..])).collect();
    project_with(key, &empty)
}

/// [`project`], with each file's content on disk.
pub fn project_with(key: &'static str, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = root().join(key);
    if !dir.join(".git").exists() {
        std::fs::create_dir_all(dir.join(".git")).expect("project dir");
        for (f, text) in files {
            let p = dir.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).expect("project subdir");
            std::fs::write(&p, text).expect("project file");
        }
    }
    std::fs::canonicalize(&dir).expect("canonical project dir")
}

/// An overlay giving each of `files` (relative to `dir`) its part.
pub fn overlay(dir: &Path, files: &[&str], parts: &[&[u8]]) -> Overlay {
    let mut o = Overlay::new();
    for (f, p) in files.iter().zip(parts) {
        o.insert(&dir.join(f), p.to_vec());
    }
    o
}

/// Lint `dir` with `overlay` and render the report in every format; the
/// result must be a report or an error, never a panic.
pub fn lint_and_render(dir: &Path, overlay: &Overlay) {
    let overrides = uwsgi_lint::settings::Overrides::default();
    let Ok(analysis) = uwsgi_lint::lint::lint_with(&[dir.to_path_buf()], &overrides, overlay)
    else {
        return;
    };
    let mut report = analysis.report;
    uwsgi_lint::output::normalize(&report.sources, &mut report.diagnostics);
    for d in &report.diagnostics {
        // A rule that panics is caught (UW000) so a run goes on; here it is
        // the bug it stands for.
        assert_ne!(d.code, "UW000", "{}", d.message);
        let f = report.sources.get(d.file);
        assert!(
            d.span.start <= d.span.end && d.span.end <= f.bytes.len(),
            "{} span {:?} outside {} ({} bytes)",
            d.code,
            d.span,
            f.name,
            f.bytes.len()
        );
    }
    let options = uwsgi_lint::output::Options::default();
    let input = uwsgi_lint::output::Input {
        sources: &report.sources,
        diagnostics: &report.diagnostics,
        files: report.files,
        deployments: &report.deployments,
        nginx: &report.nginx,
        root: dir,
        options: &options,
    };
    use uwsgi_lint::output::Format;
    for f in [Format::Text, Format::Json, Format::Sarif, Format::Github] {
        std::hint::black_box(uwsgi_lint::output::renderer(f).render(&input));
    }
}

/// A target: its raw input in, a panic on a bug.
pub type Target = fn(&[u8]);

/// The targets, by the name of their fuzz binary.
pub const TARGETS: &[(&str, Target)] = &[
    ("uwsgi", uwsgi),
    ("nginx", nginx),
    ("containers", containers),
    ("values", values),
    ("check", check),
];

const INI_FILES: &[&str] = &["main.ini", "other.ini", "conf/inc.ini"];
const YAML_FILES: &[&str] = &["main.yaml", "other.yml", "conf/inc.yaml"];

/// uWSGI configs: the ini reader (its tree prints back to its bytes), uWSGI's
/// line-based YAML reader, and the resolver over either (includes, inherit,
/// placeholders, logic blocks) never panics, keeps its spans inside their
/// files and stays within its budgets. Bit 4 of the first byte picks YAML,
/// bit 0 the section `other`, bits 1 and 3 resolver options.
pub fn uwsgi(data: &[u8]) {
    let Some((&flags, data)) = data.split_first() else {
        return;
    };
    let yaml = flags & 16 != 0;
    let files = if yaml { YAML_FILES } else { INI_FILES };
    if yaml {
        for section in [&b"uwsgi"[..], b"other", b""] {
            std::hint::black_box(uwsgi_lint::uwsgi::yaml::read(data, section));
        }
    } else {
        let doc = uwsgi_lint::uwsgi::syntax::parse(data);
        assert_eq!(doc.print(data), data, "the tree does not print back");
    }
    let dir = project(if yaml { "yaml" } else { "ini" }, files);
    let parts = split(data, files.len());
    let mut host = HostFacts::anonymous("2.0.30");
    host.cwd = dir.clone();
    let spec = format!("{}{}", files[0], if flags & 1 == 0 { "" } else { ":other" });
    let inv = Invocation {
        env: vec![
            ("X".into(), "1".into()),
            ("UWSGI_PROCESSES".into(), "2".into()),
        ],
        args: vec![
            if yaml { "--yaml" } else { "--ini" }.into(),
            spec,
            "--master".into(),
        ],
    };
    // Always confined to the project, as `check` is: unconfined (as
    // `show-config` reads) a `for-glob = /**/*` walks this machine.
    let opts = ResolveOptions {
        fallback_to_including_dir: flags & 2 != 0,
        overlay: overlay(&dir, files, &parts),
        confine: vec![dir.clone()],
        foreign_host: flags & 8 != 0,
    };
    let mut sources = SourceMap::new();
    let r = resolve::resolve(&inv, &host, &opts, &mut sources);
    // The option cap (10,000) plus what the command line and environment add.
    assert!(r.entries.len() <= 10_016, "{} options", r.entries.len());
    for e in &r.entries {
        if let Layer::File {
            file,
            key,
            value,
            line,
        } = e.origin.layer
        {
            let len = sources.get(file).bytes.len();
            for s in [key, value, line] {
                assert!(s.start <= s.end && s.end <= len, "span {s:?} outside {len}");
            }
        }
        if let Some(v) = &e.value {
            assert!(v.len() <= (1 << 20) + 4096, "a value of {} bytes", v.len());
        }
    }
    std::hint::black_box(r.show_config_text());
}

const NGINX_FILES: &[&str] = &["nginx.conf", "conf.d/site.conf", "conf.d/upstream.conf"];

fn check_nginx_spans(ds: &[uwsgi_lint::nginx::syntax::Directive], len: usize) {
    for d in ds {
        assert!(
            d.span.start <= d.span.end && d.span.end <= len,
            "{:?} outside {len}",
            d.span
        );
        if let Some(b) = &d.block {
            check_nginx_spans(b, len);
        }
    }
}

/// The Nginx parser and the include loader (globs, nested includes, `nginx
/// -T` dumps), on a project of three files.
pub fn nginx(data: &[u8]) {
    let parsed = uwsgi_lint::nginx::syntax::parse(data);
    check_nginx_spans(&parsed.directives, data.len());
    let dir = project("nginx", NGINX_FILES);
    let parts = split(data, NGINX_FILES.len());
    let o = overlay(&dir, NGINX_FILES, &parts);
    let main = dir.join(NGINX_FILES[0]);
    let loaded = uwsgi_lint::nginx::include::load_with(
        &main,
        parts[0],
        None,
        std::slice::from_ref(&dir),
        &o,
    );
    std::hint::black_box(loaded);
}

const INI: &[u8] =
    b"[uwsgi]\nmodule = app:application\nhttp-socket = :8000\nprocesses = 4\nmaster = true\n";

/// (project key, the fuzzed file, the second fuzzed file, fixed files).
type Layout = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static [u8])],
);

/// The container formats, by selector byte (modulo their number).
pub const LAYOUTS: &[Layout] = &[
    ("compose", "docker-compose.yml", "uwsgi.ini", &[]),
    ("kubernetes", "deploy/deployment.yaml", "uwsgi.ini", &[]),
    ("ecs", "task-definition.json", "uwsgi.ini", &[]),
    ("dockerfile", "Dockerfile", "uwsgi.ini", &[]),
    ("terraform", "infra/main.tf", "uwsgi.ini", &[]),
    ("cloudformation", "template.yaml", "uwsgi.ini", &[]),
    (
        "helm",
        "chart/templates/deployment.yaml",
        "chart/values.yaml",
        &[
            (
                "chart/Chart.yaml",
                b"apiVersion: v2\nname: app\nversion: 0.1.0\n",
            ),
            ("uwsgi.ini", INI),
        ],
    ),
    ("supervisord", "supervisord.conf", "uwsgi.ini", &[]),
    ("script", "docker-entrypoint.sh", "uwsgi.ini", &[]),
    ("copilot", "copilot/api/manifest.yml", "uwsgi.ini", &[]),
    (
        "configmap",
        "k8s/configmap.yaml",
        "k8s/deployment.yaml",
        &[],
    ),
];

/// Every container reader through the whole pipeline: the first byte picks
/// the format (and so the file name the walk offers it under), the rest is
/// that file and, after [`FILE_SEPARATOR`], the uWSGI config it may run (or
/// the chart's values for Helm, a Deployment for a ConfigMap).
pub fn containers(data: &[u8]) {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    let (key, fuzzed, second, fixed) = LAYOUTS[sel as usize % LAYOUTS.len()];
    let mut files: Vec<(&str, &[u8])> = vec![(fuzzed, b""), (second, INI)];
    files.extend_from_slice(fixed);
    let dir = project_with(key, &files);
    let mut parts = split(data, 2);
    if parts[1].is_empty() && second == "uwsgi.ini" {
        parts[1] = INI;
    }
    let o = overlay(&dir, &[fuzzed, second], &parts);
    lint_and_render(&dir, &o);
}

fn settings(pyproject: bool, data: &[u8]) {
    let name = if pyproject {
        "pyproject.toml"
    } else {
        "uwsgi-lint.toml"
    };
    let path = project("settings", &[]).join(name);
    std::fs::write(&path, data).expect("write the settings file");
    if let Err(e) = uwsgi_lint::settings::load(&path) {
        assert!(e.line >= 1 && e.column >= 1, "{e:?}");
        std::hint::black_box(e.to_string());
    }
    let _ = std::fs::remove_file(&path);
}

/// Values: the quantity and number parsers (Compose/Kubernetes/ECS memory,
/// Nginx sizes and times, uWSGI's C number readers, cgroup files,
/// addresses, durations, the command line's numbers) and, when the first
/// byte is 0 or 1, the settings file (`uwsgi-lint.toml`, `pyproject.toml`):
/// a value or an error with a position, never a panic.
pub fn values(data: &[u8]) {
    use uwsgi_lint::container::{cgroup, compose, quantity, supervisord};
    use uwsgi_lint::uwsgi::values;
    if let Some((&sel, rest)) = data.split_first()
        && sel < 2
    {
        return settings(sel == 1, rest);
    }
    let _ = values::atoi(data);
    let _ = values::strtoll(data);
    let (_, used, _) = values::strtoul(data);
    assert!(used <= data.len());
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = quantity::compose_bytes(s);
    if let Ok(q) = quantity::kube_quantity(s) {
        let _ = q.bytes();
        let _ = q.has_fraction();
    }
    let _ = quantity::ecs_task_memory(s);
    if let Ok(n) = s.trim().parse::<i64>() {
        let _ = quantity::ecs_container_mib(n);
    }
    let _ = uwsgi_lint::nginx::units::size(s);
    let _ = uwsgi_lint::nginx::units::time(s);
    let _ = cgroup::parse_v2_memory(s);
    let _ = cgroup::parse_v2_cpu(s);
    let _ = cgroup::parse_v1_memory(s, Some(8 << 30));
    let _ = cgroup::parse_v1_memory(s, None);
    let _ = compose::duration_seconds(s);
    let _ = uwsgi_lint::deployment::parse_addr(s);
    let _ = uwsgi_lint::nginx::model::parse_target(s);
    let _ = uwsgi_lint::settings::parse_size(s);
    let _ = uwsgi_lint::settings::parse_limit(s);
    let _ = uwsgi_lint::settings::parse_docs_url(s);
    let _ = uwsgi_lint::cli::parse_cpus(s);
    let _ = uwsgi_lint::cli::parse_interval(s);
    let _ = uwsgi_lint::cli::parse_env_pair(s);
    let _ = uwsgi_lint::container::shell_words(s);
    let _ = supervisord::environment_pairs(s);
    let _ = uwsgi_lint::advise::measure::parse_log_line(s);
}

const CHECK_FILES: &[&str] = &[
    "uwsgi.ini",
    "nginx/site.conf",
    "docker-compose.yml",
    "Dockerfile",
];

/// The whole `check` on a small project: a uWSGI config, the Nginx in front,
/// a Compose file and a Dockerfile, each a part of the input; rendered in
/// every output format.
pub fn check(data: &[u8]) {
    let dir = project("check", CHECK_FILES);
    let parts = split(data, CHECK_FILES.len());
    let o = overlay(&dir, CHECK_FILES, &parts);
    lint_and_render(&dir, &o);
}
