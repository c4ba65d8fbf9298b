//! The decoder and encoder together: RFC 7541 Appendix C, every representation of §6 with
//! its rejections, the bounds, and round trips.

use super::*;
use proptest::prelude::*;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

type List = Vec<(Vec<u8>, Vec<u8>)>;

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

fn decode(decoder: &mut HpackDecoder, block: &[u8]) -> Result<List, HpackError> {
    let mut out = DecodedFields::new();
    decoder
        .decode(block, &mut out, &DecodeLimits::default())
        .map(|()| list(&out))
}

/// One block of an Appendix C example: its wire in hex, its list, the table size after it.
type Step<'a> = (&'a str, &'a [(&'a str, &'a str)], usize);

/// Decodes the blocks of one Appendix C example in order, checking each list and the table
/// size after it.
fn story(table_size: usize, steps: &[Step]) {
    let mut decoder = HpackDecoder::new(4096);
    let mut out = DecodedFields::new();
    // The examples set the table size by SETTINGS; a size update says the same to a decoder.
    let mut update = Vec::new();
    integer::encode_integer(table_size as u32, 5, 0x20, &mut update);
    decoder
        .decode(&update, &mut out, &DecodeLimits::default())
        .unwrap();
    for (wire, expected, size) in steps {
        assert_eq!(
            decode(&mut decoder, &hex(wire)),
            Ok(owned(expected)),
            "{wire}"
        );
        assert_eq!(decoder.table_size(), *size, "{wire}");
    }
}

