//! A file's fields HPACK-encoded once per thread and copied after: a literal without indexing
//! (RFC 7541 §6.2.2) depends on no connection's dynamic table, so its octets can be kept and
//! appended as they are. A file's `etag` and `last-modified` repeat for as long as the file
//! does, and the Huffman code (§5.2) of their 20 to 30 octets is most of what a response head
//! costs to encode (callgrind: about 800 instructions a response, against about 100 for the
//! look-up here).

use nomserve_grammar::encode_unindexed;
use std::cell::RefCell;

/// Per-file fields remembered per thread: a direct-mapped table, so a look-up is one slot's
/// comparison and a page of many files displaces only what shares a slot.
const SLOTS: usize = 64;

/// A remembered field: its name and value, and the octets that encode them.
#[derive(Default)]
struct Slot {
    name: &'static [u8],
    value: Vec<u8>,
    encoded: Vec<u8>,
}

thread_local! {
    /// The per-file fields encoded lately on this thread.
    static FILE_FIELDS: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// Appends `name: value` as a literal without indexing, from the octets encoded the last
/// time this thread sent it when its slot still holds it. `name` is one whose values follow
/// the file (`etag`, `last-modified`), sent so when the connection's encoder does not index
/// it (see `nomserve_grammar::HpackEncoder::changing_field`).
pub fn push_file_field(name: &'static [u8], value: &[u8], out: &mut Vec<u8>) {
    FILE_FIELDS.with_borrow_mut(|slots| {
        if slots.is_empty() {
            slots.resize_with(SLOTS, Slot::default);
        }
        let slot = &mut slots[slot_of(name, value)];
        if slot.name != name || slot.value != value {
            slot.name = name;
            slot.value.clear();
            slot.value.extend_from_slice(value);
            slot.encoded.clear();
            encode_unindexed(name, value, &mut slot.encoded);
        }
        out.extend_from_slice(&slot.encoded);
    });
}

/// The slot of `name: value`: from the value's length and last eight octets, where ETags and
/// dates differ (a time of day, a hash), and the name's length.
fn slot_of(name: &[u8], value: &[u8]) -> usize {
    let tail = value.get(value.len().saturating_sub(8)..).unwrap_or(value);
    let mut hash = (value.len() as u64) ^ ((name.len() as u64) << 8);
    for &b in tail {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (hash >> 32) as usize % SLOTS
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::{DecodeLimits, DecodedFields, HpackDecoder};

    /// A decoded field list.
    type List = Vec<(Vec<u8>, Vec<u8>)>;

    /// What a decoder makes of `block`, and the size its dynamic table is left with.
    fn decoded(block: &[u8]) -> (List, usize) {
        let mut decoder = HpackDecoder::new(4096);
        let mut fields = DecodedFields::new();
        decoder
            .decode(block, &mut fields, &DecodeLimits::default())
            .unwrap();
        let list = fields
            .iter()
            .map(|f| (f.name.to_vec(), f.value.to_vec()))
            .collect();
        (list, decoder.table_size())
    }

    #[test]
    fn a_remembered_field_is_its_literal_each_time() {
        let values: Vec<String> = (0..200).map(|i| format!("\"{i:x}-18eef3d2a47\"")).collect();
        for round in 0..2 {
            for value in &values {
                let mut out = Vec::new();
                push_file_field(b"etag", value.as_bytes(), &mut out);
                let field = (b"etag".to_vec(), value.as_bytes().to_vec());
                // A literal without indexing: the decoder's table stays empty.
                assert_eq!(decoded(&out), (vec![field], 0), "round {round}");
            }
        }
        let date = b"Mon, 07 Dec 2026 11:03:07 GMT";
        let mut out = Vec::new();
        push_file_field(b"last-modified", date, &mut out);
        push_file_field(b"last-modified", date, &mut out);
        let field = (b"last-modified".to_vec(), date.to_vec());
        assert_eq!(decoded(&out), (vec![field.clone(), field], 0));
    }
}
