//! The limit on failed logins: per client address, and for all of them together.
//!
//! bcrypt costs the server what it costs an attacker, so failures are what is limited, in
//! fixed one-minute windows ([`super::ATTEMPT_WINDOW`]):
//! - each address (an IPv6 /64) may fail [`super::ATTEMPTS`] (10) checks a window: a person who
//!   mistypes a password never meets the limit, a guesser on one address gets 14,400 guesses
//!   a day instead of thousands a second;
//! - all addresses together may fail [`super::FAILURES`] (100) checks a window. Past that, an
//!   address that has failed in its window gets `429` until its window or the total's ends,
//!   whichever comes first. At cost 10 (about 0.1 s a check on a small machine), 100 failures
//!   are some 10 CPU-seconds a minute, a sixth of one core, however many addresses the
//!   failures come from (49 addresses at 10 each would otherwise be 490).
//!
//! An address that has not failed in its window is never refused here, so an attacker
//! cannot lock anyone out: a person's first try, right or wrong, is always checked. What
//! such tries cost is bounded by the checking pool instead (its threads and its queue).
//! Checks under way count against the address's own limit as failures would, so that ten
//! guesses sent at once cannot all overtake it.
//!
//! At most [`super::CLIENTS`] addresses are tracked: when the table is full, windows that
//! have ended go first, then the oldest window. Filling the table with new addresses only
//! forgets old ones, whose next try is then checked; it never refuses anyone, and the total
//! still holds every address that has failed to the budget.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

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

/// Failed checks per client and in total, and the checks each client has under way.
#[derive(Debug)]
pub struct Attempts {
    clients: HashMap<Client, Window>,
    /// Everyone's failures, from the first (its `running` is unused).
    total: Option<Window>,
    limit: u32,
    total_limit: u32,
    window: Duration,
    capacity: usize,
}

/// One window's failures, from its start, and the checks under way.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    failed: u32,
    running: u32,
}

impl Window {
    fn new(now: Instant) -> Window {
        Window {
            start: now,
            failed: 0,
            running: 0,
        }
    }

    /// The failures that count at `now`: none once the window has ended.
    fn failed(&self, now: Instant, span: Duration) -> u32 {
        if now < self.start + span {
            self.failed
        } else {
            0
        }
    }

    /// Adds a failure at `now`, starting a new window if this one has ended.
    fn fail(&mut self, now: Instant, span: Duration) {
        if now >= self.start + span {
            self.start = now;
            self.failed = 0;
        }
        self.failed += 1;
    }
}

impl Attempts {
    /// At most `limit` failures per client and `total_limit` in total per `window`, with at
    /// most `capacity` clients tracked.
    pub fn new(limit: u32, total_limit: u32, window: Duration, capacity: usize) -> Attempts {
        Attempts {
            clients: HashMap::new(),
            total: None,
            limit,
            total_limit,
            window,
            capacity,
        }
    }

    /// How long `client` must wait before a password of its is checked, if it must: it has
    /// failed `limit` times (checks under way counted), or it has failed while everyone's
    /// failures reached `total_limit`.
    pub fn wait(&self, client: Client, now: Instant) -> Option<Duration> {
        let span = self.window;
        let mine = self.clients.get(&client)?;
        let failed = mine.failed(now, span);
        let own_end = mine.start + span;
        if failed + mine.running >= self.limit {
            // Only checks under way: they end within moments.
            return Some(if failed == 0 {
                Duration::from_secs(1)
            } else {
                own_end - now
            });
        }
        let total = self
            .total
            .filter(|total| total.failed(now, span) >= self.total_limit);
        match total {
            Some(total) if failed > 0 => Some(own_end.min(total.start + span) - now),
            _ => None,
        }
    }

    /// Counts a check of `client`'s password, starting at `now`; or says how long it must
    /// wait (see [`Attempts::wait`]).
    pub fn begin(&mut self, client: Client, now: Instant) -> Result<(), Duration> {
        if let Some(wait) = self.wait(client, now) {
            return Err(wait);
        }
        self.entry(client, now).running += 1;
        Ok(())
    }

    /// A check [`Attempts::begin`] counted did not run.
    pub fn abandon(&mut self, client: Client) {
        if let Some(mine) = self.clients.get_mut(&client) {
            mine.running = mine.running.saturating_sub(1);
        }
        self.forget_if_clear(client);
    }

    /// A check [`Attempts::begin`] counted ended at `now`: accepted, or a failure.
    pub fn decided(&mut self, client: Client, accepted: bool, now: Instant) {
        let span = self.window;
        let mine = self.entry(client, now);
        mine.running = mine.running.saturating_sub(1);
        if !accepted {
            mine.fail(now, span);
            self.total
                .get_or_insert_with(|| Window::new(now))
                .fail(now, span);
        }
        self.forget_if_clear(client);
    }

