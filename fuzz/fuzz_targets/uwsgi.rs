//! uWSGI configs: the ini reader (its tree prints back to its bytes), uWSGI's
//! line-based YAML reader, and the resolver over either (includes, inherit,
//! placeholders, logic blocks) never panics, keeps its spans inside their
//! files and stays within its budgets. Bit 4 of the first byte picks YAML,
//! bit 0 the section `other`, bits 1 and 3 resolver options.
//! (The body is `tests/common/fuzz_harness.rs`.)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| uwsgi_lint_fuzz::uwsgi(data));
