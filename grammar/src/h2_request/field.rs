//! The rules every field of an HTTP/2 request obeys, pseudo-header or regular: the generic
//! syntax of names and values (RFC 9113 §8.2, §8.2.1) and the fields a request may not carry
//! over HTTP/2 (RFC 9113 §8.2.2).

#![forbid(unsafe_code)]

use crate::abnf::{TCHAR, is_trimmed_field_value};
use crate::class::{FIELD_VALUE_BYTE, class};
use crate::error::ErrorKind;
use crate::fail::Fail;
use crate::text::AsciiClass;

/// The bytes of an HTTP/2 field name: tchar without the uppercase letters (RFC 9113 §8.2,
/// §8.2.1).
static LOWER_TCHAR: AsciiClass =
    AsciiClass::new(class!(|b| TCHAR.contains(b) && !b.is_ascii_uppercase()));

/// ```text
/// field-name = token                  ; RFC 9110 §5.1
/// ```
/// with RFC 9113 §8.2: "Field names MUST be converted to lowercase when constructing an
/// HTTP/2 message", and §8.2.1: a field name holding an uppercase letter, or a byte outside
/// tchar (§8.2.1's minimal check, 0x00–0x20, 0x7F–0xFF and `:`, is a subset of the
/// non-tchars), is malformed. Returns the name as `&str`. Errors: `EmptyFieldName` at the
/// start for an empty name; `UppercaseFieldName` at the first uppercase letter and
/// `InvalidFieldName` at the first other non-tchar, whichever comes first.
///
/// Only regular fields go through this rule: a pseudo-header field's name starts with `:`
/// and is matched whole against the four a request may carry.
pub(super) fn field_name(name: &[u8]) -> Result<&str, Fail<'_>> {
    match LOWER_TCHAR.whole(name) {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(name_failure(name)),
    }
}

/// Where and why `name`, which [`field_name`] refused, fails: at its start when it is
/// empty, else at its first byte outside [`LOWER_TCHAR`].
#[cold]
fn name_failure(name: &[u8]) -> Fail<'_> {
    let at = name.get(LOWER_TCHAR.prefix_len(name)..).unwrap_or_default();
    let kind = match at {
        [] => ErrorKind::EmptyFieldName,
        [b, ..] if b.is_ascii_uppercase() => ErrorKind::UppercaseFieldName,
        _ => ErrorKind::InvalidFieldName,
    };
    Fail { kind, at }
}

/// ```text
/// field-value   = *field-content                                          ; RFC 9110 §5.5
/// field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
/// field-vchar   = VCHAR / obs-text
/// ```
/// RFC 9113 §8.2.1: a value MUST NOT hold NUL, LF or CR, nor start or end with SP or HTAB,
/// and values SHOULD be validated by RFC 9110 §5.5, a message with a prohibited character
/// being malformed. This rule is RFC 9110 §5.5's, which is the stricter: it refuses every
/// control but HTAB, and DEL, as HTTP/1.1's field line does, so a value reaches the handlers
/// with the same bytes over both protocols. Errors: `InvalidFieldValue` at the first control
/// or DEL; `WhitespaceAroundFieldValue` at a SP or HTAB that starts or ends the value.
///
/// **Decision, argued**: HTTP/1.1 strips the OWS around a value (RFC 9112 §5); HTTP/2 has
/// no OWS to strip, and RFC 9113 §8.2.1 makes a value with it malformed rather than asking
/// for it to be trimmed, so it is refused, never trimmed.
pub(super) fn field_value(value: &[u8]) -> Result<(), Fail<'_>> {
    if is_trimmed_field_value(value) {
        return Ok(());
    }
    value_failure(value)
}

/// Where and why `value`, which [`field_value`] refused, fails.
#[cold]
fn value_failure(value: &[u8]) -> Result<(), Fail<'_>> {
    let clean = FIELD_VALUE_BYTE.prefix_len(value);
    let fail = |kind, at| Err(Fail { kind, at });
    match value.get(clean..).unwrap_or_default() {
        [] => {}
        rest => return fail(ErrorKind::InvalidFieldValue, rest),
    }
    match value {
        [b' ' | b'\t', ..] => fail(ErrorKind::WhitespaceAroundFieldValue, value),
        [.., b' ' | b'\t'] => fail(
            ErrorKind::WhitespaceAroundFieldValue,
            value.get(value.len() - 1..).unwrap_or_default(),
        ),
        _ => Ok(()),
    }
}

/// What a regular field (its name checked by [`field_name`], so lowercase) means to the
/// mapping of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// A field HTTP/2 does not carry: RFC 9113 §8.2.2, "An endpoint MUST NOT generate an
    /// HTTP/2 message containing connection-specific header fields [...] Connection,
    /// Keep-Alive, Proxy-Connection, Transfer-Encoding, and Upgrade"; a message that
    /// carries one is malformed.
    ConnectionSpecific,
    /// TE, allowed with the one value `trailers` (RFC 9113 §8.2.2).
    Te,
    /// Host (RFC 9110 §7.2), checked against `:authority` (RFC 9113 §8.3.1).
    Host,
    /// Content-Length (RFC 9110 §8.6), the length the DATA frames must add up to
    /// (RFC 9113 §8.1.1).
    ContentLength,
    /// Any other field: stored, not interpreted here.
    Other,
}

