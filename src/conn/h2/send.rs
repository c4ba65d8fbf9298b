//! The send side: a response's head as HEADERS (and CONTINUATION) frames through HPACK,
//! its body as DATA frames within the client's windows (RFC 9113 §5.2, §6.9), the streams
//! with data served round-robin, so that a large download does not hold up the small
//! responses after it.
//!
//! A file body is read with `pread` straight into the output, one frame at a time, never
//! more than the windows allow: a connection holds at most [`super::OUTPUT_HIGH`] of it.
//! Whether `sendfile` would pay on h2c (over TLS the kernel cannot encrypt, so the copy is
//! needed anyway): it would spare copying 16 KiB per DATA frame, but take a system call per
//! frame (header, then payload) where one `send` now takes up to [`super::OUTPUT_HIGH`] of
//! frames at once. Estimated, not measured: on loopback a 16 KiB copy costs about as much
//! as a system call, so the two cancel out and it is not built. A server behind a proxy
//! speaking h2c is the case where it could matter; HTTP/1.1 keeps `sendfile`.

use super::H2Conn;
use super::stream::Answer;
use crate::conn::exchange::Exchange;
use crate::http::access_log::{self, RequestInfo};
use crate::http::clock;
use crate::http::response::{Body, Response, Source};
use crate::metrics;
use nomserve_grammar::{FrameHeader, H2ErrorCode, write_rst_stream};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::ErrorKind;
use std::net::IpAddr;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::Instant;

/// The Server field value (RFC 9110 §10.2.4), as HTTP/1.1 sends it.
const SERVER: &str = concat!("nomserve/", env!("CARGO_PKG_VERSION"));

/// Fields that HTTP/2 forbids (RFC 9113 §8.2.2) or that the connection sets itself: a
/// handler's are left out.
const LEFT_OUT: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "date",
    "server",
];

/// A response's header fields, in order, names lowercase.
type Fields<'a> = Vec<(Cow<'a, [u8]>, Cow<'a, [u8]>)>;

/// A response being sent: the rest of its body, and what the access log records of it.
#[derive(Debug)]
pub struct Sending {
    pieces: VecDeque<Piece>,
    status: u16,
    info: Option<RequestInfo>,
    body_sent: u64,
}

impl Sending {
    /// Records the response, with the content bytes sent, as sent to `peer`.
    pub fn record(&self, peer: IpAddr) {
        access_log::record(peer, self.info.as_ref(), self.status, self.body_sent);
        metrics::count_h2_request();
    }
}

