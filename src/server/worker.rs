//! A worker: one thread with its own epoll instance, serving the connections handed to it.
//!
//! Each connection belongs to one worker for its whole life. It is registered once,
//! edge-triggered for both directions, and never re-armed: the worker learns of each change
//! of readiness once and keeps what it learned in the connection's [`Readiness`]. Nothing on
//! a request's path is shared with another worker: the connections, their deadlines and the
//! run queue are the worker's own, so no lock is taken per request. (The accept loop hands
//! new connections over through the worker's inbox, a lock held for a push; the counts the
//! accept loop reads to balance the workers are atomics.)
//!
//! The loop: wait for events (not at all while connections are queued to run, else until the
//! nearest deadline), note what each event says and queue its connection, take new
//! connections from the inbox, expire those whose deadline passed, then give every queued
//! connection one turn ([`transport::drive`]). A turn that spends its budget with work left
//! queues its connection again, behind the others: one busy client cannot starve the rest.
//!
//! Handlers are plain blocking functions: while one runs, the worker's other connections
//! wait, as in nginx's workers. They read local files; no handler waits on a client. Slow
//! work (a password check) runs elsewhere: its request is parked, and the connection is
//! queued again when the work's thread wakes it through the worker's [`Bell`].

use crate::conn::client::TrustedProxies;
use crate::conn::{Conn, Context, Timeouts};
use crate::handlers::Handler;
use crate::server::Config;
use crate::server::limits::{self, Slot, Victim};
use crate::server::proxied::{self, Arrival, Complaints};
use crate::server::tls::{self, RECORD, Tls};
use crate::server::transport::{self, Readiness, Turn};
use crate::server::wake::Bell;
use rustix::event::{Timespec, epoll};
use rustix::fd::OwnedFd;
use rustls::{ServerConfig, ServerConnection};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::mem::MaybeUninit;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

/// The epoll token of the eventfd that wakes the worker; connection tokens never reach it.
const WAKE_TOKEN: u64 = u64::MAX;

/// Events taken per `epoll_wait`.
const EVENTS: usize = 64;

/// What every worker shares: the handler, the timeouts, and whether the server is shutting
/// down.
pub struct Shared {
    /// Answers requests; replaced by [`Shared::replace_handler`].
    handler: RwLock<Arc<dyn Handler>>,
    /// Counts the handler's replacements: a worker whose copy is older takes the new one.
    handler_generation: AtomicU64,
    /// The connections' time limits.
    pub timeouts: Timeouts,
    /// The peers whose Forwarded and X-Forwarded-For fields name the client.
    pub trusted: TrustedProxies,
    /// Every connection starts with a PROXY protocol header.
    pub proxy_protocol: bool,
    /// Addresses whose missing PROXY header was logged lately.
    complaints: Complaints,
    /// Exchanges are access-logged and counted ([`Config::recorded`]).
    recorded: bool,
    /// With HTTPS, what each connection's TLS session is made from.
    pub tls: Option<Arc<ServerConfig>>,
    shutting_down: AtomicBool,
}

impl Shared {
    /// The shared state of a server that answers with `handler`, under `config`'s timeouts,
    /// trusted proxies and PROXY protocol setting, over TLS made from `tls` when it is given.
    pub fn new(
        handler: Arc<dyn Handler>,
        config: &Config,
        tls: Option<Arc<ServerConfig>>,
    ) -> Shared {
        Shared {
            handler: RwLock::new(handler),
            handler_generation: AtomicU64::new(0),
            timeouts: config.timeouts,
            trusted: config.trusted.clone(),
            proxy_protocol: config.proxy_protocol,
            complaints: Complaints::default(),
            recorded: config.recorded,
            tls,
            shutting_down: AtomicBool::new(false),
        }
    }

    /// Answers requests with `handler` from now on: each worker takes it before its next
    /// turn, so requests already being answered finish with the old one, and no connection
    /// is dropped.
    pub fn replace_handler(&self, handler: Arc<dyn Handler>) {
        *self.handler.write().unwrap_or_else(PoisonError::into_inner) = handler;
        self.handler_generation.fetch_add(1, Ordering::Release);
    }

