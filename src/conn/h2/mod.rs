//! One HTTP/2 connection's life (RFC 9113): a state machine that owns no socket, driven by
//! the same transports as the HTTP/1.1 core ([`super::Conn`]), through the same surface:
//! [`H2Conn::poll`] says what it wants (bytes written, bytes read, the write side shut, the
//! end), [`H2Conn::wrote`] / [`H2Conn::took`] / [`H2Conn::sent`] report the writing,
//! [`H2Conn::expire`] runs the deadlines. The clock comes in as an argument.
//!
//! ```text
//!   preface ──▶ SETTINGS ──▶ frames ◀───────────────┐
//!                              │ HEADERS(+CONTINUATION) │ DATA, WINDOW_UPDATE, PING, ...
//!                              ▼                        │
//!                       stream: request ──▶ handler ──▶ response frames (scheduled)
//!   connection error ──▶ GOAWAY(code, why) ──▶ shut the write side ──▶ linger ──▶ close
//! ```
//!
//! The read side ([`read`]) checks each frame the grammar parsed against the connection's
//! history (stream states of §5.1, CONTINUATION sequencing of §6.10, flow control of §5.2);
//! requests go through the same exchange as HTTP/1.1 ([`stream`]); the send side
//! ([`send`]) encodes response heads with HPACK and cuts bodies into DATA frames within the
//! client's windows, round-robin over the streams that have data. Every bound against a
//! misbehaving client is in [`bounds`], named after the attack it stops.
//!
//! Output is one buffer of frames, and at most one DATA frame's file payload left in the
//! file for the transport to read ([`region`]). Nothing more is read while it holds
//! bytes, and DATA is made only while it holds less than [`OUTPUT_HIGH`]: whatever a client
//! sends or fails to read, a connection holds at most one read, one header block, and this
//! much output.

mod bounds;
mod control;
mod memo;
mod read;
mod ready;
mod region;
pub(super) mod send;
pub(super) mod sending;
mod stream;
mod streams;
#[cfg(test)]
mod tests;

use super::Stats;
use super::exchange::Context;
use super::fields::HeaderRoom;
use super::send::SendClock;
use super::{Timeouts, Want};
use crate::http::buffers;
use crate::metrics;
use bounds::Floods;
use nomserve_grammar::{
    DecodedFields, H2ErrorCode, HpackDecoder, HpackEncoder, Limits, Setting, write_goaway,
    write_settings,
};
use ready::Ready;
pub use region::REGION_PAYLOAD;
use region::Region;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use streams::Streams;

/// The connection preface a client sends first (RFC 9113 §3.4).
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// SETTINGS_MAX_CONCURRENT_STREAMS we advertise (RFC 9113 §6.5.2): what browsers expect of
/// a server (nginx and h2o advertise 128 and 100).
pub const MAX_CONCURRENT_STREAMS: u32 = 128;

/// SETTINGS_INITIAL_WINDOW_SIZE we advertise: what a stream's client may send ahead of what
/// the server took. A body is discarded as it arrives, or taken by a handler's sink, and its
/// window given back only as that happens; the body of a request parked on a handler's work
/// waits in memory, at most this much of it.
pub const INITIAL_WINDOW: u32 = 64 * 1024;

/// The window of a stream whose body a handler's sink takes (an upload), once the sink is
/// there: the sink takes each DATA payload as it is read, so the window holds nothing in
/// memory and sets only the upload's rate, this much per round trip (320 MB/s at 50 ms; with
/// [`INITIAL_WINDOW`], 1.3 MB/s).
pub const UPLOAD_WINDOW: u32 = 16 * 1024 * 1024;

/// The connection's receive window: DATA is given to its stream or discarded as it is read,
/// never queued for the connection, so only the streams' windows bound memory; this one is
/// as wide as an upload's (h2o's is 16 MiB too, nginx's 2^31−1).
pub const CONNECTION_WINDOW: u32 = UPLOAD_WINDOW;

/// SETTINGS_MAX_FRAME_SIZE: the initial value, which we do not raise (RFC 9113 §4.2).
pub const MAX_FRAME_SIZE: u32 = 16 * 1024;

