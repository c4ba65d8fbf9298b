//! The HTTP/1.1 request grammar of nomserve, sans-I/O.
//!
//! Bytes in, typed borrowed structs or a positioned [`Error`] out. No sockets, files, logging
//! or allocation while parsing a request head. Each ABNF rule of RFC 9112, RFC 9110 and
//! RFC 3986 that the server needs is one function, named after the rule, with the ABNF and
//! its section in the doc comment; the rules shared by several grammars (OWS, CRLF, token,
//! quoted-string, decimal digits, field-line) are defined once, in `abnf.rs` and
//! `fields.rs`, on the byte classes of `class.rs`, and every rule fails with the one
//! internal failure type of `fail.rs`. HTTP/2's frame layer (RFC 9113 §4, §6) is written
//! the same way, with its own error carrying the HTTP/2 error code: see [`parse_frame`].
//!
//! **Invalid fields, one policy.** A field that frames or routes the request (Host,
//! Content-Length, Transfer-Encoding, Connection), like the request-line and the field-line
//! syntax, refuses the request when invalid: [`parse_request`] returns an [`Error`] with its
//! status, since guessing at a framing field is how two parsers of one message come to
//! disagree (RFC 9112 §11.2). A field the handler consults afterwards (Range, If-Match and
//! If-None-Match, the HTTP-dates of If-Modified-Since and If-Unmodified-Since,
//! Accept-Encoding, Accept) is ignored when invalid: its `parse_*` function returns `None`, meaning
//! "as if the field were absent", and never an error. RFC 9110 requires this of the dates
//! (§13.1.3, §13.1.4: a recipient MUST ignore an invalid one) and allows it for Range (§14.2:
//! a server MAY ignore the field); for the entity-tag lists, Accept-Encoding and Accept it is the
//! reading under which an invalid value costs a client an optimisation, never its request.
//!
//! `unsafe` is denied everywhere but in the module `text`, whose API is safe: the scan that
//! matches a string every request carries (a field name, the path and query, Host) against
//! an ASCII byte class also returns it as `&str`, without a second UTF-8 check, which the
//! parse benchmark shows pays. Its classes are checked to be ASCII at compile time, and the
//! `%XX` escapes between their runs are checked as they are taken. The same module holds
//! the SSE2 test of sixteen field-value bytes at once (safe to call: compiled only for
//! targets with SSE2), which the interleaved benchmark shows pays too.

#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

mod abnf;
mod accept;
mod accept_encoding;
mod chunked;
mod class;
mod date;
mod error;
mod etag;
mod fail;
mod fields;
mod forwarded;
mod framing;
mod h2;
mod h2_request;
mod h3;
mod hpack;
mod multipart;
mod path;
mod proxy;
mod qpack;
mod query;
mod range;
mod request;
mod target;
#[doc(hidden)]
pub mod testing;
mod text;
mod types;

pub use abnf::{is_field_value, is_token};
pub use accept::{MediaRange, parse_accept};
pub use accept_encoding::{Coding, parse_accept_encoding};
pub use chunked::{Chunk, ChunkedDecoder, ChunkedLimits};
pub use date::{format_http_date, parse_http_date};
pub use error::{Error, ErrorKind};
pub use etag::{EntityTag, EntityTagList, parse_entity_tag, parse_entity_tag_list};
pub use forwarded::{ForwardedElement, ForwardedNode, parse_forwarded};
pub use h2::{
    DataFrame, FRAME_HEADER_LEN, Frame, FrameHeader, FrameType, H2Error, H2ErrorCode, H2Rule,
    HeadersFrame, MAX_GOAWAY_DEBUG_LEN, MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE,
    ParsedFrame, Setting, SettingsFrame, StreamPriority, parse_frame, write_goaway, write_ping_ack,
    write_rst_stream, write_settings, write_settings_ack, write_window_update,
};
pub use h2_request::{
    Field, FieldPosition, H2RequestError, RequestField, parse_h2_request, parse_h3_request,
};
pub use h3::{
    H3Error, H3ErrorCode, H3Frame, H3Rule, H3Setting, H3SettingsFrame, H3StreamKind, MAX_VARINT,
    ParsedH3Frame, UniStreamType, is_reserved_h3_value, parse_h3_frame, parse_uni_stream_type,
    parse_varint, varint_len, varint_len_of, write_h3_data_header, write_h3_goaway,
    write_h3_headers_header, write_h3_settings, write_varint,
};
pub use hpack::{
    DecodeLimits, DecodedField, DecodedFields, ENCODER_TABLE_SIZE, FieldToken, HpackDecoder,
    HpackEncoder, HpackError, HpackErrorKind, INDEXED, encode_unindexed,
};
pub use multipart::{
    Boundary, MultipartDecoder, MultipartError, MultipartErrorKind, MultipartEvent,
    MultipartLimits, PartHead, parse_boundary,
};
pub use path::{DecodedPath, decode_path};
pub use proxy::{
    MAX_V1_LEN, MAX_V2_LEN, ProxyAddresses, ProxyCommand, ProxyHeader, Tlv, parse_proxy_header,
};
pub use qpack::{QpackDecoder, QpackEncoder, QpackError, QpackErrorKind, QpackInput, QpackSection};
pub use query::parse_query;
pub use range::{ByteRangeSpec, parse_range, resolve_ranges};
pub use request::parse_request;
pub use types::{
    BodyFraming, ConnectionOptions, Header, Headers, Limits, Method, Parsed, Request,
    RequestTarget, Version,
};
