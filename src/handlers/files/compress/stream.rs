//! The fast version of a variant, compressed as it is sent: for the first clients of a file
//! too large to compress on the request's thread, while no version of it is kept.
//!
//! Each step reads and compresses one [`CHUNK`](super::level::CHUNK) of the file (about 1 ms
//! at the fast levels), and the connection asks for the next only once the socket has taken
//! the bytes of the last: the worker spends on it only what the client takes, in steps its
//! turn's budget bounds. The bytes are those the compression threads make of the same file
//! at the same level ([`level::compress`]), so the response carries the fast version's own
//! strong entity-tag (RFC 9110 §8.8.3: one tag, one sequence of bytes, for this encoder).
//!
//! The file is read through the descriptor opened for the request. A file rewritten in
//! place while it is streamed may mix old and new bytes, as a file sent with `sendfile`
//! may; one that shrank below the length it had fails the stream, and the connection is
//! closed before the body's last chunk, so that the client sees an incomplete response.

use super::level::{self, Encoder, Pass};
use crate::handlers::files::coding::ContentCoding;
use crate::handlers::files::slots::Slot;
use crate::http::response::Source;
use std::fs::File;
use std::io;
use std::sync::Arc;

/// The most responses streamed at once by one server (past it, a file goes as it is until
/// its fast version is made): each holds an encoder (up to a few MiB of window for brotli and
/// zstd) and takes worker time for every chunk its client reads, about 1 ms per 64 KiB at the
/// fast levels. Four keep that within a few percent of two cores and some 16 MiB of memory,
/// while the compression threads make the kept versions every later client gets.
pub const STREAMS: usize = 4;

/// The fast version of `len` bytes of `file` in one coding, made a chunk at a time. The
/// encoder is made at the first step: a HEAD response, which sends no body, makes none.
pub struct Stream {
    file: Arc<File>,
    len: u64,
    coding: ContentCoding,
    offset: u64,
    encoder: Option<Encoder>,
    chunk: Vec<u8>,
    _slot: Slot,
}

impl Stream {
    /// The fast version of the `len` bytes of `file` in `coding`, holding `slot`.
    pub fn new(file: Arc<File>, len: u64, coding: ContentCoding, slot: Slot) -> Stream {
        Stream {
            file,
            len,
            coding,
            offset: 0,
            encoder: None,
            chunk: Vec::new(),
            _slot: slot,
        }
    }
}

impl Source for Stream {
    fn fill(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        let encoder = match &mut self.encoder {
            Some(encoder) => encoder,
            None => {
                let level = level::level(self.coding, self.len, Pass::Fast);
                self.encoder
                    .insert(Encoder::new(self.coding, level, self.len, Vec::new())?)
            }
        };
        if self.offset < self.len {
            self.offset = encoder.feed(&self.file, self.offset, self.len, &mut self.chunk)?;
            out.append(encoder.output());
        }
        if self.offset < self.len {
            return Ok(false);
        }
        if let Some(encoder) = self.encoder.take() {
            out.extend_from_slice(&encoder.finish()?);
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::files::slots::Places;
    use std::io::Write;
    use std::sync::atomic::AtomicBool;

    fn file(bytes: &[u8]) -> Arc<File> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        Arc::new(file)
    }

    #[test]
    fn the_stream_sends_the_fast_versions_bytes_a_chunk_at_a_time() {
        let text: String = (0..40_000).map(|i| format!("<p>row {i}</p>\n")).collect();
        let len = text.len() as u64;
        let file = file(text.as_bytes());
        let places = Places::new(STREAMS);
        for coding in ContentCoding::ALL {
            let fast = level::level(coding, len, Pass::Fast);
            let whole = level::compress(&file, len, coding, fast, &AtomicBool::new(false)).unwrap();
            let mut stream = Stream::new(Arc::clone(&file), len, coding, places.take().unwrap());
            let (mut streamed, mut steps) = (Vec::new(), 0);
            loop {
                steps += 1;
                let done = stream.fill(&mut streamed).unwrap();
                // One chunk of input a step: never the whole file at once.
                assert_eq!(stream.offset, len.min(steps * level::CHUNK as u64));
                if done {
                    break;
                }
            }
            assert_eq!(steps, len.div_ceil(level::CHUNK as u64));
            assert!(streamed == whole, "coding {}", coding.name());
        }
    }

    #[test]
    fn a_file_that_shrank_fails_the_stream() {
        let file = file(&[b'a'; 100_000]);
        let places = Places::new(STREAMS);
        let mut stream = Stream::new(
            Arc::clone(&file),
            200_000,
            ContentCoding::Gzip,
            places.take().unwrap(),
        );
        let mut out = Vec::new();
        assert!(!stream.fill(&mut out).unwrap());
        let error = stream.fill(&mut out).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }
}
