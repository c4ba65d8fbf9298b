//! The instructions of QPACK's two unidirectional streams: what an encoder sends to change
//! the decoder's dynamic table (RFC 9204 §4.3), and what a decoder sends back (§4.4). One
//! rule per instruction, and the serialisers of the decoder's.

#![forbid(unsafe_code)]

use super::error::QpackErrorKind;
use super::field_line::Reference;
use super::rules::{QResult, fail, integer, min_decoded_len, string};
use super::static_table::STATIC;
use crate::hpack::dynamic::ENTRY_OVERHEAD;
use crate::hpack::integer::encode_integer;
use crate::hpack::string::StringLiteral;

/// An encoder-stream instruction (RFC 9204 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EncoderInstruction<'b> {
    /// Set Dynamic Table Capacity (§4.3.1).
    SetCapacity(u64),
    /// Insert with Name Reference (§4.3.2): a static entry's, or a dynamic one's by relative
    /// index (from the last insert, §3.2.4).
    InsertWithNameReference {
        /// The entry whose name is used.
        name: Reference,
        /// The value.
        value: StringLiteral<'b>,
    },
    /// Insert with Literal Name (§4.3.3).
    InsertWithLiteralName {
        /// The name.
        name: StringLiteral<'b>,
        /// The value.
        value: StringLiteral<'b>,
    },
    /// Duplicate (§4.3.4): a dynamic entry by relative index, inserted again.
    Duplicate(u64),
}

/// ```text
/// Set Dynamic Table Capacity  = 001 Capacity(5+)
/// Insert with Name Reference  = 1 T Name Index(6+) H Value Length(7+) Value
/// Insert with Literal Name    = 01 H Name Length(5+) Name H Value Length(7+) Value
/// Duplicate                   = 000 Index(5+)
/// ```
/// RFC 9204 §4.3, told apart by their leading bits. Partial input is `Incomplete`; an
/// insert whose strings cannot fit a table of `capacity` octets fails with `EntryTooLarge`
/// as soon as their lengths are read, at the instruction (§3.2.2), so that its octets are
/// never waited for; a static index of 99 or more fails with `InvalidStaticIndex` (§3.1).
pub(crate) fn encoder_instruction(
    input: &[u8],
    capacity: u64,
) -> QResult<'_, EncoderInstruction<'_>> {
    let first = input.first().copied().unwrap_or_default();
    let too_large = |octets: u64| octets.saturating_add(ENTRY_OVERHEAD as u64) > capacity;
    match first {
        0x80..=0xff => {
            let (rest, index) = integer(input, 6)?;
            let name = if first & 0x40 != 0 {
                match usize::try_from(index).ok().and_then(|i| STATIC.get(i)) {
                    Some(&(name, value)) => Reference::Static(name, value),
                    None => return fail(QpackErrorKind::InvalidStaticIndex, input),
                }
            } else {
                Reference::Relative(index)
            };
            let (_, value_min) = min_decoded_len(rest, 7)?;
            if too_large(value_min) {
                return fail(QpackErrorKind::EntryTooLarge, input);
            }
            let (rest, value) = string(rest, 7)?;
            Ok((
                rest,
                EncoderInstruction::InsertWithNameReference { name, value },
            ))
        }
        0x40..=0x7f => {
            let (_, name_min) = min_decoded_len(input, 5)?;
            if too_large(name_min) {
                return fail(QpackErrorKind::EntryTooLarge, input);
            }
            let (rest, name) = string(input, 5)?;
            let (_, value_min) = min_decoded_len(rest, 7)?;
            if too_large(name_min.saturating_add(value_min)) {
                return fail(QpackErrorKind::EntryTooLarge, input);
            }
            let (rest, value) = string(rest, 7)?;
            Ok((
                rest,
                EncoderInstruction::InsertWithLiteralName { name, value },
            ))
        }
        0x20..=0x3f => {
            let (rest, capacity) = integer(input, 5)?;
            Ok((rest, EncoderInstruction::SetCapacity(capacity)))
        }
        _ => {
            let (rest, index) = integer(input, 5)?;
            Ok((rest, EncoderInstruction::Duplicate(index)))
        }
    }
}

