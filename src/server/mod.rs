//! The server: a blocking accept loop, the limits it keeps, and the workers it hands
//! connections to.
//!
//! ```text
//! accept ──limits──▶ least-loaded worker's inbox ──▶ worker: epoll ▶ turn ▶ epoll …
//! ```
//!
//! One thread waits in `poll` on every listening socket ([`listeners`]: TCP, Unix, or those
//! systemd passed) and accepts from those with a client waiting. Each accepted connection
//! is non-blocking and is given a place under the limits ([`limits`]): below half of
//! `--max-connections` every connection is admitted, whatever its address; from half on, an
//! address holding its fair share loses its own idle connections to its new ones, and gets
//! 503 when it has none idle; at `--max-connections` a newcomer takes the place of an idle
//! connection of the address holding the most, and only when no connection is idle does it
//! get 503. `--max-connections-per-ip`, when set, refuses with 503 past it in any case. The
//! connection then goes to the worker holding the fewest connections (or, in place of an
//! idle one, to the worker holding that one), which serves it until it closes ([`worker`]).
//! On an HTTPS server a 503 can only follow a handshake: a refused connection goes to a
//! worker too, which answers its first request with the 503 and closes it, at most
//! [`limits::REFUSING`] at once (past them, and out of descriptors, it is closed without a
//! word); a plain server writes its 503 at once.
//!
//! Many cores: each worker has its own epoll instance, connections, deadlines and run queue,
//! so the workers share nothing per request, and adding cores adds workers without adding
//! contention. What remains shared is per connection, not per request: the accept thread,
//! the limits' lock and the inbox push. (Each worker also counts its idle connections per
//! client address for the limits, in counters of its own that only the accept loop reads.) On a machine where one accept thread cannot keep up
//! with new connections (tens of thousands a second), the next step is one listening socket
//! per worker with `SO_REUSEPORT`, each worker accepting for itself as h2o does; the workers
//! need no change for it.
//!
//! A Unix socket's client has no IP address: it is given [`UNIX_PEER`] (`0.0.0.0:0`), which
//! the access log shows as `0.0.0.0`, and it is under `--max-connections` only, not the
//! per-address share or cap (the processes behind one socket are all local, often a front
//! end carrying many clients).
//!
//! Shutdown (SIGINT, SIGTERM): the accept loop is woken through an eventfd and stops
//! (listening sockets are left as they are: systemd may hold the same ones to start the
//! next run), idle connections are closed, responses from then on close their connections,
//! and the connections being served get `--shutdown-timeout` to finish.

pub mod certs;
pub mod limits;
pub mod listeners;
mod proxied;
mod tls;
mod transport;
mod wake;
mod worker;

use crate::conn::Timeouts;
use crate::conn::client::TrustedProxies;
use crate::handlers::Handler;
use crate::handlers::metrics::Vitals;
use limits::{Admission, Limits, Refusal, Victim};
use listeners::Listener;
use rustix::event::{EventfdFlags, PollFd, PollFlags};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::SocketFlags;
use rustls::ServerConfig;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use worker::{Admitted, Lane, Shared};

/// The peer address a Unix socket's connection is given: it has no IP address.
pub const UNIX_PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

/// How long the accept thread pauses when it runs out of memory, or out of file descriptors
/// without a spare one to answer with, so that a full table is not retried in a tight loop;
/// connections closing meanwhile free descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Most connections taken from one listening socket before the others are looked at again.
const ACCEPT_BATCH: usize = 64;