/// The role of the field named `name` (lowercase).
pub(super) fn role(name: &str) -> Role {
    match name {
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade" => {
            Role::ConnectionSpecific
        }
        "te" => Role::Te,
        "host" => Role::Host,
        "content-length" => Role::ContentLength,
        _ => Role::Other,
    }
}

/// ```text
/// TE = #t-codings                     ; RFC 9110 §10.1.4
/// ```
/// restricted by RFC 9113 §8.2.2: "it MUST NOT contain any value other than "trailers"".
/// The coding name is case-insensitive (RFC 9110 §10.1.4). Error: `TeNotTrailers` at the
/// value's start.
///
/// **Decision, argued**: only the value `trailers` itself is taken, not a list that repeats
/// it (`trailers, trailers`) nor one with a weight: the RFC names one value, and no client
/// sends more.
pub(super) fn te(value: &[u8]) -> Result<(), Fail<'_>> {
    if value.eq_ignore_ascii_case(b"trailers") {
        Ok(())
    } else {
        Err(Fail {
            kind: ErrorKind::TeNotTrailers,
            at: value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fail::offset_in;

    /// The kind and the offset within `input` of a failure.
    fn at(input: &[u8], fail: Fail<'_>) -> (ErrorKind, usize) {
        (fail.kind, offset_in(input, fail.at))
    }

    #[test]
    fn names_are_lowercase_tokens() {
        for name in [&b"accept"[..], b"x-custom_1", b"!#$%&'*+-.^_`|~09az"] {
            assert_eq!(field_name(name).map(str::as_bytes), Ok(name), "{name:?}");
        }
    }

    #[test]
    fn name_rejections() {
        use ErrorKind::{EmptyFieldName, InvalidFieldName, UppercaseFieldName};
        for (name, kind, offset) in [
            (&b""[..], EmptyFieldName, 0),
            (b"Accept", UppercaseFieldName, 0),
            (b"x-Test", UppercaseFieldName, 2),
            (b"x y", InvalidFieldName, 1),
            (b"a:b", InvalidFieldName, 1),
            (b":path", InvalidFieldName, 0),
            (b"a\x00", InvalidFieldName, 1),
            (b"caf\xc3\xa9", InvalidFieldName, 3),
            (b"a\x7f", InvalidFieldName, 1),
            (b"a\"B", InvalidFieldName, 1),
            (b"aB\"", UppercaseFieldName, 1),
        ] {
            let fail = field_name(name).unwrap_err();
            assert_eq!(at(name, fail), (kind, offset), "{name:?}");
        }
    }

    #[test]
    fn values_of_visible_bytes_sp_htab_and_obs_text() {
        for value in [
            &b""[..],
            b"x",
            b"a b\tc",
            b"caf\xc3\xa9",
            b"\xff",
            b"\"q\" , ;",
        ] {
            assert_eq!(field_value(value), Ok(()), "{value:?}");
        }
    }

    #[test]
    fn value_rejections() {
        use ErrorKind::{InvalidFieldValue as Invalid, WhitespaceAroundFieldValue as Space};
        for (value, kind, offset) in [
            (&b"a\x00b"[..], Invalid, 1),
            (b"a\rb", Invalid, 1),
            (b"a\nb", Invalid, 1),
            (b"a\x01", Invalid, 1),
            (b"\x7f", Invalid, 0),
            (b" a", Space, 0),
            (b"\ta", Space, 0),
            (b"a ", Space, 1),
            (b"a\t", Space, 1),
            (b" ", Space, 0),
            (b" \r", Invalid, 1),
        ] {
            let fail = field_value(value).unwrap_err();
            assert_eq!(at(value, fail), (kind, offset), "{value:?}");
        }
    }

    #[test]
    fn roles() {
        for name in [
            "connection",
            "keep-alive",
            "proxy-connection",
            "transfer-encoding",
            "upgrade",
        ] {
            assert_eq!(role(name), Role::ConnectionSpecific, "{name}");
        }
        assert_eq!(role("te"), Role::Te);
        assert_eq!(role("host"), Role::Host);
        assert_eq!(role("content-length"), Role::ContentLength);
        assert_eq!(role("cookie"), Role::Other);
        assert_eq!(role("upgrade-insecure-requests"), Role::Other);
    }

    #[test]
    fn te_is_trailers_only() {
        assert_eq!(te(b"trailers"), Ok(()));
        assert_eq!(te(b"Trailers"), Ok(()));
        for value in [&b"gzip"[..], b"trailers, gzip", b"trailers;q=1", b""] {
            let fail = te(value).unwrap_err();
            assert_eq!(at(value, fail), (ErrorKind::TeNotTrailers, 0), "{value:?}");
        }
    }
}
