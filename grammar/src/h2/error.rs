//! HTTP/2 errors: the error codes of RFC 9113 §7, and the positioned error a frame rule fails
//! with, which says which rule broke, where, with which code, and whether the stream or the
//! whole connection is lost (RFC 9113 §5.4).

#![forbid(unsafe_code)]

use std::fmt;

/// An HTTP/2 error code (RFC 9113 §7), carried by RST_STREAM and GOAWAY frames.
///
/// A received frame keeps its code as the raw `u32`, since codes outside this list are
/// allowed and "MUST NOT trigger any special behavior" (§7): [`H2ErrorCode::from_wire`]
/// names the ones defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum H2ErrorCode {
    /// `NO_ERROR` (0x00): a graceful shutdown, or nothing wrong.
    NoError = 0x00,
    /// `PROTOCOL_ERROR` (0x01): an unspecific protocol error.
    ProtocolError = 0x01,
    /// `INTERNAL_ERROR` (0x02): an unexpected internal error.
    InternalError = 0x02,
    /// `FLOW_CONTROL_ERROR` (0x03): the flow-control protocol was violated.
    FlowControlError = 0x03,
    /// `SETTINGS_TIMEOUT` (0x04): a SETTINGS frame was not acknowledged in time.
    SettingsTimeout = 0x04,
    /// `STREAM_CLOSED` (0x05): a frame arrived after the stream was half-closed.
    StreamClosed = 0x05,
    /// `FRAME_SIZE_ERROR` (0x06): a frame of an invalid size.
    FrameSizeError = 0x06,
    /// `REFUSED_STREAM` (0x07): the stream was refused before any processing.
    RefusedStream = 0x07,
    /// `CANCEL` (0x08): the stream is no longer needed.
    Cancel = 0x08,
    /// `COMPRESSION_ERROR` (0x09): the field-compression context cannot be kept.
    CompressionError = 0x09,
    /// `CONNECT_ERROR` (0x0a): a CONNECT tunnel was reset or closed abnormally.
    ConnectError = 0x0a,
    /// `ENHANCE_YOUR_CALM` (0x0b): the peer is generating excessive load.
    EnhanceYourCalm = 0x0b,
    /// `INADEQUATE_SECURITY` (0x0c): the transport falls short of the security required.
    InadequateSecurity = 0x0c,
    /// `HTTP_1_1_REQUIRED` (0x0d): HTTP/1.1 must be used for this request.
    Http11Required = 0x0d,
}

impl H2ErrorCode {
    /// Every code of RFC 9113 §7, in wire order.
    pub const ALL: [H2ErrorCode; 14] = {
        use H2ErrorCode::*;
        [
            NoError,
            ProtocolError,
            InternalError,
            FlowControlError,
            SettingsTimeout,
            StreamClosed,
            FrameSizeError,
            RefusedStream,
            Cancel,
            CompressionError,
            ConnectError,
            EnhanceYourCalm,
            InadequateSecurity,
            Http11Required,
        ]
    };

    /// The 32-bit value sent on the wire.
    pub const fn wire(self) -> u32 {
        self as u32
    }

    /// The code a wire value names, or `None` for a value §7 does not define.
    pub const fn from_wire(value: u32) -> Option<Self> {
        if value < Self::ALL.len() as u32 {
            Some(Self::ALL[value as usize])
        } else {
            None
        }
    }

    /// The name RFC 9113 §7 gives the code: `PROTOCOL_ERROR`.
    pub const fn name(self) -> &'static str {
        use H2ErrorCode::*;
        match self {
            NoError => "NO_ERROR",
            ProtocolError => "PROTOCOL_ERROR",
            InternalError => "INTERNAL_ERROR",
            FlowControlError => "FLOW_CONTROL_ERROR",
            SettingsTimeout => "SETTINGS_TIMEOUT",
            StreamClosed => "STREAM_CLOSED",
            FrameSizeError => "FRAME_SIZE_ERROR",
            RefusedStream => "REFUSED_STREAM",
            Cancel => "CANCEL",
            CompressionError => "COMPRESSION_ERROR",
            ConnectError => "CONNECT_ERROR",
            EnhanceYourCalm => "ENHANCE_YOUR_CALM",
            InadequateSecurity => "INADEQUATE_SECURITY",
            Http11Required => "HTTP_1_1_REQUIRED",
        }
    }
}