    /// The client's entry, made (room made for it) if it has none.
    fn entry(&mut self, client: Client, now: Instant) -> &mut Window {
        if !self.clients.contains_key(&client) && self.clients.len() >= self.capacity {
            let span = self.window;
            self.clients
                .retain(|_, window| window.running > 0 || now < window.start + span);
            if self.clients.len() >= self.capacity {
                let oldest = self
                    .clients
                    .iter()
                    .min_by_key(|(_, window)| window.start)
                    .map(|(&client, _)| client);
                if let Some(oldest) = oldest {
                    self.clients.remove(&oldest);
                }
            }
        }
        self.clients
            .entry(client)
            .or_insert_with(|| Window::new(now))
    }

    /// Drops the client's entry once it holds neither a failure nor a check under way.
    fn forget_if_clear(&mut self, client: Client) {
        if self
            .clients
            .get(&client)
            .is_some_and(|window| window.failed == 0 && window.running == 0)
        {
            self.clients.remove(&client);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const MINUTE: Duration = Duration::from_secs(60);

    fn client(n: u8) -> Client {
        Client::of(Ipv4Addr::new(198, 51, 100, n).into())
    }

    /// Begins a check for `who` at `at` and records its outcome.
    fn check(attempts: &mut Attempts, who: Client, at: Instant, accepted: bool) {
        attempts.begin(who, at).unwrap();
        attempts.decided(who, accepted, at);
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
        assert_ne!(client(7), client(8));
    }

    #[test]
    fn failures_are_limited_per_window_and_successes_cost_nothing() {
        let t0 = Instant::now();
        let mut attempts = Attempts::new(3, 100, MINUTE, 10);
        let (a, b) = (client(1), client(2));
        check(&mut attempts, a, t0, true);
        assert!(attempts.clients.is_empty(), "a success leaves no trace");
        for _ in 0..3 {
            assert_eq!(attempts.wait(a, t0), None);
            check(&mut attempts, a, t0, false);
        }
        let later = t0 + Duration::from_secs(20);
        assert_eq!(attempts.wait(a, later), Some(Duration::from_secs(40)));
        assert_eq!(attempts.begin(a, later), Err(Duration::from_secs(40)));
        check(&mut attempts, b, later, false);
        // The window ends: a fresh allowance.
        assert_eq!(attempts.wait(a, t0 + MINUTE), None);
        attempts.begin(a, t0 + MINUTE).unwrap();
    }

    #[test]
    fn checks_under_way_count_against_the_address() {
        let t0 = Instant::now();
        let mut attempts = Attempts::new(3, 100, MINUTE, 10);
        let a = client(1);
        for _ in 0..3 {
            attempts.begin(a, t0).unwrap();
        }
        assert_eq!(attempts.begin(a, t0), Err(Duration::from_secs(1)));
        attempts.abandon(a);
        attempts.decided(a, true, t0);
        attempts.begin(a, t0).unwrap();
    }

    #[test]
    fn past_the_total_only_addresses_that_failed_wait() {
        let t0 = Instant::now();
        let mut attempts = Attempts::new(10, 3, MINUTE, 100);
        check(&mut attempts, client(1), t0, false);
        let t1 = t0 + Duration::from_secs(30);
        check(&mut attempts, client(2), t1, false);
        check(&mut attempts, client(3), t1, false);
        // Client 1's window ends first; client 2's with the total's.
        assert_eq!(attempts.wait(client(1), t1), Some(Duration::from_secs(30)));
        assert_eq!(attempts.wait(client(2), t1), Some(Duration::from_secs(30)));
        // An address that has not failed is checked, right or wrong; its failure counts.
        assert_eq!(attempts.wait(client(4), t1), None);
        check(&mut attempts, client(4), t1, false);
        assert!(attempts.wait(client(4), t1).is_some());
        assert_eq!(attempts.wait(client(5), t1), None);
        // A new total window: the budget is back.
        assert_eq!(attempts.wait(client(2), t0 + MINUTE), None);
    }

    #[test]
    fn a_full_table_forgets_the_oldest_and_refuses_no_one() {
        let t0 = Instant::now();
        let mut attempts = Attempts::new(5, 1000, MINUTE, 3);
        for n in 1..=3 {
            check(
                &mut attempts,
                client(n),
                t0 + Duration::from_secs(n.into()),
                false,
            );
        }
        let at = t0 + Duration::from_secs(10);
        assert_eq!(attempts.wait(client(4), at), None);
        check(&mut attempts, client(4), at, false);
        assert_eq!(attempts.clients.len(), 3);
        assert!(
            !attempts.clients.contains_key(&client(1)),
            "the oldest went"
        );
        assert!(attempts.clients.contains_key(&client(2)));
        // A window that ended goes before any live one, however old.
        let late = t0 + Duration::from_millis(62_500);
        check(&mut attempts, client(5), late, false);
        assert!(!attempts.clients.contains_key(&client(2)));
        assert!(attempts.clients.contains_key(&client(3)));
        assert!(attempts.clients.contains_key(&client(4)));
    }
}
