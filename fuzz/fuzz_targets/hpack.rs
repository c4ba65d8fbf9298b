//! Fuzzes `HpackDecoder` over several header blocks on one connection, and `HpackEncoder`:
//! - never a panic; an error is placed inside its block;
//! - with small limits, the bounds hold: the decoded list, its field count and the dynamic
//!   table never pass them;
//! - a block refused for a bound is still processed to its end: a second decoder with no
//!   list bounds, fed the same blocks, decodes the same fields as far as the refused list
//!   goes, fails with the same COMPRESSION_ERROR when there is one, and keeps a table of the
//!   same size;
//! - every list decoded, encoded by our encoder (block after block on one context) and
//!   decoded again, comes back the same.
//!
//! The input is a sequence of blocks, each a length octet and that many octets.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{DecodeLimits, DecodedFields, HpackDecoder, HpackEncoder};

/// Small, so that the fuzzer reaches them.
const TABLE_SIZE: usize = 256;
const LIMITS: DecodeLimits = DecodeLimits {
    max_list_size: 512,
    max_fields: 16,
};
const UNBOUNDED: DecodeLimits = DecodeLimits {
    max_list_size: usize::MAX,
    max_fields: usize::MAX,
};

type List = Vec<(Vec<u8>, Vec<u8>)>;

fn list(fields: &DecodedFields) -> List {
    fields
        .iter()
        .map(|f| (f.name.to_vec(), f.value.to_vec()))
        .collect()
}

fuzz_target!(|input: &[u8]| {
    let mut bounded = HpackDecoder::new(TABLE_SIZE);
    let mut shadow = HpackDecoder::new(TABLE_SIZE);
    let mut encoder = HpackEncoder::new();
    let mut reader = HpackDecoder::new(4096);
    let (mut out, mut shadow_out, mut again) = Default::default();
    let mut rest = input;
    while let Some((&len, after)) = rest.split_first() {
        let (block, after) = after.split_at(usize::from(len).min(after.len()));
        rest = after;
        let result = bounded.decode(block, &mut out, &LIMITS);
        let shadow_result = shadow.decode(block, &mut shadow_out, &UNBOUNDED);
        assert!(out.list_size() <= LIMITS.max_list_size);
        assert!(out.len() <= LIMITS.max_fields);
        assert!(bounded.table_size() <= bounded.max_table_size());
        assert!(bounded.max_table_size() <= TABLE_SIZE);
        let decoded: List = list(&out);
        let whole: List = list(&shadow_out);
        match result {
            Ok(()) => {
                assert_eq!(shadow_result, Ok(()));
                assert_eq!(decoded, whole);
            }
            Err(error) if !error.is_compression_error() => {
                assert!(error.offset() < block.len());
                assert_eq!(shadow_result, Ok(()));
                assert_eq!(decoded, whole[..decoded.len()]);
            }
            Err(error) => {
                assert!(error.offset() <= block.len());
                assert_eq!(shadow_result, Err(error));
                return;
            }
        }
        assert_eq!(bounded.table_size(), shadow.table_size());
        if whole.is_empty() {
            continue;
        }
        let mut encoded = Vec::new();
        encoder.encode(whole.iter().map(|(n, v)| (&n[..], &v[..])), &mut encoded);
        reader
            .decode(&encoded, &mut again, &UNBOUNDED)
            .expect("our own block decodes");
        assert_eq!(list(&again), whole);
    }
});
