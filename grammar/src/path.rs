//! Paths: percent-decoding and dot-segment removal (RFC 3986 §2.1, §5.2.4, §6.2.2).
//!
//! The static file handler joins a request's path under its document root. This module turns
//! the raw path into segments that are safe to join: none is empty, `.` or `..`, and none
//! holds `/`, `\` or NUL, so no segment can climb out of the root or be split again by the
//! file system. It is a pure function so that every traversal shape can be listed in a table
//! test and fuzzed.
//!
//! The order matters. Segments are split on the *raw* `/` first and decoded second, so an
//! encoded `%2F` can never create a new segment boundary; dot segments are removed *after*
//! decoding, so `%2e%2e` is as much a `..` as `..` itself (RFC 3986 §6.2.2.2: percent-encoded
//! unreserved octets are equivalent to the octets themselves). Decoding happens exactly once:
//! `%252e` is the three literal bytes `%2e`, a plain file name.
//!
//! [`decode_path`] is total: any `&str` gives `Ok` or `Err`, never a panic, in linear time.

#![forbid(unsafe_code)]

use crate::abnf::{HEXDIG, hex_value};
use crate::error::{Error, ErrorKind};
use std::borrow::Cow;

/// A decoded path, safe to join under a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPath<'a> {
    /// The segments; none is empty, `.`, `..`, or holds `/`, `\` or NUL.
    pub segments: Vec<Cow<'a, [u8]>>,
    /// Whether the path names a directory by its form: it ended with `/`, or with a `.` or
    /// `..` segment (after which RFC 3986 §5.2.4 leaves a trailing `/`). Always true when
    /// `segments` is empty, so `/` itself is `[]` with a trailing slash.
    pub trailing_slash: bool,
}

/// Decodes an absolute path and removes its dot segments.
///
/// ```text
/// absolute-path = 1*( "/" segment )      ; RFC 9110 §4.1
/// segment       = *pchar                 ; RFC 3986 §3.3
/// pct-encoded   = "%" HEXDIG HEXDIG      ; RFC 3986 §2.1
/// ```
///
/// Contract: `path` should be the path of a request-target as the head parser accepted it
/// (it starts with `/`, is ASCII, its `%` escapes are well-formed), but any string is
/// checked again. The steps:
/// 1. split on each raw `/`;
/// 2. percent-decode each segment once (RFC 3986 §2.1);
/// 3. remove dot segments (RFC 3986 §5.2.4): drop `.` and empty segments, let `..` drop the
///    segment before it, and at the root stay at the root (`/../a` is `/a`).
///
/// Errors, each with the byte offset into `path`:
/// - `MissingTarget` for the empty string, `InvalidTargetByte` when `path`
///   does not start with `/` or holds a byte outside VCHAR (a control, SP, DEL, non-ASCII),
///   `?` or `#` (which end a path, RFC 3986 §3.3, so the caller passed more than a path);
/// - `InvalidPercentEncoding`: a `%` not followed by two HEXDIG;
/// - `EncodedSeparatorInPath`: `%2F` or `%5C` (any case). **Deviation**: RFC 3986 lets `%2F`
///   be data inside a segment, but a file name cannot hold `/`, and passing it on would let
///   the file system see a separator the segment split did not; refusing it is what Apache
///   does by default (`AllowEncodedSlashes Off`);
/// - `BackslashInPath`: a raw `\`. **Deviation**: RFC 3986 does not allow it in a path at all
///   (it is not a pchar), and some clients and file systems treat it as a separator, so it is
///   refused with its own kind rather than taken as data;
/// - `EncodedControlInPath`: a percent-encoded control character, `%00` to `%1F` or `%7F`.
///   **Deviation**: RFC 3986 §2.1 lets any octet be percent-encoded, but `%00` would truncate
///   a C path string, and no file a static server should publish has CR, LF or another control
///   in its name: such a target is a header- or log-injection probe (`/a%0d%0aSet-Cookie:…`),
///   so it is answered 400, saying why, instead of a 404 that looks like an ordinary miss.
///
/// Each error names the byte at its offset when its kind names one
/// ([`ErrorKind::names_byte`]).
///
/// ```
/// use nomserve_grammar::decode_path;
///
/// let path = decode_path("/a/%2e%2e/b%20c/").unwrap();
/// assert_eq!(path.segments, [&b"b c"[..]]);
/// assert!(path.trailing_slash);
/// ```
pub fn decode_path(path: &str) -> Result<DecodedPath<'_>, Error> {
    decode(path.as_bytes()).map_err(|e| e.with_byte_from(path.as_bytes()))
}

