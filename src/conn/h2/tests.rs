//! The HTTP/2 core, driven transition by transition with plain buffers: the client's frames
//! are built with the grammar's serialisers, the server's parsed back with its parser, and
//! the clock moves only when a test moves it.

use super::bounds::{FLOOD_BASE, FLOOD_PER_STREAM, MAX_EARLY_RESETS};
use super::*;
use crate::conn::client::TrustedProxies;
use crate::handlers::Handler;
use crate::http::head::RequestHead;
use crate::http::output::Item;
use crate::http::response::{Body, Completion, Prebuilt, Response, Ticket};
use nomserve_grammar::{
    DecodeLimits, Frame, FrameHeader, FrameType, H2ErrorCode, HpackEncoder, Method, ParsedFrame,
    Request, parse_frame, write_rst_stream, write_window_update,
};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::FileExt;
use std::sync::{LazyLock, Mutex};
use std::task::Waker;

const TIMEOUTS: Timeouts = Timeouts {
    header: Duration::from_secs(10),
    keep_alive: Duration::from_secs(5),
    send: Duration::from_secs(10),
    min_send_rate: 1024,
};

/// Size of `/big`'s body: several frames and more than the initial windows.
const BIG: usize = 200 * 1024;

/// GET and HEAD: 200 with the path as the body (`/big`: [`BIG`] bytes, `/file`: a file of
/// three DATA frames, see [`regions`], `/304`: 304, `/wait`: parked on the gate until it is
/// done, `/cached` and `/cached2`: 200 with the prepared fields of two cached files).
/// POST: 200 `posted`. Other methods: 405.
struct Echo {
    gate: Ticket,
    /// What the sink of `PUT /take` took, and whether it finished and was dropped.
    taken: Arc<Mutex<(Vec<u8>, bool, bool)>>,
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
            (Method::Put, Some("/take-wait")) if !self.gate.is_done() => {
                Response::text(503, "try again").pending(self.gate.clone())
            }
            (Method::Put, Some("/take" | "/take-wait")) => {
                Response::accepting(Box::new(taking::Taking(Arc::clone(&self.taken))))
            }
            (Method::Get | Method::Head, Some("/big")) => {
                Response::new(200).body(Body::Bytes(Cow::Owned(vec![b'b'; BIG])))
            }
            (Method::Get | Method::Head, Some("/file")) => regions::file_response(),
            (Method::Get, Some(path @ ("/cached" | "/cached2"))) => {
                let mut response = Response::new(200).body(Body::Bytes(Cow::Borrowed(b"cached")));
                response.fields = Some(Arc::clone(&CACHED[usize::from(path == "/cached2")]));
                response
            }
            (Method::Get | Method::Head, Some("/304")) => Response::new(304),
            (Method::Get, Some("/fat")) => {
                Response::text(200, "fat").header("x-fat", "f".repeat(40_000))
            }
            (Method::Get | Method::Head, path) => Response::text(200, path.unwrap_or("*")),
            _ => Response::text(405, "no\n"),
        }
    }
}

/// The prepared fields of two cached files, shared by every connection of the thread as the
/// file cache shares them.
static CACHED: LazyLock<[Arc<Prebuilt>; 2]> = LazyLock::new(|| {
    [&b"ETag: \"kept\"\r\n"[..], b"ETag: \"other\"\r\n"]
        .map(|lines| Arc::new(Prebuilt::new(lines.to_vec())))
});

/// A frame the server sent, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Got {
    Settings,
    SettingsAck,
    WindowUpdate(u32, u32),
    /// Stream, status, fields, END_STREAM.
    Headers(u32, String, Vec<(String, String)>, bool),
    /// Stream, length, END_STREAM.
    Data(u32, usize, bool),
    Rst(u32, u32),
    GoAway(u32, u32),
    PingAck,
}

/// A client: the connection, its encoder and decoder, and a clock.
struct Client {
    conn: H2Conn,
    handler: Echo,
    /// Marks the gate done when dropped.
    completion: Option<Completion>,
    now: Instant,
    encoder: HpackEncoder,
    decoder: HpackDecoder,
    /// What the server sent, not yet parsed into frames.
    received: Vec<u8>,
    /// A header block under way: its HEADERS frame, and the fragments so far.
    block: Option<(u32, bool, Vec<u8>)>,
    /// CONTINUATION frames received.
    continuations: usize,
    shutting_down: bool,
}

