//! Headless Chromium for the tests that need a real browser: finding it, and loading a page
//! with `--dump-dom` under a deadline.
//!
//! Without Chromium, [`chromium`] says how to install it and the calling test passes
//! vacuously, so a developer without a browser can still run `cargo test`; when `CI` is set
//! (`.ci/run` installs Chromium) its absence fails the test instead.

// Each test crate that includes this file uses some of it, as with `common/mod.rs`.
#![allow(dead_code)]

use std::env;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::channel;
use std::thread;
use std::time::Duration;

/// How long Chromium may take to load one page before the test kills it and fails.
pub const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

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
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
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
