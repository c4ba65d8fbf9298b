//! Range requests (RFC 9110 §14.1, §14.2): the Range field's grammar, and resolving its specs
//! against a representation's length.
//!
//! The two steps are apart because they happen at different times: the field is parsed once,
//! before the file is opened; the specs are resolved once its length is known, and a file
//! handler needs to tell "ignore the field" (an invalid value: serve 200) from "nothing
//! satisfiable" (416). Parsing never allocates more than `max_ranges` specs, and resolving
//! sorts and coalesces, so a client cannot make the server send many overlapping parts.
//!
//! Both entry points are total, with work linear in their input.

#![forbid(unsafe_code)]

use crate::abnf::{decimal, ows, token};
use crate::error::ErrorKind;
use crate::fail::{PResult, fail};
use nom::Parser;
use nom::bytes::complete::tag;
use nom::combinator::{all_consuming, opt, verify};
use nom::multi::many0_count;
use nom::sequence::preceded;
use std::ops::Range;

/// One byte-range-spec or suffix-range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRangeSpec {
    /// `first-pos "-" last-pos`: the bytes from `first` to `last`, both included
    /// (`first <= last`).
    FromTo(u64, u64),
    /// `first-pos "-"`: the bytes from `first` to the end.
    From(u64),
    /// `"-" suffix-length`: the last `n` bytes.
    Suffix(u64),
}

/// Parses a Range field value in the `bytes` unit, keeping at most `max_ranges` specs.
///
/// ```text
/// Range              = ranges-specifier
/// ranges-specifier   = range-unit "=" range-set
/// range-unit         = token
/// range-set          = 1#range-spec
/// range-spec         = int-range / suffix-range / other-range
/// ```
/// RFC 9110 §14.1.1, §14.2. `None` means "ignore the field", which RFC 9110 §14.2 allows
/// ("A server MAY ignore the Range header field"), and is returned for:
/// - a malformed value, including `first-pos > last-pos` (RFC 9110 §14.1.1 calls such a
///   range-spec invalid) and a number that does not fit in 64 bits;
/// - a unit other than `bytes` (compared case-insensitively, RFC 9110 §14.1: "range-unit
///   values are case-insensitive"), the only unit this server knows; `other-range` is only
///   meaningful for other units, so it is not accepted under `bytes`;
/// - more than `max_ranges` specs: many small ranges are a known amplification and
///   denial-of-service pattern (RFC 9110 §14.2, §17.15), and serving the whole
///   representation instead is always correct.
///
/// Empty list elements are tolerated (`bytes=,0-1,,2-3`), as RFC 9110 §5.6.1.2 asks of
/// recipients, but at least one spec must be present. No OWS around `=`: the ABNF has none.
///
/// ```
/// use nomserve_grammar::{ByteRangeSpec, parse_range};
///
/// assert_eq!(
///     parse_range(b"bytes=0-99, -5", 16),
///     Some(vec![ByteRangeSpec::FromTo(0, 99), ByteRangeSpec::Suffix(5)])
/// );
/// assert_eq!(parse_range(b"items=0-1", 16), None);
/// ```
pub fn parse_range(input: &[u8], max_ranges: usize) -> Option<Vec<ByteRangeSpec>> {
    let (_, specs) = all_consuming(|i| ranges_specifier(i, max_ranges))
        .parse(input)
        .ok()?;
    Some(specs)
}

