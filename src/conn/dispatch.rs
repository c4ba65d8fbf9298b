//! The connection core a transport drives: HTTP/1.1 ([`Conn`]) or HTTP/2 ([`H2Conn`]),
//! behind one surface, dispatched with a `match` (no trait object on the hot path).
//!
//! Every connection starts as HTTP/1.1, unless TLS negotiated `h2` with ALPN (RFC 9113
//! §3.2), when the transport calls [`Core::start_h2`] after the handshake. In the clear, a
//! client with prior knowledge (RFC 9113 §3.3) opens with the preface
//! `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`, which the HTTP/1.1 core would answer 505: before the
//! HTTP/1.1 core looks at a connection's first bytes, they are compared with the preface,
//! and a connection that sends it becomes HTTP/2, keeping the bytes read. The h2c Upgrade
//! mechanism is not offered (RFC 9113 §3.1 deprecates it).
//!
//! A first line of three words whose last is no HTTP version (`INVALID CONNECTION
//! PREFACE`) is neither an HTTP/1.x request line (RFC 9112 §3: its third word is the
//! HTTP-version, §2.3) nor the preface, which is such a line itself (`PRI * HTTP/2.0`). On a
//! port that takes h2c it goes to the HTTP/2 core, which answers an invalid preface with
//! GOAWAY(PROTOCOL_ERROR) and closes (RFC 9113 §3.4): the answer an HTTP/2 client
//! understands, where an HTTP/1.1 400 would reach it as a 4.7 MB frame header. This is a
//! deviation from RFC 9112 §2.2's SHOULD answer 400 for this one shape; lines of other
//! shapes (two words, or a version of any kind, `http/1.1` and `HTTP/9.9` included) still
//! get the HTTP/1.1 core's 400 or 505 naming the rule, as they do with `--http2 off`.

use super::h2::{H2Conn, PREFACE};
use super::{Conn, Context, State, Stats, Timeouts};
use crate::http::output::Item;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// What the connection wants done next.
#[derive(Debug)]
pub enum Want<'a> {
    /// Write (a prefix of) this, then call [`Core::wrote`] with the count.
    Write(Item<'a>),
    /// Read: append to [`Core::read_buffer`], or call [`Core::peer_closed`] at the end.
    Read,
    /// Shut down the write side, then call [`Core::write_shut`].
    ShutdownWrite,
    /// Neither read nor write: a request waits for a handler's work, and the context's waker
    /// gives the connection a turn once it is done (or [`Core::deadline`] passes).
    Park,
    /// Close the connection: it is over.
    Close,
}

/// A connection's core, with what it must carry over if it changes protocol.
#[derive(Debug)]
pub struct Core {
    kind: Kind,
    /// HTTP/2 with prior knowledge is taken in the clear (`--http2 on`).
    h2c: bool,
    timeouts: Timeouts,
    hsts: Option<Arc<str>>,
    refusal: Option<&'static str>,
    unrecorded: bool,
}

/// Which protocol the connection speaks. HTTP/1.1's core stays inline, as it was before
/// HTTP/2 (no allocation or indirection more per connection on its path); HTTP/2's, larger
/// and rarer, is boxed.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Kind {
    H1(Conn),
    H2(Box<H2Conn>),
}

/// What a connection's first bytes say about HTTP/2 with prior knowledge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prior {
    /// Not the preface: HTTP/1.1.
    No,
    /// A prefix of the preface: read more before deciding.
    Maybe,
    /// The whole preface, or a first line that is no HTTP/1.x request line: HTTP/2's to
    /// answer.
    Yes,
}

/// Whether `bytes` start with a whole line of three words whose third does not begin with
/// an HTTP-name and slash (RFC 9112 §2.3, compared without case so that `http/1.1` stays an
/// HTTP/1.1 client's mistake).
fn is_versionless_line(bytes: &[u8]) -> bool {
    let Some(end) = memchr::memchr(b'\n', bytes) else {
        return false;
    };
    let line = bytes[..end].strip_suffix(b"\r").unwrap_or(&bytes[..end]);
    let mut words = line.split(|&b| b == b' ').filter(|word| !word.is_empty());
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some(_), Some(_), Some(version), None) => !version
            .get(..5)
            .is_some_and(|name| name.eq_ignore_ascii_case(b"HTTP/")),
        _ => false,
    }
}

impl Core {
    /// A new connection from `peer`, accepted at `now`; `h2c`: a client that opens with the
    /// HTTP/2 preface gets HTTP/2.
    pub fn new(peer: SocketAddr, timeouts: Timeouts, now: Instant, h2c: bool) -> Core {
        Core {
            kind: Kind::H1(Conn::new(peer, timeouts, now)),
            h2c,
            timeouts,
            hsts: None,
            refusal: None,
            unrecorded: false,
        }
    }

