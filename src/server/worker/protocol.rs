//! The protocol a connection's socket speaks under its core, chosen once, when the worker
//! takes the connection: bytes in the clear ([`transport`]) or TLS ([`tls`]). A turn
//! dispatches on it with a `match`, so each connection's turn is a direct call to its
//! transport's.
//!
//! A panic anywhere in a turn (the core, the transport, rustls) is contained here: it closes
//! that connection alone, and the worker goes on serving the others.

use crate::conn::{Context, Core};
use crate::server::staged::Held;
use crate::server::tls::{self, Tls};
use crate::server::transport;
use crate::server::turn::{Readiness, Turn};
use rustix::fd::OwnedFd;
use rustls::{ServerConfig, ServerConnection};
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

/// What a connection speaks under its core.
#[derive(Debug)]
pub enum Protocol {
    /// HTTP/1.1 or HTTP/2 in the clear, with the HTTP/2 output staged and not yet sent.
    Plain(Held),
    /// TLS, with the connection's session.
    Tls(Box<Tls>),
}

impl Protocol {
    /// The protocol of a new connection: TLS from `tls` when the server speaks HTTPS, else
    /// the clear. Fails if rustls cannot start a session.
    pub fn new(tls: Option<&Arc<ServerConfig>>) -> Result<Protocol, rustls::Error> {
        Ok(match tls {
            Some(config) => Protocol::Tls(Box::new(Tls::new(ServerConnection::new(Arc::clone(
                config,
            ))?))),
            None => Protocol::Plain(Held::default()),
        })
    }

    /// Runs one turn of `conn` over `stream` in this protocol; `stage` is the worker's
    /// staging buffer ([`STAGE`](crate::server::staged::STAGE) bytes; TLS stages one [`tls::RECORD`] at a time). A turn
    /// that panics closes the connection.
    pub fn drive(
        &mut self,
        conn: &mut Core,
        stream: &OwnedFd,
        ready: &mut Readiness,
        ctx: &Context<'_>,
        stage: &mut [u8],
    ) -> Turn {
        let peer = conn.peer();
        contain(peer, || match self {
            Protocol::Plain(held) => transport::drive(conn, stream, ready, ctx, held, stage),
            Protocol::Tls(tls) => {
                let record = stage.len().min(tls::RECORD);
                tls::drive(conn, tls, stream, ready, ctx, &mut stage[..record])
            }
        })
    }
}

/// Runs `turn`, the turn of the connection to `peer`; a panic in it is logged and closes the
/// connection. (The core contains a handler's panic itself, answering 500; what reaches here
/// is a fault of the server's own, and the connection's state is not to be trusted after it.)
fn contain(peer: SocketAddr, turn: impl FnOnce() -> Turn) -> Turn {
    catch_unwind(AssertUnwindSafe(turn)).unwrap_or_else(|_| {
        log::error!("{peer}: panic while serving the connection; closed it");
        Turn::Close
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conn::client::TrustedProxies;
    use crate::server::certs::{Certificates, TlsFiles};
    use crate::server::turn::TURN_RESPONSES;
    use crate::server::worker::tests::{Fine, GET, PEER, TIMEOUTS, pair, pipeline, responses};
    use std::io::{Read, Write};
    use std::task::Waker;
    use std::time::Instant;

    /// Drives `protocol` one turn on the server's end of `stream`, answering with [`Fine`].
    fn drive(protocol: &mut Protocol, conn: &mut Core, stream: &OwnedFd, stage: &mut [u8]) -> Turn {
        let ctx = Context {
            handler: &Fine,
            trusted: &TrustedProxies::default(),
            shutting_down: false,
            waker: &|| Waker::noop().clone(),
        };
        let mut ready = Readiness {
            readable: true,
            writable: true,
            peer_shut: false,
        };
        protocol.drive(conn, stream, &mut ready, &ctx, stage)
    }

    #[test]
    fn a_panic_in_a_turn_closes_its_connection() {
        assert_eq!(
            contain(PEER, || panic!("a fault in the server")),
            Turn::Close
        );
        assert_eq!(contain(PEER, || Turn::Yield), Turn::Yield);
    }

    #[test]
    fn in_the_clear_a_turn_yields_after_its_budget() {
        let mut protocol = Protocol::new(None).unwrap();
        assert!(matches!(protocol, Protocol::Plain(_)));
        let (stream, mut client) = pair();
        let mut conn = Core::new(PEER, TIMEOUTS, Instant::now(), true);
        let requests = pipeline();
        client.write_all(&requests).unwrap();
        assert_eq!(
            drive(&mut protocol, &mut conn, &stream, &mut []),
            Turn::Yield
        );
        let mut answered = responses(&mut client);
        assert!(answered >= usize::try_from(TURN_RESPONSES).unwrap());
        assert!(answered < requests.len() / GET.len());
        let mut turns = 1;
        while drive(&mut protocol, &mut conn, &stream, &mut []) == Turn::Yield {
            turns += 1;
            assert!(turns < requests.len(), "a turn that never waits");
        }
        answered += responses(&mut client);
        assert_eq!(answered, requests.len() / GET.len());
    }

    #[test]
    fn in_the_clear_the_preface_makes_the_connection_http2() {
        let mut protocol = Protocol::new(None).unwrap();
        let (stream, mut client) = pair();
        let mut conn = Core::new(PEER, TIMEOUTS, Instant::now(), true);
        // The preface, an empty SETTINGS, and GET / (RFC 7541 static table entries).
        let mut opening = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        opening.extend([0, 0, 0, 4, 0, 0, 0, 0, 0]);
        opening.extend([0, 0, 6, 1, 5, 0, 0, 0, 1, 0x82, 0x86, 0x84, 0x01, 1, b'x']);
        client.write_all(&opening).unwrap();
        assert_eq!(
            drive(&mut protocol, &mut conn, &stream, &mut []),
            Turn::Wait
        );
        assert!(conn.is_h2());
        let mut answer = vec![0; 4096];
        let n = client.read(&mut answer).unwrap();
        // The server's SETTINGS first, and a DATA frame ending stream 1 (`ok` and LF).
        assert_eq!(answer[3..5], [4, 0]);
        let data = [0, 0, 3, 0, 1, 0, 0, 0, 1, b'o', b'k', b'\n'];
        assert!(answer[..n].windows(data.len()).any(|w| w == data));
    }

    #[test]
    fn over_tls_plain_http_is_told_the_port_speaks_https() {
        let dir = tempfile::tempdir().unwrap();
        let pair_ = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let files = TlsFiles {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        };
        std::fs::write(&files.cert, pair_.cert.pem()).unwrap();
        std::fs::write(&files.key, pair_.signing_key.serialize_pem()).unwrap();
        let config = Certificates::load(files)
            .unwrap()
            .server_config(true)
            .unwrap();
        let mut protocol = Protocol::new(Some(&config)).unwrap();
        assert!(matches!(protocol, Protocol::Tls(_)));
        let (stream, mut client) = pair();
        let mut conn = Core::new(PEER, TIMEOUTS, Instant::now(), true);
        client.write_all(GET).unwrap();
        let mut stage = vec![0; tls::RECORD];
        assert_eq!(
            drive(&mut protocol, &mut conn, &stream, &mut stage),
            Turn::Wait
        );
        let mut answer = vec![0; 1024];
        let n = client.read(&mut answer).unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
        assert!(answer.contains("this port speaks HTTPS"), "{answer}");
    }
}