/// Part of a body still to send.
enum Piece {
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
        self.start_output(now);
        let sending = self.head(id, response, exchange);
        self.stats.responses += 1;
        if sending.pieces.is_empty() {
            self.finish(id, &sending);
            return;
        }
        if let Some(stream) = self.streams.get_mut(&id) {
            stream.answer = Answer::Sending(Box::new(sending));
            self.ready.push_back(id);
        }
    }

    /// Queues the HEADERS (and CONTINUATION) frames of `response` on stream `id`; returns
    /// its body, to send.
    fn head(&mut self, id: u32, response: Response, exchange: Exchange) -> Sending {
        let status = response.status;
        let status_text = status.to_string();
        let date = clock::http_date();
        let content = has_content(status) && !exchange.head_request;
        let mut fields: Fields<'_> = vec![
            (
                Cow::Borrowed(b":status"),
                Cow::Borrowed(status_text.as_bytes()),
            ),
            (Cow::Borrowed(b"date"), Cow::Borrowed(&date[..])),
            (Cow::Borrowed(b"server"), Cow::Borrowed(SERVER.as_bytes())),
        ];
        for (name, value) in &response.headers {
            push_field(&mut fields, name.as_bytes(), value.as_bytes());
        }
        if let Some(lines) = &response.fields {
            for line in lines.split(|&b| b == b'\n') {
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if let Some(colon) = line.iter().position(|&b| b == b':') {
                    let value = line.get(colon + 1..).unwrap_or_default().trim_ascii();
                    push_field(&mut fields, &line[..colon], value);
                }
            }
        }
        let length = response.body.len().to_string();
        // RFC 9110 §8.6: as HTTP/1.1 sends it, for HEAD too; none for 1xx, 204, 304, nor
        // for a body made as it is sent.
        if has_content(status) && !matches!(response.body, Body::Stream(_)) {
            fields.push((
                Cow::Borrowed(b"content-length"),
                Cow::Borrowed(length.as_bytes()),
            ));
        }
        let mut block = Vec::with_capacity(256);
        self.encoder.encode(
            fields.iter().map(|(name, value)| (&name[..], &value[..])),
            &mut block,
        );
        let pieces = if content {
            pieces(response.body)
        } else {
            VecDeque::new()
        };
        let max = self.peer_max_frame as usize;
        let mut chunks = block.chunks(max.max(1)).peekable();
        let first = chunks.next().unwrap_or_default();
        let end_headers = chunks.peek().is_none();
        FrameHeader::headers(id, first.len() as u32, pieces.is_empty(), end_headers)
            .write(&mut self.out);
        self.out.extend_from_slice(first);
        while let Some(chunk) = chunks.next() {
            let end = chunks.peek().is_none();
            FrameHeader::continuation(id, chunk.len() as u32, end).write(&mut self.out);
            self.out.extend_from_slice(chunk);
        }
        Sending {
            pieces,
            status,
            info: exchange.info,
            body_sent: 0,
        }
    }

    /// The response of stream `id` is queued in full: it is recorded, and the stream closed
    /// (with RST_STREAM(NO_ERROR) if the request is still arriving, RFC 9113 §8.1).
    fn finish(&mut self, id: u32, sending: &Sending) {
        self.record(sending);
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

    /// Queues DATA frames, a stream at a time in turn, while the output is short and the
    /// connection's window open.
    pub(super) fn fill(&mut self) {
        while self.pending_out() < super::OUTPUT_HIGH && self.send_window > 0 {
            let Some(at) = self.next_ready() else {
                return;
            };
            let Some(id) = self.ready.remove(at) else {
                return;
            };
            match self.data_frame(id) {
                Turn::More => self.ready.push_back(id),
                Turn::Blocked => {}
                Turn::ConnectionBlocked => {
                    self.ready.insert(at, id);
                    return;
                }
                Turn::Done => {
                    if let Some(stream) = self.streams.get_mut(&id) {
                        if let Answer::Sending(sending) =
                            std::mem::replace(&mut stream.answer, Answer::Sent)
                        {
                            self.finish(id, &sending);
                        }
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

    /// Where, in the streams with data, the next to send is: the first of the most urgent
    /// (RFC 9218 §4.1); a stream goes to the back once it sent a frame, so streams of one
    /// urgency take turns.
    fn next_ready(&self) -> Option<usize> {
        let urgency = |id: &u32| self.streams.get(id).map_or(u8::MAX, |s| s.urgency);
        self.ready
            .iter()
            .enumerate()
            .min_by_key(|&(_, id)| urgency(id))
            .map(|(at, _)| at)
    }

    /// Puts the streams whose window reopened back in turn.
    pub(super) fn requeue_blocked(&mut self) {
        let ids: Vec<u32> = self
            .streams
            .iter()
            .filter(|(id, stream)| {
                stream.has_data() && stream.send_window > 0 && !self.ready.contains(id)
            })
            .map(|(&id, _)| id)
            .collect();
        self.ready.extend(ids);
    }

    /// Queues one DATA frame of stream `id`'s body, as large as the windows, the client's
    /// frame size and the piece at hand allow.
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
                let want = usize::try_from(*len).map_or(limit, |len| len.min(limit));
                match read_file(out, file, *offset, want) {
                    Some(n) => {
                        *offset += n as u64;
                        *len -= n as u64;
                        (n, *len == 0)
                    }
                    None => {
                        out.truncate(at);
                        return Turn::Failed;
                    }
                }
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

/// Copies at most `limit` bytes of `bytes` from `from` into `out`; returns the count and
/// whether `bytes` is used up.
fn copy(out: &mut Vec<u8>, bytes: &[u8], from: &mut usize, limit: usize) -> (usize, bool) {
    let rest = bytes.get(*from..).unwrap_or_default();
    let n = rest.len().min(limit);
    out.extend_from_slice(&rest[..n]);
    *from += n;
    (n, *from >= bytes.len())
}

/// Reads up to `want` bytes of `file` at `offset` onto `out`; the count, or `None` when
/// the file ends early (it shrank) or a read fails.
fn read_file(out: &mut Vec<u8>, file: &File, offset: u64, want: usize) -> Option<usize> {
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

/// Adds a handler's field, its name lowercase (RFC 9113 §8.2.1), unless HTTP/2 forbids it
/// or the connection sets it.
fn push_field<'a>(fields: &mut Fields<'a>, name: &'a [u8], value: &'a [u8]) {
    if LEFT_OUT
        .iter()
        .any(|left| left.as_bytes().eq_ignore_ascii_case(name))
    {
        return;
    }
    let name = if name.iter().any(u8::is_ascii_uppercase) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    };
    fields.push((name, Cow::Borrowed(value)));
}

/// The pieces of `body` to send as DATA.
fn pieces(body: Body) -> VecDeque<Piece> {
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
