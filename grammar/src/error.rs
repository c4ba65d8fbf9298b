//! Positioned parse errors.
//!
//! Every rejection the grammar makes is an [`Error`]: *what* rule failed ([`ErrorKind`]), *where*
//! (the byte offset into the buffer that was parsed), the HTTP status a server should answer
//! with, and a sentence naming the rule and its RFC section, for the response body and the log.

#![forbid(unsafe_code)]

use std::fmt;

/// A rejection: which rule failed, and at which byte of the input.
///
/// ```
/// use nomserve_grammar::{parse_request, Header, Limits};
///
/// let mut headers = [Header::EMPTY; 16];
/// let err = parse_request(b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", &mut headers, &Limits::default())
///     .unwrap_err();
/// assert_eq!(err.status(), 400);
/// assert_eq!(err.offset(), 20);
/// assert_eq!(err.byte(), Some(b' '));
/// assert_eq!(
///     err.to_string(),
///     "whitespace between field name and colon at byte 20, found SP (0x20) (RFC 9112 §5.1)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: usize,
    byte: Option<u8>,
}

impl Error {
    /// An error of `kind` found at byte `offset` of the parsed input.
    pub const fn new(kind: ErrorKind, offset: usize) -> Self {
        Error {
            kind,
            offset,
            byte: None,
        }
    }

    /// The same error, naming `byte` as the one that broke the rule, when its kind names a
    /// byte ([`ErrorKind::names_byte`]); for any other kind, the error unchanged.
    pub const fn with_byte(self, byte: u8) -> Self {
        if !self.kind.names_byte() {
            return self;
        }
        Error {
            byte: Some(byte),
            ..self
        }
    }

    /// The same error, naming the byte at its offset in `input` (the input it was found in)
    /// when its kind names a byte. Every error of such a kind that the grammar returns is
    /// built this way, so the byte named is always the one at [`Error::offset`].
    pub(crate) fn with_byte_from(self, input: &[u8]) -> Self {
        match input.get(self.offset) {
            Some(&byte) => self.with_byte(byte),
            None => self,
        }
    }

    /// The byte that broke the rule: for a kind that names one ([`ErrorKind::names_byte`]),
    /// the byte at [`Error::offset`]; `None` for every other kind, and for an error found at
    /// the end of its input.
    pub const fn byte(&self) -> Option<u8> {
        self.byte
    }

    /// Which rule failed.
    pub const fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset, from the start of the parsed input, where the failure was found.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The status code a server should answer with.
    pub const fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The same error with its offset moved by `base`, for inputs parsed as a slice of a larger
    /// buffer (a field value inside a header section, a chunk line inside a body).
    pub const fn shifted(self, base: usize) -> Self {
        Error {
            offset: self.offset + base,
            ..self
        }
    }
}

impl fmt::Display for Error {
    /// `<what was wrong> at byte <offset>, found <byte> (<section>)` when the error names its
    /// byte ([`Error::byte`]), else `<what was wrong> at byte <offset> (<section>)`:
    ///
    /// - `whitespace between field name and colon at byte 20, found SP (0x20) (RFC 9112 §5.1)`
    /// - `invalid byte in request-target at byte 18, found 0x7f (RFC 9112 §3.2)`
    /// - `more than one Host field at byte 25 (RFC 9112 §3.2)`
    ///
    /// The byte is shown as a printable ASCII graphic character (`!` to `~`) in single quotes
    /// followed by its hex value, `'<' (0x3c)` (a quote too: `''' (0x27)`); SP, HTAB, CR and
    /// LF by those names followed by their hex value, `CR (0x0d)`; every other byte (another
    /// control, DEL, a byte of 0x80 or more) as its hex value alone, `0x7f`. So the text is
    /// printable ASCII whatever the byte, for a response body or a log line as it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.description(), self.offset)?;
        if let Some(byte) = self.byte {
            f.write_str(", found ")?;
            match byte {
                b' ' => f.write_str("SP (0x20)")?,
                b'\t' => f.write_str("HTAB (0x09)")?,
                b'\r' => f.write_str("CR (0x0d)")?,
                b'\n' => f.write_str("LF (0x0a)")?,
                b'!'..=b'~' => write!(f, "'{}' ({byte:#04x})", char::from(byte))?,
                _ => write!(f, "{byte:#04x}")?,
            }
        }
        write!(f, " ({})", self.kind.section())
    }
}

