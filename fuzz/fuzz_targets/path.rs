//! Fuzzes `decode_path` for the promise the static file handler relies on: every segment of
//! an `Ok` path is non-empty, not `.` or `..`, and holds no `/`, `\` or NUL, so joining it
//! under the root can neither climb out nor be split again. Also: an error's offset is inside
//! the input, the empty segment list always has a trailing slash, and the decoded path,
//! percent-encoded again and decoded, gives the same segments (decoding is a fixpoint of
//! re-encoding: no segment changes meaning on a second pass).

#![no_main]

use libfuzzer_sys::fuzz_target;
use nomserve_grammar::decode_path;

/// Every byte outside RFC 3986 §2.3's unreserved set as `%XX`.
fn encode(segment: &[u8], out: &mut String) {
    for &b in segment {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Ok(path) = std::str::from_utf8(input) else {
        return;
    };
    let decoded = match decode_path(path) {
        Ok(decoded) => decoded,
        Err(error) => {
            assert!(error.offset() <= path.len(), "{error:?}");
            return;
        }
    };
    for segment in &decoded.segments {
        assert!(!segment.is_empty());
        assert!(&**segment != b"." && &**segment != b"..", "{segment:?}");
        assert!(
            !segment.iter().any(|b| matches!(b, b'/' | b'\\' | 0)),
            "{segment:?}"
        );
    }
    if decoded.segments.is_empty() {
        assert!(decoded.trailing_slash);
    }
    let mut written = String::new();
    for segment in &decoded.segments {
        written.push('/');
        encode(segment, &mut written);
    }
    if decoded.trailing_slash {
        written.push('/');
    }
    let again = decode_path(&written).unwrap_or_else(|e| panic!("{written:?}: {e}"));
    assert_eq!(again, decoded, "{written:?}");
});
