//! A handler that takes the request body: the pieces reach its sink as they arrive, its
//! answer is sent once the body is through, a refusal or a cut leaves the sink dropped
//! without its answer, and `100 (Continue)` is sent only for a body the server takes.

use super::*;
use crate::http::head::RequestHead;
use crate::http::response::{BodySink, Refusal};
use std::sync::Mutex;

/// What a [`Recording`] sink saw.
#[derive(Debug, Default)]
struct Record {
    taken: Vec<u8>,
    pieces: usize,
    finished: bool,
    dropped: bool,
}

/// Takes up to `max` bytes, then refuses with 413; answers 201.
struct Recording {
    record: Arc<Mutex<Record>>,
    max: usize,
}

impl BodySink for Recording {
    fn take(&mut self, piece: &[u8]) -> Result<(), Refusal> {
        let mut record = self.record.lock().unwrap();
        assert!(!piece.is_empty(), "pieces are never empty");
        record.taken.extend_from_slice(piece);
        record.pieces += 1;
        if record.taken.len() > self.max {
            return Err(Box::new(Response::text(413, "too big\n")));
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Response {
        self.record.lock().unwrap().finished = true;
        Response::text(201, "stored\n").header("Location", "/in/x")
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.record.lock().unwrap().dropped = true;
    }
}

/// `PUT /take` is taken by a [`Recording`] sink of at most 8 bytes (with a field the
/// accepting response carries, as a wrapper would add it); every other request is
/// [`Echo`]'s (a `PUT` elsewhere gets its 405).
struct Takes(Arc<Mutex<Record>>);

impl Handler for Takes {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
    ) -> Response {
        if request.method == Method::Put && request.target.path() == Some("/take") {
            let sink = Recording {
                record: Arc::clone(&self.0),
                max: 8,
            };
            return Response::accepting(Box::new(sink)).header("X-Wrapper", "kept");
        }
        Echo.handle(request, head, client)
    }
}

/// A harness whose handler is [`Takes`], and what its sink records.
fn taking() -> (Harness, Arc<Mutex<Record>>) {
    let record = Arc::new(Mutex::new(Record::default()));
    let mut h = Harness::new();
    h.handler = Arc::new(Takes(Arc::clone(&record)));
    (h, record)
}

#[test]
fn a_content_length_body_reaches_the_sink_in_pieces_then_its_answer_is_sent() {
    let (mut h, record) = taking();
    h.feed(b"PUT /take HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nab");
    assert_eq!(h.run(), Ended::Read);
    assert!(
        h.take_sent().is_empty(),
        "no answer before the body is through"
    );
    h.feed(b"cd");
    assert_eq!(h.run(), Ended::Read);
    h.feed(b"efGET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(h.run(), Ended::Read);
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [201, 200], "{sent}");
    assert!(sent.contains("Location: /in/x\r\n"), "{sent}");
    assert!(sent.contains("X-Wrapper: kept\r\n"), "{sent}");
    let record = record.lock().unwrap();
    assert_eq!((&record.taken[..], record.pieces), (&b"abcdef"[..], 3));
    assert!(record.finished && record.dropped);
}

#[test]
fn a_chunked_body_reaches_the_sink_without_its_framing() {
    let (mut h, record) = taking();
    let request = b"PUT /take HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
                    3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
    for byte in request.chunks(1) {
        h.feed(byte);
        h.run();
    }
    assert_eq!(statuses(&h.take_sent()), [201]);
    let record = record.lock().unwrap();
    assert_eq!(record.taken, b"abcde");
    assert!(record.finished);
}

#[test]
fn an_empty_body_is_the_sinks_to_answer_at_once() {
    let (mut h, record) = taking();
    h.feed(b"PUT /take HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(statuses(&h.take_sent()), [201]);
    assert!(record.lock().unwrap().finished);
}

#[test]
fn expect_100_continue_is_sent_for_a_body_the_handler_takes() {
    let (mut h, record) = taking();
    h.feed(b"PUT /take HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(h.take_sent(), "HTTP/1.1 100 Continue\r\n\r\n");
    h.feed(b"abc");
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(statuses(&h.take_sent()), [201]);
    assert_eq!(record.lock().unwrap().taken, b"abc");
}

#[test]
fn a_refusal_with_expect_100_continue_is_answered_at_once_and_closes() {
    let (mut h, record) = taking();
    h.feed(b"PUT /other HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(h.run(), Ended::Read, "lingering");
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [405], "{sent}");
    assert!(!sent.contains("100 Continue"), "{sent}");
    assert!(sent.contains("Connection: close\r\n"), "{sent}");
    assert_eq!(record.lock().unwrap().pieces, 0);
}

#[test]
fn a_sinks_refusal_drops_it_and_is_the_answer_after_the_rest_is_discarded() {
    let (mut h, record) = taking();
    h.feed(b"PUT /take HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0123456789");
    assert_eq!(h.run(), Ended::Read);
    {
        let record = record.lock().unwrap();
        assert!(record.dropped && !record.finished, "dropped at the refusal");
    }
    assert!(h.take_sent().is_empty(), "the rest of the body comes first");
    h.feed(b"abcdefghij");
    assert_eq!(h.run(), Ended::Read);
    assert_eq!(statuses(&h.take_sent()), [413]);
    assert!(
        h.conn.is_idle(),
        "the framing is intact: the connection goes on"
    );
    assert_eq!(record.lock().unwrap().taken, b"0123456789");
}

#[test]
fn a_refused_body_is_discarded_only_up_to_the_limit() {
    let (mut h, record) = taking();
    let length = 20 + MAX_DISCARDED_BODY as usize;
    h.feed(format!("PUT /take HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n").as_bytes());
    h.feed(&[b'x'; 16]);
    h.run();
    h.feed(&vec![b'x'; length - 16]);
    assert_eq!(h.run(), Ended::Read, "lingering");
    let sent = h.take_sent();
    assert_eq!(statuses(&sent), [413], "{sent}");
    assert!(
        sent.ends_with("too big\n"),
        "the sink's own refusal: {sent}"
    );
    assert!(sent.contains("Connection: close\r\n"), "{sent}");
    assert!(!record.lock().unwrap().finished);
}

#[test]
fn a_body_cut_short_drops_the_sink_without_an_answer() {
    // The client goes away.
    let (mut h, record) = taking();
    h.feed(b"PUT /take HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nab");
    h.run();
    h.conn.peer_closed();
    assert_eq!(h.run(), Ended::Closed);
    drop(h);
    let r = record.lock().unwrap();
    assert!(r.dropped && !r.finished);
    drop(r);

    // The deadline passes.
    let (mut h, record) = taking();
    h.feed(b"PUT /take HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nab");
    h.run();
    h.later(TIMEOUTS.header);
    h.conn.expire(h.now);
    assert!(h.conn.is_closed());
    assert!(h.take_sent().is_empty());
    let r = record.lock().unwrap();
    assert!(r.dropped && !r.finished);
}

#[test]
fn a_body_the_sink_takes_has_its_deadline_from_the_last_piece() {
    let (mut h, record) = taking();
    h.feed(b"PUT /take HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n");
    h.run();
    for byte in [b"a", b"b", b"c"] {
        h.later(TIMEOUTS.header - Duration::from_secs(1));
        h.conn.expire(h.now);
        h.feed(byte);
        assert_eq!(h.run(), Ended::Read);
        assert_eq!(h.conn.deadline(), Some(h.now + TIMEOUTS.header));
    }
    h.feed(b"d");
    h.run();
    assert_eq!(statuses(&h.take_sent()), [201]);
    assert_eq!(record.lock().unwrap().taken, b"abcd");
}

#[test]
fn a_body_being_taken_is_not_quiet_a_discarded_one_is() {
    let (mut h, _record) = taking();
    h.feed(b"PUT /take HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab");
    h.run();
    assert!(!h.conn.is_quiet(), "a shutdown gives an upload its grace");
    h.feed(b"cd");
    h.run();
    assert!(h.conn.is_quiet());
    let (mut h, _record) = taking();
    h.feed(b"GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nab");
    h.run();
    assert!(h.conn.is_quiet());
}
