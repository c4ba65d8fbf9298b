//! The HTTP/3 frame layer (RFC 9114 §6, §7), sans-I/O, for the server's side of a
//! connection, with the variable-length integers of QUIC (RFC 9000 §16) it is built on.
//!
//! [`parse_h3_frame`] reads one frame from the start of a stream's buffered bytes,
//! streaming like the HTTP/1.1 and HTTP/2 rules: a frame, a partial one with the number of
//! bytes still missing, or an [`H3Error`] naming the rule broken, the byte, the error code,
//! and whether the request stream or the connection is lost. What depends on one frame and
//! the kind of stream it is on is checked here: the frame types each stream may carry, each
//! type's payload, settings, and the bounds on what is buffered. What depends on the
//! stream's or the connection's history (SETTINGS first and once on the control stream,
//! HEADERS before DATA, the stream ending mid-frame) is the connection's to check.
//!
//! Unlike HTTP/2, a DATA frame is not bounded by a frame size: it is returned as soon as its
//! type and length are in, and its content is the next `length` bytes of the stream, which
//! the caller passes on as they come. Unknown and reserved frame types are returned the same
//! way, for the caller to skip.
//!
//! [`parse_uni_stream_type`] reads the type that opens a unidirectional stream (§6.2); the
//! `write_h3_*` functions serialise the frames a server sends.
//!
//! ```
//! use nomserve_grammar::{H3Frame, H3StreamKind, ParsedH3Frame, parse_h3_frame, write_h3_goaway};
//!
//! let mut wire = Vec::new();
//! write_h3_goaway(&mut wire, 400);
//! assert_eq!(wire, [0x07, 0x02, 0x41, 0x90]);
//! let control = H3StreamKind::Control;
//! assert_eq!(parse_h3_frame(&wire[..1], control, 4096), Ok(ParsedH3Frame::Partial { needed: 1 }));
//! assert_eq!(parse_h3_frame(&wire[..3], control, 4096), Ok(ParsedH3Frame::Partial { needed: 1 }));
//! assert_eq!(
//!     parse_h3_frame(&wire, control, 4096),
//!     Ok(ParsedH3Frame::Complete { frame: H3Frame::GoAway { id: 400 }, consumed: 4 })
//! );
//! ```

#![forbid(unsafe_code)]

mod error;
mod frame;
mod settings;
mod stream;
#[cfg(test)]
mod tests;
mod varint;
mod write;

pub use error::{H3Error, H3ErrorCode, H3Rule};
pub use frame::{H3Frame, H3StreamKind};
pub use settings::{H3Setting, H3SettingsFrame};
pub use stream::{UniStreamType, is_reserved_h3_value, parse_uni_stream_type};
pub(crate) use varint::varint;
pub use varint::{MAX_VARINT, parse_varint, varint_len, varint_len_of, write_varint};
pub use write::{
    write_h3_data_header, write_h3_goaway, write_h3_headers_header, write_h3_settings,
};

use frame::{Layout, frame_header, type_rules};
use nom::Needed;

/// The outcome of [`parse_h3_frame`] that is not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParsedH3Frame<'a> {
    /// A frame, and the bytes it took: its type, its length, and its payload except for
    /// [`H3Frame::Data`] and [`H3Frame::Unknown`], whose payload follows. Bytes after them
    /// are left alone.
    Complete {
        /// The frame.
        frame: H3Frame<'a>,
        /// Bytes of the input used.
        consumed: usize,
    },
    /// The input is a strict prefix of a frame: read at least `needed` more bytes and call
    /// again.
    Partial {
        /// How many more bytes to read before parsing again; at least 1.
        needed: usize,
    },
}

