//! Whether a connection stays open after a response, and what it reads of the request before
//! (RFC 9112 §9.3): HTTP/1.1's part of an exchange that `exchange` answered.

use super::body::BodyReader;
use super::exchange::{Exchange, Prepared};
use crate::http::writer::Framing;
use nomserve_grammar::Request;

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
    /// says, and its connection closes if it did not ask for persistence.
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
/// (`None`: it stays open).
pub fn framing(exchange: &Exchange, close: Option<Close>) -> Framing {
    Framing {
        head_request: exchange.head_request,
        close: close.is_some(),
        http10_keep_alive: close.is_none() && exchange.http10,
    }
}
