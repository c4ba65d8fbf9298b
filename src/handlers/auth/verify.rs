//! A password check as a job for the pool, and the memory it reports to.
//!
//! The handler starts a check ([`Verification`]) and answers its request "not ready" with
//! the check's ticket; the connection parks. On a pool thread, the check runs bcrypt; then,
//! whether it ran or was dropped unrun (the pool closed), its `Drop` records the outcome in
//! the [`Memory`] (an accepted credential remembered, a refusal kept for the client's parked
//! requests, the attempt counted) and only then marks the ticket done, waking the parked
//! requests: handled again, they find the outcome and are answered at once.

use super::limiter::{Attempts, Client};
use super::memory::{Checks, Digest, Remembered};
use super::pool::Job;
use crate::http::response::Completion;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// What the authenticator knows between requests, shared with the checks under way.
#[derive(Debug)]
pub struct Memory {
    pub remembered: Mutex<Remembered>,
    pub attempts: Mutex<Attempts>,
    pub checks: Mutex<Checks>,
}

/// One password check.
#[derive(Debug)]
pub struct Verification {
    memory: Arc<Memory>,
    digest: Digest,
    client: Client,
    /// For the log: the client's address and the user name.
    address: IpAddr,
    user: Vec<u8>,
    password: Vec<u8>,
    /// The user's hash, or the stand-in for an unknown user (`known` false).
    hash: String,
    known: bool,
    /// bcrypt accepted the password of a known user.
    accepted: bool,
    /// Marks the ticket done when dropped; `None` once the outcome is recorded, or for a
    /// check never queued.
    completion: Option<Completion>,
}

/// Who asks, with what, against which hash.
#[derive(Debug)]
pub struct Asked {
    pub digest: Digest,
    pub address: IpAddr,
    pub user: Vec<u8>,
    pub password: Vec<u8>,
    pub hash: String,
    pub known: bool,
}

impl Verification {
    /// A check of `asked` reporting to `memory`, whose end `completion` announces.
    pub fn new(memory: Arc<Memory>, asked: Asked, completion: Completion) -> Verification {
        Verification {
            memory,
            digest: asked.digest,
            client: Client::of(asked.address),
            address: asked.address,
            user: asked.user,
            password: asked.password,
            hash: asked.hash,
            known: asked.known,
            accepted: false,
            completion: Some(completion),
        }
    }

    /// The pool had no room for this check: it is forgotten, and counted against no one.
    pub fn cancel(mut self) {
        self.completion = None;
        let memory = &self.memory;
        lock(&memory.checks).forget(&self.digest, self.client);
        lock(&memory.attempts).abandon(self.client);
    }
}

impl Job for Verification {
    fn run(mut self) {
        let matches = bcrypt::verify(&self.password, &self.hash).unwrap_or(false);
        self.accepted = self.known && matches;
        if !self.accepted {
            log::info!(
                "authentication failed for user {:?} from {}{}",
                String::from_utf8_lossy(&self.user),
                self.address,
                if self.known { "" } else { " (no such user)" }
            );
        }
    }
}

impl Drop for Verification {
    /// Records the outcome (a check dropped unrun is a refusal), then wakes whoever waits.
    fn drop(&mut self) {
        let Some(completion) = self.completion.take() else {
            return;
        };
        let now = Instant::now();
        let memory = &self.memory;
        if self.accepted {
            lock(&memory.remembered).remember(self.digest, now);
        }
        lock(&memory.checks).decide(&self.digest, self.client, self.accepted, now);
        lock(&memory.attempts).decided(self.client, self.accepted, now);
        drop(completion);
    }
}

pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
