//! The attacks HTTP/2 servers were taken down by, each mounted against the real binary over
//! h2c with prior knowledge (RFC 9113 §3.3), frame by frame. Each test is named after its
//! attack and shows three things: the server answers the attack as it should (a GOAWAY with
//! an error code, an RST_STREAM, a 431, or the connection cut off), another client is served
//! meanwhile or after, and the server's memory (VmRSS) and descriptors stay bounded.
//!
//! Above each test: the bound it checks, and how the test fails without it. The memory
//! margin is generous (a debug build, allocator slack, worker threads), and each attack is
//! sized to pass it many times over if its bound were gone.
//!
//! No test sleeps to wait for something: each waits on a socket (with the harness's read and
//! write timeouts) or polls a count with a deadline. The only sleeps pace a dribbling client,
//! which is input, not waiting.

mod common;
#[path = "common/flood.rs"]
mod flood;
#[path = "common/h2.rs"]
mod h2;
#[path = "common/proc.rs"]
mod proc;

use common::{Server, TIMEOUT, slow_socket, www};
use flood::{Flood, Seen, flood_with, read_in_background};
use h2::{
    H2, RawFrame, assert_served, continuation, data, goaway, header_frames, headers,
    indexed_literal, ping, priority, request_block, settings,
};
use nomserve_grammar::{
    FrameType, H2ErrorCode, HpackEncoder, Setting, write_rst_stream, write_window_update,
};
use proc::{fd_count, rss_kb, wait_fds_at_most};
use std::fs;
use std::thread;
use std::time::{Duration, Instant};

/// How much the server's resident memory may grow through an attack, in kB: what a few
/// connections' buffers and allocator slack take in a debug build, and a small fraction of
/// what each attack would cost without its bound.
const RSS_MARGIN_KB: u64 = 32 * 1024;

/// ENHANCE_YOUR_CALM, the code a server gives a peer generating excessive load (RFC 9113 §7).
const CALM: u32 = H2ErrorCode::EnhanceYourCalm as u32;

/// The server's resident memory once it has served one client over HTTP/2: the baseline an
/// attack is measured against.
fn warmed_up(server: &Server) -> u64 {
    assert_served(server);
    rss_kb(server)
}

/// Fails the test if the server's resident memory grew by more than [`RSS_MARGIN_KB`] since
/// `before`.
fn assert_memory_bounded(server: &Server, before: u64, attack: &str) {
    let after = rss_kb(server);
    assert!(
        after <= before + RSS_MARGIN_KB,
        "{attack}: the server's VmRSS grew from {before} kB to {after} kB"
    );
}

/// Asserts that the server answered a flood by ending the connection: `frames` (all it sent)
/// hold a GOAWAY with an error code other than NO_ERROR, or, with `code`, that code.
fn assert_goaway(frames: &[RawFrame], code: Option<u32>, attack: &str) -> (u32, u32) {
    let kinds: Vec<u8> = frames.iter().rev().take(8).map(|f| f.kind).collect();
    let found = goaway(frames).unwrap_or_else(|| {
        panic!(
            "{attack}: no GOAWAY among the {} frames the server sent (last types: {kinds:?})",
            frames.len()
        )
    });
    match code {
        Some(code) => assert_eq!(found.1, code, "{attack}: GOAWAY {found:?}"),
        None => assert_ne!(found.1, 0, "{attack}: GOAWAY {found:?} with NO_ERROR"),
    }
    found
}

/// Mounts a flood on a connection whose settings exchange is done, while a reader takes
/// everything the server sends: `open` sends what comes first (a request), then `unit(i,
/// out)` writes the `i`th copy of the flood's frames, `count` copies at most. Returns what
/// the reader saw, once the server closed the connection or the read timed out.
fn read_flood(
    server: &Server,
    open: impl FnOnce(&mut H2),
    count: usize,
    unit: impl FnMut(usize, &mut Vec<u8>),
) -> (Seen, Flood) {
    let mut conn = H2::handshake(server, &[]);
    let reader = read_in_background(&conn.stream);
    open(&mut conn);
    let flooded = flood_with(&mut conn.stream, count, unit);
    (reader.join().unwrap(), flooded)
}

