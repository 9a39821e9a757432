//! Nginx configuration: the syntax tree (the model of servers, locations and
//! upstreams builds on it).

pub mod syntax;
pub mod units;