/// The server's settings, from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Worker threads.
    pub threads: usize,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections open at once from one client address, whatever the room
    /// (`None`: no such cap, only the fair share under pressure).
    pub max_connections_per_ip: Option<usize>,
    /// IPv6 clients are counted by the first this many bits of their address.
    pub ipv6_prefix: u8,
    /// The connections' time limits.
    pub timeouts: Timeouts,
    /// The peers whose Forwarded and X-Forwarded-For fields name the client; they are also
    /// not counted per address, since a balancer carries many clients.
    pub trusted: TrustedProxies,
    /// Every connection starts with a PROXY protocol header (`--proxy-protocol`).
    pub proxy_protocol: bool,
    /// How long in-flight responses may take to finish after a shutdown signal.
    pub shutdown_timeout: Duration,
    /// Whether exchanges are recorded: access-logged and counted in the metrics. The metrics
    /// listener's are not, so that scrapes neither fill the log nor count among the site's
    /// requests.
    pub recorded: bool,
}

/// A running server: the workers are up; [`Server::run`] accepts.
pub struct Server {
    listeners: Vec<Listener>,
    /// Written to wake the accept loop for a shutdown.
    wake: Arc<OwnedFd>,
    shared: Arc<Shared>,
    lanes: Arc<[Arc<Lane>]>,
    limits: Arc<Limits>,
    shutdown_timeout: Duration,
    /// A descriptor held in reserve (a duplicate of the wake eventfd): when the process
    /// runs out of descriptors, closing it lets one more connection be accepted, answered 503
    /// and closed, instead of leaving clients waiting in the backlog (see
    /// [`Server::refuse_with_spare`]).
    spare: Option<OwnedFd>,
}

/// Controls a running server from another thread (the signal thread's): shuts it down, or
/// replaces its handler. It also tells `/metrics` and `/health` how the server is doing
/// ([`Vitals`]).
#[derive(Debug)]
pub struct Control {
    wake: Arc<OwnedFd>,
    shared: Arc<Shared>,
    lanes: Arc<[Arc<Lane>]>,
}

impl Server {
    /// Starts `config.threads` workers that answer with `handler`, over TLS made from `tls`
    /// when it is given (HTTPS), else in the clear; connections are accepted from
    /// `listeners` once [`Server::run`] is called. Fails if a thread or a worker's
    /// descriptors cannot be created, or a listening socket cannot be made non-blocking.
    pub fn start(
        listeners: Vec<Listener>,
        config: Config,
        handler: Arc<dyn Handler>,
        tls: Option<Arc<ServerConfig>>,
    ) -> io::Result<Server> {
        for listener in &listeners {
            // `poll` says a client waits, but it may leave before `accept`: never block there.
            rustix::io::ioctl_fionbio(listener.socket(), true)?;
        }
        let wake = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        let spare = Some(rustix::io::dup(&wake)?);
        let shared = Arc::new(Shared::new(handler, &config, tls));
        let lanes = worker::spawn(config.threads, &shared)?;
        Ok(Server {
            listeners,
            wake: Arc::new(wake),
            shared,
            lanes: lanes.into(),
            limits: Limits::new(
                config.max_connections,
                config.max_connections_per_ip,
                config.ipv6_prefix,
                config.threads,
            ),
            shutdown_timeout: config.shutdown_timeout,
            spare,
        })
    }

    /// A [`Control`]: stops [`Server::run`], or replaces the handler.
    pub fn control(&self) -> Control {
        Control {
            wake: Arc::clone(&self.wake),
            shared: Arc::clone(&self.shared),
            lanes: Arc::clone(&self.lanes),
        }
    }

