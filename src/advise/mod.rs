//! `advise`: recycling values that fit (memory-model.md). The model is
//! shared with UW202; measurements come from memory-report logs and the
//! stats server; the plan says where every number came from.

pub mod measure;
pub mod model;
pub mod plan;
pub mod plot;