/// Parses the frame at the start of `buf`, received by a server on a stream of `kind`;
/// `max_payload` is the longest HEADERS or SETTINGS payload the caller buffers (for HEADERS,
/// the bound it derives from the SETTINGS_MAX_FIELD_SECTION_SIZE it advertises, §4.2.2).
///
/// Contract: `buf` starts at a frame boundary (after the stream type, on the control stream).
/// Returns:
/// - `Complete { frame, consumed }`. DATA and unknown types: `consumed` counts their type and
///   length only, and the next `length` bytes of the stream are their payload (content to
///   pass on, or to skip). Other frames: `consumed` counts their payload too.
/// - `Partial { needed }`: read at least `needed` more bytes and call again. A frame is never
///   held back longer than its type, its length (8 bytes each at most) and `max_payload`.
/// - `Err`: the frame breaks a rule of RFC 9114; its offset counts from the start of `buf`.
///   A frame type not allowed on `kind` is refused as soon as the type is in, a length past
///   its bound as soon as the length is in, so a caller never buffers a frame it will refuse.
///
/// The frame rules, each an [`H3Rule`] (RFC 9114 §7.2, Appendix A.2): DATA and HEADERS only
/// on a request stream, CANCEL_PUSH, SETTINGS, GOAWAY and MAX_PUSH_ID only on the control
/// stream, PUSH_PROMISE never from a client, HTTP/2's PRIORITY, PING, WINDOW_UPDATE and
/// CONTINUATION types never (all H3_FRAME_UNEXPECTED); the three one-integer frames exactly
/// one integer long (H3_FRAME_ERROR); SETTINGS as its section says (see [`H3Rule`]).
///
/// **Decision, argued**: a HEADERS frame longer than `max_payload` costs the request stream
/// (H3_EXCESSIVE_LOAD), not the connection: QPACK field sections change no table, so the
/// connection's state survives it, and a client with one oversized cookie keeps its other
/// requests. A SETTINGS frame longer than `max_payload` costs the connection: there is one
/// per connection, and no client needs kilobytes of it.
pub fn parse_h3_frame(
    buf: &[u8],
    kind: H3StreamKind,
    max_payload: u64,
) -> Result<ParsedH3Frame<'_>, H3Error> {
    let partial = |needed: Needed| {
        let needed = match needed {
            Needed::Size(n) => n.get(),
            Needed::Unknown => 1,
        };
        Ok(ParsedH3Frame::Partial { needed })
    };
    let frame_type = match varint(buf) {
        Ok((_, frame_type)) => frame_type,
        Err(nom::Err::Incomplete(needed)) => return partial(needed),
        Err(_) => return partial(Needed::Unknown),
    };
    let layout = type_rules(frame_type, kind, max_payload).map_err(|rule| H3Error::new(rule, 0))?;
    let header = match frame_header(buf) {
        Ok((_, header)) => header,
        Err(nom::Err::Incomplete(needed)) => return partial(needed),
        Err(_) => return partial(Needed::Unknown),
    };
    let (frame_type, length) = (header.frame_type, header.length);
    let bound = match layout {
        Layout::Streamed => {
            let frame = match frame_type {
                frame::DATA => H3Frame::Data { length },
                _ => H3Frame::Unknown { frame_type, length },
            };
            return Ok(ParsedH3Frame::Complete {
                frame,
                consumed: header.len,
            });
        }
        Layout::Whole(bound) => bound,
    };
    let length_at = varint_len_of(buf.first().copied().unwrap_or_default());
    if length > bound {
        return Err(H3Error::new(frame::too_long_rule(frame_type), length_at));
    }
    // `length` is at most `max_payload` or 8, both buffered by the caller: it fits a usize.
    let end = header
        .len
        .saturating_add(usize::try_from(length).unwrap_or(usize::MAX));
    let Some(payload) = buf.get(header.len..end) else {
        return Ok(ParsedH3Frame::Partial {
            needed: end - buf.len(),
        });
    };
    match frame::whole_frame(frame_type, payload, header.len, length_at) {
        Ok(frame) => Ok(ParsedH3Frame::Complete {
            frame,
            consumed: end,
        }),
        Err((rule, offset)) => Err(H3Error::new(rule, offset)),
    }
}
