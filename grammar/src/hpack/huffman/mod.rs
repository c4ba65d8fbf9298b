//! The Huffman code of HPACK string literals (RFC 7541 §5.2, Appendix B).
//!
//! Decoding is a state machine that takes a whole octet at a time: a state is an internal node
//! of the code's tree (257 leaves, so 256 internal nodes, the root being state 0), and
//! [`DECODE_OCTET`] says, for each state and octet, the state it leads to and the symbols it
//! completes on the way (every code is at least 5 bits long, so an octet completes at most
//! two). One table look-up per octet, no bit-by-bit walk. The table is built at compile time,
//! through a table of nibble steps, from the code lengths of `table.rs`, so it cannot drift
//! from the appendix.

#![forbid(unsafe_code)]

mod table;

use super::error::HpackErrorKind;
use table::CODES;

/// The EOS symbol's index in [`CODES`].
const EOS: u16 = 256;

/// The nibble step completes a symbol, in `symbol`.
const EMITS: u8 = 1;
/// The nibble step decodes EOS: an error (§5.2).
const FAILS: u8 = 2;

/// One step of the decoding state machine.
#[derive(Clone, Copy)]
struct Step {
    /// The state after the nibble.
    next: u8,
    /// The symbol completed, when `flags` has [`EMITS`].
    symbol: u8,
    /// [`EMITS`], [`FAILS`].
    flags: u8,
}

/// The code's tree: for each internal node, its two children; a child is an internal node's
/// index, or `LEAF | symbol`.
const LEAF: u16 = 0x8000;

/// Builds the tree of the code: internal nodes numbered in order of creation, the root 0.
const fn tree() -> [[u16; 2]; 256] {
    let mut nodes = [[0u16; 2]; 256];
    let mut count = 1;
    let mut symbol = 0;
    while symbol < CODES.len() {
        let (code, len) = CODES[symbol];
        let mut node = 0;
        let mut bit = len;
        while bit > 1 {
            bit -= 1;
            let branch = ((code >> bit) & 1) as usize;
            if nodes[node][branch] == 0 {
                nodes[node][branch] = count as u16;
                count += 1;
            }
            node = nodes[node][branch] as usize;
        }
        nodes[node][(code & 1) as usize] = LEAF | symbol as u16;
        symbol += 1;
    }
    nodes
}

/// The decoding steps, `DECODE[state][nibble]`.
const DECODE: [[Step; 16]; 256] = {
    let nodes = tree();
    let mut steps = [[Step {
        next: 0,
        symbol: 0,
        flags: 0,
    }; 16]; 256];
    let mut state = 0;
    while state < 256 {
        let mut nibble = 0;
        while nibble < 16 {
            let mut node = state;
            let mut step = Step {
                next: 0,
                symbol: 0,
                flags: 0,
            };
            let mut bit = 4;
            while bit > 0 {
                bit -= 1;
                let child = nodes[node][(nibble >> bit) & 1];
                if child & LEAF != 0 {
                    if child & !LEAF == EOS {
                        step.flags |= FAILS;
                    } else {
                        step.flags |= EMITS;
                        step.symbol = (child & !LEAF) as u8;
                    }
                    node = 0;
                } else {
                    node = child as usize;
                }
            }
            step.next = node as u8;
            steps[state][nibble] = step;
            nibble += 1;
        }
        state += 1;
    }
    steps
};

/// [`DECODE_OCTET`]'s entry: the next state in bits 0..8, the symbols completed in bits 8..16
/// and 16..24 (the second only when two are), their count in bits 24..26, and [`OCTET_FAILS`].
const OCTET_SYMBOLS: u32 = 8;
/// The count of symbols an octet completes, in its entry.
const OCTET_COUNT: u32 = 24;
/// The octet decodes EOS: an error (§5.2).
const OCTET_FAILS: u32 = 1 << 26;

/// The decoding steps an octet at a time, `DECODE_OCTET[state << 8 | octet]`: the two nibble
/// steps of [`DECODE`] taken in turn.
static DECODE_OCTET: [u32; 256 * 256] = {
    let mut steps = [0u32; 256 * 256];
    let mut state = 0;
    while state < 256 {
        let mut octet = 0;
        while octet < 256 {
            let high = DECODE[state][octet >> 4];
            let low = DECODE[high.next as usize][octet & 0x0f];
            let mut entry = low.next as u32;
            let mut count = 0;
            if high.flags & EMITS != 0 {
                entry |= (high.symbol as u32) << OCTET_SYMBOLS;
                count += 1;
            }
            if low.flags & EMITS != 0 {
                entry |= (low.symbol as u32) << (OCTET_SYMBOLS + 8 * count);
                count += 1;
            }
            if (high.flags | low.flags) & FAILS != 0 {
                entry |= OCTET_FAILS;
            }
            steps[state << 8 | octet] = entry | count << OCTET_COUNT;
            octet += 1;
        }
        state += 1;
    }
    steps
};

/// The states a string may end in (§5.2): the root, or a node reached from it by at most
/// seven 1 bits, that is a padding of at most 7 bits taken from the start of EOS.
const PADDING_OK: [bool; 256] = {
    let nodes = tree();
    let mut ok = [false; 256];
    let mut node = 0;
    let mut depth = 0;
    while depth <= 7 {
        ok[node] = true;
        node = nodes[node][1] as usize;
        depth += 1;
    }
    ok
};

