//! nomserve's HTTP/3 seen by clients no one here wrote: aioquic (PyPI `aioquic`), whose
//! QUIC and HTTP/3 layers drive `tests/h3_client.py`, and ngtcp2's client (Debian
//! `ngtcp2-client`, `gtlsclient`). They fetch files byte-identical (a 20 MiB one included),
//! ranges and 304s; a connection migrates to a new address, the certificate is reloaded, the
//! server shuts down with GOAWAY. Alt-Svc is checked with curl over HTTP/1.1 and HTTP/2.
//! The bounds are in `h3_bounds.rs`.
//!
//! Without a client the tests say how to install it and pass vacuously, so a developer
//! without it can still run `cargo test`; when `CI` is set (`.ci/run` installs them) its
//! absence fails them instead.

#[path = "common/cert.rs"]
mod cert;
mod common;
#[path = "common/h3.rs"]
mod h3client;

use cert::TestCert;
use common::{Server, run_command};
use h3client::*;
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn aioquic_fetches_files_byte_identical_a_large_one_included() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &[]);
    let got = h3(&server, &["/small.txt", "/large.bin", "/missing"]);
    for (response, name) in got.iter().zip(["small.txt", "large.bin"]) {
        let bytes = fs::read(root.path().join(name)).unwrap();
        assert_eq!(response["status"], 200, "{response}");
        assert_eq!(response["length"], bytes.len(), "{name}");
        assert_eq!(response["sha256"], sha256(&bytes), "{name} byte-identical");
        let length = response["headers"]["content-length"].as_str();
        assert_eq!(length, Some(bytes.len().to_string().as_str()));
    }
    assert_eq!(got[2]["status"], 404);
    server.wait_for_log("\"GET /large.bin HTTP/3.0\" 200 20971520 ");
}

#[test]
fn aioquic_gets_a_range_and_a_304_counted_in_the_metrics() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &["--metrics", "127.0.0.1:0"]);
    let got = h3(&server, &["--header", "range:bytes=100-1099", "/large.bin"]);
    let large = fs::read(root.path().join("large.bin")).unwrap();
    assert_eq!(got[0]["status"], 206, "{}", got[0]);
    assert_eq!(got[0]["sha256"], sha256(&large[100..1100]));
    assert_eq!(
        got[0]["headers"]["content-range"],
        format!("bytes 100-1099/{LARGE}")
    );

    let first = h3(&server, &["/small.txt"]);
    let etag = first[0]["headers"]["etag"].as_str().expect("an ETag");
    let header = format!("if-none-match:{etag}");
    let again = h3(&server, &["--header", &header, "/small.txt"]);
    assert_eq!(again[0]["status"], 304, "{}", again[0]);
    assert_eq!(again[0]["length"], 0);
    // Three exchanges on three connections, counted by protocol.
    let metrics = common::metrics_addr(&server);
    assert_eq!(
        common::metric(metrics, "nomserve_http3_connections_total"),
        3
    );
    assert_eq!(common::metric(metrics, "nomserve_http3_requests_total"), 3);
}

