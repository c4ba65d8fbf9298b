//! Entity-tags (RFC 9110 §8.8.3) and the If-Match / If-None-Match lists of them (§13.1.1,
//! §13.1.2).
//!
//! An entity-tag is an opaque quoted string, optionally marked weak. Conditional requests
//! compare them two ways, strong and weak (§8.8.3.2); both comparisons live here, next to the
//! grammar, so every handler compares the same way.
//!
//! Both entry points are total, with work linear in their input.

#![forbid(unsafe_code)]

use crate::abnf::list;
use crate::fail::PResult;
use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while};
use nom::combinator::{all_consuming, map, opt, value};
use std::fmt;

/// An entity-tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityTag<'a> {
    /// `W/` prefix present.
    pub weak: bool,
    /// The opaque-tag without its quotes.
    pub tag: &'a str,
}

impl EntityTag<'_> {
    /// Strong comparison (RFC 9110 §8.8.3.2): "two entity tags are equivalent if both are not
    /// weak and their opaque-tags match character-by-character". For If-Match and If-Range.
    pub fn strong_eq(&self, other: &EntityTag<'_>) -> bool {
        !self.weak && !other.weak && self.tag == other.tag
    }

    /// Weak comparison (RFC 9110 §8.8.3.2): "two entity tags are equivalent if their
    /// opaque-tags match character-by-character, regardless of either or both being tagged as
    /// weak". For If-None-Match.
    pub fn weak_eq(&self, other: &EntityTag<'_>) -> bool {
        self.tag == other.tag
    }

    /// The field value form, `"tag"` or `W/"tag"`, for an ETag field.
    pub fn to_header(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for EntityTag<'_> {
    /// Writes `entity-tag = [ weak ] opaque-tag` (RFC 9110 §8.8.3): `"tag"` or `W/"tag"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let weak = if self.weak { "W/" } else { "" };
        write!(f, "{weak}\"{}\"", self.tag)
    }
}

/// An If-Match / If-None-Match value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityTagList<'a> {
    /// `*`
    Any,
    /// `#entity-tag`
    Tags(Vec<EntityTag<'a>>),
}

/// Parses exactly one entity-tag, as If-Range carries (RFC 9110 §13.1.5); no surrounding
/// whitespace.
///
/// ```text
/// entity-tag = [ weak ] opaque-tag
/// weak       = %s"W/"
/// opaque-tag = DQUOTE *etagc DQUOTE
/// etagc      = %x21 / %x23-7E / obs-text
/// ```
/// RFC 9110 §8.8.3. `W` is case-sensitive: `w/"x"` is not an entity-tag.
///
/// **Deviation**: `None` for an opaque-tag whose obs-text bytes are not UTF-8, because
/// [`EntityTag::tag`] is a `&str`. Such a tag cannot equal any tag this server generates
/// (its tags are ASCII), so for If-Range the outcome is the one a mismatch gives: serve the
/// whole representation.
///
/// ```
/// use nomserve_grammar::{EntityTag, parse_entity_tag};
///
/// assert_eq!(parse_entity_tag(br#"W/"v1""#), Some(EntityTag { weak: true, tag: "v1" }));
/// assert_eq!(parse_entity_tag(b"v1"), None);
/// ```
pub fn parse_entity_tag(input: &[u8]) -> Option<EntityTag<'_>> {
    let (_, raw) = all_consuming(entity_tag).parse(input).ok()?;
    raw.to_str()
}

/// Parses an If-Match or If-None-Match value: `*` alone, or a comma-separated list of
/// entity-tags; `None` if malformed.
///
/// ```text
/// If-Match      = "*" / #entity-tag
/// If-None-Match = "*" / #entity-tag
/// #element      => [ element ] *( OWS "," OWS [ element ] )
/// ```
/// RFC 9110 §13.1.1, §13.1.2, and the list rule of §5.6.1.2, which tolerates empty elements
/// (`"a",,"b"`). An empty value is an empty list, as `#` allows: it matches nothing.
///
/// **Deviation**: an entity-tag whose obs-text bytes are not UTF-8 is left out of the list
/// (see [`parse_entity_tag`]). It could not match any tag this server generates, so dropping
/// it gives every comparison the same outcome, and the rest of the list still counts.
///
/// ```
/// use nomserve_grammar::{EntityTag, EntityTagList, parse_entity_tag_list};
///
/// assert_eq!(parse_entity_tag_list(b"*"), Some(EntityTagList::Any));
/// assert_eq!(
///     parse_entity_tag_list(br#"W/"a", "b""#),
///     Some(EntityTagList::Tags(vec![
///         EntityTag { weak: true, tag: "a" },
///         EntityTag { weak: false, tag: "b" },
///     ]))
/// );
/// ```
pub fn parse_entity_tag_list(input: &[u8]) -> Option<EntityTagList<'_>> {
    let (_, list) = all_consuming(alt((
        value(EntityTagList::Any, tag("*")),
        map(entity_tag_list, |raw| {
            EntityTagList::Tags(raw.into_iter().filter_map(RawTag::to_str).collect())
        }),
    )))
    .parse(input)
    .ok()?;
    Some(list)
}

/// An entity-tag as received, before its opaque-tag is read as UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RawTag<'a> {
    weak: bool,
    tag: &'a [u8],
}

impl<'a> RawTag<'a> {
    /// The tag as an [`EntityTag`], if its bytes are UTF-8.
    fn to_str(self) -> Option<EntityTag<'a>> {
        Some(EntityTag {
            weak: self.weak,
            tag: std::str::from_utf8(self.tag).ok()?,
        })
    }
}

