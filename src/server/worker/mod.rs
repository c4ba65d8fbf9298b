//! A worker: one thread with its own epoll instance, serving the connections handed to it.
//!
//! Each worker accepts connections from the listening sockets it shares with the others
//! ([`accept`]) and serves them itself. Each connection belongs to one worker for its whole
//! life. It is registered once,
//! edge-triggered for both directions, and never re-armed: the worker learns of each change
//! of readiness once and keeps what it learned in the connection's [`Readiness`]. Nothing on
//! a request's path is shared with another worker: the connections, their deadlines and the
//! run queue are the worker's own, so no lock is taken per request. (A connection admitted in
//! place of another worker's idle one is handed to that worker through its inbox, a lock
//! held for a push; the counts the workers read of each other are atomics.)
//!
//! The loop: wait for events (not at all while connections are queued to run, else until the
//! nearest deadline), note what each event says and queue its connection, accept the clients
//! waiting, take new connections from the inbox, expire those whose deadline passed, then give every queued
//! connection one turn. A turn reads the connection's PROXY header first, if it has one to
//! read ([`preface`]), then runs its protocol's transport ([`protocol`]). A turn that spends
//! its budget with work left queues its connection again, behind the others: one busy client
//! cannot starve the rest.
//!
//! The parts: [`accept`] accepts and admits new connections, [`inbox`] takes them in, [`table`] keeps them by token, [`preface`]
//! reads the PROXY header, [`protocol`] runs a turn in the clear or over TLS, [`shared`] is
//! what the workers share.
//!
//! Handlers are plain blocking functions: while one runs, the worker's other connections
//! wait, as in nginx's workers. They read local files; no handler waits on a client. Slow
//! work (a password check) runs elsewhere: its request is parked, and the connection is
//! queued again when the work's thread wakes it through the worker's
//! [`Bell`](crate::server::wake::Bell).

mod accept;
mod inbox;
mod preface;
mod protocol;
mod shared;
mod table;

pub use shared::{Admitted, Lane, Shared};

use crate::conn::{Context, Core};
use crate::handlers::Handler;
use crate::server::limits::{Limits, Slot};
use crate::server::listeners::Listener;
use crate::server::quic::Quic;
use crate::server::quic::steer::Inbound;
use crate::server::staged::STAGE;
use crate::server::tls::RECORD;
use crate::server::turn::{Readiness, Turn};
use preface::Preface;
use protocol::Protocol;
use rustix::event::{Timespec, epoll};
use rustix::fd::OwnedFd;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use table::Table;

/// The epoll token of the eventfd that wakes the worker; connection tokens never reach it.
const WAKE_TOKEN: u64 = u64::MAX;

/// The epoll token of the worker's QUIC sockets: just below the listeners' tokens.
const QUIC_TOKEN: u64 = u64::MAX - 1 - accept::MAX_LISTENERS;

/// Events taken per `epoll_wait`.
const EVENTS: usize = 64;