impl std::error::Error for Error {}

/// Which rule a request broke. Each kind knows its status, its sentence and its RFC section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    // request-line, RFC 9112 §3
    /// The method is empty or holds a byte that is not a `tchar`.
    InvalidMethod,
    /// A method longer than the request-line bound. Not 414: that status is about the URI.
    MethodTooLong,
    /// Not exactly one SP between the request-line's parts.
    ExpectedSingleSpace,
    /// The request-target is empty.
    MissingTarget,
    /// A byte the request-target's form does not allow: a control, SP, DEL, a byte a browser
    /// would have percent-encoded, or bytes that are not UTF-8 (RFC 9112 §3.2, RFC 3986 §3.3,
    /// §3.4, WHATWG URL's path and query percent-encode sets).
    InvalidTargetByte,
    /// A `%` not followed by two hex digits (RFC 3986 §2.1).
    InvalidPercentEncoding,
    /// A `#fragment` in the request-target, which RFC 9112 §3.2 does not allow.
    FragmentInTarget,
    /// asterisk-form with a method other than OPTIONS, or authority-form other than CONNECT.
    TargetFormMismatch,
    /// The authority of an absolute-form or authority-form target is malformed.
    InvalidAuthority,
    /// The request-line is longer than [`Limits::max_request_line`](crate::Limits).
    RequestLineTooLong,
    /// The HTTP-version is not `HTTP/` DIGIT `.` DIGIT.
    InvalidVersion,
    /// A well-formed HTTP-version whose major version is not 1.
    UnsupportedVersion,
    /// A line ended by a CR not followed by LF, or a bare LF (RFC 9112 §2.2).
    InvalidLineEnding,

    // field lines, RFC 9112 §5 and RFC 9110 §5
    /// Whitespace between the start-line and the first field line (RFC 9112 §2.2).
    WhitespaceAfterStartLine,
    /// A field line with an empty name.
    EmptyFieldName,
    /// A field-name byte that is not a `tchar`.
    InvalidFieldName,
    /// A field line without a colon.
    MissingColon,
    /// SP or HTAB between the field name and the colon.
    WhitespaceBeforeColon,
    /// A field value holding NUL, a bare CR, or another control character.
    InvalidFieldValue,
    /// A field line continued on the next line (obs-fold), which RFC 9112 §5.2 lets a server reject.
    ObsoleteLineFolding,
    /// More field lines than [`Limits::max_headers`](crate::Limits).
    TooManyHeaders,
    /// A header section larger than [`Limits::max_head`](crate::Limits).
    HeaderSectionTooLarge,

    // the fields that frame a request, RFC 9112 §3.2, §6
    /// HTTP/1.1 request without a Host field.
    MissingHost,
    /// More than one Host field line.
    DuplicateHost,
    /// A Host value that is not `uri-host [ ":" port ]`.
    InvalidHost,
    /// A Content-Length that is not `1*DIGIT` or does not fit in 64 bits.
    InvalidContentLength,
    /// Content-Length values that differ.
    ConflictingContentLength,
    /// Both Content-Length and Transfer-Encoding.
    ContentLengthWithTransferEncoding,
    /// Transfer-Encoding in an HTTP/1.0 request.
    TransferEncodingInHttp10,
    /// Transfer-Encoding whose final coding is not chunked, or that applies chunked twice.
    ChunkedNotFinal,
    /// A Transfer-Encoding value that is not a list of transfer-codings.
    InvalidTransferEncoding,
    /// A transfer-coding this server does not implement.
    UnknownTransferCoding,
    /// A Connection value that is not a list of connection options (tokens).
    InvalidConnection,

    // chunked transfer coding, RFC 9112 §7.1
    /// A chunk-size that is not 1*HEXDIG.
    InvalidChunkSize,
    /// A chunk-size larger than the decoder's bound.
    ChunkSizeTooLarge,
    /// A malformed chunk extension.
    InvalidChunkExtension,
    /// Chunk extensions longer than the decoder's bound.
    ChunkExtensionTooLong,
    /// Chunk data not followed by CRLF.
    MissingChunkDataCrlf,
    /// A malformed trailer field line.
    InvalidTrailer,
    /// A trailer section larger than the decoder's bound.
    TrailerTooLarge,

    // paths, RFC 3986 §2.1, §3.3
    /// A percent-encoded control character (`%00` to `%1F`, `%7F`) in a path.
    EncodedControlInPath,
    /// A percent-encoded `/` or `\` inside a path segment (`%2F`, `%5C`).
    EncodedSeparatorInPath,
    /// A raw `\` in a path: not a pchar, and a separator to some file systems.
    BackslashInPath,

    // the PROXY protocol header (HAProxy's "The PROXY protocol", §2.1, §2.2)
    /// The connection starts with neither a v1 nor a v2 PROXY header.
    ProxyHeaderMissing,
    /// A v1 PROXY line breaks its grammar.
    InvalidProxyV1,
    /// A v1 PROXY line longer than 107 bytes.
    ProxyV1TooLong,
    /// A v2 PROXY header with a version, command, family, length or TLV not allowed.
    InvalidProxyV2,
    /// A v2 PROXY header longer than the bound.
    ProxyV2TooLong,

    // HTTP/2 requests: a decoded field list mapped to a request, RFC 9113 §8.2, §8.3
    /// An uppercase letter in an HTTP/2 field name (RFC 9113 §8.2, §8.2.1).
    UppercaseFieldName,
    /// An HTTP/2 field value that starts or ends with SP or HTAB (RFC 9113 §8.2.1).
    WhitespaceAroundFieldValue,
    /// Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding or Upgrade in an HTTP/2
    /// request (RFC 9113 §8.2.2).
    ConnectionSpecificField,
    /// A TE field in an HTTP/2 request with a value other than `trailers` (RFC 9113 §8.2.2).
    TeNotTrailers,
    /// A pseudo-header field that requests do not carry: `:status`, or one not defined
    /// (RFC 9113 §8.3).
    UnknownPseudoHeader,
    /// A pseudo-header field that appears twice (RFC 9113 §8.3.1).
    DuplicatePseudoHeader,
    /// A pseudo-header field after a regular field (RFC 9113 §8.3).
    PseudoHeaderAfterRegular,
    /// An HTTP/2 request without `:method` (RFC 9113 §8.3.1).
    MissingMethod,
    /// An HTTP/2 request without `:scheme` (RFC 9113 §8.3.1).
    MissingScheme,
    /// An HTTP/2 request without `:path` (RFC 9113 §8.3.1).
    MissingPath,
    /// An empty `:path` (RFC 9113 §8.3.1).
    EmptyPath,
    /// A `:path` that starts with neither `/` nor is `*` (RFC 9113 §8.3.1).
    InvalidPath,
    /// A `:path` longer than [`Limits::max_request_line`](crate::Limits): 414, as the
    /// request-line that would carry it in HTTP/1.1.
    PathTooLong,
    /// A `:scheme` that is not `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (RFC 3986 §3.1).
    InvalidScheme,
    /// An `:authority` that is not `uri-host [ ":" port ]` (RFC 9113 §8.3.1: no userinfo).
    InvalidAuthorityPseudoHeader,
    /// An HTTP/2 request with neither `:authority` nor Host (RFC 9113 §8.3.1, RFC 9110 §7.2).
    MissingAuthority,
    /// A Host field that names another authority than `:authority` (RFC 9113 §8.3.1).
    HostAuthorityMismatch,
    /// A CONNECT request over HTTP/2, which this server, not a proxy, refuses with 501
    /// (RFC 9113 §8.5, RFC 9110 §15.6.2).
    ConnectNotSupported,
}

