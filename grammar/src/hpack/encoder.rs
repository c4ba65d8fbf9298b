//! The HPACK encoder for our responses (RFC 7541 §6).
//!
//! What a static server sends falls in three kinds, each encoded its own way:
//! - `:status`: indexed from the static table for the seven codes it holds (200, 204, 206,
//!   304, 400, 404, 500: one octet, §6.1); any other code a literal without indexing whose
//!   name is static index 8 (three or four octets: not worth a table entry).
//! - Fields whose value repeats from response to response on one connection ([`INDEXED`]:
//!   `server`, `content-type`, `cache-control`, `vary`, `accept-ranges`, ...): the first time
//!   a literal with incremental indexing (§6.2.1), and from then on one indexed octet while
//!   the entry lasts; unless the field would take more than a quarter of the table, then a
//!   literal without indexing.
//! - Fields whose value changes, but not on every response ([`CHANGING`]): `date` once a
//!   second, and a file's `etag` and `last-modified` with the file. Each is sent indexed
//!   when its newest entry holds it (one comparison, no search of the table); else it is
//!   inserted when the same value went as a literal just before (the second response of a
//!   second, the same file asked again), and otherwise goes as a literal without indexing.
//!   So a second's responses after the first two send `date` in one octet (an entry of 65
//!   octets a second, where each saves about 20 octets and its client a Huffman decoding),
//!   one file asked again and again costs a few octets a response, and neither a client
//!   walking through many files nor a connection that makes one request puts an entry in
//!   the table: indexing every `etag` and `last-modified` as h2o does, measured on a page of
//!   60 files with distinct modification times fetched 20 times over one connection, made
//!   the header blocks 3% longer (each entry is evicted before its file comes round again)
//!   and, with a search of the table for each, cost 58% more instructions per request.
//! - Every other field, in particular those that change on every response
//!   (`content-length`, `content-range`), a literal without indexing (§6.2.2), its name
//!   indexed from the static table when it is there.
//!
//! A literal is Huffman-encoded only when that makes it shorter (§5.2).

#![forbid(unsafe_code)]

use super::dynamic::{DynamicTable, ENTRY_OVERHEAD};
use super::integer::encode_integer;
use super::static_table;
use super::string::{encode_measured_string, encode_string};
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest dynamic table the encoder uses, whatever larger size the peer allows: the
/// RFC 9113 §6.5.2 default. Our repeated fields take a few hundred octets.
pub const ENCODER_TABLE_SIZE: usize = 4096;

/// Field names whose values repeat from response to response, inserted in the dynamic table.
pub const INDEXED: &[&[u8]] = &[
    b"server",
    b"content-type",
    b"cache-control",
    b"vary",
    b"accept-ranges",
    b"content-encoding",
    b"strict-transport-security",
    b"x-content-type-options",
    b"access-control-allow-origin",
    b"content-security-policy",
    b"referrer-policy",
    b"x-frame-options",
    b"alt-svc",
];

/// The position of `name` in [`INDEXED`]: a match on the name, which costs a few
/// comparisons where a scan of the list compares up to 13 names per field.
fn indexed_slot(name: &[u8]) -> Option<usize> {
    Some(match name {
        b"server" => 0,
        b"content-type" => 1,
        b"cache-control" => 2,
        b"vary" => 3,
        b"accept-ranges" => 4,
        b"content-encoding" => 5,
        b"strict-transport-security" => 6,
        b"x-content-type-options" => 7,
        b"access-control-allow-origin" => 8,
        b"content-security-policy" => 9,
        b"referrer-policy" => 10,
        b"x-frame-options" => 11,
        b"alt-svc" => 12,
        _ => return None,
    })
}

/// Fields whose value changes from time to time, indexed while that pays (see the module
/// comment): `date`, `etag`, `last-modified`.
const CHANGING: &[&[u8]] = &[b"date", b"etag", b"last-modified"];

/// The position of `name` in [`CHANGING`].
fn changing_slot(name: &[u8]) -> Option<usize> {
    Some(match name {
        b"date" => 0,
        b"etag" => 1,
        b"last-modified" => 2,
        _ => return None,
    })
}

