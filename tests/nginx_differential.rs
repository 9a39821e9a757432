//! Differential test: our Nginx parser against crossplane (NGINX's own Python
//! parser), on every Nginx file of the fixtures, the example and the shared
//! corpus: same directives, arguments and line numbers.
//!
//! crossplane keeps some escapes that nginx resolves when it stores a word
//! (`\\`, `\t`, `\n`, `\r`); nginx's storing rule is applied to crossplane's
//! arguments before comparing. Context checks are off (`conf.d` snippets hold
//! `server` at top level).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use uwsgi_lint::nginx::syntax::{self, Directive};
use uwsgi_lint::source::LineIndex;

/// `nginx -t` on a file: its first error line, if nginx is installed (required in CI).
fn nginx_verdict(file: &Path) -> Option<String> {
    let Some(nginx) = common::which("nginx").or_else(|| {
        let p = PathBuf::from("/usr/sbin/nginx");
        p.is_file().then_some(p)
    }) else {
        if common::in_ci() {
            panic!("nginx is required in CI to judge parse errors; .ci/run installs nginx-light");
        }
        eprintln!("*** nginx not installed: parse errors crossplane accepts are not judged ***");
        return None;
    };
    let prefix = std::env::temp_dir().join(format!("uwsgi-lint-nginx-{}", std::process::id()));
    std::fs::create_dir_all(prefix.join("logs")).unwrap();
    let out = Command::new(nginx)
        .args(["-t", "-q", "-p"])
        .arg(&prefix)
        .arg("-c")
        .arg(file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    Some(text.lines().next().unwrap_or_default().to_string())
}

fn project(bytes: &[u8], ds: &[Directive], index: &LineIndex) -> Vec<Value> {
    ds.iter()
        .map(|d| {
            let mut v = json!({
                "directive": d.name.value,
                "line": index.line_col(bytes, d.name.span.start).line,
                "args": d.condition_args(),
            });
            if let Some(b) = &d.block {
                v["block"] = Value::Array(project(bytes, b, index));
            }
            v
        })
        .collect()
}

/// Apply nginx's storing rule to crossplane's arguments, recursively.
fn normalize(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(normalize),
        Value::Object(o) => {
            o.remove("includes");
            if let Some(Value::Array(args)) = o.get_mut("args") {
                for a in args.iter_mut() {
                    if let Value::String(s) = a {
                        *s = syntax::unescape(s.as_bytes());
                    }
                }
            }
            if let Some(b) = o.get_mut("block") {
                normalize(b);
            }
        }
        _ => {}
    }
}

fn nginx_files() -> Vec<PathBuf> {
    let root = common::manifest_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/nginx"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.push(root.join("examples/django-ecs/deploy/nginx.conf"));
    collect(&root.join("rules"), &mut files);
    collect(&root.join("tests/fixtures/nginx-include"), &mut files);
    if let Some(shared) = common::shared_dir("nginx_matches_crossplane") {
        collect(&shared.join("corpus/realworld"), &mut files);
    }
    files.sort();
    files
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            collect(&p, out);
        } else if name.ends_with(".conf")
            || name.ends_with(".conf.template")
            || name == "nginx.conf"
        {
            out.push(p);
        }
    }
}

