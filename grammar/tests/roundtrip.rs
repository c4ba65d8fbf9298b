//! Valid requests generated from the ABNF, serialised, parsed back; the same requests and the
//! benchmark corpora parsed by httparse as a reference; and the split test: every strict
//! prefix of a valid head is `Partial`, the whole is `Complete`, trailing bytes are left alone.

mod corpus;

use nomserve_grammar::{Header, Limits, Parsed, Request, RequestTarget, parse_request};
use proptest::prelude::*;

/// A request as generated, before serialising.
#[derive(Debug, Clone)]
struct Generated {
    method: String,
    target: String,
    minor: u8,
    /// Name, value, and the OWS written before and after the value.
    fields: Vec<(String, Vec<u8>, &'static str, &'static str)>,
}

impl Generated {
    fn to_bytes(&self) -> Vec<u8> {
        let mut out =
            format!("{} {} HTTP/1.{}\r\n", self.method, self.target, self.minor).into_bytes();
        for (name, value, before, after) in &self.fields {
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(before.as_bytes());
            out.extend_from_slice(value);
            out.extend_from_slice(after.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

const TCHARS: &str = "!#$%&'*+.^_`|~0-9A-Za-z-";

fn token() -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[{TCHARS}]{{1,12}}")).expect("regex")
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_string()),
        Just("HEAD".to_string()),
        Just("POST".to_string()),
        Just("OPTIONS".to_string()),
        token().prop_filter("CONNECT needs authority-form", |m| m != "CONNECT"),
    ]
}

/// `*( unreserved / pct-encoded / sub-delims / ":" / "@" )`
fn pchars(max: usize) -> impl Strategy<Value = String> {
    let single = proptest::string::string_regex("[A-Za-z0-9._~!$&'()*+,;=:@-]").expect("regex");
    let pct = (0u8..=255).prop_map(|b| format!("%{b:02X}"));
    prop::collection::vec(prop_oneof![4 => single, 1 => pct], 0..max).prop_map(|v| v.concat())
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(pchars(8), 1..5).prop_map(|segments| format!("/{}", segments.join("/")))
}

fn query() -> impl Strategy<Value = Option<String>> {
    prop::option::of(
        prop::collection::vec(
            prop_oneof![pchars(6), Just("/".into()), Just("?".into())],
            0..4,
        )
        .prop_map(|v| v.concat()),
    )
}

fn target() -> impl Strategy<Value = String> {
    let host =
        proptest::string::string_regex("[a-z0-9]{1,10}(\\.[a-z0-9]{1,10}){0,2}").expect("regex");
    let port = prop::option::of(0u16..);
    let origin = (path(), query()).prop_map(|(p, q)| match q {
        Some(q) => format!("{p}?{q}"),
        None => p,
    });
    let absolute = (host, port, path(), query()).prop_map(|(h, port, p, q)| {
        let port = port.map(|n| format!(":{n}")).unwrap_or_default();
        let q = q.map(|q| format!("?{q}")).unwrap_or_default();
        format!("http://{h}{port}{p}{q}")
    });
    prop_oneof![3 => origin, 1 => absolute]
}

/// A field value: field-vchars, with SP and HTAB only between them.
fn value() -> impl Strategy<Value = Vec<u8>> {
    let vchar = prop_oneof![0x21u8..=0x7e, 0x80u8..=0xff];
    let inner = prop_oneof![3 => vchar.clone(), 1 => Just(b' '), 1 => Just(b'\t')];
    prop::option::of((vchar.clone(), prop::collection::vec(inner, 0..20), vchar)).prop_map(|v| {
        v.map(|(first, mut middle, last)| {
            middle.insert(0, first);
            middle.push(last);
            middle
        })
        .unwrap_or_default()
    })
}

fn ows() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(""), Just(" "), Just("\t"), Just(" \t ")]
}

