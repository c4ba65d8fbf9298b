//! A map bounded in entries and in weight (bytes, or whatever its user counts), which makes
//! room by evicting its least recently used entries.
//!
//! Each entry records its last use as a tick of the map's own counter: a lookup that counts
//! as a use ([`Lru::get`]) costs one counter increment, and no allocation; eviction finds the
//! oldest entry by a scan, which only an insertion pays for.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// Entries by key, each with its weight and last use, within bounds.
#[derive(Debug)]
pub struct Lru<K, V> {
    map: HashMap<K, Slot<V>>,
    /// Counts uses, to order the entries by their last.
    tick: u64,
    /// The entries' weights added up.
    weight: u64,
    max_len: usize,
    max_weight: u64,
}

#[derive(Debug)]
struct Slot<V> {
    value: V,
    weight: u64,
    used: u64,
}

impl<K: Eq + Hash + Clone, V> Lru<K, V> {
    /// An empty map that makes room for at most `max_len` entries weighing at most
    /// `max_weight` in all.
    pub fn new(max_len: usize, max_weight: u64) -> Lru<K, V> {
        Lru {
            map: HashMap::new(),
            tick: 0,
            weight: 0,
            max_len,
            max_weight,
        }
    }

    /// Whether there is an entry for `key`.
    pub fn contains_key<Q: Eq + Hash + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(key)
    }

    /// The value of `key`, its use recorded.
    pub fn get<Q: Eq + Hash + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.tick += 1;
        let slot = self.map.get_mut(key)?;
        slot.used = self.tick;
        Some(&mut slot.value)
    }

    /// The value of `key`, without a use recorded.
    pub fn peek<Q: Eq + Hash + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(key).map(|slot| &slot.value)
    }

    /// The value of `key`, to change, without a use recorded.
    pub fn peek_mut<Q: Eq + Hash + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        self.map.get_mut(key).map(|slot| &mut slot.value)
    }

    /// Keeps `value`, of `weight`, for `key`, as just used, in place of what `key` had
    /// (returned). It evicts nothing: [`Lru::make_room`] first.
    pub fn insert(&mut self, key: K, value: V, weight: u64) -> Option<V> {
        self.tick += 1;
        let slot = Slot {
            value,
            weight,
            used: self.tick,
        };
        self.weight += weight;
        let old = self.map.insert(key, slot)?;
        self.weight -= old.weight;
        Some(old.value)
    }

    /// Takes out the entry of `key`.
    pub fn remove<Q: Eq + Hash + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let old = self.map.remove(key)?;
        self.weight -= old.weight;
        Some(old.value)
    }

    /// Takes out every entry.
    pub fn clear(&mut self) {
        self.map.clear();
        self.weight = 0;
    }

    /// Evicts the least recently used entries that `evictable` allows, handing each to
    /// `evicted`, until an entry of `weight` more fits: fewer than the most entries, and
    /// their weight with it within the bound. Stops early when nothing left may be evicted.
    pub fn make_room(
        &mut self,
        weight: u64,
        evictable: impl Fn(&V) -> bool,
        mut evicted: impl FnMut(K, V),
    ) {
        while self.map.len() >= self.max_len || self.weight.saturating_add(weight) > self.max_weight
        {
            let oldest = self
                .map
                .iter()
                .filter(|(_, slot)| evictable(&slot.value))
                .min_by_key(|(_, slot)| slot.used)
                .map(|(key, _)| key.clone());
            let Some((key, value)) = oldest.and_then(|key| {
                let value = self.remove(&key)?;
                Some((key, value))
            }) else {
                return;
            };
            evicted(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(lru: &Lru<&'static str, u64>) -> Vec<&'static str> {
        let mut keys: Vec<_> = lru.map.keys().copied().collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        let mut lru = Lru::new(3, u64::MAX);
        for key in ["a", "b", "c"] {
            lru.make_room(0, |_| true, |_, _| panic!("room to spare"));
            lru.insert(key, 0, 0);
        }
        // A use moves "a" after "c"; a look does not move "b".
        assert_eq!(lru.get("a"), Some(&mut 0));
        assert_eq!(lru.peek("b"), Some(&0));
        *lru.peek_mut("b").unwrap() = 7;
        let mut gone = Vec::new();
        lru.make_room(0, |_| true, |key, value| gone.push((key, value)));
        assert_eq!(gone, [("b", 7)]);
        lru.insert("d", 0, 0);
        assert_eq!(keys(&lru), ["a", "c", "d"]);
        // Replacing an entry counts as a use, and leaves the length as it is.
        assert_eq!(lru.insert("c", 1, 0), Some(0));
        lru.make_room(0, |_| true, |key, _| gone.push((key, 0)));
        assert_eq!(gone[1..], [("a", 0)]);
        assert!(!lru.contains_key("a") && lru.map.len() == 2);
    }

    #[test]
    fn weight_is_bounded_and_counted_on_every_change() {
        let mut lru = Lru::new(10, 100);
        lru.insert("a", 0, 60);
        lru.insert("b", 0, 30);
        assert_eq!(lru.weight, 90);
        // 20 more does not fit: "a" goes, which is enough.
        let mut gone = Vec::new();
        lru.make_room(20, |_| true, |key, _| gone.push(key));
        assert_eq!(gone, ["a"]);
        assert_eq!(lru.weight, 30);
        lru.insert("b", 0, 50);
        assert_eq!(lru.weight, 50);
        assert_eq!(lru.remove("b"), Some(0));
        assert_eq!((lru.weight, lru.map.len()), (0, 0));
        // Something heavier than the bound empties the map, then stops.
        lru.insert("c", 0, 10);
        lru.make_room(200, |_| true, |key, _| gone.push(key));
        assert_eq!(gone, ["a", "c"]);
        lru.insert("d", 0, 10);
        lru.clear();
        assert_eq!((lru.weight, lru.map.len()), (0, 0));
    }

    #[test]
    fn only_what_may_be_evicted_is() {
        let mut lru = Lru::new(2, u64::MAX);
        lru.insert("pinned", 1, 0);
        lru.insert("loose", 0, 0);
        let mut gone = Vec::new();
        lru.make_room(0, |&value| value == 0, |key, _| gone.push(key));
        assert_eq!(gone, ["loose"]);
        lru.insert("new", 1, 0);
        // Full, and nothing may go: the map stays as it is.
        lru.make_room(0, |&value| value == 0, |key, _| gone.push(key));
        assert_eq!(gone, ["loose"]);
        assert_eq!(keys(&lru), ["new", "pinned"]);
    }
}
