//! One connection's life: a state machine with deadlines.
//!
//! ```text
//!            bytes                 head complete              body read
//!   Idle ───────────▶ Head ───────────────────────▶ Body ────────────────▶ respond
//!    ▲                 │ deadline: 408                │ deadline: close        │
//!    │                 ▼                              ▼                        │
//!    │           respond, Lingering ──▶ close       close                      │
//!    └──────────── keep-alive ◀────────────────────────────────────────────────┘
//! ```
//!
//! A worker drives a connection with [`Conn::on_readable`] or [`Conn::on_deadline`] until it
//! needs bytes that have not arrived ([`Next::Park`]: the poller keeps it until they do or the
//! deadline passes) or is done ([`Next::Close`]). Reads never wait (`MSG_DONTWAIT`); writes
//! block under the socket's write timeout. Bytes already buffered are always processed before
//! reading again, so pipelined requests are answered in order, and a client that half-closed
//! still gets its responses.
//!
//! Deadlines:
//! - A new connection has the header timeout to send a request's first byte, an idle
//!   keep-alive one the keep-alive timeout; then it is closed silently, as RFC 9112 §9.5 lets a
//!   server close an idle connection at any time. (The RFC sets no timeout before the first
//!   byte; sending nothing at all earns no response, so that a browser's speculative
//!   pre-connection is not answered with a 408 it would show.)
//! - From a request's first byte, its head must be complete within the header timeout, else
//!   408 (RFC 9110 §15.5.9) and close.
//! - Its body must be complete within one more header timeout, else the connection is closed
//!   without a response. Deviation, argued: a 408 there would be an answer sent before the
//!   request it answers is complete, which is exactly what Http11Probe's smuggling tests (a
//!   Content-Length larger than what arrives) grade as a failure unless it is a 400; a close
//!   is the answer every client and intermediary reads the same way.

use crate::access_log::{self, RequestInfo};
use crate::listener::{Shared, Slot};
use crate::response::Response;
use crate::writer::{self, Framing};
use nomserve_grammar::{
    BodyFraming, Chunk, ChunkedDecoder, ChunkedLimits, Error, Header, Limits, Method, Parsed,
    Request, Version, parse_request,
};
use rustix::buffer::spare_capacity;
use rustix::fd::{AsFd, BorrowedFd};
use std::any::Any;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// The most request-body bytes read and discarded for one request: 1 MiB. The server serves
/// GET and HEAD, whose bodies have no meaning (RFC 9110 §9.3.1), so a body is read only to
/// find where the next request starts; past this a client is sending an upload to a server
/// that takes none, and gets 413 and a closed connection.
pub const MAX_DISCARDED_BODY: u64 = 1024 * 1024;

/// Bytes asked of the socket per read: a browser's head (1–2 KiB) or several pipelined ones
/// in one call, while an idle connection holds little.
const READ_CHUNK: usize = 8 * 1024;

/// How long a lingering close waits for the client to stop sending after the server's final
/// response. Long enough for bytes in flight to arrive, short enough that a client that
/// keeps sending cannot hold the connection.
const LINGER_TIME: Duration = Duration::from_secs(2);

/// Most bytes a lingering close reads and discards before closing anyway.
const LINGER_BYTES: usize = 64 * 1024;

/// Header storage per parse: the grammar's default field count bound.
const MAX_HEADERS: usize = Limits::DEFAULT_MAX_HEADERS;

/// What the worker does with a connection next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Park it in the poller until it is readable or the deadline passes.
    Park(Instant),
    /// Drop it: the connection is over.
    Close,
}

/// A client connection and everything it carries between reads.
#[derive(Debug)]
pub struct Conn {
    // Declared first, so dropped first: the place under the connection cap is free before
    // the socket closes, and a client that sees the close can connect again at once.
    _slot: Slot,
    stream: TcpStream,
    peer: SocketAddr,
    token: u64,
    /// Whether the socket is in the poller's epoll set (then it is re-armed, not added).
    pub registered: bool,
    /// Bytes read and not yet used start at `pos`; `buf[..pos]` is used up.
    buf: Vec<u8>,
    pos: usize,
    state: State,
}

