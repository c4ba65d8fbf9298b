//! Mapping a decoded request path to a path relative to the document root: a pure function,
//! so every traversal shape can be checked in a table without touching a file system.
//!
//! The grammar's [`decode_path`](nomserve_grammar::decode_path) already percent-decodes the
//! path (RFC 3986 §2.1) and removes dot-segments (RFC 3986 §5.2.4), and promises segments
//! that are never empty, `.`, `..`, nor hold `/`, `\` or NUL. [`map_path`] checks that promise
//! again — `DecodedPath`'s fields are public, so a value can be built without the decoder — and
//! adds the server's own policy: dotfiles are hidden unless asked for, except `/.well-known/`.

use nomserve_grammar::DecodedPath;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// The one dot-name served with dotfiles hidden, as a path's first component: the
/// well-known URIs of RFC 8615 (ACME http-01 challenges, RFC 8555 §8.3; `security.txt`,
/// RFC 9116 §3) live under `/.well-known/`, and serving them must not take `--dotfiles`,
/// which would also expose `.git` and `.env`. Only the first component is excused: a
/// dot-name below it (`/.well-known/.htaccess`, an editor's swap file) stays hidden. An
/// ACME token never starts with a dot (its alphabet is base64url, RFC 8555 §8.3).
const WELL_KNOWN: &[u8] = b".well-known";

/// Whether the component `name`, at position `index` (from 0) of a path relative to the
/// root, is hidden when dotfiles are: it starts with `.`, and is not `.well-known` first.
/// The same rule judges a request's segments ([`map_path`]) and the path a file resolves to
/// (see `open`).
pub(super) fn is_hidden(index: usize, name: &[u8]) -> bool {
    name.first() == Some(&b'.') && !(index == 0 && name == WELL_KNOWN)
}

/// Why a path is not mapped. Both refusals are answered `404`: a hidden file is
/// indistinguishable from a missing one, and an unsafe segment names nothing under the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// A segment starts with `.` (a dotfile or dot-directory) and dotfiles are not served
    /// ([`is_hidden`]).
    Hidden,
    /// A segment is empty, `.` or `..`, or holds `/`, `\` or NUL: it could climb out of the
    /// root or name something other than one directory entry.
    Unsafe,
}

/// Maps `decoded` to a relative path under the root: its segments joined with `/`, in order.
/// The root itself maps to the empty path. Never returns a path that is absolute or holds a
/// `..` component: a segment that could make one is refused as [`Refusal::Unsafe`]. A segment
/// starting with `.` is refused as [`Refusal::Hidden`] unless `dotfiles`, or unless it is a
/// leading `.well-known` ([`is_hidden`]).
pub(super) fn map_path(decoded: &DecodedPath<'_>, dotfiles: bool) -> Result<PathBuf, Refusal> {
    let mut rel = PathBuf::new();
    for (index, segment) in decoded.segments.iter().enumerate() {
        let segment: &[u8] = segment;
        if segment.is_empty()
            || segment == b"."
            || segment == b".."
            || segment.iter().any(|&b| matches!(b, b'/' | b'\\' | 0))
        {
            return Err(Refusal::Unsafe);
        }
        if !dotfiles && is_hidden(index, segment) {
            return Err(Refusal::Hidden);
        }
        rel.push(OsStr::from_bytes(segment));
    }
    Ok(rel)
}