/// SETTINGS_HEADER_TABLE_SIZE we advertise for our decoder (RFC 9113 §6.5.2's default).
pub const HEADER_TABLE_SIZE: u32 = 4096;

/// The connection flow-control window's initial size for both ends (RFC 9113 §6.9.2).
const DEFAULT_WINDOW: i64 = 65_535;

/// DATA is made while less than this waits in the output: enough for several full frames
/// per write, little enough per connection.
pub const OUTPUT_HIGH: usize = 64 * 1024;

/// Frames are read only while less than this waits in the output, checked before each
/// frame: what the client makes us answer (PING and SETTINGS acknowledgements, resets,
/// response heads) is bounded, and a client that does not read them is held to the send
/// timeout (the ping and settings floods, CVE-2019-9512 and CVE-2019-9515).
pub const READ_HIGH: usize = OUTPUT_HIGH + 16 * 1024;

/// How long a lingering close after a GOAWAY reads and discards, so that the client gets
/// the GOAWAY instead of a reset (as HTTP/1.1's lingering close, RFC 9112 §9.6).
const LINGER_TIME: Duration = Duration::from_secs(2);

/// Bytes a read asks for.
const READ_CHUNK: usize = super::READ_CHUNK;

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the client's preface (24 bytes) by the deadline.
    Preface { deadline: Instant },
    /// Exchanging frames; the first the client sends must be SETTINGS.
    Open,
    /// A GOAWAY for an error is queued: once it is written, shut the write side, then read
    /// and discard until the client closes or the deadline passes.
    Closing { shut: bool, deadline: Instant },
    /// Over, once the output is written.
    Closed,
}

/// An HTTP/2 client connection, without its socket.
#[derive(Debug)]
pub struct H2Conn {
    peer: SocketAddr,
    timeouts: Timeouts,
    phase: Phase,
    /// Bytes read; `input[..pos]` is used up.
    input: Vec<u8>,
    pos: usize,
    /// Frames to send; `out[..out_pos]` is written.
    out: Vec<u8>,
    out_pos: usize,
    /// The file payload of the last DATA frame queued, when the transport reads it from the
    /// file: it goes on the wire at its place in `out`.
    region: Option<Region>,
    /// Bytes of the connection taken by the parser since the preface: GOAWAY debug data
    /// counts error offsets from here.
    consumed: usize,
    send: SendClock,
    peer_closed: bool,
    holding: bool,
    hsts: Option<Arc<str>>,
    refusal: Option<&'static str>,
    unrecorded: bool,
    /// The client's SETTINGS frame has arrived (its first frame must be one, §3.4).
    settings_seen: bool,
    /// Our SETTINGS must be acknowledged by then (§6.5.3).
    settings_ack_due: Option<Instant>,
    decoder: HpackDecoder,
    /// The last decoded header list (its buffer reused from block to block).
    fields: DecodedFields,
    /// The slots of a request's regular fields, reused from request to request.
    header_room: HeaderRoom,
    encoder: HpackEncoder,
    /// The client's SETTINGS_MAX_FRAME_SIZE: the largest frame we send.
    peer_max_frame: u32,
    /// The client's SETTINGS_INITIAL_WINDOW_SIZE: each new stream's send window.
    peer_initial_window: i64,
    /// The connection's send window (§6.9.1).
    send_window: i64,
    /// DATA bytes received and not yet given back with a connection WINDOW_UPDATE.
    recv_unacked: u32,
    /// The connection's receive window: what the client may still send (§6.9).
    recv_window: i64,
    /// The streams open or half-closed.
    streams: Streams,
    /// Streams with DATA to send, in turn order within each urgency.
    ready: Ready,
    /// The highest stream id the client opened (§5.1.1).
    last_stream: u32,
    /// Streams recently closed, newest last: a frame on one of these is on a closed stream,
    /// not on one never opened (§5.1).
    closed: VecDeque<u32>,
    /// A header block being received: HEADERS without END_HEADERS, and its CONTINUATIONs.
    /// Boxed: most blocks come whole in one HEADERS frame, and every connection would
    /// otherwise hold its room (80 bytes).
    block: Option<Box<read::Block>>,
    /// A GOAWAY was queued: no new stream is taken.
    going_away: bool,
    /// The client sent GOAWAY: it opens no new stream.
    peer_going_away: bool,
    floods: Floods,
    limits: Limits,
    idle_since: Instant,
    /// The time of the last call that was given one: what the connection's own changes
    /// (a stream closed, a close begun) are dated with.
    clock: Instant,
    stats: Stats,
}

