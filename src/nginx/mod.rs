//! Nginx configuration: the syntax tree, and the model of servers, locations
//! and upstreams built on it.

pub mod include;
pub mod model;
pub mod syntax;
pub mod units;
