//! The frames a server receives (RFC 9113 §6), one rule per frame type.
//!
//! Each type's rules come in two parts: what its header alone decides (the stream it may be
//! on, a fixed length, a type a client may not send), checked as soon as the 9 header bytes
//! are in so that a bad frame is refused before its payload is buffered; and what its
//! payload decides (padding, priority fields, parameter values), checked once the whole
//! frame is in. Every payload slice borrows from the caller's buffer.

#![forbid(unsafe_code)]

use super::error::{Fail, H2Error, H2Rule, fail};
use super::header::{FRAME_HEADER_LEN, FrameHeader, FrameType, STREAM_ID_MASK};
use super::settings::{SETTING_LEN, SettingsFrame, settings_payload};
use nom::Parser;
use nom::number::complete::{be_u8, be_u32};

/// A frame received from a client, its payload checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// DATA (§6.1).
    Data(DataFrame<'a>),
    /// HEADERS (§6.2).
    Headers(HeadersFrame<'a>),
    /// PRIORITY (§6.3): RFC 7540's priority signal, deprecated (§5.3.2) and to be ignored
    /// once parsed.
    Priority {
        /// The stream it is about.
        stream_id: u32,
        /// The priority fields.
        priority: StreamPriority,
    },
    /// RST_STREAM (§6.4).
    RstStream {
        /// The stream reset.
        stream_id: u32,
        /// The error code as sent; [`H2ErrorCode::from_wire`](crate::H2ErrorCode::from_wire)
        /// names it. An unknown code is no error (§7).
        error_code: u32,
    },
    /// SETTINGS with parameters (§6.5).
    Settings(SettingsFrame<'a>),
    /// SETTINGS with the ACK flag: the peer applied our settings (§6.5.3).
    SettingsAck,
    /// PING (§6.7).
    Ping {
        /// Whether this answers a PING of ours.
        ack: bool,
        /// The 8 opaque bytes, to be echoed in the answer (copied: they are a `u64`'s size).
        opaque: [u8; 8],
    },
    /// GOAWAY (§6.8).
    GoAway {
        /// The highest stream the peer may have acted on.
        last_stream_id: u32,
        /// The error code as sent (see [`Frame::RstStream`]).
        error_code: u32,
        /// Diagnostic bytes, opaque.
        debug_data: &'a [u8],
    },
    /// WINDOW_UPDATE (§6.9).
    WindowUpdate {
        /// The stream whose window grows; 0 for the connection's.
        stream_id: u32,
        /// The increment, 1 to 2^31−1.
        increment: u32,
    },
    /// CONTINUATION (§6.10).
    Continuation {
        /// The stream whose field block this continues.
        stream_id: u32,
        /// The next fragment of the field block.
        fragment: &'a [u8],
        /// Whether the field block ends here.
        end_headers: bool,
    },
    /// A frame of a type this crate does not know, to be ignored (§5.5) unless it comes in
    /// the middle of a field block (§6.10: a connection error the caller checks).
    Unknown {
        /// Its header.
        header: FrameHeader,
        /// Its payload.
        payload: &'a [u8],
    },
}

impl Frame<'_> {
    /// The stream the frame is on; 0 for the connection.
    pub const fn stream_id(&self) -> u32 {
        match self {
            Frame::Data(data) => data.stream_id,
            Frame::Headers(headers) => headers.stream_id,
            Frame::Priority { stream_id, .. }
            | Frame::RstStream { stream_id, .. }
            | Frame::WindowUpdate { stream_id, .. }
            | Frame::Continuation { stream_id, .. } => *stream_id,
            Frame::Unknown { header, .. } => header.stream_id,
            Frame::Settings(_) | Frame::SettingsAck | Frame::Ping { .. } | Frame::GoAway { .. } => {
                0
            }
        }
    }
}

/// A DATA frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataFrame<'a> {
    /// The stream.
    pub stream_id: u32,
    /// The data, padding removed.
    pub data: &'a [u8],
    /// Whether the stream's data ends here.
    pub end_stream: bool,
    /// The Pad Length when the PADDED flag was set.
    pub pad_length: Option<u8>,
}

impl DataFrame<'_> {
    /// The bytes the frame counts against flow-control windows: its whole payload, Pad
    /// Length and padding included (§6.1, §6.9.1).
    pub fn flow_controlled_len(&self) -> u32 {
        let padding = self.pad_length.map_or(0, |pad| 1 + u32::from(pad));
        u32::try_from(self.data.len()).map_or(u32::MAX, |len| len.saturating_add(padding))
    }
}