    /// Accepts connections until a shutdown is triggered; then closes the listening sockets
    /// (removing the Unix socket files it made), waits up to `--shutdown-timeout` for the
    /// open connections to finish, and returns how many were still open at the end.
    pub fn run(mut self) -> usize {
        let mut ready = Vec::with_capacity(self.listeners.len());
        while !self.shared.shutting_down() {
            ready.clear();
            let mut fds: Vec<PollFd<'_>> = self
                .listeners
                .iter()
                .map(|listener| PollFd::new(listener.socket(), PollFlags::IN))
                .collect();
            fds.push(PollFd::new(&*self.wake, PollFlags::IN));
            match rustix::event::poll(&mut fds, None) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    log::error!("poll on the listening sockets failed: {e}; pausing");
                    thread::sleep(ACCEPT_BACKOFF);
                }
            }
            ready.extend(
                fds.iter()
                    .take(self.listeners.len())
                    .enumerate()
                    .filter(|(_, fd)| !fd.revents().is_empty())
                    .map(|(index, _)| index),
            );
            drop(fds);
            // Backwards, so that removing a broken listener leaves the others' indices.
            for &index in ready.iter().rev() {
                if self.shared.shutting_down() {
                    break;
                }
                if let Err(e) = self.accept_from(index) {
                    let listener = self.listeners.remove(index);
                    log::error!(
                        "{}: accept failed: {e}; no longer listening there",
                        listener.address
                    );
                }
            }
        }
        self.listeners.clear();
        log::info!(
            "shutting down: no new connections; in-flight responses have {:?}",
            self.shutdown_timeout
        );
        for lane in self.lanes.iter() {
            lane.clear_inbox();
        }
        self.limits.wait_all_closed(self.shutdown_timeout)
    }

    /// Accepts the clients waiting on listener `index`, up to [`ACCEPT_BATCH`].
    ///
    /// Out of descriptors (`EMFILE`, `ENFILE`: the process's limit can be below the connection
    /// cap, or lowered while it runs), the waiting client is answered as past the cap (see
    /// [`Server::refuse_with_spare`]). Out of memory, the accept pauses [`ACCEPT_BACKOFF`].
    /// An error that says the socket itself is unusable (not a listening socket any more) is
    /// returned: `poll` would report it again at once, for ever.
    fn accept_from(&mut self, index: usize) -> Result<(), Errno> {
        for _ in 0..ACCEPT_BATCH {
            let Some(listener) = self.listeners.get(index) else {
                return Ok(());
            };
            let tcp = listener.is_tcp();
            match accept(listener) {
                Ok((stream, peer)) => self.admit(stream, peer, tcp),
                Err(Errno::AGAIN) => return Ok(()),
                Err(Errno::MFILE | Errno::NFILE) => {
                    self.refuse_with_spare(index);
                    return Ok(());
                }
                // Out of memory: accepting again at once would fail again.
                Err(e @ (Errno::NOBUFS | Errno::NOMEM)) => {
                    log::warn!("accept failed: {e}; pausing {ACCEPT_BACKOFF:?}");
                    thread::sleep(ACCEPT_BACKOFF);
                    return Ok(());
                }
                Err(e @ (Errno::BADF | Errno::INVAL | Errno::NOTSOCK | Errno::OPNOTSUPP)) => {
                    return Err(e);
                }
                // A connection reset before it was accepted, an interrupted call: next.
                Err(e) => log::debug!("accept failed: {e}"),
            }
        }
        Ok(())
    }

    /// After `accept` on listener `index` failed for want of a descriptor while a client
    /// waits: closes the spare descriptor, accepts the client into its place and answers it
    /// 503, then takes the spare again. Over TLS the 503 would need a handshake, and the
    /// connection a worker's care meanwhile, with no descriptor to spare: the client is
    /// closed without a word instead (it sees a failed handshake, as it would see bytes in
    /// the clear). Without a spare (it could not be taken back last time), tries to take it,
    /// and pauses [`ACCEPT_BACKOFF`] if it cannot, so that the waiting client is not retried
    /// in a tight loop.
    fn refuse_with_spare(&mut self, index: usize) {
        if let (Some(spare), Some(listener)) = (self.spare.take(), self.listeners.get(index)) {
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
        match rustix::io::dup(&*self.wake) {
            Ok(spare) => self.spare = Some(spare),
            Err(e) => {
                log::warn!("cannot take a spare descriptor again: {e}");
                thread::sleep(ACCEPT_BACKOFF);
            }
        }
    }

    /// Gives an accepted (non-blocking) connection a place under the limits and hands it to
    /// the worker holding the fewest connections, or, in place of an idle connection, to the
    /// worker holding that one; without a place, answers 503.
    fn admit(&self, stream: OwnedFd, peer: SocketAddr, tcp: bool) {
        // Small responses go out at once instead of waiting for an ACK (Nagle's algorithm);
        // file heads are sent with MSG_MORE instead.
        if tcp {
            if let Err(e) = rustix::net::sockopt::set_tcp_nodelay(&stream, true) {
                log::debug!("{peer}: socket options failed: {e}; closing");
                return;
            }
        }
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
                let done = self.refuse(stream, peer, message);
                log::warn!("{peer}: past {past}; {done}");
                return;
            }
        };
        let lane = match &evict {
            None => self
                .lanes
                .iter()
                .enumerate()
                .min_by_key(|(_, lane)| lane.open()),
            Some(Victim::Of { lane, .. }) => self.lanes.get(*lane).map(|found| (*lane, found)),
            Some(Victim::Any) => self
                .lanes
                .iter()
                .enumerate()
                .filter(|(_, lane)| lane.idle() > 0)
                .max_by_key(|(_, lane)| lane.idle()),
        };
        let Some((index, lane)) = lane else {
            drop(slot);
            let done = self.refuse(stream, peer, "too many connections; try again shortly");
            log::warn!("{peer}: at --max-connections, none idle; {done}");
            return;
        };
        slot.on_lane(index);
        lane.hand(Admitted {
            stream,
            peer,
            slot,
            evict,
            refusal: None,
        });
    }

    /// Answers 503 to a connection the server will not serve; returns what was done, for
    /// the log. In the clear, at once ([`limits::refuse`]). Over TLS a response can only
    /// follow a handshake (bytes in the clear would reach an HTTPS client as a broken
    /// handshake): the connection goes to the worker holding the fewest, which answers its
    /// first request with the 503 ([`crate::conn::Conn::refuse`]), HSTS included. At most
    /// [`limits::REFUSING`] are answered so at once; past them, the connection is closed
    /// without a word.
    fn refuse(&self, stream: OwnedFd, peer: SocketAddr, message: &'static str) -> &'static str {
        if self.shared.tls.is_none() {
            limits::refuse(stream, peer, message);
            return "answered 503";
        }
        let lane = self
            .lanes
            .iter()
            .enumerate()
            .min_by_key(|(_, lane)| lane.open());
        let (Some(mut slot), Some((index, lane))) = (self.limits.refusal(), lane) else {
            return "closed (too many refusals under way)";
        };
        slot.on_lane(index);
        lane.hand(Admitted {
            stream,
            peer,
            slot,
            evict: None,
            refusal: Some(message),
        });
        "503 after the handshake"
    }
}

