//! The work `check` does grows linearly with the repository: the same tree
//! of N and then 2N deployments (scripts/gen-monorepo, every shape of
//! container and Nginx) is checked in-process, and the files read, the
//! paths sent to realpath and the lookups linking makes must not grow more
//! than about twice (a scan per pair of files, the old cost, grows four
//! times). Counts, not time: the result does not depend on the machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use uwsgi_lint::settings::Overrides;
use uwsgi_lint::stats::{Counts, snapshot};

mod common;

fn generate(n: usize, dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    let script = common::manifest_dir().join("scripts/gen-monorepo");
    let status = Command::new("python3")
        .arg(&script)
        .arg(n.to_string())
        .arg(dir)
        .status()
        .expect("python3 runs scripts/gen-monorepo");
    assert!(status.success(), "gen-monorepo {n} failed");
}

fn check(dir: &Path) -> (Counts, usize, usize) {
    let overrides = Overrides {
        no_config: true,
        ..Overrides::default()
    };
    let before = snapshot();
    let report = uwsgi_lint::lint::lint(&[dir.to_path_buf()], &overrides).expect("check runs");
    (
        snapshot() - before,
        report.deployments.len(),
        report.diagnostics.len(),
    )
}

#[test]
fn work_grows_linearly_with_deployments() {
    let base: PathBuf =
        std::env::temp_dir().join(format!("uwsgi-lint-scale-{}", std::process::id()));
    let (small, large) = (base.join("n"), base.join("2n"));
    let n = 60;
    generate(n, &small);
    generate(2 * n, &large);
    let (a, links_a, diags_a) = check(&small);
    let (b, links_b, diags_b) = check(&large);
    let _ = std::fs::remove_dir_all(&base);

    // The trees are linked and checked at all (else nothing was measured).
    assert!(links_a >= n / 2, "only {links_a} of {n} deployments linked");
    assert_eq!(links_b, 2 * links_a, "linking differs between N and 2N");
    // (A few findings are about files every deployment shares.)
    assert!(
        diags_b.abs_diff(2 * diags_a) <= diags_a / 20,
        "findings: {diags_a} for N, {diags_b} for 2N"
    );
    assert!(a.files_read >= 4 * n as u64, "{a:?}");
    assert!(a.link_steps > 0, "{a:?}");

    // Twice the deployments: at most ~twice the work (plus a constant).
    let linear = |what: &str, x: u64, y: u64| {
        assert!(
            y <= 2 * x + x / 10 + 20,
            "{what}: {x} for {n} deployments but {y} for {}: not linear",
            2 * n
        );
    };
    linear("files read", a.files_read, b.files_read);
    linear("realpath calls", a.realpaths, b.realpaths);
    linear("link lookups", a.link_steps, b.link_steps);
    eprintln!("N={n}: {a:?}\n2N={}: {b:?}", 2 * n);
}
