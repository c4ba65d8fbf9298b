//! The multipart decoder over bodies real clients made, kept in `tests/multipart/`:
//! `curl -F` (curl 7.88, captured from the wire), Python's `requests` and urllib3's
//! `encode_multipart_formdata`, and Chromium's (a `FormData` sent by `fetch` from headless
//! Chromium 156, captured from the wire: `----WebKitFormBoundary…`, a `"` in a file name
//! sent as `%22`, CR and LF in a name as `%0D%0A`, an LF in a value as CRLF). Each is decoded whole,
//! split at every point, and byte by byte, to the same parts.

use nomserve_grammar::{
    MultipartDecoder, MultipartErrorKind, MultipartEvent, MultipartLimits, Parsed, PartHead,
    parse_boundary,
};
use std::path::Path;

/// A part as decoded: its head and its content.
type Part = (PartHead, Vec<u8>);

fn vector(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/multipart")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The body of vector `name` decoded with the boundary of its Content-Type, fed in pieces of
/// the sizes `sizes` gives (the rest at once when they run out).
fn decode(name: &str, sizes: &[usize]) -> Vec<Part> {
    let content_type = vector(&format!("{name}.content-type"));
    let boundary = parse_boundary(content_type.trim_ascii_end()).expect("a form");
    let body = vector(&format!("{name}.body"));
    let mut decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
    let mut buffer = Vec::new();
    let mut fed = 0;
    let mut pieces = sizes.iter();
    let mut parts: Vec<Part> = Vec::new();
    loop {
        match decoder.decode(&buffer).expect("a valid body") {
            Parsed::Complete { value, consumed } => {
                match value {
                    MultipartEvent::PartStart(head) => parts.push((head, Vec::new())),
                    MultipartEvent::Data(d) => {
                        if let Some((_, content)) = parts.last_mut() {
                            content.extend_from_slice(d);
                        }
                    }
                    MultipartEvent::PartEnd => {}
                    MultipartEvent::End => {
                        // The epilogue (the CRLF after the close-delimiter) is taken too.
                        buffer.drain(..consumed);
                        buffer.extend_from_slice(&body[fed..]);
                        let end = Parsed::Complete {
                            value: MultipartEvent::End,
                            consumed: buffer.len(),
                        };
                        assert_eq!(decoder.decode(&buffer), Ok(end));
                        assert_eq!(decoder.finish(b""), Ok(()));
                        return parts;
                    }
                }
                buffer.drain(..consumed);
            }
            Parsed::Partial => {
                assert!(fed < body.len(), "{name}: body ended early");
                let n = pieces.next().copied().unwrap_or(body.len());
                let n = n.clamp(1, body.len() - fed);
                buffer.extend_from_slice(&body[fed..fed + n]);
                fed += n;
            }
        }
    }
}

/// Checks that vector `name` decodes to `expected` however it is split.
fn check(name: &str, expected: &[Part]) {
    assert_eq!(decode(name, &[]), expected, "{name} whole");
    let len = vector(&format!("{name}.body")).len();
    for split in 0..=len {
        assert_eq!(decode(name, &[split]), expected, "{name} split at {split}");
    }
    assert_eq!(decode(name, &vec![1; len]), expected, "{name} byte by byte");
}

fn head(name: &str, filename: Option<&str>, content_type: Option<&str>) -> PartHead {
    PartHead {
        name: name.into(),
        filename: filename.map(Into::into),
        filename_star: None,
        content_type: content_type.map(Into::into),
    }
}

#[test]
fn curl() {
    // curl -F a=@data.bin -F b=text -F 'c=@data.bin;filename=résumé "q".txt;type=text/plain'
    let data = vector("data.bin");
    let expected = [
        (
            head("a", Some("data.bin"), Some("application/octet-stream")),
            data.clone(),
        ),
        (head("b", None, None), b"text".to_vec()),
        (
            head("c", Some("résumé %22q%22.txt"), Some("text/plain")),
            data,
        ),
    ];
    check("curl", &expected);
}

#[test]
fn urllib3() {
    // encode_multipart_formdata([("field", "value é"),
    //     ("upload", ("naïve\\name.bin", data, "application/octet-stream"))])
    let expected = [
        (head("field", None, None), "value é".as_bytes().to_vec()),
        (
            // urllib3 sends the backslash as it is; it stays one.
            head(
                "upload",
                Some("naïve\\name.bin"),
                Some("application/octet-stream"),
            ),
            vector("data.bin"),
        ),
    ];
    check("urllib3", &expected);
}

#[test]
fn requests() {
    // requests.Request(files={"doc": ('report "final".txt', ..., "text/plain")},
    //     data={"k": "v"})
    let expected = [
        (head("k", None, None), b"v".to_vec()),
        (
            head("doc", Some("report %22final%22.txt"), Some("text/plain")),
            b"line1\r\nline2\r\n".to_vec(),
        ),
    ];
    check("requests", &expected);
}

#[test]
fn chromium() {
    // fd.append("comment", "a line\nanother");
    // fd.append("files", new File(["%PDF-1.4\n"], 'report "q1".pdf', {type: "application/pdf"}));
    // fd.append("files", new File([bytes 0..=255, "\r\n------WebKitFormBoundary\r\n"],
    //     "für München.png", {type: "image/png"}));
    // fd.append("empty", new File([], "", {type: ""}));
    // fd.append("odd\r\nname", "");
    let mut png: Vec<u8> = (0..=255).collect();
    png.extend_from_slice(b"\r\n------WebKitFormBoundary\r\n");
    let expected = [
        (head("comment", None, None), b"a line\r\nanother".to_vec()),
        (
            head(
                "files",
                Some("report %22q1%22.pdf"),
                Some("application/pdf"),
            ),
            b"%PDF-1.4\n".to_vec(),
        ),
        (
            head("files", Some("für München.png"), Some("image/png")),
            png,
        ),
        (
            // A file with no name and no type, as an empty file input is sent.
            head("empty", Some(""), Some("application/octet-stream")),
            Vec::new(),
        ),
        (head("odd%0D%0Aname", None, None), Vec::new()),
    ];
    check("chromium", &expected);
}

#[test]
fn a_cut_vector_is_truncated() {
    let boundary = parse_boundary(vector("curl.content-type").trim_ascii_end()).unwrap();
    let body = vector("curl.body");
    let cut = &body[..body.len() - 3];
    let mut decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
    let mut rest = cut;
    loop {
        match decoder.decode(rest) {
            Ok(Parsed::Complete { consumed, value }) => {
                assert_ne!(value, MultipartEvent::End);
                rest = &rest[consumed..];
            }
            Ok(Parsed::Partial) => break,
            Err(e) => panic!("{e}"),
        }
    }
    let error = decoder.finish(rest).unwrap_err();
    assert_eq!(
        (error.kind(), error.offset(), error.status()),
        (MultipartErrorKind::Truncated, cut.len(), 400)
    );
}
