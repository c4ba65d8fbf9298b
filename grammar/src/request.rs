//! The request head (RFC 9112 §2, §3, §5): the request-line, the field lines, the empty line.
//!
//! [`parse_request`] drives the rules over one buffer. Every rule is streaming (see
//! `target.rs`), so the head can be parsed again from the start each time more bytes arrive,
//! and a prefix of a valid head is always [`Parsed::Partial`], never an error. The rules run
//! on the buffer cut at the caller's limits, so running out of input at a cut means the head
//! (or its request-line) is too long, and the answer is 431 (or 414) instead of a request for
//! more bytes.
//!
//! Where a line must end, a CRLF that is there is taken in the caller's own match, which
//! keeps the common case free of a call and a `Result`; every other byte (a bare LF, a CR
//! without LF, the end of the input) goes to [`crlf`], the one rule that judges it.
//!
//! Nothing here allocates: the field lines go into the caller's `headers` slice, every string
//! borrows from `buf`.

#![forbid(unsafe_code)]

use crate::abnf::{TCHAR, crlf, token};
use crate::error::{Error, ErrorKind};
use crate::fail::{PResult, classify, fail, incomplete, offset_in};
use crate::fields::field_line;
use crate::framing::Framing;
use crate::target::{origin_form, request_target};
use crate::types::{Header, Headers, Limits, Method, Parsed, Request, RequestTarget, Version};
use nom::Parser;
use nom::bytes::streaming::tag;

/// Parses a request head from the start of `buf`.
///
/// ```text
/// HTTP-message = start-line CRLF *( field-line CRLF ) CRLF [ message-body ]
/// ```
/// RFC 9112 §2.1, for a request (start-line = request-line), after any empty lines
/// (RFC 9112 §2.2: "a server that is expecting to receive and parse a request-line SHOULD
/// ignore at least one empty line (CRLF) received prior to the request-line").
///
/// Contract:
/// - `Ok(Parsed::Complete { value, consumed })`: `buf[..consumed]` is a whole, valid head,
///   its last bytes the CRLF of the empty line; the bytes after it (a body, a pipelined
///   request) are not looked at. `value.headers` borrows the first field lines of `headers`.
/// - `Ok(Parsed::Partial)`: `buf` is a strict prefix of a head, no rule is broken yet; read
///   more and call again with the longer buffer. Every strict prefix of a valid head is
///   `Partial`, and a prefix of an invalid head is `Partial` or the same error as the whole.
/// - `Err(error)`: the head breaks a rule; `error.offset()` is the offending byte in `buf`,
///   `error.status()` the status to answer with.
///
/// Limits: at most `min(limits.max_headers, headers.len())` field lines (`TooManyHeaders`,
/// 431, at the first line past it). A request-line longer than `limits.max_request_line`
/// bytes, CRLF included, is `RequestLineTooLong` (414), or `MethodTooLong` (400) when the
/// bound falls inside the method; a head longer than `limits.max_head` bytes is
/// `HeaderSectionTooLarge` (431). Both are reported as soon as the bound's worth of bytes is
/// in `buf` without the line or head ending, at the last byte inside the bound, so a caller
/// that reads until `Complete` or `Err` never holds more than `max_head` bytes.
///
/// ```
/// use nomserve_grammar::{parse_request, BodyFraming, Header, Limits, Method, Parsed};
///
/// let mut headers = [Header::EMPTY; 16];
/// let buf = b"POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello";
/// let Ok(Parsed::Complete { value, consumed }) =
///     parse_request(buf, &mut headers, &Limits::default())
/// else {
///     panic!("a whole head");
/// };
/// assert_eq!(value.method, Method::Post);
/// assert_eq!(value.host, Some("example.com"));
/// assert_eq!(value.framing, BodyFraming::ContentLength(5));
/// assert_eq!(&buf[consumed..], b"hello");
///
/// let mut headers = [Header::EMPTY; 16];
/// assert_eq!(
///     parse_request(&buf[..30], &mut headers, &Limits::default()),
///     Ok(Parsed::Partial)
/// );
/// ```
pub fn parse_request<'b, 'h>(
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
    limits: &Limits,
) -> Result<Parsed<Request<'b, 'h>>, Error> {
    let input = buf.get(..limits.max_head).unwrap_or(buf);
    match request_head(input, headers, limits) {
        Ok((rest, value)) => Ok(Parsed::Complete {
            value,
            consumed: offset_in(buf, rest),
        }),
        Err(nom::Err::Incomplete(_)) if buf.len() >= limits.max_head => Err(Error::new(
            ErrorKind::HeaderSectionTooLarge,
            limits.max_head.saturating_sub(1),
        )),
        Err(nom::Err::Incomplete(_)) => Ok(Parsed::Partial),
        Err(nom::Err::Error(f) | nom::Err::Failure(f)) => Err(f.into_error(buf)),
    }
}

