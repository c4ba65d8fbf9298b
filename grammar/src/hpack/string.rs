//! String literals (RFC 7541 §5.2): a Huffman flag, a length as a 7-bit prefixed integer,
//! and that many octets, raw or Huffman-encoded.

#![forbid(unsafe_code)]

use super::error::{Fail, HResult};
use super::huffman;
use super::integer::{encode_integer, integer, integer62};
use nom::bytes::streaming::take;

/// A string literal as sent: its octets, and whether they are Huffman-encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StringLiteral<'b> {
    /// `H` of §5.2.
    pub(crate) huffman: bool,
    /// The string's octets on the wire.
    pub(crate) octets: &'b [u8],
}

impl<'b> StringLiteral<'b> {
    /// Appends the string's value to `out`, Huffman-decoded when it was encoded; fails with
    /// the Huffman rule broken, at the offending octet.
    pub(crate) fn decode_into(&self, out: &mut Vec<u8>) -> Result<(), nom::Err<Fail<'b>>> {
        if !self.huffman {
            out.extend_from_slice(self.octets);
            return Ok(());
        }
        huffman::decode(self.octets, out).map_err(|(kind, at)| {
            nom::Err::Error(Fail {
                kind,
                at: self.octets.get(at..).unwrap_or_default(),
            })
        })
    }
}

/// ```text
/// string-literal = H string-length string-data   ; H: 1 bit, length: 7-bit prefix
/// ```
/// RFC 7541 §5.2. Partial input, including a length that runs past the end of the input,
/// is `Incomplete`; an overlong length is `IntegerOverflow`.
pub(crate) fn string_literal(input: &[u8]) -> HResult<'_, StringLiteral<'_>> {
    let huffman = input.first().is_some_and(|&b| b & 0x80 != 0);
    let (rest, len) = integer(input, 7)?;
    let (rest, octets) = take(len)(rest)?;
    Ok((rest, StringLiteral { huffman, octets }))
}

/// ```text
/// string-length = H length:N-bit-prefix          ; H: the bit above the prefix
/// ```
/// The head of a string literal whose length has a `prefix_bits`-bit prefix (RFC 7541 §5.2
/// for N = 7; RFC 9204 §4.1.2 for QPACK's shorter prefixes, whose H flag is the bit just
/// above them): whether the string is Huffman-encoded, and its length on the wire, up to
/// 2^62 − 1 (RFC 9204 §4.1.1).
pub(crate) fn string_length(input: &[u8], prefix_bits: u8) -> HResult<'_, (bool, u64)> {
    let huffman = input.first().is_some_and(|&b| b & (1 << prefix_bits) != 0);
    let (rest, len) = integer62(input, prefix_bits)?;
    Ok((rest, (huffman, len)))
}

/// A string literal whose length has a `prefix_bits`-bit prefix (see [`string_length`]) and
/// its octets: partial input is `Incomplete`, an overlong length `IntegerOverflow`.
pub(crate) fn prefixed_string_literal(
    input: &[u8],
    prefix_bits: u8,
) -> HResult<'_, StringLiteral<'_>> {
    let (rest, (huffman, len)) = string_length(input, prefix_bits)?;
    let (rest, octets) = take(len)(rest)?;
    Ok((rest, StringLiteral { huffman, octets }))
}

/// Appends `value` as a string literal (§5.2), Huffman-encoded only when that is shorter.
pub(crate) fn encode_string(value: &[u8], out: &mut Vec<u8>) {
    encode_prefixed_string(value, 7, 0, out);
}

/// Appends `value` as [`encode_string`] does, its Huffman length measured first: for a
/// value that seldom comes out shorter Huffman-encoded (decimal digits, 5 or 6 bits each,
/// shorter only from three digits), whose encoding [`encode_string`] would mostly undo.
pub(crate) fn encode_measured_string(value: &[u8], out: &mut Vec<u8>) {
    let huffman_len = huffman::encoded_len(value);
    if huffman_len < value.len() {
        encode_integer(huffman_len as u64, 7, 0x80, out);
        huffman::encode(value, out);
    } else {
        encode_integer(value.len() as u64, 7, 0, out);
        out.extend_from_slice(value);
    }
}