/// What the encoder does with a field, found from its name once: where the name is known
/// ahead (the connection's own fields, a cached file's fields split when it is cached), the
/// name is not matched again for each response, as h2o's tokens spare its encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldToken(Kind);

/// The kinds of field of the module comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// [`INDEXED`]`[slot]`.
    Repeated(usize),
    /// [`CHANGING`]`[slot]`.
    Changing(usize),
    /// `:status`.
    Status,
    /// Any other field.
    Other,
}

impl FieldToken {
    /// `date`.
    pub const DATE: FieldToken = FieldToken(Kind::Changing(0));
    /// `server`.
    pub const SERVER: FieldToken = FieldToken(Kind::Repeated(0));

    /// The token of `name` (lowercase).
    pub fn of(name: &[u8]) -> FieldToken {
        FieldToken(if let Some(slot) = indexed_slot(name) {
            Kind::Repeated(slot)
        } else if let Some(slot) = changing_slot(name) {
            Kind::Changing(slot)
        } else if name == b":status" {
            Kind::Status
        } else {
            Kind::Other
        })
    }

    /// The name of a field whose value changes from time to time (`date`, `etag`,
    /// `last-modified`), for which [`HpackEncoder::known_field`] may leave the
    /// literal to the caller; `None` for any other.
    pub fn changing_name(self) -> Option<&'static [u8]> {
        match self.0 {
            Kind::Changing(slot) => Some(CHANGING[slot]),
            _ => None,
        }
    }
}

/// A hash of a field value (FNV-1a, 64 bits), never 0: what [`HpackEncoder::known_field`]
/// remembers of the value a field last went as a literal with. A collision only inserts a
/// field that would have gone as a literal.
fn value_hash(value: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in value {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    hash.max(1)
}

/// The static index of `:status` with `value`, for the seven codes the static table holds
/// (Appendix A, indices 8 to 14).
fn status_index(value: &[u8]) -> Option<u32> {
    Some(match value {
        b"200" => 8,
        b"204" => 9,
        b"206" => 10,
        b"304" => 11,
        b"400" => 12,
        b"404" => 13,
        b"500" => 14,
        _ => return None,
    })
}

/// A field's name and value.
type Field<'a> = (&'a [u8], &'a [u8]);

/// An HPACK encoder: the dynamic table of one connection's response headers.
#[derive(Debug, Clone)]
pub struct HpackEncoder {
    table: DynamicTable,
    /// The smallest table size the peer allowed since the last block, when it changed: the
    /// next block starts with size updates (§4.2).
    pending_min: Option<usize>,
    /// Entries inserted so far (counted again from 1 when the count wraps, see
    /// [`HpackEncoder::count_insert`]): the newest is the `inserts`-th.
    inserts: u32,
    /// For each of [`INDEXED`], the `inserts` count of its newest entry (0: none). The field
    /// repeats from response to response, so its newest entry is usually the one to send:
    /// found at once, without a search of the table.
    newest: [u32; INDEXED.len()],
    /// For each of [`CHANGING`], the `inserts` count of its newest entry (0: none), and a
    /// hash of the value it last went as a literal with (0: none).
    changing: [(u32, u64); CHANGING.len()],
    /// Names the state of all of the above but `pending_min`: see
    /// [`HpackEncoder::generation`].
    generation: u64,
}

/// The next number [`HpackEncoder::generation`] gives a state, shared by every encoder of
/// the process, so that no two states, of one encoder or of two, have the same.
static GENERATIONS: AtomicU64 = AtomicU64::new(0);

/// A number no encoder state had.
fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, Ordering::Relaxed)
}

impl Default for HpackEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl HpackEncoder {
    /// An encoder with the table size every peer allows at first (RFC 9113 §6.5.2: 4096).
    pub fn new() -> Self {
        HpackEncoder {
            table: DynamicTable::new(ENCODER_TABLE_SIZE),
            pending_min: None,
            inserts: 0,
            newest: [0; INDEXED.len()],
            changing: [(0, 0); CHANGING.len()],
            generation: next_generation(),
        }
    }

