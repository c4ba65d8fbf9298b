//! Byte classes: sets of bytes as 256-entry lookup tables built at compile time, one load and
//! one test per byte instead of a chain of comparisons; and the class of field-value bytes,
//! which the SSE2 scan of `text` tests sixteen at a time.

#![forbid(unsafe_code)]

/// A set of bytes, as a lookup table.
pub(crate) struct ByteClass([bool; 256]);

impl ByteClass {
    /// The class of the bytes `b` for which `table[b]` holds; for `class!`.
    pub(crate) const fn from_table(table: [bool; 256]) -> Self {
        ByteClass(table)
    }

    /// Whether `b` is in the class.
    #[inline(always)]
    pub(crate) const fn contains(&self, b: u8) -> bool {
        self.0[b as usize]
    }

    /// Whether every byte of the class is ASCII (below 0x80).
    pub(crate) const fn is_ascii(&self) -> bool {
        let mut b = 0x80;
        while b < 0x100 {
            if self.0[b] {
                return false;
            }
            b += 1;
        }
        true
    }

    /// How many bytes at the start of `bytes` are in the class.
    ///
    /// One lookup and one branch per byte, in blocks of sixteen so that the loop's own bound
    /// is tested once per block, then the tail byte by byte. Folding a block's lookups into
    /// one test was measured slower: the runs this scans (names, paths, a Host) mostly end
    /// within their first block, which then costs two passes. Blocks of eight
    /// (`chunks_exact(8)`) were slower too, in alternating runs of the interleaved bench:
    /// throughput against httparse's 0.92-0.96 (kitty), 0.96-0.98 (short) and 1.01-1.07
    /// (browser), where sixteen gives 1.07-1.09, 1.03-1.04 and 1.14.
    #[inline(always)]
    pub(crate) fn prefix_len(&self, bytes: &[u8]) -> usize {
        let mut clean = 0;
        while let Some(block) = bytes.get(clean..clean + 16) {
            for (i, &b) in block.iter().enumerate() {
                if !self.contains(b) {
                    return clean + i;
                }
            }
            clean += 16;
        }
        while let Some(&b) = bytes.get(clean) {
            if !self.contains(b) {
                break;
            }
            clean += 1;
        }
        clean
    }
}

/// Builds a class from a predicate on a byte `$b`, at compile time.
macro_rules! class {
    (|$b:ident| $pred:expr) => {{
        let mut table = [false; 256];
        let mut i = 0;
        while i < 256 {
            let $b = i as u8;
            table[i] = $pred;
            i += 1;
        }
        $crate::class::ByteClass::from_table(table)
    }};
}

pub(crate) use class;

/// ```text
/// field-vchar = VCHAR / obs-text
/// VCHAR       = %x21-7E
/// obs-text    = %x80-FF
/// ```
/// RFC 9110 §5.5, plus SP and HTAB, which may appear inside a field value
/// (`field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]`).
pub(crate) static FIELD_VALUE_BYTE: ByteClass =
    class!(|b| b == b' ' || b == b'\t' || (b >= 0x21 && b <= 0x7e) || b >= 0x80);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_value_bytes_exclude_ctls_and_del() {
        for b in 0..=255u8 {
            let expected = b == b' ' || b == b'\t' || (0x21..=0x7e).contains(&b) || b >= 0x80;
            assert_eq!(FIELD_VALUE_BYTE.contains(b), expected, "byte {b:#04x}");
        }
        assert!(!FIELD_VALUE_BYTE.contains(0));
        assert!(!FIELD_VALUE_BYTE.contains(b'\r'));
        assert!(!FIELD_VALUE_BYTE.contains(b'\n'));
        assert!(!FIELD_VALUE_BYTE.contains(0x7f));
    }
}
