//! The mapping as a whole: requests real clients send, each rejection, the bounds, and the
//! property that HTTP/1.1 and HTTP/2 give the same request for the same words.

use super::*;
use crate::parse_request;
use crate::types::Parsed;
use proptest::prelude::*;

/// A field list from `(name, value)` pairs.
fn list<'b>(pairs: &[(&'b str, &'b [u8])]) -> Vec<Field<'b>> {
    pairs
        .iter()
        .map(|&(name, value)| Field {
            name: name.as_bytes(),
            value,
        })
        .collect()
}

/// The four pseudo-header fields of a GET of `/` from `example.com` over https.
fn base() -> Vec<(&'static str, &'static [u8])> {
    vec![
        (":method", b"GET"),
        (":scheme", b"https"),
        (":authority", b"example.com"),
        (":path", b"/"),
    ]
}

/// The error `pairs` is refused with, under the default limits.
fn refusal(pairs: &[(&str, &[u8])]) -> H2RequestError {
    let mut headers = [Header::EMPTY; 16];
    parse_h2_request(
        list(pairs).iter().copied(),
        &mut headers,
        &Limits::default(),
    )
    .expect_err("a refusal")
}

/// The request `pairs` map to is `check`ed, under the default limits.
fn accepted(pairs: &[(&str, &[u8])], check: impl FnOnce(&Request<'_, '_>)) {
    let mut headers = [Header::EMPTY; 32];
    let fields = list(pairs);
    match parse_h2_request(fields.iter().copied(), &mut headers, &Limits::default()) {
        Ok(request) => check(&request),
        Err(error) => panic!("{pairs:?} refused: {error}"),
    }
}

#[test]
fn a_chromium_navigation() {
    let pairs: &[(&str, &[u8])] = &[
        (":method", b"GET"),
        (":authority", b"localhost:8443"),
        (":scheme", b"https"),
        (":path", b"/assets/app.js?v=3"),
        (
            "sec-ch-ua",
            b"\"Chromium\";v=\"124\", \"Not-A.Brand\";v=\"99\"",
        ),
        ("sec-ch-ua-mobile", b"?0"),
        ("sec-ch-ua-platform", b"\"Linux\""),
        ("upgrade-insecure-requests", b"1"),
        (
            "user-agent",
            b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
              Chrome/124.0.0.0 Safari/537.36",
        ),
        ("accept", b"text/html,application/xhtml+xml,*/*;q=0.8"),
        ("sec-fetch-site", b"none"),
        ("sec-fetch-mode", b"navigate"),
        ("sec-fetch-user", b"?1"),
        ("sec-fetch-dest", b"document"),
        ("accept-encoding", b"gzip, deflate, br, zstd"),
        ("accept-language", b"en-US,en;q=0.9"),
        ("cookie", b"a=1"),
        ("cookie", b"b=2"),
        ("priority", b"u=0, i"),
    ];
    accepted(pairs, |request| {
        assert_eq!(request.method, Method::Get);
        assert_eq!(
            request.target,
            RequestTarget::Origin {
                path: "/assets/app.js",
                query: Some("v=3")
            }
        );
        assert_eq!(request.host, Some("localhost:8443"));
        assert_eq!(request.version, Version { major: 2, minor: 0 });
        assert_eq!(request.framing, BodyFraming::None);
        assert_eq!(request.connection, ConnectionOptions::default());
        assert!(request.wants_keep_alive());
        assert_eq!(request.headers.len(), pairs.len() - 4);
        for (header, &(name, value)) in request.headers.iter().zip(&pairs[4..]) {
            assert_eq!((header.name, header.value), (name, value));
        }
        let cookies: Vec<_> = request.headers.get_all("Cookie").collect();
        assert_eq!(cookies, [&b"a=1"[..], b"b=2"]);
        assert_eq!(
            request.headers.get("Accept-Encoding"),
            Some(&b"gzip, deflate, br, zstd"[..])
        );
    });
}