impl Client {
    /// A connection that has received the preface and an empty SETTINGS, and whose opening
    /// frames (SETTINGS, WINDOW_UPDATE, SETTINGS ACK) were read.
    fn new() -> Client {
        let mut client = Client::raw();
        let mut opening = PREFACE.to_vec();
        nomserve_grammar::write_settings(&mut opening, &[]);
        client.send(&opening);
        let frames = client.run();
        assert_eq!(
            frames,
            [
                Got::Settings,
                Got::WindowUpdate(0, CONNECTION_WINDOW - 65_535),
                Got::SettingsAck
            ]
        );
        client.send(&settings_ack());
        assert!(client.run().is_empty());
        client
    }

    /// A connection that has received nothing yet.
    fn raw() -> Client {
        let now = Instant::now();
        let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);
        let (gate, completion) = Ticket::new();
        Client {
            conn: H2Conn::new(peer, TIMEOUTS, Vec::new(), now),
            handler: Echo {
                gate,
                taken: Arc::default(),
            },
            completion: Some(completion),
            now,
            encoder: HpackEncoder::new(),
            decoder: HpackDecoder::new(4096),
            received: Vec::new(),
            block: None,
            continuations: 0,
            shutting_down: false,
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.conn.read_buffer().extend_from_slice(bytes);
    }

    /// Does what the connection asks until it wants bytes or is over, the socket taking
    /// everything; returns the frames sent.
    fn run(&mut self) -> Vec<Got> {
        self.run_until(usize::MAX)
    }

    /// As [`Client::run`], the socket taking at most `budget` bytes.
    fn run_until(&mut self, mut budget: usize) -> Vec<Got> {
        let ctx = Context {
            handler: &self.handler,
            trusted: &TrustedProxies::default(),
            shutting_down: self.shutting_down,
            waker: &|| Waker::noop().clone(),
        };
        loop {
            match self.conn.poll(&ctx, self.now) {
                Want::Write(_) if budget == 0 => break,
                Want::Write(Item::Bytes { bytes, .. }) => {
                    let n = bytes.len().min(budget);
                    self.received.extend_from_slice(&bytes[..n]);
                    budget -= n;
                    self.conn.wrote(n, self.now);
                }
                Want::Write(Item::File { file, offset, len }) => {
                    let n = (len as usize).min(budget);
                    let mut payload = vec![0; n];
                    file.read_exact_at(&mut payload, offset).unwrap();
                    self.received.extend_from_slice(&payload);
                    budget -= n;
                    self.conn.wrote(n, self.now);
                }
                Want::ShutdownWrite => self.conn.write_shut(self.now),
                Want::Read | Want::Park | Want::Close => break,
            }
        }
        self.frames()
    }

    /// Parses what the server sent into frames.
    fn frames(&mut self) -> Vec<Got> {
        let mut frames = Vec::new();
        let mut at = 0;
        let received = std::mem::take(&mut self.received);
        while let Ok(ParsedFrame::Complete { frame, consumed }) =
            parse_frame(&received[at..], 1 << 24)
        {
            at += consumed;
            frames.push(match frame {
                Frame::Settings(_) => Got::Settings,
                Frame::SettingsAck => Got::SettingsAck,
                Frame::WindowUpdate {
                    stream_id,
                    increment,
                } => Got::WindowUpdate(stream_id, increment),
                Frame::Headers(headers) if !headers.end_headers => {
                    let fragment = headers.fragment.to_vec();
                    self.block = Some((headers.stream_id, headers.end_stream, fragment));
                    continue;
                }
                Frame::Continuation {
                    fragment,
                    end_headers,
                    ..
                } => {
                    self.continuations += 1;
                    let Some((id, end_stream, mut block)) = self.block.take() else {
                        panic!("CONTINUATION without HEADERS");
                    };
                    block.extend_from_slice(fragment);
                    if !end_headers {
                        self.block = Some((id, end_stream, block));
                        continue;
                    }
                    self.head(id, &block, end_stream)
                }
                Frame::Headers(headers) => {
                    self.head(headers.stream_id, headers.fragment, headers.end_stream)
                }
                Frame::Data(data) => Got::Data(data.stream_id, data.data.len(), data.end_stream),
                Frame::RstStream {
                    stream_id,
                    error_code,
                } => Got::Rst(stream_id, error_code),
                Frame::GoAway {
                    last_stream_id,
                    error_code,
                    ..
                } => Got::GoAway(last_stream_id, error_code),
                Frame::Ping { ack: true, .. } => Got::PingAck,
                other => panic!("unexpected frame {other:?}"),
            });
        }
        self.received = received[at..].to_vec();
        frames
    }

    /// A response head: stream, status, fields, END_STREAM.
    fn head(&mut self, id: u32, block: &[u8], end_stream: bool) -> Got {
        let mut fields = DecodedFields::new();
        let limits = DecodeLimits {
            max_list_size: 1 << 20,
            max_fields: 100,
        };
        self.decoder.decode(block, &mut fields, &limits).unwrap();
        let mut list: Vec<(String, String)> = fields
            .iter()
            .map(|f| {
                (
                    String::from_utf8_lossy(f.name).into_owned(),
                    String::from_utf8_lossy(f.value).into_owned(),
                )
            })
            .collect();
        let status = list.remove(0).1;
        Got::Headers(id, status, list, end_stream)
    }