/// Where a connection is in its life.
#[derive(Debug)]
enum State {
    /// Waiting for the first byte of a request; closed silently at the deadline.
    Idle { deadline: Instant },
    /// Part of a head has arrived; the rest must arrive by the deadline (else 408).
    Head { deadline: Instant },
    /// Reading and discarding a request body; then `pending` is sent.
    Body {
        body: BodyReader,
        deadline: Instant,
        pending: Box<Pending>,
    },
    /// The final response is sent and the write side shut: discard what the client still
    /// sends, until it closes, the deadline passes or [`LINGER_BYTES`] were read. This is the
    /// staged close of RFC 9112 §9.6: closing at once with unread bytes would make the kernel
    /// reset the connection, and the client could lose the response it has not read yet.
    Lingering { deadline: Instant, drained: usize },
    /// Over.
    Closed,
}

impl State {
    /// When the connection stops waiting for bytes; `None` once it is over.
    fn deadline(&self) -> Option<Instant> {
        match self {
            State::Idle { deadline }
            | State::Head { deadline }
            | State::Body { deadline, .. }
            | State::Lingering { deadline, .. } => Some(*deadline),
            State::Closed => None,
        }
    }
}

/// Why the server closes a connection after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// The request did not ask for persistence (RFC 9112 §9.3), or the server is shutting
    /// down; the framing is intact.
    Requested,
    /// The framing of what the client sends next is in doubt (a malformed or unfinished
    /// request, a body not read): RFC 9112 §9.3 leaves closing as the only safe course.
    Error,
}

/// What the connection layer keeps of a request to write and log its response.
#[derive(Debug)]
struct Exchange {
    /// A HEAD request: the response has no content.
    head_request: bool,
    /// HTTP/1.0, where persistence must be confirmed with `Connection: keep-alive`.
    http10: bool,
    /// The access log's view of the request (`None` when access logging is off).
    info: Option<RequestInfo>,
}

impl Exchange {
    /// The exchange for bytes that did not parse as a request.
    fn unparsed(bytes: &[u8]) -> Exchange {
        Exchange {
            head_request: false,
            http10: false,
            info: RequestInfo::unparsed(bytes),
        }
    }
}

/// A response waiting for its request's body to be read.
#[derive(Debug)]
struct Pending {
    response: Response,
    exchange: Exchange,
    close: Option<Close>,
}

/// What was decided from a request head.
#[derive(Debug)]
struct Prepared {
    response: Response,
    exchange: Exchange,
    /// The body to read before responding; `None`: none, or it is not read (then `close`).
    body: Option<BodyReader>,
    /// Send `100 Continue` before reading the body.
    send_continue: bool,
    close: Option<Close>,
}

/// One step of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// The state changed; step again.
    Continue,
    /// The buffered bytes are used up; read more.
    NeedBytes,
    /// The connection is over.
    Close,
}

impl Conn {
    /// A new connection from `peer`, holding `slot` under the cap, known to the poller as
    /// `token`, which must send a request's first byte by `deadline`.
    pub fn new(
        stream: TcpStream,
        peer: SocketAddr,
        token: u64,
        slot: Slot,
        deadline: Instant,
    ) -> Conn {
        Conn {
            _slot: slot,
            stream,
            peer,
            token,
            registered: false,
            buf: Vec::new(),
            pos: 0,
            state: State::Idle { deadline },
        }
    }

    /// The poller's token for this connection.
    pub fn token(&self) -> u64 {
        self.token
    }

    /// The socket, for the poller to watch.
    pub fn socket(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Runs the connection after the socket became readable (or hung up): reads what is
    /// there and answers every complete request, until it must wait for bytes again or is
    /// over.
    pub fn on_readable(&mut self, shared: &Shared) -> Next {
        loop {
            match self.step(shared) {
                Step::Continue => {}
                Step::Close => return Next::Close,
                Step::NeedBytes => match self.fill() {
                    Ok(true) => {}
                    Ok(false) => {
                        log::debug!("{}: closed by the client", self.peer);
                        return Next::Close;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return match self.state.deadline() {
                            Some(deadline) if Instant::now() >= deadline => {
                                self.on_deadline(shared)
                            }
                            Some(deadline) => Next::Park(deadline),
                            None => Next::Close,
                        };
                    }
                    Err(e) => {
                        log_io_error(self.peer, "reading", &e);
                        return Next::Close;
                    }
                },
            }
        }
    }

    /// Runs the connection after its deadline passed while it waited for bytes: an idle
    /// connection is closed silently, an unfinished head gets 408 (then a lingering close),
    /// an unfinished body or a lingering close ends without a response.
    pub fn on_deadline(&mut self, shared: &Shared) -> Next {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Idle { .. } => {
                log::debug!("{}: idle until its deadline; closing", self.peer);
                Next::Close
            }
            State::Head { .. } => {
                log::debug!(
                    "{}: request head unfinished at its deadline; 408",
                    self.peer
                );
                let exchange = Exchange::unparsed(self.unprocessed());
                let response = Response::text(408, "the request head did not arrive in time\n");
                match self.finish(response, exchange, Some(Close::Error), shared) {
                    Step::Continue => self.on_readable(shared),
                    Step::NeedBytes | Step::Close => Next::Close,
                }
            }
            State::Body { .. } => {
                log::debug!(
                    "{}: request body unfinished at its deadline; closing",
                    self.peer
                );
                Next::Close
            }
            State::Lingering { .. } | State::Closed => Next::Close,
        }
    }