#[test]
fn a_curl_download() {
    let pairs: &[(&str, &[u8])] = &[
        (":method", b"HEAD"),
        (":path", b"/big%20file.bin"),
        (":scheme", b"http"),
        (":authority", b"127.0.0.1:8080"),
        ("user-agent", b"curl/8.5.0"),
        ("accept", b"*/*"),
        ("range", b"bytes=0-99"),
    ];
    accepted(pairs, |request| {
        assert_eq!(request.method, Method::Head);
        assert_eq!(request.target.path(), Some("/big%20file.bin"));
        assert_eq!(request.host, Some("127.0.0.1:8080"));
        assert_eq!(request.headers.get("range"), Some(&b"bytes=0-99"[..]));
    });
}

#[test]
fn content_length_declares_the_body() {
    let mut pairs = base();
    pairs[0].1 = b"POST";
    pairs.push(("content-length", b"5"));
    accepted(&pairs, |request| {
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.framing, BodyFraming::ContentLength(5));
    });
    pairs.push(("content-length", b"5, 005"));
    accepted(&pairs, |request| {
        assert_eq!(request.framing, BodyFraming::ContentLength(5));
    });
}

#[test]
fn options_asterisk() {
    let mut pairs = base();
    pairs[0].1 = b"OPTIONS";
    pairs[3].1 = b"*";
    accepted(&pairs, |request| {
        assert_eq!(request.method, Method::Options);
        assert_eq!(request.target, RequestTarget::Asterisk);
    });
}

#[test]
fn host_stands_in_for_a_missing_authority() {
    let pairs: &[(&str, &[u8])] = &[
        (":method", b"GET"),
        (":scheme", b"http"),
        (":path", b"/"),
        ("host", b"[::1]:8080"),
    ];
    accepted(pairs, |request| {
        assert_eq!(request.host, Some("[::1]:8080"));
        assert_eq!(request.headers.get("host"), Some(&b"[::1]:8080"[..]));
    });
}

#[test]
fn authority_wins_over_an_equal_host() {
    let mut pairs = base();
    pairs.push(("host", b"EXAMPLE.com:443"));
    accepted(&pairs, |request| {
        assert_eq!(request.host, Some("example.com"))
    });
}

#[test]
fn te_trailers_and_empty_values_pass() {
    let mut pairs = base();
    pairs.push(("te", b"trailers"));
    pairs.push(("x-empty", b""));
    accepted(&pairs, |request| assert_eq!(request.headers.len(), 2));
}

