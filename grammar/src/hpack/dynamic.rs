//! The dynamic table (RFC 7541 §2.3.2, §4): a FIFO of fields, the newest at index 1, bounded
//! in size, where an entry's size is its name's and value's octets plus 32 (§4.1).

#![forbid(unsafe_code)]

use std::collections::VecDeque;

/// What an entry costs beyond its octets (§4.1).
pub(crate) const ENTRY_OVERHEAD: usize = 32;

/// One entry: its name and value in one allocation, made when it is inserted, and whether
/// the value was found, then, to be a valid HTTP/2 field value. 24 octets beside its
/// allocation (the name's length fits 32 bits: an entry is at most the table's size, which
/// SETTINGS_HEADER_TABLE_SIZE gives in 32 bits), so that the queue of a connection's
/// tables, kept while it is idle, is a quarter smaller than with a `usize`.
#[derive(Debug, Clone)]
struct Entry {
    bytes: Box<[u8]>,
    name_len: u32,
    value_checked: bool,
}

const _: () = assert!(size_of::<Entry>() == 24);

impl Entry {
    fn name_len(&self) -> usize {
        self.name_len as usize
    }

    fn name(&self) -> &[u8] {
        self.bytes.get(..self.name_len()).unwrap_or_default()
    }

    fn value(&self) -> &[u8] {
        self.bytes.get(self.name_len()..).unwrap_or_default()
    }

    fn size(&self) -> usize {
        self.bytes.len() + ENTRY_OVERHEAD
    }
}

/// A dynamic table. Its memory is bounded by `max_size` (each entry's 32-octet overhead more
/// than covers its bookkeeping), so at most `max_size / 32` entries.
#[derive(Debug, Clone)]
pub(crate) struct DynamicTable {
    entries: VecDeque<Entry>,
    size: usize,
    max_size: usize,
}

impl DynamicTable {
    /// An empty table of at most `max_size` octets.
    pub(crate) fn new(max_size: usize) -> Self {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
        }
    }

    /// The entries' size (§4.1).
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The most octets the table may hold.
    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    /// The entry at `index`, 1 being the newest (§2.3.3, less the 61 static entries).
    pub(crate) fn get(&self, index: usize) -> Option<(&[u8], &[u8])> {
        let entry = self.entries.get(index.checked_sub(1)?)?;
        Some((entry.name(), entry.value()))
    }

    /// The entry at `index`, as [`DynamicTable::get`] numbers it, as its name and value
    /// joined in one slice and the name's length: copied whole in one move; and whether its
    /// value was inserted as checked ([`DynamicTable::insert_checked`]).
    pub(crate) fn get_joined(&self, index: usize) -> Option<(&[u8], usize, bool)> {
        let entry = self.entries.get(index.checked_sub(1)?)?;
        Some((&entry.bytes, entry.name_len(), entry.value_checked))
    }

    /// Changes the maximum size, evicting the oldest entries until the table fits (§4.3).
    pub(crate) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
    }

    /// Adds a field as the newest entry, first evicting the oldest entries until it fits
    /// (§4.4). A field larger than the maximum size empties the table and is not added.
    pub(crate) fn insert(&mut self, name: &[u8], value: &[u8]) {
        self.insert_checked(name, value, false);
    }

    /// [`DynamicTable::insert`], the entry marked with `value_checked`: whether the caller
    /// found its value valid, which [`DynamicTable::get_joined`] gives back with it.
    pub(crate) fn insert_checked(&mut self, name: &[u8], value: &[u8], value_checked: bool) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        let name_len = match u32::try_from(name.len()) {
            Ok(name_len) if size <= self.max_size => name_len,
            _ => {
                self.evict_to(0);
                return;
            }
        };
        self.evict_to(self.max_size - size);
        let mut bytes = Vec::with_capacity(name.len() + value.len());
        bytes.extend_from_slice(name);
        bytes.extend_from_slice(value);
        self.entries.push_front(Entry {
            bytes: bytes.into_boxed_slice(),
            name_len,
            value_checked,
        });
        self.size += size;
    }

    /// The index (1 the newest) of an entry with `name` and `value`, else of the newest with
    /// `name`, with whether the value matched too.
    pub(crate) fn find(&self, name: &[u8], value: &[u8]) -> Option<(usize, bool)> {
        let mut name_only = None;
        for (i, entry) in self.entries.iter().enumerate() {
            if entry.name() == name {
                if entry.value() == value {
                    return Some((i + 1, true));
                }
                name_only = name_only.or(Some((i + 1, false)));
            }
        }
        name_only
    }

    /// Evicts the oldest entries until the size is at most `target`.
    fn evict_to(&mut self, target: usize) {
        while self.size > target {
            match self.entries.pop_back() {
                Some(entry) => self.size -= entry.size(),
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(table: &DynamicTable) -> usize {
        (1..).take_while(|&i| table.get(i).is_some()).count()
    }

    #[test]
    fn inserts_newest_first_and_counts_sizes() {
        let mut table = DynamicTable::new(4096);
        table.insert(b"a", b"1");
        table.insert(b"bb", b"22");
        assert_eq!(table.get(1), Some((&b"bb"[..], &b"22"[..])));
        assert_eq!(table.get(2), Some((&b"a"[..], &b"1"[..])));
        assert_eq!(table.get(0), None);
        assert_eq!(table.get(3), None);
        assert_eq!(table.size(), 34 + 36);
        assert_eq!(table.get_joined(1), Some((&b"bb22"[..], 2, false)));
        table.insert_checked(b"c", b"3", true);
        assert_eq!(table.get_joined(1), Some((&b"c3"[..], 1, true)));
        assert_eq!(table.get_joined(2), Some((&b"bb22"[..], 2, false)));
        assert_eq!(table.get_joined(4), None);
    }

    #[test]
    fn evicts_the_oldest_to_make_room() {
        let mut table = DynamicTable::new(70);
        table.insert(b"a", b"1");
        table.insert(b"bb", b"22");
        table.insert(b"c", b"3");
        assert_eq!(len(&table), 2);
        assert_eq!(table.get(2), Some((&b"bb"[..], &b"22"[..])));
        assert_eq!(table.size(), 70);
    }

    #[test]
    fn an_entry_larger_than_the_table_empties_it() {
        let mut table = DynamicTable::new(40);
        table.insert(b"a", b"1");
        table.insert(b"name", b"value");
        assert_eq!(len(&table), 0);
        assert_eq!(table.size(), 0);
    }

    #[test]
    fn shrinking_evicts() {
        let mut table = DynamicTable::new(4096);
        table.insert(b"a", b"1");
        table.insert(b"b", b"2");
        table.set_max_size(40);
        assert_eq!(len(&table), 1);
        assert_eq!(table.get(1), Some((&b"b"[..], &b"2"[..])));
        table.set_max_size(0);
        assert_eq!(len(&table), 0);
    }

    #[test]
    fn finds_exact_or_name() {
        let mut table = DynamicTable::new(4096);
        table.insert(b"server", b"a");
        table.insert(b"server", b"b");
        assert_eq!(table.find(b"server", b"a"), Some((2, true)));
        assert_eq!(table.find(b"server", b"c"), Some((1, false)));
        assert_eq!(table.find(b"vary", b""), None);
    }
}
