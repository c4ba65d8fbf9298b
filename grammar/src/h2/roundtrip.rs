//! Round trips through the serialisers and `parse_frame`, and `parse_frame` on any bytes.

use super::*;
use proptest::prelude::*;

const MAX: u32 = MIN_MAX_FRAME_SIZE;

fn setting() -> impl Strategy<Value = Setting> {
    prop_oneof![
        any::<u32>().prop_map(Setting::HeaderTableSize),
        any::<bool>().prop_map(Setting::EnablePush),
        any::<u32>().prop_map(Setting::MaxConcurrentStreams),
        (0..=MAX_WINDOW_SIZE).prop_map(Setting::InitialWindowSize),
        (MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).prop_map(Setting::MaxFrameSize),
        any::<u32>().prop_map(Setting::MaxHeaderListSize),
        any::<bool>().prop_map(Setting::EnableConnectProtocol),
        any::<bool>().prop_map(Setting::NoRfc7540Priorities),
    ]
}

fn code() -> impl Strategy<Value = H2ErrorCode> {
    proptest::sample::select(H2ErrorCode::ALL.to_vec())
}

/// The one frame `bytes` holds, which must take all of them.
fn only_frame(bytes: &[u8]) -> Result<Frame<'_>, String> {
    match parse_frame(bytes, MAX) {
        Ok(ParsedFrame::Complete { frame, consumed }) if consumed == bytes.len() => Ok(frame),
        other => Err(format!("{other:?}")),
    }
}

proptest! {
    #[test]
    fn settings_round_trip(settings in proptest::collection::vec(setting(), 0..20)) {
        let mut out = Vec::new();
        write_settings(&mut out, &settings);
        let Ok(Frame::Settings(parsed)) = only_frame(&out) else {
            return Err(TestCaseError::fail(format!("{:?}", only_frame(&out))));
        };
        prop_assert_eq!(parsed.iter().collect::<Vec<_>>(), settings);
    }

    #[test]
    fn control_frames_round_trip(
        stream_id in 1..=MAX_WINDOW_SIZE,
        connection in any::<bool>(),
        increment in 1..=MAX_WINDOW_SIZE,
        code in code(),
        opaque in any::<[u8; 8]>(),
        debug in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut out = Vec::new();
        write_rst_stream(&mut out, stream_id, code);
        prop_assert_eq!(
            only_frame(&out),
            Ok(Frame::RstStream { stream_id, error_code: code.wire() })
        );
        out.clear();
        let window_stream = if connection { 0 } else { stream_id };
        write_window_update(&mut out, window_stream, increment);
        prop_assert_eq!(
            only_frame(&out),
            Ok(Frame::WindowUpdate { stream_id: window_stream, increment })
        );
        out.clear();
        write_ping_ack(&mut out, opaque);
        prop_assert_eq!(only_frame(&out), Ok(Frame::Ping { ack: true, opaque }));
        out.clear();
        write_goaway(&mut out, stream_id, code, &debug);
        prop_assert_eq!(
            only_frame(&out),
            Ok(Frame::GoAway {
                last_stream_id: stream_id,
                error_code: code.wire(),
                debug_data: &debug,
            })
        );
        out.clear();
        write_settings_ack(&mut out);
        prop_assert_eq!(only_frame(&out), Ok(Frame::SettingsAck));
    }

    #[test]
    fn stream_frame_headers_round_trip(
        stream in 0..=(MAX_WINDOW_SIZE / 2),
        payload in proptest::collection::vec(any::<u8>(), 0..100),
        end_stream in any::<bool>(),
        end_headers in any::<bool>(),
    ) {
        let stream_id = stream * 2 + 1;
        let length = payload.len() as u32;
        let mut out = Vec::new();
        FrameHeader::data(stream_id, length, end_stream).write(&mut out);
        out.extend_from_slice(&payload);
        prop_assert_eq!(
            only_frame(&out),
            Ok(Frame::Data(DataFrame { stream_id, data: &payload, end_stream, pad_length: None }))
        );
        out.clear();
        FrameHeader::headers(stream_id, length, end_stream, end_headers).write(&mut out);
        out.extend_from_slice(&payload);
        prop_assert_eq!(
            only_frame(&out),
            Ok(Frame::Headers(HeadersFrame {
                stream_id,
                fragment: &payload,
                end_stream,
                end_headers,
                pad_length: None,
                priority: None,
            }))
        );
        out.clear();
        out.extend_from_slice(&FrameHeader::continuation(stream_id, length, end_headers).encode());
        out.extend_from_slice(&payload);
        prop_assert_eq!(
            only_frame(&out),
            Ok(Frame::Continuation { stream_id, fragment: &payload, end_headers })
        );
    }

    #[test]
    fn any_bytes_give_a_frame_a_partial_or_an_error(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
        frame_type in 0u8..12,
        max in prop_oneof![Just(MAX), Just(20u32)],
    ) {
        let mut bytes = bytes;
        if let Some(b) = bytes.get_mut(3) {
            *b = frame_type;
        }
        match parse_frame(&bytes, max) {
            Ok(ParsedFrame::Complete { consumed, .. }) => {
                prop_assert!(consumed <= bytes.len());
                prop_assert_eq!(consumed, 9 + usize::from(bytes[1]) * 256 + usize::from(bytes[2]));
                prop_assert_eq!(bytes[0], 0);
                prop_assert!(consumed - 9 <= max as usize);
            }
            Ok(ParsedFrame::Partial { needed }) => {
                prop_assert!(needed >= 1);
                prop_assert!(bytes.len() + needed <= 9 + max as usize);
            }
            Err(error) => prop_assert!(error.offset() < bytes.len(), "{}", error),
        }
    }
}

