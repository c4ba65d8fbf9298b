//! `parse_frame` and the serialisers, frame type by frame type: accepted frames, each one's
//! every prefix partial and trailing bytes left alone; the written bytes of each serialiser.

use super::*;

pub(super) const MAX: u32 = MIN_MAX_FRAME_SIZE;

/// A frame of type `frame_type` with `flags` on `stream_id` carrying `payload`.
pub(super) fn wire(frame_type: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    FrameHeader {
        length: payload.len() as u32,
        frame_type,
        flags,
        stream_id,
    }
    .write(&mut out);
    out.extend_from_slice(payload);
    out
}

/// The frame `bytes` holds, checking that it takes all of them, that trailing bytes are left
/// alone, and that every strict prefix is partial with the right count of missing bytes.
pub(super) fn accepted(bytes: &[u8]) -> Frame<'_> {
    let Ok(ParsedFrame::Complete { frame, consumed }) = parse_frame(bytes, MAX) else {
        panic!("{bytes:?} refused: {:?}", parse_frame(bytes, MAX));
    };
    assert_eq!(consumed, bytes.len());
    let mut longer = bytes.to_vec();
    longer.extend_from_slice(&[0, 0, 0, 4, 1, 0, 0, 0, 0]);
    let again = parse_frame(&longer, MAX).map(|p| format!("{p:?}"));
    assert_eq!(again, Ok(format!("{:?}", parse_frame(bytes, MAX).unwrap())));
    for end in 0..bytes.len() {
        let needed = if end < FRAME_HEADER_LEN {
            FRAME_HEADER_LEN - end
        } else {
            bytes.len() - end
        };
        assert_eq!(
            parse_frame(&bytes[..end], MAX),
            Ok(ParsedFrame::Partial { needed }),
            "{bytes:?} cut at {end}"
        );
    }
    frame
}

/// The error `bytes` is refused with.
pub(super) fn refused(bytes: &[u8]) -> H2Error {
    parse_frame(bytes, MAX).expect_err("a refused frame")
}

#[test]
fn data_frames() {
    let frame = wire(0x0, 0x1, 1, b"hello");
    assert_eq!(
        accepted(&frame),
        Frame::Data(DataFrame {
            stream_id: 1,
            data: b"hello",
            end_stream: true,
            pad_length: None,
        })
    );
    // Padded: Pad Length 3, data, three bytes of padding (not checked to be zero).
    let padded = wire(0x0, 0x8, 3, b"\x03abc\0\0\x01");
    let Frame::Data(data) = accepted(&padded) else {
        panic!()
    };
    assert_eq!(
        (data.data, data.pad_length, data.end_stream),
        (&b"abc"[..], Some(3), false)
    );
    assert_eq!(data.flow_controlled_len(), 7);
    // All padding, no data; and an empty DATA frame.
    let all_padding = wire(0x0, 0x8, 3, b"\x02\0\0");
    let Frame::Data(data) = accepted(&all_padding) else {
        panic!()
    };
    assert_eq!((data.data, data.flow_controlled_len()), (&b""[..], 3));
    let empty = wire(0x0, 0x0, 3, b"");
    let Frame::Data(data) = accepted(&empty) else {
        panic!()
    };
    assert_eq!(data.flow_controlled_len(), 0);
}

