//! Compression on the fly, against the real binary: each coding decodes to the file's exact
//! bytes, from the first response on; negotiation follows the q-values, files that should
//! not be compressed are not, HEAD matches GET, a changed file is never answered with its old
//! variant, and each version's own ETag validates. The compression threads run at the lowest
//! CPU priority, and a burst for many large files queues no more than the bound on bytes in
//! flight.

mod common;

use common::{Response, Server, TIMEOUT, get_with, read_to_close, request, split_responses};
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
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

/// GET `path` with `Accept-Encoding: accept` until the response is in `coding` (a file of
/// more than 128 KiB goes out as it is until its fast version is made in the background).
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
    for field in [
        "Content-Encoding",
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

/// The address the banner gives for the metrics listener.
fn metrics_addr(server: &Server) -> SocketAddr {
    let line = server.wait_for_log("metrics at http://");
    let rest = line.split_once("metrics at http://").unwrap().1;
    rest.split('/').next().unwrap().parse().unwrap()
}

/// The value of the sample `name` (without labels) on the metrics listener at `addr`.
fn metric(addr: SocketAddr, name: &str) -> u64 {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n")
        .unwrap();
    let text = split_responses(&read_to_close(&mut stream), &[false])
        .remove(0)
        .text();
    let value = text
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"));
    value.parse().unwrap()
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
