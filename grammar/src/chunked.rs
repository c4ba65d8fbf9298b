//! The chunked transfer coding (RFC 9112 §7.1): a push decoder.
//!
//! A chunked body arrives in pieces of any size, so the decoder is a state machine the caller
//! feeds: it takes whatever bytes the caller has, returns the body data among them as a slice
//! of the caller's buffer (nothing is copied), and remembers where it is between calls. The
//! framing lines are parsed with nom's *streaming* combinators, which tell "these bytes are a
//! prefix of a valid line" (`Incomplete`: wait for more) from "no continuation can make this
//! valid" (an error, reported at once, with the offset of the offending byte counted from the
//! start of the body).
//!
//! Every framing element is bounded by [`ChunkedLimits`]: a chunk line, the trailer section and
//! the chunk-size itself, so a caller that buffers until the decoder makes progress never
//! buffers more than the larger of `max_chunk_line` and `max_trailer` bytes of framing.
//! [`ChunkedDecoder::decode`] is total: any input gives a result, never a panic, with work
//! linear in the input (a chunk line is re-scanned from its start on each call until it is
//! complete, at most `max_chunk_line` bytes; likewise one trailer line).
//!
//! ```
//! use nomserve_grammar::{Chunk, ChunkedDecoder, ChunkedLimits, Parsed};
//!
//! let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
//! let mut body: &[u8] = b"5\r\nhello\r\n6;lang=en\r\n world\r\n0\r\nExpires: never\r\n\r\n";
//! let mut data = Vec::new();
//! loop {
//!     match decoder.decode(body).unwrap() {
//!         Parsed::Complete { value: Chunk::Data(d), consumed } => {
//!             data.extend_from_slice(d);
//!             body = &body[consumed..];
//!         }
//!         Parsed::Complete { value: Chunk::End, consumed } => {
//!             body = &body[consumed..];
//!             break;
//!         }
//!         Parsed::Partial => unreachable!("the whole body is here"),
//!     }
//! }
//! assert_eq!(data, b"hello world");
//! assert!(body.is_empty());
//! ```

#![forbid(unsafe_code)]

use crate::abnf::{HEXDIG, crlf, hex_value, ows, quoted_string, token};
use crate::error::{Error, ErrorKind};
use crate::fail::{PResult, fail, incomplete, renamed};
use crate::fields::field_line;
use crate::types::Parsed;

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

impl ChunkedLimits {
    /// 2^40 bytes (1 TiB): no real chunk comes near it, and it keeps every size the decoder
    /// accepts far from `u64` overflow when added to a position. The size itself is bounded
    /// before it is computed: more than 16 significant hex digits fail at once.
    pub const DEFAULT_MAX_CHUNK_SIZE: u64 = 1 << 40;
    /// 4 KiB: a chunk-size needs at most 16 digits; the rest is room for extensions, which
    /// this server ignores. Past it, 400 (`ChunkExtensionTooLong`) instead of buffering an
    /// endless extension.
    pub const DEFAULT_MAX_CHUNK_LINE: usize = 4 * 1024;
    /// 16 KiB of trailer field lines: trailers are rare and small (checksums, signatures);
    /// this bounds what the decoder makes a caller buffer after the last chunk.
    pub const DEFAULT_MAX_TRAILER: usize = 16 * 1024;
}

impl Default for ChunkedLimits {
    fn default() -> Self {
        ChunkedLimits {
            max_chunk_size: Self::DEFAULT_MAX_CHUNK_SIZE,
            max_chunk_line: Self::DEFAULT_MAX_CHUNK_LINE,
            max_trailer: Self::DEFAULT_MAX_TRAILER,
        }
    }
}

/// One step of decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Body data (a part of a chunk's data), borrowed from the input. Empty when the step
    /// consumed only framing (a chunk line, a trailer line, the CRLF after chunk data) and no
    /// data followed it yet.
    Data(&'a [u8]),
    /// The last-chunk and the trailer section are through: the body has ended.
    End,
}

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Expecting a chunk line: `chunk-size [ chunk-ext ] CRLF`, or the last-chunk's.
    ChunkLine,
    /// Inside chunk-data, with this many bytes of it still to come.
    Data { remaining: u64 },
    /// Expecting the CRLF that ends chunk-data.
    DataEnd,
    /// Inside the trailer section, after this many bytes of field lines.
    Trailer { size: usize },
    /// The body has ended.
    Done,
    /// The body was rejected; every later call repeats the error.
    Failed(Error),
}

