//! What the authenticator remembers between requests, in bounded memory: credentials bcrypt
//! has accepted, and the checks clients asked for. Both take the time as an argument; both
//! are kept behind a lock that is held for a map operation, never across bcrypt.

use super::limiter::Client;
use crate::handlers::lru::Lru;
use crate::http::response::Ticket;
use std::time::{Duration, Instant};

/// A keyed SHA-256 of an area, a user and a password (see `Auth`).
pub type Digest = [u8; 32];

/// Whether `a` and `b` are equal, in a time that does not depend on where they differ: every
/// byte is compared, and the fold is hidden from the optimiser.
pub fn same_digest(a: &Digest, b: &Digest) -> bool {
    let difference = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| acc | std::hint::black_box(x ^ y));
    std::hint::black_box(difference) == 0
}

/// Credentials bcrypt accepted, each remembered for `ttl` from then, at most `capacity` of
/// them: when full, the one remembered longest ago goes, which is the first to expire
/// (expired ones first), since each is kept as long. Looked up by the first 8 bytes of the
/// digest, then compared whole in constant time: the map's own comparisons touch only a
/// prefix of a keyed hash, which tells nothing about a password to someone who does not
/// hold the key.
#[derive(Debug)]
pub struct Remembered {
    entries: Lru<u64, (Digest, Instant)>,
    capacity: usize,
    ttl: Duration,
}

impl Remembered {
    pub fn new(capacity: usize, ttl: Duration) -> Remembered {
        Remembered {
            entries: Lru::new(capacity, u64::MAX),
            capacity,
            ttl,
        }
    }

    /// Whether `digest` was accepted less than `ttl` before `now`.
    pub fn knows(&self, digest: &Digest, now: Instant) -> bool {
        self.entries
            .peek(&index(digest))
            .is_some_and(|(kept, until)| now < *until && same_digest(kept, digest))
    }

    /// Remembers `digest` until `now + ttl`. When full, the one remembered longest ago goes.
    pub fn remember(&mut self, digest: Digest, now: Instant) {
        let key = index(&digest);
        if !self.entries.contains_key(&key) {
            self.entries.make_room(0, |_| true, |_, _| {});
        }
        if self.capacity > 0 {
            self.entries.insert(key, (digest, now + self.ttl), 0);
        }
    }
}

