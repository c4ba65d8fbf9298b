//! A directory listing seen by headless Chromium: screenshots in light and dark mode, the
//! rendered DOM, sorting by following a column header's link, and every link loading.
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
use std::io::Read;

/// The links of the listing's rows, in order, without `../`.
fn rows(dom: &str) -> Vec<String> {
    dom.split("<td><a href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| *href != "../")
        .map(str::to_string)
        .collect()
}

/// The origin-form target a browser requests for `href` on the listing at `dir` (an
/// absolute path ending in `/`): the forms a listing uses are an absolute path, a query
/// (the same path, RFC 3986 §5.2.2), `../`, and one segment, already percent-encoded.
fn resolve(dir: &str, href: &str) -> String {
    if href.starts_with('/') {
        href.to_string()
    } else if href.starts_with('?') {
        format!("{dir}{href}")
    } else if href == "../" {
        let trimmed = dir.trim_end_matches('/');
        format!("{}/", &trimmed[..trimmed.rfind('/').unwrap()])
    } else {
        format!("{dir}{href}")
    }
}

fn listed_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("files");
    fs::create_dir_all(dir.join("docs")).unwrap();
    fs::write(dir.join("docs/readme.txt"), "read me\n").unwrap();
    fs::create_dir(dir.join("Music")).unwrap();
    fs::write(dir.join("file10.txt"), vec![b'x'; 10]).unwrap();
    fs::write(dir.join("file2.txt"), vec![b'x'; 300]).unwrap();
    fs::write(dir.join("Zebra.txt"), vec![b'z'; 2048]).unwrap();
    fs::write(dir.join("photo 1 #2.jpg"), vec![b'p'; 1_300_000]).unwrap();
    fs::write(dir.join("100% caf\u{e9}?.txt"), "odd\n").unwrap();
    root
}

#[test]
fn browser_listing_light_and_dark_sorting_and_links() {
    let Some(browser) = chromium() else { return };
    let root = listed_root();
    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let (_keep, shots) = screenshot_dir();

    let light_png = shots.join("listing-light.png");
    let dom = load(&browser, &server.url("/files/"), &light_png, &[]);
    assert!(
        dom.contains("<title>Index of /files/</title>"),
        "rendered DOM:\n{dom}"
    );
    assert!(
        dom.contains("<a href=\"/\">/</a><wbr><span aria-current=\"page\">files/</span>"),
        "{dom}"
    );
    assert_eq!(
        rows(&dom),
        [
            "docs/",
            "Music/",
            "100%25%20caf%C3%A9%3F.txt",
            "file2.txt",
            "file10.txt",
            "photo%201%20%232.jpg",
            "Zebra.txt"
        ]
    );
    assert!(
        dom.contains("<td class=\"size\" title=\"1300000 bytes\">1.2 MiB</td>"),
        "{dom}"
    );
    assert!(dom.contains("<td class=\"size\" title=\"2048 bytes\">2.0 KiB</td>"));

    let dark_png = shots.join("listing-dark.png");
    let dark_dom = load(
        &browser,
        &server.url("/files/"),
        &dark_png,
        &["--force-dark-mode"],
    );
    assert_eq!(rows(&dark_dom), rows(&dom));
    // The page's background, in each scheme: white, then the dark style's #0d1117.
    let light = top_left_pixel(&fs::read(&light_png).unwrap());
    let dark = top_left_pixel(&fs::read(&dark_png).unwrap());
    assert!(light.iter().all(|&c| c > 240), "light background {light:?}");
    assert!(dark.iter().all(|&c| c < 40), "dark background {dark:?}");

    // Clicking "Size" navigates to its link: the rows sorted by size; clicking it again
    // reverses them. Folders stay first.
    let size_link = |dom: &str| {
        links(dom)
            .into_iter()
            .find(|href| href.starts_with("?sort=size"))
            .expect("a Size column link")
    };
    let by_size_url = resolve("/files/", &size_link(&dom));
    assert_eq!(by_size_url, "/files/?sort=size&order=asc");
    let by_size = load(
        &browser,
        &server.url(&by_size_url),
        &shots.join("listing-by-size.png"),
        &[],
    );
    assert_eq!(
        rows(&by_size),
        [
            "docs/",
            "Music/",
            "100%25%20caf%C3%A9%3F.txt",
            "file10.txt",
            "file2.txt",
            "Zebra.txt",
            "photo%201%20%232.jpg"
        ]
    );
    let reversed_url = resolve("/files/", &size_link(&by_size));
    assert_eq!(reversed_url, "/files/?sort=size&order=desc");
    let reversed = dump_dom(&browser, &server.url(&reversed_url), &[]);
    assert_eq!(
        rows(&reversed),
        [
            "Music/",
            "docs/",
            "photo%201%20%232.jpg",
            "Zebra.txt",
            "file2.txt",
            "file10.txt",
            "100%25%20caf%C3%A9%3F.txt"
        ]
    );

    // Every link on the page (breadcrumbs, column headers, rows) loads.
    let hrefs = links(&dom);
    assert!(hrefs.len() >= 11, "{hrefs:?}");
    for href in hrefs {
        let target = resolve("/files/", &href);
        assert_eq!(get(&server, &target).status, 200, "{href} -> {target}");
    }
    let sub = dump_dom(&browser, &server.url("/files/docs/"), &[]);
    for href in links(&sub) {
        let target = resolve("/files/docs/", &href);
        assert_eq!(get(&server, &target).status, 200, "{href} -> {target}");
    }
}

