//! Fuzzes `MultipartDecoder` for its contract, on bodies delimited by the boundary `b`:
//! - it never panics; a step consumes at most the input, and content is never more than the
//!   bytes consumed;
//! - no content byte is part of a delimiter: no part's content, its slices put together,
//!   holds `\r\n--b`;
//! - bounded state: whenever it answers `Partial`, the caller holds at most
//!   `lookahead()` bytes;
//! - fed in pieces (sizes taken from the input's first byte), it returns the same parts
//!   (heads and content) and ends the same way (end, the same error at the same offset, or
//!   a truncated body) as fed the whole body at once;
//! - after an error or the end, later calls repeat it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{
    Boundary, MultipartDecoder, MultipartError, MultipartEvent, MultipartLimits, Parsed, PartHead,
};

/// Small limits, so that the fuzzer reaches them.
const LIMITS: MultipartLimits = MultipartLimits {
    max_part_head: 160,
    max_parts: 8,
};

const BOUNDARY: &[u8] = b"b";

/// `CRLF "--" boundary`, which no part's content may hold.
const DELIMITER: &[u8] = b"\r\n--b";

/// How a decode run ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The close-delimiter came.
    Done,
    /// The body was rejected, or ended without its close-delimiter.
    Failed(MultipartError),
}

/// Feeds `pieces` one after another, keeping unconsumed bytes as a caller would, then ends
/// the body; returns the parts decoded and how the run ended.
fn run<'p>(pieces: impl Iterator<Item = &'p [u8]>) -> (Vec<(PartHead, Vec<u8>)>, End) {
    let boundary = Boundary::new(BOUNDARY).expect("a valid boundary");
    let mut decoder = MultipartDecoder::new(boundary, LIMITS);
    let mut buffer: Vec<u8> = Vec::new();
    let mut parts: Vec<(PartHead, Vec<u8>)> = Vec::new();
    let mut fed = 0;
    for piece in pieces {
        buffer.extend_from_slice(piece);
        fed += piece.len();
        loop {
            match decoder.decode(&buffer) {
                Ok(Parsed::Complete { value, consumed }) => {
                    assert!(consumed <= buffer.len());
                    match value {
                        MultipartEvent::PartStart(head) => parts.push((head, Vec::new())),
                        MultipartEvent::Data(d) => {
                            assert!(consumed > 0 && d.len() <= consumed);
                            if let Some((_, content)) = parts.last_mut() {
                                content.extend_from_slice(d);
                            }
                        }
                        MultipartEvent::PartEnd => {}
                        MultipartEvent::End => {
                            let again = decoder.decode(b"epilogue");
                            let end = Parsed::Complete {
                                value: MultipartEvent::End,
                                consumed: 8,
                            };
                            assert_eq!(again, Ok(end));
                            assert_eq!(decoder.finish(b""), Ok(()));
                            return (parts, End::Done);
                        }
                    }
                    buffer.drain(..consumed);
                }
                Ok(Parsed::Partial) => {
                    assert!(buffer.len() <= decoder.lookahead());
                    break;
                }
                Err(error) => {
                    assert!(error.offset() <= fed, "{error:?} past {fed} bytes");
                    assert_eq!(decoder.decode(b"--b--"), Err(error));
                    return (parts, End::Failed(error));
                }
            }
        }
    }
    let error = decoder.finish(&buffer).expect_err("no close-delimiter");
    assert_eq!(error.offset(), fed);
    (parts, End::Failed(error))
}

fuzz_target!(|input: &[u8]| {
    let Some((&cuts, body)) = input.split_first() else {
        return;
    };
    let (whole_parts, whole_end) = run(std::iter::once(body));
    assert!(whole_parts.len() <= LIMITS.max_parts);
    for (_, content) in &whole_parts {
        assert!(!content.windows(DELIMITER.len()).any(|w| w == DELIMITER));
    }
    // Pieces of 1 to 8 bytes, the sizes cycling through the bits of `cuts`.
    let size = |i: usize| 1 + ((cuts as usize >> (i % 8)) & 7);
    let mut rest = body;
    let pieces = (0..).map_while(|i| {
        if rest.is_empty() {
            return None;
        }
        let (piece, after) = rest.split_at(size(i).min(rest.len()));
        rest = after;
        Some(piece)
    });
    let (piece_parts, piece_end) = run(pieces);
    assert_eq!(piece_parts, whole_parts);
    assert_eq!(piece_end, whole_end);
});
