//! The fuzz targets in the normal test run: every input kept under
//! `tests/fixtures/fuzz/<target>/` (inputs a fuzzer crashed on, once fixed,
//! and a few hand-made ones per target) runs through the same code as the
//! fuzz binaries (`common/fuzz_harness.rs`), and cheap property tests feed
//! each target generated inputs: no panic, budgets respected.

mod common;
#[path = "common/fuzz_harness.rs"]
mod fuzz_harness;

use proptest::prelude::*;

#[test]
fn kept_fuzz_inputs_run_clean() {
    let root = common::manifest_dir().join("tests/fixtures/fuzz");
    for (name, target) in fuzz_harness::TARGETS {
        let mut inputs: Vec<_> = std::fs::read_dir(root.join(name))
            .unwrap_or_else(|e| panic!("tests/fixtures/fuzz/{name}: {e}"))
            .map(|e| e.unwrap().path())
            .collect();
        inputs.sort();
        assert!(!inputs.is_empty(), "no kept input for the {name} target");
        for input in inputs {
            let bytes = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&bytes));
            assert!(outcome.is_ok(), "{name}: {} panics", input.display());
        }
    }
}

/// The bytes that matter to the ini reader and the resolver.
fn ini_like() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(&b"[uwsgi]\n"[..]),
        Just(&b"[other]\n"[..]),
        Just(&b"\n%%%%\n"[..]),
        Just(&b"a = 0123456789abcdef\n"[..]),
        Just(&b"b = %(a)%(a)%(a)%(a)%(a)%(a)%(a)%(a)\n"[..]),
        Just(&b"a = %(b)%(b)\n"[..]),
        Just(&b"for-times = 5000\n"[..]),
        Just(&b"for = x y z\n"[..]),
        Just(&b"endfor\n"[..]),
        Just(&b"if-env = X\n"[..]),
        Just(&b"endif\n"[..]),
        Just(&b"ini = other.ini\n"[..]),
        Just(&b"include = conf/inc.ini\n"[..]),
        Just(&b"inherit = main.ini\n"[..]),
        Just(&b"@(other.ini)"[..]),
        Just(&b"$(X)"[..]),
        Just(&b"%k %d %n %"[..]),
        Just(&b"processes = 4\n"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"\0\xff"[..]),
    ];
    prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The resolver's budgets (options, value size) hold whatever the
    /// fan-out, and the tree prints back (both asserted by the target).
    #[test]
    fn uwsgi_target_holds_on_ini_like(flags in 0u8..32, body in ini_like()) {
        let mut input = vec![flags];
        input.extend(body);
        fuzz_harness::uwsgi(&input);
    }

    #[test]
    fn nginx_target_holds(body in "(http|server|location|include|uwsgi_pass|conf\\.d/\\*\\.conf|nginx\\.conf|[{};# \"'\\\\\n]|\n%%%%\n){0,60}") {
        fuzz_harness::nginx(body.as_bytes());
    }

    /// Each container format, chosen by the selector byte, through `check`.
    #[test]
    fn containers_target_holds(sel in 0u8..11, body in "(services:\n|  web:\n|    command: uwsgi --ini uwsgi.ini\n|    mem_limit: 1g\n|apiVersion: v1\n|kind: Pod\n|spec:\n|  containers:\n|  - name: a\n|\\{\\{ .Values.x \\}\\}|\"containerDefinitions\": \\[|\\{|\\}|FROM x\n|CMD uwsgi\n|resource \"aws_ecs_task_definition\" \"t\" \\{|\\[program:x\\]\n|#!/bin/sh\n|exec uwsgi\n|&a |\\*a|: |- |\n%%%%\n){0,30}") {
        let mut input = vec![sel];
        input.extend(body.into_bytes());
        fuzz_harness::containers(&input);
    }

    #[test]
    fn values_target_holds(sel in 0u8..4, body in "([0-9]{1,22}|[kKmMgGtTpPeEi]{1,2}|\\.|-|\\+|e|:| |s|h|d|ms|unix:|/|\\[|\\]|=|\\\"|select|ignore|\n){0,16}") {
        let mut input = vec![sel + 2 * u8::from(sel >= 2) * 20];
        input.extend(body.into_bytes());
        fuzz_harness::values(&input);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The whole `check` on a small generated project.
    #[test]
    fn check_target_holds(ini in ini_like(), nginx in "(server \\{ location / \\{ uwsgi_pass (web|127\\.0\\.0\\.1):8000; \\} \\}\n|include x;\n|\\}|\\{)*") {
        let mut input = ini;
        input.extend_from_slice(b"\n%%%%\n");
        input.extend_from_slice(nginx.as_bytes());
        input.extend_from_slice(b"\n%%%%\nservices:\n  web:\n    build: .\n    command: uwsgi --ini uwsgi.ini\n    mem_limit: 128m\n");
        fuzz_harness::check(&input);
    }
}
