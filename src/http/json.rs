//! JSON text the server writes itself (the access log's JSON lines, JSON listings).

use std::fmt::Write as _;

/// Appends `bytes` as a JSON string (RFC 8259 §7): `"` and `\` escaped with a backslash,
/// control characters, DEL, U+2028 and U+2029 as `\u00XX` (the short forms for the common
/// ones), and each maximal run of bytes that is not UTF-8 replaced by U+FFFD.
pub fn string(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{0}'..='\u{1f}' | '\u{7f}' | '\u{2028}' | '\u{2029}' => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => out.push(c),
            }
        }
        if !chunk.invalid().is_empty() {
            out.push('\u{FFFD}');
        }
    }
    out.push('"');
}
