//! TLS under a connection core: one turn of a [`Core`] through a rustls `ServerConnection`
//! over its non-blocking socket.
//!
//! The same core as plain TCP ([`super::transport`]): the TLS layer answers the core's wants
//! with plaintext, and moves records between rustls and the socket. Readiness is tracked the
//! same way (edge-triggered: a read or write that meets `EAGAIN` waits for the next event),
//! and no call ever waits.
//!
//! - **Handshake.** While it runs, the core is idle: no request byte has arrived, so the
//!   core's first deadline (the header timeout from the accept) bounds the handshake, and an
//!   unfinished one is closed at it, as a connection that never sends a byte is. A
//!   handshaking connection counts as idle for `--max-connections` (a refused one excepted:
//!   it holds no place to free).
//! - **Plain HTTP on the TLS port.** A TLS connection starts with a handshake record (byte
//!   0x16); anything else is answered, in plain text, with a 400 that says this port speaks
//!   HTTPS, as nginx does, and closed after a lingering read, so the answer is not lost to a
//!   reset.
//! - **Sending.** Plaintext is staged into whole records of [`RECORD`] bytes and handed to
//!   rustls a record at a time; the records are written together, with one `writev`, once
//!   [`FLUSH_AT`] bytes of them wait, or when the core has no more output for now (it waits
//!   for the client, parks, closes or shuts down its side). A connection whose socket is full
//!   makes no more output, so it holds at most [`FLUSH_AT`] and one record whatever the
//!   client's pace. Files cannot go through `sendfile` (the kernel
//!   would send them unencrypted): they are read into the worker's staging buffer with
//!   `pread`. A head that is followed by a file is staged with the file's first bytes, so a
//!   small file goes out in one record with its head; the responses of pipelined requests,
//!   and HTTP/2's frames of many streams, share records. HTTP/2's DATA frames of a file come
//!   the same way, each header followed by its payload as a file region of at most
//!   [`REGION_PAYLOAD`] bytes: header and payload make one whole record.
//! - **Receiving.** Records are read only when the core wants bytes and rustls holds no
//!   plaintext, so a client cannot make the server buffer more than one record it has not
//!   asked for. A `close_notify`, or the end of the stream, is the client's close.
//! - **Send deadlines.** The core's send clocks measure the records the socket takes, not
//!   the plaintext handed to rustls, and they run while rustls holds records the socket has
//!   not taken, as while the core has output queued (the records that end a response
//!   included). A client cut off at a send deadline is closed at once, whatever rustls still
//!   holds for it.
//! - **HSTS.** The responses the core makes itself (400, 408, 413, 431, ..., and the 503 of a
//!   connection refused at the limits, answered after its handshake) carry the handler's
//!   Strict-Transport-Security policy too; the plain-HTTP refusal does not (RFC 6797 §7.2:
//!   not over an insecure transport).
//!
//! Memory per connection: rustls's state, its buffer for one incoming record (up to 16 KiB
//! and the record's overhead) and, while the socket is full, the records not yet taken (up to
//! [`FLUSH_AT`] and one record), besides the core's buffers.

use super::tls_opening::{
    Opening, PLAIN_HTTP_REFUSAL, PROTOCOL_VERSION_ALERT, Step, linger, opening, refuse,
};
use super::turn::{Budget, Readiness, Turn, log_io_error};
use crate::conn::{Context, Core, REGION_PAYLOAD, Want};
use crate::http::output::Item;
use crate::metrics;
use rustix::fd::OwnedFd;
use rustix::net::Shutdown;
use rustls::ServerConnection;
use std::io::{self, BufRead, ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::time::Instant;

/// The most plaintext one TLS record carries (RFC 8446 §5.1, RFC 5246 §6.2.1): the unit
/// plaintext is staged and handed to rustls in.
pub const RECORD: usize = 16 * 1024;

/// Records are written once this much plaintext waits in them: three whole records a
/// `writev`, where one a call cost a system call and a wake-up of the client per 16 KiB
/// (the 60-asset page over TLS: 5,511 writes for 6,100 responses, against h2o's 601).
const FLUSH_AT: usize = 3 * RECORD;

/// What rustls may hold of records not yet written: [`FLUSH_AT`], the record that reaches
/// it, and room for the records' overhead and a `close_notify`. rustls refuses plaintext
/// past its limit (64 KiB unless set), which would cut the connection.
const RUSTLS_LIMIT: usize = FLUSH_AT + 2 * RECORD;

// An HTTP/2 DATA frame whose payload is a file region fills one record, header included.
const _: () = assert!(REGION_PAYLOAD + nomserve_grammar::FRAME_HEADER_LEN == RECORD);

/// One connection's TLS state.
#[derive(Debug)]
pub struct Tls {
    session: ServerConnection,
    phase: Phase,
    /// Every record queued so far must reach the socket before its write side is shut down.
    shut_after_flush: bool,
    /// Plaintext handed to rustls since its records were last all written.
    unflushed: usize,
}

/// Where the connection is in its life, as far as TLS is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No byte read yet: TLS or not is decided by the first.
    Fresh,
    /// TLS: handshaking, then carrying the core's bytes.
    Tls,
    /// The connection is refused (plain HTTP, or a TLS version too old): this many bytes of
    /// the answer are written.
    Refusing(&'static [u8], usize),
    /// The refusal is sent and the write side shut: reading until the client closes.
    Lingering,
}

impl Tls {
    /// A new server-side TLS connection.
    pub fn new(mut session: ServerConnection) -> Tls {
        session.set_buffer_limit(Some(RUSTLS_LIMIT));
        Tls {
            session,
            phase: Phase::Fresh,
            shut_after_flush: false,
            unflushed: 0,
        }
    }
}

/// The plaintext staged for rustls during one turn: the worker's buffer of [`RECORD`] bytes
/// and how much of it is filled.
struct Stage<'a> {
    buffer: &'a mut [u8],
    len: usize,
}

