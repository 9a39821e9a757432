//! Differential test: our resolver against the real uWSGI.
//!
//! For every fixture under `tests/fixtures/resolve/` and every uWSGI ini in
//! `../shared/corpus/realworld`, run
//! `uwsgi --show-config --hook-pre-jail exit: --ini F [args]` (facts §9) and
//! compare its collected `key = value` list with ours, byte for byte. Where
//! uWSGI exits before printing the list, we must report a fatal event.
//!
//! Each fixture also has `expected.txt`, recorded from the real server
//! (`UPDATE_EXPECT=1`), so the comparison still runs where the oracle is absent.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::*;
use uwsgi_lint::source::SourceMap;
use uwsgi_lint::uwsgi::magic::HostFacts;
use uwsgi_lint::uwsgi::resolve::{self, Invocation, ResolveOptions, Resolved};

/// Parameters of one run, from the fixture's optional `case.json`.
#[derive(Debug, Default)]
struct Case {
    /// `--ini` argument; `None` when the case passes no `--ini`.
    spec: Option<String>,
    env: Vec<(String, String)>,
    args: Vec<String>,
    /// Output depends on the machine or the checkout path (`%h`, `%0`, `%j` ...):
    /// compared with the live server only, no recorded expectation.
    host_dependent: bool,
    /// uWSGI never finishes reading it (an endless expansion, which loops
    /// or runs out of memory): the server is given 5 s instead of 30, and
    /// must not have printed its options by then.
    hangs: bool,
}

fn load_case(dir: &Path) -> Case {
    let mut case = Case {
        spec: Some("main.ini".into()),
        ..Case::default()
    };
    let Ok(text) = std::fs::read_to_string(dir.join("case.json")) else {
        return case;
    };
    let v: serde_json::Value = serde_json::from_str(&text).expect("case.json");
    if let Some(s) = v.get("spec") {
        case.spec = s.as_str().map(String::from);
    }
    if let Some(env) = v.get("env").and_then(|e| e.as_array()) {
        for pair in env {
            let p = pair.as_array().expect("env pair");
            case.env
                .push((p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()));
        }
    }
    if let Some(args) = v.get("args").and_then(|a| a.as_array()) {
        case.args = args
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
    }
    // std::process::Command passes the environment sorted by name; give the
    // resolver the same order uWSGI sees.
    case.env.sort();
    case.host_dependent = v
        .get("host_dependent")
        .and_then(|b| b.as_bool())
        .unwrap_or(false);
    case.hangs = v.get("hangs").and_then(|b| b.as_bool()).unwrap_or(false);
    case
}

/// The argument list given to both uWSGI and the resolver. `--show-config`
/// and the exit hook come first so an unclosed logic block cannot swallow them.
fn argv(case: &Case, extra: &[String]) -> Vec<String> {
    let mut a = vec![
        "--show-config".to_string(),
        "--hook-pre-jail".to_string(),
        "exit:".to_string(),
    ];
    if let Some(spec) = &case.spec {
        let file = spec.rsplit_once(':').map_or(spec.as_str(), |(f, _)| f);
        let yaml = file.ends_with(".yaml") || file.ends_with(".yml");
        a.push(if yaml { "--yaml" } else { "--ini" }.into());
        a.push(spec.clone());
    }
    a.extend(case.args.iter().cloned());
    a.extend(extra.iter().cloned());
    a
}

/// What uWSGI collected: `Some(lines)` or `None` if it exited before printing.
type Collected = Option<Vec<Vec<u8>>>;