    /// Whether the connection speaks HTTP/2.
    pub fn is_h2(&self) -> bool {
        matches!(self.kind, Kind::H2(_))
    }

    /// Switches to HTTP/2 at `now` (ALPN chose `h2`, or a client in the clear sent the
    /// preface), keeping the bytes read so far.
    pub fn start_h2(&mut self, now: Instant) {
        let Kind::H1(conn) = &mut self.kind else {
            return;
        };
        let mut h2 = H2Conn::new(conn.peer(), self.timeouts, conn.take_input(), now);
        h2.set_hsts(self.hsts.clone());
        if let Some(message) = self.refusal {
            h2.refuse(message);
        }
        if self.unrecorded {
            h2.set_unrecorded();
        }
        self.kind = Kind::H2(Box::new(h2));
    }

    /// What the HTTP/1.1 core's first bytes say of a preface.
    fn prior(&self) -> Prior {
        let Kind::H1(conn) = &self.kind else {
            return Prior::No;
        };
        if !self.h2c || !conn.is_fresh() {
            return Prior::No;
        }
        let buffered = conn.buffered();
        let n = buffered.len().min(PREFACE.len());
        if buffered.get(..n) != PREFACE.get(..n) {
            if is_versionless_line(buffered) {
                Prior::Yes
            } else {
                Prior::No
            }
        } else if n < PREFACE.len() {
            Prior::Maybe
        } else {
            Prior::Yes
        }
    }

