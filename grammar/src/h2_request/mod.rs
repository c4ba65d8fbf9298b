//! An HTTP/2 request's decoded field list, mapped to the [`Request`] that HTTP/1.1's
//! [`parse_request`](crate::parse_request) produces (RFC 9113 §8.1–§8.3), so that every
//! handler, site rule, auth area and log line works the same over both protocols.
//!
//! Input: the fields of one request's header section as HPACK decoded them, in order, each
//! a name and a value ([`Field`]). The pseudo-header fields (`:method`, `:scheme`,
//! `:authority`, `:path`) become the method, the request-target and the host; the regular
//! fields go, in order, into the caller's `headers` slice, as parse_request's field lines do.
//!
//! Every rule is checked here, each failing with its own [`ErrorKind`]; RFC 9113 §8.1.1 makes
//! most failures a malformed request (a stream error of type PROTOCOL_ERROR), the others are
//! answered with a status, as in HTTP/1.1 ([`H2RequestError::is_malformed`]).
//!
//! HTTP/3 requests map by the same rules, which RFC 9114 §4.2 and §4.3 repeat:
//! [`parse_h3_request`].
//!
//! Nothing here allocates: every string borrows from the field list's bytes.

#![forbid(unsafe_code)]

mod field;
mod pseudo;

use crate::error::{Error, ErrorKind};
use crate::fail::Fail;
use crate::framing::content_length;
use crate::types::{
    BodyFraming, ConnectionOptions, Header, Headers, Limits, Method, Request, RequestTarget,
    Version,
};
use field::Role;
use std::fmt;

/// One field of a decoded header section: a name and a value, as bytes, exactly as HPACK
/// decoded them (RFC 7541 §3.2). Nothing about them is checked yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'b> {
    /// The field name; a pseudo-header field's starts with `:`.
    pub name: &'b [u8],
    /// The field value.
    pub value: &'b [u8],
}

/// A field as [`parse_h2_request`] and [`parse_h3_request`] take it: a [`Field`], or a
/// [`DecodedField`](crate::DecodedField) straight from the decoder, whose value the mapping
/// need not check again when its table entry was checked (RFC 9113 §8.2.1's rule depends on
/// the value alone). Sealed: only a decoder can vouch for a value.
pub trait RequestField<'b>: sealed::Parts<'b> {}

impl<'b> RequestField<'b> for Field<'b> {}

impl<'b> RequestField<'b> for crate::DecodedField<'b> {}

mod sealed {
    /// A field's name and value, and whether the value is known valid.
    pub trait Parts<'b> {
        fn parts(self) -> (&'b [u8], &'b [u8], bool);
    }

    impl<'b> Parts<'b> for super::Field<'b> {
        fn parts(self) -> (&'b [u8], &'b [u8], bool) {
            (self.name, self.value, false)
        }
    }

    impl<'b> Parts<'b> for crate::DecodedField<'b> {
        fn parts(self) -> (&'b [u8], &'b [u8], bool) {
            (self.name, self.value, self.value_checked)
        }
    }
}

impl<'b> From<crate::DecodedField<'b>> for Field<'b> {
    /// The name and value of a field HPACK or QPACK decoded.
    fn from(field: crate::DecodedField<'b>) -> Self {
        Field {
            name: field.name,
            value: field.value,
        }
    }
}

/// Where in a field list a rule was broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldPosition {
    /// In the name of the field at this index; the error's offset counts bytes of the name.
    Name(usize),
    /// In the value of the field at this index; the error's offset counts bytes of the value.
    Value(usize),
    /// In the list as a whole: a field it lacks. The error's offset is 0.
    List,
}

/// A field list refused: which rule ([`Error`], its offset inside the name or value that
/// [`FieldPosition`] names), and where.
///
/// ```
/// use nomserve_grammar::{parse_h2_request, ErrorKind, Field, FieldPosition, Header, Limits};
///
/// let fields = [
///     Field { name: b":method", value: b"GET" },
///     Field { name: b":scheme", value: b"https" },
///     Field { name: b":path", value: b"/" },
///     Field { name: b":authority", value: b"example.com" },
///     Field { name: b"User-Agent", value: b"x" },
/// ];
/// let mut headers = [Header::EMPTY; 16];
/// let error = parse_h2_request(fields, &mut headers, &Limits::default()).unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::UppercaseFieldName);
/// assert_eq!(error.position(), FieldPosition::Name(4));
/// assert!(error.is_malformed());
/// assert_eq!(
///     error.to_string(),
///     "name of field 4: uppercase letter in HTTP/2 field name at byte 0, found 'U' (0x55) \
///      (RFC 9113 §8.2.1)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H2RequestError {
    position: FieldPosition,
    error: Error,
}

