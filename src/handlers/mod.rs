//! Handlers: what the server answers to a parsed request.
//!
//! The connection layer has read and checked the head; a [`Handler`] turns it into a
//! [`Response`]. [`Router`] is the server's handler: it allows GET and HEAD (and, in upload
//! folders, `POST` and `PUT`: [`upload`]), answers `/echo` itself and sends every other path
//! to the static files.

pub mod acme;
pub mod auth;
pub mod cors;
pub mod echo;
pub mod files;
pub mod https;
mod lru;
pub mod metrics;
mod prefix;
pub mod redirects;
#[cfg(test)]
pub mod testing;
pub mod upload;

use crate::http::head::RequestHead;
use crate::http::response::{Response, Ticket};
use files::StaticFiles;
use nomserve_grammar::{Method, Request};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use upload::Uploads;

/// Something that answers requests. Called on worker threads, one request at a time per
/// connection; a panic is caught by the caller and answered with 500.
pub trait Handler: Send + Sync {
    /// Answers `request`, whose raw head (request-line, field lines and the empty line,
    /// exactly as received) is `head`, from the client at `client`. The body, if any, is not
    /// in the request: a handler that wants it answers [`Response::accepting`] with a sink
    /// that takes it as it arrives; otherwise the connection layer reads and discards it
    /// before the response is sent.
    fn handle(&self, request: &Request<'_, '_>, head: &RequestHead<'_>, client: IpAddr)
    -> Response;

    /// The Strict-Transport-Security value the handler adds to its responses, if it does:
    /// over TLS, the connection layer adds it to the responses it makes itself.
    fn strict_transport_security(&self) -> Option<Arc<str>> {
        None
    }

    /// Answers as [`Handler::handle`] does, letting `gate` decide by the files the request
    /// would be served from: a handler that serves files from the root asks it before
    /// answering from one, and leaves out of a listing what it does not show. A handler that
    /// serves no file has nothing to ask, which is what this default does.
    fn handle_gated(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
        gate: &dyn Gate,
    ) -> Response {
        let _ = gate;
        self.handle(request, head, client)
    }

    /// The gate that protects files for the client of `request`, if this handler (or one
    /// it wraps) has one: for a wrapper outside it that serves files of its own (the error
    /// pages). The default, a handler that protects nothing, has none.
    fn gate<'a>(
        &'a self,
        request: &'a Request<'_, '_>,
        client: IpAddr,
    ) -> Option<Box<dyn Gate + 'a>> {
        let _ = (request, client);
        None
    }
}

/// What decides, for one request, whether the files it would be served from may be served
/// to its client (the auth areas). Paths are relative to the root in the areas' form: `/`,
/// the components joined by `/`, and a trailing `/` for a directory.
pub trait Gate {
    /// `None` when the client may be served from all of `paths`; else the response it gets
    /// instead (a challenge).
    fn enter(&self, paths: &[PathBuf]) -> Option<Response>;

    /// Whether the client may be served from `path` (a listing's entry, an error page),
    /// without an answer of its own when not.
    fn shows(&self, path: &Path) -> bool;

    /// A check this gate began for the client and that is still under way (a password
    /// checked on another thread): the answer given meanwhile is provisional, and the
    /// request is to wait for it and be handled again ([`Response::pending`]).
    fn pending(&self) -> Option<Ticket>;

    /// The verdicts this request has reached, as a judge that outlives it, for content made
    /// after the response is handed over (a folder's archive, sent as the client reads): a
    /// path in an area the client passed is shown, as is a path in no area; a path in an
    /// area refused, or never asked about, is not. So whatever the content holds was asked
    /// about while the request was handled ([`Gate::shows`]), or is left out.
    fn verdicts(&self) -> Verdicts;
}

/// A judge of paths, in the form a [`Gate`] is asked about, that may be sent to wherever a
/// response's body is made.
pub type Verdicts = Arc<dyn Fn(&Path) -> bool + Send + Sync>;

