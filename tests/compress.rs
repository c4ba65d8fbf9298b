//! Compression on the fly, against the real binary: each coding decodes to the file's exact
//! bytes, from the first response on; negotiation follows the q-values, files that should
//! not be compressed are not, HEAD matches GET, a changed file is never answered with its old
//! variant, and each version's own ETag validates. The compression threads run at the lowest
//! CPU priority, and a burst for many large files queues no more than the bound on bytes in
//! flight. A large file's first responses are compressed as they are sent, chunked, over
//! HTTP and HTTPS alike, to a client however slow; HTTP/1.0 and ranges get the file as it is,
//! and a file that shrinks mid-stream never gets its last chunk.

mod common;

use common::{
    Response, Server, TIMEOUT, get_with, metric, metrics_addr, read_to_close, request,
    split_responses,
};
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

/// A page of about 60 KiB that compresses well, different for each `seed`.
fn page(seed: u32) -> String {
    let mut text = String::from("<!doctype html><title>compressed</title>\n");
    for i in 0..2000 {
        text.push_str(&format!("<p class=\"row\">row {i} of page {seed}</p>\n"));
    }
    text
}

/// A root with a compressible page, a small text file, an image and a precompressed file.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("page.html"), page(1)).unwrap();
    fs::write(dir.path().join("small.txt"), "short\n").unwrap();
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(dir.path().join("photo.png"), &noise).unwrap();
    fs::write(dir.path().join("data.json.gz"), b"\x1f\x8b not really").unwrap();
    dir
}