impl Stage<'_> {
    /// Copies as much of `bytes` as fits; returns how much.
    fn push(&mut self, bytes: &[u8]) -> usize {
        let room = self.buffer.get_mut(self.len..).unwrap_or_default();
        let n = bytes.len().min(room.len());
        room[..n].copy_from_slice(&bytes[..n]);
        self.len += n;
        n
    }

    /// Whether the stage holds a whole record.
    fn is_full(&self) -> bool {
        self.len == self.buffer.len()
    }

    /// Hands the staged bytes to rustls, which encrypts them into records at once.
    fn feed(&mut self, tls: &mut Tls) -> io::Result<()> {
        if self.len > 0 {
            tls.session.writer().write_all(&self.buffer[..self.len])?;
            tls.unflushed += self.len;
            self.len = 0;
        }
        Ok(())
    }
}

/// Runs one turn of `conn` through `tls` over `socket`; `stage` is the worker's staging
/// buffer (at least [`RECORD`] bytes).
pub fn drive(
    conn: &mut Core,
    tls: &mut Tls,
    socket: &OwnedFd,
    ready: &mut Readiness,
    ctx: &Context<'_>,
    stage: &mut [u8],
) -> Turn {
    let mut stage = Stage {
        buffer: stage,
        len: 0,
    };
    let turn = turn(conn, tls, socket, ready, ctx, &mut stage);
    if turn == Turn::Close {
        return turn;
    }
    // Bytes staged when the turn ended (a head waiting for its file's first bytes) go to
    // rustls now; the next turn writes their records.
    if stage.feed(tls).is_err() {
        return Turn::Close;
    }
    conn.set_holding(tls.session.wants_write());
    turn
}