/// A HEADERS frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadersFrame<'a> {
    /// The stream.
    pub stream_id: u32,
    /// The first fragment of the field block, padding and priority fields removed.
    pub fragment: &'a [u8],
    /// Whether the stream ends with this field block.
    pub end_stream: bool,
    /// Whether the field block ends in this frame (else CONTINUATION frames follow).
    pub end_headers: bool,
    /// The Pad Length when the PADDED flag was set.
    pub pad_length: Option<u8>,
    /// The priority fields when the PRIORITY flag was set: parsed, and ignored but for
    /// [`HeadersFrame::priority_error`] (§5.3.2: RFC 7540's scheme is deprecated).
    pub priority: Option<StreamPriority>,
}

impl HeadersFrame<'_> {
    /// The stream error the priority fields cost, if they make the stream depend on itself
    /// (§5.3.1). The caller still decodes the field block, which keeps the connection's HPACK
    /// context in step (§4.3), and then resets the stream. The frame was consumed already:
    /// the error's [`H2Error::frame_len`] is 0.
    pub fn priority_error(&self) -> Option<H2Error> {
        let priority = self.priority?;
        let at = FRAME_HEADER_LEN + usize::from(self.pad_length.is_some());
        (priority.dependency == self.stream_id)
            .then(|| H2Error::new(H2Rule::StreamDependsOnItself, self.stream_id, at, 0))
    }
}

/// RFC 7540's priority fields, in HEADERS and PRIORITY frames (§5.3.2, §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPriority {
    /// The Exclusive flag.
    pub exclusive: bool,
    /// The stream depended on.
    pub dependency: u32,
    /// The Weight byte as sent (the weight minus one).
    pub weight: u8,
}

/// What the frame's header alone decides, for the types that have such rules: the stream it
/// may be on, a fixed or minimum length, and PUSH_PROMISE, which a client may not send. The
/// offset is that of the field at fault: 0 for the Length, 3 for the Type, 5 for the Stream
/// Identifier.
pub(super) fn header_rules(header: &FrameHeader) -> Result<(), Fail> {
    use H2Rule::*;
    const LENGTH: usize = 0;
    const TYPE: usize = 3;
    const STREAM: usize = 5;
    let on_zero = header.stream_id == 0;
    let length = header.length as usize;
    let Some(frame_type) = FrameType::from_wire(header.frame_type) else {
        return Ok(());
    };
    match frame_type {
        FrameType::Data if on_zero => fail(DataOnStreamZero, STREAM),
        FrameType::Headers if on_zero => fail(HeadersOnStreamZero, STREAM),
        FrameType::Headers if header.stream_id % 2 == 0 => fail(HeadersOnEvenStream, STREAM),
        FrameType::Priority if on_zero => fail(PriorityOnStreamZero, STREAM),
        FrameType::Priority if length != 5 => fail(PriorityLength, LENGTH),
        FrameType::RstStream if on_zero => fail(RstStreamOnStreamZero, STREAM),
        FrameType::RstStream if length != 4 => fail(RstStreamLength, LENGTH),
        FrameType::Settings if !on_zero => fail(SettingsOnStream, STREAM),
        FrameType::Settings if header.has(FrameHeader::ACK) && length != 0 => {
            fail(SettingsAckWithPayload, LENGTH)
        }
        FrameType::Settings if length % SETTING_LEN != 0 => fail(SettingsLength, LENGTH),
        FrameType::PushPromise => fail(PushPromiseFromClient, TYPE),
        FrameType::Ping if !on_zero => fail(PingOnStream, STREAM),
        FrameType::Ping if length != 8 => fail(PingLength, LENGTH),
        FrameType::GoAway if !on_zero => fail(GoAwayOnStream, STREAM),
        FrameType::GoAway if length < 8 => fail(GoAwayLength, LENGTH),
        FrameType::WindowUpdate if length != 4 => fail(WindowUpdateLength, LENGTH),
        FrameType::Continuation if on_zero => fail(ContinuationOnStreamZero, STREAM),
        _ => Ok(()),
    }
}

