//! The decoder over whole bodies: accepted, partial, each rejection, every split point, and
//! a round trip of random forms fed in random pieces.

use super::*;
use crate::types::Parsed;
use MultipartErrorKind::*;
use proptest::prelude::*;

/// A part as decoded: its head and its content.
type Part = (PartHead, Vec<u8>);

/// How feeding a body ended, when it did not fail.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// End came: the parts.
    End(Vec<Part>),
    /// Every byte was fed and the decoder wants more; `finish` then said this.
    Short(MultipartError),
}

/// Feeds `body` to a fresh decoder the way a server does: a buffer that grows by the pieces
/// `sizes` gives (the rest at once when they run out), from which consumed bytes are dropped.
/// Checks the contract at every step.
fn run(
    boundary: &[u8],
    body: &[u8],
    sizes: &[usize],
    limits: MultipartLimits,
) -> Result<Outcome, MultipartError> {
    let boundary = Boundary::new(boundary).expect("a valid boundary");
    let mut decoder = MultipartDecoder::new(boundary, limits);
    let mut buffer: Vec<u8> = Vec::new();
    let mut fed = 0;
    let mut pieces = sizes.iter();
    let mut parts: Vec<Part> = Vec::new();
    let mut open = false;
    loop {
        match decoder.decode(&buffer)? {
            Parsed::Complete { value, consumed } => {
                assert!(consumed <= buffer.len());
                match value {
                    MultipartEvent::PartStart(head) => {
                        assert!(!open && consumed > 0);
                        parts.push((head, Vec::new()));
                        open = true;
                    }
                    MultipartEvent::Data(d) => {
                        assert!(consumed > 0 && d.len() <= consumed);
                        assert!(open || d.is_empty(), "content outside a part");
                        if let Some((_, content)) = parts.last_mut() {
                            content.extend_from_slice(d);
                        }
                    }
                    MultipartEvent::PartEnd => {
                        assert!(open && consumed > 0);
                        open = false;
                    }
                    MultipartEvent::End => {
                        assert!(!open);
                        buffer.drain(..consumed);
                        assert!(buffer.is_empty(), "the epilogue is consumed");
                        // End is sticky and takes any epilogue that follows.
                        let again = decoder.decode(b"epilogue")?;
                        let end = Parsed::Complete {
                            value: MultipartEvent::End,
                            consumed: 8,
                        };
                        assert_eq!(again, end);
                        assert_eq!(decoder.finish(b""), Ok(()));
                        return Ok(Outcome::End(parts));
                    }
                }
                buffer.drain(..consumed);
            }
            Parsed::Partial => {
                assert!(
                    buffer.len() <= decoder.lookahead(),
                    "buffered past the bound"
                );
                if fed == body.len() {
                    let error = decoder.finish(&buffer).expect_err("a cut body");
                    assert_eq!((error.kind(), error.offset()), (Truncated, body.len()));
                    return Ok(Outcome::Short(error));
                }
                let n = pieces
                    .next()
                    .copied()
                    .unwrap_or(body.len())
                    .clamp(1, body.len() - fed);
                buffer.extend_from_slice(&body[fed..fed + n]);
                fed += n;
            }
        }
    }
}

/// [`run`] on a body expected to end, fed whole.
fn parts(boundary: &[u8], body: &[u8]) -> Result<Vec<Part>, MultipartError> {
    match run(boundary, body, &[], MultipartLimits::default())? {
        Outcome::End(parts) => Ok(parts),
        Outcome::Short(e) => Err(e),
    }
}

/// A plain field's head.
fn field(name: &str) -> PartHead {
    PartHead {
        name: name.into(),
        ..PartHead::default()
    }
}

/// A file's head.
fn file(name: &str, filename: &str, content_type: &str) -> PartHead {
    PartHead {
        name: name.into(),
        filename: Some(filename.into()),
        content_type: Some(content_type.into()),
        ..PartHead::default()
    }
}

const CD: &str = "Content-Disposition: form-data; name=";