fn turn(
    conn: &mut Core,
    tls: &mut Tls,
    socket: &OwnedFd,
    ready: &mut Readiness,
    ctx: &Context<'_>,
    stage: &mut Stage<'_>,
) -> Turn {
    let peer = conn.peer();
    let mut budget = Budget::new(conn.stats().responses);
    let now = Instant::now();
    // The core cut the client off at a send deadline: what rustls holds is dropped.
    if conn.is_finished() {
        return Turn::Close;
    }
    // Records left from the last turn go out before anything else is done.
    let mut flush = true;
    loop {
        // Records are written when enough wait, when the core has no more output for now,
        // and during the handshake; HTTP/2 reads on while they wait for the socket, as far as
        // its core takes more (a WINDOW_UPDATE, the next request must not wait behind a
        // download).
        let due = flush
            || tls.unflushed >= FLUSH_AT
            || !ready.writable
            || tls.phase != Phase::Tls
            || tls.session.is_handshaking();
        if tls.session.wants_write() && due {
            if !ready.writable {
                if !(ready.readable && conn.reads_while_writing()) {
                    return Turn::Wait;
                }
                match deliver(tls, conn) {
                    Delivered::Bytes(n) => {
                        budget.wrote(n);
                        conn.absorb(ctx, now);
                    }
                    Delivered::Nothing => match receive(tls, socket, ready) {
                        Step::Go(_) => {}
                        Step::Wait => return Turn::Wait,
                        Step::Close => return Turn::Close,
                    },
                    Delivered::Failed => return Turn::Close,
                }
                if budget.spent(conn.stats().responses) {
                    return Turn::Yield;
                }
                continue;
            }
            let mut sink = Socket::new(socket);
            match tls.session.write_tls(&mut sink) {
                Ok(n) => {
                    conn.sent(n, now);
                    if sink.short {
                        ready.writable = false;
                    }
                    if !tls.session.wants_write() {
                        tls.unflushed = 0;
                    }
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    ready.writable = false;
                    return Turn::Wait;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    log_io_error(peer, "writing TLS records", &e);
                    return Turn::Close;
                }
            }
        }
        flush = false;
        if tls.shut_after_flush {
            tls.shut_after_flush = false;
            if let Err(e) = rustix::net::shutdown(socket, Shutdown::Write) {
                log_io_error(peer, "shutting down the write side", &e.into());
                return Turn::Close;
            }
            conn.write_shut(now);
        }
        let established = tls.phase == Phase::Tls && !tls.session.is_handshaking();
        // Until then the core is idle, and its deadline, once passed, closes the connection.
        if !established && matches!(conn.poll(ctx, now), Want::Close) {
            return Turn::Close;
        }
        match tls.phase {
            Phase::Tls => {}
            Phase::Fresh => match opening(socket, ready) {
                Step::Go(Opening::Tls) => {
                    tls.phase = Phase::Tls;
                    conn.set_hsts(ctx.handler.strict_transport_security());
                }
                Step::Go(Opening::OldTls) => {
                    log::debug!("{peer}: a ClientHello older than TLS 1.2; refused");
                    tls.phase = Phase::Refusing(PROTOCOL_VERSION_ALERT, 0);
                }
                Step::Go(Opening::Plain) => {
                    log::debug!("{peer}: plain HTTP on the TLS port; answered 400");
                    tls.phase = Phase::Refusing(PLAIN_HTTP_REFUSAL, 0);
                }
                Step::Wait => return Turn::Wait,
                Step::Close => return Turn::Close,
            },
            Phase::Refusing(answer, sent) => match refuse(socket, ready, answer, sent) {
                Step::Go(sent) if sent < answer.len() => {
                    tls.phase = Phase::Refusing(answer, sent);
                }
                Step::Go(_) => tls.phase = Phase::Lingering,
                Step::Wait => return Turn::Wait,
                Step::Close => return Turn::Close,
            },
            Phase::Lingering => return linger(socket, ready),
        }
        if tls.phase != Phase::Tls {
            continue;
        }
        if tls.session.is_handshaking() {
            match receive(tls, socket, ready) {
                Step::Go(_) => {
                    if !tls.session.is_handshaking() {
                        metrics::count_tls_handshake();
                        // RFC 9113 §3.2: ALPN chose HTTP/2.
                        if tls.session.alpn_protocol() == Some(b"h2") {
                            conn.start_h2(now);
                        }
                    }
                    continue;
                }
                Step::Wait => return Turn::Wait,
                Step::Close => return Turn::Close,
            }
        }
        match conn.poll(ctx, now) {
            Want::Write(Item::Bytes { bytes, .. }) => {
                // Output fills whole records: a head followed by a file waits for the file's
                // first bytes, small responses share a record.
                let n = stage.push(bytes);
                conn.took(n);
                budget.wrote(n);
                if stage.is_full() && stage.feed(tls).is_err() {
                    return Turn::Close;
                }
            }
            Want::Write(Item::File { file, offset, len }) => {
                let room = stage.buffer.len().saturating_sub(stage.len);
                let want = usize::try_from(len).map_or(room, |len| len.min(room));
                let into = &mut stage.buffer[stage.len..stage.len + want];
                match file.read_at(into, offset) {
                    Ok(0) if want > 0 => {
                        log::warn!(
                            "{peer}: closing a connection: a file ended {len} bytes early \
                             (it shrank while being sent)"
                        );
                        return Turn::Close;
                    }
                    Ok(n) => {
                        stage.len += n;
                        conn.took(n);
                        budget.wrote(n);
                        if stage.is_full() && stage.feed(tls).is_err() {
                            return Turn::Close;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        log::warn!("{peer}: closing a connection: reading a file failed: {e}");
                        return Turn::Close;
                    }
                }
            }
            Want::Read => match deliver(tls, conn) {
                // What HTTP/2 reads counts against the turn: a client that keeps sending
                // cannot keep the worker.
                Delivered::Bytes(n) if conn.is_h2() => budget.wrote(n),
                Delivered::Bytes(_) => {}
                // The output made so far goes out before the client is waited for.
                Delivered::Nothing if stage.len > 0 || tls.session.wants_write() => {
                    if stage.feed(tls).is_err() {
                        return Turn::Close;
                    }
                    flush = true;
                }
                Delivered::Nothing => match receive(tls, socket, ready) {
                    Step::Go(_) => {}
                    Step::Wait => return Turn::Wait,
                    Step::Close => return Turn::Close,
                },
                Delivered::Failed => return Turn::Close,
            },
            Want::ShutdownWrite => {
                if stage.feed(tls).is_err() {
                    return Turn::Close;
                }
                tls.session.send_close_notify();
                tls.shut_after_flush = true;
                flush = true;
            }
            // Woken through the connection's waker, once the output made so far is out.
            Want::Park if stage.len > 0 || tls.session.wants_write() => {
                if stage.feed(tls).is_err() {
                    return Turn::Close;
                }
                flush = true;
            }
            Want::Park => return Turn::Wait,
            // A last response staged with `more` goes to rustls, and its records to the
            // socket like any (the loop's start), before the close: the core asks again.
            Want::Close if stage.len > 0 => {
                if stage.feed(tls).is_err() {
                    return Turn::Close;
                }
                flush = true;
            }
            Want::Close => {
                // A close_notify, if the socket takes it at once; the close follows anyway.
                tls.session.send_close_notify();
                let _ = tls.session.write_tls(&mut Socket::new(socket));
                return Turn::Close;
            }
        }
        if budget.spent(conn.stats().responses) {
            return Turn::Yield;
        }
    }
}

/// The socket as rustls reads and writes it, noting a call that moved fewer bytes than it
/// was given room for: the socket is then drained (or full) until its next event, so the
/// `EAGAIN` the next call would meet is not asked for.
struct Socket<'a> {
    socket: &'a OwnedFd,
    short: bool,
}

