//! Query strings as `application/x-www-form-urlencoded` (WHATWG URL Standard §5.1).
//!
//! RFC 3986 §3.4 gives the query no inner structure; the name/value convention every browser
//! uses when it submits a form is the WHATWG URL Standard's *application/x-www-form-urlencoded
//! parser*. That parser is an algorithm, not a grammar: it never fails, every byte sequence
//! means something. So this module follows the algorithm's steps one by one instead of nom
//! rules, which would only add failure paths that cannot happen.
//!
//! The entry point is total: any `&str` gives pairs, with work linear in its length.

#![forbid(unsafe_code)]

use crate::abnf::{HEXDIG, hex_value};
use std::borrow::Cow;

/// The name/value pairs of `query` (the part after `?`, without it), in order.
///
/// The WHATWG URL Standard §5.1 *application/x-www-form-urlencoded parsing*, step by step:
/// 1. split on `&`; skip empty pieces;
/// 2. the first `=` of a piece splits name from value; a piece without `=` is a name with the
///    empty value;
/// 3. in both, `+` becomes SP, then percent-decoding turns `%XX` into the byte 0xXX; a `%` not
///    followed by two hex digits is kept as it is (§1.3 *percent-decode*);
/// 4. the bytes are read as UTF-8, each invalid sequence becoming U+FFFD.
///
/// Repeated names are all kept, in order. A name or value that needed no decoding is
/// [`Cow::Borrowed`] from `query`. Never fails, never panics.
///
/// ```
/// use nomserve_grammar::parse_query;
///
/// let pairs: Vec<_> = parse_query("q=a+b%21&flag&q=2").collect();
/// assert_eq!(pairs, [("q".into(), "a b!".into()), ("flag".into(), "".into()), ("q".into(), "2".into())]);
/// ```
pub fn parse_query(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (form_decode(name), form_decode(value))
        })
}

/// One name or value: `+` to SP, then percent-decoding, then UTF-8 decoding with replacement
/// (WHATWG URL Standard §5.1 step 3.4 to 3.6, §1.3 *percent-decode*).
///
/// Borrowed when the input holds no `+` and no `%XX` escape, so that decoding changes nothing.
fn form_decode(input: &str) -> Cow<'_, str> {
    let bytes = input.as_bytes();
    if !bytes.iter().any(|&b| b == b'+' || b == b'%') {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'+', _, _) => {
                out.push(b' ');
                changed = true;
                i += 1;
            }
            (b'%', Some(&hi), Some(&lo)) if HEXDIG.contains(hi) && HEXDIG.contains(lo) => {
                out.push(hex_value(hi) << 4 | hex_value(lo));
                changed = true;
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    if !changed {
        return Cow::Borrowed(input);
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        parse_query(query)
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect()
    }

    fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("name=test", &[("name", "test")]),
            ("a=1&a=2", &[("a", "1"), ("a", "2")]),
            ("a", &[("a", "")]),
            ("a=", &[("a", "")]),
            ("=v", &[("", "v")]),
            ("a+b=c%20d", &[("a b", "c d")]),
            ("%zz", &[("%zz", "")]),
            ("%ff", &[("\u{fffd}", "")]),
            ("&&", &[]),
            ("", &[]),
            ("a=b=c", &[("a", "b=c")]),
            ("%", &[("%", "")]),
            ("%4", &[("%4", "")]),
            ("%41%4a%4A", &[("AJJ", "")]),
            ("%2B=%26", &[("+", "&")]),
            ("%c3%a9=%E2%82%AC", &[("é", "€")]),
            ("%c3=x", &[("\u{fffd}", "x")]),
            ("&a=1&&b=2&", &[("a", "1"), ("b", "2")]),
            ("é=ü", &[("é", "ü")]),
        ];
        for (query, expected) in cases {
            assert_eq!(pairs(query), owned(expected), "query {query:?}");
        }
    }

    #[test]
    fn borrowed_when_nothing_to_decode() {
        let mut it = parse_query("name=test&%zz=%4");
        let (n, v) = it.next().unwrap();
        assert!(matches!(n, Cow::Borrowed("name")));
        assert!(matches!(v, Cow::Borrowed("test")));
        let (n, v) = it.next().unwrap();
        assert!(
            matches!(n, Cow::Borrowed("%zz")),
            "a lone % changes nothing"
        );
        assert!(matches!(v, Cow::Borrowed("%4")));
        assert!(it.next().is_none());
    }

    #[test]
    fn owned_when_decoded() {
        let (n, v) = parse_query("a+b=%41").next().unwrap();
        assert!(matches!(n, Cow::Owned(_)));
        assert!(matches!(v, Cow::Owned(_)));
    }

    proptest! {
        #[test]
        fn serialize_then_parse_round_trips(list in proptest::collection::vec((".*", ".*"), 0..8)) {
            prop_assert_eq!(pairs(&crate::testing::serialize_query(list.clone())), list);
        }

        #[test]
        fn total_on_any_input(query in ".*") {
            let got = pairs(&query);
            prop_assert!(got.len() <= query.len());
        }
    }
}
