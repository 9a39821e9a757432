//! Linking, shown as `check -v` shows it: which container runs each config,
//! which Nginx is in front and why, and the one-line note when a project
//! has containers but none runs a config. One fixture directory per case
//! under `tests/fixtures/linking/`, its output a snapshot.

mod common;

fn run(case: &str) -> String {
    let dir = common::manifest_dir()
        .join("tests/fixtures/linking")
        .join(case);
    let (_, verbose, _) = common::uwsgi_lint(
        &dir,
        &["check", "--no-config", "-v", "--format", "concise", "."],
    );
    let (_, _, note) =
        common::uwsgi_lint(&dir, &["check", "--no-config", "--format", "concise", "."]);
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
