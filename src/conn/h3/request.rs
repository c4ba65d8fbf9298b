//! A request stream (RFC 9114 §4.1): its frames read as they arrive (HEADERS, then DATA,
//! then optional trailers; unknown frame types skipped, §9), its request handled through the
//! exchange, its answer held until the request has ended.

use super::send::Answer;
use super::{H3Conn, STREAM_HIGH};
use crate::conn::exchange::MAX_DISCARDED_BODY;
use crate::conn::exchange::{Exchange, body_too_large, malformed, prepare, secured};
use crate::conn::fields::HeaderStorage;
use crate::conn::park::Parked;
use crate::http::head::RequestHead;
use crate::http::response::Response;
use nomserve_grammar::{
    BodyFraming, DecodeLimits, DecodedFields, Field, H3ErrorCode, H3Frame, H3StreamKind,
    ParsedH3Frame, QpackSection, parse_h3_frame, parse_h3_request,
};
use std::net::IpAddr;
use std::time::Instant;

/// Where the reading of a request stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// At a frame boundary.
    Frames,
    /// Inside a DATA frame's payload: this many bytes are left (counted, discarded).
    Data(u64),
    /// Inside an unknown frame's payload: this many bytes are left to skip (§9).
    Skip(u64),
}

/// A request stream's frame, apart from the buffer it was read from.
enum Frame {
    /// DATA: this many bytes of content follow.
    Data(u64),
    /// HEADERS, with its encoded field section.
    Headers(Vec<u8>),
    /// A frame of unknown type: this many bytes follow, to skip (§9).
    Skip(u64),
    /// A frame the grammar lets through on a request stream that we do not expect.
    Other,
}

/// One request stream.
#[derive(Debug)]
pub struct RequestStream {
    /// Bytes received and not yet read as frames.
    input: Vec<u8>,
    reading: Reading,
    /// HEADERS arrived (`true`), trailers too (a later HEADERS).
    headers: bool,
    trailers: bool,
    /// The client's side ended (FIN).
    pub ended: bool,
    /// The Content-Length the request declared: the DATA must add up to it (§4.1.2).
    declared: Option<u64>,
    /// DATA payload bytes received.
    received: u64,
    /// The request and its body must be in by then (the header timeout).
    deadline: Instant,
    pub answer: Answer,
}

impl RequestStream {
    fn new(deadline: Instant) -> RequestStream {
        RequestStream {
            input: Vec::new(),
            reading: Reading::Frames,
            headers: false,
            trailers: false,
            ended: false,
            declared: None,
            received: 0,
            deadline,
            answer: Answer::None,
        }
    }

    /// When the connection must look at the stream again: the request's deadline while it
    /// arrives, a parked request's.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.answer {
            Answer::Parked(parked, _) => Some(parked.deadline),
            _ if !self.ended => Some(self.deadline),
            _ => None,
        }
    }

    /// Whether its response is being sent.
    pub fn is_sending(&self) -> bool {
        matches!(self.answer, Answer::Sending(_))
    }

    /// Whether the request waits for its handler's work.
    pub fn is_parked(&self) -> bool {
        matches!(self.answer, Answer::Parked(..))
    }

    /// The stream is dropped: a response cut short is logged with what was sent.
    pub fn abandon(self, peer: IpAddr, unrecorded: bool) {
        if let Answer::Sending(outgoing) = self.answer {
            if !unrecorded {
                outgoing.record(peer);
            }
        }
    }
}

impl H3Conn {
    /// Bytes on request stream `id`: frames are read as far as they are complete.
    pub(super) fn request_bytes(
        &mut self,
        id: u64,
        bytes: &[u8],
        fin: bool,
        ctx: &crate::conn::Context<'_>,
        now: Instant,
    ) {
        if !self.requests.contains_key(&id) {
            if self.goaway.is_some_and(|first| id >= first) {
                // §5.2: a request past our GOAWAY was not processed; the client may retry it.
                self.resets.push((id, H3ErrorCode::RequestRejected));
                return;
            }
            // Streams may start out of order (their first packets reordered or lost); a
            // stream already over gets no more bytes from QUIC (we stopped reading it, or
            // its end arrived).
            self.next_request = self.next_request.max(id + 4);
            let deadline = now + self.timeouts.header;
            self.requests.insert(id, RequestStream::new(deadline));
        }
        let Some(stream) = self.requests.get_mut(&id) else {
            return;
        };
        stream.input.extend_from_slice(bytes);
        stream.ended |= fin;
        let mut at = 0;
        loop {
            let Some(stream) = self.requests.get_mut(&id) else {
                return;
            };
            let rest = stream.input.get(at..).unwrap_or_default();
            match stream.reading {
                Reading::Data(left) | Reading::Skip(left) if left > 0 => {
                    if rest.is_empty() {
                        break;
                    }
                    let n = (rest.len() as u64).min(left);
                    at += n as usize;
                    if let Reading::Data(_) = stream.reading {
                        stream.reading = Reading::Data(left - n);
                        stream.received += n;
                        if self.body_over(id, now) {
                            return;
                        }
                    } else {
                        stream.reading = Reading::Skip(left - n);
                    }
                    continue;
                }
                _ => stream.reading = Reading::Frames,
            }
            if rest.is_empty() {
                break;
            }
            let max = self.limits.max_head as u64;
            match parse_h3_frame(rest, H3StreamKind::Request, max) {
                Ok(ParsedH3Frame::Partial { .. }) => break,
                Ok(ParsedH3Frame::Complete { frame, consumed }) => {
                    let frame = match frame {
                        H3Frame::Data { length } => Frame::Data(length),
                        H3Frame::Headers(section) => Frame::Headers(section.to_vec()),
                        H3Frame::Unknown { length, .. } => Frame::Skip(length),
                        _ => Frame::Other,
                    };
                    at += consumed;
                    if !self.request_frame(id, frame, ctx, now) {
                        return;
                    }
                }
                Err(e) if e.is_connection_error() => {
                    return self.fail(e.code(), &e.to_string());
                }
                Err(e) => return self.stream_error(id, e.code(), &e.to_string()),
            }
        }
        let Some(stream) = self.requests.get_mut(&id) else {
            return;
        };
        stream.input.drain(..at.min(stream.input.len()));
        if stream.ended {
            self.request_ended(id, now);
        }
    }

