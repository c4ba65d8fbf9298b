//! The worker pool: a fixed number of threads that do all request work.
//!
//! Workers take [`Job`]s from one bounded queue, run the connection's state machine until it
//! needs bytes that have not arrived (then park it again in the poller) or is done (then drop
//! it, which closes it). The pool never grows: a burst waits in the queue, whose capacity is
//! the connection cap.

use crate::connection::Next;
use crate::listener::Shared;
use crate::poller::Job;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

/// Starts `threads` workers that take jobs from `queue` until every sender is gone. Fails if
/// a thread cannot be created.
pub fn spawn(threads: usize, queue: Receiver<Job>, shared: &Arc<Shared>) -> io::Result<()> {
    let queue = Arc::new(Mutex::new(queue));
    for i in 0..threads {
        let queue = Arc::clone(&queue);
        let shared = Arc::clone(shared);
        thread::Builder::new()
            .name(format!("worker-{i}"))
            .spawn(move || work(&queue, &shared))?;
    }
    Ok(())
}

/// One worker's loop. Handler panics are answered with 500 inside the connection; a panic
/// anywhere else in a connection's code is caught here too, so it closes that connection
/// only and the worker carries on.
fn work(queue: &Mutex<Receiver<Job>>, shared: &Shared) {
    loop {
        let job = {
            let queue = queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.recv()
        };
        let Ok(Job { mut conn, expired }) = job else {
            return;
        };
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
