//! Field lines (RFC 9112 §5, RFC 9110 §5).
//!
//! A field line is scanned once: the name through the byte-class table for `tchar`, then the
//! value sixteen bytes at a time until the first byte that is not a field-value byte, which
//! must be the CR of the line's CRLF. Only then is the line cut into name and trimmed value.
//! This one scan finds the line's end and validates the value together, where a `memchr` for
//! the LF would be followed by a second pass over the same bytes to validate them.

#![forbid(unsafe_code)]

use crate::abnf::{TCHAR, crlf, is_ows_byte};
use crate::class::FIELD_VALUE_BYTE;
use crate::error::ErrorKind;
use crate::fail::{PResult, fail, incomplete};
use crate::text::{CHUNK, non_field_value_mask};

/// One field line, cut into its parts. Every slice borrows from the parsed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldLine<'b> {
    /// The field name (a token).
    pub(crate) name: &'b str,
    /// The field value without leading or trailing OWS.
    pub(crate) value: &'b [u8],
    /// The value followed by its trailing OWS and the line's CR: the value with the byte that
    /// ends it, for the streaming URI rules, which need to see where a value stops.
    pub(crate) value_through_cr: &'b [u8],
}

/// ```text
/// field-line = field-name ":" OWS field-value OWS
/// ```
/// RFC 9112 §5, with the CRLF that ends the line (RFC 9112 §2.1:
/// `*( field-line CRLF )`). Returns the rest of the input after the CRLF.
///
/// Contract: the caller has already handled a line that starts with CR, LF, SP or HTAB (the
/// end of the head, a bare line ending, obs-fold). Errors, at the offending byte:
/// - after the name: `WhitespaceBeforeColon` for SP/HTAB (RFC 9112 §5.1: a server MUST
///   reject it), `MissingColon` for the line's end, `InvalidFieldName` for any other
///   non-tchar, `EmptyFieldName` for a line that starts with `:`;
/// - in the value: `InvalidFieldValue` for NUL, another CTL or DEL, `InvalidLineEnding` for a
///   CR not followed by LF or a bare LF (see [`crlf_after_value`]).
///
/// Inlined into both its callers, the header section's loop and the trailer section: left to
/// the compiler, a rule with two callers is not inlined into the head's loop, and
/// `benches/interleaved.rs` measures the short request 6 ns (11%) slower.
#[inline(always)]
pub(crate) fn field_line(input: &[u8]) -> PResult<'_, FieldLine<'_>> {
    let (rest, name) = field_name(input)?;
    let after_colon = match rest {
        [b':', after @ ..] if !name.is_empty() => after,
        [b':', ..] => return fail(ErrorKind::EmptyFieldName, input),
        [b' ' | b'\t', ..] => return fail(ErrorKind::WhitespaceBeforeColon, rest),
        [b'\r' | b'\n', ..] => return fail(ErrorKind::MissingColon, rest),
        _ => return fail(ErrorKind::InvalidFieldName, rest),
    };
    let (rest, (value, value_through_cr)) = field_value(after_colon)?;
    Ok((
        rest,
        FieldLine {
            name,
            value,
            value_through_cr,
        },
    ))
}

/// ```text
/// field-name = token
/// token      = 1*tchar
/// ```
/// RFC 9110 §5.1, §5.6.2. Returns the tchars before the first other byte, possibly none (the
/// caller names that failure after the byte that follows). `Incomplete` when the input ends
/// inside the name.
#[inline(always)]
pub(crate) fn field_name(input: &[u8]) -> PResult<'_, &str> {
    match TCHAR.run(input) {
        (_, []) => incomplete(),
        (name, rest) => Ok((rest, name)),
    }
}

/// ```text
/// OWS field-value OWS CRLF
/// field-value    = *field-content
/// field-content  = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
/// field-vchar    = VCHAR / obs-text
/// ```
/// RFC 9110 §5.5, RFC 9112 §5. Returns the value without its surrounding OWS, and the value
/// through the CR (see [`FieldLine::value_through_cr`]). obs-text (bytes 0x80–0xFF) is kept
/// as received, as RFC 9110 §5.5 allows; the bytes are not decoded.
#[inline(always)]
pub(crate) fn field_value(input: &[u8]) -> PResult<'_, (&[u8], &[u8])> {
    // SP and HTAB are field-value bytes, so one scan covers the OWS on both sides too.
    let Some(end) = first_non_value_byte(input) else {
        return incomplete();
    };
    let (content, tail) = input.split_at(end);
    let (rest, ()) = crlf_after_value(tail)?;
    let start = skip_leading_ows(content);
    let value = trim_trailing_ows(content.get(start..).unwrap_or_default());
    let value_through_cr = input.get(start..=end).unwrap_or_default();
    Ok((rest, (value, value_through_cr)))
}

/// The line ending after a field value: `tail` starts at the first byte that is not a
/// field-value byte. Returns the input after the CRLF. A CR or LF there must be the line's
/// CRLF ([`crlf`]: `InvalidLineEnding` otherwise); any other byte is a control or DEL inside
/// the value, `InvalidFieldValue`.
#[inline(always)]
fn crlf_after_value(tail: &[u8]) -> PResult<'_, ()> {
    match crlf(tail) {
        Err(nom::Err::Error(_)) if !matches!(tail, [b'\r' | b'\n', ..]) => {
            fail(ErrorKind::InvalidFieldValue, tail)
        }
        result => result,
    }
}

/// How many SP and HTAB bytes `value` starts with (the OWS after the colon).
#[inline(always)]
fn skip_leading_ows(value: &[u8]) -> usize {
    let mut skipped = 0;
    while let Some(&b) = value.get(skipped) {
        if !is_ows_byte(b) {
            break;
        }
        skipped += 1;
    }
    skipped
}