/// Asserts that the server ended a flood as a flood: GOAWAY(ENHANCE_YOUR_CALM), then the
/// connection closed (RFC 9113 §5.4.1).
fn assert_calmed(seen: &Seen, flooded: &Flood, attack: &str) {
    assert_goaway(&seen.frames, Some(CALM), attack);
    assert!(
        seen.closed,
        "{attack}: GOAWAY sent but the connection is still open ({flooded:?})"
    );
}

/// CVE-2023-44487, Rapid Reset: a client opens streams and resets each at once, so that it
/// never has more than one open and MAX_CONCURRENT_STREAMS never stops it, while the server
/// starts a response for every one. The file asked for is 1 MiB: its response cannot be
/// over (the client opens no window) when the reset comes.
///
/// Bound: the server counts streams the client reset before their response was done
/// (`MAX_EARLY_RESETS`, 200 beyond the streams that finished) and past it ends the
/// connection with GOAWAY(ENHANCE_YOUR_CALM). Without it the server takes all 100 000
/// streams, and the only GOAWAY that comes is the keep-alive timeout's, with NO_ERROR.
#[test]
fn rapid_reset_cve_2023_44487() {
    let root = root_with_big_file();
    let server = Server::with_args(root.path(), &[]);
    let before = warmed_up(&server);
    // The block indexes nothing: the same bytes are valid on every stream.
    let block = request_block(&mut HpackEncoder::new(), "GET", "/big.bin", &[]);
    let (seen, flooded) = read_flood(
        &server,
        |_| {},
        100_000,
        |i, out| {
            let id = 1 + 2 * i as u32;
            out.extend(headers(id, &block, true, true));
            write_rst_stream(out, id, H2ErrorCode::Cancel);
        },
    );
    assert_calmed(&seen, &flooded, "Rapid Reset");
    assert_served(&server);
    assert_memory_bounded(&server, before, "Rapid Reset");
}

/// CVE-2024-27316 and its 2024 kin, CONTINUATION flood: a HEADERS frame without END_HEADERS
/// followed by CONTINUATION frames that never end the block, which a server buffers (or
/// decodes) without end. Two floods: large frames of valid fields, then empty frames.
///
/// Bounds: a header block is bounded in bytes (`MAX_HEADER_BLOCK`: the header list size we
/// advertise and a frame of encoding) and in frames (`MAX_BLOCK_FRAMES`, 32); past either,
/// GOAWAY(ENHANCE_YOUR_CALM) and close. Without the byte bound the first flood's 100 MB are
/// all taken (held in memory, or decoded and thrown away) and no ENHANCE_YOUR_CALM comes;
/// without the frame bound the second flood's million empty frames are all taken.
#[test]
fn continuation_flood_cve_2024_27316() {
    let server = Server::start();
    let before = warmed_up(&server);
    let start_block = |conn: &mut H2| {
        let start = request_block(&mut conn.encoder, "GET", "/test.txt", &[]);
        conn.send(&headers(1, &start, true, false));
    };

    // Every CONTINUATION carries 15 fields of 1 000 bytes: valid HPACK, so that only the
    // size of the block can stop it.
    let mut filler = Vec::new();
    let value = vec![b'a'; 1000];
    for _ in 0..15 {
        HpackEncoder::new().encode([(&b"x-filler"[..], &value[..])], &mut filler);
    }
    let unit = continuation(1, &filler, false);
    let (seen, flooded) = read_flood(&server, start_block, 10_000, |_, out| {
        out.extend_from_slice(&unit)
    });
    assert_calmed(&seen, &flooded, "CONTINUATION flood, large frames");
    assert_served(&server);

    let unit = continuation(1, &[], false);
    let (seen, flooded) = read_flood(&server, start_block, 1_000_000, |_, out| {
        out.extend_from_slice(&unit)
    });
    assert_calmed(&seen, &flooded, "CONTINUATION flood, empty frames");
    assert_served(&server);
    assert_memory_bounded(&server, before, "CONTINUATION flood");
}

