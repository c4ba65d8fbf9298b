//! nomserve: a strict, fast HTTP/1.1 static file server.

mod handlers;
mod response;

fn main() {}
