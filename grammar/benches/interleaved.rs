//! Request-head parsing, nomserve against httparse, measured in alternation.
//!
//! `cargo bench -p nomserve-grammar --bench interleaved`
//!
//! The criterion bench (`parse.rs`) measures all of one parser before the other, so on a
//! shared machine whose speed drifts over seconds, a slow spell lands on one side of the ratio.
//! Here the two parsers take turns in bursts of a few milliseconds, many times over, and each
//! keeps its fastest burst: both are measured under the same conditions, and a slow spell
//! costs both the same burst. The output is one line per corpus:
//! `<corpus> nomserve <ns> httparse <ns> ratio <httparse / nomserve>`.

use nomserve_grammar::{Header, Limits, Parsed, parse_request};
use std::hint::black_box;
use std::time::Instant;

#[path = "../tests/corpus/mod.rs"]
mod corpus;

/// Parses per burst: a few milliseconds of work, short next to the machine's slow spells.
const BURST: u32 = 20_000;
/// Bursts per parser and corpus.
const TURNS: u32 = 40;

/// Nanoseconds per parse over one burst of nomserve's parser.
fn nomserve(head: &[u8]) -> f64 {
    let limits = Limits::default();
    let mut headers = [Header::EMPTY; 32];
    let start = Instant::now();
    for _ in 0..BURST {
        let parsed = parse_request(black_box(head), &mut headers, &limits);
        assert!(matches!(parsed, Ok(Parsed::Complete { consumed, .. }) if consumed == head.len()));
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(BURST)
}

/// Nanoseconds per parse over one burst of httparse.
fn httparse(head: &[u8]) -> f64 {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let start = Instant::now();
    for _ in 0..BURST {
        let mut request = httparse::Request::new(&mut headers);
        let parsed = request.parse(black_box(head));
        assert_eq!(parsed, Ok(httparse::Status::Complete(head.len())));
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(BURST)
}

fn main() {
    for (name, head) in corpus::ALL {
        nomserve(head);
        httparse(head);
        let (mut ours, mut theirs) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..TURNS {
            ours = ours.min(nomserve(head));
            theirs = theirs.min(httparse(head));
        }
        println!(
            "{name} nomserve {ours:.1} httparse {theirs:.1} ratio {:.2}",
            theirs / ours
        );
    }
}
