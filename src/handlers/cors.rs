//! `--cors ORIGIN`: cross-origin reads of the site, as the Fetch standard's CORS protocol
//! asks of a server (<https://fetch.spec.whatwg.org/#http-cors-protocol>).
//!
//! A request whose `Origin` is allowed gets `Access-Control-Allow-Origin`: the origin
//! itself, or `*` when any origin is allowed. Every response says `Vary: Origin`, with or
//! without the grant, since a shared cache must not give one origin's answer (or the answer
//! to a request without `Origin`) to another (RFC 9110 §12.5.5). A preflight (`OPTIONS` with
//! `Origin` and `Access-Control-Request-Method`) from an allowed origin is answered here,
//! before the handlers it wraps (so before any authentication: a browser never sends
//! credentials with a preflight), with `204`, the methods the server has (`GET, HEAD`), the
//! request headers the browser asked for, and how long to remember the answer. Requests from
//! other origins pass as they are, with nothing added but `Vary`: the browser then refuses
//! the response to the page.

use super::{ALLOW, Handler};
use crate::http::head::RequestHead;
use crate::http::response::Response;
use nomserve_grammar::{Method, Request, is_token};
use std::net::IpAddr;

/// How long a browser may reuse a preflight's answer: two hours, Chromium's ceiling
/// (Firefox allows a day; a longer value would only be cut down).
const MAX_AGE: &str = "7200";

/// Adds CORS fields to the responses of the handler it wraps, and answers preflights.
#[derive(Debug)]
pub struct Cors<H> {
    inner: H,
    /// The allowed origins, as configured (`scheme://host[:port]`).
    origins: Vec<String>,
    /// `*` was among them: every origin is allowed, and told so with `*`.
    any: bool,
}

impl<H: Handler> Cors<H> {
    /// `inner`, with cross-origin requests allowed from `origins` (each an origin, or `*`).
    pub fn new(inner: H, origins: Vec<String>) -> Self {
        let any = origins.iter().any(|origin| origin == "*");
        Cors {
            inner,
            origins,
            any,
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request from `origin`, if it is
    /// allowed. Origins are compared ASCII case-insensitively: browsers serialise them in
    /// lower case (RFC 6454 §6.2), a configured one may not be.
    fn allow(&self, origin: &str) -> Option<String> {
        if self.any {
            return Some("*".to_string());
        }
        self.origins
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin))
            .then(|| origin.to_string())
    }
}

impl<H: Handler> Handler for Cors<H> {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
    ) -> Response {
        let allowed = request
            .headers
            .get("origin")
            .and_then(|origin| std::str::from_utf8(origin).ok())
            .and_then(|origin| self.allow(origin));
        let Some(allowed) = allowed else {
            return self
                .inner
                .handle(request, head, client)
                .header("Vary", "Origin");
        };
        let preflight = request.method == Method::Options
            && request
                .headers
                .get("access-control-request-method")
                .is_some();
        if !preflight {
            return self
                .inner
                .handle(request, head, client)
                .header("Access-Control-Allow-Origin", allowed)
                .header("Vary", "Origin");
        }
        let response = Response::new(204)
            .header("Access-Control-Allow-Origin", allowed)
            .header("Access-Control-Allow-Methods", ALLOW)
            .header("Access-Control-Max-Age", MAX_AGE)
            .header(
                "Vary",
                "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
            );
        match requested_headers(&request.headers) {
            Some(names) if !names.is_empty() => {
                response.header("Access-Control-Allow-Headers", names)
            }
            _ => response,
        }
    }
}

/// The field names a preflight asks to send (`Access-Control-Request-Headers`, all its field
/// lines), as a list to allow: each a token (RFC 9110 §5.1), joined by `, `. `None` when one
/// is not a token: nothing is allowed then, and the browser refuses the request.
fn requested_headers(headers: &nomserve_grammar::Headers<'_, '_>) -> Option<String> {
    let mut names = String::new();
    for value in headers.get_all("access-control-request-headers") {
        for name in value.split(|&b| b == b',') {
            let name = name.trim_ascii();
            if name.is_empty() {
                continue;
            }
            if !is_token(name) {
                return None;
            }
            if !names.is_empty() {
                names.push_str(", ");
            }
            names.push_str(std::str::from_utf8(name).ok()?);
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::testing::answer;

    /// Answers 200 with `X-Inner: yes`, whatever the request.
    struct Inner;

    impl Handler for Inner {
        fn handle(&self, _: &Request<'_, '_>, _: &RequestHead<'_>, _: IpAddr) -> Response {
            Response::new(200).header("X-Inner", "yes")
        }
    }

    fn field<'r>(response: &'r Response, name: &str) -> Option<&'r str> {
        response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    #[test]
    fn allowed_origins_get_the_grant_and_others_nothing() {
        let cors = Cors::new(Inner, vec!["https://docs.example".to_string()]);
        let ok = answer(
            &cors,
            "GET /a HTTP/1.1\r\nHost: h\r\nOrigin: https://docs.example\r\n\r\n",
        );
        assert_eq!(
            field(&ok, "Access-Control-Allow-Origin"),
            Some("https://docs.example")
        );
        assert_eq!(field(&ok, "Vary"), Some("Origin"));
        assert_eq!(field(&ok, "X-Inner"), Some("yes"));
        for head in [
            "GET /a HTTP/1.1\r\nHost: h\r\nOrigin: https://evil.example\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: h\r\n\r\n",
            "OPTIONS /a HTTP/1.1\r\nHost: h\r\nOrigin: https://evil.example\r\n\
             Access-Control-Request-Method: GET\r\n\r\n",
        ] {
            let other = answer(&cors, head);
            assert_eq!(field(&other, "Access-Control-Allow-Origin"), None, "{head}");
            assert_eq!(field(&other, "X-Inner"), Some("yes"), "{head}");
            assert_eq!(field(&other, "Vary"), Some("Origin"), "{head}");
        }
    }

    #[test]
    fn preflights_are_answered_here() {
        let cors = Cors::new(Inner, vec!["*".to_string()]);
        let response = answer(
            &cors,
            "OPTIONS /api.json HTTP/1.1\r\nHost: h\r\nOrigin: http://a.test\r\n\
             Access-Control-Request-Method: GET\r\n\
             Access-Control-Request-Headers: x-requested-with, content-type\r\n\r\n",
        );
        assert_eq!(response.status, 204);
        assert_eq!(field(&response, "X-Inner"), None);
        assert_eq!(field(&response, "Access-Control-Allow-Origin"), Some("*"));
        assert_eq!(
            field(&response, "Access-Control-Allow-Methods"),
            Some("GET, HEAD")
        );
        assert_eq!(
            field(&response, "Access-Control-Allow-Headers"),
            Some("x-requested-with, content-type")
        );
        assert_eq!(field(&response, "Access-Control-Max-Age"), Some(MAX_AGE));
        let bad = answer(
            &cors,
            "OPTIONS /a HTTP/1.1\r\nHost: h\r\nOrigin: http://a.test\r\n\
             Access-Control-Request-Method: GET\r\n\
             Access-Control-Request-Headers: a b\r\n\r\n",
        );
        assert_eq!(bad.status, 204);
        assert_eq!(field(&bad, "Access-Control-Allow-Headers"), None);
        // OPTIONS without Access-Control-Request-Method is no preflight.
        let plain = answer(
            &cors,
            "OPTIONS /a HTTP/1.1\r\nHost: h\r\nOrigin: http://a.test\r\n\r\n",
        );
        assert_eq!(field(&plain, "X-Inner"), Some("yes"));
    }
}
