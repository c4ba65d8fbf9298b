//! The fields that decide how a request is routed and framed: Host (RFC 9112 §3.2,
//! RFC 9110 §7.2), Content-Length (RFC 9110 §8.6, RFC 9112 §6.3), Transfer-Encoding
//! (RFC 9112 §6.1, §7) and Connection (RFC 9110 §7.6.1).
//!
//! These fields are where two HTTP implementations that read one message differently can be
//! played against each other (request smuggling, RFC 9112 §11.2), so every value is parsed to
//! the letter and every ambiguity is an error. [`Framing`] sees each field line as it is
//! parsed and fails at the line that breaks a rule; [`Framing::finish`] checks what only the
//! whole head can tell (a missing Host). Other fields are not looked at.

#![forbid(unsafe_code)]

use crate::abnf::{REG_NAME_CHAR, ascii_str, decimal, ows, quoted_string, token};
use crate::error::ErrorKind;
use crate::fail::{Fail, PResult};
use crate::fields::FieldLine;
use crate::target::{port, uri_host};
use crate::types::{BodyFraming, ConnectionOptions, Version};

/// What the framing fields of a head said, once checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checked<'b> {
    /// The Host field's value; `None` only for HTTP/1.0 without one.
    pub(crate) host: Option<&'b str>,
    /// How the body is delimited.
    pub(crate) framing: BodyFraming,
    /// The Connection options.
    pub(crate) connection: ConnectionOptions,
}

/// The framing fields seen so far in one head.
#[derive(Debug)]
pub(crate) struct Framing<'b> {
    version: Version,
    host: Option<&'b str>,
    content_length: Option<u64>,
    chunked: bool,
    connection: ConnectionOptions,
}

impl<'b> Framing<'b> {
    /// Nothing seen yet, in a request of `version`.
    pub(crate) fn new(version: Version) -> Self {
        Framing {
            version,
            host: None,
            content_length: None,
            chunked: false,
            connection: ConnectionOptions::default(),
        }
    }

    /// Takes one field line into account. Errors are positioned at the offending byte of the
    /// value, or at the field name when the line itself is the problem (a second Host, a
    /// second Transfer-Encoding, Transfer-Encoding next to Content-Length or in HTTP/1.0).
    #[inline(always)]
    pub(crate) fn field(&mut self, line: &FieldLine<'b>) -> Result<(), Fail<'b>> {
        let name = line.name.as_bytes();
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => {
                if self.host.is_some() {
                    return Err(Fail {
                        kind: ErrorKind::DuplicateHost,
                        at: name,
                    });
                }
                self.host = Some(host(line.value, line.value_through_cr)?);
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                connection(line.value, &mut self.connection)?;
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                if self.chunked {
                    return Err(Fail {
                        kind: ErrorKind::ContentLengthWithTransferEncoding,
                        at: name,
                    });
                }
                self.content_length = Some(content_length(line.value, self.content_length)?);
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                let kind = if self.version < Version::HTTP_11 {
                    Some(ErrorKind::TransferEncodingInHttp10)
                } else if self.chunked {
                    Some(ErrorKind::InvalidTransferEncoding)
                } else if self.content_length.is_some() {
                    Some(ErrorKind::ContentLengthWithTransferEncoding)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    return Err(Fail { kind, at: name });
                }
                transfer_encoding(line.value)?;
                self.chunked = true;
            }
            _ => {}
        }
        Ok(())
    }

    /// The checks that need the whole head: an HTTP/1.1 request must carry Host
    /// (RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    /// HTTP/1.1 request message that lacks a Host header field"). `end_of_head` is the input
    /// from the empty line that ends the head, where `MissingHost` is reported.
    pub(crate) fn finish(self, end_of_head: &'b [u8]) -> Result<Checked<'b>, Fail<'b>> {
        if self.host.is_none() && self.version >= Version::HTTP_11 {
            return Err(Fail {
                kind: ErrorKind::MissingHost,
                at: end_of_head,
            });
        }
        let framing = if self.chunked {
            BodyFraming::Chunked
        } else if let Some(length) = self.content_length {
            BodyFraming::ContentLength(length)
        } else {
            BodyFraming::None
        };
        Ok(Checked {
            host: self.host,
            framing,
            connection: self.connection,
        })
    }
}

