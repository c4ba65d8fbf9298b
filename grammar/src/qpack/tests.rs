//! The decoder and encoder as a whole: RFC 9204 Appendix B's exchange, each rejection with its
//! byte, blocked streams, the bounds, partial instructions, and round trips.

use super::field_line::{encode_required_insert_count, required_insert_count};
use super::*;
use crate::hpack::integer::encode_integer;
use crate::hpack::string::{encode_prefixed_string, encode_string};
use crate::{DecodeLimits, DecodedFields, H3ErrorCode};
use proptest::prelude::*;

type List = Vec<(Vec<u8>, Vec<u8>)>;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn list(fields: &DecodedFields) -> List {
    fields
        .iter()
        .map(|f| (f.name.to_vec(), f.value.to_vec()))
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> List {
    pairs
        .iter()
        .map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

/// Decodes `section` on stream `stream` under the default limits.
fn decode(decoder: &mut QpackDecoder, stream: u64, section: &[u8]) -> Result<List, QpackError> {
    let mut out = DecodedFields::new();
    match decoder.decode_section(stream, section, &mut out, &DecodeLimits::default())? {
        QpackSection::Decoded => Ok(list(&out)),
        blocked => panic!("{blocked:?}"),
    }
}

/// The kind and offset `section` is refused with by `decoder`.
fn refusal(decoder: &mut QpackDecoder, section: &[u8]) -> (QpackErrorKind, usize) {
    let error = decode(decoder, 0, section).expect_err("a refusal");
    assert_eq!(error.input(), QpackInput::FieldSection);
    (error.kind(), error.offset())
}

/// The kind and offset the encoder-stream `bytes` are refused with.
fn stream_refusal(decoder: &mut QpackDecoder, bytes: &[u8]) -> (QpackErrorKind, usize) {
    let error = decoder.feed_encoder_stream(bytes).expect_err("a refusal");
    assert_eq!(error.code(), H3ErrorCode::QpackEncoderStreamError);
    (error.kind(), error.offset())
}

fn drain(decoder: &mut QpackDecoder) -> Vec<u8> {
    let mut out = Vec::new();
    decoder.write_decoder_stream(&mut out);
    out
}

#[test]
fn rfc_9204_appendix_b() {
    let mut decoder = QpackDecoder::new(220, 1);
    // B.1: Literal Field Line with Name Reference, static :path.
    let section = hex("0000 510b 2f69 6e64 6578 2e68 746d 6c");
    assert_eq!(
        decode(&mut decoder, 0, &section),
        Ok(owned(&[(":path", "/index.html")]))
    );
    assert_eq!(drain(&mut decoder), b"");
    // B.2: a section blocked on two inserts, then the inserts.
    let section = hex("0381 10 11");
    let mut out = DecodedFields::new();
    let limits = DecodeLimits::default();
    assert_eq!(
        decoder.decode_section(4, &section, &mut out, &limits),
        Ok(QpackSection::Blocked {
            required_insert_count: 2
        })
    );
    assert_eq!(decoder.blocked_streams(), 1);
    let encoder_stream =
        hex("3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468");
    assert_eq!(
        decoder.feed_encoder_stream(&encoder_stream),
        Ok(encoder_stream.len())
    );
    assert_eq!(decoder.capacity(), 220);
    assert_eq!(decoder.table_size(), 106);
    assert_eq!(
        decode(&mut decoder, 4, &section),
        Ok(owned(&[
            (":authority", "www.example.com"),
            (":path", "/sample/path")
        ]))
    );
    assert_eq!(decoder.blocked_streams(), 0);
    assert_eq!(drain(&mut decoder), [0x84]);
    // B.3: a speculative insert, acknowledged by an Insert Count Increment.
    let insert = hex("4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565");
    assert_eq!(decoder.feed_encoder_stream(&insert), Ok(insert.len()));
    assert_eq!(drain(&mut decoder), [0x01]);
    assert_eq!(decoder.table_size(), 160);
    // B.4: Duplicate, then a section referencing it.
    assert_eq!(decoder.feed_encoder_stream(&[0x02]), Ok(1));
    assert_eq!(decoder.table_size(), 217);
    let section = hex("0500 80c1 81");
    assert_eq!(
        decode(&mut decoder, 8, &section),
        Ok(owned(&[
            (":authority", "www.example.com"),
            (":path", "/"),
            ("custom-key", "custom-value")
        ]))
    );
    assert_eq!(drain(&mut decoder), [0x88]);
    // B.5: an insert that evicts the oldest entry.
    let insert = hex("810d 6375 7374 6f6d 2d76 616c 7565 32");
    assert_eq!(decoder.feed_encoder_stream(&insert), Ok(insert.len()));
    assert_eq!(decoder.table_size(), 215);
    assert_eq!(decoder.insert_count(), 5);
    assert_eq!(drain(&mut decoder), [0x01]);
    // Absolute index 0 is gone now; 4 is custom-key: custom-value2.
    assert_eq!(
        refusal(&mut decoder, &hex("0600 84")).0,
        QpackErrorKind::InvalidDynamicReference
    );
    assert_eq!(
        decode(&mut decoder, 12, &hex("0600 80")),
        Ok(owned(&[("custom-key", "custom-value2")]))
    );
    decoder.cancel_stream(16);
    assert_eq!(drain(&mut decoder), [0x8c, 0x50]);
}

#[test]
fn partial_and_refused_field_sections() {
    use QpackErrorKind::*;
    let mut decoder = QpackDecoder::new(220, 0);
    // Cut inside the prefix, inside a line's integer, inside a string.
    assert_eq!(refusal(&mut decoder, b""), (Truncated, 0));
    assert_eq!(refusal(&mut decoder, b"\x00"), (Truncated, 0));
    assert_eq!(refusal(&mut decoder, b"\x00\x00\xd1\xff"), (Truncated, 3));
    assert_eq!(
        refusal(&mut decoder, b"\x00\x00\x51\x0b/ind"),
        (Truncated, 2)
    );
    // Integers past 62 bits.
    let long = hex("00 00 ff ffffffffffffffffff 01");
    assert_eq!(refusal(&mut decoder, &long), (IntegerOverflow, 2));
    // Huffman: EOS, bad padding.
    assert_eq!(
        refusal(&mut decoder, b"\x00\x00\x51\x84\xff\xff\xff\xff"),
        (HuffmanEos, 7)
    );
    assert_eq!(
        refusal(&mut decoder, b"\x00\x00\x51\x81\xfe"),
        (HuffmanPadding, 4)
    );
    // A Required Insert Count past 2 * MaxEntries (6 entries, so 12), or that decodes to 0.
    assert_eq!(
        refusal(&mut decoder, b"\x0d\x00"),
        (InvalidRequiredInsertCount, 0)
    );
    assert_eq!(
        refusal(&mut QpackDecoder::new(0, 0), b"\x01\x00"),
        (InvalidRequiredInsertCount, 0)
    );
    // Static index 99.
    assert_eq!(
        refusal(&mut decoder, b"\x00\x00\xff\x24"),
        (InvalidStaticIndex, 2)
    );
    assert_eq!(
        refusal(&mut decoder, b"\x00\x00\x5f\x54\x00"),
        (InvalidStaticIndex, 2)
    );
    // Dynamic references with no table entry: relative, post-base, name references.
    for line in [&b"\x80"[..], b"\x10", b"\x40\x00", b"\x00\x00"] {
        let section = [b"\x00\x00", line].concat();
        assert_eq!(
            refusal(&mut decoder, &section),
            (InvalidDynamicReference, 2),
            "{line:?}"
        );
    }
    // Blocked, with no blocked stream allowed.
    assert_eq!(
        refusal(&mut decoder, b"\x02\x00\x80"),
        (TooManyBlockedStreams, 0)
    );
    assert_eq!(decoder.blocked_streams(), 0);
}

#[test]
fn references_against_the_required_insert_count_and_base() {
    use QpackErrorKind::*;
    let mut decoder = QpackDecoder::new(4096, 4);
    // Three inserts: a: 1, b: 2, c: 3 (absolute 0, 1, 2).
    let stream = hex("3f e1 1f 4161 0131 4162 0132 4163 0133");
    assert_eq!(decoder.feed_encoder_stream(&stream), Ok(stream.len()));
    // MaxEntries is 128: RIC 3 encodes as 4. Base 3: relative 0 is c.
    assert_eq!(
        decode(&mut decoder, 0, b"\x04\x00\x80\x82"),
        Ok(owned(&[("c", "3"), ("a", "1")]))
    );
    // Base 1 (sign, delta 1): post-base 0 is b, 1 is c; relative 0 is a.
    assert_eq!(
        decode(&mut decoder, 0, b"\x04\x81\x10\x11\x80"),
        Ok(owned(&[("b", "2"), ("c", "3"), ("a", "1")]))
    );
    // Post-base name reference with a literal value.
    assert_eq!(
        decode(&mut decoder, 0, b"\x04\x81\x01\x01x\x11"),
        Ok(owned(&[("c", "x"), ("c", "3")]))
    );
    // Base below 0.
    assert_eq!(refusal(&mut decoder, b"\x04\x83\x80"), (NegativeBase, 1));
    // A reference at the Required Insert Count (RIC 2, post-base 0 of Base 2 is absolute 2).
    assert_eq!(
        refusal(&mut decoder, b"\x03\x00\x10"),
        (InvalidDynamicReference, 2)
    );
    // RIC 3 but nothing referenced past absolute 1.
    assert_eq!(
        refusal(&mut decoder, b"\x04\x00\x81"),
        (UnneededRequiredInsertCount, 0)
    );
    assert_eq!(
        refusal(&mut decoder, b"\x04\x00\xd1"),
        (UnneededRequiredInsertCount, 0)
    );
    // Nothing is acknowledged for a refused section; the good ones were.
    assert_eq!(drain(&mut decoder), [0x80, 0x80, 0x80]);
}

#[test]
fn blocked_streams_are_counted_once_and_released() {
    let mut decoder = QpackDecoder::new(4096, 2);
    let limits = DecodeLimits::default();
    let mut out = DecodedFields::new();
    let blocked = Ok(QpackSection::Blocked {
        required_insert_count: 1,
    });
    assert_eq!(
        decoder.decode_section(0, b"\x02\x00\x80", &mut out, &limits),
        blocked
    );
    assert_eq!(
        decoder.decode_section(0, b"\x02\x00\x80", &mut out, &limits),
        blocked
    );
    assert_eq!(
        decoder.decode_section(4, b"\x02\x00\x80", &mut out, &limits),
        blocked
    );
    assert_eq!(decoder.blocked_streams(), 2);
    let error = decoder
        .decode_section(8, b"\x02\x00\x80", &mut out, &limits)
        .unwrap_err();
    assert_eq!(error.kind(), QpackErrorKind::TooManyBlockedStreams);
    assert_eq!(error.code(), H3ErrorCode::QpackDecompressionFailed);
    decoder.cancel_stream(4);
    assert_eq!(decoder.blocked_streams(), 1);
    assert_eq!(drain(&mut decoder), [0x44]);
    decoder
        .feed_encoder_stream(b"\x3f\xe1\x1f\x41a\x01b")
        .unwrap();
    assert_eq!(
        decode(&mut decoder, 0, b"\x02\x00\x80"),
        Ok(owned(&[("a", "b")]))
    );
    assert_eq!(decoder.blocked_streams(), 0);
    // The acknowledgment covers the insert: no increment follows.
    assert_eq!(drain(&mut decoder), [0x80]);
}

#[test]
fn encoder_stream_rejections() {
    use QpackErrorKind::*;
    let mut decoder = QpackDecoder::new(100, 0);
    assert_eq!(
        stream_refusal(&mut decoder, b"\x3f\x46"),
        (CapacityTooLarge, 0)
    );
    // With capacity 0 nothing fits.
    assert_eq!(
        stream_refusal(&mut decoder, b"\x41a\x00"),
        (EntryTooLarge, 0)
    );
    decoder.feed_encoder_stream(b"\x3f\x45").unwrap();
    assert_eq!(decoder.capacity(), 100);
    // 32 + 10 + 59 = 101 octets: the lengths fit the early check only once Huffman-decoded.
    let mut insert = vec![0x4a];
    insert.extend_from_slice(b"custom-key");
    encode_string(&[b'a'; 59], &mut insert);
    assert_eq!(stream_refusal(&mut decoder, &insert), (EntryTooLarge, 0));
    // A static index past 98, a relative index with nothing inserted, a bad Huffman string.
    assert_eq!(
        stream_refusal(&mut decoder, b"\x3f\x45\xff\x24\x00"),
        (InvalidStaticIndex, 2)
    );
    assert_eq!(
        stream_refusal(&mut decoder, b"\x00"),
        (InvalidDynamicReference, 0)
    );
    assert_eq!(
        stream_refusal(&mut decoder, b"\x80\x00"),
        (InvalidDynamicReference, 0)
    );
    assert_eq!(
        stream_refusal(&mut decoder, b"\x41a\x81\xfe"),
        (HuffmanPadding, 3)
    );
    // Nothing was inserted by any of them.
    assert_eq!(decoder.insert_count(), 0);
}

#[test]
fn encoder_stream_fed_byte_by_byte() {
    let stream = hex(
        "3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468 \
         4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565 02",
    );
    let mut whole = QpackDecoder::new(220, 0);
    assert_eq!(whole.feed_encoder_stream(&stream), Ok(stream.len()));
    let mut piecewise = QpackDecoder::new(220, 0);
    let mut buffered = Vec::new();
    for &byte in &stream {
        buffered.push(byte);
        let used = piecewise.feed_encoder_stream(&buffered).unwrap();
        buffered.drain(..used);
    }
    assert!(buffered.is_empty());
    assert_eq!(piecewise.insert_count(), 4);
    assert_eq!(piecewise.table_size(), whole.table_size());
    let section = hex("0500 80c1 81");
    assert_eq!(
        decode(&mut piecewise, 0, &section),
        decode(&mut whole, 0, &section)
    );
}

#[test]
fn bounds_refuse_the_request_and_keep_the_connection() {
    let mut decoder = QpackDecoder::new(4096, 0);
    // One entry of 3999 octets, referenced 10,000 times (the QPACK form of the HPACK bomb).
    let mut insert = vec![0x41, b'x', 0x7f, 0xff, 29];
    insert.extend(std::iter::repeat_n(b'v', 3966));
    decoder.feed_encoder_stream(b"\x3f\xe1\x1f").unwrap();
    assert_eq!(decoder.feed_encoder_stream(&insert), Ok(insert.len()));
    let mut section = vec![0x02, 0x00];
    section.extend(std::iter::repeat_n(0x80, 10_000));
    let limits = DecodeLimits {
        max_list_size: 16 * 1024,
        max_fields: 100_000,
    };
    let mut out = DecodedFields::new();
    let error = decoder
        .decode_section(0, &section, &mut out, &limits)
        .unwrap_err();
    assert_eq!(error.kind(), QpackErrorKind::HeaderListTooLarge);
    assert!(!error.is_connection_error());
    assert_eq!(error.status(), Some(431));
    assert_eq!(error.offset(), 6);
    assert_eq!(out.len(), 4);
    // The section was processed: it is acknowledged.
    assert_eq!(drain(&mut decoder), [0x80]);
    let few = DecodeLimits {
        max_list_size: 1 << 20,
        max_fields: 2,
    };
    let error = decoder
        .decode_section(4, b"\x00\x00\xd1\xd1\xd1\xff\x24", &mut out, &few)
        .unwrap_err();
    // The bad index after the bound still closes the connection.
    assert_eq!(error.kind(), QpackErrorKind::InvalidStaticIndex);
    let error = decoder
        .decode_section(4, b"\x00\x00\xd1\xd1\xd1", &mut out, &few)
        .unwrap_err();
    assert_eq!(
        (error.kind(), error.offset()),
        (QpackErrorKind::TooManyFields, 4)
    );
}

#[test]
fn encoder_reads_the_decoder_stream() {
    let mut encoder = QpackEncoder::new();
    assert_eq!(encoder.feed_decoder_stream(b"\x44\x48\x7f"), Ok(2));
    assert_eq!(encoder.feed_decoder_stream(b""), Ok(0));
    for (bytes, kind, offset) in [
        (
            &b"\x44\x84"[..],
            QpackErrorKind::UnexpectedAcknowledgment,
            1,
        ),
        (b"\x01", QpackErrorKind::UnexpectedAcknowledgment, 0),
        (b"\x44\x00", QpackErrorKind::ZeroInsertCountIncrement, 1),
    ] {
        let error = encoder.feed_decoder_stream(bytes).unwrap_err();
        assert_eq!((error.kind(), error.offset()), (kind, offset), "{bytes:?}");
        assert_eq!(error.code(), H3ErrorCode::QpackDecoderStreamError);
    }
}

#[test]
fn encoder_uses_the_static_table() {
    let mut out = Vec::new();
    QpackEncoder::new().encode(
        [
            (&b":status"[..], &b"200"[..]),
            (b"content-type", b"image/webp"),
            (b"x-custom", b"1"),
        ],
        &mut out,
    );
    // Indexed 25; name reference 44 (4-bit prefix: 15 + 29) with a Huffman value; literal.
    assert_eq!(&out[..5], [0x00, 0x00, 0xd9, 0x5f, 0x1d]);
    let mut literal = vec![];
    encode_prefixed_string(b"x-custom", 3, 0x20, &mut literal);
    encode_string(b"1", &mut literal);
    assert!(out.ends_with(&literal));
}

/// A test encoder that uses the dynamic table, as a browser's does: every field inserted with
/// a literal name, then referenced by relative or post-base index as `post_base` says.
fn dynamic_encode(
    fields: &List,
    inserts: &mut u64,
    post_base: bool,
    stream: &mut Vec<u8>,
) -> Vec<u8> {
    let first = *inserts;
    for (name, value) in fields {
        encode_prefixed_string(name, 5, 0x40, stream);
        encode_string(value, stream);
        *inserts += 1;
    }
    let required = *inserts;
    let mut section = Vec::new();
    encode_integer(
        encode_required_insert_count(required, 4096 / 32),
        8,
        0,
        &mut section,
    );
    if post_base {
        // Base at the first insert of this section: sign 1, delta = required - first - 1.
        match (required - first).checked_sub(1) {
            Some(delta) => encode_integer(delta, 7, 0x80, &mut section),
            None => encode_integer(0u64, 7, 0, &mut section),
        }
        for index in 0..fields.len() as u64 {
            encode_integer(index, 4, 0x10, &mut section);
        }
    } else {
        encode_integer(0u64, 7, 0, &mut section);
        for index in 0..fields.len() as u64 {
            encode_integer(required - 1 - (first + index), 6, 0x80, &mut section);
        }
    }
    section
}

fn field_strategy() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let names = prop_oneof![
        Just(b":status".to_vec()),
        Just(b"content-type".to_vec()),
        Just(b"server".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    let values = prop_oneof![
        Just(b"200".to_vec()),
        Just(b"text/css".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..30),
    ];
    (names, values)
}

proptest! {
    #[test]
    fn required_insert_count_round_trips(
        inserts in 0u64..100_000,
        behind in 0u64..128,
        capacity in 32u64..8192,
    ) {
        let max_entries = capacity / 32;
        // Any count the encoder may use: within MaxEntries of the decoder's insert count.
        let count = inserts.saturating_sub(behind % max_entries.max(1));
        let encoded = encode_required_insert_count(count, max_entries);
        prop_assert_eq!(required_insert_count(encoded, max_entries, inserts), Some(count));
    }

    #[test]
    fn static_encoder_round_trips(fields in proptest::collection::vec(field_strategy(), 0..12)) {
        let mut section = Vec::new();
        QpackEncoder::new().encode(fields.iter().map(|(n, v)| (&n[..], &v[..])), &mut section);
        let mut decoder = QpackDecoder::new(0, 0);
        prop_assert_eq!(decode(&mut decoder, 0, &section), Ok(fields));
    }

    #[test]
    fn dynamic_table_round_trips(
        sections in proptest::collection::vec(proptest::collection::vec(field_strategy(), 1..6), 1..6),
        post_base in any::<bool>(),
    ) {
        let mut decoder = QpackDecoder::new(4096, 0);
        decoder.feed_encoder_stream(b"\x3f\xe1\x1f").unwrap();
        let mut inserts = 0;
        for fields in &sections {
            let size: usize = fields.iter().map(|(n, v)| n.len() + v.len() + 32).sum();
            prop_assume!(size <= 4096);
            let mut stream = Vec::new();
            let section = dynamic_encode(fields, &mut inserts, post_base, &mut stream);
            prop_assert_eq!(decoder.feed_encoder_stream(&stream), Ok(stream.len()));
            prop_assert_eq!(decode(&mut decoder, 0, &section), Ok(fields.clone()));
            prop_assert!(decoder.table_size() <= 4096);
        }
    }

    #[test]
    fn decoder_never_panics_and_stays_bounded(
        stream in proptest::collection::vec(any::<u8>(), 0..64),
        sections in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..48), 1..4),
    ) {
        let mut decoder = QpackDecoder::new(256, 2);
        let limits = DecodeLimits { max_list_size: 300, max_fields: 8 };
        let mut out = DecodedFields::new();
        if let Ok(used) = decoder.feed_encoder_stream(&stream) {
            prop_assert!(used <= stream.len());
        }
        prop_assert!(decoder.table_size() <= 256);
        for (id, section) in sections.iter().enumerate() {
            if let Err(error) = decoder.decode_section(id as u64 * 4, section, &mut out, &limits) {
                prop_assert!(error.offset() <= section.len());
            }
            prop_assert!(out.list_size() <= limits.max_list_size);
            prop_assert!(out.len() <= limits.max_fields);
            prop_assert!(decoder.blocked_streams() <= 2);
        }
    }
}