/// A page of the test's own, served beside the listing (so the listing in its frame is
/// same-origin and readable): once the listing at `src` has loaded, it measures each row, as
/// laid out, and writes one line per row into `<pre id="measured">`: the row's link, the
/// widths of its name and date cells, how many lines the name takes, and how many of the
/// name's pieces (its text between two `<wbr>`) were broken across lines. The first line is
/// the frame's width and its content's. The frame is a phone's 390 px wide, whatever the
/// window (headless Chromium lays out a page without a screenshot at 500 px at least).
fn measuring_page(src: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>
body{{margin:0}}iframe{{display:block;border:0;width:390px;height:844px}}
</style></head><body><iframe id="listing" src="{src}"></iframe><pre id="measured"></pre>
<script>
window.addEventListener("load", () => {{
  const doc = document.getElementById("listing").contentDocument;
  const lines = ["width " + doc.documentElement.clientWidth + " " + doc.documentElement.scrollWidth];
  for (const row of doc.querySelectorAll("tbody tr")) {{
    const link = row.cells[0].querySelector("a");
    const time = row.querySelector("td.time");
    if (!time.textContent) continue;
    let broken = 0;
    for (const node of link.childNodes) {{
      if (node.nodeType !== Node.TEXT_NODE) continue;
      const range = doc.createRange();
      range.selectNodeContents(node);
      if (range.getClientRects().length > 1) broken++;
    }}
    lines.push(["row", link.getAttribute("href"),
      Math.round(row.cells[0].getBoundingClientRect().width),
      Math.round(time.getBoundingClientRect().width),
      new Set([...link.getClientRects()].map((r) => Math.round(r.top))).size,
      broken].join(" "));
  }}
  document.getElementById("measured").textContent = lines.join("\n");
}});
</script></body></html>
"#
    )
}

/// On a phone's 390 px screen, the names get the width: each name cell is wider than its date
/// cell, long names wrap onto several lines only between their words (after `-`, `_`, `.`, or
/// inside camelCase), and nothing makes the page scroll sideways.
#[test]
fn browser_listing_on_a_phone_gives_the_names_the_width() {
    let Some(browser) = chromium() else { return };
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("files");
    fs::create_dir_all(dir.join("holiday-photos-from-the-mountains-in-the-summer-of-2024"))
        .unwrap();
    let names = [
        "quarterly-report-2024-final-version-for-the-board-meeting-in-december.pdf",
        "nomserve-0.4.2-x86_64-unknown-linux-gnu-with-debug-symbols-and-docs.tar.gz",
        "ReleaseNotesForTheNextVersionOfTheServerAndEveryChangeSinceTheLastOne.md",
        "a.txt",
    ];
    for name in names {
        fs::write(dir.join(name), vec![b'x'; 1_300_000]).unwrap();
    }
    fs::write(root.path().join("measure.html"), measuring_page("/files/")).unwrap();
    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let (_keep, shots) = screenshot_dir();
    let phone = "--window-size=390,844";

    let shot = shots.join("listing-phone.png");
    let screenshot = format!("--screenshot={}", shot.display());
    let dom = dump_dom(&browser, &server.url("/files/"), &[&screenshot, phone]);
    assert_eq!(rows(&dom).len(), names.len() + 1, "{dom}");
    assert!(
        fs::metadata(&shot).is_ok(),
        "no screenshot at {}",
        shot.display()
    );

    let dom = dump_dom(&browser, &server.url("/measure.html"), &[phone]);
    let measured = dom
        .split("<pre id=\"measured\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_default();
    let mut lines = measured.lines();
    let width: Vec<u32> = lines
        .next()
        .unwrap_or_else(|| panic!("nothing measured:\n{dom}"))
        .split(' ')
        .skip(1)
        .map(|n| n.parse().unwrap())
        .collect();
    assert!(
        width[0] <= 400,
        "the listing is {} px wide, not a phone's",
        width[0]
    );
    assert!(
        width[1] <= width[0],
        "the listing scrolls sideways: {measured}"
    );
    let rows: Vec<Vec<&str>> = lines.map(|line| line.split(' ').collect()).collect();
    assert_eq!(rows.len(), names.len() + 1, "{measured}");
    let mut wrapped = 0;
    for row in &rows {
        let [_, href, name, date, lines, broken] = row[..] else {
            panic!("{row:?}")
        };
        let number = |text: &str| text.parse::<u32>().unwrap();
        assert!(
            number(name) > number(date),
            "{href}: the name cell ({name} px) is not wider than the date ({date} px)"
        );
        assert_eq!(broken, "0", "{href} is broken inside a word: {measured}");
        if number(lines) > 1 {
            wrapped += 1;
        }
    }
    assert!(wrapped >= 3, "the long names wrap: {measured}");
}

/// The helpers on the shapes the listing produces.
#[test]
fn resolve_and_pixel_helpers() {
    assert_eq!(resolve("/a/b/", "../"), "/a/");
    assert_eq!(resolve("/a/", "../"), "/");
    assert_eq!(
        resolve("/a/", "?sort=size&order=asc"),
        "/a/?sort=size&order=asc"
    );
    assert_eq!(resolve("/a/", "/"), "/");
    assert_eq!(resolve("/a/", "x%20y/"), "/a/x%20y/");
    // A 1×1 RGB PNG of #0d1117, made here: filter 0, then the pixel, deflated.
    let mut raw = Vec::new();
    flate2::read::ZlibEncoder::new(&[0u8, 0x0d, 0x11, 0x17][..], flate2::Compression::fast())
        .read_to_end(&mut raw)
        .unwrap();
    let chunk = |kind: &[u8], body: &[u8]| {
        let mut out = (body.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out.extend_from_slice(&[0; 4]);
        out
    };
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
    png.extend(chunk(b"IDAT", &raw));
    png.extend(chunk(b"IEND", &[]));
    assert_eq!(top_left_pixel(&png), [0x0d, 0x11, 0x17]);
}
