//! A file's DATA frames with their payloads as file regions: each frame's header ends the bytes
//! the transport is given, its payload follows as a region of the file, frames queued
//! meanwhile come after the region, and the frames put back together carry the file,
//! whatever prefixes of each item the transport takes.

use super::*;
use nomserve_grammar::FRAME_HEADER_LEN;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;

/// The length of `/file`: two frames of [`REGION_PAYLOAD`] and a shorter last one.
const FILE_LEN: usize = 2 * REGION_PAYLOAD + 7_250;

/// The last frame's payload.
const LAST: usize = FILE_LEN - 2 * REGION_PAYLOAD;

/// `/file`'s byte at `i`: its pattern does not repeat at any frame's length.
fn byte_at(i: usize) -> u8 {
    (i * 31 + i / 251) as u8
}

/// The file `/file` serves: an unnamed temporary file, made once.
fn file() -> Arc<File> {
    static FILE: OnceLock<Arc<File>> = OnceLock::new();
    let file = FILE.get_or_init(|| {
        let mut file = tempfile::tempfile().unwrap();
        let content: Vec<u8> = (0..FILE_LEN).map(byte_at).collect();
        file.write_all(&content).unwrap();
        Arc::new(file)
    });
    Arc::clone(file)
}

/// The answer to `GET /file`.
pub(super) fn file_response() -> Response {
    Response::new(200).body(Body::File {
        file: file(),
        offset: 0,
        len: FILE_LEN as u64,
    })
}

/// What the connection gave the transport to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Given {
    /// This many bytes; `more`: a file region follows them.
    Bytes(usize, bool),
    /// A file region: offset and length.
    File(u64, u64),
}

impl Client {
    /// Polls once and takes at most `budget` bytes of what the connection gives, as the TLS
    /// transport does: bytes as they are, a region read from its file. `None`: the
    /// connection wants no write.
    fn take(&mut self, budget: usize) -> Option<Given> {
        let ctx = Context {
            handler: &self.handler,
            trusted: &TrustedProxies::default(),
            shutting_down: self.shutting_down,
            waker: &|| Waker::noop().clone(),
        };
        let (given, n) = match self.conn.poll(&ctx, self.now) {
            Want::Write(Item::Bytes { bytes, more }) => {
                let n = bytes.len().min(budget);
                self.received.extend_from_slice(&bytes[..n]);
                (Given::Bytes(bytes.len(), more), n)
            }
            Want::Write(Item::File { file, offset, len }) => {
                let mut payload = vec![0; (len as usize).min(budget)];
                file.read_exact_at(&mut payload, offset).unwrap();
                self.received.extend_from_slice(&payload);
                (Given::File(offset, len), payload.len())
            }
            _ => return None,
        };
        self.conn.took(n);
        Some(given)
    }

    /// Takes what the connection gives, at most `budget` bytes at a time, until it wants
    /// no write; returns what it gave.
    fn take_all(&mut self, budget: usize) -> Vec<Given> {
        std::iter::from_fn(|| self.take(budget)).collect()
    }

    /// Requests `/file` on stream 1.
    fn get_file(&mut self) {
        let request = self.request(1, "GET", "/file", true);
        self.send(&request);
    }
}

/// The DATA frames in `bytes`: stream, payload, END_STREAM.
fn data_frames(bytes: &[u8]) -> Vec<(u32, Vec<u8>, bool)> {
    let mut frames = Vec::new();
    let mut at = 0;
    while let Ok(ParsedFrame::Complete { frame, consumed }) = parse_frame(&bytes[at..], 1 << 24) {
        at += consumed;
        if let Frame::Data(data) = frame {
            frames.push((data.stream_id, data.data.to_vec(), data.end_stream));
        }
    }
    assert_eq!(at, bytes.len(), "whole frames");
    frames
}

/// Checks that the DATA frames received carry the whole file on stream 1 in frames of
/// [`REGION_PAYLOAD`] (the last shorter, and the only one with END_STREAM); returns the
/// frames received, parsed.
fn check_file_frames(client: &mut Client) -> Vec<Got> {
    let data = data_frames(&client.received);
    let lengths: Vec<(u32, usize, bool)> = data
        .iter()
        .map(|(id, payload, end)| (*id, payload.len(), *end))
        .collect();
    assert_eq!(
        lengths,
        [
            (1, REGION_PAYLOAD, false),
            (1, REGION_PAYLOAD, false),
            (1, LAST, true)
        ]
    );
    let content: Vec<u8> = data
        .into_iter()
        .flat_map(|(_, payload, _)| payload)
        .collect();
    assert!(content.iter().enumerate().all(|(i, &b)| b == byte_at(i)));
    client.frames()
}

#[test]
fn each_data_frame_of_a_file_is_its_header_then_a_region() {
    let mut client = Client::new();
    client.get_file();
    let given = client.take_all(usize::MAX);
    let Some(&Given::Bytes(head, true)) = given.first() else {
        panic!("the response's HEADERS and first DATA header come first: {given:?}");
    };
    let payload = REGION_PAYLOAD as u64;
    assert_eq!(
        given,
        [
            Given::Bytes(head, true),
            Given::File(0, payload),
            Given::Bytes(FRAME_HEADER_LEN, true),
            Given::File(payload, payload),
            Given::Bytes(FRAME_HEADER_LEN, true),
            Given::File(2 * payload, LAST as u64),
        ]
    );
    // A frame's header and payload fill one TLS record's 16 KiB.
    assert_eq!(FRAME_HEADER_LEN + REGION_PAYLOAD, 16 * 1024);
    let frames = check_file_frames(&mut client);
    assert_eq!(status_of(&frames, 1), Some(("200".to_string(), false)));
    assert_eq!(
        field(&frames, 1, "content-length"),
        Some(FILE_LEN.to_string().as_str())
    );
    assert!(client.conn.streams.is_empty());
    assert_eq!(client.conn.pending_out(), 0);
}

