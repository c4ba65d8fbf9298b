//! The server: a blocking accept loop, the limits it keeps, and the workers it hands
//! connections to.
//!
//! ```text
//! accept ──limits──▶ least-loaded worker's inbox ──▶ worker: epoll ▶ turn ▶ epoll …
//! ```
//!
//! One thread blocks in `accept`. Each accepted connection is made non-blocking and takes a
//! place under the limits ([`limits`]): past `--max-connections-per-ip` it gets 503 and is
//! closed; at `--max-connections` the worker with the most idle connections closes its
//! longest-idle one to make room, and only when no connection is idle does the new one get
//! 503. Then it goes to the worker holding the fewest connections, which serves it until it
//! closes ([`worker`]).
//!
//! Many cores: each worker has its own epoll instance, connections, deadlines and run queue,
//! so the workers share nothing per request, and adding cores adds workers without adding
//! contention. What remains shared is per connection, not per request: the accept thread,
//! the limits' lock and the inbox push. On a machine where one accept thread cannot keep up
//! with new connections (tens of thousands a second), the next step is one listening socket
//! per worker with `SO_REUSEPORT`, each worker accepting for itself as h2o does; the workers
//! need no change for it.
//!
//! Shutdown (SIGINT, SIGTERM): the accept is woken with `shutdown(2)` on the listening
//! socket, idle connections are closed, responses from then on close their connections, and
//! the connections being served get a grace period to finish.

pub mod certs;
pub mod limits;
mod proxied;
mod tls;
mod transport;
mod worker;

use crate::conn::Timeouts;
use crate::conn::client::TrustedProxies;
use crate::handlers::Handler;
use limits::{Limits, Refusal};
use rustls::ServerConfig;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;
use worker::{Admitted, Lane, Shared};

/// How long in-flight responses may take to finish after a shutdown signal, as systemd's
/// default stop timeout (90 s) leaves room for; past it the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How long the accept thread pauses when it runs out of memory, or out of file descriptors
/// without a spare one to answer with, so that a full table is not retried in a tight loop;
/// connections closing meanwhile free descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The server's settings, from the command line.
#[derive(Debug, Clone)]
pub struct Config {
    /// Worker threads.
    pub threads: usize,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Most connections open at once from one client address.
    pub max_connections_per_ip: usize,
    /// The connections' time limits.
    pub timeouts: Timeouts,
    /// The peers whose Forwarded and X-Forwarded-For fields name the client; they are also
    /// exempt from `max_connections_per_ip`, since a balancer carries many clients.
    pub trusted: TrustedProxies,
    /// Every connection starts with a PROXY protocol header (`--proxy-protocol`).
    pub proxy_protocol: bool,
}

/// A running server: the workers are up; [`Server::run`] accepts.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
    lanes: Arc<[Arc<Lane>]>,
    limits: Arc<Limits>,
    /// A descriptor held in reserve (a duplicate of the listening socket): when the process
    /// runs out of descriptors, closing it lets one more connection be accepted, answered 503
    /// and closed, instead of leaving clients waiting in the backlog (see [`Server::run`]).
    spare: Option<TcpListener>,
}

/// Controls a running server from another thread (the signal thread's): shuts it down, or
/// replaces its handler.
#[derive(Debug)]
pub struct Control {
    listener: TcpListener,
    shared: Arc<Shared>,
    lanes: Arc<[Arc<Lane>]>,
}

impl Server {
    /// Starts `config.threads` workers that answer with `handler`, over TLS made from `tls`
    /// when it is given (HTTPS), else over plain TCP; connections are accepted from
    /// `listener` once [`Server::run`] is called. Fails if a thread or a worker's descriptors
    /// cannot be created.
    pub fn start(
        listener: TcpListener,
        config: Config,
        handler: Arc<dyn Handler>,
        tls: Option<Arc<ServerConfig>>,
    ) -> io::Result<Server> {
        let shared = Arc::new(Shared::new(handler, &config, tls));
        let lanes = worker::spawn(config.threads, &shared)?;
        let spare = Some(listener.try_clone()?);
        Ok(Server {
            listener,
            shared,
            lanes: lanes.into(),
            limits: Limits::new(config.max_connections, config.max_connections_per_ip),
            spare,
        })
    }

