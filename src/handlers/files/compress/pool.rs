//! The compression threads: started with the first job, at the lowest CPU priority, and
//! ended when their [`super::Compression`] is dropped.

use super::{Job, Shared};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

/// Threads that compress.
const THREADS: usize = 2;

/// Jobs waiting for a thread, at most (besides the bound on their bytes): each holds its
/// file open.
pub const QUEUE: usize = 64;

/// Starts the threads, each with its own reference to `shared`; returns the queue's sending
/// side. A thread ends when the sending side is dropped or `shared.stop` is set, after the
/// chunk it is compressing ([`super::level::compress`] checks the flag between chunks).
pub fn start(shared: &Arc<Shared>) -> SyncSender<Job> {
    let (sender, receiver) = sync_channel::<Job>(QUEUE);
    let receiver = Arc::new(Mutex::new(receiver));
    for i in 0..THREADS {
        let receiver = Arc::clone(&receiver);
        let shared = Arc::clone(shared);
        let spawned = std::thread::Builder::new()
            .name(format!("compress-{i}"))
            .spawn(move || {
                lower_priority();
                while let Some(job) = next(&receiver) {
                    if shared.stop.load(Ordering::Relaxed) {
                        break;
                    }
                    shared.run(job);
                }
            });
        if let Err(e) = spawned {
            log::warn!("cannot start a compression thread: {e}");
        }
    }
    sender
}

/// The next job, or `None` once the queue's sending side is gone.
fn next(receiver: &Mutex<Receiver<Job>>) -> Option<Job> {
    let receiver = receiver.lock().unwrap_or_else(PoisonError::into_inner);
    receiver.recv().ok()
}

/// Puts the calling thread at the lowest CPU priority, so that compressing never takes a
/// core from serving: `SCHED_IDLE` (sched(7): run only when nothing else wants the CPU), or
/// where that is refused (a seccomp filter, an RLIMIT_NICE of a container), nice 19, the
/// lowest priority of the normal policy (setpriority on the thread's own id: Linux applies
/// `PRIO_PROCESS` with who 0 to the calling thread, see setpriority(2)).
fn lower_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    let idle = set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
    );
    match idle {
        Ok(()) => log::debug!("compression thread at SCHED_IDLE"),
        Err(why) => match rustix::process::setpriority_process(None, 19) {
            Ok(()) => log::debug!("compression thread at nice 19 (SCHED_IDLE refused: {why})"),
            Err(e) => log::warn!(
                "compression thread at normal priority: SCHED_IDLE refused ({why}), nice 19 \
                 refused ({e})"
            ),
        },
    }
}
