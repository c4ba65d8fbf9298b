//! HPACK, the header compression of HTTP/2 (RFC 7541), sans-I/O.
//!
//! One rule per representation of §5 and §6, each a function on a byte slice in the style of
//! the HTTP/1.1 grammar: prefixed integers (§5.1) in `integer.rs`, string literals (§5.2) in
//! `string.rs` with the Huffman code of Appendix B in `huffman/`, the static table of
//! Appendix A and the dynamic table of §4, and the two ends:
//!
//! - [`HpackDecoder`] reads the header blocks of a connection's requests into
//!   [`DecodedFields`], bounded by the table size and header-list size we advertise and a
//!   field count ([`DecodeLimits`]); a block that breaks RFC 7541 is an [`HpackError`] that
//!   names the rule, its section and the byte offset.
//! - [`HpackEncoder`] writes the header blocks of our responses, indexing the fields that
//!   repeat from response to response.
//!
//! A decoder sees whole header blocks (a HEADERS frame's fragment with its CONTINUATIONs,
//! which the frame layer bounds), so a block that ends inside a representation is an error,
//! not a wait for more bytes; the rules themselves report `Incomplete` on partial input.

#![forbid(unsafe_code)]

mod decoder;
pub(crate) mod dynamic;
mod encoder;
pub(crate) mod error;
pub(crate) mod huffman;
pub(crate) mod integer;
mod static_table;
pub(crate) mod string;
#[cfg(test)]
mod tests;

pub use decoder::{DecodeLimits, DecodedField, DecodedFields, HpackDecoder};
pub use encoder::{ENCODER_TABLE_SIZE, FieldToken, HpackEncoder, INDEXED, encode_unindexed};
pub use error::{HpackError, HpackErrorKind};
