//! The QPACK decoder (RFC 9204 §2.2, §4.3, §4.4, §4.5): the encoder stream's instructions
//! build its dynamic table; encoded field sections are decoded against it into
//! [`DecodedFields`]; what it owes the peer's encoder (acknowledgments, cancellations, insert
//! counts) is written to the decoder stream.
//!
//! **Bounds.** The dynamic table holds at most the SETTINGS_QPACK_MAX_TABLE_CAPACITY we
//! advertise (a Set Dynamic Table Capacity above it is an encoder-stream error, §4.3.1), and
//! an insert that cannot fit is refused before its octets are awaited, so an encoder stream
//! never makes us buffer more than about four times the capacity. A field section whose
//! Required Insert Count is ahead of the inserts received is *blocked* (§2.1.2): the decoder
//! says so instead of failing, and counts the streams blocked against the
//! SETTINGS_QPACK_BLOCKED_STREAMS we advertise. Decoded sections are bounded by
//! [`DecodeLimits`] as HTTP/2's are, each field counted as name + value + 32 (RFC 9114
//! §4.2.2), and a table entry is measured before it is copied, so an entry referenced a
//! thousand times costs no more than the bound.
//!
//! **A refused section is still decoded to its end**, as HPACK's decoder does: the fields
//! past a bound are not kept, but every reference is checked, the section is acknowledged,
//! and only then is `HeaderListTooLarge` or `TooManyFields` returned, so that the server
//! answers 431 and the connection goes on.

#![forbid(unsafe_code)]

use super::error::{QpackError, QpackErrorKind, QpackInput};
use super::field_line::{FieldLine, Reference, required_insert_count, section_prefix};
use super::instructions::{DecoderInstruction, EncoderInstruction, encoder_instruction};
use super::rules::{Fail, decode_string};
use crate::fail::offset_in;
use crate::hpack::dynamic::{DynamicTable, ENTRY_OVERHEAD};
use crate::hpack::string::StringLiteral;
use crate::{DecodeLimits, DecodedFields};

/// What [`QpackDecoder::decode_section`] did with a field section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QpackSection {
    /// Decoded into the caller's [`DecodedFields`].
    Decoded,
    /// Blocked (RFC 9204 §2.1.2): it needs inserts not received yet. Keep the section and
    /// decode it again once [`QpackDecoder::insert_count`] reaches `required_insert_count`.
    Blocked {
        /// The inserts it needs.
        required_insert_count: u64,
    },
}

/// A QPACK decoder: the dynamic table of one connection's request fields.
#[derive(Debug, Clone)]
pub struct QpackDecoder {
    table: DynamicTable,
    /// Inserts received so far: the Insert Count (§2.1.4), the next entry's absolute index.
    inserts: u64,
    /// The SETTINGS_QPACK_MAX_TABLE_CAPACITY we advertised.
    max_capacity: u64,
    /// The SETTINGS_QPACK_BLOCKED_STREAMS we advertised.
    max_blocked: usize,
    /// The streams whose field section is blocked now.
    blocked: Vec<u64>,
    /// The Known Received Count (§2.1.4): the inserts the encoder knows we received.
    known_received: u64,
    /// Decoder-stream instructions not written yet.
    pending: Vec<u8>,
    /// A name being decoded, reused.
    name: Vec<u8>,
    /// A value being decoded, reused.
    value: Vec<u8>,
}

impl QpackDecoder {
    /// A decoder for a connection on which we advertised SETTINGS_QPACK_MAX_TABLE_CAPACITY
    /// `max_table_capacity` and SETTINGS_QPACK_BLOCKED_STREAMS `max_blocked_streams`. The
    /// table starts with a capacity of 0 until the encoder sets one (§3.2.3).
    pub fn new(max_table_capacity: u64, max_blocked_streams: usize) -> Self {
        QpackDecoder {
            table: DynamicTable::new(0),
            inserts: 0,
            max_capacity: max_table_capacity,
            max_blocked: max_blocked_streams,
            blocked: Vec::new(),
            known_received: 0,
            pending: Vec::new(),
            name: Vec::new(),
            value: Vec::new(),
        }
    }

    /// The inserts received so far (the Insert Count, §2.1.4).
    pub fn insert_count(&self) -> u64 {
        self.inserts
    }

    /// The dynamic table's size in octets (§3.2.1).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's capacity, as the encoder last set it (§3.2.3).
    pub fn capacity(&self) -> usize {
        self.table.max_size()
    }

    /// How many streams are blocked now.
    pub fn blocked_streams(&self) -> usize {
        self.blocked.len()
    }