    /// Applies one frame of request stream `id`; `false` when the stream or the connection
    /// is gone.
    fn request_frame(
        &mut self,
        id: u64,
        frame: Frame,
        ctx: &crate::conn::Context<'_>,
        now: Instant,
    ) -> bool {
        let Some(stream) = self.requests.get_mut(&id) else {
            return false;
        };
        match frame {
            Frame::Data(length) => {
                if !stream.headers || stream.trailers {
                    // §4.1: DATA before HEADERS or after trailers.
                    self.fail(H3ErrorCode::FrameUnexpected, "DATA out of place");
                    return false;
                }
                stream.reading = Reading::Data(length);
            }
            Frame::Skip(length) => stream.reading = Reading::Skip(length),
            Frame::Headers(section) if !stream.headers => {
                stream.headers = true;
                return self.request_headers(id, &section, ctx, now);
            }
            Frame::Headers(_) if !stream.trailers => {
                // Trailers (§4.1): not used by a static server, and not decoded.
                stream.trailers = true;
            }
            _ => {
                self.fail(H3ErrorCode::FrameUnexpected, "a frame out of place");
                return false;
            }
        }
        true
    }

    /// Decodes the request's field section and hands the request to the exchange.
    fn request_headers(
        &mut self,
        id: u64,
        section: &[u8],
        ctx: &crate::conn::Context<'_>,
        now: Instant,
    ) -> bool {
        let limits = DecodeLimits::default();
        let mut fields = std::mem::take(&mut self.fields);
        let decoded = self
            .decoder
            .decode_section(id, section, &mut fields, &limits);
        let alive = match decoded {
            Ok(QpackSection::Decoded) => {
                self.handle(id, &fields, None, ctx, now);
                true
            }
            // Blocked streams are not allowed (we advertised 0, RFC 9204 §2.1.2).
            Ok(QpackSection::Blocked { .. }) => {
                self.fail(
                    H3ErrorCode::QpackDecompressionFailed,
                    "a blocked field section",
                );
                false
            }
            Err(e) if e.is_connection_error() => {
                self.fail(e.code(), &e.to_string());
                false
            }
            Err(e) => {
                // A bound (too many fields, too large): its status, the connection goes on.
                let status = e.status().unwrap_or(431);
                let response = Response::text(status, format!("{e}\n"));
                self.answer_now(id, response, Exchange::unparsed(b""), now);
                true
            }
        };
        self.fields = fields;
        alive && self.requests.contains_key(&id)
    }

    /// Answers the request of stream `id` from its fields: a malformed one is a stream error
    /// (H3_MESSAGE_ERROR, RFC 9114 §4.1.2), one that breaks an HTTP rule gets its status, any
    /// other goes to the handler. `parked_until` keeps a request parked again to its first
    /// bound.
    pub(super) fn handle(
        &mut self,
        id: u64,
        fields: &DecodedFields,
        parked_until: Option<Instant>,
        ctx: &crate::conn::Context<'_>,
        now: Instant,
    ) {
        let mut storage = HeaderStorage::new();
        let headers = storage.for_fields(fields.len());
        let list = fields.iter().map(Field::from);
        let request = match parse_h3_request(list, headers, &self.limits) {
            Ok(request) => request,
            Err(e) if e.is_malformed() => {
                return self.stream_error(id, H3ErrorCode::MessageError, &e.to_string());
            }
            Err(e) => {
                let response = malformed(&e.error());
                let exchange =
                    Exchange::unparsed(&RequestHead::Fields(fields, b"HTTP/3.0").request_line());
                return self.answer_now(id, response, exchange, now);
            }
        };
        let head = RequestHead::Fields(fields, b"HTTP/3.0");
        let mut prepared = prepare(&request, &head, self.peer, ctx);
        let Some(stream) = self.requests.get_mut(&id) else {
            return;
        };
        stream.declared = match request.framing {
            BodyFraming::ContentLength(n) => Some(n),
            _ => None,
        };
        if let Some(ticket) = prepared.response.pending.take() {
            let deadline = parked_until.unwrap_or(now + self.timeouts.header);
            let parked = Parked::new(ticket, deadline, prepared);
            stream.answer = Answer::Parked(Box::new(parked), Box::new(fields.clone()));
            return;
        }
        if prepared.refused {
            return self.answer_now(id, prepared.response, prepared.exchange, now);
        }
        stream.answer = Answer::Ready(prepared.response, prepared.exchange);
    }

