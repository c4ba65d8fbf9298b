//! HPACK's positioned errors, and the failure type its rules return.
//!
//! A header block that breaks RFC 7541 is a COMPRESSION_ERROR, a connection error (RFC 9113
//! §4.3): the decoder's table can no longer be trusted to match the peer's. A block that is
//! well formed but larger than the bounds we advertise is not: the decoder still processed all
//! of it, its table is in sync, and the server refuses only the one request (431, or a stream
//! reset). [`HpackError::is_compression_error`] tells the two apart.

#![forbid(unsafe_code)]

use nom::IResult;
use std::fmt;

/// A header block refused: which rule failed, and at which byte of the block.
///
/// ```
/// use nomserve_grammar::{DecodeLimits, DecodedFields, HpackDecoder, HpackErrorKind};
///
/// let mut decoder = HpackDecoder::new(4096);
/// let mut fields = DecodedFields::new();
/// // Indexed field 0 (0x80): no such entry.
/// let err = decoder.decode(b"\x82\x80", &mut fields, &DecodeLimits::default()).unwrap_err();
/// assert_eq!(err.kind(), HpackErrorKind::InvalidIndex);
/// assert_eq!(err.offset(), 1);
/// assert!(err.is_compression_error());
/// assert_eq!(err.to_string(), "index 0 or past the end of the tables at byte 1 (RFC 7541 §2.3.3)");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HpackError {
    kind: HpackErrorKind,
    offset: usize,
}

impl HpackError {
    /// An error of `kind` found at byte `offset` of the header block.
    pub const fn new(kind: HpackErrorKind, offset: usize) -> Self {
        HpackError { kind, offset }
    }

    /// Which rule failed.
    pub const fn kind(&self) -> HpackErrorKind {
        self.kind
    }

    /// The byte offset, from the start of the header block, where the failure was found.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// Whether this is a COMPRESSION_ERROR, a connection error (RFC 9113 §4.3); `false` for a
    /// bound passed on a well-formed block, after which the connection can go on.
    pub const fn is_compression_error(&self) -> bool {
        self.kind.is_compression_error()
    }
}

impl fmt::Display for HpackError {
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

impl std::error::Error for HpackError {}

/// Which HPACK rule a header block broke, or which bound it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HpackErrorKind {
    /// A prefixed integer larger than 2^32 − 1, or encoded in more than five continuation
    /// octets (§5.1).
    IntegerOverflow,
    /// The block ends inside a representation: an integer, a string's length or its octets
    /// (§5, §6).
    Truncated,
    /// A Huffman-encoded string holding the EOS symbol (§5.2).
    HuffmanEos,
    /// A Huffman-encoded string whose padding is longer than 7 bits or not the most
    /// significant bits of EOS (§5.2).
    HuffmanPadding,
    /// An index of 0, or past the end of the static and dynamic tables (§2.3.3, §6.1).
    InvalidIndex,
    /// A dynamic table size update above the size we advertised (§6.3, §4.2).
    TableSizeTooLarge,
    /// A dynamic table size update after the first field representation of a block (§4.2).
    LateTableSizeUpdate,
    /// The decoded header list is larger than the SETTINGS_MAX_HEADER_LIST_SIZE we advertised
    /// (RFC 9113 §6.5.2, §10.5.1). Not a COMPRESSION_ERROR.
    HeaderListTooLarge,
    /// More fields than the decoder's field-count bound (RFC 9113 §10.5.1). Not a
    /// COMPRESSION_ERROR.
    TooManyFields,
}

impl HpackErrorKind {
    /// Whether this kind is a COMPRESSION_ERROR (RFC 9113 §4.3): all but the two bounds.
    pub const fn is_compression_error(self) -> bool {
        !matches!(
            self,
            HpackErrorKind::HeaderListTooLarge | HpackErrorKind::TooManyFields
        )
    }

    /// The HTTP status a server answers a refused request with, when the connection goes on:
    /// 431 for the two bounds; `None` for a COMPRESSION_ERROR, which closes the connection.
    pub const fn status(self) -> Option<u16> {
        if self.is_compression_error() {
            None
        } else {
            Some(431)
        }
    }

    /// What was wrong, as a phrase.
    pub const fn description(self) -> &'static str {
        use HpackErrorKind::*;
        match self {
            IntegerOverflow => "integer larger than 32 bits",
            Truncated => "header block ends inside a representation",
            HuffmanEos => "EOS symbol in a Huffman-encoded string",
            HuffmanPadding => "Huffman padding longer than 7 bits or not all ones",
            InvalidIndex => "index 0 or past the end of the tables",
            TableSizeTooLarge => "dynamic table size update above the advertised size",
            LateTableSizeUpdate => "dynamic table size update after a field",
            HeaderListTooLarge => "header list larger than the advertised size",
            TooManyFields => "more header fields than allowed",
        }
    }

    /// The section that states the rule.
    pub const fn section(self) -> &'static str {
        use HpackErrorKind::*;
        match self {
            IntegerOverflow => "RFC 7541 §5.1",
            Truncated => "RFC 7541 §6",
            HuffmanEos | HuffmanPadding => "RFC 7541 §5.2",
            InvalidIndex => "RFC 7541 §2.3.3",
            TableSizeTooLarge => "RFC 7541 §6.3",
            LateTableSizeUpdate => "RFC 7541 §4.2",
            HeaderListTooLarge => "RFC 9113 §6.5.2",
            TooManyFields => "RFC 9113 §10.5.1",
        }
    }
}

/// A rule's failure: which rule, and the input from the offending byte on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail<'b> {
    /// The rule that failed.
    pub(crate) kind: HpackErrorKind,
    /// The input from the offending byte on; a sub-slice of the block being decoded.
    pub(crate) at: &'b [u8],
}

impl<'b> nom::error::ParseError<&'b [u8]> for Fail<'b> {
    /// nom's primitives only fail here by running out of input, which streaming parsers
    /// report as `Incomplete`; any other failure of theirs is a truncated representation.
    fn from_error_kind(at: &'b [u8], _: nom::error::ErrorKind) -> Self {
        Fail {
            kind: HpackErrorKind::Truncated,
            at,
        }
    }

    fn append(_: &'b [u8], _: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// What every HPACK rule returns.
pub(crate) type HResult<'b, O> = IResult<&'b [u8], O, Fail<'b>>;

/// Fails with `kind` at the start of `at`.
pub(crate) fn fail<'b, O>(kind: HpackErrorKind, at: &'b [u8]) -> HResult<'b, O> {
    Err(nom::Err::Error(Fail { kind, at }))
}
