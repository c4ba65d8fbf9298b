//! Whether a connection stays open after a response, and what it reads of the request before
//! (RFC 9112 §9.3): HTTP/1.1's part of an exchange that `exchange` answered.

use super::Close;
use super::body::BodyReader;
use super::exchange::{Exchange, Prepared};
use crate::http::writer::Framing;
use nomserve_grammar::Request;

/// How the connection goes on from a request's answer.
#[derive(Debug)]
pub struct Persistence {
    /// The body to read before responding; `None`: none, or it is not read (then `close`).
    pub body: Option<BodyReader>,
    /// Whether (and why) the connection closes after the response.
    pub close: Option<Close>,
}

impl Persistence {
    /// After `prepared`, the answer to `request`: a refused request's body is not read, and
    /// its connection closes for an error; any other request's body is read as its framing
    /// says (RFC 9112 §6.3), and its connection closes if it did not ask for persistence
    /// (RFC 9112 §9.3).
    pub fn of(request: &Request<'_, '_>, prepared: &Prepared) -> Persistence {
        if prepared.refused {
            return Persistence {
                body: None,
                close: Some(Close::Error),
            };
        }
        Persistence {
            body: BodyReader::new(request.framing),
            close: (!request.wants_keep_alive()).then_some(Close::Requested),
        }
    }
}

/// How a response to `exchange` is framed when the connection closes after it for `close`
/// (`None`: it stays open): `Connection: close` before a close (RFC 9112 §9.6),
/// `Connection: keep-alive` to an HTTP/1.0 client it stays open for (RFC 9112 §C.2.2).
pub fn framing(exchange: &Exchange, close: Option<Close>) -> Framing {
    Framing {
        head_request: exchange.head_request,
        close: close.is_some(),
        http10_keep_alive: close.is_none() && exchange.http10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::Response;
    use nomserve_grammar::{Header, Limits, Parsed, parse_request};

    /// How the connection goes on after `head`'s request, answered (`refused` or not).
    fn after(head: &str, refused: bool) -> Persistence {
        let mut fields = [Header::EMPTY; 8];
        let parsed = parse_request(head.as_bytes(), &mut fields, &Limits::default());
        let Ok(Parsed::Complete { value, .. }) = parsed else {
            panic!("{head:?} is a complete head");
        };
        let prepared = Prepared {
            response: Response::text(200, "x"),
            exchange: Exchange::unparsed(b""),
            send_continue: false,
            refused,
        };
        Persistence::of(&value, &prepared)
    }

    #[test]
    fn a_refused_request_is_not_read_and_closes_for_an_error() {
        let after = after(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n",
            true,
        );
        assert!(after.body.is_none());
        assert_eq!(after.close, Some(Close::Error));
    }

    #[test]
    fn an_answered_request_reads_its_body_and_keeps_what_it_asked_for() {
        let kept = after(
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            false,
        );
        assert!(kept.body.is_some());
        assert_eq!(kept.close, None);
        // RFC 9112 §9.3: `Connection: close`, or HTTP/1.0 without keep-alive, ends it.
        for head in [
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            "GET / HTTP/1.0\r\n\r\n",
        ] {
            let ended = after(head, false);
            assert!(ended.body.is_none());
            assert_eq!(ended.close, Some(Close::Requested), "{head:?}");
        }
    }

    #[test]
    fn framing_follows_the_close() {
        let mut exchange = Exchange::unparsed(b"");
        exchange.http10 = true;
        let open = framing(&exchange, None);
        assert!(!open.close && open.http10_keep_alive && !open.head_request);
        let closing = framing(&exchange, Some(Close::Requested));
        assert!(closing.close && !closing.http10_keep_alive);
    }
}