/// The response to a request whose header block is `block` (sent as HEADERS and
/// CONTINUATIONs on a new stream of `conn`), which the server must refuse: a 431 (or a
/// reset) on the stream, after which the connection serves a plain request, or else a
/// connection error (`None`).
fn refused_block(conn: &mut H2, block: &[u8], attack: &str) -> Option<u16> {
    let id = conn.next_stream_id();
    conn.send(&header_frames(id, block, true));
    match conn.response(id) {
        Ok(response) => {
            assert!(
                response.status == 431 || response.reset.is_some(),
                "{attack}: the request was not refused: {response:?}"
            );
            let after = conn.get("/test.txt");
            assert_eq!(after.status, 200, "{attack}: then {after:?}");
            Some(response.status)
        }
        Err(ended) => {
            let code = ended.goaway.map(|(_, code)| code);
            assert!(
                code.is_some_and(|code| code != 0),
                "{attack}: the connection ended without a GOAWAY that says why: {ended:?}"
            );
            None
        }
    }
}

/// CVE-2016-6581, HPACK bomb: a field of 4 000 bytes enters the dynamic table once, then a
/// header block names it by its one-octet index 16 000 times: 64 MB of fields from 16 KB.
///
/// Bounds: the decoded list is bounded by the SETTINGS_MAX_HEADER_LIST_SIZE we advertise (the
/// HTTP/1.1 head limit, 64 KiB) and, separately, by the field count. The first block (90
/// references, 360 KB: under the count bound, over the size bound) is served 200 without the
/// size bound; the next ones (over both) on 20 streams would make the server copy 1.3 GB of
/// fields without both, which the memory check or the test's deadline catches.
#[test]
fn hpack_bomb_cve_2016_6581() {
    let server = Server::start();
    let before = warmed_up(&server);
    let mut conn = H2::handshake(&server, &[]);
    let value = vec![b'b'; 4000];

    let mut wide = request_block(&mut conn.encoder, "GET", "/test.txt", &[]);
    indexed_literal(b"x-bomb", &value, &mut wide);
    wide.extend(std::iter::repeat_n(0x80 | 62, 90));
    if refused_block(&mut conn, &wide, "HPACK bomb, 90 references").is_none() {
        conn = H2::handshake(&server, &[]);
    }

    for _ in 0..20 {
        let mut deep = request_block(&mut conn.encoder, "GET", "/test.txt", &[]);
        indexed_literal(b"x-bomb", &value, &mut deep);
        deep.extend(std::iter::repeat_n(0x80 | 62, 16_000));
        if refused_block(&mut conn, &deep, "HPACK bomb, 16 000 references").is_none() {
            conn = H2::handshake(&server, &[]);
        }
    }
    assert_served(&server);
    assert_memory_bounded(&server, before, "HPACK bomb");
}

/// The "HTTP/2 bomb" class of 2026: a request of a thousand tiny fields, each under every
/// size bound, which a server stores field by field.
///
/// Bound: at most 100 fields in a request (the HTTP/1.1 limit), past which the request is
/// refused (431, or a stream or connection error). The HPACK decoder stops at it (its
/// `DecodeLimits`), and the request mapping checks it again; without both, the 1 000 fields
/// of 33 octets each (33 000 of the 65 536 the list may take) are accepted and the request is
/// served 200.
#[test]
fn too_many_header_fields() {
    let server = Server::start();
    let before = warmed_up(&server);
    let mut conn = H2::handshake(&server, &[]);
    let mut block = request_block(&mut conn.encoder, "GET", "/test.txt", &[]);
    indexed_literal(b"a", b"", &mut block);
    block.extend(std::iter::repeat_n(0x80 | 62, 999));
    for _ in 0..3 {
        if refused_block(&mut conn, &block, "too many header fields").is_none() {
            conn = H2::handshake(&server, &[]);
        }
    }
    assert_served(&server);
    assert_memory_bounded(&server, before, "too many header fields");
}

