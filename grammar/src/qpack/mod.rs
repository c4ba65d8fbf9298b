//! QPACK, the field compression of HTTP/3 (RFC 9204), sans-I/O.
//!
//! One rule per representation: the field section prefix and the five field line
//! representations of §4.5 in `field_line.rs`, the encoder- and decoder-stream instructions
//! of §4.3 and §4.4 in `instructions.rs`, over the prefixed integers, string literals and
//! Huffman code QPACK shares with HPACK (§4.1, taken from `hpack/`), the static table of
//! Appendix A, and HPACK's dynamic table, which §3.2 describes the same way. The two ends:
//!
//! - [`QpackDecoder`] applies the peer's encoder stream, decodes the field sections of its
//!   requests into [`DecodedFields`](crate::DecodedFields), bounded by the capacity, blocked
//!   streams and field-section size we advertise, reports a section that must wait for
//!   inserts as blocked, and writes what it owes to its decoder stream.
//! - [`QpackEncoder`] writes the field sections of our responses from the static table and
//!   literals.
//!
//! Errors are [`QpackError`]s naming the rule, its section, the input and the byte offset,
//! with the HTTP/3 error code the input implies.

#![forbid(unsafe_code)]

mod decoder;
mod encoder;
mod error;
mod field_line;
mod instructions;
mod rules;
mod static_table;
#[cfg(test)]
mod tests;

pub use decoder::{QpackDecoder, QpackSection};
pub use encoder::QpackEncoder;
pub use error::{QpackError, QpackErrorKind, QpackInput};
