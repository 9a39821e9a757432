//! The incremental session (what the language server analyses with): after
//! every edit its findings are exactly those of a whole `check` of the same
//! texts, and an edit to a config takes the incremental path while one to
//! the context, or to the sockets linking matched on, rebuilds.

mod common;

use std::path::{Path, PathBuf};

use uwsgi_lint::input::Overlay;
use uwsgi_lint::lint::{Report, lint_with};
use uwsgi_lint::session::{Counts, Session};
use uwsgi_lint::settings::Overrides;

/// Each finding with its files named by path (ids differ between runs):
/// everything a renderer shows, fixes included.
fn findings(r: &Report) -> Vec<String> {
    let path = |id| {
        r.sources
            .get(id)
            .path
            .as_deref()
            .map(|p: &Path| p.display().to_string())
    };
    r.diagnostics
        .iter()
        .map(|d| {
            let related: Vec<_> = d
                .related
                .iter()
                .map(|x| (path(x.file), x.span, &x.message))
                .collect();
            let fix = d.fix.as_ref().map(|f| {
                let edits: Vec<_> = f
                    .edits
                    .iter()
                    .map(|e| (path(e.file), e.span, &e.content))
                    .collect();
                format!("{:?} {edits:?}", f.applicability)
            });
            format!(
                "{:?} {:?} {} {:?} {} {:?} {:?} {fix:?}",
                path(d.file),
                d.span,
                d.code,
                d.severity,
                d.message,
                related,
                d.help
            )
        })
        .collect()
}