/// The satisfiable ranges of `specs` over a representation of `len` bytes, as half-open byte
/// ranges, sorted and coalesced; `None` when none is satisfiable (the caller answers 416).
///
/// RFC 9110 §14.1.2 resolves each spec:
/// - `a-b`: `a..b+1`, with `b` clamped to `len - 1`; unsatisfiable when `a >= len`;
/// - `a-`: `a..len`; unsatisfiable when `a >= len`;
/// - `-n`: the last `n` bytes, all of them when `n >= len`; unsatisfiable when `n == 0`.
///
/// Overlapping and adjacent ranges are merged (RFC 9110 §14.2: a server MAY coalesce them),
/// so the result is strictly increasing with a gap between any two ranges, and none is
/// empty. **Deviation**: a suffix-range over a zero-length representation counts as
/// unsatisfiable. RFC 9110 §14.1.1 calls a non-zero suffix-length satisfiable, but it selects
/// no byte, and no Content-Range can describe an empty range (`bytes 0--1/0`).
///
/// ```
/// use nomserve_grammar::{ByteRangeSpec::*, resolve_ranges};
///
/// assert_eq!(resolve_ranges(&[Suffix(500), FromTo(0, 9)], 1000), Some(vec![0..10, 500..1000]));
/// assert_eq!(resolve_ranges(&[From(1000)], 1000), None);
/// ```
pub fn resolve_ranges(specs: &[ByteRangeSpec], len: u64) -> Option<Vec<Range<u64>>> {
    let mut ranges: Vec<Range<u64>> = specs
        .iter()
        .filter_map(|spec| match *spec {
            ByteRangeSpec::FromTo(first, last) if first < len => Some(first..last.min(len - 1) + 1),
            ByteRangeSpec::From(first) if first < len => Some(first..len),
            ByteRangeSpec::Suffix(n) if n > 0 && len > 0 => Some(len.saturating_sub(n)..len),
            _ => None,
        })
        .filter(|r| r.start < r.end)
        .collect();
    ranges.sort_unstable_by_key(|r| r.start);
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    if merged.is_empty() {
        None
    } else {
        Some(merged)
    }
}

/// `ranges-specifier = range-unit "=" range-set` (RFC 9110 §14.1.1), with `range-unit`
/// restricted to `bytes`, case-insensitively (RFC 9110 §14.1).
fn ranges_specifier(input: &[u8], max_ranges: usize) -> PResult<'_, Vec<ByteRangeSpec>> {
    let (input, _) = (
        verify(token, |unit: &[u8]| unit.eq_ignore_ascii_case(b"bytes")),
        tag("="),
    )
        .parse(input)?;
    range_set(input, max_ranges)
}

/// ```text
/// range-set = 1#range-spec
/// 1#element => *( "," OWS ) element *( OWS "," [ OWS element ] )
/// ```
/// RFC 9110 §14.1.1, with the list rule of §5.6.1.2 that tolerates empty elements. Fails
/// once more than `max_ranges` specs were read, without reading further.
fn range_set(input: &[u8], max_ranges: usize) -> PResult<'_, Vec<ByteRangeSpec>> {
    let (mut input, _) = many0_count((tag(","), ows)).parse(input)?;
    let (rest, first) = range_spec(input)?;
    if max_ranges == 0 {
        return fail(ErrorKind::InvalidFieldValue, input);
    }
    let mut specs = vec![first];
    input = rest;
    loop {
        match (ows, tag(","), opt(preceded(ows, range_spec))).parse(input) {
            Ok((rest, (_, _, spec))) => {
                if let Some(spec) = spec {
                    if specs.len() == max_ranges {
                        return fail(ErrorKind::InvalidFieldValue, input);
                    }
                    specs.push(spec);
                }
                input = rest;
            }
            Err(nom::Err::Error(_)) => return Ok((input, specs)),
            Err(e) => return Err(e),
        }
    }
}

/// `range-spec = int-range / suffix-range / other-range` (RFC 9110 §14.1.1), for the `bytes`
/// unit, where `other-range` has no meaning (RFC 9110 §14.1.2).
fn range_spec(input: &[u8]) -> PResult<'_, ByteRangeSpec> {
    match int_range(input) {
        Err(nom::Err::Error(_)) => suffix_range(input),
        result => result,
    }
}

/// ```text
/// int-range = first-pos "-" [ last-pos ]
/// first-pos = 1*DIGIT
/// last-pos  = 1*DIGIT
/// ```
/// RFC 9110 §14.1.1. "A range-spec is invalid if the last-pos value is present and less than
/// the first-pos": that fails here.
fn int_range(input: &[u8]) -> PResult<'_, ByteRangeSpec> {
    let (rest, (first, _, last)) = (decimal, tag("-"), opt(decimal)).parse(input)?;
    match last {
        None => Ok((rest, ByteRangeSpec::From(first))),
        Some(last) if first <= last => Ok((rest, ByteRangeSpec::FromTo(first, last))),
        Some(_) => fail(ErrorKind::InvalidFieldValue, input),
    }
}

