//! `--readme` and `--qr` against the real binary: a folder's README.md rendered below its
//! listing with its raw HTML shown as text, a README in an auth area shown only to whom the
//! area lets in; the banner's QR code of the first address other than loopback; the shared
//! folder as headless Chromium shows it.

mod common;
#[path = "common/browser.rs"]
mod headless;

use common::{Server, get, get_with};
use headless::{chromium, load, screenshot_dir};
use std::fs;

#[test]
fn a_folders_readme_below_its_listing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("www");
    fs::create_dir_all(root.join("docs")).unwrap();
    fs::create_dir_all(root.join("private")).unwrap();
    fs::create_dir_all(root.join("bare")).unwrap();
    fs::write(
        root.join("docs/README.md"),
        "# Shared docs\n\nRead *these* first.\n\n<script>alert(1)</script>\n\n\
         <img src=x onerror=alert(2)>\n",
    )
    .unwrap();
    fs::write(root.join("docs/guide.txt"), "guide").unwrap();
    fs::write(root.join("private/README.md"), "# Private notes\n").unwrap();
    let hash = bcrypt::hash("pw", 4).unwrap();
    fs::write(dir.path().join("users"), format!("alice:{hash}\n")).unwrap();
    let config = dir.path().join("site.toml");
    fs::write(
        &config,
        format!(
            "[[auth]]\npath = \"/private/README.md\"\nfile = \"{}\"\n",
            dir.path().join("users").display()
        ),
    )
    .unwrap();
    let args = [
        "--list-dirs",
        "--readme",
        "--config",
        config.to_str().unwrap(),
    ];
    let server = Server::with_args(&root, &args);

    let page = get(&server, "/docs/").text();
    let table = page.find("</table>").unwrap();
    let readme = page
        .find("<h1>Shared docs</h1>")
        .expect("the README rendered");
    assert!(readme > table, "below the listing: {page}");
    assert!(page.contains("<em>these</em>"), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        !page.contains("<script") && !page.contains("<img"),
        "{page}"
    );
    assert!(
        page.contains("href=\"guide.txt\""),
        "the listing is all there: {page}"
    );

    assert!(!get(&server, "/private/").text().contains("Private notes"));
    let alice = get_with(
        &server,
        "/private/",
        "Authorization: Basic YWxpY2U6cHc=\r\n",
    );
    assert!(alice.text().contains("<h1>Private notes</h1>"));
    assert!(!get(&server, "/bare/").text().contains("class=\"readme\""));

    let plain = Server::with_args(&root, &["--list-dirs"]);
    assert!(!get(&plain, "/docs/").text().contains("Shared docs"));
}

/// The banner draws a QR code when an address other than loopback is listed; bound to
/// loopback only, it says why there is none.
#[test]
fn the_banner_draws_a_qr_code_of_a_reachable_address() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::with_args(dir.path(), &["--bind", "0.0.0.0", "--qr"]);
    let banner = server.banner();
    let reachable = banner.lines().any(|line| {
        let line = line.trim();
        line.starts_with("http://") && !line.starts_with("http://127.")
    });
    let blocks = banner
        .lines()
        .filter(|line| line.contains('\u{2588}'))
        .count();
    if reachable {
        assert!(blocks > 10, "{banner}");
    } else {
        assert!(banner.contains("no QR code"), "{banner}");
    }

    let local = Server::with_args(dir.path(), &["--qr"]);
    let banner = local.banner();
    assert!(banner.contains("no QR code"), "{banner}");
    assert!(!banner.contains('\u{2588}'), "{banner}");
}

/// A shared folder in Chromium: the listing with its "Download as" links and its README
/// below; a screenshot (`share-folder.png`, for the README: see `docs/screenshots/README.md`).
#[test]
fn browser_shared_folder_with_archives_and_readme() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    fs::create_dir_all(shared.join("photos")).unwrap();
    fs::write(shared.join("photos/beach.jpg"), vec![b'j'; 2_400_000]).unwrap();
    fs::write(shared.join("notes.txt"), "notes\n").unwrap();
    fs::write(shared.join("slides.pdf"), vec![b'p'; 850_000]).unwrap();
    fs::write(
        shared.join("README.md"),
        "# Trip 2026\n\nThe photos are in **photos/**; take the whole folder with \
         *Download as zip* above.\n\n- slides from the talk\n- `notes.txt`: the plan\n",
    )
    .unwrap();
    let server = Server::with_args(
        dir.path(),
        &["--list-dirs", "--readme", "--archives", "tar.gz,zip"],
    );
    let (_keep, shots) = screenshot_dir();
    let dom = load(
        &browser,
        &server.url("/shared/"),
        &shots.join("share-folder.png"),
        &[],
    );
    assert!(dom.contains("Download as"), "{dom}");
    assert!(dom.contains("href=\"?download=zip\""), "{dom}");
    assert!(dom.contains("<h1>Trip 2026</h1>"), "{dom}");
    assert!(dom.contains("<strong>photos/</strong>"), "{dom}");
}