/// `#entity-tag`, read as `[ element ] *( OWS "," OWS [ element ] )` (RFC 9110 §5.6.1.2).
fn entity_tag_list(input: &[u8]) -> PResult<'_, Vec<RawTag<'_>>> {
    list(entity_tag).parse(input)
}

/// `entity-tag = [ weak ] opaque-tag` (RFC 9110 §8.8.3)
fn entity_tag(input: &[u8]) -> PResult<'_, RawTag<'_>> {
    map((opt(weak), opaque_tag), |(weak, tag)| RawTag {
        weak: weak.is_some(),
        tag,
    })
    .parse(input)
}

/// `weak = %s"W/"` (RFC 9110 §8.8.3, case-sensitive)
fn weak(input: &[u8]) -> PResult<'_, &[u8]> {
    tag("W/").parse(input)
}

/// ```text
/// opaque-tag = DQUOTE *etagc DQUOTE
/// etagc      = %x21 / %x23-7E / obs-text
///            ; VCHAR except double quotes, plus obs-text
/// ```
/// RFC 9110 §8.8.3. The tag's bytes without the quotes.
fn opaque_tag(input: &[u8]) -> PResult<'_, &[u8]> {
    let etagc = |b: u8| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80;
    let (rest, (_, tag_bytes, _)) = (tag("\""), take_while(etagc), tag("\"")).parse(input)?;
    Ok((rest, tag_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strong(tag: &str) -> EntityTag<'_> {
        EntityTag { weak: false, tag }
    }

    fn weak_tag(tag: &str) -> EntityTag<'_> {
        EntityTag { weak: true, tag }
    }

    #[test]
    fn single_tags() {
        assert_eq!(parse_entity_tag(br#""xyzzy""#), Some(strong("xyzzy")));
        assert_eq!(parse_entity_tag(br#"W/"xyzzy""#), Some(weak_tag("xyzzy")));
        assert_eq!(parse_entity_tag(br#""""#), Some(strong("")));
        assert_eq!(parse_entity_tag(br#""a\b!""#), Some(strong(r"a\b!")));
        assert_eq!(
            parse_entity_tag("\"caf\u{e9}\"".as_bytes()),
            Some(strong("caf\u{e9}"))
        );
        for bad in [
            &b"xyzzy"[..],
            br#"w/"x""#,
            br#"W/x"#,
            br#"W"x""#,
            br#" "x""#,
            br#""x" "#,
            br#""x"y"#,
            br#""x"#,
            br#""a b""#,
            b"\"a\tb\"",
            b"\"a\x7fb\"",
            br#""a"b""#,
            b"*",
            br#""a","b""#,
            b"\"\xff\"",
            b"",
        ] {
            assert_eq!(
                parse_entity_tag(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn lists() {
        use EntityTagList::*;
        let cases: &[(&[u8], Option<EntityTagList<'_>>)] = &[
            (b"*", Some(Any)),
            (
                br#"W/"a", "b""#,
                Some(Tags(vec![weak_tag("a"), strong("b")])),
            ),
            (br#""a",,"b""#, Some(Tags(vec![strong("a"), strong("b")]))),
            (
                br#", "a" ,	"b", "#,
                Some(Tags(vec![strong("a"), strong("b")])),
            ),
            (br#""xyzzy""#, Some(Tags(vec![strong("xyzzy")]))),
            (b"", Some(Tags(vec![]))),
            (b",", Some(Tags(vec![]))),
            (b"\"\xff\", \"a\"", Some(Tags(vec![strong("a")]))),
            (b"**", None),
            (br#"*, "a""#, None),
            (br#""a", *"#, None),
            (b"a", None),
            (br#""a" "b""#, None),
            (br#"w/"a""#, None),
            (br#""a"b"#, None),
        ];
        for (value, expected) in cases {
            assert_eq!(
                &parse_entity_tag_list(value),
                expected,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    /// The example table of RFC 9110 §8.8.3.2.
    #[test]
    fn comparison_table() {
        let rows = [
            (weak_tag("1"), weak_tag("1"), false, true),
            (weak_tag("1"), weak_tag("2"), false, false),
            (weak_tag("1"), strong("1"), false, true),
            (strong("1"), strong("1"), true, true),
        ];
        for (a, b, strong_match, weak_match) in rows {
            assert_eq!(a.strong_eq(&b), strong_match, "{a} {b} strong");
            assert_eq!(b.strong_eq(&a), strong_match, "{b} {a} strong");
            assert_eq!(a.weak_eq(&b), weak_match, "{a} {b} weak");
            assert_eq!(b.weak_eq(&a), weak_match, "{b} {a} weak");
        }
    }

    #[test]
    fn header_form() {
        assert_eq!(strong("abc").to_header(), r#""abc""#);
        assert_eq!(weak_tag("abc").to_header(), r#"W/"abc""#);
        assert_eq!(weak_tag("").to_string(), r#"W/"""#);
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(weak in any::<bool>(), tag in "[!#-~]{0,12}") {
            let etag = EntityTag { weak, tag: &tag };
            let header = etag.to_header();
            prop_assert_eq!(parse_entity_tag(header.as_bytes()), Some(etag));
            let list = format!("{header}, {header}");
            prop_assert_eq!(
                parse_entity_tag_list(list.as_bytes()),
                Some(EntityTagList::Tags(vec![etag, etag]))
            );
        }

        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_entity_tag(&input);
            let _ = parse_entity_tag_list(&input);
        }
    }
}
