//! HTTP/1.1's steps on a connection: a head read and answered, the response queued, the
//! request's end and what the connection does after it (see the module above for the
//! deadlines and the order of things).

use super::body::Pending;
use super::exchange::{Exchange, Prepared, malformed_head, refused, secured};
use super::head::{Head, HeadScan};
use super::park::Parked;
use super::persistence::{self, Persistence};
use super::send::SendClock;
use super::{Close, Conn, Context, LINGER_BYTES, LINGER_TIME, State, Step};
use crate::http::response::Response;
use crate::http::{buffers, writer};
use std::time::Instant;

impl Conn {
    /// Advances the state machine with the buffered bytes.
    pub(super) fn step(&mut self, ctx: &Context<'_>, now: Instant) -> Step {
        let buffered = self.input.len() - self.pos;
        match &mut self.state {
            State::Idle { .. } if buffered == 0 => return Step::NeedBytes,
            State::Idle { .. } => {
                if let Some(message) = self.refusal.take() {
                    // The request is not read: as RFC 9112 §9.5 expects of clients, they
                    // watch for an early error response while they send.
                    let exchange = Exchange::unparsed(self.unprocessed());
                    return self.fail(refused(message), exchange, now);
                }
                // A request's first byte: its head has the header timeout from now.
                self.state = State::Head {
                    deadline: now + self.timeouts.header,
                    scan: HeadScan::default(),
                };
                return Step::Continue;
            }
            State::Lingering { shut: false, .. } => return Step::Shutdown,
            State::Lingering { drained, .. } => {
                *drained += buffered;
                self.pos = self.input.len();
                if *drained <= LINGER_BYTES {
                    return Step::NeedBytes;
                }
                self.state = State::Closed;
                return Step::Close;
            }
            State::Closed => return Step::Close,
            State::Parked(parked) => {
                if !parked.ready(ctx.waker) {
                    return Step::Park;
                }
                // Done: the same head again, which the handler now answers.
                let deadline = parked.deadline;
                self.state = State::Head {
                    deadline,
                    scan: HeadScan::default(),
                };
                return Step::Continue;
            }
            State::Head { .. } | State::Body { .. } => {}
        }
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Head { deadline, scan } => self.read_head(deadline, scan, ctx, now),
            State::Body {
                body,
                deadline,
                pending,
            } => self.read_body(body, deadline, *pending, ctx, now),
            _ => Step::Close,
        }
    }

    /// Looks for the end of the head in the buffered bytes and parses it when the scanner
    /// says a parse can decide: waits for more if it is incomplete, answers a malformed one
    /// with its error's status and sentence (and closes), and otherwise calls the handler and
    /// goes on to the body, if any, or the response; or parks the request, its head left
    /// buffered, if the handler's answer is not ready.
    pub(super) fn read_head(
        &mut self,
        deadline: Instant,
        mut scan: HeadScan,
        ctx: &Context<'_>,
        now: Instant,
    ) -> Step {
        let outcome = scan.read(
            self.input.get(self.pos..).unwrap_or_default(),
            self.peer,
            ctx,
            &mut self.stats.head_bytes_parsed,
        );
        let peer = self.peer;
        match outcome {
            Head::NeedMore => {
                self.state = State::Head { deadline, scan };
                Step::NeedBytes
            }
            // The scanner looks on: the buffered bytes may hold the head's end already.
            Head::Partial => {
                self.state = State::Head { deadline, scan };
                Step::Continue
            }
            Head::Invalid(e) => {
                log::debug!("{peer}: malformed request: {e}");
                let exchange = Exchange::unparsed(self.unprocessed());
                let response = malformed_head(&e, self.unprocessed());
                self.fail(response, exchange, now)
            }
            Head::Complete(mut prepared, persistence, consumed) => {
                if let Some(ticket) = prepared.response.pending.take() {
                    let deadline = *self.parked_until.get_or_insert(now + self.timeouts.header);
                    self.state = State::Parked(Box::new(Parked::new(ticket, deadline, prepared)));
                    return Step::Continue;
                }
                self.pos += consumed;
                let Prepared {
                    mut response,
                    exchange,
                    send_continue,
                    ..
                } = prepared;
                let Persistence { body, close } = persistence;
                let sink = response.sink.take();
                let Some(body) = body else {
                    // No body to take: the sink's answer is its answer to an empty one.
                    let response = match sink {
                        Some(sink) => response.after_body(sink.finish()),
                        None => response,
                    };
                    return self.finish(response, exchange, close, ctx.shutting_down, now);
                };
                // RFC 9110 §10.1.1: a server may omit 100 (Continue) once content arrived.
                if send_continue && self.unprocessed().is_empty() {
                    self.start_output(now);
                    writer::queue_continue(&mut self.output);
                }
                self.state = State::Body {
                    body,
                    deadline: now + self.timeouts.header,
                    pending: Box::new(Pending {
                        sink,
                        ..Pending::discarding(response, exchange, close)
                    }),
                };
                Step::Continue
            }
        }
    }

    /// Starts the send clocks if nothing waits to be sent: output is about to be queued.
    pub(super) fn start_output(&mut self, now: Instant) {
        if !self.is_sending() {
            self.send = SendClock::new(now);
        }
    }

    /// Queues `response` to a request whose framing is in doubt, then closes (lingering).
    pub(super) fn fail(&mut self, response: Response, exchange: Exchange, now: Instant) -> Step {
        self.finish(response, exchange, Some(Close::Error), false, now)
    }

    /// Queues `response` and decides what follows: the next request (keep-alive), a
    /// lingering close (the framing is in doubt, or unread bytes are buffered), or the end.
    pub(super) fn finish(
        &mut self,
        response: Response,
        exchange: Exchange,
        close: Option<Close>,
        shutting_down: bool,
        now: Instant,
    ) -> Step {
        let close = close.or(shutting_down.then_some(Close::Requested));
        // The responses the connection makes itself (a malformed, unfinished or refused
        // request, a handler's panic) are the ones that close for an error; the handler's
        // own carry the policy already.
        let response = match close {
            Some(Close::Error) => secured(response, self.hsts.as_ref()),
            _ => response,
        };
        let framing = persistence::framing(&exchange, close);
        self.start_output(now);
        self.parked_until = None;
        let queued = writer::queue(&mut self.output, response, framing, exchange.info);
        self.stats.responses += 1;
        if !queued.complete {
            log::warn!(
                "{}: a file shrank while its response was built; closing after what it had",
                self.peer
            );
            self.state = State::Closed;
            return Step::Close;
        }
        match close {
            None if self.unprocessed().is_empty() => {
                // Nothing of a next request yet: an idle connection holds no buffers.
                buffers::give(std::mem::take(&mut self.input));
                self.pos = 0;
                self.output.release();
                self.idle_since = now;
                self.state = State::Idle {
                    deadline: now + self.timeouts.keep_alive,
                };
                Step::Continue
            }
            // A pipelined request's first bytes are here: its head deadline starts now.
            None => {
                self.state = State::Head {
                    deadline: now + self.timeouts.header,
                    scan: HeadScan::default(),
                };
                Step::Continue
            }
            Some(Close::Requested) if self.unprocessed().is_empty() => {
                self.state = State::Closed;
                Step::Close
            }
            Some(_) => {
                self.state = State::Lingering {
                    deadline: now + LINGER_TIME,
                    drained: 0,
                    shut: false,
                };
                Step::Continue
            }
        }
    }
}