/// Decodes a chunked body fed in pieces.
///
/// ```text
/// chunked-body   = *chunk
///                  last-chunk
///                  trailer-section
///                  CRLF
/// chunk          = chunk-size [ chunk-ext ] CRLF
///                  chunk-data CRLF
/// chunk-data     = 1*OCTET ; a sequence of chunk-size octets
/// last-chunk     = 1*("0") [ chunk-ext ] CRLF
/// ```
/// RFC 9112 §7.1
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    limits: ChunkedLimits,
    state: State,
    /// Bytes of the body consumed so far: the base of every error offset.
    position: usize,
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new(limits: ChunkedLimits) -> Self {
        ChunkedDecoder {
            limits,
            state: State::ChunkLine,
            position: 0,
        }
    }

    /// Decodes the next step from `input`, which starts right after the bytes consumed so far.
    /// Error offsets count from the first byte of the body.
    ///
    /// Contract: the caller passes the bytes that follow everything consumed before (the
    /// first call gets the body's first byte), and after `Complete { consumed, .. }` drops
    /// `consumed` bytes from its buffer. Returns:
    /// - `Complete { value: Data(d), consumed }`: `d` is body data, as much as `input` holds
    ///   (a part of a chunk is returned at once, never held back for the rest); `consumed`
    ///   counts it and the framing around it. `d` may be empty when only framing was
    ///   consumed. `consumed` is never 0.
    /// - `Complete { value: End, consumed }`: the last-chunk, the trailer section and its
    ///   final CRLF are through; bytes after them (the next request) are not consumed. Later
    ///   calls return `End` again, consuming nothing.
    /// - `Partial`: `input` holds no complete step (half a chunk line, no data yet); nothing
    ///   was consumed: call again with more bytes appended.
    /// - `Err`: the body is malformed or past a limit (every kind maps to 400); later calls
    ///   return the same error.
    ///
    /// Decisions where RFC 9112 leaves room, each argued at its rule: only CRLF ends a line
    /// (no bare LF, unlike RFC 9112 §2.2's MAY); chunk-size is exactly `1*HEXDIG` with no
    /// whitespace or prefix; chunk extensions are parsed and then ignored (§7.1.1); trailer
    /// fields are checked for field-line syntax and then discarded (§7.1.2 lets a recipient
    /// drop them).
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Parsed<Chunk<'a>>, Error> {
        let mut at = 0;
        loop {
            let rest = input.get(at..).unwrap_or_default();
            match self.state {
                State::Failed(error) => return Err(error),
                State::Done => return Ok(self.step(Chunk::End, at)),
                State::ChunkLine => match self.chunk_line(rest) {
                    Ok(Some((0, len))) => {
                        at += len;
                        self.state = State::Trailer { size: 0 };
                    }
                    Ok(Some((size, len))) => {
                        at += len;
                        self.state = State::Data { remaining: size };
                    }
                    Ok(None) => return Ok(self.pause(input, at)),
                    Err(error) => return Err(self.fail(error, at)),
                },
                State::Data { remaining } => {
                    if rest.is_empty() {
                        return Ok(self.pause(input, at));
                    }
                    let n = usize::try_from(remaining).map_or(rest.len(), |r| r.min(rest.len()));
                    let (data, after) = rest.split_at(n);
                    at += n;
                    // n ≤ remaining, so this does not underflow.
                    let remaining = remaining - n as u64;
                    self.state = if remaining > 0 {
                        State::Data { remaining }
                    } else if after.starts_with(b"\r\n") {
                        at += 2;
                        State::ChunkLine
                    } else {
                        State::DataEnd
                    };
                    return Ok(self.step(Chunk::Data(data), at));
                }
                State::DataEnd => match chunk_data_end(rest) {
                    Ok(Some(len)) => {
                        at += len;
                        self.state = State::ChunkLine;
                    }
                    Ok(None) => return Ok(self.pause(input, at)),
                    Err(error) => return Err(self.fail(error, at)),
                },
                State::Trailer { size } => {
                    let budget = self.limits.max_trailer.saturating_sub(size);
                    match trailer_line(rest, budget) {
                        Ok(Some(TrailerLine::End)) => {
                            at += 2;
                            self.state = State::Done;
                            return Ok(self.step(Chunk::End, at));
                        }
                        Ok(Some(TrailerLine::Field(len))) => {
                            at += len;
                            self.state = State::Trailer { size: size + len };
                        }
                        Ok(None) => return Ok(self.pause(input, at)),
                        Err(error) => return Err(self.fail(error, at)),
                    }
                }
            }
        }
    }

    /// A finished step that consumed `consumed` bytes.
    fn step<'a>(&mut self, value: Chunk<'a>, consumed: usize) -> Parsed<Chunk<'a>> {
        self.position = self.position.saturating_add(consumed);
        Parsed::Complete { value, consumed }
    }

    /// More bytes are needed: `Partial` if this call consumed nothing, else the framing it
    /// consumed, as an empty data step (so that `Partial` always means "nothing consumed").
    fn pause<'a>(&mut self, input: &'a [u8], consumed: usize) -> Parsed<Chunk<'a>> {
        if consumed == 0 {
            Parsed::Partial
        } else {
            self.step(Chunk::Data(input.get(..0).unwrap_or_default()), consumed)
        }
    }

    /// Records `error`, found `at` bytes into this call's input, with its offset from the
    /// start of the body.
    fn fail(&mut self, error: Error, at: usize) -> Error {
        let error = error.shifted(self.position.saturating_add(at));
        self.state = State::Failed(error);
        error
    }

    /// A whole chunk line (or the last-chunk's line) at the start of `input`, within
    /// `max_chunk_line`: `Some((chunk size, line length))`, or `None` if `input` is a prefix
    /// of one. Offsets in the error are relative to `input`.
    ///
    /// `last-chunk = 1*("0") [ chunk-ext ] CRLF` (RFC 9112 §7.1) is the chunk line whose
    /// size is 0, so one rule reads both.
    fn chunk_line(&self, input: &[u8]) -> Result<Option<(u64, usize)>, Error> {
        let window = input.get(..self.limits.max_chunk_line).unwrap_or(input);
        match chunk_line(window, self.limits.max_chunk_size) {
            Ok((rest, size)) => Ok(Some((size, window.len() - rest.len()))),
            Err(nom::Err::Incomplete(_)) if input.len() > window.len() => {
                let kind = if window.iter().all(|&b| HEXDIG.contains(b)) {
                    ErrorKind::ChunkSizeTooLarge
                } else {
                    ErrorKind::ChunkExtensionTooLong
                };
                Err(Error::new(kind, window.len()))
            }
            Err(nom::Err::Incomplete(_)) => Ok(None),
            Err(nom::Err::Error(fail) | nom::Err::Failure(fail)) => Err(fail.into_error(window)),
        }
    }
}