impl H2RequestError {
    /// Where the rule was broken.
    pub const fn position(&self) -> FieldPosition {
        self.position
    }

    /// The rule broken, with its offset in the name or value named by
    /// [`H2RequestError::position`], and the byte there when its kind names one.
    pub const fn error(&self) -> Error {
        self.error
    }

    /// Which rule failed.
    pub const fn kind(&self) -> ErrorKind {
        self.error.kind()
    }

    /// The status a response would carry, as for the same failure in HTTP/1.1.
    pub const fn status(&self) -> u16 {
        self.error.status()
    }

    /// Whether the request is *malformed* in RFC 9113 §8.1.1's sense: "Malformed requests or
    /// responses that are detected MUST be treated as a stream error of type PROTOCOL_ERROR"
    /// (the server "MAY send an HTTP response prior to closing or resetting the stream",
    /// with [`H2RequestError::status`]). That covers the generic syntax of names and values
    /// (§8.2.1), connection-specific fields (§8.2.2), every pseudo-header rule (§8.3,
    /// §8.3.1, Host against `:authority` included), and a Content-Length that cannot agree
    /// with the DATA frames because it is not a length (§8.1.1).
    ///
    /// The others are not rules of HTTP/2 framing but of HTTP, and are answered with
    /// [`H2RequestError::status`] as in HTTP/1.1, the stream closed normally after the
    /// response: a bound passed (414, 431), a request-target the URI rules refuse
    /// (`InvalidTargetByte`, `InvalidPercentEncoding`, `FragmentInTarget`,
    /// `TargetFormMismatch`: RFC 9113 §8.2.1 notes that a value invalid by its field's own
    /// definition does not make a message malformed), a Host that is not one or is repeated,
    /// a request naming no authority at all (400, as HTTP/1.1's missing Host), and CONNECT
    /// (501).
    pub const fn is_malformed(&self) -> bool {
        use ErrorKind::*;
        !matches!(
            self.error.kind(),
            TooManyHeaders
                | HeaderSectionTooLarge
                | PathTooLong
                | InvalidTargetByte
                | InvalidPercentEncoding
                | FragmentInTarget
                | TargetFormMismatch
                | InvalidHost
                | DuplicateHost
                | MissingAuthority
                | ConnectNotSupported
        )
    }
}

impl fmt::Display for H2RequestError {
    /// `<part> of field <index>: <error>`, the error as [`Error`] shows it, or
    /// `field list: <what was wrong> (<section>)` for a field the list lacks:
    ///
    /// - `value of field 2: empty :path pseudo-header field at byte 0 (RFC 9113 §8.3.1)`
    /// - `field list: missing :method pseudo-header field (RFC 9113 §8.3.1)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            FieldPosition::Name(index) => write!(f, "name of field {index}: {}", self.error),
            FieldPosition::Value(index) => write!(f, "value of field {index}: {}", self.error),
            FieldPosition::List => {
                let kind = self.error.kind();
                write!(f, "field list: {} ({})", kind.description(), kind.section())
            }
        }
    }
}

impl std::error::Error for H2RequestError {}

/// The protocol version of every request this module maps: HTTP/2 (RFC 9113), written 2.0
/// where a version has a minor number, as in the access log.
const HTTP_2: Version = Version { major: 2, minor: 0 };

