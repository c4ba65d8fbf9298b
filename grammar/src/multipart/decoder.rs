//! The streaming decoder of a `multipart/form-data` body (RFC 7578 §4, RFC 2046 §5.1.1).

#![forbid(unsafe_code)]

use super::boundary::Boundary;
use super::error::{MultipartError, MultipartErrorKind};
use super::head::{HeadBuilder, HeadLine, PartHead};
use crate::types::Parsed;
use memchr::memmem::Finder;

/// Bounds on a multipart body, set by the caller. The body's total size is the caller's to
/// bound (it frames the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipartLimits {
    /// Largest head of one part: the rest of its boundary delimiter line and its field lines,
    /// blank line included.
    pub max_part_head: usize,
    /// Most parts in one body.
    pub max_parts: usize,
}

impl MultipartLimits {
    /// 16 KiB: a browser's part head is two short lines; a file name of 255 UTF-8 bytes
    /// written as `%XX` takes under 800. The bound is what a caller may have to buffer to
    /// see a head whole.
    pub const DEFAULT_MAX_PART_HEAD: usize = 16 * 1024;
    /// 10 000 parts: a folder of photos dropped on the upload form is thousands of files;
    /// more is a body of tiny parts, each one costing the server a file.
    pub const DEFAULT_MAX_PARTS: usize = 10_000;
}

impl Default for MultipartLimits {
    fn default() -> Self {
        MultipartLimits {
            max_part_head: Self::DEFAULT_MAX_PART_HEAD,
            max_parts: Self::DEFAULT_MAX_PARTS,
        }
    }
}

/// One step of decoding a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartEvent<'a> {
    /// A part begins; its head is parsed.
    PartStart(PartHead),
    /// Content of the current part, borrowed from the input. Empty when the step consumed
    /// only the preamble or the framing of a part and no content followed yet.
    Data(&'a [u8]),
    /// The current part's content ended (its delimiter was seen).
    PartEnd,
    /// The close-delimiter was seen: the body is through. The epilogue is ignored.
    End,
}

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// In the preamble; `first` while the body's first bytes may still be the first
    /// dash-boundary.
    Preamble { first: bool },
    /// After a dash-boundary: `--`, or transport-padding and CRLF, is due.
    DelimiterTail,
    /// In a part's head, after this many bytes of it.
    Head { size: usize },
    /// In a part's content.
    Content,
    /// The close-delimiter was seen.
    Done,
    /// The body was rejected; every later call repeats the error.
    Failed(MultipartError),
}

/// Decodes a `multipart/form-data` body fed in pieces.
///
/// ```text
/// multipart-body := [preamble CRLF]
///                   dash-boundary transport-padding CRLF
///                   body-part *encapsulation
///                   close-delimiter transport-padding
///                   [CRLF epilogue]
/// dash-boundary  := "--" boundary
/// encapsulation  := delimiter transport-padding
///                   CRLF body-part
/// delimiter      := CRLF dash-boundary
/// close-delimiter := delimiter "--"
/// transport-padding := *LWSP-char
/// body-part      := MIME-part-headers [CRLF *OCTET]
/// ```
/// RFC 2046 §5.1.1, with the parts of RFC 7578 §4.
///
/// Sans-I/O, like [`ChunkedDecoder`](crate::ChunkedDecoder): the caller keeps a buffer,
/// appends what it reads, passes the buffer to [`decode`](Self::decode) and drops the bytes
/// consumed. Content comes back as slices of that buffer. Bytes that may begin a delimiter
/// (a CR at the end of the input, `\r\n--bou`) are not consumed until the bytes after them
/// tell, so no content byte is ever one of a delimiter; while the decoder answers `Partial`
/// the buffer holds at most [`lookahead`](Self::lookahead) bytes. The decoder itself holds
/// the boundary and the head being parsed, no body bytes.
///
/// ```
/// use nomserve_grammar::{MultipartDecoder, MultipartEvent, MultipartLimits, Parsed, parse_boundary};
///
/// let boundary = parse_boundary(b"multipart/form-data; boundary=xyz").unwrap();
/// let mut decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
/// let mut body: &[u8] = b"--xyz\r\nContent-Disposition: form-data; name=\"f\"; \
///     filename=\"a.txt\"\r\n\r\nhello\r\n--xyz--\r\n";
/// let mut content = Vec::new();
/// loop {
///     let Parsed::Complete { value, consumed } = decoder.decode(body).unwrap() else {
///         unreachable!("the whole body is here")
///     };
///     body = &body[consumed..];
///     match value {
///         MultipartEvent::PartStart(head) => assert_eq!(head.file_name(), Some("a.txt")),
///         MultipartEvent::Data(data) => content.extend_from_slice(data),
///         MultipartEvent::PartEnd => {}
///         MultipartEvent::End => break,
///     }
/// }
/// assert_eq!(content, b"hello");
/// assert_eq!(decoder.finish(body), Ok(()));
/// ```
#[derive(Debug, Clone)]
pub struct MultipartDecoder {
    boundary: Boundary,
    finder: Finder<'static>,
    limits: MultipartLimits,
    state: State,
    head: HeadBuilder,
    parts: usize,
    /// Bytes of the body consumed so far: the base of every error offset.
    position: usize,
}

