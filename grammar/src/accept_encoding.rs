//! Accept-Encoding (RFC 9110 §12.5.3) with its weights (§12.4.2).
//!
//! The static file handler serves precompressed variants (`.br`, `.zst`, `.gz`) only to
//! clients that accept them. The field is parsed into a list of codings with weights in
//! thousandths (integers, so no float comparison can surprise), and [`Coding::weight`] answers
//! the one question the handler asks: how much does the client want this coding?
//!
//! The entry point is total, with work linear in its input.

#![forbid(unsafe_code)]

use crate::abnf::{DIGIT, ascii_str, list, ows, token};
use crate::fail::{Fail, PResult};
use nom::Parser;
use nom::bytes::complete::{tag, tag_no_case, take_while_m_n};
use nom::combinator::{all_consuming, map, opt};
use nom::sequence::preceded;

/// One codings element with its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coding<'a> {
    /// The content-coding, `identity` or `*`.
    pub name: &'a str,
    /// The qvalue times 1000 (0 to 1000).
    pub q: u16,
}

/// Parses an Accept-Encoding field value; `None` if malformed.
///
/// ```text
/// Accept-Encoding = #( codings [ weight ] )
/// codings         = content-coding / "identity" / "*"
/// content-coding  = token
/// #element        => [ element ] *( OWS "," OWS [ element ] )
/// ```
/// RFC 9110 §12.5.3, §8.4.1, and the list rule of §5.6.1.2 (empty elements tolerated).
/// A coding without a weight has q = 1000. An empty value gives `Some(vec![])`, which
/// RFC 9110 §12.5.3 reads as "the user agent does not want any content coding": only
/// identity is acceptable. Names are kept as received; compare them case-insensitively
/// (content codings are case-insensitive, RFC 9110 §8.4.1).
///
/// ```
/// use nomserve_grammar::{Coding, parse_accept_encoding};
///
/// assert_eq!(
///     parse_accept_encoding(b"gzip, br;q=0.8"),
///     Some(vec![Coding { name: "gzip", q: 1000 }, Coding { name: "br", q: 800 }])
/// );
/// assert_eq!(parse_accept_encoding(b"gzip;q=2"), None);
/// ```
pub fn parse_accept_encoding(input: &[u8]) -> Option<Vec<Coding<'_>>> {
    let (_, codings) = all_consuming(accept_encoding).parse(input).ok()?;
    Some(codings)
}

impl Coding<'_> {
    /// How much the client wants `name` (a content-coding or `identity`) according to
    /// `codings`, a parsed Accept-Encoding value, in thousandths: 0 means "not acceptable".
    ///
    /// RFC 9110 §12.5.3 and §12.4.2:
    /// - an entry for `name` itself (case-insensitive) decides; if the client listed it more
    ///   than once, the first entry counts;
    /// - otherwise the `*` entry decides ("matches any available content coding not
    ///   explicitly listed");
    /// - otherwise a content-coding is not acceptable (0), while `identity` is acceptable by
    ///   default (1000): "unless specifically excluded by the Accept-Encoding header field
    ///   stating either `identity;q=0` or `*;q=0` without a more specific entry for
    ///   identity".
    ///
    /// A request *without* the field accepts every coding (RFC 9110 §12.5.3); that case is the
    /// caller's, since it has no list to pass. An associated function rather than a free one
    /// so that it is reachable through the `Coding` re-export.
    ///
    /// ```
    /// use nomserve_grammar::{Coding, parse_accept_encoding};
    ///
    /// let list = parse_accept_encoding(b"br;q=0.9, *;q=0.1").unwrap();
    /// assert_eq!(Coding::weight(&list, "br"), 900);
    /// assert_eq!(Coding::weight(&list, "gzip"), 100);
    /// assert_eq!(Coding::weight(&list, "identity"), 100);
    /// ```
    pub fn weight(codings: &[Coding<'_>], name: &str) -> u16 {
        let entry = |wanted: &str| {
            codings
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(wanted))
                .map(|c| c.q)
        };
        entry(name)
            .or_else(|| entry("*"))
            .unwrap_or(if name.eq_ignore_ascii_case("identity") {
                1000
            } else {
                0
            })
    }

    /// Whether `codings` accepts `name` at all: [`Coding::weight`] above 0.
    pub fn accepts(codings: &[Coding<'_>], name: &str) -> bool {
        Self::weight(codings, name) > 0
    }
}