    /// Sends `response` on stream `id` now, whether or not the request has ended: an answer
    /// the connection makes itself (with HSTS over TLS).
    fn answer_now(&mut self, id: u64, response: Response, exchange: Exchange, now: Instant) {
        let response = secured(response, self.hsts.as_ref());
        self.start_answer(id, response, exchange, now);
    }

    /// The body of stream `id` grew: past its Content-Length it is malformed (§4.1.2), past
    /// [`MAX_DISCARDED_BODY`] it is refused with 413. `true` when the stream was ended.
    fn body_over(&mut self, id: u64, now: Instant) -> bool {
        let Some(stream) = self.requests.get_mut(&id) else {
            return true;
        };
        if stream.declared.is_some_and(|n| stream.received > n) {
            self.stream_error(
                id,
                H3ErrorCode::MessageError,
                "more DATA than Content-Length",
            );
            return true;
        }
        if stream.received > MAX_DISCARDED_BODY {
            if let Answer::Ready(..) | Answer::Parked(..) = stream.answer {
                let exchange = match std::mem::replace(&mut stream.answer, Answer::None) {
                    Answer::Ready(_, exchange) => exchange,
                    _ => Exchange::unparsed(b""),
                };
                let response = secured(body_too_large(), self.hsts.as_ref());
                self.start_answer(id, response, exchange, now);
            }
        }
        false
    }

    /// The request of stream `id` has ended (FIN): a body shorter than its Content-Length is
    /// malformed (§4.1.2); a ready answer is sent.
    fn request_ended(&mut self, id: u64, now: Instant) {
        let Some(stream) = self.requests.get_mut(&id) else {
            return;
        };
        if !stream.headers
            || stream.reading != Reading::Frames && stream.reading != Reading::Data(0)
            || !stream.input.is_empty()
        {
            // §4.1: a stream ending before its HEADERS, or inside a frame.
            return self.stream_error(id, H3ErrorCode::RequestIncomplete, "request cut short");
        }
        if stream.declared.is_some_and(|n| n != stream.received) {
            return self.stream_error(
                id,
                H3ErrorCode::MessageError,
                "less DATA than Content-Length",
            );
        }
        if let Answer::Ready(..) = stream.answer {
            if let Answer::Ready(response, exchange) =
                std::mem::replace(&mut stream.answer, Answer::None)
            {
                self.start_answer(id, response, exchange, now);
            }
        }
    }

    /// Gives each parked request whose handler's work is done its answer.
    pub fn wake_parked(&mut self, ctx: &crate::conn::Context<'_>, now: Instant) {
        let parked: Vec<u64> = self
            .requests
            .iter()
            .filter(|(_, stream)| matches!(stream.answer, Answer::Parked(..)))
            .map(|(&id, _)| id)
            .collect();
        for id in parked {
            let Some(stream) = self.requests.get_mut(&id) else {
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
            if self.requests.get(&id).is_some_and(|stream| stream.ended) {
                self.request_ended(id, now);
            }
        }
    }

    /// A parked request of stream `id` whose wait ran out gets its answer for that case;
    /// `false` if the stream was not parked.
    pub(super) fn give_up_parked(&mut self, id: u64, now: Instant) -> bool {
        let Some(stream) = self.requests.get_mut(&id) else {
            return true;
        };
        match std::mem::replace(&mut stream.answer, Answer::None) {
            Answer::Parked(parked, _) => {
                let (response, exchange) = parked.give_up(self.peer);
                self.answer_now(id, response, exchange, now);
                true
            }
            answer => {
                stream.answer = answer;
                false
            }
        }
    }

    /// The ids of the request streams with output to write.
    pub fn writable(&self) -> Vec<u64> {
        self.requests
            .iter()
            .filter(|(_, stream)| matches!(stream.answer, Answer::Sending(_)))
            .map(|(&id, _)| id)
            .collect()
    }

    /// What waits to be written on stream `id`, framing more of its body first while less
    /// than [`STREAM_HIGH`] waits; and whether the response ends after it.
    pub fn output(&mut self, id: u64) -> (&[u8], bool) {
        match self.requests.get_mut(&id).map(|stream| &mut stream.answer) {
            Some(Answer::Sending(outgoing)) => outgoing.output(STREAM_HIGH),
            _ => (&[], false),
        }
    }
}
