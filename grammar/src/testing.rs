//! Helpers for the crate's tests and fuzz targets; not part of the API.

#![forbid(unsafe_code)]

use crate::error::Error;

/// `pairs` as an `application/x-www-form-urlencoded` query, by the WHATWG URL Standard's
/// *urlencoded serializer* (§5.2): `*-._` and ASCII alphanumerics as they are, SP as `+`,
/// every other byte as `%XX`; pairs joined by `&`, each name and value by `=`.
/// [`parse_query`](crate::parse_query) reads it back to the same pairs.
///
/// ```
/// use nomserve_grammar::testing::serialize_query;
///
/// assert_eq!(serialize_query([("q", "a b&c"), ("é", "")]), "q=a+b%26c&%C3%A9=");
/// ```
pub fn serialize_query<N: AsRef<str>, V: AsRef<str>>(
    pairs: impl IntoIterator<Item = (N, V)>,
) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        urlencoded_bytes(name.as_ref(), &mut out);
        out.push('=');
        urlencoded_bytes(value.as_ref(), &mut out);
    }
    out
}

/// The WHATWG URL Standard's *urlencoded byte serializer* (§5.2) of `text`, onto `out`.
fn urlencoded_bytes(text: &str, out: &mut String) {
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

/// Checks the contract of [`Error::byte`]: `error`, found in `input`, names the byte at its
/// offset exactly when its kind names one ([`ErrorKind::names_byte`](crate::ErrorKind::names_byte)).
pub fn assert_names_its_byte(input: &[u8], error: &Error) {
    let expected = input
        .get(error.offset())
        .copied()
        .filter(|_| error.kind().names_byte());
    assert_eq!(error.byte(), expected, "{error}");
}
