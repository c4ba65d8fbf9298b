//! A file's fields HPACK-encoded once per thread and copied after: a literal without indexing
//! (RFC 7541 §6.2.2) depends on no connection's dynamic table, so its octets can be kept and
//! appended as they are. A file's `etag` and `last-modified` repeat for as long as the file
//! does, and the Huffman code (§5.2) of their 20 to 30 octets is most of what a response head
//! costs to encode (callgrind: about 800 instructions a response, against about 100 for the
//! look-up here).
//!
//! And the thread's last head of a cached file's fields ([`LastHead`]), copied while the
//! encoder's state that made it lasts: once every field goes indexed, one comparison and one
//! copy stand for the encoding of each field (callgrind: about 860 instructions a response
//! less). One per thread rather than per connection, which an idle connection would hold
//! (80 bytes): a connection's turn sends its responses one after the other.

use crate::http::response::Prebuilt;
use nomserve_grammar::encode_unindexed;
use std::cell::RefCell;
use std::sync::Arc;

/// The most octets [`LastHead`] keeps: a head whose fields all go indexed takes one or two
/// octets a field.
const KEPT: usize = 32;

/// The fields after `:status` of a last response head made of the Date, the Server and a
/// prepared set of a handler's fields, when their encoding left the encoder's state
/// ([`nomserve_grammar::HpackEncoder::generation`], a number no other state of any encoder
/// has) as it was: while that state and the Date stay the same, the same fields encode to
/// the same octets (each field indexed, by indices counted in a table that has not changed,
/// RFC 7541 §2.3.3), so the next head of the same fields copies them instead of encoding
/// them again.
#[derive(Debug)]
pub struct LastHead {
    date: [u8; 29],
    fields: Option<Arc<Prebuilt>>,
    generation: u64,
    len: u8,
    octets: [u8; KEPT],
}

impl LastHead {
    /// Nothing kept.
    const EMPTY: LastHead = LastHead {
        date: [0; 29],
        fields: None,
        generation: 0,
        len: 0,
        octets: [0; KEPT],
    };

    /// Appends the octets kept for `date` and `fields`, if they were kept at encoder state
    /// `generation`; whether they were.
    pub fn replay(
        &self,
        date: &[u8; 29],
        fields: &Arc<Prebuilt>,
        generation: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        let same = generation == self.generation
            && self
                .fields
                .as_ref()
                .is_some_and(|kept| Arc::ptr_eq(kept, fields))
            && *date == self.date;
        if same {
            out.extend_from_slice(&self.octets[..usize::from(self.len)]);
        }
        same
    }

    /// Keeps `octets`, what `date` and `fields` encoded to at encoder state `generation`,
    /// which their encoding left as it was (too long to keep: kept nothing).
    pub fn keep(
        &mut self,
        date: &[u8; 29],
        fields: &Arc<Prebuilt>,
        generation: u64,
        octets: &[u8],
    ) {
        let Some(room) = self.octets.get_mut(..octets.len()) else {
            self.fields = None;
            return;
        };
        room.copy_from_slice(octets);
        // At most KEPT (32): the slice above has that room.
        self.len = octets.len() as u8;
        self.date = *date;
        self.generation = generation;
        if !self
            .fields
            .as_ref()
            .is_some_and(|kept| Arc::ptr_eq(kept, fields))
        {
            self.fields = Some(Arc::clone(fields));
        }
    }
}

thread_local! {
    /// The last head kept on this thread, whichever connection sent it.
    static LAST_HEAD: RefCell<LastHead> = const { RefCell::new(LastHead::EMPTY) };
}

/// Appends the octets this thread kept for `date` and `fields` at encoder state
/// `generation`, if it did ([`LastHead::replay`]); whether it did.
pub fn replay_head(
    date: &[u8; 29],
    fields: &Arc<Prebuilt>,
    generation: u64,
    out: &mut Vec<u8>,
) -> bool {
    LAST_HEAD.with_borrow(|head| head.replay(date, fields, generation, out))
}

/// Keeps on this thread what `date` and `fields` encoded to at encoder state `generation`
/// ([`LastHead::keep`]).
pub fn keep_head(date: &[u8; 29], fields: &Arc<Prebuilt>, generation: u64, octets: &[u8]) {
    LAST_HEAD.with_borrow_mut(|head| head.keep(date, fields, generation, octets));
}

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
/// it (see `nomserve_grammar::HpackEncoder::known_field`).
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
    fn a_head_is_replayed_only_for_the_same_fields_date_and_encoder_state() {
        let fields = Arc::new(Prebuilt::new(b"ETag: \"a\"\r\n".to_vec()));
        let same = Arc::new(Prebuilt::new(b"ETag: \"a\"\r\n".to_vec()));
        let date = *b"Mon, 07 Dec 2026 11:03:07 GMT";
        let later = *b"Mon, 07 Dec 2026 11:03:08 GMT";
        let mut head = LastHead::EMPTY;
        let mut out = Vec::new();
        assert!(!head.replay(&date, &fields, 0, &mut out));
        head.keep(&date, &fields, 3, &[0xbe, 0xbf]);
        assert!(!head.replay(&date, &fields, 4, &mut out));
        assert!(!head.replay(&later, &fields, 3, &mut out));
        // The same fields prepared apart are another set, looked at no closer.
        assert!(!head.replay(&date, &same, 3, &mut out));
        assert!(out.is_empty());
        assert!(head.replay(&date, &fields, 3, &mut out));
        assert_eq!(out, [0xbe, 0xbf]);
        head.keep(&date, &fields, 3, &[0x80; KEPT + 1]);
        assert!(!head.replay(&date, &fields, 3, &mut out));
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
