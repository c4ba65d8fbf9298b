//! The multipart grammar's positioned errors, and the failure type its rules return.
//!
//! A module-own error, as HPACK has, rather than more kinds of the request's
//! [`ErrorKind`](crate::ErrorKind): a multipart body is the content of a request whose head
//! was accepted, read by a handler that is writing a file as it goes, and its refusals need
//! their own statuses (415 for a request that is not a form, 413 for a body past the parser's
//! bounds) and their own RFCs. A separate type makes the handler decide what each one means
//! for the partial file, and keeps the head's error kinds about the head.

#![forbid(unsafe_code)]

use nom::IResult;
use std::fmt;

/// A multipart body or its `Content-Type` refused: which rule failed, and at which byte.
///
/// The offset counts from the start of the `Content-Type` value for
/// [`parse_boundary`](crate::parse_boundary), from the first byte of the body for
/// [`MultipartDecoder`](crate::MultipartDecoder).
///
/// ```
/// use nomserve_grammar::{MultipartErrorKind, parse_boundary};
///
/// let err = parse_boundary(b"multipart/form-data; boundary=a!b").unwrap_err();
/// assert_eq!((err.kind(), err.offset(), err.status()), (MultipartErrorKind::InvalidBoundary, 30, 400));
/// assert_eq!(err.to_string(), "invalid boundary at byte 30 (RFC 2046 §5.1.1)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipartError {
    kind: MultipartErrorKind,
    offset: usize,
}

impl MultipartError {
    /// An error of `kind` found at byte `offset`.
    pub const fn new(kind: MultipartErrorKind, offset: usize) -> Self {
        MultipartError { kind, offset }
    }

    /// Which rule failed.
    pub const fn kind(&self) -> MultipartErrorKind {
        self.kind
    }

    /// The byte offset where the failure was found.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The status code a server should answer with.
    pub const fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The same error with its offset moved by `base`.
    pub(crate) const fn shifted(self, base: usize) -> Self {
        MultipartError {
            offset: self.offset.saturating_add(base),
            ..self
        }
    }
}

impl fmt::Display for MultipartError {
    /// `<what was wrong> at byte <offset> (<section>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at byte {} ({})",
            self.kind.description(),
            self.offset,
            self.kind.section()
        )
    }
}

impl std::error::Error for MultipartError {}

/// Which rule of `multipart/form-data` a request broke, or which bound it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MultipartErrorKind {
    /// The media type is not `multipart/form-data` (RFC 7578 §4).
    NotFormData,
    /// The `Content-Type` value breaks the media-type grammar (RFC 9110 §8.3.1).
    InvalidMediaType,
    /// No `boundary` parameter (RFC 7578 §4.1).
    MissingBoundary,
    /// A boundary that is empty, longer than 70 characters, holds a byte outside `bchars`,
    /// ends with a space, or is given twice (RFC 2046 §5.1.1).
    InvalidBoundary,
    /// A boundary delimiter line followed by something other than `--`, or than
    /// transport-padding and CRLF (RFC 2046 §5.1.1).
    InvalidDelimiter,
    /// A malformed header line in a part's head (RFC 7578 §4.8, RFC 9112 §5).
    InvalidPartHeader,
    /// Content-Disposition or Content-Type given twice in one part (RFC 7578 §4.2).
    DuplicatePartHeader,
    /// A part without a Content-Disposition field (RFC 7578 §4.2).
    MissingContentDisposition,
    /// A Content-Disposition value that breaks its grammar, or whose type is not `form-data`
    /// (RFC 6266 §4.1, RFC 7578 §4.2).
    InvalidContentDisposition,
    /// A Content-Disposition without its `name` parameter (RFC 7578 §4.2).
    MissingName,
    /// A Content-Disposition parameter given twice (RFC 6266 §4.1).
    DuplicateParameter,
    /// A malformed `filename*` ext-value: no charset or language delimiters, a byte outside
    /// `attr-char`, a `%` that starts no escape (RFC 8187 §3.2.1).
    InvalidExtValue,
    /// A `filename*` in another charset than UTF-8 (RFC 8187 §3.2.1).
    UnsupportedCharset,
    /// A name, filename or Content-Type that is not UTF-8 (RFC 7578 §5.1).
    InvalidUtf8,
    /// A Content-Transfer-Encoding other than `7bit`, `8bit` or `binary` (RFC 7578 §4.7).
    UnsupportedTransferEncoding,
    /// A part's head larger than the caller's bound (RFC 9110 §15.5.14).
    PartHeadTooLarge,
    /// More parts than the caller's bound (RFC 9110 §15.5.14).
    TooManyParts,
    /// The body ended before its close-delimiter (RFC 2046 §5.1.1).
    Truncated,
}

impl MultipartErrorKind {
    /// The status code a server should answer with: 415 for a body that is not a form, 413 for
    /// a bound passed, 400 for every malformed one.
    pub const fn status(self) -> u16 {
        use MultipartErrorKind::*;
        match self {
            NotFormData => 415,
            PartHeadTooLarge | TooManyParts => 413,
            _ => 400,
        }
    }