    /// Applies the whole instructions at the start of `bytes`, read from the peer's encoder
    /// stream (RFC 9204 §4.3), and returns how many bytes they took: the rest is the start of
    /// an instruction, to be passed again with the bytes that follow it.
    ///
    /// Errors are QPACK_ENCODER_STREAM_ERROR, offsets counted from the start of `bytes`: a
    /// capacity above the advertised maximum (`CapacityTooLarge`), an entry larger than the
    /// capacity (`EntryTooLarge`), a reference to an entry that does not exist
    /// (`InvalidStaticIndex`, `InvalidDynamicReference`), an integer past 62 bits, a bad
    /// Huffman string.
    pub fn feed_encoder_stream(&mut self, bytes: &[u8]) -> Result<usize, QpackError> {
        let error = |kind, at: &[u8]| {
            QpackError::new(kind, QpackInput::EncoderStream, offset_in(bytes, at))
        };
        let mut rest = bytes;
        while !rest.is_empty() {
            let capacity = self.table.max_size() as u64;
            let (after, instruction) = match encoder_instruction(rest, capacity) {
                Ok(parsed) => parsed,
                Err(nom::Err::Incomplete(_)) => break,
                Err(nom::Err::Error(f) | nom::Err::Failure(f)) => return Err(error(f.kind, f.at)),
            };
            self.apply(instruction, rest)
                .map_err(|f| error(f.kind, f.at))?;
            rest = after;
        }
        Ok(bytes.len() - rest.len())
    }

