//! nomserve over HTTPS against clients that misbehave: ones that ask for a large file and
//! stop reading (the send deadlines reach the TLS path, measured on the records the socket
//! takes), and requests the connection layer answers itself (400, 431), which carry the
//! `--hsts` policy as the handler's responses do.

mod common;

use common::{Response, Server, TIMEOUT, parse_head, read_response};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A TLS connection to a test server, from the rustls client.
type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A self-signed certificate for `localhost` in a directory of its own, and a client that
/// trusts it.
struct Certified {
    dir: tempfile::TempDir,
    config: Arc<ClientConfig>,
}

impl Certified {
    fn new() -> Certified {
        let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
            .expect("a self-signed certificate");
        let dir = tempfile::tempdir().expect("a directory for the PEM files");
        fs::write(dir.path().join("cert.pem"), certified.cert.pem()).expect("write cert.pem");
        fs::write(
            dir.path().join("key.pem"),
            certified.signing_key.serialize_pem(),
        )
        .expect("write key.pem");
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(certified.cert.der().to_vec()))
            .expect("trust the certificate");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Certified {
            dir,
            config: Arc::new(config),
        }
    }

    /// Serves `root` over HTTPS with this certificate, `args` and the log at `log`.
    fn serve(&self, root: &std::path::Path, args: &[&str], log: &str) -> Server {
        let cert = self.dir.path().join("cert.pem");
        let key = self.dir.path().join("key.pem");
        let mut all = vec![
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ];
        all.extend_from_slice(args);
        Server::with_env(root, &all, &[("RUST_LOG", log)])
    }

    /// Completes a handshake with the server at `addr` over `socket`.
    fn connect_over(&self, socket: TcpStream) -> Tls {
        let name = ServerName::try_from("localhost").expect("server name");
        let conn = ClientConnection::new(Arc::clone(&self.config), name).expect("client");
        let mut tls = StreamOwned::new(conn, socket);
        while tls.conn.is_handshaking() {
            tls.conn
                .complete_io(&mut tls.sock)
                .expect("TLS handshake with nomserve");
        }
        tls
    }
}

/// A connection to `addr` whose receive buffer is as small as the kernel allows: a client
/// that stops reading stops the server's writes soon.
fn slow_socket(addr: SocketAddr) -> TcpStream {
    let fd = rustix::net::socket(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::STREAM,
        None,
    )
    .expect("socket");
    rustix::net::sockopt::set_socket_recv_buffer_size(&fd, 4096).expect("SO_RCVBUF");
    rustix::net::connect(&fd, &addr).expect("connect");
    let stream = TcpStream::from(fd);
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Reads from `tls` until a whole response head has arrived, and returns it.
fn read_head(tls: &mut Tls) -> Response {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((response, _)) = parse_head(&bytes) {
            return response;
        }
        let n = tls.read(&mut chunk).expect("read a response head");
        assert!(n > 0, "closed before a whole head");
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// How many sockets the process `pid` holds (its listening sockets and its connections).
fn sockets(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("list /proc/<pid>/fd")
        .filter_map(|entry| fs::read_link(entry.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("socket:"))
        .count()
}

const BIG: usize = 16 * 1024 * 1024;

/// Eight HTTPS clients ask for a large file and stop reading, with `--max-connections 8`:
/// each is disconnected one send timeout after the socket last took its records, though
/// rustls still holds records for it, and a ninth client is then served instead of refused.
/// When they read again, each finds the end of the stream long before the end of the file.
#[test]
fn https_clients_that_stop_reading_are_disconnected_and_make_room() {
    let root = tempfile::tempdir().expect("temporary root");
    fs::write(root.path().join("big.bin"), vec![b'x'; BIG]).expect("write big.bin");
    fs::write(root.path().join("small.txt"), "small\n").expect("write small.txt");
    let certified = Certified::new();
    let server = certified.serve(
        root.path(),
        &[
            "--send-timeout",
            "1s",
            "--min-send-rate",
            "0",
            "--max-connections",
            "8",
        ],
        "debug",
    );
    let before = sockets(server.pid());
    let mut stalled: Vec<Tls> = (0..8)
        .map(|_| {
            let mut tls = certified.connect_over(slow_socket(server.addr));
            tls.write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .expect("send the request");
            tls.flush().expect("flush the request");
            assert_eq!(read_head(&mut tls).status, 200);
            tls
        })
        .collect();
    // The clients read nothing more; each is cut off once its send timeout passes.
    for _ in 0..8 {
        server.wait_for_log("took nothing of its response for 1s; closing");
    }
    // And closed: the server holds none of their sockets any more.
    let deadline = Instant::now() + TIMEOUT;
    while sockets(server.pid()) > before {
        assert!(
            Instant::now() < deadline,
            "the stalled HTTPS connections are still open ({} sockets, {before} before them); \
             log:\n{}",
            sockets(server.pid()),
            server.log()
        );
        thread::sleep(Duration::from_millis(20));
    }
    let mut tls = certified.connect_over(server.connect());
    tls.write_all(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("send the request");
    let response = read_response(&mut tls, &mut Vec::new(), false);
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "small\n");
    for tls in &mut stalled {
        let mut received = 0;
        let mut chunk = vec![0u8; 64 * 1024];
        // What the kernels still buffer arrives, then the end (no close_notify: an error).
        while let Ok(n @ 1..) = tls.read(&mut chunk) {
            received += n;
        }
        assert!(received < BIG, "the whole file arrived after the cut-off");
    }
}

/// Over TLS with `--hsts`, the responses the connection layer makes itself carry
/// Strict-Transport-Security as the handler's do (RFC 6797 §7.1): a malformed request's 400
/// and the 431 of a head past 64 KiB.
#[test]
fn the_connection_layers_own_responses_over_tls_carry_hsts() {
    let certified = Certified::new();
    let server = certified.serve(&common::www(), &["--hsts", "1d"], "info");
    let large = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Large: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    for (request, status) in [
        ("GET / HTTP/1.1\nHost: localhost\r\n\r\n".to_string(), 400),
        (large, 431),
        (
            "GET /test.txt HTTP/1.1\r\nHost: localhost\r\n\r\n".to_string(),
            200,
        ),
    ] {
        let mut tls = certified.connect_over(server.connect());
        tls.write_all(request.as_bytes()).expect("send the request");
        tls.flush().expect("flush the request");
        let response = read_response(&mut tls, &mut Vec::new(), false);
        assert_eq!(response.status, status);
        let policies: Vec<&str> = response
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Strict-Transport-Security"))
            .map(|(_, value)| value.as_str())
            .collect();
        assert_eq!(policies, ["max-age=86400"], "{status}");
    }
}