impl fmt::Display for H2ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which frame rule a peer broke. Each rule knows its error code, whether it costs the stream
/// or the connection, its sentence and its RFC section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum H2Rule {
    /// A frame longer than the SETTINGS_MAX_FRAME_SIZE we advertise (§4.2).
    FrameTooLarge,
    /// A DATA frame on stream 0 (§6.1).
    DataOnStreamZero,
    /// A PADDED DATA frame without room for its Pad Length field (§4.2, §6.1).
    DataPadLengthMissing,
    /// A DATA frame whose padding is as long as its payload or longer (§6.1).
    DataPaddingTooLong,
    /// A HEADERS frame on stream 0 (§6.2).
    HeadersOnStreamZero,
    /// A HEADERS frame from a client on an even stream, which only a server may open
    /// (§5.1.1).
    HeadersOnEvenStream,
    /// A HEADERS frame without room for the Pad Length or priority fields its flags announce
    /// (§4.2, §6.2).
    HeadersFieldsMissing,
    /// A HEADERS frame whose padding leaves no room for the fields before it (§6.2).
    HeadersPaddingTooLong,
    /// A HEADERS or PRIORITY frame that makes a stream depend on itself (§5.3.1).
    StreamDependsOnItself,
    /// A PRIORITY frame on stream 0 (§6.3).
    PriorityOnStreamZero,
    /// A PRIORITY frame whose length is not 5 (§6.3).
    PriorityLength,
    /// An RST_STREAM frame on stream 0 (§6.4).
    RstStreamOnStreamZero,
    /// An RST_STREAM frame whose length is not 4 (§6.4).
    RstStreamLength,
    /// A SETTINGS frame on a stream other than 0 (§6.5).
    SettingsOnStream,
    /// A SETTINGS frame with the ACK flag and a payload (§6.5).
    SettingsAckWithPayload,
    /// A SETTINGS frame whose length is not a multiple of 6 (§6.5).
    SettingsLength,
    /// SETTINGS_ENABLE_PUSH other than 0 or 1 (§6.5.2).
    EnablePushValue,
    /// SETTINGS_INITIAL_WINDOW_SIZE above 2^31−1 (§6.5.2).
    InitialWindowSizeValue,
    /// SETTINGS_MAX_FRAME_SIZE outside 2^14..=2^24−1 (§6.5.2).
    MaxFrameSizeValue,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL other than 0 or 1 (RFC 8441 §3).
    EnableConnectProtocolValue,
    /// SETTINGS_NO_RFC7540_PRIORITIES other than 0 or 1 (RFC 9218 §2.1).
    NoRfc7540PrioritiesValue,
    /// A PUSH_PROMISE frame from a client, which cannot push (§8.4).
    PushPromiseFromClient,
    /// A PING frame on a stream other than 0 (§6.7).
    PingOnStream,
    /// A PING frame whose length is not 8 (§6.7).
    PingLength,
    /// A GOAWAY frame on a stream other than 0 (§6.8).
    GoAwayOnStream,
    /// A GOAWAY frame shorter than 8 bytes (§6.8).
    GoAwayLength,
    /// A WINDOW_UPDATE frame whose length is not 4 (§6.9).
    WindowUpdateLength,
    /// A WINDOW_UPDATE frame with an increment of 0 (§6.9).
    ZeroWindowIncrement,
    /// A CONTINUATION frame on stream 0 (§6.10).
    ContinuationOnStreamZero,
}

impl H2Rule {
    /// The error code the rule's violation is answered with.
    pub const fn code(self) -> H2ErrorCode {
        use H2ErrorCode::*;
        use H2Rule::*;
        match self {
            FrameTooLarge
            | DataPadLengthMissing
            | HeadersFieldsMissing
            | PriorityLength
            | RstStreamLength
            | SettingsAckWithPayload
            | SettingsLength
            | PingLength
            | GoAwayLength
            | WindowUpdateLength => FrameSizeError,
            InitialWindowSizeValue => FlowControlError,
            _ => ProtocolError,
        }
    }