/// A handler chosen when the settings are read: wrappers that are configured or not
/// compose over it.
impl Handler for Box<dyn Handler> {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
    ) -> Response {
        (**self).handle(request, head, client)
    }

    fn strict_transport_security(&self) -> Option<Arc<str>> {
        (**self).strict_transport_security()
    }

    fn handle_gated(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
        gate: &dyn Gate,
    ) -> Response {
        (**self).handle_gated(request, head, client, gate)
    }

    fn gate<'a>(
        &'a self,
        request: &'a Request<'_, '_>,
        client: IpAddr,
    ) -> Option<Box<dyn Gate + 'a>> {
        (**self).gate(request, client)
    }
}

/// The value of `Allow` on a 405 (RFC 9110 §10.2.1): the methods this server implements.
pub const ALLOW: &str = "GET, HEAD";

/// Routes by method and path.
#[derive(Debug)]
pub struct Router {
    files: StaticFiles,
    echo: bool,
    uploads: Option<Uploads>,
}

impl Router {
    /// A router whose non-`/echo` paths go to `files`, with `/echo` on.
    pub fn new(files: StaticFiles) -> Self {
        Router {
            files,
            echo: true,
            uploads: None,
        }
    }

    /// The same router taking uploads into `uploads`' folders.
    pub fn with_uploads(self, uploads: Uploads) -> Self {
        Router {
            uploads: Some(uploads),
            ..self
        }
    }

    /// The same router with `/echo` on or off (`--no-echo`); off, `/echo` is a path like
    /// any other, served from a file named `echo` in the root if there is one.
    pub fn with_echo(self, echo: bool) -> Self {
        Router { echo, ..self }
    }
}

impl Handler for Router {
    /// GET and HEAD are served, and in upload folders POST (a form) and PUT (a file); any
    /// other method, standard or extension, gets 405 with `Allow` (RFC 9110 §15.5.6). `/echo` exactly is the echo handler unless it
    /// is off; every other path, origin-form or absolute-form (routed on its path, RFC 9112 §3.2.2), is a
    /// static file.
    ///
    /// An `Upgrade` field is ignored and the request answered over HTTP/1.1, as RFC 9110
    /// §7.8 lets a server do ("A server MAY ignore a received Upgrade header field"): nomserve
    /// speaks no other protocol, so there is nothing to switch to, and a 426 would demand an
    /// upgrade it cannot perform.
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        _client: IpAddr,
    ) -> Response {
        self.route(request, head, None)
    }

    /// The static files ask `gate` about the file each request resolves to.
    fn handle_gated(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        _client: IpAddr,
        gate: &dyn Gate,
    ) -> Response {
        self.route(request, head, Some(gate))
    }
}

impl Router {
    /// [`Router::handle`], the static files asking `gate` when there is one.
    fn route(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        gate: Option<&dyn Gate>,
    ) -> Response {
        let uploads = self.uploads.as_ref();
        if !matches!(request.method, Method::Get | Method::Head) {
            if let Some(uploads) = uploads.filter(|uploads| uploads.takes(request)) {
                return uploads.handle(request, gate);
            }
            if let Some(malformed) = uploads.and_then(|uploads| uploads.malformed(request)) {
                return malformed;
            }
            if let Some(allow) = uploads.and_then(|uploads| uploads.allow(request)) {
                return Response::text(405, format!("method not allowed: this takes {allow}\n"))
                    .header("Allow", allow);
            }
            return Response::text(
                405,
                "method not allowed: this server answers GET and HEAD\n",
            )
            .header("Allow", ALLOW);
        }
        match request.target.path() {
            Some("/echo") if self.echo => echo::respond(request, head),
            _ if uploads.is_some_and(|uploads| uploads.is_folder(request)) => {
                upload::page::with_form(self.files.serve(request, gate))
            }
            _ => self.files.serve(request, gate),
        }
    }
}