    /// The current handler and its generation.
    fn handler(&self) -> (Arc<dyn Handler>, u64) {
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

/// A connection accepted and given a place under the limits, on its way to a worker.
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
    /// ([`Conn::refuse`]), and `slot` is a refusal's.
    pub refusal: Option<&'static str>,
}

/// The side of a worker the accept loop sees: its inbox, the bell that wakes it, and its
/// counts.
#[derive(Debug)]
pub struct Lane {
    inbox: Mutex<Vec<Admitted>>,
    bell: Arc<Bell>,
    open: AtomicUsize,
    idle: AtomicUsize,
}

impl Lane {
    fn new() -> std::io::Result<Lane> {
        Ok(Lane {
            inbox: Mutex::new(Vec::new()),
            bell: Arc::new(Bell::new()?),
            open: AtomicUsize::new(0),
            idle: AtomicUsize::new(0),
        })
    }

    /// Hands `admitted` to the worker and wakes it.
    pub fn hand(&self, admitted: Admitted) {
        self.open.fetch_add(1, Ordering::Relaxed);
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

/// Starts `threads` workers; returns their lanes. Fails if a thread, an epoll instance or an
/// eventfd cannot be created.
pub fn spawn(threads: usize, shared: &Arc<Shared>) -> std::io::Result<Vec<Arc<Lane>>> {
    let mut lanes = Vec::with_capacity(threads);
    for i in 0..threads {
        let lane = Arc::new(Lane::new()?);
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        epoll::add(
            &epoll,
            lane.bell.fd(),
            epoll::EventData::new_u64(WAKE_TOKEN),
            epoll::EventFlags::IN,
        )?;
        let (handler, handler_generation) = shared.handler();
        let worker = Worker {
            handler,
            handler_generation,
            lane: Arc::clone(&lane),
            shared: Arc::clone(shared),
            epoll,
            entries: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            live: 0,
            run: VecDeque::new(),
            timers: BinaryHeap::new(),
            draining: false,
            stage: if shared.tls.is_some() {
                vec![0; RECORD]
            } else {
                Vec::new()
            },
        };
        std::thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || worker.run())?;
        lanes.push(lane);
    }
    Ok(lanes)
}

/// A connection held by a worker.
struct Entry {
    // Declared first, so dropped first: the place under the limits is free before the
    // socket closes, and a client that sees the close can connect again at once.
    slot: Slot,
    /// The PROXY header has yet to be read (`--proxy-protocol`).
    awaiting_proxy: bool,
    stream: OwnedFd,
    conn: Conn,
    tls: Option<Box<Tls>>,
    ready: Readiness,
    /// In the run queue.
    queued: bool,
    /// The earliest deadline this connection has in the timer heap.
    timer: Option<Instant>,
    /// Counted in the lane's idle count.
    idle: bool,
}

/// One worker's state; only its own thread touches it.
struct Worker {
    /// The worker's copy of the shared handler, and the generation it is.
    handler: Arc<dyn Handler>,
    handler_generation: u64,
    lane: Arc<Lane>,
    shared: Arc<Shared>,
    epoll: OwnedFd,
    /// Connections by index; a token is the index and the slot's generation, so an event
    /// for a closed connection is not taken for its successor's.
    entries: Vec<Option<Entry>>,
    generations: Vec<u32>,
    free: Vec<u32>,
    live: usize,
    /// Connections with work that needs no event, in turn order.
    run: VecDeque<u64>,
    /// Deadlines, earliest first; an entry whose connection's deadline moved is checked and
    /// pushed again when it comes up.
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Shutting down: quiet connections are closed, and the worker stops once it has none.
    draining: bool,
    /// Plaintext on its way to rustls, for one TLS connection's turn at a time (empty
    /// without HTTPS).
    stage: Vec<u8>,
}

impl Worker {
    fn run(mut self) {
        let mut events = [MaybeUninit::<epoll::Event>::uninit(); EVENTS];
        loop {
            if self.shared.shutting_down() && !self.draining {
                self.draining = true;
                self.close_quiet();
            }
            if self.draining && self.live == 0 {
                break;
            }
            let timeout = self.wait_time();
            let ready = match epoll::wait(&self.epoll, &mut events, timeout.as_ref()) {
                Ok((ready, _)) => ready,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    log::error!("epoll_wait failed: {e}; a worker stops");
                    break;
                }
            };
            let mut woken = false;
            for event in ready.iter() {
                let token = event.data.u64();
                if token == WAKE_TOKEN {
                    woken = true;
                } else {
                    self.note(token, event.flags);
                }
            }
            if woken {
                for token in self.lane.bell.answer() {
                    self.queue(token);
                }
                self.take_inbox();
            }
            if self.shared.handler_generation.load(Ordering::Acquire) != self.handler_generation {
                (self.handler, self.handler_generation) = self.shared.handler();
            }
            self.expire_due();
            for _ in 0..self.run.len() {
                let Some(token) = self.run.pop_front() else {
                    break;
                };
                if let Some(entry) = self.entry(token) {
                    entry.queued = false;
                    self.turn(token);
                }
            }
        }
        self.lane.clear_inbox();
    }

