//! Request bodies, read through their framing (RFC 9112 §6.3), counted and discarded.
//!
//! The server answers GET and HEAD, whose bodies have no meaning (RFC 9110 §9.3.1), so a body
//! is read only to find where the next request starts. Every byte that arrives for it counts
//! against [`MAX_DISCARDED_BODY`]: for a chunked body the chunk-size lines, extensions,
//! chunk CRLFs and trailer section as well as the data, so a client cannot make the server
//! read without bound by sending framing instead of content.

use nomserve_grammar::{BodyFraming, Chunk, ChunkedDecoder, ChunkedLimits, Error, Parsed};

/// The most request-body bytes read and discarded for one request: 1 MiB. Past this a client
/// is sending an upload to a server that takes none, and gets 413 and a closed connection.
pub const MAX_DISCARDED_BODY: u64 = 1024 * 1024;

/// Reads a request body through its framing.
#[derive(Debug, Clone)]
pub enum BodyReader {
    /// `message-body = *OCTET` of exactly `Content-Length = 1*DIGIT` octets (RFC 9112 §6,
    /// §6.2): this many bytes remain.
    Length { remaining: u64, read: u64 },
    /// `chunked-body = *chunk last-chunk trailer-section CRLF` (RFC 9112 §7.1), decoded by
    /// the grammar's push decoder; `read` counts every byte it consumed.
    Chunked { decoder: ChunkedDecoder, read: u64 },
}

/// Where a body stands after the buffered bytes were consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyState {
    /// It continues in bytes not read yet.
    More,
    /// It is through.
    Done,
    /// More than [`MAX_DISCARDED_BODY`] bytes of it arrived and more are to come.
    TooLarge,
}

impl BodyReader {
    /// The reader for `framing`; `None` when there is no body to read.
    pub fn new(framing: BodyFraming) -> Option<BodyReader> {
        match framing {
            BodyFraming::None | BodyFraming::ContentLength(0) => None,
            BodyFraming::ContentLength(remaining) => {
                Some(BodyReader::Length { remaining, read: 0 })
            }
            BodyFraming::Chunked => Some(BodyReader::Chunked {
                decoder: ChunkedDecoder::new(ChunkedLimits::default()),
                read: 0,
            }),
        }
    }

