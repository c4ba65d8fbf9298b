//! Request bodies, read through their framing (RFC 9112 §6.3): given to the handler's sink
//! when it takes the body ([`crate::http::response::BodySink`]), else counted and discarded.
//!
//! A body no handler takes is read only to find where the next request starts. Every byte
//! that arrives for it counts against [`MAX_DISCARDED_BODY`]: for a chunked body the
//! chunk-size lines, extensions, chunk CRLFs and trailer section as well as the data, so a
//! client cannot make the server read without bound by sending framing instead of content.
//! A body a sink takes has no bound here: the sink bounds what it takes (an upload's
//! largest size), and refuses past it, and from there the rest is discarded under the same
//! bound, counted from the refusal.
//!
//! While a sink takes the body, its deadline is one header timeout from the last piece
//! taken (an upload of any size goes on as long as it moves); a discarded body has one
//! header timeout in all, as it always had.

use super::exchange::{Exchange, MAX_DISCARDED_BODY, body_too_large, malformed};
use super::{Close, Conn, State, Step};
use crate::conn::Context;
use crate::http::response::BodySink;
use crate::http::response::Response;
use nomserve_grammar::{BodyFraming, Chunk, ChunkedDecoder, ChunkedLimits, Error, Parsed};
use std::time::Instant;

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
    /// More than the limit's bytes of it arrived and more are to come.
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

    /// Bytes of the body consumed so far, framing included.
    pub fn read(&self) -> u64 {
        match self {
            BodyReader::Length { read, .. } | BodyReader::Chunked { read, .. } => *read,
        }
    }

    /// Consumes body bytes from the start of `input`, handing the content to `data` piece by
    /// piece (never an empty one); returns how many it used (the rest belongs to the next
    /// request, or is an incomplete chunk line waiting for more) and where the body stands.
    /// Stops once `limit` bytes (framing included) were used in all and the body goes on.
    /// Errors are the chunked decoder's, with offsets from the body's first byte.
    pub fn consume(
        &mut self,
        input: &[u8],
        limit: u64,
        data: &mut dyn FnMut(&[u8]),
    ) -> Result<(usize, BodyState), Error> {
        match self {
            BodyReader::Length { remaining, read } => {
                let room = limit.saturating_sub(*read);
                let take = (*remaining).min(room).min(input.len() as u64);
                *remaining -= take;
                *read += take;
                let state = if *remaining == 0 {
                    BodyState::Done
                } else if *read >= limit {
                    BodyState::TooLarge
                } else {
                    BodyState::More
                };
                // `take` is at most `input.len()`, a usize.
                let take = usize::try_from(take).unwrap_or(input.len());
                if let Some(piece) = input.get(..take).filter(|piece| !piece.is_empty()) {
                    data(piece);
                }
                Ok((take, state))
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
                            if *read + rest.len() as u64 > limit {
                                return Ok((used, BodyState::TooLarge));
                            }
                            return Ok((used, BodyState::More));
                        }
                        Parsed::Complete {
                            value: Chunk::End,
                            consumed,
                        } => (consumed, true),
                        Parsed::Complete {
                            value: Chunk::Data(piece),
                            consumed,
                        } => {
                            if !piece.is_empty() {
                                data(piece);
                            }
                            (consumed, false)
                        }
                    };
                    // The decoder never reports more than it was given; the clamp keeps
                    // `used` a valid index into `input` regardless.
                    let consumed = consumed.min(rest.len());
                    used += consumed;
                    *read += consumed as u64;
                    if *read > limit {
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

/// A response waiting for its request's body to be read.
#[derive(Debug)]
pub struct Pending {
    /// The answer once the body is through; while a sink takes the body, the accepting
    /// response, whose fields the sink's answer gets.
    pub response: Response,
    pub exchange: Exchange,
    pub close: Option<Close>,
    /// The handler's sink, while it takes the body.
    pub sink: Option<Box<dyn BodySink>>,
    /// The body's bytes read (framing included) past which the rest is not discarded but
    /// answered (413, or the sink's refusal): [`MAX_DISCARDED_BODY`] from where discarding
    /// began.
    pub limit: u64,
    /// `response` is the sink's refusal.
    pub refused: bool,
}

impl Pending {
    /// The answer to a request whose body is not taken: `response`, after the body is read
    /// and discarded up to [`MAX_DISCARDED_BODY`].
    pub fn discarding(response: Response, exchange: Exchange, close: Option<Close>) -> Pending {
        Pending {
            response,
            exchange,
            close,
            sink: None,
            limit: MAX_DISCARDED_BODY,
            refused: false,
        }
    }
}

impl Conn {
    /// Reads the buffered body bytes: gives them to the handler's sink, or discards them.
    /// Once the body is through, queues the answer (the sink's). A sink's refusal becomes
    /// the answer, the sink is dropped (it removes what it made), and the rest is discarded.
    /// A malformed chunked body is answered with its error (400), a body discarded past its
    /// limit with 413; both close. A body still arriving after its deadline closes the
    /// connection, dropping the sink.
    pub(super) fn read_body(
        &mut self,
        mut body: BodyReader,
        mut deadline: Instant,
        mut pending: Pending,
        ctx: &Context<'_>,
        now: Instant,
    ) -> Step {
        if now >= deadline {
            log::debug!(
                "{}: request body unfinished at its deadline; closing",
                self.peer
            );
            return Step::Close;
        }
        let limit = match pending.sink {
            Some(_) => u64::MAX,
            None => pending.limit,
        };
        let mut refusal = None;
        let mut took = false;
        let outcome = body.consume(self.unprocessed(), limit, &mut |piece| {
            if let (Some(sink), None) = (pending.sink.as_mut(), refusal.as_ref()) {
                took = true;
                refusal = sink.take(piece).err();
            }
        });
        if let Some(refusal) = refusal {
            log::debug!(
                "{}: the handler refused the body: {}",
                self.peer,
                refusal.status
            );
            pending.sink = None;
            pending.response = *refusal;
            pending.refused = true;
            pending.limit = body.read().saturating_add(MAX_DISCARDED_BODY);
        } else if took {
            // A body taken moves its deadline: one header timeout from the last piece.
            deadline = now + self.timeouts.header;
        }
        match outcome {
            Ok((used, BodyState::More)) => {
                self.pos += used;
                self.state = State::Body {
                    body,
                    deadline,
                    pending: Box::new(pending),
                };
                Step::NeedBytes
            }
            Ok((used, BodyState::Done)) => {
                self.pos += used;
                let Pending {
                    response,
                    exchange,
                    close,
                    sink,
                    ..
                } = pending;
                let response = match sink {
                    Some(sink) => response.after_body(sink.finish()),
                    None => response,
                };
                self.finish(response, exchange, close, ctx.shutting_down, now)
            }
            // A sink's refusal stays the answer (a 413 would hide its reason); any other
            // answer becomes 413.
            Ok((used, BodyState::TooLarge)) => {
                self.pos += used;
                log::debug!(
                    "{}: request body past {MAX_DISCARDED_BODY} bytes discarded; closing",
                    self.peer
                );
                let response = match pending.refused {
                    true => pending.response,
                    false => body_too_large(),
                };
                self.fail(response, pending.exchange, now)
            }
            Err(e) => {
                log::debug!("{}: malformed request body: {e}", self.peer);
                self.fail(malformed(&e), pending.exchange, now)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `body.consume` under the discarded limit, the content dropped.
    fn consume(body: &mut BodyReader, input: &[u8]) -> Result<(usize, BodyState), Error> {
        body.consume(input, MAX_DISCARDED_BODY, &mut |_| {})
    }

    #[test]
    fn content_is_handed_over_piece_by_piece_without_framing() {
        let mut got = Vec::new();
        let mut body = BodyReader::new(BodyFraming::Chunked).unwrap();
        let input = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let mut buffered = Vec::new();
        for byte in input {
            buffered.push(*byte);
            let (used, _) = body
                .consume(&buffered, u64::MAX, &mut |piece| {
                    got.extend_from_slice(piece)
                })
                .unwrap();
            buffered.drain(..used);
        }
        assert_eq!(got, b"abcde");
        let mut got = Vec::new();
        let mut body = BodyReader::new(BodyFraming::ContentLength(4)).unwrap();
        let state = body.consume(b"abcdGET", u64::MAX, &mut |piece| {
            got.extend_from_slice(piece)
        });
        assert_eq!(
            (state.unwrap(), &got[..]),
            ((4, BodyState::Done), &b"abcd"[..])
        );
        assert_eq!(body.read(), 4);
    }

    proptest::proptest! {
        /// Data chunked in any sizes, read in any splits, reaches the sink whole and in
        /// order, and the body ends where it ends.
        #[test]
        fn chunked_content_round_trips_in_any_splits(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
            sizes in proptest::collection::vec(1usize..300, 1..20),
            splits in proptest::collection::vec(1usize..100, 1..40),
        ) {
            let mut wire = Vec::new();
            let mut rest = &data[..];
            for size in sizes.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (chunk, after) = rest.split_at((*size).min(rest.len()));
                wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                wire.extend_from_slice(chunk);
                wire.extend_from_slice(b"\r\n");
                rest = after;
            }
            wire.extend_from_slice(b"0\r\n\r\nNEXT");
            let mut body = BodyReader::new(BodyFraming::Chunked).unwrap();
            let mut got = Vec::new();
            let mut buffered = Vec::new();
            let mut fed = 0;
            let mut done = false;
            for split in splits.iter().cycle() {
                let take = (*split).min(wire.len() - fed);
                buffered.extend_from_slice(&wire[fed..fed + take]);
                fed += take;
                let (used, state) = body
                    .consume(&buffered, u64::MAX, &mut |piece| got.extend_from_slice(piece))
                    .unwrap();
                buffered.drain(..used);
                if state == BodyState::Done {
                    done = true;
                    break;
                }
                if fed == wire.len() {
                    break;
                }
            }
            proptest::prop_assert!(done);
            proptest::prop_assert_eq!(&got, &data);
            // What is left is the next request's, untouched.
            proptest::prop_assert!(b"NEXT".starts_with(&buffered));
        }
    }

    #[test]
    fn content_length_bodies_are_consumed_up_to_their_length() {
        let mut body = BodyReader::new(BodyFraming::ContentLength(5)).unwrap();
        assert_eq!(consume(&mut body, b"abc").unwrap(), (3, BodyState::More));
        assert_eq!(consume(&mut body, b"").unwrap(), (0, BodyState::More));
        assert_eq!(
            consume(&mut body, b"deGET /").unwrap(),
            (2, BodyState::Done)
        );
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
            let (used, state) = consume(&mut body, &chunk).unwrap();
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
        assert_eq!(
            consume(&mut body, &all).unwrap(),
            (all.len(), BodyState::Done)
        );
    }

    #[test]
    fn chunked_bodies_are_consumed_to_their_end() {
        let input = b"3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
        // Whole, then fed in every split: the body ends at the same byte.
        let end = input.len() - b"GET / HTTP/1.1\r\n".len();
        let mut body = BodyReader::new(BodyFraming::Chunked).unwrap();
        assert_eq!(consume(&mut body, input).unwrap(), (end, BodyState::Done));
        for split in 0..end {
            let mut body = BodyReader::new(BodyFraming::Chunked).unwrap();
            let (used, state) = consume(&mut body, &input[..split]).unwrap();
            assert_eq!(state, BodyState::More, "split {split}");
            let (rest, state) = consume(&mut body, &input[used..]).unwrap();
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
            let (used, state) = consume(&mut body, chunk.as_bytes()).unwrap();
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
        let err = consume(&mut body, b"zz\r\n").unwrap_err();
        assert_eq!(err.status(), 400);
    }
}
