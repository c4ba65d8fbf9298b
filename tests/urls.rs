//! The URLs real clients send: file names with the characters browsers leave unencoded,
//! non-ASCII names as browsers and curl encode them, and form queries with brackets, bars,
//! braces and a stray `%`.
//!
//! Headless Chromium requests each file twice: through a link in a page (the page's script
//! fetches every `<a href>` and writes what came back into the DOM) and through a typed URL
//! (the URL given to the browser as it would be typed into its address bar). Every fetch must
//! be a 200 with the file's own body. The same bytes are then sent over a raw socket and with
//! curl.
//!
//! Without Chromium the browser tests print a skip and pass, unless `CI` is set (see
//! `common/browser.rs`).

mod common;
#[path = "common/browser.rs"]
mod headless;

use common::{Server, get, request};
use headless::{chromium, dump_dom};
use std::fs;

/// The characters each file name holds (between `x` and `y.txt`): those a browser sends
/// unencoded in a path or encodes in ways a server must decode, and a space.
const SPECIALS: &[char] = &[
    '[', ']', '|', '^', '{', '}', '`', '\'', '!', '$', '&', '(', ')', '*', '+', ',', ';', '=', '@',
    '~', ' ',
];

/// The file name that holds `c`, and the body the server must return for it.
fn file_for(c: char) -> (String, String) {
    (format!("x{c}y.txt"), format!("the file named with {c:?}\n"))
}

/// `s` with every byte outside unreserved percent-encoded (RFC 3986 §2.1), to carry any string
/// through a DOM text node and back.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The inverse of [`percent_encode`] (and of JavaScript's `encodeURIComponent`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => {
                let hex = std::str::from_utf8(hex).expect("ASCII escape");
                out.push(u8::from_str_radix(hex, 16).expect("two hex digits"));
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// `c` as HTML attribute text inside double quotes.
fn attribute(c: char) -> String {
    match c {
        '&' => "&amp;".to_string(),
        other => other.to_string(),
    }
}

/// A page linking every file, whose script fetches each link (synchronously, so the results
/// are in the DOM when `--dump-dom` prints it) and writes one line per fetch:
/// `<li>STATUS URL BODY</li>`, URL and BODY percent-encoded.
fn links_page() -> String {
    let anchors: String = SPECIALS
        .iter()
        .map(|&c| {
            let (name, _) = file_for(c);
            let href: String = name.chars().map(attribute).collect();
            format!(
                "<li><a href=\"{href}\">{}</a></li>\n",
                percent_encode(&name)
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<title>links</title>\n\
         <ul id=\"links\">\n{anchors}</ul>\n<ol id=\"results\"></ol>\n\
         <script>\n\
         for (const a of document.querySelectorAll('#links a')) {{\n\
           const xhr = new XMLHttpRequest();\n\
           xhr.open('GET', a.href, false);\n\
           xhr.send();\n\
           const li = document.createElement('li');\n\
           li.textContent = xhr.status + ' ' + encodeURIComponent(a.href) + ' ' +\n\
             encodeURIComponent(xhr.responseText);\n\
           document.getElementById('results').appendChild(li);\n\
         }}\n\
         </script>\n"
    )
}

/// The `(status, url, body)` lines the links page wrote into `dom`.
fn results(dom: &str) -> Vec<(u16, String, String)> {
    let list = dom
        .split("<ol id=\"results\">")
        .nth(1)
        .and_then(|rest| rest.split("</ol>").next())
        .unwrap_or_default();
    list.split("<li>")
        .skip(1)
        .map(|item| {
            let item = item.trim_end_matches("</li>");
            let mut parts = item.split(' ');
            let status = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let url = percent_decode(parts.next().unwrap_or_default());
            let body = percent_decode(parts.next().unwrap_or_default());
            (status, url, body)
        })
        .collect()
}

/// A root with one file per special character, the links page, and `photo [1].txt`.
fn root_with_files() -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp root");
    for &c in SPECIALS {
        let (name, body) = file_for(c);
        fs::write(root.path().join(name), body).unwrap();
    }
    fs::write(root.path().join("links.html"), links_page()).unwrap();
    fs::write(root.path().join("photo [1].txt"), "photo one\n").unwrap();
    fs::write(root.path().join("日本.txt"), "nihon\n").unwrap();
    root
}

/// The request-targets of the GETs in the access log, as logged (printable ASCII as it is).
fn logged_targets(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| line.split("\"GET ").nth(1)?.split(" HTTP/1.1\"").next())
        .map(str::to_string)
        .collect()
}

#[test]
fn chromium_follows_links_to_every_special_file_name() {
    let Some(browser) = chromium() else { return };
    let root = root_with_files();
    let server = Server::with_args(root.path(), &[]);

    let dom = dump_dom(&browser, &server.url("/links.html"), &[]);
    let got = results(&dom);
    assert_eq!(got.len(), SPECIALS.len(), "one result per link:\n{dom}");
    for (&c, (status, url, body)) in SPECIALS.iter().zip(&got) {
        let (_, expected) = file_for(c);
        assert_eq!(
            (*status, body.as_str()),
            (200, expected.as_str()),
            "link for {c:?} fetched as {url}"
        );
    }
    // The browser sent `[` and `]` unencoded (WHATWG's path percent-encode set leaves them
    // out), bytes outside RFC 3986's pchar that the grammar takes in a path.
    server.wait_for_log("\"GET /x%20y.txt HTTP/1.1\"");
    let targets = logged_targets(&server.log());
    for raw in ["/x[y.txt", "/x]y.txt"] {
        assert!(targets.iter().any(|t| t == raw), "{raw} in {targets:?}");
    }
}

