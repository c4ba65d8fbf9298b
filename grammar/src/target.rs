//! The request-target (RFC 9112 §3.2) and the URI rules it is built from (RFC 3986).
//!
//! Every rule here is *streaming*: it returns `Incomplete` when the input ends where the rule
//! could still go on, and fails only on a byte that no continuation can make valid. A rule
//! stops at the first byte that is not part of it and leaves that byte to its caller: the
//! request-line decides what a byte after the target means (SP, fragment, stray byte).
//!
//! The byte classes (pchar, query, reg-name, ...) are lookup tables from `abnf.rs`.

#![forbid(unsafe_code)]

use crate::abnf::{
    DIGIT, HEXDIG, IP_LITERAL_CHAR, PATH_CHAR, QUERY_CHAR, REG_NAME_CHAR, SCHEME_CHAR, ascii_str,
};
use crate::error::ErrorKind;
use crate::fail::{Fail, PResult, classify, consumed, fail, incomplete};
use crate::types::RequestTarget;
use nom::bytes::streaming::{tag, take_while, take_while_m_n};
use nom::combinator::recognize;
use nom::{Needed, Parser};

/// ```text
/// request-target = origin-form / absolute-form / authority-form / asterisk-form
/// ```
/// RFC 9112 §3.2. The form is chosen by the first byte: `/` origin-form, `*` asterisk-form,
/// a letter absolute-form (or authority-form when no `://` follows the scheme), anything
/// else authority-form. Whether the form suits the method is the request-line's check.
///
/// Errors at the first byte: `ExpectedSingleSpace` for a second SP or an HTAB,
/// `MissingTarget` for the end of the line.
#[inline(always)]
pub(crate) fn request_target(input: &[u8]) -> PResult<'_, RequestTarget<'_>> {
    match input {
        [] => incomplete(),
        [b'/', ..] => origin_form(input),
        [b'*', ..] => asterisk_form(input),
        [b' ' | b'\t', ..] => fail(ErrorKind::ExpectedSingleSpace, input),
        [b'\r' | b'\n', ..] => fail(ErrorKind::MissingTarget, input),
        [first, ..] if first.is_ascii_alphabetic() => absolute_or_authority_form(input),
        _ => authority_form(input),
    }
}

/// ```text
/// origin-form = absolute-path [ "?" query ]
/// ```
/// RFC 9112 §3.2.1, with the bytes browsers send unencoded (see [`absolute_path`] and
/// [`query`]).
#[inline(always)]
pub(crate) fn origin_form(input: &[u8]) -> PResult<'_, RequestTarget<'_>> {
    let (rest, path) = absolute_path(input)?;
    let (rest, query) = optional_query(rest)?;
    Ok((rest, RequestTarget::Origin { path, query }))
}

/// `[ "?" query ]`, the optional tail of origin-form and absolute-form.
#[inline(always)]
fn optional_query(input: &[u8]) -> PResult<'_, Option<&str>> {
    match input {
        [] => incomplete(),
        [b'?', after @ ..] => {
            let (rest, q) = query(after)?;
            Ok((rest, Some(q)))
        }
        _ => Ok((input, None)),
    }
}

/// ```text
/// asterisk-form = "*"
/// ```
/// RFC 9112 §3.2.4
pub(crate) fn asterisk_form(input: &[u8]) -> PResult<'_, RequestTarget<'_>> {
    match input {
        [b'*', rest @ ..] => Ok((rest, RequestTarget::Asterisk)),
        [] => incomplete(),
        _ => fail(ErrorKind::InvalidTargetByte, input),
    }
}