/// ```text
/// Host = uri-host [ ":" port ]
/// ```
/// RFC 9110 §7.2, RFC 9112 §3.2. `through_cr` is `value` followed by its trailing OWS and the
/// CR (see [`FieldLine::value_through_cr`]), so the streaming URI rules see where the value
/// ends. Returns the value as `&str`. Errors: `InvalidHost` at the first byte that is not
/// part of `uri-host [":" port]`
/// (`user@x` at `@`, `x/path` at `/`, `x, y` at the SP), or at the value for an empty one.
///
/// **Decision, argued**: an empty Host is rejected although RFC 9110 §7.2 lets a client send
/// one when the target URI has no authority. Every request this server serves is for an
/// `http` URI, and RFC 9110 §4.2.1 forbids an `http` URI with an empty host, so an empty
/// Host cannot name one of them.
#[inline(always)]
fn host<'b>(value: &'b [u8], through_cr: &'b [u8]) -> Result<&'b str, Fail<'b>> {
    // The usual Host, a name with neither `%` nor a port, is a run of reg-name's single bytes
    // to the end of the value: checked in one scan, without the streaming rules below, and
    // inline, so that the name comes back in registers.
    if let Some(name) = REG_NAME_CHAR.whole(value) {
        if !name.is_empty() {
            return Ok(name);
        }
    }
    host_with_port_or_escape(value, through_cr)
}

/// [`host`] for every value but a plain name: an IP-literal, a port, a `%` escape, an error.
#[inline(never)]
fn host_with_port_or_escape<'b>(
    value: &'b [u8],
    through_cr: &'b [u8],
) -> Result<&'b str, Fail<'b>> {
    let as_host = |e: nom::Err<Fail<'b>>| match e {
        nom::Err::Error(f) | nom::Err::Failure(f) => Fail {
            kind: ErrorKind::InvalidHost,
            at: f.at,
        },
        nom::Err::Incomplete(_) => Fail {
            kind: ErrorKind::InvalidHost,
            at: through_cr.get(value.len()..).unwrap_or_default(),
        },
    };
    let (rest, name) = uri_host(through_cr).map_err(as_host)?;
    if name.is_empty() {
        return Err(Fail {
            kind: ErrorKind::InvalidHost,
            at: value,
        });
    }
    let rest = match rest {
        [b':', after @ ..] => port(after).map_err(as_host)?.0,
        _ => rest,
    };
    if rest.len() + value.len() == through_cr.len() {
        // The rules above matched the whole value, so it is ASCII; this rarer shape (a port,
        // an escape, an IP-literal) pays for a checked conversion.
        Ok(ascii_str(value))
    } else {
        Err(Fail {
            kind: ErrorKind::InvalidHost,
            at: rest,
        })
    }
}

/// ```text
/// Content-Length = 1*DIGIT
/// ```
/// RFC 9110 §8.6, read as RFC 9112 §6.3 ¶5 allows: a comma-separated list whose values are
/// all valid and all the same stands for that one value. `known` is the value of an earlier
/// Content-Length line, which this one must repeat. Errors: `InvalidContentLength` at the
/// first byte that is not a digit where one is needed (`+5`, `-1`, `0x5`, `1 0`, an empty
/// value or element) or at the digit that overflows 64 bits; `ConflictingContentLength` at an
/// element that differs from the one before it.
///
/// **Decision, argued**: empty list elements (`5,,5`), which RFC 9110 §5.6.1 asks recipients
/// to tolerate, are errors here: a framing field admits no ambiguity (RFC 9112 §11.2).
#[inline(never)]
pub(crate) fn content_length<'b>(value: &'b [u8], known: Option<u64>) -> Result<u64, Fail<'b>> {
    let invalid = |at| Fail {
        kind: ErrorKind::InvalidContentLength,
        at,
    };
    let mut agreed = known;
    let mut rest = value;
    loop {
        let element = rest;
        let (after, length) = decimal(rest).map_err(|e| match e {
            nom::Err::Error(f) | nom::Err::Failure(f) => invalid(f.at),
            nom::Err::Incomplete(_) => invalid(rest),
        })?;
        if agreed.is_some_and(|a| a != length) {
            return Err(Fail {
                kind: ErrorKind::ConflictingContentLength,
                at: element,
            });
        }
        agreed = Some(length);
        match skip_ows(after) {
            [] => return Ok(length),
            [b',', more @ ..] => rest = skip_ows(more),
            other => return Err(invalid(other)),
        }
    }
}

