//! One connection's life: a state machine that owns no socket.
//!
//! ```text
//!            bytes                 head complete              body read
//!   Idle ───────────▶ Head ───────────────────────▶ Body ────────────────▶ respond
//!    ▲                 │  ▲ │ answer not ready        │ deadline: close        │
//!    │   deadline: 408 │  │ ▼                         ▼                        │
//!    │                 │ Parked ── deadline: 503    close                      │
//!    │                 ▼  woken         │                                      │
//!    │           respond, Lingering ◀───┘ ──▶ close                            │
//!    └──────────── keep-alive ◀────────────────────────────────────────────────┘
//! ```
//!
//! A transport drives a [`Conn`] by asking [`Conn::poll`] what it wants: bytes written (an
//! [`Item`](crate::http::output::Item) of its output, then [`Conn::wrote`]), bytes read (appended to
//! [`Conn::read_buffer`], or [`Conn::peer_closed`] at the end of the stream), the write side
//! shut down ([`Conn::write_shut`]), or the end. It asks again until it must wait for the
//! socket, and calls [`Conn::expire`] once [`Conn::deadline`] has passed (after trying to read,
//! so that bytes that arrived in time are served). The clock comes in as an argument; the
//! core reads none itself, so it is tested transition by transition with plain buffers, and
//! TLS can sit between it and the socket.
//!
//! A transport that writes the core's bytes to the socket as they are (plain TCP) reports
//! both at once with [`Conn::wrote`]. One that transforms them first (TLS records, and
//! streams multiplexed on one connection) reports separately what it took of an item
//! ([`Conn::took`]), what the client's socket took ([`Conn::sent`]: the send clocks measure
//! this), and whether it still holds bytes the socket has not taken ([`Conn::set_holding`]:
//! the send clocks run while it does, as while output is queued). A client cut off at a send
//! deadline leaves the connection [`Conn::is_finished`]: the transport drops what it holds
//! and closes.
//!
//! This module is HTTP/1.1's framing of requests on a connection: where a head ends
//! ([`head`]), its body ([`body`]), and whether the connection stays open after the response
//! ([`persistence`]). What a request's exchange needs whatever frames it (the handler and the
//! answer it gives, the responses the connection makes itself, the access log's record of the
//! request) is in [`exchange`], and a request whose answer is not ready waits in [`park`].
//!
//! Buffered bytes are processed before reading again, so pipelined requests are answered in
//! order, their responses queued together (up to [`OUTPUT_HIGH`] bytes) and written at once;
//! a client that half-closed still gets its responses. Nothing more is read while output
//! waits for the socket: a client that does not read cannot make the server buffer.
//!
//! Deadlines:
//! - A new connection has the header timeout to send a request's first byte, an idle
//!   keep-alive one the keep-alive timeout; then it is closed silently, as RFC 9112 §9.5 lets a
//!   server close an idle connection at any time. (The RFC sets no timeout before the first
//!   byte; sending nothing at all earns no response, so that a browser's speculative
//!   pre-connection is not answered with a 408 it would show.)
//! - From a request's first byte, its head must be complete within the header timeout, else
//!   408 (RFC 9110 §15.5.9) and close.
//! - Its body must be complete within one more header timeout, checked on every read and at
//!   the deadline, else the connection is closed without a response. Deviation, argued: a 408
//!   there would be an answer sent before the request it answers is complete, which is
//!   exactly what a smuggling test (a Content-Length larger than what arrives) grades as a
//!   failure unless it is a 400; a close is the answer every client and intermediary reads
//!   the same way.
//! - While output waits for the socket, the send clocks of [`send`] run.
//! - A request whose answer waits for a handler's work is parked ([`park`]) for at most one
//!   header timeout, then answered 503.

mod body;
pub mod client;
mod dispatch;
mod exchange;
mod fields;
mod h2;
pub mod h3;
mod head;
mod park;
mod persistence;
mod send;
mod steps;

use crate::http::buffers;
use crate::http::output::{Item, Output};
use body::{BodyReader, Pending};
pub use dispatch::{Core, Want};
pub use exchange::Context;
use exchange::{Exchange, head_timed_out};
pub use h2::REGION_PAYLOAD;
use head::HeadScan;
use park::Parked;
use send::SendClock;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes a read asks for: a browser's head (1–2 KiB) or several pipelined ones in one call.
pub const READ_CHUNK: usize = 8 * 1024;

