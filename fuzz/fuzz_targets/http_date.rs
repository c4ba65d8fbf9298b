//! Fuzzes `parse_http_date`: never a panic, and a parsed time, formatted as IMF-fixdate
//! with `format_http_date`, parses back to the same time (RFC 9110 §5.6.7: the three forms
//! name the same instants, and IMF-fixdate is the one a sender generates). The formatted
//! text is a fixpoint: formatting the re-parsed time gives the same 29 bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{format_http_date, parse_http_date};
use std::time::UNIX_EPOCH;

fuzz_target!(|input: &[u8]| {
    let Some(time) = parse_http_date(input) else {
        return;
    };
    assert!(time >= UNIX_EPOCH);
    let written = format_http_date(time);
    let again = parse_http_date(&written);
    assert_eq!(again, Some(time), "{:?}", String::from_utf8_lossy(&written));
    assert_eq!(format_http_date(time), written);
});