/// `value` without the SP and HTAB at its end (the OWS before the line's CRLF).
#[inline(always)]
fn trim_trailing_ows(value: &[u8]) -> &[u8] {
    let mut kept = value;
    while let [before @ .., last] = kept {
        if !is_ows_byte(*last) {
            break;
        }
        kept = before;
    }
    kept
}

/// The index of the first byte of `bytes` that is not a field-value byte, or `None` when
/// every byte is one. Sixteen bytes per step, each step one bit mask
/// ([`non_field_value_mask`]) whose lowest set bit is the answer. The bytes after the last
/// whole step are checked as the last sixteen of the input, overlapping bytes already found
/// clean, so that the first bit set is still the first such byte of the input; only an input
/// shorter than sixteen bytes goes through the table one byte at a time.
#[inline(always)]
fn first_non_value_byte(bytes: &[u8]) -> Option<usize> {
    let mut clean = 0;
    let mut chunks = bytes.chunks_exact(CHUNK);
    for chunk in &mut chunks {
        if let Some(i) = first_set(non_field_value_mask(chunk)) {
            return Some(clean + i);
        }
        clean += CHUNK;
    }
    if chunks.remainder().is_empty() {
        return None;
    }
    match bytes.len().checked_sub(CHUNK) {
        Some(last) => bytes
            .get(last..)
            .and_then(|chunk| first_set(non_field_value_mask(chunk)))
            .map(|i| last + i),
        None => bytes.iter().position(|&b| !FIELD_VALUE_BYTE.contains(b)),
    }
}

/// The index of the lowest bit set in `mask`, if any.
#[inline(always)]
fn first_set(mask: u32) -> Option<usize> {
    (mask != 0).then(|| mask.trailing_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(input: &[u8]) -> Option<(ErrorKind, usize)> {
        crate::fail::failure(input, field_line(input))
    }

    #[test]
    fn scan_finds_the_first_bad_byte_at_every_position() {
        for len in 0..50 {
            for bad_at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[bad_at] = b'\r';
                if bad_at + 1 < len {
                    bytes[bad_at + 1] = 0x7f;
                }
                assert_eq!(first_non_value_byte(&bytes), Some(bad_at), "{len} {bad_at}");
            }
            assert_eq!(first_non_value_byte(&vec![b'\t'; len]), None);
        }
    }

    #[test]
    fn splits_name_and_trimmed_value() {
        let (rest, line) = field_line(b"Host: \t example.com \t\r\nnext").unwrap();
        assert_eq!(rest, b"next");
        assert_eq!(line.name, "Host");
        assert_eq!(line.value, b"example.com");
        assert_eq!(line.value_through_cr, b"example.com \t\r");
        let (_, line) = field_line(b"X-Empty:\r\n").unwrap();
        assert_eq!((line.value, line.value_through_cr), (&b""[..], &b"\r"[..]));
        let (_, line) = field_line(b"X-Obs: caf\xc3\xa9 a\tb\r\n").unwrap();
        assert_eq!(line.value, b"caf\xc3\xa9 a\tb");
    }

    #[test]
    fn name_errors() {
        assert_eq!(
            failure(b"X-Test : v\r\n"),
            Some((ErrorKind::WhitespaceBeforeColon, 6))
        );
        assert_eq!(
            failure(b"Content\tLength: 9\r\n"),
            Some((ErrorKind::WhitespaceBeforeColon, 7))
        );
        assert_eq!(
            failure(b"NoColonHere\r\n"),
            Some((ErrorKind::MissingColon, 11))
        );
        assert_eq!(failure(b"NoColon\n"), Some((ErrorKind::MissingColon, 7)));
        assert_eq!(
            failure(b"Bad[Name: v\r\n"),
            Some((ErrorKind::InvalidFieldName, 3))
        );
        assert_eq!(
            failure(b"X-T\xc3\xabst: v\r\n"),
            Some((ErrorKind::InvalidFieldName, 3))
        );
        assert_eq!(
            failure(b": empty\r\n"),
            Some((ErrorKind::EmptyFieldName, 0))
        );
        assert_eq!(
            failure(b"\x00x: v\r\n"),
            Some((ErrorKind::InvalidFieldName, 0))
        );
    }

    #[test]
    fn value_errors() {
        assert_eq!(
            failure(b"X: val\x00ue\r\n"),
            Some((ErrorKind::InvalidFieldValue, 6))
        );
        assert_eq!(
            failure(b"X: abc\x07\x08?f\r\n"),
            Some((ErrorKind::InvalidFieldValue, 6))
        );
        assert_eq!(
            failure(b"X: \x0bchunked\r\n"),
            Some((ErrorKind::InvalidFieldValue, 3))
        );
        assert_eq!(
            failure(b"X: a\x7f\r\n"),
            Some((ErrorKind::InvalidFieldValue, 4))
        );
        assert_eq!(
            failure(b"X: a\rb\r\n"),
            Some((ErrorKind::InvalidLineEnding, 4))
        );
        assert_eq!(
            failure(b"X: a\nY: b\r\n"),
            Some((ErrorKind::InvalidLineEnding, 4))
        );
    }

    #[test]
    fn prefixes_are_incomplete() {
        let line = b"Accept-Language: ja,en-us;q=0.7  \r\n";
        for end in 0..line.len() {
            assert_eq!(failure(&line[..end]), None, "prefix of {end} bytes");
        }
        assert!(field_line(line).is_ok());
    }
}