    /// The bytes read and not yet used.
    fn unprocessed(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Reads what the socket holds, without waiting, after the unused bytes. `Ok(true)`:
    /// bytes arrived; `Ok(false)`: the client closed its side; `WouldBlock`: nothing yet.
    fn fill(&mut self) -> io::Result<bool> {
        self.buf.drain(..self.pos);
        self.pos = 0;
        self.buf.reserve(READ_CHUNK);
        loop {
            let flags = rustix::net::RecvFlags::DONTWAIT;
            match rustix::net::recv(&self.stream, spare_capacity(&mut self.buf), flags) {
                Ok((read, _)) => return Ok(read > 0),
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Advances the state machine with the buffered bytes.
    fn step(&mut self, shared: &Shared) -> Step {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Idle { deadline } => {
                if self.unprocessed().is_empty() {
                    self.state = State::Idle { deadline };
                    Step::NeedBytes
                } else {
                    // A request's first byte: its head has the header timeout from now.
                    let deadline = Instant::now() + shared.config.header_timeout;
                    self.state = State::Head { deadline };
                    Step::Continue
                }
            }
            State::Head { deadline } => self.read_head(deadline, shared),
            State::Body {
                body,
                deadline,
                pending,
            } => self.read_body(body, deadline, *pending, shared),
            State::Lingering { deadline, drained } => {
                let drained = drained + self.unprocessed().len();
                self.pos = self.buf.len();
                if drained > LINGER_BYTES {
                    Step::Close
                } else {
                    self.state = State::Lingering { deadline, drained };
                    Step::NeedBytes
                }
            }
            State::Closed => Step::Close,
        }
    }

    /// Parses a head from the buffered bytes: waits for more if it is incomplete, answers a
    /// malformed one with its error's status and sentence (and closes), and otherwise calls
    /// the handler and goes on to the body, if any, or the response.
    fn read_head(&mut self, deadline: Instant, shared: &Shared) -> Step {
        enum Outcome {
            Complete(Box<Prepared>, usize),
            Partial,
            Invalid(Error),
        }
        let outcome = {
            let input = self.unprocessed();
            let mut fields = [Header::EMPTY; MAX_HEADERS];
            match parse_request(input, &mut fields, &Limits::default()) {
                Ok(Parsed::Complete { value, consumed }) => {
                    let head = input.get(..consumed).unwrap_or(input);
                    let prepared = prepare(&value, head, self.peer, shared);
                    Outcome::Complete(Box::new(prepared), head.len())
                }
                Ok(Parsed::Partial) => Outcome::Partial,
                Err(e) => Outcome::Invalid(e),
            }
        };
        match outcome {
            Outcome::Partial => {
                self.state = State::Head { deadline };
                Step::NeedBytes
            }
            Outcome::Invalid(e) => {
                log::debug!("{}: malformed request: {e}", self.peer);
                let exchange = Exchange::unparsed(self.unprocessed());
                let response = Response::text(e.status(), format!("{e}\n"));
                self.finish(response, exchange, Some(Close::Error), shared)
            }
            Outcome::Complete(prepared, consumed) => {
                self.pos += consumed;
                let Prepared {
                    response,
                    exchange,
                    body,
                    send_continue,
                    close,
                } = *prepared;
                let Some(body) = body else {
                    return self.finish(response, exchange, close, shared);
                };
                // RFC 9110 §10.1.1: a server may omit 100 (Continue) once content arrived.
                if send_continue && self.unprocessed().is_empty() {
                    if let Err(e) = self.stream.write_all(writer::CONTINUE) {
                        log_io_error(self.peer, "writing 100 Continue", &e);
                        return Step::Close;
                    }
                }
                self.state = State::Body {
                    body,
                    deadline: Instant::now() + shared.config.header_timeout,
                    pending: Box::new(Pending {
                        response,
                        exchange,
                        close,
                    }),
                };
                Step::Continue
            }
        }
    }

    /// Discards the buffered body bytes; once the body is through, sends the pending
    /// response. A malformed chunked body is answered with its error (400), a body past
    /// [`MAX_DISCARDED_BODY`] with 413; both close.
    fn read_body(
        &mut self,
        mut body: BodyReader,
        deadline: Instant,
        pending: Pending,
        shared: &Shared,
    ) -> Step {
        let Pending {
            response,
            exchange,
            close,
        } = pending;
        match body.consume(self.unprocessed()) {
            Ok((used, BodyState::More)) => {
                self.pos += used;
                self.state = State::Body {
                    body,
                    deadline,
                    pending: Box::new(Pending {
                        response,
                        exchange,
                        close,
                    }),
                };
                Step::NeedBytes
            }
            Ok((used, BodyState::Done)) => {
                self.pos += used;
                self.finish(response, exchange, close, shared)
            }
            Ok((used, BodyState::TooLarge)) => {
                self.pos += used;
                log::debug!(
                    "{}: request body past {MAX_DISCARDED_BODY} bytes; 413",
                    self.peer
                );
                let response = Response::text(
                    413,
                    format!("request body larger than {MAX_DISCARDED_BODY} bytes\n"),
                );
                self.finish(response, exchange, Some(Close::Error), shared)
            }
            Err(e) => {
                log::debug!("{}: malformed request body: {e}", self.peer);
                let response = Response::text(e.status(), format!("{e}\n"));
                self.finish(response, exchange, Some(Close::Error), shared)
            }
        }
    }

    /// Sends `response`, logs it, and decides what follows: the next request (keep-alive),
    /// a lingering close (the framing is in doubt, or unread bytes are buffered), or the end.
    fn finish(
        &mut self,
        response: Response,
        exchange: Exchange,
        close: Option<Close>,
        shared: &Shared,
    ) -> Step {
        let close = close.or(shared.shutting_down().then_some(Close::Requested));
        let framing = Framing {
            head_request: exchange.head_request,
            close: close.is_some(),
            http10_keep_alive: close.is_none() && exchange.http10,
        };
        let written = writer::write_response(&mut self.stream, response, framing);
        access_log::record(
            self.peer.ip(),
            exchange.info.as_ref(),
            written.status,
            written.body_bytes,
        );
        if let Err(e) = written.result {
            log_io_error(self.peer, "writing the response", &e);
            return Step::Close;
        }
        let now = Instant::now();
        match close {
            None if self.unprocessed().is_empty() => {
                self.buf.clear();
                self.pos = 0;
                if self.buf.capacity() > 4 * READ_CHUNK {
                    self.buf = Vec::new();
                }
                self.state = State::Idle {
                    deadline: now + shared.config.keep_alive_timeout,
                };
                Step::Continue
            }
            // A pipelined request's first bytes are here: its head deadline starts now.
            None => {
                self.state = State::Head {
                    deadline: now + shared.config.header_timeout,
                };
                Step::Continue
            }
            Some(Close::Requested) if self.unprocessed().is_empty() => Step::Close,
            Some(_) => {
                // Lingering close: shut the write side so the client reads the response
                // and sees the end, then drain what it still sends so that closing does not
                // reset the connection (and destroy the response) under it.
                if let Err(e) = self.stream.shutdown(Shutdown::Write) {
                    log_io_error(self.peer, "shutting down the write side", &e);
                    return Step::Close;
                }
                self.state = State::Lingering {
                    deadline: now + LINGER_TIME,
                    drained: 0,
                };
                Step::Continue
            }
        }
    }
}

/// Everything decided from a request head before its body is read: the handler's response
/// (or 417 for an expectation the server cannot meet, or 500 if the handler panicked),
/// whether to send 100 Continue, how the body is framed, and whether to close afterwards.
/// Logs the raw head and its fields at debug level.
fn prepare(request: &Request<'_, '_>, head: &[u8], peer: SocketAddr, shared: &Shared) -> Prepared {
    if log::log_enabled!(log::Level::Debug) {
        log::debug!(
            "{peer}: request head ({} bytes): \"{}\"",
            head.len(),
            head.escape_ascii()
        );
        for field in request.headers.iter() {
            log::debug!(
                "{peer}: field {}: {}",
                field.name,
                field.value.escape_ascii()
            );
        }
    }
    let exchange = Exchange {
        head_request: request.method == Method::Head,
        http10: request.version < Version::HTTP_11,
        info: RequestInfo::parsed(head, request),
    };
    let close = (!request.wants_keep_alive()).then_some(Close::Requested);
    let expectation = expectation(request);
    if expectation == Expectation::Unsupported {
        return Prepared {
            response: Response::text(417, "the only expectation supported is 100-continue\n"),
            exchange,
            body: None,
            send_continue: false,
            close: Some(Close::Error),
        };
    }
    match catch_unwind(AssertUnwindSafe(|| shared.handler.handle(request, head))) {
        Ok(response) => Prepared {
            response,
            exchange,
            body: BodyReader::new(request.framing),
            send_continue: expectation == Expectation::Continue,
            close,
        },
        Err(payload) => {
            let line = head.split(|&b| b == b'\r').next().unwrap_or_default();
            log::error!(
                "{peer}: handler panicked on \"{}\": {}; answered 500",
                access_log::escape(line),
                panic_message(payload.as_ref())
            );
            Prepared {
                response: Response::text(500, "internal server error\n"),
                exchange,
                body: None,
                send_continue: false,
                close: Some(Close::Error),
            }
        }
    }
}

/// The text a panic carried, if it is a string.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "(no message)"
    }
}

/// What a request's Expect field asks of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expectation {
    /// Nothing (no Expect field, or 100-continue in an HTTP/1.0 request).
    None,
    /// `100-continue`: send 100 (Continue) before reading the body.
    Continue,
    /// Something else: answer 417.
    Unsupported,
}

