//! What the authenticator remembers between requests, in bounded memory: credentials bcrypt
//! has accepted, and recent attempts per client address. Both take the time as an argument;
//! both are kept behind a lock that is held for a map operation, never across bcrypt.

use std::collections::HashMap;
use std::net::IpAddr;
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
/// them. Looked up by the first 8 bytes of the digest, then compared whole in constant time:
/// the map's own comparisons touch only a prefix of a keyed hash, which tells nothing about
/// a password to someone who does not hold the key.
#[derive(Debug)]
pub struct Remembered {
    entries: HashMap<u64, (Digest, Instant)>,
    capacity: usize,
    ttl: Duration,
}

impl Remembered {
    pub fn new(capacity: usize, ttl: Duration) -> Remembered {
        Remembered {
            entries: HashMap::new(),
            capacity,
            ttl,
        }
    }

    /// Whether `digest` was accepted less than `ttl` before `now`.
    pub fn knows(&self, digest: &Digest, now: Instant) -> bool {
        self.entries
            .get(&index(digest))
            .is_some_and(|(kept, until)| now < *until && same_digest(kept, digest))
    }

    /// Remembers `digest` until `now + ttl`. When full, expired entries go first; if none has
    /// expired, the one closest to expiring goes.
    pub fn remember(&mut self, digest: Digest, now: Instant) {
        let key = index(&digest);
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            self.entries.retain(|_, (_, until)| now < *until);
            if self.entries.len() >= self.capacity {
                let soonest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, until))| *until)
                    .map(|(&key, _)| key);
                if let Some(soonest) = soonest {
                    self.entries.remove(&soonest);
                }
            }
        }
        if self.capacity > 0 {
            self.entries.insert(key, (digest, now + self.ttl));
        }
    }
}

/// The map key of a digest: its first 8 bytes.
fn index(digest: &Digest) -> u64 {
    let mut first = [0; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

/// Who an attempt is counted against: an IPv4 address, or an IPv6 address's /64 (one
/// subscriber's usual allocation, RFC 6177 §3: counting single IPv6 addresses would let one
/// host try again from each of its 2^64). An IPv4-mapped IPv6 address counts as its IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Client(IpAddr);

impl Client {
    pub fn of(address: IpAddr) -> Client {
        match address.to_canonical() {
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Client(IpAddr::V6(prefix.into()))
            }
            v4 => Client(v4),
        }
    }
}

/// Attempts to verify a password, per client, in fixed windows: at most `limit` per
/// `window`, counted from the window's first attempt. An attempt is counted before bcrypt
/// runs (so that concurrent attempts cannot overshoot) and given back when it succeeds: only
/// failures use up the allowance. At most `capacity` clients are tracked; when that many have
/// live windows, a client not among them is refused until one ends, so that many addresses
/// cannot buy unbounded bcrypt work either.
#[derive(Debug)]
pub struct Attempts {
    clients: HashMap<Client, Window>,
    limit: u32,
    window: Duration,
    capacity: usize,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

impl Attempts {
    pub fn new(limit: u32, window: Duration, capacity: usize) -> Attempts {
        Attempts {
            clients: HashMap::new(),
            limit,
            window,
            capacity,
        }
    }

    /// How long `client` must wait before it may try a password, if it must.
    pub fn wait(&self, client: Client, now: Instant) -> Option<Duration> {
        let window = self.clients.get(&client)?;
        let end = window.start + self.window;
        (now < end && window.count >= self.limit).then(|| end - now)
    }

    /// Counts an attempt by `client` at `now`, or says how long it must wait.
    pub fn begin(&mut self, client: Client, now: Instant) -> Result<(), Duration> {
        let span = self.window;
        if !self.clients.contains_key(&client) && self.clients.len() >= self.capacity {
            self.clients.retain(|_, w| now < w.start + span);
            if self.clients.len() >= self.capacity {
                let first_end = self.clients.values().map(|w| w.start + span).min();
                return Err(first_end.map_or(span, |end| end.saturating_duration_since(now)));
            }
        }
        let window = self.clients.entry(client).or_insert(Window {
            start: now,
            count: 0,
        });
        if now >= window.start + span {
            *window = Window {
                start: now,
                count: 0,
            };
        }
        if window.count >= self.limit {
            return Err(window.start + span - now);
        }
        window.count += 1;
        Ok(())
    }

    /// Gives back the attempt `client` began, which succeeded.
    pub fn succeeded(&mut self, client: Client) {
        if let Some(window) = self.clients.get_mut(&client) {
            window.count = window.count.saturating_sub(1);
            if window.count == 0 {
                self.clients.remove(&client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

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
        assert_eq!(remembered.entries.len(), 2);
        assert!(!remembered.knows(&digest(1, 1), t0 + Duration::from_secs(2)));
        assert!(remembered.knows(&digest(2, 2), t0 + Duration::from_secs(2)));
        assert!(remembered.knows(&digest(3, 3), t0 + Duration::from_secs(2)));
    }

    #[test]
    fn clients_by_address_and_ipv6_prefix() {
        let v6 = |text: &str| Client::of(text.parse::<Ipv6Addr>().unwrap().into());
        assert_eq!(v6("2001:db8:1:2:aaaa::1"), v6("2001:db8:1:2:bbbb::2"));
        assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
        assert_eq!(
            v6("::ffff:192.0.2.7"),
            Client::of(Ipv4Addr::new(192, 0, 2, 7).into())
        );
        assert_ne!(
            Client::of(Ipv4Addr::new(192, 0, 2, 7).into()),
            Client::of(Ipv4Addr::new(192, 0, 2, 8).into())
        );
    }

    #[test]
    fn failures_are_limited_per_window_and_successes_given_back() {
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        let mut attempts = Attempts::new(3, minute, 10);
        let a = Client::of(Ipv4Addr::new(192, 0, 2, 1).into());
        let b = Client::of(Ipv4Addr::new(192, 0, 2, 2).into());
        attempts.begin(a, t0).unwrap();
        attempts.succeeded(a);
        for _ in 0..3 {
            assert_eq!(attempts.wait(a, t0), None);
            attempts.begin(a, t0).unwrap();
        }
        let later = t0 + Duration::from_secs(20);
        assert_eq!(attempts.wait(a, later), Some(Duration::from_secs(40)));
        assert_eq!(attempts.begin(a, later), Err(Duration::from_secs(40)));
        attempts.begin(b, later).unwrap();
        // The window ends: a fresh allowance.
        assert_eq!(attempts.wait(a, t0 + minute), None);
        attempts.begin(a, t0 + minute).unwrap();
    }

    #[test]
    fn a_full_table_refuses_new_clients_until_a_window_ends() {
        let t0 = Instant::now();
        let minute = Duration::from_secs(60);
        let mut attempts = Attempts::new(5, minute, 2);
        let client = |n: u8| Client::of(Ipv4Addr::new(198, 51, 100, n).into());
        attempts.begin(client(1), t0).unwrap();
        attempts
            .begin(client(2), t0 + Duration::from_secs(10))
            .unwrap();
        let at = t0 + Duration::from_secs(30);
        assert_eq!(attempts.begin(client(3), at), Err(Duration::from_secs(30)));
        attempts.begin(client(1), at).unwrap();
        attempts.begin(client(3), t0 + minute).unwrap();
        assert_eq!(attempts.clients.len(), 2);
    }
}
