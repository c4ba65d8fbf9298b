//! The HPACK decoder (RFC 7541 §3, §6): header blocks in, fields out, bounded.
//!
//! **Bounds.** The dynamic table holds at most the SETTINGS_HEADER_TABLE_SIZE we advertised
//! (§4.2; a size update above it is a COMPRESSION_ERROR). The decoded list holds at most
//! [`DecodeLimits::max_list_size`] octets, counted as SETTINGS_MAX_HEADER_LIST_SIZE counts
//! them (name + value + 32 per field, RFC 9113 §6.5.2), and at most
//! [`DecodeLimits::max_fields`] fields. An indexed field is measured before it is copied, so a
//! small table entry referenced thousands of times (the HPACK bomb, CVE-2016-6581) costs no
//! more memory than the bound.
//!
//! **A refused block is still decoded to its end.** Past either bound the decoder keeps no
//! more fields but goes on reading representations, inserting into its dynamic table what the
//! block inserts, and only then returns [`HpackErrorKind::HeaderListTooLarge`] or
//! [`HpackErrorKind::TooManyFields`]. RFC 7541 §2.2 and RFC 9113 §4.3 leave two choices: process
//! the block and refuse the request, or treat it as a connection error. Processing it keeps
//! the table in sync with the peer's, so the server can answer 431 (or reset the one stream)
//! and serve the connection's other streams, which is what a browser that sent one large
//! cookie expects. A COMPRESSION_ERROR found later in the same block still wins: the table is
//! then out of sync and the connection must close.

#![forbid(unsafe_code)]

use super::dynamic::{DynamicTable, ENTRY_OVERHEAD};
use super::error::{Fail, HResult, HpackError, HpackErrorKind, fail};
use super::integer::integer;
use super::static_table::STATIC;
use super::string::string_literal;
use crate::abnf::is_trimmed_field_value;
use crate::fail::offset_in;

/// The octets a [`DecodedFields`] makes room for before a block is decoded: a browser's
/// request list fits.
const LIST_BYTES: usize = 1024;

/// The fields a [`DecodedFields`] makes room for before a block is decoded.
const LIST_FIELDS: usize = 24;

/// The octets of every static entry's name and value, side by side as a dynamic entry's
/// are: an indexed static field is copied in one piece.
static STATIC_JOINED: [u8; static_joined_len()] = {
    let mut joined = [0; static_joined_len()];
    let mut at = 0;
    let mut i = 0;
    while i < STATIC.len() {
        let (name, value) = STATIC[i];
        let mut j = 0;
        while j < name.len() {
            joined[at] = name[j];
            at += 1;
            j += 1;
        }
        j = 0;
        while j < value.len() {
            joined[at] = value[j];
            at += 1;
            j += 1;
        }
        i += 1;
    }
    joined
};

/// Where each static entry starts in [`STATIC_JOINED`], and where the last ends.
static STATIC_STARTS: [u16; STATIC.len() + 1] = {
    let mut starts = [0; STATIC.len() + 1];
    let mut i = 0;
    while i < STATIC.len() {
        starts[i + 1] = starts[i] + (STATIC[i].0.len() + STATIC[i].1.len()) as u16;
        i += 1;
    }
    starts
};

/// The octets of every static entry's name and value.
const fn static_joined_len() -> usize {
    let mut len = 0;
    let mut i = 0;
    while i < STATIC.len() {
        len += STATIC[i].0.len() + STATIC[i].1.len();
        i += 1;
    }
    len
}

/// Static entry `i` (index `i + 1`): its name and value side by side, and its name's length.
fn static_joined(i: usize) -> Option<(&'static [u8], usize)> {
    let (start, end) = (*STATIC_STARTS.get(i)?, *STATIC_STARTS.get(i + 1)?);
    let joined = STATIC_JOINED.get(usize::from(start)..usize::from(end))?;
    Some((joined, STATIC.get(i)?.0.len()))
}

/// Bounds on one decoded header list, set by the caller from what it advertised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest header list, counted as RFC 9113 §6.5.2 counts SETTINGS_MAX_HEADER_LIST_SIZE:
    /// each field's name and value octets plus 32.
    pub max_list_size: usize,
    /// Most fields in one list.
    pub max_fields: usize,
}