/// The whole head: `*( CRLF ) request-line *( field-line CRLF ) CRLF`, with the framing
/// checks, on `input` already cut at `limits.max_head`.
fn request_head<'b, 'h>(
    input: &'b [u8],
    headers: &'h mut [Header<'b>],
    limits: &Limits,
) -> PResult<'b, Request<'b, 'h>> {
    let (start, ()) = empty_lines(input)?;
    let (rest, (method, target, version)) = bounded_request_line(start, limits)?;
    let bound = limits.max_headers.min(headers.len());
    let mut framing = Framing::new(version);
    let (rest, (empty_line, count)) = field_section(rest, headers, bound, &mut framing)?;
    let checked = framing.finish(empty_line).map_err(nom::Err::Error)?;
    let host = match target {
        RequestTarget::Absolute { authority, .. } => Some(authority),
        _ => checked.host,
    };
    let headers: &'h [Header<'b>] = headers;
    Ok((
        rest,
        Request {
            method,
            target,
            version,
            headers: Headers::new(headers.get(..count).unwrap_or_default()),
            host,
            framing: checked.framing,
            connection: checked.connection,
        },
    ))
}

/// `*( CRLF )` before the request-line, skipped as RFC 9112 §2.2 recommends ("SHOULD ignore
/// at least one empty line"): a client may send a stray CRLF after a previous request's body.
/// Rejecting them would also be allowed, and a conformance suite may grade that higher, but
/// the SHOULD is followed. They count toward `max_head` (they are part of what
/// the caller buffers), so a stream of empty lines is bounded. Errors: a bare LF or a CR not
/// followed by LF, `InvalidLineEnding`.
fn empty_lines(input: &[u8]) -> PResult<'_, ()> {
    let mut rest = input;
    loop {
        match rest {
            [b'\r', b'\n', after @ ..] => rest = after,
            [] | [b'\r' | b'\n', ..] => return crlf(rest),
            _ => return Ok((rest, ())),
        }
    }
}

/// The request-line, parsed on at most `limits.max_request_line` bytes. Running out of input
/// at that bound means the line is too long: `MethodTooLong` when every byte so far is a
/// tchar (the bound fell inside the method: a 400, since 414 is about the URI), else
/// `RequestLineTooLong`, both at the last byte inside the bound.
#[inline(always)]
fn bounded_request_line<'b>(
    input: &'b [u8],
    limits: &Limits,
) -> PResult<'b, (Method<'b>, RequestTarget<'b>, Version)> {
    let Some(line) = input.get(..limits.max_request_line) else {
        return request_line(input);
    };
    match request_line(line) {
        Err(nom::Err::Incomplete(_)) => {
            let last = line.get(line.len().saturating_sub(1)..).unwrap_or(line);
            let kind = if line.iter().all(|&b| TCHAR.contains(b)) {
                ErrorKind::MethodTooLong
            } else {
                ErrorKind::RequestLineTooLong
            };
            fail(kind, last)
        }
        Ok((rest, value)) => {
            let used = line.len() - rest.len();
            Ok((input.get(used..).unwrap_or_default(), value))
        }
        Err(e) => Err(e),
    }
}

