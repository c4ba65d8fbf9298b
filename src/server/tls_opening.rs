//! How a connection to a TLS port opens, and the refusals it may get before TLS begins: its
//! first bytes say TLS or not, and a ClientHello the version it offers; plain HTTP is
//! answered with a 400 in plain text and a ClientHello older than TLS 1.2 with a
//! `protocol_version` alert, each followed by a lingering read until the client closes.

use super::turn::{Readiness, Turn};
use rustix::fd::OwnedFd;
use rustix::net::{RecvFlags, Shutdown};

/// The first byte of a TLS handshake record (`ContentType handshake(22)`, RFC 8446 §5.1).
const HANDSHAKE_RECORD: u8 = 0x16;

/// The bytes of a connection's start that say what it is: a TLS record's header (type,
/// version, length: 5 bytes), its handshake message's header (type, length: 4 bytes) and,
/// in a ClientHello, the version the client offers (2 bytes).
const OPENING: usize = 11;

/// The answer to a ClientHello that offers nothing newer than TLS 1.1: a fatal
/// `protocol_version` alert (RFC 8446 Appendix D.2, RFC 5246 Appendix E.1: a server that
/// supports only higher versions MUST send it). rustls would answer `handshake_failure`,
/// since such a hello lacks the signature algorithms extension it checks first.
pub const PROTOCOL_VERSION_ALERT: &[u8] = &[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46];

/// The answer to plain HTTP sent to the TLS port.
pub const PLAIN_HTTP_REFUSAL: &[u8] = concat!(
    "HTTP/1.1 400 Bad Request\r\n",
    "Server: nomserve/",
    env!("CARGO_PKG_VERSION"),
    "\r\n",
    "Content-Type: text/plain; charset=utf-8\r\n",
    "Content-Length: 63\r\n",
    "Connection: close\r\n",
    "\r\n",
    "400 Bad Request: this port speaks HTTPS; use an https:// URL.\r\n",
)
.as_bytes();

/// Reads of a lingering close per turn: a client that keeps sending takes turns with the
/// others.
const LINGER_READS: usize = 16;

/// The outcome of a step that may have to wait for the socket.
pub enum Step<T> {
    Go(T),
    Wait,
    Close,
}

/// What a connection's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// A TLS handshake for TLS 1.2 or later (or one this check cannot read: rustls judges).
    Tls,
    /// A ClientHello whose version is older than TLS 1.2 (`legacy_version` below 0x0303;
    /// TLS 1.3 clients send 0x0303 and name 1.3 in an extension, RFC 8446 §4.1.2).
    OldTls,
    /// Not TLS: the first byte is not a handshake record's.
    Plain,
}

/// Looks at the connection's first bytes without taking them: the first says TLS or not,
/// the first [`OPENING`] the version a ClientHello offers.
pub fn opening(socket: &OwnedFd, ready: &mut Readiness) -> Step<Opening> {
    let mut bytes = [0u8; OPENING];
    loop {
        if !ready.readable {
            return Step::Wait;
        }
        return match rustix::net::recv(socket, &mut bytes, RecvFlags::PEEK) {
            Ok((0, _)) => Step::Close,
            Ok(_) if bytes[0] != HANDSHAKE_RECORD => Step::Go(Opening::Plain),
            Ok((OPENING, _)) => {
                let client_hello = bytes[5] == 0x01;
                let version = u16::from_be_bytes([bytes[9], bytes[10]]);
                Step::Go(if client_hello && version < 0x0303 {
                    Opening::OldTls
                } else {
                    Opening::Tls
                })
            }
            // Fewer bytes so far: the rest wakes the worker again, unless the client is done.
            Ok(_) if ready.peer_shut => Step::Close,
            Ok(_) => {
                ready.readable = false;
                Step::Wait
            }
            Err(rustix::io::Errno::AGAIN) => {
                ready.readable = false;
                Step::Wait
            }
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => {
                log::debug!("reading a new connection's first bytes: {e}");
                Step::Close
            }
        };
    }
}

/// Writes the rest of `answer` from `sent`; returns how much is sent, and shuts the write
/// side once all of it is.
pub fn refuse(
    socket: &OwnedFd,
    ready: &mut Readiness,
    answer: &'static [u8],
    sent: usize,
) -> Step<usize> {
    if !ready.writable {
        return Step::Wait;
    }
    let rest = answer.get(sent..).unwrap_or_default();
    match rustix::net::send(socket, rest, rustix::net::SendFlags::NOSIGNAL) {
        Ok(n) if sent + n == answer.len() => match rustix::net::shutdown(socket, Shutdown::Write) {
            Ok(()) => Step::Go(sent + n),
            Err(_) => Step::Close,
        },
        Ok(n) => Step::Go(sent + n),
        Err(rustix::io::Errno::AGAIN) => {
            ready.writable = false;
            Step::Wait
        }
        Err(rustix::io::Errno::INTR) => Step::Go(sent),
        Err(_) => Step::Close,
    }
}

/// Reads and drops what the client still sends after the refusal, until it closes (or the
/// core's deadline passes: see [`super::tls`]).
pub fn linger(socket: &OwnedFd, ready: &mut Readiness) -> Turn {
    let mut sink = [0u8; 4096];
    for _ in 0..LINGER_READS {
        if !ready.readable {
            return Turn::Wait;
        }
        match rustix::net::recv(socket, &mut sink, RecvFlags::empty()) {
            Ok((0, _)) => return Turn::Close,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(rustix::io::Errno::AGAIN) => {
                ready.readable = false;
                return Turn::Wait;
            }
            Err(_) => return Turn::Close,
        }
    }
    Turn::Yield
}

#[cfg(test)]
mod tests {
    use super::PLAIN_HTTP_REFUSAL;

    #[test]
    fn the_plain_http_refusal_is_framed_by_its_content_length() {
        let text = std::str::from_utf8(PLAIN_HTTP_REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        let length = head
            .lines()
            .find_map(|line| line.strip_prefix("Content-Length: "))
            .unwrap();
        assert_eq!(length.parse::<usize>().unwrap(), body.len());
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(head.contains("\r\nConnection: close"));
    }
}
