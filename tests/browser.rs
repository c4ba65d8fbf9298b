//! nomserve seen by a real browser: headless Chromium loads pages through it.
//!
//! Chromium is the strictest everyday client there is: it pipelines subresource requests over
//! keep-alive connections, sends a dozen fields, and renders only what it could parse. These
//! tests load a page with `--dump-dom` (the DOM after load, on stdout) and check what the
//! browser rendered and what it fetched, from the server's access log.
//!
//! Without Chromium the tests say how to install it and pass vacuously, so a developer without
//! a browser can still run `cargo test`; when `CI` is set (`.ci/run` installs Chromium) its
//! absence fails them instead.

mod common;
#[path = "common/browser.rs"]
mod headless;

use common::{Server, get};
use headless::{chromium, dump_dom, links};
use std::fs;

/// Resolves `href` against the page at `base` (an absolute path ending in `/`) into the
/// origin-form target a browser would request, the way RFC 3986 §5.2 merges and removes dot
/// segments, and percent-encodes the bytes a request-target cannot hold (RFC 3986 §2.1).
/// Absolute URLs keep only their path and query.
fn resolve(base: &str, href: &str, origin: &str) -> String {
    let href = href.strip_prefix(origin).unwrap_or(href);
    let merged = if href.starts_with('/') {
        href.to_string()
    } else {
        format!("{base}{href}")
    };
    let (path, query) = match merged.split_once('?') {
        Some((path, query)) => (path.to_string(), Some(query.to_string())),
        None => (merged, None),
    };
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        match *segment {
            "." if last => segments.push(""),
            "." => {}
            ".." => {
                segments.pop();
                if last {
                    segments.push("");
                }
            }
            other => segments.push(other),
        }
    }
    let mut target = format!("/{}", segments.join("/"));
    if let Some(query) = query {
        target.push('?');
        target.push_str(&query);
    }
    target
        .bytes()
        .map(|b| {
            if b.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `/` renders `www/index.html`, and the browser fetched its stylesheet through nomserve.
#[test]
fn browser_renders_index_and_fetches_stylesheet() {
    let Some(browser) = chromium() else { return };
    let server = Server::start();

    let dom = dump_dom(&browser, &server.url("/"), &[]);
    assert!(dom.contains("<h1>Welcome!</h1>"), "rendered DOM:\n{dom}");
    assert!(
        dom.contains("<title>nomserve</title>"),
        "rendered DOM:\n{dom}"
    );

    let css = server.wait_for_log("\"GET /style.css HTTP/1.1\" 200 ");
    assert!(
        css.contains("Chrome/"),
        "the stylesheet request should come from Chromium: {css}"
    );
    assert!(
        server.log().contains("\"GET / HTTP/1.1\" 200 "),
        "{}",
        server.log()
    );
}

/// With `--list-dirs`, a directory without index.html renders as a page of links, and every
/// link, resolved against the page as the browser would, is served with 200.
#[test]
fn browser_directory_listing_links_resolve() {
    let Some(browser) = chromium() else { return };
    let root = tempfile::tempdir().expect("temp root");
    fs::write(root.path().join("alpha.txt"), "alpha\n").unwrap();
    fs::write(root.path().join("beta gamma.txt"), "beta gamma\n").unwrap();
    fs::write(root.path().join("page.html"), "<p>page</p>\n").unwrap();
    fs::create_dir(root.path().join("sub")).unwrap();
    fs::write(root.path().join("sub/inner.txt"), "inner\n").unwrap();
    fs::create_dir(root.path().join("sub/deeper")).unwrap();
    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let origin = server.url("");

    for (page, expected) in [
        (
            "/",
            &["/alpha.txt", "/beta%20gamma.txt", "/page.html", "/sub/"][..],
        ),
        ("/sub/", &["/sub/inner.txt", "/sub/deeper/"][..]),
    ] {
        let dom = dump_dom(&browser, &server.url(page), &[]);
        let targets: Vec<String> = links(&dom)
            .iter()
            .map(|href| resolve(page, href, &origin))
            .collect();
        for name in expected {
            assert!(
                targets.iter().any(|t| t == name),
                "the listing of {page} has no link to {name}: {targets:?}\n{dom}"
            );
        }
        for target in &targets {
            let response = get(&server, target);
            assert_eq!(
                response.status, 200,
                "link {target} on the listing of {page}"
            );
        }
    }
}

/// The resolver itself, on the cases the listings can produce.
#[test]
fn resolve_follows_rfc3986_merging() {
    let origin = "http://127.0.0.1:1";
    for (base, href, want) in [
        ("/", "a.txt", "/a.txt"),
        ("/sub/", "a.txt", "/sub/a.txt"),
        ("/sub/", "../", "/"),
        ("/sub/", "..", "/"),
        ("/sub/", "./", "/sub/"),
        ("/sub/", "deeper/", "/sub/deeper/"),
        ("/sub/", "/x", "/x"),
        ("/sub/", "http://127.0.0.1:1/y/", "/y/"),
        ("/", "b c.txt", "/b%20c.txt"),
        ("/", "b%20c.txt", "/b%20c.txt"),
        ("/", "q?a=1&b=2", "/q?a=1&b=2"),
    ] {
        assert_eq!(resolve(base, href, origin), want, "{base} + {href}");
    }
    assert_eq!(
        links(
            r#"<ul><li><a href="a&amp;b">a&amp;b</a></li><li><a class="d" href="d/">d/</a></li></ul>"#
        ),
        ["a&b", "d/"]
    );
}
