//! The connection core, driven transition by transition with plain buffers and a clock
//! that only moves when a test moves it.

use super::*;
use crate::conn::client::TrustedProxies;
use crate::conn::exchange::MAX_DISCARDED_BODY;
use crate::handlers::Handler;
use crate::http::head::RequestHead;
use crate::http::output::Item;
use crate::http::response::{Body, Response, Ticket};
use nomserve_grammar::{Method, Request};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Wake, Waker};

const TIMEOUTS: Timeouts = Timeouts {
    header: Duration::from_secs(10),
    keep_alive: Duration::from_secs(5),
    send: Duration::from_secs(10),
    min_send_rate: 1024,
};

/// Size of `/big`'s body: more than one write of the harness's smallest budget.
const BIG: usize = 100 * 1024;

/// GET and HEAD: 200 with the path as the body (`/big`: [`BIG`] bytes; `/panic` panics).
/// Other methods: 405.
struct Echo;

impl Handler for Echo {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        _head: &RequestHead<'_>,
        _client: IpAddr,
    ) -> Response {
        if !matches!(request.method, Method::Get | Method::Head) {
            return Response::text(405, "no\n");
        }
        match request.target.path() {
            Some("/panic") => panic!("the handler broke"),
            Some("/big") => Response::new(200).body(Body::Bytes(Cow::Owned(vec![b'b'; BIG]))),
            path => Response::text(200, path.unwrap_or("*").to_string()),
        }
    }
}

/// How a run of the harness ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The connection wants bytes.
    Read,
    /// The write budget ran out with output left.
    Blocked,
    /// The connection is over.
    Closed,
}

/// A connection with a fake socket: what it sends is collected, writes take at most
/// `budget` bytes per run.
struct Harness {
    conn: Conn,
    /// Answers the requests ([`Echo`] unless a test sets another).
    handler: Arc<dyn Handler>,
    now: Instant,
    sent: Vec<u8>,
    /// How many write items were taken (one per `write`/`sendfile` a transport makes).
    writes: usize,
    /// Each byte item's `more` flag, in order.
    mores: Vec<bool>,
    shut: bool,
    shutting_down: bool,
    /// Bytes a transport that holds them took and the socket has not (see `transforming`);
    /// `None`: the socket takes what it is given.
    held: Option<usize>,
}

impl Harness {
    fn new() -> Harness {
        let now = Instant::now();
        Harness {
            conn: Conn::new(
                SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9),
                TIMEOUTS,
                now,
            ),
            handler: Arc::new(Echo),
            now,
            sent: Vec::new(),
            writes: 0,
            mores: Vec::new(),
            shut: false,
            shutting_down: false,
            held: None,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.conn.read_buffer().extend_from_slice(bytes);
    }

    fn later(&mut self, by: Duration) {
        self.now += by;
    }

    /// Does what the connection asks until it wants bytes, is over, or has had `budget`
    /// bytes written.
    fn run_with(&mut self, mut budget: usize) -> Ended {
        let handler = Arc::clone(&self.handler);
        let ctx = Context {
            handler: &*handler,
            trusted: &TrustedProxies::default(),
            shutting_down: self.shutting_down,
            waker: &|| Waker::noop().clone(),
        };
        loop {
            let n = match self.conn.poll(&ctx, self.now) {
                Want::Write(_) if budget == 0 => return Ended::Blocked,
                Want::Write(Item::Bytes { bytes, more }) => {
                    self.mores.push(more);
                    let n = bytes.len().min(budget);
                    self.sent.extend_from_slice(&bytes[..n]);
                    n
                }
                Want::Write(Item::File { file, offset, len }) => {
                    let n = (len as usize).min(budget);
                    let mut region = vec![0; n];
                    file.read_exact_at(&mut region, offset).unwrap();
                    self.sent.extend_from_slice(&region);
                    n
                }
                Want::Read => return Ended::Read,
                Want::Park => panic!("the echo handler's answers are always ready"),
                Want::ShutdownWrite => {
                    assert!(!self.shut, "the write side is shut down once");
                    self.shut = true;
                    self.conn.write_shut(self.now);
                    continue;
                }
                Want::Close => return Ended::Closed,
            };
            self.writes += 1;
            budget -= n;
            self.took(n);
        }
    }

    fn run(&mut self) -> Ended {
        self.run_with(usize::MAX)
    }

    /// What was sent, as text, and forgotten.
    fn take_sent(&mut self) -> String {
        String::from_utf8(std::mem::take(&mut self.sent)).unwrap()
    }
}