/// ```text
/// Transfer-Encoding = #transfer-coding
/// transfer-coding    = token *( OWS ";" OWS transfer-parameter )
/// transfer-parameter = token BWS "=" BWS ( token / quoted-string )
/// ```
/// RFC 9112 §6.1, §7. Codings are compared case-insensitively (RFC 9112 §7). Errors:
/// - `InvalidTransferEncoding` where an element is not a transfer-coding, an empty element
///   (`, chunked`, `chunked,`), or an empty value. **Deviation, argued**: RFC 9110 §5.6.1
///   asks recipients to ignore empty list elements; in the field that decides where the body
///   ends, a parser that drops them and one that does not can disagree (RFC 9112 §11.2);
/// - `ChunkedNotFinal` at the first coding after `chunked` (`chunked, gzip`,
///   `chunked, chunked`), or at the last coding when it is not `chunked` (`gzip`,
///   `identity`, `xchunked`): RFC 9112 §6.3 makes such a request's length undeterminable, a
///   400;
/// - `UnknownTransferCoding` (501, RFC 9112 §6.1) at the first coding before the final
///   `chunked` that is not one of the registered compressions (gzip, x-gzip, deflate,
///   compress, x-compress, RFC 9112 §7.2, §7.3).
#[inline(never)]
fn transfer_encoding(value: &[u8]) -> Result<(), Fail<'_>> {
    let invalid = |at| Fail {
        kind: ErrorKind::InvalidTransferEncoding,
        at,
    };
    let mut rest = value;
    let mut chunked = false;
    let mut last;
    let mut first_unknown = None;
    loop {
        let element = rest;
        let (after, coding) = transfer_coding(rest).map_err(|_| invalid(rest))?;
        if chunked {
            return Err(Fail {
                kind: ErrorKind::ChunkedNotFinal,
                at: element,
            });
        }
        last = element;
        if coding.eq_ignore_ascii_case(b"chunked") {
            chunked = true;
        } else if first_unknown.is_none() && !is_compression(coding) {
            first_unknown = Some(element);
        }
        match skip_ows(after) {
            [] => break,
            [b',', more @ ..] => rest = skip_ows(more),
            other => return Err(invalid(other)),
        }
    }
    if !chunked {
        return Err(Fail {
            kind: ErrorKind::ChunkedNotFinal,
            at: last,
        });
    }
    match first_unknown {
        Some(at) => Err(Fail {
            kind: ErrorKind::UnknownTransferCoding,
            at,
        }),
        None => Ok(()),
    }
}

/// The compressions registered as transfer codings besides chunked (RFC 9112 §7.2, §7.3).
fn is_compression(coding: &[u8]) -> bool {
    [
        &b"gzip"[..],
        b"x-gzip",
        b"deflate",
        b"compress",
        b"x-compress",
    ]
    .iter()
    .any(|c| coding.eq_ignore_ascii_case(c))
}

/// ```text
/// transfer-coding = token *( OWS ";" OWS transfer-parameter )
/// ```
/// RFC 9112 §7. Returns the coding's name; fails when `input` does not start with one, or a
/// parameter is malformed (the caller names the failure).
fn transfer_coding(input: &[u8]) -> PResult<'_, &[u8]> {
    let (mut rest, name) = token(input)?;
    loop {
        match skip_ows(rest) {
            [b';', after @ ..] => rest = transfer_parameter(skip_ows(after))?.0,
            _ => return Ok((rest, name)),
        }
    }
}