/// `chunk-size [ chunk-ext ] CRLF`, the first line of a `chunk` (RFC 9112 §7.1).
///
/// Only CRLF ends the line, as everywhere in this grammar (see [`crlf`]).
///
/// What follows the chunk-size decides the error kind: whitespace not leading to `;`, or any
/// other stray byte, means the size was malformed (`InvalidChunkSize`: `5 `, `0x5`, `1_0`);
/// once an extension began, anything wrong is `InvalidChunkExtension` (`5;a\rX`); a bare LF or
/// a CR without LF right after the size is `InvalidLineEnding`.
fn chunk_line(input: &[u8], max_chunk_size: u64) -> PResult<'_, u64> {
    let (rest, size) = chunk_size(input, max_chunk_size)?;
    let (rest, extensions) = chunk_ext(rest)?;
    let kind = match rest.first() {
        _ if extensions > 0 => ErrorKind::InvalidChunkExtension,
        Some(b'\r' | b'\n') => ErrorKind::InvalidLineEnding,
        _ => ErrorKind::InvalidChunkSize,
    };
    let (rest, ()) = renamed(kind, crlf(rest))?;
    Ok((rest, size))
}

/// ```text
/// chunk-size = 1*HEXDIG
/// ```
/// RFC 9112 §7.1, exactly: no sign, no `0x`, no whitespace, no `_` (what the size parsers of
/// other servers have accepted is a classic smuggling vector). The value is bounded before it
/// is computed: more than 16 significant digits (leading zeros do not count) or a value above
/// `max_chunk_size` is `ChunkSizeTooLarge`, reported as soon as the digits seen so far show
/// it, at the chunk-size's first byte. An empty chunk-size is `InvalidChunkSize`.
fn chunk_size(input: &[u8], max_chunk_size: u64) -> PResult<'_, u64> {
    let len = HEXDIG.prefix_len(input);
    let (digits, rest) = input.split_at(len);
    let significant = digits.iter().skip_while(|&&d| d == b'0').count();
    if significant > 16 {
        return fail(ErrorKind::ChunkSizeTooLarge, input);
    }
    let size = digits
        .iter()
        .fold(0u64, |acc, &d| acc << 4 | u64::from(hex_value(d)));
    if size > max_chunk_size {
        return fail(ErrorKind::ChunkSizeTooLarge, input);
    }
    if rest.is_empty() {
        return incomplete();
    }
    if digits.is_empty() {
        return fail(ErrorKind::InvalidChunkSize, input);
    }
    Ok((rest, size))
}