/// Appends `value` as a string literal whose length has a `prefix_bits`-bit prefix, the bits
/// of the first octet above the H flag set to `flags` (RFC 9204 §4.1.2), Huffman-encoded
/// only when that is shorter.
///
/// A value whose length fits the prefix's one octet has its Huffman length fit there too
/// when that is the shorter form, so it is Huffman-encoded once, straight into `out`, and
/// replaced by the raw octets if that came out no shorter; a longer one is measured first.
pub(crate) fn encode_prefixed_string(value: &[u8], prefix_bits: u8, flags: u8, out: &mut Vec<u8>) {
    let huffman_flag = 1 << prefix_bits;
    if value.len() < usize::from(huffman_flag) - 1 {
        let at = out.len();
        out.push(0);
        huffman::encode(value, out);
        let huffman_len = out.len() - at - 1;
        if huffman_len < value.len() {
            out[at] = flags | huffman_flag | huffman_len as u8;
            return;
        }
        out.truncate(at);
    } else {
        let huffman_len = huffman::encoded_len(value);
        if huffman_len < value.len() {
            encode_integer(huffman_len as u64, prefix_bits, flags | huffman_flag, out);
            huffman::encode(value, out);
            return;
        }
    }
    encode_integer(value.len() as u64, prefix_bits, flags, out);
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hpack::error::HpackErrorKind;

    /// The octets consumed and the value, or the failure's kind and offset (`None`:
    /// incomplete).
    type Outcome = Result<(usize, Vec<u8>), Option<(HpackErrorKind, usize)>>;

    fn value(input: &[u8]) -> Outcome {
        let offset = |at: &[u8]| at.as_ptr() as usize - input.as_ptr() as usize;
        match string_literal(input) {
            Ok((rest, literal)) => {
                let mut out = Vec::new();
                match literal.decode_into(&mut out) {
                    Ok(_) => Ok((input.len() - rest.len(), out)),
                    Err(nom::Err::Error(Fail { kind, at })) => Err(Some((kind, offset(at)))),
                    Err(_) => Err(None),
                }
            }
            Err(nom::Err::Incomplete(_)) => Err(None),
            Err(nom::Err::Error(f) | nom::Err::Failure(f)) => Err(Some((f.kind, offset(f.at)))),
        }
    }

    #[test]
    fn accepts_raw_and_huffman() {
        assert_eq!(value(b"\x03abcX"), Ok((4, b"abc".to_vec())));
        assert_eq!(value(b"\x00"), Ok((1, Vec::new())));
        // C.4.1: "www.example.com" Huffman-encoded.
        let wire = b"\x8c\xf1\xe3\xc2\xe5\xf2\x3a\x6b\xa0\xab\x90\xf4\xff";
        assert_eq!(value(wire), Ok((13, b"www.example.com".to_vec())));
    }

    #[test]
    fn partial_input_is_incomplete() {
        assert_eq!(value(b""), Err(None));
        assert_eq!(value(b"\x03ab"), Err(None));
        assert_eq!(value(b"\x7f"), Err(None));
    }

    #[test]
    fn refuses_bad_huffman_and_overlong_lengths() {
        assert_eq!(
            value(b"\x81\xfe"),
            Err(Some((HpackErrorKind::HuffmanPadding, 1)))
        );
        assert_eq!(
            value(b"\x84\xff\xff\xff\xff"),
            Err(Some((HpackErrorKind::HuffmanEos, 4)))
        );
        assert_eq!(
            value(b"\x7f\xff\xff\xff\xff\x7f"),
            Err(Some((HpackErrorKind::IntegerOverflow, 0)))
        );
    }

    #[test]
    fn encodes_huffman_only_when_shorter() {
        let mut out = Vec::new();
        encode_string(b"www.example.com", &mut out);
        assert_eq!(out[0], 0x8c);
        out.clear();
        encode_string(b"\x00\x01", &mut out);
        assert_eq!(out, b"\x02\x00\x01");
    }
}