#[test]
fn headers_frames() {
    assert_eq!(
        accepted(&wire(0x1, 0x5, 1, b"\x82\x84")),
        Frame::Headers(HeadersFrame {
            stream_id: 1,
            fragment: b"\x82\x84",
            end_stream: true,
            end_headers: true,
            pad_length: None,
            priority: None,
        })
    );
    // PADDED and PRIORITY: Pad Length 2, exclusive dependency on 3, weight 15.
    let frame = wire(0x1, 0x2c, 5, b"\x02\x80\0\0\x03\x0f\x82\0\0");
    let Frame::Headers(headers) = accepted(&frame) else {
        panic!()
    };
    assert_eq!(headers.fragment, b"\x82");
    assert_eq!(headers.pad_length, Some(2));
    assert_eq!((headers.end_stream, headers.end_headers), (false, true));
    assert_eq!(
        headers.priority,
        Some(StreamPriority {
            exclusive: true,
            dependency: 3,
            weight: 15
        })
    );
    assert_eq!(headers.priority_error(), None);
    // Priority fields and nothing else; an empty fragment.
    let only_priority = wire(0x1, 0x20, 7, b"\0\0\0\0\0");
    let Frame::Headers(headers) = accepted(&only_priority) else {
        panic!()
    };
    assert_eq!(
        (headers.fragment, headers.priority.map(|p| p.exclusive)),
        (&b""[..], Some(false))
    );
}

#[test]
fn a_headers_frame_that_depends_on_itself_is_kept_with_its_stream_error() {
    for (flags, payload, offset) in [
        (0x24, &b"\0\0\0\x05\x10\x82"[..], 9),
        (0x2c, &b"\x01\0\0\0\x05\x10\x82\0"[..], 10),
    ] {
        let frame = wire(0x1, flags, 5, payload);
        let Frame::Headers(headers) = accepted(&frame) else {
            panic!()
        };
        assert_eq!(headers.fragment, b"\x82");
        let error = headers.priority_error().expect("a stream error");
        assert_eq!(error.rule(), H2Rule::StreamDependsOnItself);
        assert_eq!(
            (error.stream(), error.offset(), error.frame_len()),
            (Some(5), offset, 0)
        );
        assert_eq!(error.code(), H2ErrorCode::ProtocolError);
    }
}

#[test]
fn control_frames() {
    assert_eq!(
        accepted(&wire(0x2, 0, 3, b"\0\0\0\x01\xff")),
        Frame::Priority {
            stream_id: 3,
            priority: StreamPriority {
                exclusive: false,
                dependency: 1,
                weight: 255
            }
        }
    );
    assert_eq!(
        accepted(&wire(0x3, 0, 3, b"\0\0\0\x08")),
        Frame::RstStream {
            stream_id: 3,
            error_code: 8
        }
    );
    // An unknown error code is no error (§7).
    assert_eq!(
        accepted(&wire(0x3, 0, 3, b"\xff\0\0\x2a")),
        Frame::RstStream {
            stream_id: 3,
            error_code: 0xff00_002a
        }
    );
    assert_eq!(accepted(&wire(0x4, 0x1, 0, b"")), Frame::SettingsAck);
    let two = wire(0x4, 0, 0, b"\0\x04\0\x01\0\0\0\x2a\0\0\0\0");
    let Frame::Settings(settings) = accepted(&two) else {
        panic!()
    };
    assert_eq!(settings.len(), 2);
    assert_eq!(
        settings.iter().collect::<Vec<_>>(),
        [Setting::InitialWindowSize(65536)]
    );
    let no_parameters = wire(0x4, 0, 0, b"");
    let Frame::Settings(empty) = accepted(&no_parameters) else {
        panic!()
    };
    assert!(empty.is_empty());
    assert_eq!(
        accepted(&wire(0x6, 0, 0, b"12345678")),
        Frame::Ping {
            ack: false,
            opaque: *b"12345678"
        }
    );
    assert_eq!(
        accepted(&wire(0x6, 0x1, 0, b"12345678")),
        Frame::Ping {
            ack: true,
            opaque: *b"12345678"
        }
    );
    assert_eq!(
        accepted(&wire(0x7, 0, 0, b"\x80\0\0\x07\0\0\0\x02bye")),
        Frame::GoAway {
            last_stream_id: 7,
            error_code: 2,
            debug_data: b"bye"
        }
    );
    assert_eq!(
        accepted(&wire(0x8, 0, 0, b"\x80\0\0\x01")),
        Frame::WindowUpdate {
            stream_id: 0,
            increment: 1
        }
    );
    assert_eq!(
        accepted(&wire(0x8, 0, 9, b"\x7f\xff\xff\xff")),
        Frame::WindowUpdate {
            stream_id: 9,
            increment: MAX_WINDOW_SIZE
        }
    );
    assert_eq!(
        accepted(&wire(0x9, 0x4, 1, b"\x82")),
        Frame::Continuation {
            stream_id: 1,
            fragment: b"\x82",
            end_headers: true
        }
    );
}

