//! Error responses for people: a browser gets a small HTML page where other clients get the
//! error's text.
//!
//! A response of 400 or more whose body is the server's own text (`text/plain`, as
//! [`Response::text`] makes it) is rewritten as a page when the request prefers HTML
//! ([`prefers_html`](super::negotiate::prefers_html): a browser navigating): the status as the
//! title, a sentence saying what it means, the text as the precise reason when it says more
//! than the status (for a 400, the rule, the byte and its offset), and a link to the site's
//! home, except on a page for the home itself (`/`), where the link would lead back to the
//! same error (a site without an index file and listings off answers `/` with `404`). The
//! status and every other field are kept; a page an operator configured
//! (`--error-page`) is not text and is left alone. A request head the grammar refused gets a
//! page too when its Accept, read leniently, asks for one
//! ([`refused_head_prefers_html`](super::negotiate::refused_head_prefers_html)).

use super::html;
use super::response::{Body, Response};
use super::writer::reason_phrase;
use std::borrow::Cow;

/// `response` as a page, when it is an error in text; else as it is. `path` is the request's
/// path when it is known (`None` for a head that did not parse): the page for `/` has no
/// link home.
pub fn for_people(response: Response, path: Option<&str>) -> Response {
    let is_text = response.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type") && value.starts_with("text/plain")
    });
    if response.status < 400 || !is_text {
        return response;
    }
    let Body::Bytes(text) = &response.body else {
        return response;
    };
    let phrase = reason_phrase(response.status);
    let text = String::from_utf8_lossy(text);
    let text = text.trim_end();
    let title = format!("{} {phrase}", response.status);
    let mut paragraphs = String::new();
    if let Some(meaning) = meaning(response.status) {
        paragraphs.push_str("<p class=\"meaning\">");
        paragraphs.push_str(meaning);
        paragraphs.push_str("</p>\n");
    }
    if text != phrase {
        paragraphs.push_str("<p class=\"reason\">");
        html::escape(text, &mut paragraphs);
        paragraphs.push_str("</p>\n");
    }
    let home = if path == Some("/") {
        ""
    } else {
        "<p><a href=\"/\">Back to the home page</a></p>\n"
    };
    let page = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>{title}</h1>\n{paragraphs}{home}</main>\n</body>\n</html>\n"
    );
    let mut response = response;
    response
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
    response
        .header("Content-Type", "text/html; charset=utf-8")
        .header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        )
        .body(Body::Bytes(Cow::Owned(page.into_bytes())))
}

/// What an error status means, said to a person (after the definitions of RFC 9110 §15.5
/// and §15.6, RFC 6585 §3 to §5): for the statuses the server answers with.
fn meaning(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "The server could not make sense of the request your browser sent.",
        401 => "This page needs a user name and a password.",
        403 => "You are not allowed to see this page.",
        404 => "There is nothing at this address. Check it for a typing mistake.",
        405 => "This address does not take that kind of request.",
        406 => "The server has no version of this page in a form your browser accepts.",
        408 => "The request took too long to arrive.",
        411 => "The request had a body without saying how long it is.",
        412 => "The page changed since your browser last saw it.",
        413 => "The request carried more data than the server takes.",
        414 => "The address is longer than the server takes.",
        416 => "The part of the file asked for lies outside it.",
        417 => "The server cannot meet the expectation the request stated.",
        429 => "Too many requests came in a short time. Wait a moment and try again.",
        431 => "The request's header fields are larger than the server takes.",
        500 => "Something went wrong on the server while it answered.",
        501 => "The server does not do what the request asked.",
        503 => "The server cannot answer right now. Try again in a moment.",
        505 => "The server does not speak the HTTP version the request used.",
        _ => return None,
    })
}

