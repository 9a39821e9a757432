//! The whole `check` on a small project: a uWSGI config, the Nginx in front,
//! a Compose file and a Dockerfile, each a part of the input; rendered in
//! every output format.
//! (The body is `tests/common/fuzz_harness.rs`.)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| uwsgi_lint_fuzz::check(data));
