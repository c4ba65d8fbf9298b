//! Prefixed integers (RFC 7541 §5.1): the low N bits of a first octet, continued in 7-bit
//! groups, least significant first, while the value fills the prefix.

#![forbid(unsafe_code)]

use super::error::{HResult, HpackErrorKind, fail};
use nom::number::streaming::be_u8;

/// The most continuation octets an integer may take. Five carry 35 bits, enough for any
/// value up to 2^32 − 1 after the prefix; a sixth could only add zeros, which no encoder
/// needs, so it is refused with the values that do not fit (§5.1 lets a decoder refuse
/// integers that exceed its limits "in value or octet length").
const MAX_CONTINUATIONS: u32 = 5;

/// ```text
/// integer = prefix *continuation
/// ```
/// RFC 7541 §5.1, with `prefix_bits` (1 to 8) the N of the section: the low `prefix_bits`
/// bits of the first octet hold the value if it is less than 2^N − 1; else every following
/// octet adds its low 7 bits, least significant group first, and its high bit says whether
/// another follows. The bits above the prefix are the caller's (the representation's type)
/// and ignored here.
///
/// Bound: values above `u32::MAX` (every length and index the decoder handles is far
/// smaller; a `u32` holds any of them on every target) fail with `IntegerOverflow` at the
/// first octet, as do encodings longer than five continuation octets. Partial input is
/// `Incomplete`.
pub(crate) fn integer(input: &[u8], prefix_bits: u8) -> HResult<'_, u32> {
    let (rest, value) =
        bounded_integer(input, prefix_bits, u64::from(u32::MAX), MAX_CONTINUATIONS)?;
    Ok((rest, value as u32))
}

/// The most continuation octets a 62-bit integer may take: nine carry 63 bits.
const MAX_CONTINUATIONS_62: u32 = 9;

/// The largest integer QPACK decodes: 2^62 − 1.
const MAX_62: u64 = (1 << 62) - 1;

/// ```text
/// integer = prefix *continuation
/// ```
/// The same rule with QPACK's bound (RFC 9204 §4.1.1: "QPACK implementations MUST be able
/// to decode integers up to and including 62 bits long"): values up to 2^62 − 1 in at most
/// nine continuation octets; larger or longer ones fail with `IntegerOverflow` at the first
/// octet.
pub(crate) fn integer62(input: &[u8], prefix_bits: u8) -> HResult<'_, u64> {
    bounded_integer(input, prefix_bits, MAX_62, MAX_CONTINUATIONS_62)
}

/// A prefixed integer of at most `max`, in at most `max_continuations` continuation octets.
fn bounded_integer(
    input: &[u8],
    prefix_bits: u8,
    max: u64,
    max_continuations: u32,
) -> HResult<'_, u64> {
    let max_prefix = (1u32 << prefix_bits) - 1;
    let (mut rest, first) = be_u8(input)?;
    let prefix = u32::from(first) & max_prefix;
    if prefix < max_prefix {
        return Ok((rest, u64::from(prefix)));
    }
    let mut value = u64::from(prefix);
    for group in 0..max_continuations {
        let (after, octet) = be_u8(rest)?;
        rest = after;
        value += u64::from(octet & 0x7f) << (7 * group);
        if value > max {
            break;
        }
        if octet & 0x80 == 0 {
            return Ok((rest, value));
        }
    }
    fail(HpackErrorKind::IntegerOverflow, input)
}

/// Appends `value` to `out` as a prefixed integer of `prefix_bits` bits (RFC 7541 §5.1), the
/// first octet's bits above the prefix set to `flags`.
///
/// Inlined, so that the one-octet form most calls take is a push in the caller; the longer
/// form is a call.
#[inline]
pub(crate) fn encode_integer(value: impl Into<u64>, prefix_bits: u8, flags: u8, out: &mut Vec<u8>) {
    let value: u64 = value.into();
    let max_prefix = (1u64 << prefix_bits) - 1;
    if value < max_prefix {
        out.push(flags | value as u8);
        return;
    }
    encode_long_integer(value, max_prefix, flags, out);
}

/// Appends `value`, at least `max_prefix`, as a prefixed integer whose prefix is full
/// (RFC 7541 §5.1).
fn encode_long_integer(value: u64, max_prefix: u64, flags: u8, out: &mut Vec<u8>) {
    out.push(flags | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 0x80 {
        out.push(0x80 | (rest & 0x7f) as u8);
        rest >>= 7;
    }
    out.push(rest as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode(input: &[u8], bits: u8) -> Result<(usize, u32), Option<HpackErrorKind>> {
        match integer(input, bits) {
            Ok((rest, v)) => Ok((input.len() - rest.len(), v)),
            Err(nom::Err::Incomplete(_)) => Err(None),
            Err(nom::Err::Error(f) | nom::Err::Failure(f)) => Err(Some(f.kind)),
        }
    }

    #[test]
    fn appendix_c1_examples() {
        // C.1.1: 10 with a 5-bit prefix.
        assert_eq!(decode(&[0b0000_1010], 5), Ok((1, 10)));
        // C.1.2: 1337 with a 5-bit prefix.
        assert_eq!(
            decode(&[0b0001_1111, 0b1001_1010, 0b0000_1010], 5),
            Ok((3, 1337))
        );
        // C.1.3: 42 at an octet boundary.
        assert_eq!(decode(&[42], 8), Ok((1, 42)));
        let mut out = Vec::new();
        encode_integer(1337u32, 5, 0, &mut out);
        assert_eq!(out, [31, 154, 10]);
    }

    #[test]
    fn ignores_the_bits_above_the_prefix() {
        assert_eq!(decode(&[0xea], 5), Ok((1, 10)));
        assert_eq!(decode(&[0xff, 0x00], 7), Ok((2, 127)));
    }

    #[test]
    fn partial_input_is_incomplete() {
        assert_eq!(decode(&[], 5), Err(None));
        assert_eq!(decode(&[0x1f], 5), Err(None));
        assert_eq!(decode(&[0x1f, 0x9a], 5), Err(None));
    }

    #[test]
    fn refuses_values_past_u32() {
        // 2^32 - 1 = 31 + 0xffffffe0: fits.
        let max = [0x1f, 0xe0, 0xff, 0xff, 0xff, 0x0f];
        assert_eq!(decode(&max, 5), Ok((6, u32::MAX)));
        let over = [0x1f, 0xe1, 0xff, 0xff, 0xff, 0x0f];
        assert_eq!(decode(&over, 5), Err(Some(HpackErrorKind::IntegerOverflow)));
        let big = [0x1f, 0x80, 0x80, 0x80, 0x80, 0x7f];
        assert_eq!(decode(&big, 5), Err(Some(HpackErrorKind::IntegerOverflow)));
    }

    #[test]
    fn refuses_a_sixth_continuation_octet() {
        let long = [0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(decode(&long, 5), Err(Some(HpackErrorKind::IntegerOverflow)));
        let five = [0x1f, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(decode(&five, 5), Ok((6, 31)));
    }

    proptest! {
        #[test]
        fn round_trips(value in any::<u32>(), bits in 1u8..=8, flags in any::<u8>()) {
            let flags = if bits == 8 { 0 } else { flags & !((1u16 << bits) - 1) as u8 };
            let mut out = Vec::new();
            encode_integer(value, bits, flags, &mut out);
            prop_assert_eq!(out[0] & !(((1u16 << bits) - 1) as u8), flags);
            prop_assert_eq!(decode(&out, bits), Ok((out.len(), value)));
            for cut in 0..out.len() {
                prop_assert_eq!(decode(&out[..cut], bits), Err(None));
            }
        }
    }
}