    /// The HEADERS frame of a request for `path` with `method` on stream `id`.
    fn request(&mut self, id: u32, method: &str, path: &str, end_stream: bool) -> Vec<u8> {
        self.request_with(id, method, path, &[], end_stream)
    }

    /// As [`Client::request`], with `extra` fields.
    fn request_with(
        &mut self,
        id: u32,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        end_stream: bool,
    ) -> Vec<u8> {
        let mut block = Vec::new();
        let mut fields: Vec<(&[u8], &[u8])> = vec![
            (b":method", method.as_bytes()),
            (b":scheme", b"http"),
            (b":authority", b"example.com"),
            (b":path", path.as_bytes()),
        ];
        fields.extend(extra.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
        self.encoder.encode(fields, &mut block);
        headers_frame(id, &block, end_stream, true)
    }

    fn later(&mut self, by: Duration) {
        self.now += by;
    }
}

fn headers_frame(id: u32, block: &[u8], end_stream: bool, end_headers: bool) -> Vec<u8> {
    let mut frame = Vec::new();
    FrameHeader::headers(id, block.len() as u32, end_stream, end_headers).write(&mut frame);
    frame.extend_from_slice(block);
    frame
}

fn frame(frame_type: FrameType, flags: u8, id: u32, payload: &[u8]) -> Vec<u8> {
    let mut bytes = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    bytes.push(frame_type.wire());
    bytes.push(flags);
    bytes.extend_from_slice(&id.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn data(id: u32, payload: &[u8], end_stream: bool) -> Vec<u8> {
    let flags = if end_stream {
        FrameHeader::END_STREAM
    } else {
        0
    };
    frame(FrameType::Data, flags, id, payload)
}

fn settings_ack() -> Vec<u8> {
    frame(FrameType::Settings, FrameHeader::ACK, 0, &[])
}

fn settings(pairs: &[(u16, u32)]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (id, value) in pairs {
        payload.extend_from_slice(&id.to_be_bytes());
        payload.extend_from_slice(&value.to_be_bytes());
    }
    frame(FrameType::Settings, 0, 0, &payload)
}

fn code(code: H2ErrorCode) -> u32 {
    code as u32
}

/// The status and END_STREAM flag of a response head in `frames`, on stream `id`.
fn status_of(frames: &[Got], id: u32) -> Option<(String, bool)> {
    frames.iter().find_map(|frame| match frame {
        Got::Headers(stream, status, _, end) if *stream == id => Some((status.clone(), *end)),
        _ => None,
    })
}

/// The DATA bytes sent on stream `id` in `frames`, and whether the last ended the stream.
fn data_of(frames: &[Got], id: u32) -> (usize, bool) {
    frames
        .iter()
        .fold((0, false), |(total, end), frame| match frame {
            Got::Data(stream, n, last) if *stream == id => (total + n, *last),
            _ => (total, end),
        })
}

fn field<'a>(frames: &'a [Got], id: u32, name: &str) -> Option<&'a str> {
    frames.iter().find_map(|frame| match frame {
        Got::Headers(stream, _, fields, _) if *stream == id => fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str()),
        _ => None,
    })
}

fn goaway(frames: &[Got]) -> Option<u32> {
    frames.iter().find_map(|frame| match frame {
        Got::GoAway(_, code) => Some(*code),
        _ => None,
    })
}

#[test]
fn the_preface_and_settings_are_exchanged() {
    // Client::new checks SETTINGS first, the connection window raised, then the ACK.
    let client = Client::new();
    assert!(client.conn.settings_ack_due.is_none());
    assert!(client.conn.is_idle());
}

#[test]
fn a_preface_that_is_not_http2_gets_goaway_protocol_error() {
    let mut client = Client::raw();
    client.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n");
    let frames = client.run();
    assert_eq!(goaway(&frames), Some(code(H2ErrorCode::ProtocolError)));
}

#[test]
fn a_first_frame_other_than_settings_is_a_connection_error() {
    let mut client = Client::raw();
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(FrameType::Ping, 0, 0, &[0; 8]));
    client.send(&bytes);
    assert_eq!(
        goaway(&client.run()),
        Some(code(H2ErrorCode::ProtocolError))
    );
}

#[test]
fn a_preface_unfinished_at_the_header_timeout_closes() {
    let mut client = Client::raw();
    client.send(&PREFACE[..10]);
    client.run();
    assert!(!client.conn.is_closed());
    client.later(TIMEOUTS.header);
    client.conn.expire(client.now);
    assert!(client.conn.is_closed());
}

