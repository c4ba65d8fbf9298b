//! What the workers share: the handler, the settings every connection is served under, and,
//! per worker, the [`Lane`] the others hand it connections through and read its counts from.

use crate::conn::Timeouts;
use crate::conn::client::TrustedProxies;
use crate::handlers::Handler;
use crate::handlers::https::AltSvc;
use crate::server::Config;
use crate::server::limits::{Slot, Victim};
use crate::server::proxied::Complaints;
use crate::server::wake::Bell;
use rustix::fd::OwnedFd;
use rustls::ServerConfig;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// What every worker shares: the handler, the timeouts, and whether the server is shutting
/// down.
pub struct Shared {
    /// Answers requests; replaced by [`Shared::replace_handler`].
    handler: RwLock<Arc<dyn Handler>>,
    /// Counts the handler's replacements: a worker whose copy is older takes the new one.
    pub(super) handler_generation: AtomicU64,
    /// The connections' time limits.
    pub timeouts: Timeouts,
    /// The peers whose Forwarded and X-Forwarded-For fields name the client.
    pub trusted: TrustedProxies,
    /// Every connection starts with a PROXY protocol header.
    pub proxy_protocol: bool,
    /// Addresses whose missing PROXY header was logged lately.
    pub(super) complaints: Complaints,
    /// Exchanges are access-logged and counted ([`Config::recorded`]).
    pub(super) recorded: bool,
    /// With HTTPS, what each connection's TLS session is made from.
    pub tls: Option<Arc<ServerConfig>>,
    /// A client that opens with the HTTP/2 preface in the clear gets HTTP/2.
    pub h2c: bool,
    /// With `--http3`, the UDP port whose HTTP/3 every other response advertises.
    alt_svc: Option<u16>,
    shutting_down: AtomicBool,
}

impl Shared {
    /// The shared state of a server that answers with `handler`, under `config`'s timeouts,
    /// trusted proxies and PROXY protocol setting, over TLS made from `tls` when it is given.
    pub fn new(
        handler: Arc<dyn Handler>,
        config: &Config,
        tls: Option<Arc<ServerConfig>>,
        alt_svc: Option<u16>,
    ) -> Shared {
        Shared {
            handler: RwLock::new(advertised(handler, alt_svc)),
            alt_svc,
            handler_generation: AtomicU64::new(0),
            timeouts: config.timeouts,
            trusted: config.trusted.clone(),
            proxy_protocol: config.proxy_protocol,
            complaints: Complaints::default(),
            recorded: config.recorded,
            tls,
            h2c: config.http2,
            shutting_down: AtomicBool::new(false),
        }
    }

    /// Answers requests with `handler` from now on: each worker takes it before its next
    /// turn, so requests already being answered finish with the old one, and no connection
    /// is dropped.
    pub fn replace_handler(&self, handler: Arc<dyn Handler>) {
        *self.handler.write().unwrap_or_else(PoisonError::into_inner) =
            advertised(handler, self.alt_svc);
        self.handler_generation.fetch_add(1, Ordering::Release);
    }

    /// The current handler and its generation.
    pub(super) fn handler(&self) -> (Arc<dyn Handler>, u64) {
        let generation = self.handler_generation.load(Ordering::Acquire);
        let handler = self.handler.read().unwrap_or_else(PoisonError::into_inner);
        (Arc::clone(&handler), generation)
    }

    /// Whether a shutdown has begun.
    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Begins the shutdown: responses from now on close their connections, idle ones close.
    pub fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::Release);
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("timeouts", &self.timeouts)
            .field("shutting_down", &self.shutting_down())
            .finish_non_exhaustive()
    }
}

/// A connection accepted and given a place under the limits, on its way into a worker.
#[derive(Debug)]
pub struct Admitted {
    /// The socket (TCP or Unix stream), non-blocking.
    pub stream: OwnedFd,
    /// The client's address (for a Unix socket's, [`crate::server::UNIX_PEER`]).
    pub peer: SocketAddr,
    /// Its place under the limits.
    pub slot: Slot,
    /// It takes the place of an idle connection: the worker closes its longest-idle one of
    /// the victim's address (or, for [`Victim::Any`], its longest-idle one) to make room, or
    /// refuses this one if it has none.
    pub evict: Option<Victim>,
    /// It is refused, over TLS: its first request is answered 503 with this sentence
    /// ([`crate::conn::Core::refuse`]), and `slot` is a refusal's.
    pub refusal: Option<&'static str>,
}

/// The side of a worker the others see: its inbox, the bell that wakes it, and its counts.
#[derive(Debug)]
pub struct Lane {
    pub(super) inbox: Mutex<Vec<Admitted>>,
    pub(super) bell: Arc<Bell>,
    pub(super) open: AtomicUsize,
    pub(super) idle: AtomicUsize,
}

impl Lane {
    pub(super) fn new() -> std::io::Result<Lane> {
        Ok(Lane {
            inbox: Mutex::new(Vec::new()),
            bell: Arc::new(Bell::new()?),
            open: AtomicUsize::new(0),
            idle: AtomicUsize::new(0),
        })
    }

    /// Counts one more connection open on the worker (one it accepted itself, or one being
    /// handed to it).
    pub(super) fn count_open(&self) {
        self.open.fetch_add(1, Ordering::Relaxed);
    }

    /// Hands `admitted` to the worker (one admitted in place of its idle connection) and
    /// wakes it.
    pub fn hand(&self, admitted: Admitted) {
        self.count_open();
        self.inbox
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(admitted);
        self.wake();
    }

    /// Wakes the worker (for its inbox, or to see a shutdown).
    pub fn wake(&self) {
        self.bell.ring();
    }

    /// Connections the worker holds or is being handed.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections of the worker that wait for a request with nothing buffered.
    pub fn idle(&self) -> usize {
        self.idle.load(Ordering::Relaxed)
    }

    /// Closes what is left in the inbox (after the last worker turn, at shutdown).
    pub fn clear_inbox(&self) {
        let left = std::mem::take(&mut *self.inbox.lock().unwrap_or_else(PoisonError::into_inner));
        self.open.fetch_sub(left.len(), Ordering::Relaxed);
    }
}

/// `handler`, advertising HTTP/3 on UDP `port` ([`AltSvc`]) when there is one.
fn advertised(handler: Arc<dyn Handler>, port: Option<u16>) -> Arc<dyn Handler> {
    match port {
        Some(port) => Arc::new(AltSvc::new(handler, port)),
        None => handler,
    }
}
