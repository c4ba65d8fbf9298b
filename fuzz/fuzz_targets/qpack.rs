//! Fuzzes `QpackDecoder` over one connection's encoder stream and field sections, and
//! `QpackEncoder`:
//! - never a panic; an error is placed inside its input;
//! - with small limits, the bounds hold: the decoded list, its field count, the dynamic
//!   table, the blocked streams never pass them;
//! - the encoder stream fed byte by byte leaves the decoder as fed whole: same inserts, same
//!   table, same outcome for every section;
//! - a section refused for a bound is still processed: a second decoder with no list bounds
//!   decodes the same fields as far as the refused list goes, and fails the same way
//!   otherwise;
//! - every list decoded, encoded by our encoder and decoded again, comes back the same.
//!
//! The input: one octet choosing the advertised capacity and blocked streams, then chunks,
//! each a tag octet (even: encoder-stream bytes; odd: a field section), a length octet and
//! that many octets.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{
    DecodeLimits, DecodedFields, QpackDecoder, QpackEncoder, QpackError, QpackSection,
};

const LIMITS: DecodeLimits = DecodeLimits {
    max_list_size: 512,
    max_fields: 16,
};
const UNBOUNDED: DecodeLimits = DecodeLimits {
    max_list_size: usize::MAX,
    max_fields: usize::MAX,
};

type List = Vec<(Vec<u8>, Vec<u8>)>;

fn list(fields: &DecodedFields) -> List {
    fields
        .iter()
        .map(|f| (f.name.to_vec(), f.value.to_vec()))
        .collect()
}

fuzz_target!(|input: &[u8]| {
    let Some((&config, mut rest)) = input.split_first() else {
        return;
    };
    let capacity = [0, 64, 256, 4096][usize::from(config & 3)];
    let blocked = usize::from(config >> 2 & 3);
    let mut whole = QpackDecoder::new(capacity, blocked);
    let mut piecewise = QpackDecoder::new(capacity, blocked);
    let mut shadow = QpackDecoder::new(capacity, blocked);
    let (mut pending, mut out, mut shadow_out, mut again) = Default::default();
    let mut stream_id = 0u64;
    while let [tag, len, after @ ..] = rest {
        let (chunk, after) = after.split_at(usize::from(*len).min(after.len()));
        rest = after;
        if tag % 2 == 0 {
            if !feed(&mut whole, &mut piecewise, &mut shadow, &mut pending, chunk) {
                return;
            }
            assert!(whole.table_size() <= whole.capacity());
            assert!(whole.capacity() as u64 <= capacity);
            continue;
        }
        stream_id += 4;
        let result = whole.decode_section(stream_id, chunk, &mut out, &LIMITS);
        let piece_result = piecewise.decode_section(stream_id, chunk, &mut again, &LIMITS);
        let shadow_result = shadow.decode_section(stream_id, chunk, &mut shadow_out, &UNBOUNDED);
        assert_eq!(result, piece_result);
        assert!(out.list_size() <= LIMITS.max_list_size);
        assert!(out.len() <= LIMITS.max_fields);
        assert!(whole.blocked_streams() <= blocked);
        match result {
            Ok(QpackSection::Decoded) => {
                assert_eq!(shadow_result, Ok(QpackSection::Decoded));
                assert_eq!(list(&out), list(&shadow_out));
                round_trip(&list(&out), &mut again);
            }
            Ok(QpackSection::Blocked {
                required_insert_count,
            }) => {
                assert!(required_insert_count > whole.insert_count());
                assert_eq!(shadow_result, result);
            }
            Err(error) if !error.is_connection_error() => {
                assert!(error.offset() < chunk.len());
                assert_eq!(shadow_result, Ok(QpackSection::Decoded));
                let decoded = list(&out);
                assert_eq!(decoded, list(&shadow_out)[..decoded.len()]);
            }
            Err(error) => {
                check_error(&error, chunk.len());
                assert_eq!(shadow_result, Err(error));
                return;
            }
        }
        let mut instructions = Vec::new();
        whole.write_decoder_stream(&mut instructions);
    }
});

/// Feeds `chunk` of the encoder stream to `whole` at once (with what is pending before it)
/// and to `piecewise` a byte at a time: `true` when both took it alike, `false` when both
/// refused it alike (the connection is gone).
fn feed(
    whole: &mut QpackDecoder,
    piecewise: &mut QpackDecoder,
    shadow: &mut QpackDecoder,
    pending: &mut Vec<u8>,
    chunk: &[u8],
) -> bool {
    pending.extend_from_slice(chunk);
    let whole_result = whole.feed_encoder_stream(pending);
    assert_eq!(shadow.feed_encoder_stream(pending), whole_result);
    let mut buffered = Vec::new();
    let mut piece_result = Ok(0);
    for &byte in pending.iter() {
        buffered.push(byte);
        match piecewise.feed_encoder_stream(&buffered) {
            Ok(used) => {
                buffered.drain(..used);
            }
            Err(error) => {
                piece_result = Err(error);
                break;
            }
        }
    }
    match whole_result {
        Ok(used) => {
            assert!(used <= pending.len());
            assert_eq!(piece_result.map(|_| ()), Ok(()));
            assert_eq!(buffered.len(), pending.len() - used);
            pending.drain(..used);
            assert_eq!(whole.insert_count(), piecewise.insert_count());
            assert_eq!(whole.table_size(), piecewise.table_size());
            true
        }
        Err(error) => {
            check_error(&error, pending.len());
            assert_eq!(piece_result.map_err(|e| e.kind()), Err(error.kind()));
            false
        }
    }
}

fn check_error(error: &QpackError, len: usize) {
    assert!(error.offset() <= len, "{error}");
    assert!(!error.to_string().is_empty());
}

/// `decoded`, encoded by our encoder, decodes to itself.
fn round_trip(decoded: &List, scratch: &mut DecodedFields) {
    let mut section = Vec::new();
    QpackEncoder::new().encode(decoded.iter().map(|(n, v)| (&n[..], &v[..])), &mut section);
    let result = QpackDecoder::new(0, 0).decode_section(0, &section, scratch, &UNBOUNDED);
    assert_eq!(result, Ok(QpackSection::Decoded));
    assert_eq!(&list(scratch), decoded);
}
