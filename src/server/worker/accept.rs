//! A worker's accepting: the listening sockets in its epoll set, the connections it accepts
//! from them, and the place each is given under the limits.
//!
//! A worker registers its listening sockets (its own, or, where a socket cannot be split,
//! one every worker shares: see [`crate::server`]) level-triggered, with `EPOLLEXCLUSIVE`
//! (epoll_ctl(2), Linux 4.5), so that a client on a shared socket wakes one of the workers
//! blocked in `epoll_wait`, not every one. The worker that accepts a connection serves it,
//! so a connection costs no hand-off between threads: `accept4` (non-blocking and
//! close-on-exec from the start), the first turn at once (the request is usually there
//! already: reading it now saves waiting for an epoll round), and an `epoll_ctl` only for a
//! connection still open after that turn. Options that can be set once are set on the
//! listening socket and inherited (`TCP_NODELAY`, see [`crate::server::Server::start`]).
//!
//! Each wake-up accepts at most [`ACCEPT_BATCH`] clients before the worker serves its other
//! connections: a burst of clients is spread over the workers that wake for it, and no
//! worker's connections wait behind a long one.
//!
//! Out of descriptors (`EMFILE`, `ENFILE`: the process's limit can be below the connection
//! cap, or lowered while it runs), the client waiting is answered through the worker's spare
//! descriptor, in order: the first client in the queue is the one answered, never a later
//! one. Without a spare, and out of memory, the worker stops watching the listening
//! sockets for [`ACCEPT_BACKOFF`] (a level-triggered socket with a client waiting would
//! wake it at once, for ever) and goes on serving its connections meanwhile.

use super::{Admitted, Worker};
use crate::server::UNIX_PEER;
use crate::server::limits::{self, Admission, Refusal, Victim};
use crate::server::listeners::Listener;
use crate::server::worker::Lane;
use rustix::event::epoll;
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::SocketFlags;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a worker stops accepting when it runs out of memory, or out of file descriptors
/// without a spare one to answer with, so that a full table is not retried in a tight loop;
/// connections closing meanwhile free descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Most clients accepted per wake-up before the worker's other connections are served.
const ACCEPT_BATCH: usize = 16;

/// Most listening sockets a server can have; their epoll tokens are the numbers just below
/// the bell's (`u64::MAX`). A connection's token (table.rs: its place's index in the low 32
/// bits) never reaches them: that would take four billion places.
pub(super) const MAX_LISTENERS: u64 = 1 << 16;

/// The listening socket an epoll token names, if it names one.
pub(super) fn listener_of(token: u64) -> Option<usize> {
    let below = (u64::MAX - 1).checked_sub(token)?;
    (below < MAX_LISTENERS).then(|| usize::try_from(below).ok())?
}

fn token_of(listener: usize) -> u64 {
    u64::MAX - 1 - listener as u64
}

/// What a worker accepts from.
#[derive(Debug)]
pub(super) struct Accepting {
    /// The listening sockets, its own or shared with the other workers; `None` once the
    /// worker stopped accepting for good (the shutdown).
    listeners: Option<Vec<Arc<Listener>>>,
    /// Per listening socket: still usable. One that fails for good (no longer a listening
    /// socket) is left out from then on.
    usable: Vec<bool>,
    /// A descriptor held in reserve (a duplicate of the worker's bell): when the process
    /// runs out of descriptors, closing it lets one more client be accepted, answered and
    /// closed, instead of leaving clients waiting in the backlog.
    spare: Option<OwnedFd>,
    /// The sockets are out of the epoll set until then (see the module docs).
    paused_until: Option<Instant>,
}

impl Accepting {
    /// Nothing to accept from yet, and a spare descriptor taken. Fails if it cannot be.
    pub(super) fn new(lane: &Lane) -> std::io::Result<Accepting> {
        Ok(Accepting {
            listeners: None,
            usable: Vec::new(),
            spare: Some(rustix::io::dup(lane.bell.fd())?),
            paused_until: None,
        })
    }

    /// When a pause in accepting ends, if the worker is in one.
    pub(super) fn paused_until(&self) -> Option<Instant> {
        self.paused_until
    }

    fn is_paused(&self) -> bool {
        self.paused_until.is_some()
    }
}

impl Worker {
    /// Watches `listeners` from now on. Fails if one cannot be added to the epoll set.
    pub(super) fn watch(&mut self, listeners: Vec<Arc<Listener>>) -> std::io::Result<()> {
        if listeners.len() as u64 > MAX_LISTENERS {
            return Err(std::io::Error::other("too many listening sockets"));
        }
        self.accepting.usable = vec![true; listeners.len()];
        self.accepting.listeners = Some(listeners);
        self.add_listeners()?;
        Ok(())
    }