/// ```text
/// chunk-ext      = *( BWS ";" BWS chunk-ext-name
///                     [ BWS "=" BWS chunk-ext-val ] )
/// ```
/// RFC 9112 §7.1.1. Parsed to find where the line ends, then ignored, as §7.1.1 requires of
/// a recipient for unrecognized extensions (this server recognizes none). Returns how many
/// extensions there were, and leaves whitespace that no `;` follows to the caller. After a
/// `;` a name must follow, and after `=` a value: anything else is `InvalidChunkExtension`
/// at the byte that does not fit (a bare `;`, `;=x`, `a="x<NUL>"`).
fn chunk_ext(input: &[u8]) -> PResult<'_, usize> {
    let mut rest = input;
    let mut count = 0;
    loop {
        let (after_ws, _) = ows(rest)?;
        match after_ws {
            [] => return incomplete(),
            [b';', after @ ..] => {
                rest = renamed(ErrorKind::InvalidChunkExtension, chunk_ext_element(after))?.0;
                count += 1;
            }
            _ => return Ok((rest, count)),
        }
    }
}

/// `BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ]`, one extension after its `;`
/// (RFC 9112 §7.1.1). Leaves whitespace that no `=` follows to the caller.
fn chunk_ext_element(input: &[u8]) -> PResult<'_, ()> {
    let (name, _) = ows(input)?;
    if name.is_empty() {
        return incomplete();
    }
    let (rest, _) = chunk_ext_name(name)?;
    match ows(rest)?.0 {
        [] => incomplete(),
        [b'=', after @ ..] => match ows(after)?.0 {
            [] => incomplete(),
            value => chunk_ext_val(value),
        },
        _ => Ok((rest, ())),
    }
}

/// `chunk-ext-name = token` (RFC 9112 §7.1.1)
fn chunk_ext_name(input: &[u8]) -> PResult<'_, &[u8]> {
    token(input)
}

/// `chunk-ext-val = token / quoted-string` (RFC 9112 §7.1.1)
fn chunk_ext_val(input: &[u8]) -> PResult<'_, ()> {
    let (rest, _) = match input {
        [b'"', ..] => quoted_string(input)?,
        _ => token(input)?,
    };
    Ok((rest, ()))
}

/// The CRLF after chunk-data (`chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF`,
/// RFC 9112 §7.1): `Some(2)` once it is there, `None` while it may still come. Anything else
/// means the chunk held more data than its size said: `MissingChunkDataCrlf`, at the first
/// byte that is not the CRLF.
fn chunk_data_end(input: &[u8]) -> Result<Option<usize>, Error> {
    match crlf(input) {
        Ok(_) => Ok(Some(2)),
        Err(nom::Err::Incomplete(_)) => Ok(None),
        Err(_) => {
            let at = usize::from(input.first() == Some(&b'\r'));
            Err(Error::new(ErrorKind::MissingChunkDataCrlf, at).with_byte_from(input))
        }
    }
}

/// One line of the trailer section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TrailerLine {
    /// A field line and its CRLF, this many bytes.
    Field(usize),
    /// The CRLF that ends the chunked body.
    End,
}

