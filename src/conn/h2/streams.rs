//! The open and half-closed streams of one connection, by id (RFC 9113 §5.1): slots of
//! streams found by a scan of their ids. A connection has at most
//! [`MAX_CONCURRENT_STREAMS`](super::MAX_CONCURRENT_STREAMS) of them and most have a few, so
//! the scan is short. A stream lies in its slot from its opening to its close, neither boxed
//! nor moved: opening one takes the first free slot and closing one drops it where it lies,
//! so neither allocates once the slots have grown, and the slots past the last stream go.

use super::stream::Stream;

/// The slots made when a first stream opens: a page's worth of requests at once, so that a
/// browser's burst grows them once or twice, not from one up.
const FIRST_ROOM: usize = 8;

/// The streams open or half-closed, in no particular order; the last slot holds one.
#[derive(Debug, Default)]
pub struct Streams {
    slots: Vec<Option<Stream>>,
}

impl Streams {
    /// How many streams are open.
    pub fn len(&self) -> usize {
        self.values().count()
    }

    /// Whether no stream is open.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Whether stream `id` is open.
    pub fn contains_key(&self, id: &u32) -> bool {
        self.get(id).is_some()
    }

    /// Stream `id`, if open.
    pub fn get(&self, id: &u32) -> Option<&Stream> {
        self.values().find(|stream| stream.id == *id)
    }

    /// Stream `id`, if open, to change.
    pub fn get_mut(&mut self, id: &u32) -> Option<&mut Stream> {
        self.values_mut().find(|stream| stream.id == *id)
    }

    /// Adds the stream `make` makes, whose id no open stream has, into an empty slot found
    /// or pushed first: the stream is moved once, into its slot, where a stream pushed as
    /// it is would be copied twice (callgrind).
    #[inline(always)]
    pub fn insert_with(&mut self, make: impl FnOnce() -> Stream) {
        if self.slots.capacity() == 0 {
            self.slots.reserve_exact(FIRST_ROOM);
        }
        let at = match self.slots.iter().position(Option::is_none) {
            Some(at) => at,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        if let Some(slot) = self.slots.get_mut(at) {
            slot.get_or_insert_with(make);
        }
    }

    /// Drops stream `id`, if open, once `last` has seen it: what `last` says.
    pub fn remove_with<R>(&mut self, id: u32, last: impl FnOnce(&Stream) -> R) -> Option<R> {
        let slot = self
            .slots
            .iter_mut()
            .find(|slot| slot.as_ref().is_some_and(|stream| stream.id == id))?;
        let said = slot.as_ref().map(last);
        *slot = None;
        let used = self
            .slots
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |at| at + 1);
        self.slots.truncate(used);
        said
    }

    /// Each open stream with its id.
    pub fn iter(&self) -> impl Iterator<Item = (&u32, &Stream)> {
        self.values().map(|stream| (&stream.id, stream))
    }

    /// Each open stream.
    pub fn values(&self) -> std::iter::Flatten<std::slice::Iter<'_, Option<Stream>>> {
        self.slots.iter().flatten()
    }

    /// Each open stream, to change.
    pub fn values_mut(&mut self) -> std::iter::Flatten<std::slice::IterMut<'_, Option<Stream>>> {
        self.slots.iter_mut().flatten()
    }

    /// Drops every stream, keeping the room.
    pub fn clear(&mut self) {
        self.slots.clear();
    }
}
