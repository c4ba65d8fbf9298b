//! A small HTTP/2 client for the tests that drive the real binary frame by frame: h2c with
//! prior knowledge (RFC 9113 §3.3) over a plain socket, frames written with the grammar
//! crate's serialisers and [`FrameHeader`], header blocks with its [`HpackEncoder`] (or by
//! hand, where a test needs a block no encoder would write), and responses read back frame by
//! frame and decoded with its [`HpackDecoder`].
//!
//! The reader is deliberately lenient: it splits the byte stream on the 9-byte frame header
//! (§4.1) and checks nothing else, so that a test sees exactly what the server sent.

// Each test crate that includes this file uses some of it, as with `common/mod.rs`.
#![allow(dead_code)]

use crate::common::Server;
use nomserve_grammar::{
    DecodeLimits, DecodedFields, FrameHeader, FrameType, H2ErrorCode, HpackDecoder, HpackEncoder,
    MIN_MAX_FRAME_SIZE, Setting, write_settings, write_settings_ack,
};
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;

/// The client connection preface's fixed octets (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A frame as it came off the wire: its header's fields and its payload, unchecked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The type byte.
    pub kind: u8,
    /// The flags byte.
    pub flags: u8,
    /// The stream identifier, the reserved bit dropped.
    pub stream_id: u32,
    /// The payload.
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// Whether this is a frame of type `kind`.
    pub fn is(&self, kind: FrameType) -> bool {
        self.kind == kind.wire()
    }

    /// The big-endian `u32` at `offset` in the payload.
    pub fn u32_at(&self, offset: usize) -> u32 {
        u32::from_be_bytes(self.payload[offset..offset + 4].try_into().unwrap())
    }

    /// A GOAWAY's last stream id and error code (RFC 9113 §6.8).
    pub fn goaway(&self) -> Option<(u32, u32)> {
        self.is(FrameType::GoAway)
            .then(|| (self.u32_at(0) & 0x7fff_ffff, self.u32_at(4)))
    }

    /// An RST_STREAM's error code (RFC 9113 §6.4).
    pub fn reset_code(&self) -> Option<u32> {
        self.is(FrameType::RstStream).then(|| self.u32_at(0))
    }
}

/// The bytes of a frame of any type: its 9-byte header (RFC 9113 §4.1) then `payload`.
pub fn frame(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        length: payload.len() as u32,
        frame_type: kind,
        flags,
        stream_id,
    };
    let mut out = header.encode().to_vec();
    out.extend_from_slice(payload);
    out
}

/// A HEADERS frame (RFC 9113 §6.2) carrying `block`, unpadded and without priority.
pub fn headers(stream_id: u32, block: &[u8], end_stream: bool, end_headers: bool) -> Vec<u8> {
    let mut out = Vec::new();
    FrameHeader::headers(stream_id, block.len() as u32, end_stream, end_headers).write(&mut out);
    out.extend_from_slice(block);
    out
}

/// A CONTINUATION frame (RFC 9113 §6.10) carrying `fragment`.
pub fn continuation(stream_id: u32, fragment: &[u8], end_headers: bool) -> Vec<u8> {
    let mut out = Vec::new();
    FrameHeader::continuation(stream_id, fragment.len() as u32, end_headers).write(&mut out);
    out.extend_from_slice(fragment);
    out
}

/// A DATA frame (RFC 9113 §6.1) carrying `data`, unpadded.
pub fn data(stream_id: u32, data: &[u8], end_stream: bool) -> Vec<u8> {
    let mut out = Vec::new();
    FrameHeader::data(stream_id, data.len() as u32, end_stream).write(&mut out);
    out.extend_from_slice(data);
    out
}

/// A PING frame (RFC 9113 §6.7) that asks for an answer.
pub fn ping(opaque: [u8; 8]) -> Vec<u8> {
    frame(FrameType::Ping.wire(), 0, 0, &opaque)
}

/// A PRIORITY frame (RFC 9113 §6.3): `stream_id` made to depend on `dependency`.
pub fn priority(stream_id: u32, dependency: u32, weight: u8) -> Vec<u8> {
    let mut payload = dependency.to_be_bytes().to_vec();
    payload.push(weight);
    frame(FrameType::Priority.wire(), 0, stream_id, &payload)
}