impl Default for DecodeLimits {
    /// The HTTP/1.1 head's defaults ([`Limits`](crate::Limits)): 64 KiB and 100 fields, so
    /// a request too large for one protocol is too large for the other.
    fn default() -> Self {
        DecodeLimits {
            max_list_size: crate::Limits::DEFAULT_MAX_HEAD,
            max_fields: crate::Limits::DEFAULT_MAX_HEADERS,
        }
    }
}

/// Where one field lies in [`DecodedFields`]' buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FieldSpan {
    start: usize,
    name_len: usize,
    value_len: usize,
    never_indexed: bool,
    value_checked: bool,
}

/// One decoded field, borrowed from [`DecodedFields`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedField<'a> {
    /// The name, exactly as sent (the request mapping checks it).
    pub name: &'a [u8],
    /// The value, exactly as sent.
    pub value: &'a [u8],
    /// Sent as "never indexed" (§6.2.3): a proxy forwarding it must keep that so.
    pub never_indexed: bool,
    /// The value is known to pass the field-value rule of an HTTP/2 request (RFC 9113
    /// §8.2.1), checked when its table entry was made: the request mapping need not check
    /// it again. Private, so that only a decoder can vouch for a value.
    pub(crate) value_checked: bool,
}

/// A decoded header list: one byte buffer holding every name and value, reused from block to
/// block, so decoding allocates only while the buffer grows to the largest list seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedFields {
    bytes: Vec<u8>,
    spans: Vec<FieldSpan>,
    list_size: usize,
}

impl DecodedFields {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many fields it holds.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether it holds no field.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Its size as RFC 9113 §6.5.2 counts it: name + value + 32 per field.
    pub fn list_size(&self) -> usize {
        self.list_size
    }

    /// The field at `index`, in the order they were sent.
    pub fn get(&self, index: usize) -> Option<DecodedField<'_>> {
        self.field(self.spans.get(index)?)
    }

    /// The fields, in the order they were sent.
    pub fn iter(&self) -> impl Iterator<Item = DecodedField<'_>> {
        self.spans.iter().filter_map(|span| self.field(span))
    }

    /// The field `span` marks out.
    fn field(&self, span: &FieldSpan) -> Option<DecodedField<'_>> {
        let (name, rest) = self
            .bytes
            .get(span.start..)?
            .split_at_checked(span.name_len)?;
        Some(DecodedField {
            name,
            value: rest.get(..span.value_len)?,
            never_indexed: span.never_indexed,
            value_checked: span.value_checked,
        })
    }

    /// Appends a field, counting its size; the caller has measured it against its bounds
    /// (QPACK's decoder, whose table entries and literals it copies in).
    pub(crate) fn push(&mut self, name: &[u8], value: &[u8], never_indexed: bool) {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(name);
        self.bytes.extend_from_slice(value);
        self.spans.push(FieldSpan {
            start,
            name_len: name.len(),
            value_len: value.len(),
            never_indexed,
            value_checked: false,
        });
        self.list_size += name.len() + value.len() + ENTRY_OVERHEAD;
    }

    /// Empties the list, keeping its memory.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.spans.clear();
        self.list_size = 0;
    }
}

/// Where the block being decoded stands against the bounds.
struct Block<'l> {
    limits: &'l DecodeLimits,
    /// A field representation has been read: no size update may follow (§4.2).
    field_seen: bool,
    /// The bound passed, with the offset of the representation that passed it.
    refused: Option<HpackError>,
}

/// An HPACK decoder: the dynamic table of one connection's request headers.
#[derive(Debug, Clone)]
pub struct HpackDecoder {
    table: DynamicTable,
    /// The SETTINGS_HEADER_TABLE_SIZE we advertised: no size update may go above it.
    advertised: usize,
}

impl HpackDecoder {
    /// A decoder for a connection on which we advertised SETTINGS_HEADER_TABLE_SIZE
    /// `max_table_size` (4096 when not sent, RFC 9113 §6.5.2). The table starts at that size
    /// (§4.2: it is the maximum until the peer's encoder lowers it).
    pub fn new(max_table_size: usize) -> Self {
        HpackDecoder {
            table: DynamicTable::new(max_table_size),
            advertised: max_table_size,
        }
    }