impl<'a> Socket<'a> {
    fn new(socket: &'a OwnedFd) -> Self {
        Socket {
            socket,
            short: false,
        }
    }
}

impl io::Read for Socket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = buf.len();
        let n = rustix::io::read(self.socket, buf)?;
        self.short = n < room;
        Ok(n)
    }
}

impl Write for Socket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = rustix::net::send(self.socket, buf, rustix::net::SendFlags::NOSIGNAL)?;
        self.short = n < buf.len();
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = rustix::io::writev(self.socket, bufs)?;
        self.short = n < bufs.iter().map(|b| b.len()).sum();
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Reads records from the socket into rustls and processes them. A TLS error (a bad record,
/// a failed handshake) ends the connection, after its alert is sent if the socket takes it.
fn receive(tls: &mut Tls, socket: &OwnedFd, ready: &mut Readiness) -> Step<()> {
    if !ready.readable {
        return Step::Wait;
    }
    let mut source = Socket::new(socket);
    match tls.session.read_tls(&mut source) {
        Ok(0) if tls.session.is_handshaking() => return Step::Close,
        Ok(_) => {
            if source.short && !ready.peer_shut {
                ready.readable = false;
            }
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            ready.readable = false;
            return Step::Wait;
        }
        Err(e) if e.kind() == ErrorKind::Interrupted => return Step::Go(()),
        Err(e) => {
            log::debug!("reading TLS records: {e}");
            return Step::Close;
        }
    }
    match tls.session.process_new_packets() {
        Ok(_) => Step::Go(()),
        Err(e) => {
            log::debug!("TLS: {e}; closing");
            let _ = tls.session.write_tls(&mut Socket::new(socket));
            Step::Close
        }
    }
}

/// What [`deliver`] did.
enum Delivered {
    /// This much plaintext went to the core (0: the client's close was passed on).
    Bytes(usize),
    /// rustls holds no plaintext: records must be read.
    Nothing,
    /// The session cannot go on.
    Failed,
}

/// Moves the plaintext rustls holds into the core's buffer, as much as fits.
fn deliver(tls: &mut Tls, conn: &mut Core) -> Delivered {
    let mut reader = tls.session.reader();
    match reader.fill_buf() {
        Ok([]) => {
            conn.peer_closed();
            Delivered::Bytes(0)
        }
        Ok(chunk) => {
            let buffer = conn.read_buffer();
            let room = buffer.capacity() - buffer.len();
            let n = chunk.len().min(room);
            buffer.extend_from_slice(&chunk[..n]);
            reader.consume(n);
            Delivered::Bytes(n)
        }
        Err(e) if e.kind() == ErrorKind::WouldBlock => Delivered::Nothing,
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
            conn.peer_closed();
            Delivered::Bytes(0)
        }
        Err(e) => {
            log::debug!("{}: reading TLS plaintext: {e}", conn.peer());
            Delivered::Failed
        }
    }
}
