//! The worker pool: a fixed number of threads that do all request work.
//!
//! Each worker takes its next connection from the [`Poller`](crate::poller::Poller) itself
//! (it waits in `epoll_wait` when none is ready), runs the connection's state machine until
//! it needs bytes that have not arrived (then parks it again) or is done (then drops it,
//! which closes it). The pool never grows: connections beyond what the workers serve wait
//! parked in the poller.

use crate::connection::Next;
use crate::listener::Shared;
use crate::poller::Job;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread;

/// Starts `threads` workers that serve connections from `shared.poller` until it is closed.
/// Fails if a thread cannot be created.
pub fn spawn(threads: usize, shared: &Arc<Shared>) -> io::Result<()> {
    for i in 0..threads {
        let shared = Arc::clone(shared);
        thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || work(&shared))?;
    }
    Ok(())
}

/// One worker's loop. Handler panics are answered with 500 inside the connection; a panic
/// anywhere else in a connection's code is caught here too, so it closes that connection
/// only and the worker carries on.
fn work(shared: &Shared) {
    while let Some(Job { mut conn, expired }) = shared.poller.next() {
        let peer = conn.peer();
        let next = catch_unwind(AssertUnwindSafe(|| {
            if expired {
                conn.on_deadline(shared)
            } else {
                conn.on_readable(shared)
            }
        }));
        match next {
            Ok(Next::Park(deadline)) => shared.poller.park(conn, deadline),
            Ok(Next::Close) => drop(conn),
            Err(_) => log::error!("{peer}: panic while serving the connection; closed it"),
        }
    }
}