/// ```text
/// suffix-range  = "-" suffix-length
/// suffix-length = 1*DIGIT
/// ```
/// RFC 9110 §14.1.1
fn suffix_range(input: &[u8]) -> PResult<'_, ByteRangeSpec> {
    preceded(tag("-"), decimal)
        .map(ByteRangeSpec::Suffix)
        .parse(input)
}

#[cfg(test)]
mod tests {
    use super::ByteRangeSpec::*;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn valid_values() {
        let cases: &[(&str, &[ByteRangeSpec])] = &[
            ("bytes=0-499", &[FromTo(0, 499)]),
            ("bytes=500-999", &[FromTo(500, 999)]),
            ("bytes=-500", &[Suffix(500)]),
            ("bytes=9500-", &[From(9500)]),
            ("bytes=0-0,-1", &[FromTo(0, 0), Suffix(1)]),
            ("bytes=5-5", &[FromTo(5, 5)]),
            ("BYTES=0-1", &[FromTo(0, 1)]),
            ("Bytes=0-1", &[FromTo(0, 1)]),
            (
                "bytes=0-1 , 3-4,\t5-",
                &[FromTo(0, 1), FromTo(3, 4), From(5)],
            ),
            ("bytes=,0-1,,2-3", &[FromTo(0, 1), FromTo(2, 3)]),
            ("bytes=, ,0-1", &[FromTo(0, 1)]),
            ("bytes=0-1,", &[FromTo(0, 1)]),
            ("bytes=0-1, ,", &[FromTo(0, 1)]),
            ("bytes=-0", &[Suffix(0)]),
            ("bytes=007-010", &[FromTo(7, 10)]),
            ("bytes=0-18446744073709551615", &[FromTo(0, u64::MAX)]),
        ];
        for (value, expected) in cases {
            assert_eq!(
                parse_range(value.as_bytes(), 16).as_deref(),
                Some(*expected),
                "{value:?}"
            );
        }
    }

    #[test]
    fn ignored_values() {
        for value in [
            "",
            "bytes=",
            "bytes=,",
            "bytes= ,",
            "bytes",
            "bytes=-",
            "bytes=--1",
            "bytes=1",
            "bytes=a-b",
            "bytes=5-4",
            "bytes=0-18446744073709551616",
            "bytes=18446744073709551616-",
            "bytes=-18446744073709551616",
            "bytes =0-1",
            "bytes= 0-1",
            " bytes=0-1",
            "bytes=0-1 ",
            "bytes=0 -1",
            "bytes=0- 1",
            "bytes=+1-2",
            "bytes=0-1;q",
            "bytes=0-1 2-3",
            "items=0-1",
            "bytes0-1",
            "bytes=0x1-2",
        ] {
            assert_eq!(parse_range(value.as_bytes(), 16), None, "{value:?}");
        }
    }

    #[test]
    fn more_than_max_ranges_is_ignored() {
        assert_eq!(
            parse_range(b"bytes=0-1,2-3,4-5", 3).map(|v| v.len()),
            Some(3)
        );
        assert_eq!(parse_range(b"bytes=0-1,2-3,4-5,6-7", 3), None);
        assert_eq!(parse_range(b"bytes=0-1,,,", 1).map(|v| v.len()), Some(1));
        assert_eq!(parse_range(b"bytes=0-1", 0), None);
    }

    /// Specs, a length, and the expected ranges as (start, end) pairs.
    type ResolveCase = (&'static [ByteRangeSpec], u64, Option<&'static [(u64, u64)]>);

