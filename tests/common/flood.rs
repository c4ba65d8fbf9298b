//! Floods for the attack tests: frames written without end on an HTTP/2 connection until
//! the server stops taking them, and a reader in the background that takes what the server
//! sends meanwhile.

// Each test crate that includes this file uses some of it, as with `common/mod.rs`.
#![allow(dead_code)]

use crate::h2::{H2, RawFrame};
use std::io::{ErrorKind, Write};
use std::net::TcpStream;
use std::thread;

/// What came of a flood: how many copies of the frames were written before the server stopped
/// taking them, and whether it did.
#[derive(Debug)]
pub struct Flood {
    /// Copies written in whole.
    pub sent: usize,
    /// Whether a write failed: the server closed or reset the connection.
    pub cut_off: bool,
}

/// Writes `unit` (one or more frames) `count` times on `stream`, in batches, without reading
/// anything, until the server stops taking them: a write fails (the server closed or reset
/// the connection) or times out (the server stopped reading; the socket's write timeout
/// applies). Returns how many copies went out and whether the connection was cut off.
pub fn flood(stream: &mut TcpStream, unit: &[u8], count: usize) -> Flood {
    flood_with(stream, count, |_, out| out.extend_from_slice(unit))
}

/// [`flood`] with each copy written by `write(i, out)`, for frames that differ (stream ids).
pub fn flood_with(
    stream: &mut TcpStream,
    count: usize,
    mut write: impl FnMut(usize, &mut Vec<u8>),
) -> Flood {
    const BATCH: usize = 256;
    let mut sent = 0;
    let mut batch = Vec::new();
    while sent < count {
        batch.clear();
        let n = BATCH.min(count - sent);
        for i in sent..sent + n {
            write(i, &mut batch);
        }
        match stream.write_all(&batch) {
            Ok(()) => sent += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Flood {
                    sent,
                    cut_off: false,
                };
            }
            Err(_) => {
                return Flood {
                    sent,
                    cut_off: true,
                };
            }
        }
    }
    Flood {
        sent,
        cut_off: false,
    }
}

/// What a reader in the background saw: every frame, and whether the server closed the
/// connection (rather than the read timing out).
#[derive(Debug)]
pub struct Seen {
    /// The frames, in order.
    pub frames: Vec<RawFrame>,
    /// Whether the server closed or reset the connection.
    pub closed: bool,
}

/// Reads frames on a copy of `stream` in a thread until the server closes it (or the read
/// times out), and returns them from the handle: for a flood written at the same time.
pub fn read_in_background(stream: &TcpStream) -> thread::JoinHandle<Seen> {
    let mut reader = H2::reader(stream.try_clone().expect("clone the socket"));
    thread::spawn(move || {
        let mut frames = Vec::new();
        loop {
            match reader.next_frame() {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => {
                    return Seen {
                        frames,
                        closed: true,
                    };
                }
                Err(e) => {
                    let timed_out = matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut);
                    return Seen {
                        frames,
                        closed: !timed_out,
                    };
                }
            }
        }
    })
}