/// ```text
/// transfer-parameter = token BWS "=" BWS ( token / quoted-string )
/// ```
/// RFC 9112 §7; BWS is OWS (RFC 9110 §5.6.3). The value is a whole field value, so a
/// quoted-string still open at its end is malformed, not incomplete.
fn transfer_parameter(input: &[u8]) -> PResult<'_, ()> {
    let (rest, _) = token(input)?;
    let [b'=', after @ ..] = skip_ows(rest) else {
        return Err(nom::Err::Error(Fail {
            kind: ErrorKind::InvalidTransferEncoding,
            at: rest,
        }));
    };
    let after = skip_ows(after);
    let (rest, _) = match after {
        [b'"', ..] => quoted_string(after).map_err(|e| match e {
            nom::Err::Incomplete(_) => nom::Err::Error(Fail {
                kind: ErrorKind::InvalidTransferEncoding,
                at: after,
            }),
            other => other,
        })?,
        _ => token(after)?,
    };
    Ok((rest, ()))
}

/// ```text
/// Connection        = #connection-option
/// connection-option = token
/// #element          = [ element ] *( OWS "," OWS [ element ] )
/// ```
/// RFC 9110 §7.6.1, and §5.6.1.2 for how a recipient reads a list: empty elements are
/// ignored, as the RFC asks (Connection does not frame the body, so the leniency is safe),
/// but at least one option must be present (`1#`). Options are case-insensitive; `close` and
/// `keep-alive` are recorded in `options`. Error: `InvalidConnection` at the first byte that
/// is neither a tchar, OWS nor a comma, or at the value when it holds no option.
#[inline(never)]
fn connection<'b>(value: &'b [u8], options: &mut ConnectionOptions) -> Result<(), Fail<'b>> {
    let invalid = |at| Fail {
        kind: ErrorKind::InvalidConnection,
        at,
    };
    let mut rest = value;
    let mut any = false;
    loop {
        rest = skip_ows(rest);
        match rest {
            [] if any => return Ok(()),
            [] => return Err(invalid(value)),
            [b',', after @ ..] => rest = after,
            _ => {
                let (after, option) = token(rest).map_err(|_| invalid(rest))?;
                if option.eq_ignore_ascii_case(b"close") {
                    options.close = true;
                } else if option.eq_ignore_ascii_case(b"keep-alive") {
                    options.keep_alive = true;
                }
                any = true;
                rest = match skip_ows(after) {
                    [] => after,
                    [b',', ..] => skip_ows(after),
                    other => return Err(invalid(other)),
                };
            }
        }
    }
}

