//! An encoded field section (RFC 9204 §4.5): its prefix, and the five field line
//! representations, one rule each.

#![forbid(unsafe_code)]

use super::error::QpackErrorKind;
use super::rules::{QResult, fail, integer, string};
use super::static_table::STATIC;
use crate::hpack::string::StringLiteral;

/// The encoded field section prefix (§4.5.1), as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Prefix {
    /// The Encoded Required Insert Count (§4.5.1.1).
    pub(crate) encoded_insert_count: u64,
    /// The sign bit S of the Delta Base: Base is below the Required Insert Count.
    pub(crate) negative: bool,
    /// The Delta Base (§4.5.1.2).
    pub(crate) delta_base: u64,
}

/// ```text
/// Encoded Field Section Prefix {
///   Required Insert Count (8+),
///   S (1),
///   Delta Base (7+),
/// }
/// ```
/// RFC 9204 §4.5.1.
pub(crate) fn section_prefix(input: &[u8]) -> QResult<'_, Prefix> {
    let (rest, encoded_insert_count) = integer(input, 8)?;
    let negative = rest.first().is_some_and(|&b| b & 0x80 != 0);
    let (rest, delta_base) = integer(rest, 7)?;
    Ok((
        rest,
        Prefix {
            encoded_insert_count,
            negative,
            delta_base,
        },
    ))
}

/// The Required Insert Count an Encoded Required Insert Count stands for (RFC 9204
/// §4.5.1.1), given the decoder's MaxEntries (its advertised maximum capacity / 32) and the
/// inserts it has received; `None` for an encoding no count produces.
pub(crate) fn required_insert_count(encoded: u64, max_entries: u64, inserts: u64) -> Option<u64> {
    if encoded == 0 {
        return Some(0);
    }
    let full_range = max_entries.checked_mul(2)?;
    if encoded > full_range {
        return None;
    }
    let max_value = inserts.checked_add(max_entries)?;
    let max_wrapped = max_value / full_range * full_range;
    let mut count = max_wrapped + encoded - 1;
    if count > max_value {
        if count <= full_range {
            return None;
        }
        count -= full_range;
    }
    (count != 0).then_some(count)
}

/// The Encoded Required Insert Count of `count` (RFC 9204 §4.5.1.1).
#[cfg(test)]
pub(crate) fn encode_required_insert_count(count: u64, max_entries: u64) -> u64 {
    if count == 0 {
        0
    } else {
        count % (2 * max_entries) + 1
    }
}

/// A reference to a table entry, as a field line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reference {
    /// An entry of the static table, checked to exist: its name and value.
    Static(&'static [u8], &'static [u8]),
    /// A dynamic entry by relative index: absolute index Base − 1 − index (§3.2.5).
    Relative(u64),
    /// A dynamic entry by post-base index: absolute index Base + index (§3.2.6).
    PostBase(u64),
}

/// One field line representation (RFC 9204 §4.5.2 to §4.5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldLine<'b> {
    /// A whole field from a table (§4.5.2, §4.5.3).
    Indexed(Reference),
    /// A name from a table and a literal value (§4.5.4, §4.5.5).
    NameReference {
        /// The N bit: an intermediary must keep the field a literal.
        never_indexed: bool,
        /// The entry whose name is used.
        name: Reference,
        /// The value.
        value: StringLiteral<'b>,
    },
    /// A literal name and value (§4.5.6).
    Literal {
        /// The N bit.
        never_indexed: bool,
        /// The name.
        name: StringLiteral<'b>,
        /// The value.
        value: StringLiteral<'b>,
    },
}