impl ErrorKind {
    /// The status code a server should answer with.
    pub const fn status(self) -> u16 {
        use ErrorKind::*;
        match self {
            RequestLineTooLong | PathTooLong => 414,
            TooManyHeaders | HeaderSectionTooLarge => 431,
            UnsupportedVersion => 505,
            UnknownTransferCoding | ConnectNotSupported => 501,
            _ => 400,
        }
    }

    /// Whether an error of this kind names the byte at its offset ([`Error::byte`]), shown in
    /// its sentence.
    ///
    /// A kind names its byte when every error of that kind is reported at a byte that the rule
    /// does not allow where it stands, so that showing the byte says what was wrong: a
    /// non-tchar in the method or a field name, a byte the request-target does not allow, a
    /// second SP or an HTAB in the request-line, whitespace before a colon or at the start of a
    /// field line, a colon that starts one, a line that ends before its colon, a control in a
    /// field value, a bare CR or LF, a `%` that starts no escape, a `#`, a raw `\`, a
    /// non-digit in Content-Length (or the digit that takes it past 64 bits), a stray byte in
    /// a chunk line or trailer; in an HTTP/2 field list, an uppercase letter in a name, the SP
    /// or HTAB at either end of a value, a byte that `:scheme` does not allow.
    ///
    /// The other kinds do not: a bound passed (414, 431, the method, chunk and trailer bounds,
    /// the PROXY header's length), a field that is duplicated or conflicting, a version or
    /// transfer coding that is well-formed but not served, a missing Host, target or PROXY header, a form
    /// that does not suit the method, an escape that decodes to a byte a path may not hold
    /// (reported at its `%`), and the kinds whose offset can be the start of a malformed
    /// token rather than a wrong byte within it: the HTTP-version (`HTTX/1.1` is reported at
    /// its `H`), an authority or Host (an IP-literal at its `[`), a Transfer-Encoding or
    /// Connection element, a PROXY header's address, port or binary field. There the byte at
    /// the offset would explain nothing.
    pub const fn names_byte(self) -> bool {
        use ErrorKind::*;
        match self {
            InvalidMethod
            | ExpectedSingleSpace
            | InvalidTargetByte
            | InvalidPercentEncoding
            | FragmentInTarget
            | InvalidLineEnding
            | WhitespaceAfterStartLine
            | EmptyFieldName
            | InvalidFieldName
            | MissingColon
            | WhitespaceBeforeColon
            | InvalidFieldValue
            | ObsoleteLineFolding
            | InvalidContentLength
            | InvalidChunkSize
            | InvalidChunkExtension
            | MissingChunkDataCrlf
            | InvalidTrailer
            | BackslashInPath
            | UppercaseFieldName
            | WhitespaceAroundFieldValue
            | InvalidScheme => true,
            MethodTooLong
            | MissingTarget
            | TargetFormMismatch
            | InvalidAuthority
            | RequestLineTooLong
            | InvalidVersion
            | UnsupportedVersion
            | TooManyHeaders
            | HeaderSectionTooLarge
            | MissingHost
            | DuplicateHost
            | InvalidHost
            | ConflictingContentLength
            | ContentLengthWithTransferEncoding
            | TransferEncodingInHttp10
            | ChunkedNotFinal
            | InvalidTransferEncoding
            | UnknownTransferCoding
            | InvalidConnection
            | ChunkSizeTooLarge
            | ChunkExtensionTooLong
            | TrailerTooLarge
            | EncodedControlInPath
            | EncodedSeparatorInPath
            | ProxyHeaderMissing
            | InvalidProxyV1
            | ProxyV1TooLong
            | InvalidProxyV2
            | ProxyV2TooLong
            | ConnectionSpecificField
            | TeNotTrailers
            | UnknownPseudoHeader
            | DuplicatePseudoHeader
            | PseudoHeaderAfterRegular
            | MissingMethod
            | MissingScheme
            | MissingPath
            | EmptyPath
            | InvalidPath
            | PathTooLong
            | InvalidAuthorityPseudoHeader
            | MissingAuthority
            | HostAuthorityMismatch
            | ConnectNotSupported => false,
        }
    }