    /// The dynamic table's current size in octets (§4.1).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's current maximum size, as last set by a size update (§6.3).
    pub fn max_table_size(&self) -> usize {
        self.table.max_size()
    }

    /// Decodes one complete header block (a HEADERS frame's fragment and its CONTINUATIONs)
    /// into `out`, which is cleared first.
    ///
    /// Contract: on `Ok`, `out` holds the list, in order. On an error that
    /// [`is_compression_error`](HpackError::is_compression_error), the connection must close
    /// (RFC 9113 §4.3) and `out` holds what was decoded before it. On
    /// `HeaderListTooLarge` or `TooManyFields`, the whole block was processed and the table
    /// is in sync: refuse the request, keep the connection; `out` holds the fields before the
    /// bound.
    ///
    /// ```
    /// use nomserve_grammar::{DecodeLimits, DecodedFields, HpackDecoder};
    ///
    /// let mut decoder = HpackDecoder::new(4096);
    /// let mut fields = DecodedFields::new();
    /// // RFC 7541 C.3.1: GET http://www.example.com/
    /// let block = b"\x82\x86\x84\x41\x0fwww.example.com";
    /// decoder.decode(block, &mut fields, &DecodeLimits::default()).unwrap();
    /// let list: Vec<_> = fields.iter().map(|f| (f.name, f.value)).collect();
    /// assert_eq!(list[3], (&b":authority"[..], &b"www.example.com"[..]));
    /// assert_eq!(decoder.table_size(), 57);
    /// ```
    pub fn decode(
        &mut self,
        block: &[u8],
        out: &mut DecodedFields,
        limits: &DecodeLimits,
    ) -> Result<(), HpackError> {
        out.clear();
        // Room for a usual request's list in one allocation each, rather than a few as the
        // buffers double from empty.
        out.bytes.reserve(LIST_BYTES);
        out.spans.reserve(LIST_FIELDS);
        let mut state = Block {
            limits,
            field_seen: false,
            refused: None,
        };
        let mut rest = block;
        while !rest.is_empty() {
            rest = match self.representation(rest, out, &mut state, offset_in(block, rest)) {
                Ok((after, ())) => after,
                Err(nom::Err::Incomplete(_)) => {
                    let at = offset_in(block, rest);
                    return Err(HpackError::new(HpackErrorKind::Truncated, at));
                }
                Err(nom::Err::Error(f) | nom::Err::Failure(f)) => {
                    return Err(HpackError::new(f.kind, offset_in(block, f.at)));
                }
            };
        }
        match state.refused {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }

    /// ```text
    /// representation = indexed-field / size-update / literal-field
    /// literal-field  = ( %b01 index:6-bit-prefix      ; with incremental indexing, §6.2.1
    ///                  / %b0000 index:4-bit-prefix    ; without indexing, §6.2.2
    ///                  / %b0001 index:4-bit-prefix )  ; never indexed, §6.2.3
    ///                  [ name:string-literal ]        ; when the index is 0
    ///                  value:string-literal
    /// ```
    /// RFC 7541 §6: one representation at the start of `input`, found at byte `at` of its
    /// block. A literal is decoded into `out` before it is measured (its decoded length is
    /// known only then), and dropped from it when it passes a bound.
    fn representation<'b>(
        &mut self,
        input: &'b [u8],
        out: &mut DecodedFields,
        state: &mut Block<'_>,
        at: usize,
    ) -> HResult<'b, ()> {
        let first = input.first().copied().unwrap_or_default();
        if first & 0x80 != 0 {
            return self.indexed(input, out, state, at);
        }
        if first & 0xe0 == 0x20 {
            return self.size_update(input, state);
        }
        state.field_seen = true;
        // §6.2.1 incremental indexing (01), §6.2.3 never indexed (0001), §6.2.2 without
        // indexing (0000).
        let (prefix_bits, indexing, never_indexed) = match first {
            0x40..=0x7f => (6, true, false),
            0x10..=0x1f => (4, false, true),
            _ => (4, false, false),
        };
        let (rest, name_index) = integer(input, prefix_bits)?;
        let start = out.bytes.len();
        let rest = if name_index == 0 {
            let (rest, name) = string_literal(rest)?;
            name.decode_into(&mut out.bytes)?;
            rest
        } else {
            let (name, _) = self.lookup(name_index, input)?;
            out.bytes.extend_from_slice(name);
            rest
        };
        let name_len = out.bytes.len() - start;
        let (rest, value) = string_literal(rest)?;
        value.decode_into(&mut out.bytes)?;
        let value_len = out.bytes.len() - start - name_len;
        // An entry's value is checked once, here, for every request that refers to it.
        let value_checked = indexing && {
            let (name, value) = out.bytes[start..].split_at(name_len);
            let value_checked = is_trimmed_field_value(value);
            self.table.insert_checked(name, value, value_checked);
            value_checked
        };
        if admit(out, state, name_len + value_len, at) {
            out.spans.push(FieldSpan {
                start,
                name_len,
                value_len,
                never_indexed,
                value_checked,
            });
        } else {
            out.bytes.truncate(start);
        }
        Ok((rest, ()))
    }

    /// ```text
    /// indexed-field = %b1 index:7-bit-prefix
    /// ```
    /// RFC 7541 §6.1. The field is measured against the bounds before it is copied.
    fn indexed<'b>(
        &mut self,
        input: &'b [u8],
        out: &mut DecodedFields,
        state: &mut Block<'_>,
        at: usize,
    ) -> HResult<'b, ()> {
        state.field_seen = true;
        let (rest, index) = integer(input, 7)?;
        // An entry's name and value lie side by side, static or dynamic: one copy, as the
        // span wants. Every static entry's value is valid (tested); a dynamic one's was
        // checked when it was inserted.
        let index = index as usize;
        let entry = match index.checked_sub(1) {
            Some(i) if i < STATIC.len() => {
                static_joined(i).map(|(bytes, name_len)| (bytes, name_len, true))
            }
            _ => index
                .checked_sub(STATIC.len())
                .and_then(|i| self.table.get_joined(i)),
        };
        let Some((bytes, name_len, value_checked)) = entry else {
            return fail(HpackErrorKind::InvalidIndex, input);
        };
        if admit(out, state, bytes.len(), at) {
            let start = out.bytes.len();
            out.bytes.extend_from_slice(bytes);
            out.spans.push(FieldSpan {
                start,
                name_len,
                value_len: bytes.len() - name_len,
                never_indexed: false,
                value_checked,
            });
        }
        Ok((rest, ()))
    }

    /// ```text
    /// size-update = %b001 max-size:5-bit-prefix
    /// ```
    /// RFC 7541 §6.3: only before the block's first field (§4.2), and not above the size we
    /// advertised.
    fn size_update<'b>(&mut self, input: &'b [u8], state: &Block<'_>) -> HResult<'b, ()> {
        if state.field_seen {
            return fail(HpackErrorKind::LateTableSizeUpdate, input);
        }
        let (rest, size) = integer(input, 5)?;
        let size = size as usize;
        if size > self.advertised {
            return fail(HpackErrorKind::TableSizeTooLarge, input);
        }
        self.table.set_max_size(size);
        Ok((rest, ()))
    }

    /// The entry at `index` of the static table then the dynamic one (§2.3.3); an index of 0
    /// or past their end fails with `InvalidIndex` at `input`, the representation.
    fn lookup<'b>(
        &self,
        index: u32,
        input: &'b [u8],
    ) -> Result<(&[u8], &[u8]), nom::Err<Fail<'b>>> {
        let index = index as usize;
        let entry = match index.checked_sub(1) {
            Some(i) if i < STATIC.len() => STATIC.get(i).copied(),
            Some(_) => self.table.get(index - STATIC.len()),
            None => None,
        };
        entry.ok_or(nom::Err::Error(Fail {
            kind: HpackErrorKind::InvalidIndex,
            at: input,
        }))
    }
}

