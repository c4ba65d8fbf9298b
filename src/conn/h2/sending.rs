//! A response on its way out of an HTTP/2 stream: what is left of its body, in pieces the
//! send side ([`super::send`]) cuts into DATA frames, and what the access log records of it
//! once it is sent.

use crate::http::access_log::{self, RequestInfo};
use crate::http::response::{Body, Source};
use crate::metrics;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::net::IpAddr;
use std::sync::Arc;

/// A response being sent: the rest of its body, and what the access log records of it.
#[derive(Debug)]
pub struct Sending {
    /// What is left of the body.
    pub pieces: Pieces,
    /// The response's status.
    pub status: u16,
    /// The access log's view of the request.
    pub info: Option<RequestInfo>,
    /// Content bytes sent so far.
    pub body_sent: u64,
}

impl Sending {
    /// Records the response, with the content bytes sent, as sent to `peer`.
    pub fn record(&self, peer: IpAddr) {
        record(peer, self.info.as_ref(), self.status, self.body_sent);
    }
}

/// Records a response of `status` with `body_sent` content bytes, as sent to `peer`, for
/// the request `info` describes.
pub fn record(peer: IpAddr, info: Option<&RequestInfo>, status: u16, body_sent: u64) {
    access_log::record(peer, info, status, body_sent);
    metrics::count_h2_request();
}

/// Part of a body still to send.
pub enum Piece {
    Cow(Cow<'static, [u8]>, usize),
    Shared(Arc<[u8]>, usize),
    File {
        file: Arc<File>,
        offset: u64,
        len: u64,
    },
    Stream {
        source: Box<dyn Source>,
        made: Vec<u8>,
        at: usize,
        done: bool,
    },
}

impl std::fmt::Debug for Piece {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Piece")
    }
}

/// What is left of a body, in order. Most bodies are one piece, held without an allocation;
/// a multipart body's further pieces wait in a queue.
#[derive(Debug, Default)]
pub struct Pieces {
    first: Option<Piece>,
    rest: VecDeque<Piece>,
}

impl Pieces {
    /// Whether the body is all sent.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    /// The piece to send next.
    pub fn front_mut(&mut self) -> Option<&mut Piece> {
        self.first.as_mut()
    }

    /// Drops the piece sent in full, for the next one.
    pub fn pop_front(&mut self) {
        self.first = self.rest.pop_front();
    }

    /// Appends `piece` unless it is empty.
    fn push_back(&mut self, piece: Piece) {
        let empty = match &piece {
            Piece::Cow(bytes, _) => bytes.is_empty(),
            Piece::Shared(bytes, _) => bytes.is_empty(),
            Piece::File { len, .. } => *len == 0,
            Piece::Stream { .. } => false,
        };
        if empty {
            return;
        }
        if self.first.is_none() {
            self.first = Some(piece);
        } else {
            self.rest.push_back(piece);
        }
    }
}

/// The pieces of `body` to send as DATA.
pub fn pieces(body: Body) -> Pieces {
    let mut pieces = Pieces::default();
    match body {
        Body::Empty => {}
        Body::Bytes(bytes) => pieces.push_back(Piece::Cow(bytes, 0)),
        Body::Shared(bytes) => pieces.push_back(Piece::Shared(bytes, 0)),
        Body::File { file, offset, len } => pieces.push_back(Piece::File { file, offset, len }),
        Body::Multipart { file, parts, tail } => {
            for (head, offset, len) in parts {
                pieces.push_back(Piece::Cow(Cow::Owned(head), 0));
                pieces.push_back(Piece::File {
                    file: Arc::clone(&file),
                    offset,
                    len,
                });
            }
            pieces.push_back(Piece::Cow(Cow::Owned(tail), 0));
        }
        Body::Stream(source) => pieces.push_back(Piece::Stream {
            source,
            made: Vec::new(),
            at: 0,
            done: false,
        }),
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What is left of `pieces`, taken in turn: a byte piece's bytes, a file piece's range.
    fn taken(mut pieces: Pieces) -> Vec<String> {
        let mut seen = Vec::new();
        while let Some(piece) = pieces.front_mut() {
            seen.push(match piece {
                Piece::Cow(bytes, _) => String::from_utf8_lossy(bytes).into_owned(),
                Piece::File { offset, len, .. } => format!("{offset}+{len}"),
                _ => "other".to_string(),
            });
            pieces.pop_front();
        }
        seen
    }

    #[test]
    fn a_multipart_body_goes_in_order_and_empty_pieces_are_left_out() {
        let file = Arc::new(tempfile::tempfile().unwrap());
        let body = Body::Multipart {
            file,
            parts: vec![(b"--a\r\n\r\n".to_vec(), 0, 2), (Vec::new(), 5, 0)],
            tail: b"--a--\r\n".to_vec(),
        };
        assert_eq!(taken(pieces(body)), ["--a\r\n\r\n", "0+2", "--a--\r\n"]);
        assert!(pieces(Body::Empty).is_empty());
        assert!(pieces(Body::Bytes(Cow::Borrowed(b""))).is_empty());
        assert_eq!(taken(pieces(Body::Bytes(Cow::Borrowed(b"x")))), ["x"]);
    }
}
