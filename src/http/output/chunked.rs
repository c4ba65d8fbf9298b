//! A body made as it is sent, framed with the chunked transfer coding (RFC 9112 §7.1).
//!
//! Pull-based: one step of the source is made and framed as one chunk, and the next only
//! once the socket has taken all of it, so a connection holds one step's bytes at a time,
//! and a client that reads slowly makes the server do no work ahead of it.

use crate::http::response::Source;
use std::io::Write;

/// The last chunk and the empty trailer section that end a chunked body (RFC 9112 §7.1:
/// `last-chunk trailer-section CRLF`).
const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// How far a chunked body has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// More steps follow the bytes framed.
    Open,
    /// The bytes framed end with the last chunk.
    Last,
    /// The source failed: the body cannot be finished, and the connection must close, so
    /// that the client sees an incomplete message (RFC 9112 §8) rather than a short one.
    Failed,
}

/// A source's content, framed as chunks, one step at a time.
#[derive(Debug)]
pub struct Chunked {
    source: Box<dyn Source>,
    /// The framed bytes of the last step, from `written` on still to send.
    framed: Vec<u8>,
    written: usize,
    /// One step's content, before framing.
    data: Vec<u8>,
    state: State,
}

impl Chunked {
    /// The content of `source`, with its first step made; see [`Chunked::pending`].
    pub fn new(source: Box<dyn Source>) -> Chunked {
        let mut chunked = Chunked {
            source,
            framed: Vec::new(),
            written: 0,
            data: Vec::new(),
            state: State::Open,
        };
        chunked.step();
        chunked
    }

    /// The framed bytes not sent yet; `None` once the source failed.
    pub fn pending(&self) -> Option<&[u8]> {
        match self.state {
            State::Failed => None,
            State::Open | State::Last => self.framed.get(self.written..),
        }
    }

    /// The framed bytes made so far and not sent: their count.
    pub fn framed_len(&self) -> u64 {
        (self.framed.len() - self.written) as u64
    }

    /// Takes up to `n` bytes off the pending ones; returns how many it took, and whether the
    /// body is done (its last chunk sent). Once the pending bytes are all taken, the next step
    /// is made: the bytes it framed are counted in `grown`.
    pub fn advance(&mut self, n: u64, grown: &mut u64) -> (u64, bool) {
        let rest = (self.framed.len() - self.written) as u64;
        let take = rest.min(n);
        // `take` is at most the rest of an in-memory buffer, a usize.
        self.written += usize::try_from(take).unwrap_or(usize::MAX);
        if self.written < self.framed.len() {
            return (take, false);
        }
        match self.state {
            State::Last => (take, true),
            State::Failed => (take, false),
            State::Open => {
                *grown += self.step();
                (take, false)
            }
        }
    }

    /// Makes the next step's bytes, framed: steps that make nothing (an encoder gathering
    /// input) are repeated until one does or the content ends. Returns the count framed.
    fn step(&mut self) -> u64 {
        self.framed.clear();
        self.written = 0;
        loop {
            self.data.clear();
            match self.source.fill(&mut self.data) {
                Ok(done) => {
                    if !self.data.is_empty() {
                        // chunk = chunk-size CRLF chunk-data CRLF; chunk-size = 1*HEXDIG.
                        let _ = write!(self.framed, "{:X}\r\n", self.data.len());
                        self.framed.extend_from_slice(&self.data);
                        self.framed.extend_from_slice(b"\r\n");
                    }
                    if done {
                        self.framed.extend_from_slice(LAST_CHUNK);
                        self.state = State::Last;
                    }
                    if done || !self.framed.is_empty() {
                        break;
                    }
                }
                Err(e) => {
                    log::warn!("making a streamed body failed: {e}; closing the connection");
                    self.framed.clear();
                    self.state = State::Failed;
                    break;
                }
            }
        }
        self.framed.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// Gives its `steps` one at a time (an empty one makes nothing), then ends, or fails
    /// when `fail` is set.
    struct Steps {
        steps: Vec<&'static [u8]>,
        fail: bool,
    }

    impl Source for Steps {
        fn fill(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
            if self.steps.is_empty() {
                return match self.fail {
                    true => Err(io::Error::other("shrank")),
                    false => Ok(true),
                };
            }
            out.extend_from_slice(self.steps.remove(0));
            Ok(self.steps.is_empty() && !self.fail)
        }
    }

    fn steps(steps: Vec<&'static [u8]>, fail: bool) -> Box<Steps> {
        Box::new(Steps { steps, fail })
    }

    /// Sends everything, `n` bytes at a time.
    fn drain(chunked: &mut Chunked, n: u64) -> Vec<u8> {
        let mut sent = Vec::new();
        loop {
            let Some(pending) = chunked.pending() else {
                return sent;
            };
            let take = pending.len().min(n as usize);
            sent.extend_from_slice(&pending[..take]);
            let (took, done) = chunked.advance(take as u64, &mut 0);
            assert_eq!(took, take as u64);
            if done {
                return sent;
            }
        }
    }

    #[test]
    fn each_step_is_a_chunk_and_the_last_chunk_ends_the_body() {
        let mut chunked = Chunked::new(steps(vec![b"hello", b"", b"0123456789abcdef!"], false));
        assert_eq!(
            drain(&mut chunked, 3),
            b"5\r\nhello\r\n11\r\n0123456789abcdef!\r\n0\r\n\r\n"
        );
        // An empty body is the last chunk alone.
        let mut chunked = Chunked::new(steps(vec![], false));
        assert_eq!(drain(&mut chunked, 100), LAST_CHUNK);
    }

    #[test]
    fn the_next_step_is_made_only_once_the_last_is_sent() {
        let mut chunked = Chunked::new(steps(vec![b"one", b"two", b"six"], false));
        assert_eq!(chunked.pending(), Some(&b"3\r\none\r\n"[..]));
        let mut grown = 0;
        assert_eq!(chunked.advance(4, &mut grown), (4, false));
        assert_eq!((grown, chunked.framed_len()), (0, 4));
        assert_eq!(chunked.advance(4, &mut grown), (4, false));
        // Sent whole: the next step is framed, and counted.
        assert_eq!(chunked.pending(), Some(&b"3\r\ntwo\r\n"[..]));
        assert_eq!(grown, 8);
    }

    #[test]
    fn a_failing_source_leaves_the_body_unfinished() {
        let mut chunked = Chunked::new(steps(vec![b"part"], true));
        let sent = drain(&mut chunked, 100);
        assert_eq!(sent, b"4\r\npart\r\n");
        assert!(chunked.pending().is_none());
    }
}