/// ```text
/// request-line = method SP request-target SP HTTP-version
/// ```
/// RFC 9112 §3, with its CRLF (RFC 9112 §2.1). Exactly one SP between the parts: RFC 9112 §3
/// lets a server accept other whitespace there, but a parser that splits on it and one that
/// does not see different targets, so this one does not.
///
/// Errors, at the offending byte:
/// - after the method: HTAB is `ExpectedSingleSpace`, the line's end `MissingTarget`, any
///   other non-tchar `InvalidMethod`; in the target, see [`request_target`];
/// - after the target: HTAB, or a second SP, `ExpectedSingleSpace`; `#` `FragmentInTarget`
///   (RFC 9112 §3.2: the target has no fragment); the line's end `InvalidVersion` (an
///   HTTP/0.9 `GET /` line has no version); any other byte `InvalidTargetByte`, naming the
///   byte (one that no form of the target allows: a CTL, DEL, `"`, `<`, `>`, and in a path
///   also `\`, `{`, `}`, backtick; see `PATH_CHAR` and `QUERY_CHAR`);
/// - `InvalidVersion`, `InvalidLineEnding` in and after the version;
/// - `UnsupportedVersion` (505) at the version when it is well-formed but not HTTP/1.x:
///   checked before the target's form, so `PRI * HTTP/2.0` (the HTTP/2 preface) is a 505;
/// - `TargetFormMismatch` at the target: asterisk-form with a method other than OPTIONS
///   (RFC 9112 §3.2.4), authority-form with a method other than CONNECT, or CONNECT with
///   another form (RFC 9112 §3.2.3).
#[inline(always)]
pub(crate) fn request_line(input: &[u8]) -> PResult<'_, (Method<'_>, RequestTarget<'_>, Version)> {
    let (rest, method) = method(input)?;
    let target_start = match rest {
        [] => return incomplete(),
        [b' ', after @ ..] => after,
        [b'\t', ..] => return fail(ErrorKind::ExpectedSingleSpace, rest),
        [b'\r' | b'\n', ..] => return fail(ErrorKind::MissingTarget, rest),
        _ => return fail(ErrorKind::InvalidMethod, rest),
    };
    // Origin-form, the form of nearly every request, is taken here directly: through
    // request_target's four-way match its result went to memory and was read back with a
    // wider load than the stores that wrote it, a store-forwarding stall that perf put at 8%
    // of the parse of a short request.
    let (rest, target) = match target_start {
        [b'/', ..] => origin_form(target_start)?,
        _ => request_target(target_start)?,
    };
    let version_start = match rest {
        [] => return incomplete(),
        [b' ', after @ ..] => match after {
            [b' ' | b'\t', ..] => return fail(ErrorKind::ExpectedSingleSpace, after),
            _ => after,
        },
        [b'\t', ..] => return fail(ErrorKind::ExpectedSingleSpace, rest),
        [b'#', ..] => return fail(ErrorKind::FragmentInTarget, rest),
        [b'\r' | b'\n', ..] => return fail(ErrorKind::InvalidVersion, rest),
        _ => return fail(ErrorKind::InvalidTargetByte, rest),
    };
    let (rest, version) = http_version(version_start)?;
    let rest = match rest {
        [b'\r', b'\n', after @ ..] => after,
        [] | [b'\r' | b'\n', ..] => crlf(rest)?.0,
        _ => return fail(ErrorKind::InvalidVersion, rest),
    };
    if version.major != 1 {
        return fail(ErrorKind::UnsupportedVersion, version_start);
    }
    let form_fits = match target {
        RequestTarget::Asterisk => matches!(method, Method::Options),
        RequestTarget::Authority(_) => matches!(method, Method::Connect),
        RequestTarget::Origin { .. } | RequestTarget::Absolute { .. } => {
            !matches!(method, Method::Connect)
        }
    };
    if !form_fits {
        return fail(ErrorKind::TargetFormMismatch, target_start);
    }
    Ok((rest, (method, target, version)))
}

