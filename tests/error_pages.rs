//! Errors for people: a browser (Accept preferring text/html) gets an HTML page with the
//! status, its meaning, the reason and a link home; other clients get the text.

mod common;

use common::{Server, get_with, request, www};
use std::fs;

const BROWSER: &str = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n";

#[test]
fn a_browser_gets_a_page_and_curl_gets_the_text() {
    let server = Server::start();
    let page = get_with(&server, "/no-such-file", BROWSER);
    assert_eq!(page.status, 404);
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    assert!(html.contains("<title>404 Not Found</title>"), "{html}");
    assert!(html.contains("<h1>404 Not Found</h1>"), "{html}");
    assert!(html.contains("<a href=\"/\">"), "{html}");

    let text = get_with(&server, "/no-such-file", "Accept: */*\r\n");
    assert_eq!(text.status, 404);
    assert_eq!(
        text.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(text.text(), "Not Found");

    let refused = request(
        &server,
        &format!("DELETE /test.txt HTTP/1.1\r\nHost: x\r\n{BROWSER}Connection: close\r\n\r\n"),
    );
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("Allow"), Some("GET, HEAD"));
    assert!(
        refused
            .text()
            .contains("<title>405 Method Not Allowed</title>")
    );
    assert!(refused.text().contains("this server answers GET and HEAD"));

    let head = request(
        &server,
        &format!("HEAD /no-such-file HTTP/1.1\r\nHost: x\r\n{BROWSER}Connection: close\r\n\r\n"),
    );
    assert_eq!(head.status, 404);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
}

#[test]
fn a_configured_error_page_is_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["index.html", "test.txt", "style.css"] {
        fs::copy(www().join(name), dir.path().join(name)).unwrap();
    }
    fs::write(dir.path().join("404.html"), "<h1>our own</h1>\n").unwrap();
    let server = Server::with_args(dir.path(), &["--error-page", "404=404.html"]);
    let page = get_with(&server, "/missing", BROWSER);
    assert_eq!(page.status, 404);
    assert_eq!(page.text(), "<h1>our own</h1>\n");
}

#[test]
fn a_directory_without_an_index_is_a_plain_404_and_the_log_says_why() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("photos")).unwrap();
    let server = Server::with_args(dir.path(), &[]);
    let response = get_with(&server, "/photos/", "");
    assert_eq!(response.status, 404);
    assert!(!response.text().contains("--list-dirs"));
    let line = server.wait_for_log("listings are off");
    assert!(line.contains("--list-dirs"), "{line}");
}

/// The root without an index file, listings off: a browser gets the 404 page any missing path
/// gets, saying nothing more, but without the link home, which would lead to the same 404; the
/// log says why. Any other page keeps the link.
#[test]
fn the_404_for_the_root_has_no_link_to_itself() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("photos")).unwrap();
    let server = Server::with_args(dir.path(), &[]);
    let page = get_with(&server, "/", BROWSER);
    assert_eq!(page.status, 404);
    let html = page.text();
    assert!(html.contains("<h1>404 Not Found</h1>"), "{html}");
    assert!(!html.contains("href="), "{html}");
    assert!(!html.contains("--list-dirs"), "{html}");
    let line = server.wait_for_log("listings are off");
    assert!(line.contains("--list-dirs"), "{line}");
    let elsewhere = get_with(&server, "/photos/", BROWSER).text();
    assert!(elsewhere.contains("<a href=\"/\">"), "{elsewhere}");
}
