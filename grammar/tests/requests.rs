//! The request head parser against a table of requests: every shape of the Http11Probe
//! suite, the framing-field cases, and the limits. Each rejection is checked for its kind,
//! its offset and its status; each request is also fed in every prefix, which must give
//! `Partial` or the same error as the whole (never a different error, never success).

mod corpus;

use nomserve_grammar::ErrorKind::{self, *};
use nomserve_grammar::testing::assert_names_its_byte;
use nomserve_grammar::{BodyFraming, Header, Limits, Parsed, parse_request};

/// What a request must parse to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// A whole head, as long as the input.
    Complete,
    /// An error of this kind at this offset.
    Fails(ErrorKind, usize),
    /// More input needed.
    Partial,
}
use Outcome::{Complete, Fails, Partial};

/// The outcome of parsing `buf` with the default limits and room for 100 fields. Every
/// head in the table ends its input, so a `Complete` that leaves bytes is a failure. An
/// error names the byte at its offset exactly when its kind names one.
fn outcome(buf: &[u8]) -> Outcome {
    let mut headers = [Header::EMPTY; 100];
    match parse_request(buf, &mut headers, &Limits::default()) {
        Ok(Parsed::Complete { consumed, .. }) => {
            assert_eq!(consumed, buf.len(), "{buf:?}");
            Complete
        }
        Ok(Parsed::Partial) => Partial,
        Err(e) => {
            assert!(e.offset() <= buf.len());
            assert_eq!(e.status(), e.kind().status());
            assert_names_its_byte(buf, &e);
            Fails(e.kind(), e.offset())
        }
    }
}

/// "GET / HTTP/1.1\r\nHost: x\r\n" (25 bytes), `lines`, and the final CRLF.
fn with_host(lines: &str) -> Vec<u8> {
    format!("GET / HTTP/1.1\r\nHost: x\r\n{lines}\r\n").into_bytes()
}

/// `with_host` for raw bytes.
fn with_host_bytes(lines: &[u8]) -> Vec<u8> {
    [&b"GET / HTTP/1.1\r\nHost: x\r\n"[..], lines, b"\r\n"].concat()
}