/// Chooses between absolute-form and authority-form for a target that starts with a letter:
/// both begin with a run of letters, digits, `+`, `-`, `.` and a `:`; only absolute-form
/// (as this server accepts it) continues with `/`.
///
/// **Deviation, argued**: `GET HTTP/1.1` (the target left out) would otherwise fail at the
/// `/` as a stray byte. No target can start with `HTTP/` (origin-form starts with `/`,
/// absolute-form's scheme ends at `:`, a host is followed by `:`), so that shape is
/// reported as `MissingTarget` at the version, the most precise reading.
fn absolute_or_authority_form(input: &[u8]) -> PResult<'_, RequestTarget<'_>> {
    let (after, name) = classify(
        ErrorKind::InvalidTargetByte,
        input,
        take_while(|b| SCHEME_CHAR.contains(b)).parse(input),
    )?;
    match after {
        [b':', b'/', ..] => absolute_form(input),
        [b':'] => incomplete(),
        [b'/', ..] if name == b"HTTP" => fail(ErrorKind::MissingTarget, input),
        _ => authority_form(input),
    }
}

/// ```text
/// absolute-form = absolute-URI                                   ; RFC 9112 §3.2.2
/// absolute-URI  = scheme ":" hier-part [ "?" query ]             ; RFC 3986 §4.3
/// hier-part     = "//" authority path-abempty
///               / path-absolute / path-rootless / path-empty     ; RFC 3986 §3
/// ```
/// **Deviation, argued**: only the `"//" authority path-abempty` branch of hier-part is
/// accepted. The absolute-form is meant for requests to proxies and for the `http` and
/// `https` schemes, whose URIs always have an authority with a non-empty host
/// (RFC 9110 §4.2.1, §4.2.2); a target without one names nothing this server can serve.
/// Also: userinfo is rejected (see [`authority`]), and an empty path stands for `/`
/// (RFC 9112 §3.2.1: "the empty path ... must be sent as /").
pub(crate) fn absolute_form(input: &[u8]) -> PResult<'_, RequestTarget<'_>> {
    let (rest, scheme) = scheme(input)?;
    let (rest, _) = classify(
        ErrorKind::InvalidAuthority,
        rest,
        tag(&b"://"[..]).parse(rest),
    )?;
    let (rest, authority) = authority(rest)?;
    let (rest, path) = path_abempty(rest)?;
    let (rest, query) = optional_query(rest)?;
    let path = if path.is_empty() { "/" } else { path };
    Ok((
        rest,
        RequestTarget::Absolute {
            scheme: ascii_str(scheme),
            authority: ascii_str(authority),
            path,
            query,
        },
    ))
}

/// ```text
/// authority-form = uri-host ":" port
/// ```
/// RFC 9112 §3.2.3. The host must not be empty (RFC 9110 §4.2.1). Errors: a byte other than
/// `:` after the host: `#` is `FragmentInTarget`, `@` (userinfo) and SP (no port) are
/// `InvalidAuthority`, anything else `InvalidTargetByte`.
pub(crate) fn authority_form(input: &[u8]) -> PResult<'_, RequestTarget<'_>> {
    let (rest, host) = uri_host(input)?;
    let after_colon = match rest {
        [] => return incomplete(),
        [b':', after @ ..] => after,
        [b'#', ..] => return fail(ErrorKind::FragmentInTarget, rest),
        [b'@' | b' ', ..] => return fail(ErrorKind::InvalidAuthority, rest),
        _ => return fail(ErrorKind::InvalidTargetByte, rest),
    };
    if host.is_empty() {
        return fail(ErrorKind::InvalidAuthority, input);
    }
    let (rest, _) = port(after_colon)?;
    Ok((
        rest,
        RequestTarget::Authority(ascii_str(consumed(input, rest))),
    ))
}

/// ```text
/// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
/// ```
/// RFC 3986 §3.1
pub(crate) fn scheme(input: &[u8]) -> PResult<'_, &[u8]> {
    match input {
        [] => incomplete(),
        [first, after @ ..] if first.is_ascii_alphabetic() => {
            let (rest, _) = classify(
                ErrorKind::InvalidTargetByte,
                after,
                take_while(|b| SCHEME_CHAR.contains(b)).parse(after),
            )?;
            Ok((rest, consumed(input, rest)))
        }
        _ => fail(ErrorKind::InvalidTargetByte, input),
    }
}

