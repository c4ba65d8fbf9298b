//! HTTP/2 output in the clear, gathered for one `send`: each DATA frame's file payload comes
//! as a file region ([`REGION_PAYLOAD`](crate::conn::REGION_PAYLOAD) bytes), and its place in
//! the worker's stage is kept for it, after the frames before it, until the stage is full or
//! the connection has nothing more to write; then the file is read straight into those places
//! and one `send` takes it all. The payloads of one stream's consecutive frames are
//! consecutive bytes of its file, read with one `preadv` into the places between their frame
//! headers, where a `pread` a frame took four. Measured on 1 MiB responses over h2c (10
//! connections, h2load -t2, three alternating runs of 5 s): 22 reads a response where there
//! were 65, and 179-195 µs of server CPU a response against 181-207 µs.
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
use std::fs::File;
use std::io::IoSliceMut;
use std::net::SocketAddr;
use std::sync::Arc;
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
/// much of it is filled (a file region's place counts as filled), the regions placed and not
/// read yet, and what the connection holds from earlier turns.
pub struct Stage<'a> {
    buffer: &'a mut [u8],
    len: usize,
    unread: Option<Unread>,
    held: &'a mut Held,
}

/// The most places one `preadv` fills: a stage of 60 KiB has room for four whole payloads.
const PLACES: usize = 8;

/// Consecutive bytes of one file, `len` of them from `offset`, placed in the stage and not
/// read yet: their places, in order, each `(start, len)` in the stage's buffer.
struct Unread {
    file: Arc<File>,
    offset: u64,
    len: u64,
    places: [(usize, usize); PLACES],
    count: usize,
}

impl Unread {
    /// Whether `len` bytes of `file` from `offset` go on from these, with a place to spare.
    fn continued_by(&self, file: &Arc<File>, offset: u64) -> bool {
        Arc::ptr_eq(&self.file, file) && self.offset + self.len == offset && self.count < PLACES
    }

    /// Reads the bytes into their places in `buffer`; `Err` when the file ended early (it
    /// shrank) or could not be read (logged).
    fn read(&self, buffer: &mut [u8], peer: SocketAddr) -> Result<(), ()> {
        let mut slices: [IoSliceMut<'_>; PLACES] =
            std::array::from_fn(|_| IoSliceMut::new(&mut []));
        let mut rest = buffer;
        let mut at = 0;
        for (slice, &(start, len)) in slices.iter_mut().zip(&self.places[..self.count]) {
            let (_, from_start) = std::mem::take(&mut rest).split_at_mut(start - at);
            let (place, after) = from_start.split_at_mut(len);
            *slice = IoSliceMut::new(place);
            rest = after;
            at = start + len;
        }
        let mut slices = &mut slices[..self.count];
        let mut done = 0;
        while done < self.len {
            match rustix::io::preadv(&*self.file, slices, self.offset + done) {
                Ok(0) => {
                    log::warn!(
                        "{peer}: closing a connection: a file ended {} bytes early (it shrank \
                         while being sent)",
                        self.len - done
                    );
                    return Err(());
                }
                Ok(n) => {
                    done += n as u64;
                    IoSliceMut::advance_slices(&mut slices, n);
                }
                Err(Errno::INTR) => {}
                Err(e) => {
                    log::warn!("{peer}: closing a connection: reading a file failed: {e}");
                    return Err(());
                }
            }
        }
        Ok(())
    }
}

impl<'a> Stage<'a> {
    /// An empty stage over `buffer` (at most [`STAGE`] bytes of it are used) for the
    /// connection that holds `held`.
    pub fn new(buffer: &'a mut [u8], held: &'a mut Held) -> Stage<'a> {
        let len = buffer.len().min(STAGE);
        Stage {
            buffer: &mut buffer[..len],
            len: 0,
            unread: None,
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
    /// is room; a region only whole (a DATA frame's payload), unless nothing is staged.
    pub fn takes(&self, item: &Item<'_>) -> bool {
        let room = self.buffer.len() - self.len;
        self.held.is_empty()
            && room > 0
            && match item {
                Item::File { len, .. } => self.len == 0 || *len <= room as u64,
                Item::Bytes { more, .. } => *more || self.len > 0,
            }
    }

    /// Stages a prefix of `item` (of a file region, its place: its bytes are read when the
    /// stage is sent); returns its length, `Err` when reading the regions placed before it
    /// failed (logged).
    pub fn push(&mut self, item: Item<'_>, peer: SocketAddr) -> Result<usize, ()> {
        let start = self.len;
        let room = self.buffer.len() - start;
        let n = match item {
            Item::Bytes { bytes, .. } => {
                let n = bytes.len().min(room);
                self.buffer[start..start + n].copy_from_slice(&bytes[..n]);
                n
            }
            Item::File { file, offset, len } => {
                let n = usize::try_from(len).map_or(room, |len| len.min(room));
                if n > 0 {
                    self.place(file, offset, start, n, peer)?;
                }
                n
            }
        };
        self.len += n;
        Ok(n)
    }

    /// Keeps `buffer[start..start + n]` for `n` bytes of `file` from `offset`: with the
    /// regions placed before it when it goes on from them, else after reading those.
    fn place(
        &mut self,
        file: &Arc<File>,
        offset: u64,
        start: usize,
        n: usize,
        peer: SocketAddr,
    ) -> Result<(), ()> {
        match &mut self.unread {
            Some(unread) if unread.continued_by(file, offset) => {
                unread.places[unread.count] = (start, n);
                unread.count += 1;
                unread.len += n as u64;
            }
            _ => {
                self.read_placed(peer)?;
                let mut places = [(0, 0); PLACES];
                places[0] = (start, n);
                self.unread = Some(Unread {
                    file: Arc::clone(file),
                    offset,
                    len: n as u64,
                    places,
                    count: 1,
                });
            }
        }
        Ok(())
    }

    /// Reads the regions placed and not read yet into their places; `Err` when that failed
    /// (logged).
    fn read_placed(&mut self, peer: SocketAddr) -> Result<(), ()> {
        match self.unread.take() {
            Some(unread) => unread.read(self.buffer, peer),
            None => Ok(()),
        }
    }

    /// Reads the regions placed, sends what is staged, as far as the socket takes it, and
    /// holds the rest (the core is told whether bytes are held: it is not over while they
    /// are); `Err` when a file could not be read or the connection failed (logged).
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
        self.read_placed(conn.peer())?;
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

#[cfg(test)]
mod tests {
    use super::{Held, Stage};
    use crate::http::output::Item;
    use std::fs::File;
    use std::io::Write;
    use std::net::SocketAddr;
    use std::sync::Arc;

    fn peer() -> SocketAddr {
        "127.0.0.1:1".parse().unwrap()
    }

    fn file(bytes: &[u8]) -> Arc<File> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        Arc::new(file)
    }

    fn bytes(bytes: &[u8]) -> Item<'_> {
        Item::Bytes { bytes, more: true }
    }