#[test]
fn each_rule_refuses_with_its_own_kind_and_place() {
    use ErrorKind::*;
    use FieldPosition::{List, Name, Value};
    /// The base list with field `at` replaced by `with` (or `with` appended, `at` past the
    /// end), or without field `at` when `with` is `None`.
    type Edit = (usize, Option<(&'static str, &'static [u8])>);
    let cases: &[(&[Edit], ErrorKind, FieldPosition, usize)] = &[
        (
            &[(4, Some(("Accept", b"*/*")))],
            UppercaseFieldName,
            Name(4),
            0,
        ),
        (&[(4, Some(("x-T", b"1")))], UppercaseFieldName, Name(4), 2),
        (&[(4, Some(("", b"1")))], EmptyFieldName, Name(4), 0),
        (&[(4, Some(("a b", b"1")))], InvalidFieldName, Name(4), 1),
        (&[(4, Some(("a:b", b"1")))], InvalidFieldName, Name(4), 1),
        (
            &[(4, Some(("x", b"a\x00b")))],
            InvalidFieldValue,
            Value(4),
            1,
        ),
        (
            &[(4, Some(("x", b"a\r\nb")))],
            InvalidFieldValue,
            Value(4),
            1,
        ),
        (&[(4, Some(("x", b"a\nb")))], InvalidFieldValue, Value(4), 1),
        (&[(4, Some(("x", b"\x01")))], InvalidFieldValue, Value(4), 0),
        (
            &[(3, Some((":path", b"/\x00")))],
            InvalidFieldValue,
            Value(3),
            1,
        ),
        (
            &[(4, Some(("x", b" a")))],
            WhitespaceAroundFieldValue,
            Value(4),
            0,
        ),
        (
            &[(4, Some(("x", b"a\t")))],
            WhitespaceAroundFieldValue,
            Value(4),
            1,
        ),
        (
            &[(2, Some((":authority", b"h ")))],
            WhitespaceAroundFieldValue,
            Value(2),
            1,
        ),
        (
            &[(4, Some(("connection", b"close")))],
            ConnectionSpecificField,
            Name(4),
            0,
        ),
        (
            &[(4, Some(("keep-alive", b"5")))],
            ConnectionSpecificField,
            Name(4),
            0,
        ),
        (
            &[(4, Some(("proxy-connection", b"x")))],
            ConnectionSpecificField,
            Name(4),
            0,
        ),
        (
            &[(4, Some(("transfer-encoding", b"chunked")))],
            ConnectionSpecificField,
            Name(4),
            0,
        ),
        (
            &[(4, Some(("upgrade", b"h2c")))],
            ConnectionSpecificField,
            Name(4),
            0,
        ),
        (&[(4, Some(("te", b"gzip")))], TeNotTrailers, Value(4), 0),
        (
            &[(4, Some(("te", b"trailers, deflate")))],
            TeNotTrailers,
            Value(4),
            0,
        ),
        (
            &[(4, Some((":status", b"200")))],
            UnknownPseudoHeader,
            Name(4),
            0,
        ),
        (
            &[(4, Some((":protocol", b"websocket")))],
            UnknownPseudoHeader,
            Name(4),
            0,
        ),
        (
            &[(4, Some((":Path", b"/")))],
            UnknownPseudoHeader,
            Name(4),
            0,
        ),
        (&[(4, Some((":", b"x")))], UnknownPseudoHeader, Name(4), 0),
        (
            &[(4, Some((":path", b"/again")))],
            DuplicatePseudoHeader,
            Name(4),
            0,
        ),
        (
            &[(4, Some((":method", b"GET")))],
            DuplicatePseudoHeader,
            Name(4),
            0,
        ),
        (
            &[(4, Some(("accept", b"*/*"))), (5, Some((":x", b"1")))],
            PseudoHeaderAfterRegular,
            Name(5),
            0,
        ),
        (&[(0, None)], MissingMethod, List, 0),
        (&[(1, None)], MissingScheme, List, 0),
        (&[(3, None)], MissingPath, List, 0),
        (&[(2, None)], MissingAuthority, List, 0),
        (
            &[(0, Some((":method", b"G T")))],
            InvalidMethod,
            Value(0),
            1,
        ),
        (&[(0, Some((":method", b"")))], InvalidMethod, Value(0), 0),
        (
            &[(0, Some((":method", b"CONNECT")))],
            ConnectNotSupported,
            Value(0),
            0,
        ),
        (
            &[(0, Some((":method", b"CONNECT"))), (3, None), (1, None)],
            ConnectNotSupported,
            Value(0),
            0,
        ),
        (&[(1, Some((":scheme", b"")))], InvalidScheme, Value(1), 0),
        (
            &[(1, Some((":scheme", b"ht tp")))],
            InvalidScheme,
            Value(1),
            2,
        ),
        (&[(3, Some((":path", b"")))], EmptyPath, Value(3), 0),
        (
            &[(3, Some((":path", b"index.html")))],
            InvalidPath,
            Value(3),
            0,
        ),
        (
            &[(3, Some((":path", b"https://example.com/")))],
            InvalidPath,
            Value(3),
            0,
        ),
        (
            &[(3, Some((":path", b"*")))],
            TargetFormMismatch,
            Value(3),
            0,
        ),
        (
            &[(3, Some((":path", b"/a b")))],
            InvalidTargetByte,
            Value(3),
            2,
        ),
        (
            &[(3, Some((":path", b"/%zz")))],
            InvalidPercentEncoding,
            Value(3),
            1,
        ),
        (
            &[(3, Some((":path", b"/#top")))],
            FragmentInTarget,
            Value(3),
            1,
        ),
        (
            &[(2, Some((":authority", b"")))],
            InvalidAuthorityPseudoHeader,
            Value(2),
            0,
        ),
        (
            &[(2, Some((":authority", b"u@h")))],
            InvalidAuthorityPseudoHeader,
            Value(2),
            1,
        ),
        (&[(4, Some(("host", b"h/p")))], InvalidHost, Value(4), 1),
        (
            &[
                (4, Some(("host", b"example.com"))),
                (5, Some(("host", b"example.com"))),
            ],
            DuplicateHost,
            Name(5),
            0,
        ),
        (
            &[(4, Some(("host", b"example.org")))],
            HostAuthorityMismatch,
            Value(4),
            0,
        ),
        (
            &[(4, Some(("host", b"example.com:8443")))],
            HostAuthorityMismatch,
            Value(4),
            0,
        ),
        (
            &[(4, Some(("content-length", b"x")))],
            InvalidContentLength,
            Value(4),
            0,
        ),
        (
            &[(4, Some(("content-length", b"-1")))],
            InvalidContentLength,
            Value(4),
            0,
        ),
        (
            &[(4, Some(("content-length", b"1, 2")))],
            ConflictingContentLength,
            Value(4),
            3,
        ),
        (
            &[
                (4, Some(("content-length", b"1"))),
                (5, Some(("content-length", b"2"))),
            ],
            ConflictingContentLength,
            Value(5),
            0,
        ),
    ];
    for &(edits, kind, position, offset) in cases {
        let mut pairs: Vec<Option<(&str, &[u8])>> = base().into_iter().map(Some).collect();
        for &(at, with) in edits {
            match pairs.get_mut(at) {
                Some(slot) => *slot = with,
                None => pairs.push(with),
            }
        }
        let pairs: Vec<(&str, &[u8])> = pairs.into_iter().flatten().collect();
        let error = refusal(&pairs);
        assert_eq!(
            (error.kind(), error.position(), error.error().offset()),
            (kind, position, offset),
            "{pairs:?}: {error}"
        );
        let part: &[u8] = match position {
            Name(index) => pairs[index].0.as_bytes(),
            Value(index) => pairs[index].1,
            List => b"",
        };
        crate::testing::assert_names_its_byte(part, &error.error());
    }
}

