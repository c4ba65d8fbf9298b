//! `parse_frame`'s refusals: each rule with its offset, code and scope, and when each kind
//! of error is reported.

use super::tests::{MAX, accepted, refused, wire};
use super::*;

#[test]
fn refused_frames() {
    use H2ErrorCode::*;
    use H2Rule::*;
    type Case = (Vec<u8>, H2Rule, usize, H2ErrorCode, Option<u32>);
    let cases: &[Case] = &[
        (
            wire(0x0, 0, 0, b"x"),
            DataOnStreamZero,
            5,
            ProtocolError,
            None,
        ),
        (
            wire(0x0, 0x8, 1, b""),
            DataPadLengthMissing,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x0, 0x8, 1, b"\x01"),
            DataPaddingTooLong,
            9,
            ProtocolError,
            None,
        ),
        (
            wire(0x0, 0x8, 1, b"\x05abcd"),
            DataPaddingTooLong,
            9,
            ProtocolError,
            None,
        ),
        (
            wire(0x1, 0x4, 0, b"\x82"),
            HeadersOnStreamZero,
            5,
            ProtocolError,
            None,
        ),
        (
            wire(0x1, 0x4, 2, b"\x82"),
            HeadersOnEvenStream,
            5,
            ProtocolError,
            None,
        ),
        (
            wire(0x1, 0x8, 1, b""),
            HeadersFieldsMissing,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x1, 0x20, 1, b"\0\0\0\0"),
            HeadersFieldsMissing,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x1, 0x28, 1, b"\x01\0\0\0\0\0"),
            HeadersFieldsMissing,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x1, 0x8, 1, b"\x01"),
            HeadersPaddingTooLong,
            9,
            ProtocolError,
            None,
        ),
        (
            wire(0x1, 0x8, 1, b"\xff\x82"),
            HeadersPaddingTooLong,
            9,
            ProtocolError,
            None,
        ),
        (
            wire(0x2, 0, 0, b"\0\0\0\x01\0"),
            PriorityOnStreamZero,
            5,
            ProtocolError,
            None,
        ),
        (
            wire(0x2, 0, 3, b"\0\0\0\x01"),
            PriorityLength,
            0,
            FrameSizeError,
            Some(3),
        ),
        (
            wire(0x2, 0, 3, b"\0\0\0\x01\0\0"),
            PriorityLength,
            0,
            FrameSizeError,
            Some(3),
        ),
        (
            wire(0x2, 0, 3, b"\x80\0\0\x03\0"),
            StreamDependsOnItself,
            9,
            ProtocolError,
            Some(3),
        ),
        (
            wire(0x3, 0, 0, b"\0\0\0\0"),
            RstStreamOnStreamZero,
            5,
            ProtocolError,
            None,
        ),
        (
            wire(0x3, 0, 1, b"\0\0\0"),
            RstStreamLength,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x3, 0, 1, b"\0\0\0\0\0"),
            RstStreamLength,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x4, 0, 1, b""),
            SettingsOnStream,
            5,
            ProtocolError,
            None,
        ),
        (
            wire(0x4, 0x1, 0, b"\0\x02\0\0\0\0"),
            SettingsAckWithPayload,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x4, 0, 0, b"\0\x02\0\0\0"),
            SettingsLength,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x4, 0, 0, b"\0\x02\0\0\0\x02"),
            EnablePushValue,
            11,
            ProtocolError,
            None,
        ),
        (
            wire(0x4, 0, 0, b"\0\x01\0\0\0\0\0\x04\x80\0\0\0"),
            InitialWindowSizeValue,
            17,
            FlowControlError,
            None,
        ),
        (
            wire(0x4, 0, 0, b"\0\x05\0\0\x3f\xff"),
            MaxFrameSizeValue,
            11,
            ProtocolError,
            None,
        ),
        (
            wire(0x4, 0, 0, b"\0\x05\x01\0\0\0"),
            MaxFrameSizeValue,
            11,
            ProtocolError,
            None,
        ),
        (
            wire(0x5, 0x4, 1, b"\0\0\0\x02"),
            PushPromiseFromClient,
            3,
            ProtocolError,
            None,
        ),
        (
            wire(0x6, 0, 1, b"12345678"),
            PingOnStream,
            5,
            ProtocolError,
            None,
        ),
        (
            wire(0x6, 0, 0, b"1234567"),
            PingLength,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x6, 0x1, 0, b"123456789"),
            PingLength,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x7, 0, 1, b"\0\0\0\0\0\0\0\0"),
            GoAwayOnStream,
            5,
            ProtocolError,
            None,
        ),
        (
            wire(0x7, 0, 0, b"\0\0\0\0\0\0\0"),
            GoAwayLength,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x8, 0, 1, b"\0\0\x01"),
            WindowUpdateLength,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x8, 0, 0, b"\0\0\0\x01\0"),
            WindowUpdateLength,
            0,
            FrameSizeError,
            None,
        ),
        (
            wire(0x8, 0, 0, b"\0\0\0\0"),
            ZeroWindowIncrement,
            9,
            ProtocolError,
            None,
        ),
        (
            wire(0x8, 0, 0, b"\x80\0\0\0"),
            ZeroWindowIncrement,
            9,
            ProtocolError,
            None,
        ),
        (
            wire(0x8, 0, 5, b"\0\0\0\0"),
            ZeroWindowIncrement,
            9,
            ProtocolError,
            Some(5),
        ),
        (
            wire(0x9, 0x4, 0, b"\x82"),
            ContinuationOnStreamZero,
            5,
            ProtocolError,
            None,
        ),
    ];
    for (bytes, rule, offset, code, stream) in cases {
        let error = refused(bytes);
        assert_eq!(error.rule(), *rule, "{bytes:?}");
        assert_eq!(
            (error.offset(), error.code(), error.stream()),
            (*offset, *code, *stream),
            "{bytes:?}"
        );
        assert_eq!(error.frame_len(), bytes.len(), "{bytes:?}");
        assert!(error.offset() < bytes.len(), "{bytes:?}");
        let text = error.to_string();
        assert!(
            text.contains(rule.section()) && text.contains(code.name()),
            "{text}"
        );
        // Trailing bytes change nothing.
        let mut longer = bytes.clone();
        longer.extend_from_slice(b"\0\0\0\x04\0\0\0\0\0");
        assert_eq!(refused(&longer), error);
    }
}

