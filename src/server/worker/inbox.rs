//! A worker's intake: the connections it accepted, and those other workers hand over through
//! the lane's inbox, go into the worker's table, each in the clear or over TLS
//! ([`Protocol`]), get a first turn at once, and join the epoll set if still open after it.
//! One admitted in place of an idle connection closes the longest-idle one first, or, if none
//! is idle any more, is refused as any refused connection is.

use super::protocol::Protocol;
use super::{Admitted, Entry, Worker};
use crate::conn::Core;
use crate::server::limits::{self, Victim};
use crate::server::turn::Readiness;
use rustix::event::epoll;
use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::Instant;

impl Worker {
    /// Takes in the connections other workers handed over.
    pub(super) fn take_inbox(&mut self) {
        let admitted = std::mem::take(
            &mut *self
                .lane
                .inbox
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for admitted in admitted {
            self.take_in(admitted);
        }
    }

    /// Takes in a connection counted open on this worker: closes an idle one first if it
    /// takes its place (refusing it if none is idle any more), then serves it.
    pub(super) fn take_in(&mut self, admitted: Admitted) {
        if admitted
            .evict
            .as_ref()
            .is_some_and(|victim| !self.evict_idle(victim))
        {
            self.refuse(admitted);
            return;
        }
        self.register(admitted);
    }

    /// Answers 503 to a connection for which no idle one could make room, as any refused
    /// connection is answered: at once in the clear; over TLS, after the handshake, or
    /// without a word past [`limits::REFUSING`].
    fn refuse(&mut self, admitted: Admitted) {
        let Admitted {
            stream, peer, slot, ..
        } = admitted;
        let message = "too many connections; try again shortly";
        let done = match self.shared.tls.as_ref().map(|_| slot.refuse()) {
            Some(Some(slot)) => {
                log::warn!("{peer}: no idle connection to make room; 503 after the handshake");
                self.register(Admitted {
                    stream,
                    peer,
                    slot,
                    evict: None,
                    refusal: Some(message),
                });
                return;
            }
            Some(None) => "closed (too many refusals under way)",
            None => {
                limits::refuse(stream, peer, message);
                "answered 503"
            }
        };
        self.lane.open.fetch_sub(1, Ordering::Relaxed);
        log::warn!("{peer}: no idle connection to make room; {done}");
    }

    /// Closes the connection of `victim`'s address that has been idle longest (any
    /// connection's, for [`Victim::Any`]), to admit a new one in its place (as nginx reuses
    /// idle keep-alive connections); closing an idle connection is the server's right at any
    /// time (RFC 9112 §9.5). `false` if none is idle.
    pub(super) fn evict_idle(&mut self, victim: &Victim) -> bool {
        let oldest = self
            .table
            .iter()
            .filter(|(_, entry)| {
                let chosen = match victim {
                    Victim::Of { group, .. } => entry.slot.is_of(group),
                    Victim::Any => true,
                };
                chosen && entry.conn.is_idle()
            })
            // The first of those idle longest, in the table's order.
            .min_by_key(|(_, entry)| entry.conn.idle_since())
            .map(|(token, entry)| (token, entry.conn.peer()));
        let Some((token, peer)) = oldest else {
            return false;
        };
        log::debug!("{peer}: idle connection closed to make room for a new one");
        self.remove(token);
        true
    }

    /// Puts the connection in the table and gives it a first turn at once (its request is
    /// usually there already), then watches its socket if it is still open: edge-triggered,
    /// both directions, once for its whole life. Registering after the turn costs no event
    /// for what the turn already read, and a connection closed by its first turn no
    /// `epoll_ctl` at all; what arrives between the turn and the registration is reported by
    /// the registration itself (epoll reports a socket's readiness when it is added).
    fn register(&mut self, admitted: Admitted) {
        let Admitted {
            stream,
            peer,
            slot,
            refusal,
            ..
        } = admitted;
        let protocol = match Protocol::new(self.shared.tls.as_ref()) {
            Ok(protocol) => protocol,
            Err(e) => {
                log::warn!("{peer}: cannot start a TLS session: {e}; closing");
                self.lane.open.fetch_sub(1, Ordering::Relaxed);
                return;
            }
        };
        let mut conn = Core::new(peer, self.shared.timeouts, Instant::now(), self.shared.h2c);
        if let Some(message) = refusal {
            conn.refuse(message);
        }
        if !self.shared.recorded {
            conn.set_unrecorded();
        }
        let token = self.table.insert(Entry {
            slot,
            awaiting_proxy: self.shared.proxy_protocol,
            stream,
            conn,
            protocol,
            ready: Readiness {
                readable: true,
                writable: true,
                peer_shut: false,
            },
            queued: false,
            timer: None,
            idle: false,
        });
        self.turn(token);
        let Some(entry) = self.table.get_mut(token) else {
            return;
        };
        let flags = epoll::EventFlags::IN
            | epoll::EventFlags::OUT
            | epoll::EventFlags::RDHUP
            | epoll::EventFlags::ET;
        if let Err(e) = epoll::add(
            &self.epoll,
            &entry.stream,
            epoll::EventData::new_u64(token),
            flags,
        ) {
            log::warn!("{peer}: cannot watch the connection: {e}; closing it");
            self.remove(token);
        }
    }
}