const REQUEST_1: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
];
const REQUEST_2: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "http"),
    (":path", "/"),
    (":authority", "www.example.com"),
    ("cache-control", "no-cache"),
];
const REQUEST_3: &[(&str, &str)] = &[
    (":method", "GET"),
    (":scheme", "https"),
    (":path", "/index.html"),
    (":authority", "www.example.com"),
    ("custom-key", "custom-value"),
];
const RESPONSE_1: &[(&str, &str)] = &[
    (":status", "302"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESPONSE_2: &[(&str, &str)] = &[
    (":status", "307"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
    ("location", "https://www.example.com"),
];
const RESPONSE_3: &[(&str, &str)] = &[
    (":status", "200"),
    ("cache-control", "private"),
    ("date", "Mon, 21 Oct 2013 20:13:22 GMT"),
    ("location", "https://www.example.com"),
    ("content-encoding", "gzip"),
    (
        "set-cookie",
        "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    ),
];

#[test]
fn appendix_c2_literal_representations() {
    // C.2.1: with indexing.
    let mut decoder = HpackDecoder::new(4096);
    let wire = "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572";
    let expected = owned(&[("custom-key", "custom-header")]);
    assert_eq!(decode(&mut decoder, &hex(wire)), Ok(expected));
    assert_eq!(decoder.table_size(), 55);
    // C.2.2: without indexing.
    let mut decoder = HpackDecoder::new(4096);
    let wire = "040c 2f73 616d 706c 652f 7061 7468";
    let expected = owned(&[(":path", "/sample/path")]);
    assert_eq!(decode(&mut decoder, &hex(wire)), Ok(expected));
    assert_eq!(decoder.table_size(), 0);
    // C.2.3: never indexed.
    let wire = "1008 7061 7373 776f 7264 0673 6563 7265 74";
    let mut out = DecodedFields::new();
    let limits = DecodeLimits::default();
    decoder.decode(&hex(wire), &mut out, &limits).unwrap();
    let field = out.get(0).unwrap();
    assert_eq!(
        (field.name, field.value),
        (&b"password"[..], &b"secret"[..])
    );
    assert!(field.never_indexed);
    assert_eq!(decoder.table_size(), 0);
    // C.2.4: indexed.
    assert_eq!(
        decode(&mut decoder, &hex("82")),
        Ok(owned(&[(":method", "GET")]))
    );
}

#[test]
fn appendix_c3_requests_without_huffman() {
    story(
        4096,
        &[
            ("828684410f7777772e6578616d706c652e636f6d", REQUEST_1, 57),
            ("828684be58086e6f2d6361636865", REQUEST_2, 110),
            (
                "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
                REQUEST_3,
                164,
            ),
        ],
    );
}

#[test]
fn appendix_c4_requests_with_huffman() {
    story(
        4096,
        &[
            ("828684418cf1e3c2e5f23a6ba0ab90f4ff", REQUEST_1, 57),
            ("828684be5886a8eb10649cbf", REQUEST_2, 110),
            (
                "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
                REQUEST_3,
                164,
            ),
        ],
    );
}

#[test]
fn appendix_c5_responses_without_huffman() {
    story(
        256,
        &[
            (
                "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a3133\
                 3a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
                RESPONSE_1,
                222,
            ),
            ("4803333037c1c0bf", RESPONSE_2, 222),
            (
                "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a\
                 69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d\
                 61782d6167653d333630303b2076657273696f6e3d31",
                RESPONSE_3,
                215,
            ),
        ],
    );
}

#[test]
fn appendix_c6_responses_with_huffman() {
    story(
        256,
        &[
            (
                "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d\
                 29ad171863c78f0b97c8e9ae82ae43d3",
                RESPONSE_1,
                222,
            ),
            ("4883640effc1c0bf", RESPONSE_2, 222),
            (
                "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821d\
                 d7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b106\
                 3d5007",
                RESPONSE_3,
                215,
            ),
        ],
    );
}

fn error(block: &[u8]) -> (HpackErrorKind, usize) {
    let mut decoder = HpackDecoder::new(4096);
    let err = decode(&mut decoder, block).unwrap_err();
    (err.kind(), err.offset())
}

#[test]
fn indexed_field_rejections() {
    assert_eq!(error(b"\x82\x80"), (HpackErrorKind::InvalidIndex, 1));
    // 62 is the first dynamic index: the table is empty.
    assert_eq!(error(b"\xbe"), (HpackErrorKind::InvalidIndex, 0));
    assert_eq!(error(b"\xff"), (HpackErrorKind::Truncated, 0));
    assert_eq!(
        error(b"\xff\xff\xff\xff\xff\xff\x01"),
        (HpackErrorKind::IntegerOverflow, 0)
    );
}

#[test]
fn literal_field_rejections() {
    // Name index 62, empty dynamic table.
    assert_eq!(error(b"\x7e\x00"), (HpackErrorKind::InvalidIndex, 0));
    // Truncated: in the name index, the name, the value length, the value.
    assert_eq!(error(b"\x0f"), (HpackErrorKind::Truncated, 0));
    assert_eq!(error(b"\x40\x03ab"), (HpackErrorKind::Truncated, 0));
    assert_eq!(error(b"\x82\x44"), (HpackErrorKind::Truncated, 1));
    assert_eq!(error(b"\x44\x05abc"), (HpackErrorKind::Truncated, 0));
    // Bad Huffman in a name and in a value, at the octet that breaks it.
    assert_eq!(
        error(b"\x40\x81\xfe\x00"),
        (HpackErrorKind::HuffmanPadding, 2)
    );
    assert_eq!(
        error(b"\x00\x01a\x81\xff"),
        (HpackErrorKind::HuffmanPadding, 4)
    );
    assert_eq!(
        error(b"\x00\x01a\x84\xff\xff\xff\xff"),
        (HpackErrorKind::HuffmanEos, 7)
    );
}

#[test]
fn size_updates() {
    let mut decoder = HpackDecoder::new(4096);
    assert_eq!(
        decode(&mut decoder, b"\x3f\xe1\x1f\x20\x82"),
        Ok(owned(&[(":method", "GET")]))
    );
    assert_eq!(decoder.max_table_size(), 0);
    assert_eq!(decode(&mut decoder, b"\x3f\xe1\x1f"), Ok(Vec::new()));
    assert_eq!(decoder.max_table_size(), 4096);
    // Above the size we advertised.
    assert_eq!(
        error(b"\x3f\xe2\x1f"),
        (HpackErrorKind::TableSizeTooLarge, 0)
    );
    // After a field.
    assert_eq!(error(b"\x82\x20"), (HpackErrorKind::LateTableSizeUpdate, 1));
    assert_eq!(error(b"\x3f"), (HpackErrorKind::Truncated, 0));
}

#[test]
fn a_smaller_table_evicts() {
    let mut decoder = HpackDecoder::new(4096);
    decode(&mut decoder, b"\x40\x01a\x01b\x40\x01c\x01d").unwrap();
    assert_eq!(decoder.table_size(), 68);
    decode(&mut decoder, b"\x3f\x03").unwrap();
    assert_eq!(decoder.table_size(), 34);
    assert_eq!(decode(&mut decoder, b"\xbe"), Ok(owned(&[("c", "d")])));
    assert_eq!(error(b"\xbf"), (HpackErrorKind::InvalidIndex, 0));
}

#[test]
fn a_refused_block_still_updates_the_table() {
    let mut decoder = HpackDecoder::new(4096);
    let limits = DecodeLimits {
        max_list_size: 4096,
        max_fields: 2,
    };
    let mut out = DecodedFields::new();
    // Three fields, the third inserted: refused at the third, but inserted all the same.
    let block = b"\x82\x84\x40\x01k\x01v";
    let err = decoder.decode(block, &mut out, &limits).unwrap_err();
    assert_eq!(
        (err.kind(), err.offset()),
        (HpackErrorKind::TooManyFields, 2)
    );
    assert_eq!(out.len(), 2);
    assert_eq!(decode(&mut decoder, b"\xbe"), Ok(owned(&[("k", "v")])));
    // A compression error after the bound wins.
    let err = decoder
        .decode(b"\x82\x84\x82\x80", &mut out, &limits)
        .unwrap_err();
    assert_eq!(err.kind(), HpackErrorKind::InvalidIndex);
}

#[test]
fn out_is_reused() {
    let mut decoder = HpackDecoder::new(4096);
    let mut out = DecodedFields::new();
    let limits = DecodeLimits::default();
    decoder.decode(b"\x82\x84", &mut out, &limits).unwrap();
    decoder.decode(b"\x83", &mut out, &limits).unwrap();
    assert_eq!(list(&out), owned(&[(":method", "POST")]));
    assert_eq!(out.list_size(), 7 + 4 + 32);
}

#[test]
fn encodes_status_from_the_static_table() {
    let mut encoder = HpackEncoder::new();
    let mut out = Vec::new();
    for (code, octet) in [("200", 0x88), ("204", 0x89), ("206", 0x8a), ("304", 0x8b)] {
        out.clear();
        encoder.encode([(&b":status"[..], code.as_bytes())], &mut out);
        assert_eq!(out, [octet]);
    }
    for (code, octet) in [("400", 0x8c), ("404", 0x8d), ("500", 0x8e)] {
        out.clear();
        encoder.encode([(&b":status"[..], code.as_bytes())], &mut out);
        assert_eq!(out, [octet]);
    }
    out.clear();
    encoder.encode([(&b":status"[..], &b"301"[..])], &mut out);
    // "301" is two octets Huffman-encoded, one fewer than raw.
    assert_eq!(out, [0x08, 0x82, 0x64, 0x01]);
}

#[test]
fn repeated_fields_cost_one_octet_the_second_time() {
    let fields: &[(&[u8], &[u8])] = &[
        (b":status", b"200"),
        (b"server", b"nomserve"),
        (b"content-type", b"text/html; charset=utf-8"),
        (b"cache-control", b"max-age=3600"),
        (b"vary", b"accept-encoding"),
        (b"accept-ranges", b"bytes"),
        (b"content-length", b"1234"),
        (b"etag", b"\"abc-123\""),
        (b"date", b"Mon, 07 Dec 2026 03:50:00 GMT"),
    ];
    let mut encoder = HpackEncoder::new();
    let mut decoder = HpackDecoder::new(4096);
    let mut first = Vec::new();
    encoder.encode(fields.iter().copied(), &mut first);
    let mut second = Vec::new();
    encoder.encode(fields.iter().copied(), &mut second);
    let mut third = Vec::new();
    encoder.encode(fields.iter().copied(), &mut third);
    // :status and the five repeated fields are one octet each the second time; etag and
    // date too the third (they are inserted the second, when they come again);
    // content-length is a literal (static name 28, without indexing) each time.
    assert_eq!(&second[..6], [0x88, 0xc2, 0xc1, 0xc0, 0xbf, 0xbe]);
    assert_eq!(&third[..7], [0x88, 0xc4, 0xc3, 0xc2, 0xc1, 0xc0, 0x0f]);
    assert_eq!(&third[third.len() - 2..], [0xbf, 0xbe]);
    for block in [&first, &second, &third] {
        let expected: List = fields
            .iter()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        assert_eq!(decode(&mut decoder, block), Ok(expected));
    }
}

#[test]
fn a_long_repeated_field_is_not_indexed() {
    let mut encoder = HpackEncoder::new();
    let long = vec![b'a'; 1000];
    let mut out = Vec::new();
    encoder.encode([(&b"server"[..], &b"nomserve"[..])], &mut out);
    encoder.encode([(&b"content-security-policy"[..], &long[..])], &mut out);
    out.clear();
    encoder.encode([(&b"server"[..], &b"nomserve"[..])], &mut out);
    // server is still the newest entry: the long field went without indexing.
    assert_eq!(out, [0xbe]);
}

#[test]
fn a_peer_table_size_is_announced_at_the_next_block() {
    let mut encoder = HpackEncoder::new();
    let mut decoder = HpackDecoder::new(4096);
    let field: [(&[u8], &[u8]); 1] = [(b"server", b"nomserve")];
    let mut out = Vec::new();
    encoder.encode(field, &mut out);
    decode(&mut decoder, &out).unwrap();
    encoder.set_peer_table_size(0);
    encoder.set_peer_table_size(200);
    out.clear();
    encoder.encode(field, &mut out);
    // 0, then 200 (31 + 169), then the field inserted again.
    assert_eq!(&out[..4], [0x20, 0x3f, 0x80 | (169 & 0x7f), 169 >> 7]);
    assert_eq!(
        decode(&mut decoder, &out),
        Ok(owned(&[("server", "nomserve")]))
    );
    assert_eq!(decoder.max_table_size(), 200);
    assert_eq!(decoder.table_size(), 46);
}

fn field_strategy() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let names = prop_oneof![
        Just(b"server".to_vec()),
        Just(b"content-type".to_vec()),
        Just(b":status".to_vec()),
        Just(b"date".to_vec()),
        Just(b"etag".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..20),
    ];
    let values = prop_oneof![
        Just(b"200".to_vec()),
        Just(b"nomserve".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..40),
    ];
    (names, values)
}

proptest! {
    #[test]
    fn encoder_then_decoder_round_trips(
        blocks in proptest::collection::vec(proptest::collection::vec(field_strategy(), 0..12), 1..6),
        sizes in proptest::collection::vec(proptest::option::of(0usize..5000), 6),
    ) {
        let mut encoder = HpackEncoder::new();
        let mut decoder = HpackDecoder::new(4096);
        for (fields, size) in blocks.iter().zip(&sizes) {
            if let Some(size) = size {
                encoder.set_peer_table_size(*size);
            }
            let mut block = Vec::new();
            encoder.encode(fields.iter().map(|(n, v)| (&n[..], &v[..])), &mut block);
            prop_assert_eq!(decode(&mut decoder, &block), Ok(fields.clone()));
            prop_assert!(decoder.table_size() <= decoder.max_table_size());
        }
    }

    #[test]
    fn decoder_never_panics_and_stays_bounded(
        blocks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..4),
    ) {
        let mut decoder = HpackDecoder::new(256);
        let limits = DecodeLimits { max_list_size: 300, max_fields: 8 };
        let mut out = DecodedFields::new();
        for block in &blocks {
            if let Err(err) = decoder.decode(block, &mut out, &limits) {
                prop_assert!(err.offset() <= block.len());
            }
            prop_assert!(out.list_size() <= limits.max_list_size);
            prop_assert!(out.len() <= limits.max_fields);
            prop_assert!(decoder.table_size() <= 256);
        }
    }
}

/// The octets of one field encoded by `encoder`.
fn one(encoder: &mut HpackEncoder, name: &[u8], value: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encoder.encode([(name, value)], &mut out);
    out
}

/// How a field went: inserted ('i', a literal with incremental indexing, §6.2.1, its name
/// static index `name_index`), indexed ('x', one octet) or a literal without indexing ('l',
/// §6.2.2).
fn went(block: &[u8], name_index: u8) -> char {
    if block.len() == 1 && block[0] & 0x80 != 0 {
        'x'
    } else if block[0] == 0x40 | name_index {
        'i'
    } else {
        // A static name index past a 4-bit prefix: 15, then the rest (§5.1).
        assert_eq!(block[..2], [0x0f, name_index - 15]);
        'l'
    }
}

/// Encodes `name` with each value of `story` in turn on one connection, checking how each
/// went (see [`went`]; `name_index` its static index) and that it decodes to itself.
fn play(name: &[u8], name_index: u8, story: &[(&[u8], char)]) {
    let mut encoder = HpackEncoder::new();
    let mut decoder = HpackDecoder::new(4096);
    for (step, &(value, how)) in story.iter().enumerate() {
        let block = one(&mut encoder, name, value);
        assert_eq!(went(&block, name_index), how, "step {step}");
        assert_eq!(
            decode(&mut decoder, &block),
            Ok(vec![(name.to_vec(), value.to_vec())]),
            "step {step}"
        );
    }
}

#[test]
fn date_is_inserted_at_its_second_use_and_indexed_after() {
    let first = &b"Mon, 07 Dec 2026 16:40:00 GMT"[..];
    let next = &b"Mon, 07 Dec 2026 16:40:01 GMT"[..];
    play(
        b"date",
        33,
        &[
            (first, 'l'),
            (first, 'i'),
            (first, 'x'),
            (first, 'x'),
            (next, 'l'),
            (next, 'i'),
            (next, 'x'),
        ],
    );
}

#[test]
fn a_file_field_is_inserted_only_when_its_value_comes_again() {
    let (a, b, c) = (&b"\"a\""[..], &b"\"b\""[..], &b"\"c\""[..]);
    play(
        b"etag",
        34,
        &[
            (a, 'l'), // the first: no sign yet that it comes again
            (a, 'i'), // it did: inserted
            (a, 'x'),
            (b, 'l'), // a client walking through files: literals only
            (c, 'l'),
            (c, 'i'),
            (c, 'x'),
            (a, 'l'), // a's entry is not the newest any more
            (a, 'i'),
        ],
    );
}

#[test]
fn one_response_puts_no_changing_field_in_the_table() {
    let mut encoder = HpackEncoder::new();
    let mut decoder = HpackDecoder::new(4096);
    let fields: [(&[u8], &[u8]); 3] = [
        (b"date", b"Mon, 07 Dec 2026 16:40:00 GMT"),
        (b"etag", b"\"11-18eef3d2a4793f28\""),
        (b"last-modified", b"Mon, 07 Dec 2026 11:03:07 GMT"),
    ];
    let mut block = Vec::new();
    encoder.encode(fields, &mut block);
    assert!(decode(&mut decoder, &block).is_ok());
    assert_eq!(decoder.table_size(), 0);
}

#[test]
fn changing_fields_go_without_indexing_when_the_table_has_no_room() {
    let mut encoder = HpackEncoder::new();
    encoder.set_peer_table_size(0);
    let mut out = Vec::new();
    encoder.begin(&mut out);
    let date = b"Mon, 07 Dec 2026 16:40:00 GMT";
    for _ in 0..2 {
        let mut block = Vec::new();
        assert!(!encoder.known_field(FieldToken::DATE, b"date", date, &mut block));
        assert!(block.is_empty());
        let mut unindexed = Vec::new();
        encode_unindexed(b"date", date, &mut unindexed);
        assert_eq!(one(&mut encoder, b"date", date), unindexed);
    }
}
