//! Matched bytes as `&str`: the crate's only `unsafe`.
//!
//! The strings every request carries (its path and query, its field names, its Host) are
//! matched byte by byte against a class before they are returned as `&str`. Checking them
//! again with `std::str::from_utf8` was, on the benchmark corpora (`benches/parse.rs`), 15–20%
//! of the parse time, and a `<[u8]>::is_ascii` check in front of an unchecked conversion cost
//! as much: both pay mostly per call, and these strings are short. So the scan that matches
//! the bytes is also the proof that they are UTF-8, and this module is where that proof is
//! kept: its API is safe, and no input makes it return a `&str` that is not UTF-8.
//!
//! - [`AsciiClass`] is a byte class asserted, when it is built, to hold only ASCII bytes; a
//!   `static` class is checked at compile time.
//! - [`AsciiClass::run`] returns the run of class bytes at the start of the input as `&str`.
//! - [`AsciiClass::text`] returns runs of class bytes joined by pieces that a rule names (a
//!   `%XX` escape); each piece, a few bytes, is checked to be ASCII as it is taken.

#![allow(unsafe_code)]

use crate::abnf::ByteClass;

/// A byte class whose bytes are all ASCII (below 0x80).
pub(crate) struct AsciiClass(ByteClass);

impl AsciiClass {
    /// `class`, once checked to hold only ASCII bytes; in a `static`, a class that does not
    /// fails to compile.
    pub(crate) const fn new(class: ByteClass) -> Self {
        assert!(class.is_ascii(), "an AsciiClass holds only ASCII bytes");
        AsciiClass(class)
    }

    /// Whether `b` is in the class.
    #[inline(always)]
    pub(crate) const fn contains(&self, b: u8) -> bool {
        self.0.contains(b)
    }

    /// How many bytes at the start of `bytes` are in the class.
    #[inline(always)]
    pub(crate) fn prefix_len(&self, bytes: &[u8]) -> usize {
        self.0.prefix_len(bytes)
    }

    /// The run of class bytes at the start of `bytes`, possibly empty, as `&str`, and the
    /// bytes after it.
    #[inline(always)]
    pub(crate) fn run<'a>(&self, bytes: &'a [u8]) -> (&'a str, &'a [u8]) {
        let (run, rest) = bytes.split_at(self.0.prefix_len(bytes));
        // SAFETY: `prefix_len` counts leading bytes that are in the class, and the class
        // holds only ASCII bytes (checked in `new`); ASCII is UTF-8.
        (unsafe { std::str::from_utf8_unchecked(run) }, rest)
    }

    /// Text at the start of `bytes`: runs of class bytes, joined by the pieces `piece` names.
    ///
    /// Contract: at each byte that is not in the class, and at the end of the input,
    /// `piece(rest)` is called with the input from that byte on (empty at the end). It returns
    /// `Ok(0)` to end the text there, `Ok(n)` to take the next `n` bytes as one piece and go
    /// on, or an error, which is returned as it is. A piece must be ASCII (an escape like
    /// `%2F`); one that is not, or that is longer than `rest`, ends the text before it
    /// instead, so no caller can make this return a `&str` that is not UTF-8.
    ///
    /// Returns the text as `&str` and the bytes after it.
    #[inline(always)]
    pub(crate) fn text<'a, E>(
        &self,
        bytes: &'a [u8],
        mut piece: impl FnMut(&'a [u8]) -> Result<usize, E>,
    ) -> Result<(&'a str, &'a [u8]), E> {
        let mut len = 0;
        loop {
            let rest = bytes.get(len..).unwrap_or_default();
            len += self.0.prefix_len(rest);
            let rest = bytes.get(len..).unwrap_or_default();
            let n = piece(rest)?;
            match rest.get(..n) {
                Some(p) if n > 0 && p.is_ascii() => len += n,
                _ => break,
            }
        }
        let (text, rest) = bytes.split_at(len);
        // SAFETY: `text` is runs of class bytes, which are ASCII (checked in `new`), and
        // pieces each checked above to be ASCII; ASCII is UTF-8.
        Ok((unsafe { std::str::from_utf8_unchecked(text) }, rest))
    }
}

#[cfg(test)]
mod tests {
    use crate::abnf::TCHAR;

    /// Takes `[` and the two bytes after it as a piece, whatever they are; fails at `"`.
    fn three_after_bracket(rest: &[u8]) -> Result<usize, ()> {
        match rest {
            [b'[', ..] => Ok(3),
            [b'"', ..] => Err(()),
            _ => Ok(0),
        }
    }

    #[test]
    fn runs_and_pieces_are_text() {
        assert_eq!(TCHAR.run(b"Host: x"), ("Host", &b": x"[..]));
        assert_eq!(
            TCHAR.text(b"ab[41cd:e", three_after_bracket),
            Ok(("ab[41cd", &b":e"[..]))
        );
        assert_eq!(TCHAR.text(b"", three_after_bracket), Ok(("", &b""[..])));
    }

    #[test]
    fn a_piece_that_is_not_ascii_or_too_long_ends_the_text() {
        assert_eq!(
            TCHAR.text(b"ab[\xc3\xa9cd", three_after_bracket),
            Ok(("ab", &b"[\xc3\xa9cd"[..]))
        );
        assert_eq!(
            TCHAR.text(b"ab[4", three_after_bracket),
            Ok(("ab", &b"[4"[..]))
        );
    }

    #[test]
    fn a_piece_error_is_returned() {
        assert_eq!(TCHAR.text(b"a[41a\"", three_after_bracket), Err(()));
    }
}
