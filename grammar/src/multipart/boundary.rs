//! The `Content-Type` of a form upload and its boundary (RFC 9110 §8.3.1, RFC 7578 §4.1,
//! RFC 2046 §5.1.1).

#![forbid(unsafe_code)]

use super::error::{MResult, MultipartError, MultipartErrorKind, fail, named};
use crate::abnf::{ows, quoted_string, token};
use std::fmt;

/// The longest boundary RFC 2046 §5.1.1 allows.
const MAX_BOUNDARY: usize = 70;

/// `CRLF "--"`, which starts every delimiter.
const DELIMITER_PREFIX: &[u8] = b"\r\n--";

/// A boundary of a multipart body: 1 to 70 `bchars`, not ending with a space.
///
/// Held inline as the delimiter it makes, `CRLF "--" boundary` (RFC 2046 §5.1.1), so that the
/// type is `Copy` and costs no allocation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Boundary {
    delimiter: [u8; DELIMITER_PREFIX.len() + MAX_BOUNDARY],
    len: usize,
}

impl Boundary {
    /// `boundary` if RFC 2046 §5.1.1 allows it (1 to 70 `bchars`, the last not a space), for
    /// an encoder or a test; a server takes it from the request with [`parse_boundary`].
    pub fn new(boundary: &[u8]) -> Option<Self> {
        if !is_boundary(boundary) {
            return None;
        }
        let mut delimiter = [0; DELIMITER_PREFIX.len() + MAX_BOUNDARY];
        let len = DELIMITER_PREFIX.len() + boundary.len();
        delimiter[..DELIMITER_PREFIX.len()].copy_from_slice(DELIMITER_PREFIX);
        delimiter[DELIMITER_PREFIX.len()..len].copy_from_slice(boundary);
        Some(Boundary { delimiter, len })
    }

    /// The boundary itself, without the `--` that precedes it in the body.
    pub fn as_bytes(&self) -> &[u8] {
        &self.delimiter[DELIMITER_PREFIX.len()..self.len]
    }

    /// `delimiter := CRLF dash-boundary` (RFC 2046 §5.1.1).
    pub(crate) fn delimiter(&self) -> &[u8] {
        &self.delimiter[..self.len]
    }

    /// `dash-boundary := "--" boundary` (RFC 2046 §5.1.1).
    pub(crate) fn dash_boundary(&self) -> &[u8] {
        &self.delimiter[2..self.len]
    }
}

impl fmt::Debug for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Boundary")
            .field(&String::from_utf8_lossy(self.as_bytes()))
            .finish()
    }
}

/// ```text
/// bcharsnospace := DIGIT / ALPHA / "'" / "(" / ")" /
///                  "+" / "_" / "," / "-" / "." /
///                  "/" / ":" / "=" / "?"
/// ```
/// RFC 2046 §5.1.1
const fn is_bcharnospace(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'\'' | b'(' | b')' | b'+' | b'_' | b',' | b'-' | b'.' | b'/' | b':' | b'=' | b'?'
        )
}

/// ```text
/// boundary := 0*69<bchars> bcharsnospace
/// bchars   := bcharsnospace / " "
/// ```
/// RFC 2046 §5.1.1: whether `boundary` is one, 1 to 70 characters.
fn is_boundary(boundary: &[u8]) -> bool {
    match boundary {
        [init @ .., last] if boundary.len() <= MAX_BOUNDARY => {
            is_bcharnospace(*last) && init.iter().all(|&b| b == b' ' || is_bcharnospace(b))
        }
        _ => false,
    }
}