#[test]
fn a_get_is_answered_with_headers_and_data() {
    let mut client = Client::new();
    let request = client.request(1, "GET", "/hello", true);
    client.send(&request);
    let frames = client.run();
    assert_eq!(status_of(&frames, 1), Some(("200".to_string(), false)));
    assert_eq!(field(&frames, 1, "content-length"), Some("6"));
    assert_eq!(field(&frames, 1, "server"), Some(SERVER_FIELD));
    assert_eq!(data_of(&frames, 1), (6, true));
    assert_eq!(client.conn.stats().responses, 1);
    assert!(client.conn.streams.is_empty());
}

/// The Server field the writer sends.
const SERVER_FIELD: &str = concat!("nomserve/", env!("CARGO_PKG_VERSION"));

/// The head kept for a cached file is one per thread, for whichever connection sent it
/// last: another connection whose encoder has made as many changes, but another table (its
/// file's ETag where the first has this one's), gets the head encoded for its own table.
#[test]
fn a_kept_head_is_replayed_only_by_the_encoder_that_made_it() {
    let mut a = Client::new();
    let mut b = Client::new();
    let get = |client: &mut Client, id: u32, path: &str| {
        let request = client.request(id, "GET", path, true);
        client.send(&request);
        let frames = client.run();
        assert_eq!(data_of(&frames, id), (6, true), "{path}");
        field(&frames, id, "etag").map(str::to_string)
    };
    for id in [1, 3, 5] {
        assert_eq!(get(&mut a, id, "/cached").as_deref(), Some("\"kept\""));
        assert_eq!(get(&mut b, id, "/cached2").as_deref(), Some("\"other\""));
    }
    // a's head of /cached, all indexed by now, is kept; b asks for the same file.
    assert_eq!(get(&mut a, 7, "/cached").as_deref(), Some("\"kept\""));
    assert_eq!(get(&mut b, 7, "/cached").as_deref(), Some("\"kept\""));
    assert_eq!(get(&mut a, 9, "/cached").as_deref(), Some("\"kept\""));
}

#[test]
fn head_and_304_have_no_data() {
    let mut client = Client::new();
    let head = client.request(1, "HEAD", "/hello", true);
    let not_modified = client.request(3, "GET", "/304", true);
    client.send(&head);
    client.send(&not_modified);
    let frames = client.run();
    assert_eq!(status_of(&frames, 1), Some(("200".to_string(), true)));
    assert_eq!(field(&frames, 1, "content-length"), Some("6"));
    assert_eq!(status_of(&frames, 3), Some(("304".to_string(), true)));
    assert_eq!(field(&frames, 3, "content-length"), None);
    assert_eq!(data_of(&frames, 1), (0, false));
    assert_eq!(data_of(&frames, 3), (0, false));
}

#[test]
fn a_body_is_read_and_its_length_checked() {
    let mut client = Client::new();
    let post = client.request_with(1, "POST", "/", &[("content-length", "3")], false);
    client.send(&post);
    assert!(client.run().is_empty(), "the answer waits for the body");
    client.send(&data(1, b"abc", true));
    let frames = client.run();
    assert_eq!(status_of(&frames, 1), Some(("200".to_string(), false)));
    // RFC 9113 §8.1.1: DATA that disagrees with Content-Length is malformed.
    let post = client.request_with(3, "POST", "/", &[("content-length", "3")], false);
    client.send(&post);
    client.send(&data(3, b"abcd", true));
    let frames = client.run();
    assert_eq!(frames, [Got::Rst(3, code(H2ErrorCode::ProtocolError))]);
    let post = client.request_with(5, "POST", "/", &[("content-length", "3")], false);
    client.send(&post);
    client.send(&data(5, b"ab", true));
    let frames = client.run();
    assert_eq!(frames, [Got::Rst(5, code(H2ErrorCode::ProtocolError))]);
}

#[test]
fn data_is_sent_only_within_the_windows() {
    let mut client = Client::new();
    // The client's streams start with a window of 100 bytes.
    client.send(&settings(&[(4, 100)]));
    let request = client.request(1, "GET", "/big", true);
    client.send(&request);
    let frames = client.run();
    assert!(frames.contains(&Got::SettingsAck));
    assert_eq!(data_of(&frames, 1), (100, false));
    let mut update = Vec::new();
    write_window_update(&mut update, 1, 1000);
    client.send(&update);
    assert_eq!(data_of(&client.run(), 1), (1000, false));
    // The connection's window (65 535) bounds every stream together.
    let mut update = Vec::new();
    write_window_update(&mut update, 1, 1 << 20);
    client.send(&update);
    assert_eq!(data_of(&client.run(), 1), (65_535 - 1100, false));
    let mut update = Vec::new();
    write_window_update(&mut update, 0, 1 << 20);
    client.send(&update);
    assert_eq!(data_of(&client.run(), 1), (BIG - 65_535, true));
}

