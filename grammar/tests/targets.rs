//! Which origin-form request-targets the grammar takes, against httparse and against a naive
//! model of the rule written from the standards.
//!
//! The rule (argued in `abnf.rs` at `PATH_CHAR` and `QUERY_CHAR`, and in `target.rs`): a
//! target takes every byte a browser leaves unencoded (WHATWG URL Standard, the *path* and
//! *query percent-encode sets*) and `^` in a path; it refuses what RFC 9112 §3.2 and the
//! path's safety need refused, and raw bytes above `~`, which browsers encode but httparse
//! takes. The model below states that rule
//! byte by byte, one refusal per rule, and the property tests check, over generated targets:
//! - the grammar refuses a target exactly when the model names a rule, with the model's kind
//!   at the model's byte;
//! - every target httparse accepts and a browser could have sent (the WHATWG sets allow it)
//!   is accepted, except a `%` without two hex digits in a path, which the model lists;
//! - non-ASCII text reaches the grammar percent-encoded, as browsers send it, and raw, as
//!   httparse would take it: the first is accepted, the second refused at its first byte.
//! - every target the grammar accepts, httparse accepts too, with the same target.

use nomserve_grammar::ErrorKind::{self, *};
use nomserve_grammar::testing::assert_names_its_byte;
use nomserve_grammar::{Header, Limits, Parsed, parse_request};
use proptest::prelude::*;

