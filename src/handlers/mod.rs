//! Handlers: what the server answers to a parsed request.
//!
//! The connection layer has read and checked the head; a [`Handler`] turns it into a
//! [`Response`]. [`Router`] is the server's handler: it allows GET and HEAD only, answers
//! `/echo` itself and sends every other path to the static files.

pub mod auth;
pub mod cors;
pub mod echo;
pub mod files;
pub mod https;
mod prefix;
pub mod redirects;

use crate::http::response::Response;
use files::StaticFiles;
use nomserve_grammar::{Method, Request};
use std::net::IpAddr;

/// Something that answers requests. Called on worker threads, one request at a time per
/// connection; a panic is caught by the caller and answered with 500.
pub trait Handler: Send + Sync {
    /// Answers `request`, whose raw head (request-line, field lines and the empty line,
    /// exactly as received) is `head`, from the client at `client`. The body, if any, is not
    /// available: the connection layer reads and discards it before the response is sent.
    fn handle(&self, request: &Request<'_, '_>, head: &[u8], client: IpAddr) -> Response;
}

/// A handler chosen when the settings are read: wrappers that are configured or not
/// compose over it.
impl Handler for Box<dyn Handler> {
    fn handle(&self, request: &Request<'_, '_>, head: &[u8], client: IpAddr) -> Response {
        (**self).handle(request, head, client)
    }
}

/// The value of `Allow` on a 405 (RFC 9110 §10.2.1): the methods this server implements.
pub const ALLOW: &str = "GET, HEAD";

/// Routes by method and path.
#[derive(Debug)]
pub struct Router {
    files: StaticFiles,
    echo: bool,
}

impl Router {
    /// A router whose non-`/echo` paths go to `files`, with `/echo` on.
    pub fn new(files: StaticFiles) -> Self {
        Router { files, echo: true }
    }

    /// The same router with `/echo` on or off (`--no-echo`); off, `/echo` is a path like
    /// any other, served from a file named `echo` in the root if there is one.
    pub fn with_echo(self, echo: bool) -> Self {
        Router { echo, ..self }
    }
}

impl Handler for Router {
    /// GET and HEAD are served; any other method, standard or extension, gets 405 with
    /// `Allow: GET, HEAD` (RFC 9110 §15.5.6). `/echo` exactly is the echo handler unless it
    /// is off; every other path, origin-form or absolute-form (routed on its path, RFC 9112 §3.2.2), is a
    /// static file.
    ///
    /// An `Upgrade` field is ignored and the request answered over HTTP/1.1, as RFC 9110
    /// §7.8 lets a server do ("A server MAY ignore a received Upgrade header field"): nomserve
    /// speaks no other protocol, so there is nothing to switch to, and a 426 would demand an
    /// upgrade it cannot perform.
    fn handle(&self, request: &Request<'_, '_>, head: &[u8], _client: IpAddr) -> Response {
        if !matches!(request.method, Method::Get | Method::Head) {
            return Response::text(
                405,
                "method not allowed: this server answers GET and HEAD\n",
            )
            .header("Allow", ALLOW);
        }
        match request.target.path() {
            Some("/echo") if self.echo => echo::respond(request, head),
            _ => self.files.serve(request),
        }
    }
}
