//! Helpers the fuzz targets share: writing a parsed request back to the wire.

#![forbid(unsafe_code)]

use nomserve_grammar::{Request, RequestTarget};

/// The request-target written back from its parts, as RFC 9112 §3.2 spells each form.
///
/// Contract: re-parsing the text gives the same `RequestTarget`. It equals the bytes received
/// except for an absolute-form with an empty path, which the parser reports as `/`
/// (RFC 9112 §3.2.1) and which is written back with the `/`.
pub fn target_text(target: &RequestTarget<'_>) -> String {
    let query = |q: Option<&str>| q.map(|q| format!("?{q}")).unwrap_or_default();
    match target {
        RequestTarget::Origin { path, query: q } => format!("{path}{}", query(*q)),
        RequestTarget::Absolute {
            scheme,
            authority,
            path,
            query: q,
        } => format!("{scheme}://{authority}{path}{}", query(*q)),
        RequestTarget::Authority(authority) => (*authority).to_string(),
        RequestTarget::Asterisk => "*".to_string(),
    }
}

/// The request head written back in the canonical form of RFC 9112 §2.1:
/// `request-line *( field-line CRLF ) CRLF`, one SP between the request-line's parts and
/// `name: value` for each field, in the order received.
///
/// Contract: re-parsing the bytes gives a `Request` equal to `request`.
pub fn serialise(request: &Request<'_, '_>) -> Vec<u8> {
    let version = request.version;
    let mut out = format!(
        "{} {} HTTP/{}.{}\r\n",
        request.method.as_str(),
        target_text(&request.target),
        version.major,
        version.minor
    )
    .into_bytes();
    for field in request.headers.iter() {
        out.extend_from_slice(field.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(field.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}