/// Maps the decoded header section of an HTTP/2 request to a [`Request`].
///
/// ```text
/// request header section = *pseudo-header-field *regular-field     ; RFC 9113 §8.3
/// ```
/// RFC 9113 §8.1–§8.3. The result is what [`parse_request`](crate::parse_request) gives for
/// the HTTP/1.1 request that says the same: `method` from `:method`; `target` from `:path`,
/// through HTTP/1.1's origin-form (or `*`, asterisk-form, for OPTIONS); `host` from
/// `:authority`, or from Host when there is no `:authority`; `headers` the regular fields,
/// in order, their names lowercase as HTTP/2 sends them (handlers look names up
/// case-insensitively); `version` 2.0; `connection` empty (HTTP/2 has no Connection field);
/// `framing` `ContentLength(n)` when Content-Length declares `n`, else `None`.
///
/// **Decision, argued**: over HTTP/2 a body is delimited by the stream, not by a field: it
/// is the DATA frames up to END_STREAM (RFC 9113 §8.1). `framing` carries only the length
/// the request declares, which the connection core checks the DATA against (RFC 9113
/// §8.1.1: a mismatch is malformed); `None` there means "no length declared", and whether a
/// body follows is the HEADERS frame's END_STREAM flag, which the core has. A new
/// `BodyFraming` variant for "until END_STREAM" would tell the handlers nothing they use
/// (they answer GET and HEAD, and discard bodies) and would break every `match` on it in the
/// HTTP/1.1 core, which never sees such a request.
///
/// Contract: `fields` is the whole section (HTTP/2 delivers it whole, after CONTINUATION
/// frames), so the result is a request or an error, never partial. `headers` receives the
/// regular fields; the request's `headers` borrows its first ones.
///
/// Rules, each its own [`ErrorKind`], reported at the offending field (see
/// [`H2RequestError`]); pseudo-header values are checked after the whole list, so that a
/// missing field is told from a misplaced one:
/// - every name and value, pseudo-header fields' values included: the generic syntax
///   (RFC 9113 §8.2.1): a regular name is a
///   lowercase token (`EmptyFieldName`, `UppercaseFieldName`, `InvalidFieldName`), a value
///   holds no control but HTAB, nor DEL (`InvalidFieldValue`), and neither starts nor ends
///   with SP or HTAB (`WhitespaceAroundFieldValue`);
/// - pseudo-header fields: only `:method`, `:scheme`, `:authority`, `:path`
///   (`UnknownPseudoHeader`: `:status`, `:protocol`, any other), each once
///   (`DuplicatePseudoHeader`), all before the first regular field
///   (`PseudoHeaderAfterRegular`), RFC 9113 §8.3, §8.3.1;
/// - `:method` a token (`InvalidMethod`), present (`MissingMethod`); CONNECT is refused
///   with `ConnectNotSupported` (501), with or without the `:scheme` and `:path` that
///   RFC 9113 §8.5 has it omit: this server is no proxy and tunnels nowhere, and 501 says
///   that of the method for every resource (RFC 9110 §15.6.2);
/// - `:scheme` present (`MissingScheme`) and a scheme (`InvalidScheme`);
/// - `:path` present (`MissingPath`), not empty (`EmptyPath`), not longer than
///   `limits.max_request_line` (`PathTooLong`, 414), and origin-form, or `*` for OPTIONS,
///   with HTTP/1.1's errors (`InvalidTargetByte`, `InvalidPercentEncoding`,
///   `FragmentInTarget`, `TargetFormMismatch`), or `InvalidPath` for any other form;
/// - `:authority` `uri-host [ ":" port ]` (`InvalidAuthorityPseudoHeader`); Host the same
///   (`InvalidHost`) and at most once (`DuplicateHost`); one of the two present
///   (`MissingAuthority`), and when both are, naming the same authority
///   (`HostAuthorityMismatch`);
/// - no connection-specific field, Connection, Keep-Alive, Proxy-Connection,
///   Transfer-Encoding or Upgrade (`ConnectionSpecificField`); TE only `trailers`
///   (`TeNotTrailers`), RFC 9113 §8.2.2;
/// - Content-Length by HTTP/1.1's rule: digits, a list of equal values, repeated fields
///   equal (`InvalidContentLength`, `ConflictingContentLength`);
/// - at most `min(limits.max_headers, headers.len())` regular fields (`TooManyHeaders`,
///   431, at the first one past it), and a list of at most `limits.max_head` bytes counted
///   as SETTINGS_MAX_HEADER_LIST_SIZE counts them, each field its name, its value and 32
///   (RFC 9113 §6.5.2; `HeaderSectionTooLarge`, 431, at the field that passes it).
///
/// **Decision, argued**: RFC 9113 §8.3.1 leaves Host and `:authority` both present to a
/// SHOULD ("A server SHOULD treat a request as malformed if it contains a Host header field
/// that identifies an entity that differs from the entity in the ":authority" pseudo-header
/// field"). Taken: two names for one request's authority are what a request-smuggling or
/// cache-poisoning front end plays on, and no client sends two that differ. When they
/// agree, `host` is `:authority`, which §8.3.1 makes the one to use.
///
/// **Decision, argued**: a request with neither `:authority` nor Host is refused
/// (`MissingAuthority`, 400). RFC 9113 §8.3.1 lets a client leave `:authority` out only when
/// there is no authority to convey, which an `http` or `https` URI always has (RFC 9110
/// §4.2.1), and HTTP/1.1 answers a request without Host with the same 400 (RFC 9112 §3.2);
/// every handler can then count on `host` being `Some`.
///
/// Several Cookie fields (RFC 9113 §8.2.3 lets a client split the field) are kept as they
/// came, one header each, as HTTP/1.1 keeps repeated field lines: no handler reads Cookie,
/// and one that did would read every value with [`Headers::get_all`].
///
/// The fields come in order from any source: an array of [`Field`], as below, or the HPACK
/// decoder's [`DecodedFields`](crate::DecodedFields) without a copy, `fields.iter()`, which
/// spares the check of a value decoded from a table entry ([`RequestField`]).
///
/// ```
/// use nomserve_grammar::{parse_h2_request, Field, Header, Limits, Method, RequestTarget};
///
/// let fields = [
///     Field { name: b":method", value: b"GET" },
///     Field { name: b":scheme", value: b"https" },
///     Field { name: b":authority", value: b"example.com" },
///     Field { name: b":path", value: b"/docs/?q=1" },
///     Field { name: b"accept", value: b"text/html" },
/// ];
/// let mut headers = [Header::EMPTY; 16];
/// let request = parse_h2_request(fields, &mut headers, &Limits::default()).unwrap();
/// assert_eq!(request.method, Method::Get);
/// assert_eq!(request.target, RequestTarget::Origin { path: "/docs/", query: Some("q=1") });
/// assert_eq!(request.host, Some("example.com"));
/// assert_eq!(request.version.major, 2);
/// assert_eq!(request.headers.get("Accept"), Some(&b"text/html"[..]));
/// ```
pub fn parse_h2_request<'b, 'h>(
    fields: impl IntoIterator<Item = impl RequestField<'b>>,
    headers: &'h mut [Header<'b>],
    limits: &Limits,
) -> Result<Request<'b, 'h>, H2RequestError> {
    map_request(fields, headers, limits, HTTP_2)
}

