//! The poller: where connections wait for bytes, so that no worker waits on a client.
//!
//! A connection that needs bytes that have not arrived (a new connection, an idle keep-alive
//! one, a head or body still arriving, a lingering close) is *parked*: registered with epoll
//! for readability with `EPOLLONESHOT`, together with its deadline. One thread waits in
//! `epoll_wait` until a parked connection is readable or the nearest deadline passes, and
//! hands the connection to the workers as a [`Job`]. `EPOLLONESHOT` disarms the descriptor
//! when it fires, so a connection is never in two places at once: parked here, queued, or
//! held by one worker.
//!
//! The poller owns the parked connections; closing them at shutdown is dropping them.

use crate::connection::Conn;
use rustix::buffer::spare_capacity;
use rustix::event::{EventfdFlags, epoll, eventfd};
use rustix::fd::OwnedFd;
use std::collections::{BTreeSet, HashMap};
use std::sync::mpsc::SyncSender;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// The epoll token of the eventfd that wakes the poller; connection tokens count up from 0
/// and never reach it.
const WAKE_TOKEN: u64 = u64::MAX;

/// Most events taken from one `epoll_wait`; more simply wait for the next call.
const EVENTS_PER_WAIT: usize = 256;

/// A connection handed to the workers.
#[derive(Debug)]
pub struct Job {
    /// The connection.
    pub conn: Box<Conn>,
    /// Why: its deadline passed (`true`), or it became readable (`false`).
    pub expired: bool,
}

/// Parked connections and the thread that watches them.
#[derive(Debug)]
pub struct Poller {
    epoll: OwnedFd,
    wake: OwnedFd,
    state: Mutex<State>,
}

/// What the poller knows, under one lock.
#[derive(Debug, Default)]
struct State {
    /// The parked connections by token, with their deadlines.
    parked: HashMap<u64, (Box<Conn>, Instant)>,
    /// The same deadlines, ordered, to find the nearest.
    deadlines: BTreeSet<(Instant, u64)>,
    /// When the poller thread will wake on its own (`None`: only for an event). A park with
    /// an earlier deadline must wake it.
    sleeping_until: Option<Instant>,
    /// Shutting down: parked connections are closed, new parks close at once.
    closed: bool,
}

impl Poller {
    /// An epoll instance and the eventfd that wakes it. Fails if the kernel refuses either.
    pub fn new() -> std::io::Result<Poller> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let wake = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        epoll::add(
            &epoll,
            &wake,
            epoll::EventData::new_u64(WAKE_TOKEN),
            epoll::EventFlags::IN,
        )?;
        Ok(Poller {
            epoll,
            wake,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Parks `conn` until it is readable (or its peer hangs up) or `deadline` passes; then it
    /// becomes a [`Job`]. After [`Poller::close_all`], closes it instead. A connection epoll
    /// refuses is closed, with the reason logged.
    pub fn park(&self, mut conn: Box<Conn>, deadline: Instant) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        let token = conn.token();
        let data = epoll::EventData::new_u64(token);
        let flags = epoll::EventFlags::IN | epoll::EventFlags::RDHUP | epoll::EventFlags::ONESHOT;
        // The lock is held while arming, so an event that fires at once waits for the entry.
        let armed = if conn.registered {
            epoll::modify(&self.epoll, conn.socket(), data, flags)
        } else {
            epoll::add(&self.epoll, conn.socket(), data, flags)
        };
        if let Err(e) = armed {
            log::warn!(
                "{}: cannot watch the connection: {e}; closing it",
                conn.peer()
            );
            return;
        }
        conn.registered = true;
        state.parked.insert(token, (conn, deadline));
        state.deadlines.insert((deadline, token));
        let wake = state.sleeping_until.is_none_or(|until| deadline < until);
        if wake {
            state.sleeping_until = Some(deadline);
        }
        drop(state);
        if wake {
            self.wake();
        }
    }

    /// Closes every parked connection and every connection parked from now on, and stops the
    /// poller thread.
    pub fn close_all(&self) {
        let parked = {
            let mut state = self.lock();
            state.closed = true;
            state.deadlines.clear();
            std::mem::take(&mut state.parked)
        };
        log::debug!("closing {} idle connections", parked.len());
        drop(parked);
        self.wake();
    }

    /// Makes the poller thread's `epoll_wait` return.
    fn wake(&self) {
        if let Err(e) = rustix::io::write(&self.wake, &1u64.to_ne_bytes()) {
            // EAGAIN: the counter is at its maximum, so the poller is already woken.
            if e != rustix::io::Errno::AGAIN {
                log::error!("cannot wake the poller: {e}");
            }
        }
    }

    /// The poller thread: waits for parked connections to become readable or to pass their
    /// deadlines and sends them to `jobs`, until [`Poller::close_all`] or until the workers
    /// are gone.
    pub fn run(&self, jobs: &SyncSender<Job>) {
        let mut events = Vec::with_capacity(EVENTS_PER_WAIT);
        let mut ready = Vec::new();
        loop {
            let timeout = {
                let mut state = self.lock();
                if state.closed {
                    return;
                }
                let now = Instant::now();
                while let Some(&(deadline, token)) = state.deadlines.first() {
                    if deadline > now {
                        break;
                    }
                    state.deadlines.pop_first();
                    if let Some((conn, _)) = state.parked.remove(&token) {
                        ready.push(Job {
                            conn,
                            expired: true,
                        });
                    }
                }
                state.sleeping_until = state.deadlines.first().map(|&(deadline, _)| deadline);
                state.sleeping_until.map(|until| until - now)
            };
            if !send_all(jobs, &mut ready) {
                return;
            }
            // Durations from the command line are at most a day: the conversion cannot fail.
            let timeout = timeout.and_then(|t| rustix::event::Timespec::try_from(t).ok());
            events.clear();
            match epoll::wait(&self.epoll, spare_capacity(&mut events), timeout.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => {
                    log::error!("epoll_wait failed: {e}; the poller stops");
                    return;
                }
            }
            let mut state = self.lock();
            for event in &events {
                let token = event.data.u64();
                if token == WAKE_TOKEN {
                    let mut counter = [0u8; 8];
                    // Resets the counter; EAGAIN means another read already did.
                    let _ = rustix::io::read(&self.wake, &mut counter);
                } else if let Some((conn, deadline)) = state.parked.remove(&token) {
                    state.deadlines.remove(&(deadline, token));
                    ready.push(Job {
                        conn,
                        expired: false,
                    });
                }
            }
            drop(state);
            if !send_all(jobs, &mut ready) {
                return;
            }
        }
    }
}

/// Sends every job in `ready` to the workers; `false` if they are gone.
fn send_all(jobs: &SyncSender<Job>, ready: &mut Vec<Job>) -> bool {
    for job in ready.drain(..) {
        if jobs.send(job).is_err() {
            return false;
        }
    }
    true
}
