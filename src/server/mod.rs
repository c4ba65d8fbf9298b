//! The server: workers that each accept the connections they serve, under limits they share.
//!
//! ```text
//! listening sockets ──EPOLLEXCLUSIVE──▶ worker: accept ▶ limits ▶ turn ▶ epoll …
//! ```
//!
//! Every worker watches every listening socket ([`listeners`]: TCP, Unix, or those systemd
//! passed) in its own epoll set, registered with `EPOLLEXCLUSIVE`: a client waiting wakes one
//! worker blocked in `epoll_wait`, not all of them, and that worker accepts it and serves it
//! for its whole life, with no hand-off between threads ([`worker`]'s `accept`). A worker
//! that is busy does not wait in `epoll_wait`, so new clients go to those that are idle; one
//! that polls while busy takes its turn at accepting like the others. (One socket per worker
//! with `SO_REUSEPORT` would spread clients by a hash of their addresses instead, whatever
//! each worker's load, and cannot be had for the sockets systemd passes: the shared socket
//! serves every kind of listener the same way.)
//!
//! Each accepted connection is given a place under the limits ([`limits`]): below half of
//! `--max-connections` every connection is admitted, whatever its address; from half on, an
//! address holding its fair share loses its own idle connections to its new ones, and gets
//! 503 when it has none idle; at `--max-connections` a newcomer takes the place of an idle
//! connection of the address holding the most, and only when no connection is idle does it
//! get 503. `--max-connections-per-ip`, when set, refuses with 503 past it in any case. The
//! connection stays with the worker that accepted it; one admitted in place of an idle
//! connection held by another worker goes to that worker, through its inbox, which closes
//! the idle one to make room. On an HTTPS server a 503 can only follow a handshake: a refused
//! connection is served up to its first request, which is answered with the 503, at most
//! [`limits::REFUSING`] at once (past them, and out of descriptors, it is closed without a
//! word); a plain server writes its 503 at once.
//!
//! Many cores: each worker has its own epoll instance, connections, deadlines and run queue,
//! so the workers share nothing per request, and adding cores adds workers without adding
//! contention. What remains shared is per connection, not per request: the listening
//! sockets' accept queues and the limits' lock. (Each worker also counts its idle connections
//! per client address for the limits, in counters of its own that the other workers read.)
//!
//! A Unix socket's client has no IP address: it is given [`UNIX_PEER`] (`0.0.0.0:0`), which
//! the access log shows as `0.0.0.0`, and it is under `--max-connections` only, not the
//! per-address share or cap (the processes behind one socket are all local, often a front
//! end carrying many clients).
//!
//! Shutdown (SIGINT, SIGTERM): every worker is woken, stops watching the listening sockets,
//! and closes its idle connections; the sockets close once the last worker lets go of them
//! (systemd may hold the same ones to start the next run), responses from then on close
//! their connections, and the connections being served get `--shutdown-timeout` to finish.

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
use limits::Limits;
use listeners::Listener;
use rustix::event::{EventfdFlags, PollFd, PollFlags};
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustls::ServerConfig;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use worker::{Lane, Shared};

/// The peer address a Unix socket's connection is given: it has no IP address.
pub const UNIX_PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

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
    /// HTTP/2 is spoken: with prior knowledge in the clear, and offered with ALPN over TLS
    /// (`--http2`).
    pub http2: bool,
}

/// A running server: the workers are up and accepting; [`Server::run`] waits for the end.
pub struct Server {
    /// Held until the shutdown, with the workers' own references: the sockets close when
    /// the last one lets go.
    listeners: Arc<[Listener]>,
    /// Written to wake [`Server::run`] for a shutdown.
    wake: Arc<OwnedFd>,
    shared: Arc<Shared>,
    lanes: Arc<[Arc<Lane>]>,
    limits: Arc<Limits>,
    shutdown_timeout: Duration,
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
    /// Starts `config.threads` workers that accept from `listeners` and answer with
    /// `handler`, over TLS made from `tls` when it is given (HTTPS), else in the clear.
    /// Fails if a thread or a worker's descriptors cannot be created, or a listening socket
    /// cannot be made non-blocking or watched.
    pub fn start(
        listeners: Vec<Listener>,
        config: Config,
        handler: Arc<dyn Handler>,
        tls: Option<Arc<ServerConfig>>,
    ) -> io::Result<Server> {
        for listener in &listeners {
            // A client may leave between the wake-up and `accept`, or another worker take
            // it: never block there.
            rustix::io::ioctl_fionbio(listener.socket(), true)?;
            // Small responses go out at once instead of waiting for an ACK (Nagle's
            // algorithm); file heads are sent with MSG_MORE instead. Set once here: Linux
            // gives each accepted connection the listening socket's TCP options.
            if listener.is_tcp() {
                rustix::net::sockopt::set_tcp_nodelay(listener.socket(), true)?;
            }
        }
        let listeners: Arc<[Listener]> = listeners.into();
        let wake = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        let shared = Arc::new(Shared::new(handler, &config, tls));
        let limits = Limits::new(
            config.max_connections,
            config.max_connections_per_ip,
            config.ipv6_prefix,
            config.threads,
        );
        let lanes = worker::spawn(config.threads, &shared, &listeners, &limits)?;
        Ok(Server {
            listeners,
            wake: Arc::new(wake),
            shared,
            lanes,
            limits,
            shutdown_timeout: config.shutdown_timeout,
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

    /// Waits until a shutdown is triggered; then removes the Unix socket files this process
    /// made and lets go of the listening sockets (they close once every worker has stopped
    /// watching them), waits up to `--shutdown-timeout` for the open connections to
    /// finish, and returns how many were still open at the end.
    pub fn run(self) -> usize {
        while !self.shared.shutting_down() {
            let mut fds = [PollFd::new(&*self.wake, PollFlags::IN)];
            match rustix::event::poll(&mut fds, None) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    log::error!("poll on the shutdown eventfd failed: {e}; shutting down");
                    self.control().shut_down();
                }
            }
        }
        let Server {
            listeners,
            lanes,
            limits,
            shutdown_timeout,
            ..
        } = self;
        for listener in listeners.iter() {
            listener.remove_socket_file();
        }
        drop(listeners);
        log::info!(
            "shutting down: no new connections; in-flight responses have {shutdown_timeout:?}"
        );
        for lane in lanes.iter() {
            lane.clear_inbox();
        }
        limits.wait_all_closed(shutdown_timeout)
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
                log::error!("could not wake the main thread for the shutdown: {e}");
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
