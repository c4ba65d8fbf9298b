//! The request head (RFC 9112 §2, §3, §5, §6).

use crate::{Error, Header, Limits, Parsed, Request};

/// Parses a request head.
pub fn parse_request<'b, 'h>(
    buf: &'b [u8],
    headers: &'h mut [Header<'b>],
    limits: &Limits,
) -> Result<Parsed<Request<'b, 'h>>, Error> {
    let _ = (buf, headers, limits);
    todo!()
}
