//! Headless Chromium for the tests that need a real browser: finding it, loading a page with
//! `--dump-dom` under a deadline, with a screenshot if asked, and reading a screenshot's colour.
//!
//! Screenshots go to a temporary directory, or to `$SCREENSHOTS` when it is set (to keep them,
//! for instance for the README: see `docs/screenshots/README.md`).
//!
//! Without Chromium, [`chromium`] says how to install it and the calling test passes
//! vacuously, so a developer without a browser can still run `cargo test`; when `CI` is set
//! (`.ci/run` installs Chromium) its absence fails the test instead.

// Each test crate that includes this file uses some of it, as with `common/mod.rs`.
#![allow(dead_code)]

use flate2::read::ZlibDecoder;
use std::env;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::thread;
use std::time::Duration;

/// How long Chromium may take to load one page before the test kills it and fails.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// The window a screenshot is taken in: wide enough for a listing's columns, small enough that
/// the PNG stays well under 150 KB.
pub const WINDOW_SIZE: &str = "--window-size=900,560";

/// The Chromium binary on `PATH`, Debian's `chromium` package. `None` if there is none and the
/// test may be skipped; panics if there is none and `CI` is set.
pub fn chromium() -> Option<PathBuf> {
    let found = env::var_os("PATH").and_then(|path| {
        env::split_paths(&path)
            .map(|dir| dir.join("chromium"))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let message = "Chromium is not installed, so the browser tests cannot run: \
                       install it with `apt-get install chromium`";
        assert!(
            env::var_os("CI").is_none(),
            "{message} (CI is set: failing)"
        );
        // Straight to the stderr stream, not through `eprintln!`, which the test harness
        // captures and hides for passing tests: a skip must be seen.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
    }
    found
}

/// Loads `url` in a fresh headless Chromium, started with the usual flags and `extra_flags`,
/// and returns the DOM it rendered.
///
/// The browser runs in its own process group with a throwaway profile; if it has not printed
/// the DOM and exited within [`BROWSER_TIMEOUT`], the whole group is killed and the test fails.
pub fn dump_dom(browser: &PathBuf, url: &str, extra_flags: &[&str]) -> String {
    let profile = tempfile::tempdir().expect("temp profile dir");
    let mut child = std::os::unix::process::CommandExt::process_group(
        Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            // QUIC only for a test that asks for it (Chromium's --disable-quic wins over
            // --enable-quic).
            .args((!extra_flags.contains(&"--enable-quic")).then_some("--disable-quic"))
            .args(extra_flags)
            .arg("--dump-dom")
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        0,
    )
    .spawn()
    .expect("start chromium");

    let (tx, rx) = channel();
    let mut stdout = child.stdout.take().expect("chromium stdout");
    let mut stderr = child.stderr.take().expect("chromium stderr");
    thread::spawn(move || {
        let mut dom = String::new();
        let read = stdout.read_to_string(&mut dom);
        let _ = tx.send(read.map(|_| dom));
    });
    let errors = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    match rx.recv_timeout(BROWSER_TIMEOUT) {
        Ok(Ok(dom)) => {
            let status = child.wait().expect("wait for chromium");
            let errors = errors.join().unwrap_or_default();
            assert!(status.success(), "chromium failed ({status}):\n{errors}");
            dom
        }
        Ok(Err(e)) => {
            kill_group(&mut child);
            panic!("reading chromium's output: {e}")
        }
        Err(_) => {
            kill_group(&mut child);
            panic!("chromium did not load {url} within {BROWSER_TIMEOUT:?}")
        }
    }
}

/// Kills the process group led by `child` (the browser and the helpers it started), and reaps
/// the leader.
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .arg(format!("-{}", child.id()))
        .status();
    let _ = child.wait();
}

