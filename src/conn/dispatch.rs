//! From a parsed request head to a response: the expectation, the handler (with its panics
//! contained), how the body is read, and whether the connection stays open.

use crate::conn::Context;
use crate::conn::body::{BodyReader, MAX_DISCARDED_BODY};
use crate::http::access_log::{self, RequestInfo};
use crate::http::error_page;
use crate::http::negotiate::prefers_html;
use crate::http::response::Response;
use nomserve_grammar::{BodyFraming, Method, Request, Version};
use std::any::Any;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Why the server closes a connection after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Close {
    /// The request did not ask for persistence (RFC 9112 §9.3), or the server is shutting
    /// down; the framing is intact.
    Requested,
    /// The framing of what the client sends next is in doubt (a malformed or unfinished
    /// request, a body not read): RFC 9112 §9.3 leaves closing as the only safe course.
    Error,
}

/// What the connection keeps of a request to frame and log its response.
#[derive(Debug)]
pub struct Exchange {
    /// A HEAD request: the response has no content.
    pub head_request: bool,
    /// HTTP/1.0, where persistence must be confirmed with `Connection: keep-alive`.
    pub http10: bool,
    /// The access log's view of the request (`None` when access logging is off).
    pub info: Option<RequestInfo>,
}

impl Exchange {
    /// The exchange for bytes that did not parse as a request.
    pub fn unparsed(bytes: &[u8]) -> Exchange {
        Exchange {
            head_request: false,
            http10: false,
            info: RequestInfo::unparsed(bytes),
        }
    }
}

/// Everything decided from a request head before its body is read.
#[derive(Debug)]
pub struct Prepared {
    /// The answer.
    pub response: Response,
    /// How to frame and log it.
    pub exchange: Exchange,
    /// The body to read before responding; `None`: none, or it is not read (then `close`).
    pub body: Option<BodyReader>,
    /// Send `100 Continue` before reading the body.
    pub send_continue: bool,
    /// Whether (and why) the connection closes after the response.
    pub close: Option<Close>,
}

/// Decides what to do with `request` (whose raw head is `head`) from `peer`: the response of
/// `ctx`'s handler, or 417 for an expectation the server cannot meet, 413 at once for a body
/// announced with `100-continue` that is over the limit, 500 if the handler panicked. The
/// client the handler is told of, and the access log records, is the peer or the one a
/// trusted proxy names ([`TrustedProxies::client`]). Logs the raw head and its fields at
/// debug level.
pub fn prepare(
    request: &Request<'_, '_>,
    head: &[u8],
    peer: SocketAddr,
    ctx: &Context<'_>,
) -> Prepared {
    let client = ctx.trusted.client(peer.ip(), &request.headers);
    if log::log_enabled!(log::Level::Debug) {
        log::debug!(
            "{peer}: request head ({} bytes): \"{}\"",
            head.len(),
            head.escape_ascii()
        );
        for field in request.headers.iter() {
            log::debug!(
                "{peer}: field {}: {}",
                field.name,
                field.value.escape_ascii()
            );
        }
    }
    let exchange = Exchange {
        head_request: request.method == Method::Head,
        http10: request.version < Version::HTTP_11,
        info: RequestInfo::parsed(head, request, client),
    };
    // An error for a browser is a page (see `error_page`), for anyone else its text. The
    // Accept field is read only for an error: a success costs nothing here.
    let for_them = |response: Response| {
        if response.status >= 400 && prefers_html(&request.headers) {
            error_page::for_people(response)
        } else {
            response
        }
    };
    let refuse = |response: Response, exchange: Exchange| Prepared {
        response: for_them(response),
        exchange,
        body: None,
        send_continue: false,
        close: Some(Close::Error),
    };
    let expectation = expectation(request);
    if expectation == Expectation::Unsupported {
        let response = Response::text(417, "the only expectation supported is 100-continue\n");
        return refuse(response, exchange);
    }
    // RFC 9110 §10.1.1: a server that will not accept the body answers with a final status
    // instead of 100 (Continue), and the client does not send it.
    if let BodyFraming::ContentLength(length) = request.framing {
        if expectation == Expectation::Continue && length > MAX_DISCARDED_BODY {
            let response = Response::text(
                413,
                format!("request body larger than {MAX_DISCARDED_BODY} bytes\n"),
            );
            return refuse(response, exchange);
        }
    }
    let close = (!request.wants_keep_alive()).then_some(Close::Requested);
    match catch_unwind(AssertUnwindSafe(|| {
        ctx.handler.handle(request, head, client)
    })) {
        Ok(response) => Prepared {
            response: for_them(response),
            exchange,
            body: BodyReader::new(request.framing),
            send_continue: expectation == Expectation::Continue,
            close,
        },
        Err(payload) => {
            let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
            log::error!(
                "{peer}: handler panicked on \"{}\": {}; answered 500",
                access_log::escape(line),
                panic_message(payload.as_ref())
            );
            refuse(Response::text(500, "internal server error\n"), exchange)
        }
    }
}