/// Decodes the Huffman-encoded `input`, appending the octets to `out`.
///
/// RFC 7541 §5.2: fails with `HuffmanEos` at the octet where EOS completes, and with
/// `HuffmanPadding` at the last octet when the code ends in more than 7 bits, or in bits that
/// are not all ones. On failure, `out` may hold part of the string.
pub(crate) fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), (HpackErrorKind, usize)> {
    // Each octet's two symbol slots are written whether or not it completes symbols, the
    // count it completes then kept: room for the most symbols (one per 5 bits) and two more.
    let mut len = out.len();
    out.resize(len + input.len() * 8 / 5 + 2, 0);
    let mut state = 0u8;
    for (at, &octet) in input.iter().enumerate() {
        let step = DECODE_OCTET[usize::from(state) << 8 | usize::from(octet)];
        if step & OCTET_FAILS != 0 {
            out.truncate(len);
            return Err((HpackErrorKind::HuffmanEos, at));
        }
        out[len..len + 2].copy_from_slice(&((step >> OCTET_SYMBOLS) as u16).to_le_bytes());
        len += (step >> OCTET_COUNT) as usize & 3;
        state = step as u8;
    }
    out.truncate(len);
    if !PADDING_OK[usize::from(state)] {
        return Err((
            HpackErrorKind::HuffmanPadding,
            input.len().saturating_sub(1),
        ));
    }
    Ok(())
}

/// How many octets `input` takes Huffman-encoded.
pub(crate) fn encoded_len(input: &[u8]) -> usize {
    let bits: usize = input
        .iter()
        .map(|&b| usize::from(CODES[usize::from(b)].1))
        .sum();
    bits.div_ceil(8)
}

/// Appends `input` Huffman-encoded to `out`, padded with the most significant bits of EOS
/// (all ones) to an octet boundary (§5.2).
///
/// Codes are gathered in a 64-bit accumulator and leave it 32 bits at a time: fewer than 32
/// bits wait there, and a code is at most 30 bits long, so the accumulator never holds more
/// than 61 that matter.
pub(crate) fn encode(input: &[u8], out: &mut Vec<u8>) {
    let mut bits: u64 = 0;
    let mut count = 0u32;
    for &octet in input {
        let (code, len) = CODES[usize::from(octet)];
        bits = (bits << len) | u64::from(code);
        count += u32::from(len);
        if count >= 32 {
            count -= 32;
            out.extend_from_slice(&((bits >> count) as u32).to_be_bytes());
        }
    }
    while count >= 8 {
        count -= 8;
        out.push((bits >> count) as u8);
    }
    if count > 0 {
        let pad = 8 - count;
        out.push(((bits << pad) as u8) | ((1u8 << pad) - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decoded(input: &[u8]) -> Result<Vec<u8>, (HpackErrorKind, usize)> {
        let mut out = Vec::new();
        decode(input, &mut out).map(|()| out)
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn appendix_c4_and_c6_strings() {
        let cases = [
            ("f1e3c2e5f23a6ba0ab90f4ff", "www.example.com"),
            ("a8eb10649cbf", "no-cache"),
            ("25a849e95ba97d7f", "custom-key"),
            ("25a849e95bb8e8b4bf", "custom-value"),
            ("6402", "302"),
            ("aec3771a4b", "private"),
            (
                "d07abe941054d444a8200595040b8166e082a62d1bff",
                "Mon, 21 Oct 2013 20:13:21 GMT",
            ),
            (
                "9d29ad171863c78f0b97c8e9ae82ae43d3",
                "https://www.example.com",
            ),
        ];
        for (wire, text) in cases {
            assert_eq!(decoded(&hex(wire)), Ok(text.as_bytes().to_vec()), "{text}");
            let mut out = Vec::new();
            encode(text.as_bytes(), &mut out);
            assert_eq!(out, hex(wire), "{text}");
            assert_eq!(encoded_len(text.as_bytes()), out.len());
        }
    }

    #[test]
    fn accepts_empty_and_short_padding() {
        assert_eq!(decoded(b""), Ok(Vec::new()));
        // '0' is 00000 (5 bits), then 3 bits of padding.
        assert_eq!(decoded(&[0b0000_0111]), Ok(b"0".to_vec()));
    }

    #[test]
    fn refuses_padding_that_is_not_all_ones() {
        assert_eq!(
            decoded(&[0b0000_0110]),
            Err((HpackErrorKind::HuffmanPadding, 0))
        );
    }

    #[test]
    fn refuses_padding_of_eight_bits_or_more() {
        // '0' then 11 one bits: 3 of padding in the first octet, 8 more in the second.
        assert_eq!(
            decoded(&[0b0000_0111, 0xff]),
            Err((HpackErrorKind::HuffmanPadding, 1))
        );
        assert_eq!(decoded(&[0xff]), Err((HpackErrorKind::HuffmanPadding, 0)));
    }

    #[test]
    fn refuses_eos() {
        // EOS is thirty 1 bits: it completes in the fourth octet.
        assert_eq!(
            decoded(&[0xff, 0xff, 0xff, 0xff]),
            Err((HpackErrorKind::HuffmanEos, 3))
        );
        // '0', then EOS, then padding.
        assert_eq!(
            decoded(&[0x07, 0xff, 0xff, 0xff, 0xfe]),
            Err((HpackErrorKind::HuffmanEos, 4))
        );
    }

    #[test]
    fn the_tree_is_full() {
        let nodes = tree();
        assert!(nodes.iter().all(|n| n[0] != 0 && n[1] != 0));
    }

    proptest! {
        #[test]
        fn round_trips(input in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut out = Vec::new();
            encode(&input, &mut out);
            prop_assert_eq!(out.len(), encoded_len(&input));
            prop_assert_eq!(decoded(&out), Ok(input));
        }

        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decoded(&input);
        }
    }
}
