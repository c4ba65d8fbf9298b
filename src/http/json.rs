//! JSON text the server writes itself (the access log's JSON lines, JSON listings).

use std::fmt::Write as _;

/// Appends `bytes` as a JSON string (RFC 8259 §7): `"` and `\` escaped with a backslash;
/// every C0 control (U+0000–U+001F), DEL, every C1 control (U+0080–U+009F), U+2028 and
/// U+2029 as `\uXXXX` (`\n`, `\r` and `\t` for the common ones); and each maximal run of
/// bytes that is not UTF-8 replaced by U+FFFD. RFC 8259 requires only the C0 controls
/// escaped; the rest are escaped so that no reader of the log meets a character that
/// moves its cursor or ends its line (a terminal takes C1 controls as commands, and
/// JavaScript before ES2019 and many line splitters take U+2028 and U+2029 as line ends).
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
                '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' => {
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

#[cfg(test)]
mod tests {
    use super::string;

    fn json(text: &str) -> String {
        let mut out = String::new();
        string(&mut out, text.as_bytes());
        out
    }

    #[test]
    fn every_c0_and_c1_control_del_and_the_unicode_line_ends_are_escaped() {
        let escaped = ('\u{0}'..='\u{1f}')
            .chain('\u{7f}'..='\u{9f}')
            .chain(['\u{2028}', '\u{2029}']);
        for c in escaped {
            let out = json(&format!("a{c}b"));
            let short = match c {
                '\n' => Some("\"a\\nb\""),
                '\r' => Some("\"a\\rb\""),
                '\t' => Some("\"a\\tb\""),
                _ => None,
            };
            let expected =
                short.map_or_else(|| format!("\"a\\u{:04x}b\"", u32::from(c)), str::to_string);
            assert_eq!(out, expected, "U+{:04X}", u32::from(c));
            assert!(out.chars().all(|c| !c.is_control()), "{out:?}");
        }
    }

    #[test]
    fn printable_characters_around_the_controls_stay_as_they_are() {
        for text in ["~", "\u{a0}", "\u{e9}", "\u{2027}", "\u{2030}", "\u{1F600}"] {
            assert_eq!(json(text), format!("\"{text}\""));
        }
    }
}
