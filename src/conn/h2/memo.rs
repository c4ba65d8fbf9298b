//! Response fields HPACK-encodes once and copies after: literals without indexing (RFC 7541
//! §6.2.2) depend on no connection's dynamic table, so their octets can be kept per thread
//! and appended as they are. The `date` field changes once a second; a file's `etag` and
//! `last-modified` repeat for as long as the file does, and the Huffman code (§5.2) of their
//! 20 to 30 octets is most of what a response head costs to encode (callgrind: about 800
//! instructions a response, against about 100 for the look-up here).

use crate::http::clock;
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
    /// The `date` field of the current second encoded, and the date it encodes.
    static DATE_FIELD: RefCell<([u8; 29], Vec<u8>)> = const { RefCell::new(([0; 29], Vec::new())) };
    /// The per-file fields encoded lately on this thread.
    static FILE_FIELDS: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// Appends the `date` field (RFC 9110 §6.6.1), encoded once a second per thread.
pub fn push_date(out: &mut Vec<u8>) {
    let date = clock::http_date();
    DATE_FIELD.with_borrow_mut(|(encoded_date, field)| {
        if *encoded_date != date || field.is_empty() {
            field.clear();
            encode_unindexed(b"date", &date, field);
            *encoded_date = date;
        }
        out.extend_from_slice(field);
    });
}

/// Appends `name: value` as a literal without indexing, from the octets encoded the last
/// time this thread sent it when its slot still holds it. `name` is one whose values follow
/// the file (`etag`, `last-modified`): the encoder does not index those (see
/// `nomserve_grammar::HpackEncoder`).
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
    use nomserve_grammar::HpackEncoder;

    /// What the connection's encoder makes of the same field.
    fn direct(name: &[u8], value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        HpackEncoder::new().encode([(name, value)], &mut out);
        out
    }

    #[test]
    fn a_remembered_field_is_the_encoders_octets_each_time() {
        let values: Vec<String> = (0..200).map(|i| format!("\"{i:x}-18eef3d2a47\"")).collect();
        for round in 0..2 {
            for value in &values {
                let mut out = Vec::new();
                push_file_field(b"etag", value.as_bytes(), &mut out);
                assert_eq!(out, direct(b"etag", value.as_bytes()), "round {round}");
            }
        }
        let date = b"Mon, 07 Dec 2026 11:03:07 GMT";
        let mut out = Vec::new();
        push_file_field(b"last-modified", date, &mut out);
        push_file_field(b"last-modified", date, &mut out);
        let once = direct(b"last-modified", date);
        assert_eq!(out, [once.clone(), once].concat());
    }
}