/// GET `path` with `Accept-Encoding: accept` until the response is in `coding`.
fn until_coded(server: &Server, path: &str, accept: &str, coding: &str) -> Response {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let response = get_with(server, path, &format!("Accept-Encoding: {accept}\r\n"));
        if response.header("Content-Encoding") == Some(coding) {
            return response;
        }
        assert_eq!(response.header("Content-Encoding"), None);
        assert!(
            Instant::now() < deadline,
            "no {coding} variant of {path} in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The body of `response`, decoded from its Content-Encoding.
fn decoded(response: &Response) -> Vec<u8> {
    let body = &response.body[..];
    let mut out = Vec::new();
    match response.header("Content-Encoding") {
        Some("gzip") => {
            flate2::read::GzDecoder::new(body)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("br") => {
            brotli::Decompressor::new(body, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        Some("zstd") => out = zstd::decode_all(body).unwrap(),
        None => out = body.to_vec(),
        Some(other) => panic!("unexpected coding {other}"),
    }
    out
}

fn bytes_of(root: &Path, name: &str) -> Vec<u8> {
    fs::read(root.join(name)).unwrap()
}

#[test]
fn the_first_response_is_compressed_and_decodes_to_the_file() {
    let dir = site();
    let server = Server::with_args(dir.path(), &[]);
    let file = bytes_of(dir.path(), "page.html");
    for coding in ["gzip", "br", "zstd"] {
        // The first request for the coding: made at the fast level, on the spot.
        let response = get_with(
            &server,
            "/page.html",
            &format!("Accept-Encoding: {coding}\r\n"),
        );
        assert_eq!(response.status, 200);
        assert_eq!(response.header("Content-Encoding"), Some(coding));
        assert_eq!(response.header("Vary"), Some("Accept-Encoding"));
        assert_eq!(
            response.header("Content-Length"),
            Some(response.body.len().to_string().as_str())
        );
        assert!(
            response.body.len() < file.len() / 4,
            "{coding} saves little"
        );
        assert_eq!(decoded(&response), file, "{coding}");
        // The fast version's own tag; it validates, whichever version is current.
        let etag = response.header("ETag").unwrap();
        assert!(etag.ends_with(&format!("-{coding}-fast\"")), "{etag}");
        let again = get_with(
            &server,
            "/page.html",
            &format!("Accept-Encoding: {coding}\r\nIf-None-Match: {etag}\r\n"),
        );
        assert_eq!(again.status, 304, "{coding}");
        assert_eq!(again.header("ETag"), Some(etag));
    }
    // The identity response varies too, and carries the file's own ETag.
    let identity = get_with(&server, "/page.html", "");
    assert_eq!(identity.header("Vary"), Some("Accept-Encoding"));
    assert_eq!(identity.body, file);
}

#[test]
fn q_values_decide() {
    let dir = site();
    let server = Server::with_args(dir.path(), &[]);
    for coding in ["gzip", "br", "zstd"] {
        until_coded(&server, "/page.html", coding, coding);
    }
    for (accept, expected) in [
        ("br;q=0.5, gzip;q=0.9", Some("gzip")),
        ("gzip, br", Some("br")),
        ("gzip;q=0.2, zstd;q=0.3, br;q=0.1", Some("zstd")),
        ("br;q=0, gzip", Some("gzip")),
        ("*", Some("br")),
        ("gzip;q=0, br;q=0, zstd;q=0", None),
        ("identity", None),
        ("deflate", None),
    ] {
        let response = get_with(
            &server,
            "/page.html",
            &format!("Accept-Encoding: {accept}\r\n"),
        );
        assert_eq!(response.status, 200, "{accept}");
        assert_eq!(response.header("Content-Encoding"), expected, "{accept}");
    }
}

#[test]
fn identity_refused_with_nothing_else_acceptable_is_406() {
    let dir = site();
    let server = Server::with_args(dir.path(), &[]);
    for accept in ["identity;q=0", "*;q=0", "deflate, identity;q=0"] {
        let response = get_with(
            &server,
            "/page.html",
            &format!("Accept-Encoding: {accept}\r\n"),
        );
        assert_eq!(response.status, 406, "{accept}");
        assert_eq!(response.header("Vary"), Some("Accept-Encoding"));
    }
    let response = until_coded(&server, "/page.html", "gzip, identity;q=0", "gzip");
    assert_eq!(decoded(&response), bytes_of(dir.path(), "page.html"));
}

#[test]
fn small_files_images_and_encoded_files_are_left_alone() {
    let dir = site();
    let server = Server::with_args(dir.path(), &[]);
    for path in ["/small.txt", "/photo.png", "/data.json.gz"] {
        for _ in 0..3 {
            let response = get_with(&server, path, "Accept-Encoding: gzip, br, zstd\r\n");
            assert_eq!(response.status, 200, "{path}");
            assert_eq!(response.header("Content-Encoding"), None, "{path}");
            assert_eq!(response.header("Vary"), None, "{path}");
            assert_eq!(response.body, bytes_of(dir.path(), &path[1..]), "{path}");
        }
    }
    // --compress none turns it off.
    let server = Server::with_args(dir.path(), &["--compress", "none"]);
    for _ in 0..3 {
        let response = get_with(&server, "/page.html", "Accept-Encoding: gzip\r\n");
        assert_eq!(response.header("Content-Encoding"), None);
    }
}

#[test]
fn head_matches_get() {
    let dir = site();
    let server = Server::with_args(dir.path(), &[]);
    let head_request = "HEAD /page.html HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\
                        Connection: close\r\n\r\n";
    // The best version replaces the fast one once, in the background: a HEAD between two
    // GETs that got the same version was answered for that version.
    let deadline = Instant::now() + TIMEOUT;
    let (get, head) = loop {
        let before = get_with(&server, "/page.html", "Accept-Encoding: gzip\r\n");
        let head = request(&server, head_request);
        let after = get_with(&server, "/page.html", "Accept-Encoding: gzip\r\n");
        if before.header("ETag") == after.header("ETag") {
            break (after, head);
        }
        assert!(Instant::now() < deadline, "the version kept changing");
    };
    assert!(head.body.is_empty());
    assert_eq!(get.header("Content-Encoding"), Some("gzip"));
    assert_same_head(&head, &get);
}

#[test]
fn a_changed_file_is_compressed_anew() {
    let dir = site();
    let server = Server::with_args(dir.path(), &[]);
    let first = until_coded(&server, "/page.html", "gzip", "gzip");
    assert_eq!(decoded(&first), page(1).as_bytes());
    // The cache is hot: the file is rewritten (same size class, new content).
    fs::write(dir.path().join("page.html"), page(2)).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let response = get_with(&server, "/page.html", "Accept-Encoding: gzip\r\n");
        let body = decoded(&response);
        // Never the old bytes once the change is seen; the new variant in time.
        assert!(
            body == page(2).as_bytes() || body == page(1).as_bytes(),
            "neither version"
        );
        if body == page(2).as_bytes() && response.header("Content-Encoding") == Some("gzip") {
            assert_ne!(response.header("ETag"), first.header("ETag"));
            break;
        }
        assert!(Instant::now() < deadline, "no new variant in time");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // From then on, the old variant is never served again.
    for _ in 0..5 {
        let response = get_with(&server, "/page.html", "Accept-Encoding: gzip\r\n");
        assert_eq!(decoded(&response), page(2).as_bytes());
    }
}

#[test]
fn the_variants_etag_validates() {
    let dir = site();
    let server = Server::with_args(dir.path(), &[]);
    let coded = until_coded(&server, "/page.html", "gzip", "gzip");
    let etag = coded.header("ETag").unwrap();
    let again = get_with(
        &server,
        "/page.html",
        &format!("Accept-Encoding: gzip\r\nIf-None-Match: {etag}\r\n"),
    );
    assert_eq!(again.status, 304);
    assert_eq!(again.header("ETag"), Some(etag));
    assert_eq!(again.header("Vary"), Some("Accept-Encoding"));
    // The identity ETag does not match the gzip representation, and the other way round.
    let identity = get_with(&server, "/page.html", "");
    let identity_etag = identity.header("ETag").unwrap();
    assert_ne!(identity_etag, etag);
    let mismatch = get_with(
        &server,
        "/page.html",
        &format!("Accept-Encoding: gzip\r\nIf-None-Match: {identity_etag}\r\n"),
    );
    assert_eq!(mismatch.status, 200);
    assert_eq!(mismatch.header("Content-Encoding"), Some("gzip"));
    // A range is served from the file as it is.
    let range = get_with(
        &server,
        "/page.html",
        "Accept-Encoding: gzip\r\nRange: bytes=0-99\r\n",
    );
    assert_eq!(range.status, 206);
    assert_eq!(range.header("Content-Encoding"), None);
    assert_eq!(range.body, &bytes_of(dir.path(), "page.html")[..100]);
}

/// The threads of process `pid` named `compress-N`: their name, scheduling policy and nice
/// value, from `/proc/PID/task/TID/stat` (proc_pid_stat(5): field 19 is the nice value and
/// field 41 the policy, counted from the pid; the name, field 2, ends at the last `)`).
fn compression_threads(pid: u32) -> Vec<(String, u32, i32)> {
    let mut threads = Vec::new();
    for entry in fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = entry.unwrap().path();
        let (Ok(name), Ok(stat)) = (
            fs::read_to_string(task.join("comm")),
            fs::read_to_string(task.join("stat")),
        ) else {
            continue;
        };
        if !name.starts_with("compress-") {
            continue;
        }
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
        let nice = fields[19 - 3].parse().unwrap();
        let policy = fields[41 - 3].parse().unwrap();
        threads.push((name.trim().to_string(), policy, nice));
    }
    threads
}

#[test]
fn compression_threads_run_at_the_lowest_priority() {
    /// sched(7)'s SCHED_IDLE.
    const SCHED_IDLE: u32 = 5;
    let dir = site();
    let server = Server::with_env(dir.path(), &[], &[("RUST_LOG", "debug")]);
    // The first compression starts the threads.
    get_with(&server, "/page.html", "Accept-Encoding: br\r\n");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let threads = compression_threads(server.pid());
        if threads.len() == 2
            && threads
                .iter()
                .all(|&(_, policy, nice)| policy == SCHED_IDLE || nice == 19)
        {
            break;
        }
        assert!(Instant::now() < deadline, "{threads:?}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Which one applied is logged.
    server.wait_for_log("compression thread at ");
}

#[test]
fn a_burst_for_many_large_files_queues_no_more_than_the_bound() {
    const MIB: usize = 1024 * 1024;
    /// The bound on input bytes queued or being compressed.
    const IN_FLIGHT: u64 = 16 * MIB as u64;
    let dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        let mut text = String::with_capacity(MIB + 64);
        let mut row = 0;
        while text.len() < MIB {
            text.push_str(&format!("<li>file {i}, row {row}</li>\n"));
            row += 1;
        }
        text.truncate(MIB);
        fs::write(dir.path().join(format!("big-{i}.txt")), text).unwrap();
    }
    let server = Server::with_args(dir.path(), &["--metrics", "127.0.0.1:0"]);
    let metrics = metrics_addr(&server);
    let head = |i: usize| {
        let response = request(
            &server,
            &format!(
                "HEAD /big-{i}.txt HTTP/1.1\r\nHost: localhost\r\n\
                 Accept-Encoding: br, zstd, gzip\r\nConnection: close\r\n\r\n"
            ),
        );
        assert_eq!(response.status, 200);
    };
    // Each takes 1 MiB into the work in flight, until the bound: the rest are dropped.
    for i in 0..40 {
        head(i);
        let in_flight = metric(metrics, "nomserve_compression_in_flight_bytes");
        assert!(in_flight <= IN_FLIGHT, "{in_flight} bytes in flight");
    }
    assert!(metric(metrics, "nomserve_compression_dropped_total") > 0);
    // The first 16 were taken (the bound holds 16 of them); asked again, none is queued
    // twice.
    let started = metric(metrics, "nomserve_compression_misses_total");
    for i in 0..16 {
        head(i);
    }
    assert_eq!(
        metric(metrics, "nomserve_compression_misses_total"),
        started
    );
}

/// About 1 MiB of text that compresses well: past the size compressed whole on the spot.
fn big_page() -> String {
    let mut text = String::from("<!doctype html><title>streamed</title>\n");
    let mut row = 0;
    while text.len() < 1024 * 1024 {
        text.push_str(&format!(
            "<tr><td>row {row}</td><td>{}</td></tr>\n",
            row * 7919
        ));
        row += 1;
    }
    text
}

/// A root with `big.html` ([`big_page`]) and a small `small.txt`.
fn big_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("big.html"), big_page()).unwrap();
    fs::write(dir.path().join("small.txt"), "short\n").unwrap();
    dir
}

/// The content of a chunked body (RFC 9112 §7.1), checked strictly: hexadecimal sizes, each
/// chunk's CRLF, the last chunk, no trailer fields, nothing after; and the bytes after it.
fn dechunk(mut bytes: &[u8]) -> (Vec<u8>, &[u8]) {
    let mut content = Vec::new();
    loop {
        let line_end = bytes
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk-size line");
        let size = std::str::from_utf8(&bytes[..line_end]).unwrap();
        let size = usize::from_str_radix(size, 16).expect("a hexadecimal chunk size");
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            assert!(
                bytes.starts_with(b"\r\n"),
                "trailer fields or no final CRLF"
            );
            return (content, &bytes[2..]);
        }
        assert!(bytes.len() >= size + 2, "a chunk cut short");
        content.extend_from_slice(&bytes[..size]);
        assert_eq!(&bytes[size..size + 2], b"\r\n", "a chunk without its CRLF");
        bytes = &bytes[size + 2..];
    }
}

/// Checks that `response` is a streamed compressed response in `coding`: chunked, without a
/// Content-Length or Accept-Ranges, with the fast version's ETag.
fn assert_streamed(response: &Response, coding: &str) {
    assert_eq!(response.status, 200, "{coding}");
    assert_eq!(response.header("Transfer-Encoding"), Some("chunked"));
    assert_eq!(response.header("Content-Length"), None, "{coding}");
    assert_eq!(response.header("Accept-Ranges"), None, "{coding}");
    assert_eq!(response.header("Content-Encoding"), Some(coding));
    assert_eq!(response.header("Vary"), Some("Accept-Encoding"));
    assert_eq!(
        response.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let etag = response.header("ETag").unwrap();
    assert!(etag.ends_with(&format!("-{coding}-fast\"")), "{etag}");
}

/// The body of a streamed `response` read to the close, decoded from its chunks and coding.
fn streamed_content(mut response: Response) -> Vec<u8> {
    let (content, rest) = dechunk(&response.body);
    assert!(rest.is_empty(), "bytes after the last chunk");
    response.body = content;
    decoded(&response)
}

#[test]
fn a_large_files_first_response_is_compressed_as_it_is_sent() {
    let dir = big_site();
    let server = Server::with_args(dir.path(), &[]);
    let file = bytes_of(dir.path(), "big.html");
    for coding in ["gzip", "br", "zstd"] {
        let response = get_with(
            &server,
            "/big.html",
            &format!("Accept-Encoding: {coding}\r\n"),
        );
        assert_streamed(&response, coding);
        let etag = response.header("ETag").unwrap().to_string();
        assert!(
            response.body.len() < file.len() / 4,
            "{coding} saves little"
        );
        assert_eq!(streamed_content(response), file, "{coding}");
        // The streamed bytes are the fast version's: its tag validates, whichever version is
        // kept by now.
        let again = get_with(
            &server,
            "/big.html",
            &format!("Accept-Encoding: {coding}\r\nIf-None-Match: {etag}\r\n"),
        );
        assert_eq!(again.status, 304, "{coding}");
        assert_eq!(again.header("ETag"), Some(etag.as_str()));
    }
    // Once made in the background, a version is sent from memory, with its length.
    let kept = until_length(&server, "gzip");
    assert_eq!(kept.header("Content-Encoding"), Some("gzip"));
    assert_eq!(decoded(&kept), file);
}

/// GET `/big.html` in `coding` until the answer has a Content-Length (a kept version).
fn until_length(server: &Server, coding: &str) -> Response {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let response = get_with(
            server,
            "/big.html",
            &format!("Accept-Encoding: {coding}\r\n"),
        );
        if response.header("Content-Length").is_some() {
            return response;
        }
        assert_streamed(&response, coding);
        assert!(
            Instant::now() < deadline,
            "no kept {coding} version in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_head_request_gets_the_head_of_the_streamed_response() {
    let dir = big_site();
    let head_request = "HEAD /big.html HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\
                        Connection: close\r\n\r\n";
    // Each is the first request of its server, for the same file.
    let head = request(&Server::with_args(dir.path(), &[]), head_request);
    let get = get_with(
        &Server::with_args(dir.path(), &[]),
        "/big.html",
        "Accept-Encoding: gzip\r\n",
    );
    assert!(head.body.is_empty());
    assert_streamed(&head, "gzip");
    assert_streamed(&get, "gzip");
    assert_same_head(&head, &get);
}

/// A HEAD's answer carries the fields its GET's does (RFC 9110 §9.3.2), the framing ones
/// included.
fn assert_same_head(head: &Response, get: &Response) {
    for field in [
        "Content-Encoding",
        "Transfer-Encoding",
        "Content-Length",
        "ETag",
        "Vary",
        "Content-Type",
        "Last-Modified",
    ] {
        assert_eq!(head.header(field), get.header(field), "{field}");
    }
}

#[test]
fn a_slow_reader_gets_the_whole_stream_and_the_next_response_after_it() {
    let dir = big_site();
    let server = Server::with_args(dir.path(), &[]);
    let mut stream = server.connect();
    // Two requests at once: the streamed body must end exactly where its last chunk does.
    stream
        .write_all(
            b"GET /big.html HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: br\r\n\r\n\
              GET /small.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    // Read a little at a time, pausing, so that the server's steps wait for the client.
    let mut received = Vec::new();
    let mut piece = [0u8; 2048];
    loop {
        let n = stream.read(&mut piece).expect("read the responses");
        if n == 0 {
            break;
        }
        received.extend_from_slice(&piece[..n]);
        if received.len() < 64 * 1024 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    let (mut first, head_len) = common::parse_head(&received).expect("a response head");
    assert_streamed(&first, "br");
    let (content, rest) = dechunk(&received[head_len..]);
    first.body = content;
    assert_eq!(decoded(&first), bytes_of(dir.path(), "big.html"));
    let second = split_responses(rest, &[false]);
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].body, b"short\n");
}

#[test]
fn a_range_is_answered_from_the_file_and_http_1_0_gets_the_file_as_it_is() {
    let dir = big_site();
    let server = Server::with_args(dir.path(), &[]);
    let file = bytes_of(dir.path(), "big.html");
    // A range of a body made as it is sent could not be answered: it comes from the file.
    let range = get_with(
        &server,
        "/big.html",
        "Accept-Encoding: gzip\r\nRange: bytes=100-199\r\n",
    );
    assert_eq!(range.status, 206);
    assert_eq!(range.header("Content-Encoding"), None);
    assert_eq!(range.body, &file[100..200]);
    // HTTP/1.0 has no chunked coding: the file as it is, with its length.
    let old = request(
        &server,
        "GET /big.html HTTP/1.0\r\nHost: localhost\r\nAccept-Encoding: br\r\n\r\n",
    );
    assert_eq!(old.status, 200);
    assert_eq!(old.header("Transfer-Encoding"), None);
    assert_eq!(old.header("Content-Encoding"), None);
    assert_eq!(
        old.header("Content-Length"),
        Some(file.len().to_string().as_str())
    );
    assert_eq!(old.body, file);
    // The same coding for HTTP/1.1 is streamed (while no version of it is kept).
    let new = get_with(&server, "/big.html", "Accept-Encoding: zstd\r\n");
    assert_streamed(&new, "zstd");
    assert_eq!(streamed_content(new), file);
}

#[test]
fn a_streamed_response_over_tls_decodes_to_the_file() {
    let dir = big_site();
    let pair = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let certs = tempfile::tempdir().unwrap();
    let (cert, key) = (certs.path().join("cert.pem"), certs.path().join("key.pem"));
    fs::write(&cert, pair.cert.pem()).unwrap();
    fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
    let server = Server::with_args(
        dir.path(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let headers = certs.path().join("headers");
    // curl checks the chunked framing; the body it writes is the coded content.
    let out = std::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail",
            "--insecure",
            "--http1.1",
        ])
        .args([
            "--max-time",
            "60",
            "-H",
            "Accept-Encoding: gzip",
            "--dump-header",
        ])
        .arg(&headers)
        .arg(server.https_url("/big.html"))
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let head = fs::read(&headers).unwrap();
    let (mut response, _) = common::parse_head(&head).expect("a response head");
    assert_streamed(&response, "gzip");
    response.body = out.stdout;
    assert_eq!(decoded(&response), bytes_of(dir.path(), "big.html"));
}

#[test]
fn a_file_that_shrinks_while_streamed_ends_the_connection_before_the_last_chunk() {
    // 16 MiB of random hexadecimal digits: its gzip (some 9 MB) cannot all wait in the
    // sockets' buffers (a few MiB on loopback), so most of it is made after the change.
    let dir = tempfile::tempdir().unwrap();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let text: Vec<u8> = (0..16 * 1024 * 1024)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            b"0123456789abcdef"[(state >> 60) as usize]
        })
        .collect();
    let path = dir.path().join("hex.txt");
    fs::write(&path, &text).unwrap();
    let server = Server::with_args(dir.path(), &[]);
    let mut stream = server.connect();
    stream
        .write_all(b"GET /hex.txt HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n")
        .unwrap();
    let mut received = Vec::new();
    let mut piece = [0u8; 4096];
    let head_len = loop {
        if let Some((head, len)) = common::parse_head(&received) {
            assert_eq!(head.header("Transfer-Encoding"), Some("chunked"));
            assert_eq!(head.header("Content-Encoding"), Some("gzip"));
            break len;
        }
        let n = stream.read(&mut piece).expect("read the head");
        assert!(n > 0, "closed before the head");
        received.extend_from_slice(&piece[..n]);
    };
    // The file shrinks while the client has read little of it.
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(1024 * 1024)
        .unwrap();
    received.extend(read_to_close(&mut stream));
    // Whole chunks, then a cut: never the last chunk, which would pass a short body off as
    // the file.
    let mut body = &received[head_len..];
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..line_end]).unwrap();
        let size = usize::from_str_radix(size, 16).expect("a hexadecimal chunk size");
        assert_ne!(size, 0, "the body was finished");
        if body.len() < line_end + 2 + size + 2 {
            break;
        }
        body = &body[line_end + 2 + size + 2..];
    }
    assert!(received.len() - head_len < text.len() / 2);
    server.wait_for_log("making a streamed body failed");
}
