//! Fuzzes `parse_query`: it never panics on any string, and the pairs it returns, written
//! back with the application/x-www-form-urlencoded serializer (WHATWG URL Standard §5.2),
//! parse again to the same pairs.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::parse_query;
use nomserve_grammar::testing::serialize_query;

fuzz_target!(|input: &[u8]| {
    let Ok(query) = std::str::from_utf8(input) else {
        return;
    };
    let pairs: Vec<(String, String)> = parse_query(query)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    assert!(pairs.len() <= query.len());
    let written = serialize_query(pairs.iter().map(|(n, v)| (n, v)));
    let again: Vec<(String, String)> = parse_query(&written)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(again, pairs, "{written:?}");
});