/// A refusal of the model: the kind, the offset in the target, and the rule that refuses.
type Refusal = (ErrorKind, usize, &'static str);

/// WHATWG URL Standard: the *C0 control percent-encode set* (C0 controls and every byte above
/// `~`) and the *query percent-encode set* (that, and SP, `"`, `#`, `<`, `>`).
fn in_query_set(b: u8) -> bool {
    !(0x20..=0x7e).contains(&b) || b" \"#<>".contains(&b)
}

/// WHATWG URL Standard: the *path percent-encode set*, the query set and `?`, `^`, `` ` ``,
/// `{`, `}`.
fn in_path_set(b: u8) -> bool {
    in_query_set(b) || b"?^`{}".contains(&b)
}

/// Whether a browser could have sent `target` for an http URL: every byte outside the
/// percent-encode set of its part (path, or query after the first `?`), and no `\` in the
/// path, which WHATWG's parser turns into `/` for http URLs.
fn browser_could_send(target: &[u8]) -> bool {
    let (path, query) = split_query(target);
    path.iter().all(|&b| !in_path_set(b) && b != b'\\')
        && query.is_none_or(|q| q.iter().all(|&b| !in_query_set(b)))
}

/// `target` cut at its first `?`: the path, and the query after the `?`.
fn split_query(target: &[u8]) -> (&[u8], Option<&[u8]>) {
    match target.iter().position(|&b| b == b'?') {
        Some(i) => (&target[..i], Some(&target[i + 1..])),
        None => (target, None),
    }
}

/// The rule that refuses raw bytes above `~`.
const NON_ASCII: &str = "RFC 3986 §2.1, WHATWG C0 control percent-encode set: a browser encodes \
                         every byte above `~`; Http11Probe requires the 400";

/// The model: the first rule that `target` (an origin-form, starting with `/`) breaks.
fn model(target: &[u8]) -> Result<(), Refusal> {
    let (path, query) = split_query(target);
    let mut i = 0;
    while let Some(&b) = path.get(i) {
        i += match b {
            b'%' => match path.get(i + 1..i + 3) {
                Some(&[h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => 3,
                _ => {
                    return Err((
                        InvalidPercentEncoding,
                        i,
                        "RFC 3986 §2.1: a `%` in a path starts a %XX escape",
                    ));
                }
            },
            0x80..=0xff => return Err((InvalidTargetByte, i, NON_ASCII)),
            b'#' => {
                return Err((
                    FragmentInTarget,
                    i,
                    "RFC 9112 §3.2: a target has no fragment",
                ));
            }
            b'\\' => {
                return Err((
                    InvalidTargetByte,
                    i,
                    "RFC 3986 §3.3: `\\` is not a pchar, and a separator to some file systems",
                ));
            }
            b'^' => 1,
            b if in_path_set(b) => {
                return Err((
                    InvalidTargetByte,
                    i,
                    "WHATWG path percent-encode set: a browser encodes it",
                ));
            }
            _ => 1,
        };
    }
    let Some(query) = query else { return Ok(()) };
    let start = path.len() + 1;
    let mut i = 0;
    while let Some(&b) = query.get(i) {
        i += match b {
            0x80..=0xff => return Err((InvalidTargetByte, start + i, NON_ASCII)),
            b'#' => {
                return Err((
                    FragmentInTarget,
                    start + i,
                    "RFC 9112 §3.2: a target has no fragment",
                ));
            }
            b if in_query_set(b) => {
                return Err((
                    InvalidTargetByte,
                    start + i,
                    "WHATWG query percent-encode set: a browser encodes it",
                ));
            }
            _ => 1,
        };
    }
    Ok(())
}

/// Offsets of the model are within the target; a request puts `GET ` before it.
fn in_request(refusal: Refusal) -> Refusal {
    (refusal.0, refusal.1 + 4, refusal.2)
}

/// The request `GET <target> HTTP/1.1` with a Host.
fn request(target: &[u8]) -> Vec<u8> {
    [&b"GET "[..], target, b" HTTP/1.1\r\nHost: x\r\n\r\n"].concat()
}

/// Our outcome: the path and query, or the error's kind and offset.
fn ours(buf: &[u8]) -> Result<(String, Option<String>), (ErrorKind, usize)> {
    let mut headers = [Header::EMPTY; 4];
    match parse_request(buf, &mut headers, &Limits::default()) {
        Ok(Parsed::Complete { value, consumed }) => {
            assert_eq!(consumed, buf.len());
            let target = value.target;
            Ok((
                target.path().unwrap_or_default().to_string(),
                target.query().map(str::to_string),
            ))
        }
        Ok(Parsed::Partial) => panic!("a whole head is partial: {buf:?}"),
        Err(e) => {
            assert_names_its_byte(buf, &e);
            Err((e.kind(), e.offset()))
        }
    }
}

/// httparse's target, if it accepts the whole head.
fn theirs(buf: &[u8]) -> Option<String> {
    let mut headers = [httparse::EMPTY_HEADER; 4];
    let mut request = httparse::Request::new(&mut headers);
    match request.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n == buf.len() => request.path.map(str::to_string),
        _ => None,
    }
}

/// Checks one target against the model and httparse; returns the model's outcome.
fn check(target: &[u8]) -> Result<(), Refusal> {
    let buf = request(target);
    let expected = model(target).map_err(in_request);
    let got = ours(&buf);
    match (&expected, &got) {
        (Ok(()), Ok((path, query))) => {
            let theirs = theirs(&buf);
            let ours = match query {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            assert_eq!(theirs.as_deref(), Some(ours.as_str()), "{target:?}");
        }
        (Err((kind, at, rule)), Err(got)) => {
            assert_eq!((*kind, *at), *got, "{target:?}: {rule}");
        }
        _ => panic!("{target:?}: the model says {expected:?}, the grammar {got:?}"),
    }
    if theirs(&buf).is_some() && browser_could_send(target) {
        match &expected {
            Ok(()) => {}
            Err((InvalidPercentEncoding, _, _)) => {}
            Err(refusal) => panic!("{target:?}: a browser could send it, refused {refusal:?}"),
        }
    }
    expected
}

#[test]
fn every_single_byte_in_a_path_and_in_a_query() {
    let mut refused = Vec::new();
    for b in 0..=255u8 {
        if b" \r\n\t".contains(&b) {
            // These end the target, so they are the request-line's bytes, not the target's.
            continue;
        }
        for target in [vec![b'/', b'a', b, b'z'], vec![b'/', b'?', b'a', b, b'z']] {
            if let Err((kind, _, rule)) = check(&target) {
                refused.push((target.len() == 5, b, kind, rule));
            }
        }
    }
    // What a path refuses beyond a query: `\`, `{`, `}`, `` ` ``, a bad escape (`%` followed
    // by `z`).
    let path_only: Vec<u8> = refused
        .iter()
        .filter(|(query, b, ..)| !query && !refused.iter().any(|r| r.0 && r.1 == *b))
        .map(|r| r.1)
        .collect();
    assert_eq!(path_only, b"%\\`{}");
    // Both refuse controls, DEL, `"`, `<`, `>`, `#` and every byte above DEL on its own.
    let both: Vec<u8> = refused.iter().filter(|r| r.0).map(|r| r.1).collect();
    let expected: Vec<u8> = (0..=255u8)
        .filter(|b| !b" \r\n\t".contains(b))
        .filter(|&b| !(0x20..0x7f).contains(&b) || b"\"#<>".contains(&b))
        .collect();
    assert_eq!(both, expected);
}

#[test]
fn the_targets_browsers_and_curl_send() {
    for target in [
        &b"/photo%20[1].txt"[..],
        b"/a[b]|c^d",
        b"/!$&'()*+,;=:@~-._",
        b"/?ids[]=1&f=a|b",
        b"/?q=100%",
        b"/x?q=%zz",
        b"/?x={%22a%22:1}&t=`^\\",
        b"/%E6%97%A5%E6%9C%AC.txt",
        b"/?q=%E6%97%A5",
    ] {
        assert_eq!(
            check(target),
            Ok(()),
            "{:?}",
            String::from_utf8_lossy(target)
        );
    }
}

/// One piece of a generated target.
fn atom() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => (0x21u8..=0x7e).prop_map(|b| vec![b]),
        2 => "[0-9a-fA-F]{2}".prop_map(|hex| format!("%{hex}").into_bytes()),
        1 => (0x21u8..=0x7e).prop_map(|b| vec![b'%', b]),
        2 => any::<char>()
            .prop_filter("non-ASCII", |c| !c.is_ascii())
            .prop_map(|c| c.to_string().into_bytes()),
        1 => (0x80u8..=0xff).prop_map(|b| vec![b]),
        1 => prop_oneof![0x00u8..=0x08, 0x0bu8..=0x0c, 0x0eu8..=0x1f, Just(0x7f)]
            .prop_map(|b| vec![b]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn non_ascii_text_is_taken_encoded_and_refused_raw(text in "[^\\x00-\\x7F]{1,6}") {
        let encoded: String = text
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
            .collect();
        prop_assert_eq!(check(format!("/{encoded}?q={encoded}").as_bytes()), Ok(()));
        // The first byte of the text, right after `GET /`.
        let raw = format!("/{text}");
        prop_assert_eq!(
            check(raw.as_bytes()).err().map(|(kind, at, _)| (kind, at)),
            Some((InvalidTargetByte, 5))
        );
    }

    #[test]
    fn generated_targets_agree_with_the_model_and_httparse(
        atoms in proptest::collection::vec(atom(), 0..12)
    ) {
        let target = [&b"/"[..], &atoms.concat()].concat();
        check(&target).ok();
    }
}
