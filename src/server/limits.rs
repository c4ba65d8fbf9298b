//! How many connections may be open: in all (`--max-connections`), from one address while
//! the server is under pressure (its fair share, see [`fair`]), and from one address at most
//! (`--max-connections-per-ip`, none by default); and the 503 a refused connection gets.
//!
//! Room is made by closing an idle connection, as RFC 9112 §9.5 allows a server to close an
//! idle connection at any time: an address past its share under pressure loses its own idle
//! connections to its new ones, and at `--max-connections` a newcomer takes the place of an
//! idle connection of the address holding the most. Only when there is none to close is the
//! newcomer answered 503.
//!
//! Counted under one lock, taken once when a connection opens and once when it closes,
//! never per request and never across a system call. Which connections of an address are
//! idle is counted per worker with atomics, each written by its own worker alone, so the
//! accepting worker knows which worker can make room for whom.
//!
//! On a TLS server the 503 can only be sent after a handshake: a refused connection is then
//! served by a worker up to its first request, holding a refusal's [`Slot`] instead of a
//! place, at most [`REFUSING`] of them at once.

mod fair;

use crate::http::access_log;
use crate::http::response::Response;
use crate::http::writer::{self, Framing};
use rustix::fd::OwnedFd;
use std::collections::{BTreeSet, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Most refused connections that may be handshaking or being answered 503 over TLS at once;
/// past it, a refused connection is closed without a word. A refused connection is over the
/// limits by definition, and over TLS its 503 costs a handshake (a key exchange and a
/// signature, and some 40 KiB of buffers until it is answered): a small fixed number answers
/// the refusals of a burst, and cannot become a way around `--max-connections`.
pub const REFUSING: usize = 64;

/// Why a connection was not given a place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its address has `--max-connections-per-ip` open already.
    PerAddress,
    /// The server is under pressure, its address holds its fair share, and none of that
    /// address's connections is idle.
    OverShare,
}

/// What a new connection is given.
#[derive(Debug)]
pub enum Admission {
    /// A place within the limits.
    Place(Slot),
    /// A place for a connection that takes that of an idle one, which the worker holding it
    /// closes; until then it is counted past the limits.
    Replace(Slot, Victim),
    /// No place.
    Refused(Refusal),
}

/// The idle connection that closes to make room.
#[derive(Debug)]
pub enum Victim {
    /// The longest-idle connection of `group` on the worker `lane`.
    Of {
        /// The address whose connection closes.
        group: Arc<Group>,
        /// The worker holding it.
        lane: usize,
    },
    /// The longest-idle connection of the worker with the most idle ones: none counted per
    /// address is idle, so it is one exempt from the per-address counts. With none idle at
    /// all, the newcomer is refused.
    Any,
}

/// The open connections, in all and by address.
#[derive(Debug)]
pub struct Limits {
    counts: Mutex<Counts>,
    all_closed: Condvar,
    /// Someone waits on `all_closed` (the shutdown): only then does the last connection to
    /// close notify it, since a notification is a system call even with no one to wake.
    awaited: AtomicBool,
    max: usize,
    max_per_address: Option<usize>,
    ipv6_prefix: u8,
    lanes: usize,
    /// Refused connections being answered over TLS (see [`REFUSING`]).
    refusing: AtomicUsize,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, Held>,
    /// The same addresses by how many they hold, so that the heaviest is found at once.
    by_count: BTreeSet<(usize, IpAddr)>,
}

/// What one address holds.
#[derive(Debug)]
struct Held {
    count: usize,
    group: Arc<Group>,
}

/// One address (an IPv6 one: its prefix) holding connections, and how many of them are
/// idle on each worker.
#[derive(Debug)]
pub struct Group {
    address: IpAddr,
    idle: Box<[IdleCount]>,
}

/// One worker's count of idle connections, on a cache line of its own: only that worker
/// writes it, so workers serving the same address do not contend for a line on every
/// request. The price is 64 bytes per worker for each address holding connections.
#[derive(Debug, Default)]
#[repr(align(64))]
struct IdleCount(AtomicUsize);

impl Group {
    /// The worker holding the most idle connections of this address, if any is idle.
    fn idle_lane(&self) -> Option<usize> {
        self.idle
            .iter()
            .map(|count| count.0.load(Ordering::Relaxed))
            .enumerate()
            .filter(|&(_, idle)| idle > 0)
            .max_by_key(|&(_, idle)| idle)
            .map(|(lane, _)| lane)
    }