#[test]
fn accepted_bodies() {
    let two = format!(
        "--b\r\n{CD}\"a\"\r\n\r\nx\r\n--b\r\n{CD}\"f\"; filename=\"t.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n\r\n-b\r\n\r\n--b--\r\n"
    );
    let expected = vec![
        (field("a"), b"x".to_vec()),
        (
            file("f", "t.bin", "application/octet-stream"),
            b"\r\n-b\r\n".to_vec(),
        ),
    ];
    assert_eq!(parts(b"b", two.as_bytes()), Ok(expected));
    let cases: &[(String, Vec<Part>)] = &[
        // No parts at all, as urllib3 encodes an empty form.
        ("--b--\r\n".into(), vec![]),
        ("--b--".into(), vec![]),
        // Preamble, transport-padding, an empty part, an epilogue.
        (
            format!("preamble\r\n--b \t\r\n{CD}e\r\n\r\n\r\n--b-- \r\nepilogue\r\n--b\r\n"),
            vec![(field("e"), vec![])],
        ),
        (
            format!("\r\n--b\r\n{CD}e\r\n\r\n-\r\n--b--"),
            vec![(field("e"), b"-".to_vec())],
        ),
        // Content that looks like a delimiter without being one.
        (
            format!("--b\r\n{CD}e\r\n\r\n--b\r\n-b\n--b\r--b\r\n--c\r\n--b--"),
            vec![(field("e"), b"--b\r\n-b\n--b\r--b\r\n--c".to_vec())],
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            parts(b"b", body.as_bytes()).as_ref(),
            Ok(expected),
            "{body:?}"
        );
    }
}

#[test]
fn refused_bodies() {
    let cases: &[(String, MultipartErrorKind, usize)] = &[
        (
            format!("--b\r\n{CD}a\r\n\r\nx\r\n--bx"),
            InvalidDelimiter,
            53,
        ),
        (
            format!("--b\r\n{CD}a\r\n\r\nx\r\n--b -"),
            InvalidDelimiter,
            54,
        ),
        ("--b\n".into(), InvalidDelimiter, 3),
        ("--b\r\n\r\n\r\n--b--".into(), MissingContentDisposition, 5),
        (
            "--b\r\nX: 1\r\n\r\n\r\n--b--".into(),
            MissingContentDisposition,
            11,
        ),
        (
            "--b\r\nContent-Disposition: inline\r\n\r\n".into(),
            InvalidContentDisposition,
            26,
        ),
        ("--b\r\n folded: x\r\n\r\n".into(), InvalidPartHeader, 5),
        (
            format!("--b\r\n{CD}a\r\nX: \x01\r\n\r\n"),
            InvalidPartHeader,
            48,
        ),
    ];
    for (body, kind, offset) in cases {
        let got = parts(b"b", body.as_bytes()).map_err(|e| (e.kind(), e.offset()));
        assert_eq!(got, Err((*kind, *offset)), "{body:?}");
    }
}

#[test]
fn truncated_bodies() {
    let body = format!("--b\r\n{CD}a\r\n\r\nxyz\r\n--b--");
    for cut in 0..body.len() {
        let got = run(
            b"b",
            &body.as_bytes()[..cut],
            &[],
            MultipartLimits::default(),
        );
        let error = MultipartError::new(Truncated, cut);
        assert_eq!(got, Ok(Outcome::Short(error)), "cut at {cut}");
    }
    assert_eq!(
        MultipartError::new(Truncated, 7).to_string(),
        "body ended before the close-delimiter at byte 7 (RFC 2046 §5.1.1)"
    );
}

