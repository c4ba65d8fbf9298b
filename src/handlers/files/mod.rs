//! Static files from the document root.

use crate::response::Response;
use nomserve_grammar::Request;
use std::io;
use std::path::PathBuf;

/// How the static file handler behaves, from the command line.
#[derive(Debug, Clone)]
pub struct FileOptions {
    /// The document root.
    pub root: PathBuf,
    /// Serve dotfiles and dot-directories (`--dotfiles`).
    pub dotfiles: bool,
    /// List directories that have no index.html (`--list-dirs`).
    pub list_dirs: bool,
    /// The Cache-Control value sent with files (`--cache-control`, default `no-cache`).
    pub cache_control: String,
}

/// Serves files under one root.
#[derive(Debug)]
pub struct StaticFiles {}

impl StaticFiles {
    /// Opens the root; fails if it is missing or not a directory.
    pub fn new(options: FileOptions) -> io::Result<Self> {
        let _ = options;
        todo!()
    }

    /// Answers a GET or HEAD request for a path under the root.
    pub fn serve(&self, request: &Request<'_, '_>) -> Response {
        let _ = request;
        todo!()
    }
}
