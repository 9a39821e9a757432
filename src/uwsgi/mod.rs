//! uWSGI configuration: the lossless ini syntax, magic variables, the
//! resolver that reproduces uWSGI's effective option list, the option
//! catalogue and typed value parsing.

pub mod magic;
pub mod options;
pub mod resolve;
pub mod suggest;
pub mod syntax;
pub mod values;
pub mod version;
pub mod yaml;
