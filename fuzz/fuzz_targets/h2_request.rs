//! Fuzzes `parse_h2_request` on field lists cut from arbitrary bytes: each field is a
//! name-length byte, a value-length byte, then that many bytes of name and of value (the
//! last field cut short where the input ends). Checks:
//! - never a panic;
//! - an accepted request keeps the rules: its headers are the list's regular fields, in
//!   order, their names lowercase tokens and their values field values with no SP or HTAB
//!   at either end; its target is origin-form or `*`; it names a host; it is no CONNECT;
//! - an accepted request, said again as a field list (method, scheme, `:authority` from its
//!   host, `:path` from its target, its headers), maps to the same request;
//! - an accepted request, written as an HTTP/1.1 head, is accepted by `parse_request` with
//!   the same method, target, host and fields: the whole-value rules here take no more than
//!   HTTP/1.1's streaming ones (the crate's property test checks the other direction);
//! - a refusal points inside the list: a field that exists, an offset inside (or at the end
//!   of) its name or value, the byte there named exactly when the kind names one.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{
    Field, FieldPosition, Header, Limits, Method, Parsed, Request, RequestTarget, is_field_value,
    is_token, parse_h2_request, parse_request,
};

/// Storage for the regular fields, fewer than the default limit, so it bounds the count.
const FIELDS: usize = 32;

/// The fields encoded in `input`.
fn fields(input: &[u8]) -> Vec<Field<'_>> {
    let mut fields = Vec::new();
    let mut rest = input;
    while let [name_len, value_len, after @ ..] = rest {
        let (name, after) = after.split_at((*name_len as usize).min(after.len()));
        let (value, after) = after.split_at((*value_len as usize).min(after.len()));
        fields.push(Field { name, value });
        rest = after;
    }
    fields
}

/// What two requests must agree on.
fn summary<'a>(
    request: &Request<'a, '_>,
) -> (Method<'a>, String, Option<&'a str>, Vec<(String, Vec<u8>)>) {
    let headers = request
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect();
    (
        request.method,
        request.target.to_string(),
        request.host,
        headers,
    )
}

fuzz_target!(|input: &[u8]| {
    let fields = fields(input);
    let limits = Limits::default();
    let mut headers = [Header::EMPTY; FIELDS];
    let request = match parse_h2_request(fields.iter().copied(), &mut headers, &limits) {
        Ok(request) => request,
        Err(error) => {
            let part: &[u8] = match error.position() {
                FieldPosition::Name(index) => fields[index].name,
                FieldPosition::Value(index) => fields[index].value,
                FieldPosition::List => b"",
            };
            let inner = error.error();
            assert!(inner.offset() <= part.len(), "{error}");
            let named = part
                .get(inner.offset())
                .copied()
                .filter(|_| inner.kind().names_byte());
            assert_eq!(inner.byte(), named, "{error}");
            let _ = error.to_string();
            return;
        }
    };

    // The rules hold of what was accepted.
    let regular: Vec<&Field<'_>> = fields
        .iter()
        .filter(|f| !f.name.starts_with(b":"))
        .collect();
    assert_eq!(request.headers.len(), regular.len());
    for (header, field) in request.headers.iter().zip(&regular) {
        assert_eq!(
            (header.name.as_bytes(), header.value),
            (field.name, field.value)
        );
        assert!(is_token(field.name));
        assert!(!field.name.iter().any(u8::is_ascii_uppercase));
        assert!(is_field_value(field.value));
        assert!(!matches!(field.value.first(), Some(b' ' | b'\t')));
        assert!(!matches!(field.value.last(), Some(b' ' | b'\t')));
    }
    assert!(matches!(
        request.target,
        RequestTarget::Origin { .. } | RequestTarget::Asterisk
    ));
    assert_ne!(request.method, Method::Connect);
    let host = request.host.expect("a host");
    assert!(!host.is_empty());
    let expected = summary(&request);

    // Said again as a field list, the same request.
    let scheme = fields
        .iter()
        .find(|f| f.name == b":scheme")
        .map(|f| f.value)
        .expect("a :scheme");
    let path = request.target.to_string();
    let mut again = vec![
        Field {
            name: b":method",
            value: request.method.as_str().as_bytes(),
        },
        Field {
            name: b":scheme",
            value: scheme,
        },
        Field {
            name: b":authority",
            value: host.as_bytes(),
        },
        Field {
            name: b":path",
            value: path.as_bytes(),
        },
    ];
    again.extend(regular.iter().copied().copied());
    let mut again_headers = [Header::EMPTY; FIELDS];
    let mapped = parse_h2_request(again.iter().copied(), &mut again_headers, &limits).expect("said again");
    assert_eq!(summary(&mapped), expected);

    // Written as HTTP/1.1, the same request.
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\n",
        request.method.as_str(),
        path
    )
    .into_bytes();
    for field in request.headers.iter().filter(|h| h.name != "host") {
        head.extend_from_slice(field.name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(field.value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let mut h1_headers = [Header::EMPTY; FIELDS + 1];
    let Ok(Parsed::Complete { value: h1, .. }) = parse_request(&head, &mut h1_headers, &limits)
    else {
        panic!("HTTP/1.1 refuses {:?}", String::from_utf8_lossy(&head));
    };
    assert_eq!(h1.method, request.method);
    assert_eq!(h1.target, request.target);
    assert_eq!(h1.host, Some(host));
    let h1_fields: Vec<(&str, &[u8])> = h1
        .headers
        .iter()
        .skip(1)
        .map(|h| (h.name, h.value))
        .collect();
    let h2_fields: Vec<(&str, &[u8])> = request
        .headers
        .iter()
        .filter(|h| h.name != "host")
        .map(|h| (h.name, h.value))
        .collect();
    assert_eq!(h1_fields, h2_fields);
});