    /// Applies one encoder instruction found at `at`.
    fn apply<'b>(
        &mut self,
        instruction: EncoderInstruction<'b>,
        at: &'b [u8],
    ) -> Result<(), Fail<'b>> {
        let fail = |kind| Fail { kind, at };
        match instruction {
            EncoderInstruction::SetCapacity(capacity) => {
                if capacity > self.max_capacity {
                    return Err(fail(QpackErrorKind::CapacityTooLarge));
                }
                // The capacity is at most what we advertised, which fits memory.
                self.table
                    .set_max_size(usize::try_from(capacity).unwrap_or(usize::MAX));
                return Ok(());
            }
            EncoderInstruction::InsertWithNameReference { name, value } => {
                match name {
                    Reference::Static(name, _) => {
                        self.name.clear();
                        self.name.extend_from_slice(name);
                    }
                    _ => self.copy_relative(name, at)?,
                }
                self.decode_value(&value)?;
            }
            EncoderInstruction::InsertWithLiteralName { name, value } => {
                decode_string(&name, &mut self.name)?;
                self.decode_value(&value)?;
            }
            EncoderInstruction::Duplicate(index) => {
                self.copy_relative(Reference::Relative(index), at)?
            }
        }
        if self.name.len() + self.value.len() + ENTRY_OVERHEAD > self.table.max_size() {
            return Err(fail(QpackErrorKind::EntryTooLarge));
        }
        self.table.insert(&self.name, &self.value);
        self.inserts += 1;
        Ok(())
    }

    /// Decodes a value into `self.value`.
    fn decode_value<'b>(&mut self, value: &StringLiteral<'b>) -> Result<(), Fail<'b>> {
        decode_string(value, &mut self.value)
    }

    /// Copies the dynamic entry an encoder instruction names by relative index (from the
    /// last insert, §3.2.4) into `self.name` and `self.value`: its name for an Insert with
    /// Name Reference, which then decodes its own value over `self.value`.
    fn copy_relative<'b>(&mut self, reference: Reference, at: &'b [u8]) -> Result<(), Fail<'b>> {
        let Reference::Relative(index) = reference else {
            return Ok(());
        };
        let QpackDecoder {
            table,
            inserts,
            name: name_buf,
            value: value_buf,
            ..
        } = self;
        let (name, value) = entry(
            table,
            *inserts,
            inserts.checked_sub(index.saturating_add(1)),
        )
        .ok_or(Fail {
            kind: QpackErrorKind::InvalidDynamicReference,
            at,
        })?;
        name_buf.clear();
        name_buf.extend_from_slice(name);
        value_buf.clear();
        value_buf.extend_from_slice(value);
        Ok(())
    }

    /// Decodes the encoded field section `section`, a HEADERS frame's payload on request
    /// stream `stream_id`, into `out` (cleared first).
    ///
    /// Contract: on `Ok(Decoded)`, `out` holds the fields in order. On `Ok(Blocked)`, `out`
    /// is empty: call again with the same section once enough inserts came in (after
    /// [`QpackDecoder::feed_encoder_stream`]), or [`QpackDecoder::cancel_stream`] if the
    /// stream goes away. On `HeaderListTooLarge` or `TooManyFields`, the section was
    /// processed whole: refuse the request (431) and keep the connection; `out` holds the
    /// fields before the bound. Any other error is QPACK_DECOMPRESSION_FAILED: close the
    /// connection.
    ///
    /// ```
    /// use nomserve_grammar::{DecodeLimits, DecodedFields, QpackDecoder, QpackSection};
    ///
    /// let mut decoder = QpackDecoder::new(220, 1);
    /// let mut fields = DecodedFields::new();
    /// let limits = DecodeLimits::default();
    /// // RFC 9204 B.2: a section that needs two inserts, then the encoder stream with them.
    /// let section = b"\x03\x81\x10\x11";
    /// assert_eq!(
    ///     decoder.decode_section(4, section, &mut fields, &limits),
    ///     Ok(QpackSection::Blocked { required_insert_count: 2 })
    /// );
    /// let encoder_stream = b"\x3f\xbd\x01\xc0\x0fwww.example.com\xc1\x0c/sample/path";
    /// assert_eq!(decoder.feed_encoder_stream(encoder_stream), Ok(encoder_stream.len()));
    /// assert_eq!(decoder.decode_section(4, section, &mut fields, &limits), Ok(QpackSection::Decoded));
    /// let list: Vec<_> = fields.iter().map(|f| (f.name, f.value)).collect();
    /// assert_eq!(list, [(&b":authority"[..], &b"www.example.com"[..]), (b":path", b"/sample/path")]);
    /// let mut decoder_stream = Vec::new();
    /// decoder.write_decoder_stream(&mut decoder_stream);
    /// assert_eq!(decoder_stream, b"\x84"); // Section Acknowledgment of stream 4
    /// ```
    pub fn decode_section(
        &mut self,
        stream_id: u64,
        section: &[u8],
        out: &mut DecodedFields,
        limits: &DecodeLimits,
    ) -> Result<QpackSection, QpackError> {
        out.clear();
        let error = |kind, at: &[u8]| {
            QpackError::new(kind, QpackInput::FieldSection, offset_in(section, at))
        };
        let truncated_or = |e: nom::Err<Fail<'_>>, at: &[u8]| match e {
            nom::Err::Incomplete(_) => error(QpackErrorKind::Truncated, at),
            nom::Err::Error(f) | nom::Err::Failure(f) => error(f.kind, f.at),
        };
        let (mut rest, prefix) = section_prefix(section).map_err(|e| truncated_or(e, section))?;
        let max_entries = self.max_capacity / ENTRY_OVERHEAD as u64;
        let required =
            required_insert_count(prefix.encoded_insert_count, max_entries, self.inserts)
                .ok_or_else(|| error(QpackErrorKind::InvalidRequiredInsertCount, section))?;
        if required > self.inserts {
            if !self.blocked.contains(&stream_id) {
                if self.blocked.len() >= self.max_blocked {
                    return Err(error(QpackErrorKind::TooManyBlockedStreams, section));
                }
                self.blocked.push(stream_id);
            }
            return Ok(QpackSection::Blocked {
                required_insert_count: required,
            });
        }
        let base = if prefix.negative {
            required.checked_sub(prefix.delta_base + 1)
        } else {
            required.checked_add(prefix.delta_base)
        };
        let base = base.ok_or_else(|| {
            error(
                QpackErrorKind::NegativeBase,
                section.get(1..).unwrap_or_default(),
            )
        })?;
        let mut state = Section {
            limits,
            required,
            base,
            largest: 0,
            refused: None,
        };
        while !rest.is_empty() {
            let at = rest;
            let (after, line) =
                super::field_line::field_line(rest).map_err(|e| truncated_or(e, at))?;
            self.field(line, out, &mut state, at)
                .map_err(|f| error(f.kind, f.at))?;
            rest = after;
        }
        if state.largest != required {
            return Err(error(QpackErrorKind::UnneededRequiredInsertCount, section));
        }
        self.blocked.retain(|&id| id != stream_id);
        if required > 0 {
            DecoderInstruction::SectionAcknowledgment(stream_id).write(&mut self.pending);
            self.known_received = self.known_received.max(required);
        }
        match state.refused {
            Some(kind) => Err(QpackError::new(
                kind.0,
                QpackInput::FieldSection,
                offset_in(section, kind.1),
            )),
            None => Ok(QpackSection::Decoded),
        }
    }

    /// Decodes one field line found at `at` into `out`, within the bounds.
    fn field<'b>(
        &mut self,
        line: FieldLine<'b>,
        out: &mut DecodedFields,
        state: &mut Section<'_, 'b>,
        at: &'b [u8],
    ) -> Result<(), Fail<'b>> {
        let QpackDecoder {
            table,
            inserts,
            name: name_buf,
            value: value_buf,
            ..
        } = self;
        match line {
            FieldLine::Indexed(reference) => {
                let (name, value) = resolve(table, *inserts, reference, state, at)?;
                if state.admit(out, name.len() + value.len(), at) {
                    out.push(name, value, false);
                }
            }
            FieldLine::NameReference {
                never_indexed,
                name,
                value,
            } => {
                let (name, _) = resolve(table, *inserts, name, state, at)?;
                decode_string(&value, value_buf)?;
                if state.admit(out, name.len() + value_buf.len(), at) {
                    out.push(name, value_buf, never_indexed);
                }
            }
            FieldLine::Literal {
                never_indexed,
                name,
                value,
            } => {
                decode_string(&name, name_buf)?;
                decode_string(&value, value_buf)?;
                if state.admit(out, name_buf.len() + value_buf.len(), at) {
                    out.push(name_buf, value_buf, never_indexed);
                }
            }
        }
        Ok(())
    }

    /// Records that the request on `stream_id` is gone (reset, or its reading abandoned)
    /// before its field section was decoded: it no longer counts as blocked, and a Stream
    /// Cancellation goes to the encoder (RFC 9204 §4.4.2), unless our table capacity is 0
    /// (§2.2.2.2: a decoder with no dynamic table may omit them).
    pub fn cancel_stream(&mut self, stream_id: u64) {
        self.blocked.retain(|&id| id != stream_id);
        if self.max_capacity > 0 {
            DecoderInstruction::StreamCancellation(stream_id).write(&mut self.pending);
        }
    }

    /// Appends the decoder-stream instructions owed to the peer's encoder (RFC 9204 §4.4):
    /// the Section Acknowledgments and Stream Cancellations since the last call, then an
    /// Insert Count Increment for the inserts it does not know we received (§2.2.2.3). Call
    /// it after a batch of input, not per byte: one increment covers many inserts.
    pub fn write_decoder_stream(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.pending);
        if self.inserts > self.known_received {
            DecoderInstruction::InsertCountIncrement(self.inserts - self.known_received).write(out);
            self.known_received = self.inserts;
        }
    }
}