/// The text a panic carried, if it is a string.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

/// What a request's Expect field asks of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expectation {
    /// Nothing (no Expect field, or 100-continue in an HTTP/1.0 request).
    None,
    /// `100-continue`: send 100 (Continue) before reading the body.
    Continue,
    /// Something else: answer 417.
    Unsupported,
}

/// The expectation of `request`, from every Expect field line.
///
/// `Expect = #expectation`,
/// `expectation = token [ "=" ( token / quoted-string ) parameters ]` (RFC 9110 §10.1.1).
/// `100-continue` (case-insensitive) is the only expectation defined; any other member
/// earns 417 (RFC 9110 §10.1.1, §15.5.18). Empty list members are skipped (RFC 9110 §5.6.1).
/// Members are split at every comma, even inside a quoted-string: a member holding a quote
/// is not `100-continue` either way, so the answer (417) does not change. A 100-continue
/// expectation in an HTTP/1.0 request is ignored, as RFC 9110 §10.1.1 requires (an HTTP/1.0
/// client cannot understand a 1xx, RFC 9110 §15.2).
fn expectation(request: &Request<'_, '_>) -> Expectation {
    let mut found = Expectation::None;
    for value in request.headers.get_all("Expect") {
        for member in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            if member.is_empty() {
                continue;
            }
            if !member.eq_ignore_ascii_case(b"100-continue") {
                return Expectation::Unsupported;
            }
            found = Expectation::Continue;
        }
    }
    if request.version < Version::HTTP_11 {
        Expectation::None
    } else {
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::{ConnectionOptions, Header, Headers, RequestTarget};

    fn request<'b, 'h>(version: Version, fields: &'h [Header<'b>]) -> Request<'b, 'h> {
        Request {
            method: Method::Post,
            target: RequestTarget::Origin {
                path: "/",
                query: None,
            },
            version,
            headers: Headers::new(fields),
            host: Some("x"),
            framing: BodyFraming::ContentLength(3),
            connection: ConnectionOptions::default(),
        }
    }

    fn expect(version: Version, values: &[&'static str]) -> Expectation {
        let fields: Vec<Header<'static>> = values
            .iter()
            .map(|v| Header {
                name: "expect",
                value: v.as_bytes(),
            })
            .collect();
        expectation(&request(version, &fields))
    }

    #[test]
    fn expectations() {
        assert_eq!(expect(Version::HTTP_11, &[]), Expectation::None);
        assert_eq!(
            expect(Version::HTTP_11, &["100-continue"]),
            Expectation::Continue
        );
        assert_eq!(
            expect(Version::HTTP_11, &["100-Continue"]),
            Expectation::Continue
        );
        assert_eq!(
            expect(Version::HTTP_11, &[", 100-continue ,"]),
            Expectation::Continue
        );
        assert_eq!(expect(Version::HTTP_11, &[""]), Expectation::None);
        assert_eq!(
            expect(Version::HTTP_11, &["200-ok"]),
            Expectation::Unsupported
        );
        assert_eq!(
            expect(Version::HTTP_11, &["100-continue", "x=\"a,b\""]),
            Expectation::Unsupported
        );
        // RFC 9110 §10.1.1: ignored from HTTP/1.0; other expectations still fail.
        assert_eq!(
            expect(Version::HTTP_10, &["100-continue"]),
            Expectation::None
        );
        assert_eq!(
            expect(Version::HTTP_10, &["bogus"]),
            Expectation::Unsupported
        );
    }

    #[test]
    fn panic_messages() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
        assert_eq!(panic_message(&42), "(no message)");
    }
}
