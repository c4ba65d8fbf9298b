//! Fuzzes `parse_forwarded`:
//! - never a panic;
//! - a value that parses has at least one element, and parses the same with a second copy of
//!   itself appended as another list element, plus the elements of the copy
//!   (RFC 9110 §5.3: field lines combine into one comma-separated list).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::parse_forwarded;

fuzz_target!(|input: &[u8]| {
    if let Some(elements) = parse_forwarded(input) {
        assert!(!elements.is_empty());
        let mut twice = input.to_vec();
        twice.extend_from_slice(b", ");
        twice.extend_from_slice(input);
        let doubled = parse_forwarded(&twice).expect("a list of two valid lists is valid");
        assert_eq!(doubled.len(), 2 * elements.len());
        assert_eq!(&doubled[..elements.len()], &elements[..]);
    }
});
