//! The advice formulas at their edges: no limit, a limit too small for one
//! worker, no measurements, zero growth, and uWSGI versions without the
//! delta options; and the worst case of the advice always fitting.

use uwsgi_lint::advise::measure::Estimates;
use uwsgi_lint::advise::model;
use uwsgi_lint::advise::plan::{self, Basis, Given, Plan, Source};
use uwsgi_lint::settings::Overrides;
use uwsgi_lint::uwsgi::version::Version;

const MIB: u64 = 1 << 20;

fn plan_for(
    name: &str,
    ini: &str,
    version: Option<Version>,
    est: Option<Estimates>,
    given: Given,
) -> Plan {
    let d = std::env::temp_dir().join(format!("uwsgi-lint-plan-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("uwsgi.ini"), ini).unwrap();
    let overrides = Overrides {
        no_config: true,
        no_context: true,
        uwsgi_version: version,
        ..Overrides::default()
    };
    let prepared = uwsgi_lint::lint::prepare(&[d.join("uwsgi.ini")], &overrides).unwrap();
    let run = &prepared.runs[0];
    let ctx = run.context(&prepared.sources, &prepared.project, &prepared.links);
    let p = plan::plan(&ctx, est.as_ref(), &given);
    let _ = std::fs::remove_dir_all(&d);
    p
}

fn value(p: &Plan, option: &str) -> Option<u64> {
    p.recommendations
        .iter()
        .find(|r| r.option == option)
        .and_then(|r| r.value.parse().ok())
}

fn basis(p: &Plan, option: &str) -> Option<Basis> {
    p.recommendations
        .iter()
        .find(|r| r.option == option)
        .map(|r| r.basis)
}

const INI: &str = "[uwsgi]\nmaster = true\nmodule = app.wsgi\nprocesses = 4\n";

fn limit(bytes: u64) -> Given {
    Given {
        memory_limit: Some(bytes),
        cpus: None,
    }
}

fn measured(baseline: u64, growth: f64) -> Estimates {
    Estimates {
        baseline: Some(baseline),
        growth: Some(growth),
        jump: Some(growth as u64),
        rate: Some(20.0),
        workers: 4,
        samples: 1000,
    }
}

#[test]
fn the_worst_case_of_the_advice_fits_the_limit() {
    for (l, g) in [
        (512 * MIB, 50_000.0),
        (1024 * MIB, 200_000.0),
        (4096 * MIB, 1_000.0),
    ] {
        let p = plan_for("fits", INI, None, Some(measured(80 * MIB, g)), limit(l));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        let processes = value(&p, "processes").unwrap();
        let evil = value(&p, "evil-reload-on-rss").unwrap() * MIB;
        let reload = value(&p, "reload-on-rss").unwrap() * MIB;
        assert!(reload < evil);
        let worst = model::worst_case(processes, evil, &p.overhead);
        assert!(worst as f64 <= l as f64 * 0.9, "{worst} > 90% of {l}");
        // The last staggered threshold still recycles before reload-on-rss.
        let mr = value(&p, "max-requests").unwrap();
        let delta = value(&p, "max-requests-delta").unwrap();
        let last = mr + (processes - 1) * delta;
        assert!(
            (80 * MIB) as f64 + g * last as f64 <= reload as f64 || mr == 100,
            "{last}"
        );
        assert!(
            // Advised only when it changes: else uWSGI's default, 10 s.
            value(&p, "max-worker-lifetime").unwrap()
                > value(&p, "min-worker-lifetime").unwrap_or(10)
        );
    }
}

#[test]
fn no_limit_says_so_and_still_caps_relative_to_the_app() {
    let p = plan_for("nolimit", INI, None, None, Given::default());
    assert!(
        p.problems.iter().any(|x| x.contains("--memory-limit")),
        "{:?}",
        p.problems
    );
    assert_eq!(p.limit_bytes, None);
    assert!(value(&p, "evil-reload-on-rss").is_none());
    assert_eq!(value(&p, "reload-on-rss"), Some(200)); // 2 × the assumed 100 MiB
    assert_eq!(basis(&p, "reload-on-rss"), Some(Basis::Heuristic));
}

#[test]
fn a_limit_too_small_for_one_worker_is_a_problem_not_a_number() {
    let p = plan_for("tiny", INI, None, None, limit(64 * MIB));
    assert!(
        p.problems
            .iter()
            .any(|x| x.contains("cannot hold even one worker")),
        "{:?}",
        p.problems
    );
    assert!(value(&p, "reload-on-rss").is_none());
    assert!(value(&p, "evil-reload-on-rss").is_none());
}

#[test]
fn too_many_workers_are_reduced_to_what_fits() {
    let ini = "[uwsgi]\nmaster = true\nmodule = app.wsgi\nprocesses = 16\n";
    let p = plan_for("many", ini, None, None, limit(1024 * MIB));
    let processes = value(&p, "processes").unwrap();
    // 1024 × 0.9 − 16 = 905 MiB; 1.5 × 100 MiB each: at most 6.
    assert!((1..=6).contains(&processes), "{processes}");
    assert_eq!(basis(&p, "processes"), Some(Basis::Limit));
}

#[test]
fn no_measurements_use_labelled_heuristics() {
    let p = plan_for("heur", INI, None, None, limit(2048 * MIB));
    assert_eq!(value(&p, "max-requests"), Some(1000));
    assert_eq!(basis(&p, "max-requests"), Some(Basis::Heuristic));
    assert_eq!(value(&p, "max-worker-lifetime"), Some(3600));
    assert!(
        p.inputs
            .iter()
            .any(|i| i.name == "worker baseline RSS" && i.source == Source::Default)
    );
}

#[test]
fn zero_growth_recycles_rarely() {
    let p = plan_for(
        "flat",
        INI,
        None,
        Some(measured(80 * MIB, 0.0)),
        limit(2048 * MIB),
    );
    assert_eq!(value(&p, "max-requests"), Some(10_000));
    assert_eq!(basis(&p, "max-requests"), Some(Basis::Measured));
}

#[test]
fn versions_without_the_delta_options_get_none() {
    let p = plan_for(
        "old",
        INI,
        Some(Version::new(2, 0, 18)),
        None,
        limit(2048 * MIB),
    );
    assert!(value(&p, "max-requests-delta").is_none());
    assert!(value(&p, "max-worker-lifetime-delta").is_none());
    let p = plan_for(
        "mid",
        INI,
        Some(Version::new(2, 0, 21)),
        None,
        limit(2048 * MIB),
    );
    assert!(value(&p, "max-requests-delta").is_none());
    assert!(value(&p, "max-worker-lifetime-delta").is_some());
    let p = plan_for(
        "new",
        INI,
        Some(Version::new(2, 0, 30)),
        None,
        limit(2048 * MIB),
    );
    assert!(value(&p, "max-requests-delta").is_some());
}

#[test]
fn fast_growth_lowers_min_worker_lifetime() {
    // 1 MiB per request at 20 requests/s: 20 MiB/s, far more than the
    // slack between the caps in 10 s.
    let p = plan_for(
        "fast",
        INI,
        None,
        Some(measured(80 * MIB, MIB as f64)),
        limit(2048 * MIB),
    );
    let min = value(&p, "min-worker-lifetime").unwrap();
    assert!(min < 10, "{min}");
    assert_eq!(basis(&p, "min-worker-lifetime"), Some(Basis::Measured));
}

#[test]
fn the_plan_keeps_the_sources_of_its_inputs() {
    let p = plan_for(
        "src",
        INI,
        None,
        Some(measured(90 * MIB, 10_000.0)),
        limit(1024 * MIB),
    );
    let src = |n: &str| p.inputs.iter().find(|i| i.name == n).map(|i| i.source);
    assert_eq!(src("memory limit"), Some(Source::Flag));
    assert_eq!(src("worker baseline RSS"), Some(Source::Measured));
    assert_eq!(src("growth per request"), Some(Source::Measured));
}
