//! Request smuggling shapes against the real binary.
//!
//! Each row is a request whose framing two HTTP implementations could read differently: the
//! server must refuse it with the row's status and close the connection (so that no byte
//! after the refused head is ever read as a request), and the request smuggled behind it —
//! every row ends with a complete `GET /echo` — must never be answered. The test reads until
//! the server closes (the read timeout fails it otherwise), without half-closing first, so the
//! close is the server's own decision, and counts the responses in everything read: exactly
//! one.
//!
//! The last rows are the Http11Probe scored test families that nginx fails (issue #8): they
//! double as that regression tests.

mod common;

use common::{Server, read_to_close, split_responses};
use std::io::Write;

/// The request every row carries behind its own: answered only if it was smuggled through.
const SMUGGLED: &str = "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";

/// One shape: a name, the RFC section that decides it, the request bytes (the smuggled
/// request is appended), and the status the server must answer.
struct Row {
    name: &'static str,
    rfc: &'static str,
    request: Vec<u8>,
    status: u16,
}

fn row(name: &'static str, rfc: &'static str, request: impl AsRef<[u8]>, status: u16) -> Row {
    Row {
        name,
        rfc,
        request: request.as_ref().to_vec(),
        status,
    }
}

/// A POST to `/echo` with these field lines (each ending in CRLF) and this body.
fn post(fields: &str, body: &str) -> String {
    format!("POST /echo HTTP/1.1\r\nHost: x\r\n{fields}\r\n{body}")
}

/// A chunked POST with this body.
fn chunked(body: &str) -> String {
    post("Transfer-Encoding: chunked\r\n", body)
}

