//! HTTP/3 errors: the error codes of RFC 9114 §8.1 and RFC 9204 §6, and the positioned error
//! a frame rule fails with, which says which rule broke, where, with which code, and whether
//! the request stream or the whole connection is lost (RFC 9114 §8).

#![forbid(unsafe_code)]

use std::fmt;

/// An HTTP/3 application error code (RFC 9114 §8.1, RFC 9204 §6), carried by
/// CONNECTION_CLOSE, RESET_STREAM and STOP_SENDING.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum H3ErrorCode {
    /// `H3_NO_ERROR` (0x100): no error; a graceful close, or a response that needs no more.
    NoError = 0x100,
    /// `H3_GENERAL_PROTOCOL_ERROR` (0x101): a protocol error with no more specific code.
    GeneralProtocolError = 0x101,
    /// `H3_INTERNAL_ERROR` (0x102): an internal error.
    InternalError = 0x102,
    /// `H3_STREAM_CREATION_ERROR` (0x103): a stream the peer may not create.
    StreamCreationError = 0x103,
    /// `H3_CLOSED_CRITICAL_STREAM` (0x104): a stream the connection needs was closed.
    ClosedCriticalStream = 0x104,
    /// `H3_FRAME_UNEXPECTED` (0x105): a frame not allowed in the stream's state or kind.
    FrameUnexpected = 0x105,
    /// `H3_FRAME_ERROR` (0x106): a frame whose layout or size is wrong.
    FrameError = 0x106,
    /// `H3_EXCESSIVE_LOAD` (0x107): the peer generates excessive load.
    ExcessiveLoad = 0x107,
    /// `H3_ID_ERROR` (0x108): a stream or push ID used wrongly.
    IdError = 0x108,
    /// `H3_SETTINGS_ERROR` (0x109): a SETTINGS frame's payload is wrong.
    SettingsError = 0x109,
    /// `H3_MISSING_SETTINGS` (0x10a): no SETTINGS frame first on the control stream.
    MissingSettings = 0x10a,
    /// `H3_REQUEST_REJECTED` (0x10b): the request was not processed at all.
    RequestRejected = 0x10b,
    /// `H3_REQUEST_CANCELLED` (0x10c): the request or its response is cancelled.
    RequestCancelled = 0x10c,
    /// `H3_REQUEST_INCOMPLETE` (0x10d): the request stream ended before the request did.
    RequestIncomplete = 0x10d,
    /// `H3_MESSAGE_ERROR` (0x10e): a malformed message (RFC 9114 §4.1.2).
    MessageError = 0x10e,
    /// `H3_CONNECT_ERROR` (0x10f): a CONNECT tunnel was reset or closed abnormally.
    ConnectError = 0x10f,
    /// `H3_VERSION_FALLBACK` (0x110): retry over HTTP/1.1.
    VersionFallback = 0x110,
    /// `QPACK_DECOMPRESSION_FAILED` (0x200): an encoded field section cannot be decoded.
    QpackDecompressionFailed = 0x200,
    /// `QPACK_ENCODER_STREAM_ERROR` (0x201): an encoder-stream instruction cannot be applied.
    QpackEncoderStreamError = 0x201,
    /// `QPACK_DECODER_STREAM_ERROR` (0x202): a decoder-stream instruction cannot be applied.
    QpackDecoderStreamError = 0x202,
}

impl H3ErrorCode {
    /// Every code of RFC 9114 §8.1 and RFC 9204 §6, in wire order.
    pub const ALL: [H3ErrorCode; 20] = {
        use H3ErrorCode::*;
        [
            NoError,
            GeneralProtocolError,
            InternalError,
            StreamCreationError,
            ClosedCriticalStream,
            FrameUnexpected,
            FrameError,
            ExcessiveLoad,
            IdError,
            SettingsError,
            MissingSettings,
            RequestRejected,
            RequestCancelled,
            RequestIncomplete,
            MessageError,
            ConnectError,
            VersionFallback,
            QpackDecompressionFailed,
            QpackEncoderStreamError,
            QpackDecoderStreamError,
        ]
    };

    /// The value sent on the wire, a variable-length integer.
    pub const fn wire(self) -> u64 {
        self as u64
    }

    /// The code a wire value names; `None` for a value these RFCs do not define (a reserved
    /// `0x1f * N + 0x21` one included), which RFC 9114 §9 says to treat as
    /// `H3_NO_ERROR`'s equivalent: no special behaviour.
    pub fn from_wire(value: u64) -> Option<Self> {
        Self::ALL.iter().copied().find(|code| code.wire() == value)
    }