    /// How long `epoll_wait` may wait: not at all while connections are queued to run, else
    /// until the nearest deadline (rounded up to the millisecond), else without end.
    fn wait_time(&self) -> Option<Timespec> {
        if !self.run.is_empty() {
            return Some(Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            });
        }
        let Reverse((at, _)) = self.timers.peek()?;
        let wait = at.saturating_duration_since(Instant::now());
        let millis = wait.as_nanos().div_ceil(1_000_000);
        Some(Timespec {
            tv_sec: i64::try_from(millis / 1000).unwrap_or(i64::MAX),
            tv_nsec: i64::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
        })
    }

    fn entry(&mut self, token: u64) -> Option<&mut Entry> {
        entry_mut(&mut self.entries, &self.generations, token)
    }

    /// Records what an event says of a connection's socket and queues it to run.
    fn note(&mut self, token: u64, flags: epoll::EventFlags) {
        let Some(entry) = self.entry(token) else {
            return;
        };
        let hangup = flags.intersects(epoll::EventFlags::HUP | epoll::EventFlags::ERR);
        if hangup || flags.intersects(epoll::EventFlags::IN | epoll::EventFlags::RDHUP) {
            entry.ready.readable = true;
        }
        if hangup || flags.contains(epoll::EventFlags::RDHUP) {
            entry.ready.peer_shut = true;
        }
        if hangup || flags.contains(epoll::EventFlags::OUT) {
            entry.ready.writable = true;
        }
        self.queue(token);
    }

    /// Queues the connection `token` names, if it is still open, for a turn.
    fn queue(&mut self, token: u64) {
        if let Some(entry) = self.entry(token) {
            if !entry.queued {
                entry.queued = true;
                self.run.push_back(token);
            }
        }
    }

