//! The send side: a response's head as HEADERS (and CONTINUATION) frames through HPACK,
//! its body as DATA frames within the client's windows (RFC 9113 §5.2, §6.9), the streams
//! with data served round-robin, so that a large download does not hold up the small
//! responses after it.
//!
//! A file body goes one frame at a time, never more than the windows allow. Each DATA
//! frame's payload is left in the file as a region ([`super::region`]) that the transport
//! reads straight into its staging buffer: [`super::REGION_PAYLOAD`] bytes, so that header
//! and payload fill one TLS record; on h2c the transport gathers several frames for one
//! `send`, their payloads read with one `preadv`. (A `sendfile` per frame would take two
//! system calls per frame, its header's `send` and its payload's; HTTP/1.1 keeps
//! `sendfile`.)

use super::memo::{keep_head, push_file_field, replay_head};
use super::region::Region;
use super::sending::{self, Piece, Pieces, Sending};
use super::stream::Answer;
use super::{H2Conn, REGION_PAYLOAD};
use crate::conn::exchange::Exchange;
use crate::conn::fields::handler_fields;
use crate::http::clock;
use crate::http::response::{Body, Response};
use nomserve_grammar::{
    FRAME_HEADER_LEN, FieldToken, FrameHeader, H2ErrorCode, encode_unindexed, write_rst_stream,
};
use std::cell::Cell;
use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::Instant;

/// The Server field value (RFC 9110 §10.2.4), as HTTP/1.1 sends it.
const SERVER: &str = concat!("nomserve/", env!("CARGO_PKG_VERSION"));

/// What one stream's turn at the output came to.
enum Turn {
    /// A DATA frame was queued; more follows.
    More,
    /// The stream's window is shut.
    Blocked,
    /// The connection's window is shut.
    ConnectionBlocked,
    /// The body's last frame (END_STREAM) was queued.
    Done,
    /// The body cannot be finished (a file shrank, a stream failed).
    Failed,
}

thread_local! {
    /// The Date of the responses made at one `now`, and that `now`.
    static TURN_DATE: Cell<Option<(Instant, [u8; 29])>> = const { Cell::new(None) };
}

/// The Date field value (RFC 9110 §6.6.1, to the second) of a response made at `now`: the
/// clock comes in once per turn of the event loop, so the responses of one turn share one
/// reading of the wall clock.
fn date_at(now: Instant) -> [u8; 29] {
    TURN_DATE.with(|turn| match turn.get() {
        Some((at, date)) if at == now => date,
        _ => {
            let date = clock::http_date();
            turn.set(Some((now, date)));
            date
        }
    })
}

