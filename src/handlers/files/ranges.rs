//! Range requests (RFC 9110 §14): which part of a file to send, and the layout of a
//! `multipart/byteranges` body (RFC 9110 §14.6).

use nomserve_grammar::{Headers, Method, parse_range, resolve_ranges};
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::ops::Range;

/// The most ranges one request may ask for. Past it, [`parse_range`] answers `None` and the
/// whole file is sent with `200`, as RFC 9110 §14.2 allows ("a server MAY ignore the Range
/// header field"). Sixteen covers every real client (media players and download managers
/// ask for one or a few) while bounding the parts, and the work, one request can cause: a
/// request of thousands of tiny ranges is a known amplification attack.
pub(super) const MAX_RANGES: usize = 16;

/// What the Range field asks for, decided against the file's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decision {
    /// Send the whole representation, `200`.
    Full,
    /// Send these ranges, sorted and coalesced, with `206`: one as a plain body, several as
    /// `multipart/byteranges`.
    Partial(Vec<Range<u64>>),
    /// No range overlaps the file: `416` with `Content-Range: bytes */len` (RFC 9110 §15.5.17).
    Unsatisfiable,
}

/// Decides how to answer the Range field of a request for a representation of `len` bytes,
/// once the preconditions of RFC 9110 §13.2.2 steps 1–4 passed and `if_range` holds the
/// outcome of step 5 (see `validators::if_range_holds`).
///
/// `Range = ranges-specifier` (RFC 9110 §14.2) is honoured only:
/// - for GET. RFC 9110 §14.2: "GET is the only method for which range handling is defined";
///   a HEAD therefore gets the `200` head a plain GET would, which is also what RFC 9110
///   §9.3.2 asks of HEAD when there is no Range;
/// - with a single field line (Range is a singleton field; a repeated one is invalid);
/// - when the `If-Range` condition holds (RFC 9110 §13.1.5);
/// - for a non-empty representation. Deviation, argued: RFC 9110 §14.1.2 calls `-n` on an
///   empty representation satisfiable, but no `Content-Range: bytes a-b/0` can describe a part
///   of nothing; we send the empty `200`, which §14.2's "MAY ignore" permits;
/// - when it parses with at most [`MAX_RANGES`] ranges (an invalid field, or a unit other than
///   `bytes`, is ignored, RFC 9110 §14.2).
pub(super) fn decide(
    method: Method<'_>,
    headers: &Headers<'_, '_>,
    len: u64,
    if_range: bool,
) -> Decision {
    let mut values = headers.get_all("range");
    let Some(value) = values.next() else {
        return Decision::Full;
    };
    if method != Method::Get || values.next().is_some() || len == 0 || !if_range {
        return Decision::Full;
    }
    let Some(specs) = parse_range(value, MAX_RANGES) else {
        return Decision::Full;
    };
    match resolve_ranges(&specs, len) {
        Some(ranges) if !ranges.is_empty() => Decision::Partial(ranges),
        _ => Decision::Unsatisfiable,
    }
}

/// The Content-Range value (RFC 9110 §14.4) for the non-empty `range` of a representation of
/// `len` bytes:
///
/// ```abnf
/// Content-Range = range-unit SP ( range-resp / unsatisfied-range )
/// range-resp    = incl-range "/" ( complete-length / "*" )
/// incl-range    = first-pos "-" last-pos
/// ```
pub(super) fn content_range(range: &Range<u64>, len: u64) -> String {
    format!(
        "bytes {}-{}/{len}",
        range.start,
        range.end.saturating_sub(1)
    )
}

/// The Content-Range value of a `416` (RFC 9110 §14.4):
/// `unsatisfied-range = "*/" complete-length`.
pub(super) fn unsatisfied_range(len: u64) -> String {
    format!("bytes */{len}")
}

/// A boundary for a `multipart/byteranges` body: `nomserve-` and 64 random bits in hex (from
/// the standard library's per-process random hash keys). RFC 2046 §5.1.1 requires that the
/// boundary not occur in the parts; a fixed string could be found in a served file, 64
/// random bits will not be by chance. 25 characters, within RFC 2046's 70 and made of
/// `bchars`.
pub(super) fn boundary() -> String {
    format!("nomserve-{:016x}", RandomState::new().hash_one(0u8))
}

/// One part of a `multipart/byteranges` body, as `Body::Multipart` holds it: the part's
/// delimiter and header fields, then the offset and length of its range of the file.
pub(super) type Part = (Vec<u8>, u64, u64);

