//! The poller: where connections wait for bytes, so that no worker waits on a client.
//!
//! A connection that needs bytes that have not arrived (a new connection, an idle keep-alive
//! one, a head or body still arriving, a lingering close) is *parked*: registered with one
//! shared epoll instance for readability with `EPOLLONESHOT`, together with its deadline.
//!
//! The workers wait in `epoll_wait` on that instance themselves ([`Poller::next`]), one event
//! at a time: the worker that finished a response and parked its connection takes the next
//! ready connection at once, without handing it over through another thread or queue. (The
//! kernel wakes one waiter per event: an epoll instance's waiters are exclusive.) A separate
//! timer thread ([`Poller::run_timer`]) sleeps until the nearest deadline and moves the
//! connections that passed it to the `expired` list, then wakes a worker through an eventfd.
//!
//! `EPOLLONESHOT` disarms the descriptor when it fires, and the map of parked connections,
//! under one lock, decides who owns a connection: a worker that takes it out of the map after
//! an event, or the timer thread after its deadline. So a connection is never in two places
//! at once: parked here, expired and waiting for a worker, or held by one worker.
//!
//! The poller owns the parked connections; closing them at shutdown is dropping them.

use crate::connection::Conn;
use rustix::event::{EventfdFlags, epoll, eventfd};
use rustix::fd::OwnedFd;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::mem::MaybeUninit;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// The epoll token of the eventfd that wakes workers; connection tokens count up from 0 and
/// never reach it.
const WAKE_TOKEN: u64 = u64::MAX;

/// A connection handed to a worker.
#[derive(Debug)]
pub struct Job {
    /// The connection.
    pub conn: Box<Conn>,
    /// Why: its deadline passed (`true`), or it became readable (`false`).
    pub expired: bool,
}

/// Parked connections, the epoll instance the workers wait on, and the timer's state.
#[derive(Debug)]
pub struct Poller {
    epoll: OwnedFd,
    /// Readable (level-triggered) while expired connections wait for a worker, and for good
    /// once the poller is closed, so that every worker wakes and stops.
    wake: OwnedFd,
    state: Mutex<State>,
    /// Wakes the timer thread when a park brings the nearest deadline forward, or at close.
    timer: Condvar,
}

/// What the poller knows, under one lock.
#[derive(Debug, Default)]
struct State {
    /// The parked connections by token, with their deadlines.
    parked: HashMap<u64, (Box<Conn>, Instant)>,
    /// The same deadlines, ordered, to find the nearest.
    deadlines: BTreeSet<(Instant, u64)>,
    /// Connections whose deadline passed, waiting for a worker.
    expired: VecDeque<Box<Conn>>,
    /// When the timer thread will wake on its own (`None`: only when notified). A park with
    /// an earlier deadline must notify it.
    timer_until: Option<Instant>,
    /// Shutting down: parked connections are closed, new parks close at once, workers stop.
    closed: bool,
}

impl Poller {
    /// An epoll instance and the eventfd that wakes its waiters. Fails if the kernel refuses
    /// either.
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
            timer: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Parks `conn` until it is readable (or its peer hangs up) or `deadline` passes; then a
    /// worker's [`Poller::next`] returns it as a [`Job`]. After [`Poller::close_all`], closes
    /// it instead. A connection epoll refuses is closed, with the reason logged.
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
        let sooner = state.timer_until.is_none_or(|until| deadline < until);
        if sooner {
            state.timer_until = Some(deadline);
            self.timer.notify_one();
        }
    }

    /// Closes every parked and expired connection and every connection parked from now on,
    /// stops the timer thread, and makes every worker's [`Poller::next`] return `None`.
    pub fn close_all(&self) {
        let (parked, expired) = {
            let mut state = self.lock();
            state.closed = true;
            state.deadlines.clear();
            (
                std::mem::take(&mut state.parked),
                std::mem::take(&mut state.expired),
            )
        };
        log::debug!("closing {} idle connections", parked.len() + expired.len());
        drop(parked);
        drop(expired);
        self.timer.notify_one();
        // Never read again: the eventfd stays readable and wakes every worker.
        self.wake();
    }

    /// Makes the eventfd readable, which wakes a worker waiting in `epoll_wait`.
    fn wake(&self) {
        if let Err(e) = rustix::io::write(&self.wake, &1u64.to_ne_bytes()) {
            // EAGAIN: the counter is at its maximum, so it is readable already.
            if e != rustix::io::Errno::AGAIN {
                log::error!("cannot wake the workers: {e}");
            }
        }
    }

    /// The next connection for a worker: one whose deadline passed, else one that becomes
    /// readable (waiting in `epoll_wait` until there is one). `None` once the poller is closed
    /// (or if `epoll_wait` fails, which is logged): the worker then stops.
    pub fn next(&self) -> Option<Job> {
        // One event per wait: a worker takes one connection. On the stack, not a Vec per call.
        let mut events = [MaybeUninit::<epoll::Event>::uninit(); 1];
        loop {
            {
                let mut state = self.lock();
                if state.closed {
                    return None;
                }
                if let Some(conn) = state.expired.pop_front() {
                    return Some(Job {
                        conn,
                        expired: true,
                    });
                }
            }
            let ready = match epoll::wait(&self.epoll, &mut events, None) {
                Ok((ready, _)) => ready,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    log::error!("epoll_wait failed: {e}; a worker stops");
                    return None;
                }
            };
            let Some(event) = ready.first() else {
                continue;
            };
            let token = event.data.u64();
            if token == WAKE_TOKEN {
                let state = self.lock();
                if !state.closed {
                    let mut counter = [0u8; 8];
                    // Resets the counter; EAGAIN means another worker already did.
                    let _ = rustix::io::read(&self.wake, &mut counter);
                    // More expired connections than this worker takes: wake another for them.
                    if state.expired.len() > 1 {
                        self.wake();
                    }
                }
                continue;
            }
            let mut state = self.lock();
            // Absent: the timer thread took it after its deadline, just before the event.
            if let Some((conn, deadline)) = state.parked.remove(&token) {
                state.deadlines.remove(&(deadline, token));
                return Some(Job {
                    conn,
                    expired: false,
                });
            }
        }
    }

    /// The timer thread: sleeps until the nearest deadline of a parked connection, moves the
    /// connections that passed theirs to the expired list and wakes a worker for them, until
    /// [`Poller::close_all`].
    pub fn run_timer(&self) {
        let mut state = self.lock();
        loop {
            if state.closed {
                return;
            }
            let now = Instant::now();
            let mut moved = false;
            while let Some(&(deadline, token)) = state.deadlines.first() {
                if deadline > now {
                    break;
                }
                state.deadlines.pop_first();
                if let Some((conn, _)) = state.parked.remove(&token) {
                    state.expired.push_back(conn);
                    moved = true;
                }
            }
            if moved {
                self.wake();
            }
            let until = state.deadlines.first().map(|&(deadline, _)| deadline);
            state.timer_until = until;
            state = match until {
                Some(until) => {
                    self.timer
                        .wait_timeout(state, until.saturating_duration_since(now))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .timer
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}
