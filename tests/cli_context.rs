//! The context around a config through the CLI: Compose, Kubernetes and
//! Dockerfiles linked to the config they run, Nginx includes and `nginx -T`
//! dumps in front of it, the uWSGI version pin, explicit `[[deployment]]`
//! links, `--memory-limit`, `--no-context`, and unreadable context files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A throwaway project (with `.git`, so it is its own root) of `files`.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-ctx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join(".git")).unwrap();
    for (path, text) in files {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

fn check(dir: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(dir)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
}

fn codes(v: &Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

fn find<'a>(v: &'a Value, code: &str) -> Option<&'a Value> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == code)
}

const INI: &str = "[uwsgi]\nmaster = true\ndie-on-term = true\nmodule = app.wsgi\nsocket = :3031\nprocesses = 4\nreload-on-rss = 400\n";

#[test]
fn compose_service_built_from_a_dockerfile_runs_the_copied_config() {
    let d = project(
        "compose",
        &[
            ("deploy/uwsgi.ini", INI),
            (
                "Dockerfile",
                "FROM python:3.12-slim\nRUN pip install uwsgi==2.0.23\nCOPY deploy/uwsgi.ini /etc/uwsgi/app.ini\nENV UWSGI_HARAKIRI=30\nCMD [\"uwsgi\", \"--ini\", \"/etc/uwsgi/app.ini\"]\n",
            ),
            (
                "docker-compose.yml",
                "x-limits: &limits\n  mem_limit: 1g\nservices:\n  web:\n    <<: *limits\n    build: .\n    ports: [\"3031\"]\n  nginx:\n    image: nginx:1.27\n",
            ),
        ],
    );
    let v = check(&d, &["--no-config", "."]);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{v}");
    assert_eq!(deps[0]["container"], "docker-compose.yml#web");
    assert_eq!(deps[0]["orchestrator"], "compose");
    assert_eq!(deps[0]["uwsgi_version"], "2.0.23");
    assert!(
        deps[0]["reason"]
            .as_str()
            .unwrap()
            .contains("copied from the build context"),
        "{}",
        deps[0]["reason"]
    );
    assert_eq!(deps[0]["memory_limit_bytes"], 1u64 << 30);
    // 4 × 400 MiB + 16 MiB > 1 GiB: the limit written through the merge key.
    let d202 = find(&v, "UW202").expect("UW202");
    let rel = &d202["related"][0];
    assert_eq!(rel["file"], "docker-compose.yml");
    assert_eq!(rel["line"], 2);
    // The image's ENV reaches the resolver: harakiri is set, so no UW302.
    assert!(!codes(&v).contains(&"UW302".to_string()), "{v}");
}

#[test]
fn kubernetes_deployment_with_args_and_a_soft_limit_only() {
    let d = project(
        "k8s",
        &[
            ("uwsgi.ini", INI),
            (
                "k8s/app.yaml",
                "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/app:1\n          command: [uwsgi]\n          args: [--ini, /srv/uwsgi.ini, --listen, \"5000\"]\n          resources:\n            requests: {memory: 512Mi}\n",
            ),
        ],
    );
    let v = check(&d, &["--no-config", "."]);
    assert_eq!(v["deployments"][0]["container"], "k8s/app.yaml#app");
    let soft = find(&v, "UW208").expect("UW208");
    assert_eq!(soft["file"], "k8s/app.yaml");
    // `--listen 5000` from the container's args reaches the rules.
    let listen = find(&v, "UW501").expect("UW501");
    assert_eq!(listen["severity"], "error");
    assert!(listen["message"].as_str().unwrap().contains("5000"));
    // `die-on-term` without the graceful hook, in a container: every stop
    // cuts requests; the mercy plays no part in a 2.0 stop (no UW304).
    assert!(codes(&v).contains(&"UW308".to_string()));
    assert!(!codes(&v).contains(&"UW304".to_string()));
}

#[test]
fn helm_templates_and_broken_yaml_are_reported_not_misread() {
    let d = project(
        "helm",
        &[
            ("uwsgi.ini", INI),
            (
                "chart/templates/deployment.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
            ),
            ("docker-compose.yml", "services:\n  web: [image: x\n"),
        ],
    );
    let v = check(&d, &["--no-config", "."]);
    // A template is not at fault: no finding, but the run says what it
    // could not read (a note; `-v` says where and why).
    assert!(find(&v, "UW004").is_none(), "{v}");
    let broken = find(&v, "UW001").expect("UW001 for the YAML");
    assert_eq!(broken["file"], "docker-compose.yml");
    assert!(v["deployments"].as_array().unwrap().is_empty());
    let text = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
            .current_dir(&d)
            .args(["check", "--no-config"])
            .args(args)
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, err) = text(&["."]);
    assert!(
        err.contains("note: chart/templates/deployment.yaml is a template"),
        "{err}"
    );
    let (out, _) = text(&["-v", "."]);
    assert!(
        out.contains("not read chart/templates/deployment.yaml:1:1: a template"),
        "{out}"
    );
    // The per-file hook hears only about the files it was given.
    let (_, err) = text(&["uwsgi.ini"]);
    assert!(!err.contains("template"), "{err}");
    let (_, err) = text(&["chart/templates/deployment.yaml", "uwsgi.ini"]);
    assert!(err.contains("is a template"), "{err}");
    // Selection applies to context files too.
    let v = check(&d, &["--no-config", "--ignore", "UW001", "."]);
    assert!(find(&v, "UW001").is_none());
}

