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
    let mut ranges: Vec<MediaRange<'_>> = Vec::new();
    for value in headers.get_all("accept") {
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
}