    /// Whether a violation on stream `stream_id` costs only that stream (a stream error,
    /// §5.4.2) rather than the connection (§5.4.1).
    ///
    /// Stream errors are the ones RFC 9113 names so: a self-dependency (§5.3.1), a PRIORITY
    /// frame of the wrong length (§6.3) and a zero WINDOW_UPDATE increment on a stream
    /// (§6.9). Every other rule guards the connection's state (framing, settings, the field
    /// block's compression context, §4.2), so its violation ends the connection.
    pub const fn is_stream_error(self, stream_id: u32) -> bool {
        use H2Rule::*;
        match self {
            StreamDependsOnItself | PriorityLength => true,
            ZeroWindowIncrement => stream_id != 0,
            _ => false,
        }
    }

    /// What was wrong, as a phrase.
    pub const fn description(self) -> &'static str {
        use H2Rule::*;
        match self {
            FrameTooLarge => "frame longer than SETTINGS_MAX_FRAME_SIZE",
            DataOnStreamZero => "DATA frame on stream 0",
            DataPadLengthMissing => "PADDED DATA frame without a Pad Length",
            DataPaddingTooLong => "DATA padding as long as the payload",
            HeadersOnStreamZero => "HEADERS frame on stream 0",
            HeadersOnEvenStream => "HEADERS frame from a client on an even stream",
            HeadersFieldsMissing => "HEADERS frame too short for its padding or priority",
            HeadersPaddingTooLong => "HEADERS padding as long as the payload",
            StreamDependsOnItself => "stream depends on itself",
            PriorityOnStreamZero => "PRIORITY frame on stream 0",
            PriorityLength => "PRIORITY frame not 5 bytes long",
            RstStreamOnStreamZero => "RST_STREAM frame on stream 0",
            RstStreamLength => "RST_STREAM frame not 4 bytes long",
            SettingsOnStream => "SETTINGS frame on a stream",
            SettingsAckWithPayload => "SETTINGS acknowledgment with a payload",
            SettingsLength => "SETTINGS frame length not a multiple of 6",
            EnablePushValue => "SETTINGS_ENABLE_PUSH not 0 or 1",
            InitialWindowSizeValue => "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1",
            MaxFrameSizeValue => "SETTINGS_MAX_FRAME_SIZE outside 2^14 to 2^24-1",
            EnableConnectProtocolValue => "SETTINGS_ENABLE_CONNECT_PROTOCOL not 0 or 1",
            NoRfc7540PrioritiesValue => "SETTINGS_NO_RFC7540_PRIORITIES not 0 or 1",
            PushPromiseFromClient => "PUSH_PROMISE frame from a client",
            PingOnStream => "PING frame on a stream",
            PingLength => "PING frame not 8 bytes long",
            GoAwayOnStream => "GOAWAY frame on a stream",
            GoAwayLength => "GOAWAY frame shorter than 8 bytes",
            WindowUpdateLength => "WINDOW_UPDATE frame not 4 bytes long",
            ZeroWindowIncrement => "WINDOW_UPDATE increment of 0",
            ContinuationOnStreamZero => "CONTINUATION frame on stream 0",
        }
    }

    /// The section that states the rule.
    pub const fn section(self) -> &'static str {
        use H2Rule::*;
        match self {
            FrameTooLarge => "RFC 9113 §4.2",
            DataOnStreamZero | DataPadLengthMissing | DataPaddingTooLong => "RFC 9113 §6.1",
            HeadersOnStreamZero | HeadersFieldsMissing | HeadersPaddingTooLong => "RFC 9113 §6.2",
            HeadersOnEvenStream => "RFC 9113 §5.1.1",
            StreamDependsOnItself => "RFC 9113 §5.3.1",
            PriorityOnStreamZero | PriorityLength => "RFC 9113 §6.3",
            RstStreamOnStreamZero | RstStreamLength => "RFC 9113 §6.4",
            SettingsOnStream | SettingsAckWithPayload | SettingsLength => "RFC 9113 §6.5",
            EnablePushValue | InitialWindowSizeValue | MaxFrameSizeValue => "RFC 9113 §6.5.2",
            EnableConnectProtocolValue => "RFC 8441 §3",
            NoRfc7540PrioritiesValue => "RFC 9218 §2.1",
            PushPromiseFromClient => "RFC 9113 §8.4",
            PingOnStream | PingLength => "RFC 9113 §6.7",
            GoAwayOnStream | GoAwayLength => "RFC 9113 §6.8",
            WindowUpdateLength | ZeroWindowIncrement => "RFC 9113 §6.9",
            ContinuationOnStreamZero => "RFC 9113 §6.10",
        }
    }
}

