//! Values: the quantity and number parsers (Compose/Kubernetes/ECS memory,
//! Nginx sizes and times, uWSGI's C number readers, cgroup files,
//! addresses, durations, the command line's numbers) and, when the first
//! byte is 0 or 1, the settings file (`uwsgi-lint.toml`, `pyproject.toml`):
//! a value or an error with a position, never a panic.
//! (The body is `tests/common/fuzz_harness.rs`.)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| uwsgi_lint_fuzz::values(data));
