//! The frames a server receives (RFC 9114 §7.2), one rule per frame type, and the frame
//! layout they share (§7.1).
//!
//! Which frames a stream may carry is decided by the frame's type alone, so it is checked as
//! soon as the type is read, before its payload is buffered (RFC 9114 Appendix A.2's table,
//! §7.2). What depends on the connection's history (SETTINGS first on the control stream,
//! HEADERS before DATA, a MAX_PUSH_ID that never decreases) is the connection's to check.

#![forbid(unsafe_code)]

use super::error::H3Rule;
use super::settings::{H3SettingsFrame, settings_payload};
use super::varint::varint;

/// The kind of stream a frame was read from: the two a server reads frames on (RFC 9114
/// §6.1, §6.2.1). Push streams are a server's only; QPACK's streams carry instructions, not
/// frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum H3StreamKind {
    /// The client's control stream (RFC 9114 §6.2.1).
    Control,
    /// A client-initiated bidirectional stream: one request (RFC 9114 §6.1).
    Request,
}

/// A frame received from a client.
///
/// DATA and frames of unknown type are returned as soon as their type and length are in,
/// without their payload, which may be long: the caller reads or skips that many bytes of
/// the stream next. The other frames are returned whole, their payload checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H3Frame<'a> {
    /// DATA (RFC 9114 §7.2.1): `length` bytes of the request's content follow.
    Data {
        /// The payload's length.
        length: u64,
    },
    /// HEADERS (RFC 9114 §7.2.2): an encoded field section, for the QPACK decoder.
    Headers(&'a [u8]),
    /// CANCEL_PUSH (RFC 9114 §7.2.3): the client does not want the push. A push ID no
    /// PUSH_PROMISE named is the connection's to refuse with H3_ID_ERROR (§7.2.3): every
    /// push ID, for a server that never pushes.
    CancelPush {
        /// The push cancelled.
        push_id: u64,
    },
    /// SETTINGS (RFC 9114 §7.2.4).
    Settings(H3SettingsFrame<'a>),
    /// GOAWAY (RFC 9114 §7.2.6): from a client, the smallest push ID it will not accept.
    /// One larger than in an earlier GOAWAY is the connection's to refuse with H3_ID_ERROR
    /// (§5.2).
    GoAway {
        /// A push ID, sent by a client.
        id: u64,
    },
    /// MAX_PUSH_ID (RFC 9114 §7.2.7): the most pushes the client accepts. One smaller than
    /// the last is the connection's to refuse with H3_ID_ERROR (§7.2.7).
    MaxPushId {
        /// The largest push ID the server may use.
        push_id: u64,
    },
    /// A frame of a type this crate does not know, reserved ones (`0x1f * N + 0x21`, §7.2.8)
    /// included: its `length` payload bytes follow, to be skipped (RFC 9114 §9: "MUST be
    /// ignored").
    Unknown {
        /// The frame type.
        frame_type: u64,
        /// The payload's length.
        length: u64,
    },
}

/// A frame's type and length, and the bytes they took.
pub(super) struct FrameHeader {
    pub(super) frame_type: u64,
    pub(super) length: u64,
    pub(super) len: usize,
}

/// ```text
/// HTTP/3 Frame Format {
///   Type (i),
///   Length (i),
///   Frame Payload (..),
/// }
/// ```
/// RFC 9114 §7.1: the type and length; `Incomplete` with the count of missing bytes while
/// they are partial.
pub(super) fn frame_header(input: &[u8]) -> nom::IResult<&[u8], FrameHeader, ()> {
    let (rest, frame_type) = varint(input)?;
    let (rest, length) = varint(rest)?;
    let len = input.len() - rest.len();
    Ok((
        rest,
        FrameHeader {
            frame_type,
            length,
            len,
        },
    ))
}

/// How the frame of a type is read.
pub(super) enum Layout {
    /// Returned with its header only: DATA and unknown types.
    Streamed,
    /// Returned whole once its payload is in, at most this many bytes long.
    Whole(u64),
}

/// The frame types of RFC 9114 §7.2 and §11.2.1.
pub(super) const DATA: u64 = 0x00;
pub(super) const HEADERS: u64 = 0x01;
pub(super) const CANCEL_PUSH: u64 = 0x03;
pub(super) const SETTINGS: u64 = 0x04;
pub(super) const PUSH_PROMISE: u64 = 0x05;
pub(super) const GOAWAY: u64 = 0x07;
pub(super) const MAX_PUSH_ID: u64 = 0x0d;

/// The longest payload of a frame that holds one variable-length integer.
const ONE_VARINT: u64 = 8;

/// What the type of a frame on a stream of `kind` decides (RFC 9114 §7.2, Appendix A.2):
/// whether it is allowed there, and how it is read. `max_payload` bounds the payloads read
/// whole. A frame of a type not allowed on `kind` fails with its rule, at the type.
pub(super) fn type_rules(
    frame_type: u64,
    kind: H3StreamKind,
    max_payload: u64,
) -> Result<Layout, H3Rule> {
    use H3StreamKind::*;
    match (frame_type, kind) {
        (DATA | HEADERS, Control) => Err(H3Rule::RequestFrameOnControlStream),
        (DATA, Request) => Ok(Layout::Streamed),
        (HEADERS, Request) => Ok(Layout::Whole(max_payload)),
        (CANCEL_PUSH | SETTINGS | GOAWAY | MAX_PUSH_ID, Request) => {
            Err(H3Rule::ControlFrameOnRequestStream)
        }
        (SETTINGS, Control) => Ok(Layout::Whole(max_payload)),
        (CANCEL_PUSH | GOAWAY | MAX_PUSH_ID, Control) => Ok(Layout::Whole(ONE_VARINT)),
        (PUSH_PROMISE, _) => Err(H3Rule::PushPromiseFromClient),
        // PRIORITY, PING, WINDOW_UPDATE and CONTINUATION of HTTP/2: "Receipt of these frame
        // types MUST be treated as a connection error of type H3_FRAME_UNEXPECTED" (§7.2.8).
        (0x02 | 0x06 | 0x08 | 0x09, _) => Err(H3Rule::Http2FrameType),
        _ => Ok(Layout::Streamed),
    }
}

/// The rule a frame read whole breaks when its Length passes its layout's bound.
pub(super) fn too_long_rule(frame_type: u64) -> H3Rule {
    match frame_type {
        HEADERS => H3Rule::HeadersTooLarge,
        SETTINGS => H3Rule::SettingsTooLarge,
        _ => H3Rule::FramePayloadLength,
    }
}

/// The frame of `frame_type` read whole from `payload`, which starts at byte `at` of the
/// parsed input, its Length field at byte `length_at`; fails with the rule broken and its
/// offset.
pub(super) fn whole_frame(
    frame_type: u64,
    payload: &[u8],
    at: usize,
    length_at: usize,
) -> Result<H3Frame<'_>, (H3Rule, usize)> {
    match frame_type {
        HEADERS => Ok(H3Frame::Headers(payload)),
        SETTINGS => settings_payload(payload, at).map(H3Frame::Settings),
        CANCEL_PUSH => {
            one_varint(payload, length_at).map(|push_id| H3Frame::CancelPush { push_id })
        }
        GOAWAY => one_varint(payload, length_at).map(|id| H3Frame::GoAway { id }),
        _ => one_varint(payload, length_at).map(|push_id| H3Frame::MaxPushId { push_id }),
    }
}

/// ```text
/// CANCEL_PUSH Frame { Type (i) = 0x03, Length (i), Push ID (i) }
/// GOAWAY Frame      { Type (i) = 0x07, Length (i), Stream ID/Push ID (i) }
/// MAX_PUSH_ID Frame { Type (i) = 0x0d, Length (i), Push ID (i) }
/// ```
/// RFC 9114 §7.2.3, §7.2.6, §7.2.7: a payload of exactly one integer. Shorter or longer
/// fails with `FramePayloadLength` (H3_FRAME_ERROR, §7.1: "additional bytes after the
/// identified fields or a frame payload that terminates before the end of the identified
/// fields"), at the frame's Length field, `length_at`: the length is what is wrong.
fn one_varint(payload: &[u8], length_at: usize) -> Result<u64, (H3Rule, usize)> {
    match varint(payload) {
        Ok(([], value)) => Ok(value),
        _ => Err((H3Rule::FramePayloadLength, length_at)),
    }
}
