//! HPACK against an independent implementation (`loona-hpack`):
//! - the hpack-test-case stories in `tests/hpack-test-case/` (eight encoders' blocks, Huffman
//!   and raw, with table size changes) decode with nomserve's decoder to the lists they
//!   record, and so do the same lists re-encoded by nomserve's encoder and decoded by
//!   loona-hpack, and so do the lists encoded by loona-hpack and decoded by us;
//! - generated header lists: loona-hpack's encoder → nomserve's decoder, and nomserve's
//!   encoder → loona-hpack's decoder, give back the list, block after block on one context.

use nomserve_grammar::{DecodeLimits, DecodedFields, HpackDecoder, HpackEncoder};
use proptest::prelude::*;
use std::path::Path;

type List = Vec<(Vec<u8>, Vec<u8>)>;

/// Limits large enough for any story: the differential checks decoding, not the bounds.
const LIMITS: DecodeLimits = DecodeLimits {
    max_list_size: 1 << 20,
    max_fields: 1000,
};

/// One block of a story: the table size in force, its wire, its list.
struct Case {
    table_size: Option<usize>,
    wire: Vec<u8>,
    headers: List,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn read_story(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).expect("story");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let cases = json["cases"].as_array().expect("cases");
    cases
        .iter()
        .map(|case| Case {
            table_size: case["header_table_size"].as_u64().map(|n| n as usize),
            wire: hex(case["wire"].as_str().expect("wire")),
            headers: case["headers"]
                .as_array()
                .expect("headers")
                .iter()
                .flat_map(|h| h.as_object().expect("header").iter())
                .map(|(n, v)| {
                    let v = v.as_str().expect("value");
                    (n.as_bytes().to_vec(), v.as_bytes().to_vec())
                })
                .collect(),
        })
        .collect()
}

fn stories() -> Vec<(String, Vec<Case>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hpack-test-case");
    let mut stories = Vec::new();
    for dir in std::fs::read_dir(&root).expect("vectors") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&dir).expect("dir") {
            let file = file.expect("entry").path();
            stories.push((file.display().to_string(), read_story(&file)));
        }
    }
    stories.sort_by(|a, b| a.0.cmp(&b.0));
    stories
}

fn decode_ours(decoder: &mut HpackDecoder, block: &[u8]) -> List {
    let mut out = DecodedFields::new();
    match decoder.decode(block, &mut out, &LIMITS) {
        Ok(()) => out
            .iter()
            .map(|f| (f.name.to_vec(), f.value.to_vec()))
            .collect(),
        Err(error) => panic!("{error} in {block:02x?}"),
    }
}

fn as_slices(list: &List) -> impl Iterator<Item = (&[u8], &[u8])> {
    list.iter().map(|(n, v)| (&n[..], &v[..]))
}

#[test]
fn hpack_test_case_stories_decode_to_their_lists() {
    let stories = stories();
    assert_eq!(stories.len(), 32);
    let mut blocks = 0;
    for (name, cases) in &stories {
        // The decoder bound is the largest size the story's peer was allowed.
        let advertised = cases.iter().filter_map(|c| c.table_size).max();
        let mut decoder = HpackDecoder::new(advertised.unwrap_or(4096).max(4096));
        for (seqno, case) in cases.iter().enumerate() {
            let list = decode_ours(&mut decoder, &case.wire);
            assert_eq!(list, case.headers, "{name} case {seqno}");
            blocks += 1;
        }
    }
    assert_eq!(blocks, 384);
}

#[test]
fn story_lists_reencoded_by_us_decode_in_loona_hpack() {
    for (name, cases) in stories() {
        let mut encoder = HpackEncoder::new();
        let mut theirs = loona_hpack::Decoder::new();
        for (seqno, case) in cases.iter().enumerate() {
            let mut block = Vec::new();
            encoder.encode(as_slices(&case.headers), &mut block);
            let list = theirs
                .decode(&block)
                .expect("loona-hpack decodes our block");
            assert_eq!(list, case.headers, "{name} case {seqno}");
        }
    }
}

#[test]
fn story_lists_encoded_by_loona_hpack_decode_in_ours() {
    for (name, cases) in stories() {
        let mut theirs = loona_hpack::Encoder::new();
        let mut decoder = HpackDecoder::new(4096);
        for (seqno, case) in cases.iter().enumerate() {
            let block = theirs.encode(as_slices(&case.headers));
            let list = decode_ours(&mut decoder, &block);
            assert_eq!(list, case.headers, "{name} case {seqno}");
        }
    }
}

fn field() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    let names = prop_oneof![
        Just(b":status".to_vec()),
        Just(b"server".to_vec()),
        Just(b"content-type".to_vec()),
        Just(b"cache-control".to_vec()),
        Just(b"content-length".to_vec()),
        Just(b"x-custom".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..24),
    ];
    let values = prop_oneof![
        Just(b"200".to_vec()),
        Just(b"404".to_vec()),
        Just(b"text/html".to_vec()),
        "[ -~]{0,40}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..60),
    ];
    (names, values)
}

/// Lists of one field or more: a block of ours always has `:status`, and loona-hpack refuses
/// a block that holds only a size update, which an empty list with a pending update would be.
fn blocks() -> impl Strategy<Value = Vec<List>> {
    proptest::collection::vec(proptest::collection::vec(field(), 1..16), 1..8)
}

proptest! {
    #[test]
    fn loona_hpack_encoder_to_our_decoder(blocks in blocks()) {
        let mut theirs = loona_hpack::Encoder::new();
        let mut decoder = HpackDecoder::new(4096);
        for list in &blocks {
            let block = theirs.encode(as_slices(list));
            prop_assert_eq!(&decode_ours(&mut decoder, &block), list);
        }
    }

    #[test]
    fn our_encoder_to_loona_hpack_decoder(blocks in blocks(), shrink in 0usize..4096) {
        let mut encoder = HpackEncoder::new();
        let mut theirs = loona_hpack::Decoder::new();
        for (i, list) in blocks.iter().enumerate() {
            if i == 2 {
                encoder.set_peer_table_size(shrink);
            }
            let mut block = Vec::new();
            encoder.encode(as_slices(list), &mut block);
            let decoded = theirs.decode(&block);
            prop_assert_eq!(decoded.as_ref(), Ok(list), "block {:02x?}", block);
        }
    }
}