#[test]
fn streams_with_data_take_turns() {
    let mut client = Client::new();
    let mut update = Vec::new();
    write_window_update(&mut update, 0, 1 << 24);
    client.send(&update);
    let first = client.request(1, "GET", "/big", true);
    let second = client.request(3, "GET", "/big", true);
    client.send(&settings(&[(4, 1 << 24)]));
    client.send(&first);
    client.send(&second);
    let frames = client.run_until(64 * 1024);
    let order: Vec<u32> = frames
        .iter()
        .filter_map(|frame| match frame {
            Got::Data(id, _, _) => Some(*id),
            _ => None,
        })
        .collect();
    assert!(order.len() >= 3, "{order:?}");
    assert_eq!(&order[..3], [1, 3, 1], "round robin over the streams");
}

#[test]
fn window_overflow_is_a_flow_control_error() {
    let mut client = Client::new();
    let mut update = Vec::new();
    write_window_update(&mut update, 0, (1 << 31) - 1);
    client.send(&update);
    assert_eq!(
        goaway(&client.run()),
        Some(code(H2ErrorCode::FlowControlError))
    );
}

#[test]
fn a_settings_change_past_the_window_bound_is_a_flow_control_error() {
    let mut client = Client::new();
    client.send(&settings(&[(4, 0)]));
    let request = client.request(1, "GET", "/big", true);
    client.send(&request);
    client.run();
    let mut update = Vec::new();
    write_window_update(&mut update, 1, (1 << 31) - 1);
    client.send(&update);
    client.send(&settings(&[(4, 1)]));
    let frames = client.run();
    assert_eq!(goaway(&frames), Some(code(H2ErrorCode::FlowControlError)));
}

#[test]
fn stream_ids_must_increase_and_closed_streams_are_closed() {
    let mut client = Client::new();
    let request = client.request(5, "GET", "/", true);
    client.send(&request);
    client.run();
    // DATA on the closed stream 5: a stream error.
    client.send(&data(5, b"x", false));
    assert_eq!(client.run(), [Got::Rst(5, code(H2ErrorCode::StreamClosed))]);
    // Stream 3 was never opened and is below 5 (§5.1.1).
    let request = client.request(3, "GET", "/", true);
    client.send(&request);
    assert_eq!(
        goaway(&client.run()),
        Some(code(H2ErrorCode::ProtocolError))
    );
}

#[test]
fn a_frame_inside_a_header_block_is_a_connection_error() {
    let mut client = Client::new();
    let request = client.request(1, "GET", "/", true);
    let (head, rest) = request.split_at(9 + 3);
    let mut open = headers_frame(1, &head[9..], true, false);
    open.extend(frame(FrameType::Ping, 0, 0, &[0; 8]));
    let _ = rest;
    client.send(&open);
    assert_eq!(
        goaway(&client.run()),
        Some(code(H2ErrorCode::ProtocolError))
    );
}

#[test]
fn a_header_block_is_continued_and_bounded_in_frames() {
    let mut client = Client::new();
    let request = client.request(1, "GET", "/split", true);
    let block = &request[9..];
    let mut bytes = headers_frame(1, &block[..2], true, false);
    bytes.extend(frame(FrameType::Continuation, 0, 1, &block[2..4]));
    bytes.extend(frame(
        FrameType::Continuation,
        FrameHeader::END_HEADERS,
        1,
        &block[4..],
    ));
    client.send(&bytes);
    assert_eq!(
        status_of(&client.run(), 1),
        Some(("200".to_string(), false))
    );
    // CONTINUATION flood: a block that never ends.
    let mut flood = headers_frame(3, &[0x82], true, false);
    for _ in 0..bounds::MAX_BLOCK_FRAMES {
        flood.extend(frame(FrameType::Continuation, 0, 3, &[0x82]));
    }
    client.send(&flood);
    assert_eq!(
        goaway(&client.run()),
        Some(code(H2ErrorCode::EnhanceYourCalm))
    );
}

#[test]
fn a_header_block_too_large_in_bytes_is_refused() {
    let mut client = Client::new();
    let mut flood = headers_frame(1, &[0x82], true, false);
    let fragment = vec![0x82; 16 * 1024];
    for _ in 0..6 {
        flood.extend(frame(FrameType::Continuation, 0, 1, &fragment));
    }
    client.send(&flood);
    assert_eq!(
        goaway(&client.run()),
        Some(code(H2ErrorCode::EnhanceYourCalm))
    );
}

