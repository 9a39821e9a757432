//! The Nginx parser and the include loader (globs, nested includes, `nginx
//! -T` dumps), on a project of three files.
//! (The body is `tests/common/fuzz_harness.rs`.)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| uwsgi_lint_fuzz::nginx(data));