    /// A [`Control`]: stops [`Server::run`], or replaces the handler.
    pub fn control(&self) -> io::Result<Control> {
        Ok(Control {
            listener: self.listener.try_clone()?,
            shared: Arc::clone(&self.shared),
            lanes: Arc::clone(&self.lanes),
        })
    }

    /// Accepts connections until a shutdown is triggered; then waits up to
    /// [`SHUTDOWN_GRACE`] for the open connections to finish, and returns how many were
    /// still open at the end.
    ///
    /// Out of descriptors (`EMFILE`, `ENFILE`: the process's limit can be below the connection
    /// cap, or lowered while it runs), a waiting client is answered as past the cap (see
    /// [`Server::out_of_descriptors`]). Out of memory, the accept pauses [`ACCEPT_BACKOFF`]
    /// and retries.
    pub fn run(mut self) -> usize {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if self.shared.shutting_down() {
                        break;
                    }
                    self.admit(stream, peer);
                }
                Err(_) if self.shared.shutting_down() => break,
                Err(e) => match rustix::io::Errno::from_io_error(&e) {
                    Some(rustix::io::Errno::MFILE | rustix::io::Errno::NFILE) => {
                        self.out_of_descriptors();
                    }
                    // Out of memory: accepting again at once would fail again.
                    Some(rustix::io::Errno::NOBUFS | rustix::io::Errno::NOMEM) => {
                        log::warn!("accept failed: {e}; pausing {ACCEPT_BACKOFF:?}");
                        thread::sleep(ACCEPT_BACKOFF);
                    }
                    // A connection reset before it was accepted, an interrupted call: next.
                    _ => log::debug!("accept failed: {e}"),
                },
            }
        }
        log::info!(
            "shutting down: no new connections; in-flight responses have {SHUTDOWN_GRACE:?}"
        );
        for lane in self.lanes.iter() {
            lane.clear_inbox();
        }
        self.limits.wait_all_closed(SHUTDOWN_GRACE)
    }

    /// After `accept` failed for want of a descriptor. `accept` takes its descriptor before
    /// it looks for a client, so it fails at once whether or not one is waiting: wait (at
    /// most [`ACCEPT_BACKOFF`]) until one is, then accept it without blocking. If
    /// descriptors came back meanwhile it is served; else the spare descriptor is closed, the
    /// client accepted into its place, answered 503 and closed, and the spare taken again.
    /// Nothing here waits past the backoff, and no client is answered for a shortage that
    /// was over before it came.
    fn out_of_descriptors(&mut self) {
        let mut fds = [rustix::event::PollFd::new(
            &self.listener,
            rustix::event::PollFlags::IN,
        )];
        let backoff = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: i64::try_from(ACCEPT_BACKOFF.as_nanos()).unwrap_or(0),
        };
        if !matches!(rustix::event::poll(&mut fds, Some(&backoff)), Ok(n) if n > 0) {
            return;
        }
        if let Err(e) = self.listener.set_nonblocking(true) {
            log::error!("cannot make the listening socket non-blocking: {e}");
            return;
        }
        match self.listener.accept() {
            Ok((stream, peer)) => self.admit(stream, peer),
            Err(e)
                if matches!(
                    rustix::io::Errno::from_io_error(&e),
                    Some(rustix::io::Errno::MFILE | rustix::io::Errno::NFILE)
                ) =>
            {
                self.refuse_with_spare();
            }
            Err(e) => log::debug!("the waiting client left before it was accepted: {e}"),
        }
        if let Err(e) = self.listener.set_nonblocking(false) {
            log::error!("cannot make the listening socket blocking again: {e}");
        }
    }

    /// Closes the spare descriptor, accepts the waiting client into its place (the
    /// listening socket is non-blocking here) and answers it 503, then takes the spare
    /// again. Without a spare (it could not be taken back last time), tries to take it.
    fn refuse_with_spare(&mut self) {
        if let Some(spare) = self.spare.take() {
            drop(spare);
            match self.listener.accept() {
                Ok((stream, peer)) => match stream.set_nonblocking(true) {
                    Ok(()) => {
                        log::warn!("{peer}: out of file descriptors; answered 503");
                        limits::refuse(
                            stream,
                            peer,
                            "the server is out of file descriptors; try again shortly",
                        );
                    }
                    Err(e) => log::debug!("{peer}: cannot make the socket non-blocking: {e}"),
                },
                Err(e) => log::debug!("accept with the spare descriptor failed: {e}"),
            }
        }
        match self.listener.try_clone() {
            Ok(spare) => self.spare = Some(spare),
            Err(e) => log::warn!("cannot take a spare descriptor again: {e}"),
        }
    }

    /// Makes an accepted connection non-blocking, gives it a place under the limits and
    /// hands it to the worker holding the fewest connections; without a place, answers 503.
    fn admit(&self, stream: TcpStream, peer: SocketAddr) {
        // Small responses go out at once instead of waiting for an ACK (Nagle's algorithm);
        // file heads are sent with MSG_MORE instead.
        if let Err(e) = stream
            .set_nonblocking(true)
            .and_then(|()| stream.set_nodelay(true))
        {
            log::debug!("{peer}: socket options failed: {e}; closing");
            return;
        }
        // A trusted proxy carries many clients, and behind the PROXY protocol the client is
        // not known yet (the header names it, and the cap is applied then): neither counts
        // against --max-connections-per-ip here.
        let exempt = self.shared.proxy_protocol || self.shared.trusted.contains(peer.ip());
        let capped = (!exempt).then_some(peer.ip());
        let (slot, evict) = match self.limits.try_acquire(capped) {
            Ok(slot) => (slot, false),
            Err(Refusal::PerAddress) => {
                log::warn!("{peer}: past --max-connections-per-ip; answered 503");
                limits::refuse(
                    stream,
                    peer,
                    "too many connections from your address; try again shortly",
                );
                return;
            }
            Err(Refusal::Full) => {
                if !self.lanes.iter().any(|lane| lane.idle() > 0) {
                    log::warn!("{peer}: at --max-connections, none idle; answered 503");
                    limits::refuse(stream, peer, "too many connections; try again shortly");
                    return;
                }
                (self.limits.acquire_in_place_of_idle(capped), true)
            }
        };
        let lane = if evict {
            self.lanes.iter().max_by_key(|lane| lane.idle())
        } else {
            self.lanes.iter().min_by_key(|lane| lane.open())
        };
        if let Some(lane) = lane {
            lane.hand(Admitted {
                stream,
                peer,
                slot,
                evict,
            });
        }
    }
}

impl Control {
    /// Begins the shutdown: [`Server::run`] stops accepting, idle connections close, and
    /// responses from now on close their connections. Wakes the blocked `accept` by shutting
    /// the listening socket down (on Linux, `accept` then fails with `EINVAL`).
    pub fn shut_down(&self) {
        self.shared.begin_shutdown();
        for lane in self.lanes.iter() {
            lane.wake();
        }
        if let Err(e) = rustix::net::shutdown(&self.listener, rustix::net::Shutdown::Read) {
            log::error!("could not wake the accept loop: {e}");
        }
    }

    /// Connections open and, of those, idle, over every worker.
    pub fn connections(&self) -> (usize, usize) {
        self.lanes.iter().fold((0, 0), |(open, idle), lane| {
            (open + lane.open(), idle + lane.idle())
        })
    }

    /// Whether a shutdown has begun.
    pub fn shutting_down(&self) -> bool {
        self.shared.shutting_down()
    }

    /// Answers requests with `handler` from now on (see [`Shared::replace_handler`]).
    pub fn replace_handler(&self, handler: Arc<dyn Handler>) {
        self.shared.replace_handler(handler);
    }
}