/// The boundary of a `multipart/form-data` body, from the request's `Content-Type` value.
///
/// ```text
/// media-type      = type "/" subtype parameters
/// parameters      = *( OWS ";" OWS [ parameter ] )
/// parameter       = parameter-name "=" parameter-value
/// parameter-value = ( token / quoted-string )
/// ```
/// RFC 9110 §8.3.1; type and subtype are `multipart/form-data`, case-insensitive (RFC 7578
/// §4), with a `boundary` parameter (RFC 7578 §4.1) that is a [`Boundary`] once unquoted
/// (RFC 2046 §5.1.1). Other parameters are ignored; trailing OWS is allowed.
///
/// Errors: [`NotFormData`](MultipartErrorKind::NotFormData) (415) for another media type;
/// `InvalidMediaType` for a value that breaks the grammar, at the byte that does;
/// `MissingBoundary`; `InvalidBoundary` at the boundary's value (or at the second
/// `boundary` parameter's name).
///
/// ```
/// use nomserve_grammar::parse_boundary;
///
/// let b = parse_boundary(b"Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\"").unwrap();
/// assert_eq!(b.as_bytes(), b"a b:c");
/// ```
pub fn parse_boundary(content_type: &[u8]) -> Result<Boundary, MultipartError> {
    media_type(content_type)
        .map(|(_, boundary)| boundary)
        .map_err(|e| match e {
            nom::Err::Error(f) | nom::Err::Failure(f) => f.into_error(content_type),
            nom::Err::Incomplete(_) => {
                MultipartError::new(MultipartErrorKind::InvalidMediaType, content_type.len())
            }
        })
}

/// `media-type = type "/" subtype parameters` (RFC 9110 §8.3.1), over the whole value.
fn media_type(input: &[u8]) -> MResult<'_, Boundary> {
    use MultipartErrorKind::*;
    let (rest, kind) = named(InvalidMediaType, token(input))?;
    let [b'/', rest @ ..] = rest else {
        return fail(InvalidMediaType, rest);
    };
    let (mut rest, subtype) = named(InvalidMediaType, token(rest))?;
    if !kind.eq_ignore_ascii_case(b"multipart") || !subtype.eq_ignore_ascii_case(b"form-data") {
        return fail(NotFormData, input);
    }
    let mut boundary = None;
    loop {
        let (after_ws, _) = named(InvalidMediaType, ows(rest))?;
        let after_semicolon = match after_ws {
            [] => break,
            [b';', after @ ..] => named(InvalidMediaType, ows(after))?.0,
            _ => return fail(InvalidMediaType, after_ws),
        };
        rest = match after_semicolon {
            [] | [b';', ..] => after_semicolon,
            _ => {
                let (after, (name, value)) = parameter(after_semicolon)?;
                if name.eq_ignore_ascii_case(b"boundary") {
                    if boundary.is_some() {
                        return fail(InvalidBoundary, after_semicolon);
                    }
                    boundary = Some(boundary_value(value)?.1);
                }
                after
            }
        };
    }
    match boundary {
        Some(boundary) => Ok((rest, boundary)),
        None => fail(MissingBoundary, rest),
    }
}

/// `parameter = parameter-name "=" parameter-value` (RFC 9110 §5.6.6): the name and the
/// value as written (a quoted-string with its quotes).
fn parameter(input: &[u8]) -> MResult<'_, (&[u8], &[u8])> {
    use MultipartErrorKind::InvalidMediaType;
    let (rest, name) = named(InvalidMediaType, token(input))?;
    let [b'=', value @ ..] = rest else {
        return fail(InvalidMediaType, rest);
    };
    let (rest, value) = match value {
        [b'"', ..] => match quoted_string(value) {
            Err(nom::Err::Incomplete(_)) => return fail(InvalidMediaType, &value[value.len()..]),
            result => named(InvalidMediaType, result)?,
        },
        _ => named(InvalidMediaType, token(value))?,
    };
    Ok((rest, (name, value)))
}

