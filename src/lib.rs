//! uwsgi-lint: a linter and tuning advisor for uWSGI deployments.
//!
//! The pipeline is one-directional: discover → parse → resolve → link →
//! check → report (see `docs/architecture.md`). This crate is the library
//! behind the `uwsgi-lint` binary.
//!
//! Maps keyed by paths use `foldhash` rather than the standard SipHash:
//! hashing paths was a twentieth of a large check's CPU, and foldhash is
//! seeded per process too, so no output may depend on a map's order.

pub mod advise;
pub mod cli;
pub mod confine;
pub mod container;
pub mod deployment;
pub mod diagnostic;
pub mod discover;
pub mod fix;
pub mod fronts;
pub mod input;
pub mod lint;
pub mod lsp;
pub mod model;
pub mod nginx;
pub mod output;
pub mod parallel;
pub mod readers;
pub mod rules;
pub mod session;
pub mod settings;
pub mod source;
pub mod stats;
pub mod suppress;
pub mod units;
pub mod uwsgi;
