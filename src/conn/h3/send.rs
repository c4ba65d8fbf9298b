//! The send side of a request stream: the response's head as one HEADERS frame encoded with
//! QPACK (static table and literals, RFC 9204 §4.5), its body as DATA frames of at most
//! [`DATA_CHUNK`] bytes made as QUIC takes the previous ones, then the stream's end (FIN).
//! Flow control and scheduling between streams are QUIC's: a stream's output is handed to
//! its send buffer, which takes what the client's windows allow.

use super::{DATA_CHUNK, H3Conn};
use crate::conn::exchange::Exchange;
use crate::conn::fields::handler_fields;
use crate::conn::h2::send::{copy, read_file};
use crate::conn::h2::sending::{Piece, Pieces, pieces};
use crate::conn::park::Parked;
use crate::conn::send::SendClock;
use crate::http::access_log::{self, RequestInfo};
use crate::http::clock;
use crate::http::response::{Body, Response};
use crate::metrics;
use nomserve_grammar::{
    DecodedFields, QpackEncoder, write_h3_data_header, write_h3_headers_header,
};
use std::net::IpAddr;
use std::time::Instant;

/// The Server field value (RFC 9110 §10.2.4), as HTTP/1.1 sends it.
const SERVER: &str = concat!("nomserve/", env!("CARGO_PKG_VERSION"));

/// Where a stream's answer stands.
#[derive(Debug)]
pub enum Answer {
    /// No answer yet: the request's HEADERS have not arrived.
    None,
    /// Made, and sent once the request has ended.
    Ready(Response, Exchange),
    /// Waiting for the handler's work; the fields are the request, handled again once done.
    Parked(Box<Parked>, Box<DecodedFields>),
    /// Being sent.
    Sending(Box<Outgoing>),
}

/// A response on its way out of a request stream.
#[derive(Debug)]
pub struct Outgoing {
    /// Frames made and not yet taken by QUIC; `out[..pos]` is taken.
    out: Vec<u8>,
    pos: usize,
    /// What is left of the body.
    pieces: Pieces,
    /// A body piece failed (a file shrank): the stream is reset once `out` is taken.
    pub failed: bool,
    status: u16,
    info: Option<RequestInfo>,
    /// Content bytes framed so far.
    body_sent: u64,
    /// A payload read buffer, reused.
    chunk: Vec<u8>,
}

impl Outgoing {
    /// The output to write, framing body pieces first while less than `high` waits; and
    /// whether the response ends after it.
    pub fn output(&mut self, high: usize) -> (&[u8], bool) {
        while self.out.len() - self.pos < high && !self.pieces.is_empty() && !self.failed {
            self.frame_data();
        }
        let done = self.pieces.is_empty() && !self.failed;
        (self.out.get(self.pos..).unwrap_or_default(), done)
    }

    /// QUIC took `n` bytes of the output.
    pub fn took(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.out.len());
        if self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
        }
    }

    /// Records the response, with the content bytes sent, as sent to `peer`.
    pub fn record(&self, peer: IpAddr) {
        access_log::record(peer, self.info.as_ref(), self.status, self.body_sent);
        metrics::count_h3_request();
    }

    /// Frames one DATA frame of the body's next piece.
    fn frame_data(&mut self) {
        let chunk = &mut self.chunk;
        chunk.clear();
        let (n, piece_done) = match self.pieces.front_mut() {
            None => return,
            Some(Piece::Cow(bytes, from)) => copy(chunk, bytes, from, DATA_CHUNK),
            Some(Piece::Shared(bytes, from)) => copy(chunk, bytes, from, DATA_CHUNK),
            Some(Piece::File { file, offset, len }) => {
                let want = usize::try_from(*len).map_or(DATA_CHUNK, |l| l.min(DATA_CHUNK));
                match read_file(chunk, file, *offset, want) {
                    Some(n) => {
                        *offset += n as u64;
                        *len -= n as u64;
                        (n, *len == 0)
                    }
                    None => {
                        self.failed = true;
                        return;
                    }
                }
            }
            Some(Piece::Stream {
                source,
                made,
                at,
                done,
            }) => {
                if *at == made.len() && !*done {
                    made.clear();
                    *at = 0;
                    match source.fill(made) {
                        Ok(finished) => *done = finished,
                        Err(e) => {
                            log::warn!("a streamed body failed: {e}");
                            self.failed = true;
                            return;
                        }
                    }
                }
                let (n, _) = copy(chunk, made, at, DATA_CHUNK);
                (n, *at == made.len() && *done)
            }
        };
        if piece_done {
            self.pieces.pop_front();
        }
        if n > 0 {
            write_h3_data_header(&mut self.out, n as u64);
            self.out.extend_from_slice(&self.chunk);
            self.body_sent += n as u64;
        }
    }
}

