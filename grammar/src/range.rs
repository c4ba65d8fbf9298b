//! Range requests (RFC 9110 §14).

use std::ops::Range;

/// One byte-range-spec or suffix-range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRangeSpec {
    /// `first-pos "-" last-pos`
    FromTo(u64, u64),
    /// `first-pos "-"`
    From(u64),
    /// `"-" suffix-length`
    Suffix(u64),
}

/// Parses a Range value.
pub fn parse_range(input: &[u8], max_ranges: usize) -> Option<Vec<ByteRangeSpec>> {
    let _ = (input, max_ranges);
    todo!()
}

/// Resolves against a length.
pub fn resolve_ranges(specs: &[ByteRangeSpec], len: u64) -> Option<Vec<Range<u64>>> {
    let _ = (specs, len);
    todo!()
}
