//! Fuzzes `parse_proxy_header`:
//! - never a panic;
//! - a header is never longer than its version allows (107 bytes for v1, `MAX_V2_LEN` for
//!   v2), and never longer than the input;
//! - the result depends on the header's bytes only: the same header followed by other bytes
//!   parses to the same header, and every strict prefix of a whole header is `Partial`;
//! - an error is placed inside the input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{MAX_V1_LEN, MAX_V2_LEN, Parsed, parse_proxy_header};

fuzz_target!(|input: &[u8]| {
    match parse_proxy_header(input) {
        Ok(Parsed::Complete { value, consumed }) => {
            assert!(consumed <= input.len());
            let bound = if value.version == 1 { MAX_V1_LEN } else { MAX_V2_LEN };
            assert!(consumed <= bound, "{consumed} > {bound}");
            let header = &input[..consumed];
            let mut longer = header.to_vec();
            longer.extend_from_slice(b"GET / HTTP/1.1\r\n");
            assert_eq!(
                parse_proxy_header(&longer),
                Ok(Parsed::Complete { value, consumed })
            );
            for end in [0, consumed / 2, consumed.saturating_sub(1)] {
                if end < consumed {
                    assert_eq!(parse_proxy_header(&header[..end]), Ok(Parsed::Partial));
                }
            }
            let _ = value.tlvs().count();
        }
        Ok(Parsed::Partial) => {}
        Err(error) => assert!(error.offset() < input.len().max(1), "{error:?}"),
    }
});
