//! Fuzzes `ChunkedDecoder` for its contract:
//! - it never panics; `Complete` consumes at least one byte and at most the input;
//! - the body data it returns is never more than the input;
//! - fed in pieces (sizes taken from the input's first bytes), it returns the same data,
//!   consumes the same bytes and ends the same way (end, error with the same kind and
//!   offset, or waiting for more) as fed the whole body at once;
//! - after an error or the end, later calls repeat it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{Chunk, ChunkedDecoder, ChunkedLimits, Error, Parsed};

/// Small limits, so that the fuzzer reaches them.
const LIMITS: ChunkedLimits = ChunkedLimits {
    max_chunk_size: 1 << 20,
    max_chunk_line: 64,
    max_trailer: 128,
};

/// How a decode run ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    /// The body ended after this many bytes.
    Done(usize),
    /// The body was rejected.
    Failed(Error),
    /// The input ran out after this many bytes were consumed.
    Waiting(usize),
}

/// Feeds `pieces` one after another, keeping unconsumed bytes as a caller would; returns the
/// data decoded and how the run ended.
fn run<'p>(pieces: impl Iterator<Item = &'p [u8]>) -> (Vec<u8>, End) {
    let mut decoder = ChunkedDecoder::new(LIMITS);
    let mut buffer: Vec<u8> = Vec::new();
    let mut data = Vec::new();
    let mut consumed_total = 0;
    let mut fed = 0;
    for piece in pieces {
        buffer.extend_from_slice(piece);
        fed += piece.len();
        loop {
            match decoder.decode(&buffer) {
                Ok(Parsed::Complete { value, consumed }) => {
                    assert!(consumed > 0 && consumed <= buffer.len());
                    consumed_total += consumed;
                    match value {
                        Chunk::Data(d) => {
                            assert!(d.len() <= consumed);
                            data.extend_from_slice(d);
                            buffer.drain(..consumed);
                        }
                        Chunk::End => {
                            let again = decoder.decode(b"more");
                            let end = Parsed::Complete {
                                value: Chunk::End,
                                consumed: 0,
                            };
                            assert_eq!(again, Ok(end));
                            return (data, End::Done(consumed_total));
                        }
                    }
                }
                Ok(Parsed::Partial) => break,
                Err(error) => {
                    assert!(error.offset() <= fed, "{error:?} past {fed} bytes");
                    assert_eq!(error.status(), 400);
                    assert_eq!(decoder.decode(b"0\r\n\r\n"), Err(error));
                    return (data, End::Failed(error));
                }
            }
        }
    }
    (data, End::Waiting(consumed_total))
}

fuzz_target!(|input: &[u8]| {
    let Some((&cuts, body)) = input.split_first() else {
        return;
    };
    let (whole_data, whole_end) = run(std::iter::once(body));
    assert!(whole_data.len() <= body.len());
    if let End::Done(n) | End::Waiting(n) = whole_end {
        assert!(n <= body.len());
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
    let (piece_data, piece_end) = run(pieces);
    assert_eq!(piece_data, whole_data);
    assert_eq!(piece_end, whole_end);
});
