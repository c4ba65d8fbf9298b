//! The values of the request pseudo-header fields (RFC 9113 §8.3.1) and the Host field that
//! stands in for `:authority`: each mapped to what the HTTP/1.1 request-line and Host give,
//! through the same URI rules (RFC 3986, `target.rs`).
//!
//! The HTTP/1.1 rules are streaming: they stop at the first byte they do not take and leave
//! it to the request-line (which expects SP) or to the field line (CR). An HTTP/2 value is
//! whole, with no byte after it, so the rules here compose the same byte classes and the same
//! `pct-encoded` rule on a whole value, and end where the value ends; the unit tests and the
//! crate's property test check that both protocols take the same targets and hosts.

#![forbid(unsafe_code)]

use crate::abnf::{
    DIGIT, HEXDIG, PATH_CHAR, QUERY_CHAR, REG_NAME_CHAR, SCHEME_CHAR, TCHAR, ascii_str,
};
use crate::class::class;
use crate::error::ErrorKind;
use crate::fail::Fail;
use crate::request::method_named;
use crate::target::ip_literal;
use crate::text::AsciiClass;
use crate::types::{Limits, Method, RequestTarget};

/// The bytes of a reg-name and `:`, for the usual `:authority` and Host, `host:port`.
static REG_NAME_OR_COLON: AsciiClass =
    AsciiClass::new(class!(|b| REG_NAME_CHAR.contains(b) || b == b':'));

/// ```text
/// method = token                      ; RFC 9110 §9.1
/// ```
/// The value of `:method` (RFC 9113 §8.3.1), case-sensitive as in HTTP/1.1. Error:
/// `InvalidMethod` at the first non-tchar, or at the start of an empty value.
pub(super) fn method(value: &[u8]) -> Result<Method<'_>, Fail<'_>> {
    // The methods this server knows are tokens: no scan needed.
    let named = method_named(value);
    if !matches!(named, Method::Extension(_)) {
        return Ok(named);
    }
    let (name, rest) = TCHAR.run(value);
    if name.is_empty() || !rest.is_empty() {
        return Err(Fail {
            kind: ErrorKind::InvalidMethod,
            at: rest,
        });
    }
    Ok(named)
}

/// ```text
/// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )    ; RFC 3986 §3.1
/// ```
/// The value of `:scheme` (RFC 9113 §8.3.1: "not restricted to "http" and "https" schemed
/// URIs"). Error: `InvalidScheme` at the first byte that does not fit (the start of an empty
/// value).
///
/// **Decision, argued**: any well-formed scheme is taken, not only `http` and `https`, as
/// RFC 9113 §8.3.1 allows: the handlers serve the path whatever the scheme, as they do for
/// an HTTP/1.1 origin-form request, which names none.
pub(super) fn scheme(value: &[u8]) -> Result<&[u8], Fail<'_>> {
    // The schemes every request names are well-formed: no scan needed.
    if matches!(value, b"https" | b"http") {
        return Ok(value);
    }
    let rest = match value {
        [first, rest @ ..] if first.is_ascii_alphabetic() => {
            rest.get(SCHEME_CHAR.prefix_len(rest)..).unwrap_or_default()
        }
        _ => value,
    };
    match rest {
        [] if !value.is_empty() => Ok(value),
        _ => Err(Fail {
            kind: ErrorKind::InvalidScheme,
            at: rest,
        }),
    }
}

