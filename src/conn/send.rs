//! Send deadlines: how long a client may take to read what the server sends it.
//!
//! While a connection has output waiting to be sent, two clocks run. A client that takes nothing for
//! `--send-timeout` has stopped reading; a client that takes something, but on average less
//! than `--min-send-rate` over a window of `--send-timeout`, reads too slowly to be worth a
//! connection (the "slow read" attack: a few bytes every few seconds would otherwise hold a
//! large response open for hours). Either way the connection is closed. The clocks stop
//! while nothing waits to be sent, and start afresh with the next response.
//!
//! What the clocks measure is what the client's socket takes, whatever the transport: the
//! core's bytes as they are over plain TCP, TLS records over TLS. Bytes a transport took
//! from the core but still holds (records the socket has not taken) wait to be sent as much
//! as the core's queued output does: the clocks run on while any are held, and a client cut
//! off loses them too.

use super::Conn;
use std::time::{Duration, Instant};

/// Why a client was cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooSlow {
    /// Nothing was taken for a whole send timeout.
    Stalled {
        /// The send timeout.
        timeout: Duration,
    },
    /// Less than the minimum rate was taken over a window.
    BelowRate {
        /// Bytes taken in the window.
        bytes: u64,
        /// The window's length.
        window: Duration,
        /// The minimum rate, in bytes a second.
        min_rate: u64,
    },
}

impl std::fmt::Display for TooSlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooSlow::Stalled { timeout } => {
                write!(f, "took nothing of its response for {timeout:?}")
            }
            TooSlow::BelowRate {
                bytes,
                window,
                min_rate,
            } => write!(
                f,
                "took {bytes} bytes in {window:?}, below {min_rate} bytes/s"
            ),
        }
    }
}

/// The clocks of one connection's sending.
#[derive(Debug, Clone, Copy)]
pub struct SendClock {
    /// When the socket last took bytes (or the clock started).
    progress: Instant,
    /// When the current rate window started.
    window_start: Instant,
    /// Bytes taken in the current window.
    window_bytes: u64,
}

impl SendClock {
    /// Clocks that start at `now`.
    pub fn new(now: Instant) -> SendClock {
        SendClock {
            progress: now,
            window_start: now,
            window_bytes: 0,
        }
    }

    /// The socket took `bytes` at `now`.
    pub fn took(&mut self, bytes: u64, now: Instant) {
        if bytes > 0 {
            self.progress = now;
            self.window_bytes += bytes;
        }
    }

    /// When the socket last took bytes (or the clock started).
    pub fn last_progress(&self) -> Instant {
        self.progress
    }

    /// When the clocks must next be checked, for a send timeout of `timeout`.
    pub fn deadline(&self, timeout: Duration) -> Instant {
        (self.progress + timeout).min(self.window_start + timeout)
    }

    /// Checks the clocks at `now`: `Err` when the client stopped reading or read below
    /// `min_rate` bytes a second (0: no minimum) over a window that ended; a window that
    /// ended at a good rate makes way for the next.
    pub fn check(&mut self, now: Instant, timeout: Duration, min_rate: u64) -> Result<(), TooSlow> {
        if now >= self.progress + timeout {
            return Err(TooSlow::Stalled { timeout });
        }
        if now >= self.window_start + timeout {
            let window = now - self.window_start;
            let owed = u128::from(min_rate) * window.as_millis();
            if u128::from(self.window_bytes) * 1000 < owed {
                return Err(TooSlow::BelowRate {
                    bytes: self.window_bytes,
                    window,
                    min_rate,
                });
            }
            self.window_start = now;
            self.window_bytes = 0;
        }
        Ok(())
    }
}

/// What the transport reports of its sending, and whether anything waits to be sent.
impl Conn {
    /// The socket took `n` bytes of the item [`Conn::poll`] gave, at `now`: [`Conn::took`]
    /// and [`Conn::sent`] at once, for a transport that writes the core's bytes as they are.
    pub fn wrote(&mut self, n: usize, now: Instant) {
        self.send.took(n as u64, now);
        self.output.advance(n as u64, self.peer.ip());
    }

