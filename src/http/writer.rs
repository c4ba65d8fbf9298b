//! The response writer: serialises a [`Response`] into a connection's [`Output`].
//!
//! The head (status line and fields) and an in-memory body are appended to the output's
//! buffer; a file of at most 16 KiB is read into the same buffer, so head and content leave
//! in one write; a larger file is queued as a region for the transport to send with the
//! kernel's zero-copy path, `sendfile(2)`; a body made as it is sent goes in chunks (RFC 9112
//! §7.1), made as the socket takes them. Nothing here touches a socket: the connection core
//! decides when to queue, the transport when to write.
//!
//! The writer adds the fields every response carries (RFC 9110 §6.6.1 Date, §10.2.4 Server,
//! §8.6 Content-Length or RFC 9112 §6.1 Transfer-Encoding, RFC 9112 §9.6 Connection) and leaves the body out for HEAD and for
//! the statuses that have none (RFC 9110 §6.4.1).

use crate::http::access_log::RequestInfo;
use crate::http::clock;
use crate::http::output::{LogEntry, Output};
use crate::http::response::{Body, Response};
use nomserve_grammar::{is_field_value, is_token};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// The Server field value (RFC 9110 §10.2.4): product and version.
const SERVER: &str = concat!("nomserve/", env!("CARGO_PKG_VERSION"));

/// Fields only the writer sets: a handler that sets one of them would send two
/// contradicting framings or dates.
const RESERVED_FIELDS: [&str; 5] = [
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "Date",
    "Server",
];

/// How the connection layer wants a response framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framing {
    /// The request was HEAD: send the fields a GET would get, but no content (RFC 9110 §9.3.2).
    pub head_request: bool,
    /// The server closes the connection after this response: send `Connection: close`
    /// (RFC 9112 §9.6).
    pub close: bool,
    /// An HTTP/1.0 client asked to keep the connection and the server agrees: send
    /// `Connection: keep-alive` (RFC 9112 §C.2.2), without which it would close.
    pub http10_keep_alive: bool,
}

/// What was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    /// The status queued: the response's, or 500 if the response was malformed.
    pub status: u16,
    /// Whether every byte the head announces is queued. `false` when a small file could not
    /// be read to the length the handler saw (it shrank, or a read failed): the bytes it
    /// had are queued, and the connection must close after them, since the client cannot
    /// tell where this response ends.
    pub complete: bool,
}

/// Queues `response`, framed as `framing` says, on `out`; the access log records it as the
/// answer to `info` once its last byte is written. A response whose status or fields cannot
/// be sent as they are (a handler bug) is replaced by a 500 and logged.
pub fn queue(
    out: &mut Output,
    response: Response,
    framing: Framing,
    info: Option<RequestInfo>,
) -> Queued {
    let response = checked(response);
    let status = response.status;
    let buf = out.bytes_mut();
    let start = buf.len();
    head(buf, &response, framing, &clock::http_date());
    let head_len = (buf.len() - start) as u64;
    let mut total = head_len;
    let mut complete = true;
    if !framing.head_request && has_content(status) {
        match response.body {
            Body::Empty => {}
            Body::Bytes(bytes) => {
                out.push_bytes(&bytes);
                total += bytes.len() as u64;
            }
            Body::Shared(bytes) => {
                out.push_bytes(&bytes);
                total += bytes.len() as u64;
            }
            Body::File { file, offset, len } if len <= SMALL_FILE => {
                let read = read_small_file(out.bytes_mut(), &file, offset, len);
                total += read;
                complete = read == len;
            }
            Body::File { file, offset, len } => {
                out.push_file(file, offset, len);
                total += len;
            }
            Body::Multipart { file, parts, tail } => {
                for (part_head, offset, len) in parts {
                    out.push_bytes(&part_head);
                    out.push_file(Arc::clone(&file), offset, len);
                    total += part_head.len() as u64 + len;
                }
                out.push_bytes(&tail);
                total += tail.len() as u64;
            }
            Body::Stream(source) => total += out.push_stream(source),
        }
    }
    out.track(total, head_len, Some(LogEntry { status, info }));
    Queued { status, complete }
}

/// Queues the interim `100 Continue` (not logged).
pub fn queue_continue(out: &mut Output) {
    out.push_bytes(CONTINUE);
    out.track(CONTINUE.len() as u64, CONTINUE.len() as u64, None);
}