/// ```text
/// authority = [ userinfo "@" ] host [ ":" port ]
/// ```
/// RFC 3986 §3.2. The authority ends at the next `/`, `?` or `#`, or at the end of the URI,
/// which in a request-line is the SP before the version (or the HTAB, CR, LF that the
/// request-line reports more precisely).
///
/// **Deviation, argued**: userinfo is an error. RFC 9110 §4.2.4 deprecates it in `http` and
/// `https` URIs and tells recipients to treat it as an error ("user@host" is a phishing
/// shape); the `@` fails as `InvalidAuthority`. An empty host fails too (RFC 9110 §4.2.1:
/// "A sender MUST NOT generate an "http" URI with an empty host identifier").
pub(crate) fn authority(input: &[u8]) -> PResult<'_, &[u8]> {
    let (rest, host) = uri_host(input)?;
    if rest.is_empty() {
        return incomplete();
    }
    if host.is_empty() {
        return fail(ErrorKind::InvalidAuthority, input);
    }
    let rest = match rest {
        [b':', after @ ..] => port(after)?.0,
        _ => rest,
    };
    match rest {
        [] => incomplete(),
        [b'/' | b'?' | b'#' | b' ' | b'\t' | b'\r' | b'\n', ..] => {
            Ok((rest, consumed(input, rest)))
        }
        _ => fail(ErrorKind::InvalidAuthority, rest),
    }
}

/// ```text
/// uri-host = <host, see [URI], Section 3.2.2>        ; RFC 9110 §4.1
/// host     = IP-literal / IPv4address / reg-name      ; RFC 3986 §3.2.2
/// ```
/// `IPv4address` is not parsed apart: every IPv4address is also a reg-name, and RFC 3986
/// §3.2.2 resolves the overlap in favour of the address without changing which strings are
/// valid. The host may be empty (reg-name allows it); callers that forbid it check.
#[inline(always)]
pub(crate) fn uri_host(input: &[u8]) -> PResult<'_, &[u8]> {
    match input {
        [b'[', ..] => ip_literal(input),
        _ => reg_name(input),
    }
}

/// ```text
/// IP-literal  = "[" ( IPv6address / IPvFuture  ) "]"
/// IPv6address = <the RFC 4291 text forms, ABNF in RFC 3986 §3.2.2>
/// ```
/// RFC 3986 §3.2.2. The contents between the brackets are collected first, then checked:
/// IPvFuture when they start with `v`, else IPv6address via `std::net::Ipv6Addr`, whose
/// parser accepts exactly the RFC 4291 §2.2 text forms that RFC 3986's IPv6address ABNF
/// spells out (no zone identifier, no leading-zero IPv4 parts). Errors: `InvalidAuthority`
/// at the `[` when the contents are neither, or at the byte that should be `]`.
pub(crate) fn ip_literal(input: &[u8]) -> PResult<'_, &[u8]> {
    let (inside, _) = classify(
        ErrorKind::InvalidAuthority,
        input,
        tag(&b"["[..]).parse(input),
    )?;
    let (after, contents) = classify(
        ErrorKind::InvalidAuthority,
        inside,
        take_while(|b| IP_LITERAL_CHAR.contains(b)).parse(inside),
    )?;
    let rest = match after {
        [b']', rest @ ..] => rest,
        _ => return fail(ErrorKind::InvalidAuthority, after),
    };
    let valid = match contents {
        [b'v' | b'V', ..] => ipv_future(contents),
        _ => ascii_str(contents).parse::<std::net::Ipv6Addr>().is_ok(),
    };
    if valid {
        Ok((rest, consumed(input, rest)))
    } else {
        fail(ErrorKind::InvalidAuthority, input)
    }
}

/// ```text
/// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
/// ```
/// RFC 3986 §3.2.2. Whether the whole of `contents` (complete, not streaming: the brackets
/// are already found) matches.
pub(crate) fn ipv_future(contents: &[u8]) -> bool {
    let Some((b'v' | b'V', after_v)) = contents.split_first() else {
        return false;
    };
    let version_len = after_v.iter().take_while(|&&b| HEXDIG.contains(b)).count();
    match after_v.get(version_len..) {
        Some([b'.', tail @ ..]) => {
            version_len > 0 && !tail.is_empty() && tail.iter().all(|&b| IP_LITERAL_CHAR.contains(b))
        }
        _ => false,
    }
}

