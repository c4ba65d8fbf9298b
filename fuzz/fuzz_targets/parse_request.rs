//! Fuzzes `parse_request` for its contract, not only for crashes:
//! - it never panics;
//! - `Complete` consumes at most the input, and the same input with bytes appended gives the
//!   same consumed count;
//! - an error's offset is inside the input and its status is one the grammar can produce;
//! - fed in pieces (every split point of the first 64 bytes, and a few beyond), each prefix
//!   gives `Partial` or the whole input's own error, and a prefix that holds the whole head
//!   gives the same result as the whole.

#![no_main]

use libfuzzer_sys::fuzz_target;
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

fuzz_target!(|input: &[u8]| {
    let whole = parse(input);
    match whole {
        Seen::Complete(consumed) => {
            assert!(consumed <= input.len());
            assert!(consumed <= LIMITS.max_head);
            let mut longer = input.to_vec();
            longer.extend_from_slice(b"GET / HTTP/1.1\r\n");
            assert_eq!(parse(&longer), Seen::Complete(consumed));
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