    fn region(file: &Arc<File>, offset: u64, len: u64) -> Item<'_> {
        Item::File { file, offset, len }
    }

    #[test]
    fn consecutive_regions_of_a_file_are_read_at_once_between_the_bytes_around_them() {
        let f = file(b"0123456789");
        let (mut buffer, mut held) = (vec![b'.'; 64], Held::default());
        let mut stage = Stage::new(&mut buffer, &mut held);
        for item in [
            bytes(b"<a>"),
            region(&f, 0, 4),
            bytes(b"<b>"),
            region(&f, 4, 6),
        ] {
            stage.push(item, peer()).unwrap();
        }
        assert_eq!(stage.unread.as_ref().map(|unread| unread.count), Some(2));
        stage.read_placed(peer()).unwrap();
        assert!(stage.unread.is_none());
        let len = stage.len;
        assert_eq!(&buffer[..len], b"<a>0123<b>456789");
        assert_eq!(buffer[len], b'.');
    }

    #[test]
    fn a_region_that_does_not_go_on_from_the_placed_ones_has_them_read_first() {
        let (f, g) = (file(b"abcdef"), file(b"xyz"));
        let (mut buffer, mut held) = (vec![b'.'; 64], Held::default());
        let mut stage = Stage::new(&mut buffer, &mut held);
        stage.push(region(&f, 0, 2), peer()).unwrap();
        // Another file, then the same file but not where the last region ended.
        stage.push(region(&g, 0, 3), peer()).unwrap();
        assert_eq!(&stage.buffer[..2], b"ab");
        stage.push(region(&f, 3, 3), peer()).unwrap();
        assert_eq!(&stage.buffer[..5], b"abxyz");
        stage.read_placed(peer()).unwrap();
        let len = stage.len;
        assert_eq!(&buffer[..len], b"abxyzdef");
    }

    #[test]
    fn a_run_longer_than_one_read_takes_is_read_in_two() {
        let f = file(b"abcdefghijkl");
        let (mut buffer, mut held) = (vec![b'.'; 64], Held::default());
        let mut stage = Stage::new(&mut buffer, &mut held);
        // Twelve one-byte regions, each after a one-byte frame: more places than one read
        // fills, so the first PLACES are read when the next one comes.
        for offset in 0..12 {
            stage.push(bytes(b"|"), peer()).unwrap();
            stage.push(region(&f, offset, 1), peer()).unwrap();
        }
        assert_eq!(
            stage.unread.as_ref().map(|unread| unread.count),
            Some(12 - super::PLACES)
        );
        stage.read_placed(peer()).unwrap();
        let len = stage.len;
        assert_eq!(&buffer[..len], b"|a|b|c|d|e|f|g|h|i|j|k|l");
    }

    #[test]
    fn a_file_that_shrank_before_it_was_read_fails_the_stage() {
        let f = file(b"0123");
        let (mut buffer, mut held) = (vec![0; 64], Held::default());
        let mut stage = Stage::new(&mut buffer, &mut held);
        assert_eq!(stage.push(region(&f, 0, 10), peer()), Ok(10));
        assert_eq!(stage.read_placed(peer()), Err(()));
    }

    #[test]
    fn a_region_takes_no_more_than_the_room_left() {
        let f = file(&[7; 100]);
        let (mut buffer, mut held) = (vec![0; 16], Held::default());
        let mut stage = Stage::new(&mut buffer, &mut held);
        stage.push(bytes(b"head"), peer()).unwrap();
        assert_eq!(stage.push(region(&f, 0, 100), peer()), Ok(12));
        stage.read_placed(peer()).unwrap();
        assert_eq!(&buffer[4..], &[7; 12]);
    }
}
