//! The fuzz targets' bodies live with the tests (`tests/common/fuzz_harness.rs`),
//! so the normal test run replays every kept input through the same code.

#[path = "../../tests/common/fuzz_harness.rs"]
mod harness;

pub use harness::*;