/// The map key of a digest: its first 8 bytes.
fn index(digest: &Digest) -> u64 {
    let mut first = [0; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// Password checks a client asked for, by credentials: under way (the ticket its parked
/// requests wait for), or refused a moment ago, so that the requests woken by the ticket,
/// and the client's repeats of the same credentials for a while, are answered without
/// another bcrypt or another failure counted. An accepted check leaves the table: the
/// credential is in [`Remembered`] then. At most `capacity` refusals are kept, each for
/// `keep`: when full, the one refused longest ago goes, which is the first to expire
/// (expired ones first). Checks under way are bounded by the pool's queue.
#[derive(Debug)]
pub struct Checks {
    /// Used when a check starts and when it is refused: the least recently used refusal is
    /// the one refused longest ago.
    entries: Lru<(u64, Client), (Digest, Check)>,
    keep: Duration,
}

/// What is known of a check.
#[derive(Debug, Clone)]
pub enum Check {
    /// Under way; done when its ticket is.
    Running(Ticket),
    /// Refused; kept until then.
    Refused(Instant),
}

impl Checks {
    pub fn new(capacity: usize, keep: Duration) -> Checks {
        Checks {
            entries: Lru::new(capacity, u64::MAX),
            keep,
        }
    }

    /// The check of `digest` for `client`, if one is under way or was refused less than
    /// `keep` before `now`.
    pub fn find(&self, digest: &Digest, client: Client, now: Instant) -> Option<Check> {
        let (kept, check) = self.entries.peek(&(index(digest), client))?;
        if !same_digest(kept, digest) {
            return None;
        }
        match check {
            Check::Refused(until) if *until <= now => None,
            check => Some(check.clone()),
        }
    }

    /// A check of `digest` for `client` is under way, done when `ticket` is.
    pub fn start(&mut self, digest: Digest, client: Client, ticket: Ticket) {
        let key = (index(&digest), client);
        if !self.entries.contains_key(&key) {
            let refused = |(_, check): &(Digest, Check)| matches!(check, Check::Refused(_));
            self.entries.make_room(0, refused, |_, _| {});
        }
        self.entries
            .insert(key, (digest, Check::Running(ticket)), 0);
    }

    /// The check of `digest` for `client` ended at `now`: refused, it is kept for `keep`;
    /// accepted, it goes.
    pub fn decide(&mut self, digest: &Digest, client: Client, accepted: bool, now: Instant) {
        if accepted {
            self.forget(digest, client);
        } else if let Some((kept, check)) = self.entries.get(&(index(digest), client)) {
            if same_digest(kept, digest) {
                *check = Check::Refused(now + self.keep);
            }
        }
    }

    /// Forgets the check of `digest` for `client`.
    pub fn forget(&mut self, digest: &Digest, client: Client) {
        let key = (index(digest), client);
        if self
            .entries
            .peek(&key)
            .is_some_and(|(kept, _)| same_digest(kept, digest))
        {
            self.entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn digest(first: u8, last: u8) -> Digest {
        let mut d = [first; 32];
        d[31] = last;
        d
    }

    #[test]
    fn digests_compare_whole() {
        assert!(same_digest(&digest(1, 2), &digest(1, 2)));
        assert!(!same_digest(&digest(1, 2), &digest(1, 3)));
        assert!(!same_digest(&digest(1, 2), &digest(0, 2)));
    }

    #[test]
    fn remembered_for_a_while_and_bounded() {
        let t0 = Instant::now();
        let ttl = Duration::from_secs(300);
        let mut remembered = Remembered::new(2, ttl);
        remembered.remember(digest(1, 1), t0);
        assert!(remembered.knows(&digest(1, 1), t0 + Duration::from_secs(299)));
        assert!(!remembered.knows(&digest(1, 1), t0 + ttl));
        // Same 8-byte index, another digest: not taken for the one remembered.
        assert!(!remembered.knows(&digest(1, 2), t0));
        remembered.remember(digest(2, 2), t0 + Duration::from_secs(1));
        remembered.remember(digest(3, 3), t0 + Duration::from_secs(2));
        assert!(!remembered.knows(&digest(1, 1), t0 + Duration::from_secs(2)));
        assert!(remembered.knows(&digest(2, 2), t0 + Duration::from_secs(2)));
        assert!(remembered.knows(&digest(3, 3), t0 + Duration::from_secs(2)));
    }

    #[test]
    fn checks_under_way_then_refused_for_a_while() {
        let t0 = Instant::now();
        let keep = Duration::from_secs(10);
        let mut checks = Checks::new(4, keep);
        let a = Client::of(Ipv4Addr::new(192, 0, 2, 1).into());
        let b = Client::of(Ipv4Addr::new(192, 0, 2, 2).into());
        let (ticket, _done) = Ticket::new();
        checks.start(digest(1, 1), a, ticket);
        let running =
            |checks: &Checks| matches!(checks.find(&digest(1, 1), a, t0), Some(Check::Running(_)));
        assert!(running(&checks));
        // Another client, or other credentials with the same index: not this check.
        assert!(checks.find(&digest(1, 1), b, t0).is_none());
        assert!(checks.find(&digest(1, 2), a, t0).is_none());
        checks.decide(&digest(1, 2), a, false, t0);
        assert!(running(&checks));
        // Refused: kept for `keep`.
        let t1 = t0 + Duration::from_secs(1);
        checks.decide(&digest(1, 1), a, false, t1);
        assert!(matches!(
            checks.find(&digest(1, 1), a, t1),
            Some(Check::Refused(until)) if until == t1 + keep
        ));
        assert!(checks.find(&digest(1, 1), a, t1 + keep).is_none());
        // Accepted: gone.
        let (ticket, _done) = Ticket::new();
        checks.start(digest(2, 2), a, ticket);
        checks.decide(&digest(2, 2), a, true, t1);
        assert!(checks.find(&digest(2, 2), a, t1).is_none());
    }

    #[test]
    fn refusals_make_room_checks_under_way_stay() {
        let t0 = Instant::now();
        let mut checks = Checks::new(2, Duration::from_secs(10));
        let a = Client::of(Ipv4Addr::new(192, 0, 2, 1).into());
        let (running, _done) = Ticket::new();
        checks.start(digest(1, 1), a, running);
        let (ticket, _done) = Ticket::new();
        checks.start(digest(2, 2), a, ticket);
        checks.decide(&digest(2, 2), a, false, t0);
        let (ticket, _done) = Ticket::new();
        checks.start(digest(3, 3), a, ticket);
        assert!(checks.find(&digest(1, 1), a, t0).is_some());
        assert!(checks.find(&digest(2, 2), a, t0).is_none());
        assert!(checks.find(&digest(3, 3), a, t0).is_some());
    }
}