/// The next line of the trailer section, a field line of at most `budget` bytes (CRLF
/// included) or the final CRLF; `None` if `input` is a prefix of one.
///
/// ```text
/// trailer-section = *( field-line CRLF )
/// ```
/// RFC 9112 §7.1.2; the body's final `CRLF` is from `chunked-body` (§7.1). A line that begins
/// with CR or LF can only be that final CRLF (a field line starts with a token), so a bare LF
/// or a CR without LF there is `InvalidLineEnding`. A field line is the header section's
/// [`field_line`], whose failures (whitespace before the colon, obs-fold, a bad byte or line
/// ending in the value) are all `InvalidTrailer` here, at the byte where they happen; the
/// fields themselves are discarded (§7.1.2 lets a recipient drop them). A field line that
/// cannot fit in `budget` is `TrailerTooLarge`, reported at the byte past the budget.
fn trailer_line(input: &[u8], budget: usize) -> Result<Option<TrailerLine>, Error> {
    if let Some(b'\r' | b'\n') = input.first() {
        return match crlf(input) {
            Ok(_) => Ok(Some(TrailerLine::End)),
            Err(nom::Err::Incomplete(_)) => Ok(None),
            Err(nom::Err::Error(fail) | nom::Err::Failure(fail)) => Err(fail.into_error(input)),
        };
    }
    let window = input.get(..budget).unwrap_or(input);
    match renamed(ErrorKind::InvalidTrailer, field_line(window)) {
        Ok((rest, _)) => Ok(Some(TrailerLine::Field(window.len() - rest.len()))),
        Err(nom::Err::Incomplete(_)) if input.len() > window.len() => {
            Err(Error::new(ErrorKind::TrailerTooLarge, window.len()))
        }
        Err(nom::Err::Incomplete(_)) => Ok(None),
        Err(nom::Err::Error(fail) | nom::Err::Failure(fail)) => Err(fail.into_error(window)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// How feeding a body ended, when it did not fail.
    #[derive(Debug, PartialEq)]
    enum Outcome {
        /// End came: the data and the bytes consumed in total.
        End(Vec<u8>, usize),
        /// Every byte was fed and the decoder wants more: the data and bytes consumed so far.
        Short(Vec<u8>, usize),
    }

    /// Feeds `body` to a fresh decoder the way a server does: a buffer that grows by the
    /// pieces `sizes` gives (the rest at once when they run out), from which consumed bytes
    /// are dropped. Checks the contract at every step.
    fn run(body: &[u8], sizes: &[usize], limits: ChunkedLimits) -> Result<Outcome, Error> {
        let mut decoder = ChunkedDecoder::new(limits);
        let mut buffer: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut pieces = sizes.iter();
        let mut data = Vec::new();
        let mut total = 0;
        loop {
            match decoder.decode(&buffer)? {
                Parsed::Complete {
                    value: Chunk::Data(d),
                    consumed,
                } => {
                    assert!(consumed > 0, "a data step must make progress");
                    assert!(consumed <= buffer.len());
                    data.extend_from_slice(d);
                    buffer.drain(..consumed);
                    total += consumed;
                }
                Parsed::Complete {
                    value: Chunk::End,
                    consumed,
                } => {
                    assert!(consumed <= buffer.len());
                    total += consumed;
                    // End is sticky and consumes nothing more.
                    let again = decoder.decode(&buffer[consumed..])?;
                    assert_eq!(
                        again,
                        Parsed::Complete {
                            value: Chunk::End,
                            consumed: 0
                        }
                    );
                    return Ok(Outcome::End(data, total));
                }
                Parsed::Partial if fed == body.len() => return Ok(Outcome::Short(data, total)),
                Parsed::Partial => {
                    let n = pieces
                        .next()
                        .copied()
                        .unwrap_or(body.len())
                        .clamp(1, body.len() - fed);
                    buffer.extend_from_slice(&body[fed..fed + n]);
                    fed += n;
                }
            }
        }
    }

    /// [`run`] on a body expected to end.
    fn feed(
        body: &[u8],
        sizes: &[usize],
        limits: ChunkedLimits,
    ) -> Result<(Vec<u8>, usize), Error> {
        match run(body, sizes, limits)? {
            Outcome::End(data, total) => Ok((data, total)),
            Outcome::Short(..) => panic!("{:?} ended early", String::from_utf8_lossy(body)),
        }
    }

    fn decode_whole(body: &[u8]) -> Result<(Vec<u8>, usize), Error> {
        feed(body, &[body.len()], ChunkedLimits::default())
    }

    /// The kind and offset of the error `body`, fed whole, ends in; checks that the error
    /// names the body's byte at that offset exactly when its kind names one.
    fn error_of(body: &[u8]) -> (ErrorKind, usize) {
        let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
        let mut rest = body;
        loop {
            match decoder.decode(rest) {
                Ok(Parsed::Complete { consumed, value }) => {
                    assert!(
                        value != Chunk::End,
                        "{:?} was accepted",
                        String::from_utf8_lossy(body)
                    );
                    rest = &rest[consumed..];
                }
                Ok(Parsed::Partial) => {
                    panic!("{:?} is only partial", String::from_utf8_lossy(body))
                }
                Err(e) => {
                    crate::testing::assert_names_its_byte(body, &e);
                    return (e.kind(), e.offset());
                }
            }
        }
    }

    #[test]
    fn default_limits() {
        let limits = ChunkedLimits::default();
        assert_eq!(limits.max_chunk_size, 1 << 40);
        assert_eq!(limits.max_chunk_line, 4096);
        assert_eq!(limits.max_trailer, 16384);
    }

    #[test]
    fn valid_bodies() {
        let cases: &[(&[u8], &[u8])] = &[
            (b"0\r\n\r\n", b""),
            (b"000\r\n\r\n", b""),
            (b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
            (b"A\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"a\r\n0123456789\r\n0\r\n\r\n", b"0123456789"),
            (b"0005\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;ext=value\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;a=\"q s\"\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;a=\"q\\\"s\"\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5;a;b=c ; d = e\r\nhello\r\n0;last\r\n\r\n", b"hello"),
            (b"5\t;\ta\t=\t\"\"\r\nhello\r\n0\r\n\r\n", b"hello"),
            (b"5\r\nhello\r\n0\r\nExpires: never\r\n\r\n", b"hello"),
            (
                b"5\r\nhello\r\n0\r\nA: 1\r\nB-2:\r\nC:  x y \t\r\n\r\n",
                b"hello",
            ),
            (b"3\r\n\r\n\n\r\n0\r\n\r\n", b"\r\n\n"),
            (b"1\r\n\0\r\n0\r\n\r\n", b"\0"),
        ];
        for (body, data) in cases {
            assert_eq!(
                decode_whole(body),
                Ok((data.to_vec(), body.len())),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn refused_bodies() {
        use ErrorKind::*;
        let cases: &[(&[u8], ErrorKind, usize)] = &[
            // bare LF and bare CR are not line ends
            (b"5\nhello\r\n0\r\n\r\n", InvalidLineEnding, 1),
            (b"5\rhello", InvalidLineEnding, 1),
            (b"5;\n", InvalidChunkExtension, 2),
            (b"0\r\n\n", InvalidLineEnding, 3),
            (b"0\r\n\rX", InvalidLineEnding, 3),
            (b"0\r\nA: 1\n\r\n", InvalidTrailer, 7),
            // chunk-size is 1*HEXDIG and nothing else
            (b"0x5\r\nhello\r\n", InvalidChunkSize, 1),
            (b"+5\r\nhello\r\n", InvalidChunkSize, 0),
            (b"-1\r\n", InvalidChunkSize, 0),
            (b" 5\r\nhello\r\n", InvalidChunkSize, 0),
            (b"5 \r\nhello\r\n", InvalidChunkSize, 1),
            (b"1_0\r\n", InvalidChunkSize, 1),
            (b"\r\n", InvalidChunkSize, 0),
            (b"g\r\n", InvalidChunkSize, 0),
            // too large
            (b"10000000000000000\r\n", ChunkSizeTooLarge, 0),
            (b"FFFFFFFFFFFFFFFFF", ChunkSizeTooLarge, 0),
            (b"10000000001\r\n", ChunkSizeTooLarge, 0),
            (b"5\r\nhello\r\n20000000000\r\n", ChunkSizeTooLarge, 10),
            // extensions
            (b"5;\r\nhello\r\n", InvalidChunkExtension, 2),
            (b"5;bad[=x\r\n", InvalidChunkExtension, 5),
            (b"5;\x00ext\r\n", InvalidChunkExtension, 2),
            (b"5;a\rX", InvalidChunkExtension, 3),
            (b"5;a=\r\n", InvalidChunkExtension, 4),
            (b"5;a=\"x\0\"\r\n", InvalidChunkExtension, 6),
            (b"5;a \r\n", InvalidChunkExtension, 3),
            (b"5;=x\r\n", InvalidChunkExtension, 2),
            (b"5;a=b c\r\n", InvalidChunkExtension, 5),
            // data not followed by CRLF
            (b"5\r\nhello0\r\n", MissingChunkDataCrlf, 8),
            (b"5\r\nhello!!\r\n", MissingChunkDataCrlf, 8),
            (b"5\r\nhello\rX", MissingChunkDataCrlf, 9),
            (b"5\r\nhello\n0\r\n\r\n", MissingChunkDataCrlf, 8),
            // trailers
            (b"0\r\nA : 1\r\n\r\n", InvalidTrailer, 4),
            (b"0\r\nA: 1\r\n folded\r\n\r\n", InvalidTrailer, 9),
            (b"0\r\n: 1\r\n\r\n", InvalidTrailer, 3),
            (b"0\r\nNoColon\r\n\r\n", InvalidTrailer, 10),
            (b"0\r\nA: x\0y\r\n\r\n", InvalidTrailer, 7),
            (b"0\r\nA: x\rY\r\n\r\n", InvalidTrailer, 7),
        ];
        for (body, kind, offset) in cases {
            assert_eq!(
                error_of(body),
                (*kind, *offset),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn sizes_at_the_bounds() {
        // Exactly the maximum is allowed, leading zeros are free.
        let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
        assert_eq!(
            decoder.decode(b"10000000000\r\n"),
            Ok(Parsed::Complete {
                value: Chunk::Data(b""),
                consumed: 13
            })
        );
        let zeros = format!("{}1\r\nx\r\n0\r\n\r\n", "0".repeat(100));
        assert_eq!(
            decode_whole(zeros.as_bytes()),
            Ok((b"x".to_vec(), zeros.len()))
        );
        // A tighter caller limit.
        let limits = ChunkedLimits {
            max_chunk_size: 4,
            ..ChunkedLimits::default()
        };
        assert_eq!(
            feed(b"4\r\nabcd\r\n0\r\n\r\n", &[], limits).map(|r| r.0),
            Ok(b"abcd".to_vec())
        );
        assert_eq!(
            feed(b"5\r\nabcde\r\n0\r\n\r\n", &[], limits).map_err(|e| (e.kind(), e.offset())),
            Err((ErrorKind::ChunkSizeTooLarge, 0))
        );
    }

    #[test]
    fn chunk_line_bound() {
        // A 64 KiB extension is refused at the 4 KiB bound, without waiting for its end.
        let mut long = b"5;".to_vec();
        long.extend(std::iter::repeat_n(b'a', 64 * 1024));
        let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
        let err = decoder.decode(&long).unwrap_err();
        assert_eq!(
            (err.kind(), err.offset(), err.status()),
            (ErrorKind::ChunkExtensionTooLong, 4096, 400)
        );
        // Endless leading zeros are bounded by the same line limit.
        let zeros = vec![b'0'; 5000];
        let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
        assert_eq!(
            decoder.decode(&zeros).unwrap_err().kind(),
            ErrorKind::ChunkSizeTooLarge
        );
        // A line of exactly the limit, CRLF included, is fine.
        let limits = ChunkedLimits {
            max_chunk_line: 8,
            ..ChunkedLimits::default()
        };
        assert_eq!(
            feed(b"1;abcd\r\nx\r\n0\r\n\r\n", &[], limits).map(|r| r.0),
            Ok(b"x".to_vec())
        );
        assert_eq!(
            feed(b"1;abcde\r\nx\r\n0\r\n\r\n", &[], limits).map_err(|e| e.kind()),
            Err(ErrorKind::ChunkExtensionTooLong)
        );
        // Up to the limit, an unfinished line is only partial; one byte past it, an error.
        let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
        assert_eq!(decoder.decode(&long[..4096]), Ok(Parsed::Partial));
        assert_eq!(
            decoder.decode(&long[..4097]).map_err(|e| e.kind()),
            Err(ErrorKind::ChunkExtensionTooLong)
        );
    }

    #[test]
    fn trailer_bound() {
        let limits = ChunkedLimits {
            max_trailer: 16,
            ..ChunkedLimits::default()
        };
        // Two lines of 8 bytes: exactly 16.
        let ok = b"0\r\nA: 123\r\nB: 123\r\n\r\n";
        assert_eq!(feed(ok, &[], limits), Ok((Vec::new(), ok.len())));
        let too_large = b"0\r\nA: 123\r\nB: 1234\r\n\r\n";
        assert_eq!(
            feed(too_large, &[], limits).map_err(|e| (e.kind(), e.offset())),
            Err((ErrorKind::TrailerTooLarge, 19))
        );
        // The error comes with the first byte past the bound, not later.
        let mut decoder = ChunkedDecoder::new(limits);
        assert_eq!(decoder.decode(b"0\r\nA: 123\r\n").map(|_| ()), Ok(()));
        assert_eq!(decoder.decode(b"B: 1234\r"), Ok(Parsed::Partial));
        assert_eq!(
            decoder
                .decode(b"B: 1234\r\n")
                .map_err(|e| (e.kind(), e.offset())),
            Err((ErrorKind::TrailerTooLarge, 19))
        );
        // Fed byte by byte, the bound is hit without buffering past it.
        assert_eq!(
            feed(too_large, &[1; 64], limits).map_err(|e| e.kind()),
            Err(ErrorKind::TrailerTooLarge)
        );
    }

    #[test]
    fn partial_consumes_nothing() {
        for prefix in [&b""[..], b"5", b"5\r", b"5;a", b"5;a=\"x", b"5 ", b"00"] {
            let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
            assert_eq!(decoder.decode(prefix), Ok(Parsed::Partial), "{prefix:?}");
        }
        // In the trailer section, each complete line is consumed; a partial one is not.
        for (prefix, consumed) in [
            (&b"0\r\n"[..], 3),
            (b"0\r\nA: 1", 3),
            (b"0\r\nA: 1\r\nB", 9),
            (b"0\r\n\r", 3),
        ] {
            let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
            assert_eq!(
                decoder.decode(prefix),
                Ok(Parsed::Complete {
                    value: Chunk::Data(b""),
                    consumed
                }),
                "{prefix:?}"
            );
            assert_eq!(
                decoder.decode(&prefix[consumed..]),
                Ok(Parsed::Partial),
                "{prefix:?}"
            );
        }
        // After a chunk line with no data yet, the line is consumed as an empty data step.
        let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
        assert_eq!(
            decoder.decode(b"5\r\n"),
            Ok(Parsed::Complete {
                value: Chunk::Data(b""),
                consumed: 3
            })
        );
        assert_eq!(decoder.decode(b""), Ok(Parsed::Partial));
        assert_eq!(
            decoder.decode(b"he"),
            Ok(Parsed::Complete {
                value: Chunk::Data(b"he"),
                consumed: 2
            })
        );
        assert_eq!(
            decoder.decode(b"llo\r"),
            Ok(Parsed::Complete {
                value: Chunk::Data(b"llo"),
                consumed: 3
            })
        );
        assert_eq!(decoder.decode(b"\r"), Ok(Parsed::Partial));
    }

    #[test]
    fn errors_repeat_and_count_from_the_body_start() {
        let mut decoder = ChunkedDecoder::new(ChunkedLimits::default());
        assert_eq!(
            decoder.decode(b"3\r\nabc\r\n"),
            Ok(Parsed::Complete {
                value: Chunk::Data(b"abc"),
                consumed: 8
            })
        );
        let err = decoder.decode(b"zz").unwrap_err();
        assert_eq!((err.kind(), err.offset()), (ErrorKind::InvalidChunkSize, 8));
        assert_eq!(decoder.decode(b"0\r\n\r\n"), Err(err));
        assert_eq!(
            err.to_string(),
            "invalid chunk-size at byte 8, found 'z' (0x7a) (RFC 9112 §7.1)"
        );
    }

    /// A body with several chunks, extensions and trailers, for the split tests.
    const BODY: &[u8] = b"5\r\nhello\r\n1;x=\"a b\"\r\n,\r\nB\r\n 0123456789\r\n0;end\r\nTrailer-A: one\r\nB: two\r\n\r\n";
    const DATA: &[u8] = b"hello, 0123456789";

    #[test]
    fn split_at_every_point() {
        let mut with_trailing = BODY.to_vec();
        with_trailing.extend_from_slice(b"GET / HTTP/1.1\r\n");
        for split in 0..=with_trailing.len() {
            let got = feed(&with_trailing, &[split], ChunkedLimits::default());
            assert_eq!(got, Ok((DATA.to_vec(), BODY.len())), "split at {split}");
        }
    }

    #[test]
    fn byte_by_byte() {
        let mut with_trailing = BODY.to_vec();
        with_trailing.extend_from_slice(b"next request");
        let ones = vec![1; with_trailing.len()];
        assert_eq!(
            feed(&with_trailing, &ones, ChunkedLimits::default()),
            Ok((DATA.to_vec(), BODY.len()))
        );
    }

    /// Encodes `data` in chunks of the given sizes (cycling), with some extensions,
    /// upper/lower case hex and a trailer.
    fn encode(data: &[u8], sizes: &[usize], upper: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = data;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes
                .get(i % sizes.len().max(1))
                .copied()
                .unwrap_or(1)
                .clamp(1, rest.len());
            let size = if upper {
                format!("{n:X}")
            } else {
                format!("{n:x}")
            };
            out.extend_from_slice(size.as_bytes());
            if i % 3 == 1 {
                out.extend_from_slice(b" ; n=\"v\\\"\"");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(&rest[..n]);
            out.extend_from_slice(b"\r\n");
            rest = &rest[n..];
            i += 1;
        }
        out.extend_from_slice(b"0\r\nX-Sum: 1\r\n\r\n");
        out
    }

    proptest! {
        #[test]
        fn encoded_data_decodes_in_any_pieces(
            data in proptest::collection::vec(any::<u8>(), 0..600),
            chunk_sizes in proptest::collection::vec(1usize..300, 1..8),
            pieces in proptest::collection::vec(1usize..40, 0..64),
            upper in any::<bool>(),
        ) {
            let body = encode(&data, &chunk_sizes, upper);
            let mut with_trailing = body.clone();
            with_trailing.extend_from_slice(b"trailing");
            prop_assert_eq!(
                feed(&with_trailing, &pieces, ChunkedLimits::default()),
                Ok((data, body.len()))
            );
        }

        #[test]
        fn any_input_gives_a_result(
            input in proptest::collection::vec(
                prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'0'), Just(b'1'), Just(b';'), Just(b':'), Just(b' '), Just(b'"'), any::<u8>()],
                0..64,
            ),
            pieces in proptest::collection::vec(1usize..8, 0..16),
        ) {
            let whole = run(&input, &[input.len()], ChunkedLimits::default());
            let split = run(&input, &pieces, ChunkedLimits::default());
            match (&whole, &split) {
                // Piecewise feeding gives the same outcome: the same data and length, or the
                // same error at the same offset.
                (Ok(w), Ok(s)) => prop_assert_eq!(w, s),
                (Err(w), Err(s)) => prop_assert_eq!(w, s),
                _ => prop_assert!(false, "whole {:?} vs split {:?}", whole, split),
            }
        }
    }
}
