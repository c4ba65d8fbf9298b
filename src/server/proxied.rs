//! The PROXY protocol header a load balancer sends before the client's bytes
//! (`--proxy-protocol`; HAProxy's "The PROXY protocol", versions 1 and 2).
//!
//! It is read before anything else on the connection, TLS included, from the socket itself:
//! the bytes there are peeked at and parsed ([`nomserve_grammar::parse_proxy_header`]), and
//! only the header's own bytes are taken, so the request (or the TLS handshake) that follows
//! is left for the transport. While the header is incomplete the connection is idle, and its
//! first deadline (the header timeout) bounds the wait. A connection without a valid header is
//! closed without an answer (the peer speaks PROXY protocol or is not our balancer), and the
//! refusal is logged at most once a minute per address, so a misconfigured balancer or a scan
//! cannot flood the log.

use super::turn::Readiness;
use nomserve_grammar::{MAX_V2_LEN, Parsed, parse_proxy_header};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::RecvFlags;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How often one address's refusals are logged, at most.
const COMPLAINT_INTERVAL: Duration = Duration::from_secs(60);

/// Addresses whose last refusal is remembered, at most; past it the oldest are forgotten.
const COMPLAINTS_KEPT: usize = 1024;

/// What reading the header came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// The header is read and taken off the socket: the client it names, or `None` when it
    /// names none (a `LOCAL` health check, `UNKNOWN`, an address family without one), and
    /// then the peer stands.
    Client(Option<SocketAddr>),
    /// More bytes must arrive.
    Wait,
    /// No valid header: close.
    Close,
}

/// When each address's refusal was last logged.
#[derive(Debug, Default)]
pub struct Complaints(Mutex<HashMap<IpAddr, Instant>>);

impl Complaints {
    /// Logs that `peer` sent no valid header, because `why`, unless its address was logged
    /// less than a minute ago.
    fn complain(&self, peer: SocketAddr, why: &str) {
        let now = Instant::now();
        let mut last = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if last
            .get(&peer.ip())
            .is_some_and(|at| now.duration_since(*at) < COMPLAINT_INTERVAL)
        {
            return;
        }
        if last.len() >= COMPLAINTS_KEPT {
            last.retain(|_, at| now.duration_since(*at) < COMPLAINT_INTERVAL);
            if last.len() >= COMPLAINTS_KEPT {
                last.clear();
            }
        }
        last.insert(peer.ip(), now);
        log::warn!(
            "{peer}: closed: {why} (--proxy-protocol needs one on every connection; \
             logged once a minute per address)"
        );
    }
}

/// Reads the PROXY header at the start of `socket`, from `peer`.
pub fn read_header(
    socket: &OwnedFd,
    ready: &mut Readiness,
    peer: SocketAddr,
    complaints: &Complaints,
) -> Arrival {
    let mut bytes = [0u8; MAX_V2_LEN];
    loop {
        if !ready.readable {
            return Arrival::Wait;
        }
        let n = match rustix::net::recv(socket, &mut bytes, RecvFlags::PEEK) {
            Ok((0, _)) => {
                complaints.complain(peer, "the connection ended before a PROXY header");
                return Arrival::Close;
            }
            Ok((n, _)) => n,
            Err(Errno::AGAIN) => {
                ready.readable = false;
                return Arrival::Wait;
            }
            Err(Errno::INTR) => continue,
            Err(e) => {
                log::debug!("{peer}: reading a PROXY header: {e}");
                return Arrival::Close;
            }
        };
        return match parse_proxy_header(bytes.get(..n).unwrap_or_default()) {
            Ok(Parsed::Complete { value, consumed }) => {
                let client = value.client();
                match rustix::net::recv(socket, &mut bytes[..consumed], RecvFlags::empty()) {
                    Ok((taken, _)) if taken == consumed => Arrival::Client(client),
                    _ => Arrival::Close,
                }
            }
            Ok(Parsed::Partial) if ready.peer_shut => {
                complaints.complain(peer, "the connection ended inside its PROXY header");
                Arrival::Close
            }
            Ok(Parsed::Partial) => {
                ready.readable = false;
                Arrival::Wait
            }
            Err(e) => {
                complaints.complain(peer, &format!("no valid PROXY header: {e}"));
                Arrival::Close
            }
        };
    }
}
