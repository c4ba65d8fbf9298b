//! One HTTP/3 connection's requests (RFC 9114), without QUIC: a state machine that is given
//! the bytes each QUIC stream delivered and says what to write on each, so that it is tested
//! transition by transition with plain buffers. The QUIC connection under it (the server's
//! `quic` driver) owns the packets, the streams' flow control, loss recovery and the idle
//! timeout.
//!
//! ```text
//!   our control stream: type 0x00, SETTINGS ─────────────── GOAWAY(next id) on shutdown
//!   client control stream: type, SETTINGS first, then GOAWAY / MAX_PUSH_ID / unknown
//!   QPACK encoder/decoder streams (RFC 9204 §4.2): fed to the decoder / encoder
//!   request stream: HEADERS ──▶ Request ──▶ handler ──▶ HEADERS (QPACK) + DATA..., FIN
//!                   [DATA...] [trailers]   (the body is counted and discarded)
//! ```
//!
//! Requests go through the same exchange as HTTP/1.1 and HTTP/2 ([`super::exchange`]): the
//! grammar's `parse_h3_request` maps the decoded field section to the same typed `Request`.
//!
//! **QPACK, decided**: we advertise SETTINGS_QPACK_MAX_TABLE_CAPACITY 0 and
//! SETTINGS_QPACK_BLOCKED_STREAMS 0 (RFC 9204 §5), so the client's encoder uses the static
//! table and literals only. No connection then holds a dynamic table of up to the capacity
//! for each client, no request can be blocked waiting for an encoder-stream insert (RFC 9204
//! §2.1.2: the head-of-line blocking HTTP/3 exists to avoid), and neither QPACK stream of ours
//! is needed (RFC 9204 §4.2 lets an endpoint skip them then). What the client loses is
//! compression of its repeated request fields (cookies, user agent): some tens of bytes a
//! request on a link that carries the response bodies of a static site.

mod request;
mod send;
#[cfg(test)]
mod tests;
mod uni;

use super::Timeouts;
use super::exchange::Context;
use super::send::SendClock;
use crate::metrics;
use nomserve_grammar::{
    DecodedFields, H3ErrorCode, H3Setting, Limits, QpackDecoder, QpackEncoder, UniStreamType,
    write_h3_goaway, write_h3_settings, write_varint,
};
use request::RequestStream;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use uni::UniStream;

/// Output a request stream holds before more of its body is framed: enough for QUIC to fill
/// its packets, little enough per stream.
pub const STREAM_HIGH: usize = 64 * 1024;

/// The largest DATA frame made, so that a body is read a bounded piece at a time.
pub const DATA_CHUNK: usize = 16 * 1024;

/// Whether QUIC stream `id` was opened by the client (RFC 9000 §2.1: bit 0 clear).
pub fn client_initiated(id: u64) -> bool {
    id & 1 == 0
}

/// Whether QUIC stream `id` is bidirectional (RFC 9000 §2.1: bit 1 clear).
pub fn bidirectional(id: u64) -> bool {
    id & 2 == 0
}

/// A connection error (RFC 9114 §8): the QUIC connection is closed with this code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionError {
    /// The application error code.
    pub code: H3ErrorCode,
    /// Why, for the CONNECTION_CLOSE reason phrase and the debug log.
    pub why: String,
}