/// [`decode_path`] on the path's bytes, its errors not yet naming their byte.
fn decode(bytes: &[u8]) -> Result<DecodedPath<'_>, Error> {
    match bytes.first() {
        None => return Err(Error::new(ErrorKind::MissingTarget, 0)),
        Some(b'/') => {}
        Some(_) => return Err(Error::new(ErrorKind::InvalidTargetByte, 0)),
    }
    let mut segments: Vec<Cow<'_, [u8]>> = Vec::new();
    let mut trailing_slash = true;
    let mut start = 1;
    for raw in bytes[1..].split(|&b| b == b'/') {
        let decoded = segment(raw).map_err(|e| e.shifted(start))?;
        start += raw.len() + 1;
        trailing_slash = match &*decoded {
            b"" | b"." => true,
            b".." => {
                segments.pop();
                true
            }
            _ => {
                segments.push(decoded);
                false
            }
        };
    }
    Ok(DecodedPath {
        segments,
        trailing_slash,
    })
}

/// One segment, percent-decoded once.
///
/// ```text
/// segment     = *pchar
/// pchar       = unreserved / pct-encoded / sub-delims / ":" / "@"
/// pct-encoded = "%" HEXDIG HEXDIG
/// ```
/// RFC 3986 §3.3, §2.1. Lenient on purpose about which VCHARs appear raw (`|`, `^`, `[`,
/// `]`, `{`, `}` are not pchars, but browsers send some of them unescaped and they are
/// harmless in a file name): deciding which targets are acceptable is
/// the head parser's job (`PATH_CHAR`); this rule only refuses what would make the segment
/// unsafe. Borrowed when the segment holds no `%`. Offsets are relative to the segment.
fn segment(raw: &[u8]) -> Result<Cow<'_, [u8]>, Error> {
    let escaped = memchr::memchr(b'%', raw).is_some();
    let mut out = Vec::with_capacity(if escaped { raw.len() } else { 0 });
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        let octet = match b {
            b'%' => {
                let octet = pct_encoded(raw.get(i + 1..i + 3))
                    .ok_or(Error::new(ErrorKind::InvalidPercentEncoding, i))?;
                match octet {
                    b'/' | b'\\' => return Err(Error::new(ErrorKind::EncodedSeparatorInPath, i)),
                    0x00..=0x1f | 0x7f => {
                        return Err(Error::new(ErrorKind::EncodedControlInPath, i));
                    }
                    _ => {}
                }
                i += 3;
                octet
            }
            b'\\' => return Err(Error::new(ErrorKind::BackslashInPath, i)),
            b'?' | b'#' => return Err(Error::new(ErrorKind::InvalidTargetByte, i)),
            0x21..=0x7e => {
                i += 1;
                b
            }
            _ => return Err(Error::new(ErrorKind::InvalidTargetByte, i)),
        };
        if escaped {
            out.push(octet);
        }
    }
    Ok(if escaped {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(raw)
    })
}

