//! Where a request head ends, found in bytes that arrive piecemeal, each byte looked at once.
//!
//! The grammar parses a whole head in one call. Calling it on every read would cost time in
//! proportion to the whole buffer per read, so a head trickling in one byte at a time would
//! cost time quadratic in its size. [`HeadScan`] keeps where its last look stopped and says
//! when a parse can decide something:
//! - once the request-line has ended (its first LF), so that a malformed request-line is
//!   answered at once, not after the client finishes a head that is already refused;
//! - once the request-line has run past its bound without ending (the parse says 414);
//! - once an empty line ends the head (`LF CRLF`, or `LF LF`, which the parse refuses);
//! - once the buffer reaches the head's bound (the parse says 431).
//!
//! Each fires at most once per head but the third, which the grammar then answers for good
//! (a complete head or an error), so a head costs at most a few parses however it arrives.
//! Leading empty lines (RFC 9112 §2.2) are stepped over before the request-line is looked
//! for; what they are is the parse's to judge.

use crate::conn::exchange::{Context, Prepared, prepare};
use crate::conn::persistence::Persistence;
use crate::http::head::RequestHead;
use memchr::memchr_iter;
use nomserve_grammar::{Error, Header, Limits, Parsed, parse_request};
use std::net::SocketAddr;

/// Header storage per parse: the grammar's default field count bound.
const MAX_HEADERS: usize = Limits::DEFAULT_MAX_HEADERS;

/// What the buffered bytes of a head came to. (`Complete` is large; boxing it would
/// allocate once per request.)
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Head {
    /// Nothing to decide yet: read more.
    NeedMore,
    /// Parsed, and a strict prefix of a valid head: look on, then read more.
    Partial,
    /// Parsed, and it breaks a rule.
    Invalid(Error),
    /// A whole head of this many bytes, its answer, and how the connection goes on from it.
    Complete(Prepared, Persistence, usize),
}

/// What the buffered head bytes call for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Nothing new to decide: read more.
    NeedMore,
    /// Parse the buffer now.
    Parse,
}

/// The scanner's place in one head.
#[derive(Debug, Clone, Default)]
pub struct HeadScan {
    /// Bytes from the head's start already looked at.
    scanned: usize,
    /// Where the request-line starts, once a byte other than a leading CRLF arrived.
    line_start: Option<usize>,
    /// The request-line ended, or ran past its bound: its parse has been called for.
    line_done: bool,
    /// The head reached its bound: its parse has been called for.
    bound_done: bool,
}

impl HeadScan {
    /// Scans `input` (the buffered bytes from the head's first one) and, when the scan calls
    /// for it, parses it (adding the bytes handed to the parser to `parsed`) and prepares the
    /// answer to a complete head with `ctx`'s handler.
    pub fn read(
        &mut self,
        input: &[u8],
        peer: SocketAddr,
        ctx: &Context<'_>,
        parsed: &mut u64,
    ) -> Head {
        let limits = Limits::default();
        if self.scan(input, &limits) == Scan::NeedMore {
            return Head::NeedMore;
        }
        *parsed += input.len() as u64;
        let mut fields = [Header::EMPTY; MAX_HEADERS];
        match parse_request(input, &mut fields, &limits) {
            Ok(Parsed::Complete { value, consumed }) => {
                let head = input.get(..consumed).unwrap_or(input);
                let prepared = prepare(&value, &RequestHead::Raw(head), peer, ctx);
                let persistence = Persistence::of(&value, &prepared);
                Head::Complete(prepared, persistence, consumed)
            }
            Ok(Parsed::Partial) => Head::Partial,
            Err(e) => Head::Invalid(e),
        }
    }