/// Whether `byte` may stay unencoded in a path segment we write: RFC 3986 §2.3's
///
/// ```abnf
/// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
/// ```
///
/// Every other byte, including the sub-delims and `:` and `@` that `pchar` (RFC 3986 §3.3)
/// would allow, is percent-encoded: a `:` in the first segment of a relative reference would
/// read as a scheme (RFC 3986 §4.2), and encoding more than needed is always equivalent.
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Appends `segment` to `out`, percent-encoded (RFC 3986 §2.1, uppercase hex digits) except
/// for unreserved bytes, so the result is one `segment` (RFC 3986 §3.3) whatever bytes the
/// name holds, UTF-8 or not.
pub(crate) fn encode_segment(segment: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in segment {
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

/// The `Location` (RFC 9110 §10.2.2) for a directory requested without its trailing slash:
/// `/` + each segment percent-encoded + `/`, then `?` and the query as received.
///
/// Built from the decoded segments, never from the raw target: a raw `//evil.example/x` would
/// turn into a network-path reference (RFC 3986 §4.2) pointing at another host, and raw
/// `..` segments would point somewhere else than the directory found. Segments are never
/// empty, so the result never starts with `//`.
pub(super) fn directory_location(decoded: &DecodedPath<'_>, query: Option<&str>) -> String {
    let mut location = String::from("/");
    for segment in &decoded.segments {
        encode_segment(segment, &mut location);
        location.push('/');
    }
    if let Some(query) = query {
        location.push('?');
        location.push_str(query);
    }
    location
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn decoded(segments: &[&'static [u8]], trailing_slash: bool) -> DecodedPath<'static> {
        DecodedPath {
            segments: segments.iter().map(|s| Cow::Borrowed(*s)).collect(),
            trailing_slash,
        }
    }

    /// What a request path becomes: `400` from the decoder, a refusal, or a relative path.
    #[derive(Debug, PartialEq, Eq)]
    enum Outcome {
        BadRequest,
        Refused(Refusal),
        Path(PathBuf),
    }

    fn outcome(raw: &str) -> Outcome {
        match nomserve_grammar::decode_path(raw) {
            Err(error) => {
                assert_eq!(error.status(), 400, "{raw}");
                Outcome::BadRequest
            }
            Ok(decoded) => match map_path(&decoded, false) {
                Ok(rel) => Outcome::Path(rel),
                Err(refusal) => Outcome::Refused(refusal),
            },
        }
    }

    /// Every traversal shape, through the grammar's decoder and then `map_path`: each ends as
    /// a `400`, a refusal, or a path that stays beneath the root.
    #[test]
    fn traversal_table() {
        use Outcome::*;
        let path = |p: &str| Path(PathBuf::from(p));
        let table = [
            ("/", path("")),
            ("/index.html", path("index.html")),
            ("/a%20b/c", path("a b/c")),
            ("/./index.html", path("index.html")),
            // Dot-segments, raw and encoded, cannot climb above the root.
            ("/../etc/passwd", path("etc/passwd")),
            ("/../../../../etc/passwd", path("etc/passwd")),
            ("/a/b/../../../etc", path("etc")),
            ("/%2e%2e/etc/passwd", path("etc/passwd")),
            ("/%2E%2E/%2e%2E/etc/passwd", path("etc/passwd")),
            ("/.%2e/etc/passwd", path("etc/passwd")),
            ("/%2e./etc/passwd", path("etc/passwd")),
            // Empty segments (`//`) cannot make the path absolute.
            ("//etc/passwd", path("etc/passwd")),
            ("///", path("")),
            // Encoded separators never become separators.
            ("/..%2fetc%2fpasswd", BadRequest),
            ("/%2F%2Fetc", BadRequest),
            ("/..%5c..%5cetc", BadRequest),
            ("/%5C", BadRequest),
            ("/..\\..\\etc", BadRequest),
            // NUL would truncate the path the kernel sees.
            ("/%00", BadRequest),
            ("/a%00.txt", BadRequest),
            // Double encoding is decoded once: a literal file name.
            ("/%252e%252e/etc", path("%2e%2e/etc")),
            ("/%252f", path("%2f")),
            // Dotfiles, raw and encoded.
            ("/.env", Refused(Refusal::Hidden)),
            ("/%2eenv", Refused(Refusal::Hidden)),
            ("/.git/config", Refused(Refusal::Hidden)),
            ("/a/.hidden/b", Refused(Refusal::Hidden)),
            ("/...", Refused(Refusal::Hidden)),
            // RFC 8615's well-known URIs are served all the same, but only at the top.
            (
                "/.well-known/acme-challenge/x",
                path(".well-known/acme-challenge/x"),
            ),
            (
                "/%2ewell-known/security.txt",
                path(".well-known/security.txt"),
            ),
            ("/.well-known/", path(".well-known")),
            ("/.well-known/.htaccess", Refused(Refusal::Hidden)),
            ("/a/.well-known/x", Refused(Refusal::Hidden)),
            ("/.well-knownx/x", Refused(Refusal::Hidden)),
            ("/.Well-Known/x", Refused(Refusal::Hidden)),
        ];
        for (raw, expected) in table {
            assert_eq!(outcome(raw), expected, "{raw}");
        }
    }

    #[test]
    fn joins_segments_in_order() {
        assert_eq!(map_path(&decoded(&[], true), false), Ok(PathBuf::new()));
        assert_eq!(
            map_path(&decoded(&[b"a", b"b c", b"d.txt"], false), false),
            Ok(PathBuf::from("a/b c/d.txt"))
        );
        // Bytes that are not UTF-8 name a file all the same.
        assert_eq!(
            map_path(&decoded(&[b"caf\xe9"], false), false),
            Ok(PathBuf::from(OsStr::from_bytes(b"caf\xe9")))
        );
    }

    /// Segments `decode_path` never produces, built by hand: each is refused, never joined.
    #[test]
    fn refuses_segments_that_could_escape() {
        let table: &[&[&'static [u8]]] = &[
            &[b".."],
            &[b"a", b"..", b"..", b"etc"],
            &[b"."],
            &[b""],
            &[b"a/../../etc"],
            &[b"/etc"],
            &[b"..\\..\\etc"],
            &[b"a\\b"],
            &[b"a\0b"],
        ];
        for segments in table {
            for dotfiles in [false, true] {
                assert_eq!(
                    map_path(&decoded(segments, false), dotfiles),
                    Err(Refusal::Unsafe),
                    "{segments:?} dotfiles={dotfiles}"
                );
            }
        }
    }

    #[test]
    fn dotfiles_are_hidden_unless_asked_for() {
        for segments in [
            &[b".env" as &[u8]][..],
            &[b".git", b"config"],
            &[b"a", b".hidden", b"b"],
            &[b"...", b"x"],
        ] {
            assert_eq!(
                map_path(&decoded(segments, false), false),
                Err(Refusal::Hidden)
            );
            assert!(map_path(&decoded(segments, false), true).is_ok());
        }
        // A dot inside a name is not a dotfile.
        assert!(map_path(&decoded(&[b"a.b", b"c."], false), false).is_ok());
    }

    #[test]
    fn encodes_everything_but_unreserved() {
        let mut out = String::new();
        encode_segment(b"a-b_c.d~e f%g/h?i#j:k@l&m\xc3\xa9\xff<>\"'", &mut out);
        assert_eq!(
            out,
            "a-b_c.d~e%20f%25g%2Fh%3Fi%23j%3Ak%40l%26m%C3%A9%FF%3C%3E%22%27"
        );
    }

    #[test]
    fn directory_location_is_a_path_that_keeps_the_query() {
        assert_eq!(
            directory_location(&decoded(&[b"dir"], false), None),
            "/dir/"
        );
        assert_eq!(
            directory_location(&decoded(&[b"a b", b"c"], false), Some("x=1&y=%20")),
            "/a%20b/c/?x=1&y=%20"
        );
        // A segment that looks like a host stays a path: the result never starts with `//`.
        assert_eq!(
            directory_location(&decoded(&[b"evil.example"], false), None),
            "/evil.example/"
        );
    }
}
