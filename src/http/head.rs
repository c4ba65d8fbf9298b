//! A request's head as the handlers and the access log see it. HTTP/1.1 has it as received;
//! HTTP/2 and HTTP/3 have a decoded header list, from which an HTTP/1.1-style head is made
//! only when something reads it (`/echo`, the access log's request-line, a debug log), so
//! that a request nothing reads the head of costs no copy of it.

use nomserve_grammar::DecodedFields;
use std::borrow::Cow;

/// A request's head.
#[derive(Debug, Clone, Copy)]
pub enum RequestHead<'a> {
    /// The bytes received: request-line, field lines and the empty line (HTTP/1.1).
    Raw(&'a [u8]),
    /// A decoded header list (HTTP/2, HTTP/3) and the protocol its head names (`HTTP/2.0`,
    /// `HTTP/3.0`).
    Fields(&'a DecodedFields, &'static [u8]),
}

impl<'a> RequestHead<'a> {
    /// The head as bytes: as received, or `method SP path SP version` CRLF, the regular
    /// fields, CRLF.
    pub fn bytes(&self) -> Cow<'a, [u8]> {
        match *self {
            RequestHead::Raw(bytes) => Cow::Borrowed(bytes),
            RequestHead::Fields(fields, version) => {
                let mut head = Vec::with_capacity(256);
                request_line(fields, version, &mut head);
                head.extend_from_slice(b"\r\n");
                for field in fields.iter().filter(|field| !field.name.starts_with(b":")) {
                    head.extend_from_slice(field.name);
                    head.extend_from_slice(b": ");
                    head.extend_from_slice(field.value);
                    head.extend_from_slice(b"\r\n");
                }
                head.extend_from_slice(b"\r\n");
                Cow::Owned(head)
            }
        }
    }

    /// The request-line, without its line ending.
    pub fn request_line(&self) -> Cow<'a, [u8]> {
        match *self {
            RequestHead::Raw(bytes) => {
                let end = memchr::memchr(b'\r', bytes).unwrap_or(bytes.len());
                Cow::Borrowed(&bytes[..end])
            }
            RequestHead::Fields(fields, version) => {
                let mut line = Vec::with_capacity(64);
                request_line(fields, version, &mut line);
                Cow::Owned(line)
            }
        }
    }
}

/// Appends `method SP path SP version`, from the pseudo-header fields of `fields`.
fn request_line(fields: &DecodedFields, version: &[u8], out: &mut Vec<u8>) {
    let pseudo = |name: &[u8]| {
        fields
            .iter()
            .find(|field| field.name == name)
            .map_or(&b""[..], |field| field.value)
    };
    out.extend_from_slice(pseudo(b":method"));
    out.push(b' ');
    out.extend_from_slice(pseudo(b":path"));
    out.push(b' ');
    out.extend_from_slice(version);
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::{DecodeLimits, HpackDecoder, HpackEncoder};

    fn decoded(list: &[(&[u8], &[u8])]) -> DecodedFields {
        let mut block = Vec::new();
        HpackEncoder::new().encode(list.iter().copied(), &mut block);
        let mut fields = DecodedFields::new();
        HpackDecoder::new(4096)
            .decode(&block, &mut fields, &DecodeLimits::default())
            .unwrap();
        fields
    }

    #[test]
    fn a_decoded_list_reads_as_an_http11_style_head() {
        let fields = decoded(&[
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":authority", b"example.com"),
            (b":path", b"/echo?a=1"),
            (b"accept", b"*/*"),
            (b"cookie", b"a=b"),
        ]);
        let head = RequestHead::Fields(&fields, b"HTTP/2.0");
        assert_eq!(
            head.bytes().as_ref(),
            b"GET /echo?a=1 HTTP/2.0\r\naccept: */*\r\ncookie: a=b\r\n\r\n"
        );
        assert_eq!(head.request_line().as_ref(), b"GET /echo?a=1 HTTP/2.0");
    }

    #[test]
    fn a_raw_head_is_itself() {
        let raw = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
        let head = RequestHead::Raw(raw);
        assert!(matches!(head.bytes(), Cow::Borrowed(bytes) if bytes == raw));
        assert_eq!(head.request_line().as_ref(), b"GET / HTTP/1.1");
        assert_eq!(RequestHead::Raw(b"GET /").request_line().as_ref(), b"GET /");
    }
}
