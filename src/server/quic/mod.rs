//! HTTP/3's transport: QUIC (RFC 9000) from `quinn-proto`, a sans-I/O state machine, driven
//! by the worker's own epoll loop over a non-blocking UDP socket. No async runtime: the
//! worker reads datagrams when epoll says the socket is readable, feeds them to the
//! endpoint, gives each connection a turn ([`link`]: QUIC streams to and from the HTTP/3
//! core, [`crate::conn::h3`]), sends what the connections made, and folds their timers into
//! its `epoll_wait` timeout ([`Quic::deadline`]).
//!
//! **Which worker owns a connection** ([`steer`]): each worker has its own `SO_REUSEPORT`
//! socket at each HTTP/3 address and its own endpoint, and owns the connections it
//! accepted; the connection ids it issues name it, and a datagram the kernel hands to
//! another worker (after a migration) is forwarded to the owner through a bounded queue and
//! the owner's bell. A connection that migrates (a NAT rebinding, a phone moving from Wi-Fi
//! to mobile data) is found by its connection id, its new path validated by quinn-proto
//! (PATH_CHALLENGE, RFC 9000 §9), and the HTTP/3 core told the new peer.
//!
//! **Batched I/O**, through `quinn-udp`, which wraps the system calls safely: datagrams are
//! read with `recvmmsg` (up to [`BATCH`] messages a call instead of one `recvfrom` each) and,
//! where the kernel has UDP GRO (Linux 5.0+), several datagrams of one sender arrive
//! coalesced in one buffer (up to 64 KiB: some 40 datagrams of 1,500 bytes for one trip
//! through the network stack). Sends use UDP GSO (Linux 4.18+): quinn-proto makes up to
//! [`Quic::max_segments`] same-sized datagrams in one buffer and one `sendmsg` sends them all,
//! the kernel cutting them apart. Measured (strace, one worker, aioquic fetching 20 MiB over
//! loopback): 1,511 `sendmsg` calls carried the some 17,500 datagrams, 11.6 a call, where
//! one `sendto` each would take 17,500. `sendmmsg` is not used: GSO already batches each
//! connection's burst into one call, and bursts of different connections go to different
//! addresses at different times. Without GRO or GSO, quinn-udp falls back to one datagram
//! per message.
//!
//! **Bounds.** Connections take places under the same limits as TCP connections (in total
//! and per address, [`crate::server::limits`]); past them a new connection is refused with
//! CONNECTION_REFUSED. While more than [`RETRY_ABOVE`] handshakes are in progress on a
//! worker's endpoint, a client
//! whose address is not validated gets a Retry first (RFC 9000 §8.1.2): a flood of Initial
//! packets from spoofed addresses then costs one stateless Retry each, and no connection
//! state. Before validation quinn-proto sends at most three times what it received (RFC
//! 9000 §8.1, the amplification limit). The idle timeout is the keep-alive timeout, the
//! concurrent request streams per connection [`MAX_STREAMS`]. A client that stops
//! acknowledging holds at most [`SEND_WINDOW`] of unacknowledged response bytes: QUIC then
//! takes no more of the response, and the HTTP/3 core's send clocks (the send timeout and
//! the minimum rate, as for TCP) cut it off; QUIC's idle timer, which our sends do not
//! reset, is the backstop.

mod link;
pub mod steer;

use crate::conn::Context;
use crate::conn::Timeouts;
use crate::server::limits::{Admission, Limits};
use bytes::BytesMut;
use link::Link;
use quinn_proto::crypto::rustls::QuicServerConfig;
use quinn_proto::{
    ConnectionHandle, DatagramEvent, EcnCodepoint, Endpoint, EndpointConfig, Incoming,
    ServerConfig, TransportConfig, VarInt,
};
use quinn_udp::{RecvMeta, UdpSockRef, UdpSocketState};
use rustix::fd::{AsFd, BorrowedFd};
use std::collections::{HashMap, HashSet};
use std::io::{self, IoSliceMut};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};
use steer::{Forwarded, Inbound, WorkerIds};

/// Datagram buffers per `recvmmsg`.
const BATCH: usize = 8;

/// One receive buffer: room for a GRO batch (the kernel coalesces at most 64 KiB).
const RECV_BUF: usize = 64 * 1024;

