//! QUIC variable-length integers (RFC 9000 §16), the integers of every HTTP/3 frame, setting
//! and stream type (RFC 9114 §1.2).

#![forbid(unsafe_code)]

use nom::{IResult, Needed};

/// The largest value a variable-length integer holds: 2^62 − 1 (RFC 9000 §16).
pub const MAX_VARINT: u64 = (1 << 62) - 1;

/// How many bytes the variable-length integer starting with `first` takes: 1, 2, 4 or 8, as
/// its two most significant bits say (RFC 9000 §16, Table 4).
pub const fn varint_len_of(first: u8) -> usize {
    1 << (first >> 6)
}

/// How many bytes [`write_varint`] takes for `value`: the shortest encoding (RFC 9000 §16).
pub const fn varint_len(value: u64) -> usize {
    match value {
        0..=0x3f => 1,
        0x40..=0x3fff => 2,
        0x4000..=0x3fff_ffff => 4,
        _ => 8,
    }
}

/// ```text
/// Variable-Length Integer Encoding {
///   Two Most Significant Bits (2),
///   Value (6 / 14 / 30 / 62),
/// }
/// ```
/// RFC 9000 §16: the two bits give the length (1, 2, 4 or 8 bytes), the rest of those bytes
/// the value, most significant first. Any length is accepted for any value: §16 has a sender
/// use the shortest form only where a rule says so, and none of HTTP/3's does (RFC 9114 §1.2),
/// so a peer's `0x40 0x25` is 37. It never fails: partial input is `Incomplete` with the
/// exact count of missing bytes.
pub(crate) fn varint(input: &[u8]) -> IResult<&[u8], u64, ()> {
    let Some(&first) = input.first() else {
        return Err(nom::Err::Incomplete(Needed::new(1)));
    };
    let len = varint_len_of(first);
    let Some((bytes, rest)) = input.split_at_checked(len) else {
        return Err(nom::Err::Incomplete(Needed::new(len - input.len())));
    };
    let value = bytes
        .iter()
        .skip(1)
        .fold(u64::from(first & 0x3f), |acc, &b| (acc << 8) | u64::from(b));
    Ok((rest, value))
}

/// Reads the variable-length integer at the start of `buf` (RFC 9000 §16): its value and the
/// bytes it took, or `None` while `buf` holds only part of it (an empty `buf` included).
///
/// ```
/// use nomserve_grammar::{parse_varint, write_varint};
///
/// // RFC 9000 §A.1's examples.
/// assert_eq!(parse_varint(&[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]),
///            Some((151_288_809_941_952_652, 8)));
/// assert_eq!(parse_varint(&[0x9d, 0x7f, 0x3e, 0x7d]), Some((494_878_333, 4)));
/// assert_eq!(parse_varint(&[0x7b, 0xbd]), Some((15_293, 2)));
/// assert_eq!(parse_varint(&[0x25]), Some((37, 1)));
/// assert_eq!(parse_varint(&[0x40, 0x25]), Some((37, 2)));
/// assert_eq!(parse_varint(&[0x7b]), None);
/// let mut out = Vec::new();
/// write_varint(&mut out, 15_293);
/// assert_eq!(out, [0x7b, 0xbd]);
/// ```
pub fn parse_varint(buf: &[u8]) -> Option<(u64, usize)> {
    let (rest, value) = varint(buf).ok()?;
    Some((value, buf.len() - rest.len()))
}

/// Appends `value` in its shortest encoding (RFC 9000 §16).
///
/// Contract: `value` is at most [`MAX_VARINT`]; a larger one is written as `MAX_VARINT`
/// (and is a bug in the caller, caught by a debug assertion).
pub fn write_varint(out: &mut Vec<u8>, value: u64) {
    debug_assert!(value <= MAX_VARINT, "varint {value}");
    let value = value.min(MAX_VARINT);
    let len = varint_len(value);
    let tag = u64::from(len.trailing_zeros()) << (8 * len - 2);
    let encoded = (tag | value).to_be_bytes();
    out.extend_from_slice(&encoded[8 - len..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc_9000_appendix_a1_examples() {
        let cases: &[(&[u8], u64)] = &[
            (
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
                151_288_809_941_952_652,
            ),
            (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
            (&[0x7b, 0xbd], 15_293),
            (&[0x25], 37),
        ];
        for &(wire, value) in cases {
            assert_eq!(parse_varint(wire), Some((value, wire.len())), "{wire:?}");
            let mut out = Vec::new();
            write_varint(&mut out, value);
            assert_eq!(out, wire);
            assert_eq!(varint_len(value), wire.len());
        }
    }

    #[test]
    fn a_longer_form_than_needed_is_accepted() {
        assert_eq!(parse_varint(&[0x40, 0x25]), Some((37, 2)));
        assert_eq!(parse_varint(&[0x80, 0, 0, 0x25]), Some((37, 4)));
        assert_eq!(
            parse_varint(&[0xc0, 0, 0, 0, 0, 0, 0, 0x25, 0xff]),
            Some((37, 8))
        );
    }

    #[test]
    fn partial_input_counts_the_missing_bytes() {
        assert_eq!(varint(&[]), Err(nom::Err::Incomplete(Needed::new(1))));
        assert_eq!(varint(&[0x40]), Err(nom::Err::Incomplete(Needed::new(1))));
        assert_eq!(
            varint(&[0x80, 1]),
            Err(nom::Err::Incomplete(Needed::new(2)))
        );
        assert_eq!(varint(&[0xc0]), Err(nom::Err::Incomplete(Needed::new(7))));
        assert_eq!(parse_varint(&[0xc0, 1, 2]), None);
    }

    #[test]
    fn the_bounds_of_each_length() {
        for (value, len) in [
            (0, 1),
            (63, 1),
            (64, 2),
            (16_383, 2),
            (16_384, 4),
            ((1 << 30) - 1, 4),
            (1 << 30, 8),
            (MAX_VARINT, 8),
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, value);
            assert_eq!(out.len(), len, "{value}");
            assert_eq!(varint_len_of(out[0]), len);
            assert_eq!(parse_varint(&out), Some((value, len)));
        }
    }

    proptest! {
        #[test]
        fn round_trips(value in 0..=MAX_VARINT, tail in proptest::collection::vec(any::<u8>(), 0..4)) {
            let mut out = Vec::new();
            write_varint(&mut out, value);
            prop_assert_eq!(out.len(), varint_len(value));
            for cut in 0..out.len() {
                prop_assert_eq!(parse_varint(&out[..cut]), None);
            }
            out.extend_from_slice(&tail);
            prop_assert_eq!(parse_varint(&out), Some((value, varint_len(value))));
        }
    }
}