    /// Consumes body bytes from the start of `input`; returns how many it used (the rest
    /// belongs to the next request, or is an incomplete chunk line waiting for more) and
    /// where the body stands. Stops once [`MAX_DISCARDED_BODY`] bytes were used and the body
    /// goes on. Errors are the chunked decoder's, with offsets from the body's first byte.
    pub fn consume(&mut self, input: &[u8]) -> Result<(usize, BodyState), Error> {
        match self {
            BodyReader::Length { remaining, read } => {
                let room = MAX_DISCARDED_BODY.saturating_sub(*read);
                let take = (*remaining).min(room).min(input.len() as u64);
                *remaining -= take;
                *read += take;
                let state = if *remaining == 0 {
                    BodyState::Done
                } else if *read >= MAX_DISCARDED_BODY {
                    BodyState::TooLarge
                } else {
                    BodyState::More
                };
                // `take` is at most `input.len()`, a usize.
                Ok((usize::try_from(take).unwrap_or(input.len()), state))
            }
            BodyReader::Chunked { decoder, read } => {
                let mut used = 0;
                loop {
                    let rest = input.get(used..).unwrap_or_default();
                    if rest.is_empty() {
                        return Ok((used, BodyState::More));
                    }
                    let (consumed, end) = match decoder.decode(rest)? {
                        // An incomplete chunk line or trailer: it counts too, so that one
                        // endless line cannot grow past the limit unnoticed.
                        Parsed::Partial => {
                            if *read + rest.len() as u64 > MAX_DISCARDED_BODY {
                                return Ok((used, BodyState::TooLarge));
                            }
                            return Ok((used, BodyState::More));
                        }
                        Parsed::Complete {
                            value: Chunk::End,
                            consumed,
                        } => (consumed, true),
                        Parsed::Complete {
                            value: Chunk::Data(_),
                            consumed,
                        } => (consumed, false),
                    };
                    // The decoder never reports more than it was given; the clamp keeps
                    // `used` a valid index into `input` regardless.
                    let consumed = consumed.min(rest.len());
                    used += consumed;
                    *read += consumed as u64;
                    if *read > MAX_DISCARDED_BODY {
                        return Ok((used, BodyState::TooLarge));
                    }
                    if end {
                        return Ok((used, BodyState::Done));
                    }
                    // A step that used nothing cannot progress on these bytes.
                    if consumed == 0 {
                        return Ok((used, BodyState::More));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_bodies_are_consumed_up_to_their_length() {
        let mut body = BodyReader::new(BodyFraming::ContentLength(5)).unwrap();
        assert_eq!(body.consume(b"abc").unwrap(), (3, BodyState::More));
        assert_eq!(body.consume(b"").unwrap(), (0, BodyState::More));
        assert_eq!(body.consume(b"deGET /").unwrap(), (2, BodyState::Done));
        assert!(BodyReader::new(BodyFraming::ContentLength(0)).is_none());
        assert!(BodyReader::new(BodyFraming::None).is_none());
    }

    #[test]
    fn a_content_length_body_past_the_limit_stops_at_the_limit() {
        let mut body =
            BodyReader::new(BodyFraming::ContentLength(MAX_DISCARDED_BODY + 10)).unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        let mut total = 0;
        loop {
            let (used, state) = body.consume(&chunk).unwrap();
            total += used;
            match state {
                BodyState::More => {}
                BodyState::TooLarge => break,
                BodyState::Done => panic!("a body over the limit finished"),
            }
        }
        assert_eq!(total as u64, MAX_DISCARDED_BODY);

        // Exactly at the limit is fine.
        let mut body = BodyReader::new(BodyFraming::ContentLength(MAX_DISCARDED_BODY)).unwrap();
        let all = vec![b'x'; MAX_DISCARDED_BODY as usize];
        assert_eq!(body.consume(&all).unwrap(), (all.len(), BodyState::Done));
    }

    #[test]
    fn chunked_bodies_are_consumed_to_their_end() {
        let input = b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
        // Whole, then fed in every split: the body ends at the same byte.
        let end = input.len() - b"GET / HTTP/1.1\r\n".len();
        let mut body = BodyReader::new(BodyFraming::Chunked).unwrap();
        assert_eq!(body.consume(input).unwrap(), (end, BodyState::Done));
        for split in 0..end {
            let mut body = BodyReader::new(BodyFraming::Chunked).unwrap();
            let (used, state) = body.consume(&input[..split]).unwrap();
            assert_eq!(state, BodyState::More, "split {split}");
            let (rest, state) = body.consume(&input[used..]).unwrap();
            assert_eq!(
                (used + rest, state),
                (end, BodyState::Done),
                "split {split}"
            );
        }
    }

    #[test]
    fn chunk_framing_counts_against_the_limit() {
        // One data byte per chunk, carried by a long extension: well under 1 MiB of data,
        // but the bytes on the wire pass the limit.
        let extension = "x".repeat(3000);
        let chunk = format!("1;e={extension}\r\na\r\n");
        let mut body = BodyReader::new(BodyFraming::Chunked).unwrap();
        let mut wire = 0usize;
        let mut data = 0usize;
        let state = loop {
            let (used, state) = body.consume(chunk.as_bytes()).unwrap();
            wire += used;
            data += 1;
            if state != BodyState::More {
                break state;
            }
            assert_eq!(used, chunk.len(), "each whole chunk is consumed");
        };
        assert_eq!(state, BodyState::TooLarge);
        assert!(data < 400, "{data} data bytes");
        assert!(wire as u64 > MAX_DISCARDED_BODY - chunk.len() as u64);
    }

    #[test]
    fn malformed_chunked_bodies_are_errors() {
        let mut body = BodyReader::new(BodyFraming::Chunked).unwrap();
        let err = body.consume(b"zz\r\n").unwrap_err();
        assert_eq!(err.status(), 400);
    }
}
