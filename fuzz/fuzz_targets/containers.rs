//! Every container reader through the whole pipeline: the first byte picks
//! the format (and so the file name the walk offers it under), the rest is
//! that file and, after [`FILE_SEPARATOR`], the uWSGI config it may run (or
//! the chart's values for Helm, a Deployment for a ConfigMap).
//! (The body is `tests/common/fuzz_harness.rs`.)
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| uwsgi_lint_fuzz::containers(data));