/// An HTTP/3 connection's application state, without its QUIC connection.
#[derive(Debug)]
pub struct H3Conn {
    peer: SocketAddr,
    timeouts: Timeouts,
    hsts: Option<Arc<str>>,
    unrecorded: bool,
    /// Bytes of our control stream not yet taken by QUIC.
    control: Vec<u8>,
    /// The request streams open, by QUIC stream id.
    requests: BTreeMap<u64, RequestStream>,
    /// The client's unidirectional streams, by id.
    uni: BTreeMap<u64, UniStream>,
    decoder: QpackDecoder,
    encoder: QpackEncoder,
    /// The last decoded field section (its buffer reused).
    fields: DecodedFields,
    limits: Limits,
    /// Request streams to reset and stop reading, with the code (stream errors, §8).
    resets: Vec<(u64, H3ErrorCode)>,
    /// The connection error that ends the connection, once one happened.
    error: Option<ConnectionError>,
    /// The first request stream id not served: GOAWAY names it (§5.2); `None` until sent.
    goaway: Option<u64>,
    /// One past the highest request stream id seen.
    next_request: u64,
    /// The send timeout and minimum rate's clocks, running while a response is being sent:
    /// progress is QUIC taking response bytes, which it does only as the client
    /// acknowledges what it holds (its send buffer and the client's flow-control windows
    /// are bounded).
    send: SendClock,
}