#[test]
fn nginx_matches_crossplane() {
    let files = nginx_files();
    assert!(files.len() >= 8, "{files:?}");
    let Some(py) = common::venv_python("crossplane", "nginx_matches_crossplane") else {
        return;
    };
    let script = "import crossplane, json, sys\nout = []\nfor f in sys.argv[1:]:\n    r = crossplane.parse(f, single=True, check_ctx=False, check_args=False, comments=False, catch_errors=True)\n    c = r['config'][0]\n    out.append({'status': c['status'], 'errors': c['errors'], 'parsed': c['parsed']})\nprint(json.dumps(out))";
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut failures = Vec::new();
    for (file, mut expected) in files.iter().zip(results) {
        let bytes = std::fs::read(file).unwrap();
        let ours = syntax::parse(&bytes);
        let index = LineIndex::new(&bytes);
        let name = file.display().to_string();
        if expected["status"] == "failed" {
            if ours.error.is_none() {
                failures.push(format!(
                    "{name}: crossplane fails ({}) but we parse it",
                    expected["errors"]
                ));
            }
            continue;
        }
        if let Some(e) = &ours.error {
            // crossplane is laxer than nginx in places (an empty directive,
            // text glued to a closing quote): there nginx itself decides.
            let line = index.line_col(&bytes, e.span.start).line;
            match nginx_verdict(file) {
                Some(msg)
                    if msg.contains(&format!("{} in ", e.message))
                        && msg.ends_with(&format!(":{line}")) => {}
                Some(msg) => failures.push(format!(
                    "{name}: we fail with `{}` at line {line}, crossplane parses it, nginx says: {msg}",
                    e.message
                )),
                None => {}
            }
            continue;
        }
        normalize(&mut expected["parsed"]);
        let got = Value::Array(project(&bytes, &ours.directives, &index));
        if got != expected["parsed"] {
            failures.push(format!(
                "{name}: trees differ\n--- crossplane\n{}\n--- ours\n{}",
                serde_json::to_string_pretty(&expected["parsed"]).unwrap(),
                serde_json::to_string_pretty(&got).unwrap()
            ));
        }
    }
    eprintln!("nginx: {} files compared with crossplane", files.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn count_passes(ds: &[Directive], in_location: bool) -> usize {
    ds.iter()
        .map(|d| {
            let own = usize::from(
                in_location && matches!(d.name.value.as_str(), "uwsgi_pass" | "proxy_pass"),
            );
            let inner = d
                .block
                .as_ref()
                .map_or(0, |b| count_passes(b, d.name.value == "location"));
            own + inner
        })
        .sum()
}

/// The model sees every pass of every file, and reads the example correctly.
#[test]
fn model_reads_every_pass() {
    use uwsgi_lint::nginx::model::{self, PassKind, Target};
    for file in nginx_files() {
        let bytes = std::fs::read(&file).unwrap();
        let config = syntax::parse(&bytes);
        let m = model::build(&config);
        let passes = m.locations.iter().filter(|l| l.pass.is_some()).count();
        assert_eq!(
            passes,
            count_passes(&config.directives, false),
            "{}",
            file.display()
        );
    }
    let example = common::manifest_dir().join("examples/django-ecs/deploy/nginx.conf");
    let m = model::build(&syntax::parse(&std::fs::read(example).unwrap()));
    assert_eq!(m.worker_processes.value, model::WorkerProcesses::Auto);
    let root = m.locations.iter().find(|l| l.path == "/").unwrap();
    let pass = root.pass.as_ref().unwrap();
    assert_eq!(pass.kind, PassKind::Uwsgi);
    assert_eq!(
        pass.target,
        Target::Host {
            host: "django".into(),
            port: None
        }
    );
    assert_eq!(
        root.uwsgi_read_timeout.value,
        std::time::Duration::from_secs(30)
    );
    assert_eq!(
        root.client_max_body_size.value,
        uwsgi_lint::units::Bytes(20 << 20)
    );
    let up = &m.upstreams[0];
    assert_eq!(up.name, "django");
    assert_eq!(
        up.servers[0].0,
        Target::Host {
            host: "127.0.0.1".into(),
            port: Some(3031)
        }
    );
}

/// Our spliced tree, projected as crossplane's `combine` mode prints it:
/// every directive with its own file and line, `include`s replaced.
fn project_combined(
    ds: &[Directive],
    parts: &[uwsgi_lint::nginx::include::Part],
    base: &Path,
) -> Vec<Value> {
    ds.iter()
        .filter(|d| d.name.value != "include")
        .map(|d| {
            let part = &parts[d.file];
            let bytes = std::fs::read(&part.path).unwrap();
            let index = LineIndex::new(&bytes);
            let name = part.name.strip_prefix(base).unwrap_or(&part.name);
            let mut v = json!({
                "file": name.to_string_lossy(),
                "directive": d.name.value,
                "line": index.line_col(&bytes, d.name.span.start).line,
                "args": d.condition_args(),
            });
            if let Some(b) = &d.block {
                v["block"] = Value::Array(project_combined(b, parts, base));
            }
            v
        })
        .collect()
}

fn strip_combined(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(strip_combined).collect()),
        Value::Object(o) => {
            let mut out = serde_json::Map::new();
            for k in ["file", "directive", "line", "args", "block"] {
                if let Some(x) = o.get(k) {
                    out.insert(
                        k.to_string(),
                        if k == "block" {
                            strip_combined(x)
                        } else {
                            x.clone()
                        },
                    );
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// `include` with globs, relative to the prefix, spliced in place: the same
/// tree crossplane builds with `combine=True`.
#[test]
fn includes_splice_like_crossplane() {
    let dir = common::manifest_dir().join("tests/fixtures/nginx-include");
    let main = dir.join("nginx.conf");
    let bytes = std::fs::read(&main).unwrap();
    let loaded = uwsgi_lint::nginx::include::load(&main, &bytes, None, &[]);
    let ours = project_combined(&loaded.config.directives, &loaded.parts, &dir);
    let model = uwsgi_lint::nginx::model::build(&loaded.config);
    assert_eq!(model.locations.len(), 3, "{model:?}");
    assert_eq!(model.locations[0].uwsgi_read_timeout.value.as_secs(), 30);
    assert_eq!(model.locations[2].uwsgi_read_timeout.value.as_secs(), 120);
    let Some(py) = common::venv_python("crossplane", "includes_splice_like_crossplane") else {
        return;
    };
    let script = "import crossplane, json, sys\nr = crossplane.parse(sys.argv[1], combine=True, check_ctx=False, check_args=False, comments=False, catch_errors=True)\nprint(json.dumps(r['config'][0]['parsed']))";
    let out = Command::new(py)
        .current_dir(&dir)
        .args(["-c", script, "nginx.conf"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(Value::Array(ours), strip_combined(&theirs));
}