impl MultipartDecoder {
    /// A decoder at the start of a body delimited by `boundary`.
    pub fn new(boundary: Boundary, limits: MultipartLimits) -> Self {
        MultipartDecoder {
            finder: Finder::new(boundary.delimiter()).into_owned(),
            boundary,
            limits,
            state: State::Preamble { first: true },
            head: HeadBuilder::default(),
            parts: 0,
            position: 0,
        }
    }

    /// The most bytes the caller's buffer holds when [`decode`](Self::decode) answers
    /// `Partial`: the larger of the part head bound and the delimiter's length.
    pub fn lookahead(&self) -> usize {
        self.limits
            .max_part_head
            .max(self.boundary.delimiter().len())
    }

    /// Decodes the next step from `input`, which starts right after the bytes consumed so far.
    /// Error offsets count from the first byte of the body.
    ///
    /// Contract: the caller passes the bytes that follow everything consumed before, and
    /// after `Complete { consumed, .. }` drops `consumed` bytes from its buffer. Returns:
    /// - `Complete { value: PartStart(head), consumed }`: a delimiter line and a part's head
    ///   are through (and any preamble before them).
    /// - `Complete { value: Data(d), consumed }`: `d` is content of the current part, as much
    ///   of `input` as cannot be a delimiter; `consumed` counts it. `d` may be empty when
    ///   only the preamble or framing was consumed. `consumed` is never 0.
    /// - `Complete { value: PartEnd, consumed }`: the delimiter after the content.
    /// - `Complete { value: End, consumed }`: the close-delimiter; everything after it, the
    ///   epilogue, is consumed and ignored, now and in every later call, which returns `End`
    ///   again.
    /// - `Partial`: `input` holds no complete step (a delimiter may start at its end, half a
    ///   head line); nothing was consumed: call again with more bytes appended.
    /// - `Err`: the body is malformed or past a limit; later calls return the same error.
    ///
    /// A body whose first dash-boundary is a close-delimiter (`--b--`) is a form with no
    /// fields, as urllib3 encodes an empty one: `End` at once. **Decision, argued**: once a
    /// `CRLF "--" boundary` appears (or `"--" boundary` as the body's first bytes), it is a
    /// delimiter, and anything but `--` or transport-padding and CRLF after it is
    /// `InvalidDelimiter`. RFC 2046 §5.1.1 forbids the delimiter inside content, so no
    /// encoder sends it; reading it as content instead, as some parsers do when other bytes
    /// follow, would let two parsers of one body see different parts.
    pub fn decode<'a>(
        &mut self,
        input: &'a [u8],
    ) -> Result<Parsed<MultipartEvent<'a>>, MultipartError> {
        let mut at = 0;
        loop {
            let rest = input.get(at..).unwrap_or_default();
            match self.state {
                State::Failed(error) => return Err(error),
                State::Done => return Ok(self.step(MultipartEvent::End, input.len())),
                State::Preamble { first: true } => {
                    let dash = self.boundary.dash_boundary();
                    if rest.starts_with(dash) {
                        at += dash.len();
                        self.state = State::DelimiterTail;
                    } else if dash.starts_with(rest) {
                        return Ok(self.pause(input, at));
                    } else {
                        self.state = State::Preamble { first: false };
                    }
                }
                State::Preamble { first: false } => match self.finder.find(rest) {
                    Some(i) => {
                        at += i + self.boundary.delimiter().len();
                        self.state = State::DelimiterTail;
                    }
                    None => {
                        at += rest.len() - self.held_back(rest);
                        return Ok(self.pause(input, at));
                    }
                },
                State::DelimiterTail => match delimiter_tail(rest, self.limits.max_part_head) {
                    Ok(Some(Tail::Close)) => {
                        self.state = State::Done;
                        return Ok(self.step(MultipartEvent::End, input.len()));
                    }
                    Ok(Some(Tail::Part(len))) => {
                        if self.parts == self.limits.max_parts {
                            return Err(self.fail(
                                MultipartError::new(MultipartErrorKind::TooManyParts, 0),
                                at,
                            ));
                        }
                        self.parts += 1;
                        at += len;
                        self.state = State::Head { size: len };
                    }
                    Ok(None) => return Ok(self.pause(input, at)),
                    Err(error) => return Err(self.fail(error, at)),
                },
                State::Head { size } => {
                    let budget = self.limits.max_part_head.saturating_sub(size);
                    match self.head.line(rest, budget) {
                        Ok(Some(HeadLine::Field(len))) => {
                            at += len;
                            self.state = State::Head { size: size + len };
                        }
                        Ok(Some(HeadLine::End)) => match self.head.finish() {
                            Ok(head) => {
                                at += 2;
                                self.state = State::Content;
                                return Ok(self.step(MultipartEvent::PartStart(head), at));
                            }
                            Err(error) => return Err(self.fail(error, at)),
                        },
                        Ok(None) => return Ok(self.pause(input, at)),
                        Err(error) => return Err(self.fail(error, at)),
                    }
                }
                State::Content => {
                    let delimiter = self.boundary.delimiter().len();
                    let end = match self.finder.find(rest) {
                        Some(0) => {
                            self.state = State::DelimiterTail;
                            return Ok(self.step(MultipartEvent::PartEnd, at + delimiter));
                        }
                        Some(i) => i,
                        None => rest.len() - self.held_back(rest),
                    };
                    if end == 0 {
                        return Ok(self.pause(input, at));
                    }
                    let data = rest.get(..end).unwrap_or_default();
                    return Ok(self.step(MultipartEvent::Data(data), at + end));
                }
            }
        }
    }

    /// Tells the decoder that the body ended, `rest` being the bytes the caller holds that
    /// were not consumed. `Ok(())` once the close-delimiter was seen; otherwise the body was
    /// cut short, `Truncated` at its end (RFC 2046 §5.1.1 requires the close-delimiter), or
    /// the error already returned.
    pub fn finish(&mut self, rest: &[u8]) -> Result<(), MultipartError> {
        match self.state {
            State::Done => Ok(()),
            State::Failed(error) => Err(error),
            _ => {
                let error = MultipartError::new(MultipartErrorKind::Truncated, 0);
                Err(self.fail(error, rest.len()))
            }
        }
    }

    /// How many bytes at the end of `input` (in which no whole delimiter was found) may be
    /// the start of one: the longest suffix that is a prefix of the delimiter.
    fn held_back(&self, input: &[u8]) -> usize {
        let delimiter = self.boundary.delimiter();
        let start = input.len().saturating_sub(delimiter.len() - 1);
        let tail = input.get(start..).unwrap_or_default();
        memchr::memchr_iter(b'\r', tail)
            .map(|i| tail.len() - i)
            .find(|&len| delimiter.starts_with(&tail[tail.len() - len..]))
            .unwrap_or(0)
    }

    /// A finished step that consumed `consumed` bytes.
    fn step<'a>(
        &mut self,
        value: MultipartEvent<'a>,
        consumed: usize,
    ) -> Parsed<MultipartEvent<'a>> {
        self.position = self.position.saturating_add(consumed);
        Parsed::Complete { value, consumed }
    }

    /// More bytes are needed: `Partial` if this call consumed nothing, else what it consumed
    /// (preamble, framing) as an empty data step, so that `Partial` always means "nothing
    /// consumed".
    fn pause<'a>(&mut self, input: &'a [u8], consumed: usize) -> Parsed<MultipartEvent<'a>> {
        if consumed == 0 {
            Parsed::Partial
        } else {
            let empty = input.get(..0).unwrap_or_default();
            self.step(MultipartEvent::Data(empty), consumed)
        }
    }

    /// Records `error`, found `at` bytes into this call's input, with its offset from the
    /// start of the body.
    fn fail(&mut self, error: MultipartError, at: usize) -> MultipartError {
        let error = error.shifted(self.position.saturating_add(at));
        self.state = State::Failed(error);
        error
    }
}