/// `recvmmsg` calls per turn: a flood takes turns with the connections' work.
const RECV_CALLS: usize = 16;

/// Concurrent request streams a client may open (SETTINGS-like bound through QUIC's
/// MAX_STREAMS, RFC 9000 §4.6), as HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS.
pub const MAX_STREAMS: u32 = 128;

/// Handshakes in progress past which a client must prove its address with a Retry first.
pub const RETRY_ABOVE: usize = 16;

/// A connection's receive windows: per stream, a request body is discarded, so little; for
/// the connection, room for several streams at once.
const STREAM_WINDOW: u32 = 256 * 1024;
const CONNECTION_WINDOW: u32 = 1024 * 1024;

/// Response bytes a connection holds unacknowledged: QUIC's send buffer, what a client that
/// stops acknowledging leaves the server holding until its idle timeout (enough for 100
/// Mbit/s at 160 ms of round trip).
const SEND_WINDOW: u64 = 2 * 1024 * 1024;

/// HTTP/3's ALPN token (RFC 9114 §3.1).
const ALPN: &[u8] = b"h3";

/// One UDP socket's QUIC endpoint and its connections.
pub struct Quic {
    /// Which worker's endpoint this is, and which of its endpoints (the address).
    worker: u16,
    index: usize,
    /// Every worker's queue of forwarded datagrams, this one's included.
    peers: Arc<[Arc<Inbound>]>,
    socket: UdpSocket,
    state: UdpSocketState,
    endpoint: Endpoint,
    links: HashMap<ConnectionHandle, Link>,
    /// The connections that received datagrams since their last turn.
    due: HashSet<ConnectionHandle>,
    limits: Arc<Limits>,
    timeouts: Timeouts,
    recorded: bool,
    /// The server shuts down: no new connection, GOAWAY on the others.
    draining: bool,
    recv: Vec<u8>,
    send: Vec<u8>,
}

impl std::fmt::Debug for Quic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Quic")
            .field("connections", &self.links.len())
            .finish_non_exhaustive()
    }
}

/// The QUIC server configuration: `tls` (the HTTPS configuration, with the same certificate
/// resolver, so that a reload applies to both) with ALPN `h3`, and our transport bounds.
pub fn server_config(
    tls: &rustls::ServerConfig,
    timeouts: Timeouts,
) -> Result<Arc<ServerConfig>, String> {
    let mut tls = tls.clone();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    // 0-RTT stays off (RFC 9001 §4.6.1: replayable requests); quinn requires 0 or u32::MAX.
    tls.max_early_data_size = 0;
    let crypto = QuicServerConfig::try_from(tls).map_err(|e| format!("QUIC TLS settings: {e}"))?;
    let mut transport = TransportConfig::default();
    transport
        .max_concurrent_bidi_streams(VarInt::from_u32(MAX_STREAMS))
        // The client's control stream and QPACK streams, and a few of unknown types.
        .max_concurrent_uni_streams(VarInt::from_u32(8))
        .stream_receive_window(VarInt::from_u32(STREAM_WINDOW))
        .receive_window(VarInt::from_u32(CONNECTION_WINDOW))
        .send_window(SEND_WINDOW)
        .max_idle_timeout(Some(
            timeouts
                .keep_alive
                .max(Duration::from_secs(1))
                .try_into()
                .map_err(|_| "the keep-alive timeout is too long for QUIC".to_string())?,
        ));
    let mut config = ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(Arc::new(transport));
    // A client may move to a new address (RFC 9000 §9); the path is validated first.
    config.migration(true);
    Ok(Arc::new(config))
}

