//! The incident of examples/django-ecs under a real kernel memory limit
//! (`scripts/prove-advice`): the example's config, serving a leaking Django
//! app with the real uWSGI in a cgroup with the scaled task memory, is
//! OOM-killed by the kernel; after `advise --write` (from that run's
//! memory-report log) the same load in the same limit has no OOM kill and
//! no failed request, and workers are recycled instead; SIGTERM in the
//! middle of requests drops none with the advised graceful stop and drops
//! them with `die-on-term` alone; `check --detect` inside the cgroup reads
//! its limit. docs/advise.md shows one run's figures; its zeros are checked
//! here against this run.

mod common;

use std::process::Command;
use std::time::Duration;

/// Root and a memory controller, or a loud skip (a failure in CI, which
/// runs as root).
fn cgroups_available() -> bool {
    let root = euid() == 0;
    let controller = std::path::Path::new("/sys/fs/cgroup/memory/memory.limit_in_bytes").exists()
        || std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .is_ok_and(|c| c.split_whitespace().any(|x| x == "memory"));
    if root && controller {
        return true;
    }
    assert!(
        !common::in_ci(),
        "CI runs as root with the cgroup memory controller: root {root}, memory controller {controller}"
    );
    eprintln!(
        "\n*** advise_cgroup: SKIPPED: needs root ({root}) and the cgroup memory controller ({controller}) ***\n"
    );
    false
}

/// The effective uid, from /proc (no libc binding needed for one number).
fn euid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

/// `proof: unadvised K OOM kills, F failed; advised A OOM kills, B failed, R recycles; stop dropped D`
fn parse_proof(line: &str) -> Option<[u64; 6]> {
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let shape = "proof: unadvised # OOM kills, # failed; advised # OOM kills, # failed, # recycles; stop dropped #";
    let masked: String = line
        .split(|c: char| c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("#");
    (masked
        + if line.ends_with(|c: char| c.is_ascii_digit()) {
            "#"
        } else {
            ""
        }
        == shape
        && nums.len() == 6)
        .then(|| [nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]])
}

#[test]
fn advice_prevents_the_oom_kill_and_the_dropped_requests_under_a_real_limit() {
    let Some(uwsgi) = common::uwsgi_oracle("advise_cgroup") else {
        return;
    };
    if !cgroups_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("uwsgi-lint-cgroup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("figures.json");
    let mut cmd = Command::new(common::manifest_dir().join("scripts/prove-advice"));
    cmd.arg("--uwsgi")
        .arg(&uwsgi)
        .arg("--lint")
        .arg(env!("CARGO_BIN_EXE_uwsgi-lint"))
        .arg("--json")
        .arg(&json);
    let out = common::run_bounded(cmd, Duration::from_secs(600));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.timed_out, "timed out\n{stdout}\n{stderr}");
    let last = stdout.lines().rfind(|l| l.starts_with("proof: "));
    let Some(line) = last else {
        panic!("no proof line\n{stdout}\n{stderr}");
    };
    let [k, _f, a_oom, a_failed, recycled, dropped] =
        parse_proof(line).unwrap_or_else(|| panic!("malformed: {line}"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // The incident: the kernel OOM-kills the example's config.
    assert!(k > 0, "{stdout}");
    // Prevented: no OOM kill, no failed request, workers recycled instead.
    assert_eq!((a_oom, a_failed), (0, 0), "{stdout}");
    assert!(recycled > 0, "{stdout}");
    assert_eq!(v["advised"]["ok"], v["requests"], "{v}");
    // The graceful stop drops nothing and exits before the SIGKILL; the
    // stop with die-on-term alone drops every request in flight.
    assert_eq!(dropped, 0, "{stdout}");
    assert_eq!(v["stop_advised"]["sigkilled_at_grace"], false, "{v}");
    assert!(
        v["stop_die_on_term"]["dropped"].as_u64().unwrap() > 0,
        "{v}"
    );
    // `check --detect` read the limit of the cgroup it ran in.
    assert_eq!(v["detected_limit_mib"], v["limit_mib"], "{v}");
    assert_eq!(out.code, Some(0), "{stdout}\n{stderr}");

    // docs/advise.md shows a run with the same outcome.
    let docs = std::fs::read_to_string(common::manifest_dir().join("docs/advise.md")).unwrap();
    let shown = docs
        .lines()
        .find(|l| l.starts_with("proof: "))
        .expect("docs/advise.md shows the proof line");
    let [dk, _, da, db, dr, dd] =
        parse_proof(shown).unwrap_or_else(|| panic!("malformed in the docs: {shown}"));
    assert!(dk > 0 && dr > 0, "{shown}");
    assert_eq!(
        (da, db, dd),
        (a_oom, a_failed, dropped),
        "{shown} vs {line}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_proof_line_is_parsed_strictly() {
    let ok = "proof: unadvised 3 OOM kills, 3 failed; advised 0 OOM kills, 0 failed, 30 recycles; stop dropped 0";
    assert_eq!(parse_proof(ok), Some([3, 3, 0, 0, 30, 0]));
    assert_eq!(
        parse_proof("proof: unadvised 3 OOM kills; advised 0 OOM kills, 0 failed"),
        None
    );
}