/// ```text
/// method = token
/// ```
/// RFC 9112 §3.1. Case-sensitive (RFC 9110 §9.1): `GET` is [`Method::Get`], `get` an
/// extension method. Error: `InvalidMethod` when the line does not start with a tchar.
#[inline(always)]
pub(crate) fn method(input: &[u8]) -> PResult<'_, Method<'_>> {
    // The commonest token, ended by the SP that the request-line requires, needs no scan.
    if let [b'G', b'E', b'T', b' ', ..] = input {
        return Ok((input.get(3..).unwrap_or_default(), Method::Get));
    }
    // token is complete; the method is streaming: a run of tchars to the end of the input
    // could go on.
    if input.is_empty() {
        return incomplete();
    }
    let (rest, name) = classify(ErrorKind::InvalidMethod, input, token(input))?;
    if rest.is_empty() {
        return incomplete();
    }
    Ok((rest, method_named(name)))
}

/// The [`Method`] a method token names (RFC 9110 §9): a standard method by its exact,
/// case-sensitive name (RFC 9110 §9.1), any other token an extension method. Contract:
/// `name` is a token (checked by the caller), so it is ASCII.
#[inline(always)]
pub(crate) fn method_named(name: &[u8]) -> Method<'_> {
    match name {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        b"POST" => Method::Post,
        b"PUT" => Method::Put,
        b"DELETE" => Method::Delete,
        b"CONNECT" => Method::Connect,
        b"OPTIONS" => Method::Options,
        b"TRACE" => Method::Trace,
        b"PATCH" => Method::Patch,
        _ => Method::Extension(crate::abnf::ascii_str(name)),
    }
}

/// ```text
/// HTTP-version = HTTP-name "/" DIGIT "." DIGIT
/// HTTP-name    = %s"HTTP"
/// ```
/// RFC 9112 §2.3. `HTTP` is case-sensitive; exactly one digit on each side of the dot, so
/// `HTTP/1`, `HTTP/01.01`, `HTTP/1.10` are malformed. Error: `InvalidVersion` at the first
/// byte that does not fit (at the start for a wrong name). Any major version parses here;
/// the request-line rejects those it does not support.
///
/// Every minor version of HTTP/1 is accepted, `HTTP/1.2` to `HTTP/1.9` included: RFC 9110
/// §2.5 says a recipient can assume a higher minor version is backwards compatible and
/// answer with the highest version it conforms to (1.1). httparse accepts only 1.0 and 1.1;
/// this is an intended difference, allowed as such in the fuzz crate's `differential` target.
#[inline(always)]
pub(crate) fn http_version(input: &[u8]) -> PResult<'_, Version> {
    // The whole rule in one comparison when it is all there; the combinators below find
    // the failing byte, or ask for more input, otherwise.
    if let [
        b'H',
        b'T',
        b'T',
        b'P',
        b'/',
        major @ b'0'..=b'9',
        b'.',
        minor @ b'0'..=b'9',
        rest @ ..,
    ] = input
    {
        let version = Version {
            major: major - b'0',
            minor: minor - b'0',
        };
        return Ok((rest, version));
    }
    let (rest, _) = classify(
        ErrorKind::InvalidVersion,
        input,
        tag(&b"HTTP/"[..]).parse(input),
    )?;
    let (rest, major) = version_digit(rest)?;
    let (rest, _) = classify(ErrorKind::InvalidVersion, rest, tag(&b"."[..]).parse(rest))?;
    let (rest, minor) = version_digit(rest)?;
    Ok((rest, Version { major, minor }))
}

/// `DIGIT` (RFC 5234 B.1) in an HTTP-version, as its value.
fn version_digit(input: &[u8]) -> PResult<'_, u8> {
    match input {
        [d @ b'0'..=b'9', rest @ ..] => Ok((rest, d - b'0')),
        [] => incomplete(),
        _ => fail(ErrorKind::InvalidVersion, input),
    }
}

