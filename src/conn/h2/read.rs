//! The read side: each frame the grammar parsed, checked against the connection's history
//! (RFC 9113 §5.1 stream states, §6.10 CONTINUATION sequencing, §5.2 flow control) and
//! applied.

use super::bounds::{LAST_STREAM_ID, MAX_BLOCK_FRAMES, MAX_HEADER_BLOCK, Verdict};
use super::stream::{Answer, Data};
use super::{H2Conn, MAX_CONCURRENT_STREAMS, MAX_FRAME_SIZE, Phase};
use crate::conn::exchange::Context;
use nomserve_grammar::{
    Frame, H2Error, H2ErrorCode, HeadersFrame, ParsedFrame, Setting, parse_frame, write_ping_ack,
    write_rst_stream, write_window_update,
};
use std::time::Instant;

/// Streams remembered as closed, so that a frame on one is told from a frame on a stream
/// never opened (§5.1): more than the streams a client can have open at once.
const CLOSED_MEMORY: usize = 2 * MAX_CONCURRENT_STREAMS as usize;

/// A header block being received (§6.10): nothing but its CONTINUATION frames may come
/// until END_HEADERS.
#[derive(Debug)]
pub struct Block {
    pub stream_id: u32,
    pub end_stream: bool,
    pub fragments: Vec<u8>,
    pub frames: u32,
    /// The block must be complete by then (the header timeout).
    pub deadline: Instant,
    /// A stream error the HEADERS frame carried, reported once the block is decoded.
    pub error: Option<H2Error>,
}

impl H2Conn {
    /// Applies the buffered frames, one at a time, while the output stays under
    /// [`super::READ_HIGH`] and the connection is open. The input is taken out while they
    /// are applied, so that a frame's fragments are used where they lie, not copied.
    pub(super) fn read_frames(&mut self, ctx: &Context<'_>, now: Instant) {
        let input = std::mem::take(&mut self.input);
        self.frames_in(&input, ctx, now);
        self.input = input;
    }

    /// [`H2Conn::read_frames`] on `input`, the connection's input.
    fn frames_in(&mut self, input: &[u8], ctx: &Context<'_>, now: Instant) {
        while self.phase == Phase::Open && self.pending_out() < super::READ_HIGH {
            let buffered = input.get(self.pos..).unwrap_or_default();
            match parse_frame(buffered, MAX_FRAME_SIZE) {
                Ok(ParsedFrame::Partial { .. }) => return,
                Ok(ParsedFrame::Complete { frame, consumed }) => {
                    // What outlives the frame is copied out of it: a DATA payload only for
                    // a stream whose handler takes its body.
                    let payload = match &frame {
                        Frame::Data(data) if self.takes_body(data.stream_id) => {
                            Some(data.data.to_vec())
                        }
                        _ => None,
                    };
                    let mut owned = AppliedFrame::of(frame);
                    if let AppliedFrame::Data(data) = &mut owned {
                        data.payload = payload;
                    }
                    self.pos += consumed;
                    self.consumed += consumed;
                    self.frame(owned, ctx, now);
                }
                Err(e) => {
                    let e = e.shifted(self.consumed);
                    match e.stream() {
                        Some(id) if self.block.is_none() && self.settings_seen => {
                            self.pos += e.frame_len();
                            self.consumed += e.frame_len();
                            self.stream_error(id, e.code(), &e.to_string());
                        }
                        _ => self.connection_error(e.code(), e.to_string().as_bytes()),
                    }
                }
            }
        }
    }

    /// Applies one frame.
    fn frame(&mut self, frame: AppliedFrame<'_>, ctx: &Context<'_>, now: Instant) {
        if !self.settings_seen && !matches!(frame, AppliedFrame::Settings(_)) {
            // §3.4: the client preface ends with a SETTINGS frame.
            return self.connection_error(H2ErrorCode::ProtocolError, b"first frame not SETTINGS");
        }
        if self.block.is_some() && !matches!(frame, AppliedFrame::Continuation { .. }) {
            return self.connection_error(
                H2ErrorCode::ProtocolError,
                b"frame inside a header block (RFC 9113 6.10)",
            );
        }
        match frame {
            AppliedFrame::Data(data) => self.data(&data, now),
            AppliedFrame::Headers(headers) => self.headers(headers, ctx, now),
            // §5.3.2: RFC 7540's priority signals are parsed and ignored, in any stream
            // state; each is work for nothing (PRIORITY churn, CVE-2019-9513).
            AppliedFrame::Priority => self.cheap("PRIORITY flood"),
            AppliedFrame::RstStream(stream_id) => self.rst_stream(stream_id),
            AppliedFrame::Settings(settings) => self.settings(&settings),
            AppliedFrame::SettingsAck => {
                if self.settings_ack_due.take().is_none() {
                    self.cheap("unsolicited SETTINGS ACK flood");
                }
            }
            AppliedFrame::Ping { ack, opaque } => {
                // We send no PING: an acknowledgement is as cheap a frame as a PING is.
                if !ack {
                    write_ping_ack(&mut self.out, opaque);
                }
                self.cheap("PING flood");
            }
            AppliedFrame::GoAway => self.peer_going_away = true,
            AppliedFrame::WindowUpdate {
                stream_id,
                increment,
            } => self.window_update(stream_id, increment),
            AppliedFrame::Continuation {
                stream_id,
                fragment,
                end_headers,
            } => self.continuation(stream_id, fragment, end_headers, ctx, now),
            AppliedFrame::Unknown => self.cheap("unknown frame flood"),
        }
    }

