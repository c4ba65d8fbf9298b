//! What a connection has to send: the bytes and file regions of its responses, in order,
//! with how far the socket has taken them.
//!
//! The writer queues whole responses here; the transport takes the front item, writes what
//! the socket accepts and reports the count back ([`Output::advance`]). Consecutive bytes
//! (the heads and in-memory bodies of pipelined responses) share one buffer, so they leave in
//! one write. A file region stays a region: the transport sends it with `sendfile(2)`, or
//! reads it through a bounded buffer where the kernel cannot (TLS). A body made as it is sent
//! ([`Body::Stream`](crate::http::response::Body::Stream)) is framed into chunks here
//! ([`chunked`]), one step at a time as the socket takes the last: every transport sees only
//! its bytes.
//!
//! Each queued response is tracked by its length in the stream, so that the access log
//! records it when its last byte is written, with the content bytes that really left (for a
//! chunked body, the message body's bytes, chunk framing included), and a response cut short
//! by a closing connection is logged with what was sent.

mod chunked;

use crate::http::access_log::{self, RequestInfo};
use crate::http::buffers;
use crate::http::response::Source;
use chunked::Chunked;
use std::collections::VecDeque;
use std::fs::File;
use std::net::IpAddr;
use std::sync::Arc;

/// A buffer that held no more than this is kept for the next response instead of freed: it
/// fits any head, an error body or a small file, so a keep-alive connection's steady state
/// allocates nothing for its output. A new buffer starts with this much room.
const KEEP_BUFFER: usize = 16 * 1024;

/// One item of a connection's output.
#[derive(Debug)]
enum Segment {
    /// Bytes in memory, from `written` on still to send.
    Bytes { bytes: Vec<u8>, written: usize },
    /// `len` bytes of `file` from `offset`, still to send.
    File {
        file: Arc<File>,
        offset: u64,
        len: u64,
    },
    /// A body made as it is sent, in chunks.
    Stream(Box<Chunked>),
}

