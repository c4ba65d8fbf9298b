//! Entity-tags (RFC 9110 §8.8.3).

/// An entity-tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityTag<'a> {
    /// `W/` prefix present.
    pub weak: bool,
    /// The opaque-tag without its quotes.
    pub tag: &'a str,
}

/// An If-Match / If-None-Match value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityTagList<'a> {
    /// `*`
    Any,
    /// `#entity-tag`
    Tags(Vec<EntityTag<'a>>),
}

/// Parses one entity-tag.
pub fn parse_entity_tag(input: &[u8]) -> Option<EntityTag<'_>> {
    let _ = input;
    todo!()
}

/// Parses an If-Match / If-None-Match value.
pub fn parse_entity_tag_list(input: &[u8]) -> Option<EntityTagList<'_>> {
    let _ = input;
    todo!()
}