    /// Counts a frame against the flood budget; past it, ENHANCE_YOUR_CALM.
    pub(super) fn cheap(&mut self, what: &'static str) {
        if let Verdict::Calm(why) = self.floods.cheap(what) {
            self.connection_error(H2ErrorCode::EnhanceYourCalm, why.as_bytes());
        }
    }

    /// A stream error (§5.4.2): RST_STREAM with `code`; the stream is closed.
    pub(super) fn stream_error(&mut self, id: u32, code: H2ErrorCode, why: &str) {
        log::debug!("{}: HTTP/2 stream {id} error {code}: {why}", self.peer);
        write_rst_stream(&mut self.out, id, code);
        self.close_stream(id);
        self.cheap("too many stream errors");
    }

    /// Forgets stream `id`, remembering it as closed.
    pub(super) fn close_stream(&mut self, id: u32) {
        let (peer, unrecorded) = (self.peer.ip(), self.unrecorded);
        let was_open = self.streams.remove_with(id, |stream| {
            // Only a stream with a body still to send can be waiting for its turn.
            let sending = matches!(stream.answer, Answer::Sending(_));
            stream.abandon(peer, unrecorded);
            sending
        });
        if was_open == Some(true) {
            self.ready.remove(id);
        }
        // An open stream is closed once; only a stream never opened (refused) or closed
        // already needs the search.
        if was_open.is_some() || !self.closed.contains(&id) {
            if self.closed.len() == CLOSED_MEMORY {
                self.closed.pop_front();
            }
            self.closed.push_back(id);
        }
        if self.streams.is_empty() {
            self.idle_since = self.clock;
        }
    }

    /// Whether `id` is a stream the client never opened (§5.1: idle).
    pub(super) fn is_idle_stream(&self, id: u32) -> bool {
        id > self.last_stream
    }

    /// DATA (§6.1): flow control for the connection and the stream, the body's bounds, and
    /// the request's end.
    fn data(&mut self, frame: &Data, now: Instant) {
        let id = frame.stream_id;
        let flow = frame.flow;
        if self.is_idle_stream(id) {
            return self.connection_error(H2ErrorCode::ProtocolError, b"DATA on an idle stream");
        }
        // §6.9: DATA counts against the connection window whatever its stream's state.
        self.recv_window -= i64::from(flow);
        if self.recv_window < 0 {
            return self.connection_error(
                H2ErrorCode::FlowControlError,
                b"DATA past the connection window",
            );
        }
        self.give_back(0, flow);
        if frame.len == 0 && !frame.end_stream {
            self.cheap("empty DATA flood");
        }
        let receiving = self.streams.get(&id).map(|stream| stream.receiving);
        match receiving {
            None => {
                return self.stream_error(id, H2ErrorCode::StreamClosed, "DATA on a closed stream");
            }
            Some(false) => {
                return self.stream_error(
                    id,
                    H2ErrorCode::StreamClosed,
                    "DATA after END_STREAM (RFC 9113 5.1)",
                );
            }
            Some(true) => {}
        }
        self.body(id, frame, now);
    }

    /// Gives `n` received bytes back to the client's window of stream `id` (0: the
    /// connection's) once half the window is used, so that WINDOW_UPDATEs stay few.
    pub(super) fn give_back(&mut self, id: u32, n: u32) {
        if id == 0 {
            self.recv_unacked += n;
            if self.recv_unacked >= super::CONNECTION_WINDOW / 2 {
                write_window_update(&mut self.out, 0, self.recv_unacked);
                self.recv_window += i64::from(self.recv_unacked);
                self.recv_unacked = 0;
            }
        } else if let Some(stream) = self.streams.get_mut(&id) {
            stream.recv_unacked += n;
            let window = match stream.sink {
                Some(_) => super::UPLOAD_WINDOW,
                None => super::INITIAL_WINDOW,
            };
            if stream.receiving && stream.recv_unacked >= window / 2 {
                write_window_update(&mut self.out, id, stream.recv_unacked);
                stream.recv_window += i64::from(stream.recv_unacked);
                stream.recv_unacked = 0;
            }
        }
    }

