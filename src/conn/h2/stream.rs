//! Streams (RFC 9113 §5.1) and the requests they carry: a header list mapped to the same
//! [`nomserve_grammar::Request`] HTTP/1.1 parses, answered through the same exchange
//! ([`crate::conn::exchange::prepare`]: the handler, error pages, the access log), parked
//! while a handler's work is under way (the other streams go on), its body given to the
//! handler's sink or counted and discarded.
//!
//! A stream's life here: open (the request, and maybe its body, arriving) → half-closed
//! (remote) once END_STREAM arrives → closed once the response's END_STREAM is queued. The
//! answer is made as soon as the header block is in, as HTTP/1.1 makes it from the head, and
//! sent once the request has ended (or at once, for an answer that refuses the body).
//!
//! A handler that takes the body ([`Response::accepting`]) gets each DATA payload as it
//! arrives, before the window it used is given back (WINDOW_UPDATE): the client can send
//! no more than one window ahead of what the sink took, a window opened to
//! [`super::UPLOAD_WINDOW`] once the sink is there. While it takes the body, the
//! request's deadline is one header timeout from the last DATA taken.

use super::H2Conn;
use super::sending::Sending;
use crate::conn::exchange::MAX_DISCARDED_BODY;
use crate::conn::exchange::{
    Context, Exchange, body_too_large, malformed, prepare, refused, secured,
};
use crate::conn::park::Parked;
use crate::http::access_log::RequestInfo;
use crate::http::head::RequestHead;
use crate::http::response::BodySink;
use crate::http::response::Response;
use nomserve_grammar::{BodyFraming, DecodedFields, H2ErrorCode, HpackError, parse_h2_request};
use std::net::IpAddr;
use std::time::Instant;

/// The protocol of the HTTP/1.1-style head a request is given to the handlers as.
const HTTP_2: &[u8] = b"HTTP/2.0";

/// The urgency of a request that names none (RFC 9218 §4.1).
const DEFAULT_URGENCY: u8 = 3;

/// The urgency the Priority fields `values` give (RFC 9218 §5: a Structured Fields
/// Dictionary, `u` an integer 0 to 7, the last member named `u` winning, RFC 8941 §3.2);
/// the default for a value out of range or not a plain integer, and when none is given.
/// Parameters and other members (`i`, incremental) are not used: streams of one urgency
/// take turns whatever they say.
fn urgency<'a>(values: impl Iterator<Item = &'a [u8]>) -> u8 {
    let mut found = DEFAULT_URGENCY;
    for value in values {
        for member in value.split(|&b| b == b',') {
            let member = member.trim_ascii();
            let member = member.split(|&b| b == b';').next().unwrap_or_default();
            if let Some(&[digit]) = member.strip_prefix(b"u=") {
                if (b'0'..=b'7').contains(&digit) {
                    found = digit - b'0';
                }
            }
        }
    }
    found
}

/// One stream opened by the client.
#[derive(Debug)]
pub struct Stream {
    /// Its id.
    pub id: u32,
    /// The client may still send DATA (no END_STREAM yet).
    pub receiving: bool,
    /// The Content-Length the request declared (§8.1.1: the DATA must add up to it).
    pub declared: Option<u64>,
    /// DATA payload bytes received.
    pub received: u64,
    /// DATA received on this stream and not yet given back with WINDOW_UPDATE.
    pub recv_unacked: u32,
    /// What the client may still send on this stream.
    pub recv_window: i64,
    /// What we may still send on this stream (§6.9).
    pub send_window: i64,
    /// The request and its body must be in by then (the header timeout).
    pub deadline: Instant,
    /// The urgency the request asked for (RFC 9218 §4.1: 0, most urgent, to 7; 3 unless
    /// said), which orders the streams with data to send.
    pub urgency: u8,
    /// Where the answer stands.
    pub answer: Answer,
    /// The handler's sink, while it takes the request's body.
    pub sink: Option<Box<dyn BodySink>>,
    /// DATA received while the answer is parked: held, its window not given back (so the
    /// stream's window bounds it), until the request is handled again and its handler
    /// takes the body or not.
    pub held: Vec<u8>,
    /// The flow-controlled length of `held`'s frames, given back once they are taken.
    pub held_flow: u32,
}