/// What follows a dash-boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// `--`: it was the close-delimiter.
    Close,
    /// Transport-padding and CRLF, this many bytes: a part follows.
    Part(usize),
}

/// The end of a delimiter line, after its dash-boundary: `"--"` (the close-delimiter) or
/// `transport-padding CRLF`, within `budget` bytes; `None` while `input` is a prefix of one.
///
/// ```text
/// close-delimiter   := delimiter "--"
/// encapsulation     := delimiter transport-padding CRLF body-part
/// transport-padding := *LWSP-char
/// LWSP-char         := SP / HTAB
/// ```
/// RFC 2046 §5.1.1 (LWSP-char from RFC 822 §3.3). Anything else is `InvalidDelimiter` at
/// the byte that does not fit; a padding that runs past `budget` (the part head's bound,
/// which the line counts toward) is `PartHeadTooLarge` at the byte past it.
fn delimiter_tail(input: &[u8], budget: usize) -> Result<Option<Tail>, MultipartError> {
    use MultipartErrorKind::*;
    match input {
        [b'-', b'-', ..] => return Ok(Some(Tail::Close)),
        [b'-'] => return Ok(None),
        [b'-', ..] => return Err(MultipartError::new(InvalidDelimiter, 1)),
        _ => {}
    }
    let window = input.get(..budget).unwrap_or(input);
    let padding = window
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    match &window[padding..] {
        [b'\r', b'\n', ..] => Ok(Some(Tail::Part(padding + 2))),
        [b'\r'] | [] if input.len() > window.len() => {
            Err(MultipartError::new(PartHeadTooLarge, window.len()))
        }
        [b'\r'] | [] => Ok(None),
        [b'\r', ..] => Err(MultipartError::new(InvalidDelimiter, padding + 1)),
        _ => Err(MultipartError::new(InvalidDelimiter, padding)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MultipartErrorKind::*;

    #[test]
    fn delimiter_tail_rule() {
        assert_eq!(delimiter_tail(b"--", 8), Ok(Some(Tail::Close)));
        assert_eq!(delimiter_tail(b"--\r\nepilogue", 8), Ok(Some(Tail::Close)));
        assert_eq!(delimiter_tail(b"\r\n", 8), Ok(Some(Tail::Part(2))));
        assert_eq!(delimiter_tail(b" \t \r\nx", 8), Ok(Some(Tail::Part(5))));
        for partial in [&b""[..], b"-", b"\r", b"  ", b" \t\r"] {
            assert_eq!(delimiter_tail(partial, 8), Ok(None), "{partial:?}");
        }
        let refused: &[(&[u8], MultipartErrorKind, usize)] = &[
            (b"-x", InvalidDelimiter, 1),
            (b"x\r\n", InvalidDelimiter, 0),
            (b"  x", InvalidDelimiter, 2),
            (b"\n", InvalidDelimiter, 0),
            (b" \rx", InvalidDelimiter, 2),
            (b"        \r\n", PartHeadTooLarge, 8),
        ];
        for &(input, kind, offset) in refused {
            assert_eq!(
                delimiter_tail(input, 8),
                Err(MultipartError::new(kind, offset)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn held_back_is_the_longest_delimiter_prefix() {
        let boundary = Boundary::new(b"ab").unwrap();
        let decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
        let cases: &[(&[u8], usize)] = &[
            (b"", 0),
            (b"xyz", 0),
            (b"x\r", 1),
            (b"x\r\n", 2),
            (b"x\r\n-", 3),
            (b"x\r\n--a", 5),
            (b"\r\n-\r", 1),
            (b"\r\r\n--", 4),
            (b"x\r\n-x", 0),
        ];
        for &(input, held) in cases {
            assert_eq!(decoder.held_back(input), held, "{input:?}");
        }
    }
}