#[test]
fn a_field_past_the_count_bound_is_431() {
    let mut pairs = base();
    pairs.extend([("a", &b"1"[..]), ("b", b"2"), ("c", b"3")]);
    let fields = list(&pairs);
    let limits = Limits {
        max_headers: 2,
        ..Limits::default()
    };
    let mut headers = [Header::EMPTY; 8];
    let error = parse_h2_request(fields.iter().copied(), &mut headers, &limits).unwrap_err();
    assert_eq!(
        (error.kind(), error.status()),
        (ErrorKind::TooManyHeaders, 431)
    );
    assert_eq!(error.position(), FieldPosition::Name(6));
    assert!(!error.is_malformed());
    // The caller's storage bounds the count too.
    let mut two = [Header::EMPTY; 2];
    let error = parse_h2_request(fields.iter().copied(), &mut two, &Limits::default()).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TooManyHeaders);
    let mut three = [Header::EMPTY; 3];
    assert!(parse_h2_request(fields.iter().copied(), &mut three, &Limits::default()).is_ok());
}

#[test]
fn a_list_past_the_size_bound_is_431() {
    let mut pairs = base();
    pairs.push(("cookie", &[b'x'; 100][..]));
    let fields = list(&pairs);
    // Each field counts its name, its value and 32 (RFC 9113 §6.5.2).
    let size: usize = fields
        .iter()
        .map(|f| f.name.len() + f.value.len() + 32)
        .sum();
    let mut headers = [Header::EMPTY; 8];
    let fits = Limits {
        max_head: size,
        ..Limits::default()
    };
    assert!(parse_h2_request(fields.iter().copied(), &mut headers, &fits).is_ok());
    let short = Limits {
        max_head: size - 1,
        ..Limits::default()
    };
    let error = parse_h2_request(fields.iter().copied(), &mut headers, &short).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::HeaderSectionTooLarge);
    assert_eq!(error.position(), FieldPosition::Name(4));
}