    /// What to do next (see [`Conn::poll`], [`H2Conn::poll`]).
    pub fn poll(&mut self, ctx: &Context<'_>, now: Instant) -> Want<'_> {
        match self.prior() {
            Prior::No => {}
            Prior::Maybe => {
                if let Kind::H1(conn) = &self.kind {
                    if !conn.buffered().is_empty() && !conn.is_peer_closed() {
                        return Want::Read;
                    }
                }
            }
            Prior::Yes => self.start_h2(now),
        }
        match &mut self.kind {
            Kind::H1(conn) => conn.poll(ctx, now),
            Kind::H2(conn) => conn.poll(ctx, now),
        }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        match &self.kind {
            Kind::H1(conn) => conn.peer(),
            Kind::H2(conn) => conn.peer(),
        }
    }

    /// The client is `peer` from now on (a PROXY protocol header named it).
    pub fn set_peer(&mut self, peer: SocketAddr) {
        if let Kind::H1(conn) = &mut self.kind {
            conn.set_peer(peer);
        }
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        match &self.kind {
            Kind::H1(conn) => conn.is_closed(),
            Kind::H2(conn) => conn.is_closed(),
        }
    }

    /// Counts of what the connection did.
    pub fn stats(&self) -> Stats {
        match &self.kind {
            Kind::H1(conn) => conn.stats(),
            Kind::H2(conn) => conn.stats(),
        }
    }

    /// Whether closing the connection loses nothing.
    pub fn is_idle(&self) -> bool {
        match &self.kind {
            Kind::H1(conn) => conn.is_idle(),
            Kind::H2(conn) => conn.is_idle(),
        }
    }

    /// Whether a shutdown may close the connection now.
    pub fn is_quiet(&self) -> bool {
        match &self.kind {
            Kind::H1(conn) => conn.is_quiet(),
            Kind::H2(conn) => conn.is_quiet(),
        }
    }

    /// Whether the connection is over and owes the client nothing.
    pub fn is_finished(&self) -> bool {
        match &self.kind {
            Kind::H1(conn) => conn.is_finished(),
            Kind::H2(conn) => conn.is_finished(),
        }
    }

    /// When the connection last became idle.
    pub fn idle_since(&self) -> Instant {
        match &self.kind {
            Kind::H1(conn) => conn.idle_since(),
            Kind::H2(conn) => conn.idle_since(),
        }
    }

    /// When [`Core::expire`] must be called.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.kind {
            Kind::H1(conn) => conn.deadline(),
            Kind::H2(conn) => conn.deadline(),
        }
    }

    /// Runs the deadlines that passed at `now`.
    pub fn expire(&mut self, now: Instant) {
        match &mut self.kind {
            Kind::H1(conn) => conn.expire(now),
            Kind::H2(conn) => conn.expire(now),
        }
    }

    /// The buffer to append read bytes to.
    pub fn read_buffer(&mut self) -> &mut Vec<u8> {
        match &mut self.kind {
            Kind::H1(conn) => conn.read_buffer(),
            Kind::H2(conn) => conn.read_buffer(),
        }
    }

    /// The socket had nothing to read (see [`Conn::nothing_read`]).
    pub fn nothing_read(&mut self) {
        match &mut self.kind {
            Kind::H1(conn) => conn.nothing_read(),
            Kind::H2(conn) => conn.nothing_read(),
        }
    }

    /// The client closed its side.
    pub fn peer_closed(&mut self) {
        match &mut self.kind {
            Kind::H1(conn) => conn.peer_closed(),
            Kind::H2(conn) => conn.peer_closed(),
        }
    }

    /// Over TLS with `--hsts`: the responses the connection makes itself carry it.
    pub fn set_hsts(&mut self, hsts: Option<Arc<str>>) {
        self.hsts.clone_from(&hsts);
        match &mut self.kind {
            Kind::H1(conn) => conn.set_hsts(hsts),
            Kind::H2(conn) => conn.set_hsts(hsts),
        }
    }

    /// The server will not serve this connection (see [`Conn::refuse`]).
    pub fn refuse(&mut self, message: &'static str) {
        self.refusal = Some(message);
        match &mut self.kind {
            Kind::H1(conn) => conn.refuse(message),
            Kind::H2(conn) => conn.refuse(message),
        }
    }

    /// The connection's exchanges are not recorded.
    pub fn set_unrecorded(&mut self) {
        self.unrecorded = true;
        match &mut self.kind {
            Kind::H1(conn) => conn.set_unrecorded(),
            Kind::H2(conn) => conn.set_unrecorded(),
        }
    }

    /// The transport shut the write side down.
    pub fn write_shut(&mut self, now: Instant) {
        match &mut self.kind {
            Kind::H1(conn) => conn.write_shut(now),
            Kind::H2(conn) => conn.write_shut(now),
        }
    }

    /// The server shuts down: an HTTP/2 connection queues GOAWAY(NO_ERROR) and finishes
    /// its streams; an HTTP/1.1 one closes after its response, as it does already.
    pub fn begin_shutdown(&mut self) {
        if let Kind::H2(conn) = &mut self.kind {
            conn.begin_shutdown();
        }
    }

    /// HTTP/2's next bytes or file region to write, DATA made for it as the windows allow,
    /// without reading or waking anything first: for a transport gathering several items
    /// for one write after [`Core::poll`] gave it the first. `None` for HTTP/1.1, or when
    /// nothing more is to be written.
    pub fn more_output(&mut self) -> Option<Item<'_>> {
        match &mut self.kind {
            Kind::H1(_) => None,
            Kind::H2(conn) => conn.more_output(),
        }
    }

    /// Whether the transport should read while its writes wait for the socket: HTTP/2
    /// multiplexes, and a client's WINDOW_UPDATE or next request must not wait behind a
    /// download; HTTP/1.1 reads nothing while output waits.
    pub fn reads_while_writing(&self) -> bool {
        match &self.kind {
            Kind::H1(_) => false,
            Kind::H2(conn) => conn.takes_more_input(),
        }
    }

    /// Applies the bytes read while writes waited (see [`Core::reads_while_writing`]).
    pub fn absorb(&mut self, ctx: &Context<'_>, now: Instant) {
        if let Kind::H2(conn) = &mut self.kind {
            conn.absorb(ctx, now);
        }
    }

    /// The socket took `n` bytes of the item [`Core::poll`] gave, at `now`.
    pub fn wrote(&mut self, n: usize, now: Instant) {
        match &mut self.kind {
            Kind::H1(conn) => conn.wrote(n, now),
            Kind::H2(conn) => conn.wrote(n, now),
        }
    }

    /// The transport took `n` bytes of the item, to send in its own form.
    pub fn took(&mut self, n: usize) {
        match &mut self.kind {
            Kind::H1(conn) => conn.took(n),
            Kind::H2(conn) => conn.took(n),
        }
    }

    /// The client's socket took `n` bytes at `now`.
    pub fn sent(&mut self, n: usize, now: Instant) {
        match &mut self.kind {
            Kind::H1(conn) => conn.sent(n, now),
            Kind::H2(conn) => conn.sent(n, now),
        }
    }

    /// Whether the transport holds bytes the socket has not taken.
    pub fn set_holding(&mut self, holding: bool) {
        match &mut self.kind {
            Kind::H1(conn) => conn.set_holding(holding),
            Kind::H2(conn) => conn.set_holding(holding),
        }
    }
}

/// What the switch to HTTP/2 needs of the HTTP/1.1 core.
impl Conn {
    /// Whether the connection has not begun a request: nothing answered, no head under
    /// way, not refused. Its buffered bytes may still turn out to be another protocol's.
    fn is_fresh(&self) -> bool {
        matches!(self.state, State::Idle { .. })
            && self.stats.responses == 0
            && self.refusal.is_none()
    }

    /// The bytes read and not yet used.
    fn buffered(&self) -> &[u8] {
        self.unprocessed()
    }

    /// Whether the client closed its side.
    fn is_peer_closed(&self) -> bool {
        self.peer_closed
    }

