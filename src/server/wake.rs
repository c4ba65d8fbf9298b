//! A worker's bell: the eventfd that wakes it from `epoll_wait`, rung by another
//! worker (a connection handed over), by the shutdown and by any thread that finishes work a parked request waits
//! for.
//!
//! A parked request ([`crate::conn`]) registers a [`Waker`] made by [`Bell::waker`] with the
//! work's ticket. Waking it puts the connection's token on the bell's list and rings; the
//! worker, woken, takes the list and gives each connection on it a turn. A token outlives its
//! connection harmlessly: the worker finds no connection under it (closed, or its slot now
//! holds a later one with another generation) and skips it.

use rustix::event::{EventfdFlags, eventfd};
use rustix::fd::OwnedFd;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Wake, Waker};

/// The eventfd and the connections woken since the worker last looked.
#[derive(Debug)]
pub struct Bell {
    fd: OwnedFd,
    woken: Mutex<Vec<u64>>,
}

impl Bell {
    pub fn new() -> std::io::Result<Bell> {
        Ok(Bell {
            fd: eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?,
            woken: Mutex::new(Vec::new()),
        })
    }

    /// The eventfd, for the worker's epoll set.
    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Wakes the worker.
    pub fn ring(&self) {
        if let Err(e) = rustix::io::write(&self.fd, &1u64.to_ne_bytes()) {
            // EAGAIN: the counter is at its maximum, so the worker is woken already.
            if e != rustix::io::Errno::AGAIN {
                log::error!("cannot wake a worker: {e}");
            }
        }
    }

    /// Resets the eventfd's counter (the worker is awake) and takes the tokens of the
    /// connections woken since the last call.
    pub fn answer(&self) -> Vec<u64> {
        let mut counter = [0u8; 8];
        // EAGAIN means nothing was written since the last read.
        let _ = rustix::io::read(&self.fd, &mut counter);
        std::mem::take(&mut *self.woken.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// A waker that gives the connection `token` of this bell's worker a turn.
    pub fn waker(self: &Arc<Self>, token: u64) -> Waker {
        Waker::from(Arc::new(Connection {
            bell: Arc::clone(self),
            token,
        }))
    }
}

/// What [`Bell::waker`] wakes.
struct Connection {
    bell: Arc<Bell>,
    token: u64,
}

impl Wake for Connection {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.bell
            .woken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(self.token);
        self.bell.ring();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_woken_connection_is_listed_once_per_wake() {
        let bell = Arc::new(Bell::new().unwrap());
        let waker = bell.waker(7);
        waker.wake_by_ref();
        bell.waker(9).wake();
        assert_eq!(bell.answer(), vec![7, 9]);
        assert_eq!(bell.answer(), Vec::<u64>::new());
    }
}
