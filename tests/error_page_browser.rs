//! The error page for people, seen by headless Chromium: a missing page in light and dark mode
//! (status, meaning, reason and a link home that loads), and the page for a request the server
//! refuses with 400.
//!
//! Screenshots go to a temporary directory, or to `$SCREENSHOTS` when set (to keep them, for
//! instance for the README: see `docs/screenshots/README.md`). Without Chromium the tests say
//! how to install it and pass vacuously, unless `CI` is set (see `tests/common/browser.rs`).

mod common;
#[path = "common/browser.rs"]
mod headless;

use common::{Server, get};
use headless::{chromium, dump_dom, links, load, screenshot_dir, top_left_pixel};
use std::fs;

#[test]
fn browser_404_page_light_and_dark_with_a_link_home() {
    let Some(browser) = chromium() else { return };
    let server = Server::start();
    let (_keep, shots) = screenshot_dir();
    let missing = server.url("/no/such/page.html");

    let light_png = shots.join("error-404.png");
    let dom = load(&browser, &missing, &light_png, &[]);
    // The server answered Chromium's navigation with the status, and Chromium rendered the
    // page: the status and its reason phrase as title and heading, then what it means.
    server.wait_for_log("\"GET /no/such/page.html HTTP/1.1\" 404 ");
    assert!(
        dom.contains("<title>404 Not Found</title>"),
        "rendered DOM:\n{dom}"
    );
    assert!(dom.contains("<h1>404 Not Found</h1>"), "{dom}");
    // What 404 means, in a sentence; "Not Found", the text curl gets, is not said twice.
    assert!(
        dom.contains(
            "<p class=\"meaning\">There is nothing at this address. Check it for a typing \
             mistake.</p>"
        ),
        "{dom}"
    );
    assert!(!dom.contains("class=\"reason\""), "{dom}");
    assert_eq!(links(&dom), ["/"]);
    assert!(
        dom.contains("<a href=\"/\">Back to the home page</a>"),
        "{dom}"
    );

    let dark_png = shots.join("error-404-dark.png");
    let dark_dom = load(&browser, &missing, &dark_png, &["--force-dark-mode"]);
    assert!(dark_dom.contains("<h1>404 Not Found</h1>"), "{dark_dom}");
    // The page's background, in each scheme: #fafafa, then the dark style's #16181b.
    let light = top_left_pixel(&fs::read(&light_png).unwrap());
    let dark = top_left_pixel(&fs::read(&dark_png).unwrap());
    assert!(light.iter().all(|&c| c > 240), "light background {light:?}");
    assert!(dark.iter().all(|&c| c < 40), "dark background {dark:?}");

    // The link home loads: the server answers it, and Chromium renders the site's index.
    assert_eq!(get(&server, "/").status, 200);
    let home = dump_dom(&browser, &server.url("/"), &[]);
    assert!(home.contains("<title>nomserve</title>"), "{home}");
    server.wait_for_log("\"GET / HTTP/1.1\" 200 ");
}

/// Chromium sends an encoded slash in a path as it is (the URL standard leaves `%2F` alone);
/// the file handler refuses it (an encoded separator never becomes one) with a 400, which
/// Chromium is shown as a page with what 400 means and the precise reason: the rule and its
/// offset.
#[test]
fn browser_400_page_names_the_rule_and_its_offset() {
    let Some(browser) = chromium() else { return };
    let server = Server::start();
    let (_keep, shots) = screenshot_dir();
    let dom = load(
        &browser,
        &server.url("/a%2Fb"),
        &shots.join("error-400.png"),
        &[],
    );
    server.wait_for_log("\"GET /a%2Fb HTTP/1.1\" 400 ");
    assert!(
        dom.contains("<title>400 Bad Request</title>"),
        "rendered DOM:\n{dom}"
    );
    assert!(dom.contains("<h1>400 Bad Request</h1>"), "{dom}");
    assert!(
        dom.contains(
            "<p class=\"meaning\">The server could not make sense of the request your \
             browser sent.</p>\n<p class=\"reason\">percent-encoded slash or backslash in \
             path segment at byte 2 (RFC 3986 §3.3)</p>"
        ),
        "{dom}"
    );
    assert_eq!(links(&dom), ["/"]);
}
