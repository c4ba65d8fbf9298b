//! A handler that takes the request body over HTTP/2: each DATA payload reaches its sink,
//! the answer follows END_STREAM, a refusal answers at once, and a reset drops the sink.

use super::*;
use crate::http::response::{BodySink, Refusal};

/// The sink of `PUT /take`: takes up to 20 bytes, then refuses with 413; answers 201.
pub(super) struct Taking(pub(super) Arc<Mutex<(Vec<u8>, bool, bool)>>);

impl BodySink for Taking {
    fn take(&mut self, piece: &[u8]) -> Result<(), Refusal> {
        let mut taken = self.0.lock().unwrap();
        taken.0.extend_from_slice(piece);
        if taken.0.len() > 20 {
            return Err(Box::new(Response::text(413, "too big")));
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> Response {
        self.0.lock().unwrap().1 = true;
        Response::text(201, "stored")
    }
}

impl Drop for Taking {
    fn drop(&mut self) {
        self.0.lock().unwrap().2 = true;
    }
}

#[test]
fn a_body_the_handler_takes_reaches_its_sink_frame_by_frame() {
    let mut client = Client::new();
    let put = client.request(1, "PUT", "/take", false);
    client.send(&put);
    // The sink is there: the stream's window opens to an upload's.
    assert_eq!(
        client.run(),
        [Got::WindowUpdate(1, UPLOAD_WINDOW - INITIAL_WINDOW)]
    );
    client.send(&data(1, b"abc", false));
    client.send(&data(1, b"", false));
    client.send(&data(1, b"def", false));
    assert!(client.run().is_empty(), "the answer waits for the body");
    assert_eq!(client.handler.taken.lock().unwrap().0, b"abcdef");
    client.send(&data(1, b"g", true));
    let frames = client.run();
    assert_eq!(status_of(&frames, 1), Some(("201".to_string(), false)));
    let taken = client.handler.taken.lock().unwrap();
    assert_eq!(
        (&taken.0[..], taken.1, taken.2),
        (&b"abcdefg"[..], true, true)
    );
}

#[test]
fn a_sinks_refusal_is_answered_at_once_and_resets_the_stream() {
    let mut client = Client::new();
    let put = client.request(1, "PUT", "/take", false);
    client.send(&put);
    client.run();
    // Past the sink's 20 bytes: refused at once, 413, the stream reset after it.
    client.send(&data(1, &[7; 16], false));
    assert!(client.run().is_empty());
    client.send(&data(1, &[7; 16], false));
    let frames = client.run();
    assert_eq!(status_of(&frames, 1), Some(("413".to_string(), false)));
    assert!(frames.contains(&Got::Rst(1, code(H2ErrorCode::NoError))));
    let taken = client.handler.taken.lock().unwrap();
    assert!(!taken.1 && taken.2, "dropped without finishing");
}

#[test]
fn a_stream_reset_mid_body_drops_its_sink_unfinished() {
    let mut client = Client::new();
    let put = client.request(1, "PUT", "/take", false);
    client.send(&put);
    client.send(&data(1, b"abc", false));
    client.run();
    let mut reset = Vec::new();
    write_rst_stream(&mut reset, 1, H2ErrorCode::Cancel);
    client.send(&reset);
    client.run();
    let taken = client.handler.taken.lock().unwrap();
    assert!(!taken.1 && taken.2, "dropped without finishing");
}

#[test]
fn a_body_the_sink_takes_has_its_deadline_from_the_last_data() {
    let mut client = Client::new();
    let put = client.request(1, "PUT", "/take", false);
    client.send(&put);
    client.run();
    for _ in 0..3 {
        client.later(TIMEOUTS.header - Duration::from_secs(1));
        client.conn.expire(client.now);
        client.send(&data(1, b"a", false));
        assert!(client.run().is_empty(), "still open");
    }
    client.send(&data(1, b"a", true));
    assert_eq!(
        status_of(&client.run(), 1),
        Some(("201".to_string(), false))
    );
}

#[test]
fn expect_100_continue_gets_an_interim_headers_frame_for_a_body_taken() {
    let mut client = Client::new();
    let put = client.request_with(1, "PUT", "/take", &[("expect", "100-continue")], false);
    client.send(&put);
    let frames = client.run();
    assert!(
        matches!(&frames[..], [Got::WindowUpdate(1, _), Got::Headers(1, status, _, false)] if status == "100"),
        "{frames:?}"
    );
    client.send(&data(1, b"abc", true));
    assert_eq!(
        status_of(&client.run(), 1),
        Some(("201".to_string(), false))
    );
    // Not for a body the handler does not take.
    let post = client.request_with(3, "POST", "/", &[("expect", "100-continue")], false);
    client.send(&post);
    assert!(client.run().is_empty());
}

#[test]
fn data_that_arrives_while_the_request_is_parked_reaches_the_sink_first() {
    let mut client = Client::new();
    let put = client.request_with(1, "PUT", "/take-wait", &[("content-length", "7")], false);
    client.send(&put);
    client.send(&data(1, b"abc", false));
    let frames = client.run();
    assert!(
        !frames.iter().any(|f| matches!(f, Got::WindowUpdate(1, _))),
        "no stream window given back while parked: {frames:?}"
    );
    client.send(&data(1, b"defg", true));
    assert!(client.run().is_empty(), "parked");
    client.completion.take();
    let frames = client.run();
    assert_eq!(status_of(&frames, 1), Some(("201".to_string(), false)));
    let taken = client.handler.taken.lock().unwrap();
    assert_eq!((&taken.0[..], taken.1), (&b"abcdefg"[..], true));
}
