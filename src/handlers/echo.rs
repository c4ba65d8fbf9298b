//! `/echo`: the request head as received, then its query parameters.
//!
//! Seed tickets 5 and 8: the body is the raw request head, byte for byte (request-line,
//! field lines, the empty line), followed by one `name: value` line per query parameter,
//! form-decoded, in order, repeats kept.

use crate::http::head::RequestHead;
use crate::http::response::{Body, Response};
use nomserve_grammar::{Request, parse_query};
use std::borrow::Cow;

/// The echo of `request`, whose head is `head` (as received over HTTP/1.1): 200, `text/plain; charset=utf-8`.
///
/// The body reflects every field, `Cookie` and `Authorization` included, so it must stay
/// with the client that sent them: `Cache-Control: no-store` keeps every cache from storing
/// it (RFC 9111 §5.2.2.5), and `X-Content-Type-Options: nosniff` keeps a browser from taking
/// reflected bytes for HTML or script.
pub fn respond(request: &Request<'_, '_>, head: &RequestHead<'_>) -> Response {
    Response::new(200)
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .body(Body::Bytes(Cow::Owned(echo_body(
            &head.bytes(),
            request.target.query(),
        ))))
}

/// `head`, then `name: value\n` for each parameter of `query`.
fn echo_body(head: &[u8], query: Option<&str>) -> Vec<u8> {
    let mut body = head.to_vec();
    for (name, value) in query.into_iter().flat_map(parse_query) {
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(b": ");
        body.extend_from_slice(value.as_bytes());
        body.push(b'\n');
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_then_one_line_per_parameter() {
        let head = b"GET /echo?name=test HTTP/1.1\r\nHost: x\r\n\r\n";
        let body = echo_body(head, Some("name=test&a=1+2&a=%C3%A9"));
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "GET /echo?name=test HTTP/1.1\r\nHost: x\r\n\r\nname: test\na: 1 2\na: é\n"
        );
    }

    #[test]
    fn no_query_is_the_head_alone() {
        let head = b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(echo_body(head, None), head);
    }
}