/// ```text
/// reg-name = *( unreserved / pct-encoded / sub-delims )
/// ```
/// RFC 3986 §3.2.2
#[inline(always)]
pub(crate) fn reg_name(input: &[u8]) -> PResult<'_, &[u8]> {
    let (name, rest) = REG_NAME_CHAR.text(input, escape_len)?;
    Ok((rest, name.as_bytes()))
}

/// ```text
/// port = *DIGIT
/// ```
/// RFC 3986 §3.2.3
pub(crate) fn port(input: &[u8]) -> PResult<'_, &[u8]> {
    classify(
        ErrorKind::InvalidAuthority,
        input,
        take_while(|b| DIGIT.contains(b)).parse(input),
    )
}

/// ```text
/// absolute-path = 1*( "/" segment )
/// ```
/// RFC 9110 §4.1; the segments as [`path_abempty`] reads them.
#[inline(always)]
pub(crate) fn absolute_path(input: &[u8]) -> PResult<'_, &str> {
    match input {
        [] => incomplete(),
        [b'/', ..] => path_abempty(input),
        _ => fail(ErrorKind::InvalidTargetByte, input),
    }
}

/// ```text
/// path-abempty = *( "/" segment )
/// segment      = *pchar
/// pchar        = unreserved / pct-encoded / sub-delims / ":" / "@"
/// ```
/// RFC 3986 §3.3. Empty, or a `/` followed by `*( pchar / "/" )`: a `/` inside the run
/// starts the next segment, so the segments are one run of [`PATH_CHAR`] with pct-encoded
/// triplets, scanned in one pass instead of one per segment.
///
/// **Deviation, argued**: besides pchar, a path takes the bytes browsers send unencoded in
/// one (`[`, `]`, `|`, `^`; argued at [`PATH_CHAR`]). A `%` must start a `%XX` escape
/// (`InvalidPercentEncoding` at the `%`): WHATWG's parser leaves a stray `%` in a path as it
/// is, but in a path `%` is how `/`, `\` and controls are smuggled past a check, so an
/// escape that cannot be decoded is refused, not guessed at.
#[inline(always)]
pub(crate) fn path_abempty(input: &[u8]) -> PResult<'_, &str> {
    match input {
        [] => Err(nom::Err::Incomplete(Needed::Unknown)),
        [b'/', ..] => PATH_CHAR.text(input, escape_len),
        _ => Ok(("", input)),
    }
    .map(|(path, rest)| (rest, path))
}

/// ```text
/// query = *( pchar / "/" / "?" )
/// ```
/// RFC 3986 §3.4, with the bytes browsers send unencoded in a query and a `%` that starts
/// no escape (both argued at [`QUERY_CHAR`]): one run of that class.
#[inline]
pub(crate) fn query(input: &[u8]) -> PResult<'_, &str> {
    let (query, rest) = QUERY_CHAR.run(input);
    match rest {
        [] => incomplete(),
        _ => Ok((rest, query)),
    }
}

/// The length of the `pct-encoded` escape at the start of `rest`, for
/// [`AsciiClass::text`](crate::text::AsciiClass::text): 3 for `%XX`, 0 for any other byte
/// (the run ends there); `Incomplete` at the end of the input, and [`pct_encoded`]'s failure
/// for a `%` without two HEXDIG.
#[inline(always)]
fn escape_len(rest: &[u8]) -> Result<usize, nom::Err<Fail<'_>>> {
    match rest {
        [] => Err(nom::Err::Incomplete(Needed::Unknown)),
        [b'%', ..] => pct_encoded(rest).map(|(_, escape)| escape.len()),
        _ => Ok(0),
    }
}