#[test]
fn a_transport_may_take_a_prefix_of_each_item() {
    let mut client = Client::new();
    client.get_file();
    let Some(Given::Bytes(head, true)) = client.take(5) else {
        panic!("the head comes first");
    };
    assert_eq!(client.take(usize::MAX), Some(Given::Bytes(head - 5, true)));
    // The region pending counts as output: it bounds what is read.
    assert_eq!(client.conn.pending_out(), REGION_PAYLOAD);
    let payload = REGION_PAYLOAD as u64;
    assert_eq!(client.take(1000), Some(Given::File(0, payload)));
    assert_eq!(
        client.take(usize::MAX),
        Some(Given::File(1000, payload - 1000))
    );
    // The region taken, the next frame is made: its header, taken in two.
    assert_eq!(client.take(4), Some(Given::Bytes(FRAME_HEADER_LEN, true)));
    assert_eq!(client.take(usize::MAX), Some(Given::Bytes(5, true)));
    assert_eq!(client.take(usize::MAX), Some(Given::File(payload, payload)));
    client.take_all(usize::MAX);
    check_file_frames(&mut client);
}

#[test]
fn the_frames_put_back_together_carry_the_file_whatever_the_transport_takes() {
    for budget in [1, 7, 997, 16 * 1024, 20_000] {
        let mut client = Client::new();
        client.get_file();
        let given = client.take_all(budget);
        assert!(given.iter().any(|item| matches!(item, Given::File(..))));
        let frames = check_file_frames(&mut client);
        assert_eq!(status_of(&frames, 1), Some(("200".to_string(), false)));
    }
}

#[test]
fn a_ping_answered_while_a_region_is_pending_follows_it() {
    let mut client = Client::new();
    client.get_file();
    assert!(matches!(
        client.take(usize::MAX),
        Some(Given::Bytes(_, true))
    ));
    client.send(&frame(FrameType::Ping, 0, 0, &[7; 8]));
    // The PING is read and answered, behind the region.
    let payload = REGION_PAYLOAD as u64;
    assert_eq!(client.take(100), Some(Given::File(0, payload)));
    let ack = FRAME_HEADER_LEN + 8;
    assert_eq!(client.conn.pending_out(), REGION_PAYLOAD - 100 + ack);
    assert_eq!(
        client.take(usize::MAX),
        Some(Given::File(100, payload - 100))
    );
    // Then the acknowledgement, and the next DATA frame's header after it.
    assert_eq!(
        client.take(usize::MAX),
        Some(Given::Bytes(ack + FRAME_HEADER_LEN, true))
    );
    client.take_all(usize::MAX);
    let frames = check_file_frames(&mut client);
    assert_eq!(
        frames[1..],
        [
            Got::Data(1, REGION_PAYLOAD, false),
            Got::PingAck,
            Got::Data(1, REGION_PAYLOAD, false),
            Got::Data(1, LAST, true),
        ]
    );
}

#[test]
fn a_region_is_no_larger_than_the_stream_window() {
    let mut client = Client::new();
    // SETTINGS_INITIAL_WINDOW_SIZE (0x4): 1000 bytes per stream.
    client.send(&settings(&[(0x4, 1000)]));
    client.get_file();
    assert!(matches!(
        client.take(usize::MAX),
        Some(Given::Bytes(_, true))
    ));
    assert_eq!(client.take(usize::MAX), Some(Given::File(0, 1000)));
    assert_eq!(client.take(usize::MAX), None, "the window is shut");
    let mut update = Vec::new();
    write_window_update(&mut update, 1, FILE_LEN as u32);
    client.send(&update);
    assert_eq!(
        client.take(usize::MAX),
        Some(Given::Bytes(FRAME_HEADER_LEN, true))
    );
    assert_eq!(
        client.take(usize::MAX),
        Some(Given::File(1000, REGION_PAYLOAD as u64))
    );
    client.take_all(usize::MAX);
    let data = data_frames(&client.received);
    let sent: usize = data.iter().map(|(_, payload, _)| payload.len()).sum();
    assert_eq!(sent, FILE_LEN);
    assert_eq!(data.last().map(|(_, _, end)| *end), Some(true));
}

#[test]
fn answers_queued_behind_a_region_are_bounded_with_it() {
    let mut client = Client::new();
    client.get_file();
    assert!(matches!(
        client.take(usize::MAX),
        Some(Given::Bytes(_, true))
    ));
    // HEAD requests, each answered with a HEADERS frame alone: the stream is done, so the
    // flood budget grows with each, and only the output bounds what is read.
    for id in (3..20_000).step_by(2) {
        let request = client.request(id, "HEAD", "/h", true);
        client.send(&request);
    }
    // The socket takes nothing: the heads stop at the bound, the region counted in it.
    assert_eq!(client.take(0), Some(Given::File(0, REGION_PAYLOAD as u64)));
    let queued = client.conn.out.len() - client.conn.out_pos;
    assert!(
        queued + REGION_PAYLOAD < READ_HIGH + 64,
        "{queued} bytes queued"
    );
    assert!(queued + REGION_PAYLOAD >= READ_HIGH);
    assert_eq!(client.conn.pending_out(), queued + REGION_PAYLOAD);
    assert!(!client.conn.takes_more_input());
    assert!(
        client.conn.input.len() > client.conn.pos,
        "the rest waits unread"
    );
}
