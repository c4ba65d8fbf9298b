//! What a handler answers: a status, its own header fields and a body.
//!
//! Handlers build a [`Response`]; the connection layer writes it, adding the fields every
//! response carries (Date, Server, Content-Length, Connection) and leaving the body out for
//! HEAD and for statuses that have none (RFC 9110 §6.4.1).
//!
//! A handler whose answer depends on work done elsewhere (a password check on another
//! thread) returns a response that carries a [`Ticket`] ([`Response::pending`]): the
//! connection then waits, without holding its worker, until the ticket is done, and asks the
//! handler again; the response itself is what the client gets if the wait runs out.

use nomserve_grammar::FieldToken;
use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Waker;

/// A field name: usually a static string; a configured one (`--header`, `[[rules]]`) is
/// built when the settings are read. Borrowed names cost no allocation to send.
pub type FieldName = Cow<'static, str>;

/// A field value: usually a static string; sometimes one built for this response; or one
/// built when the settings were read and shared by every response that carries it
/// (Strict-Transport-Security, Alt-Svc), sent without allocating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// A value known when the server was built.
    Static(&'static str),
    /// A value built for this response.
    Owned(String),
    /// A value shared by many responses.
    Shared(Arc<str>),
}

impl std::ops::Deref for FieldValue {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            FieldValue::Static(value) => value,
            FieldValue::Owned(value) => value,
            FieldValue::Shared(value) => value,
        }
    }
}

impl AsRef<str> for FieldValue {
    fn as_ref(&self) -> &str {
        self
    }
}

impl std::fmt::Display for FieldValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl PartialEq<str> for FieldValue {
    fn eq(&self, other: &str) -> bool {
        **self == *other
    }
}

impl PartialEq<&str> for FieldValue {
    fn eq(&self, other: &&str) -> bool {
        **self == **other
    }
}

impl From<&'static str> for FieldValue {
    fn from(value: &'static str) -> Self {
        FieldValue::Static(value)
    }
}

impl From<String> for FieldValue {
    fn from(value: String) -> Self {
        FieldValue::Owned(value)
    }
}

impl From<Arc<str>> for FieldValue {
    fn from(value: Arc<str>) -> Self {
        FieldValue::Shared(value)
    }
}

impl From<Cow<'static, str>> for FieldValue {
    fn from(value: Cow<'static, str>) -> Self {
        match value {
            Cow::Borrowed(value) => FieldValue::Static(value),
            Cow::Owned(value) => FieldValue::Owned(value),
        }
    }
}

/// A sink's refusal: the response, boxed (it travels in a `Result`'s error).
pub type Refusal = Box<Response>;

/// Takes a request body piece by piece: a handler's answer to a head can be "send me the
/// body" ([`Response::accepting`]), with a sink that takes the body in bounded pieces as the
/// connection reads them, and gives the final answer once the body is through.
///
/// The connection layer drives it the same way whatever frames the body (HTTP/1.1
/// Content-Length or chunked, HTTP/2 DATA): [`BodySink::take`] for each piece as it arrives,
/// in order, never the whole body at once; [`BodySink::finish`] at its end. A body that does
/// not end (the client went away, a deadline passed, a framing error) drops the sink without
/// `finish`: a sink cleans up what it began in its `Drop`. Called on the connection's worker
/// thread: a piece's work (a file write) is done before the next piece is read.
pub trait BodySink: Send {
    /// Takes the next piece of the body (never empty). `Err(answer)`: the sink will take no
    /// more, and `answer` is the response; the connection drops the sink (which removes what
    /// it made), then reads the rest of the body and discards it, or closes.
    fn take(&mut self, piece: &[u8]) -> Result<(), Refusal>;

    /// The body is through: the response.
    fn finish(self: Box<Self>) -> Response;
}

impl std::fmt::Debug for dyn BodySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodySink")
    }
}

/// A response, before framing.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Fields set by the handler, in the order they are written. The connection layer adds
    /// Date, Server, Content-Length and Connection itself; handlers never set those.
    pub headers: Vec<(FieldName, FieldValue)>,
    /// Field lines prepared ahead of time, sent after `headers`: a cached file's fields,
    /// built and checked once, sent without allocating.
    pub fields: Option<Arc<Prebuilt>>,
    /// The content.
    pub body: Body,
    /// Not the answer yet: the work this ticket stands for is under way, and the request is
    /// to be handled again once it is done. `None` for every final response.
    pub pending: Option<Ticket>,
    /// Not the answer yet: the handler takes the request's body with this sink, and the
    /// answer is the one it gives once the body is through ([`Response::accepting`]).
    pub sink: Option<Box<dyn BodySink>>,
}

