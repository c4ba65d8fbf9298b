//! Behind a load balancer: the PROXY protocol (from raw headers, curl's and a real HAProxy's),
//! and X-Forwarded-For / Forwarded believed from trusted proxies only.
//!
//! HAProxy is Debian's `haproxy`; without it that test says so and passes, unless `CI` is set
//! (`.ci/run` installs it), where it fails.

mod common;

use common::{Server, TIMEOUT, read_response, read_to_close, www};
use std::io::Write;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// Sends `bytes` on a new connection and reads one response.
fn exchange(server: &Server, bytes: &[u8]) -> common::Response {
    let mut stream = server.connect();
    stream.write_all(bytes).unwrap();
    read_response(&mut stream, &mut Vec::new(), false)
}

/// Waits for the access-log line of a request for `path`, and returns its client field.
fn logged_client(server: &Server, path: &str) -> String {
    let line = server.wait_for_log(&format!("GET {path} "));
    line.split(' ').next().unwrap().to_string()
}

#[test]
fn a_proxy_v1_header_names_the_client() {
    let server = Server::with_args(&www(), &["--proxy-protocol"]);
    let response = exchange(
        &server,
        b"PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\n\
          GET /test.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    assert_eq!(logged_client(&server, "/test.txt"), "203.0.113.9");
}

#[test]
fn a_proxy_v2_header_split_across_writes_names_the_client() {
    let server = Server::with_args(&www(), &["--proxy-protocol"]);
    let mut header = b"\r\n\r\n\0\r\nQUIT\n\x21\x21\x00\x24".to_vec();
    header.extend_from_slice(
        &"2001:db8::5"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    header.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    header.extend_from_slice(&[0x30, 0x39, 0x00, 0x50]);
    let mut stream = server.connect();
    stream.write_all(&header[..10]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    stream.write_all(&header[10..]).unwrap();
    stream
        .write_all(b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let response = read_response(&mut stream, &mut Vec::new(), false);
    assert_eq!(response.status, 200);
    assert_eq!(logged_client(&server, "/style.css"), "2001:db8::5");
}

#[test]
fn a_local_command_is_served_as_the_peer() {
    let server = Server::with_args(&www(), &["--proxy-protocol"]);
    let response = exchange(
        &server,
        b"\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00GET /test.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    assert_eq!(logged_client(&server, "/test.txt"), "127.0.0.1");
}

#[test]
fn without_a_valid_header_the_connection_is_closed_and_logged_once() {
    let server = Server::with_args(&www(), &["--proxy-protocol"]);
    for _ in 0..3 {
        let mut stream = server.connect();
        stream
            .write_all(b"GET /test.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert!(
            read_to_close(&mut stream).is_empty(),
            "answered without a header"
        );
    }
    let line = server.wait_for_log("no valid PROXY header");
    assert!(line.contains("127.0.0.1"), "{line}");
    // A working request after: the log is then past the refusals.
    exchange(
        &server,
        b"PROXY TCP4 192.0.2.1 127.0.0.1 1 80\r\nGET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    server.wait_for_log("GET /style.css");
    assert_eq!(server.log().matches("no valid PROXY header").count(), 1);
}

#[test]
fn curl_sends_the_header_before_tls_too() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success());
    let server = Server::with_args(
        &www(),
        &[
            "--proxy-protocol",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let cacert = cert.to_str().unwrap();
    let url = format!("https://127.0.0.1:{}/test.txt", server.addr.port());
    fetch_from_127_0_0_5(&["--haproxy-protocol", "--cacert", cacert], &url);
    assert_eq!(logged_client(&server, "/test.txt"), "127.0.0.5");
}

/// Fetches `url` (test.txt) with curl from the source address 127.0.0.5, with `options`, and
/// checks the body.
fn fetch_from_127_0_0_5(options: &[&str], url: &str) {
    let out = Command::new("curl")
        .args(["-sS", "--interface", "127.0.0.5"])
        .args(options)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, std::fs::read(www().join("test.txt")).unwrap());
}

/// HAProxy in HTTP mode on a free port, sending PROXY v2 to `backend`.
struct Haproxy {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn haproxy(backend: u16) -> Option<Haproxy> {
    if Command::new("haproxy").arg("-v").output().is_err() {
        let message = "haproxy is not installed: install it with `apt-get install haproxy`";
        assert!(
            std::env::var_os("CI").is_none(),
            "{message} (CI is set: failing)"
        );
        let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("haproxy.cfg");
    std::fs::write(
        &config,
        format!(
            "defaults\n  mode http\n  timeout connect 5s\n  timeout client 10s\n  \
             timeout server 10s\nfrontend front\n  bind 127.0.0.1:{port}\n  \
             default_backend back\nbackend back\n  server nomserve 127.0.0.1:{backend} \
             send-proxy-v2\n"
        ),
    )
    .unwrap();
    let child = Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "haproxy did not listen");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Some(Haproxy {
        child,
        port,
        _dir: dir,
    })
}

#[test]
fn behind_a_real_haproxy_the_log_names_the_client() {
    let server = Server::with_args(&www(), &["--proxy-protocol"]);
    let Some(haproxy) = haproxy(server.addr.port()) else {
        return;
    };
    fetch_from_127_0_0_5(&[], &format!("http://127.0.0.1:{}/test.txt", haproxy.port));
    assert_eq!(logged_client(&server, "/test.txt"), "127.0.0.5");
}

#[test]
fn forwarded_fields_count_only_from_trusted_proxies() {
    let request = |path: &str| {
        format!(
            "GET {path} HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.1.1.1, 198.51.100.7\r\n\
             Connection: close\r\n\r\n"
        )
    };
    let trusting = Server::with_args(&www(), &["--trusted-proxy", "127.0.0.0/8"]);
    exchange(&trusting, request("/test.txt").as_bytes());
    assert_eq!(logged_client(&trusting, "/test.txt"), "198.51.100.7");
    exchange(
        &trusting,
        b"GET /style.css HTTP/1.1\r\nHost: x\r\nForwarded: for=\"[2001:db8::9]\"\r\n\
          X-Forwarded-For: 198.51.100.7\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(logged_client(&trusting, "/style.css"), "2001:db8::9");

    let untrusting = Server::with_args(&www(), &["--trusted-proxy", "10.0.0.0/8"]);
    exchange(&untrusting, request("/test.txt").as_bytes());
    assert_eq!(logged_client(&untrusting, "/test.txt"), "127.0.0.1");
}

#[test]
fn a_trusted_proxy_is_not_capped_per_address() {
    let capped = Server::with_args(&www(), &["--max-connections-per-ip", "2"]);
    // Each answered once, so each is surely counted before the third arrives: connections
    // waiting in different workers' queues are accepted in no set order.
    let _open: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut stream = capped.connect();
            stream
                .write_all(b"GET /test.txt HTTP/1.1\r\nHost: x\r\n\r\n")
                .unwrap();
            assert_eq!(
                read_response(&mut stream, &mut Vec::new(), false).status,
                200
            );
            stream
        })
        .collect();
    let refused = exchange(&capped, b"GET /test.txt HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(refused.status, 503);

    let trusted = Server::with_args(
        &www(),
        &[
            "--max-connections-per-ip",
            "2",
            "--trusted-proxy",
            "127.0.0.1",
        ],
    );
    let _open: Vec<TcpStream> = (0..4).map(|_| trusted.connect()).collect();
    let served = exchange(
        &trusted,
        b"GET /test.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(served.status, 200);

    // Behind the PROXY protocol the cap applies to the address each header names.
    let proxied = Server::with_args(
        &www(),
        &["--max-connections-per-ip", "1", "--proxy-protocol"],
    );
    let mut first = proxied.connect();
    first
        .write_all(b"PROXY TCP4 192.0.2.1 127.0.0.1 1 80\r\n")
        .unwrap();
    // The first connection holds 192.0.2.1's one place: it stays open after its response.
    first
        .write_all(b"GET /test.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(
        read_response(&mut first, &mut Vec::new(), false).status,
        200
    );
    let mut same = proxied.connect();
    same.write_all(
        b"PROXY TCP4 192.0.2.1 127.0.0.1 2 80\r\nGET /test.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    assert!(
        read_to_close(&mut same).is_empty(),
        "a second connection for 192.0.2.1"
    );
    let other = exchange(
        &proxied,
        b"PROXY TCP4 192.0.2.2 127.0.0.1 3 80\r\nGET /test.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(other.status, 200);
}