#[test]
fn chromium_fetches_typed_urls_of_every_special_file_name() {
    let Some(browser) = chromium() else { return };
    let root = root_with_files();
    let server = Server::with_args(root.path(), &[]);

    let files = SPECIALS
        .iter()
        .map(|&c| file_for(c))
        .chain([("日本.txt".to_string(), "nihon\n".to_string())]);
    for (name, expected) in files {
        let url = server.url(&format!("/{name}"));
        let dom = dump_dom(&browser, &url, &[]);
        // A text/plain response renders as one <pre> holding the body, HTML-escaped.
        let shown = expected
            .trim_end()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(
            dom.contains(&format!(">{shown}\n</pre>")),
            "typed {url:?} should show {expected:?}:\n{dom}"
        );
    }
}

#[test]
fn raw_targets_reach_the_files_or_name_the_refused_byte() {
    let root = root_with_files();
    let server = Server::with_args(root.path(), &[]);

    for (target, body) in [
        ("/%E6%97%A5%E6%9C%AC.txt", "nihon\n"),
        ("/photo%20[1].txt", "photo one\n"),
        ("/x[y.txt", "the file named with '['\n"),
        ("/x|y.txt", "the file named with '|'\n"),
        ("/x^y.txt", "the file named with '^'\n"),
        ("/x%7By.txt", "the file named with '{'\n"),
    ] {
        let response = get(&server, target);
        assert_eq!(
            (response.status, response.text().as_str()),
            (200, body),
            "GET {target}"
        );
    }
    for (target, sentence) in [
        (
            "/x\u{7f}y.txt",
            "invalid byte in request-target at byte 6, found 0x7f (RFC 9112 §3.2)\n",
        ),
        (
            "/x{y.txt",
            "invalid byte in request-target at byte 6, found '{' (0x7b) (RFC 9112 §3.2)\n",
        ),
        (
            "/日本.txt",
            "invalid byte in request-target at byte 5, found 0xe6 (RFC 9112 §3.2)\n",
        ),
    ] {
        let response = get(&server, target);
        assert_eq!(
            (response.status, response.text().as_str()),
            (400, sentence),
            "GET {target:?}"
        );
    }
}

/// curl percent-encodes a typed non-ASCII path itself, and gets the file; told to send the
/// bytes raw (`--request-target`), it gets the 400 that names the first of them.
#[test]
fn curl_gets_a_utf8_path_it_encodes_and_a_400_for_raw_bytes() {
    let root = root_with_files();
    let server = Server::with_args(root.path(), &[]);
    let curl = |args: &[&str]| {
        std::process::Command::new("curl")
            .args(["--silent", "--show-error", "--path-as-is"])
            .args(args)
            .output()
    };
    let Ok(typed) = curl(&[&server.url("/日本.txt")]) else {
        let _ =
            std::io::Write::write_all(&mut std::io::stderr(), b"SKIPPED: curl is not installed\n");
        return;
    };
    assert!(typed.status.success(), "{typed:?}");
    assert_eq!(typed.stdout, b"nihon\n");
    let line = server.wait_for_log("\"GET /%");
    let targets: Vec<String> = logged_targets(&line)
        .iter()
        .map(|t| t.to_ascii_uppercase())
        .collect();
    assert_eq!(targets, ["/%E6%97%A5%E6%9C%AC.TXT"]);

    let raw = curl(&["--request-target", "/日本.txt", &server.url("/")]).expect("curl ran");
    assert_eq!(
        String::from_utf8_lossy(&raw.stdout),
        "invalid byte in request-target at byte 5, found 0xe6 (RFC 9112 §3.2)\n"
    );
}

/// The queries reach `/echo` as sent and are listed decoded, one `name: value` line each.
#[test]
fn form_queries_with_brackets_bars_braces_and_a_stray_percent_are_echoed_decoded() {
    let server = Server::start();
    for (query, lines) in [
        ("ids[]=1&f=a|b", &["ids[]: 1", "f: a|b"][..]),
        ("q=100%", &["q: 100%"][..]),
        ("x={%22a%22:1}", &["x: {\"a\":1}"][..]),
        ("x={\"a\":1}", &[][..]),
        ("q=%zz&r=%E6%97%A5", &["q: %zz", "r: 日"][..]),
    ] {
        let raw = format!("GET /echo?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let response = request(&server, &raw);
        if lines.is_empty() {
            // `"` is in WHATWG's query percent-encode set: a browser never sends it raw.
            assert_eq!(
                (response.status, response.text().as_str()),
                (
                    400,
                    "invalid byte in request-target at byte 13, found '\"' (0x22) (RFC 9112 §3.2)\n"
                ),
                "{query}"
            );
            continue;
        }
        assert_eq!(response.status, 200, "{query}: {}", response.text());
        let text = response.text();
        let listed: Vec<&str> = text
            .split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .lines()
            .collect();
        assert_eq!(listed, lines, "{query}");
    }
}

/// Chromium, given the same queries as typed URLs, encodes what it must (`"` as `%22`) and
/// the echo lists them decoded.
#[test]
fn chromium_typed_queries_are_echoed_decoded() {
    let Some(browser) = chromium() else { return };
    let server = Server::start();
    for (query, lines) in [
        ("ids[]=1&f=a|b", &["ids[]: 1", "f: a|b"][..]),
        ("q=100%", &["q: 100%"][..]),
        ("x={\"a\":1}", &["x: {\"a\":1}"][..]),
    ] {
        let dom = dump_dom(&browser, &server.url(&format!("/echo?{query}")), &[]);
        for line in lines {
            let shown = line.replace('&', "&amp;");
            assert!(dom.contains(&shown), "{query}: {line} in\n{dom}");
        }
    }
}