    fn add_listeners(&self) -> Result<(), Errno> {
        let Some(listeners) = &self.accepting.listeners else {
            return Ok(());
        };
        let flags = epoll::EventFlags::IN | epoll::EventFlags::EXCLUSIVE;
        for (index, listener) in listeners.iter().enumerate() {
            if self.accepting.usable.get(index) == Some(&true) {
                let data = epoll::EventData::new_u64(token_of(index));
                epoll::add(&self.epoll, listener.socket(), data, flags)?;
            }
        }
        Ok(())
    }

    fn remove_listeners(&self) {
        let Some(listeners) = &self.accepting.listeners else {
            return;
        };
        for (index, listener) in listeners.iter().enumerate() {
            if self.accepting.usable.get(index) == Some(&true) {
                let _ = epoll::delete(&self.epoll, listener.socket());
            }
        }
    }

    /// Stops accepting for good (the shutdown): the listening sockets leave the epoll set,
    /// and the worker lets go of them.
    pub(super) fn stop_accepting(&mut self) {
        if self.accepting.paused_until.take().is_none() {
            self.remove_listeners();
        }
        self.accepting.listeners = None;
    }

    /// Stops watching the listening sockets for [`ACCEPT_BACKOFF`].
    fn pause_accepting(&mut self) {
        if self.accepting.paused_until.is_none() {
            self.remove_listeners();
            self.accepting.paused_until = Some(Instant::now() + ACCEPT_BACKOFF);
        }
    }

    /// Watches the listening sockets again once a pause has ended.
    pub(super) fn resume_accepting(&mut self) {
        if self
            .accepting
            .paused_until
            .is_some_and(|until| until <= Instant::now())
        {
            self.accepting.paused_until = None;
            if let Err(e) = self.add_listeners() {
                log::error!("cannot watch the listening sockets again: {e}; pausing");
                self.pause_accepting();
            }
        }
    }

    /// Accepts the clients waiting on listening socket `index`, up to [`ACCEPT_BATCH`].
    pub(super) fn accept_from(&mut self, index: usize) {
        // A reference of its own, held while `self` changes.
        let Some(listener) = self
            .accepting
            .listeners
            .as_ref()
            .and_then(|listeners| listeners.get(index))
            .map(Arc::clone)
        else {
            return;
        };
        let listener = &*listener;
        for _ in 0..ACCEPT_BATCH {
            if self.accepting.usable.get(index) != Some(&true) || self.accepting.is_paused() {
                return;
            }
            match accept(listener) {
                Ok((stream, peer)) => self.admit(stream, peer, listener.is_tcp()),
                Err(Errno::AGAIN) => return,
                Err(Errno::MFILE | Errno::NFILE) => return self.refuse_with_spare(listener),
                // Out of memory: accepting again at once would fail again.
                Err(e @ (Errno::NOBUFS | Errno::NOMEM)) => {
                    log::warn!("accept failed: {e}; pausing {ACCEPT_BACKOFF:?}");
                    return self.pause_accepting();
                }
                // Not a listening socket any more: it would be reported ready for ever.
                Err(e @ (Errno::BADF | Errno::INVAL | Errno::NOTSOCK | Errno::OPNOTSUPP)) => {
                    log::error!(
                        "{}: accept failed: {e}; no longer listening there",
                        listener.address
                    );
                    let _ = epoll::delete(&self.epoll, listener.socket());
                    if let Some(usable) = self.accepting.usable.get_mut(index) {
                        *usable = false;
                    }
                    return;
                }
                // A connection reset before it was accepted, an interrupted call: next.
                Err(e) => log::debug!("accept failed: {e}"),
            }
        }
    }