/// A flood of `unit` mounted by a client with a small receive buffer that reads nothing
/// while it floods, so that the server's answers pile up on its side. The server must end
/// the connection for it: refuse its writes (cut it off: it stopped reading and met the
/// send timeout, or closed), or tell it why with a GOAWAY carrying an error code, found once
/// the client reads what is left. Either way, the answers must not grow the server's
/// memory. Returns the server, for more.
fn unread_flood(unit: impl Fn(usize, &mut Vec<u8>), attack: &str) -> Server {
    let server = Server::with_args(&www(), &["--send-timeout", "3s"]);
    let before = warmed_up(&server);
    let mut conn = H2::over(slow_socket(server.addr));
    let flooded = flood_with(&mut conn.stream, 10_000_000, &unit);
    let rest = conn.read_to_close();
    let ended = goaway(&rest).filter(|&(_, code)| code != 0);
    assert!(
        flooded.cut_off || ended.is_some(),
        "{attack}: the server took {} copies from a client that read nothing, and neither \
         cut it off nor ended the connection with an error (GOAWAY: {:?})",
        flooded.sent,
        goaway(&rest)
    );
    assert_served(&server);
    assert_memory_bounded(&server, before, attack);
    server
}

/// [`unread_flood`], then the flood again from a client that reads everything: the server
/// must count the frames, and end the connection with GOAWAY(ENHANCE_YOUR_CALM).
fn control_flood(unit: impl Fn(usize, &mut Vec<u8>), attack: &str) {
    let server = unread_flood(&unit, attack);
    let (seen, flooded) = read_flood(&server, |_| {}, 1_000_000, &unit);
    assert_calmed(&seen, &flooded, attack);
    assert_served(&server);
}

/// CVE-2019-9512, ping flood: PINGs, each owed a PING ACK.
///
/// Bounds: PINGs count against the connection's budget of frames that make work without a
/// response (`FLOOD_BASE`, 1 000, and 8 per stream opened), past which GOAWAY
/// (ENHANCE_YOUR_CALM); and the answers queued for a client are bounded (`READ_HIGH`:
/// nothing more is read past it), a client that takes none of them meeting the send
/// timeout. Without the budget, the reading client's million PINGs are all answered and no
/// ENHANCE_YOUR_CALM comes; without both, the non-reading client's ten million PINGs (170 MB) go
/// through, their answers queued in memory, and no error ends the connection.
#[test]
fn ping_flood_cve_2019_9512() {
    let unit = ping(*b"pingpong");
    control_flood(|_, out| out.extend_from_slice(&unit), "ping flood");
}

/// CVE-2019-9515, settings flood: SETTINGS frames, each owed a SETTINGS ACK. Bounds and
/// failures as for the ping flood.
#[test]
fn settings_flood_cve_2019_9515() {
    let unit = settings(&[Setting::InitialWindowSize(65_535)]);
    control_flood(|_, out| out.extend_from_slice(&unit), "settings flood");
}

