//! The core under a transport that transforms its output before the socket takes it (TLS
//! records): what the transport takes of an item ([`Conn::took`]) is not progress; what the
//! socket takes ([`Conn::sent`]) is, and the send clocks run while the transport holds bytes
//! ([`Conn::set_holding`]). Also the responses the core makes itself over TLS with HSTS.

use super::*;

/// A transport that takes every byte the core offers and sends none of them until the test
/// says the socket took them, as rustls holds records for a client that stopped reading.
struct Holding {
    h: Harness,
    /// Bytes taken from the core that the socket has not taken.
    held: usize,
}

impl Holding {
    fn new() -> Holding {
        Holding {
            h: Harness::new(),
            held: 0,
        }
    }

    /// Takes what the core offers until it wants bytes or is over; returns how it ended.
    fn run(&mut self) -> Ended {
        let ctx = Context {
            handler: &Echo,
            trusted: &TrustedProxies::default(),
            shutting_down: false,
        };
        let ended = loop {
            let n = match self.h.conn.poll(&ctx, self.h.now) {
                Want::Write(Item::Bytes { bytes, .. }) => {
                    self.h.sent.extend_from_slice(bytes);
                    bytes.len()
                }
                Want::Write(Item::File { len, .. }) => len as usize,
                Want::Read => break Ended::Read,
                Want::ShutdownWrite => {
                    self.h.shut = true;
                    self.h.conn.write_shut(self.h.now);
                    continue;
                }
                Want::Close => break Ended::Closed,
            };
            self.h.conn.took(n);
            self.held += n;
        };
        self.h.conn.set_holding(self.held > 0);
        ended
    }

    /// The socket takes `n` of the held bytes.
    fn socket_takes(&mut self, n: usize) {
        self.held -= n;
        self.h.conn.sent(n, self.h.now);
        self.h.conn.set_holding(self.held > 0);
    }
}

const BIG_GET: &[u8] = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn bytes_the_transport_holds_keep_the_send_clock_running_past_the_last_item() {
    let mut t = Holding::new();
    let start = t.h.now;
    t.h.feed(BIG_GET);
    assert_eq!(t.run(), Ended::Read, "the core's output is all taken");
    assert!(t.held > BIG);
    // Not the keep-alive deadline of an idle connection: the send timeout, from the start.
    assert!(!t.h.conn.is_idle() && !t.h.conn.is_quiet());
    assert_eq!(t.h.conn.deadline(), Some(start + TIMEOUTS.send));
    t.h.later(TIMEOUTS.send - Duration::from_millis(1));
    t.h.conn.expire(t.h.now);
    assert!(!t.h.conn.is_finished());
    t.h.later(Duration::from_millis(1));
    t.h.conn.expire(t.h.now);
    assert!(
        t.h.conn.is_finished(),
        "cut off: the transport drops what it holds"
    );
    assert_eq!(t.h.conn.deadline(), None);
}

#[test]
fn progress_is_what_the_socket_takes_not_what_the_transport_takes() {
    let mut t = Holding::new();
    let start = t.h.now;
    t.h.feed(BIG_GET);
    t.run();
    // Six seconds on, the socket takes half of it: progress, at a good rate.
    t.h.later(Duration::from_secs(6));
    t.socket_takes(t.held / 2);
    t.h.later(Duration::from_secs(4));
    assert_eq!(t.h.now, start + TIMEOUTS.send);
    t.h.conn.expire(t.h.now);
    assert!(!t.h.conn.is_finished(), "the client took bytes 4 s ago");
    assert_eq!(
        t.h.conn.deadline(),
        Some(start + Duration::from_secs(6) + TIMEOUTS.send)
    );
    t.h.later(Duration::from_secs(6));
    t.h.conn.expire(t.h.now);
    assert!(t.h.conn.is_finished(), "stalled since the socket last took");
}

#[test]
fn once_the_socket_took_everything_the_connection_is_idle_on_its_keep_alive_deadline() {
    let mut t = Holding::new();
    let start = t.h.now;
    t.h.feed(GET);
    assert_eq!(t.run(), Ended::Read);
    assert!(!t.h.conn.is_idle());
    t.socket_takes(t.held);
    assert!(t.h.conn.is_idle());
    assert_eq!(t.h.conn.deadline(), Some(start + TIMEOUTS.keep_alive));
}

#[test]
fn a_response_queued_while_the_transport_holds_bytes_does_not_restart_the_clock() {
    let mut t = Holding::new();
    let start = t.h.now;
    t.h.feed(GET);
    t.run();
    t.h.later(Duration::from_secs(9));
    t.h.feed(GET);
    assert_eq!(t.run(), Ended::Read);
    assert_eq!(statuses(&t.h.take_sent()), [200, 200]);
    assert_eq!(t.h.conn.deadline(), Some(start + TIMEOUTS.send));
    t.h.later(Duration::from_secs(1));
    t.h.conn.expire(t.h.now);
    assert!(t.h.conn.is_finished());
}

#[test]
fn a_closing_response_held_by_the_transport_is_not_dropped() {
    let mut t = Holding::new();
    t.h.feed(b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(t.run(), Ended::Closed);
    assert!(t.h.conn.is_closed());
    assert!(!t.h.conn.is_finished(), "its records are still to be sent");
    t.socket_takes(t.held);
    assert!(t.h.conn.is_finished());
}

#[test]
fn over_tls_the_responses_the_core_makes_carry_hsts_and_the_handlers_are_left_alone() {
    let hsts = "Strict-Transport-Security: max-age=60\r\n";
    let mut h = Harness::new();
    h.conn.set_hsts(Some(Arc::from("max-age=60")));
    h.feed(GET);
    h.run();
    let sent = h.take_sent();
    assert!(
        !sent.contains(hsts),
        "the handler's wrapper adds it: {sent}"
    );
    h.feed(b"GET / HTTP/1.1\nHost: x\r\n\r\n");
    h.run();
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [400]);
    assert!(sent.contains(hsts), "{sent}");
    // The 408 of a head unfinished at its deadline.
    let mut h = Harness::new();
    h.conn.set_hsts(Some(Arc::from("max-age=60")));
    h.feed(b"GET /slow HTTP/1.1\r\nHo");
    h.run();
    h.later(TIMEOUTS.header);
    h.conn.expire(h.now);
    h.run();
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [408]);
    assert!(sent.contains(hsts), "{sent}");
    // A 500 for a handler's panic, and a 413.
    for head in [
        "GET /panic HTTP/1.1\r\nHost: x\r\n\r\n".to_string(),
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
            MAX_DISCARDED_BODY + 1
        ),
    ] {
        let mut h = Harness::new();
        h.conn.set_hsts(Some(Arc::from("max-age=60")));
        h.feed(head.as_bytes());
        h.run();
        assert!(h.take_sent().contains(hsts), "{head}");
    }
    // Without the policy (plain HTTP), none.
    let mut h = Harness::new();
    h.feed(b"GET / HTTP/1.1\nHost: x\r\n\r\n");
    h.run();
    assert!(!h.take_sent().contains("Strict-Transport-Security"));
}
