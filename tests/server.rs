//! The server end to end (issue #3): the real binary over raw sockets.
//!
//! Every status the connection layer produces, persistence and pipelining, bodies that are
//! read and discarded, `/echo`, the access log, the command line, and shutdown. Waits are on
//! sockets and on the server's output, each with a deadline; nothing sleeps to wait. Short
//! timeouts are set with the server's own flags.

mod common;

use common::{
    Server, TIMEOUT, get, read_response, read_to_close, request, run_to_exit, split_responses, www,
};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

const SERVER: &str = concat!("nomserve/", env!("CARGO_PKG_VERSION"));

/// Sends `raw` on a new connection without half-closing, and reads until the server closes:
/// proves the server itself closed.
fn closed_by_server(server: &Server, raw: &[u8]) -> Vec<u8> {
    let mut stream = server.connect();
    stream.write_all(raw).expect("send");
    read_to_close(&mut stream)
}

/// The one response in `bytes`, which the server sent and then closed.
fn only_response(bytes: &[u8]) -> common::Response {
    let mut responses = split_responses(bytes, &[false]);
    assert_eq!(responses.len(), 1, "{}", String::from_utf8_lossy(bytes));
    responses.remove(0)
}

// ---------------------------------------------------------------------------------------------
// Start-up and the command line

/// The banner is one block on stderr (without colour: stderr is a pipe here), its first line
/// the port; it names the version, the absolute root, the URL, what is on, and how to stop.
#[test]
fn banner_names_the_port_the_url_and_the_absolute_root() {
    let server = Server::start();
    let root = std::fs::canonicalize(www()).unwrap();
    assert_eq!(
        server.banner(),
        format!(
            "Server is listening on port {port}...\n  nomserve {version} serving {root}\n  \
             http://{addr}/\n  listings off (--list-dirs), echo on at /echo\n  HTTPS off \
             (--tls-cert, --tls-key), compression on (br, zstd, gzip)\n  auth off (--auth-file), \
             access log on stderr, with the log\nPress Ctrl+C to stop.\n",
            port = server.addr.port(),
            version = env!("CARGO_PKG_VERSION"),
            root = root.display(),
            addr = server.addr,
        )
    );
    assert_eq!(server.stdout(), "");
}

