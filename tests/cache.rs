//! The open-file cache is never stale: each kind of change on disk, made under a hot cache,
//! is what the next request sees 50 ms later when inotify reports it, and within a second
//! when it does not (a write through a hard link outside the root, or through a shared
//! memory mapping).
//!
//! "Hot" is checked, not assumed: a cached file is held open by the server, so one of its
//! descriptors in /proc names the file. The 50 ms pause after each change is the bound the
//! server promises (README, "Limits and security"), not a wait for something to happen. A
//! change inotify does not see is polled for until a deadline far past the second the server
//! promises: the test asserts that it arrives, not how soon.

mod common;

use common::{Response, Server, TIMEOUT, get, get_with};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long after a change on disk a request must see it.
const BOUND: Duration = Duration::from_millis(50);

/// Whether the server holds `path` open (it is in the open-file cache).
fn held_open(server: &Server, path: &Path) -> bool {
    let path = fs::canonicalize(path).unwrap();
    fs::read_dir(format!("/proc/{}/fd", server.pid()))
        .unwrap()
        .filter_map(|entry| fs::read_link(entry.ok()?.path()).ok())
        .any(|target| target == path)
}

/// Requests `path` twice and checks that the file behind it is cached; returns the answer.
fn warm(server: &Server, path: &str, file: &Path) -> Response {
    get(server, path);
    let response = get(server, path);
    assert_eq!(response.status, 200);
    assert!(held_open(server, file), "{} is not cached", file.display());
    response
}

fn server_with(files: &[(&str, &str)], args: &[&str]) -> (tempfile::TempDir, Server) {
    let root = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = root.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    let server = Server::with_args(root.path(), args);
    (root, server)
}

#[test]
fn an_edit_in_place_of_the_same_size_is_seen() {
    let (root, server) = server_with(&[("page.txt", "AAAA")], &[]);
    let file = root.path().join("page.txt");
    let before = warm(&server, "/page.txt", &file);
    assert_eq!(before.text(), "AAAA");
    let mut handle = fs::OpenOptions::new().write(true).open(&file).unwrap();
    handle.write_all(b"BBBB").unwrap();
    drop(handle);
    thread::sleep(BOUND);
    let after = get(&server, "/page.txt");
    assert_eq!(after.text(), "BBBB");
    assert_ne!(after.header("ETag"), before.header("ETag"));
}

#[test]
fn a_replace_keeping_size_and_modification_time_is_seen() {
    let (root, server) = server_with(&[("copy.txt", "AAAA")], &[]);
    let file = root.path().join("copy.txt");
    let mtime = fs::metadata(&file).unwrap().modified().unwrap();
    warm(&server, "/copy.txt", &file);
    // As rsync -t or cp -p would: another inode, the same length and modification time.
    let temporary = root.path().join(".copy.txt.tmp");
    fs::write(&temporary, "BBBB").unwrap();
    fs::File::options()
        .write(true)
        .open(&temporary)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    fs::rename(&temporary, &file).unwrap();
    thread::sleep(BOUND);
    assert_eq!(get(&server, "/copy.txt").text(), "BBBB");
}