    /// Hands the bytes read and not yet used over (to the core that takes the connection
    /// on); the connection is left closed.
    fn take_input(&mut self) -> Vec<u8> {
        self.input.drain(..self.pos);
        self.pos = 0;
        self.state = State::Closed;
        std::mem::take(&mut self.input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::client::TrustedProxies;
    use crate::handlers::Handler;
    use crate::http::head::RequestHead;
    use crate::http::response::Response;
    use nomserve_grammar::Request;
    use std::net::{IpAddr, Ipv4Addr};
    use std::task::Waker;
    use std::time::Duration;

    const TIMEOUTS: Timeouts = Timeouts {
        header: Duration::from_secs(10),
        keep_alive: Duration::from_secs(5),
        send: Duration::from_secs(10),
        min_send_rate: 0,
    };

    struct Fine;

    impl Handler for Fine {
        fn handle(&self, _: &Request<'_, '_>, _: &RequestHead<'_>, _: IpAddr) -> Response {
            Response::text(200, "fine")
        }
    }

    /// A new core fed `bytes`; what it wants first, as the bytes of a write or "read".
    fn first_want(h2c: bool, bytes: &[u8]) -> (Core, Vec<u8>) {
        let now = Instant::now();
        let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);
        let mut core = Core::new(peer, TIMEOUTS, now, h2c);
        core.read_buffer().extend_from_slice(bytes);
        let ctx = Context {
            handler: &Fine,
            trusted: &TrustedProxies::default(),
            shutting_down: false,
            waker: &|| Waker::noop().clone(),
        };
        let want = match core.poll(&ctx, now) {
            Want::Write(Item::Bytes { bytes, .. }) => bytes.to_vec(),
            Want::Read => b"read".to_vec(),
            other => panic!("unexpected {other:?}"),
        };
        (core, want)
    }

    #[test]
    fn the_preface_in_the_clear_switches_to_http2() {
        let (core, want) = first_want(true, PREFACE);
        assert!(core.is_h2());
        // The server's preface: a SETTINGS frame (type 4 on stream 0).
        assert_eq!(want.get(3..5), Some(&[4, 0][..]));
    }

    #[test]
    fn part_of_the_preface_waits_for_the_rest() {
        let (core, want) = first_want(true, &PREFACE[..20]);
        assert!(!core.is_h2());
        assert_eq!(want, b"read");
        // Without h2c, the request-line is HTTP/1.1's to answer: a version it lacks.
        let (core, want) = first_want(false, PREFACE);
        assert!(!core.is_h2());
        assert!(want.starts_with(b"HTTP/1.1 505"));
    }

    #[test]
    fn an_http11_request_stays_http11() {
        let (core, want) = first_want(true, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(!core.is_h2());
        assert!(want.starts_with(b"HTTP/1.1 200"));
        let (core, want) = first_want(true, b"PUT / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(!core.is_h2(), "P, but not the preface");
        assert!(want.starts_with(b"HTTP/1.1 200"));
    }

    #[test]
    fn a_line_with_no_version_is_an_invalid_preface_where_h2c_is_taken() {
        let line = b"INVALID CONNECTION PREFACE\r\n\r\n";
        let (core, want) = first_want(true, line);
        assert!(core.is_h2());
        // The server's SETTINGS (type 4) first, then a GOAWAY (type 7) with PROTOCOL_ERROR (1).
        assert_eq!(want.get(3), Some(&4));
        let mut goaway = 0;
        while want.get(goaway + 3) != Some(&7) {
            goaway += 9 + usize::from(u16::from_be_bytes([want[goaway + 1], want[goaway + 2]]));
            assert!(goaway < want.len(), "no GOAWAY in {want:?}");
        }
        assert_eq!(want.get(goaway + 13..goaway + 17), Some(&[0, 0, 0, 1][..]));
        assert!(want.ends_with(b"invalid connection preface"));
        let (core, want) = first_want(false, line);
        assert!(!core.is_h2());
        assert!(want.starts_with(b"HTTP/1.1 400"), "without h2c");
        // A version of any kind, two words, or a line not yet whole: HTTP/1.1's to answer.
        for line in [
            &b"GET / http/1.1\r\n\r\n"[..],
            b"GET / HTTP/9.9\r\n\r\n",
            b"GET / HTTP/ 1.1\r\n\r\n",
            b"GET /\r\n\r\n",
            b"PROXY TCP4 192.0.2.1 127.0.0.1 1 80\r\n",
        ] {
            let (core, want) = first_want(true, line);
            assert!(!core.is_h2(), "{line:?}");
            assert!(want.starts_with(b"HTTP/1.1 4") || want.starts_with(b"HTTP/1.1 5"));
        }
        let (core, _) = first_want(true, b"INVALID CONNECTION PREF");
        assert!(!core.is_h2());
    }
}