/// `Accept-Encoding = #( codings [ weight ] )`, as
/// `[ element ] *( OWS "," OWS [ element ] )` (RFC 9110 §12.5.3, §5.6.1.2).
fn accept_encoding(input: &[u8]) -> PResult<'_, Vec<Coding<'_>>> {
    list(coding_with_weight).parse(input)
}

/// `codings [ weight ]`, one element of Accept-Encoding; no weight means `q=1` (RFC 9110
/// §12.4.2).
fn coding_with_weight(input: &[u8]) -> PResult<'_, Coding<'_>> {
    map((codings, opt(weight)), |(name, q)| Coding {
        name,
        q: q.unwrap_or(1000),
    })
    .parse(input)
}

/// `codings = content-coding / "identity" / "*"` with `content-coding = token`
/// (RFC 9110 §12.5.3, §8.4.1). `identity` and `*` are tokens too, so one rule reads all three.
fn codings(input: &[u8]) -> PResult<'_, &str> {
    map(token, ascii_str).parse(input)
}

/// `weight = OWS ";" OWS "q=" qvalue` (RFC 9110 §12.4.2); `"q="` is case-insensitive, as
/// ABNF strings are.
pub(crate) fn weight(input: &[u8]) -> PResult<'_, u16> {
    preceded((ows, tag(";"), ows, tag_no_case("q=")), qvalue).parse(input)
}

