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
use headless::{ASSETS, chromium, dump_dom, write_asset_page};

/// Chromium, trusting the test certificate's key, loads the page and its 60 assets over
/// HTTPS, and every one of the 61 loads reports `nextHopProtocol === "h2"`.
#[test]
fn browser_loads_sixty_assets_over_h2() {
    let Some(browser) = chromium() else { return };
    let root = tempfile::tempdir().unwrap();
    write_asset_page(root.path(), "h2");
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
