//! Accept (RFC 9110 §12.5.1): media ranges with their weights (§12.4.2).
//!
//! The static file handler answers a path that names no file with the site's fallback page
//! only when the client prefers HTML (a browser navigating), so it must know how much a
//! client wants `text/html` compared with everything else it listed. The field is parsed into
//! media ranges with weights in thousandths, and [`MediaRange::quality`] gives the weight a
//! media type gets from the most specific range that matches it.
//!
//! Media-type parameters are checked by the grammar but not kept: the server compares types
//! only. The entry point is total, with work linear in its input.

#![forbid(unsafe_code)]

use crate::abnf::{ascii_str, list, ows, quoted_string, token};
use crate::accept_encoding::weight;
use crate::error::ErrorKind;
use crate::fail::{Fail, PResult, fail};
use nom::Parser;
use nom::bytes::complete::tag;
use nom::combinator::{all_consuming, opt};
use nom::sequence::separated_pair;

/// One media-range of Accept with its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaRange<'a> {
    /// The type, or `*` (only with subtype `*`).
    pub kind: &'a str,
    /// The subtype, or `*`.
    pub subtype: &'a str,
    /// The qvalue times 1000 (0 to 1000).
    pub q: u16,
}

/// Parses an Accept field value; `None` if malformed.
///
/// ```text
/// Accept      = #( media-range [ weight ] )
/// media-range = ( "*/*"
///               / ( type "/" "*" )
///               / ( type "/" subtype )
///               ) parameters
/// type        = token
/// subtype     = token
/// parameters  = *( OWS ";" OWS [ parameter ] )
/// parameter   = parameter-name "=" parameter-value
/// parameter-name  = token
/// parameter-value = ( token / quoted-string )
/// weight      = OWS ";" OWS "q=" qvalue
/// ```
/// RFC 9110 §12.5.1, §8.3.1, §5.6.6, §12.4.2 and the list rule of §5.6.1.2 (empty elements
/// tolerated). The weight ends its element, and a parameter named `q` is only ever the
/// weight: RFC 9110 §12.5.1 has the weight separate the media type's parameters from the
/// rest and says senders should not use a media-type parameter named "q", so `q=x` is
/// malformed rather than a parameter. A range without a weight has
/// q = 1000; `*/html` is malformed (a wildcard type needs a wildcard subtype). An empty value
/// gives `Some(vec![])`.
///
/// ```
/// use nomserve_grammar::{MediaRange, parse_accept};
///
/// assert_eq!(
///     parse_accept(b"text/html;level=1, */*;q=0.8"),
///     Some(vec![
///         MediaRange { kind: "text", subtype: "html", q: 1000 },
///         MediaRange { kind: "*", subtype: "*", q: 800 },
///     ])
/// );
/// assert_eq!(parse_accept(b"text/html;q=2"), None);
/// ```
pub fn parse_accept(input: &[u8]) -> Option<Vec<MediaRange<'_>>> {
    let (_, ranges) = all_consuming(list(media_range_with_weight))
        .parse(input)
        .ok()?;
    Some(ranges)
}

impl MediaRange<'_> {
    /// The weight (thousandths) `ranges`, a parsed Accept value, gives the media type
    /// `kind`/`subtype`, or `None` when no range matches it.
    ///
    /// RFC 9110 §12.5.1: "Media ranges can be overridden by more specific media ranges or
    /// specific media types. If more than one media range applies to a given type, the most
    /// specific reference has precedence": `text/html` over `text/*` over `*/*`. Types are
    /// compared case-insensitively (§8.3.1); among ranges equally specific (the same type
    /// listed twice, with different parameters) the highest weight counts.
    ///
    /// ```
    /// use nomserve_grammar::{MediaRange, parse_accept};
    ///
    /// let ranges = parse_accept(b"text/*;q=0.5, text/html, */*;q=0.1").unwrap();
    /// assert_eq!(MediaRange::quality(&ranges, "text", "html"), Some(1000));
    /// assert_eq!(MediaRange::quality(&ranges, "text", "css"), Some(500));
    /// assert_eq!(MediaRange::quality(&ranges, "image", "png"), Some(100));
    /// ```
    pub fn quality(ranges: &[MediaRange<'_>], kind: &str, subtype: &str) -> Option<u16> {
        let specificity = |range: &MediaRange<'_>| {
            let kind_matches = range.kind.eq_ignore_ascii_case(kind);
            if kind_matches && range.subtype.eq_ignore_ascii_case(subtype) {
                Some(2)
            } else if kind_matches && range.subtype == "*" {
                Some(1)
            } else if range.kind == "*" && range.subtype == "*" {
                Some(0)
            } else {
                None
            }
        };
        ranges
            .iter()
            .filter_map(|range| Some((specificity(range)?, range.q)))
            .max()
            .map(|(_, q)| q)
    }
}

