//! nomserve over HTTPS against clients that misbehave: ones that ask for a large file and
//! stop reading (the send deadlines reach the TLS path, measured on the records the socket
//! takes), and requests the connection layer answers itself (400, 431), which carry the
//! `--hsts` policy as the handler's responses do, the 503 of a connection past the limits
//! included (sent after the handshake, not in the clear, at most 64 at once).

mod common;

use common::{Response, Server, TIMEOUT, parse_head, read_response, read_to_close, slow_socket};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
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

/// A connection past `--max-connections-per-ip` on an HTTPS server is refused over TLS: the
/// handshake completes and its first request gets a real 503 with Retry-After, the `--hsts`
/// policy and `Connection: close` (in the clear it would be a broken handshake), is logged,
/// and the connection closes; the connection holding the place is served on.
#[test]
fn a_connection_past_the_limits_gets_its_503_over_tls_with_hsts() {
    let certified = Certified::new();
    let server = certified.serve(
        &common::www(),
        &[
            "--hsts",
            "1d",
            "--max-connections-per-ip",
            "1",
            "--keep-alive-timeout",
            "60s",
            "--access-log",
            "-",
        ],
        "info",
    );
    let request = b"GET /test.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut held = certified.connect_over(server.connect());
    held.write_all(request).expect("send the request");
    assert_eq!(read_response(&mut held, &mut Vec::new(), false).status, 200);

    let name = ServerName::try_from("localhost").expect("server name");
    let client = ClientConnection::new(Arc::clone(&certified.config), name).expect("client");
    let mut refused = StreamOwned::new(client, server.connect());
    while refused.conn.is_handshaking() {
        if let Err(e) = refused.conn.complete_io(&mut refused.sock) {
            panic!("the refused connection's handshake failed: {e}");
        }
    }
    refused.write_all(request).expect("send the request");
    refused.flush().expect("flush the request");
    let response = read_response(&mut refused, &mut Vec::new(), false);
    assert_eq!(response.status, 503);
    assert_eq!(response.header("Retry-After"), Some("1"));
    assert_eq!(response.header("Connection"), Some("close"));
    assert_eq!(
        response.header("Strict-Transport-Security"),
        Some("max-age=86400")
    );
    assert_eq!(
        response.text(),
        "too many connections from your address; try again shortly\n"
    );
    let mut rest = Vec::new();
    let _ = refused.read_to_end(&mut rest);
    assert!(rest.is_empty(), "only the 503: {rest:?}");
    server.wait_for_log("past --max-connections-per-ip; 503 after the handshake");
    server.wait_for_stdout("\"GET /test.txt HTTP/1.1\" 503 ");

    // The connection holding the place is served on.
    held.write_all(request).expect("send the request again");
    assert_eq!(read_response(&mut held, &mut Vec::new(), false).status, 200);
}

/// Out of descriptors, an HTTPS server has none to spare for a refused client's handshake:
/// the client a worker takes through its spare descriptor is closed without a word
/// (a 503 in the clear would only break its handshake); once descriptors are back, the next
/// client is served. Skipped, saying so, where `prlimit` is not installed.
#[test]
fn out_of_descriptors_an_https_client_is_closed_without_a_word() {
    let certified = Certified::new();
    let server = certified.serve(&common::www(), &[], "info");
    let pid = server.pid();
    let prlimit = |limit: &str| {
        std::process::Command::new("prlimit")
            .arg(format!("--pid={pid}"))
            .arg(format!("--nofile={limit}:"))
            .status()
            .is_ok_and(|s| s.success())
    };
    let limits = fs::read_to_string(format!("/proc/{pid}/limits")).expect("read its limits");
    let original = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("its open files limit")
        .to_string();
    // The limit bounds descriptor numbers, and a new descriptor takes the lowest free one:
    // a limit at the lowest free number leaves none.
    let used: std::collections::BTreeSet<usize> = fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("list its descriptors")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let lowest_free = (0..).find(|n| !used.contains(n)).unwrap_or_default();
    if !prlimit(&lowest_free.to_string()) {
        println!("prlimit is not available: the descriptor limit cannot be lowered; skipped");
        return;
    }
    let mut stream = server.connect();
    let received = read_to_close(&mut stream);
    assert!(
        received.is_empty(),
        "nothing in the clear on the HTTPS port: {:?}",
        String::from_utf8_lossy(&received)
    );
    server.wait_for_log("out of file descriptors; closed");

    assert!(prlimit(&original));
    let mut tls = certified.connect_over(server.connect());
    tls.write_all(b"GET /test.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("send the request");
    assert_eq!(read_response(&mut tls, &mut Vec::new(), false).status, 200);
}

/// Refused HTTPS connections are answered at most 64 at once: with 64 refused connections
/// still to send their first byte, the next refused one is closed without a word (not a
/// 503 in the clear); once one of the 64 leaves, a refused client gets its 503 over TLS
/// again.
#[test]
fn refusals_over_tls_are_answered_at_most_64_at_once() {
    let certified = Certified::new();
    let server = certified.serve(
        &common::www(),
        &[
            "--max-connections-per-ip",
            "1",
            "--keep-alive-timeout",
            "60s",
            "--header-timeout",
            "60s",
        ],
        "info",
    );
    let request = b"GET /test.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut held = certified.connect_over(server.connect());
    held.write_all(request).expect("send the request");
    assert_eq!(read_response(&mut held, &mut Vec::new(), false).status, 200);
    let mut waiting: Vec<_> = (0..64).map(|_| server.connect()).collect();
    for _ in 0..64 {
        server.wait_for_log("past --max-connections-per-ip; 503 after the handshake");
    }
    let mut past = server.connect();
    let received = read_to_close(&mut past);
    assert!(
        received.is_empty(),
        "nothing in the clear on the HTTPS port: {:?}",
        String::from_utf8_lossy(&received)
    );
    server.wait_for_log("past --max-connections-per-ip; closed (too many refusals under way)");

    drop(waiting.pop());
    // Until the server has seen that one leave, a newcomer may still be closed: try again.
    let deadline = Instant::now() + TIMEOUT;
    let response = loop {
        let name = ServerName::try_from("localhost").expect("server name");
        let client = ClientConnection::new(Arc::clone(&certified.config), name).expect("client");
        let mut tls = StreamOwned::new(client, server.connect());
        let shaken = (|| {
            while tls.conn.is_handshaking() {
                tls.conn.complete_io(&mut tls.sock)?;
            }
            tls.write_all(request)?;
            tls.flush()
        })();
        if shaken.is_ok() {
            break read_response(&mut tls, &mut Vec::new(), false);
        }
        assert!(
            Instant::now() < deadline,
            "no refusal answered over TLS again"
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(response.status, 503);
    assert_eq!(response.header("Retry-After"), Some("1"));
}
