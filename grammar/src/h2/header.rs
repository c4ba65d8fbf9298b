//! The 9-byte frame header every HTTP/2 frame starts with (RFC 9113 §4.1), read and written.

#![forbid(unsafe_code)]

use nom::Parser;
use nom::number::streaming::{be_u8, be_u24, be_u32};

/// The length of a frame header (RFC 9113 §4.1).
pub const FRAME_HEADER_LEN: usize = 9;

/// The 31 bits of a stream identifier; the 32nd, reserved bit is ignored on receipt and sent
/// unset (RFC 9113 §4.1).
pub(crate) const STREAM_ID_MASK: u32 = 0x7fff_ffff;

/// The largest frame payload the 24-bit Length field can state, and the largest
/// SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2, §6.5.2).
const MAX_LENGTH: u32 = 0x00ff_ffff;

/// A frame type (RFC 9113 §6, §11.2). A frame header keeps the raw byte, since a type not
/// listed here is allowed and ignored (§5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameType {
    /// DATA (§6.1).
    Data = 0x0,
    /// HEADERS (§6.2).
    Headers = 0x1,
    /// PRIORITY (§6.3).
    Priority = 0x2,
    /// RST_STREAM (§6.4).
    RstStream = 0x3,
    /// SETTINGS (§6.5).
    Settings = 0x4,
    /// PUSH_PROMISE (§6.6).
    PushPromise = 0x5,
    /// PING (§6.7).
    Ping = 0x6,
    /// GOAWAY (§6.8).
    GoAway = 0x7,
    /// WINDOW_UPDATE (§6.9).
    WindowUpdate = 0x8,
    /// CONTINUATION (§6.10).
    Continuation = 0x9,
}

impl FrameType {
    /// The type's byte on the wire.
    pub const fn wire(self) -> u8 {
        self as u8
    }

    /// The type a byte names, or `None` for an extension or unknown type (§5.5).
    pub const fn from_wire(value: u8) -> Option<Self> {
        use FrameType::*;
        Some(match value {
            0x0 => Data,
            0x1 => Headers,
            0x2 => Priority,
            0x3 => RstStream,
            0x4 => Settings,
            0x5 => PushPromise,
            0x6 => Ping,
            0x7 => GoAway,
            0x8 => WindowUpdate,
            0x9 => Continuation,
            _ => return None,
        })
    }
}

/// A frame header:
///
/// ```text
/// HTTP Frame {
///   Length (24),
///   Type (8),
///   Flags (8),
///   Reserved (1),
///   Stream Identifier (31),
///   Frame Payload (..),
/// }
/// ```
/// RFC 9113 §4.1.
///
/// ```
/// use nomserve_grammar::{FrameHeader, FrameType};
///
/// let header = FrameHeader::data(1, 5, true);
/// assert_eq!(header.encode(), [0, 0, 5, 0, 1, 0, 0, 0, 1]);
/// assert_eq!(header.frame_type, FrameType::Data.wire());
/// assert!(header.has(FrameHeader::END_STREAM));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The payload's length in bytes, header excluded (24 bits).
    pub length: u32,
    /// The frame type's byte: see [`FrameType`].
    pub frame_type: u8,
    /// The flags; which bits mean what depends on the type, and unknown ones are ignored
    /// (§4.1).
    pub flags: u8,
    /// The stream identifier (31 bits; 0 for the connection itself).
    pub stream_id: u32,
}

impl FrameHeader {
    /// END_STREAM on DATA and HEADERS (§6.1, §6.2).
    pub const END_STREAM: u8 = 0x01;
    /// ACK on SETTINGS and PING (§6.5, §6.7).
    pub const ACK: u8 = 0x01;
    /// END_HEADERS on HEADERS, PUSH_PROMISE and CONTINUATION (§6.2, §6.10).
    pub const END_HEADERS: u8 = 0x04;
    /// PADDED on DATA, HEADERS and PUSH_PROMISE (§6.1, §6.2).
    pub const PADDED: u8 = 0x08;
    /// PRIORITY on HEADERS (§6.2).
    pub const PRIORITY: u8 = 0x20;

    /// The header of a DATA frame carrying `length` bytes of data, unpadded (§6.1): for a
    /// payload written after it by other means (a file's bytes).
    pub const fn data(stream_id: u32, length: u32, end_stream: bool) -> Self {
        let flags = if end_stream { Self::END_STREAM } else { 0 };
        Self::new(FrameType::Data, flags, stream_id, length)
    }

    /// The header of a HEADERS frame carrying `length` bytes of field block fragment,
    /// unpadded and without priority fields (§6.2).
    pub const fn headers(stream_id: u32, length: u32, end_stream: bool, end_headers: bool) -> Self {
        let mut flags = if end_stream { Self::END_STREAM } else { 0 };
        if end_headers {
            flags |= Self::END_HEADERS;
        }
        Self::new(FrameType::Headers, flags, stream_id, length)
    }

