//! The http-01 challenge (RFC 8555 §8.3): `/.well-known/acme-challenge/TOKEN` answered with
//! the key authorization the ACME client stored for TOKEN, before the handler it wraps (the
//! redirect to HTTPS) sees the request.
//!
//! The key authorizations are files in the ACME state folder, one per token, so that any
//! instance sharing the folder answers the CA, whichever one ordered.

use super::Handler;
use crate::http::head::RequestHead;
use crate::http::response::{Body, Response};
use nomserve_grammar::{Method, Request};
use std::borrow::Cow;
use std::fs;
use std::net::IpAddr;
use std::path::PathBuf;

/// The path prefix of http-01 challenges (RFC 8555 §8.3).
const PREFIX: &str = "/.well-known/acme-challenge/";

/// Answers http-01 challenges from the key authorizations in a folder, and passes every
/// other request to `inner`.
#[derive(Debug)]
pub struct Http01<H> {
    folder: PathBuf,
    inner: H,
}

impl<H> Http01<H> {
    /// Answers from the files of `folder`, named after their tokens; else `inner` answers.
    pub fn new(folder: PathBuf, inner: H) -> Self {
        Http01 { folder, inner }
    }
}

/// Whether `token` is one the CA can have sent: base64url characters only (RFC 8555 §8.3:
/// "It MUST NOT contain any characters outside the base64url alphabet"), which also keeps
/// it a plain file name.
fn is_token(token: &str) -> bool {
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl<H: Handler> Handler for Http01<H> {
    /// A GET or HEAD of a challenge's path is answered `200` with the key authorization as
    /// `application/octet-stream` (RFC 8555 §8.3), or `404` when no challenge has that
    /// token: the CA then fails the validation at once, where a redirect to HTTPS would
    /// have it try a port that may not serve the challenge.
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
    ) -> Response {
        let token = request.target.path().and_then(|p| p.strip_prefix(PREFIX));
        let (Some(token), Method::Get | Method::Head) = (token, request.method) else {
            return self.inner.handle(request, head, client);
        };
        let stored = is_token(token)
            .then(|| fs::read_to_string(self.folder.join(token)).ok())
            .flatten();
        match stored {
            Some(key_authorization) => Response::new(200)
                .header("Content-Type", "application/octet-stream")
                .body(Body::Bytes(Cow::Owned(key_authorization.into_bytes()))),
            None => Response::text(404, "No such ACME challenge.\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::https::RedirectToHttps;
    use crate::handlers::testing::{answer, body, header};

    fn handler() -> (tempfile::TempDir, Http01<RedirectToHttps>) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("tok_en-1"), "tok_en-1.thumb").unwrap();
        let inner = RedirectToHttps::new(443, "127.0.0.1".to_string());
        let handler = Http01::new(dir.path().to_path_buf(), inner);
        (dir, handler)
    }

    #[test]
    fn a_stored_token_is_answered_with_its_key_authorization() {
        let (_dir, handler) = handler();
        let head = "GET /.well-known/acme-challenge/tok_en-1 HTTP/1.1\r\nHost: a.test\r\n\r\n";
        let response = answer(&handler, head);
        assert_eq!(response.status, 200);
        assert_eq!(body(&response), b"tok_en-1.thumb");
    }

    #[test]
    fn an_unknown_or_unsafe_token_is_not_found_rather_than_redirected() {
        let (_dir, handler) = handler();
        for path in ["other", "..%2Fescape", ""] {
            let head =
                format!("GET /.well-known/acme-challenge/{path} HTTP/1.1\r\nHost: a.test\r\n\r\n");
            assert_eq!(answer(&handler, &head).status, 404, "{path}");
        }
    }

    #[test]
    fn every_other_request_goes_to_the_inner_handler() {
        let (_dir, handler) = handler();
        let response = answer(&handler, "GET /page HTTP/1.1\r\nHost: a.test\r\n\r\n");
        assert_eq!(response.status, 308);
        assert_eq!(header(&response, "Location"), Some("https://a.test/page"));
        let post = "POST /.well-known/acme-challenge/tok_en-1 HTTP/1.1\r\nHost: a.test\r\n\
                    Content-Length: 0\r\n\r\n";
        assert_eq!(answer(&handler, post).status, 308);
    }
}