/// The frames of `wire` as a connection reads them: bytes arrive in pieces of the given
/// sizes (cycling), are buffered, and each whole frame is taken from the buffer's start.
/// Frames are kept as their `Debug` text, since they borrow from the buffer.
fn read_in_pieces(wire: &[u8], pieces: &[usize]) -> Vec<String> {
    let mut frames = Vec::new();
    let mut buffer = Vec::new();
    let mut rest = wire;
    let mut i = 0;
    loop {
        match parse_frame(&buffer, MAX) {
            Ok(ParsedFrame::Complete { frame, consumed }) => {
                frames.push(format!("{frame:?}"));
                buffer.drain(..consumed);
            }
            Ok(ParsedFrame::Partial { needed }) => {
                if rest.is_empty() {
                    return frames;
                }
                let size = pieces
                    .get(i % pieces.len().max(1))
                    .copied()
                    .unwrap_or(needed);
                let (piece, after) = rest.split_at(size.clamp(1, rest.len()));
                buffer.extend_from_slice(piece);
                rest = after;
                i += 1;
            }
            Err(error) => panic!("{error}"),
        }
    }
}

proptest! {
    #[test]
    fn frames_read_in_any_pieces_are_the_frames_written(
        settings in proptest::collection::vec(setting(), 0..5),
        data in proptest::collection::vec(any::<u8>(), 0..300),
        opaque in any::<[u8; 8]>(),
        code in code(),
        pieces in proptest::collection::vec(1usize..40, 0..16),
    ) {
        let mut wire = Vec::new();
        write_settings(&mut wire, &settings);
        write_settings_ack(&mut wire);
        FrameHeader::headers(1, 2, false, false).write(&mut wire);
        wire.extend_from_slice(b"\x82\x84");
        FrameHeader::continuation(1, 1, true).write(&mut wire);
        wire.extend_from_slice(b"\x86");
        FrameHeader::data(1, data.len() as u32, true).write(&mut wire);
        wire.extend_from_slice(&data);
        write_ping_ack(&mut wire, opaque);
        write_window_update(&mut wire, 1, 1000);
        write_rst_stream(&mut wire, 1, code);
        write_goaway(&mut wire, 1, code, b"done");
        let whole = read_in_pieces(&wire, &[wire.len()]);
        prop_assert_eq!(whole.len(), 9);
        prop_assert_eq!(read_in_pieces(&wire, &pieces), whole);
    }
}