    /// Registers the connections the accept loop handed over.
    fn take_inbox(&mut self) {
        let admitted = std::mem::take(
            &mut *self
                .lane
                .inbox
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for admitted in admitted {
            if admitted
                .evict
                .as_ref()
                .is_some_and(|victim| !self.evict_idle(victim))
            {
                self.refuse(admitted);
                continue;
            }
            self.register(admitted);
        }
    }

    /// Answers 503 to a connection for which no idle one could make room, as the accept
    /// loop answers the connections it refuses ([`crate::server::Server::admit`]): at once
    /// in the clear; over TLS, after the handshake, or without a word past
    /// [`limits::REFUSING`].
    fn refuse(&mut self, admitted: Admitted) {
        let Admitted {
            stream, peer, slot, ..
        } = admitted;
        let message = "too many connections; try again shortly";
        let done = match self.shared.tls.as_ref().map(|_| slot.refuse()) {
            Some(Some(slot)) => {
                log::warn!("{peer}: no idle connection to make room; 503 after the handshake");
                self.register(Admitted {
                    stream,
                    peer,
                    slot,
                    evict: None,
                    refusal: Some(message),
                });
                return;
            }
            Some(None) => "closed (too many refusals under way)",
            None => {
                limits::refuse(stream, peer, message);
                "answered 503"
            }
        };
        self.lane.open.fetch_sub(1, Ordering::Relaxed);
        log::warn!("{peer}: no idle connection to make room; {done}");
    }

    /// Closes the connection of `victim`'s address that has been idle longest (any
    /// connection's, for [`Victim::Any`]), to admit a new one in its place (as nginx reuses
    /// idle keep-alive connections); closing an idle connection is the server's right at any
    /// time (RFC 9112 §9.5). `false` if none is idle.
    fn evict_idle(&mut self, victim: &Victim) -> bool {
        let oldest = self
            .entries
            .iter()
            .enumerate()
            .filter_map(|(index, entry)| {
                let entry = entry.as_ref()?;
                let chosen = match victim {
                    Victim::Of { group, .. } => entry.slot.is_of(group),
                    Victim::Any => true,
                };
                (chosen && entry.conn.is_idle()).then(|| (entry.conn.idle_since(), index))
            })
            .min();
        let Some((_, index)) = oldest else {
            return false;
        };
        let token = self.token(index);
        if let Some(entry) = self.entry(token) {
            log::debug!(
                "{}: idle connection closed to make room for a new one",
                entry.conn.peer()
            );
        }
        self.remove(token);
        true
    }

    fn token(&self, index: usize) -> u64 {
        let generation = self.generations.get(index).copied().unwrap_or(0);
        (u64::from(generation) << 32) | index as u64
    }

    fn register(&mut self, admitted: Admitted) {
        let Admitted {
            stream,
            peer,
            slot,
            refusal,
            ..
        } = admitted;
        let index = match self.free.pop() {
            Some(index) => index as usize,
            None => {
                self.entries.push(None);
                self.generations.push(0);
                self.entries.len() - 1
            }
        };
        if let Some(generation) = self.generations.get_mut(index) {
            *generation = generation.wrapping_add(1);
        }
        let token = self.token(index);
        let flags = epoll::EventFlags::IN
            | epoll::EventFlags::OUT
            | epoll::EventFlags::RDHUP
            | epoll::EventFlags::ET;
        if let Err(e) = epoll::add(
            &self.epoll,
            &stream,
            epoll::EventData::new_u64(token),
            flags,
        ) {
            log::warn!("{peer}: cannot watch the connection: {e}; closing it");
            self.free.push(index as u32);
            self.lane.open.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let tls = match &self.shared.tls {
            Some(config) => match ServerConnection::new(Arc::clone(config)) {
                Ok(session) => Some(Box::new(Tls::new(session))),
                Err(e) => {
                    log::warn!("{peer}: cannot start a TLS session: {e}; closing");
                    let _ = epoll::delete(&self.epoll, &stream);
                    self.free.push(index as u32);
                    self.lane.open.fetch_sub(1, Ordering::Relaxed);
                    return;
                }
            },
            None => None,
        };
        let mut conn = Conn::new(peer, self.shared.timeouts, Instant::now());
        if let Some(message) = refusal {
            conn.refuse(message);
        }
        if !self.shared.recorded {
            conn.set_unrecorded();
        }
        if let Some(place) = self.entries.get_mut(index) {
            *place = Some(Entry {
                slot,
                awaiting_proxy: self.shared.proxy_protocol,
                stream,
                conn,
                tls,
                ready: Readiness {
                    readable: false,
                    writable: true,
                    peer_shut: false,
                },
                queued: false,
                timer: None,
                idle: false,
            });
            self.live += 1;
            self.settle(token);
        }
    }

    /// Gives the connection one turn, then settles or closes it.
    fn turn(&mut self, token: u64) {
        let Some(entry) = entry_mut(&mut self.entries, &self.generations, token) else {
            return;
        };
        let bell = &self.lane.bell;
        let waker = || bell.waker(token);
        let ctx = Context {
            handler: &*self.handler,
            trusted: &self.shared.trusted,
            shutting_down: self.shared.shutting_down(),
            waker: &waker,
        };
        if entry.awaiting_proxy && !take_proxy_header(entry, &self.shared.complaints) {
            if entry.conn.is_closed() || !entry.awaiting_proxy {
                self.remove(token);
            } else {
                self.settle(token);
            }
            return;
        }
        let peer = entry.conn.peer();
        let stage = &mut self.stage;
        let turn = catch_unwind(AssertUnwindSafe(|| match &mut entry.tls {
            Some(tls) => tls::drive(
                &mut entry.conn,
                tls,
                &entry.stream,
                &mut entry.ready,
                &ctx,
                stage,
            ),
            None => transport::drive(&mut entry.conn, &entry.stream, &mut entry.ready, &ctx),
        }));
        match turn {
            Ok(Turn::Wait) => self.settle(token),
            Ok(Turn::Yield) => {
                self.settle(token);
                self.queue(token);
            }
            Ok(Turn::Close) => self.remove(token),
            Err(_) => {
                log::error!("{peer}: panic while serving the connection; closed it");
                self.remove(token);
            }
        }
    }

    /// Expires every connection whose deadline passed: each is read first (bytes that
    /// arrived in time are served), then [`Conn::expire`]d if its deadline still stands.
    fn expire_due(&mut self) {
        let now = Instant::now();
        while let Some(&Reverse((at, token))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(entry) = self.entry(token) else {
                continue;
            };
            if entry.timer == Some(at) {
                entry.timer = None;
            }
            if entry.conn.deadline().is_none_or(|deadline| deadline > now) {
                self.settle(token);
                continue;
            }
            entry.ready.readable = true;
            self.turn(token);
            let Some(entry) = self.entry(token) else {
                continue;
            };
            if entry
                .conn
                .deadline()
                .is_some_and(|deadline| deadline <= now)
            {
                entry.conn.expire(now);
                self.turn(token);
            }
        }
    }

    /// Brings the lane's idle count and the timer heap up to date with the connection's
    /// state; at shutdown, closes it once it is quiet.
    fn settle(&mut self, token: u64) {
        let draining = self.draining;
        let Some(entry) = self.entry(token) else {
            return;
        };
        let idle = entry.conn.is_idle();
        let idle_changed = idle != entry.idle;
        entry.idle = idle;
        entry.slot.set_idle(idle);
        let mut push = None;
        if let Some(deadline) = entry.conn.deadline() {
            if entry.timer.is_none_or(|timer| timer > deadline) {
                entry.timer = Some(deadline);
                push = Some(deadline);
            }
        }
        let quiet = entry.conn.is_quiet();
        if idle_changed {
            if idle {
                self.lane.idle.fetch_add(1, Ordering::Relaxed);
            } else {
                self.lane.idle.fetch_sub(1, Ordering::Relaxed);
            }
        }
        if let Some(deadline) = push {
            self.timers.push(Reverse((deadline, token)));
        }
        if draining && quiet {
            self.remove(token);
        }
    }

    /// Closes every quiet connection (the shutdown has begun): those not sending a response.
    fn close_quiet(&mut self) {
        let quiet: Vec<u64> = (0..self.entries.len())
            .filter(|&index| {
                self.entries
                    .get(index)
                    .is_some_and(|entry| entry.as_ref().is_some_and(|e| e.conn.is_quiet()))
            })
            .map(|index| self.token(index))
            .collect();
        log::debug!("closing {} quiet connections", quiet.len());
        for token in quiet {
            self.remove(token);
        }
    }

    /// Closes the connection (dropping it closes the socket, which leaves the epoll set).
    fn remove(&mut self, token: u64) {
        let index = (token & u64::from(u32::MAX)) as usize;
        if self.entry(token).is_none() {
            return;
        }
        let Some(entry) = self.entries.get_mut(index).and_then(Option::take) else {
            return;
        };
        if entry.idle {
            self.lane.idle.fetch_sub(1, Ordering::Relaxed);
        }
        self.lane.open.fetch_sub(1, Ordering::Relaxed);
        self.live -= 1;
        self.free.push(index as u32);
        drop(entry);
    }
}

/// The connection `token` names in `entries`, unless the token is stale (its slot was
/// freed, or reused by a later connection). A function of the fields it reads, so that a
/// caller can hold it beside the worker's other fields.
fn entry_mut<'e>(
    entries: &'e mut [Option<Entry>],
    generations: &[u32],
    token: u64,
) -> Option<&'e mut Entry> {
    let index = (token & u64::from(u32::MAX)) as usize;
    let generation = (token >> 32) as u32;
    if generations.get(index) != Some(&generation) {
        return None;
    }
    entries.get_mut(index)?.as_mut()
}

/// Reads the PROXY header of `entry`'s connection, if it has come. Returns whether the
/// connection goes on to its transport now; when it does not, it waits for more bytes
/// (`awaiting_proxy` still set) or is to be closed (`awaiting_proxy` cleared, or its core
/// closed at its deadline). The client the header names takes the connection's place in the
/// per-address counts, and a client at `--max-connections-per-ip` is closed.
fn take_proxy_header(entry: &mut Entry, complaints: &Complaints) -> bool {
    if entry.conn.is_closed() {
        return false;
    }
    let peer = entry.conn.peer();
    match proxied::read_header(&entry.stream, &mut entry.ready, peer, complaints) {
        Arrival::Client(client) => {
            entry.awaiting_proxy = false;
            let Some(client) = client else {
                return true;
            };
            if entry.slot.readdress(client.ip()).is_err() {
                log::warn!("{client} (through {peer}): past --max-connections-per-ip; closed");
                return false;
            }
            entry.conn.set_peer(client);
            true
        }
        Arrival::Wait => false,
        Arrival::Close => {
            entry.awaiting_proxy = false;
            false
        }
    }
}