/// Whether responses with `status` carry content (RFC 9110 §6.4.1).
fn has_content(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

impl H2Conn {
    /// Starts sending the answer made for stream `id`: HEADERS now, the body as the
    /// windows allow.
    pub(super) fn start_answer(&mut self, id: u32, now: Instant) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        let Answer::Ready(response, exchange) = std::mem::replace(&mut stream.answer, Answer::None)
        else {
            return;
        };
        self.send_answer(id, response, exchange, now);
    }

    /// Sends `response` on stream `id`, open: HEADERS now, the body as the windows allow.
    pub(super) fn send_answer(
        &mut self,
        id: u32,
        response: Response,
        exchange: Exchange,
        now: Instant,
    ) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        let window = stream.send_window;
        // A handler that took the body answers now that it is through.
        let response = match stream.sink.take() {
            Some(sink) => response.after_body(sink.finish()),
            None => response,
        };
        self.start_output(now);
        let status = response.status;
        let (rest, body_sent) = self.head(id, window, response, exchange.head_request, now);
        self.stats.responses += 1;
        let info = exchange.info;
        let Some(pieces) = rest else {
            // Queued in full: recorded, and the stream closed.
            self.record(info.as_ref(), status, body_sent);
            self.close_sent(id);
            return;
        };
        if let Some(stream) = self.streams.get_mut(&id) {
            stream.answer = Answer::Sending(Sending {
                pieces,
                status,
                info,
                body_sent,
            });
            self.ready.push_back(id, stream.urgency);
        }
    }

    /// Queues `100 (Continue)` on stream `id`, whose handler takes the body the client waits
    /// to send (RFC 9110 §10.1.1): an interim response is a HEADERS frame without END_STREAM
    /// (RFC 9113 §8.1).
    pub(super) fn send_continue(&mut self, id: u32) {
        let start = self.out.len();
        self.out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
        self.encoder.begin(&mut self.out);
        self.encoder.status(100, &mut self.out);
        let len = (self.out.len() - start - FRAME_HEADER_LEN) as u32;
        let header = FrameHeader::headers(id, len, false, true).encode();
        self.out[start..start + FRAME_HEADER_LEN].copy_from_slice(&header);
    }

    /// Queues the HEADERS (and CONTINUATION) frames of `response` on stream `id`, whose
    /// send window is `window`, for a HEAD request if `head_request`; returns what is left
    /// of its body to send (`None`: nothing), and the content bytes queued.
    ///
    /// The header block is encoded straight into the output after room for the HEADERS
    /// frame's header, which is filled in once the block's length is known; only a block
    /// longer than the client's frame size is moved, to be cut into CONTINUATION frames.
    /// A body held in memory that [`H2Conn::fits_now`] goes with it as one DATA frame (with
    /// END_STREAM), and nothing is left to send.
    fn head(
        &mut self,
        id: u32,
        window: i64,
        mut response: Response,
        head_request: bool,
        now: Instant,
    ) -> (Option<Pieces>, u64) {
        let status = response.status;
        let content = has_content(status) && !head_request;
        // RFC 9110 §8.6: as HTTP/1.1 sends it, for HEAD too; none for 1xx, 204, 304, nor
        // for a body made as it is sent.
        let length = (has_content(status) && !matches!(response.body, Body::Stream(_)))
            .then(|| response.body.len());
        let start = self.out.len();
        self.out.extend_from_slice(&[0; FRAME_HEADER_LEN]);
        let out = &mut self.out;
        let encoder = &mut self.encoder;
        encoder.begin(out);
        encoder.status(status, out);
        let date = date_at(now);
        // A cached file's head: the fields as the last head of the same ones went, while
        // that still holds.
        let prepared = response
            .fields
            .as_ref()
            .filter(|_| response.headers.is_empty());
        let generation = encoder.generation();
        if !prepared.is_some_and(|fields| replay_head(&date, fields, generation, out)) {
            let mark = out.len();
            if !encoder.known_field(FieldToken::DATE, b"date", &date, out) {
                encode_unindexed(b"date", &date, out);
            }
            encoder.known_field(FieldToken::SERVER, b"server", SERVER.as_bytes(), out);
            // A file's fields go indexed while that pays, else as literals this thread keeps
            // encoded.
            handler_fields(&response, |token, name, value| {
                if !encoder.known_field(token, name, value, out) {
                    if let Some(name) = token.changing_name() {
                        push_file_field(name, value, out);
                    }
                }
            });
            if let Some(fields) = prepared.filter(|_| encoder.generation() == generation) {
                keep_head(&date, fields, generation, &out[mark..]);
            }
        }
        if let Some(length) = length {
            encoder.content_length(length, out);
        }
        let at_once =
            content && in_memory(&response.body).is_some_and(|bytes| self.fits_now(bytes, window));
        let rest = (content && !at_once)
            .then(|| sending::pieces(std::mem::replace(&mut response.body, Body::Empty)))
            .filter(|pieces| !pieces.is_empty());
        let block_len = self.out.len() - start - FRAME_HEADER_LEN;
        let end_stream = rest.is_none() && !at_once;
        if block_len <= self.peer_max_frame as usize {
            let header = FrameHeader::headers(id, block_len as u32, end_stream, true);
            self.out[start..start + FRAME_HEADER_LEN].copy_from_slice(&header.encode());
        } else {
            let block = self.out.split_off(start + FRAME_HEADER_LEN);
            self.out.truncate(start);
            let mut chunks = block.chunks(self.peer_max_frame as usize).peekable();
            let first = chunks.next().unwrap_or_default();
            FrameHeader::headers(id, first.len() as u32, end_stream, false).write(&mut self.out);
            self.out.extend_from_slice(first);
            while let Some(chunk) = chunks.next() {
                let end = chunks.peek().is_none();
                FrameHeader::continuation(id, chunk.len() as u32, end).write(&mut self.out);
                self.out.extend_from_slice(chunk);
            }
        }
        let mut body_sent = 0;
        if let Some(bytes) = in_memory(&response.body).filter(|_| at_once) {
            FrameHeader::data(id, bytes.len() as u32, true).write(&mut self.out);
            self.out.extend_from_slice(bytes);
            // The stream's window is not counted down: the stream closes with this frame.
            self.send_window -= bytes.len() as i64;
            body_sent = bytes.len() as u64;
        }
        (rest, body_sent)
    }

    /// Whether `body`, held in memory, goes as one DATA frame at once: it is not empty and
    /// within the client's frame size and both windows (RFC 9113 §5.2, §6.9), the output is
    /// short, and no other stream waits for its turn at the output, which it would pass
    /// (RFC 9218 §4.1).
    fn fits_now(&self, body: &[u8], window: i64) -> bool {
        let len = body.len();
        len > 0
            && len <= self.peer_max_frame as usize
            && len as i64 <= window.min(self.send_window)
            && self.pending_out() < super::OUTPUT_HIGH
            && self.ready.is_empty()
    }

    /// Closes stream `id`, whose response is queued in full and recorded (with
    /// RST_STREAM(NO_ERROR) if the request is still arriving, RFC 9113 §8.1).
    fn close_sent(&mut self, id: u32) {
        self.floods.finished = self.floods.finished.saturating_add(1);
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        stream.answer = Answer::Sent;
        if stream.receiving {
            write_rst_stream(&mut self.out, id, H2ErrorCode::NoError);
        }
        self.close_stream(id);
    }

    /// Queues DATA frames, a stream at a time in turn, while the output is short, the
    /// connection's window open, and no file region waits for the transport (one at a time:
    /// the next DATA is made once it is taken).
    pub(super) fn fill(&mut self) {
        while self.region.is_none()
            && self.pending_out() < super::OUTPUT_HIGH
            && self.send_window > 0
        {
            let Some((id, urgency)) = self.ready.pop() else {
                return;
            };
            match self.data_frame(id) {
                Turn::More => self.ready.push_back(id, urgency),
                Turn::Blocked => {}
                Turn::ConnectionBlocked => {
                    self.ready.push_front(id, urgency);
                    return;
                }
                Turn::Done => {
                    // Recorded in place: the answer is not moved out of the stream to be.
                    if let Some(Answer::Sending(sending)) =
                        self.streams.get(&id).map(|stream| &stream.answer)
                    {
                        self.record(sending.info.as_ref(), sending.status, sending.body_sent);
                        self.close_sent(id);
                    }
                }
                Turn::Failed => {
                    log::warn!(
                        "{}: a response body could not be finished; stream {id} reset",
                        self.peer
                    );
                    self.stream_error(id, H2ErrorCode::InternalError, "body unfinished");
                }
            }
        }
    }

    /// Puts the streams whose window reopened back in turn.
    pub(super) fn requeue_blocked(&mut self) {
        let ids: Vec<(u32, u8)> = self
            .streams
            .iter()
            .filter(|(_, stream)| stream.has_data() && stream.send_window > 0)
            .map(|(&id, stream)| (id, stream.urgency))
            .collect();
        for (id, urgency) in ids {
            if !self.ready.contains(id, urgency) {
                self.ready.push_back(id, urgency);
            }
        }
    }

    /// Queues one DATA frame of stream `id`'s body, as large as the windows, the client's
    /// frame size and the piece at hand allow (a file's, which goes as a region, at most
    /// [`REGION_PAYLOAD`]).
    fn data_frame(&mut self, id: u32) -> Turn {
        let Some(stream) = self.streams.get_mut(&id) else {
            return Turn::Blocked;
        };
        let Answer::Sending(sending) = &mut stream.answer else {
            return Turn::Blocked;
        };
        if stream.send_window <= 0 {
            return Turn::Blocked;
        }
        if self.send_window <= 0 {
            return Turn::ConnectionBlocked;
        }
        let limit = (self.peer_max_frame as i64)
            .min(stream.send_window)
            .min(self.send_window) as usize;
        let out = &mut self.out;
        let at = out.len();
        FrameHeader::data(id, 0, false).write(out);
        let (n, piece_done) = match sending.pieces.front_mut() {
            None => (0, true),
            Some(Piece::Cow(bytes, from)) => copy(out, bytes, from, limit),
            Some(Piece::Shared(bytes, from)) => copy(out, bytes, from, limit),
            Some(Piece::File { file, offset, len }) => {
                // The payload stays in the file; the transport reads it after the header.
                let n = usize::try_from(*len).map_or(limit, |len| len.min(limit));
                let n = n.min(REGION_PAYLOAD);
                self.region = Some(Region {
                    at: out.len(),
                    file: Arc::clone(file),
                    offset: *offset,
                    len: n as u64,
                });
                *offset += n as u64;
                *len -= n as u64;
                (n, *len == 0)
            }
            Some(Piece::Stream {
                source,
                made,
                at: from,
                done,
            }) => {
                if *from == made.len() && !*done {
                    made.clear();
                    *from = 0;
                    match source.fill(made) {
                        Ok(finished) => *done = finished,
                        Err(e) => {
                            log::warn!("a streamed body failed: {e}");
                            out.truncate(at);
                            return Turn::Failed;
                        }
                    }
                }
                let (n, _) = copy(out, made, from, limit);
                (n, *from == made.len() && *done)
            }
        };
        if piece_done {
            sending.pieces.pop_front();
        }
        let end = sending.pieces.is_empty();
        if n == 0 && !end {
            // A stream source that made nothing this step: nothing to frame yet.
            out.truncate(at);
            return Turn::More;
        }
        let header = FrameHeader::data(id, n as u32, end).encode();
        out[at..at + header.len()].copy_from_slice(&header);
        sending.body_sent += n as u64;
        stream.send_window -= n as i64;
        self.send_window -= n as i64;
        if end {
            Turn::Done
        } else if stream.send_window <= 0 {
            Turn::Blocked
        } else {
            Turn::More
        }
    }
}