/// What the transport writes next.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    /// These bytes; `more` says more follows at once (send with `MSG_MORE`): a file region
    /// or a streamed body, so the head shares a segment with the body's first bytes, or the
    /// connection's end, so the last bytes share a segment with the FIN.
    Bytes { bytes: &'a [u8], more: bool },
    /// `len` bytes of `file` from `offset`.
    File {
        /// The file (shared: a transport may keep it until it has read the region).
        file: &'a Arc<File>,
        /// Where to start.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
}

/// A response whose bytes are in the queue.
#[derive(Debug)]
struct InFlight {
    /// Stream bytes of this response not written yet.
    left: u64,
    /// Bytes of its head (status line and fields).
    head_len: u64,
    /// Its whole length: head and content.
    total: u64,
    /// What the access log records of it; `None` for an interim response (100 Continue),
    /// which is not logged.
    log: Option<LogEntry>,
}

/// A final response, as the access log records it.
#[derive(Debug)]
pub struct LogEntry {
    /// The status sent.
    pub status: u16,
    /// The request, as logged (`None`: no request was read, or logging is off).
    pub info: Option<RequestInfo>,
}

/// A connection's queued output.
#[derive(Debug, Default)]
pub struct Output {
    segments: VecDeque<Segment>,
    responses: VecDeque<InFlight>,
    /// Bytes queued and not yet written.
    queued: u64,
    /// An emptied buffer kept for the next response.
    spare: Vec<u8>,
    /// Responses are not recorded (see [`Output::set_unrecorded`]).
    unrecorded: bool,
}

impl Output {
    /// Whether everything queued has been written.
    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    /// Bytes queued and not yet written.
    pub fn queued(&self) -> u64 {
        self.queued
    }

    /// Whether the front segment is the last one queued: once it is written, the output is.
    pub fn front_is_last(&self) -> bool {
        self.segments.len() == 1
    }

    /// Whether a file region or a streamed body is queued (then no more responses are queued
    /// behind it before the socket has taken it: their length is unbounded).
    pub fn has_file(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| matches!(segment, Segment::File { .. } | Segment::Stream(_)))
    }

    /// The buffer the next bytes are appended to: the last segment's, if it holds bytes.
    pub fn bytes_mut(&mut self) -> &mut Vec<u8> {
        if !matches!(self.segments.back(), Some(Segment::Bytes { .. })) {
            let bytes = std::mem::take(&mut self.spare);
            self.segments
                .push_back(Segment::Bytes { bytes, written: 0 });
        }
        match self.segments.back_mut() {
            Some(Segment::Bytes { bytes, .. }) => bytes,
            // Pushed just above when the back was not a bytes segment.
            _ => unreachable!("the back segment holds bytes"),
        }
    }

    /// Appends `bytes`.
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        self.bytes_mut().extend_from_slice(bytes);
    }

    /// Appends `len` bytes of `file` from `offset`.
    pub fn push_file(&mut self, file: Arc<File>, offset: u64, len: u64) {
        if len > 0 {
            self.segments.push_back(Segment::File { file, offset, len });
        }
    }

    /// Appends the body `source` makes, framed in chunks (RFC 9112 §7.1); returns the count of
    /// bytes its first step framed. The later steps are made as the socket takes the earlier
    /// ones, and counted into the response queued last (nothing is queued behind it, see
    /// [`Output::has_file`]).
    pub fn push_stream(&mut self, source: Box<dyn Source>) -> u64 {
        let chunked = Box::new(Chunked::new(source));
        let framed = chunked.framed_len();
        self.segments.push_back(Segment::Stream(chunked));
        framed
    }

    /// Records that the last `total` bytes appended (`head_len` of them the head) are one
    /// response, logged as `log` once written (`None`: an interim response, not logged; nor
    /// is any response of an unrecorded connection).
    pub fn track(&mut self, total: u64, head_len: u64, log: Option<LogEntry>) {
        self.queued += total;
        self.responses.push_back(InFlight {
            left: total,
            head_len,
            total,
            log: log.filter(|_| !self.unrecorded),
        });
    }

    /// From now on, no response is recorded: neither access-logged nor counted in the
    /// metrics (the metrics listener's own).
    pub fn set_unrecorded(&mut self) {
        self.unrecorded = true;
    }

    /// The next thing to write; `None` when everything is written, or when a streamed body
    /// failed and cannot be finished: then the connection must close.
    pub fn front(&self) -> Option<Item<'_>> {
        match self.segments.front()? {
            Segment::Bytes { bytes, written } => Some(Item::Bytes {
                bytes: bytes.get(*written..).unwrap_or_default(),
                more: matches!(
                    self.segments.get(1),
                    Some(Segment::File { .. } | Segment::Stream(_))
                ),
            }),
            Segment::Stream(chunked) => Some(Item::Bytes {
                bytes: chunked.pending()?,
                more: false,
            }),
            Segment::File { file, offset, len } => Some(Item::File {
                file,
                offset: *offset,
                len: *len,
            }),
        }
    }

    /// Takes `n` bytes off the front (the socket accepted them), and logs each response
    /// whose last byte they were, as sent to `peer`. A streamed body whose bytes are all
    /// taken makes its next step here.
    pub fn advance(&mut self, mut n: u64, peer: IpAddr) {
        self.queued = self.queued.saturating_sub(n);
        let mut left = n;
        let mut grown = 0;
        while let Some(segment) = self.segments.front_mut() {
            let done = match segment {
                Segment::Bytes { bytes, written } => {
                    let rest = (bytes.len() - *written) as u64;
                    let take = rest.min(left);
                    // `take` is at most the rest of an in-memory buffer, a usize.
                    *written += usize::try_from(take).unwrap_or(usize::MAX);
                    left -= take;
                    *written >= bytes.len()
                }
                Segment::File { offset, len, .. } => {
                    let take = (*len).min(left);
                    *offset += take;
                    *len -= take;
                    left -= take;
                    *len == 0
                }
                Segment::Stream(chunked) => {
                    let (take, done) = chunked.advance(left, &mut grown);
                    left -= take;
                    done
                }
            };
            // A segment not done took all that was left.
            if !done {
                break;
            }
            if let Some(Segment::Bytes { mut bytes, .. }) = self.segments.pop_front() {
                if bytes.capacity() <= KEEP_BUFFER {
                    bytes.clear();
                    self.spare = bytes;
                }
            }
        }
        if grown > 0 {
            self.queued += grown;
            if let Some(streamed) = self.responses.back_mut() {
                streamed.left += grown;
                streamed.total += grown;
            }
        }
        while n > 0 {
            let Some(response) = self.responses.front_mut() else {
                break;
            };
            let take = response.left.min(n);
            response.left -= take;
            n -= take;
            if response.left == 0 {
                if let Some(response) = self.responses.pop_front() {
                    record(peer, response);
                }
            }
        }
    }

    /// Drops what was not written (the connection is closing) and logs each response cut
    /// short with the content bytes that did leave.
    pub fn abandon(&mut self, peer: IpAddr) {
        self.segments.clear();
        self.queued = 0;
        for response in self.responses.drain(..) {
            record(peer, response);
        }
    }

    /// Gives the kept buffer back to the thread's buffers: an idle connection holds no
    /// output memory.
    pub fn release(&mut self) {
        buffers::give(std::mem::take(&mut self.spare));
    }
}