#[test]
fn partial_holds_back_only_a_possible_delimiter() {
    let boundary = Boundary::new(b"bound").unwrap();
    let mut decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
    for prefix in [&b""[..], b"-", b"--bou"] {
        assert_eq!(decoder.decode(prefix), Ok(Parsed::Partial), "{prefix:?}");
    }
    // A dash-boundary is consumed once it is whole; its line's end waits.
    let mut first = decoder.clone();
    assert_eq!(
        first.decode(b"--bound  "),
        Ok(Parsed::Complete {
            value: MultipartEvent::Data(b""),
            consumed: 7
        })
    );
    for prefix in [&b"  "[..], b"  \r"] {
        assert_eq!(first.decode(prefix), Ok(Parsed::Partial), "{prefix:?}");
    }
    let head = format!("--bound\r\n{CD}a\r\n\r\n");
    match decoder.decode(head.as_bytes()) {
        Ok(Parsed::Complete {
            value: MultipartEvent::PartStart(h),
            consumed,
        }) => assert_eq!((h, consumed), (field("a"), head.len())),
        other => panic!("{other:?}"),
    }
    for (input, data) in [
        (&b"abc\r\n--bo"[..], &b"abc"[..]),
        (b"\r\n--bo", b""),
        (b"\r\n--bx", b"\r\n--bx"),
        (b"ab\rc", b"ab\rc"),
        (b"ab\r", b"ab"),
    ] {
        let got = decoder.decode(input);
        let expected = match data {
            [] => Parsed::Partial,
            _ => Parsed::Complete {
                value: MultipartEvent::Data(data),
                consumed: data.len(),
            },
        };
        assert_eq!(got, Ok(expected), "{input:?}");
    }
    assert_eq!(
        decoder.decode(b"\r\n--bound--"),
        Ok(Parsed::Complete {
            value: MultipartEvent::PartEnd,
            consumed: 9
        })
    );
    // The preamble is consumed as it comes, but for a possible delimiter at its end.
    let mut decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
    assert_eq!(
        decoder.decode(b"preamble\r\n--bo"),
        Ok(Parsed::Complete {
            value: MultipartEvent::Data(b""),
            consumed: 8
        })
    );
}

#[test]
fn errors_repeat_and_count_from_the_body_start() {
    let boundary = Boundary::new(b"b").unwrap();
    let mut decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
    assert!(matches!(
        decoder.decode(b"pre"),
        Ok(Parsed::Complete { consumed: 3, .. })
    ));
    let error = decoder.decode(b"\r\n--b?").unwrap_err();
    assert_eq!(
        (error.kind(), error.offset(), error.status()),
        (InvalidDelimiter, 8, 400)
    );
    assert_eq!(decoder.decode(b"--b--"), Err(error));
    assert_eq!(decoder.finish(b""), Err(error));
}

#[test]
fn limits() {
    let one = format!("--b\r\n{CD}a\r\n\r\nx\r\n");
    let body = format!("{one}{one}--b--");
    let two = MultipartLimits {
        max_parts: 2,
        ..MultipartLimits::default()
    };
    assert!(matches!(
        run(b"b", body.as_bytes(), &[], two),
        Ok(Outcome::End(_))
    ));
    let three = format!("{one}{one}{one}--b--");
    let error = run(b"b", three.as_bytes(), &[], two).unwrap_err();
    assert_eq!(
        (error.kind(), error.offset(), error.status()),
        (TooManyParts, 2 * one.len() + 3, 413)
    );
    // The head bound counts the delimiter line's end and every field line.
    let head = format!("\r\n{CD}a\r\n\r\n");
    let exact = MultipartLimits {
        max_part_head: head.len(),
        ..MultipartLimits::default()
    };
    assert!(matches!(
        run(b"b", body.as_bytes(), &[1; 200], exact),
        Ok(Outcome::End(_))
    ));
    let short = MultipartLimits {
        max_part_head: head.len() - 1,
        ..MultipartLimits::default()
    };
    for sizes in [&[][..], &[1; 200]] {
        let error = run(b"b", body.as_bytes(), sizes, short).unwrap_err();
        assert_eq!((error.kind(), error.status()), (PartHeadTooLarge, 413));
    }
    let padding = format!("--b{}\r\n", " ".repeat(100));
    let error = run(b"b", padding.as_bytes(), &[], short).unwrap_err();
    assert_eq!(
        (error.kind(), error.offset()),
        (PartHeadTooLarge, 3 + head.len() - 1)
    );
}

