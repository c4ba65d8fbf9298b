//! Serialisers for the control frames a server sends, each appending one whole frame to the
//! caller's buffer. DATA, HEADERS and CONTINUATION frames are written as a header from
//! [`FrameHeader`]'s constructors followed by their payload, which the caller has elsewhere
//! (a file, an HPACK encoder's output).

#![forbid(unsafe_code)]

use super::error::H2ErrorCode;
use super::header::{FrameHeader, FrameType, STREAM_ID_MASK};
use super::settings::{MIN_MAX_FRAME_SIZE, SETTING_LEN, Setting};

/// The most debug data [`write_goaway`] sends: what fits, after the 8 fixed bytes, in the
/// smallest frame every peer accepts (SETTINGS_MAX_FRAME_SIZE is at least 16 384, §4.2).
pub const MAX_GOAWAY_DEBUG_LEN: usize = MIN_MAX_FRAME_SIZE as usize - 8;

/// Appends a SETTINGS frame carrying `settings` in order (RFC 9113 §6.5).
///
/// Contract: the values are within the bounds [`Setting`] documents, and there are at most
/// 2 730 of them (a frame of 16 384 bytes); a peer refuses anything else.
pub fn write_settings(out: &mut Vec<u8>, settings: &[Setting]) {
    let length = settings.len().saturating_mul(SETTING_LEN);
    let length = u32::try_from(length).unwrap_or(u32::MAX);
    FrameHeader::new(FrameType::Settings, 0, 0, length).write(out);
    for setting in settings {
        out.extend_from_slice(&setting.id().to_be_bytes());
        out.extend_from_slice(&setting.value().to_be_bytes());
    }
}

/// Appends a SETTINGS frame with the ACK flag and no payload: the peer's settings are
/// applied (RFC 9113 §6.5, §6.5.3).
pub fn write_settings_ack(out: &mut Vec<u8>) {
    FrameHeader::new(FrameType::Settings, FrameHeader::ACK, 0, 0).write(out);
}

/// Appends a PING frame with the ACK flag, echoing the `opaque` bytes of the PING it answers
/// (RFC 9113 §6.7).
pub fn write_ping_ack(out: &mut Vec<u8>, opaque: [u8; 8]) {
    FrameHeader::new(FrameType::Ping, FrameHeader::ACK, 0, 8).write(out);
    out.extend_from_slice(&opaque);
}

/// Appends a GOAWAY frame (RFC 9113 §6.8): the highest stream we may have acted on, why the
/// connection ends, and `debug_data` (the [`H2Error`](crate::H2Error)'s sentence, say), cut
/// to [`MAX_GOAWAY_DEBUG_LEN`] bytes so that the frame fits any peer's frame size.
pub fn write_goaway(out: &mut Vec<u8>, last_stream_id: u32, code: H2ErrorCode, debug_data: &[u8]) {
    let debug_data = debug_data.get(..MAX_GOAWAY_DEBUG_LEN).unwrap_or(debug_data);
    let length = 8 + debug_data.len() as u32;
    FrameHeader::new(FrameType::GoAway, 0, 0, length).write(out);
    out.extend_from_slice(&(last_stream_id & STREAM_ID_MASK).to_be_bytes());
    out.extend_from_slice(&code.wire().to_be_bytes());
    out.extend_from_slice(debug_data);
}

/// Appends an RST_STREAM frame resetting `stream_id` with `code` (RFC 9113 §6.4).
pub fn write_rst_stream(out: &mut Vec<u8>, stream_id: u32, code: H2ErrorCode) {
    FrameHeader::new(FrameType::RstStream, 0, stream_id, 4).write(out);
    out.extend_from_slice(&code.wire().to_be_bytes());
}

/// Appends a WINDOW_UPDATE frame growing the window of `stream_id` (0: the connection's) by
/// `increment` (RFC 9113 §6.9).
///
/// Contract: `increment` is 1 to 2^31−1; a peer refuses 0 (§6.9), and the reserved bit is
/// dropped.
pub fn write_window_update(out: &mut Vec<u8>, stream_id: u32, increment: u32) {
    debug_assert!(
        (1..=STREAM_ID_MASK).contains(&increment),
        "increment {increment}"
    );
    FrameHeader::new(FrameType::WindowUpdate, 0, stream_id, 4).write(out);
    out.extend_from_slice(&(increment & STREAM_ID_MASK).to_be_bytes());
}
