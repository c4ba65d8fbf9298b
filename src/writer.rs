//! The response writer: serialises a [`Response`] onto the connection.
//!
//! The head (status line and fields) is built in one buffer. A body in memory leaves with it
//! in one `writev`; a file of at most 16 KiB is read into the head's buffer and leaves with it
//! in one `write`; a larger file body follows the head with the kernel's zero-copy path,
//! `sendfile(2)` (seen with `strace -f -e trace=sendfile,sendto,writev`: one
//! `sendto(…, MSG_MORE)` for the head, then `sendfile(sock, file, [offset], len)` calls of up
//! to the socket buffer's size). The head goes with `MSG_MORE` so it shares a segment with
//! the file's first bytes despite `TCP_NODELAY`.
//!
//! The writer adds the fields every response carries (RFC 9110 §6.6.1 Date, §10.2.4 Server,
//! §8.6 Content-Length, RFC 9112 §9.6 Connection) and leaves the body out for HEAD and for
//! the statuses that have none (RFC 9110 §6.4.1).

use crate::clock;
use crate::response::{Body, Response};
use nomserve_grammar::{is_field_value, is_token};
use std::fs::File;
use std::io::{self, IoSlice, Write};
use std::net::TcpStream;
use std::os::unix::fs::FileExt;

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

/// What was written.
#[derive(Debug)]
pub struct Written {
    /// The status sent: the response's, or 500 if the response was malformed.
    pub status: u16,
    /// Content bytes that reached the socket.
    pub body_bytes: u64,
    /// Whether the whole response was written. On error the connection must be closed: the
    /// client has a partial response.
    pub result: io::Result<()>,
}

/// Writes `response` to `stream` framed as `framing` says, blocking (under the socket's write
/// timeout) until it is out or an error ends it. A response whose status or fields cannot be
/// sent as they are (a handler bug) is replaced by a 500 and logged. A file that turns out
/// shorter than the body's length ends the write with an error.
pub fn write_response(stream: &mut TcpStream, response: Response, framing: Framing) -> Written {
    let response = checked(response);
    let status = response.status;
    let head = head(&response, framing, &clock::http_date());
    let mut sent = 0u64;
    let result = if framing.head_request || !has_content(status) {
        stream.write_all(&head)
    } else {
        write_body(stream, head, response.body, &mut sent)
    };
    Written {
        status,
        body_bytes: sent,
        result,
    }
}

/// Whether responses with `status` carry content: not 1xx, 204 or 304 (RFC 9110 §6.4.1).
fn has_content(status: u16) -> bool {
    !(status < 200 || status == 204 || status == 304)
}

/// `response` if it can be sent as it is; else (a status outside 100–599, a field name that
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