/// Responses to pipelined requests are queued together until this many bytes wait (or a
/// file region does), then written before more requests are processed: enough for dozens of
/// small responses in one write, little enough per connection.
pub const OUTPUT_HIGH: u64 = 64 * 1024;

/// How long a lingering close waits for the client to stop sending after the server's final
/// response. Long enough for bytes in flight to arrive, short enough that a client that
/// keeps sending cannot hold the connection.
const LINGER_TIME: Duration = Duration::from_secs(2);

/// Most bytes a lingering close reads and discards before closing anyway.
const LINGER_BYTES: usize = 64 * 1024;

/// The time limits a connection keeps, from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From a request's first byte to the end of its head; also the time for its body, and
    /// for a new connection's first byte.
    pub header: Duration,
    /// How long an idle keep-alive connection is kept.
    pub keep_alive: Duration,
    /// How long queued output may wait without the client taking any of it; also the
    /// window over which `min_send_rate` is measured.
    pub send: Duration,
    /// The lowest average rate, in bytes a second, at which a client must take queued
    /// output; 0: no minimum.
    pub min_send_rate: u64,
}

/// Counts kept for the transport's fairness and for logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Responses queued.
    pub responses: u64,
    /// Bytes handed to the request parser, over every parse.
    pub head_bytes_parsed: u64,
}

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

/// A client connection, without its socket.
#[derive(Debug)]
pub struct Conn {
    peer: SocketAddr,
    timeouts: Timeouts,
    /// Bytes read and not yet used start at `pos`; `input[..pos]` is used up.
    input: Vec<u8>,
    pos: usize,
    state: State,
    output: Output,
    send: SendClock,
    /// The client ended its side of the stream: nothing more will arrive.
    peer_closed: bool,
    /// The transport holds bytes of the output that the socket has not taken yet.
    holding: bool,
    /// Over TLS with `--hsts`: the Strict-Transport-Security value of the responses the
    /// connection makes itself.
    hsts: Option<Arc<str>>,
    /// The server will not serve this connection: its first request is answered 503 with
    /// this sentence.
    refusal: Option<&'static str>,
    /// When the connection last became idle (or was accepted).
    idle_since: Instant,
    /// The bound on the current request's wait for a handler's work, once it has waited.
    parked_until: Option<Instant>,
    stats: Stats,
}

/// Where a connection is in its life.
#[derive(Debug)]
enum State {
    /// Waiting for the first byte of a request; closed silently at the deadline.
    Idle { deadline: Instant },
    /// Part of a head has arrived; the rest must arrive by the deadline (else 408).
    Head { deadline: Instant, scan: HeadScan },
    /// Reading a request body (into the handler's sink, or discarded); then `pending` is
    /// sent.
    Body {
        body: BodyReader,
        deadline: Instant,
        pending: Box<Pending>,
    },
    /// The final response is queued: once it is written, shut the write side (`shut`), then
    /// discard what the client still sends, until it closes, the deadline passes or
    /// [`LINGER_BYTES`] were read. This is the staged close of RFC 9112 §9.6: closing at once
    /// with unread bytes would make the kernel reset the connection, and the client could
    /// lose the response it has not read yet.
    Lingering {
        deadline: Instant,
        drained: usize,
        shut: bool,
    },
    /// A complete head waits, still buffered, for the work its handler started.
    Parked(Box<Parked>),
    /// Over, once the queued output is written.
    Closed,
}

/// One step of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The state changed; step again.
    Continue,
    /// The buffered bytes are used up; read more.
    NeedBytes,
    /// Shut the write side down.
    Shutdown,
    /// Wait for a handler's work.
    Park,
    /// The connection is over.
    Close,
}

