//! Fuzzes `parse_query`: it never panics on any string, and the pairs it returns, written
//! back with the application/x-www-form-urlencoded serializer (WHATWG URL Standard §5.2),
//! parse again to the same pairs.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::parse_query;

/// The WHATWG *urlencoded byte serializer* (URL Standard §5.2): `*-._` and alphanumerics as
/// they are, SP as `+`, every other byte as `%XX`.
fn serialize(text: &str, out: &mut String) {
    for &b in text.as_bytes() {
        match b {
            b'*' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Ok(query) = std::str::from_utf8(input) else {
        return;
    };
    let pairs: Vec<(String, String)> = parse_query(query)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    assert!(pairs.len() <= query.len());
    let mut written = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            written.push('&');
        }
        serialize(name, &mut written);
        written.push('=');
        serialize(value, &mut written);
    }
    let again: Vec<(String, String)> = parse_query(&written)
        .map(|(n, v)| (n.into_owned(), v.into_owned()))
        .collect();
    assert_eq!(again, pairs, "{written:?}");
});
