//! One QUIC connection and the HTTP/3 core above it: each turn runs QUIC's timers, takes the
//! streams the client opened and the bytes that arrived on them to [`H3Conn`], writes what
//! the core made onto its streams (our control stream, the responses), applies its stream
//! resets and connection errors, and sends the datagrams QUIC made.

use crate::conn::Context;
use crate::conn::Timeouts;
use crate::conn::h3::{ConnectionError, H3Conn};
use crate::server::limits::Slot;
use bytes::Bytes;
use nomserve_grammar::H3ErrorCode;
use quinn_proto::{
    Connection, ConnectionHandle, Dir, Endpoint, Event, ReadError, StreamEvent, StreamId, Transmit,
    VarInt, WriteError,
};
use quinn_udp::{UdpSockRef, UdpSocketState};
use std::net::UdpSocket;
use std::time::Instant;

/// A QUIC connection with its HTTP/3 state.
pub struct Link {
    // Declared first, so dropped first: the place under the limits is free once the
    // connection is gone.
    slot: Slot,
    pub quic: Connection,
    pub h3: H3Conn,
    /// Our control stream, once QUIC let us open it.
    control: Option<StreamId>,
    /// The connection was given the handler's HSTS setting.
    started: bool,
    /// A CONNECTION_CLOSE was queued.
    closed: bool,
    /// When the connection needs a turn without a datagram: QUIC's timer or a request's.
    pub timer: Option<Instant>,
}

/// `code` as QUIC's application error code.
fn code(code: H3ErrorCode) -> VarInt {
    VarInt::from_u64(code.wire()).unwrap_or(VarInt::MAX)
}

/// The QUIC stream with id `id`.
fn stream(id: u64) -> Option<StreamId> {
    VarInt::from_u64(id).ok().map(StreamId::from)
}

impl Link {
    /// A connection just accepted, in `slot`.
    pub fn new(quic: Connection, slot: Slot, timeouts: Timeouts, recorded: bool) -> Link {
        let mut h3 = H3Conn::new(quic.remote_address(), timeouts);
        if !recorded {
            h3.set_unrecorded();
        }
        Link {
            slot,
            quic,
            h3,
            control: None,
            started: false,
            closed: false,
            timer: None,
        }
    }

    /// One turn at `now`: timers, endpoint events, stream events and data, then the core's
    /// output. `draining`: the server shuts down.
    pub fn turn(
        &mut self,
        handle: ConnectionHandle,
        endpoint: &mut Endpoint,
        ctx: &Context<'_>,
        now: Instant,
        draining: bool,
    ) {
        if !self.started {
            self.started = true;
            self.h3.set_hsts(ctx.handler.strict_transport_security());
        }
        if self.quic.poll_timeout().is_some_and(|at| at <= now) {
            self.quic.handle_timeout(now);
        }
        if self.h3.deadline().is_some_and(|at| at <= now) {
            self.h3.expire(now);
        }
        while let Some(event) = self.quic.poll_endpoint_events() {
            if let Some(event) = endpoint.handle_event(handle, event) {
                self.quic.handle_event(event);
            }
        }
        if draining {
            self.h3.begin_shutdown();
        }
        let mut readable = Vec::new();
        while let Some(event) = self.quic.poll() {
            match event {
                Event::Stream(StreamEvent::Readable { id }) => readable.push(id),
                Event::Stream(StreamEvent::Stopped { id, .. }) => self.h3.stream_reset(id.into()),
                Event::ConnectionLost { reason } => {
                    log::debug!("{}: QUIC connection lost: {reason}", self.h3.peer());
                }
                _ => {}
            }
        }
        for dir in [Dir::Bi, Dir::Uni] {
            while let Some(id) = self.quic.streams().accept(dir) {
                readable.push(id);
            }
        }
        let peer = self.quic.remote_address();
        if peer != self.h3.peer() {
            // A migration, validated by QUIC (RFC 9000 §9): counted under the new address.
            log::debug!("{}: QUIC connection moved to {peer}", self.h3.peer());
            if self.slot.readdress(peer.ip()).is_err() {
                log::debug!("{peer}: over the per-address limit after a migration");
            }
            self.h3.set_peer(peer);
        }
        readable.sort_unstable();
        readable.dedup();
        for id in readable {
            self.read(id, ctx, now);
        }
        self.h3.wake_parked(ctx, now);
        self.write(now);
    }