/// A decoder-stream instruction (RFC 9204 §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecoderInstruction {
    /// Section Acknowledgment (§4.4.1): the field section on the stream was decoded.
    SectionAcknowledgment(u64),
    /// Stream Cancellation (§4.4.2): the stream was reset or abandoned.
    StreamCancellation(u64),
    /// Insert Count Increment (§4.4.3): the decoder received this many more inserts.
    InsertCountIncrement(u64),
}

/// ```text
/// Section Acknowledgment = 1 Stream ID(7+)
/// Stream Cancellation    = 01 Stream ID(6+)
/// Insert Count Increment = 00 Increment(6+)
/// ```
/// RFC 9204 §4.4. Partial input is `Incomplete`; an increment of 0 fails with
/// `ZeroInsertCountIncrement` at the instruction (§4.4.3).
pub(crate) fn decoder_instruction(input: &[u8]) -> QResult<'_, DecoderInstruction> {
    let first = input.first().copied().unwrap_or_default();
    match first {
        0x80..=0xff => {
            let (rest, stream_id) = integer(input, 7)?;
            Ok((rest, DecoderInstruction::SectionAcknowledgment(stream_id)))
        }
        0x40..=0x7f => {
            let (rest, stream_id) = integer(input, 6)?;
            Ok((rest, DecoderInstruction::StreamCancellation(stream_id)))
        }
        _ => match integer(input, 6)? {
            (_, 0) => fail(QpackErrorKind::ZeroInsertCountIncrement, input),
            (rest, increment) => Ok((rest, DecoderInstruction::InsertCountIncrement(increment))),
        },
    }
}