/// The protocol version of the requests [`parse_h3_request`] maps: HTTP/3 (RFC 9114), 3.0.
const HTTP_3: Version = Version { major: 3, minor: 0 };

/// Maps the decoded field section of an HTTP/3 request to a [`Request`], by the rules of
/// [`parse_h2_request`], which RFC 9114 states again for HTTP/3: field names lowercase and
/// no connection-specific field (§4.2, §4.2.1), the same four request pseudo-header fields,
/// once each and first (§4.3, §4.3.1), `:authority` or Host for `http` and `https`, and the
/// two agreeing (§4.3.1). Only `version` differs: 3.0. The fields come from any source, the
/// QPACK decoder's [`DecodedFields`](crate::DecodedFields) without a copy:
/// `fields.iter().map(Field::from)`.
///
/// An error's [`H2RequestError::is_malformed`] tells, as for HTTP/2, a malformed request,
/// which RFC 9114 §4.1.2 makes a stream error of type H3_MESSAGE_ERROR, from one answered
/// with its status; its sentence names the RFC 9113 section, whose rule RFC 9114 repeats.
///
/// ```
/// use nomserve_grammar::{
///     DecodeLimits, DecodedFields, Field, Header, Limits, QpackDecoder, QpackEncoder, parse_h3_request,
/// };
///
/// let mut section = Vec::new();
/// QpackEncoder::new().encode(
///     [(&b":method"[..], &b"GET"[..]), (b":scheme", b"https"), (b":authority", b"example.com"), (b":path", b"/")],
///     &mut section,
/// );
/// let mut fields = DecodedFields::new();
/// QpackDecoder::new(0, 0).decode_section(0, &section, &mut fields, &DecodeLimits::default()).unwrap();
/// let mut headers = [Header::EMPTY; 16];
/// let request = parse_h3_request(fields.iter().map(Field::from), &mut headers, &Limits::default()).unwrap();
/// assert_eq!((request.version.major, request.host), (3, Some("example.com")));
/// ```
pub fn parse_h3_request<'b, 'h>(
    fields: impl IntoIterator<Item = impl RequestField<'b>>,
    headers: &'h mut [Header<'b>],
    limits: &Limits,
) -> Result<Request<'b, 'h>, H2RequestError> {
    map_request(fields, headers, limits, HTTP_3)
}