    /// The encoder's state, as a number no other state of any encoder in the process has:
    /// it changes with every change of state (an entry inserted, the table resized, a
    /// changing field's literal remembered). While it stays the same, fields encode to the
    /// same octets after [`HpackEncoder::begin`]; and fields whose encoding left it the same
    /// may be sent again as those octets, for as long as it stays so, by whoever kept them
    /// with the number (one memo can serve every connection of a thread).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Applies the peer's SETTINGS_HEADER_TABLE_SIZE: the table is resized to it (at most
    /// [`ENCODER_TABLE_SIZE`]) and the next block starts with the size update(s) that tell
    /// the peer's decoder (§4.2: the smallest size since the last block, then the final one).
    pub fn set_peer_table_size(&mut self, peer_size: usize) {
        let size = peer_size.min(ENCODER_TABLE_SIZE);
        self.pending_min = Some(self.pending_min.map_or(size, |min| min.min(size)));
        self.table.set_max_size(size);
        self.generation = next_generation();
    }

    /// Appends to `out` the header block for `fields`, in order (names lowercase, as
    /// RFC 9113 §8.2.1 requires of the caller).
    ///
    /// ```
    /// use nomserve_grammar::HpackEncoder;
    ///
    /// let mut encoder = HpackEncoder::new();
    /// let fields: [(&[u8], &[u8]); 2] = [(b":status", b"200"), (b"server", b"nomserve")];
    /// let mut first = Vec::new();
    /// encoder.encode(fields.iter().copied(), &mut first);
    /// let mut second = Vec::new();
    /// encoder.encode(fields.iter().copied(), &mut second);
    /// // The second time, server is one indexed octet: the newest dynamic entry, 62.
    /// assert_eq!(second, [0x88, 0x80 | 62]);
    /// ```
    pub fn encode<'f>(
        &mut self,
        fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
        out: &mut Vec<u8>,
    ) {
        self.begin(out);
        for (name, value) in fields {
            self.field(name, value, out);
        }
    }

    /// Starts a header block in `out`: the dynamic table size updates the peer's decoder is
    /// owed (§4.2: the smallest size since the last block, then the final one), if any. The
    /// block's fields follow, each appended with [`HpackEncoder::field`].
    #[inline]
    pub fn begin(&mut self, out: &mut Vec<u8>) {
        if let Some(min) = self.pending_min.take() {
            self.size_updates(min, out);
        }
    }

    /// Appends the dynamic table size updates of [`HpackEncoder::begin`], `min` the smallest
    /// size since the last block.
    fn size_updates(&self, min: usize, out: &mut Vec<u8>) {
        if min < self.table.max_size() {
            encode_integer(min as u32, 5, 0x20, out);
        }
        encode_integer(self.table.max_size() as u32, 5, 0x20, out);
    }

    /// Appends one field's representation to the block begun in `out` with
    /// [`HpackEncoder::begin`]; `name` lowercase, as RFC 9113 §8.2.1 requires of the caller.
    pub fn field(&mut self, name: &[u8], value: &[u8], out: &mut Vec<u8>) {
        if !self.known_field(FieldToken::of(name), name, value, out) {
            encode_unindexed(name, value, out);
        }
    }

    /// Appends `name: value` as [`HpackEncoder::field`] does, `token` being
    /// [`FieldToken::of`]`(name)`, found ahead; except that a field of
    /// [`FieldToken::changing_name`] to go as a literal without indexing (§6.2.2) is not
    /// appended: false is returned, and the caller appends what [`encode_unindexed`] makes,
    /// whose octets it may keep.
    ///
    /// A repeated or changing field is looked for first where it usually is, the newest
    /// entry of its kind (a kept count names the entry inserted for its slot, with the
    /// slot's name; entries leave oldest first, so the newest of a name is the last to go):
    /// one comparison of the value, and one indexed octet (§6.1) when it holds it; inlined
    /// into the caller, as most fields of a response end there. Its static entry (the name
    /// with an empty value) is never the better choice then: a field that matches it is sent
    /// indexed from the static table and never inserted, so no dynamic entry holds it.
    #[inline]
    pub fn known_field(
        &mut self,
        token: FieldToken,
        name: &[u8],
        value: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        let kept = match token.0 {
            Kind::Repeated(slot) => self.newest[slot],
            Kind::Changing(slot) => self.changing[slot].0,
            Kind::Status | Kind::Other => 0,
        };
        if let Some((index, (_, entry_value))) = self.live_entry(kept) {
            if entry_value == value {
                encode_integer(static_index_end() + index as u32, 7, 0x80, out);
                return true;
            }
        }
        self.unkept_field(token, name, value, out)
    }

    /// Appends `name: value` as [`HpackEncoder::known_field`] does, when the newest entry of
    /// its kind, if any, does not hold it.
    fn unkept_field(
        &mut self,
        token: FieldToken,
        name: &[u8],
        value: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        match token.0 {
            Kind::Repeated(slot) => self.repeated_field(slot, name, value, out),
            Kind::Changing(slot) => return self.changing_slot_field(slot, name, value, out),
            Kind::Status => match status_index(value) {
                Some(index) => encode_integer(index, 7, 0x80, out),
                None => literal(8, name, value, 0x00, 4, out),
            },
            // Only the repeated fields are ever inserted: for the others the dynamic table
            // holds neither the field nor its name, and is not searched.
            Kind::Other => match static_table::find(name, value) {
                Some((index, true)) => encode_integer(index, 7, 0x80, out),
                static_name => literal(
                    static_name.map_or(0, |(index, _)| index),
                    name,
                    value,
                    0x00,
                    4,
                    out,
                ),
            },
        }
        true
    }

    /// Appends `:status` with `code`: indexed from the static table for the seven codes it
    /// holds (Appendix A), else a literal without indexing whose name is static index 8.
    /// Inlined: 200 is one octet pushed.
    #[inline]
    pub fn status(&mut self, code: u16, out: &mut Vec<u8>) {
        let index: u8 = match code {
            200 => 8,
            204 => 9,
            206 => 10,
            304 => 11,
            400 => 12,
            404 => 13,
            500 => 14,
            _ => return literal_status(code, out),
        };
        out.push(0x80 | index);
    }

    /// Appends `content-length` with `length`: a literal without indexing whose name is
    /// static index 28, the digits Huffman-encoded only when that is shorter (§5.2), which
    /// takes three digits or more (a digit's code is 5 or 6 bits, Appendix B); one or two
    /// digits are written straight out.
    pub fn content_length(&mut self, length: u64, out: &mut Vec<u8>) {
        // The name: index 28 on a 4-bit prefix, 15 and then 13 (§5.1).
        const NAME: [u8; 2] = [0x0f, 28 - 15];
        if let Ok(n @ 0..100) = u8::try_from(length) {
            let [a, b] = NAME;
            if n < 10 {
                out.extend_from_slice(&[a, b, 1, b'0' + n]);
            } else {
                out.extend_from_slice(&[a, b, 2, b'0' + n / 10, b'0' + n % 10]);
            }
            return;
        }
        let mut digits = [0; DIGITS];
        encode_integer(28u32, 4, 0x00, out);
        encode_measured_string(decimal(length, &mut digits), out);
    }

    /// Appends [`CHANGING`]`[slot]`, `name: value`, which its newest entry does not hold:
    /// inserted in the table (§6.2.1) when that pays (see the module comment); else false,
    /// having appended nothing, for a literal without indexing (§6.2.2) that the caller
    /// appends ([`HpackEncoder::known_field`]).
    fn changing_slot_field(
        &mut self,
        slot: usize,
        name: &[u8],
        value: &[u8],
        out: &mut Vec<u8>,
    ) -> bool {
        let last_literal = self.changing[slot].1;
        let hash = value_hash(value);
        if hash != last_literal || !self.worth_indexing(name, value) {
            self.changing[slot].1 = hash;
            self.generation = next_generation();
            return false;
        }
        let name_index = static_table::name_index(name).unwrap_or(0);
        literal(name_index, name, value, 0x40, 6, out);
        self.table.insert(name, value);
        self.changing[slot] = (self.count_insert(), 0);
        true
    }

    /// Appends [`INDEXED`]`[slot]`, `name: value`, which its newest entry does not hold: from
    /// the static table if it holds the field, else from an older dynamic entry that does,
    /// else as a literal inserted in the table (§6.2.1) when [`Self::worth_indexing`].
    fn repeated_field(&mut self, slot: usize, name: &[u8], value: &[u8], out: &mut Vec<u8>) {
        let static_name = static_table::find(name, value);
        if let Some((index, true)) = static_name {
            encode_integer(index, 7, 0x80, out);
            return;
        }
        let dynamic = self.table.find(name, value);
        if let Some((index, true)) = dynamic {
            encode_integer(static_index_end() + index as u32, 7, 0x80, out);
            return;
        }
        let name_index = match (static_name, dynamic) {
            (Some((index, _)), _) => index,
            (None, Some((index, _))) => static_index_end() + index as u32,
            (None, None) => 0,
        };
        if self.worth_indexing(name, value) {
            literal(name_index, name, value, 0x40, 6, out);
            self.table.insert(name, value);
            self.newest[slot] = self.count_insert();
        } else {
            literal(name_index, name, value, 0x00, 4, out);
        }
    }
}