#[test]
fn a_long_path_is_414() {
    let long = format!("/{}", "a".repeat(Limits::DEFAULT_MAX_REQUEST_LINE));
    let mut pairs = base();
    pairs[3].1 = long.as_bytes();
    let error = refusal(&pairs);
    assert_eq!(
        (error.kind(), error.status()),
        (ErrorKind::PathTooLong, 414)
    );
    assert!(!error.is_malformed());
}

#[test]
fn malformed_or_answered() {
    let malformed = [
        ErrorKind::UppercaseFieldName,
        ErrorKind::ConnectionSpecificField,
        ErrorKind::UnknownPseudoHeader,
        ErrorKind::MissingPath,
        ErrorKind::EmptyPath,
        ErrorKind::HostAuthorityMismatch,
        ErrorKind::InvalidContentLength,
    ];
    let answered = [
        (ErrorKind::InvalidTargetByte, 400),
        (ErrorKind::MissingAuthority, 400),
        (ErrorKind::DuplicateHost, 400),
        (ErrorKind::ConnectNotSupported, 501),
        (ErrorKind::TooManyHeaders, 431),
    ];
    let error = |kind| H2RequestError {
        position: FieldPosition::List,
        error: Error::new(kind, 0),
    };
    for kind in malformed {
        assert!(error(kind).is_malformed(), "{kind:?}");
        assert_eq!(error(kind).status(), 400, "{kind:?}");
    }
    for (kind, status) in answered {
        assert!(!error(kind).is_malformed(), "{kind:?}");
        assert_eq!(error(kind).status(), status, "{kind:?}");
    }
}

#[test]
fn errors_say_where() {
    let mut pairs = base();
    pairs[3].1 = b"";
    assert_eq!(
        refusal(&pairs).to_string(),
        "value of field 3: empty :path pseudo-header field at byte 0 (RFC 9113 §8.3.1)"
    );
    pairs.remove(0);
    assert_eq!(
        refusal(&pairs).to_string(),
        "field list: missing :method pseudo-header field (RFC 9113 §8.3.1)"
    );
}

/// A method token, CONNECT aside (refused over HTTP/2).
fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("GET".to_string()),
        Just("HEAD".to_string()),
        Just("POST".to_string()),
        Just("DELETE".to_string()),
        "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,9}",
    ]
    .prop_filter("CONNECT is refused", |m| m != "CONNECT")
}

/// An origin-form target, as browsers write one.
fn origin_form() -> impl Strategy<Value = String> {
    let segment = "([A-Za-z0-9._~!$&'()*+,;=:@\\[\\]|^-]|%[0-9A-Fa-f]{2}){0,8}";
    (
        proptest::collection::vec(segment, 1..4),
        proptest::option::of("[A-Za-z0-9._~!$&'()*+,;=:@/?%\\[\\]{}|^`\\\\-]{0,12}"),
    )
        .prop_map(|(segments, query)| {
            let mut target = String::new();
            for segment in segments {
                target.push('/');
                target.push_str(&segment);
            }
            if let Some(query) = query {
                target.push('?');
                target.push_str(&query);
            }
            target
        })
}

/// A Host value: a name, an IPv4 or IPv6 literal, with or without a port.
fn host() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            "[A-Za-z0-9-]{1,12}(\\.[A-Za-z0-9-]{1,8}){0,2}",
            Just("127.0.0.1".to_string()),
            Just("[::1]".to_string()),
            Just("[2001:db8::7]".to_string()),
        ],
        proptest::option::of("[0-9]{0,5}"),
    )
        .prop_map(|(name, port)| match port {
            Some(port) => format!("{name}:{port}"),
            None => name,
        })
}