impl H2Conn {
    /// A new HTTP/2 connection from `peer` at `now`, `input` the bytes read so far (the
    /// preface, or part of it, and maybe frames after it). Our SETTINGS are queued at once
    /// (RFC 9113 §3.4: the server's preface); the client's preface must arrive within the
    /// header timeout.
    pub fn new(peer: SocketAddr, timeouts: Timeouts, input: Vec<u8>, now: Instant) -> H2Conn {
        let limits = Limits::default();
        let mut conn = H2Conn {
            peer,
            timeouts,
            phase: Phase::Preface {
                deadline: now + timeouts.header,
            },
            input,
            pos: 0,
            out: buffers::take(READ_CHUNK),
            out_pos: 0,
            region: None,
            consumed: 0,
            send: SendClock::new(now),
            peer_closed: false,
            holding: false,
            hsts: None,
            refusal: None,
            unrecorded: false,
            settings_seen: false,
            settings_ack_due: Some(now + timeouts.header),
            decoder: HpackDecoder::new(HEADER_TABLE_SIZE as usize),
            fields: DecodedFields::new(),
            header_room: HeaderRoom::default(),
            encoder: HpackEncoder::new(),
            peer_max_frame: MAX_FRAME_SIZE,
            peer_initial_window: DEFAULT_WINDOW,
            send_window: DEFAULT_WINDOW,
            recv_unacked: 0,
            recv_window: DEFAULT_WINDOW,
            streams: Streams::default(),
            ready: Ready::default(),
            last_stream: 0,
            closed: VecDeque::new(),
            block: None,
            going_away: false,
            peer_going_away: false,
            floods: Floods::default(),
            limits,
            idle_since: now,
            clock: now,
            stats: Stats::default(),
        };
        metrics::count_h2_connection();
        let max_header_list = u32::try_from(limits.max_head).unwrap_or(u32::MAX);
        write_settings(
            &mut conn.out,
            &[
                Setting::MaxConcurrentStreams(MAX_CONCURRENT_STREAMS),
                Setting::InitialWindowSize(INITIAL_WINDOW),
                Setting::MaxHeaderListSize(max_header_list),
                Setting::HeaderTableSize(HEADER_TABLE_SIZE),
                Setting::EnablePush(false),
            ],
        );
        // Stream windows are raised by SETTINGS; the connection's only by WINDOW_UPDATE
        // (§6.9.2).
        let raise = CONNECTION_WINDOW - DEFAULT_WINDOW as u32;
        nomserve_grammar::write_window_update(&mut conn.out, 0, raise);
        conn.recv_window += i64::from(raise);
        conn
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Counts of what the connection did.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Over TLS with `--hsts`: the responses the connection makes itself carry it.
    pub fn set_hsts(&mut self, hsts: Option<Arc<str>>) {
        self.hsts = hsts;
    }

    /// The server will not serve this connection: its first request is answered 503 with
    /// `message`, and the connection goes away.
    pub fn refuse(&mut self, message: &'static str) {
        self.refusal = Some(message);
    }

    /// The connection's exchanges are neither access-logged nor counted in the metrics.
    pub fn set_unrecorded(&mut self) {
        self.unrecorded = true;
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Whether the connection waits for a request with nothing of one buffered, no stream
    /// open and nothing to send: closing it loses nothing.
    pub fn is_idle(&self) -> bool {
        self.phase == Phase::Open
            && self.refusal.is_none()
            && self.streams.is_empty()
            && self.block.is_none()
            && !self.is_sending()
            && self.input.len() == self.pos
    }

    /// Whether the connection has nothing to send and no response to finish: a shutdown
    /// closes it.
    pub fn is_quiet(&self) -> bool {
        !self.is_sending() && self.streams.is_empty()
    }

    /// Whether the connection is over and owes the client nothing.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Closed && self.pending_out() == 0 && !self.holding
    }

    /// When the connection last became idle.
    pub fn idle_since(&self) -> Instant {
        self.idle_since
    }

    /// The buffer to append read bytes to (with room for at least a read's worth more).
    pub fn read_buffer(&mut self) -> &mut Vec<u8> {
        buffers::ready_for_read(&mut self.input, &mut self.pos, READ_CHUNK)
    }

    /// The socket had nothing to read ([`buffers::give_if_empty`]).
    pub fn nothing_read(&mut self) {
        buffers::give_if_empty(&mut self.input, &mut self.pos);
    }

    /// The client closed its side.
    pub fn peer_closed(&mut self) {
        self.peer_closed = true;
    }

    /// The transport shut the write side down, at `now`: the lingering close starts.
    pub fn write_shut(&mut self, now: Instant) {
        if let Phase::Closing { .. } = self.phase {
            self.phase = Phase::Closing {
                shut: true,
                deadline: now + LINGER_TIME,
            };
        }
    }

    /// The server shuts down: GOAWAY(NO_ERROR) with the last stream taken (RFC 9113 §6.8);
    /// the streams in flight finish, then the connection closes.
    pub fn begin_shutdown(&mut self) {
        if self.phase == Phase::Open && !self.going_away {
            self.go_away(H2ErrorCode::NoError, b"shutting down");
        }
    }

    /// The socket took `n` bytes of the output at `now`.
    pub fn wrote(&mut self, n: usize, now: Instant) {
        self.send.took(n as u64, now);
        self.took(n);
    }

    /// The transport took `n` bytes of the output, to send in its own form.
    pub fn took(&mut self, n: usize) {
        self.advance_output(n);
    }

    /// The client's socket took `n` bytes at `now` (in the transport's form).
    pub fn sent(&mut self, n: usize, now: Instant) {
        self.send.took(n as u64, now);
    }

    /// Whether the transport holds bytes the socket has not taken yet.
    pub fn set_holding(&mut self, holding: bool) {
        self.holding = holding;
    }

    /// Whether more read bytes would be processed now: the connection is open, its output
    /// under [`READ_HIGH`], and every whole frame buffered applied (what is left is less than
    /// a frame, so a client sending a large one is not left blocked). A transport reads while
    /// its writes wait only then, so that its reads stay bounded.
    pub fn takes_more_input(&self) -> bool {
        self.phase == Phase::Open
            && !self.peer_closed
            && self.pending_out() < READ_HIGH
            && self.input.len() - self.pos
                < nomserve_grammar::FRAME_HEADER_LEN + MAX_FRAME_SIZE as usize
    }

    /// Applies the frames read so far, without asking for anything: for a transport that
    /// read while its writes wait (see [`H2Conn::takes_more_input`]).
    pub fn absorb(&mut self, ctx: &Context<'_>, now: Instant) {
        self.clock = now;
        if self.phase == Phase::Open && self.pending_out() < READ_HIGH {
            self.wake_parked(ctx, now);
            self.read_frames(ctx, now);
        }
    }

    /// Bytes queued and not yet written, the pending file region's included.
    fn pending_out(&self) -> usize {
        let region = self.region.as_ref().map_or(0, |region| region.len as usize);
        self.out.len() - self.out_pos + region
    }

    /// Whether anything waits to be sent: queued frames, bytes the transport holds, or
    /// response data the client's windows hold back. The send clocks run while it does: a
    /// client that keeps its windows shut is cut off as one that does not read is.
    fn is_sending(&self) -> bool {
        self.pending_out() > 0
            || self.holding
            || self.streams.values().any(|stream| stream.has_data())
    }

    /// Starts the send clocks if nothing waits to be sent: output is about to be queued.
    fn start_output(&mut self, now: Instant) {
        if !self.is_sending() {
            self.send = SendClock::new(now);
        }
    }

    /// When [`H2Conn::expire`] must be called; `None` once the connection is over.
    pub fn deadline(&self) -> Option<Instant> {
        let mut soonest: Option<Instant> = None;
        let mut at = |deadline: Instant| {
            soonest = Some(soonest.map_or(deadline, |s| s.min(deadline)));
        };
        // Each deadline here is one `expire` acts on, so that a deadline passed is never
        // asked for again.
        if self.is_sending() {
            at(self.send.deadline(self.timeouts.send));
        }
        match self.phase {
            Phase::Closed => return soonest,
            Phase::Preface { deadline } | Phase::Closing { deadline, .. } => {
                at(deadline);
                return soonest;
            }
            Phase::Open => {}
        }
        if let Some(due) = self.settings_ack_due {
            at(due);
        }
        if let Some(block) = &self.block {
            at(block.deadline);
        }
        for stream in self.streams.values() {
            if let Some(deadline) = stream.deadline() {
                at(deadline);
            }
        }
        if self.streams.is_empty() && self.block.is_none() && !self.is_sending() {
            let since = self.idle_since.max(self.send.last_progress());
            at(since + self.timeouts.keep_alive);
        }
        soonest
    }

    /// Called once [`H2Conn::deadline`] has passed at `now`: a client too slow to take its
    /// responses is cut off; a preface or header block unfinished in time, or an idle
    /// connection, gets a GOAWAY and a close; a request body unfinished in time resets its
    /// stream; a parked request gets the answer its handler gave for this case.
    pub fn expire(&mut self, now: Instant) {
        self.clock = now;
        if self.is_sending() {
            let timeouts = self.timeouts;
            if let Err(why) = self.send.check(now, timeouts.send, timeouts.min_send_rate) {
                log::debug!("{}: {why}; closing", self.peer);
                self.abandon();
                return;
            }
        }
        match self.phase {
            Phase::Closed => return,
            Phase::Preface { deadline } | Phase::Closing { deadline, .. } if now >= deadline => {
                log::debug!("{}: HTTP/2 preface or close unfinished in time", self.peer);
                self.abandon();
                return;
            }
            Phase::Preface { .. } | Phase::Closing { .. } => return,
            Phase::Open => {}
        }
        if self.settings_ack_due.is_some_and(|due| now >= due) {
            self.connection_error(H2ErrorCode::SettingsTimeout, b"SETTINGS not acknowledged");
            return;
        }
        if self
            .block
            .as_ref()
            .is_some_and(|block| now >= block.deadline)
        {
            self.connection_error(H2ErrorCode::ProtocolError, b"header block unfinished");
            return;
        }
        self.expire_streams(now);
        let idle = self.streams.is_empty() && self.block.is_none() && !self.is_sending();
        if idle && self.deadline().is_some_and(|deadline| now >= deadline) {
            log::debug!("{}: HTTP/2 connection idle until its deadline", self.peer);
            if !self.going_away {
                self.go_away(H2ErrorCode::NoError, b"idle");
            }
            self.phase = Phase::Closed;
        }
    }

    /// Drops everything unsent and ends the connection (a client cut off).
    fn abandon(&mut self) {
        self.out.clear();
        self.out_pos = 0;
        self.region = None;
        self.holding = false;
        self.streams.clear();
        self.ready.clear();
        self.phase = Phase::Closed;
    }

    /// Queues GOAWAY with the last stream taken, `code` and `debug` (RFC 9113 §6.8); no new
    /// stream is taken from now on.
    fn go_away(&mut self, code: H2ErrorCode, debug: &[u8]) {
        self.going_away = true;
        metrics::count_h2_goaway(code);
        write_goaway(&mut self.out, self.last_stream, code, debug);
    }

    /// A connection error (RFC 9113 §5.4.1): GOAWAY with `code` and `why`, then a lingering
    /// close; the streams are dropped.
    fn connection_error(&mut self, code: H2ErrorCode, why: &[u8]) {
        log::debug!(
            "{}: HTTP/2 connection error {code}: {}",
            self.peer,
            why.escape_ascii()
        );
        self.streams.clear();
        self.ready.clear();
        self.block = None;
        let debug = why
            .get(..nomserve_grammar::MAX_GOAWAY_DEBUG_LEN)
            .unwrap_or(why);
        self.go_away(code, debug);
        self.phase = Phase::Closing {
            shut: false,
            deadline: self.clock + LINGER_TIME,
        };
    }

    /// What to do next, after processing what is buffered: write queued frames first, then
    /// read, shut down or close.
    pub fn poll(&mut self, ctx: &Context<'_>, now: Instant) -> Want<'_> {
        self.clock = now;
        if ctx.shutting_down {
            self.begin_shutdown();
        }
        if self.phase == Phase::Open {
            self.wake_parked(ctx, now);
        }
        if self.out.capacity() == 0 && self.input.len() > self.pos {
            self.out = buffers::take(READ_CHUNK);
        }
        if self.pending_out() < READ_HIGH {
            if let Phase::Preface { .. } = self.phase {
                self.read_preface();
            }
            if self.phase == Phase::Open {
                self.read_frames(ctx, now);
            }
        }
        if self.phase == Phase::Open {
            self.fill();
        }
        if self.pending_out() > 0 {
            return Want::Write(self.next_output());
        }
        match self.phase {
            Phase::Closing { shut: false, .. } => Want::ShutdownWrite,
            Phase::Closing { .. } => {
                self.pos = self.input.len();
                if self.peer_closed {
                    self.phase = Phase::Closed;
                    return Want::Close;
                }
                Want::Read
            }
            Phase::Closed => Want::Close,
            Phase::Open if self.going_away && self.streams.is_empty() && !self.holding => {
                self.phase = Phase::Closing {
                    shut: false,
                    deadline: now + LINGER_TIME,
                };
                Want::ShutdownWrite
            }
            Phase::Preface { .. } | Phase::Open if self.peer_closed => {
                log::debug!("{}: closed by the client", self.peer);
                self.phase = Phase::Closed;
                Want::Close
            }
            Phase::Preface { .. } | Phase::Open => {
                if self.streams.is_empty() && self.input.len() == self.pos {
                    // Nothing under way: an idle connection holds no buffers, no room for
                    // streams (an emptied vector keeps its room: 8 streams' at least, 2.5
                    // KiB), nor the last header list, its fields' slots or the turn queues:
                    // little more than its HPACK tables. The next request makes them again.
                    buffers::give(std::mem::take(&mut self.input));
                    buffers::give(std::mem::take(&mut self.out));
                    self.pos = 0;
                    self.out_pos = 0;
                    self.streams = Streams::default();
                    self.fields = DecodedFields::new();
                    self.header_room = HeaderRoom::default();
                    self.ready.clear();
                }
                Want::Read
            }
        }
    }

    /// The next output to write, DATA made for it first (see [`super::Core::more_output`]).
    pub fn more_output(&mut self) -> Option<crate::http::output::Item<'_>> {
        if self.phase == Phase::Open {
            self.fill();
        }
        (self.pending_out() > 0).then(|| self.next_output())
    }

    /// Checks the client's preface once its 24 bytes are in: a connection that starts with
    /// anything else is not HTTP/2 (RFC 9113 §3.4) and is closed with GOAWAY.
    fn read_preface(&mut self) {
        let buffered = self.input.get(self.pos..).unwrap_or_default();
        let n = buffered.len().min(PREFACE.len());
        if buffered.get(..n) != PREFACE.get(..n) {
            self.connection_error(H2ErrorCode::ProtocolError, b"invalid connection preface");
            return;
        }
        if n == PREFACE.len() {
            self.pos += n;
            self.phase = Phase::Open;
        }
    }
}

impl Drop for H2Conn {
    /// Logs the responses cut short, and gives the buffers back to the thread.
    fn drop(&mut self) {
        let peer = self.peer.ip();
        let unrecorded = self.unrecorded;
        for stream in self.streams.values() {
            stream.abandon(peer, unrecorded);
        }
        buffers::give(std::mem::take(&mut self.input));
        buffers::give(std::mem::take(&mut self.out));
    }
}
