//! What the tests of handlers share: a request answered in-process, and the fields and body
//! of the answer.

use super::Handler;
use crate::http::head::RequestHead;
use crate::http::response::{Body, Response};
use nomserve_grammar::{Header, Limits, Parsed, parse_request};
use std::net::IpAddr;
use std::os::unix::fs::FileExt;

/// The answer of `handler` to the request whose head is `head`, from 127.0.0.1.
pub fn answer(handler: &dyn Handler, head: &str) -> Response {
    let mut headers = [Header::EMPTY; 16];
    let Ok(Parsed::Complete { value, .. }) =
        parse_request(head.as_bytes(), &mut headers, &Limits::default())
    else {
        panic!("a valid head: {head:?}");
    };
    handler.handle(
        &value,
        &RequestHead::Raw(head.as_bytes()),
        IpAddr::from([127, 0, 0, 1]),
    )
}

/// The value of the field `name`, set by the handler or among the prebuilt fields.
pub fn header<'r>(response: &'r Response, name: &str) -> Option<&'r str> {
    let prebuilt = response.fields.as_deref().map(|fields| {
        std::str::from_utf8(fields.lines())
            .unwrap()
            .split("\r\n")
            .filter_map(|line| line.split_once(": "))
    });
    response
        .headers
        .iter()
        .map(|(n, v)| (n.as_ref(), v.as_ref()))
        .chain(prebuilt.into_iter().flatten())
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The bytes the body stands for, read from its file where it has one.
pub fn body(response: &Response) -> Vec<u8> {
    let read = |file: &std::fs::File, offset: u64, len: u64| {
        let mut buf = vec![0; usize::try_from(len).unwrap()];
        file.read_exact_at(&mut buf, offset).unwrap();
        buf
    };
    match &response.body {
        Body::Empty => Vec::new(),
        Body::Bytes(bytes) => bytes.to_vec(),
        Body::Shared(bytes) => bytes.to_vec(),
        Body::File { file, offset, len } => read(file, *offset, *len),
        Body::Multipart { file, parts, tail } => {
            let mut out = Vec::new();
            for (head, offset, len) in parts {
                out.extend_from_slice(head);
                out.extend(read(file, *offset, *len));
            }
            out.extend_from_slice(tail);
            out
        }
        Body::Stream(_) => panic!("a streamed body in a handler's test"),
    }
}
