//! Linking, shown as `check -v` shows it: which container runs each config,
//! which Nginx is in front and why, and the one-line note when a project
//! has containers but none runs a config. One fixture directory per case
//! under `tests/fixtures/linking/`, its output a snapshot.

mod common;

fn run(case: &str) -> String {
    let dir = common::manifest_dir()
        .join("tests/fixtures/linking")
        .join(case);
    // A case's own `uwsgi-lint.toml` applies; otherwise none.
    let config: &[&str] = if dir.join("uwsgi-lint.toml").exists() {
        &[]
    } else {
        &["--no-config"]
    };
    let with = |more: &[&str]| {
        let mut args = vec!["check", "--format", "concise"];
        args.extend_from_slice(config);
        args.extend_from_slice(more);
        args.push(".");
        common::uwsgi_lint(&dir, &args)
    };
    let (_, verbose, _) = with(&["-v"]);
    let (_, _, note) = with(&[]);
    format!("{verbose}--- stderr without -v ---\n{note}")
}

#[test]
fn each_nginx_fronts_the_service_its_pass_names() {
    // Both apps listen on :3031; each Nginx file names one service.
    let out = run("compose-two-apps");
    assert!(
        out.contains("linked web/uwsgi.ini ← docker-compose.yml#web"),
        "{out}"
    );
    assert!(
        out.contains("Nginx in front: nginx/web.conf (it passes to `web:3031`"),
        "{out}"
    );
    assert!(
        !out.contains("Nginx in front: nginx/api.conf (it passes to `web"),
        "{out}"
    );
    // The API's shorter read timeout applies to the API only.
    assert!(out.contains("api/uwsgi.ini:7:1: warning[UW301]"), "{out}");
    assert!(!out.contains("web/uwsgi.ini:7:1: warning[UW301]"), "{out}");
    insta::assert_snapshot!("compose-two-apps", out);
}