    #[test]
    fn resolving() {
        let cases: &[ResolveCase] = &[
            (&[FromTo(0, 499)], 10_000, Some(&[(0, 500)])),
            (&[FromTo(0, 499)], 100, Some(&[(0, 100)])),
            (&[FromTo(0, u64::MAX)], 100, Some(&[(0, 100)])),
            (&[From(9500)], 10_000, Some(&[(9500, 10_000)])),
            (&[Suffix(500)], 10_000, Some(&[(9500, 10_000)])),
            (&[Suffix(500)], 100, Some(&[(0, 100)])),
            (&[Suffix(u64::MAX)], 100, Some(&[(0, 100)])),
            (&[From(100)], 100, None),
            (&[FromTo(100, 200)], 100, None),
            (&[Suffix(0)], 100, None),
            (&[Suffix(5)], 0, None),
            (&[From(0)], 0, None),
            (&[From(100), FromTo(0, 0)], 100, Some(&[(0, 1)])),
            (&[FromTo(0, 4), FromTo(5, 9)], 100, Some(&[(0, 10)])),
            (&[FromTo(0, 4), FromTo(6, 9)], 100, Some(&[(0, 5), (6, 10)])),
            (
                &[FromTo(50, 59), FromTo(0, 9), FromTo(5, 54)],
                100,
                Some(&[(0, 60)]),
            ),
            (
                &[Suffix(10), FromTo(0, 9)],
                100,
                Some(&[(0, 10), (90, 100)]),
            ),
            (&[Suffix(10), From(85)], 100, Some(&[(85, 100)])),
            (&[FromTo(2, 3), FromTo(0, 9)], 100, Some(&[(0, 10)])),
            (&[], 100, None),
        ];
        for (specs, len, expected) in cases {
            assert_eq!(
                resolve_ranges(specs, *len)
                    .map(|v| v.iter().map(|r| (r.start, r.end)).collect::<Vec<_>>())
                    .as_deref(),
                *expected,
                "{specs:?} over {len}"
            );
        }
    }

    /// The naive reference: mark each selected byte, then read the runs off the bitmap.
    fn bitmap_reference(specs: &[ByteRangeSpec], len: u64) -> Option<Vec<Range<u64>>> {
        let mut selected = vec![false; len as usize];
        for spec in specs {
            for (i, byte) in selected.iter_mut().enumerate() {
                let i = i as u64;
                *byte |= match *spec {
                    FromTo(a, b) => a <= i && i <= b,
                    From(a) => a <= i,
                    Suffix(n) => n > 0 && i + n >= len,
                };
            }
        }
        let mut runs = Vec::new();
        let mut i = 0;
        while i < len {
            if selected[i as usize] {
                let start = i;
                while i < len && selected[i as usize] {
                    i += 1;
                }
                runs.push(start..i);
            } else {
                i += 1;
            }
        }
        if runs.is_empty() { None } else { Some(runs) }
    }

    fn spec() -> impl Strategy<Value = ByteRangeSpec> {
        prop_oneof![
            (0u64..80, 0u64..80).prop_map(|(a, b)| FromTo(a.min(b), a.max(b))),
            (0u64..80).prop_map(From),
            (0u64..80).prop_map(Suffix),
        ]
    }

    fn render(spec: &ByteRangeSpec) -> String {
        match spec {
            FromTo(a, b) => format!("{a}-{b}"),
            From(a) => format!("{a}-"),
            Suffix(n) => format!("-{n}"),
        }
    }

    proptest! {
        #[test]
        fn resolve_agrees_with_a_bitmap(
            specs in proptest::collection::vec(spec(), 0..6),
            len in 0u64..64,
        ) {
            prop_assert_eq!(resolve_ranges(&specs, len), bitmap_reference(&specs, len));
        }

        #[test]
        fn rendered_specs_parse_back(
            specs in proptest::collection::vec(spec(), 1..6),
            sep in "(,|, |\t,|,,| ,\t)",
        ) {
            let value = format!(
                "bytes={}",
                specs.iter().map(render).collect::<Vec<_>>().join(&sep)
            );
            prop_assert_eq!(parse_range(value.as_bytes(), 16), Some(specs));
        }

        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..40), max in 0usize..4) {
            if let Some(specs) = parse_range(&input, max) {
                prop_assert!(!specs.is_empty() && specs.len() <= max);
            }
        }
    }
}
