//! A request whose answer is not ready: parked until the work its handler started is done.
//!
//! The handler returned a response carrying a ticket ([`Response::pending`]). The request's
//! head stays buffered and nothing more is read or written ([`super::Want::Park`]): the worker
//! goes on serving its other connections, and this one registers its waker with the ticket
//! once. When the work is done, the waker gives the connection a turn and the same head is
//! handled again from the start, which the handler now answers at once. Bytes the client sent
//! meanwhile (a body, pipelined requests) wait in the socket, as they would behind a slow
//! response.
//!
//! The wait is bounded by one header timeout from when the request was first parked; a
//! request parked again (its handler was replaced by a reload meanwhile) keeps that bound, so
//! no sequence of reloads keeps a client waiting longer. Past it, the client gets the
//! response the handler gave with its ticket (a 503 that says to try again), and the
//! connection closes, as after any answer given before the request's body was read.
//!
//! [`Response::pending`]: crate::http::response::Response::pending

use super::exchange::{Exchange, Prepared};
use crate::http::response::{Response, Ticket};
use std::net::SocketAddr;
use std::task::Waker;
use std::time::Instant;

/// A parked request: what it waits for, until when, and its answer if the wait runs out.
#[derive(Debug)]
pub struct Parked {
    /// When the wait runs out.
    pub deadline: Instant,
    ticket: Ticket,
    /// The connection's waker is registered with the ticket.
    registered: bool,
    /// The response, and how to frame and log it, for when the wait runs out.
    answer: (Response, Exchange),
}

impl Parked {
    /// Waits for `ticket` until `deadline`, with what the handler prepared to answer if it
    /// passes.
    pub fn new(ticket: Ticket, deadline: Instant, prepared: Prepared) -> Parked {
        Parked {
            deadline,
            ticket,
            registered: false,
            answer: (prepared.response, prepared.exchange),
        }
    }

    /// The wait ran out: the answer for the client `peer`.
    pub fn give_up(self, peer: SocketAddr) -> (Response, Exchange) {
        log::debug!(
            "{peer}: the handler's work unfinished at the deadline; {}",
            self.answer.0.status
        );
        self.answer
    }

    /// Whether the work is done. If not, the first call registers a waker made by `waker`,
    /// so that a client sending bytes while it waits (each a turn) adds no waker.
    pub fn ready(&mut self, waker: &dyn Fn() -> Waker) -> bool {
        if self.registered {
            return self.ticket.is_done();
        }
        self.registered = true;
        !self.ticket.wake_when_done(waker())
    }
}