impl HpackEncoder {
    /// Counts an entry just inserted; returns its count. When the count wraps, it starts
    /// again at 1 and every count kept in `newest` and `changing` is forgotten, so that a
    /// kept count always names the entry inserted for its slot, with its slot's name.
    fn count_insert(&mut self) -> u32 {
        self.generation = next_generation();
        self.inserts = self.inserts.wrapping_add(1);
        if self.inserts == 0 {
            self.newest = [0; INDEXED.len()];
            self.changing = [(0, 0); CHANGING.len()];
            self.inserts = 1;
        }
        self.inserts
    }

    /// The dynamic index and the field of the `inserted`-th entry (0: none), while it is
    /// still in the table.
    fn live_entry(&self, inserted: u32) -> Option<(usize, Field<'_>)> {
        if inserted == 0 {
            return None;
        }
        let index = self.inserts.wrapping_sub(inserted) as usize + 1;
        Some((index, self.table.get(index)?))
    }

    /// Whether a repeated field is small enough to index: at most a quarter of the table
    /// (1024 octets of 4096), so that one long value (a content-security-policy, say) does
    /// not evict every other entry each time it is sent.
    fn worth_indexing(&self, name: &[u8], value: &[u8]) -> bool {
        name.len() + value.len() + ENTRY_OVERHEAD <= self.table.max_size() / 4
    }
}