impl Control {
    /// Begins the shutdown: [`Server::run`] stops accepting, idle connections close, and
    /// responses from now on close their connections.
    pub fn shut_down(&self) {
        self.shared.begin_shutdown();
        for lane in self.lanes.iter() {
            lane.wake();
        }
        if let Err(e) = rustix::io::write(&*self.wake, &1u64.to_ne_bytes()) {
            // EAGAIN: the counter is at its maximum, so the loop is woken already.
            if e != Errno::AGAIN {
                log::error!("could not wake the accept loop: {e}");
            }
        }
    }

    /// Answers requests with `handler` from now on (see [`Shared::replace_handler`]). Every
    /// worker is woken to take it, so that an idle one lets go of the old handler at once,
    /// and with it whatever the old handler owns (threads, descriptors, caches).
    pub fn replace_handler(&self, handler: Arc<dyn Handler>) {
        self.shared.replace_handler(handler);
        for lane in self.lanes.iter() {
            lane.wake();
        }
    }
}

/// What `/metrics` and `/health` read of a running server.
impl Vitals for Control {
    /// Connections open and, of those, idle, over every worker.
    fn connections(&self) -> (usize, usize) {
        self.lanes.iter().fold((0, 0), |(open, idle), lane| {
            (open + lane.open(), idle + lane.idle())
        })
    }

    fn draining(&self) -> bool {
        self.shared.shutting_down()
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
