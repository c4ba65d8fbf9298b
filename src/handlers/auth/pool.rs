//! A small pool of threads for slow jobs (password checks), with a bounded queue.
//!
//! Workers must not run bcrypt: while one check runs, every other client of the worker
//! would wait. The jobs go here instead. The pool starts its threads when jobs first need
//! them (a site without logins has none), at most `threads` of them; a job that finds the
//! queue full is given back at once, never waited for, so the caller can answer `503`.
//!
//! Dropping the pool closes it: jobs still queued are dropped unrun (a job's own `Drop`
//! settles what waits for it), and each thread ends once the job it is running, if any,
//! returns. Threads are not joined, so that the thread dropping the pool (a worker, at a
//! reload) never waits for a check; they hold nothing but the queue.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Work for the pool.
pub trait Job: Send + 'static {
    /// Does the work, on a pool thread.
    fn run(self);
}

/// Threads that run [`Job`]s from a bounded queue.
#[derive(Debug)]
pub struct Pool<J> {
    queue: Arc<Queue<J>>,
    /// The threads' name, before each one's number.
    name: &'static str,
}

#[derive(Debug)]
struct Queue<J> {
    state: Mutex<State<J>>,
    /// Signalled when a job is queued or the pool closes.
    ready: Condvar,
}

#[derive(Debug)]
struct State<J> {
    jobs: VecDeque<J>,
    capacity: usize,
    /// Threads allowed, started, and waiting for a job.
    threads: usize,
    started: usize,
    idle: usize,
    closed: bool,
}

impl<J: Job> Pool<J> {
    /// A pool of at most `threads` threads named `name-N`, with at most `capacity` jobs
    /// waiting.
    pub fn new(name: &'static str, threads: usize, capacity: usize) -> Pool<J> {
        Pool {
            queue: Arc::new(Queue {
                state: Mutex::new(State {
                    jobs: VecDeque::new(),
                    capacity,
                    threads,
                    started: 0,
                    idle: 0,
                    closed: false,
                }),
                ready: Condvar::new(),
            }),
            name,
        }
    }

    /// Queues `job`, starting a thread for it if none is free and the pool has room for one;
    /// gives `job` back if the queue is full or no thread could be started.
    pub fn submit(&self, job: J) -> Result<(), J> {
        let mut state = self.queue.lock();
        if state.jobs.len() >= state.capacity {
            return Err(job);
        }
        if state.idle <= state.jobs.len() && state.started < state.threads {
            let queue = Arc::clone(&self.queue);
            let spawned = std::thread::Builder::new()
                .name(format!("{}-{}", self.name, state.started))
                .spawn(move || queue.work());
            match spawned {
                Ok(_) => state.started += 1,
                Err(e) if state.started == 0 => {
                    log::error!("cannot start a {} thread: {e}", self.name);
                    return Err(job);
                }
                Err(e) => log::warn!("cannot start another {} thread: {e}", self.name),
            }
        }
        state.jobs.push_back(job);
        drop(state);
        self.queue.ready.notify_one();
        Ok(())
    }
}

impl<J: Job> Queue<J> {
    fn lock(&self) -> MutexGuard<'_, State<J>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A thread's life: the next job, until the pool closes. A job that panics is logged;
    /// the thread goes on.
    fn work(&self) {
        loop {
            let job = {
                let mut state = self.lock();
                loop {
                    if state.closed {
                        return;
                    }
                    if let Some(job) = state.jobs.pop_front() {
                        break job;
                    }
                    state.idle += 1;
                    state = self
                        .ready
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                    state.idle -= 1;
                }
            };
            if catch_unwind(AssertUnwindSafe(|| job.run())).is_err() {
                log::error!("a job panicked on a pool thread");
            }
        }
    }
}

impl<J> Drop for Pool<J> {
    fn drop(&mut self) {
        let unrun = {
            let mut state = self
                .queue
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            state.closed = true;
            std::mem::take(&mut state.jobs)
        };
        self.queue.ready.notify_all();
        drop(unrun);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{Receiver, Sender, channel};
    use std::time::Duration;

    /// Waits for a go before saying it ran; says so when dropped unrun.
    struct Step {
        go: Arc<Mutex<Receiver<()>>>,
        said: Sender<&'static str>,
        ran: bool,
    }

    impl Job for Step {
        fn run(mut self) {
            let _ = self.go.lock().unwrap().recv();
            self.ran = true;
            let _ = self.said.send("ran");
        }
    }

    impl Drop for Step {
        fn drop(&mut self) {
            if !self.ran {
                let _ = self.said.send("dropped");
            }
        }
    }

    fn threads_named(prefix: &str) -> usize {
        std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|name| name.starts_with(prefix))
            .count()
    }

    #[test]
    fn a_full_queue_gives_the_job_back_and_a_closed_pool_drops_the_rest() {
        let (go_tx, go_rx) = channel();
        let go = Arc::new(Mutex::new(go_rx));
        let (said, heard) = channel();
        let step = || Step {
            go: Arc::clone(&go),
            said: said.clone(),
            ran: false,
        };
        let pool = Pool::new("pooltest-a", 1, 2);
        assert!(pool.submit(step()).is_ok());
        // Once the thread holds the first job, two more fit in the queue, not three.
        let wait = Duration::from_secs(10);
        let started = std::time::Instant::now();
        while pool.queue.lock().jobs.len() == 1 && started.elapsed() < wait {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(pool.submit(step()).is_ok());
        assert!(pool.submit(step()).is_ok());
        let refused = pool.submit(step()).map(|_| ()).unwrap_err();
        drop(refused);
        assert_eq!(heard.recv_timeout(wait), Ok("dropped"));
        assert_eq!(pool.queue.lock().started, 1, "one thread at most");
        drop(pool);
        assert_eq!(heard.recv_timeout(wait), Ok("dropped"));
        assert_eq!(heard.recv_timeout(wait), Ok("dropped"));
        // The running job finishes; then its thread ends.
        go_tx.send(()).unwrap();
        assert_eq!(heard.recv_timeout(wait), Ok("ran"));
        let started = std::time::Instant::now();
        while threads_named("pooltest-a") > 0 && started.elapsed() < wait {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(threads_named("pooltest-a"), 0);
    }
}
