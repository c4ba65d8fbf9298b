//! The HTTP/3 core, driven transition by transition with plain buffers: the client's frames
//! are built with the grammar's serialisers, what the server writes on each stream is parsed
//! back with its parser, and the clock moves only when a test moves it.

use super::*;
use crate::conn::client::TrustedProxies;
use crate::handlers::Handler;
use crate::http::head::RequestHead;
use crate::http::response::{Body, Completion, Response, Ticket};
use nomserve_grammar::{
    DecodeLimits, H3Frame, H3StreamKind, Method, ParsedH3Frame, QpackSection, Request,
    parse_h3_frame, write_h3_data_header, write_h3_headers_header,
};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::task::Waker;
use std::time::Duration;

const TIMEOUTS: Timeouts = Timeouts {
    header: Duration::from_secs(10),
    keep_alive: Duration::from_secs(5),
    send: Duration::from_secs(10),
    min_send_rate: 1024,
};

/// Size of `/big`'s body: many DATA frames, more than [`STREAM_HIGH`].
const BIG: usize = 200 * 1024;

/// GET and HEAD: 200 with the path as the body (`/big`: [`BIG`] bytes, `/304`: 304, `/wait`:
/// parked until the gate is done). POST: 200 `posted`.
struct Echo {
    gate: Ticket,
}

impl Handler for Echo {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        _head: &RequestHead<'_>,
        _client: IpAddr,
    ) -> Response {
        match (request.method, request.target.path()) {
            (Method::Get, Some("/wait")) if !self.gate.is_done() => {
                Response::text(503, "try again").pending(self.gate.clone())
            }
            (Method::Post, _) => Response::text(200, "posted"),
            (_, Some("/big")) => Response::new(200).body(Body::Bytes(Cow::Owned(vec![b'b'; BIG]))),
            (_, Some("/304")) => Response::new(304),
            (_, path) => Response::text(200, path.unwrap_or("*")),
        }
    }
}

/// A response as the client reads it off a request stream.
#[derive(Debug, Default)]
struct Got {
    status: String,
    fields: Vec<(String, String)>,
    body: Vec<u8>,
    data_frames: usize,
    /// The stream ended (FIN).
    fin: bool,
}

impl Got {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Client {
    conn: H3Conn,
    handler: Echo,
    completion: Option<Completion>,
    now: Instant,
    shutting_down: bool,
}

impl Client {
    fn new() -> Client {
        let (gate, completion) = Ticket::new();
        let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);
        Client {
            conn: H3Conn::new(peer, TIMEOUTS),
            handler: Echo { gate },
            completion: Some(completion),
            now: Instant::now(),
            shutting_down: false,
        }
    }

    /// Delivers `bytes` on stream `id` (`fin`: the stream ends).
    fn send(&mut self, id: u64, bytes: &[u8], fin: bool) {
        let ctx = Context {
            handler: &self.handler,
            trusted: &TrustedProxies::default(),
            shutting_down: self.shutting_down,
            waker: &|| Waker::noop().clone(),
        };
        self.conn.received(id, bytes, fin, &ctx, self.now);
        self.conn.wake_parked(&ctx, self.now);
    }

    /// Opens the client's control stream (id 2) with an empty SETTINGS.
    fn control(&mut self) {
        let mut bytes = vec![0x00];
        nomserve_grammar::write_h3_settings(&mut bytes, &[]);
        self.send(2, &bytes, false);
    }

    /// Takes everything the connection wrote on stream `id` until its response ends or it
    /// has nothing more, QUIC taking it all.
    fn take(&mut self, id: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let (bytes, done) = self.conn.output(id);
            if bytes.is_empty() {
                if done {
                    self.conn.finished(id);
                    out.push(0xff); // a marker for FIN, never a frame type's first byte here
                }
                return out;
            }
            let n = bytes.len();
            out.extend_from_slice(bytes);
            self.conn.wrote(id, n, self.now);
        }
    }

    /// The response written on stream `id`.
    fn response(&mut self, id: u64) -> Got {
        parse_response(&self.take(id))
    }
}