/// The status codes of the responses in `sent`, in order.
fn statuses(sent: &str) -> Vec<u16> {
    sent.match_indices("HTTP/1.1 ")
        .map(|(at, _)| sent[at + 9..at + 12].parse().unwrap())
        .collect()
}

const GET: &[u8] = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn a_new_connection_waits_for_bytes_until_the_header_timeout() {
    let mut h = Harness::new();
    assert_eq!(h.run(), Ended::Read);
    assert!(h.conn.is_idle());
    assert_eq!(h.conn.deadline(), Some(h.now + TIMEOUTS.header));
}

#[test]
fn a_request_is_answered_and_the_connection_goes_back_to_idle() {
    let mut h = Harness::new();
    h.feed(GET);
    assert_eq!(h.run(), Ended::Read);
    let sent = h.take_sent();
    assert!(sent.starts_with("HTTP/1.1 200 OK\r\n"), "{sent}");
    assert!(sent.ends_with("\r\n\r\n/a"), "{sent}");
    assert!(!sent.contains("Connection:"), "{sent}");
    assert!(h.conn.is_idle());
    assert_eq!(h.conn.deadline(), Some(h.now + TIMEOUTS.keep_alive));
    assert_eq!(h.conn.stats().responses, 1);
}

#[test]
fn a_head_in_pieces_starts_its_deadline_at_its_first_byte() {
    let mut h = Harness::new();
    h.later(Duration::from_secs(3));
    h.feed(&GET[..5]);
    assert_eq!(h.run(), Ended::Read);
    assert!(!h.conn.is_idle());
    assert_eq!(h.conn.deadline(), Some(h.now + TIMEOUTS.header));
    h.feed(&GET[5..]);
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(statuses(&h.take_sent()), [200]);
}