#[test]
fn connection_errors_come_with_the_header_stream_errors_with_the_whole_frame() {
    // A PING on a stream, a too long RST_STREAM, a PUSH_PROMISE: refused on their 9 header
    // bytes, before any payload.
    for frame in [
        wire(0x6, 0, 1, b"12345678"),
        wire(0x3, 0, 1, &[0; 100]),
        wire(0x5, 0x4, 1, &[0; 100]),
        wire(0x0, 0, 0, &[0; 100]),
    ] {
        assert_eq!(refused(&frame[..9]), refused(&frame), "{frame:?}");
    }
    // A PRIORITY frame of the wrong length costs its stream only: it is partial until it is
    // whole, so that the caller can skip it.
    let frame = wire(0x2, 0, 3, &[0; 40]);
    for end in 9..frame.len() {
        assert_eq!(
            parse_frame(&frame[..end], MAX),
            Ok(ParsedFrame::Partial {
                needed: frame.len() - end
            })
        );
    }
    let error = refused(&frame);
    assert_eq!((error.stream(), error.frame_len()), (Some(3), 49));
}

#[test]
fn frames_longer_than_we_advertise_are_refused_on_their_header() {
    let header = FrameHeader::data(1, MAX + 1, false).encode();
    let error = refused(&header);
    assert_eq!(error.rule(), H2Rule::FrameTooLarge);
    assert_eq!(
        (error.offset(), error.code()),
        (0, H2ErrorCode::FrameSizeError)
    );
    assert!(error.is_connection_error());
    assert_eq!(
        error.to_string(),
        "frame longer than SETTINGS_MAX_FRAME_SIZE at byte 0: FRAME_SIZE_ERROR on the \
         connection (RFC 9113 §4.2)"
    );
    // Exactly the maximum is fine, and a larger maximum takes larger frames.
    let frame = wire(0x0, 0, 1, &vec![7; MAX as usize]);
    assert!(matches!(accepted(&frame), Frame::Data(_)));
    let frame = wire(0x0, 0, 1, &vec![7; MAX as usize + 1]);
    assert!(matches!(
        parse_frame(&frame, MAX_MAX_FRAME_SIZE),
        Ok(ParsedFrame::Complete { .. })
    ));
    let biggest = FrameHeader::data(1, MAX_MAX_FRAME_SIZE, false).encode();
    assert_eq!(
        parse_frame(&biggest, MAX_MAX_FRAME_SIZE),
        Ok(ParsedFrame::Partial {
            needed: MAX_MAX_FRAME_SIZE as usize
        })
    );
}