/// The layout of a `multipart/byteranges` body (RFC 9110 §14.6, RFC 2046 §5.1.1) for `ranges`
/// of a representation of `len` bytes of type `content_type`: each part's head bytes with the
/// part's offset and length, then the closing delimiter. The body is, in order:
///
/// ```text
/// --B CRLF Content-Type: T CRLF Content-Range: bytes a-b/len CRLF CRLF <bytes a..=b>
/// CRLF --B CRLF ... (the next parts)
/// CRLF --B-- CRLF
/// ```
///
/// The CRLF before each delimiter belongs to the delimiter (RFC 2046 §5.1.1), so the part's
/// content is exactly the range.
pub(super) fn multipart(
    boundary: &str,
    content_type: &str,
    ranges: &[Range<u64>],
    len: u64,
) -> (Vec<Part>, Vec<u8>) {
    let parts = ranges
        .iter()
        .enumerate()
        .map(|(i, range)| {
            let crlf = if i == 0 { "" } else { "\r\n" };
            let head = format!(
                "{crlf}--{boundary}\r\nContent-Type: {content_type}\r\nContent-Range: {}\r\n\r\n",
                content_range(range, len)
            );
            (
                head.into_bytes(),
                range.start,
                range.end.saturating_sub(range.start),
            )
        })
        .collect();
    let tail = format!("\r\n--{boundary}--\r\n").into_bytes();
    (parts, tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_values() {
        assert_eq!(content_range(&(0..1), 10), "bytes 0-0/10");
        assert_eq!(content_range(&(2..10), 10), "bytes 2-9/10");
        assert_eq!(unsatisfied_range(10), "bytes */10");
    }

    #[test]
    fn boundaries_differ_and_are_bchars() {
        let a = boundary();
        assert_ne!(a, boundary());
        assert!(a.len() <= 70);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }

    /// The layout, checked by assembling the body from a known file and reading it back.
    #[test]
    fn multipart_layout() {
        let file = b"0123456789abcdef";
        let (parts, tail) = multipart("B", "text/plain", &[0..2, 10..16], 16);
        let mut body = Vec::new();
        for (head, offset, len) in &parts {
            body.extend_from_slice(head);
            let start = usize::try_from(*offset).unwrap();
            let end = start + usize::try_from(*len).unwrap();
            body.extend_from_slice(&file[start..end]);
        }
        body.extend_from_slice(&tail);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/16\r\n\r\n01\
             \r\n--B\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-15/16\r\n\r\nabcdef\
             \r\n--B--\r\n"
        );
    }

    fn decide_with(
        method: Method<'_>,
        fields: &[(&str, &str)],
        len: u64,
        if_range: bool,
    ) -> Decision {
        let fields: Vec<nomserve_grammar::Header<'_>> = fields
            .iter()
            .map(|(name, value)| nomserve_grammar::Header {
                name,
                value: value.as_bytes(),
            })
            .collect();
        decide(method, &Headers::new(&fields), len, if_range)
    }

    /// Ranges from `(start, end)` pairs.
    fn spans(pairs: &[(u64, u64)]) -> Vec<Range<u64>> {
        pairs.iter().map(|&(start, end)| start..end).collect()
    }

    #[test]
    fn decisions() {
        let get = Method::Get;
        assert_eq!(decide_with(get, &[], 10, true), Decision::Full);
        assert_eq!(
            decide_with(get, &[("Range", "bytes=0-4")], 10, true),
            Decision::Partial(spans(&[(0, 5)]))
        );
        assert_eq!(
            decide_with(get, &[("Range", "bytes=-3")], 10, true),
            Decision::Partial(spans(&[(7, 10)]))
        );
        assert_eq!(
            decide_with(get, &[("Range", "bytes=8-")], 10, true),
            Decision::Partial(spans(&[(8, 10)]))
        );
        assert_eq!(
            decide_with(get, &[("Range", "bytes=0-1, 1-2, 6-7")], 10, true),
            Decision::Partial(spans(&[(0, 3), (6, 8)]))
        );
        assert_eq!(
            decide_with(get, &[("Range", "bytes=10-")], 10, true),
            Decision::Unsatisfiable
        );
        // Ignored: HEAD, If-Range false, an invalid field, another unit, two field lines,
        // an empty file, too many ranges.
        let r = [("Range", "bytes=0-4")];
        assert_eq!(decide_with(Method::Head, &r, 10, true), Decision::Full);
        assert_eq!(decide_with(get, &r, 10, false), Decision::Full);
        assert_eq!(
            decide_with(get, &[("Range", "bytes=x")], 10, true),
            Decision::Full
        );
        assert_eq!(
            decide_with(get, &[("Range", "lines=0-4")], 10, true),
            Decision::Full
        );
        assert_eq!(decide_with(get, &[r[0], r[0]], 10, true), Decision::Full);
        assert_eq!(decide_with(get, &r, 0, true), Decision::Full);
        let many = (0..=MAX_RANGES)
            .map(|i| format!("{}-{}", i * 2, i * 2))
            .collect::<Vec<_>>()
            .join(",");
        let many = format!("bytes={many}");
        assert_eq!(
            decide_with(get, &[("Range", &many)], 100, true),
            Decision::Full
        );
    }
}
