//! The core under a transport that transforms its output before the socket takes it (TLS
//! records): what the transport takes of an item ([`Conn::took`]) is not progress; what the
//! socket takes ([`Conn::sent`]) is, and the send clocks run while the transport holds bytes
//! ([`Conn::set_holding`]). Also the responses the core makes itself over TLS with HSTS,
//! a refused connection's 503 among them.

use super::*;

impl Harness {
    /// A connection under a transport that takes every byte the core offers and sends none
    /// of them until the test says the socket took them, as rustls holds records for a
    /// client that stopped reading.
    fn holding() -> Harness {
        Harness {
            held: Some(0),
            ..Harness::new()
        }
    }

    /// The transport took `n` bytes of the item the core gave: the socket takes them at
    /// once, or, under a transport that holds them, when [`Harness::socket_takes`] says so.
    pub(super) fn took(&mut self, n: usize) {
        match &mut self.held {
            Some(held) => {
                *held += n;
                self.conn.took(n);
                self.conn.set_holding(true);
            }
            None => self.conn.wrote(n, self.now),
        }
    }

    /// Bytes the transport holds.
    fn held(&self) -> usize {
        self.held.unwrap_or_default()
    }

    /// The socket takes `n` of the held bytes.
    fn socket_takes(&mut self, n: usize) {
        let held = self.held() - n;
        self.held = Some(held);
        self.conn.sent(n, self.now);
        self.conn.set_holding(held > 0);
    }
}

const BIG_GET: &[u8] = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n";

#[test]
fn bytes_the_transport_holds_keep_the_send_clock_running_past_the_last_item() {
    let mut t = Harness::holding();
    let start = t.now;
    t.feed(BIG_GET);
    assert_eq!(t.run(), Ended::Read, "the core's output is all taken");
    assert!(t.held() > BIG);
    // Not the keep-alive deadline of an idle connection: the send timeout, from the start.
    assert!(!t.conn.is_idle() && !t.conn.is_quiet());
    assert_eq!(t.conn.deadline(), Some(start + TIMEOUTS.send));
    t.later(TIMEOUTS.send - Duration::from_millis(1));
    t.conn.expire(t.now);
    assert!(!t.conn.is_finished());
    t.later(Duration::from_millis(1));
    t.conn.expire(t.now);
    assert!(
        t.conn.is_finished(),
        "cut off: the transport drops what it holds"
    );
    assert_eq!(t.conn.deadline(), None);
}

#[test]
fn progress_is_what_the_socket_takes_not_what_the_transport_takes() {
    let mut t = Harness::holding();
    let start = t.now;
    t.feed(BIG_GET);
    t.run();
    // Six seconds on, the socket takes half of it: progress, at a good rate.
    t.later(Duration::from_secs(6));
    t.socket_takes(t.held() / 2);
    t.later(Duration::from_secs(4));
    assert_eq!(t.now, start + TIMEOUTS.send);
    t.conn.expire(t.now);
    assert!(!t.conn.is_finished(), "the client took bytes 4 s ago");
    assert_eq!(
        t.conn.deadline(),
        Some(start + Duration::from_secs(6) + TIMEOUTS.send)
    );
    t.later(Duration::from_secs(6));
    t.conn.expire(t.now);
    assert!(t.conn.is_finished(), "stalled since the socket last took");
}

#[test]
fn once_the_socket_took_everything_the_connection_is_idle_on_its_keep_alive_deadline() {
    let mut t = Harness::holding();
    let start = t.now;
    t.feed(GET);
    assert_eq!(t.run(), Ended::Read);
    assert!(!t.conn.is_idle());
    t.socket_takes(t.held());
    assert!(t.conn.is_idle());
    assert_eq!(t.conn.deadline(), Some(start + TIMEOUTS.keep_alive));
}

#[test]
fn a_response_queued_while_the_transport_holds_bytes_does_not_restart_the_clock() {
    let mut t = Harness::holding();
    let start = t.now;
    t.feed(GET);
    t.run();
    t.later(Duration::from_secs(9));
    t.feed(GET);
    assert_eq!(t.run(), Ended::Read);
    assert_eq!(statuses(&t.take_sent()), [200, 200]);
    assert_eq!(t.conn.deadline(), Some(start + TIMEOUTS.send));
    t.later(Duration::from_secs(1));
    t.conn.expire(t.now);
    assert!(t.conn.is_finished());
}

#[test]
fn a_closing_response_held_by_the_transport_is_not_dropped() {
    let mut t = Harness::holding();
    t.feed(b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(t.run(), Ended::Closed);
    assert!(t.conn.is_closed());
    assert!(!t.conn.is_finished(), "its records are still to be sent");
    t.socket_takes(t.held());
    assert!(t.conn.is_finished());
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

#[test]
fn a_refused_connection_answers_its_first_request_503_with_hsts_and_closes() {
    let mut h = Harness::new();
    h.conn.set_hsts(Some(Arc::from("max-age=60")));
    h.conn.refuse("too many connections");
    // Holding no place, it is never closed to make room for another.
    assert!(!h.conn.is_idle());
    assert_eq!(h.run(), Ended::Read);
    assert!(h.take_sent().is_empty(), "nothing before a request");
    h.feed(GET);
    assert_eq!(h.run(), Ended::Read, "a lingering close reads on");
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [503]);
    for field in [
        "Retry-After: 1\r\n",
        "Connection: close\r\n",
        "Strict-Transport-Security: max-age=60\r\n",
    ] {
        assert!(sent.contains(field), "{field}: {sent}");
    }
    assert!(sent.ends_with("\r\n\r\ntoo many connections\n"), "{sent}");
    assert!(h.shut, "the write side is shut after the 503");
    h.conn.peer_closed();
    assert_eq!(h.run(), Ended::Closed);
    // Sending nothing, it is closed silently at its first deadline, as any connection is.
    let mut h = Harness::new();
    h.conn.refuse("too many connections");
    h.later(TIMEOUTS.header);
    h.conn.expire(h.now);
    assert_eq!(h.run(), Ended::Closed);
    assert!(h.take_sent().is_empty());
}

#[test]
fn the_keep_alive_timeout_runs_from_the_end_of_a_long_send() {
    // Plain: the socket takes the response in two parts, the second after longer than the
    // keep-alive timeout.
    let mut h = Harness::new();
    h.feed(BIG_GET);
    assert_eq!(h.run_with(BIG / 2), Ended::Blocked);
    h.later(TIMEOUTS.keep_alive + Duration::from_secs(1));
    assert_eq!(h.run(), Ended::Read);
    assert!(h.conn.is_idle());
    assert_eq!(h.conn.deadline(), Some(h.now + TIMEOUTS.keep_alive));
    h.conn.expire(h.now);
    assert_eq!(h.run(), Ended::Read, "not closed the moment it went idle");

    // Over a transport that holds bytes: from when the socket took the last of them.
    let mut t = Harness::holding();
    t.feed(BIG_GET);
    assert_eq!(t.run(), Ended::Read);
    t.later(TIMEOUTS.keep_alive + Duration::from_secs(1));
    t.socket_takes(t.held());
    assert!(t.conn.is_idle());
    assert_eq!(t.conn.deadline(), Some(t.now + TIMEOUTS.keep_alive));
}
