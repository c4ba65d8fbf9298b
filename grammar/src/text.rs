//! The crate's only `unsafe`: matched bytes as `&str`, and the field-value scan in SSE2.
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
//!
//! Field values are most of a request head's bytes, and each is scanned for the byte that
//! ends it. [`non_field_value_mask`] tests sixteen of them in a few SSE2 instructions and
//! returns the answer as a bit mask. Written as portable code, the compiler vectorised the
//! test but not the step from its result to a position (neither a per-byte fold nor a SWAR
//! word mask became a `pmovmskb`), and `benches/interleaved.rs` measured the three corpora
//! 8–10% slower than with the intrinsics. SSE2 is part of the x86-64 baseline, but Rust
//! still makes the call to an intrinsic `unsafe` from a function not compiled for it.

#![allow(unsafe_code)]

use crate::class::{ByteClass, FIELD_VALUE_BYTE};

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

    /// `bytes` as `&str` when every byte is in the class. Each byte is looked up without a
    /// branch, and the input tested once: cheaper than [`AsciiClass::run`]'s early exit on
    /// the short strings (a Host) that are checked whole.
    #[inline(always)]
    pub(crate) fn whole<'a>(&self, bytes: &'a [u8]) -> Option<&'a str> {
        let all = bytes.iter().fold(true, |all, &b| all & self.0.contains(b));
        // SAFETY: every byte of `bytes` is in the class, and the class holds only ASCII bytes
        // (checked in `new`); ASCII is UTF-8.
        all.then(|| unsafe { std::str::from_utf8_unchecked(bytes) })
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

/// Bytes tested at once by [`non_field_value_mask`].
pub(crate) const CHUNK: usize = 16;

/// A mask with bit `i` set where byte `i` of `chunk` is not a field-value byte
/// (`FIELD_VALUE_BYTE`: a CTL other than HTAB, or DEL). `chunk` is [`CHUNK`] bytes in the
/// scan; any other length is tested byte by byte, through the table.
#[inline(always)]
pub(crate) fn non_field_value_mask(chunk: &[u8]) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    if let Ok(chunk) = <&[u8; CHUNK]>::try_from(chunk) {
        // SAFETY: `sse2::non_field_value_mask` needs SSE2, and this code is compiled only
        // where the target has it (the `cfg` above; every x86-64 CPU does).
        return unsafe { sse2::non_field_value_mask(chunk) };
    }
    chunk
        .iter()
        .take(u32::BITS as usize)
        .enumerate()
        .fold(0, |mask, (i, &b)| {
            mask | (u32::from(!FIELD_VALUE_BYTE.contains(b)) << i)
        })
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use super::CHUNK;
    use std::arch::x86_64::{
        _mm_and_si128, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8,
        _mm_movemask_epi8, _mm_or_si128, _mm_set_epi64x, _mm_set1_epi8,
    };

    /// [`super::non_field_value_mask`] for sixteen bytes. The comparisons are signed, so
    /// obs-text (0x80–0xFF) reads as negative: a byte is a CTL when it is below 0x20 and not
    /// negative.
    #[target_feature(enable = "sse2")]
    pub(super) fn non_field_value_mask(chunk: &[u8; CHUNK]) -> u32 {
        let (low, high) = chunk.split_at(CHUNK / 2);
        let word = |half: &[u8]| i64::from_le_bytes(half.try_into().unwrap_or_default());
        let x = _mm_set_epi64x(word(high), word(low));
        let ctl = _mm_and_si128(
            _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
            _mm_cmpgt_epi8(x, _mm_set1_epi8(-1)),
        );
        let htab = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\t' as i8));
        let del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f));
        let bad = _mm_or_si128(_mm_andnot_si128(htab, ctl), del);
        // The mask of sixteen lanes is in the low sixteen bits of a non-negative i32.
        _mm_movemask_epi8(bad).unsigned_abs()
    }
}

#[cfg(test)]
mod tests {
    use super::{AsciiClass, CHUNK, non_field_value_mask};
    use crate::class::{FIELD_VALUE_BYTE, class};

    /// Letters and digits: a class for the scans below.
    static ALNUM: AsciiClass = AsciiClass::new(class!(|b| b.is_ascii_alphanumeric()));

    #[test]
    fn field_value_mask_matches_the_table_for_every_byte_in_every_lane() {
        for b in 0..=255u8 {
            for lane in 0..CHUNK {
                let mut chunk = [b'a'; CHUNK];
                chunk[lane] = b;
                let expected = u32::from(!FIELD_VALUE_BYTE.contains(b)) << lane;
                assert_eq!(non_field_value_mask(&chunk), expected, "{b:#04x} in {lane}");
                assert_eq!(
                    non_field_value_mask(&chunk[..CHUNK - 1]),
                    expected & 0x7fff,
                    "{b:#04x} in {lane}, short chunk"
                );
            }
        }
    }

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
        assert_eq!(ALNUM.run(b"Host: x"), ("Host", &b": x"[..]));
        assert_eq!(
            ALNUM.text(b"ab[41cd:e", three_after_bracket),
            Ok(("ab[41cd", &b":e"[..]))
        );
        assert_eq!(ALNUM.text(b"", three_after_bracket), Ok(("", &b""[..])));
    }

    #[test]
    fn a_piece_that_is_not_ascii_or_too_long_ends_the_text() {
        assert_eq!(
            ALNUM.text(b"ab[\xc3\xa9cd", three_after_bracket),
            Ok(("ab", &b"[\xc3\xa9cd"[..]))
        );
        assert_eq!(
            ALNUM.text(b"ab[4", three_after_bracket),
            Ok(("ab", &b"[4"[..]))
        );
    }

    #[test]
    fn a_piece_error_is_returned() {
        assert_eq!(ALNUM.text(b"a[41a\"", three_after_bracket), Err(()));
    }
}