/// `media-range [ weight ]`, one element of Accept; no weight means `q=1` (RFC 9110 §12.4.2).
fn media_range_with_weight(input: &[u8]) -> PResult<'_, MediaRange<'_>> {
    let (mut rest, (kind, subtype)) = separated_pair(token, tag("/"), token).parse(input)?;
    if kind == b"*" && subtype != b"*" {
        return fail(ErrorKind::InvalidFieldValue, input);
    }
    let mut q = None;
    loop {
        if let Ok((after, weight)) = weight(rest) {
            rest = after;
            q = Some(weight);
            break;
        }
        // `OWS ";" OWS [ parameter ]`, or the end of the parameters.
        let Ok((after, _)) = (ows, tag(";"), ows).parse(rest) else {
            break;
        };
        rest = opt(parameter).parse(after)?.0;
    }
    Ok((
        rest,
        MediaRange {
            kind: ascii_str(kind),
            subtype: ascii_str(subtype),
            q: q.unwrap_or(1000),
        },
    ))
}

/// `parameter = parameter-name "=" parameter-value`, with `parameter-value = ( token /
/// quoted-string )` (RFC 9110 §5.6.6); a parameter named `q` is refused (see
/// [`parse_accept`]).
fn parameter(input: &[u8]) -> PResult<'_, ()> {
    let (rest, name) = token(input)?;
    if name.eq_ignore_ascii_case(b"q") {
        return Err(nom::Err::Failure(Fail {
            kind: ErrorKind::InvalidFieldValue,
            at: input,
        }));
    }
    let (rest, _) = tag("=").parse(rest)?;
    match token(rest) {
        Ok((rest, _)) => Ok((rest, ())),
        Err(_) => quoted_string(rest).map(|(rest, _)| (rest, ())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r<'a>(kind: &'a str, subtype: &'a str, q: u16) -> MediaRange<'a> {
        MediaRange { kind, subtype, q }
    }

    #[test]
    fn valid_values() {
        let cases: &[(&str, &[MediaRange<'_>])] = &[
            // Chromium navigating.
            (
                "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                 image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
                &[
                    r("text", "html", 1000),
                    r("application", "xhtml+xml", 1000),
                    r("application", "xml", 900),
                    r("image", "avif", 1000),
                    r("image", "webp", 1000),
                    r("image", "apng", 1000),
                    r("*", "*", 800),
                    r("application", "signed-exchange", 700),
                ],
            ),
            ("*/*", &[r("*", "*", 1000)]),
            ("text/*;q=0.3", &[r("text", "*", 300)]),
            ("TEXT/HTML;Q=0.5", &[r("TEXT", "HTML", 500)]),
            (
                "text/html; charset=\"utf-8\" ; q=0.5 , text/plain",
                &[r("text", "html", 500), r("text", "plain", 1000)],
            ),
            ("text/html;;level=1;", &[r("text", "html", 1000)]),
            ("text/html;a=\"x;q=1\"", &[r("text", "html", 1000)]),
            ("", &[]),
            (", ,", &[]),
        ];
        for (value, expected) in cases {
            assert_eq!(
                parse_accept(value.as_bytes()).as_deref(),
                Some(*expected),
                "{value:?}"
            );
        }
    }

    #[test]
    fn invalid_values() {
        for value in [
            "text",
            "text/",
            "/html",
            "*/html",
            "text/html;q=2",
            "text/html;q=x",
            "text/html;q",
            "text/html;q=0.5;level=1",
            "text/html;level",
            "text/html;level=",
            "text/html;level=\"open",
            "text/html text/plain",
            "text/html;q=0.5x",
            "te\"xt/html",
        ] {
            assert_eq!(parse_accept(value.as_bytes()), None, "{value:?}");
        }
    }

    #[test]
    fn quality_takes_the_most_specific_range() {
        let ranges = |v: &'static str| parse_accept(v.as_bytes()).unwrap();
        let html = |v| MediaRange::quality(&ranges(v), "text", "html");
        assert_eq!(html("text/html"), Some(1000));
        assert_eq!(html("Text/HTML;q=0.4"), Some(400));
        assert_eq!(html("*/*;q=0.2, text/*;q=0.3"), Some(300));
        assert_eq!(html("text/html;q=0.1, */*"), Some(100));
        assert_eq!(html("text/html;level=1;q=0.2, text/html;q=0.6"), Some(600));
        assert_eq!(html("*/*"), Some(1000));
        assert_eq!(html("image/*, text/css"), None);
        assert_eq!(html(""), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_weights_stay_in_range(input in proptest::collection::vec(any::<u8>(), 0..60)) {
            if let Some(ranges) = parse_accept(&input) {
                prop_assert!(ranges.iter().all(|r| r.q <= 1000));
            }
        }

        #[test]
        fn rendered_lists_parse_back(
            entries in proptest::collection::vec(("[a-z]{1,6}", "[a-z+.-]{1,6}|\\*", 0u16..=1000), 0..6),
        ) {
            let value = entries
                .iter()
                .map(|(kind, subtype, q)| {
                    let digits = format!("{q:04}");
                    format!("{kind}/{subtype};q={}.{}", &digits[..1], &digits[1..])
                })
                .collect::<Vec<_>>()
                .join(", ");
            let expected: Vec<MediaRange<'_>> =
                entries.iter().map(|(kind, subtype, q)| r(kind, subtype, *q)).collect();
            prop_assert_eq!(parse_accept(value.as_bytes()), Some(expected));
        }
    }
}
