//! The HTTP/2 frame layer (RFC 9113 §4, §6), sans-I/O, for the server's side of a
//! connection.
//!
//! [`parse_frame`] reads one frame from the start of a buffer, streaming like the HTTP/1.1
//! rules: a whole frame (borrowed from the buffer, no copy, no allocation), a partial one
//! with the number of bytes still missing, or an [`H2Error`] naming the rule broken, the
//! byte, the error code, and whether the stream or the connection is lost (§5.4). What
//! depends on one frame alone is checked here: its length against the SETTINGS_MAX_FRAME_SIZE
//! we advertise (§4.2), each type's length, flags and stream identifier (§6), padding,
//! settings values, zero window increments. What depends on the connection's history
//! (stream states, the order of CONTINUATION frames, flow-control windows) is the
//! connection's to check.
//!
//! The `write_*` functions and [`FrameHeader`]'s constructors serialise the frames a server
//! sends, into the caller's buffer.
//!
//! ```
//! use nomserve_grammar::{Frame, H2ErrorCode, ParsedFrame, parse_frame, write_rst_stream};
//!
//! let mut wire = Vec::new();
//! write_rst_stream(&mut wire, 3, H2ErrorCode::Cancel);
//! assert_eq!(parse_frame(&wire[..5], 16_384), Ok(ParsedFrame::Partial { needed: 4 }));
//! assert_eq!(parse_frame(&wire[..10], 16_384), Ok(ParsedFrame::Partial { needed: 3 }));
//! assert_eq!(
//!     parse_frame(&wire, 16_384),
//!     Ok(ParsedFrame::Complete {
//!         frame: Frame::RstStream { stream_id: 3, error_code: 0x8 },
//!         consumed: 13,
//!     })
//! );
//! ```

#![forbid(unsafe_code)]

mod error;
mod frame;
mod header;
#[cfg(test)]
mod refusals;
#[cfg(test)]
mod roundtrip;
mod settings;
#[cfg(test)]
mod tests;
mod write;

pub use error::{H2Error, H2ErrorCode, H2Rule};
pub use frame::{DataFrame, Frame, HeadersFrame, StreamPriority};
pub use header::{FRAME_HEADER_LEN, FrameHeader, FrameType};
pub use settings::{
    MAX_MAX_FRAME_SIZE, MAX_WINDOW_SIZE, MIN_MAX_FRAME_SIZE, Setting, SettingsFrame,
};
pub use write::{
    MAX_GOAWAY_DEBUG_LEN, write_goaway, write_ping_ack, write_rst_stream, write_settings,
    write_settings_ack, write_window_update,
};

/// The outcome of [`parse_frame`] that is not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParsedFrame<'a> {
    /// A whole frame, and the bytes it took: its header and payload. Bytes after them are
    /// left alone.
    Complete {
        /// The frame.
        frame: Frame<'a>,
        /// Bytes of the input used: 9 plus the frame's Length.
        consumed: usize,
    },
    /// The input is a strict prefix of a frame: `needed` more bytes complete its header, or,
    /// once the header is in, the whole frame.
    Partial {
        /// How many more bytes to read before parsing again; at least 1.
        needed: usize,
    },
}

/// Parses the frame at the start of `buf`, received by a server; `max_frame_size` is the
/// SETTINGS_MAX_FRAME_SIZE we advertise (16 384, its initial value, unless our SETTINGS
/// raise it; §4.2, §6.5.2).
///
/// Contract: `buf` starts at a frame boundary (after the connection preface, §3.4). Returns:
/// - `Complete { frame, consumed }`: `consumed` is 9 plus the frame's Length.
/// - `Partial { needed }`: read at least `needed` more bytes and call again. A frame is never
///   held back longer than 9 + `max_frame_size` bytes.
/// - `Err`: the frame breaks a rule of RFC 9113; its offset counts from the start of `buf`.
///   A connection error is returned as soon as the bytes that show it are in (a too long
///   frame, or a frame on the wrong stream, once its 9 header bytes are), so that a caller
///   never buffers a frame it will refuse. A stream error is returned only once the whole
///   frame is in: the caller resets the stream, drops [`H2Error::frame_len`] bytes and
///   parses on.
///
/// Choices where RFC 9113 leaves room, argued at each rule: a frame longer than
/// `max_frame_size` is a connection error whatever its type (§4.2 lets a DATA frame's cost
/// only its stream; the connection error spares buffering up to 16 MiB to skip it, as h2o
/// and nginx do); PUSH_PROMISE is always refused, since only a server may send it (§8.4);
/// HEADERS on an even stream is refused, since a client opens odd ones only (§5.1.1).
pub fn parse_frame(buf: &[u8], max_frame_size: u32) -> Result<ParsedFrame<'_>, H2Error> {
    let header = match header::frame_header(buf) {
        Ok((_, header)) => header,
        Err(_) => {
            return Ok(ParsedFrame::Partial {
                needed: FRAME_HEADER_LEN - buf.len().min(FRAME_HEADER_LEN),
            });
        }
    };
    let frame_len = header.frame_len();
    let error =
        |fail: error::Fail| H2Error::new(fail.rule, header.stream_id, fail.offset, frame_len);
    if header.length > max_frame_size {
        return Err(H2Error::new(
            H2Rule::FrameTooLarge,
            header.stream_id,
            0,
            frame_len,
        ));
    }
    let whole = buf.get(FRAME_HEADER_LEN..frame_len);
    if let Err(fail) = frame::header_rules(&header) {
        let error = error(fail);
        if error.is_connection_error() || whole.is_some() {
            return Err(error);
        }
    }
    let Some(payload) = whole else {
        return Ok(ParsedFrame::Partial {
            needed: frame_len - buf.len(),
        });
    };
    match frame::frame(&header, payload) {
        Ok(frame) => Ok(ParsedFrame::Complete {
            frame,
            consumed: frame_len,
        }),
        Err(fail) => Err(error(fail)),
    }
}