#[test]
fn an_hpack_bomb_gets_431_and_the_connection_goes_on() {
    let mut client = Client::new();
    // GET / with :authority x, as literals not indexed (RFC 7541 §6.2.2).
    let request = [0x82, 0x86, 0x84, 0x01, 0x01, b'x'];
    // A 4000-byte value put in the dynamic table (§6.2.1: 0x40, name, value)...
    let mut block = request.to_vec();
    block.extend([0x40, 6]);
    block.extend(b"x-bomb");
    block.extend([0x7f, 0xa1, 0x1e]);
    block.extend([b'v'; 4000]);
    client.send(&headers_frame(1, &block, true, true));
    assert_eq!(
        status_of(&client.run(), 1),
        Some(("200".to_string(), false))
    );
    // ... then referenced 100 times, one byte each (index 62): 400 KiB decoded.
    let mut block = request.to_vec();
    block.extend([0x80 | 62; 100]);
    client.send(&headers_frame(3, &block, true, true));
    let frames = client.run();
    assert_eq!(status_of(&frames, 3), Some(("431".to_string(), false)));
    let next = client.request(5, "GET", "/after", true);
    client.send(&next);
    assert_eq!(
        status_of(&client.run(), 5),
        Some(("200".to_string(), false))
    );
}

#[test]
fn too_many_concurrent_streams_are_refused() {
    let mut client = Client::new();
    client.send(&settings(&[(4, 0)]));
    for i in 0..MAX_CONCURRENT_STREAMS + 1 {
        let request = client.request(1 + 2 * i, "GET", "/big", true);
        client.send(&request);
    }
    let frames = client.run();
    let refused = 1 + 2 * MAX_CONCURRENT_STREAMS;
    assert!(frames.contains(&Got::Rst(refused, code(H2ErrorCode::RefusedStream))));
    assert_eq!(client.conn.streams.len(), MAX_CONCURRENT_STREAMS as usize);
}

#[test]
fn rapid_reset_gets_enhance_your_calm() {
    let mut client = Client::new();
    client.send(&settings(&[(4, 0)]));
    client.run();
    let mut id = 1;
    let mut frames = Vec::new();
    for _ in 0..=MAX_EARLY_RESETS {
        let request = client.request(id, "GET", "/big", true);
        client.send(&request);
        let mut reset = Vec::new();
        write_rst_stream(&mut reset, id, H2ErrorCode::Cancel);
        client.send(&reset);
        frames.extend(client.run());
        id += 2;
    }
    assert_eq!(goaway(&frames), Some(code(H2ErrorCode::EnhanceYourCalm)));
}

#[test]
fn empty_data_and_priority_floods_get_enhance_your_calm() {
    let mut client = Client::new();
    let post = client.request(1, "POST", "/", false);
    client.send(&post);
    client.run();
    for _ in 0..=FLOOD_BASE + FLOOD_PER_STREAM {
        client.send(&data(1, b"", false));
    }
    assert_eq!(
        goaway(&client.run()),
        Some(code(H2ErrorCode::EnhanceYourCalm))
    );
    let mut client = Client::new();
    let priority = frame(FrameType::Priority, 0, 3, &[0, 0, 0, 0, 16]);
    for _ in 0..=FLOOD_BASE {
        client.send(&priority);
    }
    assert_eq!(
        goaway(&client.run()),
        Some(code(H2ErrorCode::EnhanceYourCalm))
    );
}

#[test]
fn answers_to_a_ping_flood_are_bounded_while_the_client_does_not_read() {
    let mut client = Client::new();
    assert!(client.conn.takes_more_input());
    for _ in 0..(READ_HIGH / 17 + 200) {
        client.send(&frame(FrameType::Ping, 0, 0, &[1; 8]));
    }
    // The socket takes nothing: the core stops reading once its output is past the bound.
    client.run_until(0);
    assert!(client.conn.pending_out() < READ_HIGH + 64);
    assert!(
        !client.conn.takes_more_input(),
        "a transport reads no more for it"
    );
    assert!(
        client.conn.input.len() > client.conn.pos,
        "the rest waits unread"
    );
    // A client that reads nothing is cut off at the send timeout.
    client.later(TIMEOUTS.send);
    client.conn.expire(client.now);
    assert!(client.conn.is_finished());
}

#[test]
fn a_zero_window_hold_meets_the_send_timeout() {
    let mut client = Client::new();
    client.send(&settings(&[(4, 0)]));
    let request = client.request(1, "GET", "/big", true);
    client.send(&request);
    let frames = client.run();
    assert_eq!(data_of(&frames, 1), (0, false));
    assert!(
        client.conn.is_sending(),
        "data held back by a window is output waiting"
    );
    assert!(client.conn.pending_out() == 0);
    client.later(TIMEOUTS.send);
    client.conn.expire(client.now);
    assert!(client.conn.is_finished());
}