/// ```text
/// *( field-line CRLF ) CRLF
/// ```
/// RFC 9112 §2.1, §5. Stores each field line in `headers` (at most `bound` of them) and passes
/// it to `framing`. Returns the input after the final empty line, that empty line (where a
/// missing Host is reported) and the count.
///
/// Errors, at the line's first byte: a line starting with SP or HTAB is
/// `WhitespaceAfterStartLine` right after the request-line (RFC 9112 §2.2: the server MUST
/// reject it or skip it; rejecting cannot be misread) and `ObsoleteLineFolding` later
/// (RFC 9112 §5.2: obs-fold is deprecated outside message/http, and a server MAY reject it
/// with 400; rejecting avoids joining lines a front end kept apart). A line past `bound` is
/// `TooManyHeaders`. A bare LF or lone CR is `InvalidLineEnding` (see `fields.rs`).
fn field_section<'b>(
    input: &'b [u8],
    headers: &mut [Header<'b>],
    bound: usize,
    framing: &mut Framing<'b>,
) -> PResult<'b, (&'b [u8], usize)> {
    let mut rest = input;
    let mut count = 0;
    loop {
        match rest {
            [b'\r', b'\n', after @ ..] => return Ok((after, (rest, count))),
            [] | [b'\r' | b'\n', ..] => {
                return crlf(rest).map(|(after, ())| (after, (rest, count)));
            }
            [b' ' | b'\t', ..] if count == 0 => {
                return fail(ErrorKind::WhitespaceAfterStartLine, rest);
            }
            [b' ' | b'\t', ..] => return fail(ErrorKind::ObsoleteLineFolding, rest),
            _ => {}
        }
        let slot = match headers.get_mut(count) {
            Some(slot) if count < bound => slot,
            _ => return fail(ErrorKind::TooManyHeaders, rest),
        };
        let (after, line) = field_line(rest)?;
        framing.field(&line).map_err(nom::Err::Error)?;
        *slot = Header {
            name: line.name,
            value: line.value,
        };
        count += 1;
        rest = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fail::failure;
    use crate::types::BodyFraming;

    fn parse(buf: &[u8]) -> Result<Parsed<(usize, usize)>, Error> {
        let mut headers = [Header::EMPTY; 8];
        let limits = Limits {
            max_request_line: 64,
            max_head: 256,
            max_headers: 4,
        };
        parse_request(buf, &mut headers, &limits).map(|p| match p {
            Parsed::Complete { value, consumed } => Parsed::Complete {
                value: (value.headers.len(), consumed),
                consumed,
            },
            Parsed::Partial => Parsed::Partial,
        })
    }

    #[test]
    fn methods() {
        assert_eq!(method(b"GET ").unwrap().1, Method::Get);
        assert_eq!(method(b"get ").unwrap().1, Method::Extension("get"));
        assert_eq!(
            method(b"M-SEARCH ").unwrap().1,
            Method::Extension("M-SEARCH")
        );
        assert_eq!(failure(b"GET", method(b"GET")), None);
        assert_eq!(
            failure(b" GET", method(b" GET")),
            Some((ErrorKind::InvalidMethod, 0))
        );
    }

    #[test]
    fn versions() {
        assert_eq!(http_version(b"HTTP/1.1\r").unwrap().1, Version::HTTP_11);
        assert_eq!(
            http_version(b"HTTP/2.0\r").unwrap().1,
            Version { major: 2, minor: 0 }
        );
        for prefix in [&b""[..], b"H", b"HTTP", b"HTTP/", b"HTTP/1", b"HTTP/1."] {
            assert_eq!(failure(prefix, http_version(prefix)), None, "{prefix:?}");
        }
        for (input, at) in [
            (&b"http/1.1"[..], 0),
            (b"HTTP/ 1.1", 5),
            (b"HTTP/01.01", 6),
            (b"HTTP/1\r\n", 6),
            (b"HTTP/x.1", 5),
            (b"HTTP/1.x", 7),
        ] {
            assert_eq!(
                failure(input, http_version(input)),
                Some((ErrorKind::InvalidVersion, at)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn request_line_errors() {
        use ErrorKind::*;
        for (line, kind, at) in [
            (&b"GET  / HTTP/1.1\r\n"[..], ExpectedSingleSpace, 4),
            (b"GET\t/ HTTP/1.1\r\n", ExpectedSingleSpace, 3),
            (b"GET /\tHTTP/1.1\r\n", ExpectedSingleSpace, 5),
            (b"GET /  HTTP/1.1\r\n", ExpectedSingleSpace, 6),
            (b"GET\r\n", MissingTarget, 3),
            (b"GET \r\n", MissingTarget, 4),
            (b"GET HTTP/1.1\r\n", MissingTarget, 4),
            (b"GET /\r\n", InvalidVersion, 5),
            (b"GET /pa th HTTP/1.1\r\n", InvalidVersion, 8),
            (b"GET / HTTP/1.1 \r\n", InvalidVersion, 14),
            (b"GET / HTTP/1.1\rX", InvalidLineEnding, 14),
            (b"GET / HTTP/1.1\n", InvalidLineEnding, 14),
            (b"GET /p#f HTTP/1.1\r\n", FragmentInTarget, 6),
            (b"GET /\x00 HTTP/1.1\r\n", InvalidTargetByte, 5),
            (b"G[T / HTTP/1.1\r\n", InvalidMethod, 1),
            (b"GET / HTTP/2.0\r\n", UnsupportedVersion, 6),
            (b"PRI * HTTP/2.0\r\n", UnsupportedVersion, 6),
            (b"GET * HTTP/1.1\r\n", TargetFormMismatch, 4),
            (b"GET example.com:443 HTTP/1.1\r\n", TargetFormMismatch, 4),
            (b"CONNECT / HTTP/1.1\r\n", TargetFormMismatch, 8),
        ] {
            assert_eq!(
                failure(line, request_line(line)),
                Some((kind, at)),
                "{line:?}"
            );
        }
    }

    #[test]
    fn request_line_prefixes_are_incomplete() {
        let line = b"OPTIONS http://h:80/a%20b?q HTTP/1.1\r\n";
        for end in 0..line.len() {
            let prefix = &line[..end];
            assert_eq!(failure(prefix, request_line(prefix)), None, "{prefix:?}");
        }
        let (rest, (m, t, v)) = request_line(line).unwrap();
        assert_eq!((rest, m, v), (&b""[..], Method::Options, Version::HTTP_11));
        assert_eq!(t.path(), Some("/a%20b"));
    }

    #[test]
    fn empty_lines_are_skipped_but_bare_lf_is_not() {
        let buf = b"\r\n\r\nGET / HTTP/1.0\r\n\r\n";
        assert_eq!(
            parse(buf),
            Ok(Parsed::Complete {
                value: (0, buf.len()),
                consumed: buf.len()
            })
        );
        assert_eq!(parse(b"\r\n\r"), Ok(Parsed::Partial));
        assert_eq!(
            parse(b"\nGET / HTTP/1.0\r\n\r\n").unwrap_err().kind(),
            ErrorKind::InvalidLineEnding
        );
        assert_eq!(parse(b"\r\r\n").unwrap_err().offset(), 0);
    }

    #[test]
    fn field_section_line_starts() {
        use ErrorKind::*;
        for (buf, kind, at) in [
            (
                &b"GET / HTTP/1.1\r\n Host: x\r\n\r\n"[..],
                WhitespaceAfterStartLine,
                16,
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\n\tmore\r\n\r\n",
                ObsoleteLineFolding,
                25,
            ),
            (b"GET / HTTP/1.1\r\nHost: x\n\r\n", InvalidLineEnding, 23),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\n", InvalidLineEnding, 25),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\rX", InvalidLineEnding, 25),
            (b"GET / HTTP/1.1\r\n\r\n", MissingHost, 16),
        ] {
            let error = parse(buf).unwrap_err();
            assert_eq!((error.kind(), error.offset()), (kind, at), "{buf:?}");
        }
    }

    #[test]
    fn limits_fail_early_at_the_last_byte_inside_the_bound() {
        let long_method = [b'A'; 64];
        let error = parse(&long_method).unwrap_err();
        assert_eq!(
            (error.kind(), error.offset(), error.status()),
            (ErrorKind::MethodTooLong, 63, 400)
        );
        assert_eq!(parse(&long_method[..63]), Ok(Parsed::Partial));

        let long_target = [&b"GET /"[..], &[b'a'; 59]].concat();
        let error = parse(&long_target).unwrap_err();
        assert_eq!(
            (error.kind(), error.offset(), error.status()),
            (ErrorKind::RequestLineTooLong, 63, 414)
        );

        // A request-line of exactly the bound, CRLF included, is fine.
        let exact = [&b"GET /"[..], &[b'a'; 48], b" HTTP/1.0\r\n\r\n"].concat();
        assert!(matches!(parse(&exact), Ok(Parsed::Complete { .. })));

        let long_head = [&b"GET / HTTP/1.0\r\nX: "[..], &[b'v'; 300]].concat();
        let error = parse(&long_head).unwrap_err();
        assert_eq!(
            (error.kind(), error.offset(), error.status()),
            (ErrorKind::HeaderSectionTooLarge, 255, 431)
        );
        assert_eq!(parse(&long_head[..255]), Ok(Parsed::Partial));

        let many = b"GET / HTTP/1.0\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\ne: 5\r\n\r\n";
        let error = parse(many).unwrap_err();
        assert_eq!(
            (error.kind(), error.offset(), error.status()),
            (ErrorKind::TooManyHeaders, 40, 431)
        );
        assert_eq!(
            parse(&many[..40]),
            Ok(Parsed::Partial),
            "the fifth line has not started yet"
        );
    }

    #[test]
    fn header_storage_bounds_the_count() {
        let mut headers = [Header::EMPTY; 1];
        let buf = b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n\r\n";
        let error = parse_request(buf, &mut headers, &Limits::default()).unwrap_err();
        assert_eq!(
            (error.kind(), error.offset()),
            (ErrorKind::TooManyHeaders, 25)
        );
    }

    #[test]
    fn a_whole_request() {
        let mut headers = [Header::EMPTY; 8];
        let buf = b"PUT /a?b=c HTTP/1.1\r\nHost: h:8\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\nX: \r\n\r\nbody";
        let Ok(Parsed::Complete { value, consumed }) =
            parse_request(buf, &mut headers, &Limits::default())
        else {
            panic!("complete");
        };
        assert_eq!(&buf[consumed..], b"body");
        assert_eq!(value.method, Method::Put);
        assert_eq!(
            value.target,
            RequestTarget::Origin {
                path: "/a",
                query: Some("b=c")
            }
        );
        assert_eq!(value.host, Some("h:8"));
        assert_eq!(value.framing, BodyFraming::Chunked);
        assert!(value.connection.close && !value.wants_keep_alive());
        assert_eq!(value.headers.len(), 4);
        assert_eq!(value.headers.get("x"), Some(&b""[..]));
        assert_eq!(
            value.headers.get("transfer-encoding"),
            Some(&b"gzip, chunked"[..])
        );
    }

    #[test]
    fn absolute_form_host_comes_from_the_target() {
        let mut headers = [Header::EMPTY; 8];
        let buf = b"GET http://a.example:81/x HTTP/1.1\r\nHost: b.example\r\n\r\n";
        let Ok(Parsed::Complete { value, .. }) =
            parse_request(buf, &mut headers, &Limits::default())
        else {
            panic!("complete");
        };
        assert_eq!(value.host, Some("a.example:81"));
    }
}