/// A form with several parts, for the split tests.
fn sample() -> (String, Vec<Part>) {
    let body = format!(
        "ignored\r\n--xyz\r\n{CD}\"a\"\r\n\r\n1\r\n--xyz\r\n{CD}\"f\"; filename=\"a.txt\"; \
         filename*=UTF-8''%C3%A9.txt\r\nContent-Type: text/plain\r\n\r\nline\r\n--xy\r\n\
         \r\n--xyz--\r\nepilogue"
    );
    let mut f = file("f", "a.txt", "text/plain");
    f.filename_star = Some("é.txt".into());
    (
        body,
        vec![
            (field("a"), b"1".to_vec()),
            (f, b"line\r\n--xy\r\n".to_vec()),
        ],
    )
}

#[test]
fn split_at_every_point() {
    let (body, expected) = sample();
    for split in 0..=body.len() {
        let got = run(
            b"xyz",
            body.as_bytes(),
            &[split],
            MultipartLimits::default(),
        );
        assert_eq!(got, Ok(Outcome::End(expected.clone())), "split at {split}");
    }
}

#[test]
fn byte_by_byte() {
    let (body, expected) = sample();
    let ones = vec![1; body.len()];
    let got = run(b"xyz", body.as_bytes(), &ones, MultipartLimits::default());
    assert_eq!(got, Ok(Outcome::End(expected)));
}

/// `parts` encoded as a form body with `boundary`, as browsers write one.
fn encode(boundary: &str, parts: &[(String, Option<String>, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, filename, content) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n{CD}\"{name}\"").as_bytes());
        if let Some(filename) = filename {
            out.extend_from_slice(format!("; filename=\"{filename}\"").as_bytes());
        }
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(content);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// Content made of bytes that often look like a delimiter's start.
fn content() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b"\r\n--".to_vec()),
            Just(b"\r\n-".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"-".to_vec()),
            Just(b"B".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ],
        0..40,
    )
    .prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn encoded_forms_decode_in_any_pieces(
        boundary in "[B'()+_,./:=?-]{1,10}[a-zA-Z0-9]{0,10}",
        parts in proptest::collection::vec(
            ("[a-zA-Z0-9 é_-]{0,12}", proptest::option::of("[^\"\\\\\x00-\x1f\x7f]{0,16}"), content()),
            0..6,
        ),
        pieces in proptest::collection::vec(1usize..40, 0..64),
    ) {
        let body = encode(&boundary, &parts);
        // An encoder picks a boundary that its content does not hold (RFC 2046 §5.1.1).
        let delimiter = format!("\r\n--{boundary}").into_bytes();
        prop_assume!(!parts.iter().any(|(_, _, c)| {
            let mut framed = b"\r\n".to_vec();
            framed.extend_from_slice(c);
            framed.extend_from_slice(b"\r\n");
            framed.windows(delimiter.len()).any(|w| w == delimiter.as_slice())
        }));
        let expected: Vec<Part> = parts
            .iter()
            .map(|(name, filename, content)| {
                let head = PartHead { name: name.clone(), filename: filename.clone(), ..PartHead::default() };
                (head, content.clone())
            })
            .collect();
        let got = run(boundary.as_bytes(), &body, &pieces, MultipartLimits::default());
        prop_assert_eq!(got, Ok(Outcome::End(expected)));
    }

    #[test]
    fn any_input_gives_the_same_result_in_pieces(
        input in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'-'), Just(b'b'), Just(b' '), Just(b':'), any::<u8>()],
            0..80,
        ),
        prefix in any::<bool>(),
        pieces in proptest::collection::vec(1usize..8, 0..16),
    ) {
        let mut body = if prefix {
            format!("--b\r\n{CD}a\r\n\r\n").into_bytes()
        } else {
            Vec::new()
        };
        body.extend_from_slice(&input);
        let whole = run(b"b", &body, &[body.len()], MultipartLimits::default());
        let split = run(b"b", &body, &pieces, MultipartLimits::default());
        prop_assert_eq!(whole, split);
    }
}