    /// Opens the window of stream `id` to [`super::UPLOAD_WINDOW`] once a handler's sink
    /// takes its body as it arrives (what was received meanwhile is given back with it).
    pub(super) fn widen(&mut self, id: u32) {
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        // The window is at most INITIAL_WINDOW here (never negative: past it is a stream
        // error), so the raise is positive and fits a WINDOW_UPDATE.
        let raise = i64::from(super::UPLOAD_WINDOW) - stream.recv_window;
        if let Ok(increment @ 1..) = u32::try_from(raise)
            && stream.receiving
            && stream.sink.is_some()
        {
            write_window_update(&mut self.out, id, increment);
            stream.recv_window += raise;
            stream.recv_unacked = 0;
        }
    }

    /// HEADERS (§6.2): a new stream's request, or a request's trailers.
    fn headers(&mut self, headers: HeadersFrame<'_>, ctx: &Context<'_>, now: Instant) {
        let id = headers.stream_id;
        if let Some(stream) = self.streams.get(&id) {
            if !stream.receiving {
                return self.connection_error(
                    H2ErrorCode::StreamClosed,
                    b"HEADERS after END_STREAM (RFC 9113 5.1)",
                );
            }
            if !headers.end_stream {
                // Trailers end the stream (§8.1); a second HEADERS without it is malformed.
                return self.stream_error(
                    id,
                    H2ErrorCode::ProtocolError,
                    "trailers without END_STREAM",
                );
            }
        } else if !self.is_idle_stream(id) && self.closed.contains(&id) {
            return self.connection_error(
                H2ErrorCode::StreamClosed,
                b"HEADERS on a closed stream (RFC 9113 5.1)",
            );
        } else if !self.is_idle_stream(id) {
            return self.connection_error(
                H2ErrorCode::ProtocolError,
                b"stream id not above the last one (RFC 9113 5.1.1)",
            );
        }
        let mut block = Block {
            stream_id: id,
            end_stream: headers.end_stream,
            fragments: Vec::new(),
            frames: 1,
            deadline: now + self.timeouts.header,
            error: headers.priority_error(),
        };
        if headers.end_headers {
            self.complete_block(block, headers.fragment, ctx, now);
        } else {
            block.fragments.extend_from_slice(headers.fragment);
            self.block = Some(Box::new(block));
        }
    }

    /// CONTINUATION (§6.10): the next fragment of the block under way, bounded in bytes and
    /// in frames (the CONTINUATION flood).
    fn continuation(
        &mut self,
        id: u32,
        fragment: &[u8],
        end_headers: bool,
        ctx: &Context<'_>,
        now: Instant,
    ) {
        let Some(mut block) = self.block.take() else {
            return self.connection_error(
                H2ErrorCode::ProtocolError,
                b"CONTINUATION without a header block (RFC 9113 6.10)",
            );
        };
        if block.stream_id != id {
            return self.connection_error(
                H2ErrorCode::ProtocolError,
                b"CONTINUATION on another stream (RFC 9113 6.10)",
            );
        }
        block.frames += 1;
        if fragment.is_empty() && !end_headers {
            self.cheap("empty CONTINUATION flood");
        }
        if block.fragments.len() + fragment.len() > MAX_HEADER_BLOCK
            || block.frames > MAX_BLOCK_FRAMES
        {
            return self.connection_error(
                H2ErrorCode::EnhanceYourCalm,
                b"header block too large (CONTINUATION flood)",
            );
        }
        block.fragments.extend_from_slice(fragment);
        if end_headers {
            let fragments = std::mem::take(&mut block.fragments);
            self.complete_block(*block, &fragments, ctx, now);
        } else {
            self.block = Some(block);
        }
    }

    /// A whole header block, `fragments` (the HEADERS frame's own when it is the only one):
    /// decoded (always, to keep the HPACK tables in step, §4.3), then a new stream's request
    /// or a request's trailers.
    fn complete_block(&mut self, block: Block, fragments: &[u8], ctx: &Context<'_>, now: Instant) {
        let mut fields = std::mem::take(&mut self.fields);
        let limits = nomserve_grammar::DecodeLimits::default();
        let decoded = self.decoder.decode(fragments, &mut fields, &limits);
        let outcome = self.after_decode(block, decoded, &fields, ctx, now);
        self.fields = fields;
        if let Err((code, why)) = outcome {
            self.connection_error(code, why.as_bytes());
        }
    }

