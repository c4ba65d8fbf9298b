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
    pub pieces: VecDeque<Piece>,
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
        access_log::record(peer, self.info.as_ref(), self.status, self.body_sent);
        metrics::count_h2_request();
    }
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

/// The pieces of `body` to send as DATA.
pub fn pieces(body: Body) -> VecDeque<Piece> {
    let mut pieces = VecDeque::new();
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
    pieces.retain(|piece| match piece {
        Piece::Cow(bytes, _) => !bytes.is_empty(),
        Piece::Shared(bytes, _) => !bytes.is_empty(),
        Piece::File { len, .. } => *len > 0,
        Piece::Stream { .. } => true,
    });
    pieces
}
