//! What a turn of a connection over its socket is made of, for every transport (plain,
//! staged HTTP/2 in the clear, TLS): what the socket can do without blocking, how much a turn
//! may do before it yields, how it ended, and how an I/O error is logged.

use std::io;
use std::net::SocketAddr;

/// A turn ends after this many responses, so that a client pipelining as fast as it reads
/// takes its turn like everyone else.
pub const TURN_RESPONSES: u64 = 16;

/// A turn ends after this many bytes written, so that a fast download shares the worker.
pub const TURN_BYTES: u64 = 256 * 1024;

/// The most bytes of a body one system call hands the socket (a `sendfile`, or a `send` of
/// staged HTTP/2 frames): 60 KiB, under one TCP segment offload packet (64 KiB with its
/// headers; on loopback one segment of 65,483 bytes). When the kernel paces a socket (BBR
/// does), a call it splits in two sends the first part at once and leaves the rest to a
/// pacing timer, an interrupt and a softirq each; smaller calls go whole, the time between
/// them spent on the next piece (and, on loopback, where the sender does the receiving
/// side's work too, the worker's other connections get their turns between them).
/// Measured on loopback, 10 connections fetching 1 MiB, 5 s a run:
/// - HTTP/1.1 (wrk -t2): 60 KiB 4.8–7.8 k responses/s at 92–111 µs of server CPU each
///   (four runs); 256 KiB 3.8 k at 279–288 µs (two), and 10 pacing timers a response.
/// - HTTP/2 h2c (h2load -t2, alternating runs): 60 KiB 26.0–29.9 k responses at 169–199 µs
///   each, 0.6 pacing timers a response; 64 KiB, just over a segment, 16.9–21.0 k at
///   267–334 µs, 6.1 timers; 256 KiB 19.0–21.8 k at 262–301 µs.
pub const SEND_MAX: usize = 60 * 1024;

/// What a turn may still do before it yields: [`TURN_RESPONSES`] responses, [`TURN_BYTES`]
/// bytes written.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// The connection's count of responses when the turn began.
    first_response: u64,
    written: u64,
}

impl Budget {
    /// The budget of a turn that begins after `responses` responses on its connection.
    pub fn new(responses: u64) -> Budget {
        Budget {
            first_response: responses,
            written: 0,
        }
    }

    /// Counts `n` bytes written.
    pub fn wrote(&mut self, n: usize) {
        self.written += n as u64;
    }

    /// Whether the turn, its connection at `responses` responses, is to yield.
    pub fn spent(&self, responses: u64) -> bool {
        responses - self.first_response >= TURN_RESPONSES || self.written >= TURN_BYTES
    }
}

/// What the socket can do without blocking, as far as the events so far tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// A read may find bytes (or the end of the stream).
    pub readable: bool,
    /// A write may be taken.
    pub writable: bool,
    /// The client shut its side (or the connection failed): reads find what is left and
    /// then the end, with no further event to say so, so a short read does not make the
    /// socket unreadable.
    pub peer_shut: bool,
}

/// How a turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// The socket must become readable or writable (or a deadline pass, or a parked request's
    /// waker be woken) before more can be done.
    Wait,
    /// The budget is spent with work left: take the next turn after the others.
    Yield,
    /// The connection is over: close it.
    Close,
}

/// Logs an I/O error on the connection to `peer` during `what`: at debug level when the
/// client went away (reset, broken pipe), which is routine; at warn level otherwise.
pub fn log_io_error(peer: SocketAddr, what: &str, e: &io::Error) {
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

    #[test]
    fn a_turn_yields_after_its_responses() {
        let mut budget = Budget::new(40);
        budget.wrote(100);
        assert!(!budget.spent(40));
        assert!(!budget.spent(40 + TURN_RESPONSES - 1));
        assert!(budget.spent(40 + TURN_RESPONSES));
    }

    #[test]
    fn a_turn_yields_after_its_bytes() {
        let mut budget = Budget::new(0);
        budget.wrote(usize::try_from(TURN_BYTES).unwrap() - 1);
        assert!(!budget.spent(0));
        budget.wrote(1);
        assert!(budget.spent(0));
    }
}
