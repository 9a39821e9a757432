//! Kubernetes shapes and Compose v1 through the CLI: ConfigMaps holding
//! `uwsgi.ini` and Nginx configs (findings at the manifest's lines), Helm
//! charts read without rendering (limits in `values.yaml`), a pod with an
//! Nginx sidecar, Compose file format v1. Each fixture under
//! `tests/fixtures/k8s/` is a small project; what `check -v` links and
//! finds is snapshotted.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> PathBuf {
    common::manifest_dir().join("tests/fixtures/k8s")
}

fn check_in(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(dir)
        .args(["check", "--no-config", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), v)
}

/// What a run linked and found, one line each, for a snapshot.
fn summary(v: &Value) -> String {
    let mut s = String::new();
    for d in v["deployments"].as_array().unwrap() {
        s.push_str(&format!(
            "link {} <- {} ({}): {}; limit: {}; nginx: {}\n",
            d["uwsgi"].as_str().unwrap(),
            d["container"].as_str().unwrap(),
            d["orchestrator"].as_str().unwrap(),
            d["reason"].as_str().unwrap(),
            d["memory_limit"].as_str().unwrap_or("none"),
            d["nginx"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    for d in v["diagnostics"].as_array().unwrap() {
        s.push_str(&format!(
            "{} {}:{}:{} {}\n",
            d["code"].as_str().unwrap(),
            d["file"].as_str().unwrap(),
            d["line"],
            d["column"],
            d["message"].as_str().unwrap()
        ));
        for r in d["related"].as_array().into_iter().flatten() {
            s.push_str(&format!(
                "    related {}:{} {}\n",
                r["file"].as_str().unwrap(),
                r["line"],
                r["message"].as_str().unwrap()
            ));
        }
    }
    s
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({snapshot_path => common::manifest_dir().join("snapshots"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, text);
    });
}

fn codes_at<'a>(v: &'a Value, code: &str) -> Vec<&'a Value> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .collect()
}

#[test]
fn configmap_ini_without_a_command_line_is_linked_and_reported_at_the_manifest() {
    let (code, v) = check_in(&fixtures(), &["configmap-ini"]);
    assert_eq!(code, Some(1), "{v}");
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{v}");
    assert!(
        deps[0]["reason"]
            .as_str()
            .unwrap()
            .contains("the key `uwsgi.ini` of the ConfigMap `shop-uwsgi`"),
        "{v}"
    );
    // The budget finding is at the ConfigMap's `reload-on-rss` line (17).
    let uw202 = codes_at(&v, "UW202");
    assert_eq!(uw202.len(), 1, "{v}");
    assert_eq!(uw202[0]["file"], "configmap-ini/k8s/configmap.yaml");
    assert_eq!(uw202[0]["line"], 17);
    snapshot("k8s_configmap_ini", &summary(&v));
}

#[test]
fn a_pod_with_an_nginx_sidecar_links_the_app_once_and_the_nginx_in_front() {
    let (_, v) = check_in(&fixtures(), &["sidecar"]);
    let deps = v["deployments"].as_array().unwrap();
    // The sidecar mounts the whole ConfigMap (which holds `app.ini` too)
    // and shows no command: it is not taken to run uWSGI.
    assert_eq!(deps.len(), 1, "{v}");
    assert_eq!(deps[0]["container"], "sidecar/k8s/app.yaml#api");
    assert_eq!(
        deps[0]["nginx"],
        serde_json::json!(["sidecar/k8s/app.yaml#api-config/default.conf"])
    );
    // harakiri 90 against the sidecar's uwsgi_read_timeout 30s.
    let uw301 = codes_at(&v, "UW301");
    assert_eq!(uw301.len(), 1, "{v}");
    assert_eq!(uw301[0]["file"], "sidecar/k8s/app.yaml");
    assert_eq!(uw301[0]["line"], 12);
    snapshot("k8s_sidecar", &summary(&v));
}

#[test]
fn a_helm_chart_with_limits_in_values_reports_the_budget() {
    let (_, v) = check_in(&fixtures().join("helm"), &["."]);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{v}");
    assert_eq!(
        deps[0]["container"],
        "charts/shop/templates/deployment.yaml#web"
    );
    let uw202 = codes_at(&v, "UW202");
    assert_eq!(uw202.len(), 1, "{v}");
    // The limit is written in values.yaml, where the label points.
    let related = uw202[0]["related"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["file"] == "charts/shop/values.yaml" && r["line"] == 17),
        "{v}"
    );
    // The template's `range` over a non-empty list is what stays unread.
    assert!(codes_at(&v, "UW004").is_empty(), "{v}");
    snapshot("k8s_helm_chart", &summary(&v));
}

#[test]
fn compose_file_format_v1_is_read() {
    let (_, v) = check_in(&fixtures(), &["compose-v1"]);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{v}");
    assert_eq!(deps[0]["container"], "compose-v1/docker-compose.yml#web");
    assert_eq!(
        deps[0]["nginx"],
        serde_json::json!(["compose-v1/deploy/nginx.conf"])
    );
    assert_eq!(codes_at(&v, "UW202").len(), 1, "{v}");
    snapshot("k8s_compose_v1", &summary(&v));
}

/// A throwaway project (with `.git`, so it is its own root) of `files`.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-k8s-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join(".git")).unwrap();
    for (path, text) in files {
        let p = d.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

const INI: &str = "[uwsgi]\nmodule = app.wsgi\nmaster = true\nsocket = :3031\nprocesses = 4\nreload-on-rss = 400\n";

#[test]
fn helm_template_output_saved_to_a_file_reads_as_plain_manifests() {
    let rendered = "---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: release-shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"registry.example.com/shop/web:1.4.2\"\n          command: [\"uwsgi\", \"--ini\", \"/etc/uwsgi/uwsgi.ini\"]\n          resources:\n            limits:\n              memory: 1Gi\n";
    let d = project(
        "rendered",
        &[
            ("deploy/uwsgi.ini", INI),
            ("deploy/rendered.yaml", rendered),
        ],
    );
    let (_, v) = check_in(&d, &["."]);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{v}");
    assert_eq!(deps[0]["container"], "deploy/rendered.yaml#web");
    assert_eq!(codes_at(&v, "UW202").len(), 1, "{v}");
    assert!(codes_at(&v, "UW004").is_empty(), "{v}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn configmap_values_that_cannot_be_mapped_line_for_line_are_said_not_linted() {
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  folded.ini: >\n    [uwsgi]\n    processes = 4\n  quoted.ini: \"[uwsgi]\\nprocesses = 4\\n\"\n  uwsgi.yaml: |\n    uwsgi:\n      processes: 4\n";
    // (A config of its own, so that the run has something to lint.)
    let d = project("unmapped", &[("k8s/cm.yaml", manifest), ("uwsgi.ini", INI)]);
    let (_, v) = check_in(&d, &["--select", "UW004", "."]);
    assert!(codes_at(&v, "UW004").is_empty(), "{v}");
    // Not the manifest's fault: no findings, but `-v` says what was not
    // linted and why.
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(&d)
        .args(["check", "--no-config", "-v", "."])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&out.stdout);
    let msgs: Vec<&str> = out.lines().filter(|l| l.starts_with("not read ")).collect();
    assert_eq!(msgs.len(), 3, "{out}");
    assert!(
        msgs.iter()
            .any(|m| m.contains("`folded.ini`") && m.contains("folded"))
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("`quoted.ini`") && m.contains("quoted"))
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("`uwsgi.yaml`") && m.contains("start of a line"))
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn fixes_of_an_embedded_config_edit_the_manifest() {
    let d = project("fix", &[]);
    common::copy_dir(&fixtures().join("configmap-ini"), &d);
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(&d)
        .args(["check", "--no-config", "--unsafe-fixes", "--diff", "."])
        .output()
        .unwrap();
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("k8s/configmap.yaml"), "{diff}");
    assert!(!diff.contains('#'), "{diff}");
    // The edited lines stay inside the block (indented as its lines).
    for l in diff
        .lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
    {
        assert!(l.starts_with("+    "), "{diff}");
    }
    assert!(diff.lines().any(|l| l.starts_with("+    ")), "{diff}");
    let _ = std::fs::remove_dir_all(&d);
}

/// The real uWSGI reads the masked manifest exactly as the embedded text:
/// blanks around each line are stripped by its ini reader.
#[test]
fn a_masked_manifest_reads_as_the_embedded_ini_in_the_real_uwsgi() {
    let Some(uwsgi) = common::uwsgi_oracle("masked_configmap") else {
        return;
    };
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: tricky # ünïcode: é\ndata:\n  before: \"x = 1\"\n  uwsgi.ini: |-\n    ; a comment\n    [uwsgi]\n    processes = 4   \n\n    socket = :3031 ; not a comment to uWSGI\n    harakiri\t= 30\n    env = A=%(processes)\n    # another comment\n    [other]\n    processes = 8\n  after: |\n    [uwsgi]\n    processes = 16\n";
    let docs = uwsgi_lint::container::yaml::parse(manifest).unwrap();
    let (key, value) = docs[0]
        .get("data")
        .unwrap()
        .entries()
        .iter()
        .find(|(k, _)| k.as_str() == Some("uwsgi.ini"))
        .unwrap();
    let decoded = value.as_str().unwrap();
    let masked = uwsgi_lint::readers::configmap::masked_block(manifest, key, decoded).unwrap();
    assert_eq!(masked.len(), manifest.len());
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-masked-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("masked.ini"), &masked).unwrap();
    std::fs::write(dir.join("plain.ini"), decoded).unwrap();
    let show = |name: &str| -> String {
        let mut cmd = Command::new(&uwsgi);
        cmd.current_dir(&dir).env_clear().args([
            "--show-config",
            "--hook-pre-jail",
            "exit:",
            "--ini",
            name,
        ]);
        let out = common::run_bounded(cmd, std::time::Duration::from_secs(20));
        let log = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        let block = log
            .split_once("\n[uwsgi]\n")
            .and_then(|(_, rest)| rest.split_once(";end of configuration"))
            .map(|(b, _)| b.to_string())
            .unwrap_or_else(|| panic!("no --show-config block\n{log}"));
        // The file's own name is the only line allowed to differ.
        block
            .lines()
            .filter(|l| !l.starts_with("ini = "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (a, b) = (show("masked.ini"), show("plain.ini"));
    assert!(
        a.contains("processes = 4") && a.contains("harakiri = 30"),
        "{a}"
    );
    assert_eq!(a, b);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_helm_configmap_template_reads_with_the_values_it_ships() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-uwsgi\ndata:\n  uwsgi.ini: |\n    [uwsgi]\n    module = app.wsgi\n    master = true\n    http-socket = :8000\n    processes = {{ .Values.uwsgi.processes }}\n    reload-on-rss = {{ .Values.uwsgi.reloadOnRss }}\n    {{- if .Values.uwsgi.harakiri }}\n    harakiri = {{ .Values.uwsgi.harakiri }}\n    {{- end }}\n    {{- if .Values.debug }}\n    py-autoreload = 1\n    {{- end }}\n";
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: \"{{ .Values.image }}\"\n          command: [\"uwsgi\", \"--ini\", \"/etc/uwsgi/uwsgi.ini\"]\n          resources:\n            {{- toYaml .Values.resources | nindent 12 }}\n          volumeMounts:\n            - name: uwsgi\n              mountPath: /etc/uwsgi\n      volumes:\n        - name: uwsgi\n          configMap:\n            name: {{ .Release.Name }}-uwsgi\n";
    let values = "image: registry.example.com/app:1\ndebug: false\nuwsgi:\n  processes: 8\n  reloadOnRss: 128\n  harakiri: 30\nresources:\n  limits:\n    memory: 512Mi\n";
    let d = project(
        "helm-cm",
        &[
            (
                "chart/Chart.yaml",
                "apiVersion: v2\nname: app\nversion: 0.1.0\n",
            ),
            ("chart/values.yaml", values),
            ("chart/templates/configmap.yaml", cm),
            ("chart/templates/deployment.yaml", deploy),
        ],
    );
    // The ConfigMap is named by one expression where it is defined and
    // where it is mounted: the same ConfigMap, whatever the release.
    let (_, v) = check_in(&d, &["."]);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{v}");
    assert_eq!(deps[0]["container"], "chart/templates/deployment.yaml#web");
    let uw202 = codes_at(&v, "UW202");
    assert_eq!(uw202.len(), 1, "{v}");
    // 8 × 128 MiB + 16 > 512 MiB, reported at the template's line 12.
    assert_eq!(uw202[0]["file"], "chart/templates/configmap.yaml");
    assert_eq!(uw202[0]["line"], 12);
    assert!(
        uw202[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("8 workers"),
        "{v}"
    );
    // harakiri 30 came through the `if`: no UW302.
    assert!(codes_at(&v, "UW302").is_empty(), "{v}");
    // The chart's values.yaml, with its `uwsgi:` key, is no uWSGI config.
    assert!(
        v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["file"] != "chart/values.yaml" || d["code"] == "UW004"),
        "{v}"
    );
    // Another expression names another ConfigMap: not linked through the
    // mount (only by the project-wide rule of one config, one runner).
    let other = deploy.replace(
        "name: {{ .Release.Name }}-uwsgi",
        "name: {{ .Chart.Name }}-uwsgi",
    );
    std::fs::write(d.join("chart/templates/deployment.yaml"), other).unwrap();
    let (_, v) = check_in(&d, &["."]);
    let deps = v["deployments"].as_array().unwrap();
    assert_eq!(deps.len(), 1, "{v}");
    assert_eq!(
        deps[0]["reason"],
        "the only uWSGI config and the only container running uWSGI"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn compose_v1_extends_another_file_of_the_project_only() {
    let outside =
        std::env::temp_dir().join(format!("uwsgi-lint-k8s-outside-{}.yml", std::process::id()));
    std::fs::write(&outside, "web:\n  image: acme/other\n  mem_limit: 64m\n").unwrap();
    let compose = format!(
        "web:\n  extends:\n    file: common.yml\n    service: web\n  ports:\n    - \"8000:8000\"\nother:\n  extends:\n    file: {}\n    service: web\n  ports:\n    - \"9000:9000\"\n",
        outside.display()
    );
    let d = project(
        "v1-extends",
        &[
            (
                "uwsgi.ini",
                "[uwsgi]\nmodule = app.wsgi\nmaster = true\nhttp = :8000\nprocesses = 4\nreload-on-rss = 200\n",
            ),
            ("common.yml", "web:\n  image: acme/web\n  mem_limit: 256m\n"),
            (
                "api/uwsgi.ini",
                "[uwsgi]\nmodule = api.wsgi\nmaster = true\nhttp = :9000\n",
            ),
            ("docker-compose.yml", &compose),
        ],
    );
    let (_, v) = check_in(&d, &["."]);
    let deps = v["deployments"].as_array().unwrap();
    // `other` extends a file outside the project, which is not read: it
    // has no image then, and runs nothing known (else it would link to
    // api/uwsgi.ini by its port).
    assert_eq!(deps.len(), 1, "{v}");
    assert_eq!(deps[0]["container"], "docker-compose.yml#web");
    // The limit comes from common.yml; its label is at `extends` (line 3).
    let uw202 = codes_at(&v, "UW202");
    assert_eq!(uw202.len(), 1, "{v}");
    let related = uw202[0]["related"].as_array().unwrap();
    assert!(
        related
            .iter()
            .any(|r| r["file"] == "docker-compose.yml" && r["line"] == 3),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(&d);
    let _ = std::fs::remove_file(&outside);
}