/// Extract the `--show-config` block from uWSGI's log output. Log prefixes
/// (`log-date`, JSON `log-encoder`) are removed: the block's end line tells
/// the prefix, and JSON-encoded lines carry the text in `message`.
fn parse_block(out: &[u8]) -> Collected {
    let marker = b";uWSGI instance configuration\n";
    let start = out.windows(marker.len()).position(|w| w == marker)?;
    let rest = &out[start + marker.len()..];
    let mut result = Vec::new();
    let mut seen_header = false;
    for line in lines(rest) {
        let text = json_message(line).unwrap_or_else(|| line.to_vec());
        if text.is_empty() {
            continue;
        }
        if !seen_header {
            if text.ends_with(b"[uwsgi]") {
                seen_header = true;
            }
            continue;
        }
        if let Some(p) = find(&text, b";end of configuration") {
            let prefix = p;
            // Remove the same prefix length from every entry line.
            return Some(
                result
                    .into_iter()
                    .map(|l: Vec<u8>| l.get(prefix..).map(<[u8]>::to_vec).unwrap_or_default())
                    .collect(),
            );
        }
        result.push(text);
    }
    None
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn json_message(line: &[u8]) -> Option<Vec<u8>> {
    if !line.starts_with(b"{") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(line).ok()?;
    v.get("message")?.as_str().map(|s| s.as_bytes().to_vec())
}

fn run_oracle(uwsgi: &Path, dir: &Path, case: &Case, extra: &[String]) -> (Collected, String) {
    let mut cmd = Command::new(uwsgi);
    cmd.current_dir(dir).env_clear().args(argv(case, extra));
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    let limit = if case.hangs { 5 } else { 30 };
    let out = run_bounded(cmd, Duration::from_secs(limit));
    let mut all = out.stderr.clone();
    all.extend_from_slice(&out.stdout);
    if let Some(logto) = extra.iter().skip_while(|a| *a != "--logto").nth(1)
        && let Ok(log) = std::fs::read(logto)
    {
        all.extend_from_slice(&log);
    }
    let tail = String::from_utf8_lossy(&all)
        .lines()
        .rev()
        .take(6)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    let note = format!(
        "exit {:?}{}; last lines:\n{tail}",
        out.code,
        if out.timed_out { " (timed out)" } else { "" }
    );
    (parse_block(&all), note)
}

fn run_ours(dir: &Path, case: &Case, extra: &[String]) -> Resolved {
    let mut host = HostFacts::local("2.0.30");
    host.cwd = canonical(dir);
    let inv = Invocation {
        env: case.env.clone(),
        args: argv(case, extra),
    };
    let mut sources = SourceMap::new();
    resolve::resolve(&inv, &host, &ResolveOptions::default(), &mut sources)
}

/// Our list printed as uWSGI prints it, then split into non-empty lines the
/// way `parse_block` reads the server's (a value read by `@()` may hold newlines).
fn ours_lines(r: &Resolved) -> Vec<Vec<u8>> {
    let mut text = Vec::new();
    for e in &r.entries {
        text.extend_from_slice(&e.key);
        text.extend_from_slice(b" = ");
        match &e.value {
            Some(v) => text.extend_from_slice(v.split(|&b| b == 0).next().unwrap_or_default()),
            None => text.extend_from_slice(b"true"),
        }
        text.push(b'\n');
    }
    lines(&text)
        .into_iter()
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn render(c: &Collected) -> String {
    match c {
        Some(lines) => lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned() + "\n")
            .collect(),
        None => "FATAL\n".into(),
    }
}

/// Compare what uWSGI collected with our resolution; `Err` explains the difference.
fn compare(oracle: &Collected, ours: &Resolved) -> Result<(), String> {
    match oracle {
        Some(expected) => {
            let got = ours_lines(ours);
            let masked = |lines: &[Vec<u8>]| lines.iter().map(|l| mask_now(l)).collect::<Vec<_>>();
            if masked(&got) != masked(expected) {
                return Err(format!(
                    "option lists differ\n--- uWSGI\n{}--- uwsgi-lint\n{}",
                    render(oracle),
                    render(&Some(got))
                ));
            }
            if let Some(f) = ours.fatal() {
                return Err(format!(
                    "uWSGI starts, but we report a fatal problem: {}",
                    f.message
                ));
            }
            Ok(())
        }
        None => match ours.fatal() {
            Some(_) => Ok(()),
            None => Err(format!(
                "uWSGI exits before collecting, but we report nothing fatal; ours:\n{}",
                render(&Some(ours_lines(ours)))
            )),
        },
    }
}

/// `line` with each number that is the time of this run (`%t` in seconds,
/// `%T` in microseconds, within a minute of now) replaced by `<now>`: uWSGI
/// and the resolver read the clock at different moments, a second boundary
/// may fall between them (seen once in 10,000 generated cases).
fn mask_now(line: &[u8]) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let near = |digits: &[u8]| {
        let Ok(n) = std::str::from_utf8(digits).unwrap_or("").parse::<u128>() else {
            return false;
        };
        let (s, us) = (u128::from(now.as_secs()), now.as_micros());
        (digits.len() == 10 && n.abs_diff(s) <= 60)
            || (digits.len() == 16 && n.abs_diff(us) <= 60_000_000)
    };
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let run = line[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run == 0 {
            out.push(line[i]);
            i += 1;
        } else if near(&line[i..i + run]) {
            out.extend_from_slice(b"<now>");
            i += run;
        } else {
            out.extend_from_slice(&line[i..i + run]);
            i += run;
        }
    }
    out
}

#[test]
fn the_clock_is_masked_and_nothing_else() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let line = format!("a = {}x{} 1234567890 8000", now.as_secs(), now.as_micros());
    assert_eq!(
        mask_now(line.as_bytes()),
        b"a = <now>x<now> 1234567890 8000"
    );
}