impl Quic {
    /// Worker `worker`'s endpoint `index` on `socket` (made non-blocking here) with
    /// `config` and `endpoint` (shared keys, [`steer`]), whose connections take places under
    /// `limits`. It forwards what it does not own once given its peers ([`Quic::set_peers`]).
    pub fn new(
        (worker, index): (u16, usize),
        socket: UdpSocket,
        endpoint: &EndpointConfig,
        config: Arc<ServerConfig>,
        limits: &Arc<Limits>,
        timeouts: Timeouts,
        recorded: bool,
    ) -> io::Result<Quic> {
        socket.set_nonblocking(true)?;
        let state = UdpSocketState::new(UdpSockRef::from(&socket))?;
        let mut endpoint = endpoint.clone();
        endpoint.cid_generator(move || Box::new(WorkerIds { worker }));
        let endpoint = Endpoint::new(Arc::new(endpoint), Some(config), true, None);
        Ok(Quic {
            worker,
            index,
            peers: Arc::from(Vec::new()),
            socket,
            state,
            endpoint,
            links: HashMap::new(),
            due: HashSet::new(),
            limits: Arc::clone(limits),
            timeouts,
            recorded,
            draining: false,
            recv: vec![0; BATCH * RECV_BUF],
            send: Vec::with_capacity(64 * 1024),
        })
    }

    /// The queues of every worker, by index, to forward datagrams to.
    pub fn set_peers(&mut self, peers: &Arc<[Arc<Inbound>]>) {
        self.peers = Arc::clone(peers);
    }

    /// The socket, for epoll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// The UDP port the endpoint listens on.
    pub fn port(&self) -> u16 {
        self.socket.local_addr().map_or(0, |address| address.port())
    }

    /// Datagrams quinn-proto may put in one GSO send.
    fn max_segments(&self) -> usize {
        self.state.max_gso_segments()
    }

    /// Whether no connection is left.
    pub fn is_empty(&self) -> bool {
        self.links.is_empty()
    }

    /// The server shuts down: each connection sends GOAWAY, finishes its requests, and
    /// closes; new connections are refused.
    pub fn begin_shutdown(&mut self) {
        self.draining = true;
        for (&handle, link) in &mut self.links {
            link.h3.begin_shutdown();
            self.due.insert(handle);
        }
    }

    /// The earliest timer of any connection.
    pub fn deadline(&self) -> Option<Instant> {
        self.links.values().filter_map(|link| link.timer).min()
    }

    /// One turn, at `now`: reads what arrived (`readable`: epoll said so), then gives a turn
    /// (its timers, its streams, its datagrams) to each connection that has something to
    /// do: datagrams that arrived, a timer that passed, a parked request (`woken`: the bell
    /// rang for one); and drops the finished. A connection waiting on nothing is not
    /// touched, so an idle one costs nothing per turn: its output blocked by flow control
    /// or congestion moves on a datagram (an ACK, MAX_STREAM_DATA) or a timer (pacing).
    pub fn drive(&mut self, ctx: &Context<'_>, now: Instant, readable: bool, woken: bool) {
        if readable {
            self.receive(now);
        }
        let max_segments = self.max_segments();
        let mut gone = Vec::new();
        let due = std::mem::take(&mut self.due);
        for (&handle, link) in &mut self.links {
            let timer = link.timer.is_some_and(|at| at <= now);
            if !(due.contains(&handle) || timer || woken && link.h3.has_parked()) {
                continue;
            }
            link.turn(handle, &mut self.endpoint, ctx, now, self.draining);
            link.transmit(now, max_segments, &self.socket, &self.state, &mut self.send);
            if link.quic.is_drained() {
                // The endpoint forgets the connection's ids with its last events.
                while let Some(event) = link.quic.poll_endpoint_events() {
                    self.endpoint.handle_event(handle, event);
                }
                gone.push(handle);
            }
        }
        for handle in gone {
            self.links.remove(&handle);
        }
    }

