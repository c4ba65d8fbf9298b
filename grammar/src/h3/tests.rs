//! The frame layer as a whole: every frame accepted on its stream, every strict prefix
//! partial with the exact count, each rejection at its byte, and the serialisers' output
//! read back.

use super::*;
use H3StreamKind::{Control, Request};
use proptest::prelude::*;

const MAX: u64 = 1024;

/// A frame of `frame_type` with `payload`.
fn frame(frame_type: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_varint(&mut out, frame_type);
    write_varint(&mut out, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

fn varint_bytes(value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    write_varint(&mut out, value);
    out
}

/// `wire` parses on `kind` to `expected`, taking `consumed` bytes, with bytes after it left
/// alone, and every strict prefix is partial by the exact count.
fn accepts(wire: &[u8], kind: H3StreamKind, expected: H3Frame<'_>, consumed: usize) {
    let mut longer = wire.to_vec();
    longer.extend_from_slice(b"\x00\x00trailing");
    for input in [wire, &longer[..]] {
        assert_eq!(
            parse_h3_frame(input, kind, MAX),
            Ok(ParsedH3Frame::Complete {
                frame: expected,
                consumed
            }),
            "{wire:?}"
        );
    }
    let mut buf = Vec::new();
    for &byte in &wire[..consumed] {
        let Ok(ParsedH3Frame::Partial { needed }) = parse_h3_frame(&buf, kind, MAX) else {
            panic!("{buf:?} of {wire:?} is not partial");
        };
        assert!(needed >= 1 && buf.len() + needed <= consumed, "{buf:?}");
        buf.push(byte);
    }
}

fn refuses(wire: &[u8], kind: H3StreamKind, rule: H3Rule, offset: usize) {
    assert_eq!(
        parse_h3_frame(wire, kind, MAX),
        Err(H3Error::new(rule, offset)),
        "{wire:?}"
    );
}

#[test]
fn data_is_returned_before_its_payload() {
    let wire = frame(0x00, b"hello");
    accepts(&wire, Request, H3Frame::Data { length: 5 }, 2);
    let mut big = vec![0x00];
    write_varint(&mut big, 1 << 40);
    accepts(&big, Request, H3Frame::Data { length: 1 << 40 }, 9);
    accepts(&[0x00, 0x00], Request, H3Frame::Data { length: 0 }, 2);
}

#[test]
fn headers_are_returned_whole() {
    let wire = frame(0x01, b"\x00\x00\xd1");
    accepts(&wire, Request, H3Frame::Headers(b"\x00\x00\xd1"), 5);
    assert_eq!(
        parse_h3_frame(&wire[..3], Request, MAX),
        Ok(ParsedH3Frame::Partial { needed: 2 })
    );
    let at_bound = frame(0x01, &vec![0; MAX as usize]);
    assert!(matches!(
        parse_h3_frame(&at_bound, Request, MAX),
        Ok(ParsedH3Frame::Complete { .. })
    ));
}

#[test]
fn control_frames() {
    let settings = frame(0x04, &[0x01, 0x00, 0x07, 0x40, 0x64]);
    let Ok(ParsedH3Frame::Complete {
        frame: H3Frame::Settings(parsed),
        consumed: 7,
    }) = parse_h3_frame(&settings, Control, MAX)
    else {
        panic!("settings");
    };
    assert_eq!(
        parsed.iter().collect::<Vec<_>>(),
        [
            H3Setting::QpackMaxTableCapacity(0),
            H3Setting::QpackBlockedStreams(100)
        ]
    );
    accepts(&settings, Control, H3Frame::Settings(parsed), 7);
    let cases: &[(u64, u64, H3Frame<'_>)] = &[
        (0x03, 7, H3Frame::CancelPush { push_id: 7 }),
        (0x07, 1 << 30, H3Frame::GoAway { id: 1 << 30 }),
        (0x0d, 16_000, H3Frame::MaxPushId { push_id: 16_000 }),
        (0x07, MAX_VARINT, H3Frame::GoAway { id: MAX_VARINT }),
    ];
    for &(frame_type, value, expected) in cases {
        let wire = frame(frame_type, &varint_bytes(value));
        accepts(&wire, Control, expected, wire.len());
    }
    // A longer form than needed is one integer all the same.
    accepts(
        &[0x07, 0x02, 0x40, 0x04],
        Control,
        H3Frame::GoAway { id: 4 },
        4,
    );
}

#[test]
fn unknown_and_reserved_types_are_returned_to_be_skipped() {
    for kind in [Control, Request] {
        for frame_type in [0x21, 0x1f * 7 + 0x21, 0x0a, 0x0e, 0x2f, 1 << 50] {
            let wire = frame(frame_type, &[0xff; 3000]);
            let header_len = wire.len() - 3000;
            accepts(
                &wire,
                kind,
                H3Frame::Unknown {
                    frame_type,
                    length: 3000,
                },
                header_len,
            );
        }
    }
}

#[test]
fn frames_on_the_wrong_stream() {
    use H3Rule::*;
    refuses(&frame(0x00, b"x"), Control, RequestFrameOnControlStream, 0);
    refuses(&frame(0x01, b"x"), Control, RequestFrameOnControlStream, 0);
    for frame_type in [0x03, 0x04, 0x07, 0x0d] {
        refuses(
            &frame(frame_type, b"\x00"),
            Request,
            ControlFrameOnRequestStream,
            0,
        );
    }
    for kind in [Control, Request] {
        refuses(&frame(0x05, b"\x00"), kind, PushPromiseFromClient, 0);
        for frame_type in [0x02, 0x06, 0x08, 0x09] {
            refuses(&frame(frame_type, b""), kind, Http2FrameType, 0);
        }
        // Found from the type alone, before the length is in.
        refuses(&[0x05], kind, PushPromiseFromClient, 0);
        refuses(&[0x40, 0x06], kind, Http2FrameType, 0);
    }
    refuses(&[0x40, 0x00], Control, RequestFrameOnControlStream, 0);
}

#[test]
fn one_integer_frames_of_the_wrong_length() {
    for frame_type in [0x03, 0x07, 0x0d] {
        // Empty, an integer cut short, an integer and a byte more.
        refuses(
            &frame(frame_type, b""),
            Control,
            H3Rule::FramePayloadLength,
            1,
        );
        refuses(
            &frame(frame_type, b"\x40"),
            Control,
            H3Rule::FramePayloadLength,
            1,
        );
        refuses(
            &frame(frame_type, b"\x01\x02"),
            Control,
            H3Rule::FramePayloadLength,
            1,
        );
        // Longer than any integer: refused from the length alone.
        refuses(
            &[frame_type as u8, 9],
            Control,
            H3Rule::FramePayloadLength,
            1,
        );
    }
}

#[test]
fn bounds_on_what_is_buffered() {
    let mut headers = vec![0x01];
    write_varint(&mut headers, MAX + 1);
    refuses(&headers, Request, H3Rule::HeadersTooLarge, 1);
    let error = parse_h3_frame(&headers, Request, MAX).unwrap_err();
    assert!(!error.is_connection_error());
    assert_eq!(error.code(), H3ErrorCode::ExcessiveLoad);
    let mut settings = vec![0x04];
    write_varint(&mut settings, 1 << 61);
    refuses(&settings, Control, H3Rule::SettingsTooLarge, 1);
    assert!(
        parse_h3_frame(&settings, Control, MAX)
            .unwrap_err()
            .is_connection_error()
    );
}

#[test]
fn settings_errors_are_placed_in_the_frame() {
    refuses(
        &frame(0x04, &[0x01, 0x00, 0x02, 0x00]),
        Control,
        H3Rule::Http2Setting,
        4,
    );
    refuses(
        &frame(0x04, &[0x01, 0x00, 0x01, 0x00]),
        Control,
        H3Rule::DuplicateSetting,
        4,
    );
    refuses(
        &frame(0x04, &[0x08, 0x02]),
        Control,
        H3Rule::SettingValue,
        2,
    );
    refuses(
        &frame(0x04, &[0x01, 0x00, 0x06]),
        Control,
        H3Rule::SettingTruncated,
        4,
    );
    let error = parse_h3_frame(&frame(0x04, &[0x03, 0x00]), Control, MAX).unwrap_err();
    assert_eq!(error.code(), H3ErrorCode::SettingsError);
}

#[test]
fn serialisers_write_what_the_parser_reads() {
    let sent = [
        H3Setting::QpackMaxTableCapacity(4096),
        H3Setting::MaxFieldSectionSize(65_536),
        H3Setting::QpackBlockedStreams(16),
        H3Setting::EnableConnectProtocol(false),
        H3Setting::H3Datagram(true),
    ];
    let mut out = Vec::new();
    write_h3_settings(&mut out, &sent);
    let Ok(ParsedH3Frame::Complete {
        frame: H3Frame::Settings(settings),
        consumed,
    }) = parse_h3_frame(&out, Control, MAX)
    else {
        panic!("{out:?}");
    };
    assert_eq!(consumed, out.len());
    assert_eq!(settings.iter().collect::<Vec<_>>(), sent);

    out.clear();
    write_h3_settings(&mut out, &[]);
    assert_eq!(out, [0x04, 0x00]);

    out.clear();
    write_h3_headers_header(&mut out, 300);
    out.extend(std::iter::repeat_n(0, 300));
    assert_eq!(
        parse_h3_frame(&out, Request, MAX),
        Ok(ParsedH3Frame::Complete {
            frame: H3Frame::Headers(&[0; 300]),
            consumed: 303
        })
    );

    out.clear();
    write_h3_data_header(&mut out, 70_000);
    assert_eq!(out, [0x00, 0x80, 0x01, 0x11, 0x70]);
    assert_eq!(
        parse_h3_frame(&out, Request, MAX),
        Ok(ParsedH3Frame::Complete {
            frame: H3Frame::Data { length: 70_000 },
            consumed: 5
        })
    );
}

proptest! {
    #[test]
    fn goaway_round_trips(id in 0..=MAX_VARINT) {
        let mut out = Vec::new();
        write_h3_goaway(&mut out, id);
        prop_assert_eq!(
            parse_h3_frame(&out, Control, MAX),
            Ok(ParsedH3Frame::Complete { frame: H3Frame::GoAway { id }, consumed: out.len() })
        );
    }

    #[test]
    fn settings_round_trip(
        capacity in 0..=MAX_VARINT,
        size in 0..=MAX_VARINT,
        blocked in 0..=MAX_VARINT,
        connect in any::<bool>(),
    ) {
        let sent = [
            H3Setting::QpackMaxTableCapacity(capacity),
            H3Setting::MaxFieldSectionSize(size),
            H3Setting::QpackBlockedStreams(blocked),
            H3Setting::EnableConnectProtocol(connect),
        ];
        let mut out = Vec::new();
        write_h3_settings(&mut out, &sent);
        let Ok(ParsedH3Frame::Complete { frame: H3Frame::Settings(settings), .. }) =
            parse_h3_frame(&out, Control, MAX)
        else {
            panic!("{out:?}");
        };
        prop_assert_eq!(settings.iter().collect::<Vec<_>>(), sent);
    }

    #[test]
    fn never_panics_and_stays_in_bounds(
        input in proptest::collection::vec(any::<u8>(), 0..40),
        control in any::<bool>(),
    ) {
        let kind = if control { Control } else { Request };
        match parse_h3_frame(&input, kind, 16) {
            Ok(ParsedH3Frame::Complete { consumed, .. }) => prop_assert!(consumed <= input.len()),
            Ok(ParsedH3Frame::Partial { needed }) => {
                prop_assert!(needed >= 1);
                prop_assert!(input.len() + needed <= 16 + 16);
            }
            Err(error) => prop_assert!(error.offset() < input.len().max(1)),
        }
    }
}
