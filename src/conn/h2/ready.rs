//! The streams with DATA to send, in turn order within each urgency (RFC 9218 §4.1: 0, most
//! urgent, to 7): one queue per urgency, so that the next stream to send is found at the
//! front of the first queue that has one, whatever the number of streams, rather than by a
//! scan of all of them for each frame.

use std::collections::VecDeque;

/// Urgencies 0 to 7 (RFC 9218 §4.1).
const URGENCIES: usize = 8;

/// The room a queue is made with: a page's worth of streams, so that a burst of requests
/// grows it once, if at all, not from four places up.
const FIRST_ROOM: usize = 16;

/// The queues, one per urgency.
type Queues = [VecDeque<u32>; URGENCIES];

/// Streams waiting for their turn at the output. The queues are made when a first stream is
/// queued and dropped by [`Ready::clear`]: an idle connection keeps one pointer of them,
/// not eight empty queues.
#[derive(Debug, Default)]
pub struct Ready {
    queues: Option<Box<Queues>>,
}

impl Ready {
    /// The queue of `urgency` (past 7: the least urgent), the queues made if need be, and
    /// with room.
    fn queue(&mut self, urgency: u8) -> &mut VecDeque<u32> {
        let queues = self.queues.get_or_insert_with(Box::default);
        let queue = &mut queues[usize::from(urgency).min(URGENCIES - 1)];
        if queue.capacity() == 0 {
            queue.reserve_exact(FIRST_ROOM);
        }
        queue
    }

    /// Queues stream `id` of `urgency` behind the others of its urgency.
    pub fn push_back(&mut self, id: u32, urgency: u8) {
        self.queue(urgency).push_back(id);
    }

    /// Puts stream `id` of `urgency` back at the front of its urgency (its turn was not
    /// taken).
    pub fn push_front(&mut self, id: u32, urgency: u8) {
        self.queue(urgency).push_front(id);
    }

    /// Takes the next stream to send: the first of the most urgent; with its urgency.
    pub fn pop(&mut self) -> Option<(u32, u8)> {
        self.queues
            .as_deref_mut()?
            .iter_mut()
            .zip(0u8..)
            .find_map(|(queue, urgency)| Some((queue.pop_front()?, urgency)))
    }

    /// Whether no stream is queued.
    pub fn is_empty(&self) -> bool {
        self.queues
            .as_deref()
            .is_none_or(|queues| queues.iter().all(VecDeque::is_empty))
    }

    /// Whether stream `id` of `urgency` is queued.
    pub fn contains(&self, id: u32, urgency: u8) -> bool {
        self.queues
            .as_deref()
            .is_some_and(|queues| queues[usize::from(urgency).min(URGENCIES - 1)].contains(&id))
    }

    /// Takes stream `id` out, whatever its urgency.
    pub fn remove(&mut self, id: u32) {
        for queue in self.queues.iter_mut().flat_map(|queues| queues.iter_mut()) {
            queue.retain(|&queued| queued != id);
        }
    }

    /// Empties every queue, and lets their room go.
    pub fn clear(&mut self) {
        self.queues = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_urgent_go_first_and_take_turns_within_an_urgency() {
        let mut ready = Ready::default();
        assert!(ready.is_empty());
        ready.push_back(1, 3);
        assert!(!ready.is_empty());
        ready.push_back(3, 3);
        ready.push_back(5, 0);
        assert_eq!(ready.pop(), Some((5, 0)));
        assert_eq!(ready.pop(), Some((1, 3)));
        ready.push_back(1, 3);
        assert_eq!(ready.pop(), Some((3, 3)));
        ready.push_front(3, 3);
        assert!(ready.contains(3, 3));
        assert!(!ready.contains(3, 2));
        ready.remove(3);
        assert_eq!(ready.pop(), Some((1, 3)));
        assert_eq!(ready.pop(), None);
        ready.push_back(7, 7);
        ready.clear();
        assert_eq!(ready.pop(), None);
    }
}