#[test]
fn a_sibling_deployments_nginx_is_not_in_front() {
    // `shop` has an Nginx; `blog` binds the same port and has none.
    let out = run("monorepo-siblings");
    let blog = out
        .split("\n\n")
        .find(|p| p.starts_with("linked blog/uwsgi.ini"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(!blog.contains("Nginx in front"), "{out}");
    assert!(!out.contains("blog/uwsgi.ini:1:1: warning[UW403]"), "{out}");
    insta::assert_snapshot!("monorepo-siblings", out);
}

#[test]
fn a_project_with_containers_but_none_running_the_config_says_so_once() {
    let out = run("unlinked-note");
    let note = out.split("--- stderr without -v ---\n").nth(1).unwrap();
    assert_eq!(note.lines().count(), 1, "{out}");
    assert!(
        note.starts_with("note: deploy/uwsgi.ini is run by no container"),
        "{out}"
    );
    assert!(note.contains("[[deployment]]"), "{out}");
    insta::assert_snapshot!("unlinked-note", out);
}

#[test]
fn a_config_that_loads_a_section_of_itself_is_still_said_unlinked() {
    // `ini = :base` reads the same file again: it is no file another config
    // includes, so it is still reported when no container runs it.
    let d = std::env::temp_dir().join(format!("uwsgi-lint-self-section-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let src = common::manifest_dir().join("tests/fixtures/linking/unlinked-note");
    for f in ["Dockerfile", "docker-compose.yml", "deploy/uwsgi.ini"] {
        std::fs::create_dir_all(d.join(f).parent().unwrap()).unwrap();
        std::fs::copy(src.join(f), d.join(f)).unwrap();
    }
    let ini = d.join("deploy/uwsgi.ini");
    let text = std::fs::read_to_string(&ini).unwrap();
    std::fs::write(
        &ini,
        format!("{text}ini = :base\n\n[base]\nbuffer-size = 32768\n"),
    )
    .unwrap();
    let (_, _, note) =
        common::uwsgi_lint(&d, &["check", "--no-config", "--format", "concise", "."]);
    assert!(
        note.starts_with("note: deploy/uwsgi.ini is run by no container"),
        "{note}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_deployment_entry_links_a_container_whose_command_shows_no_uwsgi() {
    let out = run("explicit-no-command");
    assert!(
        out.contains(
            "linked deploy/uwsgi.ini ← docker-compose.yml#app (compose): `[[deployment]]`"
        ),
        "{out}"
    );
    // The container's limit now applies.
    assert!(out.contains("deploy/uwsgi.ini:8:1: error[UW202]"), "{out}");
    assert!(out.contains("`mem_limit: 256m` of `app`"), "{out}");
    insta::assert_snapshot!("explicit-no-command", out);
}

/// `check FILE` inside a case, as the per-file pre-commit hook runs it.
fn check_file(case: &str, file: &str) -> (Option<i32>, String) {
    let dir = common::manifest_dir()
        .join("tests/fixtures/linking")
        .join(case);
    let mut args = vec!["check", "--format", "concise", file];
    if !dir.join("uwsgi-lint.toml").exists() {
        args.push("--no-config");
    }
    let (code, out, err) = common::uwsgi_lint(&dir, &args);
    (code, format!("{out}{err}"))
}

#[test]
fn a_changed_context_file_reports_its_deployments_findings() {
    // Only the Compose file changed: the UW202 its limit causes is reported
    // (the link itself comes from `[[deployment]]`).
    let (code, out) = check_file("explicit-no-command", "docker-compose.yml");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("deploy/uwsgi.ini:8:1: error[UW202]"), "{out}");
    // An Nginx file: the findings of the config behind it, not its sibling's.
    let (code, out) = check_file("compose-two-apps", "nginx/api.conf");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("api/uwsgi.ini:7:1: warning[UW301]"), "{out}");
    assert!(!out.contains("web/uwsgi.ini"), "{out}");
    // The image both services build: both deployments.
    let (_, out) = check_file("compose-two-apps", "Dockerfile");
    assert!(
        out.contains("web/uwsgi.ini") && out.contains("api/uwsgi.ini"),
        "{out}"
    );
    // A Compose file that runs no config: nothing to report.
    let (code, out) = check_file("unlinked-note", "docker-compose.yml");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("no uWSGI config among the given files"),
        "{out}"
    );
}

#[test]
fn a_command_line_is_a_config_checked_at_the_manifests_lines() {
    // Kubernetes, exec form: each argument its own line.
    let out = run("command-line-k8s");
    assert!(
        out.contains("linked k8s/deployment.yaml#web ← k8s/deployment.yaml#web (kubernetes): its command line is the whole config"),
        "{out}"
    );
    // `--reload-on-rss` is on line 28, the 1Gi limit on line 41.
    assert!(
        out.contains("k8s/deployment.yaml:28:15: error[UW202] 6 workers × reload-on-rss 256 MiB"),
        "{out}"
    );
    // Flags given on the command line count (`--need-app`).
    assert!(!out.contains("UW307"), "{out}");
    // No fix rewrites a manifest's command.
    assert!(!out.contains("fixable"), "{out}");
    insta::assert_snapshot!("command-line-k8s", out);
    // Compose, shell form: findings on the command's line.
    let out = run("command-line-compose");
    assert!(
        out.contains(
            "docker-compose.yml:4:14: error[UW102] `buffer-size = 32k` is read as 32 bytes"
        ),
        "{out}"
    );
    assert!(out.contains("1 uWSGI file"), "{out}");
    insta::assert_snapshot!("command-line-compose", out);
    // The per-file hook passing only the manifest checks it too.
    let (code, out) = check_file("command-line-k8s", "k8s/deployment.yaml");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("error[UW202]"), "{out}");
}

#[test]
fn an_nginx_file_is_known_by_its_content_whatever_its_name() {
    let out = run("nginx-any-name");
    assert!(
        out.contains("Nginx in front: deploy/mediacms.io (it passes to the unix socket `/home/mediacms.io/uwsgi.sock`)"),
        "{out}"
    );
    assert!(
        out.contains("deploy/uwsgi.ini:7:1: warning[UW301]"),
        "{out}"
    );
    // The README's example is no Nginx file.
    assert!(!out.contains("README"), "{out}");
    insta::assert_snapshot!("nginx-any-name", out);
}

#[test]
fn a_unix_socket_in_a_volume_both_containers_mount_is_reached() {
    // Nginx sees the socket at /var/run/app/app.sock, uWSGI binds it at
    // /run/uwsgi/app.sock: the same file of the `sockets` volume. `admin`
    // binds the same path in another volume.
    let out = run("compose-shared-socket");
    assert!(
        out.contains("Nginx in front: nginx/app.conf (it passes to the unix socket `/run/uwsgi/app.sock` through a mount both containers share)"),
        "{out}"
    );
    let admin = out
        .split("\n\n")
        .find(|p| p.starts_with("linked admin/uwsgi.ini"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(!admin.contains("Nginx in front"), "{out}");
    assert!(!out.contains("UW401"), "{out}");
    assert!(out.contains("app/uwsgi.ini:7:1: warning[UW301]"), "{out}");
    insta::assert_snapshot!("compose-shared-socket", out);
}

#[test]
fn an_nginx_pass_to_a_kubernetes_service_fronts_the_pods_it_selects() {
    // Both apps listen on :8000; the Service `shop` (port 80 → 8000)
    // selects only the shop pods, and Nginx passes to its cluster name.
    let out = run("k8s-service");
    let shop = out
        .split("\n\n")
        .find(|p| p.starts_with("linked k8s/shop.yaml#uwsgi"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        shop.contains(
            "Nginx in front: nginx/shop.conf (it passes to `shop.web.svc.cluster.local:8000`"
        ),
        "{out}"
    );
    let blog = out
        .split("\n\n")
        .find(|p| p.starts_with("linked k8s/blog.yaml#uwsgi"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(!blog.contains("Nginx in front"), "{out}");
    // The Service port is the pod's 8000: no UW401, and the timeout applies.
    assert!(!out.contains("UW401"), "{out}");
    assert!(
        out.contains("k8s/shop.yaml:20:108: warning[UW301]"),
        "{out}"
    );
    // Quoted words of an exec-form command are no quoted ini values.
    assert!(!out.contains("UW105"), "{out}");
    insta::assert_snapshot!("k8s-service", out);
}
