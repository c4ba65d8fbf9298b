//! The grammar's one internal failure type, and the glue between nom's primitives and it.
//!
//! Every rule of the crate returns a [`PResult`]: nom's `IResult` whose error is a [`Fail`],
//! the [`ErrorKind`] of the rule that failed and the input at the failing byte.
//! `Err::Incomplete` means "the input ended where the rule still needed bytes": the caller
//! answers [`Parsed::Partial`](crate::Parsed) or, past a limit, a 414/431.
//!
//! nom's primitives and combinators fail with a `Fail` too (it implements nom's
//! `ParseError`): of kind `InvalidFieldValue` at the byte where they stopped, since outside
//! the head's own rules, which name every failure with [`classify`], nom's combinators parse
//! field values. The rules that frame a request name their failures, and those become
//! [`Error`]s; the value parsers behind the public `parse_*` functions drop theirs (see the
//! crate docs for which fields are which).

#![forbid(unsafe_code)]

use crate::error::{Error, ErrorKind};
use nom::{IResult, Needed};

/// A rule's failure: which rule, and the input from the offending byte on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail<'b> {
    /// The rule that failed.
    pub(crate) kind: ErrorKind,
    /// The input from the offending byte on; a sub-slice of the buffer being parsed.
    pub(crate) at: &'b [u8],
}

impl Fail<'_> {
    /// The public error, its offset counted from the start of `buf`, naming the byte there
    /// when its kind names one ([`ErrorKind::names_byte`]).
    ///
    /// Contract: `self.at` is a sub-slice of `buf` (every rule returns sub-slices of its
    /// input); the offset is then the distance between their starts. `self.at` may be empty
    /// and still point at a byte of `buf` (an empty field value, at the CR after it): the byte
    /// named is `buf`'s, at the offset.
    pub(crate) fn into_error(self, buf: &[u8]) -> Error {
        Error::new(self.kind, offset_in(buf, self.at)).with_byte_from(buf)
    }
}

impl<'b> nom::error::ParseError<&'b [u8]> for Fail<'b> {
    fn from_error_kind(at: &'b [u8], _: nom::error::ErrorKind) -> Self {
        Fail {
            kind: ErrorKind::InvalidFieldValue,
            at,
        }
    }

    fn append(_: &'b [u8], _: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// What every rule returns.
pub(crate) type PResult<'b, O> = IResult<&'b [u8], O, Fail<'b>>;

/// Fails with `kind` at the start of `at`.
pub(crate) fn fail<'b, O>(kind: ErrorKind, at: &'b [u8]) -> PResult<'b, O> {
    Err(nom::Err::Error(Fail { kind, at }))
}

/// Asks for more input.
pub(crate) fn incomplete<'b, O>() -> PResult<'b, O> {
    Err(nom::Err::Incomplete(Needed::Unknown))
}

/// Names the failure of a rule or nom primitive that ran on `at`: an error becomes a
/// [`Fail`] of `kind` at the start of `at`; `Incomplete` passes through.
pub(crate) fn classify<'b, O>(
    kind: ErrorKind,
    at: &'b [u8],
    result: PResult<'b, O>,
) -> PResult<'b, O> {
    result.map_err(|e| e.map(|_| Fail { kind, at }))
}

/// `result` with a failure's kind replaced by `kind` and its position kept: for a rule used
/// inside another whose failures all have one name (a field line in a trailer section is
/// `InvalidTrailer` wherever it breaks); `Incomplete` passes through.
pub(crate) fn renamed<O>(kind: ErrorKind, result: PResult<'_, O>) -> PResult<'_, O> {
    result.map_err(|e| e.map(|f| Fail { kind, at: f.at }))
}

/// The bytes of `input` that a rule consumed, given what it left (`rest`, a suffix of
/// `input`).
pub(crate) fn consumed<'b>(input: &'b [u8], rest: &[u8]) -> &'b [u8] {
    let used = input.len().saturating_sub(rest.len());
    input.get(..used).unwrap_or(input)
}

/// Where `part` starts inside `buf`, for a `part` that is a sub-slice of `buf`.
pub(crate) fn offset_in(buf: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).saturating_sub(buf.as_ptr() as usize)
}

/// Test support for the rules' unit tests: the kind and offset (in `input`) of a rule's
/// failure, `None` for `Incomplete`; panics if the rule succeeded.
#[cfg(test)]
pub(crate) fn failure<O: std::fmt::Debug>(
    input: &[u8],
    result: PResult<'_, O>,
) -> Option<(ErrorKind, usize)> {
    match result {
        Err(nom::Err::Error(Fail { kind, at })) => Some((kind, offset_in(input, at))),
        Err(nom::Err::Incomplete(_)) => None,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nom::Parser;
    use nom::bytes::streaming::tag;

    #[test]
    fn classify_names_errors_and_keeps_incomplete() {
        let input = &b"HTTX/1.1"[..];
        let named = classify(
            ErrorKind::InvalidVersion,
            input,
            tag(&b"HTTP/"[..]).parse(input),
        );
        assert_eq!(
            named,
            Err(nom::Err::Error(Fail {
                kind: ErrorKind::InvalidVersion,
                at: input
            }))
        );
        let short = &b"HTT"[..];
        let partial = classify(
            ErrorKind::InvalidVersion,
            short,
            tag(&b"HTTP/"[..]).parse(short),
        );
        assert!(matches!(partial, Err(nom::Err::Incomplete(_))));
    }

    #[test]
    fn offsets_and_consumed_slices() {
        let buf = &b"GET / HTTP/1.1"[..];
        let at = &buf[4..];
        assert_eq!(
            Fail {
                kind: ErrorKind::InvalidTargetByte,
                at
            }
            .into_error(buf)
            .offset(),
            4
        );
        assert_eq!(consumed(buf, &buf[3..]), b"GET");
        assert_eq!(consumed(buf, b""), buf);
    }
}
