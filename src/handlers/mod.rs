//! Handlers: what the server answers to a parsed request.

pub mod files;