impl Conn {
    /// A new connection from `peer`, accepted at `now`, which must send a request's first
    /// byte within the header timeout.
    pub fn new(peer: SocketAddr, timeouts: Timeouts, now: Instant) -> Conn {
        Conn {
            peer,
            timeouts,
            input: Vec::new(),
            pos: 0,
            state: State::Idle {
                deadline: now + timeouts.header,
            },
            output: Output::default(),
            send: SendClock::new(now),
            peer_closed: false,
            holding: false,
            hsts: None,
            refusal: None,
            idle_since: now,
            parked_until: None,
            stats: Stats::default(),
        }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The client is `peer` from now on: the address a PROXY protocol header named, read
    /// before the connection's first request.
    pub fn set_peer(&mut self, peer: SocketAddr) {
        self.peer = peer;
    }

    /// Whether the connection is over (closed at a deadline, or after its last response).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    /// Counts of what the connection did.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether the connection waits for a request with nothing of one buffered and nothing
    /// to send: closing it loses nothing (RFC 9112 §9.5). A refused connection is not idle:
    /// it holds no place that closing it would free.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Idle { .. })
            && self.refusal.is_none()
            && self.output.is_empty()
            && !self.holding
            && self.unprocessed().is_empty()
    }

    /// Whether the connection has nothing to send and no response to finish (a parked
    /// request's is one to finish, and so is a body a handler takes: an upload under way
    /// is given the shutdown's grace to complete): a shutdown closes it, as it would a
    /// connection waiting for its next request. (Bytes of a request that has not been
    /// answered yet are dropped with it; its client sees the close.)
    pub fn is_quiet(&self) -> bool {
        let taking = matches!(&self.state, State::Body { pending, .. } if pending.sink.is_some());
        self.output.is_empty()
            && !self.holding
            && !taking
            && !matches!(self.state, State::Lingering { .. } | State::Parked(_))
    }

