//! QPACK's positioned errors (RFC 9204 §6).
//!
//! What fails tells which error code closes the connection: an encoded field section that
//! cannot be decoded is QPACK_DECOMPRESSION_FAILED, an encoder-stream instruction that
//! cannot be applied QPACK_ENCODER_STREAM_ERROR, a decoder-stream one
//! QPACK_DECODER_STREAM_ERROR. A field section that decodes but passes the bounds we
//! advertise is none of these: the request is refused (431) and the connection goes on.

#![forbid(unsafe_code)]

use crate::h3::H3ErrorCode;
use crate::hpack::error::HpackErrorKind;
use std::fmt;

/// Which QPACK rule an input broke, or which bound it passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QpackErrorKind {
    /// A field section that ends inside a representation (RFC 9204 §4.5).
    Truncated,
    /// An integer above 2^62 − 1 (RFC 9204 §4.1.1).
    IntegerOverflow,
    /// A Huffman-encoded string holding the EOS symbol (RFC 9204 §4.1.2, RFC 7541 §5.2).
    HuffmanEos,
    /// Huffman padding longer than 7 bits or not all ones (RFC 9204 §4.1.2, RFC 7541 §5.2).
    HuffmanPadding,
    /// An Encoded Required Insert Count that no Required Insert Count encodes (§4.5.1.1).
    InvalidRequiredInsertCount,
    /// A Base below 0: a negative Delta Base of the Required Insert Count or more (§4.5.1.2).
    NegativeBase,
    /// A static table index of 99 or more (§3.1).
    InvalidStaticIndex,
    /// A reference to a dynamic table entry that is evicted, not inserted yet, or at or
    /// past the field section's Required Insert Count (§2.2.3, §3.2.5).
    InvalidDynamicReference,
    /// A Required Insert Count above what the field section's references need (§2.2.3:
    /// it is the largest absolute index referenced, plus one).
    UnneededRequiredInsertCount,
    /// A field section would block more streams than the SETTINGS_QPACK_BLOCKED_STREAMS we
    /// advertised (§2.1.2).
    TooManyBlockedStreams,
    /// The decoded field section is larger than the bound derived from the
    /// SETTINGS_MAX_FIELD_SECTION_SIZE we advertised (RFC 9114 §4.2.2). Not a connection
    /// error.
    HeaderListTooLarge,
    /// More fields than the decoder's field-count bound (RFC 9114 §10.5). Not a connection
    /// error.
    TooManyFields,
    /// A Set Dynamic Table Capacity above the SETTINGS_QPACK_MAX_TABLE_CAPACITY we advertised
    /// (§4.3.1).
    CapacityTooLarge,
    /// An insert larger than the dynamic table's capacity (§3.2.2).
    EntryTooLarge,
    /// A Decoder-stream Insert Count Increment of 0 (§4.4.3).
    ZeroInsertCountIncrement,
    /// A decoder-stream instruction acknowledging what the encoder never sent: a Section
    /// Acknowledgment with no field section outstanding, or an Insert Count Increment past
    /// the inserts made (§4.4.1, §4.4.3).
    UnexpectedAcknowledgment,
}

impl QpackErrorKind {
    /// The kind of an HPACK primitive's failure (integers, strings, Huffman), which QPACK
    /// shares (RFC 9204 §4.1).
    pub(crate) fn from_hpack(kind: HpackErrorKind) -> Self {
        match kind {
            HpackErrorKind::IntegerOverflow => QpackErrorKind::IntegerOverflow,
            HpackErrorKind::HuffmanEos => QpackErrorKind::HuffmanEos,
            HpackErrorKind::HuffmanPadding => QpackErrorKind::HuffmanPadding,
            _ => QpackErrorKind::Truncated,
        }
    }

    /// Whether the kind closes the connection: all but the two bounds on a field section.
    pub const fn is_connection_error(self) -> bool {
        !matches!(
            self,
            QpackErrorKind::HeaderListTooLarge | QpackErrorKind::TooManyFields
        )
    }

