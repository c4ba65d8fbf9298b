//! Fuzzes `parse_accept`: never a panic, every weight is at most 1000 (q ≤ 1, RFC 9110
//! §12.4.2), and the ranges written back (`type/subtype;q=0.xyz`, `, `-separated) parse to
//! the same list. `MediaRange::quality` answers within 0..=1000 for every range listed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{MediaRange, parse_accept};

/// `media-range weight`, the weight in its shortest exact form (RFC 9110 §12.5.1, §12.4.2).
fn write(ranges: &[MediaRange<'_>]) -> String {
    ranges
        .iter()
        .map(|r| match r.q {
            1000 => format!("{}/{};q=1", r.kind, r.subtype),
            q => format!("{}/{};q=0.{q:03}", r.kind, r.subtype),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fuzz_target!(|input: &[u8]| {
    let Some(ranges) = parse_accept(input) else {
        return;
    };
    for range in &ranges {
        assert!(range.q <= 1000, "{range:?}");
        let quality = MediaRange::quality(&ranges, range.kind, range.subtype);
        assert!(quality.is_some_and(|q| q <= 1000), "{range:?}");
    }
    let written = write(&ranges);
    assert_eq!(parse_accept(written.as_bytes()), Some(ranges), "{written:?}");
});