/// The frame of `header` whose payload is `payload` (complete), its payload rules checked.
/// Contract: [`header_rules`] passed.
pub(super) fn frame<'a>(header: &FrameHeader, payload: &'a [u8]) -> Result<Frame<'a>, Fail> {
    let stream_id = header.stream_id;
    let Some(frame_type) = FrameType::from_wire(header.frame_type) else {
        let header = *header;
        return Ok(Frame::Unknown { header, payload });
    };
    Ok(match frame_type {
        FrameType::Data => Frame::Data(data(header, payload)?),
        FrameType::Headers => Frame::Headers(headers(header, payload)?),
        FrameType::Priority => {
            let priority = priority_fields(payload)?;
            if priority.dependency == stream_id {
                return fail(H2Rule::StreamDependsOnItself, FRAME_HEADER_LEN);
            }
            Frame::Priority {
                stream_id,
                priority,
            }
        }
        FrameType::RstStream => Frame::RstStream {
            stream_id,
            error_code: word(payload, H2Rule::RstStreamLength)?,
        },
        FrameType::Settings if header.has(FrameHeader::ACK) => Frame::SettingsAck,
        FrameType::Settings => Frame::Settings(settings_payload(payload)?),
        FrameType::Ping => ping(header, payload)?,
        FrameType::GoAway => goaway(payload)?,
        FrameType::WindowUpdate => window_update(header, payload)?,
        FrameType::Continuation => Frame::Continuation {
            stream_id,
            fragment: payload,
            end_headers: header.has(FrameHeader::END_HEADERS),
        },
        FrameType::PushPromise => return fail(H2Rule::PushPromiseFromClient, 3),
    })
}

/// ```text
/// DATA Frame {
///   Length (24),
///   Type (8) = 0x00,
///   Unused Flags (4),
///   PADDED Flag (1),
///   Unused Flags (2),
///   END_STREAM Flag (1),
///   Reserved (1),
///   Stream Identifier (31),
///   [Pad Length (8)],
///   Data (..),
///   Padding (..2040),
/// }
/// ```
/// RFC 9113 §6.1.
fn data<'a>(header: &FrameHeader, payload: &'a [u8]) -> Result<DataFrame<'a>, Fail> {
    let (pad_length, data) = unpadded(
        header,
        payload,
        H2Rule::DataPadLengthMissing,
        H2Rule::DataPaddingTooLong,
    )?;
    Ok(DataFrame {
        stream_id: header.stream_id,
        data,
        end_stream: header.has(FrameHeader::END_STREAM),
        pad_length,
    })
}

/// ```text
/// HEADERS Frame {
///   Length (24),
///   Type (8) = 0x01,
///   Unused Flags (2),
///   PRIORITY Flag (1),
///   Unused Flag (1),
///   PADDED Flag (1),
///   END_HEADERS Flag (1),
///   Unused Flag (1),
///   END_STREAM Flag (1),
///   Reserved (1),
///   Stream Identifier (31),
///   [Pad Length (8)],
///   [Exclusive (1)],
///   [Stream Dependency (31)],
///   [Weight (8)],
///   Field Block Fragment (..),
///   Padding (..2040),
/// }
/// ```
/// RFC 9113 §6.2. The priority fields are mandatory when the PRIORITY flag is set: a frame
/// too short for them is FRAME_SIZE_ERROR (§4.2), on the connection, since a HEADERS frame
/// carries a field block.
fn headers<'a>(header: &FrameHeader, payload: &'a [u8]) -> Result<HeadersFrame<'a>, Fail> {
    let (pad_length, rest) = unpadded(
        header,
        payload,
        H2Rule::HeadersFieldsMissing,
        H2Rule::HeadersPaddingTooLong,
    )?;
    let (fragment, priority) = if header.has(FrameHeader::PRIORITY) {
        let fields = rest.get(..5).ok_or(Fail {
            rule: H2Rule::HeadersFieldsMissing,
            offset: 0,
        })?;
        let fragment = rest.get(5..).unwrap_or_default();
        (fragment, Some(priority_fields(fields)?))
    } else {
        (rest, None)
    };
    Ok(HeadersFrame {
        stream_id: header.stream_id,
        fragment,
        end_stream: header.has(FrameHeader::END_STREAM),
        end_headers: header.has(FrameHeader::END_HEADERS),
        pad_length,
        priority,
    })
}

/// The padding of a DATA or HEADERS frame taken off: `[Pad Length (8)] ... Padding`, when the
/// PADDED flag is set (§6.1, §6.2); the Pad Length and what lies between it and the padding.
///
/// A PADDED frame too short to hold the Pad Length fails with `missing` at the Length field
/// (FRAME_SIZE_ERROR, §4.2: "too small to contain mandatory frame data"); padding as long as
/// the payload or longer fails with `too_long` at the Pad Length (PROTOCOL_ERROR, §6.1,
/// §6.2). The padding's bytes are not checked: §6.1 lets a receiver skip that.
fn unpadded<'a>(
    header: &FrameHeader,
    payload: &'a [u8],
    missing: H2Rule,
    too_long: H2Rule,
) -> Result<(Option<u8>, &'a [u8]), Fail> {
    if !header.has(FrameHeader::PADDED) {
        return Ok((None, payload));
    }
    let Ok((rest, pad_length)) = be_u8::<_, ()>(payload) else {
        return fail(missing, 0);
    };
    let Some(inner_len) = rest.len().checked_sub(usize::from(pad_length)) else {
        return fail(too_long, FRAME_HEADER_LEN);
    };
    Ok((Some(pad_length), rest.get(..inner_len).unwrap_or_default()))
}

