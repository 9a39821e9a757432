//! Generated documentation stays current; every rule page has its sections.

mod common;

use uwsgi_lint::rules::{RULES, index_markdown};

#[test]
fn rule_index_is_current() {
    let path = common::manifest_dir().join("docs/rules.md");
    let expected = index_markdown();
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rules.md is out of date: run `cargo run -- rules --format markdown > docs/rules.md` (or UPDATE_DOCS=1 cargo test --test docs)"
    );
}

#[test]
fn every_rule_page_has_front_matter_and_sections() {
    for r in RULES {
        for needle in [
            "---\ncode: ",
            "\nseverity: ",
            "\ncategory: ",
            "\nfix: ",
            "## What it does",
            "## Why it matters",
            "## Example",
            "## How to fix",
        ] {
            assert!(r.page.contains(needle), "{} page lacks `{needle}`", r.code);
        }
        assert!(r.page.contains(&format!("# {} {}", r.code, r.name)));
    }
}

#[test]
fn configuration_reference_is_current() {
    let path = common::manifest_dir().join("docs/configuration.md");
    let expected = uwsgi_lint::settings::reference_markdown();
    if std::env::var("UPDATE_DOCS").is_ok() {
        std::fs::write(&path, &expected).unwrap();
    }
    assert!(
        std::fs::read_to_string(&path).unwrap_or_default() == expected,
        "docs/configuration.md is out of date: UPDATE_DOCS=1 cargo test --test docs"
    );
}

#[test]
fn readme_counts_the_rules() {
    let readme = std::fs::read_to_string(common::manifest_dir().join("README.md")).unwrap();
    let said = format!("{} rules: every rule of the catalogue", RULES.len());
    assert!(readme.contains(&said), "README.md should say `{said}`");
}
