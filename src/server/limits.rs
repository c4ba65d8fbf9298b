//! How many connections may be open: in all (`--max-connections`) and from one address
//! (`--max-connections-per-ip`), and the 503 a connection past either gets.
//!
//! Counted under one lock, taken once when a connection opens and once when it closes,
//! never per request and never across a system call.

use crate::http::access_log;
use crate::http::response::Response;
use crate::http::writer::{self, Framing};
use rustix::fd::OwnedFd;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Why a connection was not given a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its address has `--max-connections-per-ip` open already.
    PerAddress,
    /// `--max-connections` are open.
    Full,
}

/// The open connections, in all and by address.
#[derive(Debug)]
pub struct Limits {
    counts: Mutex<Counts>,
    all_closed: Condvar,
    max: usize,
    max_per_address: usize,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One connection's place under the limits; dropping it frees the place.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<Limits>,
    /// The address it counts against; `None` for one that is not capped (a trusted proxy,
    /// or a connection whose PROXY header has not named its client yet).
    address: Option<IpAddr>,
}

impl Limits {
    /// Limits of `max` connections in all and `max_per_address` from one address.
    pub fn new(max: usize, max_per_address: usize) -> Arc<Limits> {
        Arc::new(Limits {
            counts: Mutex::new(Counts::default()),
            all_closed: Condvar::new(),
            max,
            max_per_address,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for a connection from `address` (`None`: not capped per address), or why
    /// there is none.
    pub fn try_acquire(self: &Arc<Self>, address: Option<IpAddr>) -> Result<Slot, Refusal> {
        let mut counts = self.lock();
        if self.at_address_cap(&counts, address) {
            return Err(Refusal::PerAddress);
        }
        if counts.total >= self.max {
            return Err(Refusal::Full);
        }
        Ok(self.take(&mut counts, address))
    }

    /// A place for a connection from `address` past `--max-connections`, for one that will
    /// take the place of an idle connection about to be closed.
    pub fn acquire_in_place_of_idle(self: &Arc<Self>, address: Option<IpAddr>) -> Slot {
        let mut counts = self.lock();
        self.take(&mut counts, address)
    }

    fn take(self: &Arc<Self>, counts: &mut Counts, address: Option<IpAddr>) -> Slot {
        counts.total += 1;
        if let Some(address) = address {
            *counts.by_address.entry(address).or_insert(0) += 1;
        }
        Slot {
            limits: Arc::clone(self),
            address,
        }
    }

    /// Whether `address` has its fill of connections.
    fn at_address_cap(&self, counts: &Counts, address: Option<IpAddr>) -> bool {
        address.is_some_and(|address| {
            counts.by_address.get(&address).copied().unwrap_or(0) >= self.max_per_address
        })
    }

    /// Waits until no connection is open or `grace` has passed; returns how many are open.
    pub fn wait_all_closed(&self, grace: Duration) -> usize {
        let counts = self.lock();
        let (counts, _) = self
            .all_closed
            .wait_timeout_while(counts, grace, |counts| counts.total > 0)
            .unwrap_or_else(PoisonError::into_inner);
        counts.total
    }
}

impl Slot {
    /// Counts this place against `address` from now on (the client a PROXY header named),
    /// or says it is at its cap; the place stays as it was then.
    pub fn readdress(&mut self, address: IpAddr) -> Result<(), Refusal> {
        let mut counts = self.limits.lock();
        if self.limits.at_address_cap(&counts, Some(address)) {
            return Err(Refusal::PerAddress);
        }
        forget(&mut counts, self.address);
        *counts.by_address.entry(address).or_insert(0) += 1;
        self.address = Some(address);
        Ok(())
    }
}

/// Takes one connection off `address`'s count.
fn forget(counts: &mut Counts, address: Option<IpAddr>) {
    let Some(address) = address else {
        return;
    };
    if let Some(count) = counts.by_address.get_mut(&address) {
        *count -= 1;
        if *count == 0 {
            counts.by_address.remove(&address);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.limits.lock();
        counts.total = counts.total.saturating_sub(1);
        forget(&mut counts, self.address);
        if counts.total == 0 {
            self.limits.all_closed.notify_all();
        }
    }
}

/// Answers a connection the server will not serve with 503 (Service Unavailable:
/// "temporarily overloaded", RFC 9110 §15.6.4), `Retry-After: 1` and `Connection: close`,
/// then closes it after taking in what the client already sent, so the close does not reset
/// the connection before the client reads the answer. `stream` must be non-blocking: this
/// never waits on the client. The request itself is not read, so the 503 may precede it;
/// clients watch for such an early error response while they send (RFC 9112 §9.5).
pub fn refuse(stream: OwnedFd, peer: SocketAddr, message: &str) {
    let response = Response::text(503, format!("{message}\n")).header("Retry-After", "1");
    let body = response.body.len();
    let framing = Framing {
        head_request: false,
        close: true,
        http10_keep_alive: false,
    };
    let bytes = writer::serialize(response, framing);
    // A fresh socket's send buffer is empty: a few hundred bytes always fit at once.
    match rustix::net::send(&stream, &bytes, rustix::net::SendFlags::NOSIGNAL) {
        Ok(n) if n == bytes.len() => access_log::record(peer.ip(), None, 503, body),
        Ok(_) | Err(_) => {
            log::debug!("{peer}: the 503 could not be written whole");
            return;
        }
    }
    let _ = rustix::net::shutdown(&stream, rustix::net::Shutdown::Write);
    let mut scratch = [0u8; 4096];
    // Only what is already here, and at most 16 KiB.
    for _ in 0..4 {
        match rustix::net::recv(&stream, &mut scratch, rustix::net::RecvFlags::DONTWAIT) {
            Ok((0, _)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)));
    const B: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2)));

    #[test]
    fn the_per_address_cap_comes_before_the_total() {
        let limits = Limits::new(3, 2);
        let a1 = limits.try_acquire(A).unwrap();
        let _a2 = limits.try_acquire(A).unwrap();
        assert_eq!(limits.try_acquire(A).unwrap_err(), Refusal::PerAddress);
        let _b1 = limits.try_acquire(B).unwrap();
        assert_eq!(limits.try_acquire(B).unwrap_err(), Refusal::Full);
        assert_eq!(limits.try_acquire(A).unwrap_err(), Refusal::PerAddress);
        drop(a1);
        let _a3 = limits.try_acquire(A).unwrap();
    }

    #[test]
    fn a_place_of_an_idle_connection_goes_past_the_total_until_it_closes() {
        let limits = Limits::new(1, 4);
        let idle = limits.try_acquire(A).unwrap();
        let _new = limits.acquire_in_place_of_idle(B);
        drop(idle);
        assert_eq!(limits.try_acquire(A).unwrap_err(), Refusal::Full);
    }

    #[test]
    fn uncapped_places_count_in_the_total_only_until_readdressed() {
        let limits = Limits::new(4, 1);
        let mut first = limits.try_acquire(None).unwrap();
        let mut second = limits.try_acquire(None).unwrap();
        let _third = limits.try_acquire(None).unwrap();
        first.readdress(A.unwrap()).unwrap();
        assert_eq!(second.readdress(A.unwrap()), Err(Refusal::PerAddress));
        assert_eq!(limits.try_acquire(A).unwrap_err(), Refusal::PerAddress);
        second.readdress(B.unwrap()).unwrap();
        drop(first);
        let _again = limits.try_acquire(A).unwrap();
        let _fourth = limits.try_acquire(None).unwrap();
        assert_eq!(limits.try_acquire(None).unwrap_err(), Refusal::Full);
    }

    #[test]
    fn waiting_for_all_closed_returns_the_count_left() {
        let limits = Limits::new(4, 4);
        let slot = limits.try_acquire(A).unwrap();
        assert_eq!(limits.wait_all_closed(Duration::from_millis(10)), 1);
        drop(slot);
        assert_eq!(limits.wait_all_closed(Duration::from_millis(10)), 0);
    }
}