impl H3Conn {
    /// A new HTTP/3 connection from `peer`: our control stream's type and SETTINGS are
    /// queued at once (RFC 9114 §6.2.1: SETTINGS first).
    pub fn new(peer: SocketAddr, timeouts: Timeouts) -> H3Conn {
        let limits = Limits::default();
        let mut control = Vec::new();
        write_varint(&mut control, UniStreamType::Control.wire());
        write_h3_settings(
            &mut control,
            &[
                H3Setting::QpackMaxTableCapacity(0),
                H3Setting::QpackBlockedStreams(0),
                H3Setting::MaxFieldSectionSize(limits.max_head as u64),
            ],
        );
        metrics::count_h3_connection();
        H3Conn {
            peer,
            timeouts,
            hsts: None,
            unrecorded: false,
            control,
            requests: BTreeMap::new(),
            uni: BTreeMap::new(),
            decoder: QpackDecoder::new(0, 0),
            encoder: QpackEncoder::new(),
            fields: DecodedFields::new(),
            limits,
            resets: Vec::new(),
            error: None,
            goaway: None,
            next_request: 0,
            send: SendClock::new(Instant::now()),
        }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Moves the connection to the client's new address (a migration).
    pub fn set_peer(&mut self, peer: SocketAddr) {
        self.peer = peer;
    }

    /// With `--hsts`: the responses the connection makes itself carry it.
    pub fn set_hsts(&mut self, hsts: Option<Arc<str>>) {
        self.hsts = hsts;
    }

    /// The connection's exchanges are neither access-logged nor counted in the metrics.
    pub fn set_unrecorded(&mut self) {
        self.unrecorded = true;
    }

    /// Our control stream's bytes not yet written.
    pub fn control_output(&self) -> &[u8] {
        &self.control
    }

    /// QUIC took the first `n` bytes of the control stream's output.
    pub fn control_wrote(&mut self, n: usize) {
        self.control.drain(..n.min(self.control.len()));
    }

    /// Takes the connection error, if one happened: the QUIC connection closes with it.
    pub fn take_error(&mut self) -> Option<ConnectionError> {
        self.error.take()
    }

    /// Takes the request streams to reset (and stop reading) with their codes.
    pub fn take_resets(&mut self) -> Vec<(u64, H3ErrorCode)> {
        std::mem::take(&mut self.resets)
    }

    /// Whether GOAWAY was sent and every request it let in is answered: the connection can
    /// close with H3_NO_ERROR.
    pub fn is_drained(&self) -> bool {
        self.goaway.is_some() && self.requests.is_empty() && self.control.is_empty()
    }

    /// The server shuts down: GOAWAY with the first request stream id not served (RFC 9114
    /// §5.2); the requests already taken are answered.
    pub fn begin_shutdown(&mut self) {
        if self.goaway.is_none() {
            self.goaway = Some(self.next_request);
            write_h3_goaway(&mut self.control, self.next_request);
        }
    }

    /// Bytes arrived on stream `id` (`fin`: the stream ended after them), at `now`.
    pub fn received(&mut self, id: u64, bytes: &[u8], fin: bool, ctx: &Context<'_>, now: Instant) {
        if self.error.is_some() || !client_initiated(id) {
            return;
        }
        if bidirectional(id) {
            self.request_bytes(id, bytes, fin, ctx, now);
        } else {
            self.uni_bytes(id, bytes, fin);
        }
    }

    /// The client reset stream `id` (RESET_STREAM) or stopped reading it (STOP_SENDING): its
    /// request is dropped. A critical stream of the client's ends the connection (§6.2.1).
    pub fn stream_reset(&mut self, id: u64) {
        if let Some(stream) = self.requests.remove(&id) {
            stream.abandon(self.peer.ip(), self.unrecorded);
        } else if self.uni.get(&id).is_some_and(UniStream::is_critical) {
            self.fail(
                H3ErrorCode::ClosedCriticalStream,
                "a critical stream was reset",
            );
        }
    }

    /// Records a connection error: nothing more is read, and the connection closes.
    fn fail(&mut self, code: H3ErrorCode, why: &str) {
        log::debug!(
            "{}: HTTP/3 connection error {}: {why}",
            self.peer,
            code.name()
        );
        for (_, stream) in std::mem::take(&mut self.requests) {
            stream.abandon(self.peer.ip(), self.unrecorded);
        }
        if self.error.is_none() {
            self.error = Some(ConnectionError {
                code,
                why: why.to_string(),
            });
        }
    }

    /// A stream error on request stream `id` (§8): the stream is reset and dropped.
    fn stream_error(&mut self, id: u64, code: H3ErrorCode, why: &str) {
        log::debug!(
            "{}: HTTP/3 stream {id} error {}: {why}",
            self.peer,
            code.name()
        );
        if let Some(stream) = self.requests.remove(&id) {
            stream.abandon(self.peer.ip(), self.unrecorded);
        }
        self.resets.push((id, code));
    }

    /// Whether a request waits for its handler's work ([`H3Conn::wake_parked`] answers it).
    pub fn has_parked(&self) -> bool {
        self.requests.values().any(RequestStream::is_parked)
    }

    /// Whether a response is being sent.
    fn is_sending(&self) -> bool {
        self.requests.values().any(RequestStream::is_sending)
    }

    /// When [`H3Conn::expire`] must be called: the earliest request or parked deadline, or
    /// the send clocks' while a response is being sent.
    pub fn deadline(&self) -> Option<Instant> {
        let send = self
            .is_sending()
            .then(|| self.send.deadline(self.timeouts.send));
        self.requests
            .values()
            .filter_map(RequestStream::deadline)
            .chain(send)
            .min()
    }

    /// Requests unfinished at their deadline are reset (H3_REQUEST_INCOMPLETE); parked ones
    /// whose wait ran out get their handler's answer for that case.
    ///
    /// A client that takes its responses too slowly (nothing for the send timeout, or less
    /// than the minimum rate over it: the same clocks as HTTP/1.1 and HTTP/2) is cut off:
    /// the connection closes with H3_NO_ERROR and the reason.
    pub fn expire(&mut self, now: Instant) {
        if self.is_sending() {
            let timeouts = self.timeouts;
            if let Err(why) = self.send.check(now, timeouts.send, timeouts.min_send_rate) {
                return self.fail(H3ErrorCode::NoError, &format!("the client {why}"));
            }
        }
        let due: Vec<u64> = self
            .requests
            .iter()
            .filter(|(_, stream)| stream.deadline().is_some_and(|at| now >= at))
            .map(|(&id, _)| id)
            .collect();
        for id in due {
            if !self.give_up_parked(id, now) {
                self.stream_error(
                    id,
                    H3ErrorCode::RequestIncomplete,
                    "request unfinished in time",
                );
            }
        }
    }
}

impl Drop for H3Conn {
    /// Responses cut short by the connection's end are logged with what was sent.
    fn drop(&mut self) {
        for (_, stream) in std::mem::take(&mut self.requests) {
            stream.abandon(self.peer.ip(), self.unrecorded);
        }
    }
}