    fn count_idle(&self, lane: usize, idle: bool) {
        if let Some(count) = self.idle.get(lane) {
            if idle {
                count.0.fetch_add(1, Ordering::Relaxed);
            } else {
                count.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

/// One connection's place under the limits; dropping it frees the place. A refused
/// connection's slot ([`Limits::refusal`]) is no place: it counts only against
/// [`REFUSING`].
#[derive(Debug)]
pub struct Slot {
    limits: Arc<Limits>,
    /// The address it counts against; `None` for one that is not counted per address (a
    /// trusted proxy, a Unix socket's client, or a connection whose PROXY header has not
    /// named its client yet).
    group: Option<Arc<Group>>,
    /// The worker holding it.
    lane: usize,
    /// Counted idle on its worker.
    idle: bool,
    /// Held by a refused connection: counted against [`REFUSING`], not the limits.
    refused: bool,
}

impl Limits {
    /// Limits of `max` connections in all and `max_per_address` from one address (`None`:
    /// no such cap), IPv6 addresses counted by their first `ipv6_prefix` bits, for a server
    /// of `lanes` workers.
    pub fn new(
        max: usize,
        max_per_address: Option<usize>,
        ipv6_prefix: u8,
        lanes: usize,
    ) -> Arc<Limits> {
        Arc::new(Limits {
            counts: Mutex::new(Counts::default()),
            all_closed: Condvar::new(),
            awaited: AtomicBool::new(false),
            max,
            max_per_address,
            ipv6_prefix,
            lanes,
            refusing: AtomicUsize::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What a new connection from `address` is given (`None`: not counted per address).
    ///
    /// Past `--max-connections-per-ip`: refused. Below half of `--max-connections`:
    /// admitted. Under pressure, from an address holding its share or more: admitted in
    /// place of one of that address's idle connections, or refused if it has none idle.
    /// Otherwise below `--max-connections`: admitted; at it, in place of an idle connection
    /// of the address holding the most of those that have one idle, or of any idle one.
    pub fn admit(self: &Arc<Self>, address: Option<IpAddr>) -> Admission {
        let address = address.map(|ip| fair::group_of(ip, self.ipv6_prefix));
        let mut counts = self.lock();
        let held = address.and_then(|address| counts.by_address.get(&address));
        let count = held.map_or(0, |held| held.count);
        if address.is_some() && self.max_per_address.is_some_and(|cap| count >= cap) {
            return Admission::Refused(Refusal::PerAddress);
        }
        if !fair::under_pressure(counts.total, self.max) {
            return Admission::Place(self.take(&mut counts, address));
        }
        if address.is_some() {
            let addresses = counts.by_address.len() + usize::from(held.is_none());
            if count >= fair::fair_share(self.max, addresses) {
                let own = held.and_then(|held| {
                    let lane = held.group.idle_lane()?;
                    Some(Victim::Of {
                        group: Arc::clone(&held.group),
                        lane,
                    })
                });
                return match own {
                    Some(victim) => Admission::Replace(self.take(&mut counts, address), victim),
                    None => Admission::Refused(Refusal::OverShare),
                };
            }
        }
        if counts.total < self.max {
            return Admission::Place(self.take(&mut counts, address));
        }
        let heaviest = counts.by_count.iter().rev().find_map(|(_, address)| {
            let held = counts.by_address.get(address)?;
            Some(Victim::Of {
                lane: held.group.idle_lane()?,
                group: Arc::clone(&held.group),
            })
        });
        let slot = self.take(&mut counts, address);
        Admission::Replace(slot, heaviest.unwrap_or(Victim::Any))
    }

    fn take(self: &Arc<Self>, counts: &mut Counts, address: Option<IpAddr>) -> Slot {
        counts.total += 1;
        let group = address.map(|address| self.count_in(counts, address));
        Slot {
            limits: Arc::clone(self),
            group,
            lane: 0,
            idle: false,
            refused: false,
        }
    }

    /// A slot for a connection refused a place that is to be answered 503 over TLS, unless
    /// [`REFUSING`] are being answered already.
    pub fn refusal(self: &Arc<Self>) -> Option<Slot> {
        self.refusing
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                (held < REFUSING).then_some(held + 1)
            })
            .ok()?;
        Some(Slot {
            limits: Arc::clone(self),
            group: None,
            lane: 0,
            idle: false,
            refused: true,
        })
    }

    /// Counts one more connection against `address`; returns its group.
    fn count_in(&self, counts: &mut Counts, address: IpAddr) -> Arc<Group> {
        let held = counts.by_address.entry(address).or_insert_with(|| Held {
            count: 0,
            group: Arc::new(Group {
                address,
                idle: (0..self.lanes).map(|_| IdleCount::default()).collect(),
            }),
        });
        held.count += 1;
        let (count, group) = (held.count, Arc::clone(&held.group));
        counts.by_count.remove(&(count - 1, address));
        counts.by_count.insert((count, address));
        group
    }

    /// Waits until no connection is open or `grace` has passed; returns how many are open.
    pub fn wait_all_closed(&self, grace: Duration) -> usize {
        let counts = self.lock();
        // Set under the lock: a slot dropped after this sees it, and one dropped before
        // left its count for the wait's first check.
        self.awaited.store(true, Ordering::Relaxed);
        let (counts, _) = self
            .all_closed
            .wait_timeout_while(counts, grace, |counts| counts.total > 0)
            .unwrap_or_else(PoisonError::into_inner);
        counts.total
    }
}

impl Slot {
    /// Gives up this place for a refusal's slot ([`Limits::refusal`]), if one is free.
    pub fn refuse(self) -> Option<Slot> {
        let limits = Arc::clone(&self.limits);
        drop(self);
        limits.refusal()
    }

    /// Places this connection on the worker `lane`, before it is handed over.
    pub fn on_lane(&mut self, lane: usize) {
        self.lane = lane;
    }

    /// Whether this connection counts against `group`.
    pub fn is_of(&self, group: &Arc<Group>) -> bool {
        self.group
            .as_ref()
            .is_some_and(|own| Arc::ptr_eq(own, group))
    }

    /// Counts this connection idle, or no longer idle, on its worker.
    pub fn set_idle(&mut self, idle: bool) {
        if idle != self.idle {
            self.idle = idle;
            if let Some(group) = &self.group {
                group.count_idle(self.lane, idle);
            }
        }
    }

    /// Counts this place against `address` from now on (the client a PROXY header named),
    /// or says it is at `--max-connections-per-ip`; the place stays as it was then.
    /// A refused connection's slot counts against no address: it stays as it is.
    pub fn readdress(&mut self, address: IpAddr) -> Result<(), Refusal> {
        if self.refused {
            return Ok(());
        }
        let address = fair::group_of(address, self.limits.ipv6_prefix);
        let limits = Arc::clone(&self.limits);
        let mut counts = limits.lock();
        let count = counts.by_address.get(&address).map_or(0, |held| held.count);
        if limits.max_per_address.is_some_and(|cap| count >= cap) {
            return Err(Refusal::PerAddress);
        }
        let idle = self.idle;
        self.set_idle(false);
        forget(&mut counts, self.group.take());
        self.group = Some(limits.count_in(&mut counts, address));
        self.set_idle(idle);
        Ok(())
    }
}

/// Takes one connection off `group`'s count.
fn forget(counts: &mut Counts, group: Option<Arc<Group>>) {
    let Some(group) = group else {
        return;
    };
    let address = group.address;
    if let Some(held) = counts.by_address.get_mut(&address) {
        held.count -= 1;
        let count = held.count;
        counts.by_count.remove(&(count + 1, address));
        if count == 0 {
            counts.by_address.remove(&address);
        } else {
            counts.by_count.insert((count, address));
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.refused {
            self.limits.refusing.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.set_idle(false);
        let mut counts = self.limits.lock();
        counts.total = counts.total.saturating_sub(1);
        forget(&mut counts, self.group.take());
        if counts.total == 0 && self.limits.awaited.load(Ordering::Relaxed) {
            self.limits.all_closed.notify_all();
        }
    }
}

/// Answers a connection the server will not serve, in the clear, with 503 (Service
/// Unavailable: "temporarily overloaded", RFC 9110 §15.6.4), `Retry-After: 1` and
/// `Connection: close`, then closes it after taking in what the client already sent, so the close does not reset
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
mod tests;
