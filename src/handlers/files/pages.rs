//! `--error-page CODE=FILE`: the body of an error response taken from a file of the site.
//!
//! Each page is checked when the settings are read (a page that is not a regular file
//! beneath the root refuses the start, or the reload), and opened again for every error it
//! answers, beneath the root as any file is (with dotfiles hidden, a page that a symlink
//! resolves to a dot-name is refused, as a request for it would be; a page named under a
//! dot-directory in the settings is served, since the operator named it): an edited page is
//! served as it is now. If it
//! has gone since, the error keeps the body its handler gave it (and a warning is logged).
//!
//! It covers the errors of the handlers it wraps (the file handler's `400`, `403`, `404`,
//! `412`, `416`, `500` and `503`, the router's `405`), not those the connection layer sends
//! before any handler runs (a malformed request's `400`, `408`, `413`, `431`, and the `503`
//! of a full server): those answer requests that may never have been read whole, and stay
//! short and fixed.
//!
//! A page is a file of the site, so the auth areas guard it as they guard a request for it
//! (by where it resolves, see [`guard`]): a client that may not be served the page gets the
//! error with the body its handler gave it instead, as it would if the page had gone. The
//! page is not refused outright, since the error is the answer the client is owed, nor
//! challenged for, since a `404` that asks for a password would tell what it guards. The
//! pages for `401` and `429` are the exception, served whatever the areas say: they are for
//! clients that have not authenticated, so configuring one says it is theirs to see (and
//! with `--auth-file` there is nowhere outside an area to put it), and checking the
//! credentials of a client that has just failed would run bcrypt again for one wrong
//! password.

use super::open::{Beneath, Failure};
use super::{describe, guard, mime};
use crate::handlers::{Gate, Handler};
use crate::http::head::RequestHead;
use crate::http::response::{Body, Response};
use nomserve_grammar::Request;
use std::borrow::Cow;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Gives the error responses of the handler it wraps the configured pages as bodies.
#[derive(Debug)]
pub struct ErrorPages<H> {
    inner: H,
    beneath: Beneath,
    /// Each status with its page; the last one given for a status counts.
    pages: Vec<ErrorPage>,
}

/// `--error-page CODE=FILE`: the page whose content answers an error status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPage {
    /// An error status, 400 to 599.
    pub status: u16,
    /// The page, relative to the root.
    pub file: PathBuf,
}

impl<H: Handler> ErrorPages<H> {
    /// `inner`, whose errors get the `pages` (status and file relative to `root`, `dotfiles`
    /// served or not as `--dotfiles` says); refuses a page that is not a regular file
    /// beneath the root, saying which and why.
    pub fn new(
        inner: H,
        root: &Path,
        dotfiles: bool,
        pages: Vec<ErrorPage>,
    ) -> Result<Self, String> {
        let beneath = Beneath::open_root(root)
            .map_err(|e| format!("document root {}: {e}", root.display()))?
            .hiding_dotfiles(!dotfiles);
        for ErrorPage { status, file } in &pages {
            let why = match beneath.open(file) {
                Ok(file) if file.metadata().is_ok_and(|meta| meta.is_file()) => continue,
                Ok(_) => "not a file".to_string(),
                Err(failure) => describe(&failure),
            };
            return Err(format!("error page {status}={}: {why}", file.display()));
        }
        Ok(ErrorPages {
            inner,
            beneath,
            pages,
        })
    }

    /// The page for `status`, opened now, if `gate` (when there is one) lets the client be
    /// served it: its body and type.
    fn page(&self, status: u16, gate: Option<&dyn Gate>) -> Option<(Body, Cow<'static, str>)> {
        let page = &self
            .pages
            .iter()
            .rev()
            .find(|page| page.status == status)?
            .file;
        let opened = match gate {
            Some(_) => self.beneath.open_resolved(page),
            None => self.beneath.open(page).map(|file| (file, None)),
        }
        .and_then(|(file, real)| {
            let meta = file.metadata().map_err(Failure::Other)?;
            Ok((file, meta, real))
        });
        match opened {
            Ok((_, meta, real))
                if meta.is_file() && !admitted(gate, status, page, real.as_deref()) =>
            {
                log::debug!(
                    "error page {status}={}: in an area the client has not passed; sending \
                     the plain body",
                    page.display()
                );
                None
            }
            Ok((file, meta, _)) if meta.is_file() => Some((
                Body::File {
                    file: Arc::new(file),
                    offset: 0,
                    len: meta.len(),
                },
                mime::content_type(page),
            )),
            Ok(_) => None,
            Err(failure) => {
                log::warn!(
                    "error page {status}={}: {}; sending the plain body",
                    page.display(),
                    describe(&failure)
                );
                None
            }
        }
    }
}

/// Whether `gate`, if any, lets the client be served the page for `status` at `page`, which
/// is at `real` when a symlink led there: the pages for `401` and `429` always (see the
/// module's documentation), others if the client passes every area that guards them.
fn admitted(gate: Option<&dyn Gate>, status: u16, page: &Path, real: Option<&Path>) -> bool {
    let Some(gate) = gate.filter(|_| !matches!(status, 401 | 429)) else {
        return true;
    };
    let mut names = Vec::with_capacity(2);
    guard::file_names(real.unwrap_or(page), &mut names);
    names.iter().all(|name| gate.shows(name))
}

impl<H: Handler> Handler for ErrorPages<H> {
    /// A response of a status with a page keeps its status and fields but for its
    /// Content-Type, which becomes the page's, and its body, which becomes the page (when
    /// the gate of the handler inside, if any, lets the client be served it). Other
    /// responses pass as they are.
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
    ) -> Response {
        let mut response = self.inner.handle(request, head, client);
        if response.status < 400 {
            return response;
        }
        let gate = self.inner.gate(request, client);
        let page = self.page(response.status, gate.as_deref());
        if let Some(ticket) = gate.and_then(|gate| gate.pending()) {
            // Whether the page may be shown waits for a password check: asked again then.
            return response.pending(ticket);
        }
        let Some((body, content_type)) = page else {
            return response;
        };
        response
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("Content-Type"));
        response.header("Content-Type", content_type).body(body)
    }
}