/// CVE-2019-9514, reset flood: requests the server must reset (a field name in uppercase is
/// malformed, RFC 9113 §8.2.1: a stream error), each costing it an RST_STREAM, from a client
/// that reads none of them.
///
/// Bound: the answers queued for a client are bounded (the connection stops reading once
/// its output passes `READ_HIGH`), so a client that takes none of them meets the send
/// timeout and is cut off. Without it the server reads the million malformed requests and
/// queues a million RST_STREAMs; the client finds no error once it reads them (only the
/// keep-alive timeout's GOAWAY(NO_ERROR)).
///
/// A client that reads its resets is not cut off: each malformed request counts as a stream
/// opened, which grows the budget of frames without a response by more than its reset costs
/// it, so such a flood costs the server what the same number of ordinary requests would.
#[test]
fn reset_flood_cve_2019_9514() {
    let mut block = request_block(&mut HpackEncoder::new(), "GET", "/test.txt", &[]);
    block.extend_from_slice(b"\x00\x05X-Bad\x01y");
    unread_flood(
        |i, out| out.extend(headers(1 + 2 * i as u32, &block, true, true)),
        "reset flood",
    );
}

/// CVE-2019-9518, empty frames: DATA frames with no data and no END_STREAM on an open
/// request stream, each a frame to process and none a byte of flow-control window.
///
/// Bound: empty DATA frames count against the budget of frames that make work without a
/// response (as for the ping flood), past which GOAWAY(ENHANCE_YOUR_CALM). Without it the
/// million frames all go through and no ENHANCE_YOUR_CALM comes.
#[test]
fn empty_frames_cve_2019_9518() {
    let server = Server::start();
    let before = warmed_up(&server);
    let unit = data(1, &[], false);
    let (seen, flooded) = read_flood(
        &server,
        |conn| {
            let block = request_block(&mut conn.encoder, "POST", "/test.txt", &[]);
            conn.send(&headers(1, &block, false, true));
        },
        1_000_000,
        |_, out| out.extend_from_slice(&unit),
    );
    assert_calmed(&seen, &flooded, "empty frames");
    assert_served(&server);
    assert_memory_bounded(&server, before, "empty frames");
}

/// A document root with `test.txt` and `big.bin`, 1 MiB.
fn root_with_big_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary root");
    fs::copy(www().join("test.txt"), dir.path().join("test.txt")).unwrap();
    let contents: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    fs::write(dir.path().join("big.bin"), contents).unwrap();
    dir
}

/// CVE-2019-9517 (internal data buffering) with the zero-window hold of CVE-2019-9511: four
/// clients each open 128 streams for a 1 MiB file with SETTINGS_INITIAL_WINDOW_SIZE 0, and
/// never open a window, so no byte of data may be sent.
///
/// Bounds: a response waiting on a client's window holds none of the file in memory (512 MB
/// if it did: DATA is made only within the windows and while the output holds less than
/// `OUTPUT_HIGH`), and the client gets the send timeout an HTTP/1.1 client gets for reading
/// nothing: the connection is cut off (`--send-timeout 1s`) and its descriptors (sockets and
/// open files) given back. Without the timeout the connections stay open and the read of
/// each fails at the harness's timeout; without the memory bound VmRSS grows by hundreds of
/// MB.
#[test]
fn zero_window_hold_cve_2019_9517() {
    let root = root_with_big_file();
    // No open-file cache: every descriptor the attack took must come back.
    let server = Server::with_args(
        root.path(),
        &["--send-timeout", "1s", "--file-cache-entries", "0"],
    );
    let fds_before = fd_count(server.pid());
    let before = warmed_up(&server);
    let mut held: Vec<H2> = (0..4)
        .map(|_| {
            let mut conn = H2::handshake(&server, &[Setting::InitialWindowSize(0)]);
            for _ in 0..128 {
                conn.send_get("/big.bin", &[]);
            }
            conn
        })
        .collect();
    assert_served(&server);
    assert_memory_bounded(&server, before, "zero-window hold");
    for conn in &mut held {
        let frames = conn.read_to_close();
        let data: usize = frames
            .iter()
            .filter(|f| f.is(FrameType::Data))
            .map(|f| f.payload.len())
            .sum();
        assert_eq!(data, 0, "zero-window hold: data sent into a closed window");
    }
    wait_fds_at_most(&server, fds_before);
    assert_served(&server);
}

