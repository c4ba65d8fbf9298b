//! Paths: percent-decoding and dot-segment removal.

use crate::Error;
use std::borrow::Cow;

/// A decoded path, safe to join under a root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPath<'a> {
    /// The segments; none is empty, `.`, `..`, or holds `/`, `\` or NUL.
    pub segments: Vec<Cow<'a, [u8]>>,
    /// Whether the path ended with `/`.
    pub trailing_slash: bool,
}

/// Decodes an absolute path.
pub fn decode_path(path: &str) -> Result<DecodedPath<'_>, Error> {
    let _ = path;
    todo!()
}