/// ```text
/// :path = absolute-path [ "?" query ]     ; origin-form, RFC 9112 §3.2.1
///       / "*"                             ; asterisk-form, OPTIONS only, RFC 9112 §3.2.4
/// ```
/// RFC 9113 §8.3.1: the path and query of the target URI, never empty; `*` for a server-wide
/// OPTIONS. Returns the request-target HTTP/1.1 would give for the same text. Errors, at the
/// value's start unless said:
/// - `EmptyPath` for an empty value (RFC 9113 §8.3.1: it "MUST NOT be empty");
/// - `PathTooLong` (414) for a value longer than `limits.max_request_line`, the bound
///   HTTP/1.1 puts on the line that carries the target;
/// - `TargetFormMismatch` for `*` with a method other than OPTIONS (RFC 9112 §3.2.4);
/// - `InvalidPath` for a value that starts with neither `/` nor is `*` (an absolute URI
///   belongs in `:scheme` and `:authority`);
/// - the origin-form's own errors, at the offending byte, as in HTTP/1.1:
///   `InvalidPercentEncoding` at a `%` without two HEXDIG, `FragmentInTarget` at a `#`,
///   `InvalidTargetByte` at any other byte the path or query does not take (SP, `"`, `<`,
///   `\` in the path, raw bytes above `~`, ...).
pub(super) fn path<'b>(
    value: &'b [u8],
    method: Method<'_>,
    limits: &Limits,
) -> Result<RequestTarget<'b>, Fail<'b>> {
    let fail = |kind| Err(Fail { kind, at: value });
    match value {
        [] => fail(ErrorKind::EmptyPath),
        _ if value.len() > limits.max_request_line => fail(ErrorKind::PathTooLong),
        [b'*'] if method == Method::Options => Ok(RequestTarget::Asterisk),
        [b'*'] => fail(ErrorKind::TargetFormMismatch),
        [b'/', ..] => origin_form(value),
        _ => fail(ErrorKind::InvalidPath),
    }
}

/// ```text
/// origin-form   = absolute-path [ "?" query ]     ; RFC 9112 §3.2.1
/// absolute-path = 1*( "/" segment )               ; RFC 9110 §4.1
/// ```
/// On a whole value that starts with `/`: the path is one run of `PATH_CHAR` and `%XX`
/// escapes, the query one run of `QUERY_CHAR`, as `path_abempty` and `query` read them in
/// `target.rs`, with the deviations argued there, and the escapes as [`whole_escape_len`]
/// reads them. The value must end where they stop.
fn origin_form(value: &[u8]) -> Result<RequestTarget<'_>, Fail<'_>> {
    // The usual value, a path with neither escape nor query, in one scan.
    if let Some(path) = PATH_CHAR.whole(value) {
        return Ok(RequestTarget::Origin { path, query: None });
    }
    let (path, rest) = PATH_CHAR.text(value, whole_escape_len)?;
    let (query, rest) = match rest {
        [b'?', after @ ..] => {
            let (query, rest) = QUERY_CHAR.run(after);
            (Some(query), rest)
        }
        _ => (None, rest),
    };
    let kind = match rest {
        [] => return Ok(RequestTarget::Origin { path, query }),
        [b'#', ..] => ErrorKind::FragmentInTarget,
        _ => ErrorKind::InvalidTargetByte,
    };
    Err(Fail { kind, at: rest })
}

/// ```text
/// pct-encoded = "%" HEXDIG HEXDIG
/// ```
/// RFC 3986 §2.1: the length of the escape at the start of `rest`, for
/// [`AsciiClass::text`](crate::text::AsciiClass::text) on a whole value: 3 for `%XX`, 0 for
/// any other byte and for the end of the value. Error: `InvalidPercentEncoding` at a `%`
/// without two HEXDIG after it, the value's end included.
///
/// The rule is spelled out here rather than taken from `target.rs`'s `pct_encoded`: that
/// one is streaming, and nom's streaming `take_while_m_n` asks for more input when its two
/// digits end the input, which on a whole value is the end of the escape.
fn whole_escape_len(rest: &[u8]) -> Result<usize, Fail<'_>> {
    match rest {
        [b'%', high, low, ..] if HEXDIG.contains(*high) && HEXDIG.contains(*low) => Ok(3),
        [b'%', ..] => Err(Fail {
            kind: ErrorKind::InvalidPercentEncoding,
            at: rest,
        }),
        _ => Ok(0),
    }
}