/// The octet of `pct-encoded = "%" HEXDIG HEXDIG` (RFC 3986 §2.1), given the two bytes after
/// the `%`; `None` unless both are HEXDIG.
fn pct_encoded(digits: Option<&[u8]>) -> Option<u8> {
    match digits? {
        &[hi, lo] if HEXDIG.contains(hi) && HEXDIG.contains(lo) => {
            Some(hex_value(hi) << 4 | hex_value(lo))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(path: &str) -> (Vec<Vec<u8>>, bool) {
        let decoded = decode_path(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        (
            decoded.segments.iter().map(|s| s.to_vec()).collect(),
            decoded.trailing_slash,
        )
    }

    /// The kind and offset of `path`'s error; checks that it names the byte at that offset
    /// exactly when its kind names one.
    fn err(path: &str) -> (ErrorKind, usize) {
        let e = decode_path(path).expect_err(path);
        crate::testing::assert_names_its_byte(path.as_bytes(), &e);
        (e.kind(), e.offset())
    }

    fn segs(list: &[&[u8]]) -> Vec<Vec<u8>> {
        list.iter().map(|s| s.to_vec()).collect()
    }

    #[test]
    fn accepted_table() {
        let cases: &[(&str, &[&[u8]], bool)] = &[
            ("/", &[], true),
            ("/index.html", &[b"index.html"], false),
            ("/dir/", &[b"dir"], true),
            ("/../secret", &[b"secret"], false),
            ("/a/../../b", &[b"b"], false),
            ("/%2e%2e/x", &[b"x"], false),
            ("/%2E%2e/%2e/x", &[b"x"], false),
            ("/a//b", &[b"a", b"b"], false),
            ("//", &[], true),
            ("/./a/.", &[b"a"], true),
            ("/a/..", &[], true),
            ("/a/b/..", &[b"a"], true),
            ("/..", &[], true),
            ("/.", &[], true),
            ("/%252e%252e/", &[b"%2e%2e"], true),
            ("/%252f", &[b"%2f"], false),
            ("/a%20b", &[b"a b"], false),
            ("/%c3%a9", &[&[0xc3, 0xa9]], false),
            ("/.hidden", &[b".hidden"], false),
            ("/...", &[b"..."], false),
            ("/..a/a..", &[b"..a", b"a.."], false),
            ("/a|b[c]", &[b"a|b[c]"], false),
        ];
        for (path, segments, trailing) in cases {
            assert_eq!(ok(path), (segs(segments), *trailing), "path {path:?}");
        }
    }

    #[test]
    fn refused_table() {
        use ErrorKind::*;
        let cases: &[(&str, ErrorKind, usize)] = &[
            ("/%2E%2e%2fetc", EncodedSeparatorInPath, 7),
            ("/a%2fb", EncodedSeparatorInPath, 2),
            ("/a%2Fb", EncodedSeparatorInPath, 2),
            ("/a%5cb", EncodedSeparatorInPath, 2),
            ("/a%5Cb", EncodedSeparatorInPath, 2),
            ("/a\\b", BackslashInPath, 2),
            ("/..\\..\\etc", BackslashInPath, 3),
            ("/%00", EncodedControlInPath, 1),
            ("/ok/a%00.txt", EncodedControlInPath, 5),
            ("/path%0d%0aX-Injected:%20true", EncodedControlInPath, 5),
            ("/a%0A", EncodedControlInPath, 2),
            ("/a%09b", EncodedControlInPath, 2),
            ("/a%1f", EncodedControlInPath, 2),
            ("/a%7F", EncodedControlInPath, 2),
            ("/%", InvalidPercentEncoding, 1),
            ("/%4", InvalidPercentEncoding, 1),
            ("/x/%zz", InvalidPercentEncoding, 3),
            ("/%%41", InvalidPercentEncoding, 1),
            ("", MissingTarget, 0),
            ("a/b", InvalidTargetByte, 0),
            ("/a b", InvalidTargetByte, 2),
            ("/a\0", InvalidTargetByte, 2),
            ("/é", InvalidTargetByte, 1),
            ("/a?q", InvalidTargetByte, 2),
            ("/a#f", InvalidTargetByte, 2),
            ("/a/\x7f", InvalidTargetByte, 3),
        ];
        for (path, kind, offset) in cases {
            assert_eq!(err(path), (*kind, *offset), "path {path:?}");
        }
        let error = decode_path("/a/\x7f").unwrap_err();
        assert_eq!(error.byte(), Some(0x7f));
        assert_eq!(
            error.to_string(),
            "invalid byte in request-target at byte 3, found 0x7f (RFC 9112 §3.2)"
        );
    }

    #[test]
    fn borrows_segments_without_escapes() {
        let path = decode_path("/a/b%20c").unwrap();
        assert!(matches!(path.segments[0], Cow::Borrowed(b"a")));
        assert!(matches!(path.segments[1], Cow::Owned(_)));
    }

    /// The contract the file handler relies on.
    fn assert_safe(path: &DecodedPath<'_>) -> Result<(), TestCaseError> {
        for s in &path.segments {
            prop_assert!(!s.is_empty());
            prop_assert!(&**s != b"." && &**s != b"..");
            prop_assert!(!s.iter().any(|&b| b == b'/' || b == b'\\' || b == 0));
        }
        prop_assert!(path.trailing_slash || !path.segments.is_empty());
        Ok(())
    }

    /// A reference for paths without escapes: a stack walk over the raw segments.
    fn naive(path: &str) -> Vec<Vec<u8>> {
        let mut stack: Vec<Vec<u8>> = Vec::new();
        for s in path.split('/') {
            match s {
                "" | "." => {}
                ".." => {
                    stack.pop();
                }
                _ => stack.push(s.as_bytes().to_vec()),
            }
        }
        stack
    }

    proptest! {
        #[test]
        fn any_string_is_ok_and_safe_or_an_error(path in ".*") {
            if let Ok(decoded) = decode_path(&path) {
                assert_safe(&decoded)?;
            }
        }

        #[test]
        fn path_shaped_strings_are_ok_and_safe_or_an_error(
            path in "/([a-z.]|%(2[eEfF]|5[cC]|00|25|41)|/|\\\\){0,24}"
        ) {
            if let Ok(decoded) = decode_path(&path) {
                assert_safe(&decoded)?;
            }
        }

        #[test]
        fn agrees_with_a_stack_walk_without_escapes(path in "/[a./]{0,24}") {
            let decoded = decode_path(&path).unwrap();
            let got: Vec<Vec<u8>> = decoded.segments.iter().map(|s| s.to_vec()).collect();
            prop_assert_eq!(got, naive(&path));
        }
    }
}
