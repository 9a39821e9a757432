//! CI-facing formats: SARIF validated against the SARIF 2.1.0 schema, GitHub
//! workflow commands, GitLab Code Quality with stable fingerprints.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A small repository with a finding that has a related location.
fn repo(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-fmt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join(".git")).unwrap();
    std::fs::create_dir_all(d.join("deploy dir")).unwrap();
    std::fs::write(
        d.join("deploy dir/uwsgi.ini"),
        "[uwsgi]\nprocesses = 2\nmaster = true\nworkers = 4\nharakiri = \"30\"\nreload_on_rss = 512\nmaster = true\n",
    )
    .unwrap();
    d
}

fn check(dir: &Path, format: &str) -> String {
    check_with(dir, format, &[])
}

fn check_with(dir: &Path, format: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(dir)
        .args(["check", "--no-config", "--format", format])
        .args(extra)
        .arg(".")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sarif_validates_against_the_schema() {
    let dir = repo("sarif");
    let sarif = check(&dir, "sarif");
    let v: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    // The structure tools rely on, checked here whatever the validator.
    let run = &v["runs"][0];
    assert_eq!(v["version"], "2.1.0");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(results.len() >= 3);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert_eq!(uri, "deploy%20dir/uwsgi.ini");
    }
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        assert!(
            rule["helpUri"]
                .as_str()
                .unwrap()
                .ends_with(&format!("{id}.md"))
        );
        // The rule's page travels with the SARIF: GitHub shows `help`.
        let page = uwsgi_lint::rules::find(id).unwrap().page;
        let markdown = rule["help"]["markdown"].as_str().unwrap();
        assert!(markdown.starts_with(&format!("# {id} ")), "{markdown}");
        assert!(
            page.contains(markdown),
            "{id}: help.markdown is the page body"
        );
        assert!(!markdown.contains("\n---\n"), "{id}: no front matter");
        let text = rule["help"]["text"].as_str().unwrap();
        assert!(
            text.starts_with(&format!("{id} ")) && !text.contains("```"),
            "{text}"
        );
        let full = rule["fullDescription"]["text"].as_str().unwrap();
        assert!(
            !full.is_empty() && page.contains(full.split(' ').next().unwrap()),
            "{full}"
        );
    }
    let dup = results.iter().find(|r| r["ruleId"] == "UW106").unwrap();
    assert_eq!(
        dup["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    let Some(py) = common::venv_python("jsonschema", "sarif_validates_against_the_schema") else {
        return;
    };
    let file = dir.join("out.sarif");
    std::fs::write(&file, &sarif).unwrap();
    let schema = common::manifest_dir().join("tests/data/sarif-schema-2.1.0.json");
    let out = Command::new(py)
        .args([
            "-c",
            "import json, sys, jsonschema\nschema = json.load(open(sys.argv[2]))\njsonschema.validators.validator_for(schema)(schema).validate(json.load(open(sys.argv[1])))\nprint('valid')",
            file.to_str().unwrap(),
            schema.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "SARIF does not validate:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn docs_url_makes_help_links_absolute() {
    let dir = repo("docs-url");
    let base = "https://example.org/uwsgi-lint/rules";
    let sarif: serde_json::Value =
        serde_json::from_str(&check_with(&dir, "sarif", &["--docs-url", base])).unwrap();
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
    {
        assert_eq!(
            rule["helpUri"],
            format!("{base}/{}.md", rule["id"].as_str().unwrap())
        );
    }
    // From the configuration, with `{code}` placed by hand.
    std::fs::write(
        dir.join("uwsgi-lint.toml"),
        "[output]\ndocs-url = \"https://example.org/r/{code}.html\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .current_dir(&dir)
        .args(["check", "--format", "json", "."])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = &json["diagnostics"][0];
    assert_eq!(
        d["url"],
        format!("https://example.org/r/{}.html", d["code"].as_str().unwrap())
    );
    // A relative URL is refused, with its position.
    std::fs::write(
        dir.join("uwsgi-lint.toml"),
        "[output]\ndocs-url = \"rules/\"\n",
    )
    .unwrap();
    let (code, _, err) = common::uwsgi_lint(&dir, &["check", "."]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("uwsgi-lint.toml:2:12") && err.contains("absolute"),
        "{err}"
    );
}

#[test]
fn github_annotations() {
    let out = check(&repo("github"), "github");
    let line = out.lines().find(|l| l.contains("UW103")).unwrap();
    assert!(
        line.starts_with("::error file=deploy dir/uwsgi.ini,line=5,col=12,endLine=5,endColumn=16,title=UW103 non-numeric-value::"),
        "{line}"
    );
    // the help is on a second line of the message, escaped
    assert!(line.contains("%0AuWSGI keeps quotes"), "{line}");
    assert!(out.lines().any(|l| l.starts_with("::notice ")), "{out}");
}

#[test]
fn gitlab_fingerprints_are_stable_and_unique() {
    let dir = repo("gitlab");
    let first: serde_json::Value = serde_json::from_str(&check(&dir, "gitlab")).unwrap();
    // Insert lines above: the fingerprints must not change.
    let ini = dir.join("deploy dir/uwsgi.ini");
    let text = std::fs::read_to_string(&ini).unwrap();
    std::fs::write(
        &ini,
        text.replacen("[uwsgi]\n", "[uwsgi]\n; moved\n; down\n", 1),
    )
    .unwrap();
    let second: serde_json::Value = serde_json::from_str(&check(&dir, "gitlab")).unwrap();
    let prints = |v: &serde_json::Value| {
        let mut p: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["fingerprint"].as_str().unwrap().to_string())
            .collect();
        p.sort();
        p
    };
    let (a, b) = (prints(&first), prints(&second));
    let mut unique = a.clone();
    unique.dedup();
    assert_eq!(unique.len(), a.len(), "fingerprints collide");
    // Only file-level findings anchored at the moved header may differ.
    let common = a.iter().filter(|f| b.contains(f)).count();
    assert!(common >= a.len() - 2, "{a:?}\n{b:?}");
    let item = &first.as_array().unwrap()[0];
    for key in ["description", "check_name", "fingerprint", "severity"] {
        assert!(item[key].is_string(), "{item}");
    }
    assert!(item["location"]["lines"]["begin"].is_u64());
}

/// The GitHub problem matcher (`.github/uwsgi-lint-matcher.json`) picks every
/// finding out of real `--format concise` output, with the right file,
/// place, severity and code, and nothing else. Its regexes are applied with
/// Python's `re`, which reads these the way the Actions runner does.
#[test]
fn problem_matcher_reads_concise_output() {
    let dir = repo("matcher");
    let concise = check_with(&dir, "concise", &["--select", "ALL"]);
    let json: serde_json::Value =
        serde_json::from_str(&check_with(&dir, "json", &["--select", "ALL"])).unwrap();
    let findings = json["diagnostics"].as_array().unwrap();
    let severities: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|d| d["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities.len(), 3, "all three severities: {severities:?}");
    let matcher = common::manifest_dir().join(".github/uwsgi-lint-matcher.json");
    let input = dir.join("concise.txt");
    std::fs::write(&input, &concise).unwrap();
    let script = r#"
import json, re, sys
matchers = json.load(open(sys.argv[1]))["problemMatcher"]
for line in open(sys.argv[2], encoding="utf-8").read().splitlines():
    hits = []
    for m in matchers:
        p = m["pattern"][0]
        r = re.match(p["regexp"], line)
        if r:
            sev = r.group(p["severity"]) if "severity" in p else m.get("severity", "error")
            hits.append("\t".join([r.group(p["file"]), r.group(p["line"]), r.group(p["column"]), sev, r.group(p["code"]), r.group(p["message"])]))
    print(len(hits), *hits, sep="\t")
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&matcher)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results = String::from_utf8(out.stdout).unwrap();
    let mut matched = Vec::new();
    for (line, result) in concise.lines().zip(results.lines()) {
        let fields: Vec<&str> = result.split('\t').collect();
        match fields[0] {
            "0" => assert!(
                !line.contains("[UW"),
                "a finding the matcher misses: {line}"
            ),
            "1" => matched.push(fields[1..].join("\t")),
            n => panic!("{n} matchers match {line}"),
        }
    }
    let expected: Vec<String> = findings
        .iter()
        .map(|d| {
            let sev = match d["severity"].as_str().unwrap() {
                "info" => "notice",
                s => s,
            };
            format!(
                "{}\t{}\t{}\t{sev}\t{}\t{}",
                d["file"].as_str().unwrap(),
                d["line"],
                d["column"],
                d["code"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    let (mut a, mut b) = (matched.clone(), expected.clone());
    a.sort();
    b.sort();
    assert_eq!(a, b);
}