/// ```text
/// Host = uri-host [ ":" port ]        ; RFC 9110 §7.2
/// ```
/// The value of Host, and of `:authority`: RFC 9113 §8.3.1 has `:authority` carry the
/// authority of the target URI (RFC 3986 §3.2) without its userinfo, which leaves
/// `uri-host [ ":" port ]`. `kind` names the failure (`InvalidHost` or
/// `InvalidAuthorityPseudoHeader`); it is reported at the first byte that is not part of the
/// rule (`user@x` at `@`, `x/p` at `/`), at the `[` of an IP-literal whose contents are not an
/// address, at the end of one never closed, and at the start of a value with an empty host
/// (RFC 9110 §4.2.1: an `http` URI has a non-empty host; argued at `framing.rs`'s `host`).
/// Returns the value as `&str`.
pub(super) fn authority(value: &[u8], kind: ErrorKind) -> Result<&str, Fail<'_>> {
    // The usual values, a name with neither escape nor port, or with a port, in one scan:
    // bytes of a reg-name or `:`, and digits only after the first `:`.
    if let Some(text) = REG_NAME_OR_COLON.whole(value) {
        let host_len = value.iter().position(|&b| b == b':').unwrap_or(value.len());
        let port = value.get(host_len + 1..).unwrap_or_default();
        if host_len > 0 && port.iter().all(|&b| DIGIT.contains(b)) {
            return Ok(text);
        }
    }
    let invalid = |at| Fail { kind, at };
    let rest = match value {
        [b'[', ..] => match ip_literal(value) {
            Ok((rest, _)) => rest,
            Err(nom::Err::Error(fail) | nom::Err::Failure(fail)) => return Err(invalid(fail.at)),
            Err(nom::Err::Incomplete(_)) => {
                return Err(invalid(value.get(value.len()..).unwrap_or_default()));
            }
        },
        _ => {
            let (name, rest) = REG_NAME_CHAR
                .text(value, whole_escape_len)
                .map_err(|fail| invalid(fail.at))?;
            if name.is_empty() {
                return Err(invalid(value));
            }
            rest
        }
    };
    let rest = match rest {
        [b':', port @ ..] => port.get(DIGIT.prefix_len(port)..).unwrap_or_default(),
        _ => rest,
    };
    match rest {
        [] => Ok(ascii_str(value)),
        _ => Err(invalid(rest)),
    }
}

/// Whether a Host field names the same authority as `:authority`, both checked by
/// [`authority`], for a request of `scheme`.
///
/// RFC 9113 §8.3.1: "A server SHOULD treat a request as malformed if it contains a Host
/// header field that identifies an entity that differs from the entity in the ":authority"
/// pseudo-header field. The values of fields need to be normalized to compare them [...]
/// An origin server can apply any normalization method". The normalization here is RFC 3986
/// §6.2.3's scheme-based one with §6.2.2.1's case: hosts compared ASCII case-insensitively,
/// ports as numbers (leading zeros dropped), an empty port as none, and the scheme's default
/// port (80 for `http`, 443 for `https`) as none. `Example.com:443` and `example.com` are one
/// entity over `https`; `example.com:8443` is another. Percent-encoded and plain octets
/// (`%41` and `A`) are compared as received: no client encodes a host it sends twice.
pub(super) fn same_authority(authority: &str, host: &str, scheme: &[u8]) -> bool {
    let (authority_host, authority_port) = split_port(authority);
    let (host_host, host_port) = split_port(host);
    authority_host.eq_ignore_ascii_case(host_host)
        && normal_port(authority_port, scheme) == normal_port(host_port, scheme)
}

/// `uri-host [ ":" port ]`, already checked, cut at the colon before the port: the port is
/// after the last `:` unless that colon is inside an IP-literal's brackets.
fn split_port(authority: &str) -> (&str, &str) {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, port),
        _ => (authority, ""),
    }
}