#[test]
fn edits_take_the_incremental_path_where_they_can_and_match_a_whole_check() {
    let root = std::env::temp_dir().join(format!("uwsgi-lint-session-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    common::copy_dir(
        &common::manifest_dir().join("rules/UW202/bad/variant-compose"),
        &root,
    );
    let root = common::canonical(&root);
    std::fs::write(root.join("base.ini"), "[uwsgi]\nharakiri = \"30\"\n").unwrap();
    std::fs::write(root.join("extra.ini"), "[uwsgi]\nthreads = 2\n").unwrap();
    let ini: PathBuf = root.join("uwsgi.ini");
    let compose = root.join("docker-compose.yml");
    let base = root.join("base.ini");
    let mut ini_text = std::fs::read_to_string(&ini)
        .unwrap()
        .replace("[uwsgi]\n", "[uwsgi]\nini = base.ini\n");
    let mut compose_text = std::fs::read_to_string(&compose).unwrap();
    let mut base_text = std::fs::read_to_string(&base).unwrap();
    // (The only test of this file: it sets the working directory, as the
    // language server does for each project.)
    std::env::set_current_dir(&root).unwrap();
    let overrides = Overrides::default();
    let mut session = Session::new(vec![root.clone()], overrides.clone());
    // Each step: the file edited, the text replaced and by what, and
    // whether the session may stay incremental.
    let steps: &[(&str, &str, &str, bool)] = &[
        ("", "", "", false),
        ("ini", "processes = 4", "processes = 2", true),
        (
            "ini",
            "master = true\n",
            "master = true\nreload_on_rss = 100\n",
            true,
        ),
        (
            "ini",
            "[uwsgi]\n",
            "[uwsgi]\n; a line above\nbuffer-size = 32k\n",
            true,
        ),
        ("base", "harakiri = \"30\"", "harakiri = 30", true),
        ("compose", "mem_limit: 1g", "mem_limit: 512m", false),
        ("ini", "processes = 2", "processes = 8", true),
        (
            "ini",
            "master = true\n",
            "master = true\nsocket = :3031\n",
            false,
        ),
        ("ini", "buffer-size = 32k\n", "", true),
        // A missing include reads no file: nothing linking saw changes.
        (
            "base",
            "harakiri = 30",
            "harakiri = 30\nini = missing.ini",
            true,
        ),
        // An include that reads one does.
        ("base", "ini = missing.ini", "ini = extra.ini", false),
        (
            "ini",
            "reload_on_rss = 100\n",
            "reload-on-rss = 100\n",
            true,
        ),
    ];
    let before = run_steps(
        &root,
        &mut session,
        &overrides,
        &mut [
            ("ini", ini.as_path(), &mut ini_text),
            ("compose", compose.as_path(), &mut compose_text),
            ("base", base.as_path(), &mut base_text),
        ],
        steps,
    );
    // Nothing changed: nothing is analysed again.
    session.analysis().unwrap();
    assert_eq!(session.counts(), before);
    let _ = std::fs::remove_dir_all(&root);

    // A config no container runs, behind an Nginx that finds it by its
    // socket: the session resolves it once per edit (its run and its
    // linking facts read it the same way), and still sees a changed socket.
    let lone = std::env::temp_dir().join(format!("uwsgi-lint-session-lone-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&lone);
    std::fs::create_dir_all(&lone).unwrap();
    let lone = common::canonical(&lone);
    std::fs::write(lone.join(".git"), "").unwrap();
    let ini = lone.join("uwsgi.ini");
    let nginx = lone.join("nginx.conf");
    let mut ini_text =
        "[uwsgi]\nmaster = true\nprocesses = 4\nsocket = 127.0.0.1:3031\nmodule = app.wsgi\n"
            .to_string();
    let mut nginx_text = "events {}\nhttp {\n  server {\n    listen 80;\n    location / {\n      include uwsgi_params;\n      uwsgi_pass 127.0.0.1:3031;\n      uwsgi_read_timeout 10s;\n    }\n  }\n}\n".to_string();
    std::fs::write(&ini, &ini_text).unwrap();
    std::fs::write(&nginx, &nginx_text).unwrap();
    std::env::set_current_dir(&lone).unwrap();
    let mut session = Session::new(vec![lone.clone()], overrides.clone());
    let steps: &[(&str, &str, &str, bool)] = &[
        ("", "", "", false),
        ("ini", "processes = 4", "processes = 2", true),
        (
            "ini",
            "master = true\n",
            "master = true\nharakiri = 60\n",
            true,
        ),
        // Nginx no longer reaches it: linking must be made again.
        ("ini", "127.0.0.1:3031", "127.0.0.1:3032", false),
        ("ini", "harakiri = 60", "harakiri = 5", true),
    ];
    run_steps(
        &lone,
        &mut session,
        &overrides,
        &mut [
            ("ini", ini.as_path(), &mut ini_text),
            ("nginx", nginx.as_path(), &mut nginx_text),
        ],
        steps,
    );
    let _ = std::fs::remove_dir_all(&lone);
}

/// Apply each step (file, text replaced, by what, may it stay incremental)
/// to the open texts, and compare the session with a whole check of them.
fn run_steps(
    root: &Path,
    session: &mut Session,
    overrides: &Overrides,
    files: &mut [(&str, &Path, &mut String)],
    steps: &[(&str, &str, &str, bool)],
) -> Counts {
    let mut before = session.counts();
    for (i, &(which, find, by, incremental)) in steps.iter().enumerate() {
        if let Some((_, _, text)) = files.iter_mut().find(|(n, _, _)| *n == which) {
            assert!(text.contains(find), "step {i}");
            **text = text.replacen(find, by, 1);
        }
        let texts: Vec<(&Path, &[u8])> = files.iter().map(|(_, p, t)| (*p, t.as_bytes())).collect();
        session.set_texts(texts.iter().copied());
        let got = findings(&session.analysis().unwrap().report);
        let mut overlay = Overlay::new();
        for (p, t) in &texts {
            overlay.insert(p, t.to_vec());
        }
        let whole = lint_with(&[root.to_path_buf()], overrides, &overlay).unwrap();
        assert_eq!(
            got,
            findings(&whole.report),
            "step {i}: {which} `{find}` → `{by}`"
        );
        assert!(!got.is_empty());
        let now = session.counts();
        let expected = if incremental {
            Counts {
                incremental: before.incremental + 1,
                ..before
            }
        } else {
            Counts {
                full: before.full + 1,
                ..before
            }
        };
        assert_eq!(now, expected, "step {i}: {which} `{find}` → `{by}`");
        before = now;
    }
    before
}
