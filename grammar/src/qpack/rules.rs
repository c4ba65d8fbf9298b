//! The failure type of QPACK's rules, and the glue to the HPACK primitives they share:
//! prefixed integers (RFC 7541 §5.1, up to 62 bits here, RFC 9204 §4.1.1) and string
//! literals with their Huffman code (RFC 7541 §5.2, RFC 9204 §4.1.2).

#![forbid(unsafe_code)]

use super::error::QpackErrorKind;
use crate::hpack::error::HResult;
use crate::hpack::integer::integer62;
use crate::hpack::string::{StringLiteral, prefixed_string_literal, string_length};
use nom::IResult;

/// A rule's failure: which rule, and the input from the offending byte on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail<'b> {
    /// The rule that failed.
    pub(crate) kind: QpackErrorKind,
    /// The input from the offending byte on; a sub-slice of the input being parsed.
    pub(crate) at: &'b [u8],
}

/// What every QPACK rule returns; `Incomplete` on partial input.
pub(crate) type QResult<'b, O> = IResult<&'b [u8], O, Fail<'b>>;

/// Fails with `kind` at the start of `at`.
pub(crate) fn fail<'b, O>(kind: QpackErrorKind, at: &'b [u8]) -> QResult<'b, O> {
    Err(nom::Err::Error(Fail { kind, at }))
}

/// An HPACK primitive's result, its failure named in QPACK's terms.
pub(crate) fn shared<'b, O>(result: HResult<'b, O>) -> QResult<'b, O> {
    result.map_err(|e| {
        e.map(|f| Fail {
            kind: QpackErrorKind::from_hpack(f.kind),
            at: f.at,
        })
    })
}

/// A prefixed integer of `prefix_bits` bits, up to 2^62 − 1 (RFC 9204 §4.1.1).
pub(crate) fn integer(input: &[u8], prefix_bits: u8) -> QResult<'_, u64> {
    shared(integer62(input, prefix_bits))
}

/// A string literal whose length has a `prefix_bits`-bit prefix (RFC 9204 §4.1.2).
pub(crate) fn string(input: &[u8], prefix_bits: u8) -> QResult<'_, StringLiteral<'_>> {
    shared(prefixed_string_literal(input, prefix_bits))
}

/// The fewest octets a string of `wire_len` octets on the wire decodes to: itself, or, when
/// Huffman-encoded, one octet per 30 bits (the longest code, RFC 7541 Appendix B) after at
/// most 7 bits of padding.
pub(crate) fn min_decoded_len(input: &[u8], prefix_bits: u8) -> QResult<'_, u64> {
    let (rest, (huffman, len)) = shared(string_length(input, prefix_bits))?;
    let min = if huffman {
        len.saturating_mul(8).saturating_sub(7) / 30
    } else {
        len
    };
    Ok((rest, min))
}

/// Decodes `literal` into `out` (cleared first), Huffman-decoding it when it was encoded;
/// fails with the Huffman rule broken, at the offending octet.
pub(crate) fn decode_string<'b>(
    literal: &StringLiteral<'b>,
    out: &mut Vec<u8>,
) -> Result<(), Fail<'b>> {
    out.clear();
    literal.decode_into(out).map_err(|e| match e {
        nom::Err::Error(f) | nom::Err::Failure(f) => Fail {
            kind: QpackErrorKind::from_hpack(f.kind),
            at: f.at,
        },
        // Decoding a string whose octets are all in never asks for more.
        nom::Err::Incomplete(_) => Fail {
            kind: QpackErrorKind::Truncated,
            at: literal.octets,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fewest_octets_a_string_decodes_to() {
        assert_eq!(min_decoded_len(b"\x05hello", 7), Ok((&b"hello"[..], 5)));
        // 30 Huffman octets: at least 7 symbols of at most 30 bits after 7 bits of padding.
        assert_eq!(min_decoded_len(b"\x9e", 7), Ok((&b""[..], 7)));
        assert_eq!(min_decoded_len(b"\x81", 7), Ok((&b""[..], 0)));
        // A 3-bit prefix with its H flag at 0x08, and the bits above it ignored.
        assert_eq!(
            min_decoded_len(b"\x2f\x01", 3),
            Ok((&b""[..], (8 * 8 - 7) / 30))
        );
        assert!(matches!(
            min_decoded_len(b"\x7f", 7),
            Err(nom::Err::Incomplete(_))
        ));
    }

    #[test]
    fn strings_of_any_prefix() {
        let (rest, literal) = string(b"\x23abcX", 3).unwrap();
        assert_eq!(
            (rest, literal.huffman, literal.octets),
            (&b"X"[..], false, &b"abc"[..])
        );
        let mut out = Vec::new();
        decode_string(&literal, &mut out).unwrap();
        assert_eq!(out, b"abc");
        // Huffman "www.example.com" behind a 5-bit prefix (H at 0x20).
        let wire = b"\x6c\xf1\xe3\xc2\xe5\xf2\x3a\x6b\xa0\xab\x90\xf4\xff";
        let (_, literal) = string(wire, 5).unwrap();
        decode_string(&literal, &mut out).unwrap();
        assert_eq!(out, b"www.example.com");
        let (_, bad) = string(b"\x81\xfe", 7).unwrap();
        let fail = decode_string(&bad, &mut out).unwrap_err();
        assert_eq!(fail.kind, QpackErrorKind::HuffmanPadding);
        assert!(matches!(string(b"\x03ab", 7), Err(nom::Err::Incomplete(_))));
        let long = b"\x7f\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01";
        assert!(matches!(
            integer(long, 7),
            Err(nom::Err::Error(Fail {
                kind: QpackErrorKind::IntegerOverflow,
                ..
            }))
        ));
        assert_eq!(
            integer(b"\x7f\x80\xff\xff\xff\xff\xff\xff\xff\x3f", 7).map(|(_, v)| v),
            Ok((1 << 62) - 1)
        );
    }
}