    /// After `accept` on `listener` failed for want of a descriptor while a
    /// client waits: closes the spare descriptor, accepts the client into its place and
    /// answers it 503, then takes the spare again. Over TLS the 503 would need a handshake,
    /// and the connection a worker's care meanwhile, with no descriptor to spare: the client
    /// is closed without a word instead (it sees a failed handshake, as it would see bytes in
    /// the clear). Without a spare (it could not be taken back last time), tries to take it,
    /// and pauses accepting if it cannot, so that the waiting client is not retried in a
    /// tight loop.
    fn refuse_with_spare(&mut self, listener: &Listener) {
        if let Some(spare) = self.accepting.spare.take() {
            drop(spare);
            match accept(listener) {
                Ok((stream, peer)) if self.shared.tls.is_some() => {
                    log::warn!("{peer}: out of file descriptors; closed");
                    drop(stream);
                }
                Ok((stream, peer)) => {
                    log::warn!("{peer}: out of file descriptors; answered 503");
                    limits::refuse(
                        stream,
                        peer,
                        "the server is out of file descriptors; try again shortly",
                    );
                }
                Err(e) => log::debug!("accept with the spare descriptor failed: {e}"),
            }
        }
        match rustix::io::dup(self.lane.bell.fd()) {
            Ok(spare) => self.accepting.spare = Some(spare),
            Err(e) => {
                log::warn!("cannot take a spare descriptor again: {e}; pausing");
                self.pause_accepting();
            }
        }
    }

    /// Gives an accepted connection a place under the limits and serves it, or, in place of
    /// an idle connection another worker holds, hands it to that worker; without a place,
    /// answers 503.
    fn admit(&mut self, stream: OwnedFd, peer: SocketAddr, tcp: bool) {
        // A trusted proxy carries many clients, and behind the PROXY protocol the client is
        // not known yet (the header names it, and it is counted then), and a Unix socket's
        // client has no address: none is counted per address here.
        let exempt = !tcp || self.shared.proxy_protocol || self.shared.trusted.contains(peer.ip());
        let counted = (!exempt).then_some(peer.ip());
        let (mut slot, evict) = match self.limits.admit(counted) {
            Admission::Place(slot) => (slot, None),
            Admission::Replace(slot, victim) => (slot, Some(victim)),
            Admission::Refused(why) => {
                let past = match why {
                    Refusal::PerAddress => "--max-connections-per-ip",
                    Refusal::OverShare => "its share of connections, none idle",
                };
                let message = "too many connections from your address; try again shortly";
                let done = self.refuse_admission(stream, peer, message);
                log::warn!("{peer}: past {past}; {done}");
                return;
            }
        };
        let lane = match &evict {
            None => Some(self.index),
            Some(Victim::Of { lane, .. }) => Some(*lane),
            Some(Victim::Any) => self
                .lanes
                .iter()
                .enumerate()
                .filter(|(_, lane)| lane.idle() > 0)
                .max_by_key(|(_, lane)| lane.idle())
                .map(|(index, _)| index),
        };
        let Some(lane) = lane.filter(|&lane| lane < self.lanes.len()) else {
            drop(slot);
            let done =
                self.refuse_admission(stream, peer, "too many connections; try again shortly");
            log::warn!("{peer}: at --max-connections, none idle; {done}");
            return;
        };
        slot.on_lane(lane);
        let admitted = Admitted {
            stream,
            peer,
            slot,
            evict,
            refusal: None,
        };
        if lane == self.index {
            self.lane.count_open();
            self.take_in(admitted);
        } else if let Some(other) = self.lanes.get(lane) {
            other.hand(admitted);
        }
    }

    /// Answers 503 to a connection the server will not serve; returns what was done, for
    /// the log. In the clear, at once ([`limits::refuse`]). Over TLS a response can only
    /// follow a handshake (bytes in the clear would reach an HTTPS client as a broken
    /// handshake): the worker serves the connection up to its first request, which it
    /// answers with the 503 ([`crate::conn::Core::refuse`]), HSTS included. At most
    /// [`limits::REFUSING`] are answered so at once; past them, the connection is closed
    /// without a word.
    fn refuse_admission(
        &mut self,
        stream: OwnedFd,
        peer: SocketAddr,
        message: &'static str,
    ) -> &'static str {
        if self.shared.tls.is_none() {
            limits::refuse(stream, peer, message);
            return "answered 503";
        }
        let Some(mut slot) = self.limits.refusal() else {
            return "closed (too many refusals under way)";
        };
        slot.on_lane(self.index);
        self.lane.count_open();
        self.take_in(Admitted {
            stream,
            peer,
            slot,
            evict: None,
            refusal: Some(message),
        });
        "503 after the handshake"
    }
}

/// Accepts one connection from `listener`, non-blocking and close-on-exec, with its peer
/// (a Unix socket's client has no address: [`UNIX_PEER`]).
fn accept(listener: &Listener) -> Result<(OwnedFd, SocketAddr), Errno> {
    let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
    let (stream, from) = rustix::net::acceptfrom_with(listener.socket(), flags)?;
    let peer = from
        .and_then(|from| SocketAddr::try_from(from).ok())
        .unwrap_or(UNIX_PEER);
    Ok((stream, peer))
}