#[test]
fn https_responses_advertise_http3_with_alt_svc() {
    if !installed(
        "curl",
        &["--version"],
        "install it with `apt-get install curl`",
    ) {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &[]);
    let expected = format!("alt-svc: h3=\":{}\"; ma=86400", server.addr.port());
    for version in ["--http1.1", "--http2"] {
        let mut command = Command::new("curl");
        command.args(["-sk", "-D", "-", "-o", "/dev/null", version]);
        command.arg(server.https_url("/small.txt"));
        let run = run_command(command);
        let head = run.stdout.to_ascii_lowercase();
        assert!(head.contains(&expected), "{version}:\n{head}");
    }
    // With --http3 off, nothing is advertised.
    let mut args = cert.args();
    args.extend(["--http3", "off"].map(String::from));
    let plain = Server::with_args(
        root.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let mut command = Command::new("curl");
    command.args(["-sk", "-D", "-", "-o", "/dev/null"]);
    command.arg(plain.https_url("/small.txt"));
    let run = run_command(command);
    assert!(
        !run.stdout.to_ascii_lowercase().contains("alt-svc"),
        "{}",
        run.stdout
    );
}

/// The headers curl gets for `path` over HTTPS, lowercase.
fn https_head(server: &Server, path: &str) -> String {
    let mut command = Command::new("curl");
    command.args(["-sk", "-D", "-", "-o", "/dev/null"]);
    command.arg(server.https_url(path));
    run_command(command).stdout.to_ascii_lowercase()
}

#[test]
fn http3_is_on_by_default_with_https_and_a_taken_udp_port_only_warns() {
    if !aioquic_installed()
        || !installed(
            "curl",
            &["--version"],
            "install it with `apt-get install curl`",
        )
    {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let args = cert.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::with_args(root.path(), &args);
    let expected = format!("alt-svc: h3=\":{}\"; ma=86400", server.addr.port());
    assert!(https_head(&server, "/small.txt").contains(&expected));
    assert_eq!(
        h3(&server, &["/small.txt"])[0]["status"],
        200,
        "HTTP/3 is served without --http3"
    );
    // Another program holds the UDP port: HTTPS is served all the same, without HTTP/3,
    // and the log says why. The port is one free for TCP when it is picked (an ephemeral UDP
    // port alone may be some other test's TCP port at that moment).
    let (_udp, port) = loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if let Ok(udp) = std::net::UdpSocket::bind(("127.0.0.1", port)) {
            break (udp, port.to_string());
        }
    };
    let mut command = Command::new(env!("CARGO_BIN_EXE_nomserve"));
    command
        .args(["--port", &port, "--root"])
        .arg(root.path())
        .args(&args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    let taken = Server::from_command(command, root.path(), "127.0.0.1".parse().unwrap());
    taken.wait_for_log("HTTP/3 not served: cannot listen on UDP");
    let head = https_head(&taken, "/small.txt");
    assert!(head.starts_with("http/2 200"), "{head}");
    assert!(!head.contains("alt-svc"), "{head}");
}

#[test]
fn http3_without_https_is_refused() {
    let run = common::run_to_exit(&["--port", "0", "--http3", "on", "."]);
    assert!(!run.status.success());
    assert!(run.stderr.contains("--http3 needs HTTPS"), "{}", run.stderr);
}

/// A connection that moves to a new local port (as a NAT rebinding does) goes on: its new
/// path is validated and served. With 16 workers, the kernel hands the new path's datagrams
/// to another worker than the owner 15 times in 16, which forwards them to the owner (the
/// connection ids name it); four migrations make a forward all but certain.
#[test]
fn a_connection_that_migrates_to_a_new_address_goes_on() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let mut args = cert.args();
    args.extend(["--http3", "on", "--threads", "16"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::with_env(
        root.path(),
        &args,
        &[("RUST_LOG", "info,nomserve::server::quic=trace")],
    );
    for _ in 0..4 {
        let got = h3(
            &server,
            &["--migrate", "/small.txt", "/small.txt", "/large.bin"],
        );
        let statuses: Vec<&Value> = got.iter().map(|r| &r["status"]).collect();
        assert_eq!(statuses, [200, 200, 200]);
        assert_eq!(got[2]["length"], LARGE);
        server.wait_for_log("QUIC connection moved to");
    }
    assert!(
        server.log().contains("a datagram forwarded to worker"),
        "no datagram crossed workers"
    );
}

#[test]
fn ngtcp2_fetches_files_byte_identical() {
    if !installed(
        "gtlsclient",
        &["--help"],
        "install it with `apt-get install ngtcp2-client`",
    ) {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &[]);
    let download = tempfile::tempdir().unwrap();
    let port = server.addr.port().to_string();
    let mut command = Command::new("gtlsclient");
    command
        .args(["-q", "--exit-on-all-streams-close"])
        .arg(format!("--download={}", download.path().display()))
        .args(["127.0.0.1", &port])
        .arg(format!("https://127.0.0.1:{port}/small.txt"))
        .arg(format!("https://127.0.0.1:{port}/large.bin"));
    let run = run_command(command);
    assert!(run.status.success(), "gtlsclient: {}", run.stderr);
    for name in ["small.txt", "large.bin"] {
        let got = fs::read(download.path().join(name)).expect("downloaded");
        let want = fs::read(root.path().join(name)).unwrap();
        assert!(got == want, "{name} byte-identical ({} bytes)", got.len());
    }
    server.wait_for_log("\"GET /large.bin HTTP/3.0\" 200 20971520 \"-\" \"nghttp3/ngtcp2 client\"");
}

#[test]
fn a_shutdown_sends_goaway_and_closes_with_no_error() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let mut server = h3_server(root.path(), &cert, &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/h3_client.py");
    let client = Command::new("python3")
        .arg(script)
        .args(["127.0.0.1", &server.addr.port().to_string()])
        .args(["--pause", "3", "/small.txt", "/small.txt"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the client");
    server.wait_for_log("\"GET /small.txt HTTP/3.0\" 200");
    server.signal("TERM");
    assert!(server.wait_exit().success(), "{}", server.log());
    let out = client.wait_with_output().expect("the client's output");
    let out = String::from_utf8_lossy(&out.stdout);
    // H3_NO_ERROR (0x100, RFC 9114 §8.1) once the GOAWAY left nothing in flight.
    assert!(
        out.contains("{\"terminated\": 256, \"reason\": \"shutting down\"}"),
        "{out}"
    );
}

#[test]
fn a_certificate_reload_applies_to_quic_too() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &[]);
    let fingerprint = |server: &Server| {
        let got = h3(server, &["--show-cert", "/small.txt"]);
        assert_eq!(got[1]["status"], 200);
        got[0]["cert_sha256"]
            .as_str()
            .expect("a fingerprint")
            .to_string()
    };
    let before = fingerprint(&server);
    // The other certificate's files, in the place of the first's.
    let other = TestCert::new();
    let (paths, others) = (cert.args(), other.args());
    fs::copy(&others[1], &paths[1]).unwrap();
    fs::copy(&others[3], &paths[3]).unwrap();
    server.signal("HUP");
    server.wait_for_log("SIGHUP: reloaded the TLS certificate");
    let after = fingerprint(&server);
    assert_ne!(
        before, after,
        "new QUIC handshakes use the reloaded certificate"
    );
}