/// Appends `name: value` as a literal field without indexing (§6.2.2), its name indexed
/// from the static table when it is there. The representation neither depends on nor changes
/// a dynamic table, so one encoding can be kept and appended to any header block of any
/// connection after [`HpackEncoder::begin`] (a file's `etag`, say, when
/// [`HpackEncoder::known_field`] does not index it).
///
/// ```
/// use nomserve_grammar::{HpackEncoder, encode_unindexed};
///
/// let mut range = Vec::new();
/// encode_unindexed(b"content-range", b"bytes 0-99/1000", &mut range);
/// let mut encoder = HpackEncoder::new();
/// let mut block = Vec::new();
/// encoder.begin(&mut block);
/// block.extend_from_slice(&range);
/// let mut direct = Vec::new();
/// encoder.encode([(&b"content-range"[..], &b"bytes 0-99/1000"[..])], &mut direct);
/// assert_eq!(block, direct);
/// ```
pub fn encode_unindexed(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    let name_index = static_table::name_index(name).unwrap_or(0);
    literal(name_index, name, value, 0x00, 4, out);
}

/// Appends `:status` with `code` as a literal without indexing whose name is static index 8.
fn literal_status(code: u16, out: &mut Vec<u8>) {
    let mut digits = [0; DIGITS];
    encode_integer(8u32, 4, 0x00, out);
    encode_string(decimal(u64::from(code), &mut digits), out);
}

/// Room for the decimal digits of any `u64`.
const DIGITS: usize = 20;

