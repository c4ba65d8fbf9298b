//! The head of every answer about a file: `200`, `206` and `304`, for the file as it is, a
//! precompressed variant or one made here (and HEAD, answered as GET is), built by
//! [`head`] alone, so that they all describe a representation the same way.

use super::coding::ContentCoding;
use super::headers::{self, Field};
use super::validators::Validators;
use std::borrow::Cow;

/// What the answers about one representation of a file say about it.
pub(super) struct Representation<'a> {
    /// Its entity-tag and Last-Modified.
    pub(super) validators: &'a Validators,
    /// The file's Content-Type (RFC 9110 §8.4: a coding is applied to content of that type).
    pub(super) content_type: &'a Cow<'static, str>,
    /// Its content coding, `None` for the file as it is.
    pub(super) coding: Option<ContentCoding>,
    /// Whether ranges of it are answered (`Accept-Ranges: bytes`, RFC 9110 §14.3): of a file
    /// on disk, not of a variant made here.
    pub(super) ranges: bool,
    /// Whether the file has other codings, so the choice depends on Accept-Encoding (`Vary`,
    /// RFC 9110 §12.5.5).
    pub(super) vary: bool,
}

/// Which answer the head is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer<'a> {
    /// The content, whole or one range of it (`200`, `206`).
    Content,
    /// Several ranges (`206`): the whole is of the `multipart/byteranges` type given.
    Parts(&'a str),
    /// `304`: a cache's copy is current.
    NotModified,
}

/// The fields of `answer` about `representation`, merged with the `configured` fields for
/// its path ([`headers::apply`]).
///
/// A content answer carries the validators, Accept-Ranges (when ranges are answered),
/// Content-Encoding, Content-Type, Vary (when the file has other codings) and
/// `X-Content-Type-Options: nosniff`. A `304` carries those a `200` would among ETag, Vary,
/// Cache-Control and the like (RFC 9110 §15.4.5), Last-Modified too, which helps caches;
/// not Content-Type, Content-Encoding or Accept-Ranges, which describe content it does not
/// have. A configured Content-Type goes on neither a `304` nor a multipart `206`, whose
/// whole is `multipart/byteranges` whatever type is configured.
pub(super) fn head(
    representation: &Representation<'_>,
    answer: Answer<'_>,
    configured: &[Field],
) -> Vec<Field> {
    let validators = representation.validators;
    let mut fields: Vec<Field> = Vec::with_capacity(8 + configured.len());
    fields.push(("ETag".into(), validators.etag().into()));
    fields.push((
        "Last-Modified".into(),
        validators.last_modified_value().into(),
    ));
    if answer != Answer::NotModified {
        if representation.ranges {
            fields.push(("Accept-Ranges".into(), "bytes".into()));
        }
        if let Some(coding) = representation.coding {
            fields.push(("Content-Encoding".into(), coding.name().into()));
        }
        let content_type = match answer {
            Answer::Parts(multipart) => Cow::Owned(multipart.to_string()),
            _ => representation.content_type.clone(),
        };
        fields.push(("Content-Type".into(), content_type.into()));
    }
    if representation.vary {
        fields.push(("Vary".into(), "Accept-Encoding".into()));
    }
    fields.push(("X-Content-Type-Options".into(), "nosniff".into()));
    if answer == Answer::Content {
        headers::apply(&mut fields, configured);
    } else {
        let configured: Vec<Field> = configured
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("Content-Type"))
            .cloned()
            .collect();
        headers::apply(&mut fields, &configured);
    }
    fields
}

/// `fields` as they are sent: each `name: value` and CRLF.
pub(super) fn serialise(fields: &[Field]) -> Vec<u8> {
    let mut bytes = String::with_capacity(256);
    for (name, value) in fields {
        bytes.push_str(name);
        bytes.push_str(": ");
        bytes.push_str(value);
        bytes.push_str("\r\n");
    }
    bytes.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn names(fields: &[Field]) -> Vec<&str> {
        fields.iter().map(|(name, _)| name.as_ref()).collect()
    }

    fn value<'f>(fields: &'f [Field], name: &str) -> Option<&'f str> {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }

    #[test]
    fn each_answer_describes_the_representation_its_way() {
        let now = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let validators = Validators::new(10, 1_700_000_000, 5, Some("gzip"), now);
        let content_type = Cow::Borrowed("text/html; charset=utf-8");
        let representation = Representation {
            validators: &validators,
            content_type: &content_type,
            coding: Some(ContentCoding::Gzip),
            ranges: true,
            vary: true,
        };
        let configured: Vec<Field> = vec![
            ("Cache-Control".into(), "no-cache".into()),
            ("content-type".into(), "text/plain".into()),
            ("Vary".into(), "Origin".into()),
            ("X-Content-Type-Options".into(), "nosniff".into()),
        ];
        let whole = head(&representation, Answer::Content, &configured);
        assert_eq!(
            names(&whole),
            [
                "ETag",
                "Last-Modified",
                "Accept-Ranges",
                "Content-Encoding",
                "Vary",
                "Cache-Control",
                "content-type",
                "Vary",
                "X-Content-Type-Options",
            ]
        );
        assert_eq!(value(&whole, "ETag"), Some(validators.etag().as_str()));
        assert_eq!(value(&whole, "Content-Encoding"), Some("gzip"));
        assert_eq!(value(&whole, "Content-Type"), Some("text/plain"));

        let parts = head(
            &representation,
            Answer::Parts("multipart/byteranges; boundary=b"),
            &configured,
        );
        assert_eq!(
            value(&parts, "Content-Type"),
            Some("multipart/byteranges; boundary=b")
        );
        assert_eq!(names(&parts).iter().filter(|n| **n == "Vary").count(), 2);

        let not_modified = head(&representation, Answer::NotModified, &configured);
        assert_eq!(
            names(&not_modified),
            [
                "ETag",
                "Last-Modified",
                "Vary",
                "Cache-Control",
                "Vary",
                "X-Content-Type-Options",
            ]
        );
    }

    #[test]
    fn the_file_as_it_is_without_other_codings() {
        let now = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let validators = Validators::new(10, 1_700_000_000, 5, None, now);
        let content_type = Cow::Borrowed("image/png");
        let representation = Representation {
            validators: &validators,
            content_type: &content_type,
            coding: None,
            ranges: false,
            vary: false,
        };
        let fields = head(&representation, Answer::Content, &[]);
        assert_eq!(
            names(&fields),
            [
                "ETag",
                "Last-Modified",
                "Content-Type",
                "X-Content-Type-Options"
            ]
        );
        let text = String::from_utf8(serialise(&fields)).unwrap();
        assert!(text.starts_with("ETag: \""), "{text}");
        assert!(
            text.ends_with("Content-Type: image/png\r\nX-Content-Type-Options: nosniff\r\n"),
            "{text}"
        );
    }
}