/// The whole of an in-memory `response`, framed as `framing` says: for an answer written
/// outside any connection (a 503 to a connection refused at accept). A file body is left out.
pub fn serialize(response: Response, framing: Framing) -> Vec<u8> {
    let response = checked(response);
    let mut out = Vec::with_capacity(256);
    head(&mut out, &response, framing, &clock::http_date());
    if !framing.head_request && has_content(response.status) {
        match &response.body {
            Body::Bytes(bytes) => out.extend_from_slice(bytes),
            Body::Shared(bytes) => out.extend_from_slice(bytes),
            Body::Empty | Body::File { .. } | Body::Multipart { .. } | Body::Stream(_) => {}
        }
    }
    out
}

/// Whether responses with `status` carry content: not 1xx, 204 or 304 (RFC 9110 §6.4.1).
fn has_content(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

/// `response` if it can be sent as it is (its prebuilt `fields` are checked where they are
/// built); else (a status outside 100–599, a field name that
/// is not a token, a value with control bytes, or a field only the writer may set) a 500
/// saying so, with the fault logged.
fn checked(response: Response) -> Response {
    let fault = if !(100..=599).contains(&response.status) {
        Some(format!("status {} out of range", response.status))
    } else {
        response.headers.iter().find_map(|(name, value)| {
            if !is_token(name.as_bytes()) {
                Some(format!("field name {name:?} is not a token"))
            } else if !is_field_value(value.as_bytes()) {
                Some(format!("field {name} has a value that cannot be sent"))
            } else if RESERVED_FIELDS
                .iter()
                .any(|reserved| reserved.eq_ignore_ascii_case(name))
            {
                Some(format!("field {name} is set by the writer"))
            } else {
                None
            }
        })
    };
    match fault {
        None => response,
        Some(fault) => {
            log::error!("handler built a malformed response ({fault}); sending 500");
            Response::text(500, "internal server error\n")
        }
    }
}

/// Appends the status line and fields of `response`, ending with the empty line, to `out`.
///
/// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4): always
/// `HTTP/1.1`, the highest version the server supports (RFC 9110 §6.2), whatever minor
/// version the client sent.
pub fn head(out: &mut Vec<u8>, response: &Response, framing: Framing, date: &[u8; 29]) {
    // Numbers go through `itoa`, not `fmt`: a quarter of the instructions a small
    // keep-alive response costs to write (callgrind).
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(digits.format(response.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason_phrase(response.status).as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    out.extend_from_slice(date);
    out.extend_from_slice(b"\r\nServer: ");
    out.extend_from_slice(SERVER.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in &response.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if let Some(fields) = &response.fields {
        out.extend_from_slice(fields.lines());
    }
    // RFC 9110 §8.6: no Content-Length in 1xx or 204; none in 304 either, where it could
    // only repeat the selected representation's length. A HEAD response carries the length
    // a GET would get. A streamed body's length is not known: it is chunked instead (RFC
    // 9112 §6.1), and a HEAD response says so too, as a server may (RFC 9112 §6.1).
    if has_content(response.status) {
        if matches!(response.body, Body::Stream(_)) {
            out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
        } else {
            out.extend_from_slice(b"Content-Length: ");
            out.extend_from_slice(digits.format(response.body.len()).as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    if framing.close {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if framing.http10_keep_alive {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Files up to this many bytes are read into the head's buffer and leave with it in one
/// `write`, rather than as a head with `MSG_MORE` and a `sendfile`: the same two system
/// calls, but `sendfile` goes through the kernel's splice machinery, which costs more than
/// copying a few KiB (measured with wrk against a 218-byte file). 16 KiB keeps the copy
/// small next to the socket's send buffer.
const SMALL_FILE: u64 = 16 * 1024;

/// Appends `len` bytes of `file` from `offset` (at most [`SMALL_FILE`]) to `buf`; returns
/// how many it read. Fewer than `len` when the file ends early (it shrank since it was
/// opened) or a read fails (logged).
fn read_small_file(buf: &mut Vec<u8>, file: &File, offset: u64, len: u64) -> u64 {
    let start = buf.len();
    // `len` is at most SMALL_FILE, which fits any usize.
    let want = usize::try_from(len).unwrap_or(0);
    buf.resize(start + want, 0);
    let mut filled = 0;
    while filled < want {
        let Some(room) = buf.get_mut(start + filled..) else {
            break;
        };
        match file.read_at(room, offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                log::warn!("reading a file to send failed: {e}");
                break;
            }
        }
    }
    buf.truncate(start + filled);
    filled as u64
}

/// The reason phrase of `status` (RFC 9110 §15); empty for a code it does not define, which
/// the status-line allows (RFC 9112 §4).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        // RFC 6585
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// The interim response that asks a client to send the body it announced with
/// `Expect: 100-continue` (RFC 9110 §10.1.1, §15.2.1). It has no fields, not even Date
/// (RFC 9110 §6.6.1 requires Date only of final responses).
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::output::Item;
    use std::io::Write;
    use std::net::{IpAddr, Ipv4Addr};

    const DATE: &[u8; 29] = b"Tue, 24 Nov 2026 06:02:13 GMT";
    const KEEP: Framing = Framing {
        head_request: false,
        close: false,
        http10_keep_alive: false,
    };

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    fn head_of(response: &Response, framing: Framing) -> String {
        let mut out = Vec::new();
        head(&mut out, response, framing, DATE);
        text(out)
    }

    /// Everything `output` holds, as a transport would send it: bytes as they are, file
    /// regions read from their files.
    fn drain(mut output: Output) -> Vec<u8> {
        let mut sent = Vec::new();
        while let Some(item) = output.front() {
            let n = match item {
                Item::Bytes { bytes, .. } => {
                    sent.extend_from_slice(bytes);
                    bytes.len() as u64
                }
                Item::File { file, offset, len } => {
                    let mut region = vec![0; len as usize];
                    file.read_exact_at(&mut region, offset).unwrap();
                    sent.extend_from_slice(&region);
                    len
                }
            };
            output.advance(n, IpAddr::V4(Ipv4Addr::LOCALHOST));
        }
        sent
    }

    fn file_of(content: &[u8]) -> Arc<File> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        Arc::new(file)
    }

    fn body_of(bytes: &[u8]) -> &[u8] {
        let start = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        &bytes[start..]
    }

    #[test]
    fn a_head_with_every_field_the_writer_adds() {
        let response = Response::text(200, "hello");
        assert_eq!(
            head_of(&response, KEEP),
            format!(
                "HTTP/1.1 200 OK\r\nDate: Tue, 24 Nov 2026 06:02:13 GMT\r\nServer: {SERVER}\r\n\
                 Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n"
            )
        );
    }

    #[test]
    fn connection_fields() {
        let response = Response::new(404);
        let close = Framing {
            close: true,
            ..KEEP
        };
        assert!(
            head_of(&response, close).ends_with("Content-Length: 0\r\nConnection: close\r\n\r\n")
        );
        let ten = Framing {
            http10_keep_alive: true,
            ..KEEP
        };
        assert!(head_of(&response, ten).ends_with("Connection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn no_content_length_where_rfc_9110_forbids_it() {
        for status in [204, 304] {
            let head = head_of(&Response::new(status), KEEP);
            assert!(!head.contains("Content-Length"), "{head}");
        }
    }

    #[test]
    fn head_requests_get_the_get_length_and_no_content() {
        let framing = Framing {
            head_request: true,
            ..KEEP
        };
        let mut output = Output::default();
        let queued = queue(
            &mut output,
            Response::text(200, "twelve bytes"),
            framing,
            None,
        );
        assert!(queued.complete);
        let sent = text(drain(output));
        assert!(sent.contains("Content-Length: 12\r\n"), "{sent}");
        assert!(sent.ends_with("\r\n\r\n"), "{sent}");
    }

    #[test]
    fn malformed_responses_become_500() {
        let cases = [
            Response::new(42),
            Response::new(200).header("X-Split", "a\r\nSet-Cookie: b"),
            Response::new(200).header("Bad Name", "x"),
            Response::new(200).header("content-length", "3"),
        ];
        for response in cases {
            assert_eq!(checked(response).status, 500);
        }
        let fine = checked(Response::new(200).header("X-Fine", "a\tb é"));
        assert_eq!(fine.status, 200);
    }

    #[test]
    fn reason_phrases() {
        assert_eq!(reason_phrase(413), "Content Too Large");
        assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
        assert_eq!(reason_phrase(599), "");
    }

    #[test]
    fn a_small_file_that_shrank_is_queued_incomplete() {
        // The handler saw 100 bytes; only 10 are left.
        let response = Response::new(200).body(Body::File {
            file: file_of(b"0123456789"),
            offset: 4,
            len: 100,
        });
        let mut output = Output::default();
        let queued = queue(&mut output, response, KEEP, None);
        assert_eq!(queued.status, 200);
        assert!(!queued.complete);
        assert!(drain(output).ends_with(b"\r\n\r\n456789"));
    }

    #[test]
    fn file_ranges_on_either_side_of_the_small_file_threshold_arrive_intact() {
        let content: Vec<u8> = (0..3 * SMALL_FILE as u32)
            .map(|i| (i % 251) as u8)
            .collect();
        let file = file_of(&content);
        for (offset, len) in [
            (0, 0),
            (7, 100),
            (0, SMALL_FILE),
            (3, SMALL_FILE + 1),
            (SMALL_FILE, 2 * SMALL_FILE),
        ] {
            let response = Response::new(200).body(Body::File {
                file: Arc::clone(&file),
                offset,
                len,
            });
            let mut output = Output::default();
            assert!(queue(&mut output, response, KEEP, None).complete);
            // Up to the threshold the file travels in the head's buffer; past it, as a region.
            assert_eq!(output.has_file(), len > SMALL_FILE, "{offset}+{len}");
            let bytes = drain(output);
            let expected = &content[offset as usize..(offset + len) as usize];
            assert!(body_of(&bytes) == expected, "{offset}+{len}");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                text.contains(&format!("Content-Length: {len}\r\n")),
                "{text}"
            );
        }
    }

    #[test]
    fn multipart_bodies_send_each_part_then_the_tail() {
        let response = Response::new(206).body(Body::Multipart {
            file: file_of(b"0123456789"),
            parts: vec![
                (b"--a\r\n\r\n".to_vec(), 0, 2),
                (b"\r\n--a\r\n\r\n".to_vec(), 8, 2),
            ],
            tail: b"\r\n--a--\r\n".to_vec(),
        });
        let length = response.body.len();
        let mut output = Output::default();
        assert!(queue(&mut output, response, KEEP, None).complete);
        let queued = output.queued();
        let bytes = drain(output);
        assert_eq!(bytes.len() as u64, queued);
        let text = text(bytes);
        assert!(
            text.contains(&format!("Content-Length: {length}\r\n")),
            "{text}"
        );
        assert!(
            text.ends_with("\r\n\r\n--a\r\n\r\n01\r\n--a\r\n\r\n89\r\n--a--\r\n"),
            "{text}"
        );
    }

    /// A source of one step, "streamed", that says whether it was asked.
    struct Once(Arc<std::sync::atomic::AtomicBool>);

    impl crate::http::response::Source for Once {
        fn fill(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            out.extend_from_slice(b"streamed");
            Ok(true)
        }
    }

    #[test]
    fn a_streamed_body_is_chunked_and_head_requests_make_none_of_it() {
        for head_request in [false, true] {
            let asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let response =
                Response::new(200).body(Body::Stream(Box::new(Once(Arc::clone(&asked)))));
            let mut output = Output::default();
            let framing = Framing {
                head_request,
                ..KEEP
            };
            assert!(queue(&mut output, response, framing, None).complete);
            let text = text(drain(output));
            assert!(
                text.contains("\r\nTransfer-Encoding: chunked\r\n"),
                "{text}"
            );
            assert!(!text.contains("Content-Length"), "{text}");
            let body = if head_request {
                ""
            } else {
                "8\r\nstreamed\r\n0\r\n\r\n"
            };
            assert!(text.ends_with(&format!("\r\n\r\n{body}")), "{text}");
            assert_eq!(
                asked.load(std::sync::atomic::Ordering::Relaxed),
                !head_request
            );
        }
    }

    #[test]
    fn serialized_responses_are_whole() {
        let bytes = serialize(
            Response::text(503, "busy\n"),
            Framing {
                close: true,
                ..KEEP
            },
        );
        let text = text(bytes);
        assert!(
            text.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{text}"
        );
        assert!(text.ends_with("Connection: close\r\n\r\nbusy\n"), "{text}");
    }
}
