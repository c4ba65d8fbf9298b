//! Each thread's own copies of the cache's entries it used (see [`Resource::for_this_thread`]).
//!
//! A thread's copies of one cache are held in a [`Front`] the thread reaches through its
//! thread-local slot, behind a mutex no other thread takes while the cache lives: taking it
//! writes no memory another worker writes. The cache keeps a list of its fronts
//! ([`Fronts`]) and empties them when it is dropped, so the files and bytes a thread copied
//! go with the cache (after a reload, say), even from a thread that never looks up anything
//! again.

use super::super::resource::Resource;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Instant;

thread_local! {
    /// This thread's copies, and the number of the cache they are copies of.
    static FRONT: RefCell<Option<(usize, Arc<Mutex<Front>>)>> = const { RefCell::new(None) };
}

/// A thread's copies of one cache's entries, and the cache's epoch they were made in.
#[derive(Debug, Default)]
pub(super) struct Front {
    pub(super) epoch: u64,
    pub(super) map: HashMap<Box<str>, Held>,
    pub(super) bytes: u64,
}

/// A thread's copy of an entry.
#[derive(Debug)]
pub(super) struct Held {
    pub(super) resource: Arc<Resource>,
    /// The shared entry it was copied from: while that is still the entry and current, the
    /// copy is too. (A `Weak` keeps its allocation, so its address names no other entry.)
    pub(super) source: Weak<Resource>,
    /// Until when it may be served without looking at the shared entry: the moment that
    /// entry must be checked on disk again.
    pub(super) until: Instant,
}

impl Front {
    /// Drops every copy.
    pub(super) fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }
}

/// The fronts threads made for one cache.
#[derive(Debug, Default)]
pub(super) struct Fronts {
    made: Mutex<Vec<Weak<Mutex<Front>>>>,
}

impl Fronts {
    /// Runs `f` on the calling thread's front for the cache numbered `cache`, made (and
    /// listed) on the thread's first use of that cache; a front of another cache the thread
    /// held is let go.
    pub(super) fn with<R>(&self, cache: usize, f: impl FnOnce(&mut Front) -> R) -> R {
        FRONT.with(|slot| {
            let mut slot = slot.borrow_mut();
            let front = match slot.take() {
                Some((id, front)) if id == cache => front,
                _ => self.make(),
            };
            let (_, front) = slot.insert((cache, front));
            let mut front = front.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut front)
        })
    }
}

impl Fronts {
    /// A new front, listed.
    fn make(&self) -> Arc<Mutex<Front>> {
        let front = Arc::new(Mutex::new(Front::default()));
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        made.retain(|front| front.strong_count() > 0);
        made.push(Arc::downgrade(&front));
        front
    }
}

impl Drop for Fronts {
    /// Empties every thread's front: the copies' files close and their bytes are freed now,
    /// not when each thread next looks something up.
    fn drop(&mut self) {
        let made = self.made.get_mut().unwrap_or_else(PoisonError::into_inner);
        for front in made.drain(..).filter_map(|front| front.upgrade()) {
            *front.lock().unwrap_or_else(PoisonError::into_inner) = Front::default();
        }
    }
}
