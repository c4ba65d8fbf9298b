//! A request's exchange, apart from how HTTP/1.1 frames it: from a parsed request to the
//! response its handler gives (the expectation, the handler with its panics contained, an
//! error page for a browser), the responses the connection makes itself (with HSTS over
//! TLS), and what the access log records of the request. HTTP/1.1's part (finding the head,
//! reading the body, keep-alive or close, the lingering close) is the state machine's and
//! `persistence`'s; a stream of another protocol would call these the same way.

use crate::conn::client::TrustedProxies;
use crate::handlers::Handler;
use crate::http::access_log::{self, RequestInfo};
use crate::http::error_page;
use crate::http::head::RequestHead;
use crate::http::negotiate::{prefers_html, refused_head_prefers_html};
use crate::http::response::Response;
use nomserve_grammar::{BodyFraming, Error, Method, Request, Version};
use std::any::Any;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::Waker;

/// What a connection needs from the server to process requests.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Answers requests.
    pub handler: &'a dyn Handler,
    /// The peers whose Forwarded and X-Forwarded-For fields name the client.
    pub trusted: &'a TrustedProxies,
    /// Whether the server is shutting down: responses then close their connections.
    pub shutting_down: bool,
    /// Makes a waker that gives this connection a turn: a parked request registers it with
    /// the ticket it waits for.
    pub waker: &'a dyn Fn() -> Waker,
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
    /// Send `100 Continue` before reading the body.
    pub send_continue: bool,
    /// The answer refuses the request before its body is read (417, an early 413, a
    /// handler's panic): the body is not read, and what the client sends after it cannot be
    /// told apart from it.
    pub refused: bool,
}

/// Decides what to do with `request` (whose head is `head`) from `peer`: the response of
/// `ctx`'s handler (which may take the body, [`Response::accepting`]), or 417 for an
/// expectation the server cannot meet, 500 if the handler panicked. A body announced with
/// `100-continue` that the handler does not take is refused at once when the answer is an
/// error or the body is over the discarded limit (413). The client the handler is told of,
/// and the access log records, is the peer or the one a trusted proxy names
/// ([`TrustedProxies::client`]). Logs the raw head and its fields at debug level.
pub fn prepare(
    request: &Request<'_, '_>,
    head: &RequestHead<'_>,
    peer: SocketAddr,
    ctx: &Context<'_>,
) -> Prepared {
    let client = ctx.trusted.client(peer.ip(), &request.headers);
    if log::log_enabled!(log::Level::Debug) {
        let head = head.bytes();
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
            error_page::for_people(response, request.target.path())
        } else {
            response
        }
    };
    let refuse = |response: Response, exchange: Exchange| Prepared {
        response: for_them(response),
        exchange,
        send_continue: false,
        refused: true,
    };
    let expectation = expectation(request);
    if expectation == Expectation::Unsupported {
        let response = Response::text(417, "the only expectation supported is 100-continue\n");
        return refuse(response, exchange);
    }
    let response = match catch_unwind(AssertUnwindSafe(|| {
        ctx.handler.handle(request, head, client)
    })) {
        Ok(response) => response,
        Err(payload) => {
            log::error!(
                "{peer}: handler panicked on \"{}\": {}; answered 500",
                access_log::escape(&head.request_line()),
                panic_message(payload.as_ref())
            );
            return refuse(Response::text(500, "internal server error\n"), exchange);
        }
    };
    let continues = expectation == Expectation::Continue;
    // RFC 9110 §10.1.1: 100 (Continue) is sent only for a body the server will read. A
    // handler that takes the body (a sink) gets it whatever its length; for any other
    // answer the body is read only to be discarded, so a refusal (4xx, 5xx), or a body
    // announced over what is discarded, is answered at once, and the client, which waits
    // for the 100, does not send it. The connection closes after such an answer: whether
    // the client sends the body anyway cannot be known (RFC 9110 §10.1.1, "SHOULD indicate
    // whether it intends to close the connection").
    if continues && response.sink.is_none() {
        let over = matches!(request.framing, BodyFraming::ContentLength(length) if length > MAX_DISCARDED_BODY);
        if over {
            return refuse(body_too_large(), exchange);
        }
        if response.status >= 400 && request.framing != BodyFraming::None {
            return refuse(response, exchange);
        }
    }
    Prepared {
        response: for_them(response),
        exchange,
        send_continue: continues,
        refused: false,
    }
}

/// 503 (Service Unavailable, RFC 9110 §15.6.4) with `Retry-After: 1` and the sentence
/// `message`: the answer of a connection the server will not serve.
pub fn refused(message: &str) -> Response {
    Response::text(503, format!("{message}\n")).header("Retry-After", "1")
}

/// 408 (Request Timeout, RFC 9110 §15.5.9): a head unfinished at its deadline.
pub fn head_timed_out() -> Response {
    Response::text(408, "the request head did not arrive in time\n")
}

/// A malformed request's answer: its error's status and sentence.
pub fn malformed(e: &Error) -> Response {
    Response::text(e.status(), format!("{e}\n"))
}

/// [`malformed`] for a head that did not parse (`received`, as it arrived): a page for a
/// browser, as far as the refused head tells who sent it (see `error_page`).
pub fn malformed_head(e: &Error, received: &[u8]) -> Response {
    let response = malformed(e);
    if refused_head_prefers_html(received) {
        error_page::for_people(response, None)
    } else {
        response
    }
}

/// The most request-body bytes read and discarded for one request (on any protocol): 1 MiB.
/// Past this a client is sending a body no handler takes, and gets 413 (and on HTTP/1.1 a
/// closed connection).
pub const MAX_DISCARDED_BODY: u64 = 1024 * 1024;

/// 413 (Content Too Large, RFC 9110 §15.5.14): a body past [`MAX_DISCARDED_BODY`].
pub fn body_too_large() -> Response {
    Response::text(
        413,
        format!("request body larger than {MAX_DISCARDED_BODY} bytes\n"),
    )
}

/// A response the connection makes itself, over TLS with `--hsts`: with
/// `Strict-Transport-Security: hsts`, as the handler's responses carry it (RFC 6797 §7.1: on
/// every response over secure transport).
pub fn secured(response: Response, hsts: Option<&Arc<str>>) -> Response {
    match hsts {
        Some(hsts) => response.header("Strict-Transport-Security", Arc::clone(hsts)),
        None => response,
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

    fn field(response: &Response, name: &str) -> Option<String> {
        let mut found = response
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        found.next().map(|(_, value)| value.to_string())
    }

    #[test]
    fn the_connections_own_responses() {
        let refusal = refused("too many connections");
        assert_eq!(refusal.status, 503);
        assert_eq!(field(&refusal, "Retry-After").as_deref(), Some("1"));
        assert_eq!(head_timed_out().status, 408);
        assert_eq!(body_too_large().status, 413);
        let hsts: Arc<str> = Arc::from("max-age=60");
        let secure = secured(head_timed_out(), Some(&hsts));
        assert_eq!(
            field(&secure, "Strict-Transport-Security").as_deref(),
            Some("max-age=60")
        );
        assert_eq!(
            field(
                &secured(head_timed_out(), None),
                "Strict-Transport-Security"
            ),
            None
        );
    }

    #[test]
    fn panic_messages() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
        assert_eq!(panic_message(&42), "(no message)");
    }
}