/// The content of a response.
#[derive(Debug)]
pub enum Body {
    /// No content (Content-Length: 0, or none at all for 204 and 304).
    Empty,
    /// Content held in memory.
    Bytes(Cow<'static, [u8]>),
    /// Content held in memory and shared, such as a cached small file.
    Shared(Arc<[u8]>),
    /// `len` bytes of `file` from `offset`, sent with the kernel's zero-copy path.
    File {
        /// The open file (shared with the open-file cache).
        file: Arc<File>,
        /// Where the content starts.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
    /// A `multipart/byteranges` body (RFC 9110 §14.6): each part's head, then that range
    /// of the file; then the closing delimiter.
    Multipart {
        /// The open file.
        file: Arc<File>,
        /// Each part: its delimiter and header fields, then the range's offset and length.
        parts: Vec<(Vec<u8>, u64, u64)>,
        /// The closing delimiter.
        tail: Vec<u8>,
    },
    /// Content of a length not known in advance, made as it is sent: framed with the chunked
    /// transfer coding (RFC 9112 §7.1), without a Content-Length. Only for HTTP/1.1 clients:
    /// HTTP/1.0 has no chunked coding.
    Stream(Box<dyn Source>),
}

/// Content made in steps, as the socket takes what was made before: each step appends a
/// bounded amount, so that a connection holds little of it at a time. The content is given
/// unframed; the output frames it for HTTP/1.1 (chunks), so another framing could carry it.
pub trait Source: Send {
    /// Appends the next bytes of the content to `out` (possibly none); `Ok(true)` once the
    /// content is complete. An error ends the content unfinished.
    fn fill(&mut self, out: &mut Vec<u8>) -> io::Result<bool>;
}

impl std::fmt::Debug for dyn Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Source")
    }
}

impl Body {
    /// The number of bytes the body holds: the Content-Length to send (0 for a stream, which
    /// is sent without one).
    pub fn len(&self) -> u64 {
        match self {
            Body::Empty | Body::Stream(_) => 0,
            Body::Bytes(bytes) => bytes.len() as u64,
            Body::Shared(bytes) => bytes.len() as u64,
            Body::File { len, .. } => *len,
            Body::Multipart { parts, tail, .. } => {
                parts
                    .iter()
                    .map(|(head, _, len)| head.len() as u64 + len)
                    .sum::<u64>()
                    + tail.len() as u64
            }
        }
    }
}

/// Field lines prepared once and sent with many responses: as HTTP/1.1 writes them, and
/// split into the fields HTTP/2 and HTTP/3 encode one by one, so that neither protocol parses
/// them again for each response.
#[derive(Debug, Clone)]
pub struct Prebuilt {
    /// `Name: value` CRLF each, as HTTP/1.1 writes them (RFC 9112 §5).
    lines: Box<[u8]>,
    /// The same octets with the names lowercased (RFC 9113 §8.2.1, RFC 9114 §4.2).
    lower: Box<[u8]>,
    /// Each field HTTP/2 and HTTP/3 send, in order: its name's and its value's place in
    /// `lower`, both trimmed, and the HPACK encoder's token of its name.
    split: Box<[SplitField]>,
}

/// A field of [`Prebuilt`]: its name's and its value's place in the lowercased lines, and
/// the HPACK encoder's token of its name.
type SplitField = (Range<usize>, Range<usize>, FieldToken);

impl Prebuilt {
    /// The fields of `lines` (`Name: value` CRLF each). Those HTTP/2 and HTTP/3 leave out
    /// ([`left_out_of_h2`]) and a line without a name are written by HTTP/1.1 only.
    pub fn new(lines: Vec<u8>) -> Prebuilt {
        let mut lower = lines.clone();
        let mut split = Vec::new();
        let mut start = 0;
        for line in lines.split(|&b| b == b'\n') {
            let at = start;
            start += line.len() + 1;
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let name = trimmed(line, 0..colon);
            let value = trimmed(line, colon + 1..line.len());
            let name = at + name.start..at + name.end;
            lower[name.clone()].make_ascii_lowercase();
            if !left_out_of_h2(&lower[name.clone()]) {
                let token = FieldToken::of(&lower[name.clone()]);
                split.push((name, at + value.start..at + value.end, token));
            }
        }
        Prebuilt {
            lines: lines.into(),
            lower: lower.into(),
            split: split.into(),
        }
    }

    /// The lines as HTTP/1.1 writes them.
    pub fn lines(&self) -> &[u8] {
        &self.lines
    }

    /// The fields HTTP/2 and HTTP/3 send, in order: the HPACK encoder's token of the name,
    /// the name lowercase, name and value trimmed.
    pub fn fields(&self) -> impl Iterator<Item = (FieldToken, &[u8], &[u8])> {
        self.split.iter().map(|(name, value, token)| {
            (
                *token,
                &self.lower[name.clone()],
                &self.lower[value.clone()],
            )
        })
    }
}

/// The part of `line[range]` without the whitespace around it.
fn trimmed(line: &[u8], range: Range<usize>) -> Range<usize> {
    let part = &line[range.clone()];
    let lead = part.len() - part.trim_ascii_start().len();
    let trail = part.len() - part.trim_ascii_end().len();
    if lead == part.len() {
        return range.start..range.start;
    }
    range.start + lead..range.end - trail
}

