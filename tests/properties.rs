//! Property tests: the ini tree is lossless, and no input makes the parser or
//! the resolver panic (random bytes, ini-like text, mutated corpus files).

mod common;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use uwsgi_lint::source::SourceMap;
use uwsgi_lint::uwsgi::magic::HostFacts;
use uwsgi_lint::uwsgi::resolve::{self, Invocation, ResolveOptions};
use uwsgi_lint::uwsgi::syntax;

/// Text made of the bytes that matter to uWSGI's reader and resolver.
fn ini_like() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(b"[uwsgi]\n".to_vec()),
        Just(b"[".to_vec()),
        Just(b"]".to_vec()),
        Just(b"=".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b";".to_vec()),
        Just(b"#".to_vec()),
        Just(b"%".to_vec()),
        Just(b"%(".to_vec()),
        Just(b"$(".to_vec()),
        Just(b"@(".to_vec()),
        Just(b")".to_vec()),
        Just(b":".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\xff".to_vec()),
        Just(b"processes".to_vec()),
        Just(b"if-env = X\n".to_vec()),
        Just(b"for = a b\n".to_vec()),
        Just(b"endif\n".to_vec()),
        Just(b"ini = main.ini\n".to_vec()),
        Just(b"inherit = other.ini\n".to_vec()),
        Just(b"set = a=b\n".to_vec()),
        Just(b"strict = true\n".to_vec()),
        "[a-z0-9_-]{1,8}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
}

fn workdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "uwsgi-lint-prop-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Write `main.ini` (and `other.ini`) and resolve; must return, never panic.
fn resolve_bytes(dir: &Path, bytes: &[u8]) -> usize {
    std::fs::write(dir.join("main.ini"), bytes).unwrap();
    std::fs::write(dir.join("other.ini"), bytes).unwrap();
    let mut host = HostFacts::local("2.0.30");
    host.cwd = dir.to_path_buf();
    let inv = Invocation {
        env: vec![
            ("X".into(), "1".into()),
            ("UWSGI_PROCESSES".into(), "2".into()),
        ],
        args: vec!["--ini".into(), "main.ini".into(), "--master".into()],
    };
    let mut sources = SourceMap::new();
    let r = resolve::resolve(&inv, &host, &ResolveOptions::default(), &mut sources);
    // Every file-origin span must lie inside its file.
    for e in &r.entries {
        if let resolve::Layer::File {
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
    }
    r.entries.len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let doc = syntax::parse(&bytes);
        prop_assert_eq!(doc.print(&bytes), bytes.clone());
        // tokens tile the input with no gap or overlap
        let mut at = 0;
        for t in doc.tokens() {
            prop_assert_eq!(t.span.start, at);
            at = t.span.end;
        }
        prop_assert_eq!(at, bytes.len());
    }

    #[test]
    fn round_trip_ini_like(bytes in ini_like()) {
        let doc = syntax::parse(&bytes);
        prop_assert_eq!(doc.print(&bytes), bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn resolver_never_panics_on_ini_like(bytes in ini_like()) {
        let dir = workdir("like");
        resolve_bytes(&dir, &bytes);
    }

    #[test]
    fn resolver_never_panics_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let dir = workdir("rand");
        resolve_bytes(&dir, &bytes);
    }
}

/// Mutations of the real-world corpus: flips, insertions of special bytes,
/// deletions. Seeded, so a failure reproduces.
#[test]
fn resolver_never_panics_on_mutated_corpus() {
    let Some(shared) = common::shared_dir("resolver_never_panics_on_mutated_corpus") else {
        return;
    };
    let mut files = Vec::new();
    collect(&shared.join("corpus/realworld"), &mut files);
    assert!(!files.is_empty());
    let dir = workdir("corpus");
    let specials = b"%$@()[]=:;#\n\r\0 ";
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut runs = 0;
    for f in &files {
        let original = std::fs::read(f).unwrap();
        for _ in 0..40 {
            let mut b = original.clone();
            for _ in 0..(1 + next() % 8) {
                let pos = if b.is_empty() {
                    0
                } else {
                    (next() as usize) % b.len()
                };
                match next() % 3 {
                    0 if !b.is_empty() => b[pos] = specials[(next() as usize) % specials.len()],
                    1 => b.insert(pos, specials[(next() as usize) % specials.len()]),
                    _ if !b.is_empty() => {
                        b.remove(pos);
                    }
                    _ => {}
                }
            }
            assert_eq!(syntax::parse(&b).print(&b), b);
            resolve_bytes(&dir, &b);
            runs += 1;
        }
    }
    eprintln!(
        "mutated corpus: {runs} resolutions over {} files",
        files.len()
    );
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "ini") {
            out.push(p);
        }
    }
}