/// The bytes of `body` when it is held in memory.
fn in_memory(body: &Body) -> Option<&[u8]> {
    match body {
        Body::Bytes(bytes) => Some(bytes),
        Body::Shared(bytes) => Some(bytes),
        _ => None,
    }
}

/// Copies at most `limit` bytes of `bytes` from `from` into `out`; returns the count and
/// whether `bytes` is used up.
pub(in crate::conn) fn copy(
    out: &mut Vec<u8>,
    bytes: &[u8],
    from: &mut usize,
    limit: usize,
) -> (usize, bool) {
    let rest = bytes.get(*from..).unwrap_or_default();
    let n = rest.len().min(limit);
    out.extend_from_slice(&rest[..n]);
    *from += n;
    (n, *from >= bytes.len())
}

/// Reads up to `want` bytes of `file` at `offset` onto `out`; the count, or `None` when
/// the file ends early (it shrank) or a read fails.
pub(in crate::conn) fn read_file(
    out: &mut Vec<u8>,
    file: &File,
    offset: u64,
    want: usize,
) -> Option<usize> {
    let start = out.len();
    out.resize(start + want, 0);
    loop {
        match file.read_at(&mut out[start..], offset) {
            Ok(0) if want > 0 => {
                log::warn!("a file ended early (it shrank while being sent)");
                return None;
            }
            Ok(n) => {
                out.truncate(start + n);
                return Some(n);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => {
                log::warn!("reading a file to send failed: {e}");
                return None;
            }
        }
    }
}