fn table() -> Vec<(Vec<u8>, Outcome, u16)> {
    let raw = |s: &str| s.as_bytes().to_vec();
    let cl = |v: &str| with_host(&format!("Content-Length: {v}\r\n"));
    let te = |v: &[u8]| with_host_bytes(&[&b"Transfer-Encoding: "[..], v, b"\r\n"].concat());
    let host = |v: &str| format!("GET / HTTP/1.1\r\nHost: {v}\r\n\r\n").into_bytes();
    let mut many = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for _ in 0..10_000 {
        many.extend_from_slice(b"A: b\r\n");
    }
    many.extend_from_slice(b"\r\n");
    let corpora = corpus::ALL
        .iter()
        .map(|(_, head)| (head.to_vec(), Complete, 0));
    corpora
        .chain([
            // Accepted.
            (raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), Complete, 0),
            (raw("GET / HTTP/1.0\r\n\r\n"), Complete, 0),
            (raw("get / HTTP/1.1\r\nHost: x\r\n\r\n"), Complete, 0),
            (raw("GET / HTTP/1.9\r\nHost: x\r\n\r\n"), Complete, 0),
            (
                raw("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
                Complete,
                0,
            ),
            (raw("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), Complete, 0),
            (
                raw("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
                Complete,
                0,
            ),
            (
                raw("GET http://x:80/a?b HTTP/1.1\r\nHost: x\r\n\r\n"),
                Complete,
                0,
            ),
            (with_host("Content_Length: 99\r\n"), Complete, 0),
            (cl("005"), Complete, 0),
            (cl("5, 5"), Complete, 0),
            (
                with_host("Content-Length: 5\r\nContent-Length: 5\r\n"),
                Complete,
                0,
            ),
            (te(b"gzip, chunked"), Complete, 0),
            // Line endings.
            (
                raw("GET / HTTP/1.1\nHost: x\r\n\r\n"),
                Fails(InvalidLineEnding, 14),
                400,
            ),
            (
                raw("GET / HTTP/1.1\r\nHost: x\nX-Test: v\r\n\r\n"),
                Fails(InvalidLineEnding, 23),
                400,
            ),
            (
                raw("GET / HTTP/1.1\rHost: x\r\n\r\n"),
                Fails(InvalidLineEnding, 14),
                400,
            ),
            (with_host("X: a\rb\r\n"), Fails(InvalidLineEnding, 29), 400),
            // Start-line and obs-fold.
            (
                raw("GET / HTTP/1.1\r\nHost: x\r\nX-Test: a\r\n  b\r\n\r\n"),
                Fails(ObsoleteLineFolding, 36),
                400,
            ),
            (
                raw("GET / HTTP/1.1\r\n \r\nHost: x\r\n\r\n"),
                Fails(WhitespaceAfterStartLine, 16),
                400,
            ),
            (
                raw("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(ExpectedSingleSpace, 4),
                400,
            ),
            (
                raw("GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(ExpectedSingleSpace, 3),
                400,
            ),
            (
                raw("GET HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(MissingTarget, 4),
                400,
            ),
            (raw("GET /\r\n\r\n"), Fails(InvalidVersion, 5), 400),
            (raw("   \r\n\r\n"), Fails(InvalidMethod, 0), 400),
            // Versions.
            (
                raw("GET / HTTP/9.9\r\nHost: x\r\n\r\n"),
                Fails(UnsupportedVersion, 6),
                505,
            ),
            (
                raw("GET / HTTP/0.9\r\nHost: x\r\n\r\n"),
                Fails(UnsupportedVersion, 6),
                505,
            ),
            (
                raw("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
                Fails(UnsupportedVersion, 6),
                505,
            ),
            (
                raw("GET / HTTP/1\r\nHost: x\r\n\r\n"),
                Fails(InvalidVersion, 12),
                400,
            ),
            (
                raw("GET / HTTP/01.01\r\nHost: x\r\n\r\n"),
                Fails(InvalidVersion, 12),
                400,
            ),
            (
                raw("GET / HTTP/ 1.1\r\nHost: x\r\n\r\n"),
                Fails(InvalidVersion, 11),
                400,
            ),
            (
                raw("GET / http/1.1\r\nHost: x\r\n\r\n"),
                Fails(InvalidVersion, 6),
                400,
            ),
            (
                raw("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"),
                Fails(InvalidVersion, 14),
                400,
            ),
            // Targets.
            (
                raw("GET /path#frag HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(FragmentInTarget, 9),
                400,
            ),
            (
                raw("GET /pa th HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(InvalidVersion, 8),
                400,
            ),
            (
                b"GET /\x00test HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
                Fails(InvalidTargetByte, 5),
                400,
            ),
            (
                b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
                Fails(InvalidTargetByte, 8),
                400,
            ),
            (
                raw("GET /photo%20[1].txt HTTP/1.1\r\nHost: x\r\n\r\n"),
                Complete,
                0,
            ),
            (
                raw("GET /?ids[]=1&f=a|b HTTP/1.1\r\nHost: x\r\n\r\n"),
                Complete,
                0,
            ),
            (
                raw("GET /x?q=100%&r=%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
                Complete,
                0,
            ),
            (
                raw("GET /?x={%22a%22:1} HTTP/1.1\r\nHost: x\r\n\r\n"),
                Complete,
                0,
            ),
            (
                raw("GET /?x={\"a\":1} HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(InvalidTargetByte, 9),
                400,
            ),
            (
                raw("GET /a{b} HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(InvalidTargetByte, 6),
                400,
            ),
            (
                b"GET /\xc0\xaf HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
                Fails(InvalidTargetByte, 5),
                400,
            ),
            (
                raw("GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(InvalidTargetByte, 6),
                400,
            ),
            (
                raw("GET /a%2 HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(InvalidPercentEncoding, 6),
                400,
            ),
            (
                raw("GET http://u@x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(InvalidAuthority, 12),
                400,
            ),
            (
                raw("GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(TargetFormMismatch, 4),
                400,
            ),
            (
                raw("CONNECT / HTTP/1.1\r\nHost: x\r\n\r\n"),
                Fails(TargetFormMismatch, 8),
                400,
            ),
            // Field names.
            (
                raw("GET / HTTP/1.1\r\nX-Test : value\r\nHost: x\r\n\r\n"),
                Fails(WhitespaceBeforeColon, 22),
                400,
            ),
            (
                with_host("Transfer-Encoding : chunked\r\n"),
                Fails(WhitespaceBeforeColon, 42),
                400,
            ),
            (
                with_host("Content\tLength: 99\r\n"),
                Fails(WhitespaceBeforeColon, 32),
                400,
            ),
            (
                raw("GET / HTTP/1.1\r\n: empty-name\r\nHost: x\r\n\r\n"),
                Fails(EmptyFieldName, 16),
                400,
            ),
            (
                raw("GET / HTTP/1.1\r\nBad[Name: value\r\nHost: x\r\n\r\n"),
                Fails(InvalidFieldName, 19),
                400,
            ),
            (with_host("NoColonHere\r\n"), Fails(MissingColon, 36), 400),
            (
                with_host_bytes(b"X-T\xc3\xabst: value\r\n"),
                Fails(InvalidFieldName, 28),
                400,
            ),
            // Field values.
            (
                with_host_bytes(b"X-Test: abc\x07\x08?f\r\n"),
                Fails(InvalidFieldValue, 36),
                400,
            ),
            (
                with_host_bytes(b"X-Test: val\x00ue\r\n"),
                Fails(InvalidFieldValue, 36),
                400,
            ),
            // Host.
            (raw("GET / HTTP/1.1\r\n\r\n"), Fails(MissingHost, 16), 400),
            (
                raw("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
                Fails(DuplicateHost, 25),
                400,
            ),
            (
                raw("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
                Fails(DuplicateHost, 25),
                400,
            ),
            (host("user@x"), Fails(InvalidHost, 26), 400),
            (host("x/path"), Fails(InvalidHost, 23), 400),
            (host("x, other"), Fails(InvalidHost, 24), 400),
            (host(""), Fails(InvalidHost, 22), 400),
            // Content-Length (the value starts at 41).
            (cl("abc"), Fails(InvalidContentLength, 41), 400),
            (cl("+5"), Fails(InvalidContentLength, 41), 400),
            (cl("-1"), Fails(InvalidContentLength, 41), 400),
            (cl("-0"), Fails(InvalidContentLength, 41), 400),
            (cl("0x5"), Fails(InvalidContentLength, 42), 400),
            (cl("0o5"), Fails(InvalidContentLength, 42), 400),
            (cl("1_0"), Fails(InvalidContentLength, 42), 400),
            (cl("1 0"), Fails(InvalidContentLength, 43), 400),
            (cl("5 abc"), Fails(InvalidContentLength, 43), 400),
            (cl(""), Fails(InvalidContentLength, 41), 400),
            (
                cl("99999999999999999999"),
                Fails(InvalidContentLength, 60),
                400,
            ),
            (cl("5, 10"), Fails(ConflictingContentLength, 44), 400),
            (
                with_host("Content-Length: 5\r\nContent-Length: 6\r\n"),
                Fails(ConflictingContentLength, 60),
                400,
            ),
            // Transfer-Encoding (the value starts at 44).
            (te(b"gzip"), Fails(ChunkedNotFinal, 44), 400),
            (te(b"xchunked"), Fails(ChunkedNotFinal, 44), 400),
            (te(b"chunked, gzip"), Fails(ChunkedNotFinal, 53), 400),
            (te(b"identity"), Fails(ChunkedNotFinal, 44), 400),
            (te(b"chunked, chunked"), Fails(ChunkedNotFinal, 53), 400),
            (te(b", chunked"), Fails(InvalidTransferEncoding, 44), 400),
            (te(b"chunked,"), Fails(InvalidTransferEncoding, 52), 400),
            (te(b""), Fails(InvalidTransferEncoding, 44), 400),
            (te(b"br, chunked"), Fails(UnknownTransferCoding, 44), 501),
            (te(b"\x0bchunked"), Fails(InvalidFieldValue, 44), 400),
            (te(b"\x0cchunked"), Fails(InvalidFieldValue, 44), 400),
            (te(b"chunked\x00"), Fails(InvalidFieldValue, 51), 400),
            (
                with_host("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
                Fails(InvalidTransferEncoding, 53),
                400,
            ),
            (
                with_host("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
                Fails(ContentLengthWithTransferEncoding, 53),
                400,
            ),
            (
                with_host("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
                Fails(ContentLengthWithTransferEncoding, 44),
                400,
            ),
            (
                raw("GET / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"),
                Fails(TransferEncodingInHttp10, 25),
                400,
            ),
            // Connection.
            (
                with_host("Connection: close x\r\n"),
                Fails(InvalidConnection, 43),
                400,
            ),
            (
                with_host("Connection:\r\n"),
                Fails(InvalidConnection, 36),
                400,
            ),
            // Limits (defaults: 8 KiB request-line, 64 KiB head, 100 fields).
            (vec![b'A'; 100_000], Fails(MethodTooLong, 8191), 400),
            (
                [&b"GET /"[..], &[b'a'; 100_000]].concat(),
                Fails(RequestLineTooLong, 8191),
                414,
            ),
            (
                with_host_bytes(&[&b"X: "[..], &[b'v'; 100_000], b"\r\n"].concat()),
                Fails(HeaderSectionTooLarge, 65535),
                431,
            ),
            (
                with_host_bytes(&[&[b'N'; 100_000][..], b": v\r\n"].concat()),
                Fails(HeaderSectionTooLarge, 65535),
                431,
            ),
            (many, Fails(TooManyHeaders, 25 + 99 * 6), 431),
        ])
        .collect()
}

#[test]
fn every_request_in_the_table() {
    for (buf, expected, status) in table() {
        let shown = String::from_utf8_lossy(&buf[..buf.len().min(80)]).into_owned();
        assert_eq!(outcome(&buf), expected, "{shown:?}");
        if let Fails(kind, _) = expected {
            assert_eq!(kind.status(), status, "{shown:?}");
        }
    }
}

#[test]
fn a_refused_target_byte_is_named_in_the_sentence() {
    let mut headers = [Header::EMPTY; 4];
    let buf = b"GET /files/report\x7f.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    let error = parse_request(buf, &mut headers, &Limits::default()).unwrap_err();
    assert_eq!(
        (error.kind(), error.byte()),
        (InvalidTargetByte, Some(0x7f))
    );
    assert_eq!(
        error.to_string(),
        "invalid byte in request-target at byte 17, found 0x7f (RFC 9112 §3.2)"
    );
}

#[test]
fn every_prefix_is_partial_or_the_same_error() {
    for (buf, expected, _) in table() {
        if buf.len() > 2_000 {
            continue;
        }
        let whole = outcome(&buf);
        for end in 0..buf.len() {
            let prefix = outcome(&buf[..end]);
            assert!(
                prefix == Partial || prefix == whole && matches!(expected, Fails(..)),
                "prefix {end} of {:?}: {prefix:?}, whole {whole:?}",
                String::from_utf8_lossy(&buf)
            );
        }
    }
}

#[test]
fn framing_and_connection_results() {
    let mut headers = [Header::EMPTY; 16];
    let cases: [(&[u8], BodyFraming, bool); 4] = [
        (
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            BodyFraming::None,
            true,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n",
            BodyFraming::ContentLength(10),
            false,
        ),
        (
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            BodyFraming::Chunked,
            true,
        ),
        (
            b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
            BodyFraming::None,
            true,
        ),
    ];
    for (buf, framing, keep_alive) in cases {
        let Ok(Parsed::Complete { value, .. }) =
            parse_request(buf, &mut headers, &Limits::default())
        else {
            panic!("{buf:?} is a whole head");
        };
        assert_eq!(value.framing, framing, "{buf:?}");
        assert_eq!(value.wants_keep_alive(), keep_alive, "{buf:?}");
    }
}