/// ```text
/// qvalue = ( "0" [ "." 0*3DIGIT ] )
///        / ( "1" [ "." 0*3("0") ] )
/// ```
/// RFC 9110 §12.4.2, as thousandths: `0.5` is 500, `1` is 1000.
fn qvalue(input: &[u8]) -> PResult<'_, u16> {
    let fraction = |digit: fn(u8) -> bool| {
        map(
            opt(preceded(tag("."), take_while_m_n(0, 3, digit))),
            |ds: Option<&[u8]>| {
                let ds = ds.unwrap_or_default();
                (0..3).fold(0u16, |acc, i| {
                    acc * 10 + ds.get(i).map_or(0, |&d| u16::from(d - b'0'))
                })
            },
        )
    };
    match tag::<_, _, Fail<'_>>("1").parse(input) {
        Ok((rest, _)) => map(fraction(|b| b == b'0'), |_| 1000).parse(rest),
        Err(_) => preceded(tag("0"), fraction(|b| DIGIT.contains(b))).parse(input),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(name: &str, q: u16) -> Coding<'_> {
        Coding { name, q }
    }

    #[test]
    fn valid_values() {
        let cases: &[(&str, &[Coding<'_>])] = &[
            ("gzip, br;q=0.8", &[c("gzip", 1000), c("br", 800)]),
            ("*;q=0", &[c("*", 0)]),
            ("br;q=0", &[c("br", 0)]),
            ("GZIP", &[c("GZIP", 1000)]),
            ("gzip;Q=0.5", &[c("gzip", 500)]),
            ("gzip ; q=0.5 ,br\t;\tq=1", &[c("gzip", 500), c("br", 1000)]),
            ("identity;q=0", &[c("identity", 0)]),
            ("compress, gzip", &[c("compress", 1000), c("gzip", 1000)]),
            ("", &[]),
            (",", &[]),
            ("gzip,,br", &[c("gzip", 1000), c("br", 1000)]),
            ("gzip;q=1.0", &[c("gzip", 1000)]),
            ("gzip;q=1.000", &[c("gzip", 1000)]),
            ("gzip;q=1.", &[c("gzip", 1000)]),
            ("gzip;q=0.", &[c("gzip", 0)]),
            ("gzip;q=0.001", &[c("gzip", 1)]),
            ("gzip;q=0.05", &[c("gzip", 50)]),
            ("gzip;q=0.999", &[c("gzip", 999)]),
            (
                "deflate, gzip;q=1.0, *;q=0.5",
                &[c("deflate", 1000), c("gzip", 1000), c("*", 500)],
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(
                parse_accept_encoding(value.as_bytes()).as_deref(),
                Some(*expected),
                "{value:?}"
            );
        }
    }

    #[test]
    fn invalid_values() {
        for value in [
            "gzip;q=1.0001",
            "gzip;q=1.001",
            "gzip;q=1.5",
            "gzip;q=2",
            "gzip;q=0.1234",
            "gzip;q=.5",
            "gzip;q=",
            "gzip;q",
            "gzip;level=1",
            "gzip;",
            "gzip q=1",
            "gzip br",
            ";q=1",
            "gz\"ip",
            "gzip;q=0.5;q=0.4",
            "gzip;q=-0",
            "gzip; q =0.5",
        ] {
            assert_eq!(parse_accept_encoding(value.as_bytes()), None, "{value:?}");
        }
    }

    #[test]
    fn weights() {
        let list = |v: &'static str| parse_accept_encoding(v.as_bytes()).unwrap();
        assert_eq!(Coding::weight(&list("gzip, br;q=0.8"), "br"), 800);
        assert_eq!(Coding::weight(&list("gzip, br;q=0.8"), "gzip"), 1000);
        assert_eq!(Coding::weight(&list("gzip, br;q=0.8"), "zstd"), 0);
        assert_eq!(Coding::weight(&list("GZIP"), "gzip"), 1000);
        assert_eq!(Coding::weight(&list("gzip"), "GZip"), 1000);
        assert_eq!(Coding::weight(&list("br;q=0, *"), "br"), 0);
        assert_eq!(Coding::weight(&list("br;q=0, *"), "gzip"), 1000);
        assert_eq!(Coding::weight(&list("*;q=0.3, gzip;q=0.7"), "gzip"), 700);
        assert_eq!(Coding::weight(&list("gzip;q=0.2, gzip;q=0.9"), "gzip"), 200);
        // identity: acceptable unless excluded.
        assert_eq!(Coding::weight(&list(""), "identity"), 1000);
        assert_eq!(Coding::weight(&list(""), "gzip"), 0);
        assert_eq!(Coding::weight(&list("gzip"), "identity"), 1000);
        assert_eq!(Coding::weight(&list("identity;q=0"), "identity"), 0);
        assert_eq!(Coding::weight(&list("*;q=0"), "identity"), 0);
        assert_eq!(Coding::weight(&list("*;q=0, identity"), "identity"), 1000);
        assert_eq!(Coding::weight(&list("*;q=0.5"), "identity"), 500);
        assert!(Coding::accepts(&list("gzip;q=0.001"), "gzip"));
        assert!(!Coding::accepts(&list("gzip;q=0"), "gzip"));
        assert!(!Coding::accepts(&list("*;q=0"), "identity"));
    }

    proptest! {
        #[test]
        fn rendered_lists_parse_back(
            entries in proptest::collection::vec(("[a-z]{1,8}|\\*", 0u16..=1000, any::<bool>()), 0..6),
        ) {
            let value = entries
                .iter()
                .map(|(name, q, bare)| {
                    if *bare && *q == 1000 {
                        name.clone()
                    } else {
                        let digits = format!("{:04}", q);
                        format!("{name};q={}.{}", &digits[..1], &digits[1..])
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let expected: Vec<Coding<'_>> =
                entries.iter().map(|(name, q, _)| c(name, *q)).collect();
            prop_assert_eq!(parse_accept_encoding(value.as_bytes()), Some(expected));
        }

        #[test]
        fn never_panics_and_weights_stay_in_range(input in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Some(list) = parse_accept_encoding(&input) {
                prop_assert!(list.iter().all(|c| c.q <= 1000));
            }
        }
    }
}