/// ```text
/// PRIORITY Frame {
///   Length (24) = 0x05,
///   Type (8) = 0x02,
///   Unused Flags (8),
///   Reserved (1),
///   Stream Identifier (31),
///   Exclusive (1),
///   Stream Dependency (31),
///   Weight (8),
/// }
/// ```
/// RFC 9113 §6.3: exactly the five bytes of priority fields, which HEADERS carries too
/// (§6.2); other lengths fail with `PriorityLength` at the Length field.
fn priority_fields(input: &[u8]) -> Result<StreamPriority, Fail> {
    let parsed: nom::IResult<_, _, ()> = (be_u32, be_u8).parse(input);
    let Ok(([], (dependency, weight))) = parsed else {
        return fail(H2Rule::PriorityLength, 0);
    };
    Ok(StreamPriority {
        exclusive: dependency & !STREAM_ID_MASK != 0,
        dependency: dependency & STREAM_ID_MASK,
        weight,
    })
}

/// A payload that is one 32-bit word, as RST_STREAM's Error Code (§6.4); a payload of
/// another length fails with `length`.
///
/// ```text
/// RST_STREAM Frame {
///   Length (24) = 0x04,
///   Type (8) = 0x03,
///   Unused Flags (8),
///   Reserved (1),
///   Stream Identifier (31),
///   Error Code (32),
/// }
/// ```
/// RFC 9113 §6.4.
fn word(payload: &[u8], length: H2Rule) -> Result<u32, Fail> {
    match be_u32::<_, ()>(payload) {
        Ok(([], word)) => Ok(word),
        _ => fail(length, 0),
    }
}

/// ```text
/// PING Frame {
///   Length (24) = 0x08,
///   Type (8) = 0x06,
///   Unused Flags (7),
///   ACK Flag (1),
///   Reserved (1),
///   Stream Identifier (31) = 0,
///   Opaque Data (64),
/// }
/// ```
/// RFC 9113 §6.7.
fn ping<'a>(header: &FrameHeader, payload: &[u8]) -> Result<Frame<'a>, Fail> {
    let Ok(opaque) = <[u8; 8]>::try_from(payload) else {
        return fail(H2Rule::PingLength, 0);
    };
    Ok(Frame::Ping {
        ack: header.has(FrameHeader::ACK),
        opaque,
    })
}

/// ```text
/// GOAWAY Frame {
///   Length (24),
///   Type (8) = 0x07,
///   Unused Flags (8),
///   Reserved (1),
///   Stream Identifier (31) = 0,
///   Reserved (1),
///   Last-Stream-ID (31),
///   Error Code (32),
///   Additional Debug Data (..),
/// }
/// ```
/// RFC 9113 §6.8.
fn goaway(payload: &[u8]) -> Result<Frame<'_>, Fail> {
    let parsed: nom::IResult<_, _, ()> = (be_u32, be_u32).parse(payload);
    let Ok((debug_data, (last_stream_id, error_code))) = parsed else {
        return fail(H2Rule::GoAwayLength, 0);
    };
    Ok(Frame::GoAway {
        last_stream_id: last_stream_id & STREAM_ID_MASK,
        error_code,
        debug_data,
    })
}

/// ```text
/// WINDOW_UPDATE Frame {
///   Length (24) = 0x04,
///   Type (8) = 0x08,
///   Unused Flags (8),
///   Reserved (1),
///   Stream Identifier (31),
///   Reserved (1),
///   Window Size Increment (31),
/// }
/// ```
/// RFC 9113 §6.9: an increment of 0 fails at the increment, a stream error on a stream and a
/// connection error on stream 0 ([`H2Rule::is_stream_error`]).
fn window_update<'a>(header: &FrameHeader, payload: &[u8]) -> Result<Frame<'a>, Fail> {
    let increment = word(payload, H2Rule::WindowUpdateLength)? & STREAM_ID_MASK;
    if increment == 0 {
        return fail(H2Rule::ZeroWindowIncrement, FRAME_HEADER_LEN);
    }
    Ok(Frame::WindowUpdate {
        stream_id: header.stream_id,
        increment,
    })
}
