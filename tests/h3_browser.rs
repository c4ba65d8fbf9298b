//! nomserve's HTTP/3 seen by a real browser: headless Chromium, forced onto QUIC for the
//! server's origin (`--origin-to-force-quic-on`), loads a page of 60 assets over HTTP/3, and
//! the page itself reports, through the Resource Timing and Navigation Timing APIs, the
//! protocol each of its 61 loads used (`nextHopProtocol`, the ALPN identifier: `h3`).
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

/// Chromium, trusting the test certificate's key and forced onto QUIC for the server's
/// origin, loads the page and its 60 assets, and every one of the 61 loads reports
/// `nextHopProtocol === "h3"`.
#[test]
fn browser_loads_sixty_assets_over_h3() {
    let Some(browser) = chromium() else { return };
    let root = tempfile::tempdir().unwrap();
    write_asset_page(root.path(), "h3");
    let cert = TestCert::new();
    let mut args = cert.args();
    args.extend(["--http3", "on"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::with_args(root.path(), &args);

    let spki = format!("--ignore-certificate-errors-spki-list={}", cert.spki_hash);
    let origin = format!("--origin-to-force-quic-on={}", server.addr);
    let dom = dump_dom(
        &browser,
        &server.https_url("/"),
        &[&spki, "--enable-quic", &origin],
    );
    let expected = format!(
        "entries={} h3={} scripts={} others=[]",
        ASSETS + 1,
        ASSETS + 1,
        ASSETS / 3
    );
    assert!(
        dom.contains(&expected),
        "expected {expected:?}; DOM:\n{dom}\nserver log:\n{}",
        server.log()
    );
    server.wait_for_log("\"GET /j0.js HTTP/3.0\" 200 ");
}