fn smuggling_rows() -> Vec<Row> {
    vec![
        // Content-Length and Transfer-Encoding together: RFC 9112 §6.1 ("a server MAY reject
        // a request that contains both ... and MUST close the connection after responding"),
        // §6.3 item 3 ("ought to be handled as an error").
        row(
            "CL then TE",
            "RFC 9112 §6.1, §6.3",
            post(
                "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                "0\r\n\r\n",
            ),
            400,
        ),
        row(
            "TE then CL",
            "RFC 9112 §6.1, §6.3",
            post(
                "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                "0\r\n\r\n",
            ),
            400,
        ),
        row(
            "CL.TE with an embedded request in the body",
            "RFC 9112 §6.1, §6.3",
            post(
                "Content-Length: 35\r\nTransfer-Encoding: chunked\r\n",
                &format!("0\r\n\r\n{SMUGGLED}"),
            ),
            400,
        ),
        // Transfer-Encoding obfuscations.
        row(
            "TE: chunked, gzip (chunked not final)",
            "RFC 9112 §6.3 item 4",
            post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"),
            400,
        ),
        row(
            "TE: , chunked (empty list element first)",
            "RFC 9112 §6.1, RFC 9110 §5.6.1.2",
            post("Transfer-Encoding: , chunked\r\n", "0\r\n\r\n"),
            400,
        ),
        row(
            "TE: xchunked",
            "RFC 9112 §6.1",
            post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"),
            400,
        ),
        row(
            "TE: HTAB chunked, with a Content-Length",
            "RFC 9112 §6.1, §5.1 (HTAB is OWS: the TE is seen, and CL with TE is refused)",
            post(
                "Content-Length: 5\r\nTransfer-Encoding:\tchunked\r\n",
                "0\r\n\r\n",
            ),
            400,
        ),
        row(
            "TE: VT chunked",
            "RFC 9112 §5.1, RFC 9110 §5.5 (VT is not field-content)",
            post("Transfer-Encoding: \x0bchunked\r\n", "0\r\n\r\n"),
            400,
        ),
        row(
            "TE: FF chunked",
            "RFC 9112 §5.1, RFC 9110 §5.5 (FF is not field-content)",
            post("Transfer-Encoding: \x0cchunked\r\n", "0\r\n\r\n"),
            400,
        ),
        row(
            "Transfer-Encoding SP colon",
            "RFC 9112 §5.1 (no whitespace between field name and colon: MUST reject with 400)",
            post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"),
            400,
        ),
        row(
            "two TE fields, chunked twice",
            "RFC 9112 §6.1 (chunked MUST NOT be applied more than once)",
            post(
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                "0\r\n\r\n",
            ),
            400,
        ),
        row(
            "TE in HTTP/1.0",
            "RFC 9112 §6.1 (treat the framing as faulty)",
            "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400,
        ),
        row(
            "TE: chunked, (trailing comma)",
            "RFC 9112 §6.1",
            post("Transfer-Encoding: chunked,\r\n", "0\r\n\r\n"),
            400,
        ),
        // Content-Length: 1*DIGIT, and one value (RFC 9112 §6.3 item 5, RFC 9110 §8.6).
        row(
            "CL: +5",
            "RFC 9110 §8.6",
            post("Content-Length: +5\r\n", "hello"),
            400,
        ),
        row(
            "CL: -1",
            "RFC 9110 §8.6",
            post("Content-Length: -1\r\n", ""),
            400,
        ),
        row(
            "CL: 1 0",
            "RFC 9110 §8.6",
            post("Content-Length: 1 0\r\n", "0123456789"),
            400,
        ),
        row(
            "CL: 0x5",
            "RFC 9110 §8.6",
            post("Content-Length: 0x5\r\n", "hello"),
            400,
        ),
        row(
            "CL: empty",
            "RFC 9110 §8.6",
            post("Content-Length: \r\n", ""),
            400,
        ),
        row(
            "CL: 21 digits",
            "RFC 9112 §6.3 item 5, RFC 9110 §8.6 (a value past u64 is invalid)",
            post("Content-Length: 100000000000000000000\r\n", ""),
            400,
        ),
        row(
            "CL: two different lines",
            "RFC 9112 §6.3 item 5",
            post("Content-Length: 5\r\nContent-Length: 10\r\n", "hello"),
            400,
        ),
        row(
            "CL: 5, 10",
            "RFC 9112 §6.3 item 5",
            post("Content-Length: 5, 10\r\n", "hello"),
            400,
        ),
        // chunk-size = 1*HEXDIG (RFC 9112 §7.1).
        row(
            "chunk size 0x5",
            "RFC 9112 §7.1",
            chunked("0x5\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        row(
            "chunk size +5",
            "RFC 9112 §7.1",
            chunked("+5\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        row(
            "chunk size -5",
            "RFC 9112 §7.1",
            chunked("-5\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        row(
            "chunk size empty",
            "RFC 9112 §7.1",
            chunked("\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        row(
            "chunk size of 17 hex digits",
            "RFC 9112 §7.1 (MUST anticipate overflow)",
            chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        row(
            "chunk size with trailing SP",
            "RFC 9112 §7.1 (BWS only before a chunk-ext's `;`)",
            chunked("5 \r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        row(
            "no CRLF after chunk data",
            "RFC 9112 §7.1",
            chunked("5\r\nhelloXX0\r\n\r\n"),
            400,
        ),
        // Bare CR anywhere is an error (RFC 9112 §2.2: "MUST consider the element invalid or
        // replace each bare CR with SP"); bare LF is refused everywhere as a deliberate
        // deviation from §2.2's MAY, argued at the grammar's line rules.
        row(
            "bare CR in a field value",
            "RFC 9112 §2.2",
            "GET /echo HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
            400,
        ),
        row(
            "bare CR in the request line",
            "RFC 9112 §2.2",
            "GET /echo\rHTTP/1.1\r\nHost: x\r\n\r\n",
            400,
        ),
        row(
            "bare CR in a chunk line",
            "RFC 9112 §2.2, §7.1",
            chunked("5\rX\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        row(
            "bare LF ending the request line",
            "RFC 9112 §2.2 (deviation: bare LF refused)",
            "GET /echo HTTP/1.1\nHost: x\r\n\r\n",
            400,
        ),
        row(
            "bare LF ending a field line",
            "RFC 9112 §2.2 (deviation: bare LF refused)",
            "GET /echo HTTP/1.1\r\nHost: x\nX: y\r\n\r\n",
            400,
        ),
        row(
            "bare LF ending a chunk line",
            "RFC 9112 §2.2, §7.1 (deviation: bare LF refused)",
            chunked("5\nhello\r\n0\r\n\r\n"),
            400,
        ),
        row(
            "bare LF after chunk data",
            "RFC 9112 §2.2, §7.1 (deviation: bare LF refused)",
            chunked("5\r\nhello\n0\r\n\r\n"),
            400,
        ),
        row(
            "bare LF ending the last chunk",
            "RFC 9112 §2.2, §7.1 (deviation: bare LF refused)",
            chunked("5\r\nhello\r\n0\n\r\n"),
            400,
        ),
    ]
}

/// Sends `row`'s request with the smuggled one behind it, reads until the server closes,
/// and returns a description of what went wrong, if anything.
fn check(server: &Server, row: &Row) -> Option<String> {
    let mut stream = server.connect();
    let mut bytes = row.request.clone();
    bytes.extend_from_slice(SMUGGLED.as_bytes());
    if let Err(e) = stream.write_all(&bytes) {
        return Some(format!("sending: {e}"));
    }
    // No half-close: the server must close on its own (the read timeout fails the test).
    let received = read_to_close(&mut stream);
    let responses = split_responses(&received, &[]);
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    let status_lines = received.windows(9).filter(|w| w == b"HTTP/1.1 ").count();
    if statuses != [row.status] || status_lines != 1 {
        return Some(format!(
            "{} ({}): expected one {}, got {statuses:?} ({status_lines} status lines)",
            row.name, row.rfc, row.status
        ));
    }
    let closes = responses
        .first()
        .and_then(|r| r.header("Connection"))
        .is_some_and(|v| v.eq_ignore_ascii_case("close"));
    if !closes {
        return Some(format!(
            "{} ({}): the {} does not say Connection: close",
            row.name, row.rfc, row.status
        ));
    }
    None
}

#[test]
fn smuggling_shapes_are_refused_and_the_connection_closed() {
    let server = Server::start();
    let rows = smuggling_rows();
    let failures: Vec<String> = rows.iter().filter_map(|row| check(&server, row)).collect();
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    // The smuggled request never reached the echo handler: the only GET /echo in the
    // access log would be it.
    let log = server.log();
    assert!(!log.contains("\"GET /echo HTTP/1.1\" 200"), "{log}");
}

/// The Http11Probe scored families that nginx fails (issue #8), each with the status this
/// server gives and whether it then closes.
#[test]
fn http11probe_families_nginx_fails() {
    let server = Server::start();
    let long_method = format!("{} / HTTP/1.1\r\nHost: x\r\n\r\n", "A".repeat(100_000));
    let rows = [
        // RFC 9112 §6.3, §7.1: the body is read through its framing before the method is
        // judged, so a malformed chunked body is 400, not a 405 sent before reading it.
        row(
            "POST with a malformed chunked body",
            "RFC 9112 §7.1",
            chunked("zz\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        // userinfo in Host: RFC 9110 §4.2.4 (treat as an error), RFC 9112 §3.2.
        row(
            "userinfo in Host",
            "RFC 9112 §3.2, RFC 9110 §4.2.4",
            "GET / HTTP/1.1\r\nHost: user@x\r\n\r\n",
            400,
        ),
        // A fragment is not part of any request-target form: RFC 9112 §3.2.
        row(
            "/path#frag",
            "RFC 9112 §3.2",
            "GET /path#frag HTTP/1.1\r\nHost: x\r\n\r\n",
            400,
        ),
        // A 100 KB method: malformed, not a long URI (RFC 9112 §3: 414 is for the target).
        row("100 KB method", "RFC 9112 §3", long_method, 400),
        // RFC 9112 §5: a field line without a colon MUST be rejected.
        row(
            "field line without a colon",
            "RFC 9112 §5",
            "GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
            400,
        ),
    ];
    let failures: Vec<String> = rows.iter().filter_map(|row| check(&server, row)).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `Expect: 200-ok`: RFC 9110 §10.1.1, "A server that receives an Expect field value
/// containing a member other than 100-continue MAY respond with a 417 (Expectation Failed)".
/// The request is otherwise well-formed, so the connection may stay open; what matters is
/// that the GET is not served as if the expectation were met.
#[test]
fn an_unknown_expectation_is_417_not_served() {
    let server = Server::start();
    let bytes = server
        .exchange(b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nConnection: close\r\n\r\n");
    let responses = split_responses(&bytes, &[]);
    let statuses: Vec<u16> = responses.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [417]);
}