#[test]
fn head_from_the_cache_has_the_get_fields_and_no_body() {
    let (root, server) = server_with(&[("h.txt", "twelve bytes")], &[]);
    let get_response = warm(&server, "/h.txt", &root.path().join("h.txt"));
    let raw = server.exchange(b"HEAD /h.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let text = String::from_utf8(raw).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.contains("Content-Length: 12\r\n"), "{text}");
    assert!(
        text.contains(&format!(
            "ETag: {}\r\n",
            get_response.header("ETag").unwrap()
        )),
        "{text}"
    );
    assert!(text.ends_with("\r\n\r\n"), "HEAD carried a body: {text}");
}

#[test]
fn growth_is_seen() {
    let (root, server) = server_with(&[("log.txt", "one\n")], &[]);
    let file = root.path().join("log.txt");
    warm(&server, "/log.txt", &file);
    fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap()
        .write_all(b"two\n")
        .unwrap();
    thread::sleep(BOUND);
    let after = get(&server, "/log.txt");
    assert_eq!(after.text(), "one\ntwo\n");
    assert_eq!(after.header("Content-Length"), Some("8"));
}

#[test]
fn an_atomic_replace_by_rename_is_seen() {
    let (root, server) = server_with(&[("app.js", "old();")], &[]);
    let file = root.path().join("app.js");
    warm(&server, "/app.js", &file);
    let temporary = root.path().join(".app.js.tmp");
    fs::write(&temporary, "new();").unwrap();
    fs::rename(&temporary, &file).unwrap();
    thread::sleep(BOUND);
    assert_eq!(get(&server, "/app.js").text(), "new();");
}

#[test]
fn a_delete_then_a_re_create_is_seen() {
    let (root, server) = server_with(&[("gone.txt", "here")], &[]);
    let file = root.path().join("gone.txt");
    warm(&server, "/gone.txt", &file);
    fs::remove_file(&file).unwrap();
    thread::sleep(BOUND);
    assert_eq!(get(&server, "/gone.txt").status, 404);
    fs::write(&file, "back").unwrap();
    thread::sleep(BOUND);
    let again = get(&server, "/gone.txt");
    assert_eq!((again.status, again.text().as_str()), (200, "back"));
}

#[test]
fn a_touch_changes_the_validators() {
    let (root, server) = server_with(&[("t.txt", "same")], &[]);
    let file = root.path().join("t.txt");
    let before = warm(&server, "/t.txt", &file);
    let handle = fs::File::options().write(true).open(&file).unwrap();
    handle
        .set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
        .unwrap();
    drop(handle);
    thread::sleep(BOUND);
    let after = get(&server, "/t.txt");
    assert_eq!(
        after.header("Last-Modified"),
        Some("Sun, 09 Sep 2001 01:46:40 GMT")
    );
    assert_ne!(after.header("ETag"), before.header("ETag"));
}

#[test]
fn a_new_precompressed_sibling_is_seen() {
    let (root, server) = server_with(&[("style.css", "body{}")], &[]);
    let file = root.path().join("style.css");
    warm(&server, "/style.css", &file);
    let plain = get_with(&server, "/style.css", "Accept-Encoding: gzip\r\n");
    assert_eq!(plain.header("Content-Encoding"), None);
    fs::write(root.path().join("style.css.gz"), "gzipped").unwrap();
    thread::sleep(BOUND);
    let encoded = get_with(&server, "/style.css", "Accept-Encoding: gzip\r\n");
    assert_eq!(encoded.header("Content-Encoding"), Some("gzip"));
    assert_eq!(encoded.text(), "gzipped");
    assert_eq!(encoded.header("Vary"), Some("Accept-Encoding"));
}

#[test]
fn a_renamed_directory_takes_its_cached_files_with_it() {
    let (root, server) = server_with(&[("sub/deep/a.txt", "a")], &[]);
    warm(
        &server,
        "/sub/deep/a.txt",
        &root.path().join("sub/deep/a.txt"),
    );
    fs::rename(root.path().join("sub"), root.path().join("moved")).unwrap();
    thread::sleep(BOUND);
    assert_eq!(get(&server, "/sub/deep/a.txt").status, 404);
    assert_eq!(get(&server, "/moved/deep/a.txt").text(), "a");
}

#[test]
fn a_large_file_edited_in_place_is_seen() {
    let big = "x".repeat(200 * 1024);
    let (root, server) = server_with(&[("big.txt", &big)], &["--file-cache-max-file", "1KiB"]);
    let file = root.path().join("big.txt");
    warm(&server, "/big.txt", &file);
    let mut handle = fs::OpenOptions::new().write(true).open(&file).unwrap();
    handle.write_all(b"yyyy").unwrap();
    drop(handle);
    thread::sleep(BOUND);
    let after = get(&server, "/big.txt");
    assert!(after.text().starts_with("yyyyxxxx"));
}

#[test]
fn a_new_entry_in_a_listed_directory_is_seen() {
    let (root, server) = server_with(&[("dir/a.txt", "a")], &["--list-dirs"]);
    warm(&server, "/dir/a.txt", &root.path().join("dir/a.txt"));
    assert!(!get(&server, "/dir/").text().contains("b.txt"));
    fs::write(root.path().join("dir/b.txt"), "b").unwrap();
    thread::sleep(BOUND);
    assert!(get(&server, "/dir/").text().contains("b.txt"));
}

#[test]
fn a_file_reached_through_a_symlink_is_served_but_not_cached() {
    let (root, server) = server_with(&[("real.txt", "real")], &[]);
    std::os::unix::fs::symlink("real.txt", root.path().join("link.txt")).unwrap();
    get(&server, "/link.txt");
    let response = get(&server, "/link.txt");
    assert_eq!(response.text(), "real");
    assert!(!held_open(&server, &root.path().join("real.txt")));
}

#[test]
fn with_the_cache_off_nothing_is_held_open() {
    let (root, server) = server_with(&[("a.txt", "a")], &["--file-cache-entries", "0"]);
    get(&server, "/a.txt");
    assert_eq!(get(&server, "/a.txt").text(), "a");
    assert!(!held_open(&server, &root.path().join("a.txt")));
}

/// Requests `path` (with `fields`) until `done` holds for the answer, and returns it; fails
/// after [`TIMEOUT`], showing the last answer.
fn until(server: &Server, path: &str, fields: &str, done: impl Fn(&Response) -> bool) -> Response {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let response = get_with(server, path, fields);
        if done(&response) {
            return response;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {} {:?} after {TIMEOUT:?}",
            response.status,
            response.text()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A program that wrote over the start of a file through a shared memory mapping, as a
/// program that maps the file would, and holds the file open until dropped: closing a file
/// opened for writing is an event inotify reports, the write through the mapping is not.
/// (Python's `mmap` module maps it: the tests map nothing themselves.)
struct Mapped(Child);

impl Mapped {
    /// Writes `text` over the start of `file` through a mapping of it.
    fn write(file: &Path, text: &str) -> Mapped {
        let script = "import mmap, sys\n\
                      f = open(sys.argv[1], 'r+b')\n\
                      m = mmap.mmap(f.fileno(), 0)\n\
                      m[0:len(sys.argv[2])] = sys.argv[2].encode()\n\
                      print('written', flush=True)\n\
                      sys.stdin.read()\n";
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(file)
            .arg(text)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3, to write through a shared mapping");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line, "written\n",
            "python3 could not write through a mapping"
        );
        Mapped(child)
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

#[test]
fn a_rewrite_through_a_hard_link_outside_the_root_is_seen() {
    let (root, server) = server_with(&[("linked.txt", "AAAA")], &[]);
    let outside = tempfile::tempdir().unwrap();
    let file = root.path().join("linked.txt");
    let link = outside.path().join("other-name.txt");
    fs::hard_link(&file, &link).unwrap();
    warm(&server, "/linked.txt", &file);
    // In place, the same size: the inode, its size and its directory entries unchanged.
    fs::OpenOptions::new()
        .write(true)
        .open(&link)
        .unwrap()
        .write_all_at(b"BBBB", 0)
        .unwrap();
    let same_size = until(&server, "/linked.txt", "", |r| r.text() != "AAAA");
    assert_eq!(same_size.text(), "BBBB");
    assert_eq!(same_size.header("Content-Length"), Some("4"));
    warm(&server, "/linked.txt", &file);
    // Truncated and written longer.
    fs::write(&link, "CCCCCCCCCC").unwrap();
    let longer = until(&server, "/linked.txt", "", |r| r.text() != "BBBB");
    assert_eq!(longer.text(), "CCCCCCCCCC");
    assert_eq!(longer.header("Content-Length"), Some("10"));
}

#[test]
fn a_write_through_a_shared_mapping_is_seen() {
    let (root, server) = server_with(&[("mapped.txt", "AAAAAAAA")], &[]);
    let file = root.path().join("mapped.txt");
    let before = warm(&server, "/mapped.txt", &file);
    let _mapped = Mapped::write(&file, "BBBB");
    let after = until(&server, "/mapped.txt", "", |r| r.text() != "AAAAAAAA");
    assert_eq!(after.text(), "BBBBAAAA");
    assert_ne!(after.header("ETag"), before.header("ETag"));
}

#[test]
fn a_listing_shows_a_write_through_a_shared_mapping() {
    let (root, server) = server_with(&[("dir/a.txt", "AAAA")], &["--list-dirs"]);
    let file = root.path().join("dir/a.txt");
    fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000))
        .unwrap();
    let json = "Accept: application/json\r\n";
    let listed = get_with(&server, "/dir/", json);
    assert!(
        listed.text().contains("2001-09-09T01:46:40Z"),
        "{}",
        listed.text()
    );
    // Kept: asked again, the listing comes from memory.
    assert!(
        get_with(&server, "/dir/", json)
            .text()
            .contains("2001-09-09")
    );
    let _mapped = Mapped::write(&file, "BBBB");
    let after = until(&server, "/dir/", json, |r| !r.text().contains("2001-09-09"));
    assert!(after.text().contains("\"a.txt\""), "{}", after.text());
}

#[test]
fn a_same_size_rewrite_with_its_modification_time_restored_is_compressed_anew() {
    let old = "the old text, compressed on the fly. ".repeat(64);
    let new = "THE NEW TEXT, COMPRESSED ON THE FLY. ".repeat(64);
    assert_eq!(old.len(), new.len());
    let (root, server) = server_with(&[("page.txt", &old)], &[]);
    let file = root.path().join("page.txt");
    let gzip = "Accept-Encoding: gzip\r\n";
    let decoded = |response: &Response| {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&response.body[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    };
    let encoded = |r: &Response| r.header("Content-Encoding") == Some("gzip");
    assert_eq!(decoded(&until(&server, "/page.txt", gzip, encoded)), old);
    let mtime = fs::metadata(&file).unwrap().modified().unwrap();
    let mut handle = fs::OpenOptions::new().write(true).open(&file).unwrap();
    handle.write_all(new.as_bytes()).unwrap();
    handle.set_modified(mtime).unwrap();
    drop(handle);
    assert_eq!(fs::metadata(&file).unwrap().modified().unwrap(), mtime);
    // First the file as it is, while the new version is compressed; then its variant.
    let fresh = until(&server, "/page.txt", gzip, |r| {
        encoded(r) && decoded(r) != old
    });
    assert_eq!(decoded(&fresh), new);
}
