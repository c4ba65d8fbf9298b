//! Fuzzes `parse_range` and `resolve_ranges` with an arbitrary representation length:
//! - never a panic; at most `MAX_RANGES` specs; `FromTo(a, b)` always has `a <= b`;
//! - the specs, written back as a Range value, parse to the same specs;
//! - resolved ranges are non-empty, strictly increasing, disjoint and non-adjacent (a gap
//!   between any two), and inside the length;
//! - resolving the resolved ranges again (as `first-last` specs) gives them unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{ByteRangeSpec, parse_range, resolve_ranges};

const MAX_RANGES: usize = 8;

/// `bytes=` and the specs, `, `-separated (RFC 9110 §14.1.1, §14.2).
fn write(specs: &[ByteRangeSpec]) -> String {
    let specs: Vec<String> = specs
        .iter()
        .map(|spec| match *spec {
            ByteRangeSpec::FromTo(first, last) => format!("{first}-{last}"),
            ByteRangeSpec::From(first) => format!("{first}-"),
            ByteRangeSpec::Suffix(n) => format!("-{n}"),
        })
        .collect();
    format!("bytes={}", specs.join(", "))
}

fuzz_target!(|input: &[u8]| {
    let Some((len_bytes, value)) = input.split_first_chunk::<8>() else {
        return;
    };
    // Small lengths most of the time, so that ranges fall inside and outside them.
    let raw = u64::from_le_bytes(*len_bytes);
    let len = if raw & 1 == 0 {
        (raw >> 1) % 4096
    } else {
        raw >> 1
    };
    let Some(specs) = parse_range(value, MAX_RANGES) else {
        return;
    };
    assert!(!specs.is_empty() && specs.len() <= MAX_RANGES);
    for spec in &specs {
        if let ByteRangeSpec::FromTo(first, last) = *spec {
            assert!(first <= last, "{spec:?}");
        }
    }
    let written = write(&specs);
    assert_eq!(
        parse_range(written.as_bytes(), MAX_RANGES).as_ref(),
        Some(&specs),
        "{written:?}"
    );
    let Some(ranges) = resolve_ranges(&specs, len) else {
        return;
    };
    for range in &ranges {
        assert!(
            range.start < range.end && range.end <= len,
            "{range:?} of {len}"
        );
    }
    for pair in ranges.windows(2) {
        assert!(pair[0].end < pair[1].start, "{pair:?}");
    }
    let again: Vec<ByteRangeSpec> = ranges
        .iter()
        .map(|r| ByteRangeSpec::FromTo(r.start, r.end - 1))
        .collect();
    assert_eq!(resolve_ranges(&again, len), Some(ranges));
});
