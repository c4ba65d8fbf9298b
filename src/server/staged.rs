//! HTTP/2 output in the clear, gathered for one `send`: each DATA frame's file payload comes
//! as a file region ([`REGION_PAYLOAD`](crate::conn::REGION_PAYLOAD) bytes) and is read with
//! `pread` straight into the worker's stage, after the frames before it, until the stage is
//! full or the connection has nothing more to write; then one `send` takes it all.
//!
//! The stage is the worker's, shared by its connections and initialized once: a payload is
//! read into it without being zero-filled first, as reading it into the connection's output
//! would need, and copied only by the kernel, into the socket. Frames that need no file
//! (heads, control frames, in-memory bodies) go with a `send` from the connection's output
//! when nothing is staged before them. What the socket does not take of a stage is kept in
//! the connection's [`Held`] until it is writable again; nothing more is staged until that
//! is sent, so a connection holds at most [`STAGE`] bytes here.

use super::turn::{Budget, Readiness, SEND_MAX, log_io_error};
use crate::conn::Core;
use crate::http::buffers;
use crate::http::output::Item;
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::SendFlags;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::os::unix::fs::FileExt;
use std::time::Instant;

/// The most bytes of HTTP/2 output staged for one `send` ([`SEND_MAX`]), and no more than
/// this held for a client that does not read (until the send timeout cuts it off).
pub const STAGE: usize = SEND_MAX;

/// Staged output of a plain connection the socket has not taken yet, kept between turns.
#[derive(Debug, Default)]
pub struct Held {
    bytes: Vec<u8>,
    /// `bytes[..at]` is sent.
    at: usize,
}

impl Held {
    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.at == self.bytes.len()
    }

    /// Sends what is held, as far as the socket takes it; `Err` when the connection failed
    /// (logged).
    fn send(
        &mut self,
        socket: &OwnedFd,
        ready: &mut Readiness,
        conn: &mut Core,
        now: Instant,
        budget: &mut Budget,
    ) -> Result<(), ()> {
        let rest = self.bytes.get(self.at..).unwrap_or_default();
        let n = send(socket, rest, ready, conn.peer())?;
        if n == 0 {
            return Ok(());
        }
        conn.sent(n, now);
        budget.wrote(n);
        self.at += n;
        if self.is_empty() {
            // An idle connection holds no buffer.
            buffers::give(std::mem::take(&mut self.bytes));
            self.at = 0;
        }
        conn.set_holding(!self.is_empty());
        Ok(())
    }

    /// Keeps `bytes`, staged and not sent (nothing is held before them).
    fn keep(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.bytes.capacity() == 0 {
            self.bytes = buffers::take(bytes.len());
        }
        self.bytes.extend_from_slice(bytes);
    }
}

/// Output staged during one connection's turn: the worker's buffer of [`STAGE`] bytes, how
/// much of it is filled, and what the connection holds from earlier turns.
pub struct Stage<'a> {
    buffer: &'a mut [u8],
    len: usize,
    held: &'a mut Held,
}

impl<'a> Stage<'a> {
    /// An empty stage over `buffer` (at most [`STAGE`] bytes of it are used) for the
    /// connection that holds `held`.
    pub fn new(buffer: &'a mut [u8], held: &'a mut Held) -> Stage<'a> {
        let len = buffer.len().min(STAGE);
        Stage {
            buffer: &mut buffer[..len],
            len: 0,
            held,
        }
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the connection holds bytes from an earlier stage: they go before anything
    /// else, and nothing is staged meanwhile.
    pub fn is_holding(&self) -> bool {
        !self.held.is_empty()
    }

    /// Sends what the connection holds, as far as the socket takes it; `Err` when the
    /// connection failed (logged).
    pub fn send_held(
        &mut self,
        socket: &OwnedFd,
        ready: &mut Readiness,
        conn: &mut Core,
        now: Instant,
        budget: &mut Budget,
    ) -> Result<(), ()> {
        self.held.send(socket, ready, conn, now, budget)
    }

    /// Whether `item`, of an HTTP/2 connection, goes through the stage now: a file region and
    /// the bytes before it, and anything after staged bytes (to keep its place), while there
    /// is room; a region only whole, unless nothing is staged (one `pread` per DATA frame).
    pub fn takes(&self, item: &Item<'_>) -> bool {
        let room = self.buffer.len() - self.len;
        self.held.is_empty()
            && room > 0
            && match item {
                Item::File { len, .. } => self.len == 0 || *len <= room as u64,
                Item::Bytes { more, .. } => *more || self.len > 0,
            }
    }

    /// Stages a prefix of `item` (a region's bytes read from its file); returns its length,
    /// `Err` when the file ended early (it shrank) or could not be read (logged).
    pub fn push(&mut self, item: Item<'_>, peer: SocketAddr) -> Result<usize, ()> {
        let room = self.buffer.get_mut(self.len..).unwrap_or_default();
        let n = match item {
            Item::Bytes { bytes, .. } => {
                let n = bytes.len().min(room.len());
                room[..n].copy_from_slice(&bytes[..n]);
                n
            }
            Item::File { file, offset, len } => {
                let want = usize::try_from(len).map_or(room.len(), |len| len.min(room.len()));
                loop {
                    match file.read_at(&mut room[..want], offset) {
                        Ok(0) if want > 0 => {
                            log::warn!(
                                "{peer}: closing a connection: a file ended {len} bytes early \
                                 (it shrank while being sent)"
                            );
                            return Err(());
                        }
                        Ok(n) => break n,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        Err(e) => {
                            log::warn!("{peer}: closing a connection: reading a file failed: {e}");
                            return Err(());
                        }
                    }
                }
            }
        };
        self.len += n;
        Ok(n)
    }

    /// Sends what is staged, as far as the socket takes it, and holds the rest (the core is
    /// told whether bytes are held: it is not over while they are); `Err` when the
    /// connection failed (logged).
    pub fn flush(
        &mut self,
        socket: &OwnedFd,
        ready: &mut Readiness,
        conn: &mut Core,
        now: Instant,
        budget: &mut Budget,
    ) -> Result<(), ()> {
        if self.len == 0 {
            return Ok(());
        }
        let staged = &self.buffer[..self.len];
        let n = send(socket, staged, ready, conn.peer())?;
        if n > 0 {
            conn.sent(n, now);
            budget.wrote(n);
        }
        self.held.keep(&staged[n..]);
        self.len = 0;
        conn.set_holding(self.is_holding());
        Ok(())
    }
}

/// Sends a prefix of `bytes` if the socket is writable; returns its length (0 when the socket
/// is full), `Err` when the connection failed (logged). A socket that takes less than all is
/// full until its next event.
fn send(
    socket: &OwnedFd,
    bytes: &[u8],
    ready: &mut Readiness,
    peer: SocketAddr,
) -> Result<usize, ()> {
    if !ready.writable || bytes.is_empty() {
        return Ok(0);
    }
    match rustix::net::send(socket, bytes, SendFlags::NOSIGNAL) {
        Ok(n) => {
            if n < bytes.len() {
                ready.writable = false;
            }
            Ok(n)
        }
        Err(Errno::AGAIN) => {
            ready.writable = false;
            Ok(0)
        }
        Err(Errno::INTR) => Ok(0),
        Err(e) => {
            log_io_error(peer, "writing the response", &e.into());
            Err(())
        }
    }
}