/// The status line and fields of `response`, ending with the empty line.
///
/// `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4): always
/// `HTTP/1.1`, the highest version the server supports (RFC 9110 §6.2), whatever minor
/// version the client sent.
pub fn head(response: &Response, framing: Framing, date: &[u8; 29]) -> Vec<u8> {
    let mut head = Vec::with_capacity(256);
    // Formatting into a Vec cannot fail; the numbers are written without a String between.
    let _ = write!(
        head,
        "HTTP/1.1 {} {}\r\nDate: ",
        response.status,
        reason_phrase(response.status)
    );
    head.extend_from_slice(date);
    head.extend_from_slice(b"\r\nServer: ");
    head.extend_from_slice(SERVER.as_bytes());
    head.extend_from_slice(b"\r\n");
    for (name, value) in &response.headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    // RFC 9110 §8.6: no Content-Length in 1xx or 204; none in 304 either, where it could
    // only repeat the selected representation's length. A HEAD response carries the length
    // a GET would get.
    if has_content(response.status) {
        let _ = write!(head, "Content-Length: {}\r\n", response.body.len());
    }
    if framing.close {
        head.extend_from_slice(b"Connection: close\r\n");
    } else if framing.http10_keep_alive {
        head.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// Writes `head` and then `body`, adding to `sent` each content byte written.
fn write_body(stream: &mut TcpStream, head: Vec<u8>, body: Body, sent: &mut u64) -> io::Result<()> {
    match body {
        Body::Empty => stream.write_all(&head),
        Body::Bytes(bytes) => {
            let written =
                write_all_vectored(stream, &mut [IoSlice::new(&head), IoSlice::new(&bytes)]);
            *sent += (written.0 as u64).saturating_sub(head.len() as u64);
            written.1
        }
        Body::File { file, offset, len } if len <= SMALL_FILE => {
            send_small_file(stream, head, &file, offset, len, sent)
        }
        Body::File { file, offset, len } => {
            send_more(stream, &head)?;
            send_file_range(stream, &file, offset, len, sent)
        }
        Body::Multipart { file, parts, tail } => {
            send_more(stream, &head)?;
            for (part_head, offset, len) in parts {
                send_more(stream, &part_head)?;
                *sent += part_head.len() as u64;
                send_file_range(stream, &file, offset, len, sent)?;
            }
            stream.write_all(&tail)?;
            *sent += tail.len() as u64;
            Ok(())
        }
    }
}

/// Files up to this many bytes are read into the head's buffer and leave with it in one
/// `write`, rather than as a head with `MSG_MORE` and a `sendfile`: the same two system
/// calls, but `sendfile` goes through the kernel's splice machinery, which costs more than
/// copying a few KiB (measured with wrk against a 218-byte file). 16 KiB keeps the copy
/// small next to the socket's send buffer.
const SMALL_FILE: u64 = 16 * 1024;

/// Reads `len` bytes of `file` from `offset` (at most [`SMALL_FILE`]) after `head` in its
/// buffer and writes the lot at once, adding the content bytes written to `sent`. A file that
/// ends early (it shrank since it was opened) sends the bytes it still had, then is an
/// `UnexpectedEof` error, as [`send_file_range`] does.
fn send_small_file(
    stream: &mut TcpStream,
    mut head: Vec<u8>,
    file: &File,
    offset: u64,
    len: u64,
    sent: &mut u64,
) -> io::Result<()> {
    let head_len = head.len();
    // `len` is at most SMALL_FILE, which fits any usize.
    let want = usize::try_from(len).unwrap_or(0);
    head.resize(head_len + want, 0);
    let mut filled = 0;
    while filled < want {
        let Some(room) = head.get_mut(head_len + filled..) else {
            break;
        };
        match file.read_at(room, offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    head.truncate(head_len + filled);
    stream.write_all(&head)?;
    *sent += filled as u64;
    if filled < want {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("file ended after {filled} of {len} bytes: it shrank while being sent"),
        ));
    }
    Ok(())
}

/// Writes every byte of `bufs` with `writev`; returns how many bytes were written, and
/// whether all were.
fn write_all_vectored(
    stream: &mut TcpStream,
    mut bufs: &mut [IoSlice<'_>],
) -> (usize, io::Result<()>) {
    let mut total = 0;
    IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        match stream.write_vectored(bufs) {
            Ok(0) => return (total, Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                total += n;
                IoSlice::advance_slices(&mut bufs, n);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (total, Err(e)),
        }
    }
    (total, Ok(()))
}

/// Sends all of `bytes` with `MSG_MORE`: more data follows at once, so the kernel may hold
/// a partial segment back for it instead of sending it alone (`TCP_NODELAY` is set). With
/// `MSG_NOSIGNAL`, as std's own writes: a client that went away is an `EPIPE` error.
fn send_more(stream: &TcpStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::net::send(
            stream,
            bytes,
            rustix::net::SendFlags::MORE | rustix::net::SendFlags::NOSIGNAL,
        ) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Sends `len` bytes of `file` from `offset` with `sendfile(2)`: the kernel moves the bytes
/// from the page cache to the socket without a copy through user space. The calls block
/// under the socket's write timeout. A file that ends early (it shrank since it was opened)
/// is an `UnexpectedEof` error once the bytes it still had are sent.
///
/// Not `io::copy`: std stopped using sendfile from a `File` into a socket (its
/// `safe_kernel_copy` check, so that changes to the file after the call cannot show in bytes
/// already "written") and copies through an 8 KiB buffer instead, which strace shows as
/// `read`/`sendto` pairs. A static file server takes that trade-off knowingly, as nginx's
/// `sendfile on` does: a file rewritten while it is sent yields mixed content either way.
fn send_file_range(
    stream: &TcpStream,
    file: &File,
    offset: u64,
    len: u64,
    sent: &mut u64,
) -> io::Result<()> {
    let mut position = offset;
    let mut left = len;
    while left > 0 {
        // The kernel sends at most about 2 GiB per call; a larger count is simply cut.
        let count = usize::try_from(left).unwrap_or(usize::MAX);
        match rustix::fs::sendfile(stream, file, Some(&mut position), count) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "file ended after {} of {len} bytes: it shrank while being sent",
                        len - left
                    ),
                ));
            }
            Ok(n) => {
                let n = n as u64;
                left = left.saturating_sub(n);
                *sent += n;
            }
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
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
    use std::io::Read;

    const DATE: &[u8; 29] = b"Tue, 24 Nov 2026 06:02:13 GMT";
    const KEEP: Framing = Framing {
        head_request: false,
        close: false,
        http10_keep_alive: false,
    };

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_head_with_every_field_the_writer_adds() {
        let response = Response::text(200, "hello");
        assert_eq!(
            text(head(&response, KEEP, DATE)),
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
            text(head(&response, close, DATE))
                .ends_with("Content-Length: 0\r\nConnection: close\r\n\r\n")
        );
        let ten = Framing {
            http10_keep_alive: true,
            ..KEEP
        };
        assert!(text(head(&response, ten, DATE)).ends_with("Connection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn no_content_length_where_rfc_9110_forbids_it() {
        for status in [204, 304] {
            let head = text(head(&Response::new(status), KEEP, DATE));
            assert!(!head.contains("Content-Length"), "{head}");
        }
    }

    #[test]
    fn head_requests_get_the_get_length() {
        let framing = Framing {
            head_request: true,
            ..KEEP
        };
        let head = text(head(&Response::text(200, "twelve bytes"), framing, DATE));
        assert!(head.contains("Content-Length: 12\r\n"), "{head}");
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
    fn a_file_that_shrank_ends_the_response_with_an_error() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        // The handler saw 100 bytes; only 10 are left.
        let response = Response::new(200).body(Body::File {
            file,
            offset: 4,
            len: 100,
        });
        let written = write_response(&mut server, response, KEEP);
        assert_eq!(written.status, 200);
        assert_eq!(written.body_bytes, 6);
        let err = written.result.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        drop(server);
        let mut received = Vec::new();
        (&client).read_to_end(&mut received).unwrap();
        assert!(received.ends_with(b"\r\n\r\n456789"));
    }

    /// A connected pair: the server's end and the client's.
    fn socket_pair() -> (TcpStream, TcpStream) {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (server, client)
    }

    /// Everything the client receives until the server's end closes.
    fn received(server: TcpStream, client: &TcpStream) -> Vec<u8> {
        drop(server);
        let mut bytes = Vec::new();
        (&*client).read_to_end(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn file_ranges_on_either_side_of_the_small_file_threshold_arrive_intact() {
        let content: Vec<u8> = (0..3 * SMALL_FILE as u32)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&content).unwrap();
        for (offset, len) in [
            (0, 0),
            (7, 100),
            (0, SMALL_FILE),
            (3, SMALL_FILE + 1),
            (SMALL_FILE, 2 * SMALL_FILE),
        ] {
            let (mut server, client) = socket_pair();
            let response = Response::new(200).body(Body::File {
                file: file.try_clone().unwrap(),
                offset,
                len,
            });
            let written = write_response(&mut server, response, KEEP);
            written.result.unwrap();
            assert_eq!(written.body_bytes, len, "{offset}+{len}");
            let bytes = received(server, &client);
            let expected = &content[offset as usize..(offset + len) as usize];
            let body_start = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            assert!(&bytes[body_start..] == expected, "{offset}+{len}");
            let text = String::from_utf8_lossy(&bytes[..body_start]);
            assert!(
                text.contains(&format!("Content-Length: {len}\r\n")),
                "{text}"
            );
        }
    }

    #[test]
    fn a_large_file_that_shrank_ends_the_response_with_an_error() {
        let (mut server, client) = socket_pair();
        let mut file = tempfile::tempfile().unwrap();
        let content = vec![b'x'; 2 * SMALL_FILE as usize];
        file.write_all(&content).unwrap();
        // The handler saw more than the threshold and twice what is there: sendfile's path.
        let response = Response::new(200).body(Body::File {
            file,
            offset: 0,
            len: 4 * SMALL_FILE,
        });
        let written = write_response(&mut server, response, KEEP);
        assert_eq!(written.body_bytes, content.len() as u64);
        let err = written.result.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let bytes = received(server, &client);
        assert!(bytes.ends_with(&content));
    }

    #[test]
    fn multipart_bodies_send_each_part_then_the_tail() {
        use std::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"0123456789").unwrap();
        let response = Response::new(206).body(Body::Multipart {
            file,
            parts: vec![
                (b"--a\r\n\r\n".to_vec(), 0, 2),
                (b"\r\n--a\r\n\r\n".to_vec(), 8, 2),
            ],
            tail: b"\r\n--a--\r\n".to_vec(),
        });
        let length = response.body.len();
        let written = write_response(&mut server, response, KEEP);
        written.result.unwrap();
        assert_eq!(written.body_bytes, length);
        drop(server);
        let mut received = Vec::new();
        (&client).read_to_end(&mut received).unwrap();
        let text = String::from_utf8(received).unwrap();
        assert!(
            text.contains(&format!("Content-Length: {length}\r\n")),
            "{text}"
        );
        assert!(
            text.ends_with("\r\n\r\n--a\r\n\r\n01\r\n--a\r\n\r\n89\r\n--a--\r\n"),
            "{text}"
        );
    }
}