/// Whether HTTP/2 and HTTP/3 leave a handler's field named `lower` (lowercase) out: the
/// connection-specific fields they forbid (RFC 9113 §8.2.2, RFC 9114 §4.2), those the
/// connection sets itself (Content-Length, Date, Server), and a field without a name.
pub fn left_out_of_h2(lower: &[u8]) -> bool {
    matches!(
        lower,
        b"connection"
            | b"keep-alive"
            | b"proxy-connection"
            | b"transfer-encoding"
            | b"upgrade"
            | b"content-length"
            | b"date"
            | b"server"
            | b""
    )
}

impl Response {
    /// A response with no fields and no body.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            fields: None,
            body: Body::Empty,
            pending: None,
            sink: None,
        }
    }

    /// A `text/plain` response whose body is exactly `text`.
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        let text: String = text.into();
        Response::new(status)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(Body::Bytes(Cow::Owned(text.into_bytes())))
    }

    /// Adds a field.
    pub fn header(mut self, name: impl Into<FieldName>, value: impl Into<FieldValue>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// A response that accepts the request's body into `sink`: the connection sends
    /// `100 (Continue)` if the client waits for it (RFC 9110 §10.1.1), gives the body to the
    /// sink piece by piece, and sends what [`BodySink::finish`] answers, with the fields set
    /// on this response added ([`Response::after_body`]). Its status (100) is never sent.
    pub fn accepting(sink: Box<dyn BodySink>) -> Self {
        let mut response = Response::new(100);
        response.sink = Some(sink);
        response
    }

    /// The answer once the body this accepting response took is through: `finished`, with
    /// the fields that were set on `self` (by the handler and the wrappers around it: HSTS,
    /// CORS, configured fields) added after its own, so that the final answer carries what
    /// any response from those wrappers carries.
    pub fn after_body(self, finished: Response) -> Response {
        let mut answer = finished;
        answer.headers.extend(self.headers);
        answer
    }

    /// Makes this a response that waits for `ticket`: the request is handled again once the
    /// ticket is done, and this response is sent only if that does not happen in time.
    pub fn pending(mut self, ticket: Ticket) -> Self {
        self.pending = Some(ticket);
        self
    }
}

/// Work under way elsewhere that requests wait for: each waiting connection holds a clone
/// and is woken, through the [`Waker`] it registered, once the work's [`Completion`] is
/// dropped.
#[derive(Debug, Clone)]
pub struct Ticket(Arc<Mutex<Waiting>>);

/// Whether the work is done, and who waits for it.
#[derive(Debug, Default)]
struct Waiting {
    done: bool,
    wakers: Vec<Waker>,
}

/// The work's side of a [`Ticket`]: dropping it (after the outcome is stored where the
/// handler looks for it, or when the work is abandoned) marks the ticket done and wakes
/// every waiter.
#[derive(Debug)]
pub struct Completion(Ticket);

impl Ticket {
    /// A ticket not done yet, and the completion that will mark it done.
    pub fn new() -> (Ticket, Completion) {
        let ticket = Ticket(Arc::default());
        (ticket.clone(), Completion(ticket))
    }

    /// Whether the work is done.
    pub fn is_done(&self) -> bool {
        self.waiting().done
    }

    /// Has `waker` woken once the work is done; `false` (and `waker` is not kept) if it is
    /// done already. Checked and registered under one lock, so no completion is missed.
    pub fn wake_when_done(&self, waker: Waker) -> bool {
        let mut waiting = self.waiting();
        if waiting.done {
            return false;
        }
        waiting.wakers.push(waker);
        true
    }

    fn waiting(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        let wakers = {
            let mut waiting = self.0.waiting();
            waiting.done = true;
            std::mem::take(&mut waiting.wakers)
        };
        for waker in wakers {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_after_a_body_keeps_the_accepting_responses_fields() {
        let accepting = Response::new(100).header("Strict-Transport-Security", "max-age=60");
        let finished = Response::text(201, "ok").header("Location", "/a");
        let answer = accepting.after_body(finished);
        assert_eq!(answer.status, 201);
        let names: Vec<&str> = answer.headers.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(
            names,
            ["Content-Type", "Location", "Strict-Transport-Security"]
        );
    }
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_ticket_wakes_its_waiters_once_done() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let (ticket, completion) = Ticket::new();
        let other = ticket.clone();
        assert!(!ticket.is_done());
        assert!(ticket.wake_when_done(Waker::from(Arc::clone(&count))));
        assert!(other.wake_when_done(Waker::from(Arc::clone(&count))));
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        drop(completion);
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert!(ticket.is_done() && other.is_done());
        // Done already: nothing is registered, and the caller goes on at once.
        assert!(!ticket.wake_when_done(Waker::from(Arc::clone(&count))));
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }
}
