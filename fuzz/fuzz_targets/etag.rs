//! Fuzzes `parse_entity_tag` and `parse_entity_tag_list`:
//! - never a panic;
//! - an entity-tag, written with its `Display`, is exactly the bytes it was parsed from
//!   (the rule allows no whitespace around it, RFC 9110 §8.8.3) and parses to itself;
//! - a list, written back `, `-separated (RFC 9110 §5.6.1), parses to the same list.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{EntityTagList, parse_entity_tag, parse_entity_tag_list};

fuzz_target!(|input: &[u8]| {
    if let Some(tag) = parse_entity_tag(input) {
        let written = tag.to_string();
        assert_eq!(written.as_bytes(), input);
        assert_eq!(parse_entity_tag(written.as_bytes()), Some(tag));
    }
    if let Some(list) = parse_entity_tag_list(input) {
        let written = match &list {
            EntityTagList::Any => "*".to_string(),
            EntityTagList::Tags(tags) => tags
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        };
        assert_eq!(
            parse_entity_tag_list(written.as_bytes()),
            Some(list),
            "{written:?}"
        );
    }
});