    /// What a decoded block does; `Err` for a connection error.
    fn after_decode(
        &mut self,
        block: Block,
        decoded: Result<(), nomserve_grammar::HpackError>,
        fields: &nomserve_grammar::DecodedFields,
        ctx: &Context<'_>,
        now: Instant,
    ) -> Result<(), (H2ErrorCode, String)> {
        let id = block.stream_id;
        if let Err(e) = decoded {
            if e.is_compression_error() {
                return Err((H2ErrorCode::CompressionError, e.to_string()));
            }
        }
        if self.streams.contains_key(&id) {
            // Trailers: their fields are not used; the request ends here.
            if let Some(stream) = self.streams.get(&id) {
                let received = stream.received;
                if stream.declared.is_some_and(|declared| declared != received) {
                    self.stream_error(
                        id,
                        H2ErrorCode::ProtocolError,
                        "Content-Length and DATA disagree",
                    );
                    return Ok(());
                }
            }
            self.end_request(id, now);
            return Ok(());
        }
        if id > LAST_STREAM_ID && !self.going_away {
            // §6.8: the GOAWAY names the last stream taken, not this one, which is not.
            self.go_away(H2ErrorCode::NoError, b"stream ids exhausted");
        }
        self.last_stream = id;
        if self.going_away || self.peer_going_away {
            // §6.8: streams above the last one announced are ignored.
            return Ok(());
        }
        if let Some(e) = block.error {
            self.stream_error(id, e.code(), &e.to_string());
            return Ok(());
        }
        if self.streams.len() >= MAX_CONCURRENT_STREAMS as usize {
            // §5.1.2: past the advertised limit, PROTOCOL_ERROR or REFUSED_STREAM; the
            // latter lets the client retry.
            crate::metrics::count_h2_refused_stream();
            self.stream_error(
                id,
                H2ErrorCode::RefusedStream,
                "too many concurrent streams",
            );
            return Ok(());
        }
        self.floods.opened = self.floods.opened.saturating_add(1);
        self.open_stream(id, block.end_stream, decoded.err(), fields, ctx, now);
        Ok(())
    }
}

/// A frame as it is applied: a header block fragment still borrowed from the input, a DATA
/// payload's length, the settings collected.
enum AppliedFrame<'a> {
    Data(Data),
    Headers(HeadersFrame<'a>),
    Priority,
    RstStream(u32),
    Settings(Vec<Setting>),
    SettingsAck,
    Ping {
        ack: bool,
        opaque: [u8; 8],
    },
    GoAway,
    WindowUpdate {
        stream_id: u32,
        increment: u32,
    },
    Continuation {
        stream_id: u32,
        fragment: &'a [u8],
        end_headers: bool,
    },
    Unknown,
}

impl<'a> AppliedFrame<'a> {
    /// What `frame` says, its fragments borrowed. A DATA payload is not kept here: only its
    /// length counts unless a sink takes it (see [`H2Conn::read_frames`]).
    fn of(frame: Frame<'a>) -> AppliedFrame<'a> {
        match frame {
            Frame::Data(data) => AppliedFrame::Data(Data {
                stream_id: data.stream_id,
                len: data.data.len() as u64,
                flow: data.flow_controlled_len(),
                end_stream: data.end_stream,
                payload: None,
            }),
            Frame::Headers(headers) => AppliedFrame::Headers(headers),
            Frame::Priority { .. } => AppliedFrame::Priority,
            Frame::RstStream { stream_id, .. } => AppliedFrame::RstStream(stream_id),
            Frame::Settings(settings) => AppliedFrame::Settings(settings.iter().collect()),
            Frame::SettingsAck => AppliedFrame::SettingsAck,
            Frame::Ping { ack, opaque } => AppliedFrame::Ping { ack, opaque },
            Frame::GoAway { .. } => AppliedFrame::GoAway,
            Frame::WindowUpdate {
                stream_id,
                increment,
            } => AppliedFrame::WindowUpdate {
                stream_id,
                increment,
            },
            Frame::Continuation {
                stream_id,
                fragment,
                end_headers,
            } => AppliedFrame::Continuation {
                stream_id,
                fragment,
                end_headers,
            },
            Frame::Unknown { .. } => AppliedFrame::Unknown,
        }
    }
}
