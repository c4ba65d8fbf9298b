//! A connection's preface (`--proxy-protocol`): the PROXY header, read before the transport
//! sees a byte ([`proxied::read_header`]), and what the worker does with the client it names.
//!
//! The client the header names becomes the connection's peer, and takes the connection's
//! place in the per-address counts (until then it counted against no address: the balancer
//! carries many clients, and behind a Unix socket there is no address at all); a client
//! already at `--max-connections-per-ip` is closed. A header that names no client (a `LOCAL`
//! health check, `UNKNOWN`) leaves the peer as it was.

use crate::conn::Core;
use crate::server::limits::Slot;
use crate::server::proxied::{self, Arrival, Complaints};
use crate::server::turn::Readiness;
use rustix::fd::OwnedFd;

/// What reading the preface came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preface {
    /// Read and taken off the socket: the transport takes the connection from here.
    Read,
    /// More bytes must arrive (or the deadline pass).
    Wait,
    /// Close the connection: no valid header, a client past its cap, or the connection's
    /// deadline passed first.
    Close,
}

/// Reads the PROXY header at the start of `stream`, the socket of `conn`, whose place under
/// the limits is `slot`.
pub fn read(
    stream: &OwnedFd,
    ready: &mut Readiness,
    conn: &mut Core,
    slot: &mut Slot,
    complaints: &Complaints,
) -> Preface {
    if conn.is_closed() {
        return Preface::Close;
    }
    let peer = conn.peer();
    match proxied::read_header(stream, ready, peer, complaints) {
        Arrival::Client(None) => Preface::Read,
        Arrival::Client(Some(client)) => {
            if slot.readdress(client.ip()).is_err() {
                log::warn!("{client} (through {peer}): past --max-connections-per-ip; closed");
                return Preface::Close;
            }
            conn.set_peer(client);
            Preface::Read
        }
        Arrival::Wait => Preface::Wait,
        Arrival::Close => Preface::Close,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::Timeouts;
    use crate::server::UNIX_PEER;
    use crate::server::limits::{Admission, Limits, Refusal};
    use std::io::{Read, Write};
    use std::net::{IpAddr, SocketAddr};
    use std::os::unix::net::UnixStream;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    const TIMEOUTS: Timeouts = Timeouts {
        header: Duration::from_secs(10),
        keep_alive: Duration::from_secs(5),
        send: Duration::from_secs(10),
        min_send_rate: 0,
    };

    /// A connection on one end of a socket pair, as the worker holds it, and the other end,
    /// the balancer's.
    struct Held {
        stream: OwnedFd,
        ready: Readiness,
        conn: Core,
        slot: Slot,
        balancer: UnixStream,
    }

    impl Held {
        fn new(limits: &Arc<Limits>, peer: SocketAddr) -> Held {
            let (ours, balancer) = UnixStream::pair().unwrap();
            ours.set_nonblocking(true).unwrap();
            let Admission::Place(slot) = limits.admit(None) else {
                panic!("no place");
            };
            Held {
                stream: OwnedFd::from(ours),
                ready: Readiness {
                    readable: false,
                    writable: true,
                    peer_shut: false,
                },
                conn: Core::new(peer, TIMEOUTS, Instant::now(), true),
                slot,
                balancer,
            }
        }

        /// The balancer sends `bytes`, and the worker hears of it.
        fn send(&mut self, bytes: &[u8]) {
            self.balancer.write_all(bytes).unwrap();
            self.ready.readable = true;
        }

        fn read(&mut self) -> Preface {
            read(
                &self.stream,
                &mut self.ready,
                &mut self.conn,
                &mut self.slot,
                &Complaints::default(),
            )
        }

        /// What is left on the socket for the transport.
        fn left(&self) -> Vec<u8> {
            let mut left = vec![0; 64];
            let n = (&UnixStream::from(self.stream.try_clone().unwrap()))
                .read(&mut left)
                .unwrap();
            left.truncate(n);
            left
        }
    }

    fn limits(max_per_address: Option<usize>) -> Arc<Limits> {
        Limits::new(16, max_per_address, 64, 1)
    }

    fn address(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_header_split_across_reads_is_read_once_whole() {
        let limits = limits(None);
        let mut held = Held::new(&limits, address("127.0.0.1:40000"));
        assert_eq!(held.read(), Preface::Wait);
        held.send(b"PROXY TCP4 192.0.2.7 ");
        assert_eq!(held.read(), Preface::Wait);
        assert!(!held.ready.readable, "drained until the next event");
        assert_eq!(held.conn.peer(), address("127.0.0.1:40000"));
        held.send(b"192.0.2.1 56324 443\r\nGET / HTTP/1.1\r\n");
        assert_eq!(held.read(), Preface::Read);
        assert_eq!(held.conn.peer(), address("192.0.2.7:56324"));
        // Only the header's bytes are taken: the request is the transport's.
        assert_eq!(held.left(), b"GET / HTTP/1.1\r\n");
    }

    #[test]
    fn a_bad_header_closes_the_connection() {
        let limits = limits(None);
        let mut held = Held::new(&limits, address("127.0.0.1:40000"));
        held.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(held.read(), Preface::Close);
        assert_eq!(held.conn.peer(), address("127.0.0.1:40000"));
    }

    #[test]
    fn a_connection_that_ends_inside_its_header_is_closed() {
        let limits = limits(None);
        let mut held = Held::new(&limits, address("127.0.0.1:40000"));
        held.send(b"PROXY TCP4 192.0.2.7");
        held.balancer.shutdown(std::net::Shutdown::Write).unwrap();
        held.ready.peer_shut = true;
        assert_eq!(held.read(), Preface::Close);
    }

    #[test]
    fn a_unix_socket_client_takes_the_address_the_header_names() {
        let limits = limits(Some(1));
        let mut held = Held::new(&limits, UNIX_PEER);
        held.send(b"PROXY TCP6 2001:db8::1 2001:db8::2 40000 443\r\n");
        assert_eq!(held.read(), Preface::Read);
        assert_eq!(held.conn.peer(), address("[2001:db8::1]:40000"));
        // It counts against that address now: the address is at its cap of one.
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(matches!(
            limits.admit(Some(ip)),
            Admission::Refused(Refusal::PerAddress)
        ));
    }

    #[test]
    fn a_header_that_names_no_client_leaves_the_peer() {
        let limits = limits(None);
        let mut held = Held::new(&limits, UNIX_PEER);
        held.send(b"PROXY UNKNOWN\r\n");
        assert_eq!(held.read(), Preface::Read);
        assert_eq!(held.conn.peer(), UNIX_PEER);
    }

    #[test]
    fn a_client_past_its_cap_is_closed() {
        let limits = limits(Some(1));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let Admission::Place(_held) = limits.admit(Some(ip)) else {
            panic!("no place");
        };
        let mut held = Held::new(&limits, address("127.0.0.1:40000"));
        held.send(b"PROXY TCP4 192.0.2.7 192.0.2.1 56324 443\r\n");
        assert_eq!(held.read(), Preface::Close);
        assert_eq!(held.conn.peer(), address("127.0.0.1:40000"));
    }

    #[test]
    fn a_connection_closed_at_its_deadline_is_closed_before_any_read() {
        let limits = limits(None);
        let mut held = Held::new(&limits, address("127.0.0.1:40000"));
        held.conn.expire(Instant::now() + TIMEOUTS.header);
        assert!(held.conn.is_closed());
        held.send(b"PROXY UNKNOWN\r\n");
        assert_eq!(held.read(), Preface::Close);
        // Nothing was taken.
        assert_eq!(held.left(), b"PROXY UNKNOWN\r\n");
    }
}