fn normalize(text: &str, dir: &Path) -> String {
    text.replace(&canonical(dir).to_string_lossy().to_string(), "${FIXTURE}")
}

fn fixture_dirs() -> Vec<PathBuf> {
    let root = manifest_dir().join("tests/fixtures/resolve");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn fixtures_match_real_uwsgi() {
    let oracle = uwsgi_oracle("fixtures_match_real_uwsgi");
    let update = std::env::var("UPDATE_EXPECT").is_ok();
    let dirs = fixture_dirs();
    assert!(dirs.len() >= 40, "only {} resolve fixtures", dirs.len());
    let mut failures = Vec::new();
    let mut compared_live = 0;
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let case = load_case(dir);
        let ours = run_ours(dir, &case, &[]);
        let expected_path = dir.join("expected.txt");
        if let Some(uwsgi) = &oracle {
            let (collected, note) = run_oracle(uwsgi, dir, &case, &[]);
            compared_live += 1;
            if case.hangs && collected.is_some() {
                failures.push(format!(
                    "{name}: uWSGI was expected never to finish reading\n(uWSGI {note})"
                ));
                continue;
            }
            if let Err(e) = compare(&collected, &ours) {
                failures.push(format!("{name}: {e}\n(uWSGI {note})"));
                continue;
            }
            if !case.host_dependent {
                let recorded = normalize(&render(&collected), dir);
                if update {
                    std::fs::write(&expected_path, &recorded).unwrap();
                } else {
                    match std::fs::read_to_string(&expected_path) {
                        Ok(e) if e == recorded => {}
                        Ok(_) => failures.push(format!(
                            "{name}: the real server's output changed from expected.txt (rerun with UPDATE_EXPECT=1 and review)"
                        )),
                        Err(_) => failures.push(format!(
                            "{name}: no expected.txt; record it with UPDATE_EXPECT=1"
                        )),
                    }
                }
            }
        } else if !case.host_dependent {
            let recorded = std::fs::read_to_string(&expected_path)
                .unwrap_or_else(|_| panic!("{name}: expected.txt missing"));
            let got = match ours.fatal() {
                Some(_) => "FATAL\n".to_string(),
                None => normalize(&render(&Some(ours_lines(&ours))), dir),
            };
            if got != recorded {
                failures.push(format!(
                    "{name}: differs from the recorded server output\n--- recorded\n{recorded}--- ours\n{got}"
                ));
            }
        }
    }
    eprintln!(
        "resolve fixtures: {} total, {} compared with the live server",
        dirs.len(),
        compared_live
    );
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

/// Every uWSGI ini and YAML config of the shared corpus, run from its own directory.
#[test]
fn corpus_matches_real_uwsgi() {
    let Some(shared) = shared_dir("corpus_matches_real_uwsgi") else {
        return;
    };
    let Some(uwsgi) = uwsgi_oracle("corpus_matches_real_uwsgi") else {
        return;
    };
    let mut inis = Vec::new();
    collect_inis(&shared.join("corpus/realworld"), &mut inis);
    inis.sort();
    assert!(!inis.is_empty());
    let tmp = std::env::temp_dir().join(format!("uwsgi-lint-diff-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let (mut same, mut skipped, mut failures) = (0, Vec::new(), Vec::new());
    for (i, ini) in inis.iter().enumerate() {
        let dir = ini.parent().unwrap();
        let case = Case {
            spec: Some(ini.file_name().unwrap().to_string_lossy().into()),
            ..Case::default()
        };
        // Route the log to a file we read: a config's own `logto` may name a
        // directory this machine lacks, which is not what is under test.
        let log = tmp.join(format!("{i}.log"));
        let extra = vec!["--logto".to_string(), log.to_string_lossy().into_owned()];
        let (collected, note) = run_oracle(&uwsgi, dir, &case, &extra);
        let rel = ini
            .strip_prefix(shared.join("corpus/realworld"))
            .unwrap()
            .display()
            .to_string();
        let ours = run_ours(dir, &case, &extra);
        match compare(&collected, &ours) {
            Ok(()) => same += 1,
            // The wheel embeds python/gevent only; a config that loads other
            // plugins stops for a reason that is not the parser under test.
            Err(_) if note.contains("UNABLE to load uWSGI plugin") => {
                skipped.push(format!("{rel}: needs a plugin the pyuwsgi wheel lacks"));
            }
            Err(e) => failures.push(format!("{rel}: {e}\n(uWSGI {note})")),
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!("corpus: {} configs, {same} identical to uWSGI", inis.len());
    for s in &skipped {
        eprintln!("corpus: skipped {s}");
    }
    assert!(
        failures.is_empty(),
        "{} corpus inis differ:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(same > 0);
}

fn collect_inis(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_inis(&p, out);
        } else if is_uwsgi_config(&p) {
            out.push(p);
        }
    }
}

/// A uWSGI ini or YAML config, classified as `check` classifies them.
fn is_uwsgi_config(p: &Path) -> bool {
    let Ok(bytes) = std::fs::read(p) else {
        return false;
    };
    match uwsgi_lint::discover::format_of(p) {
        Some(resolve::ConfigFormat::Ini) => uwsgi_lint::discover::is_uwsgi_ini(&bytes),
        Some(resolve::ConfigFormat::Yaml) => uwsgi_lint::discover::is_uwsgi_yaml(&bytes),
        None => false,
    }
}

#[path = "common/ini_gen.rs"]
mod ini_gen;

/// Generated configs (sections, placeholders, includes, logic blocks, odd
/// bytes: see `common/ini_gen.rs`) against the real server. CI runs a few
/// hundred, the same ones every time; `UWSGI_DIFF_CASES=10000` (and
/// `UWSGI_DIFF_SEED`) run more. Differences uWSGI-lint keeps on purpose
/// are listed in docs/resolver.md, and the generator does not produce them.
#[test]
fn generated_configs_match_real_uwsgi() {
    let Some(uwsgi) = uwsgi_oracle("generated_configs_match_real_uwsgi") else {
        return;
    };
    let cases: u64 = std::env::var("UWSGI_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let seed: u64 = std::env::var("UWSGI_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed);
    let jobs: u64 = std::env::var("UWSGI_DIFF_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1);
    let only: Option<u64> = std::env::var("UWSGI_DIFF_ONLY")
        .ok()
        .and_then(|v| v.parse().ok());
    let root = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let fatal_both = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    // Each case runs its own uWSGI in its own directory: the cases are
    // independent, so `jobs` threads take every `jobs`-th one.
    std::thread::scope(|s| {
        for job in 0..jobs {
            let (uwsgi, root, fatal_both, failures) = (&uwsgi, root.path(), &fatal_both, &failures);
            s.spawn(move || {
                for i in (job..cases).step_by(jobs as usize) {
                    // `UWSGI_DIFF_ONLY=N`: case N alone (to study a difference).
                    if only.is_some_and(|n| n != i) {
                        continue;
                    }
                    let g = ini_gen::generate(seed.wrapping_mul(1_000_003).wrapping_add(i));
                    let dir = root.join(i.to_string());
                    std::fs::create_dir_all(dir.join("sub")).unwrap();
                    for (name, bytes) in &g.files {
                        std::fs::write(dir.join(name), bytes).unwrap();
                    }
                    let case = Case {
                        spec: Some(g.spec.clone()),
                        env: g.env.clone(),
                        args: g.args.clone(),
                        host_dependent: true,
                        hangs: false,
                    };
                    let (collected, note) = run_oracle(uwsgi, &dir, &case, &[]);
                    let ours = run_ours(&dir, &case, &[]);
                    if collected.is_none() && ours.fatal().is_some() {
                        fatal_both.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    if let Err(e) = compare(&collected, &ours) {
                        let mut shown =
                            format!("case {i} (seed {seed}): {e}\n(uWSGI {note})\nfiles:\n");
                        for (name, bytes) in &g.files {
                            shown.push_str(&format!(
                                "== {name}\n{}\n",
                                String::from_utf8_lossy(bytes)
                            ));
                        }
                        shown.push_str(&format!(
                            "env {:?} spec {} args {:?}\n",
                            g.env, g.spec, g.args
                        ));
                        failures.lock().unwrap().push((i, shown));
                        if let Ok(keep) = std::env::var("UWSGI_DIFF_KEEP") {
                            copy_dir(&dir, &Path::new(&keep).join(i.to_string()));
                        }
                    }
                    let _ = std::fs::remove_dir_all(&dir);
                }
            });
        }
    });
    let fatal_both = fatal_both.into_inner();
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    let failures: Vec<String> = failures.into_iter().map(|(_, f)| f).collect();
    eprintln!(
        "generated: {cases} cases (seed {seed}) in {:.1}s, {} differ, {fatal_both} fatal for both",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    // Most cases must reach the option list, or the comparison shows little.
    assert!(
        fatal_both * 2 < cases as usize,
        "{fatal_both} of {cases} cases are fatal for both"
    );
    assert!(
        failures.is_empty(),
        "{} of {cases} generated configs differ from uWSGI; first ones:\n\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}