    /// Reads what stream `id` has for the core.
    fn read(&mut self, id: StreamId, ctx: &Context<'_>, now: Instant) {
        let mut got: Vec<Bytes> = Vec::new();
        let mut fin = false;
        let mut reset = false;
        {
            let mut recv = self.quic.recv_stream(id);
            let Ok(mut chunks) = recv.read(true) else {
                return;
            };
            loop {
                match chunks.next(usize::MAX) {
                    Ok(Some(chunk)) => got.push(chunk.bytes),
                    Ok(None) => {
                        fin = true;
                        break;
                    }
                    Err(ReadError::Blocked) => break,
                    Err(ReadError::Reset(_)) => {
                        reset = true;
                        break;
                    }
                }
            }
            let _ = chunks.finalize();
        }
        let raw = u64::from(id);
        let last = got.len();
        for (i, bytes) in got.iter().enumerate() {
            self.h3.received(raw, bytes, fin && i + 1 == last, ctx, now);
        }
        if fin && last == 0 {
            self.h3.received(raw, &[], true, ctx, now);
        }
        if reset {
            self.h3.stream_reset(raw);
            if crate::conn::h3::bidirectional(raw) {
                // The request was cancelled (RFC 9114 §4.1.1): so is its response, and the
                // stream is over on both sides.
                let _ = self
                    .quic
                    .send_stream(id)
                    .reset(code(H3ErrorCode::RequestCancelled));
            }
        }
    }

    /// Writes the core's output onto its streams, applies its resets, closes the connection
    /// on its error or once a shutdown has drained it.
    fn write(&mut self, now: Instant) {
        if self.closed {
            return;
        }
        if self.control.is_none() {
            self.control = self.quic.streams().open(Dir::Uni);
        }
        if let Some(control) = self.control {
            let out = self.h3.control_output();
            if !out.is_empty() {
                if let Ok(n) = self.quic.send_stream(control).write(out) {
                    self.h3.control_wrote(n);
                }
            }
        }
        for raw in self.h3.writable() {
            let Some(id) = stream(raw) else {
                continue;
            };
            loop {
                let (bytes, done) = self.h3.output(raw);
                if bytes.is_empty() {
                    if done {
                        let _ = self.quic.send_stream(id).finish();
                        if self.h3.finished(raw) {
                            // RFC 9114 §4.1.2: the response is complete; the rest of the
                            // request is not needed.
                            let _ = self.quic.recv_stream(id).stop(code(H3ErrorCode::NoError));
                        }
                    }
                    break;
                }
                match self.quic.send_stream(id).write(bytes) {
                    Ok(n) => self.h3.wrote(raw, n, now),
                    Err(WriteError::Blocked) => break,
                    Err(_) => {
                        self.h3.stream_reset(raw);
                        break;
                    }
                }
            }
        }
        for (raw, error) in self.h3.take_resets() {
            if let Some(id) = stream(raw) {
                let _ = self.quic.send_stream(id).reset(code(error));
                let _ = self.quic.recv_stream(id).stop(code(error));
            }
        }
        if let Some(ConnectionError { code: error, why }) = self.h3.take_error() {
            self.closed = true;
            self.quic.close(now, code(error), Bytes::from(why));
        } else if self.h3.is_drained() {
            self.closed = true;
            self.quic.close(
                now,
                code(H3ErrorCode::NoError),
                Bytes::from_static(b"shutting down"),
            );
        }
    }

    /// Sends the datagrams QUIC made (GSO batches of up to `max_segments`), then notes the
    /// next timer.
    pub fn transmit(
        &mut self,
        now: Instant,
        max_segments: usize,
        socket: &UdpSocket,
        state: &UdpSocketState,
        buf: &mut Vec<u8>,
    ) {
        loop {
            buf.clear();
            let Some(transmit) = self.quic.poll_transmit(now, max_segments, buf) else {
                break;
            };
            send(socket, state, &transmit, buf);
        }
        self.timer = match (self.quic.poll_timeout(), self.h3.deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Sends the datagram(s) `transmit` describes in `buf`. A datagram the socket cannot take
/// now (its buffer full) is dropped: QUIC's loss recovery sends its content again.
pub fn send(socket: &UdpSocket, state: &UdpSocketState, transmit: &Transmit, buf: &[u8]) {
    let udp = quinn_udp::Transmit {
        destination: transmit.destination,
        ecn: transmit
            .ecn
            .and_then(|ecn| quinn_udp::EcnCodepoint::from_bits(ecn as u8)),
        contents: buf.get(..transmit.size).unwrap_or_default(),
        segment_size: transmit.segment_size,
        src_ip: transmit.src_ip,
    };
    if let Err(e) = state.send(UdpSockRef::from(socket), &udp) {
        log::debug!("QUIC send to {}: {e}", transmit.destination);
    }
}