/// A frame a peer sent that breaks a rule of RFC 9113: the rule, the byte it was found at,
/// the error code to answer with, and what is lost: one stream (answer RST_STREAM and go on)
/// or the connection (answer GOAWAY and close), RFC 9113 §5.4.
///
/// ```
/// use nomserve_grammar::{H2ErrorCode, H2Rule, parse_frame};
///
/// // A PING frame on stream 1.
/// let err = parse_frame(b"\0\0\x08\x06\0\0\0\0\x01", 16_384).unwrap_err();
/// assert_eq!(err.rule(), H2Rule::PingOnStream);
/// assert_eq!(err.code(), H2ErrorCode::ProtocolError);
/// assert_eq!(err.stream(), None);
/// assert_eq!(err.offset(), 5);
/// assert_eq!(
///     err.to_string(),
///     "PING frame on a stream at byte 5: PROTOCOL_ERROR on the connection (RFC 9113 §6.7)"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H2Error {
    rule: H2Rule,
    stream: Option<u32>,
    offset: usize,
    frame_len: usize,
}

impl H2Error {
    /// The error of breaking `rule` at byte `offset`, in a frame on stream `stream_id` that
    /// takes `frame_len` bytes with its header; a stream or a connection error as
    /// [`H2Rule::is_stream_error`] says.
    pub const fn new(rule: H2Rule, stream_id: u32, offset: usize, frame_len: usize) -> Self {
        let stream = if rule.is_stream_error(stream_id) {
            Some(stream_id)
        } else {
            None
        };
        H2Error {
            rule,
            stream,
            offset,
            frame_len,
        }
    }

    /// Which rule was broken.
    pub const fn rule(&self) -> H2Rule {
        self.rule
    }

    /// The error code to send, in RST_STREAM for a stream error, in GOAWAY for a connection
    /// error.
    pub const fn code(&self) -> H2ErrorCode {
        self.rule.code()
    }

    /// For a stream error (§5.4.2), the stream to reset; `None` for a connection error
    /// (§5.4.1), which ends the connection.
    pub const fn stream(&self) -> Option<u32> {
        self.stream
    }

    /// Whether the whole connection is lost (§5.4.1).
    pub const fn is_connection_error(&self) -> bool {
        self.stream.is_none()
    }

    /// The byte offset, from the start of the parsed input, where the failure was found.
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// The length of the frame the error is in, its 9-byte header included. After a stream
    /// error returned by [`parse_frame`](crate::parse_frame), which waits for the whole frame
    /// before it returns one, the caller drops this many bytes and parses on.
    pub const fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// The same error with its offset moved by `base`: for a frame parsed at byte `base` of a
    /// connection, so that the offset in a GOAWAY's debug data counts from the preface.
    pub const fn shifted(self, base: usize) -> Self {
        H2Error {
            offset: self.offset + base,
            ..self
        }
    }
}

impl fmt::Display for H2Error {
    /// `<what was wrong> at byte <offset>: <CODE> on <stream n | the connection> (<section>)`,
    /// one line of UTF-8 text, fit for a log line and for a GOAWAY frame's debug data (§6.8):
    ///
    /// - `PING frame on a stream at byte 5: PROTOCOL_ERROR on the connection (RFC 9113 §6.7)`
    /// - `stream depends on itself at byte 9: PROTOCOL_ERROR on stream 3 (RFC 9113 §5.3.1)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at byte {}: {} on ",
            self.rule.description(),
            self.offset,
            self.code()
        )?;
        match self.stream {
            Some(id) => write!(f, "stream {id}")?,
            None => f.write_str("the connection")?,
        }
        write!(f, " ({})", self.rule.section())
    }
}

