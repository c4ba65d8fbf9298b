//! Fuzzes `parse_frame`, reading frame after frame from the input as a connection would,
//! under three advertised SETTINGS_MAX_FRAME_SIZE values:
//! - never a panic;
//! - a complete frame takes 9 bytes plus its Length, never more than the input, never more
//!   than the maximum allows; every strict prefix of it is partial, with the exact count of
//!   missing bytes;
//! - a partial input never makes the caller hold more than one frame of the maximum size;
//! - an error is placed inside the input; a stream error comes with its whole frame, which
//!   is skipped, and a connection error ends the run;
//! - what the server's serialisers can write (control frames, unpadded DATA, HEADERS and
//!   CONTINUATION) round-trips: written again, it parses to the same frame.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{
    FRAME_HEADER_LEN, Frame, FrameHeader, H2ErrorCode, MAX_GOAWAY_DEBUG_LEN, MAX_MAX_FRAME_SIZE,
    MIN_MAX_FRAME_SIZE, ParsedFrame, Setting, parse_frame, write_goaway, write_ping_ack,
    write_rst_stream, write_settings, write_settings_ack, write_window_update,
};

fuzz_target!(|input: &[u8]| {
    for max in [MIN_MAX_FRAME_SIZE, 64, MAX_MAX_FRAME_SIZE] {
        read_frames(input, max);
    }
});

/// Parses frames from `input` until it is used up, partial, or refused for the connection.
fn read_frames(input: &[u8], max: u32) {
    let mut rest = input;
    loop {
        match parse_frame(rest, max) {
            Ok(ParsedFrame::Complete { frame, consumed }) => {
                assert!(consumed <= rest.len());
                let length = u32::from_be_bytes([0, rest[0], rest[1], rest[2]]);
                assert!(length <= max);
                assert_eq!(consumed, FRAME_HEADER_LEN + length as usize);
                check_prefixes(&rest[..consumed], max);
                round_trip(&frame);
                rest = &rest[consumed..];
            }
            Ok(ParsedFrame::Partial { needed }) => {
                assert!(needed >= 1);
                assert!(rest.len() + needed <= FRAME_HEADER_LEN + max as usize);
                return;
            }
            Err(error) => {
                assert!(error.offset() < rest.len(), "{error}");
                assert!(!error.to_string().is_empty());
                if error.is_connection_error() {
                    return;
                }
                assert!(error.frame_len() <= rest.len(), "{error}");
                rest = &rest[error.frame_len()..];
            }
        }
    }
}

/// A few strict prefixes of `frame`, a whole frame, are partial with the right count.
fn check_prefixes(frame: &[u8], max: u32) {
    for end in [0, FRAME_HEADER_LEN - 1, FRAME_HEADER_LEN, frame.len() - 1] {
        if end >= frame.len() {
            continue;
        }
        let needed = if end < FRAME_HEADER_LEN {
            FRAME_HEADER_LEN - end
        } else {
            frame.len() - end
        };
        assert_eq!(
            parse_frame(&frame[..end], max),
            Ok(ParsedFrame::Partial { needed }),
            "{frame:?} cut at {end}"
        );
    }
}

/// `frame` written with the server's serialisers, when they can write it, parses back to it.
fn round_trip(frame: &Frame<'_>) {
    let mut out = Vec::new();
    match *frame {
        Frame::Data(data) if data.pad_length.is_none() => {
            FrameHeader::data(data.stream_id, data.data.len() as u32, data.end_stream)
                .write(&mut out);
            out.extend_from_slice(data.data);
        }
        Frame::Headers(headers) if headers.pad_length.is_none() && headers.priority.is_none() => {
            let length = headers.fragment.len() as u32;
            let (end_stream, end_headers) = (headers.end_stream, headers.end_headers);
            FrameHeader::headers(headers.stream_id, length, end_stream, end_headers)
                .write(&mut out);
            out.extend_from_slice(headers.fragment);
        }
        Frame::Continuation {
            stream_id,
            fragment,
            end_headers,
        } => {
            FrameHeader::continuation(stream_id, fragment.len() as u32, end_headers)
                .write(&mut out);
            out.extend_from_slice(fragment);
        }
        Frame::RstStream {
            stream_id,
            error_code,
        } => match H2ErrorCode::from_wire(error_code) {
            Some(code) => write_rst_stream(&mut out, stream_id, code),
            None => return,
        },
        Frame::Settings(settings) => {
            let list: Vec<Setting> = settings.iter().collect();
            write_settings(&mut out, &list);
            let Ok(ParsedFrame::Complete {
                frame: Frame::Settings(again),
                ..
            }) = parse_frame(&out, MIN_MAX_FRAME_SIZE)
            else {
                panic!("{list:?} written is not a SETTINGS frame");
            };
            assert_eq!(again.iter().collect::<Vec<_>>(), list);
            return;
        }
        Frame::SettingsAck => write_settings_ack(&mut out),
        Frame::Ping { ack: true, opaque } => write_ping_ack(&mut out, opaque),
        Frame::GoAway {
            last_stream_id,
            error_code,
            debug_data,
        } if debug_data.len() <= MAX_GOAWAY_DEBUG_LEN => match H2ErrorCode::from_wire(error_code)
        {
            Some(code) => write_goaway(&mut out, last_stream_id, code, debug_data),
            None => return,
        },
        Frame::WindowUpdate {
            stream_id,
            increment,
        } => write_window_update(&mut out, stream_id, increment),
        _ => return,
    }
    assert_eq!(
        parse_frame(&out, MAX_MAX_FRAME_SIZE),
        Ok(ParsedFrame::Complete {
            frame: *frame,
            consumed: out.len()
        })
    );
}