    /// The transport took `n` bytes of the item [`Conn::poll`] gave, to send in its own
    /// form; the send clocks wait for [`Conn::sent`].
    pub fn took(&mut self, n: usize) {
        self.output.advance(n as u64, self.peer.ip());
    }

    /// The client's socket took `n` bytes at `now` (in the transport's form: TLS records):
    /// the progress the send clocks measure.
    pub fn sent(&mut self, n: usize, now: Instant) {
        self.send.took(n as u64, now);
    }

    /// Whether the transport holds bytes it took that the socket has not: while it does, the
    /// send clocks run (and go on across responses), the connection is neither idle nor
    /// quiet, and [`Conn::expire`] can cut the client off.
    pub fn set_holding(&mut self, holding: bool) {
        self.holding = holding;
    }

    /// Whether bytes wait to be sent, in the core or in the transport: the send clocks run.
    pub(super) fn is_sending(&self) -> bool {
        !self.output.is_empty() || self.holding
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(10);
    const RATE: u64 = 1024;

    #[test]
    fn a_client_that_takes_nothing_is_stalled_after_the_timeout() {
        let start = Instant::now();
        let mut clock = SendClock::new(start);
        assert_eq!(clock.deadline(TIMEOUT), start + TIMEOUT);
        assert_eq!(clock.check(start + TIMEOUT / 2, TIMEOUT, RATE), Ok(()));
        assert_eq!(
            clock.check(start + TIMEOUT, TIMEOUT, RATE),
            Err(TooSlow::Stalled { timeout: TIMEOUT })
        );
    }

    #[test]
    fn a_client_that_reads_fast_enough_gets_window_after_window() {
        let start = Instant::now();
        let mut clock = SendClock::new(start);
        for second in 1..=30 {
            let now = start + Duration::from_secs(second);
            clock.took(2 * RATE, now);
            assert_eq!(clock.check(now, TIMEOUT, RATE), Ok(()), "second {second}");
        }
    }

    #[test]
    fn a_client_below_the_rate_is_cut_off_at_the_end_of_a_window() {
        let start = Instant::now();
        let mut clock = SendClock::new(start);
        // 512 bytes a second: progress every second, so never stalled, but half the rate.
        for second in 1..10 {
            let now = start + Duration::from_secs(second);
            clock.took(RATE / 2, now);
            assert_eq!(clock.check(now, TIMEOUT, RATE), Ok(()));
        }
        let end = start + TIMEOUT;
        clock.took(RATE / 2, end);
        assert_eq!(
            clock.check(end, TIMEOUT, RATE),
            Err(TooSlow::BelowRate {
                bytes: 5 * RATE,
                window: TIMEOUT,
                min_rate: RATE,
            })
        );
        // Without a minimum rate, the same client is kept.
        let mut clock = SendClock::new(start);
        clock.took(1, end - Duration::from_secs(1));
        assert_eq!(clock.check(end, TIMEOUT, 0), Ok(()));
    }

    #[test]
    fn a_stall_that_starts_mid_window_is_caught_one_timeout_after_the_last_progress() {
        let start = Instant::now();
        let mut clock = SendClock::new(start);
        let last = start + Duration::from_secs(6);
        clock.took(64 * RATE, last);
        let window_end = start + TIMEOUT;
        assert_eq!(clock.deadline(TIMEOUT), window_end);
        assert_eq!(clock.check(window_end, TIMEOUT, RATE), Ok(()));
        assert_eq!(clock.deadline(TIMEOUT), last + TIMEOUT);
        assert_eq!(
            clock.check(last + TIMEOUT, TIMEOUT, RATE),
            Err(TooSlow::Stalled { timeout: TIMEOUT })
        );
    }
}