/// `input` after its leading OWS (RFC 9110 §5.6.3), by [`ows`], which never fails.
fn skip_ows(input: &[u8]) -> &[u8] {
    ows(input).map_or(input, |(rest, _)| rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kind and the offset within `value` of a failure.
    fn at(value: &[u8], fail: Fail<'_>) -> (ErrorKind, usize) {
        (fail.kind, crate::fail::offset_in(value, fail.at))
    }

    #[test]
    fn content_length_values() {
        for (value, expected) in [
            (&b"0"[..], 0),
            (b"005", 5),
            (b"5, 5", 5),
            (b"5,5 ,\t5", 5),
            (b"18446744073709551615", u64::MAX),
        ] {
            assert_eq!(content_length(value, None), Ok(expected), "{value:?}");
        }
        assert_eq!(content_length(b"7", Some(7)), Ok(7));
    }

    #[test]
    fn content_length_rejections() {
        use ErrorKind::{ConflictingContentLength as Conflict, InvalidContentLength as Invalid};
        for (value, kind, offset) in [
            (&b"abc"[..], Invalid, 0),
            (b"+5", Invalid, 0),
            (b"-1", Invalid, 0),
            (b"-0", Invalid, 0),
            (b"0x5", Invalid, 1),
            (b"0o5", Invalid, 1),
            (b"1_0", Invalid, 1),
            (b"1 0", Invalid, 2),
            (b"5 abc", Invalid, 2),
            (b"", Invalid, 0),
            (b"5,,5", Invalid, 2),
            (b"5,", Invalid, 2),
            (b"99999999999999999999", Invalid, 19),
            (b"184467440737095516150", Invalid, 20),
            (b"5, 10", Conflict, 3),
        ] {
            let fail = content_length(value, None).unwrap_err();
            assert_eq!(at(value, fail), (kind, offset), "{value:?}");
        }
        let fail = content_length(b"6", Some(5)).unwrap_err();
        assert_eq!(fail.kind, Conflict);
    }

    #[test]
    fn transfer_encoding_values() {
        for value in [
            &b"chunked"[..],
            b"CHUNKED",
            b"gzip, chunked",
            b"x-gzip,deflate ,\tChunked",
            b"gzip;level=9, chunked",
            b"gzip ; q=\"a \\\" b\" , chunked",
        ] {
            assert_eq!(transfer_encoding(value), Ok(()), "{value:?}");
        }
    }

    #[test]
    fn transfer_encoding_rejections() {
        use ErrorKind::{
            ChunkedNotFinal as NotFinal, InvalidTransferEncoding as Invalid,
            UnknownTransferCoding as Unknown,
        };
        for (value, kind, offset) in [
            (&b"gzip"[..], NotFinal, 0),
            (b"xchunked", NotFinal, 0),
            (b"identity", NotFinal, 0),
            (b"chunked, gzip", NotFinal, 9),
            (b"chunked, chunked", NotFinal, 9),
            (b", chunked", Invalid, 0),
            (b"chunked,", Invalid, 8),
            (b"chunked, ", Invalid, 9),
            (b"", Invalid, 0),
            (b"chunked x", Invalid, 8),
            (b"gzip;=1, chunked", Invalid, 0),
            (b"gzip;a=\"x, chunked", Invalid, 0),
            (b"br, chunked", Unknown, 0),
            (b"gzip, foo, chunked", Unknown, 6),
        ] {
            let fail = transfer_encoding(value).unwrap_err();
            assert_eq!(at(value, fail), (kind, offset), "{value:?}");
        }
    }

    #[test]
    fn host_values() {
        for (value, tail) in [
            (&b"example.com"[..], &b"\r"[..]),
            (b"example.com:8080", b" \r"),
            (b"127.0.0.1", b"\r"),
            (b"[::1]:80", b"\r"),
            (b"ex%41mple", b"\r"),
            (b"x:", b"\r"),
        ] {
            let through = [value, tail].concat();
            let value = &through[..value.len()];
            let host = host(value, &through).ok().map(str::as_bytes);
            assert_eq!(host, Some(value), "{value:?}");
        }
        for (value, offset) in [
            (&b"user@x"[..], 4),
            (b"x/path", 1),
            (b"x, other", 2),
            (b"", 0),
            (b"x:8o", 3),
            (b"[::1", 4),
            (b"x%4", 1),
            (b"x%", 1),
        ] {
            let through = [value, b"\r"].concat();
            let fail = host(&through[..value.len()], &through).unwrap_err();
            assert_eq!(
                at(&through, fail),
                (ErrorKind::InvalidHost, offset),
                "{value:?}"
            );
        }
    }

    #[test]
    fn connection_options() {
        let mut options = ConnectionOptions::default();
        connection(b"Keep-Alive, Upgrade", &mut options).unwrap();
        assert!(options.keep_alive && !options.close);
        connection(b", ,CLOSE,", &mut options).unwrap();
        assert!(options.close);
        for (value, offset) in [
            (&b""[..], 0),
            (b" , ", 0),
            (b"close x", 6),
            (b"a/b", 1),
            (b"@", 0),
        ] {
            let fail = connection(value, &mut ConnectionOptions::default()).unwrap_err();
            assert_eq!(
                at(value, fail),
                (ErrorKind::InvalidConnection, offset),
                "{value:?}"
            );
        }
    }
}