/// CVE-2019-9511, data dribble: a client opens its window one byte at a time, so the server
/// sends the response a byte per frame, for ever.
///
/// Bound: the minimum send rate an HTTP/1.1 client gets (`--min-send-rate 1KiB/s` over each
/// `--send-timeout 1s`): the client takes 20 bytes a second and is cut off. Without it the
/// dribble goes on until the test gives up after [`TIMEOUT`].
#[test]
fn data_dribble_cve_2019_9511() {
    let root = root_with_big_file();
    let server = Server::with_args(
        root.path(),
        &["--send-timeout", "1s", "--min-send-rate", "1KiB/s"],
    );
    let before = warmed_up(&server);
    let mut conn = H2::handshake(&server, &[Setting::InitialWindowSize(0)]);
    let id = conn.send_get("/big.bin", &[]);
    let reader = read_in_background(&conn.stream);
    let deadline = Instant::now() + TIMEOUT;
    let mut cut_off = false;
    while Instant::now() < deadline && !reader.is_finished() {
        let mut update = Vec::new();
        write_window_update(&mut update, id, 1);
        if std::io::Write::write_all(&mut conn.stream, &update).is_err() {
            cut_off = true;
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    let seen = reader.join().unwrap();
    assert!(
        cut_off || seen.closed,
        "data dribble: still connected after {TIMEOUT:?} ({} frames received)",
        seen.frames.len()
    );
    assert_served(&server);
    assert_memory_bounded(&server, before, "data dribble");
}

/// CVE-2019-9513, resource loop through PRIORITY churn: two million PRIORITY frames, each
/// making a new idle stream depend on the one before, which a server keeping RFC 7540's
/// priority tree must store and rebalance.
///
/// Bounds: PRIORITY frames are parsed and ignored (RFC 9113 §5.3.2), keeping no state, and
/// count against the budget of frames that make work without a response (as for the ping
/// flood), past which GOAWAY(ENHANCE_YOUR_CALM). Without the budget the two million frames
/// all go through and no ENHANCE_YOUR_CALM comes; a tree of two million nodes would make
/// VmRSS grow past the margin.
#[test]
fn priority_churn_cve_2019_9513() {
    let server = Server::start();
    let before = warmed_up(&server);
    let (seen, flooded) = read_flood(
        &server,
        |_| {},
        2_000_000,
        |i, out| {
            let id = 3 + 2 * i as u32;
            out.extend(priority(id, id - 2, (i % 256) as u8));
        },
    );
    assert_calmed(&seen, &flooded, "PRIORITY churn");
    assert_served(&server);
    assert_memory_bounded(&server, before, "PRIORITY churn");
}

/// Stream identifier exhaustion: a client jumps from stream 1 to near the last identifier
/// there is, 2^31−1 (RFC 9113 §5.1.1), which implicitly closes a billion idle streams, then
/// goes on to the very last one; another tries to open a stream below its last.
///
/// Bounds: skipped identifiers cost nothing (no state per identifier: a server that kept
/// some would grow by gigabytes); the server takes no stream past `LAST_STREAM_ID` (2^31−1
/// less 2 048) and goes away gracefully instead, with GOAWAY(NO_ERROR), leaving the refused
/// stream unanswered; and a stream identifier that does not increase is a connection error
/// PROTOCOL_ERROR (§5.1.1). The GOAWAY names the last stream taken (2^31−4097), as §6.8
/// says, so that a client knows it may retry the refused request on a new connection.
/// Without the second, the request on 2^31−1 is answered and no GOAWAY comes; without the
/// third, the request on the lower identifier is answered.
#[test]
fn stream_id_exhaustion() {
    let server = Server::start();
    let before = warmed_up(&server);
    let high = 0x7fff_ffff - 4096;
    let mut conn = H2::handshake(&server, &[]);
    assert_eq!(conn.get("/test.txt").status, 200);
    let block = request_block(&mut conn.encoder, "GET", "/test.txt", &[]);
    conn.send(&headers(high, &block, true, true));
    let response = conn
        .response(high)
        .expect("the request on stream 2^31-4097");
    assert_eq!(response.status, 200, "stream 2^31-4097: {response:?}");
    assert_memory_bounded(&server, before, "stream id exhaustion");

    let block = request_block(&mut conn.encoder, "GET", "/test.txt", &[]);
    conn.send(&headers(0x7fff_ffff, &block, true, true));
    let frames = conn.read_to_close();
    let (last_stream, _) = assert_goaway(
        &frames,
        Some(H2ErrorCode::NoError as u32),
        "stream ids exhausted",
    );
    // RFC 9113 §6.8: the last stream the server took, so that the client knows the refused
    // one can be retried on a new connection.
    assert_eq!(last_stream, high, "GOAWAY's last stream id");
    assert!(
        !frames.iter().any(|f| f.stream_id == 0x7fff_ffff),
        "the stream past the last one was answered: {frames:?}"
    );

    let mut conn = H2::handshake(&server, &[]);
    let block = request_block(&mut conn.encoder, "GET", "/test.txt", &[]);
    conn.send(&headers(high, &block, true, true));
    assert_eq!(conn.response(high).expect("a request").status, 200);
    conn.send(&headers(high - 2, &block, true, true));
    let frames = conn.read_to_close();
    let (last_stream, _) = assert_goaway(
        &frames,
        Some(H2ErrorCode::ProtocolError as u32),
        "a stream identifier below the last",
    );
    assert_eq!(last_stream, high, "GOAWAY's last stream id");
    assert_served(&server);
}

/// A connection preface that never completes: clients that send part of the preface, or the
/// whole octet sequence without the SETTINGS frame that must follow it (RFC 9113 §3.4), and
/// then nothing.
///
/// Bound: the header timeout (`--header-timeout 1s`) covers the preface as it covers an
/// HTTP/1.1 request head: each connection is closed, its descriptor given back. Without it
/// each read waits until the harness's timeout fails the test.
#[test]
fn unfinished_preface_is_closed_at_the_header_timeout() {
    // No open-file cache: every descriptor the test took must come back.
    let server = Server::with_args(
        &www(),
        &["--header-timeout", "1s", "--file-cache-entries", "0"],
    );
    let fds_before = fd_count(server.pid());
    let partial: &[&[u8]] = &[b"PRI * HTTP/2.0\r\n", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"];
    let mut stalled: Vec<_> = (0..20)
        .map(|i| {
            let mut stream = server.connect();
            std::io::Write::write_all(&mut stream, partial[i % 2]).unwrap();
            stream
        })
        .collect();
    assert_served(&server);
    for stream in &mut stalled {
        let started = Instant::now();
        let rest = common::read_to_close(stream);
        assert!(
            started.elapsed() < TIMEOUT,
            "an unfinished preface held its connection: {rest:?}"
        );
    }
    drop(stalled);
    wait_fds_at_most(&server, fds_before);
    assert_served(&server);
}

/// A client that never acknowledges the server's SETTINGS (RFC 9113 §6.5.3), so that the
/// server cannot know its settings are in force, while it keeps the connection busy.
///
/// Bound: the acknowledgment is due within the header timeout (`--header-timeout 1s`);
/// then the connection ends with GOAWAY(SETTINGS_TIMEOUT). Without it the connection is
/// served on, and ends only at the keep-alive timeout with GOAWAY(NO_ERROR).
#[test]
fn unacknowledged_settings_time_out() {
    let server = Server::with_args(&www(), &["--header-timeout", "1s"]);
    let mut conn = H2::over(server.connect());
    let block = request_block(&mut conn.encoder, "GET", "/test.txt", &[]);
    conn.send(&headers(1, &block, true, true));
    let frames = conn.read_to_close();
    assert_goaway(
        &frames,
        Some(H2ErrorCode::SettingsTimeout as u32),
        "unacknowledged SETTINGS",
    );
    assert_served(&server);
}
