//! A response's fields as HTTP/2 and HTTP/3 send them: names lowercase (RFC 9113 §8.2.1,
//! RFC 9114 §4.2), without the connection-specific fields both protocols forbid (RFC 9113
//! §8.2.2, RFC 9114 §4.2) or those the connection sets itself; and the storage a decoded
//! request's fields are mapped into.

use crate::http::response::{Response, left_out_of_h2};
use nomserve_grammar::{FieldToken, Header, Limits};

/// The longest field name lowercased on the stack; a longer one (rare) is lowercased into an
/// allocation.
const NAME_ON_STACK: usize = 64;

/// Calls `each` with every field a handler set on `response`, in order (its `headers`, then
/// the lines of its preformatted `fields`): the HPACK encoder's token of the name (found
/// when the fields were prepared, for the preformatted ones), the name trimmed and
/// lowercased, the value trimmed. Left out: the connection-specific fields (Connection,
/// Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade), the fields the connection
/// sets itself (Content-Length, Date, Server), and a line without a name.
pub fn handler_fields<'r>(
    response: &'r Response,
    mut each: impl FnMut(FieldToken, &[u8], &'r [u8]),
) {
    for (name, value) in &response.headers {
        field(name.as_bytes(), value.as_bytes(), &mut each);
    }
    if let Some(prebuilt) = &response.fields {
        for (token, name, value) in prebuilt.fields() {
            each(token, name, value);
        }
    }
}

/// Lowercases `name` and calls `each` unless the field is left out (see [`handler_fields`]).
fn field<'r>(name: &[u8], value: &'r [u8], each: &mut impl FnMut(FieldToken, &[u8], &'r [u8])) {
    let name = name.trim_ascii();
    if let Some(lower) = usual_spelling(name) {
        each(FieldToken::of(lower), lower, value);
        return;
    }
    let mut stack = [0u8; NAME_ON_STACK];
    let mut heap = Vec::new();
    let lower = match stack.get_mut(..name.len()) {
        Some(lower) => lower,
        None => {
            heap.extend_from_slice(name);
            &mut heap[..]
        }
    };
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    if !left_out_of_h2(lower) {
        each(FieldToken::of(lower), lower, value);
    }
}

/// The lowercase of `name` when it is one of the names the handlers send, spelled as they
/// spell it (the file handler's `ETag`, `Last-Modified`, `Content-Type`...), none of them
/// left out. Those make nearly every field of a response, and a match on their length and
/// octets costs about 30 instructions a field where the copy and lowercasing of any other
/// name take 145 (callgrind).
fn usual_spelling(name: &[u8]) -> Option<&'static [u8]> {
    let lower: &[u8] = match name.len() {
        4 => match name {
            b"ETag" => b"etag",
            b"Vary" => b"vary",
            _ => return None,
        },
        5 if name == b"Allow" => b"allow",
        8 if name == b"Location" => b"location",
        12 if name == b"Content-Type" => b"content-type",
        13 => match name {
            b"Last-Modified" => b"last-modified",
            b"Accept-Ranges" => b"accept-ranges",
            b"Cache-Control" => b"cache-control",
            b"Content-Range" => b"content-range",
            _ => return None,
        },
        16 if name == b"Content-Encoding" => b"content-encoding",
        22 if name == b"X-Content-Type-Options" => b"x-content-type-options",
        _ => return None,
    };
    Some(lower)
}

/// Header storage for a request mapped from a decoded list (HTTP/2, HTTP/3): most requests
/// have a few fields, and 16 slots cost less to set up than the grammar's bound of 100; a
/// request with more gets the full storage.
pub struct HeaderStorage<'b> {
    few: [Header<'b>; FEW_HEADERS],
    all: Option<[Header<'b>; MAX_HEADERS]>,
}

/// The fields most requests stay within.
const FEW_HEADERS: usize = 16;

/// The grammar's field-count bound.
const MAX_HEADERS: usize = Limits::DEFAULT_MAX_HEADERS;

impl<'b> HeaderStorage<'b> {
    /// Storage, not yet set up for its full size.
    pub fn new() -> Self {
        HeaderStorage {
            // Filled slot by slot in place: an array expression of this size is copied
            // from a constant with a call to memcpy.
            few: std::array::from_fn(|_| Header::EMPTY),
            all: None,
        }
    }

    /// Room for the regular fields of a list of `count` fields.
    pub fn for_fields(&mut self, count: usize) -> &mut [Header<'b>] {
        if count <= FEW_HEADERS {
            &mut self.few
        } else {
            self.all.insert([Header::EMPTY; MAX_HEADERS])
        }
    }
}

/// Room for the regular fields of HTTP/2 requests, kept from one request to the next: lent
/// to a request as one slot per field of its list, taken back emptied. Setting up a request's
/// few slots in memory already there costs less than a [`HeaderStorage`] on the stack,
/// whose 16 slots are filled and then copied into place (callgrind).
#[derive(Debug, Default)]
pub struct HeaderRoom(Vec<Header<'static>>);

impl HeaderRoom {
    /// `count` empty slots, for the regular fields of a list of `count` fields.
    pub fn lend<'b>(&mut self, count: usize) -> Vec<Header<'b>> {
        let mut slots: Vec<Header<'b>> = std::mem::take(&mut self.0);
        slots.resize(count, Header::EMPTY);
        slots
    }

    /// Takes back slots lent: emptied, their memory kept (collected in place: no element
    /// is left to map, and the element type keeps its layout).
    pub fn give_back(&mut self, mut slots: Vec<Header<'_>>) {
        slots.clear();
        self.0 = slots.into_iter().map(|_| Header::EMPTY).collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::Prebuilt;
    use std::sync::Arc;

    fn collected(response: &Response) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        handler_fields(response, |_, name, value| {
            let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
            fields.push((text(name), text(value)));
        });
        fields
    }

    #[test]
    fn header_room_is_lent_empty_and_keeps_its_memory() {
        let mut room = HeaderRoom::default();
        let value = b"v".to_vec();
        let mut slots = room.lend(3);
        assert_eq!(slots, [Header::EMPTY; 3]);
        slots[0] = Header {
            name: "x",
            value: &value,
        };
        let memory = slots.as_ptr();
        room.give_back(slots);
        let slots = room.lend(2);
        assert_eq!(slots, [Header::EMPTY; 2]);
        assert_eq!(slots.as_ptr(), memory);
    }

    #[test]
    fn names_are_lowercased_and_connection_fields_left_out() {
        let mut response = Response::new(200)
            .header("Content-Type", "text/plain")
            .header("Connection", "close")
            .header(
                "X-Long-Name-Past-The-Stack-Buffer-Of-Sixty-Four-Bytes-Which-Is-Rare",
                "1",
            );
        response.fields = Some(Arc::new(Prebuilt::new(
            b"ETag: \"a\"\r\n Cache-Control : no-cache\r\nVARY: x\r\nTransfer-Encoding: chunked\r\nServer: x\r\n: nameless\r\nDate: d\r\n"
                .to_vec(),
        )));
        assert_eq!(
            collected(&response),
            [
                ("content-type".into(), "text/plain".into()),
                (
                    "x-long-name-past-the-stack-buffer-of-sixty-four-bytes-which-is-rare".into(),
                    "1".into()
                ),
                ("etag".into(), "\"a\"".into()),
                ("cache-control".into(), "no-cache".into()),
                ("vary".into(), "x".into()),
            ]
        );
    }
}