    /// Reads datagrams until the socket has none (or [`RECV_CALLS`] batches), each fed to
    /// the endpoint.
    fn receive(&mut self, now: Instant) {
        let mut recv = std::mem::take(&mut self.recv);
        for _ in 0..RECV_CALLS {
            let mut meta = [RecvMeta::default(); BATCH];
            let mut bufs: Vec<IoSliceMut<'_>> =
                recv.chunks_mut(RECV_BUF).map(IoSliceMut::new).collect();
            let count = match self
                .state
                .recv(UdpSockRef::from(&self.socket), &mut bufs, &mut meta)
            {
                Ok(count) => count,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::debug!("QUIC receive: {e}");
                    break;
                }
            };
            drop(bufs);
            for (meta, buf) in meta.iter().zip(recv.chunks(RECV_BUF)).take(count) {
                let data = buf.get(..meta.len).unwrap_or_default();
                let stride = meta.stride.max(1);
                for datagram in data.chunks(stride) {
                    self.datagram(now, meta, datagram);
                }
            }
        }
        self.recv = recv;
    }

    /// Forwards one datagram to the worker that owns it ([`steer`]), or feeds it to the
    /// endpoint.
    fn datagram(&mut self, now: Instant, meta: &RecvMeta, datagram: &[u8]) {
        let ecn = meta.ecn.and_then(|ecn| EcnCodepoint::from_bits(ecn as u8));
        let owner = steer::owner(datagram).filter(|&owner| owner != self.worker);
        if let Some(peer) = owner.and_then(|owner| self.peers.get(usize::from(owner))) {
            log::trace!("{}: a datagram forwarded to worker {owner:?}", meta.addr);
            return peer.push(Forwarded {
                endpoint: self.index,
                remote: meta.addr,
                local_ip: meta.dst_ip,
                ecn,
                data: datagram.to_vec(),
            });
        }
        self.handle(now, meta.addr, meta.dst_ip, ecn, BytesMut::from(datagram));
    }

    /// A datagram another worker forwarded to this one.
    pub fn forwarded(&mut self, now: Instant, datagram: Forwarded) {
        let data = BytesMut::from(&datagram.data[..]);
        self.handle(now, datagram.remote, datagram.local_ip, datagram.ecn, data);
    }

    /// Feeds one datagram to the endpoint.
    fn handle(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        local_ip: Option<IpAddr>,
        ecn: Option<EcnCodepoint>,
        data: BytesMut,
    ) {
        let mut buf = std::mem::take(&mut self.send);
        buf.clear();
        let event = self
            .endpoint
            .handle(now, remote, local_ip, ecn, data, &mut buf);
        match event {
            Some(DatagramEvent::ConnectionEvent(handle, event)) => {
                if let Some(link) = self.links.get_mut(&handle) {
                    link.quic.handle_event(event);
                    self.due.insert(handle);
                }
            }
            Some(DatagramEvent::NewConnection(incoming)) => self.admit(incoming, now, &mut buf),
            Some(DatagramEvent::Response(transmit)) => {
                link::send(&self.socket, &self.state, &transmit, &buf);
            }
            None => {}
        }
        self.send = buf;
    }

    /// A client's first packet: refused when the server shuts down or the limits have no
    /// place for it, sent a Retry while many handshakes are in progress and its address is
    /// not validated, else accepted.
    fn admit(&mut self, incoming: Incoming, now: Instant, buf: &mut Vec<u8>) {
        let peer = incoming.remote_address();
        if self.draining {
            let transmit = self.endpoint.refuse(incoming, buf);
            return link::send(&self.socket, &self.state, &transmit, buf);
        }
        let handshaking = self
            .links
            .values_mut()
            .filter(|link| link.quic.is_handshaking())
            .count();
        if handshaking >= RETRY_ABOVE
            && !incoming.remote_address_validated()
            && incoming.may_retry()
        {
            log::debug!("{peer}: QUIC Retry ({handshaking} handshakes under way)");
            match self.endpoint.retry(incoming, buf) {
                Ok(transmit) => link::send(&self.socket, &self.state, &transmit, buf),
                Err(e) => self.endpoint.ignore(e.into_incoming()),
            }
            return;
        }
        let slot = match self.limits.admit(Some(peer.ip())) {
            Admission::Place(slot) => slot,
            // Room only in place of an idle connection: a QUIC connection does not take
            // another worker's place; it is refused, and the client falls back to TCP.
            Admission::Replace(..) | Admission::Refused(_) => {
                log::debug!("{peer}: QUIC connection refused by the connection limits");
                let transmit = self.endpoint.refuse(incoming, buf);
                return link::send(&self.socket, &self.state, &transmit, buf);
            }
        };
        match self.endpoint.accept(incoming, now, buf, None) {
            Ok((handle, quic)) => {
                let link = Link::new(quic, slot, self.timeouts, self.recorded);
                self.links.insert(handle, link);
                self.due.insert(handle);
            }
            Err(e) => {
                log::debug!("{peer}: QUIC handshake refused: {}", e.cause);
                if let Some(transmit) = e.response {
                    link::send(&self.socket, &self.state, &transmit, buf);
                }
            }
        }
    }
}