/// ```text
/// Indexed Field Line                     = 1 T Index(6+)
/// Indexed Field Line With Post-Base Index = 0001 Index(4+)
/// Literal Field Line With Name Reference = 01 N T Index(4+) H Value Length(7+) Value
/// Literal With Post-Base Name Reference  = 0000 N Index(3+) H Value Length(7+) Value
/// Literal Field Line With Literal Name   = 001 N H Name Length(3+) Name H Value Length(7+) Value
/// ```
/// RFC 9204 §4.5.2 to §4.5.6, told apart by their leading bits. A static index of 99 or more
/// fails with `InvalidStaticIndex` at the line (§3.1); dynamic references are resolved by the
/// decoder, which knows the Base.
pub(crate) fn field_line(input: &[u8]) -> QResult<'_, FieldLine<'_>> {
    let first = input.first().copied().unwrap_or_default();
    let static_ref = |index: u64| match usize::try_from(index).ok().and_then(|i| STATIC.get(i)) {
        Some(&(name, value)) => Ok(Reference::Static(name, value)),
        None => fail(QpackErrorKind::InvalidStaticIndex, input).map(|(_, r)| r),
    };
    match first {
        0x80..=0xff => {
            let (rest, index) = integer(input, 6)?;
            let reference = if first & 0x40 != 0 {
                static_ref(index)?
            } else {
                Reference::Relative(index)
            };
            Ok((rest, FieldLine::Indexed(reference)))
        }
        0x40..=0x7f => {
            let (rest, index) = integer(input, 4)?;
            let name = if first & 0x10 != 0 {
                static_ref(index)?
            } else {
                Reference::Relative(index)
            };
            let (rest, value) = string(rest, 7)?;
            let never_indexed = first & 0x20 != 0;
            Ok((
                rest,
                FieldLine::NameReference {
                    never_indexed,
                    name,
                    value,
                },
            ))
        }
        0x20..=0x3f => {
            let (rest, name) = string(input, 3)?;
            let (rest, value) = string(rest, 7)?;
            let never_indexed = first & 0x10 != 0;
            Ok((
                rest,
                FieldLine::Literal {
                    never_indexed,
                    name,
                    value,
                },
            ))
        }
        0x10..=0x1f => {
            let (rest, index) = integer(input, 4)?;
            Ok((rest, FieldLine::Indexed(Reference::PostBase(index))))
        }
        _ => {
            let (rest, index) = integer(input, 3)?;
            let (rest, value) = string(rest, 7)?;
            let never_indexed = first & 0x08 != 0;
            let name = Reference::PostBase(index);
            Ok((
                rest,
                FieldLine::NameReference {
                    never_indexed,
                    name,
                    value,
                },
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fail::offset_in;

    /// The line and the octets it took, or the failure's kind and offset (`None`: partial).
    fn line(input: &[u8]) -> Result<(FieldLine<'_>, usize), Option<(QpackErrorKind, usize)>> {
        match field_line(input) {
            Ok((rest, line)) => Ok((line, input.len() - rest.len())),
            Err(nom::Err::Incomplete(_)) => Err(None),
            Err(nom::Err::Error(f) | nom::Err::Failure(f)) => {
                Err(Some((f.kind, offset_in(input, f.at))))
            }
        }
    }

    fn raw(octets: &[u8]) -> StringLiteral<'_> {
        StringLiteral {
            huffman: false,
            octets,
        }
    }

    #[test]
    fn each_representation_and_its_prefixes() {
        let cases: &[(&[u8], FieldLine<'_>)] = &[
            (
                b"\xd1",
                FieldLine::Indexed(Reference::Static(b":method", b"GET")),
            ),
            (
                b"\xff\x23",
                FieldLine::Indexed(Reference::Static(b"x-frame-options", b"sameorigin")),
            ),
            (b"\x81", FieldLine::Indexed(Reference::Relative(1))),
            (b"\xbf\x01", FieldLine::Indexed(Reference::Relative(64))),
            (b"\x12", FieldLine::Indexed(Reference::PostBase(2))),
            (
                b"\x51\x01/",
                FieldLine::NameReference {
                    never_indexed: false,
                    name: Reference::Static(b":path", b"/"),
                    value: raw(b"/"),
                },
            ),
            (
                b"\x62\x00",
                FieldLine::NameReference {
                    never_indexed: true,
                    name: Reference::Relative(2),
                    value: raw(b""),
                },
            ),
            (
                b"\x0b\x01v",
                FieldLine::NameReference {
                    never_indexed: true,
                    name: Reference::PostBase(3),
                    value: raw(b"v"),
                },
            ),
            (
                b"\x33abc\x01d",
                FieldLine::Literal {
                    never_indexed: true,
                    name: raw(b"abc"),
                    value: raw(b"d"),
                },
            ),
        ];
        for &(wire, expected) in cases {
            assert_eq!(line(wire), Ok((expected, wire.len())), "{wire:?}");
            for cut in 0..wire.len() {
                assert_eq!(line(&wire[..cut]), Err(None), "{wire:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn static_indices_past_the_table() {
        for wire in [&b"\xff\x24"[..], b"\x5f\x54\x00", b"\xff\xff\xff\x03"] {
            assert_eq!(
                line(wire),
                Err(Some((QpackErrorKind::InvalidStaticIndex, 0))),
                "{wire:?}"
            );
        }
    }

    #[test]
    fn prefixes() {
        let (rest, prefix) = section_prefix(b"\x03\x81\x10").unwrap();
        assert_eq!(rest, b"\x10");
        assert_eq!(
            prefix,
            Prefix {
                encoded_insert_count: 3,
                negative: true,
                delta_base: 1
            }
        );
        assert!(matches!(
            section_prefix(b"\x03"),
            Err(nom::Err::Incomplete(_))
        ));
        assert!(matches!(
            section_prefix(b"\xff"),
            Err(nom::Err::Incomplete(_))
        ));
    }

    #[test]
    fn required_insert_count_rejections() {
        // RFC 9204 §4.5.1.1: MaxEntries 6 (a 220-octet table), so FullRange 12.
        assert_eq!(required_insert_count(0, 6, 0), Some(0));
        assert_eq!(required_insert_count(3, 6, 2), Some(2));
        assert_eq!(required_insert_count(13, 6, 0), None);
        // With no table, any nonzero encoding.
        assert_eq!(required_insert_count(1, 0, 0), None);
        // A count that wraps below FullRange, or to 0.
        assert_eq!(required_insert_count(12, 6, 0), None);
        assert_eq!(required_insert_count(1, 6, 12), Some(12));
        assert_eq!(required_insert_count(2, 6, 12), Some(13));
        assert_eq!(required_insert_count(1, 6, 11), Some(12));
    }
}
