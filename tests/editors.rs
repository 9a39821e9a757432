//! The editor snippets of docs/editors.md, read from the page itself so
//! they cannot drift: Emacs's is run in a real headless Emacs with eglot
//! (tests/emacs/e2e.el; in CI a missing `emacs` is a failure, `.ci/run`
//! installs it); Helix and Zed have no headless client, so their snippets
//! are parsed and checked against what the server and the CLI accept, and
//! the command Zed's task runs is run.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

fn page() -> String {
    std::fs::read_to_string(common::manifest_dir().join("docs/editors.md")).unwrap()
}

/// The first fenced block of language `lang` under the heading `section`.
fn snippet(section: &str, lang: &str) -> String {
    let page = page();
    let at = page
        .find(&format!("\n## {section}\n"))
        .unwrap_or_else(|| panic!("no `## {section}` in docs/editors.md"));
    let rest = &page[at + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    let part = &rest[..end];
    let open = format!("```{lang}\n");
    let start = part
        .find(&open)
        .unwrap_or_else(|| panic!("no ```{lang} block under `## {section}`"))
        + open.len();
    let len = part[start..].find("```").unwrap();
    part[start..start + len].to_string()
}

/// The settings keys the page documents (its table's first column).
fn documented_settings() -> Vec<String> {
    let page = page();
    let table = &page[page.find("## Settings").unwrap()..];
    let table = &table[..table[3..].find("\n## ").unwrap()];
    table
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_helix_snippet_is_valid_and_names_the_server_and_known_settings() {
    let v: toml::Value = toml::from_str(&snippet("Helix", "toml")).expect("valid TOML");
    let server = &v["language-server"]["uwsgi-lint"];
    assert_eq!(server["command"].as_str(), Some("uwsgi-lint"));
    assert_eq!(
        server["args"].as_array().unwrap(),
        &[toml::Value::from("lsp")]
    );
    let known = documented_settings();
    assert!(known.contains(&"ignore".to_string()), "{known:?}");
    for key in server["config"].as_table().unwrap().keys() {
        assert!(known.contains(key), "`{key}` is no documented setting");
    }
    let language = &v["language"].as_array().unwrap()[0];
    assert_eq!(
        language["language-servers"].as_array().unwrap(),
        &[toml::Value::from("uwsgi-lint")]
    );
    // The file types take the configs `check` finds by these names.
    let mut globs = globset::GlobSetBuilder::new();
    for ft in language["file-types"].as_array().unwrap() {
        globs.add(globset::Glob::new(ft["glob"].as_str().unwrap()).unwrap());
    }
    let globs = globs.build().unwrap();
    for name in ["uwsgi.ini", "uwsgi-prod.ini", "app_uwsgi.ini"] {
        assert!(globs.is_match(name), "{name}");
    }
    assert!(!globs.is_match("setup.cfg"));
}

#[test]
fn the_zed_task_runs_check_on_the_file() {
    let tasks: Value = serde_json::from_str(&snippet("Zed", "json")).expect("valid JSON");
    let task = &tasks.as_array().unwrap()[0];
    assert_eq!(task["command"], "uwsgi-lint");
    let root = std::env::temp_dir().join(format!("uwsgi-lint-zed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    common::copy_dir(&common::manifest_dir().join("examples/django-ecs"), &root);
    let root = common::canonical(&root);
    // A worktree is a repository: the project `check FILE` reads around it.
    std::fs::create_dir(root.join(".git")).unwrap();
    let file = root.join("deploy/uwsgi.ini");
    // Zed's task variables, as Zed substitutes them.
    let args: Vec<String> = task["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_str()
                .unwrap()
                .replace("$ZED_WORKTREE_ROOT", root.to_str().unwrap())
                .replace("$ZED_FILE", file.to_str().unwrap())
        })
        .collect();
    let cwd = task["cwd"].as_str().map_or(root.clone(), |c| {
        c.replace("$ZED_WORKTREE_ROOT", root.to_str().unwrap())
            .into()
    });
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .args(&args)
        .current_dir(cwd)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // The example's config has findings, cross-file ones (UW202) included.
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("UW202"), "{text}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn emacs_with_eglot_and_the_snippet_shows_checks_findings() {
    let Some(emacs) = common::which("emacs") else {
        if common::in_ci() {
            panic!("emacs is required in CI (CI=true); .ci/run installs it with elpa-eglot");
        }
        eprintln!("\n*** SKIPPED the Emacs end-to-end test: no `emacs` on PATH ***\n");
        return;
    };
    let root = std::env::temp_dir().join(format!("uwsgi-lint-emacs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    common::copy_dir(&common::manifest_dir().join("examples/django-ecs"), &root);
    let root = common::canonical(&root);
    let elisp = root.join("snippet.el");
    std::fs::write(&elisp, snippet("Emacs (eglot)", "elisp")).unwrap();
    let out_file = root.join("emacs-result.txt");
    // `uwsgi-lint` on PATH, as the snippet runs it.
    let bin = Path::new(env!("CARGO_BIN_EXE_uwsgi-lint"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(emacs);
    cmd.current_dir(&root)
        // `-q`, not `-Q`: no user init, but the site files that put the
        // system's packages (Debian's elpa-eglot) on the load path.
        .args(["--batch", "-q", "-l"])
        .arg(&elisp)
        .arg("-l")
        .arg(common::manifest_dir().join("tests/emacs/e2e.el"))
        .arg(&root)
        .arg(root.join("deploy/uwsgi.ini"))
        .arg(&out_file)
        .env("PATH", path);
    let out = common::run_bounded(cmd, Duration::from_secs(180));
    assert!(
        out.code == Some(0) && !out.timed_out,
        "emacs failed ({:?}):\n{}",
        out.code,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut got: Vec<String> = std::fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    got.sort();
    // `check`, with the snippet's initializationOptions as flags (UW601 is
    // off by default: its finding shows they reached the server).
    let (_, json, err) = common::uwsgi_lint(
        &root,
        &["check", "--format", "json", "--extend-select", "UW601", "."],
    );
    let check: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {err}"));
    let mut expected: Vec<String> = check["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == "deploy/uwsgi.ini")
        .map(|d| format!("{} {}", d["line"], d["code"].as_str().unwrap()))
        .collect();
    expected.sort();
    assert!(
        expected.iter().any(|l| l.ends_with("UW202")),
        "{expected:?}"
    );
    assert_eq!(got, expected);
    let _ = std::fs::remove_dir_all(&root);
}
