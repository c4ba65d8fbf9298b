//! Proactive negotiation a response needs outside the static files too (RFC 9110 §12.1).

use nomserve_grammar::{Headers, MediaRange, parse_accept};

/// Whether the client prefers HTML: a browser navigating. Its Accept fields (all of them,
/// as one list, RFC 9110 §5.3) list `text/html` explicitly, with a weight above 0 that no
/// other range listed exceeds (RFC 9110 §12.5.1, §12.4.2). A browser's navigation says
/// `text/html,...,*/*;q=0.8`; a script's `fetch` says `*/*`, an image `image/avif,...,*/*`,
/// a stylesheet `text/css,*/*;q=0.1`: none of them, so a missing `/app.js` stays `404`.
/// `*/*` alone, or `text/*`, does not count: any client accepts HTML that way. No Accept, or
/// a malformed one, is not a preference.
pub fn prefers_html(headers: &Headers<'_, '_>) -> bool {
    html_first(headers.get_all("accept"))
}

/// The same preference, for a request head the grammar refused, so that a browser sees its
/// 400 as a page: the values of the lines that start `Accept:` (the name in any case, the
/// colon right after it), among the complete lines before the head's end or the bytes' end,
/// with the same rule. Read leniently because nothing rides on it but the error's
/// representation: the connection is closed after the error either way, and what the rest of
/// the head held is not used.
pub fn refused_head_prefers_html(received: &[u8]) -> bool {
    let values = received
        .split_inclusive(|&b| b == b'\n')
        .skip(1)
        .filter(|line| line.ends_with(b"\n"))
        .map(|line| line.trim_ascii_end())
        .take_while(|line| !line.is_empty())
        .filter_map(|line| {
            let (name, value) = line.split_at(line.iter().position(|&b| b == b':')?);
            name.eq_ignore_ascii_case(b"accept")
                .then(|| value[1..].trim_ascii())
        });
    html_first(values)
}

/// Whether the Accept field values `values`, as one list, put `text/html` first (see
/// [`prefers_html`]).
fn html_first<'a>(values: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut ranges: Vec<MediaRange<'_>> = Vec::new();
    for value in values {
        match parse_accept(value) {
            Some(more) => ranges.extend(more),
            None => return false,
        }
    }
    let listed = ranges
        .iter()
        .any(|r| r.kind.eq_ignore_ascii_case("text") && r.subtype.eq_ignore_ascii_case("html"));
    let html = MediaRange::quality(&ranges, "text", "html").unwrap_or(0);
    let highest = ranges.iter().map(|r| r.q).max().unwrap_or(0);
    listed && html > 0 && html >= highest
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::Header;

    #[test]
    fn html_is_preferred_only_when_listed_first_among_equals() {
        let prefers = |values: &[&str]| {
            let fields: Vec<Header<'_>> = values
                .iter()
                .map(|value| Header {
                    name: "Accept",
                    value: value.as_bytes(),
                })
                .collect();
            prefers_html(&Headers::new(&fields))
        };
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,\
                        image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7";
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(prefers(&[chromium]));
        assert!(prefers(&[firefox]));
        assert!(prefers(&["TEXT/HTML;q=0.5, */*;q=0.5"]));
        assert!(prefers(&["application/json;q=0.2", "text/html"]));
        for not in [
            &["*/*"][..],
            &["text/*"],
            &[],
            &["text/css,*/*;q=0.1"],
            &["image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"],
            &["application/json, text/html;q=0.9"],
            &["text/html;q=0"],
            &["text/html;q=0.5, */*"],
            &["text/html;q=2"],
            &["text/html", "nonsense"],
        ] {
            assert!(!prefers(not), "{not:?}");
        }
    }

    #[test]
    fn a_refused_head_is_read_for_accept_leniently() {
        let firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        let head = |fields: &str| format!("GET /a\x01 HTTP/1.1\r\n{fields}\r\n");
        assert!(refused_head_prefers_html(
            head(&format!("Host: x\r\naccept: {firefox}\r\n")).as_bytes()
        ));
        // Bare LF line ends, a field the grammar refuses beside it: still read.
        assert!(refused_head_prefers_html(
            b"GET / HTTP/1.1\nHost : x\nAccept:text/html\n"
        ));
        for not in [
            head("Host: x\r\n"),
            head("Accept: */*\r\n"),
            head("Accept : text/html\r\n"),
            head("X-Accept: text/html\r\n"),
            "GET / HTTP/1.1\r\nHost: x\r\n\r\nAccept: text/html\r\n".to_string(),
            "GET / HTTP/1.1\r\nAccept: text/html".to_string(),
            "Accept: text/html\r\n".to_string(),
        ] {
            assert!(!refused_head_prefers_html(not.as_bytes()), "{not:?}");
        }
    }
}