/// Whether responses with `status` carry content (RFC 9110 §6.4.1).
fn has_content(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

impl H3Conn {
    /// Starts sending `response` on stream `id`: its HEADERS frame now, its body as QUIC
    /// takes the frames.
    pub(super) fn start_answer(
        &mut self,
        id: u64,
        response: Response,
        exchange: Exchange,
        now: Instant,
    ) {
        if !self.is_sending() {
            self.send = SendClock::new(now);
        }
        let Some(stream) = self.requests.get_mut(&id) else {
            return;
        };
        let status = response.status;
        let content = has_content(status) && !exchange.head_request;
        // RFC 9110 §8.6: as HTTP/1.1 sends it, for HEAD too; none for 1xx, 204, 304, nor for
        // a body made as it is sent.
        let length = (has_content(status) && !matches!(response.body, Body::Stream(_)))
            .then(|| response.body.len());
        let mut section = Vec::with_capacity(256);
        encode_head(&mut self.encoder, &response, length, &mut section);
        let mut out = Vec::with_capacity(section.len() + 8);
        write_h3_headers_header(&mut out, section.len() as u64);
        out.extend_from_slice(&section);
        let pieces = if content {
            pieces(response.body)
        } else {
            Pieces::default()
        };
        stream.answer = Answer::Sending(Box::new(Outgoing {
            out,
            pos: 0,
            pieces,
            failed: false,
            status,
            info: exchange.info,
            body_sent: 0,
            chunk: Vec::new(),
        }));
    }

    /// QUIC took `n` bytes of stream `id`'s output at `now`.
    pub fn wrote(&mut self, id: u64, n: usize, now: Instant) {
        self.send.took(n as u64, now);
        if let Some(Answer::Sending(outgoing)) = self.requests.get_mut(&id).map(|s| &mut s.answer) {
            outgoing.took(n);
        }
    }

    /// Stream `id`'s response was written in full (FIN queued): it is recorded and the
    /// stream dropped. Returns whether the request was still arriving: the transport then
    /// stops reading it (STOP_SENDING with H3_NO_ERROR, RFC 9114 §4.1.2). A body that could
    /// not be finished resets the stream instead.
    pub fn finished(&mut self, id: u64) -> bool {
        let Some(stream) = self.requests.remove(&id) else {
            return false;
        };
        if let Answer::Sending(outgoing) = &stream.answer {
            if outgoing.failed {
                log::warn!(
                    "{}: a response body could not be finished; stream {id} reset",
                    self.peer
                );
                self.resets
                    .push((id, nomserve_grammar::H3ErrorCode::InternalError));
            } else if !self.unrecorded {
                outgoing.record(self.peer.ip());
            }
        }
        !stream.ended
    }
}

/// Encodes the response's field section: `:status`, Date, Server, the handler's fields
/// (lowercased, RFC 9114 §4.2; connection-specific ones dropped, §4.2), Content-Length.
fn encode_head(
    encoder: &mut QpackEncoder,
    response: &Response,
    length: Option<u64>,
    out: &mut Vec<u8>,
) {
    let mut digits = itoa::Buffer::new();
    encoder.begin(out);
    encoder.field(b":status", digits.format(response.status).as_bytes(), out);
    encoder.field(b"date", &clock::http_date(), out);
    encoder.field(b"server", SERVER.as_bytes(), out);
    handler_fields(response, |_, name, value| encoder.field(name, value, out));
    if let Some(length) = length {
        encoder.field(b"content-length", digits.format(length).as_bytes(), out);
    }
}
