//! Fuzzes `parse_request` for its contract, not only for crashes:
//! - it never panics;
//! - `Complete` consumes at most the input, and the same input with bytes appended gives the
//!   same consumed count;
//! - an error's offset is inside the input and its status is one the grammar can produce;
//! - fed in pieces (every split point of the first 64 bytes, and a few beyond), each prefix
//!   gives `Partial` or the whole input's own error, and a prefix that holds the whole head
//!   gives the same result as the whole;
//! - an accepted head, written back in canonical form (method, target, version, fields),
//!   parses again to the same `Request`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_fuzz::serialise;
use nomserve_grammar::{Error, Header, Limits, Parsed, parse_request};

/// Small limits, so that the fuzzer reaches them.
const LIMITS: Limits = Limits {
    max_request_line: 256,
    max_head: 1024,
    max_headers: 8,
};

/// What a parse said, without the borrowed request.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Complete(usize),
    Partial,
    Failed(Error),
}

fn parse(input: &[u8]) -> Seen {
    let mut headers = [Header::EMPTY; 16];
    match parse_request(input, &mut headers, &LIMITS) {
        Ok(Parsed::Complete { consumed, .. }) => Seen::Complete(consumed),
        Ok(Parsed::Partial) => Seen::Partial,
        Err(e) => Seen::Failed(e),
    }
}

/// Parses `input` (a whole head), writes the request back with `serialise`, and checks that
/// the written head parses to the same request. The written head may be a few bytes longer
/// than the original (`name: value` where the original had `name:value`, `/` for an
/// absolute-form's empty path), so it is parsed under the default limits.
fn round_trip(input: &[u8]) {
    let mut headers = [Header::EMPTY; 16];
    let Ok(Parsed::Complete { value: first, .. }) = parse_request(input, &mut headers, &LIMITS)
    else {
        panic!("the head parsed a moment ago");
    };
    let written = serialise(&first);
    let mut again = [Header::EMPTY; 16];
    match parse_request(&written, &mut again, &Limits::default()) {
        Ok(Parsed::Complete { value, consumed }) => {
            assert_eq!(consumed, written.len());
            assert_eq!(value, first, "{:?}", String::from_utf8_lossy(&written));
        }
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(&written)),
    }
}

fuzz_target!(|input: &[u8]| {
    let whole = parse(input);
    match whole {
        Seen::Complete(consumed) => {
            assert!(consumed <= input.len());
            assert!(consumed <= LIMITS.max_head);
            let mut longer = input.to_vec();
            longer.extend_from_slice(b"GET / HTTP/1.1\r\n");
            assert_eq!(parse(&longer), Seen::Complete(consumed));
            round_trip(input);
        }
        Seen::Failed(e) => {
            assert!(e.offset() <= input.len());
            assert!(matches!(e.status(), 400 | 414 | 431 | 501 | 505), "{e:?}");
        }
        Seen::Partial => {}
    }
    let splits = (0..input.len().min(64)).chain([
        input.len() / 3,
        input.len() / 2,
        input.len() - input.len() / 4,
    ]);
    for end in splits.filter(|&end| end <= input.len()) {
        let prefix = parse(&input[..end]);
        match (&whole, &prefix) {
            (_, Seen::Partial) => {}
            (Seen::Complete(consumed), Seen::Complete(c)) => {
                assert!(end >= *consumed, "a prefix of {end} bytes completed");
                assert_eq!(c, consumed);
            }
            (Seen::Failed(e), Seen::Failed(p)) => assert_eq!(e, p, "prefix of {end} bytes"),
            _ => panic!("prefix of {end} bytes: {prefix:?}, whole: {whole:?}"),
        }
    }
});