/// A field line's name and value, the value without OWS at its ends (as HTTP/1.1 stores it).
fn field() -> impl Strategy<Value = (String, Vec<u8>)> {
    (
        prop_oneof![
            "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
            Just("Connection".to_string()),
            Just("Keep-Alive".to_string()),
            Just("TE".to_string()),
            Just("Upgrade".to_string()),
            Just("Accept".to_string()),
            Just("Cookie".to_string()),
        ],
        proptest::collection::vec(
            prop_oneof![
                8 => 0x21u8..0x7f,
                1 => Just(b' '),
                1 => Just(b'\t'),
                1 => 0x80u8..=0xff,
            ],
            0..16,
        ),
    )
        .prop_map(|(name, mut value)| {
            while value.last().is_some_and(|b| matches!(b, b' ' | b'\t')) {
                value.pop();
            }
            let start = value
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t'))
                .count();
            (name, value.split_off(start))
        })
}

/// Whether HTTP/2 carries a field of this (lowercase) name: not the connection-specific
/// ones (RFC 9113 §8.2.2), and TE only as `trailers`.
fn carried(name: &str, value: &[u8]) -> bool {
    match name {
        "connection" | "keep-alive" | "proxy-connection" | "transfer-encoding" | "upgrade" => false,
        "te" => value.eq_ignore_ascii_case(b"trailers"),
        _ => true,
    }
}

proptest! {
    /// Any request HTTP/1.1 accepts, said again as an HTTP/2 field list (the request-line
    /// as pseudo-header fields, Host as `:authority` or kept as Host, names lowercase,
    /// connection-specific fields left out), maps to the same method, target, host and
    /// fields.
    #[test]
    fn http2_maps_what_http11_parses_to_the_same_request(
        method in method(),
        target in prop_oneof![origin_form(), Just("*".to_string())],
        host in host(),
        fields in proptest::collection::vec(field(), 0..8),
        keep_host in any::<bool>(),
    ) {
        let method = if target == "*" { "OPTIONS".to_string() } else { method };
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
        for (name, value) in &fields {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value);
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
        let mut h1_headers = [Header::EMPTY; 16];
        let Ok(Parsed::Complete { value: h1, .. }) =
            parse_request(&head, &mut h1_headers, &Limits::default())
        else {
            // Only what HTTP/1.1 accepts is compared.
            return Ok(());
        };
        let authority = h1.host.unwrap_or_default();
        let lowered: Vec<(String, &[u8])> = h1
            .headers
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), h.value))
            .filter(|(name, value)| carried(name, value))
            .filter(|(name, _)| keep_host || name != "host")
            .collect();
        let mut h2_fields = vec![
            Field { name: b":method", value: h1.method.as_str().as_bytes() },
            Field { name: b":scheme", value: b"https" },
            Field { name: b":authority", value: authority.as_bytes() },
        ];
        let path = h1.target.to_string();
        h2_fields.push(Field { name: b":path", value: path.as_bytes() });
        h2_fields.extend(lowered.iter().map(|(name, value)| Field {
            name: name.as_bytes(),
            value,
        }));
        let mut h2_headers = [Header::EMPTY; 16];
        let h2 = match parse_h2_request(h2_fields.iter().copied(), &mut h2_headers, &Limits::default()) {
            Ok(h2) => h2,
            Err(error) => return Err(TestCaseError::fail(format!("{error}"))),
        };
        prop_assert_eq!(h2.method, h1.method);
        prop_assert_eq!(h2.target, h1.target);
        prop_assert_eq!(h2.host, h1.host);
        let expected: Vec<(&str, &[u8])> =
            lowered.iter().map(|(name, value)| (name.as_str(), *value)).collect();
        let got: Vec<(&str, &[u8])> = h2.headers.iter().map(|h| (h.name, h.value)).collect();
        prop_assert_eq!(got, expected);
    }

    /// Whatever the fields, the mapping returns, and what it accepts keeps the rules: the
    /// stored names are lowercase tokens, the values field values without whitespace at
    /// their ends, and a refusal points inside the list.
    #[test]
    fn any_list_is_mapped_or_refused_within_it(
        raw in proptest::collection::vec(
            (
                prop_oneof![
                    Just(b":method".to_vec()),
                    Just(b":path".to_vec()),
                    Just(b":scheme".to_vec()),
                    Just(b":authority".to_vec()),
                    proptest::collection::vec(any::<u8>(), 0..6),
                ],
                proptest::collection::vec(any::<u8>(), 0..6),
            ),
            0..8,
        ),
    ) {
        let fields: Vec<Field<'_>> =
            raw.iter().map(|(name, value)| Field { name, value }).collect();
        let mut headers = [Header::EMPTY; 8];
        match parse_h2_request(fields.iter().copied(), &mut headers, &Limits::default()) {
            Ok(request) => {
                for header in request.headers.iter() {
                    prop_assert!(crate::is_token(header.name.as_bytes()));
                    prop_assert!(!header.name.bytes().any(|b| b.is_ascii_uppercase()));
                    prop_assert!(crate::is_field_value(header.value));
                }
            }
            Err(error) => match error.position() {
                FieldPosition::Name(index) => {
                    prop_assert!(error.error().offset() <= fields[index].name.len());
                }
                FieldPosition::Value(index) => {
                    prop_assert!(error.error().offset() <= fields[index].value.len());
                }
                FieldPosition::List => prop_assert_eq!(error.error().offset(), 0),
            },
        }
    }
}

