//! Request-head parsing throughput, nomserve against httparse, on named real requests.
//!
//! `cargo bench -p nomserve-grammar --bench parse -- --warm-up-time 1 --measurement-time 3`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use nomserve_grammar::{Header, Limits, Parsed, parse_request};
use std::hint::black_box;

#[path = "../tests/corpus/mod.rs"]
mod corpus;

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_request");
    let limits = Limits::default();
    for (name, head) in corpus::ALL {
        group.throughput(Throughput::Bytes(head.len() as u64));
        group.bench_with_input(BenchmarkId::new("nomserve", name), head, |b, head| {
            let mut headers = [Header::EMPTY; 32];
            b.iter(|| {
                let parsed = parse_request(black_box(head), &mut headers, &limits);
                assert!(matches!(parsed, Ok(Parsed::Complete { consumed, .. }) if consumed == head.len()));
            });
        });
        group.bench_with_input(BenchmarkId::new("httparse", name), head, |b, head| {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            b.iter(|| {
                let mut request = httparse::Request::new(&mut headers);
                let parsed = request.parse(black_box(head));
                assert_eq!(parsed, Ok(httparse::Status::Complete(head.len())));
            });
        });
    }
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