/// The mapping both protocols share, from the fields of one section in order.
fn map_request<'b, 'h>(
    fields: impl IntoIterator<Item = impl RequestField<'b>>,
    headers: &'h mut [Header<'b>],
    limits: &Limits,
    version: Version,
) -> Result<Request<'b, 'h>, H2RequestError> {
    let mut section = Section::default();
    let bound = limits.max_headers.min(headers.len());
    let mut count = 0;
    let mut size: usize = 0;
    for (index, field) in fields.into_iter().enumerate() {
        let (name, value, value_checked) = sealed::Parts::parts(field);
        let in_name = |fail: Fail<'b>| at_name(index, name, fail);
        size = size.saturating_add(name.len() + value.len() + 32);
        if size > limits.max_head {
            return Err(in_name(fail_at(ErrorKind::HeaderSectionTooLarge, name)));
        }
        if let [b':', pseudo_name @ ..] = name {
            if count > 0 {
                return Err(in_name(fail_at(ErrorKind::PseudoHeaderAfterRegular, name)));
            }
            let slot = section
                .pseudo(pseudo_name)
                .map_err(|kind| in_name(fail_at(kind, name)))?;
            if !value_checked {
                field::field_value(value).map_err(|fail| at_value(index, value, fail))?;
            }
            *slot = Some((index, value));
            continue;
        }
        let name_str = field::field_name(name).map_err(in_name)?;
        if !value_checked {
            field::field_value(value).map_err(|fail| at_value(index, value, fail))?;
        }
        section.regular(index, name_str, value)?;
        let slot = match headers.get_mut(count) {
            Some(slot) if count < bound => slot,
            _ => return Err(in_name(fail_at(ErrorKind::TooManyHeaders, name))),
        };
        *slot = Header {
            name: name_str,
            value,
        };
        count += 1;
    }
    let mapped = section.finish(limits)?;
    let headers: &'h [Header<'b>] = headers;
    Ok(Request {
        method: mapped.method,
        target: mapped.target,
        version,
        headers: Headers::new(headers.get(..count).unwrap_or_default()),
        host: Some(mapped.host),
        framing: section
            .content_length
            .map_or(BodyFraming::None, BodyFraming::ContentLength),
        connection: ConnectionOptions::default(),
    })
}

/// A field's index in the list and its value.
type Seen<'b> = Option<(usize, &'b [u8])>;

/// What the fields of one section said so far: the pseudo-header fields, and the regular
/// fields that the mapping reads.
#[derive(Default)]
struct Section<'b> {
    method: Seen<'b>,
    scheme: Seen<'b>,
    authority: Seen<'b>,
    path: Seen<'b>,
    /// Host, checked, and its field's index.
    host: Option<(usize, &'b str)>,
    content_length: Option<u64>,
}

/// The pseudo-header fields' meaning, once checked.
struct Mapped<'b> {
    method: Method<'b>,
    target: RequestTarget<'b>,
    host: &'b str,
}

