//! Fuzzes `parse_accept_encoding`: never a panic, every weight is at most 1000 (q ≤ 1,
//! RFC 9110 §12.4.2), and the codings written back (`name;q=0.xyz`, `, `-separated) parse
//! to the same list. `Coding::weight` answers within 0..=1000 for every name in the list.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{Coding, parse_accept_encoding};

/// `weight = OWS ";" OWS "q=" qvalue` with the qvalue in its shortest exact form
/// (RFC 9110 §12.4.2).
fn write(codings: &[Coding<'_>]) -> String {
    codings
        .iter()
        .map(|c| match c.q {
            1000 => format!("{};q=1", c.name),
            q => format!("{};q=0.{q:03}", c.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fuzz_target!(|input: &[u8]| {
    let Some(codings) = parse_accept_encoding(input) else {
        return;
    };
    for coding in &codings {
        assert!(coding.q <= 1000, "{coding:?}");
        assert!(Coding::weight(&codings, coding.name) <= 1000);
    }
    let written = write(&codings);
    assert_eq!(
        parse_accept_encoding(written.as_bytes()),
        Some(codings),
        "{written:?}"
    );
});