    /// The name the RFCs give the code: `H3_FRAME_ERROR`.
    pub const fn name(self) -> &'static str {
        use H3ErrorCode::*;
        match self {
            NoError => "H3_NO_ERROR",
            GeneralProtocolError => "H3_GENERAL_PROTOCOL_ERROR",
            InternalError => "H3_INTERNAL_ERROR",
            StreamCreationError => "H3_STREAM_CREATION_ERROR",
            ClosedCriticalStream => "H3_CLOSED_CRITICAL_STREAM",
            FrameUnexpected => "H3_FRAME_UNEXPECTED",
            FrameError => "H3_FRAME_ERROR",
            ExcessiveLoad => "H3_EXCESSIVE_LOAD",
            IdError => "H3_ID_ERROR",
            SettingsError => "H3_SETTINGS_ERROR",
            MissingSettings => "H3_MISSING_SETTINGS",
            RequestRejected => "H3_REQUEST_REJECTED",
            RequestCancelled => "H3_REQUEST_CANCELLED",
            RequestIncomplete => "H3_REQUEST_INCOMPLETE",
            MessageError => "H3_MESSAGE_ERROR",
            ConnectError => "H3_CONNECT_ERROR",
            VersionFallback => "H3_VERSION_FALLBACK",
            QpackDecompressionFailed => "QPACK_DECOMPRESSION_FAILED",
            QpackEncoderStreamError => "QPACK_ENCODER_STREAM_ERROR",
            QpackDecoderStreamError => "QPACK_DECODER_STREAM_ERROR",
        }
    }
}

impl fmt::Display for H3ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which HTTP/3 framing rule a client broke. Each rule knows its error code, whether it costs
/// the request stream or the connection, its sentence and its RFC section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum H3Rule {
    /// A DATA or HEADERS frame on the control stream (RFC 9114 §7.2.1, §7.2.2).
    RequestFrameOnControlStream,
    /// A CANCEL_PUSH, SETTINGS, GOAWAY or MAX_PUSH_ID frame on a request stream (RFC 9114
    /// §7.2.3, §7.2.4, §7.2.6, §7.2.7).
    ControlFrameOnRequestStream,
    /// A PUSH_PROMISE frame from a client, which cannot push (RFC 9114 §7.2.5).
    PushPromiseFromClient,
    /// A frame type HTTP/2 defines and HTTP/3 reserves: PRIORITY, PING, WINDOW_UPDATE,
    /// CONTINUATION (RFC 9114 §7.2.8).
    Http2FrameType,
    /// A CANCEL_PUSH, GOAWAY or MAX_PUSH_ID frame whose payload is not exactly one
    /// variable-length integer (RFC 9114 §7.1, §7.2.3, §7.2.6, §7.2.7).
    FramePayloadLength,
    /// A SETTINGS frame that ends inside a setting (RFC 9114 §7.1, §7.2.4).
    SettingTruncated,
    /// A setting HTTP/2 defines and HTTP/3 reserves: 0x02, 0x03, 0x04, 0x05 (RFC 9114
    /// §7.2.4.1).
    Http2Setting,
    /// A setting sent twice in one SETTINGS frame (RFC 9114 §7.2.4).
    DuplicateSetting,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL or SETTINGS_H3_DATAGRAM other than 0 or 1 (RFC 9220
    /// §3, RFC 9297 §2.1.1).
    SettingValue,
    /// A SETTINGS frame longer than the caller buffers (RFC 9114 §10.5).
    SettingsTooLarge,
    /// A HEADERS frame longer than the caller buffers: the encoded field section passes
    /// the bound derived from SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2, §10.5).
    HeadersTooLarge,
    /// A client-initiated push stream (RFC 9114 §6.2.2).
    PushStreamFromClient,
}

impl H3Rule {
    /// The error code the rule's violation is answered with.
    pub const fn code(self) -> H3ErrorCode {
        use H3ErrorCode::*;
        use H3Rule::*;
        match self {
            RequestFrameOnControlStream
            | ControlFrameOnRequestStream
            | PushPromiseFromClient
            | Http2FrameType => FrameUnexpected,
            FramePayloadLength | SettingTruncated => FrameError,
            Http2Setting | DuplicateSetting | SettingValue => SettingsError,
            SettingsTooLarge | HeadersTooLarge => ExcessiveLoad,
            PushStreamFromClient => StreamCreationError,
        }
    }

    /// Whether a violation costs only the request stream it is on (reset it, RFC 9114 §8)
    /// rather than the connection.
    ///
    /// Only an oversized HEADERS frame: the request is refused, and since QPACK field
    /// sections change no table (RFC 9204 §2.2), skipping one leaves the connection's state
    /// intact. Every frame rule RFC 9114 §7 states is a connection error by its text.
    pub const fn is_stream_error(self) -> bool {
        matches!(self, H3Rule::HeadersTooLarge)
    }