    /// Looks at the bytes of `head` (the buffered bytes from the head's first one, longer
    /// than at the last call or the same) not looked at before, and says whether to parse.
    pub fn scan(&mut self, head: &[u8], limits: &Limits) -> Scan {
        if head.len() >= limits.max_head && !self.bound_done {
            self.bound_done = true;
            return Scan::Parse;
        }
        let line_start = match self.line_start {
            Some(start) => start,
            None => {
                let mut at = self.scanned;
                while head.get(at..at + 2) == Some(b"\r\n") {
                    at += 2;
                }
                self.scanned = at;
                match head.get(at..) {
                    None | Some([] | [b'\r']) => return Scan::NeedMore,
                    Some(_) => {
                        self.line_start = Some(at);
                        at
                    }
                }
            }
        };
        let from = self.scanned;
        let rest = head.get(from..).unwrap_or_default();
        for lf in memchr_iter(b'\n', rest).map(|i| from + i) {
            if !self.line_done {
                self.line_done = true;
                self.scanned = lf + 1;
                return Scan::Parse;
            }
            match (head.get(lf + 1), head.get(lf + 2)) {
                (Some(b'\n'), _) => {
                    self.scanned = lf + 2;
                    return Scan::Parse;
                }
                (Some(b'\r'), Some(b'\n')) => {
                    self.scanned = lf + 3;
                    return Scan::Parse;
                }
                // Whether this LF starts an empty line is known only with the next bytes:
                // look at it again then.
                (None, _) | (Some(b'\r'), None) => {
                    self.scanned = lf;
                    return Scan::NeedMore;
                }
                _ => {}
            }
        }
        self.scanned = head.len();
        if !self.line_done && head.len() - line_start >= limits.max_request_line {
            self.line_done = true;
            return Scan::Parse;
        }
        Scan::NeedMore
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `head` one byte at a time; returns the lengths at which a parse was called for.
    fn parses(head: &[u8], limits: &Limits) -> Vec<usize> {
        let mut scan = HeadScan::default();
        (1..=head.len())
            .filter(|&len| scan.scan(&head[..len], limits) == Scan::Parse)
            .collect()
    }

    #[test]
    fn a_head_fed_bytewise_is_parsed_at_its_request_line_and_its_end() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
        assert_eq!(parses(head, &Limits::default()), [16, head.len()]);
    }

    #[test]
    fn a_head_that_arrives_whole_is_parsed_once_for_its_line_then_at_its_end() {
        let head = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut scan = HeadScan::default();
        assert_eq!(scan.scan(head, &Limits::default()), Scan::Parse);
        assert_eq!(scan.scan(head, &Limits::default()), Scan::Parse);
        assert_eq!(scan.scan(head, &Limits::default()), Scan::NeedMore);
    }

    #[test]
    fn bare_lf_line_ends_call_for_a_parse_too() {
        // The grammar refuses them; the scanner only has to let it see them.
        assert_eq!(
            parses(b"GET / HTTP/1.1\nHost: x\n\n", &Limits::default()),
            [15, 24]
        );
    }

    #[test]
    fn leading_empty_lines_are_stepped_over() {
        let head = b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
        assert_eq!(parses(head, &Limits::default()), [20, head.len()]);
    }

    #[test]
    fn the_bounds_call_for_one_parse_each() {
        let limits = Limits {
            max_request_line: 16,
            max_head: 40,
            max_headers: 10,
        };
        let long_line = [b'a'; 30];
        assert_eq!(parses(&long_line, &limits), [16]);
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        big.extend_from_slice(&[b'x'; 40]);
        assert_eq!(parses(&big, &limits), [16, 40]);
    }

    #[test]
    fn a_large_head_trickled_bytewise_is_parsed_twice() {
        // 56 KiB of fields, one byte per read: a parse is called for only at the
        // request-line and at the end, never per read.
        let mut head = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
        while head.len() < 56 * 1024 {
            head.extend_from_slice(b"X-Filler: abcdefghijklmnopqrstuvwxyz0123456789\r\n");
        }
        head.extend_from_slice(b"\r\n");
        assert_eq!(parses(&head, &Limits::default()), [16, head.len()]);
    }
}