    /// What was wrong, as a phrase that names the rule.
    pub const fn description(self) -> &'static str {
        use MultipartErrorKind::*;
        match self {
            NotFormData => "media type is not multipart/form-data",
            InvalidMediaType => "malformed media type",
            MissingBoundary => "no boundary parameter",
            InvalidBoundary => "invalid boundary",
            InvalidDelimiter => "boundary delimiter not followed by CRLF or \"--\"",
            InvalidPartHeader => "malformed header field in a part",
            DuplicatePartHeader => "header field repeated in a part",
            MissingContentDisposition => "part without Content-Disposition",
            InvalidContentDisposition => "invalid Content-Disposition: form-data",
            MissingName => "Content-Disposition without a name parameter",
            DuplicateParameter => "Content-Disposition parameter repeated",
            InvalidExtValue => "malformed ext-value in filename*",
            UnsupportedCharset => "filename* charset is not UTF-8",
            InvalidUtf8 => "part name, filename or type is not UTF-8",
            UnsupportedTransferEncoding => "unsupported Content-Transfer-Encoding",
            PartHeadTooLarge => "part header section too large",
            TooManyParts => "too many parts",
            Truncated => "body ended before the close-delimiter",
        }
    }

    /// The section that states the rule.
    pub const fn section(self) -> &'static str {
        use MultipartErrorKind::*;
        match self {
            NotFormData => "RFC 7578 §4",
            InvalidMediaType => "RFC 9110 §8.3.1",
            MissingBoundary => "RFC 7578 §4.1",
            InvalidBoundary | InvalidDelimiter | Truncated => "RFC 2046 §5.1.1",
            InvalidPartHeader => "RFC 7578 §4.8",
            DuplicatePartHeader | MissingContentDisposition | MissingName => "RFC 7578 §4.2",
            InvalidContentDisposition | DuplicateParameter => "RFC 6266 §4.1",
            InvalidExtValue | UnsupportedCharset => "RFC 8187 §3.2.1",
            InvalidUtf8 => "RFC 7578 §5.1",
            UnsupportedTransferEncoding => "RFC 7578 §4.7",
            PartHeadTooLarge | TooManyParts => "RFC 9110 §15.5.14",
        }
    }
}

/// A rule's failure: which rule, and the input from the offending byte on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail<'b> {
    /// The rule that failed.
    pub(crate) kind: MultipartErrorKind,
    /// The input from the offending byte on; a sub-slice of the input being parsed.
    pub(crate) at: &'b [u8],
}

impl Fail<'_> {
    /// The public error, its offset counted from the start of `buf` (of which `self.at` is a
    /// sub-slice).
    pub(crate) fn into_error(self, buf: &[u8]) -> MultipartError {
        MultipartError::new(self.kind, crate::fail::offset_in(buf, self.at))
    }
}

impl<'b> nom::error::ParseError<&'b [u8]> for Fail<'b> {
    /// nom's primitives fail inside the rule the caller then names with [`named`].
    fn from_error_kind(at: &'b [u8], _: nom::error::ErrorKind) -> Self {
        Fail {
            kind: MultipartErrorKind::InvalidContentDisposition,
            at,
        }
    }

    fn append(_: &'b [u8], _: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// What every multipart rule returns.
pub(crate) type MResult<'b, O> = IResult<&'b [u8], O, Fail<'b>>;

/// Fails with `kind` at the start of `at`.
pub(crate) fn fail<O>(kind: MultipartErrorKind, at: &[u8]) -> MResult<'_, O> {
    Err(nom::Err::Error(Fail { kind, at }))
}

/// A rule of the shared grammar (`abnf`, `fields`) run inside a multipart rule: its failure
/// becomes one of `kind`, at the same byte; `Incomplete` passes through.
pub(crate) fn named<O>(
    kind: MultipartErrorKind,
    result: crate::fail::PResult<'_, O>,
) -> MResult<'_, O> {
    result.map_err(|e| e.map(|f| Fail { kind, at: f.at }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use MultipartErrorKind::*;

    #[test]
    fn every_kind_has_its_status_section_and_sentence() {
        let kinds = [
            (NotFormData, 415, "RFC 7578 §4"),
            (InvalidMediaType, 400, "RFC 9110 §8.3.1"),
            (MissingBoundary, 400, "RFC 7578 §4.1"),
            (InvalidBoundary, 400, "RFC 2046 §5.1.1"),
            (InvalidDelimiter, 400, "RFC 2046 §5.1.1"),
            (InvalidPartHeader, 400, "RFC 7578 §4.8"),
            (DuplicatePartHeader, 400, "RFC 7578 §4.2"),
            (MissingContentDisposition, 400, "RFC 7578 §4.2"),
            (InvalidContentDisposition, 400, "RFC 6266 §4.1"),
            (MissingName, 400, "RFC 7578 §4.2"),
            (DuplicateParameter, 400, "RFC 6266 §4.1"),
            (InvalidExtValue, 400, "RFC 8187 §3.2.1"),
            (UnsupportedCharset, 400, "RFC 8187 §3.2.1"),
            (InvalidUtf8, 400, "RFC 7578 §5.1"),
            (UnsupportedTransferEncoding, 400, "RFC 7578 §4.7"),
            (PartHeadTooLarge, 413, "RFC 9110 §15.5.14"),
            (TooManyParts, 413, "RFC 9110 §15.5.14"),
            (Truncated, 400, "RFC 2046 §5.1.1"),
        ];
        for (kind, status, section) in kinds {
            assert_eq!(
                (kind.status(), kind.section()),
                (status, section),
                "{kind:?}"
            );
            let error = MultipartError::new(kind, 7);
            assert_eq!(
                error.to_string(),
                format!("{} at byte 7 ({section})", kind.description())
            );
            assert_eq!(error.shifted(3).offset(), 10);
        }
    }
}