    /// What was wrong, as a sentence fragment that names the rule.
    pub const fn description(self) -> &'static str {
        use ErrorKind::*;
        match self {
            InvalidMethod => "method is not a token",
            MethodTooLong => "method too long",
            ExpectedSingleSpace => "expected a single SP in the request-line",
            MissingTarget => "empty request-target",
            InvalidTargetByte => "invalid byte in request-target",
            InvalidPercentEncoding => "malformed percent-encoding in request-target",
            FragmentInTarget => "fragment in request-target",
            TargetFormMismatch => "request-target form does not match the method",
            InvalidAuthority => "invalid authority in request-target",
            RequestLineTooLong => "request-line too long",
            InvalidVersion => "malformed HTTP-version",
            UnsupportedVersion => "unsupported HTTP major version",
            InvalidLineEnding => "line not ended by CRLF",
            WhitespaceAfterStartLine => "whitespace between start-line and first field",
            EmptyFieldName => "empty field name",
            InvalidFieldName => "invalid byte in field name",
            MissingColon => "field line without a colon",
            WhitespaceBeforeColon => "whitespace between field name and colon",
            InvalidFieldValue => "invalid byte in field value",
            ObsoleteLineFolding => "obsolete line folding (obs-fold) is not accepted",
            TooManyHeaders => "too many header fields",
            HeaderSectionTooLarge => "header section too large",
            MissingHost => "missing Host field in HTTP/1.1 request",
            DuplicateHost => "more than one Host field",
            InvalidHost => "invalid Host field value",
            InvalidContentLength => "invalid Content-Length",
            ConflictingContentLength => "conflicting Content-Length values",
            ContentLengthWithTransferEncoding => "both Content-Length and Transfer-Encoding",
            TransferEncodingInHttp10 => "Transfer-Encoding in an HTTP/1.0 request",
            ChunkedNotFinal => "chunked is not the final transfer coding, exactly once",
            InvalidTransferEncoding => "malformed Transfer-Encoding",
            UnknownTransferCoding => "unknown transfer coding",
            InvalidConnection => "malformed Connection field",
            InvalidChunkSize => "invalid chunk-size",
            ChunkSizeTooLarge => "chunk-size too large",
            InvalidChunkExtension => "invalid chunk extension",
            ChunkExtensionTooLong => "chunk extensions too long",
            MissingChunkDataCrlf => "chunk data not followed by CRLF",
            InvalidTrailer => "invalid trailer field",
            TrailerTooLarge => "trailer section too large",
            EncodedControlInPath => "percent-encoded control character in path",
            EncodedSeparatorInPath => "percent-encoded slash or backslash in path segment",
            BackslashInPath => "backslash in path",
            ProxyHeaderMissing => "no PROXY protocol header",
            InvalidProxyV1 => "malformed PROXY protocol v1 header",
            ProxyV1TooLong => "PROXY protocol v1 header longer than 107 bytes",
            InvalidProxyV2 => "malformed PROXY protocol v2 header",
            ProxyV2TooLong => "PROXY protocol v2 header too long",
            UppercaseFieldName => "uppercase letter in HTTP/2 field name",
            WhitespaceAroundFieldValue => "HTTP/2 field value starts or ends with whitespace",
            ConnectionSpecificField => "connection-specific field in HTTP/2 request",
            TeNotTrailers => "TE other than \"trailers\" in HTTP/2 request",
            UnknownPseudoHeader => "pseudo-header field not defined for requests",
            DuplicatePseudoHeader => "repeated pseudo-header field",
            PseudoHeaderAfterRegular => "pseudo-header field after a regular field",
            MissingMethod => "missing :method pseudo-header field",
            MissingScheme => "missing :scheme pseudo-header field",
            MissingPath => "missing :path pseudo-header field",
            EmptyPath => "empty :path pseudo-header field",
            InvalidPath => ":path is neither an absolute path nor \"*\"",
            PathTooLong => ":path too long",
            InvalidScheme => "invalid :scheme",
            InvalidAuthorityPseudoHeader => "invalid :authority",
            MissingAuthority => "neither :authority nor Host in HTTP/2 request",
            HostAuthorityMismatch => "Host differs from :authority",
            ConnectNotSupported => "CONNECT is not supported",
        }
    }

    /// The RFC section that states the rule.
    pub const fn section(self) -> &'static str {
        use ErrorKind::*;
        match self {
            InvalidMethod | MethodTooLong => "RFC 9112 §3.1",
            ExpectedSingleSpace | MissingTarget => "RFC 9112 §3",
            InvalidTargetByte | FragmentInTarget => "RFC 9112 §3.2",
            InvalidPercentEncoding => "RFC 3986 §2.1",
            TargetFormMismatch => "RFC 9112 §3.2.3, §3.2.4",
            InvalidAuthority => "RFC 3986 §3.2",
            RequestLineTooLong => "RFC 9112 §3",
            InvalidVersion => "RFC 9112 §2.3",
            UnsupportedVersion => "RFC 9110 §15.6.6",
            InvalidLineEnding => "RFC 9112 §2.2",
            WhitespaceAfterStartLine => "RFC 9112 §2.2",
            EmptyFieldName | InvalidFieldName => "RFC 9110 §5.1",
            MissingColon => "RFC 9112 §5",
            WhitespaceBeforeColon => "RFC 9112 §5.1",
            InvalidFieldValue => "RFC 9110 §5.5",
            ObsoleteLineFolding => "RFC 9112 §5.2",
            TooManyHeaders | HeaderSectionTooLarge => "RFC 6585 §5",
            MissingHost | DuplicateHost | InvalidHost => "RFC 9112 §3.2",
            InvalidContentLength | ConflictingContentLength => "RFC 9112 §6.3",
            ContentLengthWithTransferEncoding | TransferEncodingInHttp10 => "RFC 9112 §6.1",
            ChunkedNotFinal => "RFC 9112 §6.3",
            InvalidTransferEncoding | UnknownTransferCoding => "RFC 9112 §6.1",
            InvalidConnection => "RFC 9110 §7.6.1",
            InvalidChunkSize | ChunkSizeTooLarge | MissingChunkDataCrlf => "RFC 9112 §7.1",
            InvalidChunkExtension | ChunkExtensionTooLong => "RFC 9112 §7.1.1",
            InvalidTrailer | TrailerTooLarge => "RFC 9112 §7.1.2",
            EncodedControlInPath | EncodedSeparatorInPath | BackslashInPath => "RFC 3986 §3.3",
            ProxyHeaderMissing => "PROXY protocol §2",
            InvalidProxyV1 | ProxyV1TooLong => "PROXY protocol §2.1",
            InvalidProxyV2 | ProxyV2TooLong => "PROXY protocol §2.2",
            UppercaseFieldName | WhitespaceAroundFieldValue => "RFC 9113 §8.2.1",
            ConnectionSpecificField | TeNotTrailers => "RFC 9113 §8.2.2",
            UnknownPseudoHeader | PseudoHeaderAfterRegular => "RFC 9113 §8.3",
            DuplicatePseudoHeader
            | MissingMethod
            | MissingScheme
            | MissingPath
            | EmptyPath
            | InvalidPath
            | InvalidAuthorityPseudoHeader
            | MissingAuthority
            | HostAuthorityMismatch => "RFC 9113 §8.3.1",
            PathTooLong => "RFC 9110 §15.5.15",
            InvalidScheme => "RFC 3986 §3.1",
            ConnectNotSupported => "RFC 9113 §8.5",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Header, Limits, parse_request};

    /// The error `buf` is refused with, under `limits`.
    fn refusal(buf: &[u8], limits: &Limits) -> Error {
        let mut headers = [Header::EMPTY; 8];
        parse_request(buf, &mut headers, limits).expect_err("a refused head")
    }

    #[test]
    fn each_class_of_byte_is_shown_its_own_way() {
        let cases: &[(&[u8], Option<u8>, &str)] = &[
            (
                b"GET / HTTP/1.1\r\nHo<st: x\r\n\r\n",
                Some(b'<'),
                "invalid byte in field name at byte 18, found '<' (0x3c) (RFC 9110 §5.1)",
            ),
            (
                b"GET / HTTP/1.1\r\nHo\"st: x\r\n\r\n",
                Some(b'"'),
                "invalid byte in field name at byte 18, found '\"' (0x22) (RFC 9110 §5.1)",
            ),
            (
                b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
                Some(b' '),
                "whitespace between field name and colon at byte 20, found SP (0x20) \
                 (RFC 9112 §5.1)",
            ),
            (
                b"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n",
                Some(b'\t'),
                "expected a single SP in the request-line at byte 3, found HTAB (0x09) \
                 (RFC 9112 §3)",
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\ry\r\n\r\n",
                Some(b'\r'),
                "line not ended by CRLF at byte 23, found CR (0x0d) (RFC 9112 §2.2)",
            ),
            (
                b"GET / HTTP/1.1\nHost: x\r\n\r\n",
                Some(b'\n'),
                "line not ended by CRLF at byte 14, found LF (0x0a) (RFC 9112 §2.2)",
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\x01\r\n\r\n",
                Some(0x01),
                "invalid byte in field value at byte 23, found 0x01 (RFC 9110 §5.5)",
            ),
            (
                b"GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
                Some(0x7f),
                "invalid byte in request-target at byte 5, found 0x7f (RFC 9112 §3.2)",
            ),
            (
                b"GET /\xe6 HTTP/1.1\r\nHost: x\r\n\r\n",
                Some(0xe6),
                "invalid byte in request-target at byte 5, found 0xe6 (RFC 9112 §3.2)",
            ),
        ];
        for &(buf, byte, text) in cases {
            let error = refusal(buf, &Limits::default());
            let shown = String::from_utf8_lossy(buf);
            assert_eq!(error.byte(), byte, "{shown:?}");
            assert_eq!(buf.get(error.offset()).copied(), byte, "{shown:?}");
            assert_eq!(error.to_string(), text, "{shown:?}");
        }
    }

    #[test]
    fn a_single_quote_is_quoted_like_any_graphic_byte() {
        let error = Error::new(ErrorKind::InvalidFieldName, 3).with_byte(b'\'');
        assert_eq!(
            error.to_string(),
            "invalid byte in field name at byte 3, found ''' (0x27) (RFC 9110 §5.1)"
        );
    }

    #[test]
    fn kinds_that_do_not_name_a_byte_print_none() {
        let small = Limits {
            max_head: 40,
            ..Limits::default()
        };
        let cases: &[(&[u8], &Limits, ErrorKind, &str)] = &[
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
                &Limits::default(),
                ErrorKind::DuplicateHost,
                "more than one Host field at byte 25 (RFC 9112 §3.2)",
            ),
            (
                b"GET / HTTP/1.1\r\nAccept: */*\r\n\r\n",
                &Limits::default(),
                ErrorKind::MissingHost,
                "missing Host field in HTTP/1.1 request at byte 29 (RFC 9112 §3.2)",
            ),
            (
                b"GET / HTTX/1.1\r\nHost: x\r\n\r\n",
                &Limits::default(),
                ErrorKind::InvalidVersion,
                "malformed HTTP-version at byte 6 (RFC 9112 §2.3)",
            ),
            (
                b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
                &Limits::default(),
                ErrorKind::UnsupportedVersion,
                "unsupported HTTP major version at byte 6 (RFC 9110 §15.6.6)",
            ),
            (
                b"GET / HTTP/1.1\r\nHost: x\r\nA: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\r\n\r\n",
                &small,
                ErrorKind::HeaderSectionTooLarge,
                "header section too large at byte 39 (RFC 6585 §5)",
            ),
        ];
        for &(buf, limits, kind, text) in cases {
            let error = refusal(buf, limits);
            assert!(!kind.names_byte(), "{kind:?}");
            assert_eq!((error.kind(), error.byte()), (kind, None), "{text}");
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn only_a_kind_that_names_a_byte_takes_one() {
        let duplicate = Error::new(ErrorKind::DuplicateHost, 3);
        assert_eq!(duplicate.with_byte(b'x'), duplicate);
        let value = Error::new(ErrorKind::InvalidFieldValue, 3);
        assert_eq!(value.with_byte(0).byte(), Some(0));
        // An error at the end of its input has no byte to name.
        assert_eq!(value.with_byte_from(b"abc"), value);
        assert_eq!(value.with_byte_from(b"abc\x7f").byte(), Some(0x7f));
    }

    #[test]
    fn a_shifted_error_keeps_its_byte() {
        let error = Error::new(ErrorKind::InvalidFieldValue, 3).with_byte(0x01);
        let shifted = error.shifted(10);
        assert_eq!((shifted.offset(), shifted.byte()), (13, Some(0x01)));
    }
}