/// A request's HEADERS frame for `method` and `path`, with `extra` fields.
fn headers(method: &str, path: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut fields: Vec<(&[u8], &[u8])> = vec![
        (b":method", method.as_bytes()),
        (b":scheme", b"https"),
        (b":authority", b"localhost"),
        (b":path", path.as_bytes()),
    ];
    fields.extend(extra.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
    let mut section = Vec::new();
    QpackEncoder::new().encode(fields, &mut section);
    let mut frame = Vec::new();
    write_h3_headers_header(&mut frame, section.len() as u64);
    frame.extend_from_slice(&section);
    frame
}

/// Parses what a server wrote on a request stream (FIN marked by a trailing 0xff).
fn parse_response(mut wire: &[u8]) -> Got {
    let mut got = Got::default();
    while !wire.is_empty() {
        if wire == [0xff] {
            got.fin = true;
            break;
        }
        match parse_h3_frame(wire, H3StreamKind::Request, 1 << 20).expect("a frame") {
            ParsedH3Frame::Complete {
                frame: H3Frame::Headers(section),
                consumed,
            } => {
                let mut fields = DecodedFields::new();
                let decoded = QpackDecoder::new(0, 0).decode_section(
                    0,
                    section,
                    &mut fields,
                    &DecodeLimits::default(),
                );
                assert_eq!(decoded, Ok(QpackSection::Decoded));
                for field in fields.iter() {
                    let name = String::from_utf8_lossy(field.name).into_owned();
                    let value = String::from_utf8_lossy(field.value).into_owned();
                    if name == ":status" {
                        got.status = value;
                    } else {
                        got.fields.push((name, value));
                    }
                }
                wire = &wire[consumed..];
            }
            ParsedH3Frame::Complete {
                frame: H3Frame::Data { length },
                consumed,
            } => {
                let end = consumed + length as usize;
                got.body.extend_from_slice(&wire[consumed..end]);
                got.data_frames += 1;
                assert!(length as usize <= DATA_CHUNK);
                wire = &wire[end..];
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    got
}

#[test]
fn the_control_stream_opens_with_settings_that_keep_qpack_static() {
    let client = Client::new();
    let control = client.conn.control_output();
    assert_eq!(control[0], 0x00, "the control stream's type");
    let frame = parse_h3_frame(&control[1..], H3StreamKind::Control, 4096).unwrap();
    let ParsedH3Frame::Complete {
        frame: H3Frame::Settings(settings),
        ..
    } = frame
    else {
        panic!("SETTINGS first: {frame:?}");
    };
    let settings: Vec<H3Setting> = settings.iter().collect();
    assert!(settings.contains(&H3Setting::QpackMaxTableCapacity(0)));
    assert!(settings.contains(&H3Setting::QpackBlockedStreams(0)));
    assert!(settings.contains(&H3Setting::MaxFieldSectionSize(
        Limits::DEFAULT_MAX_HEAD as u64
    )));
}

#[test]
fn a_get_is_answered_with_headers_data_and_the_end() {
    let mut client = Client::new();
    client.control();
    client.send(0, &headers("GET", "/hello", &[]), true);
    let got = client.response(0);
    assert_eq!(got.status, "200");
    assert_eq!(got.body, b"/hello");
    assert_eq!(got.field("content-length"), Some("6"));
    assert!(got.field("server").is_some() && got.field("date").is_some());
    assert!(got.fin);
    assert!(client.conn.writable().is_empty(), "the stream is closed");
}

#[test]
fn a_request_arriving_byte_by_byte_is_answered_once_it_ends() {
    let mut client = Client::new();
    let frame = headers("GET", "/a", &[]);
    for byte in &frame {
        client.send(4, std::slice::from_ref(byte), false);
        assert!(
            client.conn.writable().is_empty(),
            "no answer before the end"
        );
    }
    client.send(4, &[], true);
    assert_eq!(client.response(4).body, b"/a");
}

#[test]
fn requests_whose_streams_start_out_of_order_are_all_answered() {
    let mut client = Client::new();
    client.send(8, &headers("GET", "/c", &[]), true);
    client.send(0, &headers("GET", "/a", &[]), true);
    client.send(4, &headers("GET", "/b", &[]), true);
    assert_eq!(client.response(0).body, b"/a");
    assert_eq!(client.response(4).body, b"/b");
    assert_eq!(client.response(8).body, b"/c");
    client.conn.begin_shutdown();
    assert!(
        client.conn.control_output().ends_with(&[0x07, 0x01, 12]),
        "GOAWAY(12)"
    );
}

#[test]
fn head_and_304_have_no_content() {
    let mut client = Client::new();
    client.send(0, &headers("HEAD", "/big", &[]), true);
    let got = client.response(0);
    assert_eq!((got.status.as_str(), got.data_frames), ("200", 0));
    assert_eq!(got.field("content-length"), Some(BIG.to_string().as_str()));
    client.send(4, &headers("GET", "/304", &[]), true);
    let got = client.response(4);
    assert_eq!((got.status.as_str(), got.data_frames), ("304", 0));
    assert_eq!(got.field("content-length"), None);
}

#[test]
fn a_large_body_is_framed_as_quic_takes_it() {
    let mut client = Client::new();
    client.send(0, &headers("GET", "/big", &[]), true);
    let (first, done) = client.conn.output(0);
    assert!(
        !done && first.len() <= STREAM_HIGH + DATA_CHUNK + 64,
        "bounded output"
    );
    let got = client.response(0);
    assert_eq!(got.body.len(), BIG);
    assert!(got.data_frames >= BIG / DATA_CHUNK);
}

#[test]
fn a_body_is_counted_and_discarded_and_must_match_content_length() {
    let mut client = Client::new();
    let mut request = headers("POST", "/p", &[("content-length", "3")]);
    write_h3_data_header(&mut request, 3);
    request.extend_from_slice(b"abc");
    client.send(0, &request, true);
    assert_eq!(client.response(0).body, b"posted");

    let mut short = headers("POST", "/p", &[("content-length", "5")]);
    write_h3_data_header(&mut short, 3);
    short.extend_from_slice(b"abc");
    client.send(4, &short, true);
    assert_eq!(client.conn.take_resets(), [(4, H3ErrorCode::MessageError)]);

    let mut long = headers("POST", "/p", &[("content-length", "1")]);
    write_h3_data_header(&mut long, 3);
    long.extend_from_slice(b"abc");
    client.send(8, &long, false);
    assert_eq!(client.conn.take_resets(), [(8, H3ErrorCode::MessageError)]);
}

#[test]
fn unknown_frames_on_a_request_stream_are_skipped() {
    let mut client = Client::new();
    // A reserved type (0x21, RFC 9114 §7.2.8) with 3 bytes of payload, then the request.
    let mut wire = vec![0x21, 0x03, 1, 2, 3];
    wire.extend_from_slice(&headers("GET", "/x", &[]));
    client.send(0, &wire, true);
    assert_eq!(client.response(0).body, b"/x");
}

#[test]
fn data_before_headers_is_a_connection_error() {
    let mut client = Client::new();
    let mut wire = Vec::new();
    write_h3_data_header(&mut wire, 1);
    wire.push(b'x');
    client.send(0, &wire, false);
    let error = client.conn.take_error().expect("a connection error");
    assert_eq!(error.code, H3ErrorCode::FrameUnexpected);
}

#[test]
fn a_malformed_request_resets_its_stream() {
    let mut client = Client::new();
    let mut section = Vec::new();
    QpackEncoder::new().encode(
        [(&b":method"[..], &b"GET"[..]), (b":scheme", b"https")],
        &mut section,
    );
    let mut frame = Vec::new();
    write_h3_headers_header(&mut frame, section.len() as u64);
    frame.extend_from_slice(&section);
    client.send(0, &frame, true);
    assert_eq!(client.conn.take_resets(), [(0, H3ErrorCode::MessageError)]);
    assert!(client.conn.take_error().is_none(), "the connection goes on");
}

#[test]
fn a_stream_ending_inside_its_headers_is_incomplete() {
    let mut client = Client::new();
    let frame = headers("GET", "/a", &[]);
    client.send(0, &frame[..frame.len() - 1], true);
    assert_eq!(
        client.conn.take_resets(),
        [(0, H3ErrorCode::RequestIncomplete)]
    );
}

#[test]
fn a_request_unfinished_at_its_deadline_is_reset() {
    let mut client = Client::new();
    client.send(0, &headers("GET", "/a", &[]), false);
    let deadline = client.conn.deadline().expect("the request's deadline");
    assert_eq!(deadline, client.now + TIMEOUTS.header);
    client.conn.expire(deadline);
    assert_eq!(
        client.conn.take_resets(),
        [(0, H3ErrorCode::RequestIncomplete)]
    );
    assert_eq!(client.conn.deadline(), None);
}

#[test]
fn a_parked_request_is_answered_once_its_work_is_done() {
    let mut client = Client::new();
    client.send(0, &headers("GET", "/wait", &[]), true);
    assert!(client.conn.writable().is_empty(), "parked");
    drop(client.completion.take());
    client.send(4, &headers("GET", "/b", &[]), true);
    assert_eq!(client.response(0).body, b"/wait");
    assert_eq!(client.response(4).body, b"/b");
}

#[test]
fn the_client_control_stream_rules() {
    let cases: [(&[u8], H3ErrorCode); 3] = [
        // GOAWAY before SETTINGS.
        (&[0x00, 0x07, 0x01, 0x00], H3ErrorCode::MissingSettings),
        // SETTINGS twice.
        (
            &[0x00, 0x04, 0x00, 0x04, 0x00],
            H3ErrorCode::FrameUnexpected,
        ),
        // CANCEL_PUSH of a push never promised.
        (&[0x00, 0x04, 0x00, 0x03, 0x01, 0x00], H3ErrorCode::IdError),
    ];
    for (wire, code) in cases {
        let mut client = Client::new();
        client.send(2, wire, false);
        assert_eq!(
            client.conn.take_error().map(|e| e.code),
            Some(code),
            "{wire:?}"
        );
    }
}

#[test]
fn critical_streams_are_one_each_and_never_closed() {
    let mut client = Client::new();
    client.control();
    client.send(6, &[0x00, 0x04, 0x00], false);
    let error = client.conn.take_error().map(|e| e.code);
    assert_eq!(error, Some(H3ErrorCode::StreamCreationError));

    let mut client = Client::new();
    client.control();
    client.send(2, &[], true);
    let error = client.conn.take_error().map(|e| e.code);
    assert_eq!(error, Some(H3ErrorCode::ClosedCriticalStream));

    let mut client = Client::new();
    client.send(10, &[0x02], false);
    client.conn.stream_reset(10);
    let error = client.conn.take_error().map(|e| e.code);
    assert_eq!(error, Some(H3ErrorCode::ClosedCriticalStream));
}

#[test]
fn unknown_uni_streams_are_discarded_and_leave_nothing() {
    let mut client = Client::new();
    client.send(2, &[0x21, 1, 2, 3, 4], false);
    client.send(2, &[5, 6], true);
    assert!(client.conn.take_error().is_none());
    for id in (6..4000).step_by(4) {
        client.send(id, &[0x21, 1], true);
    }
    assert!(
        client.conn.uni.is_empty(),
        "no state kept per finished stream"
    );
}

#[test]
fn a_push_stream_from_the_client_is_an_error() {
    let mut client = Client::new();
    client.send(2, &[0x01], false);
    assert_eq!(
        client.conn.take_error().map(|e| e.code),
        Some(H3ErrorCode::StreamCreationError)
    );
}

#[test]
fn qpack_bounds_a_dynamic_table_is_refused() {
    // Set Dynamic Table Capacity 32 (RFC 9204 §4.3.1) past the 0 we advertised.
    let mut client = Client::new();
    client.send(2, &[0x02, 0x3f, 0x01], false);
    assert_eq!(
        client.conn.take_error().map(|e| e.code),
        Some(H3ErrorCode::QpackEncoderStreamError)
    );
    // A field section that needs an insert (Required Insert Count 1).
    let mut client = Client::new();
    let section = [0x02, 0x00, 0x80];
    let mut frame = Vec::new();
    write_h3_headers_header(&mut frame, section.len() as u64);
    frame.extend_from_slice(&section);
    client.send(0, &frame, true);
    assert_eq!(
        client.conn.take_error().map(|e| e.code),
        Some(H3ErrorCode::QpackDecompressionFailed)
    );
}

#[test]
fn shutdown_sends_goaway_and_rejects_later_requests() {
    let mut client = Client::new();
    client.send(0, &headers("GET", "/a", &[]), false);
    let settings_len = client.conn.control_output().len();
    client.conn.control_wrote(settings_len);
    client.conn.begin_shutdown();
    // GOAWAY (type 0x07) naming stream 4, the first not taken (RFC 9114 §5.2).
    assert_eq!(client.conn.control_output(), [0x07, 0x01, 0x04]);
    client.conn.control_wrote(3);
    client.send(4, &headers("GET", "/b", &[]), true);
    assert_eq!(
        client.conn.take_resets(),
        [(4, H3ErrorCode::RequestRejected)]
    );
    assert!(!client.conn.is_drained(), "stream 0 is still open");
    client.send(0, &[], true);
    assert_eq!(client.response(0).body, b"/a");
    assert!(client.conn.is_drained());
}

#[test]
fn a_client_too_slow_to_take_its_response_is_cut_off() {
    let mut client = Client::new();
    client.send(0, &headers("GET", "/big", &[]), true);
    let (bytes, _) = client.conn.output(0);
    let n = bytes.len();
    client.conn.wrote(0, n, client.now);
    // QUIC takes nothing more: the send timeout runs from the last progress.
    let deadline = client.conn.deadline().expect("the send clock's deadline");
    assert_eq!(deadline, client.now + TIMEOUTS.send);
    client.conn.expire(deadline - Duration::from_millis(1));
    assert!(client.conn.take_error().is_none());
    client.conn.expire(deadline);
    let error = client.conn.take_error().expect("cut off");
    assert_eq!(error.code, H3ErrorCode::NoError);
    assert!(
        error.why.contains("took nothing of its response"),
        "{}",
        error.why
    );
    assert!(client.conn.writable().is_empty());
}

#[test]
fn a_client_below_the_minimum_rate_is_cut_off() {
    let mut client = Client::new();
    client.send(0, &headers("GET", "/big", &[]), true);
    // 100 bytes a second of progress, under the 1024 bytes/s minimum.
    for _ in 0..10 {
        client.now += Duration::from_secs(1);
        client.conn.wrote(0, 100, client.now);
    }
    client.conn.expire(client.now);
    let error = client.conn.take_error().expect("cut off");
    assert!(error.why.contains("below 1024 bytes/s"), "{}", error.why);
}

#[test]
fn a_reset_request_is_dropped() {
    let mut client = Client::new();
    client.send(0, &headers("GET", "/big", &[]), true);
    client.conn.stream_reset(0);
    assert!(client.conn.writable().is_empty());
    let (bytes, _) = client.conn.output(0);
    assert!(bytes.is_empty());
}