#[test]
fn nginx_includes_and_dumps_reach_the_config() {
    let ini = "[uwsgi]\nmaster = true\nmodule = app.wsgi\nsocket = 127.0.0.1:3031\nharakiri = 45\n";
    let d = project(
        "nginx",
        &[
            ("uwsgi.ini", ini),
            (
                "nginx/nginx.conf",
                "http {\n    include snippets/*.conf;\n    server {\n        location / {\n            uwsgi_pass 127.0.0.1:3031;\n        }\n    }\n}\n",
            ),
            ("nginx/snippets/timeouts.conf", "uwsgi_read_timeout 30s;\n"),
        ],
    );
    // The timeout comes from the included file, and the label points there.
    let v = check(&d, &["--no-config", "."]);
    let t = find(&v, "UW301").expect("UW301");
    assert_eq!(t["related"][0]["file"], "nginx/snippets/timeouts.conf");
    assert_eq!(t["related"][0]["line"], 1);

    // The same configuration as `nginx -T` prints it.
    let dump = "# configuration file /etc/nginx/nginx.conf:\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n\n# configuration file /etc/nginx/conf.d/app.conf:\nserver {\n    uwsgi_read_timeout 20s;\n    location / {\n        uwsgi_pass 127.0.0.1:3031;\n    }\n}\n";
    let d2 = project(
        "nginx-dump",
        &[("uwsgi.ini", ini), ("nginx-dump.conf", dump)],
    );
    let v = check(&d2, &["--no-config", "."]);
    let t = find(&v, "UW301").expect("UW301 from the dump");
    assert_eq!(t["related"][0]["file"], "nginx-dump.conf");
    assert_eq!(t["related"][0]["line"], 8);
}

#[test]
fn version_pin_in_requirements_drives_uw110() {
    let ini = "[uwsgi]\nmaster = true\nmodule = app.wsgi\nprocesses = 4\nmax-requests = 1000\nmax-requests-delta = 100\n";
    let d = project(
        "pin",
        &[
            ("uwsgi.ini", ini),
            ("requirements.txt", "django==5.0\nuWSGI==2.0.23\n"),
        ],
    );
    let v = check(&d, &["--no-config", "."]);
    let d110 = find(&v, "UW110").expect("UW110");
    assert!(
        d110["message"].as_str().unwrap().contains("2.0.23"),
        "{d110}"
    );
    // An explicit version wins over the pin.
    let v = check(&d, &["--no-config", "--uwsgi-version", "2.0.30", "."]);
    assert!(find(&v, "UW110").is_none());
}

#[test]
fn explicit_deployment_memory_limit_flag_and_no_context() {
    let ini = "[uwsgi]\nmaster = true\nmodule = app.wsgi\nprocesses = 8\nreload-on-rss = 300\n";
    let toml = "[[deployment]]\nuwsgi = \"deploy/uwsgi.ini\"\nmemory-limit = \"1GiB\"\n";
    let d = project(
        "explicit",
        &[("deploy/uwsgi.ini", ini), ("uwsgi-lint.toml", toml)],
    );
    let v = check(&d, &["."]);
    assert_eq!(
        v["deployments"][0]["reason"],
        "`[[deployment]]` in the configuration"
    );
    assert!(find(&v, "UW202").is_some(), "{v}");

    let d2 = project(
        "flag",
        &[
            ("uwsgi.ini", ini),
            (
                "docker-compose.yml",
                "services:\n  web:\n    image: registry.example.com/web\n    command: uwsgi --ini uwsgi.ini\n",
            ),
        ],
    );
    // UW503 is not in the default rule set.
    let v = check(&d2, &["--no-config", "--extend-select", "UW503", "."]);
    assert!(find(&v, "UW503").is_some(), "no limit: {v}");
    assert!(find(&v, "UW202").is_none());
    let v = check(&d2, &["--no-config", "--memory-limit", "1GiB", "."]);
    assert!(find(&v, "UW202").is_some());
    let v = check(&d2, &["--no-config", "--no-context", "."]);
    assert!(v["deployments"].as_array().unwrap().is_empty());
}

#[test]
fn single_file_runs_still_see_the_project_but_report_only_that_file() {
    let d = project(
        "single",
        &[
            ("deploy/uwsgi.ini", INI),
            (
                "docker-compose.yml",
                "services:\n  web:\n    image: registry.example.com/web\n    command: uwsgi --ini deploy/uwsgi.ini\n    mem_reservation: 256m\n    mem_limit: 512\n",
            ),
        ],
    );
    let v = check(&d, &["--no-config", "deploy/uwsgi.ini"]);
    assert_eq!(v["deployments"].as_array().unwrap().len(), 1);
    // UW202 lives in the ini; UW210 (the compose file) is not reported here.
    assert!(find(&v, "UW202").is_some());
    assert!(find(&v, "UW210").is_none());
    let v = check(&d, &["--no-config", "."]);
    assert_eq!(find(&v, "UW210").unwrap()["file"], "docker-compose.yml");
}

#[test]
fn files_outside_the_project_are_never_read() {
    let d = project(
        "confine",
        &[(
            "repo/uwsgi.ini",
            "[uwsgi]\nmaster = true\nini = ../outside.ini\nprocesses = @(../outside.ini)\n",
        )],
    );
    std::fs::create_dir_all(d.join("repo/.git")).unwrap();
    std::fs::write(d.join("outside.ini"), "[uwsgi]\nleaked-secret = hunter2\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(d.join("repo"))
        .args(["check", "--no-config", "--format", "json", "."])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("hunter2") && !text.contains("leaked-secret"),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    let unknown: Vec<&Value> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["code"] == "UW004")
        .collect();
    assert_eq!(unknown.len(), 2, "{v}");
    assert!(
        unknown[0]["message"]
            .as_str()
            .unwrap()
            .contains("outside the project")
    );
}
