//! When to renew a certificate, and how long to wait after a failure: pure functions of the
//! certificate's validity, the failures so far and a random draw, so they are tested
//! without a clock.

use std::time::Duration;

/// The first wait after a failure. Short enough that a mistake fixed at once (a port, a DNS
/// record) is retried within the minute; doubled after each failure from then on.
pub const FIRST_RETRY: Duration = Duration::from_secs(10);

/// The longest wait between two attempts: a day, so that a certificate that cannot be
/// renewed is tried again every day until it expires (Let's Encrypt's certificates leave
/// some 30 days between the renewal time and the expiry).
pub const LONGEST_RETRY: Duration = Duration::from_secs(24 * 60 * 60);

/// The share of a certificate's lifetime after which it is renewed: two thirds, which
/// leaves a 90-day certificate 30 days of retries, and a 6-day one 2.
const RENEW_AFTER: (i64, i64) = (2, 3);

/// The most the renewal time is moved earlier by chance: a twentieth of the lifetime (4.5
/// days of a 90-day certificate), so that the sites that got certificates at one moment do
/// not all renew at the same moment.
const JITTER: i64 = 20;

/// When a certificate valid from `not_before` to `not_after` (Unix seconds) is renewed:
/// two thirds into its lifetime, moved earlier by `draw` (0.0 to 1.0) of the jitter.
pub fn renewal_time(not_before: i64, not_after: i64, draw: f64) -> i64 {
    let lifetime = (not_after - not_before).max(0);
    let at = not_before + lifetime * RENEW_AFTER.0 / RENEW_AFTER.1;
    // `as` truncates toward zero: a whole number of seconds of the jitter.
    let jitter = (lifetime as f64 / JITTER as f64 * draw.clamp(0.0, 1.0)) as i64;
    at - jitter
}

/// The wait after `failures` failures in a row (1 for the first): [`FIRST_RETRY`],
/// doubled each time, at most [`LONGEST_RETRY`].
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(31);
    FIRST_RETRY
        .saturating_mul(1 << doublings)
        .min(LONGEST_RETRY)
}

/// A random draw between 0.0 and 1.0, for the jitter. Without randomness from the system,
/// the middle.
pub fn draw() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_two_thirds_into_the_lifetime_less_the_jitter() {
        let day = 86_400;
        assert_eq!(renewal_time(0, 90 * day, 0.0), 60 * day);
        assert_eq!(renewal_time(0, 90 * day, 1.0), 60 * day - 90 * day / 20);
        let start = 1_700_000_000;
        let at = renewal_time(start, start + 30, 0.5);
        assert!(at > start && at <= start + 20);
        // A certificate that ends before it starts is due at once.
        assert_eq!(renewal_time(start, start - 5, 0.5), start);
    }

    #[test]
    fn backoff_doubles_up_to_a_day() {
        assert_eq!(backoff(1), FIRST_RETRY);
        assert_eq!(backoff(2), FIRST_RETRY * 2);
        assert_eq!(backoff(4), FIRST_RETRY * 8);
        assert_eq!(backoff(40), LONGEST_RETRY);
        assert_eq!(backoff(u32::MAX), LONGEST_RETRY);
        assert!((1..50).all(|n| backoff(n) <= backoff(n + 1)));
    }

    #[test]
    fn a_draw_is_between_zero_and_one() {
        assert!((0..100).map(|_| draw()).all(|d| (0.0..=1.0).contains(&d)));
    }
}