/// The `href` of every `<a>` in `dom`, with the `&amp;` escapes a serialised DOM uses undone.
pub fn links(dom: &str) -> Vec<String> {
    dom.split("<a ")
        .skip(1)
        .filter_map(|tag| {
            let tag = tag.split('>').next()?;
            let value = tag.split("href=\"").nth(1)?.split('"').next()?;
            Some(value.replace("&amp;", "&"))
        })
        .collect()
}

/// Where screenshots go (`$SCREENSHOTS`, created if need be, or a new temporary directory),
/// and the temporary directory to keep alive meanwhile.
pub fn screenshot_dir() -> (Option<tempfile::TempDir>, PathBuf) {
    match env::var_os("SCREENSHOTS") {
        Some(dir) => {
            fs::create_dir_all(&dir).unwrap();
            (None, PathBuf::from(dir))
        }
        None => {
            let temp = tempfile::tempdir().unwrap();
            let path = temp.path().to_path_buf();
            (Some(temp), path)
        }
    }
}

/// Loads `url` as [`dump_dom`] does, in a [`WINDOW_SIZE`] window, with a screenshot into
/// `shot`; returns the DOM.
pub fn load(browser: &PathBuf, url: &str, shot: &Path, flags: &[&str]) -> String {
    let screenshot = format!("--screenshot={}", shot.display());
    let mut all = vec![screenshot.as_str(), WINDOW_SIZE];
    all.extend_from_slice(flags);
    let dom = dump_dom(browser, url, &all);
    assert!(
        fs::metadata(shot).is_ok(),
        "no screenshot at {}",
        shot.display()
    );
    dom
}

/// The colour of the top-left pixel of the PNG `png` (8-bit RGB or RGBA, as Chromium
/// writes them). The first pixel of the first row is the same under every PNG filter
/// (PNG §9.2: its left, upper and upper-left neighbours are all taken as 0), so no filter
/// needs undoing.
pub fn top_left_pixel(png: &[u8]) -> [u8; 3] {
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let mut rest = &png[8..];
    let mut header = None;
    let mut data = Vec::new();
    while rest.len() >= 12 {
        let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
        let kind = &rest[4..8];
        let body = &rest[8..8 + len];
        match kind {
            b"IHDR" => header = Some((body[8], body[9])),
            b"IDAT" => data.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        rest = &rest[12 + len..];
    }
    let (depth, colour) = header.expect("an IHDR chunk");
    assert_eq!(depth, 8, "bit depth");
    assert!(colour == 2 || colour == 6, "colour type {colour}");
    let mut first = [0u8; 4];
    ZlibDecoder::new(&data[..])
        .read_exact(&mut first)
        .expect("inflate the first pixel");
    assert!(first[0] <= 4, "filter type {}", first[0]);
    [first[1], first[2], first[3]]
}

/// How many assets the page loads: 20 stylesheets, 20 scripts, 20 images.
pub const ASSETS: usize = 60;

/// Writes a page of [`ASSETS`] assets into `root`, for the HTTP/2 and HTTP/3 browser tests.
/// On `load`, the page counts its navigation entry and its resource entries, and how many of
/// them came over `protocol` (an ALPN identifier: `h2`, `h3`), into `#result` as
/// `entries=N PROTOCOL=M scripts=S others=[...]`;
/// every script adds one to `window.loaded`, which says the scripts were run, not only
/// fetched.
pub fn write_asset_page(root: &Path, protocol: &str) {
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
  const matched = all.filter(e => e.nextHopProtocol === 'PROTOCOL').length;
  const others = all.filter(e => e.nextHopProtocol !== 'PROTOCOL')
    .map(e => e.name + '=' + (e.nextHopProtocol || 'none'));
  document.getElementById('result').textContent =
    `entries=${all.length} PROTOCOL=${matched} scripts=${window.loaded} others=[${others.join(' ')}]`;
});
</script>"#
        .replace("PROTOCOL", protocol);
    let page = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>sixty assets</title>\n\
         {head}{script}</head>\n<body>\n<pre id=\"result\">not loaded</pre>\n{body}</body></html>\n"
    );
    fs::write(root.join("index.html"), page).unwrap();
}
