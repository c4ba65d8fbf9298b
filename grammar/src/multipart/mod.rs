//! `multipart/form-data` (RFC 7578), the body of a form that uploads files: its boundary
//! parameter, and a push decoder over the body as it arrives.
//!
//! [`parse_boundary`] reads the request's `Content-Type` (RFC 9110 §8.3.1) and returns its
//! [`Boundary`] (RFC 2046 §5.1.1). [`MultipartDecoder`] then takes the body in pieces of any
//! size, as [`ChunkedDecoder`](crate::ChunkedDecoder) does: it returns each part's parsed
//! head ([`PartHead`]: `Content-Disposition: form-data` with `name`, `filename` and
//! `filename*` (RFC 6266, RFC 8187), and `Content-Type`), the part's content as slices of the
//! caller's buffer, and the end of each part and of the body. Nothing of the content is
//! copied or held: the decoder keeps back (leaves unconsumed) only the bytes at the end of
//! the input that may begin a delimiter, so a caller writing content to a file never writes
//! a byte of one.
//!
//! Every element the decoder must see whole is bounded by [`MultipartLimits`]: a part's head
//! (its field lines) and the number of parts. Errors are [`MultipartError`]s, which carry the
//! rule, the offset from the start of the body (or of the `Content-Type` value), the status
//! to answer with and the RFC section.

#![forbid(unsafe_code)]

mod boundary;
mod decoder;
mod disposition;
mod error;
mod head;
#[cfg(test)]
mod tests;

pub use boundary::{Boundary, parse_boundary};
pub use decoder::{MultipartDecoder, MultipartEvent, MultipartLimits};
pub use error::{MultipartError, MultipartErrorKind};
pub use head::PartHead;
