//! The chunked transfer coding (RFC 9112 §7.1): a push decoder.

use crate::{Error, Parsed};

/// Bounds on a chunked body, set by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkedLimits {
    /// Largest chunk-size accepted.
    pub max_chunk_size: u64,
    /// Longest chunk line (size, extensions and CRLF).
    pub max_chunk_line: usize,
    /// Largest trailer section.
    pub max_trailer: usize,
}

impl Default for ChunkedLimits {
    fn default() -> Self {
        todo!()
    }
}

/// One step of decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Body data (a part of a chunk's data), borrowed from the input.
    Data(&'a [u8]),
    /// The last-chunk and the trailer section are through: the body has ended.
    End,
}

/// Decodes a chunked body fed in pieces.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new(limits: ChunkedLimits) -> Self {
        let _ = limits;
        todo!()
    }

    /// Decodes the next step from `input`, which starts right after the bytes consumed so far.
    /// Error offsets count from the first byte of the body.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Parsed<Chunk<'a>>, Error> {
        let _ = input;
        todo!()
    }
}