impl DecoderInstruction {
    /// Appends the instruction (RFC 9204 §4.4).
    pub(crate) fn write(self, out: &mut Vec<u8>) {
        match self {
            DecoderInstruction::SectionAcknowledgment(id) => encode_integer(id, 7, 0x80, out),
            DecoderInstruction::StreamCancellation(id) => encode_integer(id, 6, 0x40, out),
            DecoderInstruction::InsertCountIncrement(n) => encode_integer(n, 6, 0x00, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fail::offset_in;

    type Outcome<T> = Result<(usize, T), Option<(QpackErrorKind, usize)>>;

    fn encoder(input: &[u8], capacity: u64) -> Outcome<EncoderInstruction<'_>> {
        match encoder_instruction(input, capacity) {
            Ok((rest, i)) => Ok((input.len() - rest.len(), i)),
            Err(nom::Err::Incomplete(_)) => Err(None),
            Err(nom::Err::Error(f) | nom::Err::Failure(f)) => {
                Err(Some((f.kind, offset_in(input, f.at))))
            }
        }
    }

    fn decoder(input: &[u8]) -> Outcome<DecoderInstruction> {
        match decoder_instruction(input) {
            Ok((rest, i)) => Ok((input.len() - rest.len(), i)),
            Err(nom::Err::Incomplete(_)) => Err(None),
            Err(nom::Err::Error(f) | nom::Err::Failure(f)) => {
                Err(Some((f.kind, offset_in(input, f.at))))
            }
        }
    }

    /// `input` parses whole, and every strict prefix is partial.
    fn whole<'a, T: std::fmt::Debug + PartialEq>(
        input: &'a [u8],
        parse: impl Fn(&'a [u8]) -> Outcome<T>,
        expected: T,
    ) {
        assert_eq!(parse(input), Ok((input.len(), expected)), "{input:?}");
        for cut in 0..input.len() {
            assert_eq!(parse(&input[..cut]), Err(None), "{input:?} cut at {cut}");
        }
    }

    fn raw(octets: &[u8]) -> StringLiteral<'_> {
        StringLiteral {
            huffman: false,
            octets,
        }
    }

    #[test]
    fn encoder_instructions_rfc_9204_appendix_b() {
        // B.2: Set Dynamic Table Capacity 220, then Insert With Name Reference of static
        // :authority (0) and of static :path (1).
        whole(
            b"\x3f\xbd\x01",
            |i| encoder(i, 4096),
            EncoderInstruction::SetCapacity(220),
        );
        let huffman_authority = b"\xc0\x8c\xf1\xe3\xc2\xe5\xf2\x3a\x6b\xa0\xab\x90\xf4\xff";
        let (used, instruction) = encoder(huffman_authority, 220).unwrap();
        assert_eq!(used, huffman_authority.len());
        let EncoderInstruction::InsertWithNameReference { name, value } = instruction else {
            panic!("{instruction:?}");
        };
        assert_eq!(name, Reference::Static(b":authority", b""));
        assert!(value.huffman);
        // B.3: Insert With Literal Name custom-key: custom-value; Duplicate of relative 2.
        let literal = b"\x4a\x63\x75\x73\x74\x6f\x6d\x2d\x6b\x65\x79\x0c\x63\x75\x73\x74\x6f\x6d\x2d\x76\x61\x6c\x75\x65";
        whole(
            literal,
            |i| encoder(i, 220),
            EncoderInstruction::InsertWithLiteralName {
                name: raw(b"custom-key"),
                value: raw(b"custom-value"),
            },
        );
        whole(
            b"\x02",
            |i| encoder(i, 220),
            EncoderInstruction::Duplicate(2),
        );
        whole(
            b"\x81\x03abc",
            |i| encoder(i, 220),
            EncoderInstruction::InsertWithNameReference {
                name: Reference::Relative(1),
                value: raw(b"abc"),
            },
        );
    }

    #[test]
    fn encoder_instruction_rejections() {
        // A static index past 98.
        assert_eq!(
            encoder(b"\xff\x24\x00", 4096),
            Err(Some((QpackErrorKind::InvalidStaticIndex, 0)))
        );
        // A value too long for the table, refused before its octets are in.
        assert_eq!(
            encoder(b"\xc0\x7f\x80\x01", 200),
            Err(Some((QpackErrorKind::EntryTooLarge, 0)))
        );
        assert_eq!(
            encoder(b"\x5f\x80\x01", 100),
            Err(Some((QpackErrorKind::EntryTooLarge, 0)))
        );
        assert_eq!(
            encoder(b"\x41a\x44", 34),
            Err(Some((QpackErrorKind::EntryTooLarge, 0)))
        );
        // Not too large while its parts fit: partial.
        assert_eq!(encoder(b"\x41a\x01", 34), Err(None));
        // With no table at all, any insert is too large.
        assert_eq!(
            encoder(b"\xc0\x00", 0),
            Err(Some((QpackErrorKind::EntryTooLarge, 0)))
        );
        // An integer past 62 bits.
        let long = b"\x3f\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
        assert_eq!(
            encoder(long, 4096),
            Err(Some((QpackErrorKind::IntegerOverflow, 0)))
        );
    }

    #[test]
    fn decoder_instructions() {
        for instruction in [
            DecoderInstruction::SectionAcknowledgment(4),
            DecoderInstruction::SectionAcknowledgment(1 << 40),
            DecoderInstruction::StreamCancellation(8),
            DecoderInstruction::StreamCancellation(200),
            DecoderInstruction::InsertCountIncrement(1),
            DecoderInstruction::InsertCountIncrement(1000),
        ] {
            let mut out = Vec::new();
            instruction.write(&mut out);
            whole(&out, decoder, instruction);
        }
        // B.2's Section Acknowledgment of stream 4, B.5's Stream Cancellation of 8.
        assert_eq!(
            decoder(b"\x84"),
            Ok((1, DecoderInstruction::SectionAcknowledgment(4)))
        );
        assert_eq!(
            decoder(b"\x48"),
            Ok((1, DecoderInstruction::StreamCancellation(8)))
        );
        assert_eq!(
            decoder(b"\x00"),
            Err(Some((QpackErrorKind::ZeroInsertCountIncrement, 0)))
        );
        assert_eq!(
            decoder(b"\x3f\x00"),
            Ok((2, DecoderInstruction::InsertCountIncrement(63)))
        );
    }
}