fn fields() -> impl Strategy<Value = Vec<(String, Vec<u8>, &'static str, &'static str)>> {
    let name = token().prop_filter("framing fields are generated apart", |n| {
        !["host", "content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|f| n.eq_ignore_ascii_case(f))
    });
    let host = (
        proptest::string::string_regex("[a-z0-9]{1,10}(\\.[a-z]{2,5})?(:[0-9]{1,5})?")
            .expect("regex"),
        ows(),
        ows(),
    )
        .prop_map(|(h, b, a)| ("Host".to_string(), h.into_bytes(), b, a));
    (
        prop::collection::vec((name, value(), ows(), ows()), 0..12),
        host,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(mut fields, host, at)| {
            let position = at.index(fields.len() + 1);
            fields.insert(position, host);
            fields
        })
}

fn request() -> impl Strategy<Value = Generated> {
    (method(), target(), 0u8..=1, fields()).prop_map(|(method, target, minor, fields)| Generated {
        method,
        target,
        minor,
        fields,
    })
}

fn parse<'b, 'h>(buf: &'b [u8], headers: &'h mut [Header<'b>]) -> (Request<'b, 'h>, usize) {
    match parse_request(buf, headers, &Limits::default()) {
        Ok(Parsed::Complete { value, consumed }) => (value, consumed),
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
    }
}

/// httparse's reading of `buf` must match ours: method, target, version, every field.
fn same_as_httparse(buf: &[u8]) {
    let mut ours = [Header::EMPTY; 64];
    let (request, consumed) = parse(buf, &mut ours);
    let mut theirs = [httparse::EMPTY_HEADER; 64];
    let mut reference = httparse::Request::new(&mut theirs);
    assert_eq!(
        reference.parse(buf),
        Ok(httparse::Status::Complete(consumed))
    );
    assert_eq!(reference.method, Some(request.method.as_str()));
    assert_eq!(
        reference.path.map(str::to_string),
        Some(request.target.to_string())
    );
    assert_eq!(reference.version, Some(request.version.minor));
    assert_eq!(reference.headers.len(), request.headers.len());
    for (r, o) in reference.headers.iter().zip(request.headers.iter()) {
        assert_eq!((r.name, r.value), (o.name, o.value));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_requests_parse_back(generated in request()) {
        let buf = generated.to_bytes();
        let mut headers = [Header::EMPTY; 64];
        let (request, consumed) = parse(&buf, &mut headers);
        prop_assert_eq!(consumed, buf.len());
        prop_assert_eq!(request.method.as_str(), generated.method.as_str());
        prop_assert_eq!(request.target.to_string(), generated.target.clone());
        prop_assert_eq!((request.version.major, request.version.minor), (1, generated.minor));
        prop_assert_eq!(request.headers.len(), generated.fields.len());
        for (parsed, (name, value, _, _)) in request.headers.iter().zip(&generated.fields) {
            prop_assert_eq!(parsed.name, name.as_str());
            prop_assert_eq!(parsed.value, value.as_slice());
        }
        if let RequestTarget::Origin { .. } = request.target {
            let host = generated.fields.iter().find(|f| f.0 == "Host").map(|f| f.1.as_slice());
            prop_assert_eq!(request.host.map(str::as_bytes), host);
        }
    }

    #[test]
    fn httparse_agrees_on_generated_requests(generated in request()) {
        same_as_httparse(&generated.to_bytes());
    }
}

#[test]
fn httparse_agrees_on_the_corpora() {
    for (_, head) in corpus::ALL {
        same_as_httparse(head);
    }
}

#[test]
fn split_every_valid_head() {
    let extra: [&[u8]; 4] = [
        b"\r\nGET http://x/?q HTTP/1.0\r\n\r\n",
        b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
        b"POST /f HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip ;a=\"b\", chunked\r\nX:\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n",
    ];
    let heads = corpus::ALL.iter().map(|(_, h)| *h).chain(extra);
    for head in heads {
        let mut headers = [Header::EMPTY; 64];
        for end in 0..head.len() {
            assert_eq!(
                parse_request(&head[..end], &mut headers, &Limits::default()),
                Ok(Parsed::Partial),
                "prefix {end} of {:?}",
                String::from_utf8_lossy(head)
            );
        }
        let (whole, consumed) = parse(head, &mut headers);
        assert_eq!(consumed, head.len());
        let whole = format!("{whole:?}");
        let followed = [head, b"GET / HTTP/1.1\r\nHost: next\r\n\r\nbody"].concat();
        let mut more = [Header::EMPTY; 64];
        let (again, consumed) = parse(&followed, &mut more);
        assert_eq!(consumed, head.len());
        assert_eq!(format!("{again:?}"), whole);
    }
}