/// ```text
/// pct-encoded = "%" HEXDIG HEXDIG
/// ```
/// RFC 3986 §2.1. Error: `InvalidPercentEncoding` at the `%`.
///
/// Kept out of line: inlined, it made [`escape_len`] too large to be inlined into the path's
/// scan, which calls it at the end of every run, escape or not.
#[inline(never)]
pub(crate) fn pct_encoded(input: &[u8]) -> PResult<'_, &[u8]> {
    classify(
        ErrorKind::InvalidPercentEncoding,
        input,
        recognize((tag(&b"%"[..]), take_while_m_n(2, 2, |b| HEXDIG.contains(b)))).parse(input),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fail::failure;

    #[test]
    fn origin_form_splits_path_and_query() {
        let input = &b"/a/b%20c?x=1&y=/?z HTTP/1.1"[..];
        let (rest, target) = origin_form(input).unwrap();
        assert_eq!(rest, b" HTTP/1.1");
        assert_eq!(
            target,
            RequestTarget::Origin {
                path: "/a/b%20c",
                query: Some("x=1&y=/?z")
            }
        );
        let (_, target) = origin_form(b"/? ").unwrap();
        assert_eq!(
            target,
            RequestTarget::Origin {
                path: "/",
                query: Some("")
            }
        );
    }

    #[test]
    fn origin_form_takes_what_browsers_send_unencoded() {
        for (input, path, query) in [
            (&b"/photo%20[1].txt "[..], "/photo%20[1].txt", None),
            (b"/a|b^c[d] ", "/a|b^c[d]", None),
            (b"/!$&'()*+,;=:@~ ", "/!$&'()*+,;=:@~", None),
            (b"/?ids[]=1&f=a|b ", "/", Some("ids[]=1&f=a|b")),
            (b"/?q=100% ", "/", Some("q=100%")),
            (b"/x?q=%zz ", "/x", Some("q=%zz")),
            (b"/?x={%22a%22:1}`^\\ ", "/", Some("x={%22a%22:1}`^\\")),
            (b"/?'/?: ", "/", Some("'/?:")),
        ] {
            let Ok((rest, target)) = origin_form(input) else {
                panic!("{input:?} refused");
            };
            assert_eq!(rest, b" ", "{input:?}");
            assert_eq!(target, RequestTarget::Origin { path, query }, "{input:?}");
        }
    }

    #[test]
    fn origin_form_stops_at_bytes_it_does_not_allow() {
        for (input, stop) in [
            (&b"/pa th"[..], 3),
            (b"/p#f", 2),
            (b"/\\x", 1),
            (b"/a\x00", 2),
            (b"/a\x7f", 2),
            (b"/{}", 1),
            (b"/`", 1),
            (b"/a\"b", 2),
            (b"/<a>", 1),
            (b"/?a<", 3),
            (b"/?a\x7f", 3),
            (b"/?a#", 3),
            (b"/?x={\"a\":1}", 5),
        ] {
            let (rest, _) = origin_form(input).unwrap();
            assert_eq!(input.len() - rest.len(), stop, "{input:?}");
        }
    }

    #[test]
    fn raw_non_ascii_stops_the_target() {
        for input in [&b"/caf\xc3\xa9 "[..], b"/\xc0\xaf ", b"/?q=\xe6\x97\xa5 "] {
            let (rest, _) = origin_form(input).unwrap();
            assert!(rest[0] >= 0x80, "{input:?}");
        }
    }

    #[test]
    fn prefixes_are_incomplete_not_errors() {
        for input in [
            &b"/"[..],
            b"/abc",
            b"/a%",
            b"/a%4",
            b"/a?",
            b"/a?b%2",
            b"/a?b%",
        ] {
            assert_eq!(failure(input, origin_form(input)), None, "{input:?}");
        }
        for input in [
            &b"http"[..],
            b"http:",
            b"http:/",
            b"http://",
            b"http://h",
            b"http://h:8",
        ] {
            assert_eq!(failure(input, request_target(input)), None, "{input:?}");
        }
        for input in [&b"[::1"[..], b"example.com:44", b"[v1.x]:"] {
            assert_eq!(failure(input, authority_form(input)), None, "{input:?}");
        }
    }

    #[test]
    fn bad_percent_encoding_in_a_path_fails_at_the_percent() {
        for input in [&b"/a%zz "[..], b"/a%4g ", b"/a% ", b"/%%41 "] {
            let at = input.iter().position(|&b| b == b'%').unwrap();
            assert_eq!(
                failure(input, origin_form(input)),
                Some((ErrorKind::InvalidPercentEncoding, at)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn absolute_form_parts() {
        let (rest, target) = request_target(b"http://example.com:8080/p/q?x#f").unwrap();
        assert_eq!(rest, b"#f");
        assert_eq!(
            target,
            RequestTarget::Absolute {
                scheme: "http",
                authority: "example.com:8080",
                path: "/p/q",
                query: Some("x")
            }
        );
        let (_, target) = request_target(b"https://[::1] ").unwrap();
        assert_eq!(target.path(), Some("/"));
        let (_, target) = request_target(b"http://h?q ").unwrap();
        assert_eq!((target.path(), target.query()), (Some("/"), Some("q")));
    }

    #[test]
    fn absolute_form_rejections() {
        for (input, kind, at) in [
            (&b"http://user@host/ "[..], ErrorKind::InvalidAuthority, 11),
            (b"http://u:pw@host/ ", ErrorKind::InvalidAuthority, 9),
            (b"http:///p ", ErrorKind::InvalidAuthority, 7),
            (b"http://:80/ ", ErrorKind::InvalidAuthority, 7),
            (b"http:/p ", ErrorKind::InvalidAuthority, 4),
            (b"http://h%zz/ ", ErrorKind::InvalidPercentEncoding, 8),
            (b"http://[::g]/ ", ErrorKind::InvalidAuthority, 7),
            (b"http://[::1/ ", ErrorKind::InvalidAuthority, 11),
            (b"HTTP/1.1\r\n", ErrorKind::MissingTarget, 0),
        ] {
            assert_eq!(
                failure(input, request_target(input)),
                Some((kind, at)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn authority_form_cases() {
        let (rest, target) = request_target(b"example.com:443 ").unwrap();
        assert_eq!(
            (rest, target),
            (&b" "[..], RequestTarget::Authority("example.com:443"))
        );
        let (_, target) = request_target(b"127.0.0.1:80 ").unwrap();
        assert_eq!(target, RequestTarget::Authority("127.0.0.1:80"));
        let (_, target) = request_target(b"[2001:db8::7]:443 ").unwrap();
        assert_eq!(target, RequestTarget::Authority("[2001:db8::7]:443"));
        for (input, kind, at) in [
            (&b"example.com "[..], ErrorKind::InvalidAuthority, 11),
            (b"user@example.com:443 ", ErrorKind::InvalidAuthority, 4),
            (b":443 ", ErrorKind::InvalidAuthority, 0),
            (b"x#y ", ErrorKind::FragmentInTarget, 1),
            (b"\x00 ", ErrorKind::InvalidTargetByte, 0),
        ] {
            assert_eq!(
                failure(input, request_target(input)),
                Some((kind, at)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn first_byte_errors() {
        assert_eq!(
            failure(b" /", request_target(b" /")),
            Some((ErrorKind::ExpectedSingleSpace, 0))
        );
        assert_eq!(
            failure(b"\r\n", request_target(b"\r\n")),
            Some((ErrorKind::MissingTarget, 0))
        );
        assert_eq!(failure(b"", request_target(b"")), None);
        let (rest, target) = request_target(b"* ").unwrap();
        assert_eq!((rest, target), (&b" "[..], RequestTarget::Asterisk));
    }

    #[test]
    fn ip_literals() {
        for good in [
            &b"[::1]"[..],
            b"[2001:db8::1]",
            b"[::ffff:1.2.3.4]",
            b"[v7.a:b]",
        ] {
            let input = [good, b" "].concat();
            assert!(ip_literal(&input).is_ok(), "{good:?}");
        }
        for bad in [
            &b"[]"[..],
            b"[1:2:3]",
            b"[::1.2.3]",
            b"[v.x]",
            b"[v1.]",
            b"[fe80::1%25eth0]",
        ] {
            let input = [bad, b" "].concat();
            assert!(
                matches!(ip_literal(&input), Err(nom::Err::Error(_))),
                "{bad:?}"
            );
        }
    }
}
