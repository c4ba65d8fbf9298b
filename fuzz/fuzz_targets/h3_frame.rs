//! Fuzzes `parse_h3_frame`, reading frame after frame from the input as a stream would, on
//! a control stream and on a request stream, under two payload bounds; and
//! `parse_uni_stream_type` and `parse_varint` on the input's start:
//! - never a panic;
//! - a complete frame takes no more than the input; DATA and unknown frames return before
//!   their payload, which is skipped; every strict prefix of a frame is partial, and the
//!   count it asks for never runs past the frame;
//! - a partial input never makes the caller hold more than a type, a length and the bound;
//! - an error is placed inside the input, and ends the run (the stream or the connection is
//!   gone either way);
//! - what the server's serialisers can write (SETTINGS, GOAWAY, the HEADERS and DATA
//!   headers) round-trips: written again, it parses to the same frame;
//! - a varint written again reads back the same, in no more bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{
    H3Frame, H3Setting, H3StreamKind, ParsedH3Frame, parse_h3_frame, parse_uni_stream_type,
    parse_varint, write_h3_data_header, write_h3_goaway, write_h3_headers_header,
    write_h3_settings, write_varint,
};

fuzz_target!(|input: &[u8]| {
    for kind in [H3StreamKind::Control, H3StreamKind::Request] {
        for max in [64, 16_384] {
            read_frames(input, kind, max);
        }
    }
    let _ = parse_uni_stream_type(input);
    if let Some((value, used)) = parse_varint(input) {
        assert!(used <= input.len());
        let mut out = Vec::new();
        write_varint(&mut out, value);
        assert!(out.len() <= used);
        assert_eq!(parse_varint(&out), Some((value, out.len())));
    }
});

/// Parses frames from `input` until it is used up, partial, or refused.
fn read_frames(input: &[u8], kind: H3StreamKind, max: u64) {
    let mut rest = input;
    loop {
        match parse_h3_frame(rest, kind, max) {
            Ok(ParsedH3Frame::Complete { frame, consumed }) => {
                assert!(consumed >= 2 && consumed <= rest.len());
                check_prefixes(&rest[..consumed], kind, max);
                round_trip(&frame, &rest[..consumed], kind);
                rest = &rest[consumed..];
                let skip = match frame {
                    H3Frame::Data { length } | H3Frame::Unknown { length, .. } => length,
                    _ => 0,
                };
                match usize::try_from(skip).ok().and_then(|n| rest.get(n..)) {
                    Some(after) => rest = after,
                    None => return,
                }
            }
            Ok(ParsedH3Frame::Partial { needed }) => {
                assert!(needed >= 1);
                assert!(rest.len() + needed <= 16 + max as usize, "{needed}");
                return;
            }
            Err(error) => {
                assert!(error.offset() < rest.len().max(1), "{error}");
                assert!(!error.to_string().is_empty());
                return;
            }
        }
    }
}

/// Every strict prefix of `frame`, a whole frame (or a DATA or unknown frame's header), is
/// partial, and asks for no more than the frame still lacks.
fn check_prefixes(frame: &[u8], kind: H3StreamKind, max: u64) {
    for end in 0..frame.len() {
        match parse_h3_frame(&frame[..end], kind, max) {
            Ok(ParsedH3Frame::Partial { needed }) => {
                assert!(
                    needed >= 1 && end + needed <= frame.len(),
                    "{frame:?} at {end}"
                )
            }
            other => panic!("{frame:?} cut at {end}: {other:?}"),
        }
    }
}

/// `frame`, read from `wire`, written with the server's serialisers when they can write
/// it, parses back to it.
fn round_trip(frame: &H3Frame<'_>, wire: &[u8], kind: H3StreamKind) {
    let mut out = Vec::new();
    match *frame {
        H3Frame::Settings(settings) => {
            let list: Vec<H3Setting> = settings.iter().collect();
            write_h3_settings(&mut out, &list);
            let Ok(ParsedH3Frame::Complete {
                frame: H3Frame::Settings(again),
                consumed,
            }) = parse_h3_frame(&out, kind, u64::MAX)
            else {
                panic!("{list:?} written is not a SETTINGS frame");
            };
            assert_eq!(consumed, out.len());
            assert_eq!(again.iter().collect::<Vec<_>>(), list);
            return;
        }
        H3Frame::GoAway { id } => write_h3_goaway(&mut out, id),
        H3Frame::Data { length } => write_h3_data_header(&mut out, length),
        H3Frame::Headers(section) => {
            write_h3_headers_header(&mut out, section.len() as u64);
            out.extend_from_slice(section);
        }
        _ => return,
    }
    assert!(out.len() <= wire.len());
    assert_eq!(
        parse_h3_frame(&out, kind, u64::MAX),
        Ok(ParsedH3Frame::Complete {
            frame: *frame,
            consumed: out.len()
        })
    );
}