/// The expectation of `request`, from every Expect field line.
///
/// `Expect = #expectation`,
/// `expectation = token [ "=" ( token / quoted-string ) parameters ]` (RFC 9110 §10.1.1).
/// `100-continue` (case-insensitive) is the only expectation defined; any other member
/// earns 417 (RFC 9110 §10.1.1, §15.5.18). Empty list members are skipped (RFC 9110 §5.6.1).
/// Members are split at every comma, even inside a quoted-string: a member holding a quote
/// is not `100-continue` either way, so the answer (417) does not change. A 100-continue
/// expectation in an HTTP/1.0 request is ignored, as RFC 9110 §10.1.1 requires (an HTTP/1.0
/// client cannot understand a 1xx, RFC 9110 §15.2).
fn expectation(request: &Request<'_, '_>) -> Expectation {
    let mut found = Expectation::None;
    for value in request.headers.get_all("Expect") {
        for member in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            if member.is_empty() {
                continue;
            }
            if !member.eq_ignore_ascii_case(b"100-continue") {
                return Expectation::Unsupported;
            }
            found = Expectation::Continue;
        }
    }
    if request.version < Version::HTTP_11 {
        Expectation::None
    } else {
        found
    }
}

/// Reads a request body through its framing (RFC 9112 §6.3), counting and discarding it.
#[derive(Debug, Clone)]
enum BodyReader {
    /// `message-body = *OCTET` of exactly `Content-Length = 1*DIGIT` octets (RFC 9112 §6,
    /// §6.2): this many bytes remain.
    Length { remaining: u64, discarded: u64 },
    /// `chunked-body = *chunk last-chunk trailer-section CRLF` (RFC 9112 §7.1), decoded by the
    /// grammar's push decoder.
    Chunked {
        decoder: ChunkedDecoder,
        discarded: u64,
    },
}

