//! Helpers the fuzz targets share: writing a parsed request back to the wire.

#![forbid(unsafe_code)]

use nomserve_grammar::Request;

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
        request.target,
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