#[test]
fn settings_not_acknowledged_in_time_get_settings_timeout() {
    let mut client = Client::raw();
    let mut opening = PREFACE.to_vec();
    nomserve_grammar::write_settings(&mut opening, &[]);
    client.send(&opening);
    client.run();
    client.later(TIMEOUTS.header);
    client.conn.expire(client.now);
    assert_eq!(
        goaway(&client.run()),
        Some(code(H2ErrorCode::SettingsTimeout))
    );
}

#[test]
fn an_idle_connection_gets_goaway_at_the_keep_alive_timeout() {
    let mut client = Client::new();
    let request = client.request(1, "GET", "/", true);
    client.send(&request);
    client.run();
    assert!(client.conn.is_idle());
    client.later(TIMEOUTS.keep_alive);
    client.conn.expire(client.now);
    let frames = client.run();
    assert_eq!(frames, [Got::GoAway(1, code(H2ErrorCode::NoError))]);
    assert!(client.conn.is_finished());
}

#[test]
fn a_shutdown_sends_goaway_and_lets_streams_finish() {
    let mut client = Client::new();
    let mut update = Vec::new();
    write_window_update(&mut update, 0, 1 << 24);
    client.send(&update);
    client.send(&settings(&[(4, 1 << 24)]));
    let request = client.request(1, "GET", "/big", true);
    client.send(&request);
    client.run_until(1000);
    client.conn.begin_shutdown();
    let frames = client.run();
    assert!(frames.contains(&Got::GoAway(1, code(H2ErrorCode::NoError))));
    assert!(data_of(&frames, 1).1, "the stream in flight finished");
    // A stream opened after the GOAWAY is ignored (§6.8).
    let late = client.request(3, "GET", "/", true);
    client.send(&late);
    assert_eq!(status_of(&client.run(), 3), None);
}

#[test]
fn stream_ids_near_exhaustion_end_the_connection_gracefully() {
    let mut client = Client::new();
    let request = client.request(bounds::LAST_STREAM_ID + 2, "GET", "/", true);
    client.send(&request);
    let frames = client.run();
    assert_eq!(goaway(&frames), Some(code(H2ErrorCode::NoError)));
    assert_eq!(status_of(&frames, bounds::LAST_STREAM_ID + 2), None);
}

#[test]
fn settings_and_pings_are_acknowledged() {
    let mut client = Client::new();
    client.send(&settings(&[(1, 0), (5, 1 << 20)]));
    client.send(&frame(FrameType::Ping, 0, 0, &[7; 8]));
    assert_eq!(client.run(), [Got::SettingsAck, Got::PingAck]);
    assert_eq!(client.conn.peer_max_frame, 1 << 20);
}

#[test]
fn a_parked_request_waits_while_other_streams_go_on() {
    let mut client = Client::new();
    let wait = client.request(1, "GET", "/wait", true);
    client.send(&wait);
    assert!(client.run().is_empty(), "parked: no answer yet");
    let other = client.request(3, "GET", "/other", true);
    client.send(&other);
    assert_eq!(
        status_of(&client.run(), 3),
        Some(("200".to_string(), false))
    );
    // The handler's work is done: the parked request is handled again at the next turn.
    client.completion.take();
    let frames = client.run();
    assert_eq!(status_of(&frames, 1), Some(("200".to_string(), false)));
    assert_eq!(data_of(&frames, 1), (5, true));
}

#[test]
fn a_parked_request_gets_its_handlers_answer_at_the_deadline() {
    let mut client = Client::new();
    let wait = client.request(1, "GET", "/wait", true);
    client.send(&wait);
    client.run();
    client.later(TIMEOUTS.header);
    client.conn.expire(client.now);
    assert_eq!(
        status_of(&client.run(), 1),
        Some(("503".to_string(), false))
    );
}

#[test]
fn frames_on_idle_streams_and_stray_continuations_are_connection_errors() {
    for bad in [
        frame(FrameType::RstStream, 0, 1, &[0, 0, 0, 8]),
        data(1, b"x", true),
        frame(FrameType::WindowUpdate, 0, 1, &[0, 0, 0, 1]),
        frame(
            FrameType::Continuation,
            FrameHeader::END_HEADERS,
            1,
            &[0x82],
        ),
    ] {
        let mut client = Client::new();
        client.send(&bad);
        assert_eq!(
            goaway(&client.run()),
            Some(code(H2ErrorCode::ProtocolError)),
            "{bad:?}"
        );
    }
}