/// Where a body stands after the buffered bytes were consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    /// It continues in bytes not read yet.
    More,
    /// It is through.
    Done,
    /// More than [`MAX_DISCARDED_BODY`] bytes of it arrived and more are to come.
    TooLarge,
}

impl BodyReader {
    /// The reader for `framing`; `None` when there is no body to read.
    fn new(framing: BodyFraming) -> Option<BodyReader> {
        match framing {
            BodyFraming::None | BodyFraming::ContentLength(0) => None,
            BodyFraming::ContentLength(remaining) => Some(BodyReader::Length {
                remaining,
                discarded: 0,
            }),
            BodyFraming::Chunked => Some(BodyReader::Chunked {
                decoder: ChunkedDecoder::new(ChunkedLimits::default()),
                discarded: 0,
            }),
        }
    }

    /// Consumes body bytes from the start of `input`; returns how many it used (the rest
    /// belongs to the next request, or is an incomplete chunk line waiting for more) and
    /// where the body stands. A Content-Length body stops at [`MAX_DISCARDED_BODY`] bytes; a
    /// chunked one, at the first chunk that goes past it. Errors are the chunked decoder's,
    /// with offsets from the body's first byte.
    fn consume(&mut self, input: &[u8]) -> Result<(usize, BodyState), Error> {
        match self {
            BodyReader::Length {
                remaining,
                discarded,
            } => {
                let room = MAX_DISCARDED_BODY.saturating_sub(*discarded);
                let take = (*remaining).min(room).min(input.len() as u64);
                *remaining -= take;
                *discarded += take;
                let state = if *remaining == 0 {
                    BodyState::Done
                } else if *discarded >= MAX_DISCARDED_BODY {
                    BodyState::TooLarge
                } else {
                    BodyState::More
                };
                // `take` is at most `input.len()`, a usize.
                Ok((usize::try_from(take).unwrap_or(input.len()), state))
            }
            BodyReader::Chunked { decoder, discarded } => {
                let mut used = 0;
                loop {
                    let rest = input.get(used..).unwrap_or_default();
                    if rest.is_empty() {
                        return Ok((used, BodyState::More));
                    }
                    match decoder.decode(rest)? {
                        Parsed::Partial => return Ok((used, BodyState::More)),
                        Parsed::Complete {
                            value: Chunk::End,
                            consumed,
                        } => return Ok(((used + consumed).min(input.len()), BodyState::Done)),
                        Parsed::Complete {
                            value: Chunk::Data(data),
                            consumed,
                        } => {
                            // The decoder never reports more than it was given; the clamp
                            // keeps `used` a valid index into `input` regardless.
                            used = (used + consumed).min(input.len());
                            *discarded += data.len() as u64;
                            if *discarded > MAX_DISCARDED_BODY {
                                return Ok((used, BodyState::TooLarge));
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
    }
}

/// Logs an I/O error on the connection to `peer` during `what`: at debug level when the
/// client went away (reset, broken pipe), which is routine; at warn level otherwise.
fn log_io_error(peer: SocketAddr, what: &str, e: &io::Error) {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => log::debug!("{peer}: {what}: {e}"),
        _ => log::warn!("{peer}: {what}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::{ConnectionOptions, Headers, RequestTarget};

    fn request<'b, 'h>(version: Version, fields: &'h [Header<'b>]) -> Request<'b, 'h> {
        Request {
            method: Method::Post,
            target: RequestTarget::Origin {
                path: "/",
                query: None,
            },
            version,
            headers: Headers::new(fields),
            host: Some("x"),
            framing: BodyFraming::ContentLength(3),
            connection: ConnectionOptions::default(),
        }
    }

    fn expect(version: Version, values: &[&'static str]) -> Expectation {
        let fields: Vec<Header<'static>> = values
            .iter()
            .map(|v| Header {
                name: "expect",
                value: v.as_bytes(),
            })
            .collect();
        expectation(&request(version, &fields))
    }

    #[test]
    fn expectations() {
        assert_eq!(expect(Version::HTTP_11, &[]), Expectation::None);
        assert_eq!(
            expect(Version::HTTP_11, &["100-continue"]),
            Expectation::Continue
        );
        assert_eq!(
            expect(Version::HTTP_11, &["100-Continue"]),
            Expectation::Continue
        );
        assert_eq!(
            expect(Version::HTTP_11, &[", 100-continue ,"]),
            Expectation::Continue
        );
        assert_eq!(expect(Version::HTTP_11, &[""]), Expectation::None);
        assert_eq!(
            expect(Version::HTTP_11, &["200-ok"]),
            Expectation::Unsupported
        );
        assert_eq!(
            expect(Version::HTTP_11, &["100-continue", "x=\"a,b\""]),
            Expectation::Unsupported
        );
        // RFC 9110 §10.1.1: ignored from HTTP/1.0; other expectations still fail.
        assert_eq!(
            expect(Version::HTTP_10, &["100-continue"]),
            Expectation::None
        );
        assert_eq!(
            expect(Version::HTTP_10, &["bogus"]),
            Expectation::Unsupported
        );
    }

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
    fn malformed_chunked_bodies_are_errors() {
        let mut body = BodyReader::new(BodyFraming::Chunked).unwrap();
        let err = body.consume(b"zz\r\n").unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn panic_messages() {
        assert_eq!(panic_message(&"boom"), "boom");
        assert_eq!(panic_message(&String::from("bang")), "bang");
        assert_eq!(panic_message(&42), "(no message)");
    }
}