/// The dynamic entry of absolute index `absolute` in `table`, after `inserts` inserts, if it
/// was inserted and not evicted.
fn entry(table: &DynamicTable, inserts: u64, absolute: Option<u64>) -> Option<(&[u8], &[u8])> {
    let relative = inserts.checked_sub(absolute?)?;
    table.get(usize::try_from(relative).ok()?)
}

/// The entry a field line references: static, or dynamic by relative or post-base index
/// (RFC 9204 §3.2.5, §3.2.6), which must be below the Required Insert Count and not evicted
/// (§2.2.3). Records the largest absolute index referenced.
fn resolve<'s, 'b>(
    table: &'s DynamicTable,
    inserts: u64,
    reference: Reference,
    state: &mut Section<'_, 'b>,
    at: &'b [u8],
) -> Result<(&'s [u8], &'s [u8]), Fail<'b>> {
    let absolute = match reference {
        Reference::Static(name, value) => return Ok((name, value)),
        Reference::Relative(index) => state.base.checked_sub(index.saturating_add(1)),
        Reference::PostBase(index) => state.base.checked_add(index),
    };
    let invalid = Fail {
        kind: QpackErrorKind::InvalidDynamicReference,
        at,
    };
    let absolute = absolute.filter(|&a| a < state.required).ok_or(invalid)?;
    state.largest = state.largest.max(absolute + 1);
    entry(table, inserts, Some(absolute)).ok_or(invalid)
}

/// Where the section being decoded stands.
struct Section<'l, 'b> {
    limits: &'l DecodeLimits,
    required: u64,
    base: u64,
    /// The largest absolute index referenced, plus one; 0 for none.
    largest: u64,
    /// The bound passed, and the line that passed it.
    refused: Option<(QpackErrorKind, &'b [u8])>,
}

impl<'b> Section<'_, 'b> {
    /// Whether a field of `octets` name and value octets fits the bounds after the fields in
    /// `out`; if not, records the bound it passes (the first one passed stays).
    fn admit(&mut self, out: &DecodedFields, octets: usize, at: &'b [u8]) -> bool {
        if self.refused.is_some() {
            return false;
        }
        let kind = if out.len() >= self.limits.max_fields {
            QpackErrorKind::TooManyFields
        } else if out.list_size() + octets + ENTRY_OVERHEAD > self.limits.max_list_size {
            QpackErrorKind::HeaderListTooLarge
        } else {
            return true;
        };
        self.refused = Some((kind, at));
        false
    }
}
