//! Differential fuzzing against httparse (default configuration), on the same bytes.
//!
//! httparse is lenient in places where nomserve is strict (it takes bare LF line ends, more
//! bytes in a request-target, spaces around the version, and so on), so *its* accepting what
//! we reject is expected and not checked. A finding is the other way round:
//! - nomserve accepts a head (`Complete`) that httparse does not accept as a whole head of
//!   the same length;
//! - the two disagree on the method, the request-target, the version, or any field's name
//!   or value.
//!
//! Allowed differences, each argued beside our rule and listed in `allowed`:
//! - the absolute-form with an empty path (`http://h`): we report the path as `/`, as
//!   RFC 9112 §3.2.1 says the empty path "must be sent as /"; httparse keeps the raw target.
//! - HTTP/1.2 to HTTP/1.9: we accept any minor version of HTTP/1 (RFC 9112 §2.3's
//!   `DIGIT "." DIGIT`; RFC 9110 §2.5: a recipient of a higher minor version "can assume ...
//!   backwards compatible" and answers as 1.1), httparse only 1.0 and 1.1. Such a head is
//!   compared with its minor version written as 1.

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::{Header, Limits, Parsed, RequestTarget, parse_request};

/// As many field lines as either parser can hold here; our limit is the default's 100, so
/// storage, not the limit, is what bounds both.
const FIELDS: usize = 32;

/// Whether httparse's raw target `theirs` and our parsed `target` name the same thing.
fn same_target(target: &RequestTarget<'_>, theirs: &str) -> bool {
    let ours = target.to_string();
    if ours == theirs {
        return true;
    }
    // RFC 9112 §3.2.1: the empty path of an absolute-form is `/`.
    match target {
        RequestTarget::Absolute {
            scheme,
            authority,
            path: "/",
            query,
        } => {
            let query = query.map(|q| format!("?{q}")).unwrap_or_default();
            theirs == format!("{scheme}://{authority}{query}")
        }
        _ => false,
    }
}

fuzz_target!(|input: &[u8]| {
    let mut ours = [Header::EMPTY; FIELDS];
    let limits = Limits {
        max_headers: FIELDS,
        ..Limits::default()
    };
    let Ok(Parsed::Complete {
        value: request,
        consumed,
    }) = parse_request(input, &mut ours, &limits)
    else {
        return;
    };
    // RFC 9110 §2.5: HTTP/1.2 and up are HTTP/1.1 to a 1.1 server; httparse knows 1.0 and
    // 1.1 only, so it is shown the head with the minor version written as 1.
    let mut head = input[..consumed].to_vec();
    if request.version.minor > 1 {
        // The request-line ends at the first CRLF after the empty lines RFC 9112 §2.2 lets
        // a server skip before it; its last byte before the CRLF is the minor version.
        let skipped = head.chunks(2).take_while(|pair| *pair == b"\r\n").count() * 2;
        let line_end = head[skipped..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("an accepted head has a request-line");
        head[skipped + line_end - 1] = b'1';
    }
    let mut theirs = [httparse::EMPTY_HEADER; FIELDS];
    let mut reference = httparse::Request::new(&mut theirs);
    let status = reference.parse(&head);
    assert_eq!(
        status,
        Ok(httparse::Status::Complete(consumed)),
        "we accept a head httparse does not: {:?}",
        String::from_utf8_lossy(&head)
    );
    assert_eq!(reference.method, Some(request.method.as_str()));
    let path = reference.path.unwrap_or_default();
    assert!(
        same_target(&request.target, path),
        "target: ours {:?}, httparse {path:?}",
        request.target
    );
    assert_eq!(reference.version, Some(request.version.minor.min(1)));
    assert_eq!(reference.headers.len(), request.headers.len());
    for (r, o) in reference.headers.iter().zip(request.headers.iter()) {
        assert_eq!((r.name, r.value), (o.name, o.value));
    }
});