    /// What was wrong, as a phrase.
    pub const fn description(self) -> &'static str {
        use QpackErrorKind::*;
        match self {
            Truncated => "field section ends inside a representation",
            IntegerOverflow => "integer larger than 62 bits",
            HuffmanEos => "EOS symbol in a Huffman-encoded string",
            HuffmanPadding => "Huffman padding longer than 7 bits or not all ones",
            InvalidRequiredInsertCount => "invalid Encoded Required Insert Count",
            NegativeBase => "negative Base",
            InvalidStaticIndex => "static table index past 98",
            InvalidDynamicReference => "reference to a dynamic entry not available",
            UnneededRequiredInsertCount => "Required Insert Count larger than needed",
            TooManyBlockedStreams => "more blocked streams than advertised",
            HeaderListTooLarge => "field section larger than the advertised size",
            TooManyFields => "more fields than allowed",
            CapacityTooLarge => "dynamic table capacity above the advertised maximum",
            EntryTooLarge => "inserted entry larger than the dynamic table",
            ZeroInsertCountIncrement => "Insert Count Increment of 0",
            UnexpectedAcknowledgment => "acknowledgment of nothing sent",
        }
    }

    /// The section that states the rule.
    pub const fn section(self) -> &'static str {
        use QpackErrorKind::*;
        match self {
            Truncated => "RFC 9204 §4.5",
            IntegerOverflow => "RFC 9204 §4.1.1",
            HuffmanEos | HuffmanPadding => "RFC 9204 §4.1.2",
            InvalidRequiredInsertCount => "RFC 9204 §4.5.1.1",
            NegativeBase => "RFC 9204 §4.5.1.2",
            InvalidStaticIndex => "RFC 9204 §3.1",
            InvalidDynamicReference | UnneededRequiredInsertCount => "RFC 9204 §2.2.3",
            TooManyBlockedStreams => "RFC 9204 §2.1.2",
            HeaderListTooLarge => "RFC 9114 §4.2.2",
            TooManyFields => "RFC 9114 §10.5",
            CapacityTooLarge => "RFC 9204 §4.3.1",
            EntryTooLarge => "RFC 9204 §3.2.2",
            ZeroInsertCountIncrement => "RFC 9204 §4.4.3",
            UnexpectedAcknowledgment => "RFC 9204 §4.4.1",
        }
    }
}

/// Where a QPACK error was found: which input, which decides the error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QpackInput {
    /// An encoded field section, a HEADERS frame's payload (RFC 9204 §4.5).
    FieldSection,
    /// The peer's encoder stream (RFC 9204 §4.3).
    EncoderStream,
    /// The peer's decoder stream (RFC 9204 §4.4).
    DecoderStream,
}

/// An input refused: which rule, which input, and at which byte of it.
///
/// ```
/// use nomserve_grammar::{DecodeLimits, DecodedFields, H3ErrorCode, QpackDecoder, QpackErrorKind};
///
/// let mut decoder = QpackDecoder::new(4096, 16);
/// let mut fields = DecodedFields::new();
/// // No dynamic table references; an indexed static field line of index 99.
/// let err = decoder.decode_section(0, b"\x00\x00\xff\x24", &mut fields, &DecodeLimits::default()).unwrap_err();
/// assert_eq!(err.kind(), QpackErrorKind::InvalidStaticIndex);
/// assert_eq!(err.code(), H3ErrorCode::QpackDecompressionFailed);
/// assert_eq!(err.offset(), 2);
/// assert_eq!(
///     err.to_string(),
///     "static table index past 98 at byte 2 of a field section: QPACK_DECOMPRESSION_FAILED (RFC 9204 §3.1)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QpackError {
    kind: QpackErrorKind,
    input: QpackInput,
    offset: usize,
}

impl QpackError {
    /// An error of `kind` found at byte `offset` of `input`.
    pub const fn new(kind: QpackErrorKind, input: QpackInput, offset: usize) -> Self {
        QpackError {
            kind,
            input,
            offset,
        }
    }

    /// Which rule failed.
    pub const fn kind(&self) -> QpackErrorKind {
        self.kind
    }

    /// Which input it was found in.
    pub const fn input(&self) -> QpackInput {
        self.input
    }

    /// The byte offset where it was found: from the start of the field section, or of the
    /// bytes of the stream passed in that call.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// Whether the connection must close with [`QpackError::code`]; `false` for a bound
    /// passed by a well-formed field section, refused with [`QpackError::status`].
    pub const fn is_connection_error(&self) -> bool {
        self.kind.is_connection_error()
    }

    /// The status to refuse the request with when the connection goes on: 431 for the two
    /// bounds; `None` for a connection error.
    pub const fn status(&self) -> Option<u16> {
        if self.is_connection_error() {
            None
        } else {
            Some(431)
        }
    }

    /// The error code to close the connection with (RFC 9204 §6), by the input.
    pub const fn code(&self) -> H3ErrorCode {
        match self.input {
            QpackInput::FieldSection => H3ErrorCode::QpackDecompressionFailed,
            QpackInput::EncoderStream => H3ErrorCode::QpackEncoderStreamError,
            QpackInput::DecoderStream => H3ErrorCode::QpackDecoderStreamError,
        }
    }
}

impl fmt::Display for QpackError {
    /// `<what was wrong> at byte <offset> of <input>: <CODE> (<section>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = match self.input {
            QpackInput::FieldSection => "a field section",
            QpackInput::EncoderStream => "the encoder stream",
            QpackInput::DecoderStream => "the decoder stream",
        };
        write!(
            f,
            "{} at byte {} of {input}: {} ({})",
            self.kind.description(),
            self.offset,
            self.code(),
            self.kind.section()
        )
    }
}

impl std::error::Error for QpackError {}
