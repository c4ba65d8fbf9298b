//! Accept-Encoding (RFC 9110 §12.5.3).

/// One codings element with its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coding<'a> {
    /// The content-coding, `identity` or `*`.
    pub name: &'a str,
    /// The qvalue times 1000 (0 to 1000).
    pub q: u16,
}

/// Parses an Accept-Encoding value.
pub fn parse_accept_encoding(input: &[u8]) -> Option<Vec<Coding<'_>>> {
    let _ = input;
    todo!()
}