/// Whether a field of `octets` name and value octets fits the bounds after the fields already
/// in `out`; counts it if so, else records the bound it passes (the first one passed stays).
fn admit(out: &mut DecodedFields, state: &mut Block<'_>, octets: usize, at: usize) -> bool {
    if state.refused.is_some() {
        return false;
    }
    let size = octets + ENTRY_OVERHEAD;
    let kind = if out.spans.len() >= state.limits.max_fields {
        HpackErrorKind::TooManyFields
    } else if out.list_size + size > state.limits.max_list_size {
        HpackErrorKind::HeaderListTooLarge
    } else {
        out.list_size += size;
        return true;
    };
    state.refused = Some(HpackError::new(kind, at));
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_static_value_is_a_valid_field_value() {
        for (name, value) in STATIC {
            assert!(is_trimmed_field_value(value), "{name:?}: {value:?}");
        }
    }

    #[test]
    fn every_static_entry_is_joined_in_order() {
        for (i, (name, value)) in STATIC.iter().enumerate() {
            let (joined, name_len) = static_joined(i).unwrap();
            assert_eq!(joined.split_at(name_len), (*name, *value), "{i}");
        }
        assert_eq!(static_joined(STATIC.len()), None);
    }

    #[test]
    fn a_table_entry_carries_its_value_check_to_every_request() {
        use crate::{ErrorKind, FieldPosition, Header, Limits, parse_h2_request};
        let mut decoder = HpackDecoder::new(4096);
        let mut out = DecodedFields::new();
        let limits = DecodeLimits::default();
        // :method GET, :scheme http, :path /, then two literals with incremental indexing:
        // :authority a (valid) and x-v "b\x01" (a control byte).
        let mut block = vec![0x82, 0x86, 0x84, 0x41, 0x01, b'a'];
        block.extend_from_slice(&[0x40, 0x03, b'x', b'-', b'v', 0x02, b'b', 0x01]);
        decoder.decode(&block, &mut out, &limits).unwrap();
        let checked: Vec<_> = out.iter().map(|f| f.value_checked).collect();
        assert_eq!(checked, [true, true, true, true, false]);
        let mut headers = [Header::EMPTY; 8];
        let first = parse_h2_request(out.iter(), &mut headers, &Limits::default()).unwrap_err();
        // The same list again, from the table: 63 is :authority, 62 (the newest) x-v.
        let mut again = DecodedFields::new();
        let block = [0x82, 0x86, 0x84, 0xbf, 0xbe];
        decoder.decode(&block, &mut again, &limits).unwrap();
        let checked: Vec<_> = again.iter().map(|f| f.value_checked).collect();
        assert_eq!(checked, [true, true, true, true, false]);
        let mut headers = [Header::EMPTY; 8];
        let again = parse_h2_request(again.iter(), &mut headers, &Limits::default()).unwrap_err();
        assert_eq!(again, first);
        assert_eq!(again.kind(), ErrorKind::InvalidFieldValue);
        assert_eq!(again.position(), FieldPosition::Value(4));
        assert_eq!(again.error().offset(), 1);
    }

    #[test]
    fn hpack_bomb_hits_the_list_bound_without_copying() {
        let mut decoder = HpackDecoder::new(4096);
        // One entry of 3999 octets (name "x", a value of 3966), then referenced 10,000 times.
        let mut block = vec![0x40, 0x01, b'x', 0x7f, 0xff, 29];
        block.extend(std::iter::repeat_n(b'v', 3966));
        block.extend(std::iter::repeat_n(0xbe, 10_000));
        let limits = DecodeLimits {
            max_list_size: 16 * 1024,
            max_fields: 100_000,
        };
        let mut out = DecodedFields::new();
        let err = decoder.decode(&block, &mut out, &limits).unwrap_err();
        assert_eq!(err.kind(), HpackErrorKind::HeaderListTooLarge);
        assert!(!err.is_compression_error());
        assert_eq!(err.kind().status(), Some(431));
        // Four copies fit in 16 KiB (3999 octets each); the fifth is refused, at its octet,
        // and nothing after it is copied.
        assert_eq!(out.len(), 4);
        assert_eq!(err.offset(), block.len() - 10_000 + 3);
        assert_eq!(out.list_size(), 4 * 3999);
        assert!(out.bytes.capacity() <= 2 * limits.max_list_size);
        assert_eq!(decoder.table_size(), 3999);
    }
}