impl std::error::Error for H2Error {}

/// A frame rule's failure: the rule, and the byte it was found at, counted from the start of
/// the frame. [`parse_frame`](crate::parse_frame) makes it an [`H2Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fail {
    pub(super) rule: H2Rule,
    pub(super) offset: usize,
}

/// Fails with `rule` at byte `offset` of the frame.
pub(super) fn fail<T>(rule: H2Rule, offset: usize) -> Result<T, Fail> {
    Err(Fail { rule, offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_wire_values_and_names() {
        for (value, code) in H2ErrorCode::ALL.iter().enumerate() {
            assert_eq!(code.wire(), value as u32);
            assert_eq!(H2ErrorCode::from_wire(value as u32), Some(*code));
        }
        assert_eq!(H2ErrorCode::from_wire(0x0e), None);
        assert_eq!(H2ErrorCode::from_wire(u32::MAX), None);
        assert_eq!(H2ErrorCode::EnhanceYourCalm.wire(), 0x0b);
        assert_eq!(H2ErrorCode::Http11Required.to_string(), "HTTP_1_1_REQUIRED");
        assert_eq!(H2ErrorCode::FlowControlError.name(), "FLOW_CONTROL_ERROR");
    }

    #[test]
    fn stream_or_connection() {
        let stream = H2Error::new(H2Rule::StreamDependsOnItself, 3, 9, 14);
        assert_eq!(
            (stream.stream(), stream.is_connection_error()),
            (Some(3), false)
        );
        assert_eq!(
            stream.to_string(),
            "stream depends on itself at byte 9: PROTOCOL_ERROR on stream 3 (RFC 9113 §5.3.1)"
        );
        let zero = H2Error::new(H2Rule::ZeroWindowIncrement, 0, 9, 13);
        assert!(zero.is_connection_error());
        let on_stream = H2Error::new(H2Rule::ZeroWindowIncrement, 7, 9, 13);
        assert_eq!(on_stream.stream(), Some(7));
        let large = H2Error::new(H2Rule::FrameTooLarge, 1, 0, 20_000);
        assert_eq!(large.stream(), None);
        assert_eq!(large.code(), H2ErrorCode::FrameSizeError);
        assert_eq!(large.frame_len(), 20_000);
        assert_eq!(large.shifted(24).offset(), 24);
        assert_eq!(
            H2Error::new(H2Rule::InitialWindowSizeValue, 0, 9, 15).code(),
            H2ErrorCode::FlowControlError
        );
    }

    #[test]
    fn every_sentence_is_printable_ascii() {
        use H2Rule::*;
        let rules = [
            FrameTooLarge,
            DataOnStreamZero,
            DataPadLengthMissing,
            DataPaddingTooLong,
            HeadersOnStreamZero,
            HeadersOnEvenStream,
            HeadersFieldsMissing,
            HeadersPaddingTooLong,
            StreamDependsOnItself,
            PriorityOnStreamZero,
            PriorityLength,
            RstStreamOnStreamZero,
            RstStreamLength,
            SettingsOnStream,
            SettingsAckWithPayload,
            SettingsLength,
            EnablePushValue,
            InitialWindowSizeValue,
            MaxFrameSizeValue,
            EnableConnectProtocolValue,
            NoRfc7540PrioritiesValue,
            PushPromiseFromClient,
            PingOnStream,
            PingLength,
            GoAwayOnStream,
            GoAwayLength,
            WindowUpdateLength,
            ZeroWindowIncrement,
            ContinuationOnStreamZero,
        ];
        for rule in rules {
            let text = rule.description();
            assert!(text.bytes().all(|b| (b' '..=b'~').contains(&b)), "{text}");
            assert!(rule.section().starts_with("RFC "), "{rule:?}");
        }
    }
}