#[test]
fn pipelined_requests_are_answered_in_order_in_one_write() {
    let mut h = Harness::new();
    let mut requests = Vec::new();
    for path in ["/1", "/2", "/3"] {
        requests.extend_from_slice(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    h.feed(&requests);
    assert_eq!(h.run(), Ended::Read);
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [200, 200, 200]);
    let bodies: Vec<usize> = ["\r\n\r\n/1", "\r\n\r\n/2", "\r\n\r\n/3"]
        .iter()
        .map(|body| sent.find(body).unwrap())
        .collect();
    assert!(bodies.windows(2).all(|w| w[0] < w[1]), "{sent}");
    assert_eq!(h.writes, 1, "three responses, one write");
}

#[test]
fn a_client_that_half_closed_still_gets_its_responses() {
    let mut h = Harness::new();
    h.feed(GET);
    h.feed(GET);
    h.conn.peer_closed();
    assert_eq!(h.run(), Ended::Closed);
    assert_eq!(statuses(&h.take_sent()), [200, 200]);
}

#[test]
fn a_half_close_mid_head_closes_without_a_response() {
    let mut h = Harness::new();
    h.feed(&GET[..10]);
    h.conn.peer_closed();
    assert_eq!(h.run(), Ended::Closed);
    assert!(h.sent.is_empty());
}

#[test]
fn an_idle_connection_is_closed_silently_at_its_deadline_not_before() {
    let mut h = Harness::new();
    h.feed(GET);
    assert_eq!(h.run(), Ended::Read);
    h.take_sent();
    h.later(TIMEOUTS.keep_alive - Duration::from_millis(1));
    h.conn.expire(h.now);
    assert_eq!(h.run(), Ended::Read);
    h.later(Duration::from_millis(1));
    h.conn.expire(h.now);
    assert_eq!(h.run(), Ended::Closed);
    assert!(h.sent.is_empty());
}

#[test]
fn bytes_that_arrived_before_the_deadline_is_handled_are_served() {
    // The deadline has passed, but the request is buffered: it is answered, not dropped.
    let mut h = Harness::new();
    h.later(TIMEOUTS.header * 2);
    h.feed(GET);
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(statuses(&h.take_sent()), [200]);
}

#[test]
fn an_unfinished_head_gets_408_then_a_lingering_close() {
    let mut h = Harness::new();
    h.feed(b"GET /slow HTTP/1.1\r\nHo");
    assert_eq!(h.run(), Ended::Read);
    h.later(TIMEOUTS.header);
    h.conn.expire(h.now);
    assert_eq!(
        h.run(),
        Ended::Read,
        "lingering: reads what the client still sends"
    );
    let sent = h.take_sent();
    assert!(
        sent.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{sent}"
    );
    assert!(sent.contains("\r\nConnection: close\r\n"), "{sent}");
    assert!(h.shut);
    // What the client still sends is discarded until it closes.
    h.feed(b"st: x\r\n\r\n");
    assert_eq!(h.run(), Ended::Read);
    h.conn.peer_closed();
    assert_eq!(h.run(), Ended::Closed);
    assert!(h.sent.is_empty());
}

#[test]
fn a_lingering_close_ends_at_its_deadline() {
    let mut h = Harness::new();
    h.feed(b"BAD\x01 / HTTP/1.1\r\n\r\n");
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(statuses(&h.take_sent()), [400]);
    assert!(h.shut);
    h.later(LINGER_TIME);
    h.conn.expire(h.now);
    assert_eq!(h.run(), Ended::Closed);
}

#[test]
fn a_malformed_request_gets_its_rule_and_a_close() {
    let mut h = Harness::new();
    h.feed(b"GET / HTTP/1.1\nHost: x\r\n\r\n");
    assert_eq!(h.run(), Ended::Read);
    let sent = h.take_sent();
    assert!(sent.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{sent}");
    assert!(sent.contains("(RFC 9112 §2.2)"), "{sent}");
    assert!(sent.contains("\r\nConnection: close\r\n"), "{sent}");
    assert!(h.shut);
}

#[test]
fn output_the_socket_does_not_take_waits_and_nothing_more_is_read_meanwhile() {
    let mut h = Harness::new();
    h.feed(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(h.run_with(10_000), Ended::Blocked);
    assert_eq!(h.conn.deadline(), Some(h.now + TIMEOUTS.send));
    // A pipelined request waits behind the blocked response.
    h.feed(GET);
    assert_eq!(h.run_with(0), Ended::Blocked);
    assert_eq!(h.conn.stats().responses, 1);
    assert_eq!(h.run(), Ended::Read);
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [200, 200]);
    assert!(sent.len() > BIG);
    assert_eq!(h.conn.stats().responses, 2);
}

#[test]
fn a_client_that_stops_reading_is_cut_off_after_the_send_timeout() {
    let mut h = Harness::new();
    h.feed(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(h.run_with(10_000), Ended::Blocked);
    h.later(TIMEOUTS.send - Duration::from_millis(1));
    h.conn.expire(h.now);
    assert_eq!(h.run_with(0), Ended::Blocked);
    h.later(Duration::from_millis(1));
    h.conn.expire(h.now);
    assert_eq!(h.run(), Ended::Closed);
}

#[test]
fn a_client_that_reads_below_the_minimum_rate_is_cut_off_at_a_window_end() {
    let mut h = Harness::new();
    h.feed(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
    // The first write, then 100 bytes a second: progress, but a tenth of the rate.
    assert_eq!(h.run_with(1000), Ended::Blocked);
    for _ in 0..9 {
        h.later(Duration::from_secs(1));
        assert_eq!(h.run_with(100), Ended::Blocked);
        h.conn.expire(h.now);
    }
    h.later(Duration::from_secs(1));
    assert_eq!(h.run_with(100), Ended::Blocked);
    h.conn.expire(h.now);
    assert_eq!(h.run(), Ended::Closed);
}

#[test]
fn a_body_is_read_and_discarded_before_the_response() {
    let mut h = Harness::new();
    h.feed(b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");
    assert_eq!(h.run(), Ended::Read);
    assert!(h.sent.is_empty(), "no answer before the body is read");
    h.feed(b"cde");
    h.feed(GET);
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(statuses(&h.take_sent()), [405, 200]);
}

#[test]
fn a_chunked_body_is_read_to_its_end() {
    let mut h = Harness::new();
    h.feed(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    h.feed(GET);
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(statuses(&h.take_sent()), [405, 200]);
}

#[test]
fn a_body_past_the_limit_gets_413_and_a_close() {
    let mut h = Harness::new();
    let length = MAX_DISCARDED_BODY + 1;
    h.feed(format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n").as_bytes());
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..15 {
        h.feed(&chunk);
        assert_eq!(h.run(), Ended::Read);
        assert!(h.sent.is_empty());
    }
    // The limit's worth has arrived and more is announced.
    h.feed(&chunk);
    h.run();
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [413]);
    assert!(sent.contains("\r\nConnection: close\r\n"), "{sent}");
}

#[test]
fn a_body_still_arriving_after_its_deadline_closes_the_connection() {
    let mut h = Harness::new();
    h.feed(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345");
    assert_eq!(h.run(), Ended::Read);
    h.later(TIMEOUTS.header);
    h.feed(b"6");
    assert_eq!(h.run(), Ended::Closed);
    assert!(h.sent.is_empty());
}

#[test]
fn an_unfinished_body_at_its_deadline_closes_without_a_response() {
    let mut h = Harness::new();
    h.feed(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n123");
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(h.conn.deadline(), Some(h.now + TIMEOUTS.header));
    h.later(TIMEOUTS.header);
    h.conn.expire(h.now);
    assert_eq!(h.run(), Ended::Closed);
    assert!(h.sent.is_empty());
}

#[test]
fn the_write_side_is_shut_only_after_the_last_response_is_written() {
    let mut h = Harness::new();
    h.feed(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\nBAD\x01 / HTTP/1.1\r\n\r\n");
    assert_eq!(h.run_with(10_000), Ended::Blocked);
    assert!(!h.shut, "shut down with a response still queued");
    assert_eq!(h.run(), Ended::Read, "lingering");
    assert!(h.shut);
    assert_eq!(statuses(&h.take_sent()), [200, 400]);
}

#[test]
fn the_last_bytes_before_the_end_of_the_connection_wait_for_its_fin() {
    // Kept alive: the response leaves at once.
    let mut h = Harness::new();
    h.feed(GET);
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(h.mores, [false]);
    // Closed after it (and a pipelined one before it, in the same write): sent with `more`,
    // so the close's FIN goes in their last segment.
    let mut h = Harness::new();
    h.feed(GET);
    h.feed(b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(h.run(), Ended::Closed);
    assert_eq!(h.mores, [true]);
    assert_eq!(statuses(&h.take_sent()), [200, 200]);
    // A malformed request's 400, written in pieces, then the shutdown's FIN.
    let mut h = Harness::new();
    h.feed(b"BAD\x01 / HTTP/1.1\r\n\r\n");
    assert_eq!(h.run_with(10), Ended::Blocked);
    assert_eq!(h.run(), Ended::Read, "lingering");
    assert!(h.shut);
    assert!(
        h.mores.len() > 1 && h.mores.iter().all(|&more| more),
        "{:?}",
        h.mores
    );
}

#[test]
fn expect_100_continue_is_answered_before_the_body() {
    // A body discarded for an answer that is not a refusal: read after the 100.
    let mut h = Harness::new();
    h.feed(b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(h.take_sent(), "HTTP/1.1 100 Continue\r\n\r\n");
    h.feed(b"abc");
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(statuses(&h.take_sent()), [200]);
    // A refusal (405) is answered at once, without the 100 (see `taking`).
    let mut h = Harness::new();
    h.feed(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(h.run(), Ended::Read, "lingering");
    assert_eq!(statuses(&h.take_sent()), [405]);
}

#[test]
fn expect_100_continue_with_a_length_over_the_limit_gets_413_at_once() {
    let mut h = Harness::new();
    h.feed(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10737418240\r\nExpect: 100-continue\r\n\r\n",
    );
    assert_eq!(h.run(), Ended::Read, "lingering");
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [413], "{sent}");
    assert!(!sent.contains("100 Continue"), "{sent}");
}

#[test]
fn a_handler_panic_is_answered_500_and_closes_only_its_connection() {
    let mut h = Harness::new();
    h.feed(b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n");
    h.run();
    let sent = h.take_sent();
    assert!(
        sent.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
        "{sent}"
    );
    assert!(sent.contains("\r\nConnection: close\r\n"), "{sent}");
    let mut other = Harness::new();
    other.feed(GET);
    other.run();
    assert_eq!(statuses(&other.take_sent()), [200]);
}

#[test]
fn responses_close_the_connection_once_a_shutdown_began() {
    let mut h = Harness::new();
    h.shutting_down = true;
    h.feed(GET);
    assert_eq!(h.run(), Ended::Closed);
    let sent = h.take_sent();
    assert!(sent.contains("\r\nConnection: close\r\n"), "{sent}");
}

#[test]
fn http10_closes_unless_asked_to_keep_alive() {
    let mut h = Harness::new();
    h.feed(b"GET /a HTTP/1.0\r\n\r\n");
    assert_eq!(h.run(), Ended::Closed);
    assert!(h.take_sent().contains("\r\nConnection: close\r\n"));
    let mut h = Harness::new();
    h.feed(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(h.run(), Ended::Read);
    assert!(h.take_sent().contains("\r\nConnection: keep-alive\r\n"));
}

#[test]
fn a_large_head_arriving_a_byte_at_a_time_is_parsed_a_bounded_number_of_times() {
    let mut head = b"GET /a HTTP/1.1\r\nHost: x\r\n".to_vec();
    let value = "v".repeat(600);
    while head.len() < 56 * 1024 {
        head.extend_from_slice(format!("X-Filler: {value}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    let mut h = Harness::new();
    for &byte in &head {
        h.feed(&[byte]);
        h.run();
    }
    assert_eq!(statuses(&h.take_sent()), [200]);
    let parsed = h.conn.stats().head_bytes_parsed;
    // A parse when the request-line ends, one when the head does: linear in the head.
    assert!(
        parsed <= 2 * head.len() as u64,
        "{parsed} bytes parsed for a {}-byte head",
        head.len()
    );
}

/// A GET answered from the open-file cache allocates nothing, from the bytes read to the
/// bytes written: counted on this thread by allocation-counter's global allocator (test
/// builds only).
mod allocations {
    use super::*;
    use crate::handlers::Router;
    use crate::handlers::files::{CacheLimits, FieldRules, FileOptions, StaticFiles};

    /// Feeds one GET and runs the connection until it wants bytes again; returns how many
    /// allocations that took on this thread, and the bytes sent.
    fn one_get(conn: &mut Conn, ctx: &Context<'_>, path: &str) -> (u64, Vec<u8>) {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n");
        let mut sent = Vec::with_capacity(4096);
        let now = Instant::now();
        let counted = allocation_counter::measure(|| {
            conn.read_buffer().extend_from_slice(request.as_bytes());
            loop {
                match conn.poll(ctx, now) {
                    Want::Write(Item::Bytes { bytes, .. }) => {
                        let n = bytes.len();
                        sent.extend_from_slice(bytes);
                        conn.wrote(n, now);
                    }
                    Want::Read => break,
                    other => panic!("unexpected {other:?}"),
                }
            }
        });
        (counted.count_total, sent)
    }

    #[test]
    fn a_cached_get_allocates_nothing() {
        assert_eq!(hot_get_allocations(), 0, "allocations for a cached GET");
    }

    /// Counting a response for the metrics (its method, status, bytes and duration) takes
    /// no allocation either.
    #[test]
    fn a_cached_get_counted_in_the_metrics_allocates_nothing() {
        crate::metrics::enable();
        assert_eq!(hot_get_allocations(), 0, "allocations for a cached GET");
    }

    /// The allocations of a GET answered from the open-file cache, after two that warm it.
    fn hot_get_allocations() -> u64 {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("hello.txt"), "hello, world\n").unwrap();
        let files = StaticFiles::new(FileOptions {
            root: root.path().to_path_buf(),
            dotfiles: false,
            list_dirs: false,
            index: vec!["index.html".to_string()],
            clean_urls: false,
            fallback: None,
            fields: FieldRules::new("no-cache", &[], &[]).unwrap(),
            cache: CacheLimits {
                entries: 16,
                bytes: 1 << 20,
                max_file: 64 * 1024,
            },
            compress: Default::default(),
            compress_cache: 0,
            archives: Vec::new(),
            readme: false,
        })
        .unwrap();
        let router = Router::new(files);
        let ctx = Context {
            handler: &router,
            trusted: &TrustedProxies::default(),
            shutting_down: false,
            waker: &|| Waker::noop().clone(),
        };
        let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);
        let mut conn = Conn::new(peer, TIMEOUTS, Instant::now());
        // The first request fills the cache and the thread's buffers; the second may still
        // give a queue its first capacity.
        let (cold, _) = one_get(&mut conn, &ctx, "/hello.txt");
        one_get(&mut conn, &ctx, "/hello.txt");
        let (hot, sent) = one_get(&mut conn, &ctx, "/hello.txt");
        let text = String::from_utf8(sent).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nhello, world\n"), "{text}");
        assert!(cold > 0, "the first request opens and caches the file");
        hot
    }
}

#[test]
fn a_read_that_finds_nothing_gives_an_empty_buffer_back() {
    let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);
    let mut conn = Conn::new(peer, TIMEOUTS, Instant::now());
    assert!(conn.read_buffer().capacity() > 0);
    conn.nothing_read();
    assert_eq!(
        conn.input.capacity(),
        0,
        "a connection waiting holds no buffer"
    );
    // Bytes of a head already read stay where they are.
    conn.read_buffer().extend_from_slice(b"GET / HT");
    conn.nothing_read();
    assert_eq!(conn.input, b"GET / HT");
}

mod parking;
mod taking;
mod transforming;
