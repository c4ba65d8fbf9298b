//! Every bound an HTTP/2 client is held to, named after the attack it stops. Each is a
//! budget that grows with the useful work the client asks for (streams it opens and lets
//! finish) and shrinks with the frames that cost the server work without any: past it, the
//! connection gets GOAWAY(ENHANCE_YOUR_CALM) and is closed (RFC 9113 §10.5: "An endpoint MAY
//! treat activity that is suspicious as a connection error of type ENHANCE_YOUR_CALM").
//!
//! Bounds kept elsewhere, each beside what it guards:
//! - HPACK bomb (CVE-2016-6581) and too many fields: the decoder's list size and field count
//!   ([`nomserve_grammar::DecodeLimits`]): the request is answered 431, the connection goes on.
//! - Ping and settings floods (CVE-2019-9512, CVE-2019-9515): nothing more is read while the
//!   answers queued exceed [`super::READ_HIGH`]; a client that does not read them meets the
//!   send timeout.
//! - Data dribble and zero-window hold (CVE-2019-9511, CVE-2019-9517): response data is made
//!   only within the client's windows and while the output holds less than
//!   [`super::OUTPUT_HIGH`]; data held back by a window runs the send clocks.
//! - A preface that never completes: the header timeout.
//! - Stream id exhaustion: a stream id past [`LAST_STREAM_ID`] gets GOAWAY(NO_ERROR), and
//!   the connection finishes the streams it has.

/// Header block bytes (HEADERS and CONTINUATION fragments) one request may take: the header
/// list bound we advertise, and a frame's worth of encoding overhead (CVE-2024-27316:
/// CONTINUATION frames without end are refused once past it).
pub const MAX_HEADER_BLOCK: usize = nomserve_grammar::Limits::DEFAULT_MAX_HEAD + 16 * 1024;

/// Frames one header block may take: a full-size block takes five 16 KiB frames; a block cut
/// in many tiny CONTINUATION frames is a flood (the 2024 CONTINUATION set).
pub const MAX_BLOCK_FRAMES: u32 = 32;

/// The budget of frames that make work without a response (PRIORITY, empty DATA, empty
/// CONTINUATION, resets of streams being answered, SETTINGS, PING) a connection starts
/// with.
pub const FLOOD_BASE: u32 = 1000;

/// How much each stream the client opens adds to that budget: a browser sends a PRIORITY
/// or a reset now and then per request, never dozens.
pub const FLOOD_PER_STREAM: u32 = 8;

/// Streams the client may reset while we answer them, beyond those that finish (Rapid
/// Reset, CVE-2023-44487: each opened stream runs a handler; resetting it at once and
/// opening the next bypasses MAX_CONCURRENT_STREAMS).
pub const MAX_EARLY_RESETS: u32 = 200;

/// Stream ids past this one are not taken: the connection goes away gracefully before the
/// 31-bit space runs out (RFC 9113 §5.1.1).
pub const LAST_STREAM_ID: u32 = (1 << 31) - 1 - 2 * 1024;

/// What each kind of cheap frame has cost so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Floods {
    /// Streams the client opened.
    pub opened: u32,
    /// Streams whose responses were sent in full.
    pub finished: u32,
    /// Frames that made work without a response (see [`FLOOD_BASE`]).
    pub cheap: u32,
    /// Streams reset by the client before their response was sent.
    pub early_resets: u32,
}

/// What a flood bound says of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the budget.
    Fine,
    /// Past it: GOAWAY(ENHANCE_YOUR_CALM) with this reason.
    Calm(&'static str),
}

impl Floods {
    /// Counts a frame that makes work without a response (PRIORITY churn, CVE-2019-9513;
    /// empty frames, CVE-2019-9518; resets, CVE-2019-9514; control frames).
    pub fn cheap(&mut self, what: &'static str) -> Verdict {
        self.cheap = self.cheap.saturating_add(1);
        let budget = FLOOD_BASE.saturating_add(self.opened.saturating_mul(FLOOD_PER_STREAM));
        if self.cheap > budget {
            Verdict::Calm(what)
        } else {
            Verdict::Fine
        }
    }

    /// Counts a reset, by the client, of a stream whose response is not sent yet (Rapid
    /// Reset, CVE-2023-44487).
    pub fn early_reset(&mut self) -> Verdict {
        self.early_resets = self.early_resets.saturating_add(1);
        if self.early_resets > MAX_EARLY_RESETS.saturating_add(self.finished) {
            Verdict::Calm("too many streams reset before their response")
        } else {
            self.cheap("too many cheap frames")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cheap_frames_are_bounded_and_the_budget_grows_with_streams() {
        let mut floods = Floods::default();
        for _ in 0..FLOOD_BASE {
            assert_eq!(floods.cheap("x"), Verdict::Fine);
        }
        assert_eq!(floods.cheap("x"), Verdict::Calm("x"));
        let mut floods = Floods {
            opened: 10,
            ..Floods::default()
        };
        for _ in 0..FLOOD_BASE + 10 * FLOOD_PER_STREAM {
            assert_eq!(floods.cheap("x"), Verdict::Fine);
        }
        assert_eq!(floods.cheap("x"), Verdict::Calm("x"));
    }

    #[test]
    fn early_resets_are_bounded_by_the_streams_that_finish() {
        let mut floods = Floods {
            opened: 10_000,
            ..Floods::default()
        };
        for _ in 0..MAX_EARLY_RESETS {
            assert_eq!(floods.early_reset(), Verdict::Fine);
        }
        assert!(matches!(floods.early_reset(), Verdict::Calm(_)));
        floods.finished = 100;
        assert_eq!(floods.early_reset(), Verdict::Fine);
    }
}