/// Starts one worker per set of listening sockets, each accepting from its own set, under
/// `limits`, and serving its own QUIC endpoints, `quic[index]` (see [`Quic`]); returns their
/// lanes. Fails if a thread, an epoll instance or an eventfd cannot
/// be created, or a listening socket cannot be watched.
pub fn spawn(
    sets: Vec<Vec<Arc<Listener>>>,
    shared: &Arc<Shared>,
    limits: &Arc<Limits>,
    quic: Vec<Vec<Quic>>,
) -> std::io::Result<Arc<[Arc<Lane>]>> {
    let lanes: Arc<[Arc<Lane>]> = sets
        .iter()
        .map(|_| Lane::new().map(Arc::new))
        .collect::<std::io::Result<_>>()?;
    let inbound: Arc<[Arc<Inbound>]> = lanes
        .iter()
        .map(|lane| Arc::new(Inbound::new(lane.bell.waker(QUIC_TOKEN))))
        .collect();
    let mut quic = quic.into_iter();
    for (index, set) in sets.into_iter().enumerate() {
        let mut worker = Worker::new(shared, &lanes, index, limits)?;
        worker.watch(set)?;
        worker.serve_quic(quic.next().unwrap_or_default(), &inbound)?;
        std::thread::Builder::new()
            .name(format!("worker-{index}"))
            .spawn(move || worker.run())?;
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
    conn: Core,
    protocol: Protocol,
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
    /// Which of `lanes` is this worker's.
    index: usize,
    /// Every worker's lane, this one's included: a connection admitted in place of another
    /// worker's idle one goes through that worker's.
    lanes: Arc<[Arc<Lane>]>,
    shared: Arc<Shared>,
    limits: Arc<Limits>,
    epoll: OwnedFd,
    /// What the worker accepts from ([`accept`]).
    accepting: accept::Accepting,
    /// The connections, by token.
    table: Table<Entry>,
    /// Connections with work that needs no event, in turn order.
    run: VecDeque<u64>,
    /// Deadlines, earliest first; an entry whose connection's deadline moved is checked and
    /// pushed again when it comes up.
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    /// Shutting down: quiet connections are closed, and the worker stops once it has none.
    draining: bool,
    /// Output staged for one connection's turn at a time: plaintext on its way to rustls,
    /// or HTTP/2 frames in the clear on their way to one `send` (initialized once, so that
    /// files are read into it without zero-filling it first).
    stage: Vec<u8>,
    /// The QUIC endpoints this worker serves (`--http3`), with their connections, one per
    /// HTTP/3 address.
    quic: Vec<Quic>,
    /// The datagrams other workers forwarded to this one's connections.
    inbound: Option<Arc<Inbound>>,
}

impl Worker {
    /// The worker `index` of `lanes`, serving under `shared` and `limits`, with its bell in
    /// its epoll instance. Fails if the epoll instance or a spare descriptor cannot be had.
    fn new(
        shared: &Arc<Shared>,
        lanes: &Arc<[Arc<Lane>]>,
        index: usize,
        limits: &Arc<Limits>,
    ) -> std::io::Result<Worker> {
        let lane = lanes
            .get(index)
            .map(Arc::clone)
            .ok_or_else(|| std::io::Error::other("no lane for the worker"))?;
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        epoll::add(
            &epoll,
            lane.bell.fd(),
            epoll::EventData::new_u64(WAKE_TOKEN),
            epoll::EventFlags::IN,
        )?;
        let accepting = accept::Accepting::new(&lane)?;
        let (handler, handler_generation) = shared.handler();
        Ok(Worker {
            handler,
            handler_generation,
            lane,
            index,
            lanes: Arc::clone(lanes),
            shared: Arc::clone(shared),
            limits: Arc::clone(limits),
            epoll,
            accepting,
            table: Table::new(),
            run: VecDeque::new(),
            timers: BinaryHeap::new(),
            draining: false,
            stage: vec![0; STAGE.max(RECORD)],
            quic: Vec::new(),
            inbound: None,
        })
    }

    fn run(mut self) {
        let mut events = [MaybeUninit::<epoll::Event>::uninit(); EVENTS];
        loop {
            if self.shared.shutting_down() && !self.draining {
                self.draining = true;
                self.stop_accepting();
                self.close_quiet();
                self.quic.iter_mut().for_each(Quic::begin_shutdown);
            }
            if self.draining && self.table.len() == 0 && self.quic.iter().all(Quic::is_empty) {
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
            // Before any event: a connection accepted below runs its first turn at once, and
            // must see a handler replaced before its request came in.
            if self.shared.handler_generation.load(Ordering::Acquire) != self.handler_generation {
                (self.handler, self.handler_generation) = self.shared.handler();
            }
            let mut woken = false;
            let mut datagrams = false;
            let mut quic_woken = false;
            for event in ready.iter() {
                let token = event.data.u64();
                if token == WAKE_TOKEN {
                    woken = true;
                } else if token == QUIC_TOKEN {
                    datagrams = true;
                } else if let Some(listener) = accept::listener_of(token) {
                    self.accept_from(listener);
                } else {
                    self.note(token, event.flags);
                }
            }
            if woken {
                quic_woken = self.answer_bell();
            }
            self.resume_accepting();
            self.expire_due();
            self.run_queued();
            self.drive_quic(datagrams, quic_woken);
        }
        self.lane.clear_inbox();
    }

    /// How long `epoll_wait` may wait: not at all while connections are queued to run, else
    /// until the nearest deadline or the end of a pause in accepting (rounded up to the
    /// millisecond), else without end.
    fn wait_time(&self) -> Option<Timespec> {
        if !self.run.is_empty() {
            return Some(Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            });
        }
        let quic = self.quic.iter().filter_map(Quic::deadline).min();
        let deadline = self.timers.peek().map(|Reverse((at, _))| *at);
        let deadline = match (deadline, quic) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let at = match (deadline, self.accepting.paused_until()) {
            (Some(deadline), Some(paused)) => deadline.min(paused),
            (at, None) | (None, at) => at?,
        };
        let wait = at.saturating_duration_since(Instant::now());
        let millis = wait.as_nanos().div_ceil(1_000_000);
        Some(Timespec {
            tv_sec: i64::try_from(millis / 1000).unwrap_or(i64::MAX),
            tv_nsec: i64::try_from((millis % 1000) * 1_000_000).unwrap_or(0),
        })
    }

    /// Records what an event says of a connection's socket and queues it to run.
    fn note(&mut self, token: u64, flags: epoll::EventFlags) {
        let Some(entry) = self.table.get_mut(token) else {
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

    /// The bell rang: queues the connections woken through it, and takes the inbox.
    /// Returns whether it rang for a request parked on HTTP/3.
    fn answer_bell(&mut self) -> bool {
        let mut quic = false;
        for token in self.lane.bell.answer() {
            if token == QUIC_TOKEN {
                quic = true;
            } else {
                self.queue(token);
            }
        }
        self.take_inbox();
        quic
    }

    /// Queues the connection `token` names, if it is still open, for a turn.
    fn queue(&mut self, token: u64) {
        if let Some(entry) = self.table.get_mut(token) {
            if !entry.queued {
                entry.queued = true;
                self.run.push_back(token);
            }
        }
    }

    /// Gives each connection queued so far one turn, in order; those queued again meanwhile
    /// (a turn that yielded) wait for the next round.
    fn run_queued(&mut self) {
        for _ in 0..self.run.len() {
            let Some(token) = self.run.pop_front() else {
                break;
            };
            if let Some(entry) = self.table.get_mut(token) {
                entry.queued = false;
                self.turn(token);
            }
        }
    }

    /// Gives the connection one turn (its PROXY header first, while it has one to read),
    /// then settles or closes it, or queues it again behind the others if it yielded.
    fn turn(&mut self, token: u64) {
        let Some(entry) = self.table.get_mut(token) else {
            return;
        };
        if entry.awaiting_proxy {
            let complaints = &self.shared.complaints;
            match preface::read(
                &entry.stream,
                &mut entry.ready,
                &mut entry.conn,
                &mut entry.slot,
                complaints,
            ) {
                Preface::Read => entry.awaiting_proxy = false,
                Preface::Wait => return self.settle(token),
                Preface::Close => return self.remove(token),
            }
        }
        let bell = &self.lane.bell;
        let waker = || bell.waker(token);
        let ctx = Context {
            handler: &*self.handler,
            trusted: &self.shared.trusted,
            shutting_down: self.shared.shutting_down(),
            waker: &waker,
        };
        let turn = entry.protocol.drive(
            &mut entry.conn,
            &entry.stream,
            &mut entry.ready,
            &ctx,
            &mut self.stage,
        );
        match turn {
            Turn::Wait => self.settle(token),
            Turn::Yield => {
                self.settle(token);
                self.queue(token);
            }
            Turn::Close => self.remove(token),
        }
    }

    /// Expires every connection whose deadline passed: each is read first (bytes that
    /// arrived in time are served), then [`Core::expire`]d if its deadline still stands.
    fn expire_due(&mut self) {
        let now = Instant::now();
        while let Some(&Reverse((at, token))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(entry) = self.table.get_mut(token) else {
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
            let Some(entry) = self.table.get_mut(token) else {
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
        let Some(entry) = self.table.get_mut(token) else {
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
    /// An HTTP/2 connection first queues its GOAWAY (RFC 9113 §6.8), and gets a turn to send
    /// it; it closes once its streams are done.
    fn close_quiet(&mut self) {
        let tokens: Vec<u64> = self.table.iter().map(|(token, _)| token).collect();
        let mut quiet = Vec::new();
        let mut going_away = Vec::new();
        for token in tokens {
            let Some(entry) = self.table.get_mut(token) else {
                continue;
            };
            entry.conn.begin_shutdown();
            if entry.conn.is_quiet() {
                quiet.push(token);
            } else if entry.conn.is_h2() {
                going_away.push(token);
            }
        }
        for token in going_away {
            self.queue(token);
        }
        log::debug!("closing {} quiet connections", quiet.len());
        for token in quiet {
            self.remove(token);
        }
    }

    /// Watches the QUIC endpoints `quic` and serves them from now on, forwarding the
    /// datagrams of other workers' connections to their `inbound` queues.
    fn serve_quic(
        &mut self,
        mut quic: Vec<Quic>,
        inbound: &Arc<[Arc<Inbound>]>,
    ) -> std::io::Result<()> {
        self.inbound = inbound.get(self.index).map(Arc::clone);
        for endpoint in &mut quic {
            endpoint.set_peers(inbound);
            epoll::add(
                &self.epoll,
                endpoint.fd(),
                epoll::EventData::new_u64(QUIC_TOKEN),
                // Level-triggered: a turn reads a bounded number of batches, and the socket
                // is reported again while datagrams wait.
                epoll::EventFlags::IN,
            )?;
        }
        self.quic.extend(quic);
        Ok(())
    }

    /// Gives the QUIC endpoints their turn (`readable`: datagrams arrived; `woken`: the bell
    /// rang for a parked HTTP/3 request): each reads a bounded number of batches, then turns
    /// the connections with something to do ([`Quic::drive`]).
    fn drive_quic(&mut self, readable: bool, woken: bool) {
        if self.quic.is_empty() {
            return;
        }
        let bell = &self.lane.bell;
        let waker = || bell.waker(QUIC_TOKEN);
        let ctx = Context {
            handler: &*self.handler,
            trusted: &self.shared.trusted,
            shutting_down: self.shared.shutting_down(),
            waker: &waker,
        };
        let now = Instant::now();
        if let Some(inbound) = &self.inbound {
            for datagram in inbound.take() {
                if let Some(endpoint) = self.quic.get_mut(datagram.endpoint) {
                    endpoint.forwarded(now, datagram);
                }
            }
        }
        for endpoint in &mut self.quic {
            endpoint.drive(&ctx, now, readable, woken);
        }
    }

    /// Closes the connection (dropping it closes the socket, which leaves the epoll set).
    fn remove(&mut self, token: u64) {
        let Some(entry) = self.table.remove(token) else {
            return;
        };
        if entry.idle {
            self.lane.idle.fetch_sub(1, Ordering::Relaxed);
        }
        self.lane.open.fetch_sub(1, Ordering::Relaxed);
        drop(entry);
    }
}

#[cfg(test)]
mod tests;