/// A SETTINGS frame (RFC 9113 §6.5) carrying `settings`.
pub fn settings(settings: &[Setting]) -> Vec<u8> {
    let mut out = Vec::new();
    write_settings(&mut out, settings);
    out
}

/// The header block of a request: the pseudo-header fields for `method` and `path` over h2c,
/// then `extra`, HPACK-encoded by `encoder`.
pub fn request_block(
    encoder: &mut HpackEncoder,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut fields: Vec<(&[u8], &[u8])> = vec![
        (b":method", method.as_bytes()),
        (b":scheme", b"http"),
        (b":authority", b"localhost"),
        (b":path", path.as_bytes()),
    ];
    fields.extend(extra.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())));
    let mut block = Vec::new();
    encoder.encode(fields, &mut block);
    block
}

/// `value` as an HPACK integer with a `prefix_bits`-bit prefix, the first octet's other bits
/// `flags` (RFC 7541 §5.1).
pub fn hpack_int(value: usize, prefix_bits: u8, flags: u8, out: &mut Vec<u8>) {
    let max = (1usize << prefix_bits) - 1;
    if value < max {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = value - max;
    while rest >= 0x80 {
        out.push((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// A raw (not Huffman-coded) HPACK string literal (RFC 7541 §5.2).
pub fn hpack_string(bytes: &[u8], out: &mut Vec<u8>) {
    hpack_int(bytes.len(), 7, 0, out);
    out.extend_from_slice(bytes);
}

/// A literal field with incremental indexing and a new name (RFC 7541 §6.2.1): the field is
/// decoded once and enters the dynamic table, as index 62 (§2.3.3).
pub fn indexed_literal(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    out.push(0x40);
    hpack_string(name, out);
    hpack_string(value, out);
}

/// The frames carrying header block `block` on `stream_id`: one HEADERS then as many
/// CONTINUATIONs as the default SETTINGS_MAX_FRAME_SIZE needs (RFC 9113 §4.2, §6.10).
pub fn header_frames(stream_id: u32, block: &[u8], end_stream: bool) -> Vec<u8> {
    let mut pieces = block.chunks(MIN_MAX_FRAME_SIZE as usize).peekable();
    let first = pieces.next().unwrap_or_default();
    let mut out = headers(stream_id, first, end_stream, pieces.peek().is_none());
    while let Some(piece) = pieces.next() {
        out.extend(continuation(stream_id, piece, pieces.peek().is_none()));
    }
    out
}

/// A response as the client saw it on one stream.
#[derive(Debug, Clone, Default)]
pub struct H2Response {
    /// `:status`.
    pub status: u16,
    /// The other fields, in order.
    pub headers: Vec<(String, String)>,
    /// The DATA received.
    pub body: Vec<u8>,
    /// The RST_STREAM code, if the stream was reset instead of ended.
    pub reset: Option<u32>,
}

impl H2Response {
    /// The first field named `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why [`H2::response`] gave up on a stream: the connection ended first.
#[derive(Debug, Clone)]
pub struct ConnectionEnded {
    /// The GOAWAY's last stream id and error code, if one came.
    pub goaway: Option<(u32, u32)>,
}

/// One h2c connection: the socket, the bytes read past the last frame, and the HPACK contexts.
pub struct H2 {
    /// The socket, with the harness's timeouts.
    pub stream: TcpStream,
    buffer: Vec<u8>,
    /// The encoder of our request headers.
    pub encoder: HpackEncoder,
    decoder: HpackDecoder,
    next_stream: u32,
}

impl H2 {
    /// A connection to `server` over which the preface and an empty SETTINGS frame are sent,
    /// nothing read yet.
    pub fn open(server: &Server) -> H2 {
        H2::over(server.connect())
    }

    /// The same over a socket the caller made (small buffers, a source address).
    pub fn over(stream: TcpStream) -> H2 {
        let mut h2 = H2::reader(stream);
        let mut preface = PREFACE.to_vec();
        preface.extend(settings(&[]));
        h2.send(&preface);
        h2
    }

    /// A connection to `server` whose settings exchange is done: the preface and `ours`
    /// sent, the server's SETTINGS read and acknowledged, and our SETTINGS' ACK read (frames
    /// other than those two read meanwhile are dropped).
    pub fn handshake(server: &Server, ours: &[Setting]) -> H2 {
        let mut stream = server.connect();
        let mut preface = PREFACE.to_vec();
        preface.extend(settings(ours));
        stream.write_all(&preface).expect("send the preface");
        let mut h2 = H2::reader(stream);
        let (mut theirs, mut acked) = (false, false);
        while !(theirs && acked) {
            let frame = h2.read_frame().expect("the server's SETTINGS and its ACK");
            if frame.is(FrameType::Settings) {
                if frame.flags & FrameHeader::ACK != 0 {
                    acked = true;
                } else {
                    theirs = true;
                    let mut ack = Vec::new();
                    write_settings_ack(&mut ack);
                    h2.send(&ack);
                }
            }
        }
        h2
    }

    /// A connection over `stream` on which nothing is sent yet.
    pub fn reader(stream: TcpStream) -> H2 {
        H2 {
            stream,
            buffer: Vec::new(),
            encoder: HpackEncoder::new(),
            decoder: HpackDecoder::new(4096),
            next_stream: 1,
        }
    }

    /// Writes `bytes`, failing the test if the connection refuses them.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send frames");
    }

    /// The next odd stream identifier, as a client opens them (RFC 9113 §5.1.1).
    pub fn next_stream_id(&mut self) -> u32 {
        let id = self.next_stream;
        self.next_stream += 2;
        id
    }

    /// Sends `GET path` with `extra` fields on a new stream; returns its identifier.
    pub fn send_get(&mut self, path: &str, extra: &[(&str, &str)]) -> u32 {
        let id = self.next_stream_id();
        let block = request_block(&mut self.encoder, "GET", path, extra);
        self.send(&headers(id, &block, true, true));
        id
    }

    /// The next frame, or `None` once the server has closed (or reset) the connection. Fails
    /// the test on a read timeout.
    pub fn read_frame(&mut self) -> Option<RawFrame> {
        self.next_frame()
            .unwrap_or_else(|e| panic!("reading frames: {e}"))
    }

    /// The next frame, `Ok(None)` once the server has closed (or reset) the connection, or
    /// the read's error (a timeout).
    pub fn next_frame(&mut self) -> std::io::Result<Option<RawFrame>> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if self.buffer.len() >= 9 {
                let length = u32::from_be_bytes([0, self.buffer[0], self.buffer[1], self.buffer[2]])
                    as usize;
                if self.buffer.len() >= 9 + length {
                    let frame = RawFrame {
                        kind: self.buffer[3],
                        flags: self.buffer[4],
                        stream_id: u32::from_be_bytes(self.buffer[5..9].try_into().unwrap())
                            & 0x7fff_ffff,
                        payload: self.buffer[9..9 + length].to_vec(),
                    };
                    self.buffer.drain(..9 + length);
                    return Ok(Some(frame));
                }
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return Ok(None),
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads frames until the server closes the connection: every frame it sent.
    pub fn read_to_close(&mut self) -> Vec<RawFrame> {
        std::iter::from_fn(|| self.read_frame()).collect()
    }

    /// Reads the response on `stream_id` to its end (END_STREAM or RST_STREAM), answering
    /// PINGs and SETTINGS, opening the windows by what DATA took, and skipping other streams'
    /// frames. `Err` if the connection ends first.
    pub fn response(&mut self, stream_id: u32) -> Result<H2Response, ConnectionEnded> {
        let mut response = H2Response::default();
        let mut block = Vec::new();
        let mut block_ends_stream = false;
        loop {
            let Some(frame) = self.read_frame() else {
                return Err(ConnectionEnded { goaway: None });
            };
            if let Some(goaway) = frame.goaway() {
                if goaway.0 < stream_id || goaway.1 != H2ErrorCode::NoError.wire() {
                    return Err(ConnectionEnded {
                        goaway: Some(goaway),
                    });
                }
                continue;
            }
            self.answer(&frame);
            if frame.stream_id != stream_id {
                continue;
            }
            let end_stream = frame.flags & FrameHeader::END_STREAM != 0;
            match FrameType::from_wire(frame.kind) {
                Some(FrameType::Headers) | Some(FrameType::Continuation) => {
                    if frame.is(FrameType::Headers) {
                        // END_STREAM on HEADERS takes effect once its CONTINUATIONs are in
                        // (RFC 9113 §8.1).
                        block_ends_stream = end_stream;
                    }
                    block.extend_from_slice(header_fragment(&frame));
                    if frame.flags & FrameHeader::END_HEADERS != 0 {
                        self.decode_into(&block, &mut response);
                        block.clear();
                        if block_ends_stream {
                            return Ok(response);
                        }
                    }
                }
                Some(FrameType::Data) => {
                    let pad = if frame.flags & FrameHeader::PADDED != 0 {
                        frame.payload[0] as usize + 1
                    } else {
                        0
                    };
                    let start = usize::from(pad > 0);
                    response.body.extend_from_slice(
                        &frame.payload[start..frame.payload.len() + start - pad],
                    );
                    if end_stream {
                        return Ok(response);
                    }
                }
                Some(FrameType::RstStream) => {
                    response.reset = frame.reset_code();
                    return Ok(response);
                }
                _ => {}
            }
        }
    }

    /// `GET path` on a new stream, and its whole response.
    pub fn get(&mut self, path: &str) -> H2Response {
        let id = self.send_get(path, &[]);
        self.response(id).unwrap_or_else(|ended| {
            panic!("connection ended before the response to {path}: {ended:?}")
        })
    }

    /// What a client owes the server for `frame`: a PING's answer, a SETTINGS' ACK, and the
    /// windows DATA used up, given back.
    fn answer(&mut self, frame: &RawFrame) {
        let mut out = Vec::new();
        match FrameType::from_wire(frame.kind) {
            Some(FrameType::Ping) if frame.flags & FrameHeader::ACK == 0 => {
                out = self::frame(FrameType::Ping.wire(), FrameHeader::ACK, 0, &frame.payload);
            }
            Some(FrameType::Settings) if frame.flags & FrameHeader::ACK == 0 => {
                write_settings_ack(&mut out);
            }
            Some(FrameType::Data) if !frame.payload.is_empty() => {
                let n = frame.payload.len() as u32;
                nomserve_grammar::write_window_update(&mut out, 0, n);
                nomserve_grammar::write_window_update(&mut out, frame.stream_id, n);
            }
            _ => {}
        }
        if !out.is_empty() {
            // The stream may be over on the server's side already; a failed write shows in
            // the next read.
            let _ = self.stream.write_all(&out);
        }
    }

    /// Decodes a whole header block of a response into `response`.
    fn decode_into(&mut self, block: &[u8], response: &mut H2Response) {
        let mut fields = DecodedFields::new();
        let limits = DecodeLimits {
            max_list_size: 1 << 20,
            max_fields: 1000,
        };
        self.decoder
            .decode(block, &mut fields, &limits)
            .expect("the server's header block decodes");
        for field in fields.iter() {
            let name = String::from_utf8_lossy(field.name).into_owned();
            let value = String::from_utf8_lossy(field.value).into_owned();
            if name == ":status" {
                response.status = value.parse().expect("numeric :status");
            } else {
                response.headers.push((name, value));
            }
        }
    }
}

/// The field block fragment of a HEADERS or CONTINUATION frame: without padding and the
/// priority fields a HEADERS frame may carry (RFC 9113 §6.2).
fn header_fragment(frame: &RawFrame) -> &[u8] {
    let mut payload = &frame.payload[..];
    if frame.is(FrameType::Headers) {
        let mut pad = 0;
        if frame.flags & FrameHeader::PADDED != 0 {
            pad = payload[0] as usize;
            payload = &payload[1..];
        }
        if frame.flags & FrameHeader::PRIORITY != 0 {
            payload = &payload[5..];
        }
        payload = &payload[..payload.len() - pad];
    }
    payload
}

/// The first GOAWAY among `frames`: its last stream id and error code.
pub fn goaway(frames: &[RawFrame]) -> Option<(u32, u32)> {
    frames.iter().find_map(RawFrame::goaway)
}

/// Another client, on a connection of its own, is served: `GET /test.txt` over h2c gets the
/// file.
pub fn assert_served(server: &Server) {
    let mut other = H2::open(server);
    let response = other.get("/test.txt");
    assert_eq!(response.status, 200, "another client: {response:?}");
    let expected = fs::read(server.root.join("test.txt")).expect("read test.txt");
    assert_eq!(response.body, expected, "another client's body");
}