/// The boundary parameter's value (a token, or a quoted-string whose quoted-pairs stand for
/// their second byte, RFC 9110 §5.6.4), checked to be a [`Boundary`].
fn boundary_value(value: &[u8]) -> MResult<'_, Boundary> {
    let invalid = || fail(MultipartErrorKind::InvalidBoundary, value);
    let mut unquoted = [0; MAX_BOUNDARY];
    let mut len = 0;
    let mut bytes = match value {
        [b'"', inner @ .., b'"'] => inner.iter(),
        _ => value.iter(),
    };
    while let Some(&b) = bytes.next() {
        let b = match b {
            b'\\' if value.first() == Some(&b'"') => bytes.next().copied().unwrap_or(b),
            _ => b,
        };
        match unquoted.get_mut(len) {
            Some(slot) => *slot = b,
            None => return invalid(),
        }
        len += 1;
    }
    match Boundary::new(&unquoted[..len]) {
        Some(boundary) => Ok((&value[value.len()..], boundary)),
        None => invalid(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MultipartErrorKind::*;

    #[test]
    fn accepted() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"multipart/form-data; boundary=abc", b"abc"),
            (b"MULTIPART/FORM-DATA;boundary=abc", b"abc"),
            (b"multipart/form-data; BOUNDARY=\"abc\"", b"abc"),
            (b"multipart/form-data; charset=utf-8 ; boundary=x ", b"x"),
            (b"multipart/form-data; boundary=\"a b\"", b"a b"),
            (b"multipart/form-data; boundary=\"a\\:b\"", b"a:b"),
            (b"multipart/form-data;; boundary=a;", b"a"),
            (
                b"multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
                b"----WebKitFormBoundary7MA4YWxkTrZu0gW",
            ),
            (
                b"multipart/form-data; boundary=\"'()+_,-./:=?\"",
                b"'()+_,-./:=?",
            ),
        ];
        for &(value, boundary) in cases {
            let got = parse_boundary(value);
            assert_eq!(
                got.map(|b| b.as_bytes().to_vec()),
                Ok(boundary.to_vec()),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
        let longest = format!("multipart/form-data; boundary={}", "b".repeat(70));
        assert!(parse_boundary(longest.as_bytes()).is_ok());
        let b = parse_boundary(b"multipart/form-data; boundary=abc").unwrap();
        assert_eq!(
            (b.delimiter(), b.dash_boundary()),
            (&b"\r\n--abc"[..], &b"--abc"[..])
        );
        assert_eq!(format!("{b:?}"), "Boundary(\"abc\")");
    }

    #[test]
    fn refused() {
        let too_long = format!("multipart/form-data; boundary={}", "b".repeat(71));
        let cases: &[(&[u8], MultipartErrorKind, usize)] = &[
            (b"text/plain; boundary=abc", NotFormData, 0),
            (b"multipart/mixed; boundary=abc", NotFormData, 0),
            (b"application/x-www-form-urlencoded", NotFormData, 0),
            (b"", InvalidMediaType, 0),
            (b"multipart", InvalidMediaType, 9),
            (b"multipart/", InvalidMediaType, 10),
            (b"multipart/form-data boundary=a", InvalidMediaType, 20),
            (b"multipart/form-data; boundary", InvalidMediaType, 29),
            (b"multipart/form-data; boundary =a", InvalidMediaType, 29),
            (b"multipart/form-data; boundary=\"abc", InvalidMediaType, 34),
            (
                b"multipart/form-data; boundary=\"a\x01\"",
                InvalidMediaType,
                32,
            ),
            (b"multipart/form-data", MissingBoundary, 19),
            (b"multipart/form-data; charset=utf-8", MissingBoundary, 34),
            (b"multipart/form-data; boundary=a!b", InvalidBoundary, 30),
            (b"multipart/form-data; boundary=\"\"", InvalidBoundary, 30),
            (
                b"multipart/form-data; boundary=\"ab \"",
                InvalidBoundary,
                30,
            ),
            (
                b"multipart/form-data; boundary=\"a\xc3\xa9\"",
                InvalidBoundary,
                30,
            ),
            (
                b"multipart/form-data; boundary=a; boundary=b",
                InvalidBoundary,
                33,
            ),
            (too_long.as_bytes(), InvalidBoundary, 30),
        ];
        for &(value, kind, offset) in cases {
            let err = parse_boundary(value).unwrap_err();
            assert_eq!(
                (err.kind(), err.offset()),
                (kind, offset),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
        assert_eq!(parse_boundary(b"text/html").unwrap_err().status(), 415);
    }

    #[test]
    fn boundary_rule() {
        assert!(is_boundary(b"a"));
        assert!(is_boundary(b"a b"));
        assert!(!is_boundary(b""));
        assert!(!is_boundary(b" "));
        assert!(!is_boundary(b"a "));
        assert!(!is_boundary(b"a\"b"));
        assert!(Boundary::new(&[b'x'; 70]).is_some());
        assert!(Boundary::new(&[b'x'; 71]).is_none());
    }
}