/// A port as RFC 3986 §6.2.3 normalizes it for `scheme`: `None` for no port, an empty one,
/// or the scheme's default; else its digits without leading zeros.
fn normal_port<'a>(port: &'a str, scheme: &[u8]) -> Option<&'a str> {
    if port.is_empty() {
        return None;
    }
    let digits = match port.trim_start_matches('0') {
        "" => "0",
        digits => digits,
    };
    let default = if scheme.eq_ignore_ascii_case(b"http") {
        "80"
    } else if scheme.eq_ignore_ascii_case(b"https") {
        "443"
    } else {
        ""
    };
    (digits != default).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fail::offset_in;
    use crate::target::origin_form as streaming_origin_form;

    /// The kind and the offset within `input` of a failure.
    fn at(input: &[u8], fail: Fail<'_>) -> (ErrorKind, usize) {
        (fail.kind, offset_in(input, fail.at))
    }

    #[test]
    fn methods() {
        assert_eq!(method(b"GET"), Ok(Method::Get));
        assert_eq!(method(b"OPTIONS"), Ok(Method::Options));
        assert_eq!(method(b"get"), Ok(Method::Extension("get")));
        assert_eq!(method(b"M-SEARCH"), Ok(Method::Extension("M-SEARCH")));
        for (value, offset) in [(&b""[..], 0), (b"GE T", 2), (b"G\xc3\xa9T", 1), (b"(", 0)] {
            let fail = method(value).unwrap_err();
            assert_eq!(
                at(value, fail),
                (ErrorKind::InvalidMethod, offset),
                "{value:?}"
            );
        }
    }

    #[test]
    fn schemes() {
        for value in [&b"https"[..], b"http", b"HTTP", b"coap+tcp", b"a.b-c1"] {
            assert_eq!(scheme(value), Ok(value), "{value:?}");
        }
        for (value, offset) in [(&b""[..], 0), (b"1http", 0), (b"ht tp", 2), (b"http:", 4)] {
            let fail = scheme(value).unwrap_err();
            assert_eq!(
                at(value, fail),
                (ErrorKind::InvalidScheme, offset),
                "{value:?}"
            );
        }
    }

    #[test]
    fn paths_map_to_the_targets_http11_gives() {
        for value in [
            &b"/"[..],
            b"/index.html",
            b"/a/b%20c?x=1&y=/?z",
            b"/?",
            b"/photo%20[1].txt",
            b"/?q=100%",
            b"/?x={%22a%22:1}`^\\",
            b"//double//slash",
            b"/%0A",
            b"/a%2f?%",
        ] {
            let with_sp = [value, b" "].concat();
            let (_, expected) = streaming_origin_form(&with_sp).unwrap();
            let got = path(value, Method::Get, &Limits::default()).unwrap();
            assert_eq!(got.to_string(), expected.to_string(), "{value:?}");
            assert_eq!(got.path(), expected.path(), "{value:?}");
            assert_eq!(got.query(), expected.query(), "{value:?}");
        }
        assert_eq!(
            path(b"*", Method::Options, &Limits::default()),
            Ok(RequestTarget::Asterisk)
        );
    }

    #[test]
    fn path_rejections() {
        use ErrorKind::*;
        let short = Limits {
            max_request_line: 8,
            ..Limits::default()
        };
        let cases: &[(&[u8], Method<'_>, &Limits, ErrorKind, usize)] = &[
            (b"", Method::Get, &Limits::default(), EmptyPath, 0),
            (b"/123456789", Method::Get, &short, PathTooLong, 0),
            (b"*", Method::Get, &Limits::default(), TargetFormMismatch, 0),
            (b"*x", Method::Options, &Limits::default(), InvalidPath, 0),
            (
                b"index.html",
                Method::Get,
                &Limits::default(),
                InvalidPath,
                0,
            ),
            (
                b"http://h/",
                Method::Get,
                &Limits::default(),
                InvalidPath,
                0,
            ),
            (
                b"/a%zz",
                Method::Get,
                &Limits::default(),
                InvalidPercentEncoding,
                2,
            ),
            (
                b"/a%4",
                Method::Get,
                &Limits::default(),
                InvalidPercentEncoding,
                2,
            ),
            (
                b"/a%",
                Method::Get,
                &Limits::default(),
                InvalidPercentEncoding,
                2,
            ),
            (
                b"/p#f",
                Method::Get,
                &Limits::default(),
                FragmentInTarget,
                2,
            ),
            (
                b"/?q#f",
                Method::Get,
                &Limits::default(),
                FragmentInTarget,
                3,
            ),
            (
                b"/a b",
                Method::Get,
                &Limits::default(),
                InvalidTargetByte,
                2,
            ),
            (
                b"/a\\b",
                Method::Get,
                &Limits::default(),
                InvalidTargetByte,
                2,
            ),
            (b"/<", Method::Get, &Limits::default(), InvalidTargetByte, 1),
            (
                b"/?a\"",
                Method::Get,
                &Limits::default(),
                InvalidTargetByte,
                3,
            ),
            (
                b"/caf\xc3\xa9",
                Method::Get,
                &Limits::default(),
                InvalidTargetByte,
                4,
            ),
        ];
        for &(value, method, limits, kind, offset) in cases {
            let fail = path(value, method, limits).unwrap_err();
            assert_eq!(at(value, fail), (kind, offset), "{value:?}");
        }
        assert!(path(b"/1234567", Method::Get, &short).is_ok());
    }

    #[test]
    fn authorities() {
        for value in [
            &b"example.com"[..],
            b"example.com:8080",
            b"127.0.0.1",
            b"[::1]:443",
            b"[::1]",
            b"[v7.a:b]",
            b"ex%41mple",
            b"x:",
        ] {
            let got = authority(value, ErrorKind::InvalidHost).map(str::as_bytes);
            assert_eq!(got, Ok(value), "{value:?}");
        }
        for (value, offset) in [
            (&b"user@x"[..], 4),
            (b"x/path", 1),
            (b"x, other", 2),
            (b"", 0),
            (b":80", 0),
            (b"x:8o", 3),
            (b"[::1", 4),
            (b"[::g]", 0),
            (b"[::1]x", 5),
            (b"x%4", 1),
            (b"x%", 1),
        ] {
            let kind = ErrorKind::InvalidAuthorityPseudoHeader;
            let fail = authority(value, kind).unwrap_err();
            assert_eq!(at(value, fail), (kind, offset), "{value:?}");
        }
    }

    #[test]
    fn authority_comparison_normalizes_case_and_default_ports() {
        for (a, host, scheme) in [
            ("example.com", "example.com", &b"https"[..]),
            ("example.com", "EXAMPLE.com", b"https"),
            ("example.com", "example.com:443", b"https"),
            ("example.com:0443", "example.com", b"HTTPS"),
            ("example.com:80", "example.com", b"http"),
            ("example.com:", "example.com", b"http"),
            ("example.com:8080", "example.com:08080", b"http"),
            ("[::1]:443", "[::1]", b"https"),
        ] {
            assert!(same_authority(a, host, scheme), "{a} {host}");
        }
        for (a, host, scheme) in [
            ("example.com", "example.org", &b"https"[..]),
            ("example.com", "example.com:80", b"https"),
            ("example.com", "example.com:443", b"http"),
            ("example.com:8080", "example.com", b"http"),
            ("example.com:0", "example.com", b"http"),
            ("example.com:443", "example.com", b"coap"),
            ("[::1]", "[::2]", b"https"),
        ] {
            assert!(!same_authority(a, host, scheme), "{a} {host}");
        }
    }
}