    /// What was wrong, as a phrase.
    pub const fn description(self) -> &'static str {
        use H3Rule::*;
        match self {
            RequestFrameOnControlStream => "DATA or HEADERS frame on the control stream",
            ControlFrameOnRequestStream => "control frame on a request stream",
            PushPromiseFromClient => "PUSH_PROMISE frame from a client",
            Http2FrameType => "HTTP/2 frame type reserved in HTTP/3",
            FramePayloadLength => "frame payload not one variable-length integer",
            SettingTruncated => "SETTINGS frame ends inside a setting",
            Http2Setting => "HTTP/2 setting reserved in HTTP/3",
            DuplicateSetting => "setting repeated in one SETTINGS frame",
            SettingValue => "boolean setting not 0 or 1",
            SettingsTooLarge => "SETTINGS frame too long",
            HeadersTooLarge => "HEADERS frame too long",
            PushStreamFromClient => "push stream opened by a client",
        }
    }

    /// The section that states the rule.
    pub const fn section(self) -> &'static str {
        use H3Rule::*;
        match self {
            RequestFrameOnControlStream => "RFC 9114 §7.2.1, §7.2.2",
            ControlFrameOnRequestStream => "RFC 9114 §7.2.4",
            PushPromiseFromClient => "RFC 9114 §7.2.5",
            Http2FrameType => "RFC 9114 §7.2.8",
            FramePayloadLength | SettingTruncated => "RFC 9114 §7.1",
            Http2Setting => "RFC 9114 §7.2.4.1",
            DuplicateSetting => "RFC 9114 §7.2.4",
            SettingValue => "RFC 9220 §3, RFC 9297 §2.1.1",
            SettingsTooLarge | HeadersTooLarge => "RFC 9114 §10.5",
            PushStreamFromClient => "RFC 9114 §6.2.2",
        }
    }
}

/// A frame or stream type a client sent that breaks a rule of RFC 9114: the rule, the byte
/// it was found at, the error code to answer with, and what is lost: the request stream
/// (reset it) or the connection (close it with the code).
///
/// ```
/// use nomserve_grammar::{H3ErrorCode, H3Rule, H3StreamKind, parse_h3_frame};
///
/// // A DATA frame on the control stream.
/// let err = parse_h3_frame(b"\x00\x01x", H3StreamKind::Control, 4096).unwrap_err();
/// assert_eq!(err.rule(), H3Rule::RequestFrameOnControlStream);
/// assert_eq!(err.code(), H3ErrorCode::FrameUnexpected);
/// assert!(err.is_connection_error());
/// assert_eq!(
///     err.to_string(),
///     "DATA or HEADERS frame on the control stream at byte 0: H3_FRAME_UNEXPECTED on the \
///      connection (RFC 9114 §7.2.1, §7.2.2)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H3Error {
    rule: H3Rule,
    offset: usize,
}

impl H3Error {
    /// The error of breaking `rule` at byte `offset` of the parsed input.
    pub const fn new(rule: H3Rule, offset: usize) -> Self {
        H3Error { rule, offset }
    }

    /// Which rule was broken.
    pub const fn rule(&self) -> H3Rule {
        self.rule
    }

    /// The code to close the connection, or reset the stream, with.
    pub const fn code(&self) -> H3ErrorCode {
        self.rule.code()
    }

    /// Whether the connection is lost; otherwise only the request stream is.
    pub const fn is_connection_error(&self) -> bool {
        !self.rule.is_stream_error()
    }

    /// The byte offset, from the start of the parsed input, where the rule was found broken.
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for H3Error {
    /// `<what was wrong> at byte <offset>: <CODE> on the connection|stream (<section>)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scope = if self.is_connection_error() {
            "connection"
        } else {
            "stream"
        };
        write!(
            f,
            "{} at byte {}: {} on the {scope} ({})",
            self.rule.description(),
            self.offset,
            self.code(),
            self.rule.section()
        )
    }
}

impl std::error::Error for H3Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_wire_values() {
        for code in H3ErrorCode::ALL {
            assert_eq!(H3ErrorCode::from_wire(code.wire()), Some(code));
        }
        assert_eq!(H3ErrorCode::FrameError.wire(), 0x106);
        assert_eq!(H3ErrorCode::QpackDecoderStreamError.wire(), 0x202);
        assert_eq!(H3ErrorCode::from_wire(0x21), None);
        assert_eq!(H3ErrorCode::from_wire(0x111), None);
        assert_eq!(H3ErrorCode::IdError.to_string(), "H3_ID_ERROR");
    }

    #[test]
    fn only_an_oversized_headers_frame_is_a_stream_error() {
        let error = H3Error::new(H3Rule::HeadersTooLarge, 2);
        assert!(!error.is_connection_error());
        assert_eq!(
            error.to_string(),
            "HEADERS frame too long at byte 2: H3_EXCESSIVE_LOAD on the stream (RFC 9114 §10.5)"
        );
        assert!(H3Error::new(H3Rule::DuplicateSetting, 0).is_connection_error());
    }
}
