//! How a datagram reaches the worker that owns its connection.
//!
//! Every worker has its own UDP socket at each HTTP/3 address, all bound with
//! `SO_REUSEPORT`: the kernel spreads the clients over them by a hash of the 4-tuple, so a
//! connection's handshake and every datagram after it from the same client address land on
//! the socket of the worker that accepted it, which owns it from then on. Every connection
//! id a worker issues starts with the worker's index ([`WorkerIds`]). A datagram that lands
//! elsewhere (after a migration or a NAT rebinding, the 4-tuple changed and so did the
//! hash) names its owner in its destination connection id ([`owner`]), and is forwarded to
//! it through the owner's bounded [`Inbound`] queue, whose waker rings the owner's bell.
//! The owner answers from its own socket, which has the same local address and port.
//! Initial and 0-RTT packets carry an id the client chose, and stay where they land: the
//! rest of their handshake comes from the same 4-tuple.
//!
//! Two bytes of each id name a worker, six are random: a path's ids are still unlinkable to
//! another path's beyond the worker they name (RFC 9000 §9.5), and the stateless-reset key
//! and the Retry-token key are the same for every worker, so either works wherever the
//! datagram lands.

use quinn_proto::{ConnectionId, ConnectionIdGenerator, EcnCodepoint};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::task::Waker;
use std::time::Duration;

/// The length of the connection ids the server issues.
pub const CID_LEN: usize = 8;

/// Datagrams a worker's queue holds; past it a forwarded datagram is dropped, which QUIC's
/// loss recovery repairs as it repairs a loss on the network.
const QUEUE: usize = 1024;

/// Connection ids whose first two bytes are the issuing worker's index.
#[derive(Debug)]
pub struct WorkerIds {
    /// The worker's index.
    pub worker: u16,
}

impl ConnectionIdGenerator for WorkerIds {
    fn generate_cid(&mut self) -> ConnectionId {
        let mut bytes = [0u8; CID_LEN];
        if getrandom::fill(&mut bytes).is_err() {
            // No system randomness: ids from the clock still differ from one to the next.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            bytes.copy_from_slice(&(nanos as u64).to_be_bytes());
        }
        bytes[..2].copy_from_slice(&self.worker.to_be_bytes());
        ConnectionId::new(&bytes)
    }

    fn cid_len(&self) -> usize {
        CID_LEN
    }

    fn cid_lifetime(&self) -> Option<Duration> {
        None
    }
}

/// The worker a datagram's destination connection id names, if it is one of ours and the
/// packet is neither Initial nor 0-RTT: a short header (RFC 9000 §17.3: the id follows the
/// first byte, our length) or a QUIC v1 long header of type Handshake (§17.2: version,
/// then the id's length and the id).
pub fn owner(datagram: &[u8]) -> Option<u16> {
    let first = *datagram.first()?;
    let id = if first & 0x80 == 0 {
        datagram.get(1..1 + CID_LEN)?
    } else {
        let version = datagram.get(1..5)?;
        // Long packet types (§17.2): 0 Initial, 1 0-RTT, 2 Handshake, 3 Retry.
        let handshake = (first >> 4) & 0x03 == 2;
        if version != [0, 0, 0, 1] || !handshake || *datagram.get(5)? as usize != CID_LEN {
            return None;
        }
        datagram.get(6..6 + CID_LEN)?
    };
    Some(u16::from_be_bytes([*id.first()?, *id.get(1)?]))
}

/// A datagram that arrived at another worker's socket.
#[derive(Debug)]
pub struct Forwarded {
    /// Which of the owner's endpoints (the HTTP/3 address it arrived at).
    pub endpoint: usize,
    pub remote: SocketAddr,
    pub local_ip: Option<IpAddr>,
    pub ecn: Option<EcnCodepoint>,
    pub data: Vec<u8>,
}

/// A worker's queue of datagrams forwarded to it, and the waker that rings its bell.
#[derive(Debug)]
pub struct Inbound {
    queue: Mutex<VecDeque<Forwarded>>,
    waker: Waker,
}

impl Inbound {
    /// A queue whose worker `waker` wakes.
    pub fn new(waker: Waker) -> Inbound {
        Inbound {
            queue: Mutex::new(VecDeque::new()),
            waker,
        }
    }

    /// Queues `datagram` (dropped if the queue is full), waking the worker if it was empty.
    pub fn push(&self, datagram: Forwarded) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= QUEUE {
            return;
        }
        queue.push_back(datagram);
        if queue.len() == 1 {
            drop(queue);
            self.waker.wake_by_ref();
        }
    }

    /// Takes every datagram queued.
    pub fn take(&self) -> VecDeque<Forwarded> {
        std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_worker_and_datagrams_their_owner() {
        let mut ids = WorkerIds { worker: 3 };
        let (a, b) = (ids.generate_cid(), ids.generate_cid());
        assert_ne!(a, b, "random beyond the worker");
        assert_eq!(&a[..2], [0, 3]);
        // Short header: the first byte, then the id.
        let mut short = vec![0x40];
        short.extend_from_slice(&a);
        short.extend_from_slice(&[0; 20]);
        assert_eq!(owner(&short), Some(3));
        // Handshake: type 2, version 1, the id's length and the id.
        let mut handshake = vec![0xe0, 0, 0, 0, 1, 8];
        handshake.extend_from_slice(&b);
        assert_eq!(owner(&handshake), Some(3));
        // Initial (type 0) and 0-RTT (type 1): the client's id, not ours.
        for first in [0xc0, 0xd0] {
            let mut long = handshake.clone();
            long[0] = first;
            assert_eq!(owner(&long), None);
        }
        // Another version, another id length, or a datagram cut short: no owner.
        let mut other = handshake.clone();
        other[4] = 2;
        assert_eq!(owner(&other), None);
        let mut length = handshake.clone();
        length[5] = 4;
        assert_eq!(owner(&length), None);
        assert_eq!(owner(&short[..4]), None);
        assert_eq!(owner(&[]), None);
    }

    #[test]
    fn the_queue_is_bounded_and_wakes_once_per_batch() {
        let inbound = Inbound::new(Waker::noop().clone());
        let datagram = || Forwarded {
            endpoint: 0,
            remote: "127.0.0.1:9".parse().unwrap(),
            local_ip: None,
            ecn: None,
            data: vec![0; 4],
        };
        for _ in 0..QUEUE + 10 {
            inbound.push(datagram());
        }
        assert_eq!(inbound.take().len(), QUEUE);
        assert!(inbound.take().is_empty());
    }
}