    /// Whether the connection is over and owes the client nothing: closed, with nothing
    /// queued and nothing held by the transport. A transport that still holds bytes of it
    /// drops them and closes: [`Conn::expire`] cut off a client that stopped taking them.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Closed) && self.output.is_empty() && !self.holding
    }

    /// When the connection last became idle.
    pub fn idle_since(&self) -> Instant {
        self.idle_since
    }

    /// When [`Conn::expire`] must be called; `None` once the connection is over.
    pub fn deadline(&self) -> Option<Instant> {
        if self.is_sending() {
            return Some(self.send.deadline(self.timeouts.send));
        }
        match &self.state {
            // The keep-alive timeout runs from the end of the last response's sending, not
            // from when it was queued: a download longer than the timeout does not leave its
            // connection to be closed the moment it is done.
            State::Idle { deadline } if self.stats.responses > 0 => {
                Some((*deadline).max(self.send.last_progress() + self.timeouts.keep_alive))
            }
            State::Idle { deadline }
            | State::Head { deadline, .. }
            | State::Body { deadline, .. }
            | State::Lingering { deadline, .. } => Some(*deadline),
            State::Parked(parked) => Some(parked.deadline),
            State::Closed => None,
        }
    }

    /// The buffer to append read bytes to (with room for at least [`READ_CHUNK`] more).
    pub fn read_buffer(&mut self) -> &mut Vec<u8> {
        buffers::ready_for_read(&mut self.input, &mut self.pos, READ_CHUNK)
    }

    /// The socket had nothing to read ([`buffers::give_if_empty`]).
    pub fn nothing_read(&mut self) {
        buffers::give_if_empty(&mut self.input, &mut self.pos);
    }

    /// The client closed its side: the buffered bytes are all there will be.
    pub fn peer_closed(&mut self) {
        self.peer_closed = true;
    }

    /// The connection is over TLS, and the responses it makes itself (400, 408, 413, 431,
    /// 500, ...) carry `Strict-Transport-Security: hsts` when it is given, as the handler's
    /// do (RFC 6797 §7.1: on every response over secure transport).
    pub fn set_hsts(&mut self, hsts: Option<Arc<str>>) {
        self.hsts = hsts;
    }

    /// The server will not serve this connection (it is past the connection limits, and its
    /// transport could not answer at once: TLS must shake hands first). Its first request is
    /// answered, at its first byte, with 503 (Service Unavailable, RFC 9110 §15.6.4),
    /// `Retry-After: 1`, `Connection: close` and the body `message`, like the other responses
    /// the connection makes itself (HSTS included), and a lingering close follows. Before
    /// that byte, the connection's first deadline stands: one that sends nothing is closed
    /// silently at it.
    pub fn refuse(&mut self, message: &'static str) {
        self.refusal = Some(message);
    }

    /// The connection's exchanges are neither access-logged nor counted in the metrics.
    pub fn set_unrecorded(&mut self) {
        self.output.set_unrecorded();
    }

    /// The transport shut the write side down, at `now`: the lingering close starts.
    pub fn write_shut(&mut self, now: Instant) {
        if let State::Lingering { drained, .. } = self.state {
            self.state = State::Lingering {
                deadline: now + LINGER_TIME,
                drained,
                shut: true,
            };
        }
    }

    /// What to do next, after processing what is buffered: write queued output first, then
    /// read, shut down or close.
    pub fn poll(&mut self, ctx: &Context<'_>, now: Instant) -> Want<'_> {
        while self.output.queued() < OUTPUT_HIGH && !self.output.has_file() {
            let step = self.step(ctx, now);
            if step == Step::Continue {
                continue;
            }
            if !self.output.is_empty() {
                break;
            }
            return match step {
                Step::NeedBytes if self.peer_closed => {
                    log::debug!("{}: closed by the client", self.peer);
                    self.state = State::Closed;
                    Want::Close
                }
                Step::NeedBytes => Want::Read,
                Step::Shutdown => Want::ShutdownWrite,
                Step::Park => Want::Park,
                Step::Continue | Step::Close => Want::Close,
            };
        }
        // The last bytes before the connection shuts its write side or closes go with
        // `more`: the kernel holds them until the shutdown or close, whose FIN it then puts
        // in their segment (tcp_send_fin appends it to a segment not yet sent), where a
        // plain send would leave them alone and the FIN in a segment of its own. One segment
        // fewer a connection, and one acknowledgement fewer from the client.
        let ending = matches!(
            self.state,
            State::Closed | State::Lingering { shut: false, .. }
        );
        match self.output.front() {
            Some(Item::Bytes { bytes, .. }) if ending && self.output.front_is_last() => {
                Want::Write(Item::Bytes { bytes, more: true })
            }
            Some(item) => Want::Write(item),
            None => Want::Close,
        }
    }

    /// Called once [`Conn::deadline`] has passed at `now` and a read found nothing new: a
    /// client that stopped reading (or reads too slowly) is cut off, an idle connection is
    /// closed silently, an unfinished head gets 408 (then a lingering close), a parked request
    /// the response its handler gave for this case, an unfinished body or a lingering close
    /// ends without a response. Before its deadline, nothing changes.
    pub fn expire(&mut self, now: Instant) {
        if self.is_sending() {
            let timeouts = self.timeouts;
            if let Err(why) = self.send.check(now, timeouts.send, timeouts.min_send_rate) {
                log::debug!("{}: {why}; closing", self.peer);
                self.output.abandon(self.peer.ip());
                self.holding = false;
                self.state = State::Closed;
            }
            return;
        }
        let passed = self.deadline().is_some_and(|deadline| now >= deadline);
        if !passed {
            return;
        }
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Idle { .. } => log::debug!("{}: idle until its deadline; closing", self.peer),
            State::Head { .. } => {
                log::debug!(
                    "{}: request head unfinished at its deadline; 408",
                    self.peer
                );
                let exchange = Exchange::unparsed(self.unprocessed());
                self.fail(head_timed_out(), exchange, now);
            }
            State::Body { .. } => log::debug!(
                "{}: request body unfinished at its deadline; closing",
                self.peer
            ),
            State::Parked(parked) => {
                let (response, exchange) = parked.give_up(self.peer);
                self.fail(response, exchange, now);
            }
            State::Lingering { .. } | State::Closed => {}
        }
    }

    /// The bytes read and not yet used.
    fn unprocessed(&self) -> &[u8] {
        self.input.get(self.pos..).unwrap_or_default()
    }
}

impl Drop for Conn {
    /// Logs the responses that were queued but not (wholly) written, and gives the buffers
    /// back to the thread.
    fn drop(&mut self) {
        self.output.abandon(self.peer.ip());
        self.output.release();
        buffers::give(std::mem::take(&mut self.input));
    }
}

#[cfg(test)]
mod tests;