/// What a DATA frame says: its payload's length, and the payload itself only for a stream
/// whose handler takes the body (others are discarded).
pub(super) struct Data {
    pub stream_id: u32,
    pub len: u64,
    /// The payload with its padding: what counts against the windows (§6.9).
    pub flow: u32,
    pub end_stream: bool,
    /// The payload, for a sink.
    pub payload: Option<Vec<u8>>,
}

/// Where a stream's answer stands.
#[derive(Debug)]
pub enum Answer {
    /// No answer yet (a stream refused or reset is closed at once).
    None,
    /// Made, and sent once the request has ended.
    Ready(Response, Exchange),
    /// Waiting for the handler's work; `fields` is the request, handled again once done.
    Parked(Box<Parked>, Box<DecodedFields>),
    /// Being sent (held inline: a Sending is smaller than a Ready answer, so this costs no
    /// room, and saves an allocation per response).
    Sending(Sending),
    /// Sent in full; the request is still arriving.
    Sent,
}

impl Stream {
    /// Whether response data waits to be sent.
    pub fn has_data(&self) -> bool {
        matches!(self.answer, Answer::Sending(_))
    }

    /// When the connection must look at this stream again: the request's deadline while it
    /// arrives, a parked request's.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.answer {
            Answer::Parked(parked, _) => Some(parked.deadline),
            _ if self.receiving => Some(self.deadline),
            _ => None,
        }
    }

    /// The stream is dropped (reset, or the connection closes): a response cut short is
    /// logged with the content bytes that left.
    pub fn abandon(&self, peer: IpAddr, unrecorded: bool) {
        if let Answer::Sending(sending) = &self.answer {
            if !unrecorded {
                sending.record(peer);
            }
        }
    }
}

impl H2Conn {
    /// Opens stream `id` with the header list `fields` (`bound`: the decoder stopped at a
    /// bound, answered 431), whose request ends here if `end_stream`.
    pub(super) fn open_stream(
        &mut self,
        id: u32,
        end_stream: bool,
        bound: Option<HpackError>,
        fields: &DecodedFields,
        ctx: &Context<'_>,
        now: Instant,
    ) {
        let send_window = self.peer_initial_window;
        let deadline = now + self.timeouts.header;
        self.streams.insert_with(|| Stream {
            id,
            receiving: !end_stream,
            declared: None,
            received: 0,
            recv_unacked: 0,
            recv_window: i64::from(super::INITIAL_WINDOW),
            send_window,
            deadline,
            urgency: DEFAULT_URGENCY,
            answer: Answer::None,
            sink: None,
            held: Vec::new(),
            held_flow: 0,
        });
        if let Some(e) = bound {
            // An HPACK bomb or too many fields (RFC 9113 §10.5.1): 431, the connection goes on.
            log::debug!("{}: stream {id}: {e}; 431", self.peer);
            let response = Response::text(431, format!("{e}\n"));
            let exchange = Exchange::unparsed(&RequestHead::Fields(fields, HTTP_2).request_line());
            return self.answer_now(id, response, exchange, now);
        }
        if let Some(message) = self.refusal.take() {
            self.go_away(H2ErrorCode::NoError, b"refused");
            return self.answer_now(id, refused(message), Exchange::unparsed(b""), now);
        }
        self.handle(id, fields, None, ctx, now);
    }