/// Logs `response` (if it is a final response) with the content bytes written of it.
fn record(peer: IpAddr, response: InFlight) {
    if let Some(log) = response.log {
        let sent = response.total - response.left;
        let body = sent.saturating_sub(response.head_len);
        access_log::record(peer, log.info.as_ref(), log.status, body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    fn front_bytes(output: &Output) -> Vec<u8> {
        match output.front() {
            Some(Item::Bytes { bytes, .. }) => bytes.to_vec(),
            other => panic!("expected bytes, got {other:?}"),
        }
    }

    #[test]
    fn consecutive_bytes_share_one_buffer_and_leave_in_order() {
        let mut output = Output::default();
        output.push_bytes(b"first ");
        output.track(6, 6, None);
        output.push_bytes(b"second");
        output.track(6, 6, None);
        assert_eq!(output.queued(), 12);
        assert_eq!(front_bytes(&output), b"first second");
        output.advance(4, PEER);
        assert_eq!(front_bytes(&output), b"t second");
        output.advance(8, PEER);
        assert!(output.is_empty());
        assert!(output.front().is_none());
        assert_eq!(output.queued(), 0);
    }

    #[test]
    fn a_file_region_follows_its_head_and_advances_by_what_was_sent() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        let mut output = Output::default();
        output.push_bytes(b"HEAD");
        output.push_file(Arc::new(file), 2, 6);
        output.push_bytes(b"TAIL");
        output.track(14, 4, None);
        assert!(output.has_file());
        assert!(matches!(
            output.front(),
            Some(Item::Bytes { more: true, .. })
        ));
        output.advance(4, PEER);
        match output.front() {
            Some(Item::File { offset, len, .. }) => assert_eq!((offset, len), (2, 6)),
            other => panic!("expected the file, got {other:?}"),
        }
        output.advance(5, PEER);
        match output.front() {
            Some(Item::File { offset, len, .. }) => assert_eq!((offset, len), (7, 1)),
            other => panic!("expected the file's rest, got {other:?}"),
        }
        output.advance(1, PEER);
        assert!(!output.has_file());
        assert_eq!(front_bytes(&output), b"TAIL");
        output.advance(4, PEER);
        assert!(output.is_empty());
    }

    #[test]
    fn an_empty_file_region_is_not_queued() {
        let mut output = Output::default();
        output.push_file(Arc::new(tempfile::tempfile().unwrap()), 0, 0);
        assert!(output.is_empty());
    }

    #[test]
    fn abandoning_clears_the_queue() {
        let mut output = Output::default();
        output.push_bytes(b"abc");
        output.track(3, 3, None);
        output.abandon(PEER);
        assert!(output.is_empty());
        assert_eq!(output.queued(), 0);
    }

    /// Makes `left` steps of `step` bytes each, counting the calls, then ends (or fails).
    struct Counting {
        left: usize,
        fail: bool,
        calls: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl Source for Counting {
        fn fill(&mut self, out: &mut Vec<u8>) -> std::io::Result<bool> {
            self.calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if self.left == 0 {
                return match self.fail {
                    true => Err(std::io::Error::other("shrank")),
                    false => Ok(true),
                };
            }
            self.left -= 1;
            out.extend_from_slice(&[b'x'; 10]);
            Ok(false)
        }
    }

    #[test]
    fn a_streamed_body_is_made_as_the_socket_takes_it() {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let made = || calls.load(std::sync::atomic::Ordering::Relaxed);
        let mut output = Output::default();
        output.push_bytes(b"HEAD");
        let first = output.push_stream(Box::new(Counting {
            left: 3,
            fail: false,
            calls: Arc::clone(&calls),
        }));
        // One step made and framed: "A" CRLF, ten bytes, CRLF.
        assert_eq!((first, made()), (15, 1));
        output.track(4 + first, 4, None);
        assert!(output.has_file());
        assert!(matches!(
            output.front(),
            Some(Item::Bytes { more: true, .. })
        ));
        output.advance(4, PEER);
        assert_eq!(front_bytes(&output), b"A\r\nxxxxxxxxxx\r\n");
        // Part of the chunk taken: nothing more is made.
        output.advance(5, PEER);
        assert_eq!((made(), output.queued()), (1, 10));
        // All of it taken: the next step, counted into the queue.
        output.advance(10, PEER);
        assert_eq!((made(), output.queued()), (2, 15));
        output.advance(15, PEER);
        output.advance(15, PEER);
        // The source ended: the last chunk follows the last step.
        assert_eq!(front_bytes(&output), b"0\r\n\r\n");
        assert_eq!(made(), 4);
        output.advance(5, PEER);
        assert!(output.is_empty());
        assert!(!output.has_file());
        assert_eq!(output.queued(), 0);
        assert!(output.responses.is_empty());
    }

    #[test]
    fn a_failed_stream_leaves_nothing_to_write_but_the_queue_not_empty() {
        let mut output = Output::default();
        let first = output.push_stream(Box::new(Counting {
            left: 1,
            fail: true,
            calls: Arc::default(),
        }));
        output.track(first, 0, None);
        output.advance(first, PEER);
        // The connection must close: the body cannot be finished.
        assert!(output.front().is_none());
        assert!(!output.is_empty());
        output.abandon(PEER);
        assert!(output.is_empty());
    }
}