proptest! {
    /// HTTP/3 maps a field section as HTTP/2 does: the same request but for its version, or
    /// the same refusal, whatever the fields.
    #[test]
    fn http3_maps_as_http2_does(
        raw in proptest::collection::vec(
            (
                prop_oneof![
                    Just(b":method".to_vec()),
                    Just(b":scheme".to_vec()),
                    Just(b":path".to_vec()),
                    Just(b":authority".to_vec()),
                    Just(b"host".to_vec()),
                    Just(b"content-length".to_vec()),
                    Just(b"te".to_vec()),
                    proptest::collection::vec(any::<u8>(), 0..6),
                ],
                prop_oneof![
                    Just(b"GET".to_vec()),
                    Just(b"https".to_vec()),
                    Just(b"/a?b".to_vec()),
                    Just(b"example.com".to_vec()),
                    proptest::collection::vec(any::<u8>(), 0..6),
                ],
            ),
            0..8,
        ),
    ) {
        let fields: Vec<Field<'_>> =
            raw.iter().map(|(name, value)| Field { name, value }).collect();
        let mut h2_headers = [Header::EMPTY; 8];
        let mut h3_headers = [Header::EMPTY; 8];
        let h2 = parse_h2_request(fields.iter().copied(), &mut h2_headers, &Limits::default());
        let h3 = parse_h3_request(fields.iter().copied(), &mut h3_headers, &Limits::default());
        match (h2, h3) {
            (Ok(h2), Ok(h3)) => {
                prop_assert_eq!((h2.version.major, h3.version.major), (2, 3));
                prop_assert_eq!(h2.method, h3.method);
                prop_assert_eq!(h2.target, h3.target);
                prop_assert_eq!(h2.host, h3.host);
                prop_assert_eq!(h2.framing, h3.framing);
                prop_assert_eq!(
                    h2.headers.iter().collect::<Vec<_>>(),
                    h3.headers.iter().collect::<Vec<_>>()
                );
            }
            (Err(h2), Err(h3)) => prop_assert_eq!(h2, h3),
            (h2, h3) => prop_assert!(false, "{:?} against {:?}", h2.is_ok(), h3.is_ok()),
        }
    }
}
