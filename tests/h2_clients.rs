//! nomserve's HTTP/2 seen by a client no one here wrote: `nghttp`, from nghttp2 (Debian
//! `nghttp2-client`), the reference implementation most HTTP/2 stacks are tested against.
//! It fetches with many streams at once over h2c with prior knowledge (RFC 9113 §3.3: an
//! `http://` URI without `-u`) and over TLS with ALPN `h2` (§3.2).
//!
//! Without nghttp the tests say how to install it and pass vacuously, so a developer without
//! it can still run `cargo test`; when `CI` is set (`.ci/run` installs it) its absence fails
//! them instead.

#[path = "common/cert.rs"]
mod cert;
mod common;

use cert::TestCert;
use common::{Exited, Server, run_command, www};
use std::env;
use std::fs;
use std::io::Write;
use std::process::Command;

/// Whether `nghttp` can be run; prints why a test is skipped when it cannot, and fails the
/// test instead when `CI` is set.
fn nghttp_installed() -> bool {
    let found = Command::new("nghttp").arg("--version").output().is_ok();
    if !found {
        let message = "nghttp is not installed, so the nghttp tests cannot run: install it \
                       with `apt-get install nghttp2-client`";
        assert!(
            env::var_os("CI").is_none(),
            "{message} (CI is set: failing)"
        );
        // Straight to the stderr stream, not through `eprintln!`, which the test harness
        // captures and hides for passing tests: a skip must be seen.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
    }
    found
}

/// Runs `nghttp` with `args` to its end; fails the test if it fails.
fn nghttp(args: &[&str]) -> Exited {
    let mut command = Command::new("nghttp");
    command.args(args);
    let run = run_command(command);
    assert!(
        run.status.success(),
        "nghttp {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        run.status,
        run.stdout,
        run.stderr
    );
    run
}

/// `nghttp -nv -m 100 URL`: a hundred requests for `url`, all sent at once on one connection
/// (within the server's SETTINGS_MAX_CONCURRENT_STREAMS of 128), their bodies discarded.
/// Checks from nghttp's frame log that the server announced 128 streams, that all hundred
/// got a 200, and that nothing was reset or refused; and that the access log names HTTP/2.
fn hundred_streams(server: &Server, url: &str) {
    let run = nghttp(&["-nv", "-m", "100", url]);
    let log = &run.stdout;
    assert!(
        log.contains("SETTINGS_MAX_CONCURRENT_STREAMS(0x03):128"),
        "the server's SETTINGS:\n{log}"
    );
    let ok = log.lines().filter(|l| l.ends_with(":status: 200")).count();
    assert_eq!(ok, 100, "responses with :status 200 in:\n{log}");
    for refusal in ["recv RST_STREAM", "recv GOAWAY"] {
        assert!(!log.contains(refusal), "{refusal} in:\n{log}");
    }
    server.wait_for_log("\"GET /test.txt HTTP/2.0\" 200 ");
}

/// nghttp's hundred concurrent streams over h2c with prior knowledge.
#[test]
fn nghttp_fetches_a_hundred_concurrent_streams_over_h2c() {
    if !nghttp_installed() {
        return;
    }
    let server = Server::start();
    hundred_streams(&server, &server.url("/test.txt"));
}

/// nghttp's hundred concurrent streams over TLS, HTTP/2 chosen by ALPN.
#[test]
fn nghttp_fetches_a_hundred_concurrent_streams_over_tls() {
    if !nghttp_installed() {
        return;
    }
    let cert = TestCert::new();
    let args = cert.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::with_args(&www(), &args);
    hundred_streams(&server, &server.https_url("/test.txt"));
}

/// A 4 MiB file and a small one, fetched by nghttp on one connection over h2c and over TLS,
/// arrive byte for byte: flow control and DATA framing carry a body far larger than the
/// 65 535-byte initial windows.
#[test]
fn nghttp_gets_a_large_file_intact() {
    if !nghttp_installed() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    // Printable bytes (nghttp's output is read as text), in a period of 95 that no frame or
    // window size divides: a piece out of place shows.
    let big: Vec<u8> = (0..4u32 << 20).map(|i| b' ' + (i % 95) as u8).collect();
    fs::write(root.path().join("big.bin"), &big).unwrap();
    fs::write(root.path().join("small.txt"), b"small\n").unwrap();
    let cert = TestCert::new();
    let tls_args = cert.args();
    let tls_args: Vec<&str> = tls_args.iter().map(String::as_str).collect();
    let plain = Server::with_args(root.path(), &[]);
    let tls = Server::with_args(root.path(), &tls_args);
    for base in [plain.url(""), tls.https_url("")] {
        let run = nghttp(&[&format!("{base}/big.bin")]);
        assert!(
            run.stdout.len() == big.len() && run.stdout.as_bytes() == big,
            "{base}/big.bin: {} bytes, not the file's {}",
            run.stdout.len(),
            big.len()
        );
        let run = nghttp(&[&format!("{base}/small.txt")]);
        assert_eq!(run.stdout, "small\n", "{base}/small.txt");
    }
}