#[test]
fn headers_after_end_stream_are_stream_closed() {
    let mut client = Client::new();
    client.send(&settings(&[(4, 0)]));
    let request = client.request(1, "GET", "/big", true);
    client.send(&request);
    client.run();
    let again = client.request(1, "GET", "/", true);
    client.send(&again);
    assert_eq!(goaway(&client.run()), Some(code(H2ErrorCode::StreamClosed)));
}

#[test]
fn a_body_past_the_limit_gets_413_and_the_stream_is_reset_after_it() {
    let mut client = Client::new();
    let post = client.request(1, "POST", "/", false);
    client.send(&post);
    client.run();
    let chunk = vec![0; 16 * 1024];
    let mut frames = Vec::new();
    let mut sent = 0;
    while sent <= crate::conn::exchange::MAX_DISCARDED_BODY as usize {
        client.send(&data(1, &chunk, false));
        sent += chunk.len();
        frames.extend(client.run());
        if status_of(&frames, 1).is_some() {
            break;
        }
    }
    assert_eq!(status_of(&frames, 1), Some(("413".to_string(), false)));
    assert!(frames.contains(&Got::Rst(1, code(H2ErrorCode::NoError))));
    // The windows were given back as the body came: the client was never stalled.
    assert!(frames.iter().any(|f| matches!(f, Got::WindowUpdate(1, _))));
}

#[test]
fn trailers_end_the_request() {
    let mut client = Client::new();
    let post = client.request(1, "POST", "/", false);
    client.send(&post);
    client.send(&data(1, b"abc", false));
    let mut block = Vec::new();
    client
        .encoder
        .encode([(&b"x-checksum"[..], &b"1"[..])], &mut block);
    client.send(&headers_frame(1, &block, true, true));
    assert_eq!(
        status_of(&client.run(), 1),
        Some(("200".to_string(), false))
    );
}

#[test]
fn a_malformed_request_resets_its_stream_and_the_connection_goes_on() {
    let mut client = Client::new();
    let bad = client.request_with(1, "GET", "/", &[("connection", "close")], true);
    client.send(&bad);
    assert_eq!(
        client.run(),
        [Got::Rst(1, code(H2ErrorCode::ProtocolError))]
    );
    let good = client.request(3, "GET", "/", true);
    client.send(&good);
    assert_eq!(
        status_of(&client.run(), 3),
        Some(("200".to_string(), false))
    );
}

#[test]
fn a_deadline_expire_acts_on_is_not_asked_for_again() {
    // A connection whose output waits for a client that reads nothing, past every timer.
    let mut client = Client::new();
    let request = client.request(1, "GET", "/big", true);
    client.send(&request);
    client.run_until(0);
    let mut now = client.now;
    for _ in 0..10 {
        let Some(deadline) = client.conn.deadline() else {
            break;
        };
        assert!(deadline > now, "a deadline already passed");
        now = deadline;
        client.conn.expire(now);
    }
    assert!(client.conn.is_finished(), "cut off at the send timeout");
    // A connection closing after a connection error, its GOAWAY written.
    let mut client = Client::new();
    client.send(&frame(FrameType::Continuation, 0, 1, &[]));
    client.run();
    let deadline = client.conn.deadline().expect("the lingering close's");
    client.conn.expire(deadline);
    assert!(client.conn.is_closed());
    assert_eq!(client.conn.deadline(), None);
}

#[test]
fn a_head_larger_than_a_frame_goes_on_in_continuation_frames() {
    let mut client = Client::new();
    let request = client.request(1, "GET", "/fat", true);
    client.send(&request);
    let frames = client.run();
    // 40 000 bytes, some 30 000 once Huffman-coded: HEADERS, then one CONTINUATION.
    assert_eq!(client.continuations, 1);
    assert_eq!(field(&frames, 1, "x-fat").map(str::len), Some(40_000));
    assert_eq!(data_of(&frames, 1), (3, true));
}

#[test]
fn the_most_urgent_stream_sends_first() {
    let mut client = Client::new();
    let mut update = Vec::new();
    write_window_update(&mut update, 0, 1 << 24);
    client.send(&update);
    client.send(&settings(&[(4, 1 << 24)]));
    let image = client.request_with(1, "GET", "/big", &[("priority", "u=5, i")], true);
    let page = client.request_with(3, "GET", "/big", &[("priority", "u=0")], true);
    client.send(&image);
    client.send(&page);
    let frames = client.run();
    let order: Vec<u32> = frames
        .iter()
        .filter_map(|frame| match frame {
            Got::Data(id, _, _) => Some(*id),
            _ => None,
        })
        .collect();
    let first_image = order.iter().position(|&id| id == 1).unwrap();
    assert!(
        order[..first_image].iter().filter(|&&id| id == 3).count() >= BIG / 16_384,
        "{order:?}"
    );
}

mod regions;
mod taking;