    /// Answers the request of stream `id` from its header list: a malformed one resets the
    /// stream (§8.1.1), one that breaks an HTTP rule gets its status, any other goes to the
    /// handler. `parked_until` keeps a request parked again to its first bound.
    fn handle(
        &mut self,
        id: u32,
        fields: &DecodedFields,
        parked_until: Option<Instant>,
        ctx: &Context<'_>,
        now: Instant,
    ) {
        let mut headers = self.header_room.lend(fields.len());
        let request = match parse_h2_request(fields.iter(), &mut headers, &self.limits) {
            Ok(request) => request,
            Err(e) if e.is_malformed() => {
                self.header_room.give_back(headers);
                return self.stream_error(id, H2ErrorCode::ProtocolError, &e.to_string());
            }
            Err(e) => {
                self.header_room.give_back(headers);
                log::debug!("{}: stream {id}: {e}", self.peer);
                let response = malformed(&e.error());
                let exchange =
                    Exchange::unparsed(&RequestHead::Fields(fields, HTTP_2).request_line());
                return self.answer_now(id, response, exchange, now);
            }
        };
        let declared = match request.framing {
            BodyFraming::ContentLength(n) => Some(n),
            _ => None,
        };
        let head = RequestHead::Fields(fields, HTTP_2);
        let mut prepared = prepare(&request, &head, self.peer, ctx);
        let urgency = urgency(request.headers.get_all("priority"));
        self.header_room.give_back(headers);
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        stream.sink = prepared.response.sink.take();
        stream.declared = declared;
        stream.urgency = urgency;
        // HEADERS with END_STREAM, no DATA: a request handled again after its DATA arrived
        // had its length checked at its END_STREAM.
        if !stream.receiving && stream.received == 0 && declared.is_some_and(|n| n != 0) {
            return self.stream_error(
                id,
                H2ErrorCode::ProtocolError,
                "Content-Length without DATA (RFC 9113 8.1.1)",
            );
        }
        if let Some(ticket) = prepared.response.pending.take() {
            let deadline = parked_until.unwrap_or(now + self.timeouts.header);
            let parked = Parked::new(ticket, deadline, prepared);
            stream.answer = Answer::Parked(Box::new(parked), Box::new(fields.clone()));
            return;
        }
        // DATA held while the request was parked goes to the sink now, and its window back.
        let held = std::mem::take(&mut stream.held);
        let held_flow = std::mem::take(&mut stream.held_flow);
        let refusal = match stream.sink.as_mut() {
            Some(sink) if !held.is_empty() => sink.take(&held).err(),
            _ => None,
        };
        if refusal.is_some() {
            stream.sink = None;
        }
        if stream.receiving && held_flow > 0 {
            self.give_back(id, held_flow);
        }
        if let Some(refusal) = refusal {
            return self.answer_now(id, *refusal, prepared.exchange, now);
        }
        if prepared.refused {
            return self.answer_now(id, prepared.response, prepared.exchange, now);
        }
        self.widen(id);
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        if !stream.receiving {
            // The request is complete: the answer goes out now, without being parked in the
            // stream as Ready.
            return self.send_answer(id, prepared.response, prepared.exchange, now);
        }
        let continues = prepared.send_continue && stream.sink.is_some();
        stream.answer = Answer::Ready(prepared.response, prepared.exchange);
        if continues {
            self.send_continue(id);
        }
    }

    /// Sends `response` on stream `id` now, whether or not the request has ended: an answer
    /// the connection makes itself (with HSTS over TLS).
    fn answer_now(&mut self, id: u32, response: Response, exchange: Exchange, now: Instant) {
        let response = secured(response, self.hsts.as_ref());
        self.send_answer(id, response, exchange, now);
    }

    /// Whether the DATA payloads of stream `id` are kept: its handler takes its body, or its
    /// answer is parked (they are held for the handler asked again).
    pub(super) fn takes_body(&self, id: u32) -> bool {
        self.streams.get(&id).is_some_and(|stream| {
            stream.sink.is_some() || matches!(stream.answer, Answer::Parked(..))
        })
    }

    /// DATA `frame` on stream `id`, open: its window, its declared length, the handler's
    /// sink or the discarded body's bound, the request's end.
    pub(super) fn body(&mut self, id: u32, frame: &Data, now: Instant) {
        let (len, flow, end_stream) = (frame.len, frame.flow, frame.end_stream);
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        stream.recv_window -= i64::from(flow);
        if stream.recv_window < 0 {
            return self.stream_error(
                id,
                H2ErrorCode::FlowControlError,
                "DATA past the stream window",
            );
        }
        stream.received += len;
        if stream
            .declared
            .is_some_and(|declared| stream.received > declared)
        {
            return self.stream_error(
                id,
                H2ErrorCode::ProtocolError,
                "more DATA than Content-Length (RFC 9113 8.1.1)",
            );
        }
        let parked = matches!(stream.answer, Answer::Parked(..));
        if parked {
            stream
                .held
                .extend_from_slice(frame.payload.as_deref().unwrap_or_default());
            stream.held_flow += flow;
        }
        let refusal = match (stream.sink.as_mut(), frame.payload.as_deref()) {
            (Some(sink), Some(payload)) if !payload.is_empty() => {
                stream.deadline = now + self.timeouts.header;
                sink.take(payload).err()
            }
            _ => None,
        };
        let too_large = stream.sink.is_none()
            && stream.received > MAX_DISCARDED_BODY
            && matches!(stream.answer, Answer::Ready(..) | Answer::Parked(..));
        let refused = refusal.is_some() || too_large;
        if refusal.is_some() {
            stream.sink = None;
        }
        let exchange = refused.then(
            || match std::mem::replace(&mut stream.answer, Answer::None) {
                Answer::Ready(_, exchange) => exchange,
                _ => Exchange::unparsed(b""),
            },
        );
        if end_stream {
            stream.receiving = false;
            if stream
                .declared
                .is_some_and(|declared| stream.received != declared)
            {
                return self.stream_error(
                    id,
                    H2ErrorCode::ProtocolError,
                    "less DATA than Content-Length (RFC 9113 8.1.1)",
                );
            }
        } else if !parked {
            self.give_back(id, flow);
        }
        if let Some(exchange) = exchange {
            let response = match refusal {
                Some(refusal) => {
                    log::debug!(
                        "{}: stream {id}: the handler refused the body: {}",
                        self.peer,
                        refusal.status
                    );
                    *refusal
                }
                None => {
                    log::debug!(
                        "{}: stream {id}: body past {MAX_DISCARDED_BODY} bytes; 413",
                        self.peer
                    );
                    body_too_large()
                }
            };
            return self.answer_now(id, response, exchange, now);
        }
        if end_stream {
            self.end_request(id, now);
        }
    }