#[test]
fn unknown_types_and_flags_are_kept_to_be_ignored() {
    let frame = wire(0xfa, 0xff, 0, b"anything");
    assert_eq!(
        accepted(&frame),
        Frame::Unknown {
            header: FrameHeader {
                length: 8,
                frame_type: 0xfa,
                flags: 0xff,
                stream_id: 0
            },
            payload: b"anything"
        }
    );
    assert_eq!(accepted(&frame).stream_id(), 0);
    // Flags a type does not define are ignored (§4.1), and so is the reserved bit.
    let mut ping = wire(0x6, 0xfe, 0, b"\0\0\0\0\0\0\0\0");
    assert_eq!(
        accepted(&ping),
        Frame::Ping {
            ack: false,
            opaque: [0; 8]
        }
    );
    ping[5] = 0x80;
    assert_eq!(accepted(&ping).stream_id(), 0);
}

#[test]
fn serialised_control_frames() {
    let mut out = Vec::new();
    write_settings_ack(&mut out);
    assert_eq!(out, b"\0\0\0\x04\x01\0\0\0\0");
    out.clear();
    write_settings(
        &mut out,
        &[
            Setting::MaxConcurrentStreams(128),
            Setting::EnablePush(false),
        ],
    );
    assert_eq!(out, b"\0\0\x0c\x04\0\0\0\0\0\0\x03\0\0\0\x80\0\x02\0\0\0\0");
    out.clear();
    write_ping_ack(&mut out, *b"abcdefgh");
    assert_eq!(out, b"\0\0\x08\x06\x01\0\0\0\0abcdefgh");
    out.clear();
    write_rst_stream(&mut out, 5, H2ErrorCode::RefusedStream);
    assert_eq!(out, b"\0\0\x04\x03\0\0\0\0\x05\0\0\0\x07");
    out.clear();
    write_window_update(&mut out, 0, 65535);
    assert_eq!(out, b"\0\0\x04\x08\0\0\0\0\0\0\0\xff\xff");
    out.clear();
    write_goaway(&mut out, 7, H2ErrorCode::NoError, b"");
    assert_eq!(out, b"\0\0\x08\x07\0\0\0\0\0\0\0\0\x07\0\0\0\0");
    // Debug data is cut so that the frame fits any peer.
    out.clear();
    write_goaway(&mut out, 1, H2ErrorCode::ProtocolError, &[b'x'; 20_000]);
    assert_eq!(out.len(), 9 + MIN_MAX_FRAME_SIZE as usize);
    assert!(matches!(
        accepted(&out),
        Frame::GoAway { debug_data, .. } if debug_data.len() == MAX_GOAWAY_DEBUG_LEN
    ));
}

#[test]
fn an_error_sentence_makes_goaway_debug_data() {
    let error = refused(&wire(0x6, 0, 1, b"12345678")).shifted(24);
    let mut out = Vec::new();
    write_goaway(&mut out, 0, error.code(), error.to_string().as_bytes());
    let Frame::GoAway {
        error_code,
        debug_data,
        ..
    } = accepted(&out)
    else {
        panic!()
    };
    assert_eq!(
        H2ErrorCode::from_wire(error_code),
        Some(H2ErrorCode::ProtocolError)
    );
    assert_eq!(
        debug_data,
        "PING frame on a stream at byte 29: PROTOCOL_ERROR on the connection (RFC 9113 §6.7)"
            .as_bytes()
    );
}