/// The decimal digits of `n`, written at the end of `buf`.
fn decimal(mut n: u64, buf: &mut [u8; DIGITS]) -> &[u8] {
    let mut at = DIGITS;
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

/// The number of static entries: dynamic index 1 is 62 (§2.3.3).
fn static_index_end() -> u32 {
    static_table::STATIC.len() as u32
}

/// A literal field (§6.2.1, §6.2.2): `flags` and a `prefix_bits` name index, then the name
/// as a string when the index is 0, then the value.
fn literal(
    name_index: u32,
    name: &[u8],
    value: &[u8],
    flags: u8,
    prefix_bits: u8,
    out: &mut Vec<u8>,
) {
    encode_integer(name_index, prefix_bits, flags, out);
    if name_index == 0 {
        encode_string(name, out);
    }
    encode_string(value, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexed_slot_is_the_position_in_indexed() {
        for (slot, &name) in INDEXED.iter().enumerate() {
            assert_eq!(indexed_slot(name), Some(slot));
        }
        assert_eq!(indexed_slot(b"etag"), None);
        assert_eq!(indexed_slot(b"Server"), None);
    }

    #[test]
    fn a_wrapped_insert_count_forgets_the_kept_counts() {
        let mut encoder = HpackEncoder::new();
        encoder.inserts = u32::MAX - 1;
        let fields: [(&[u8], &[u8]); 2] = [(b"server", b"a"), (b"content-type", b"b")];
        let mut first = Vec::new();
        encoder.encode(fields.iter().copied(), &mut first);
        assert_eq!(encoder.inserts, 1);
        let mut second = Vec::new();
        encoder.encode(fields.iter().copied(), &mut second);
        // server found by a search of the table, content-type as its slot's newest entry.
        assert_eq!(second, [0x80 | 63, 0x80 | 62]);
    }

    #[test]
    fn status_is_the_field() {
        for code in [100u16, 200, 204, 206, 301, 304, 400, 404, 500, 999] {
            let mut direct = Vec::new();
            HpackEncoder::new().status(code, &mut direct);
            let mut field = Vec::new();
            HpackEncoder::new().field(b":status", code.to_string().as_bytes(), &mut field);
            assert_eq!(direct, field, "{code}");
        }
    }

    #[test]
    fn content_length_is_its_literal() {
        for length in (0..1000).chain([u64::MAX]) {
            let mut direct = Vec::new();
            HpackEncoder::new().content_length(length, &mut direct);
            let mut literal = Vec::new();
            encode_integer(28u32, 4, 0x00, &mut literal);
            encode_measured_string(length.to_string().as_bytes(), &mut literal);
            assert_eq!(direct, literal, "{length}");
        }
    }

    #[test]
    fn the_generation_moves_with_every_change_of_state() {
        let mut encoder = HpackEncoder::new();
        let fields: [(&[u8], &[u8]); 2] = [(b"server", b"a"), (b"date", b"Mon")];
        let mut blocks = Vec::new();
        let mut generations = vec![encoder.generation()];
        for _ in 0..4 {
            let mut block = Vec::new();
            encoder.encode(fields.iter().copied(), &mut block);
            blocks.push(block);
            generations.push(encoder.generation());
        }
        // server inserted and date's literal remembered, then date inserted; from then on
        // both go indexed, and the state stays as it is.
        let moved: Vec<bool> = generations.windows(2).map(|w| w[0] != w[1]).collect();
        assert_eq!(moved, [true, true, false, false]);
        assert_eq!(blocks[2], blocks[3]);
        let before = encoder.generation();
        encoder.set_peer_table_size(4096);
        assert_ne!(encoder.generation(), before);
        // Another encoder's states are numbered apart, even in the same state.
        let other = HpackEncoder::new();
        assert!(!generations.contains(&other.generation()));
        assert_ne!(other.generation(), HpackEncoder::new().generation());
    }

    #[test]
    fn status_index_is_the_static_entry() {
        for code in [&b"200"[..], b"204", b"206", b"304", b"400", b"404", b"500"] {
            assert_eq!(
                status_index(code),
                static_table::find(b":status", code).map(|f| f.0)
            );
        }
        assert_eq!(status_index(b"301"), None);
    }
}
