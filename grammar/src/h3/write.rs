//! Serialisers for the frames a server sends, each appending to the caller's buffer. DATA
//! and HEADERS are written as their type and length, followed by their payload, which the
//! caller has elsewhere (a file, the QPACK encoder's output).

#![forbid(unsafe_code)]

use super::frame::{DATA, GOAWAY, HEADERS, SETTINGS};
use super::settings::H3Setting;
use super::varint::{varint_len, write_varint};

/// Appends a SETTINGS frame carrying `settings` in order (RFC 9114 §7.2.4), the first frame
/// of the server's control stream (§6.2.1).
///
/// Contract: each identifier at most once (§7.2.4), values below 2^62.
pub fn write_h3_settings(out: &mut Vec<u8>, settings: &[H3Setting]) {
    let length: usize = settings
        .iter()
        .map(|s| varint_len(s.id()) + varint_len(s.value()))
        .sum();
    write_varint(out, SETTINGS);
    write_varint(out, length as u64);
    for setting in settings {
        setting.write(out);
    }
}

/// Appends the type and length of a HEADERS frame whose encoded field section, `length`
/// bytes, follows (RFC 9114 §7.2.2).
pub fn write_h3_headers_header(out: &mut Vec<u8>, length: u64) {
    write_varint(out, HEADERS);
    write_varint(out, length);
}

/// Appends the type and length of a DATA frame whose `length` bytes of content follow
/// (RFC 9114 §7.2.1).
pub fn write_h3_data_header(out: &mut Vec<u8>, length: u64) {
    write_varint(out, DATA);
    write_varint(out, length);
}

/// Appends a GOAWAY frame (RFC 9114 §7.2.6): from a server, `stream_id` is the first
/// client-initiated bidirectional stream it will not process, so a graceful shutdown sends
/// the highest one it took plus 4.
pub fn write_h3_goaway(out: &mut Vec<u8>, stream_id: u64) {
    write_varint(out, GOAWAY);
    write_varint(out, varint_len(stream_id) as u64);
    write_varint(out, stream_id);
}