/// The page's style: readable in light and dark (`prefers-color-scheme`), nothing fetched.
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;display:flex;\
min-height:100vh;align-items:center;justify-content:center;background:#fafafa;color:#222}\
main{max-width:40em;padding:2em}h1{font-size:1.6em;margin:0 0 .5em}\
.meaning{margin:0 0 1em}.reason{font-family:ui-monospace,monospace;background:#eee;padding:.6em .8em;\
border-radius:6px;overflow-wrap:anywhere}a{color:#0b63c5}\
@media (prefers-color-scheme:dark){body{background:#16181b;color:#ddd}\
.reason{background:#24272b}a{color:#6cb0ff}}";

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response) -> String {
        match &response.body {
            Body::Bytes(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
            _ => panic!("not bytes"),
        }
    }

    #[test]
    fn a_text_error_becomes_a_page_with_its_status_meaning_and_a_way_home() {
        let page = for_people(
            Response::text(404, "Not Found").header("X-Content-Type-Options", "nosniff"),
            Some("/missing"),
        );
        assert_eq!(page.status, 404);
        let html = body(&page);
        assert!(html.contains("<title>404 Not Found</title>"), "{html}");
        assert!(
            html.contains(
                "<h1>404 Not Found</h1>\n<p class=\"meaning\">There is nothing at this \
                 address. Check it for a typing mistake.</p>\n<p><a href=\"/\">"
            ),
            "a text that only repeats the status is not shown again: {html}"
        );
        assert!(html.contains("<a href=\"/\">"), "{html}");
        let fields: Vec<_> = page
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert!(fields.contains(&("Content-Type".into(), "text/html; charset=utf-8".into())));
        assert!(fields.contains(&("X-Content-Type-Options".into(), "nosniff".into())));
        assert_eq!(
            fields.iter().filter(|(n, _)| n == "Content-Type").count(),
            1
        );
        let hostile = for_people(Response::text(400, "bad <script>&\"'"), None);
        assert!(body(&hostile).contains(
            "<p class=\"meaning\">The server could not make sense of the request your \
             browser sent.</p>\n<p class=\"reason\">bad &lt;script&gt;&amp;&quot;&#39;</p>"
        ));
        let unlisted = body(&for_people(Response::text(418, "short and stout"), None));
        assert!(!unlisted.contains("class=\"meaning\""), "{unlisted}");
        assert!(unlisted.contains("<p class=\"reason\">short and stout</p>"));
    }

    /// The page for the home itself has no link home: it would lead back to the same error.
    #[test]
    fn the_page_for_the_home_has_no_link_to_itself() {
        let at_home = body(&for_people(Response::text(404, "Not Found"), Some("/")));
        assert!(at_home.contains("<h1>404 Not Found</h1>"), "{at_home}");
        assert!(!at_home.contains("<a "), "{at_home}");
        let elsewhere = body(&for_people(Response::text(404, "Not Found"), Some("/a/")));
        assert!(elsewhere.contains("<a href=\"/\">Back to the home page</a>"));
    }

    /// A grammar error's sentence reaches the page whole, its byte escaped like the rest.
    #[test]
    fn a_grammar_error_keeps_its_offset_and_byte_escaped() {
        let mut headers = [nomserve_grammar::Header::EMPTY; 4];
        let error = nomserve_grammar::parse_request(
            b"GET / HTTP/1.1\r\nHost: x\r\nA<b: 1\r\n\r\n",
            &mut headers,
            &nomserve_grammar::Limits::default(),
        )
        .unwrap_err();
        let page = for_people(Response::text(400, format!("{error}\n")), None);
        let html = body(&page);
        assert!(
            html.contains(
                "<p class=\"reason\">invalid byte in field name at byte 26, \
                 found &#39;&lt;&#39; (0x3c) (RFC 9110 §5.1)</p>"
            ),
            "{html}"
        );
    }

    #[test]
    fn successes_and_pages_already_made_are_left_alone() {
        assert_eq!(body(&for_people(Response::text(200, "fine"), None)), "fine");
        let made = Response::new(404)
            .header("Content-Type", "text/html; charset=utf-8")
            .body(Body::Bytes(Cow::Borrowed(b"<h1>custom</h1>")));
        assert_eq!(body(&for_people(made, None)), "<h1>custom</h1>");
    }
}
