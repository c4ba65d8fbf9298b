//! nomserve's HTTP/2 seen by a real browser: headless Chromium loads a page of 60 assets over
//! HTTPS, where it offers ALPN `h2` first and multiplexes every request on one connection,
//! and the page itself reports, through the Resource Timing and Navigation Timing APIs, the
//! protocol each of its 61 loads used (`nextHopProtocol`, the ALPN identifier).
//!
//! Without Chromium the test says how to install it and passes vacuously; when `CI` is set
//! (`.ci/run` installs Chromium) its absence fails it instead.

#[path = "common/cert.rs"]
mod cert;
mod common;
#[path = "common/browser.rs"]
mod headless;

use cert::TestCert;
use common::Server;
use headless::{chromium, dump_dom};
use std::fs;
use std::path::Path;

/// How many assets the page loads: 20 stylesheets, 20 scripts, 20 images.
const ASSETS: usize = 60;

/// Writes the page and its assets into `root`. On `load`, the page counts its navigation
/// entry and its resource entries, and how many of them came over `h2`, into `#result`;
/// every script adds one to `window.loaded`, which says the scripts were run, not only
/// fetched.
fn write_site(root: &Path) {
    let mut head = String::new();
    let mut body = String::new();
    for i in 0..ASSETS / 3 {
        fs::write(
            root.join(format!("s{i}.css")),
            format!(".a{i} {{ --sheet-{i}: 1; }}\n"),
        )
        .unwrap();
        fs::write(
            root.join(format!("j{i}.js")),
            "window.loaded = (window.loaded || 0) + 1;\n",
        )
        .unwrap();
        fs::write(
            root.join(format!("i{i}.svg")),
            format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"8\" height=\"8\">\
                 <rect width=\"8\" height=\"{}\" fill=\"#36c\"/></svg>\n",
                1 + i % 8
            ),
        )
        .unwrap();
        head.push_str(&format!("<link rel=\"stylesheet\" href=\"s{i}.css\">\n"));
        head.push_str(&format!("<script src=\"j{i}.js\"></script>\n"));
        body.push_str(&format!("<img src=\"i{i}.svg\" alt=\"\">\n"));
    }
    let script = r#"<script>
addEventListener('load', () => {
  const all = performance.getEntriesByType('navigation')
    .concat(performance.getEntriesByType('resource'));
  const h2 = all.filter(e => e.nextHopProtocol === 'h2').length;
  const others = all.filter(e => e.nextHopProtocol !== 'h2')
    .map(e => e.name + '=' + (e.nextHopProtocol || 'none'));
  document.getElementById('result').textContent =
    `entries=${all.length} h2=${h2} scripts=${window.loaded} others=[${others.join(' ')}]`;
});
</script>"#;
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>sixty assets</title>\n\
         {head}{script}</head>\n<body>\n<pre id=\"result\">not loaded</pre>\n{body}</body></html>\n"
    );
    fs::write(root.join("index.html"), page).unwrap();
}

/// Chromium, trusting the test certificate's key, loads the page and its 60 assets over
/// HTTPS, and every one of the 61 loads reports `nextHopProtocol === "h2"`.
#[test]
fn browser_loads_sixty_assets_over_h2() {
    let Some(browser) = chromium() else { return };
    let root = tempfile::tempdir().unwrap();
    write_site(root.path());
    let cert = TestCert::new();
    let args = cert.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::with_args(root.path(), &args);

    let flag = format!("--ignore-certificate-errors-spki-list={}", cert.spki_hash);
    let dom = dump_dom(&browser, &server.https_url("/"), &[&flag]);
    let expected = format!(
        "entries={} h2={} scripts={} others=[]",
        ASSETS + 1,
        ASSETS + 1,
        ASSETS / 3
    );
    assert!(
        dom.contains(&expected),
        "expected {expected:?}; DOM:\n{dom}"
    );
    server.wait_for_log("\"GET /j0.js HTTP/2.0\" 200 ");
}
