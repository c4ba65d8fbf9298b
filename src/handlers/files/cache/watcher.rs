//! The cache's watcher thread: it reads the inotify events and drops what they invalidate.
//!
//! The thread holds the cache weakly, so it never keeps the cache alive: it waits in `poll`
//! on the inotify descriptor and on an eventfd the cache writes when it is dropped ([`Stop`]),
//! and ends at that, closing the inotify instance with the last of its descriptors.

use super::FileCache;
use rustix::event::{EventfdFlags, PollFd, PollFlags, eventfd, poll};
use rustix::fd::OwnedFd;
use rustix::fs::inotify;
use rustix::io::Errno;
use std::mem::MaybeUninit;
use std::sync::{Arc, Weak};

/// What ends the watcher thread: dropped with the cache, it wakes the thread, which ends.
#[derive(Debug)]
pub(super) struct Stop(Arc<OwnedFd>);

impl Drop for Stop {
    fn drop(&mut self) {
        // The counter cannot overflow from one write; a failure leaves nothing to do.
        let _ = rustix::io::write(&*self.0, &1u64.to_ne_bytes());
    }
}

/// Starts the thread that reads the events of `inotify` (non-blocking) for `cache`; the
/// [`Stop`] returned ends it. An error if the thread or its eventfd cannot be had.
pub(super) fn start(cache: Weak<FileCache>, inotify: Arc<OwnedFd>) -> std::io::Result<Stop> {
    let stop = Arc::new(eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?);
    let wake = Arc::clone(&stop);
    std::thread::Builder::new()
        .name("file-cache".to_string())
        .spawn(move || watch(&cache, &inotify, &wake))?;
    Ok(Stop(stop))
}

/// The thread: waits for events or the stop, and hands each event to the cache while it
/// lives. If waiting or reading fails, the cache turns itself off.
fn watch(cache: &Weak<FileCache>, inotify: &OwnedFd, stop: &OwnedFd) {
    let mut buffer = [MaybeUninit::<u8>::uninit(); 16 * 1024];
    let mut reader = inotify::Reader::new(inotify, &mut buffer);
    loop {
        let mut fds = [
            PollFd::new(inotify, PollFlags::IN),
            PollFd::new(stop, PollFlags::IN),
        ];
        match poll(&mut fds, None) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return stopped(cache.upgrade().as_deref(), e),
        }
        if !fds[1].revents().is_empty() {
            return;
        }
        let Some(cache) = cache.upgrade() else {
            return;
        };
        loop {
            let (wd, flags) = match reader.next() {
                Ok(event) => (event.wd(), event.events()),
                Err(Errno::AGAIN) => break,
                Err(Errno::INTR) => continue,
                Err(e) => return stopped(Some(&cache), e),
            };
            if flags.contains(inotify::ReadFlags::QUEUE_OVERFLOW) {
                log::warn!("inotify's queue overflowed: the open-file cache is emptied");
                cache.clear();
                continue;
            }
            cache.changed(wd, flags.contains(inotify::ReadFlags::IGNORED));
        }
    }
}

/// The watcher stopped on `error`: the cache, if it still lives, keeps nothing from now on.
fn stopped(cache: Option<&FileCache>, error: Errno) {
    if let Some(cache) = cache {
        cache.off(error);
    }
}
