//! The text output: `error[UW202]: message` headers, places, notes for
//! related places in other files, the order (file, line, errors first), the
//! summary and `--statistics`, snapshotted under `snapshots/`; and the
//! renderer's edge cases (line ends, invalid UTF-8, long lines, spans over
//! many lines) on hand-made diagnostics.

mod common;

use uwsgi_lint::diagnostic::{Diagnostic, Related, Severity};
use uwsgi_lint::output::text;
use uwsgi_lint::source::{SourceFile, SourceMap, Span};

fn snapshot(name: &str, value: &str) {
    insta::with_settings!({snapshot_path => common::manifest_dir().join("snapshots"), prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!(name, value);
    });
}

/// `check` on the bundled example, from the repository root.
fn example(args: &[&str]) -> String {
    let mut all = vec!["check", "--no-config", "--color", "never"];
    all.extend_from_slice(args);
    all.push("examples/django-ecs");
    let (code, out, err) = common::uwsgi_lint(&common::manifest_dir(), &all);
    assert_eq!(code, Some(1), "{out}{err}");
    out
}

#[test]
fn text_output_of_the_example() {
    let out = example(&[]);
    // Errors before the warning on the same line (9), files in order.
    let line9: Vec<&str> = out.lines().filter(|l| l.contains("uwsgi.ini:9:")).collect();
    assert_eq!(line9.len(), 2, "{out}");
    assert!(out.find("error[UW102]").unwrap() < out.find("warning[UW403]").unwrap());
    snapshot("text_example", &out);
}

#[test]
fn statistics_of_the_example() {
    snapshot("text_example_statistics", &example(&["--statistics"]));
    let json = example(&["--statistics", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let total: u64 = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    let findings: serde_json::Value =
        serde_json::from_str(&example(&["--format", "json"])).unwrap();
    assert_eq!(
        total as usize,
        findings["diagnostics"].as_array().unwrap().len()
    );
}

#[test]
fn concise_output_of_the_example() {
    snapshot("concise_example", &example(&["--format", "concise"]));
}

#[test]
fn colour_only_when_asked() {
    let (_, plain, _) = common::uwsgi_lint(
        &common::manifest_dir(),
        &["check", "--no-config", "examples/django-ecs"],
    );
    assert!(!plain.contains('\x1b'), "not a terminal: no colour");
    let (_, coloured, _) = common::uwsgi_lint(
        &common::manifest_dir(),
        &[
            "check",
            "--no-config",
            "--color",
            "always",
            "examples/django-ecs",
        ],
    );
    assert!(coloured.contains("\x1b["), "{coloured}");
}

#[test]
fn a_clean_run_says_so_and_how_to_run_more_rules() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join("uwsgi.ini"), "[uwsgi]\nstrict = true\n").unwrap();
    let (_, out, err) = common::uwsgi_lint(
        dir.path(),
        &["check", "--no-config", "--select", "UW101", "."],
    );
    assert_eq!(
        out,
        format!(
            "No findings in 1 uWSGI file.\n{} of {} rules did not run (not selected, ignored, or not in the default set): `uwsgi-lint rules` marks the default set, `--select ALL` runs every rule.\n",
            uwsgi_lint::rules::RULES.len() - 1,
            uwsgi_lint::rules::RULES.len()
        ),
        "{err}"
    );
    let (_, out, _) = common::uwsgi_lint(
        dir.path(),
        &["check", "--no-config", "--select", "ALL", "."],
    );
    assert!(!out.contains("did not run"), "{out}");
}

fn diag(file: uwsgi_lint::source::FileId, span: (usize, usize)) -> Diagnostic {
    Diagnostic {
        code: "UW001",
        name: "here",
        severity: Severity::Warning,
        message: "a message".into(),
        file,
        span: Span::new(span.0, span.1),
        related: Vec::new(),
        help: Some("a help".into()),
        fix: None,
    }
}

fn related(file: uwsgi_lint::source::FileId, span: (usize, usize), message: &str) -> Related {
    Related {
        file,
        span: Span::new(span.0, span.1),
        message: message.into(),
    }
}

#[test]
fn renderer_edge_cases() {
    let mut sources = SourceMap::new();
    let crlf = sources.add(SourceFile::new(
        "crlf.ini",
        None,
        b"[uwsgi]\r\nmaster = true\r\nworkers = 4\r\n".to_vec(),
    ));
    let cr = sources.add(SourceFile::new(
        "cr.ini",
        None,
        b"[uwsgi]\rmaster = true\rworkers = 4".to_vec(),
    ));
    let bad = sources.add(SourceFile::new(
        "bad.ini",
        None,
        b"a = \xff\xfe\nb = \xe2\x82\nc = 3\n".to_vec(),
    ));
    let many: String = (0..40).map(|i| format!("k{i} = {i}\n")).collect();
    let many_len = many.len();
    let many = sources.add(SourceFile::new("many.ini", None, many.into_bytes()));
    let other = sources.add(SourceFile::new(
        "task.json",
        None,
        b"{\n  \"memory\": \"1024\"\n}\n".to_vec(),
    ));
    let mut long = "x".repeat(70_000);
    long.push_str(" harakiri = 30\nnext = 1\n");
    let long = sources.add(SourceFile::new("long.ini", None, long.into_bytes()));
    let mut with_related = diag(crlf, (9, 15));
    with_related.related = vec![
        related(crlf, (24, 31), "the same file, near"),
        related(other, (4, 20), "another file"),
    ];
    let mut far = diag(many, (many_len - 7, many_len - 1));
    far.related = vec![related(many, (0, 2), "the same file, far")];
    let cases = vec![
        with_related,
        diag(cr, (8, 14)),
        diag(bad, (11, 13)),
        diag(bad, (4, 6)),
        far,
        // A span over every line is cut to its first ones.
        diag(many, (0, many_len)),
        // An empty span at the end of the file.
        diag(crlf, (38, 38)),
        diag(long, (70_001, 70_009)),
        // A label as wide as a long line is cut, not a panic.
        diag(long, (10, 70_010)),
    ];
    let out = text::render(&sources, &cases, false);
    // Every place is the one the other formats give (lines end at `\n`
    // only, columns count characters, excerpts keep the true column).
    for d in &cases {
        let f = sources.get(d.file);
        let p = f.line_col(d.span.start);
        let place = format!("--> {}:{}:{}\n", f.name, p.line, p.column);
        assert!(out.contains(&place), "{place}{out}");
    }
    assert!(out.contains("--> long.ini:1:70002\n"), "{out}");
    assert!(out.len() < 20_000, "{} bytes", out.len());
    snapshot("text_edge_cases", &out);
}