/// Nginx-like text made of the bytes its tokenizer treats specially.
fn nginx_like() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(b"server".to_vec()),
        Just(b"location /".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\n".to_vec()),
        Just(b";".to_vec()),
        Just(b"{".to_vec()),
        Just(b"}".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"#".to_vec()),
        Just(b"$".to_vec()),
        Just(b"${x}".to_vec()),
        Just(b"(".to_vec()),
        Just(b")".to_vec()),
        Just(b"\xff".to_vec()),
        "[a-z0-9_]{1,6}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(atoms, 0..80).prop_map(|v| v.concat())
}

fn check_spans(ds: &[uwsgi_lint::nginx::syntax::Directive], len: usize) {
    for d in ds {
        assert!(d.span.start <= d.span.end && d.span.end <= len);
        for w in std::iter::once(&d.name).chain(&d.args) {
            assert!(w.span.start <= w.span.end && w.span.end <= len);
        }
        if let Some(b) = &d.block {
            check_spans(b, len);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn nginx_parser_never_panics(bytes in nginx_like()) {
        let c = uwsgi_lint::nginx::syntax::parse(&bytes);
        check_spans(&c.directives, bytes.len());
        if let Some(e) = c.error {
            prop_assert!(e.span.end <= bytes.len());
        }
    }

    #[test]
    fn nginx_parser_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let c = uwsgi_lint::nginx::syntax::parse(&bytes);
        check_spans(&c.directives, bytes.len());
    }
}

mod quantities {
    use proptest::prelude::*;
    use uwsgi_lint::container::quantity::{compose_bytes, ecs_task_memory, kube_quantity};
    use uwsgi_lint::nginx::units;
    use uwsgi_lint::units::Bytes;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn compose_units_are_binary_and_case_insensitive(n in 0u64..1_000_000, u in 0usize..8) {
            let (suffix, mult) = [("", 1u64), ("b", 1), ("k", 1 << 10), ("KB", 1 << 10), ("m", 1 << 20), ("MiB", 1 << 20), ("g", 1 << 30), ("Gb", 1 << 30)][u];
            prop_assert_eq!(compose_bytes(&format!("{n}{suffix}")), Ok(Bytes(n * mult)));
        }

        #[test]
        fn kube_binary_and_decimal_suffixes(n in 0i64..1_000_000, u in 0usize..8) {
            let (suffix, mult) = [("", 1i128), ("k", 1000), ("M", 1_000_000), ("G", 1_000_000_000), ("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("m", 0)][u];
            let q = kube_quantity(&format!("{n}{suffix}")).unwrap();
            if suffix == "m" {
                prop_assert_eq!(q.milli, n as i128);
            } else {
                prop_assert_eq!(q.milli, n as i128 * mult * 1000);
            }
        }

        #[test]
        fn ecs_gb_is_binary(n in 0u64..64) {
            prop_assert_eq!(ecs_task_memory(&format!("{n}GB")), Ok(Bytes(n << 30)));
            prop_assert_eq!(ecs_task_memory(&(n * 1024).to_string()), Ok(Bytes(n << 30)));
        }

        #[test]
        fn nginx_time_combinations(h in 0u64..48, m in 0u64..60, s in 0u64..60) {
            let t = units::time(&format!("{h}h {m}m {s}s")).unwrap();
            prop_assert_eq!(t.as_secs(), h * 3600 + m * 60 + s);
        }

        #[test]
        fn no_parser_panics(s in ".{0,24}") {
            let _ = compose_bytes(&s);
            let _ = kube_quantity(&s);
            let _ = ecs_task_memory(&s);
            let _ = units::size(&s);
            let _ = units::time(&s);
            let _ = uwsgi_lint::container::ecs::parse(&s);
        }

        #[test]
        fn ecs_reader_never_panics_on_json_like(s in r#"[\[\]{}:,"0-9a-zA-Z .-]{0,80}"#) {
            let _ = uwsgi_lint::container::ecs::parse(&format!("{{\"containerDefinitions\": [{s}"));
            let _ = uwsgi_lint::container::ecs::parse(&s);
        }
    }
}

/// YAML-ish text for the Compose and Kubernetes readers.
fn yaml_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("services:\n".to_string()),
        Just("  web:\n".to_string()),
        Just("    mem_limit: ".to_string()),
        Just("    command: ".to_string()),
        Just("    <<: *a\n".to_string()),
        Just("x: &a\n".to_string()),
        Just("    extends: web\n".to_string()),
        Just("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n".to_string()),
        Just("  - name: app\n".to_string()),
        Just("    resources: {limits: {memory: ".to_string()),
        Just("---\n".to_string()),
        Just("[".to_string()),
        Just("}".to_string()),
        "[a-zA-Z0-9 .:=\"'-]{0,12}\n".prop_map(|s| s),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn container_readers_never_panic(text in yaml_like()) {
        use uwsgi_lint::container::{compose, kubernetes, yaml};
        let path = std::path::Path::new("/p/compose.yaml");
        if let Ok(docs) = yaml::parse(&text) {
            for d in &docs {
                if compose::is_compose(d) {
                    let (cs, _) = compose::containers(path, d);
                    for c in cs {
                        prop_assert!(c.name_span.end <= text.len());
                    }
                }
            }
            let (cs, _) = kubernetes::containers(path, &docs);
            for c in cs {
                for m in c.hard.iter().chain(&c.reservations) {
                    prop_assert!(m.span.end <= text.len());
                }
            }
        }
    }

    #[test]
    fn dockerfile_reader_never_panics(text in "(FROM|CMD|ENTRYPOINT|ENV|COPY|RUN|#|\\\\|\\[|\"|[a-z =/.-]|\n){0,80}") {
        let d = uwsgi_lint::container::dockerfile::parse(std::path::Path::new("/p/Dockerfile"), &text);
        for a in d.cmd.iter().flatten().chain(d.entrypoint.iter().flatten()) {
            prop_assert!(a.span.end <= text.len());
        }
        let _ = d.source_of("/app/uwsgi.ini");
    }

    #[test]
    fn nginx_loader_never_panics(bytes in nginx_like()) {
        let l = uwsgi_lint::nginx::include::load(std::path::Path::new("/nonexistent/nginx.conf"), &bytes, None, &[]);
        let _ = uwsgi_lint::nginx::model::build(&l.config);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn measurement_readers_never_panic(text in "(\\{rss usage: |\\[pid: |\\|req: |[0-9]{1,25}|/| |\\]|\\[|Nov|2026|:|\n|\\{\"workers\": \\[|\"pid\"|\"rss\"|\"requests\"|,|\\}){0,60}") {
        let mut m = uwsgi_lint::advise::measure::Measurements::default();
        m.add_log("log", &text);
        m.add_stats("stats", &text, Some(1.0));
        if let Ok(e) = m.estimate() {
            prop_assert!(e.growth.is_none_or(|g| g.is_finite() && g >= 0.0));
        }
    }
}
