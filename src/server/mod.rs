//! The server: workers that each accept the connections they serve, under limits they share.
//!
//! ```text
//! listening socket per worker (SO_REUSEPORT) ──▶ worker: accept ▶ limits ▶ turn ▶ epoll …
//! ```
//!
//! Each worker accepts the connections it serves and serves them for their whole life, with
//! no hand-off between threads ([`worker`]'s `accept`). For each TCP address it listens on,
//! every worker has a listening socket of its own, joined to the others with
//! `SO_REUSEPORT`: the kernel spreads new clients over them by a hash of the client's
//! address and port, so the workers share the clients evenly whatever the moment. Measured
//! (2 workers, wrk -t1, 50 connections), a shared socket woken with `EPOLLEXCLUSIVE` gave all
//! 50 keep-alive connections to one worker on each of three runs (the worker awake when
//! the burst came took it whole), and 0.62–0.87 context switches per new connection against
//! 0.45–0.64 with a socket per worker, at 38.5–47.7 µs of CPU per Connection: close request
//! against 35.0–40.2. The price: a client queued on a worker busy with a long response waits
//! for it while another worker may be idle. Where a socket cannot be split (a Unix socket,
//! or one systemd passed, whose sockets are made before the workers are known), every
//! worker watches the same socket with `EPOLLEXCLUSIVE`, so that a client wakes one worker,
//! not all of them.
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

mod alpn01;
pub mod certs;
pub mod limits;
pub mod listeners;
mod proxied;
mod quic;
mod sockopt;
mod staged;
mod tls;
mod tls_opening;
mod transport;
mod turn;
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
    /// HTTP/3 is spoken over QUIC, on UDP at each HTTPS listener's address (`--http3`;
    /// with HTTPS only): `Some(true)` asked for (a UDP port that cannot be had stops the
    /// start), `Some(false)` refused, `None` unsaid (on with HTTPS, a warning if UDP fails).
    pub http3: Option<bool>,
}

/// A running server: the workers are up and accepting; [`Server::run`] waits for the end.
pub struct Server {
    /// Every listening socket of every worker, held until the shutdown with the workers'
    /// own references: each closes when the last one lets go.
    listeners: Vec<Arc<Listener>>,
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
        let listeners: Vec<Arc<Listener>> = listeners.into_iter().map(Arc::new).collect();
        // Worker 0 accepts from the sockets given; each other worker from a sibling of each
        // (its own queue), or, where a socket can have none, from the same one.
        let mut sets = vec![listeners.clone()];
        for _ in 1..config.threads {
            let set = listeners
                .iter()
                .map(|listener| {
                    Ok(match listener.sibling()? {
                        Some(sibling) => Arc::new(sibling),
                        None => Arc::clone(listener),
                    })
                })
                .collect::<io::Result<Vec<_>>>()?;
            sets.push(set);
        }
        let mut all: Vec<Arc<Listener>> = Vec::new();
        for listener in sets.iter().flatten() {
            if !all.iter().any(|seen| Arc::ptr_eq(seen, listener)) {
                all.push(Arc::clone(listener));
            }
        }
        for listener in &all {
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
        let wake = rustix::event::eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        let limits = Limits::new(
            config.max_connections,
            config.max_connections_per_ip,
            config.ipv6_prefix,
            config.threads,
        );
        let quic = match (&tls, config.http3) {
            (Some(tls), Some(true)) => quic_endpoints(&all, tls, &config, &limits)?,
            // On by default with HTTPS: a UDP port taken by another program must not keep
            // the site from being served.
            (Some(tls), None) => quic_endpoints(&all, tls, &config, &limits).unwrap_or_else(|e| {
                log::warn!(
                    "HTTP/3 not served: cannot listen on UDP at the HTTPS port: {e} \
                     (--http3 off stops trying, --http3 on makes this an error)"
                );
                Vec::new()
            }),
            _ => Vec::new(),
        };
        let alt_svc = quic
            .first()
            .and_then(|first| first.first())
            .map(quic::Quic::port);
        let shared = Arc::new(Shared::new(handler, &config, tls, alt_svc));
        let lanes = worker::spawn(sets, &shared, &limits, quic)?;
        Ok(Server {
            listeners: all,
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

/// For each worker, a QUIC endpoint on UDP at the address of each TCP listener in
/// `listeners` (the HTTPS port), with `tls`'s certificates: the workers' sockets at one
/// address share it with `SO_REUSEPORT`, and their endpoints share their keys (see
/// `quic::steer`). Fails if a UDP socket cannot be bound there.
fn quic_endpoints(
    listeners: &[Arc<Listener>],
    tls: &Arc<ServerConfig>,
    config: &Config,
    limits: &Arc<Limits>,
) -> io::Result<Vec<Vec<quic::Quic>>> {
    let quic_config = quic::server_config(tls, config.timeouts).map_err(io::Error::other)?;
    let keys = quinn_proto::EndpointConfig::default();
    let mut addresses: Vec<(SocketAddr, bool)> = Vec::new();
    for listener in listeners.iter().filter(|listener| listener.is_tcp()) {
        let address = rustix::net::getsockname(listener.socket())?;
        let address = SocketAddr::try_from(address).map_err(io::Error::other)?;
        let v6only = address.is_ipv6() && rustix::net::sockopt::ipv6_v6only(listener.socket())?;
        // A worker's sibling of a listening socket has the same address: one endpoint each.
        if !addresses.iter().any(|(seen, _)| *seen == address) {
            addresses.push((address, v6only));
        }
    }
    let mut workers = Vec::new();
    for worker in 0..config.threads {
        let mut endpoints = Vec::new();
        for (index, &(address, v6only)) in addresses.iter().enumerate() {
            let socket = udp_socket(address, v6only).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot listen on UDP {address} for HTTP/3: {e}"),
                )
            })?;
            let id = (u16::try_from(worker).unwrap_or(u16::MAX), index);
            endpoints.push(quic::Quic::new(
                id,
                socket,
                &keys,
                Arc::clone(&quic_config),
                limits,
                config.timeouts,
                config.recorded,
            )?);
        }
        workers.push(endpoints);
    }
    Ok(workers)
}

/// A UDP socket bound to `address` with `SO_REUSEPORT` (each worker has one), for IPv6 only
/// if `v6only` (as the TCP listener there is).
fn udp_socket(address: SocketAddr, v6only: bool) -> io::Result<std::net::UdpSocket> {
    use rustix::net::{AddressFamily, SocketFlags, SocketType, sockopt};
    let family = if address.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let socket = rustix::net::socket_with(family, SocketType::DGRAM, SocketFlags::CLOEXEC, None)?;
    sockopt::set_socket_reuseport(&socket, true)?;
    if v6only {
        sockopt::set_ipv6_v6only(&socket, true)?;
    }
    rustix::net::bind(&socket, &address)?;
    Ok(std::net::UdpSocket::from(socket))
}