impl<'b> Section<'b> {
    /// The slot of the pseudo-header field named `:` `name`, empty so far. Errors:
    /// `UnknownPseudoHeader` for a name a request does not carry (RFC 9113 §8.3:
    /// "Endpoints MUST treat a request or response that contains undefined or invalid
    /// pseudo-header fields as malformed"; `:status` is a response's), and
    /// `DuplicatePseudoHeader` for one seen before (RFC 9113 §8.3.1: "The same pseudo-header
    /// field name MUST NOT appear more than once in a field block"). Inlined: it runs for
    /// four fields of every request.
    #[inline(always)]
    fn pseudo(&mut self, name: &[u8]) -> Result<&mut Seen<'b>, ErrorKind> {
        let slot = match name {
            b"method" => &mut self.method,
            b"scheme" => &mut self.scheme,
            b"authority" => &mut self.authority,
            b"path" => &mut self.path,
            _ => return Err(ErrorKind::UnknownPseudoHeader),
        };
        match slot {
            Some(_) => Err(ErrorKind::DuplicatePseudoHeader),
            None => Ok(slot),
        }
    }

    /// Takes the regular field at `index`, its name and value already checked, into
    /// account (RFC 9113 §8.2.2; Host, RFC 9110 §7.2; Content-Length, RFC 9110 §8.6).
    fn regular(
        &mut self,
        index: usize,
        name: &'b str,
        value: &'b [u8],
    ) -> Result<(), H2RequestError> {
        let in_name = |kind| at_name(index, name.as_bytes(), fail_at(kind, name.as_bytes()));
        let in_value = |fail| at_value(index, value, fail);
        match field::role(name) {
            Role::ConnectionSpecific => Err(in_name(ErrorKind::ConnectionSpecificField)),
            Role::Te => field::te(value).map_err(in_value),
            Role::Host if self.host.is_some() => Err(in_name(ErrorKind::DuplicateHost)),
            Role::Host => {
                let host = pseudo::authority(value, ErrorKind::InvalidHost).map_err(in_value)?;
                self.host = Some((index, host));
                Ok(())
            }
            Role::ContentLength => {
                self.content_length =
                    Some(content_length(value, self.content_length).map_err(in_value)?);
                Ok(())
            }
            Role::Other => Ok(()),
        }
    }

    /// The checks that need the whole list (RFC 9113 §8.3.1, §8.5), in the order the
    /// mapping's documentation gives.
    fn finish(&self, limits: &Limits) -> Result<Mapped<'b>, H2RequestError> {
        let missing = |kind| H2RequestError {
            position: FieldPosition::List,
            error: Error::new(kind, 0),
        };
        let (index, value) = self
            .method
            .ok_or_else(|| missing(ErrorKind::MissingMethod))?;
        let method = pseudo::method(value).map_err(|fail| at_value(index, value, fail))?;
        if method == Method::Connect {
            let fail = fail_at(ErrorKind::ConnectNotSupported, value);
            return Err(at_value(index, value, fail));
        }
        let (index, value) = self
            .scheme
            .ok_or_else(|| missing(ErrorKind::MissingScheme))?;
        let scheme = pseudo::scheme(value).map_err(|fail| at_value(index, value, fail))?;
        let (index, value) = self.path.ok_or_else(|| missing(ErrorKind::MissingPath))?;
        let target =
            pseudo::path(value, method, limits).map_err(|fail| at_value(index, value, fail))?;
        let authority = match self.authority {
            Some((index, value)) => Some(
                pseudo::authority(value, ErrorKind::InvalidAuthorityPseudoHeader)
                    .map_err(|fail| at_value(index, value, fail))?,
            ),
            None => None,
        };
        let host = match (authority, self.host) {
            (Some(authority), Some((index, host))) => {
                if !pseudo::same_authority(authority, host, scheme) {
                    let fail = fail_at(ErrorKind::HostAuthorityMismatch, host.as_bytes());
                    return Err(at_value(index, host.as_bytes(), fail));
                }
                authority
            }
            (Some(authority), None) => authority,
            (None, Some((_, host))) => host,
            (None, None) => return Err(missing(ErrorKind::MissingAuthority)),
        };
        Ok(Mapped {
            method,
            target,
            host,
        })
    }
}

/// A failure of `kind` at the start of `at`.
fn fail_at(kind: ErrorKind, at: &[u8]) -> Fail<'_> {
    Fail { kind, at }
}

/// `fail`, found in the name of the field at `index`, as the public error.
fn at_name(index: usize, name: &[u8], fail: Fail<'_>) -> H2RequestError {
    H2RequestError {
        position: FieldPosition::Name(index),
        error: fail.into_error(name),
    }
}

/// `fail`, found in the value of the field at `index`, as the public error.
fn at_value(index: usize, value: &[u8], fail: Fail<'_>) -> H2RequestError {
    H2RequestError {
        position: FieldPosition::Value(index),
        error: fail.into_error(value),
    }
}

#[cfg(test)]
mod tests;
