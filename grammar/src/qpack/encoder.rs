//! The QPACK encoder of our responses (RFC 9204 §4.5): the static table and literals, with no
//! dynamic table.
//!
//! **Decision, argued**: our encoder never inserts into the peer's dynamic table, as if the
//! peer had advertised a capacity of 0, which every peer must accept (§3.2.3: the table
//! starts at 0, and an encoder need not use it). The fields a static server sends most
//! (`:status 200`, `content-type`, `accept-ranges bytes`, `vary accept-encoding`, the
//! `cache-control` values) are static entries already; what is left (`date`, `etag`,
//! `last-modified`, `content-length`) changes from response to response, where a dynamic
//! table gains little. Without it, no response can block on a lost encoder-stream packet
//! (§2.1.2, head-of-line blocking being what HTTP/3 is for), no state is kept per
//! connection for the acknowledgments, and a response's field section never depends on the
//! order the client reads its streams in. HPACK's encoder indexes because HTTP/2 has none
//! of these costs.

#![forbid(unsafe_code)]

use super::error::{QpackError, QpackErrorKind, QpackInput};
use super::instructions::{DecoderInstruction, decoder_instruction};
use super::static_table::STATIC;
use crate::fail::offset_in;
use crate::hpack::integer::encode_integer;
use crate::hpack::string::{encode_prefixed_string, encode_string};

/// A QPACK encoder for one connection's responses: static table and literals only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QpackEncoder;

impl QpackEncoder {
    /// An encoder.
    pub fn new() -> Self {
        QpackEncoder
    }

    /// Appends the encoded field section of `fields` (names lowercase, as HTTP/3 requires,
    /// RFC 9114 §4.2) to `out`: a prefix of Required Insert Count 0 and Base 0, then per
    /// field an indexed line when the static table holds the field (§4.5.2), a line with a
    /// static name reference when it holds the name (§4.5.4), else a literal name (§4.5.6);
    /// strings Huffman-encoded when that is shorter.
    ///
    /// ```
    /// use nomserve_grammar::{DecodeLimits, DecodedFields, QpackDecoder, QpackEncoder};
    ///
    /// let mut out = Vec::new();
    /// QpackEncoder::new().encode([(&b":status"[..], &b"200"[..]), (b"server", b"nomserve")], &mut out);
    /// assert_eq!(&out[..3], [0x00, 0x00, 0xd9]); // prefix, static index 25
    /// let mut fields = DecodedFields::new();
    /// QpackDecoder::new(0, 0).decode_section(0, &out, &mut fields, &DecodeLimits::default()).unwrap();
    /// assert_eq!(fields.get(1).unwrap().value, b"nomserve");
    /// ```
    pub fn encode<'f>(
        &mut self,
        fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
        out: &mut Vec<u8>,
    ) {
        self.begin(out);
        for (name, value) in fields {
            self.field(name, value, out);
        }
    }

    /// Starts a field section in `out`: its prefix, Required Insert Count 0 and Base 0
    /// (§4.5.1). The section's fields follow, each appended with [`QpackEncoder::field`].
    pub fn begin(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0x00, 0x00]);
    }

    /// Appends one field line to the section begun in `out` with [`QpackEncoder::begin`]:
    /// indexed when the static table holds the field (§4.5.2), with a static name reference
    /// when it holds the name (§4.5.4), else with a literal name (§4.5.6); `name` lowercase.
    pub fn field(&mut self, name: &[u8], value: &[u8], out: &mut Vec<u8>) {
        match find_static(name, value) {
            Some((index, true)) => encode_integer(index as u64, 6, 0xc0, out),
            Some((index, false)) => {
                encode_integer(index as u64, 4, 0x50, out);
                encode_string(value, out);
            }
            None => {
                encode_prefixed_string(name, 3, 0x20, out);
                encode_string(value, out);
            }
        }
    }

    /// Reads the whole instructions at the start of `bytes`, from the peer's decoder stream
    /// (RFC 9204 §4.4), and returns how many bytes they took; the rest is the start of an
    /// instruction, to be passed again with what follows.
    ///
    /// Since this encoder references no dynamic entry and inserts none, a Stream
    /// Cancellation is all a decoder may send (§4.4.2); a Section Acknowledgment or an
    /// Insert Count Increment acknowledges what was never sent (`UnexpectedAcknowledgment`,
    /// §4.4.1, §4.4.3), and an increment of 0 is `ZeroInsertCountIncrement`: each a
    /// QPACK_DECODER_STREAM_ERROR.
    pub fn feed_decoder_stream(&mut self, bytes: &[u8]) -> Result<usize, QpackError> {
        let error = |kind, at: &[u8]| {
            QpackError::new(kind, QpackInput::DecoderStream, offset_in(bytes, at))
        };
        let mut rest = bytes;
        while !rest.is_empty() {
            match decoder_instruction(rest) {
                Ok((after, DecoderInstruction::StreamCancellation(_))) => rest = after,
                Ok(_) => return Err(error(QpackErrorKind::UnexpectedAcknowledgment, rest)),
                Err(nom::Err::Incomplete(_)) => break,
                Err(nom::Err::Error(f) | nom::Err::Failure(f)) => return Err(error(f.kind, f.at)),
            }
        }
        Ok(bytes.len() - rest.len())
    }
}

/// The static index of `name` with `value` (`true`), else of the first entry with `name`
/// (`false`). A linear scan of 99 entries, most of whose names differ in length or first byte.
fn find_static(name: &[u8], value: &[u8]) -> Option<(usize, bool)> {
    let mut name_only = None;
    for (index, &(entry_name, entry_value)) in STATIC.iter().enumerate() {
        if entry_name == name {
            if entry_value == value {
                return Some((index, true));
            }
            name_only = name_only.or(Some((index, false)));
        }
    }
    name_only
}
