//! A fixed number of places for work that holds memory and worker time while a response is
//! sent (a compressed stream, an archive), each held by the response until it is dropped:
//! when the client has taken it all, or its connection ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// At most `most` places, shared by every worker of one server.
#[derive(Debug)]
pub struct Places {
    taken: Arc<AtomicUsize>,
    most: usize,
}

impl Places {
    /// `most` places, all free.
    pub fn new(most: usize) -> Places {
        Places {
            taken: Arc::default(),
            most,
        }
    }

    /// A place, if one is free.
    pub fn take(&self) -> Option<Slot> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.most).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(&self.taken)))
    }
}

/// One of the [`Places`], given back when dropped.
#[derive(Debug)]
pub struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_the_places_at_once_and_each_given_back() {
        let places = Places::new(3);
        let slots: Vec<Slot> = (0..3).map(|_| places.take().unwrap()).collect();
        assert!(places.take().is_none());
        drop(slots);
        assert_eq!(places.taken.load(Ordering::Relaxed), 0);
        let again: Vec<Slot> = (0..3).map(|_| places.take().unwrap()).collect();
        assert_eq!(again.len(), 3);
        assert!(places.take().is_none());
    }
}