    /// The header of a CONTINUATION frame carrying `length` bytes of field block fragment
    /// (§6.10).
    pub const fn continuation(stream_id: u32, length: u32, end_headers: bool) -> Self {
        let flags = if end_headers { Self::END_HEADERS } else { 0 };
        Self::new(FrameType::Continuation, flags, stream_id, length)
    }

    /// A header of a known type.
    pub(crate) const fn new(frame_type: FrameType, flags: u8, stream_id: u32, length: u32) -> Self {
        FrameHeader {
            length,
            frame_type: frame_type.wire(),
            flags,
            stream_id,
        }
    }

    /// Whether every bit of `flag` is set.
    pub const fn has(&self, flag: u8) -> bool {
        self.flags & flag == flag
    }

    /// The whole frame's length: the header's 9 bytes and the payload.
    pub const fn frame_len(&self) -> usize {
        FRAME_HEADER_LEN + self.length as usize
    }

    /// The header's 9 bytes, the reserved bit unset.
    ///
    /// Contract: `length` fits in 24 bits and `stream_id` in 31; bits beyond are dropped.
    pub const fn encode(&self) -> [u8; FRAME_HEADER_LEN] {
        let [_, l0, l1, l2] = (self.length & MAX_LENGTH).to_be_bytes();
        let [s0, s1, s2, s3] = (self.stream_id & STREAM_ID_MASK).to_be_bytes();
        [l0, l1, l2, self.frame_type, self.flags, s0, s1, s2, s3]
    }

    /// Appends the header's 9 bytes to `out` (see [`FrameHeader::encode`]).
    pub fn write(&self, out: &mut Vec<u8>) {
        debug_assert!(self.length <= MAX_LENGTH, "frame length {}", self.length);
        out.extend_from_slice(&self.encode());
    }
}

/// The frame header rule, streaming: `Incomplete` until 9 bytes are there (RFC 9113 §4.1).
/// The reserved bit is dropped.
pub(crate) fn frame_header(input: &[u8]) -> nom::IResult<&[u8], FrameHeader> {
    let (rest, (length, frame_type, flags, stream_id)) =
        (be_u24, be_u8, be_u8, be_u32).parse(input)?;
    let header = FrameHeader {
        length,
        frame_type,
        flags,
        stream_id: stream_id & STREAM_ID_MASK,
    };
    Ok((rest, header))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn header_fields_and_reserved_bit() {
        let bytes = [0x01, 0x02, 0x03, 0x08, 0xff, 0x80, 0, 0, 0x05];
        let (rest, header) = frame_header(&bytes).unwrap();
        assert!(rest.is_empty());
        assert_eq!(
            header,
            FrameHeader {
                length: 0x010203,
                frame_type: 8,
                flags: 0xff,
                stream_id: 5
            }
        );
        // Written back, the reserved bit is unset.
        assert_eq!(
            header.encode(),
            [0x01, 0x02, 0x03, 0x08, 0xff, 0, 0, 0, 0x05]
        );
        assert_eq!(header.frame_len(), 9 + 0x010203);
    }

    #[test]
    fn a_short_header_is_incomplete() {
        let bytes = FrameHeader::data(1, 0, false).encode();
        for end in 0..FRAME_HEADER_LEN {
            assert!(
                matches!(frame_header(&bytes[..end]), Err(nom::Err::Incomplete(_))),
                "{end}"
            );
        }
    }

    #[test]
    fn constructors_set_their_flags() {
        let data = FrameHeader::data(3, 10, true);
        assert_eq!((data.frame_type, data.flags), (0, FrameHeader::END_STREAM));
        assert_eq!(FrameHeader::data(3, 10, false).flags, 0);
        let headers = FrameHeader::headers(3, 10, true, true);
        assert_eq!((headers.frame_type, headers.flags), (1, 0x05));
        assert!(headers.has(FrameHeader::END_HEADERS));
        assert!(!FrameHeader::headers(3, 10, false, false).has(FrameHeader::END_STREAM));
        let continuation = FrameHeader::continuation(3, 10, true);
        assert_eq!((continuation.frame_type, continuation.flags), (9, 0x04));
        assert_eq!(FrameHeader::continuation(3, 10, false).flags, 0);
    }

    #[test]
    fn frame_types_have_their_wire_values() {
        for value in 0..=255u8 {
            match FrameType::from_wire(value) {
                Some(kind) => assert_eq!(kind.wire(), value),
                None => assert!(value > 9),
            }
        }
    }

    proptest! {
        #[test]
        fn encode_then_decode(
            length in 0u32..=MAX_LENGTH,
            frame_type in any::<u8>(),
            flags in any::<u8>(),
            stream_id in 0u32..=STREAM_ID_MASK,
        ) {
            let header = FrameHeader { length, frame_type, flags, stream_id };
            let mut out = Vec::new();
            header.write(&mut out);
            prop_assert_eq!(frame_header(&out).map(|(_, h)| h), Ok(header));
            prop_assert_eq!(&out[..], &header.encode()[..]);
        }
    }
}
