//! HTML text for the pages the server writes itself (listings, error pages).

/// Appends `text` to `out` escaped for HTML text and double- or single-quoted attribute
/// values (the five characters the HTML standard's serialisation algorithm and OWASP name).
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}