    /// The request of stream `id` has ended (END_STREAM): its answer is sent if it is made,
    /// the stream closed if its answer was sent already.
    pub(super) fn end_request(&mut self, id: u32, now: Instant) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        stream.receiving = false;
        match stream.answer {
            Answer::Ready(..) => self.start_answer(id, now),
            Answer::Sent => self.close_stream(id),
            Answer::None | Answer::Parked(..) | Answer::Sending(_) => {}
        }
    }

    /// Gives each parked request whose handler's work is done its answer.
    pub(super) fn wake_parked(&mut self, ctx: &Context<'_>, now: Instant) {
        let parked: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, stream)| matches!(stream.answer, Answer::Parked(..)))
            .map(|(&id, _)| id)
            .collect();
        for id in parked {
            let Some(stream) = self.streams.get_mut(&id) else {
                continue;
            };
            let Answer::Parked(parked, fields) = &mut stream.answer else {
                continue;
            };
            if !parked.ready(ctx.waker) {
                continue;
            }
            let deadline = parked.deadline;
            let fields = std::mem::take(&mut **fields);
            stream.answer = Answer::None;
            self.handle(id, &fields, Some(deadline), ctx, now);
        }
    }

    /// Resets the streams whose request did not arrive in time, and answers the parked ones
    /// whose wait ran out.
    pub(super) fn expire_streams(&mut self, now: Instant) {
        let due: Vec<u32> = self
            .streams
            .iter()
            .filter(|(_, stream)| stream.deadline().is_some_and(|deadline| now >= deadline))
            .map(|(&id, _)| id)
            .collect();
        for id in due {
            let Some(stream) = self.streams.get_mut(&id) else {
                continue;
            };
            match std::mem::replace(&mut stream.answer, Answer::None) {
                Answer::Parked(parked, _) => {
                    let (response, exchange) = parked.give_up(self.peer);
                    self.answer_now(id, response, exchange, now);
                }
                answer => {
                    stream.answer = answer;
                    self.stream_error(
                        id,
                        H2ErrorCode::Cancel,
                        "request unfinished at its deadline",
                    );
                }
            }
        }
    }

    /// Records, in the access log and the metrics, a response of `status` sent in full,
    /// with `body_sent` content bytes, for the request `info` describes.
    pub(super) fn record(&self, info: Option<&RequestInfo>, status: u16, body_sent: u64) {
        if !self.unrecorded {
            super::sending::record(self.peer.ip(), info, status, body_sent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgencies() {
        let of = |values: &[&str]| urgency(values.iter().map(|v| v.as_bytes()));
        assert_eq!(of(&[]), DEFAULT_URGENCY);
        assert_eq!(of(&["u=0"]), 0);
        assert_eq!(of(&["u=5, i"]), 5);
        assert_eq!(of(&["i, u=1"]), 1);
        assert_eq!(of(&["u=2", "u=6"]), 6);
        assert_eq!(of(&["u=8"]), DEFAULT_URGENCY);
        assert_eq!(of(&["u=12"]), DEFAULT_URGENCY);
        assert_eq!(of(&["u=1;x=2"]), 1);
        assert_eq!(of(&["uu=1"]), DEFAULT_URGENCY);
    }
}