#[test]
fn help_and_version() {
    let help = run_to_exit(&["--help"]);
    assert!(help.status.success());
    for flag in [
        "--bind",
        "--port",
        "--root",
        "--threads",
        "--max-connections",
        "--header-timeout",
        "--keep-alive-timeout",
        "--dotfiles",
        "--list-dirs",
        "--cache-control",
    ] {
        assert!(help.stdout.contains(flag), "--help lacks {flag}");
    }
    let version = run_to_exit(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        version.stdout.trim(),
        concat!("nomserve ", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_missing_root_or_a_file_as_root_is_exit_status_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let file = dir.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    for (root, says) in [
        (
            &missing,
            format!(
                "no such directory {}; pass the folder to serve: nomserve DIR",
                missing.display()
            ),
        ),
        (
            &file,
            format!("document root {} is not a directory", file.display()),
        ),
    ] {
        let run = run_to_exit(&["--port", "0", "--root", root.to_str().unwrap()]);
        assert_eq!(run.status.code(), Some(2), "{root:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(&says), "{}", run.stderr);
        assert!(!run.stdout.contains("listening"), "{}", run.stdout);
    }
}

#[test]
fn a_port_in_use_or_an_address_not_here_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let root = www();
    let root = root.to_str().unwrap();
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
    for (args, says) in [
        (
            &["--port", &port, "--root", root][..],
            "the port is in use; pick another with --port N, or let the system choose with --port 0",
        ),
        (
            &["--bind", "192.0.2.1", "--port", "0", "--root", root],
            "cannot listen on 192.0.2.1:",
        ),
    ] {
        let run = run_to_exit(args);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains("cannot listen on"), "{}", run.stderr);
        assert!(run.stderr.contains(says), "{}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let nonsense = run_to_exit(&["--bind", "not an address"]);
    assert_eq!(nonsense.status.code(), Some(2));
    assert!(nonsense.stderr.contains("--bind"), "{}", nonsense.stderr);
}

#[test]
fn binds_to_ipv6_loopback() {
    if TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this machine has no IPv6 loopback");
        return;
    }
    let server = Server::with_args(&www(), &["--bind", "::1"]);
    assert!(server.addr.is_ipv6());
    let response = get(&server, "/echo");
    assert_eq!(response.status, 200);
    server.wait_for_log("::1 - - [");
}

// ---------------------------------------------------------------------------------------------
// Statuses

#[test]
fn grammar_errors_are_400_with_the_rule_in_the_body_and_close() {
    let server = Server::start();
    let exact = closed_by_server(&server, b"GET / HTTP/1.1\r\nHost : x\r\n\r\n");
    let response = only_response(&exact);
    assert_eq!(response.status, 400);
    assert_eq!(response.reason, "Bad Request");
    assert_eq!(
        response.text(),
        "whitespace between field name and colon at byte 20, found SP (0x20) (RFC 9112 §5.1)\n"
    );
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.header("Connection"), Some("close"));

    for (raw, sentence, section) in [
        (
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            "missing Host field in HTTP/1.1 request",
            "(RFC 9112 §3.2)",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
            "obsolete line folding",
            "(RFC 9112 §5.2)",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nBad[name]: 1\r\n\r\n",
            "invalid byte in field name",
            "(RFC 9110 §5.1)",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "conflicting Content-Length values",
            "(RFC 9112 §6.3)",
        ),
        (
            b"GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n",
            "fragment in request-target",
            "(RFC 9112 §3.2)",
        ),
    ] {
        let response = only_response(&closed_by_server(&server, raw));
        let text = response.text();
        assert_eq!(response.status, 400, "{raw:?}: {text}");
        assert!(
            text.starts_with(sentence) && text.ends_with(&format!("{section}\n")),
            "{raw:?}: {text}"
        );
        assert_eq!(response.header("Connection"), Some("close"));
    }
}

/// The ask: a 400 names the rule, the offending byte (as a character, by its name,
/// or in hex) and its offset, in the text body and in the log line; a rule about a whole
/// field names no byte. A browser (its Accept read from the refused head) gets the same
/// sentence, HTML-escaped, as the reason on an HTML page.
#[test]
fn a_400_names_the_offending_byte_and_its_offset_in_the_body_and_the_log() {
    let server = Server::with_env(&www(), &[], &[("RUST_LOG", "debug")]);
    let browser = "Accept: text/html,application/xhtml+xml;q=0.9,*/*;q=0.8\r\n";
    for (head, sentence) in [
        (
            &b"GET / HTTP/1.1\r\nHost : x\r\n"[..],
            "whitespace between field name and colon at byte 20, found SP (0x20) (RFC 9112 §5.1)",
        ),
        (
            b"GET /a\x01 HTTP/1.1\r\nHost: x\r\n",
            "invalid byte in request-target at byte 6, found 0x01 (RFC 9112 §3.2)",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n",
            "line not ended by CRLF at byte 29, found CR (0x0d) (RFC 9112 §2.2)",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nA<b: 1\r\n",
            "invalid byte in field name at byte 26, found '<' (0x3c) (RFC 9110 §5.1)",
        ),
        (
            b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n",
            "invalid byte in request-target at byte 5, found 0xc3 (RFC 9112 §3.2)",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n",
            "more than one Host field at byte 25 (RFC 9112 §3.2)",
        ),
    ] {
        let raw = [head, b"\r\n"].concat();
        let response = only_response(&closed_by_server(&server, &raw));
        assert_eq!(
            (response.status, response.text()),
            (400, format!("{sentence}\n")),
            "{:?}",
            String::from_utf8_lossy(&raw)
        );
        assert_eq!(
            response.header("Content-Type"),
            Some("text/plain; charset=utf-8")
        );

        let raw = [head, browser.as_bytes(), b"\r\n"].concat();
        let page = only_response(&closed_by_server(&server, &raw));
        assert_eq!(page.status, 400);
        assert_eq!(
            page.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(page.header("Connection"), Some("close"));
        let escaped = sentence.replace('\'', "&#39;").replace('<', "&lt;");
        assert!(
            page.text()
                .contains(&format!("<p class=\"reason\">{escaped}</p>")),
            "{}",
            page.text()
        );
        server.wait_for_log(&format!("malformed request: {sentence}"));
    }
}

/// A malformed chunked body is refused with the byte too, its offset counted from the
/// body's first byte.
#[test]
fn a_malformed_chunked_body_names_its_byte() {
    let server = Server::start();
    let raw = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                5\r\nhello\r\n5 \r\n";
    let response = only_response(&closed_by_server(&server, raw));
    assert_eq!(
        (response.status, response.text().as_str()),
        (
            400,
            "invalid chunk-size at byte 11, found SP (0x20) (RFC 9112 §7.1)\n"
        )
    );
}

#[test]
fn other_methods_get_405_with_allow_after_their_body_and_the_next_request_works() {
    let server = Server::start();
    let mut stream = server.connect();
    stream
        .write_all(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello=world\
              GET /echo?after=post HTTP/1.1\r\nHost: x\r\n\r\n",
        )
        .unwrap();
    let mut leftover = Vec::new();
    let post = read_response(&mut stream, &mut leftover, false);
    assert_eq!(post.status, 405);
    assert_eq!(post.reason, "Method Not Allowed");
    assert_eq!(post.header("Allow"), Some("GET, HEAD"));
    assert_eq!(post.header("Connection"), None);
    let next = read_response(&mut stream, &mut leftover, false);
    assert_eq!(next.status, 200);
    assert!(next.text().ends_with("after: post\n"), "{}", next.text());

    for raw in [
        "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n",
        "BREW /pot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let response = request(&server, raw);
        assert_eq!(response.status, 405, "{raw}");
        assert_eq!(response.header("Allow"), Some("GET, HEAD"), "{raw}");
    }
}

#[test]
fn a_missing_file_is_404() {
    let server = Server::start();
    let response = get(&server, "/no-such-file.txt");
    assert_eq!(response.status, 404);
    assert_eq!(response.header("Server"), Some(SERVER));
}

#[test]
fn a_body_past_the_limit_gets_413_once_the_limit_has_arrived() {
    let server = Server::start();
    let mut stream = server.connect();
    let limit = 1024 * 1024;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        2 * limit
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    // The limit and ten bytes more, then nothing: the server must answer from what arrived.
    let send = thread::spawn(move || {
        let body = vec![b'x'; limit + 10];
        let _ = writer.write_all(&body);
    });
    let bytes = read_to_close(&mut stream);
    send.join().unwrap();
    let response = only_response(&bytes);
    assert_eq!(response.status, 413);
    assert_eq!(response.reason, "Content Too Large");
    assert_eq!(response.header("Connection"), Some("close"));
}

#[test]
fn a_large_content_length_without_its_body_is_closed_at_the_deadline_without_413() {
    let server = Server::with_args(&www(), &["--header-timeout", "300ms"]);
    let bytes = closed_by_server(
        &server,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nonly this",
    );
    assert!(
        bytes.is_empty(),
        "expected a close without a response, got:\n{}",
        String::from_utf8_lossy(&bytes)
    );
}

#[test]
fn a_long_request_line_is_414() {
    let server = Server::start();
    let raw = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(9 * 1024));
    let response = only_response(&closed_by_server(&server, raw.as_bytes()));
    assert_eq!(response.status, 414);
    assert_eq!(response.reason, "URI Too Long");
}

#[test]
fn an_unknown_expectation_is_417() {
    let server = Server::start();
    let response = only_response(&closed_by_server(
        &server,
        b"GET /echo HTTP/1.1\r\nHost: x\r\nExpect: the-unexpected\r\n\r\n",
    ));
    assert_eq!(response.status, 417);
    assert_eq!(response.reason, "Expectation Failed");
    assert_eq!(response.header("Connection"), Some("close"));
}

#[test]
fn too_many_fields_or_too_large_a_head_is_431() {
    let server = Server::start();
    let mut many = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..100 {
        many.push_str(&format!("X-{i}: {i}\r\n"));
    }
    many.push_str("\r\n");
    let mut large = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
    for i in 0..70 {
        large.push_str(&format!("X-{i}: {}\r\n", "v".repeat(1000)));
    }
    large.push_str("\r\n");
    for raw in [many, large] {
        let response = only_response(&closed_by_server(&server, raw.as_bytes()));
        assert_eq!(response.status, 431);
        assert_eq!(response.reason, "Request Header Fields Too Large");
    }
}

#[test]
fn an_unknown_transfer_coding_is_501() {
    let server = Server::start();
    let response = only_response(&closed_by_server(
        &server,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: nonesuch, chunked\r\n\r\n0\r\n\r\n",
    ));
    assert_eq!(response.status, 501);
    assert_eq!(response.reason, "Not Implemented");
}

#[test]
fn a_major_version_other_than_1_is_505() {
    let server = Server::start();
    let response = only_response(&closed_by_server(
        &server,
        b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    ));
    assert_eq!(response.status, 505);
    assert_eq!(response.reason, "HTTP Version Not Supported");
}

// ---------------------------------------------------------------------------------------------
// Persistence

#[test]
fn two_requests_on_one_connection() {
    let server = Server::start();
    let mut stream = server.connect();
    let mut leftover = Vec::new();
    for n in 1..=2 {
        let raw = format!("GET /echo?n={n} HTTP/1.1\r\nHost: x\r\n\r\n");
        stream.write_all(raw.as_bytes()).unwrap();
        let response = read_response(&mut stream, &mut leftover, false);
        assert_eq!(response.status, 200);
        assert_eq!(response.header("Connection"), None);
        assert!(response.text().ends_with(&format!("n: {n}\n")));
    }
}

#[test]
fn http10_closes_by_default_and_keeps_alive_on_request() {
    let server = Server::start();
    let bytes = closed_by_server(&server, b"GET /echo HTTP/1.0\r\n\r\n");
    let response = only_response(&bytes);
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Connection"), Some("close"));

    let mut stream = server.connect();
    let mut leftover = Vec::new();
    stream
        .write_all(b"GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let kept = read_response(&mut stream, &mut leftover, false);
    assert_eq!(kept.header("Connection"), Some("keep-alive"));
    stream
        .write_all(b"GET /echo?again=1 HTTP/1.0\r\n\r\n")
        .unwrap();
    let last = read_response(&mut stream, &mut leftover, false);
    assert_eq!(last.header("Connection"), Some("close"));
    assert!(last.text().ends_with("again: 1\n"));
    assert!(read_to_close(&mut stream).is_empty());
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = Server::start();
    let raw = "GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\n\
               GET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n\
               GET /echo?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let bytes = closed_by_server(&server, raw.as_bytes());
    let responses = split_responses(&bytes, &[false; 3]);
    assert_eq!(responses.len(), 3);
    for (n, response) in (1..=3).zip(&responses) {
        assert_eq!(response.status, 200);
        assert!(response.text().ends_with(&format!("n: {n}\n")), "{n}");
    }
}

#[test]
fn a_client_that_half_closes_still_gets_its_responses() {
    let server = Server::start();
    let bytes = server.exchange(
        b"GET /echo?n=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?n=2 HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let responses = split_responses(&bytes, &[false, false]);
    assert_eq!(responses.len(), 2);
    assert!(responses[1].text().ends_with("n: 2\n"));
}

#[test]
fn an_idle_keep_alive_connection_is_closed_silently() {
    let server = Server::with_args(&www(), &["--keep-alive-timeout", "200ms"]);
    let mut stream = server.connect();
    let mut leftover = Vec::new();
    stream
        .write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut stream, &mut leftover, false).status, 200);
    assert!(read_to_close(&mut stream).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Heads and bodies

#[test]
fn head_gets_the_get_fields_and_no_body() {
    let server = Server::start();
    let got = get(&server, "/test.txt");
    assert_eq!(got.status, 200);
    let mut stream = server.connect();
    stream
        .write_all(b"HEAD /test.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let bytes = read_to_close(&mut stream);
    let responses = split_responses(&bytes, &[true, false]);
    assert_eq!(
        responses.len(),
        2,
        "a HEAD response with a body would break the framing"
    );
    let head = &responses[0];
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("Content-Length"), got.header("Content-Length"));
    assert_eq!(head.header("Content-Type"), got.header("Content-Type"));
    assert!(responses[1].text().starts_with("GET /echo HTTP/1.1\r\n"));
}

#[test]
fn request_bodies_are_skipped_and_the_next_request_parses() {
    let server = Server::start();
    let raw = "GET /echo?n=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 18\r\n\r\nGET /trap HTTP/1.1\
               GET /echo?n=2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
               5;ext=1\r\nGET /\r\n0\r\nTrailer: t\r\n\r\n\
               GET /echo?n=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let bytes = closed_by_server(&server, raw.as_bytes());
    let responses = split_responses(&bytes, &[false; 3]);
    assert_eq!(responses.len(), 3, "{}", String::from_utf8_lossy(&bytes));
    for (n, response) in (1..=3).zip(&responses) {
        assert_eq!(response.status, 200, "{n}");
        assert!(response.text().ends_with(&format!("n: {n}\n")), "{n}");
    }
}

#[test]
fn a_malformed_chunked_body_is_400_not_405() {
    let server = Server::start();
    let response = only_response(&closed_by_server(
        &server,
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    ));
    assert_eq!(response.status, 400);
    assert!(
        response.text().starts_with("invalid chunk-size"),
        "{}",
        response.text()
    );
    assert_eq!(response.header("Connection"), Some("close"));
}

#[test]
fn expect_100_continue_gets_an_interim_response_from_http11_only() {
    let server = Server::start();
    let mut stream = server.connect();
    stream
        .write_all(
            b"GET /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n",
        )
        .unwrap();
    let mut leftover = Vec::new();
    let interim = read_response(&mut stream, &mut leftover, false);
    assert_eq!(interim.status, 100);
    assert_eq!(interim.reason, "Continue");
    stream.write_all(b"hello").unwrap();
    let last = read_response(&mut stream, &mut leftover, false);
    assert_eq!(last.status, 200);

    let bytes = closed_by_server(
        &server,
        b"POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
    );
    let response = only_response(&bytes);
    assert_eq!(response.status, 405, "no 1xx to HTTP/1.0 (RFC 9110 §15.2)");
}

// ---------------------------------------------------------------------------------------------
// /echo

#[test]
fn echo_returns_the_raw_head_then_the_query_parameters() {
    let server = Server::start();
    let raw = "GET /echo?name=test&x=a+b&x=%C3%A9 HTTP/1.1\r\nHost: localhost\r\nX-Test:  value \r\nConnection: close\r\n\r\n";
    let response = request(&server, raw);
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(response.text(), format!("{raw}name: test\nx: a b\nx: é\n"));

    let head = request(
        &server,
        "HEAD /echo?name=test HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn absolute_form_targets_route_on_their_path() {
    let server = Server::start();
    let response = request(
        &server,
        "GET http://localhost/echo?name=test HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    assert!(response.text().ends_with("name: test\n"));
}

#[test]
fn every_response_has_date_and_server() {
    let server = Server::start();
    for raw in [
        "GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    ] {
        let response = request(&server, raw);
        assert_eq!(response.header("Server"), Some(SERVER), "{raw}");
        let date = response.header("Date").expect("Date");
        assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
    }
}

// ---------------------------------------------------------------------------------------------
// Logging

#[test]
fn access_log_lines_are_combined_log_format_and_escape_client_bytes() {
    let server = Server::start();
    request(
        &server,
        "GET /echo?q=1 HTTP/1.1\r\nHost: x\r\nReferer: http://ref.example/\r\nUser-Agent: evil\"agent\\1\r\nConnection: close\r\n\r\n",
    );
    let line = server.wait_for_log("\"GET /echo?q=1 HTTP/1.1\" 200 ");
    // 127.0.0.1 - - [24/Nov/2026:06:02:13 +0000] "GET /echo?q=1 HTTP/1.1" 200 N "ref" "ua"
    let (prefix, rest) = line.split_once(" [").unwrap();
    assert_eq!(prefix, "127.0.0.1 - -");
    let (time, rest) = rest.split_once("] ").unwrap();
    assert_eq!(time.len(), "24/Nov/2026:06:02:13 +0000".len(), "{time}");
    assert!(time.ends_with(" +0000"), "{time}");
    assert_eq!(&time[2..3], "/");
    let size: String = rest
        .trim_start_matches("\"GET /echo?q=1 HTTP/1.1\" 200 ")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert!(size.parse::<u64>().unwrap() > 0, "{line}");
    assert!(
        line.ends_with("\"http://ref.example/\" \"evil\\x22agent\\x5C1\""),
        "{line}"
    );

    // A request that failed to parse logs its status and the printable part of its line.
    closed_by_server(&server, b"GET /x\x01y HTTP/1.1\r\nHost: x\r\n\r\n");
    server.wait_for_log("\"GET /x\" 400 ");
}

#[test]
fn rust_log_warn_silences_the_banner_and_the_access_log() {
    let mut server = Server::without_banner(&www(), &[], &[("RUST_LOG", "warn")]);
    assert_eq!(get(&server, "/echo").status, 200);
    server.signal("TERM");
    assert!(server.wait_exit().success());
    let log = server.wait_for_log_end();
    assert_eq!(
        log, "",
        "nothing but warnings and errors under RUST_LOG=warn"
    );
    assert_eq!(server.stdout(), "");
}

#[test]
fn rust_log_debug_shows_the_raw_request_and_its_fields() {
    let server = Server::with_env(&www(), &[], &[("RUST_LOG", "debug")]);
    get(&server, "/echo?debug=1");
    server.wait_for_log("GET /echo?debug=1 HTTP/1.1\\r\\nHost: localhost\\r\\n");
    server.wait_for_log("field Connection: close");
}

// ---------------------------------------------------------------------------------------------
// Shutdown

#[test]
fn sigterm_closes_idle_connections_and_exits_0() {
    let mut server = Server::start();
    let mut idle = server.connect();
    let mut leftover = Vec::new();
    idle.write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert_eq!(read_response(&mut idle, &mut leftover, false).status, 200);
    let mut opened = server.connect();
    opened.write_all(b"GET /echo HTTP/1.1\r\n").unwrap();

    server.signal("TERM");
    assert!(read_to_close(&mut idle).is_empty());
    assert!(read_to_close(&mut opened).is_empty());
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0));
    server.wait_for_log("Server stopped");
    assert!(TcpStream::connect_timeout(&server.addr, TIMEOUT).is_err());
}

#[test]
fn a_reset_connection_does_not_disturb_others() {
    let server = Server::start();
    let mut broken = server.connect();
    broken.write_all(b"GET /echo HTTP/1.1\r\nHo").unwrap();
    broken.shutdown(Shutdown::Both).unwrap();
    drop(broken);
    let mut stream = server.connect();
    stream
        .write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    assert_eq!(only_response(&bytes).status, 200);
}
