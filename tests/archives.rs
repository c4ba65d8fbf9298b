//! Folder archives (`--archives tar,tar.gz,zip`) against the real binary, fetched with curl
//! and read back with Python's `tarfile` and `zipfile`: nested folders, unicode names, a
//! dotfile, symlinks out of the root and into an auth area, over HTTP/1.1 and HTTP/2; a
//! 2 GiB sparse file archived in bounded memory; a client that stops reading cut off by the
//! send timeout; archives made at once bounded, past that 503.

mod common;
#[path = "common/curl.rs"]
mod curl;
#[path = "common/proc.rs"]
mod proc;

use common::{Server, TIMEOUT, get, request, slow_socket};
use curl::{curl, sha256};
use proc::{fd_count, proc_status_kb, wait_fds_at_most};
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// A site whose folder `shared/` holds what an archive must take and what it must leave out.
struct Site {
    dir: TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("www");
        let shared = root.join("shared");
        fs::create_dir_all(shared.join("sub/deeper")).unwrap();
        fs::create_dir_all(shared.join("empty")).unwrap();
        fs::create_dir_all(shared.join("private")).unwrap();
        fs::create_dir_all(dir.path().join("outside")).unwrap();
        fs::write(shared.join("a.txt"), "alpha\n").unwrap();
        fs::write(
            shared.join("na\u{ef}ve caf\u{e9} \u{65e5}\u{672c}.txt"),
            "unicode\n",
        )
        .unwrap();
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 256) as u8).collect();
        fs::write(shared.join("sub/deeper/data.bin"), bytes).unwrap();
        fs::write(shared.join(".hidden"), "dotfile\n").unwrap();
        fs::write(shared.join("private/p.txt"), "private\n").unwrap();
        fs::write(root.join("other.txt"), "inside the root\n").unwrap();
        fs::write(dir.path().join("outside/secret.txt"), "outside\n").unwrap();
        symlink(dir.path().join("outside"), shared.join("out")).unwrap();
        symlink(
            dir.path().join("outside/secret.txt"),
            shared.join("secret.txt"),
        )
        .unwrap();
        symlink("../other.txt", shared.join("link-in.txt")).unwrap();
        symlink("private/p.txt", shared.join("p-link.txt")).unwrap();
        let hash = bcrypt::hash("pw", 4).unwrap();
        fs::write(dir.path().join("users"), format!("alice:{hash}\n")).unwrap();
        fs::write(
            dir.path().join("site.toml"),
            format!(
                "list_dirs = true\narchives = [\"tar\", \"tar.gz\", \"zip\"]\n\
                 [[auth]]\npath = \"/shared/private/**\"\nfile = \"{}\"\n",
                dir.path().join("users").display()
            ),
        )
        .unwrap();
        Site { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("www")
    }

    fn serve(&self, extra: &[&str]) -> Server {
        let config = self.dir.path().join("site.toml");
        let mut args = vec!["--config", config.to_str().unwrap()];
        args.extend_from_slice(extra);
        Server::with_args(&self.root(), &args)
    }

    /// What an archive of `shared/` must hold: each file's SHA-256 by its name, a folder as
    /// `/`; with `private`, the auth area's files too.
    fn expected(&self, private: bool) -> BTreeMap<String, String> {
        let shared = self.root().join("shared");
        let mut expected = BTreeMap::new();
        for dir in ["empty/", "sub/", "sub/deeper/"] {
            expected.insert(dir.to_string(), "/".to_string());
        }
        let mut files = vec![
            "a.txt",
            "na\u{ef}ve caf\u{e9} \u{65e5}\u{672c}.txt",
            "sub/deeper/data.bin",
            "link-in.txt",
        ];
        if private {
            expected.insert("private/".to_string(), "/".to_string());
            files.extend(["private/p.txt", "p-link.txt"]);
        }
        for name in files {
            expected.insert(
                name.to_string(),
                sha256(&fs::read(shared.join(name)).unwrap()),
            );
        }
        expected
    }
}

/// Python reads the archive at `path` in `format`: each member's SHA-256 by its name (a
/// folder as `/`), checking on the way that a zip member with a name that is not ASCII has
/// the UTF-8 flag (APPNOTE 6.3 §4.4.4 bit 11).
const READ_BACK: &str = r#"
import hashlib, json, sys, tarfile, zipfile
path, kind = sys.argv[1], sys.argv[2]
out = {}
if kind == "zip":
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if not info.filename.isascii():
                assert info.flag_bits & 0x800, info.filename
            if info.is_dir():
                out[info.filename] = "/"
            else:
                out[info.filename] = hashlib.sha256(z.read(info)).hexdigest()
else:
    with tarfile.open(path, "r:gz" if kind == "tar.gz" else "r:") as t:
        for m in t.getmembers():
            if m.isdir():
                out[m.name + "/"] = "/"
            else:
                out[m.name] = hashlib.sha256(t.extractfile(m).read()).hexdigest()
print(json.dumps(out))
"#;

fn read_back(path: &Path, format: &str) -> BTreeMap<String, String> {
    let out = Command::new("python3")
        .args(["-c", READ_BACK])
        .arg(path)
        .arg(format)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 reading {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn each_format_holds_what_the_listing_shows() {
    let site = Site::new();
    let server = site.serve(&[]);
    let page = get(&server, "/shared/").text();
    for format in ["tar", "tar.gz", "zip"] {
        assert!(
            page.contains(&format!("href=\"?download={format}\"")),
            "{page}"
        );
    }
    for format in ["tar", "tar.gz", "zip"] {
        let body = site.dir.path().join(format!("shared.{format}"));
        let got = curl(
            &body,
            &server.url(&format!("/shared/?download={format}")),
            &[],
        );
        assert_eq!(got.status, 200, "{format}");
        assert_eq!(
            got.header("Content-Disposition"),
            Some(format!("attachment; filename*=UTF-8''shared.{format}").as_str())
        );
        let read = read_back(&body, format);
        assert_eq!(
            read,
            site.expected(false),
            "{format}: no dotfile, nothing outside the root, nothing private"
        );
        let body = site.dir.path().join(format!("alice.{format}"));
        let url = server.url(&format!("/shared/?download={format}"));
        let got = curl(&body, &url, &["-u", "alice:pw"]);
        assert_eq!(got.status, 200, "{format}");
        assert_eq!(
            read_back(&body, format),
            site.expected(true),
            "{format}: alice's"
        );
    }
}

#[test]
fn archives_over_http2_and_their_refusals() {
    let site = Site::new();
    let server = site.serve(&[]);
    let body = site.dir.path().join("h2.zip");
    let url = server.url("/shared/?download=zip");
    let got = curl(&body, &url, &["--http2-prior-knowledge"]);
    assert_eq!((got.version.as_str(), got.status), ("2", 200));
    assert_eq!(got.header("content-type"), Some("application/zip"));
    assert_eq!(read_back(&body, "zip"), site.expected(false));

    let unknown = get(&server, "/shared/?download=rar");
    assert_eq!(unknown.status, 400);
    assert!(unknown.text().contains("tar, tar.gz or zip"));
    let old = request(
        &server,
        "GET /shared/?download=tar HTTP/1.0\r\nHost: localhost\r\n\r\n",
    );
    assert_eq!(old.status, 400);
    assert!(old.text().contains("HTTP/1.0"));

    let tar_only = site.serve(&["--archives", "tar"]);
    assert_eq!(get(&tar_only, "/shared/?download=zip").status, 404);
    let page = get(&tar_only, "/shared/").text();
    assert!(page.contains("?download=tar\"") && !page.contains("?download=zip"));
}

/// A 2 GiB sparse file archived as tar: the server's peak resident memory (VmHWM) grows by
/// a few MiB at most, as each step holds one 64 KiB piece of the file.
/// A root whose folder `big/` holds `sparse.bin`, `len` bytes long: a length and no data, so
/// the file takes no disk space, and reads as zeros.
fn sparse_folder(len: u64) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big");
    fs::create_dir_all(&big).unwrap();
    fs::File::create(big.join("sparse.bin"))
        .unwrap()
        .set_len(len)
        .unwrap();
    dir
}

#[test]
fn a_2_gib_sparse_file_in_bounded_memory() {
    let dir = sparse_folder(2 << 30);
    let server = Server::with_args(dir.path(), &["--list-dirs", "--archives", "tar"]);
    assert_eq!(get(&server, "/big/").status, 200);
    let before = proc_status_kb(server.pid(), "VmHWM");
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{size_download}",
        ])
        .arg(server.url("/big/?download=tar"))
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = String::from_utf8(out.stdout).unwrap();
    // One header, the content, the end of the archive.
    assert_eq!(written, format!("200 {}", 512 + (2u64 << 30) + 1024));
    let after = proc_status_kb(server.pid(), "VmHWM");
    println!("VmHWM {before} kB before the 2 GiB archive, {after} kB after");
    assert!(
        after < before + 16 * 1024,
        "the peak grew from {before} kB to {after} kB"
    );
}

/// A client that asks for an archive and stops reading is cut off by the send timeout: the
/// server lets go of the connection (and of the folder's descriptors) without the archive
/// being sent, and what the client reads afterwards ends short.
#[test]
fn a_client_that_stops_reading_is_cut_off() {
    let dir = sparse_folder(256 << 20);
    let server = Server::with_args(
        dir.path(),
        &["--list-dirs", "--archives", "tar", "--send-timeout", "1s"],
    );
    // The listing makes what the server keeps (the open-file cache's watches) first.
    assert_eq!(get(&server, "/big/").status, 200);
    let fds_before = fd_count(server.pid());
    let mut stream = slow_socket(server.addr);
    stream
        .write_all(b"GET /big/?download=tar HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 1024];
    let n = stream.read(&mut first).unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &first[..n]);
    // The client reads nothing more: the server gives the connection up.
    wait_fds_at_most(&server, fds_before);
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    assert!(
        ((n + rest.len()) as u64) < 256 << 20,
        "the whole archive came ({} bytes)",
        n + rest.len()
    );
    assert!(!rest.ends_with(b"0\r\n\r\n"), "the body was finished");
    assert_eq!(get(&server, "/big/").status, 200, "the server is unharmed");
}

/// Archives made at once are bounded (8 a server): past that, `503` with `Retry-After`, while
/// files and listings are served as ever; a place is given back when its client goes, and
/// the next archive is made.
#[test]
fn archives_past_the_most_at_once_are_refused_with_503() {
    const AT_ONCE: usize = 8;
    let dir = sparse_folder(256 << 20);
    let server = Server::with_args(dir.path(), &["--list-dirs", "--archives", "tar,zip"]);
    let head = "HEAD /big/?download=tar HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    assert_eq!(request(&server, head).status, 200, "a place is free");
    let mut held: Vec<_> = (0..AT_ONCE)
        .map(|_| {
            // A tar of 256 MiB of zeros: far more than the socket buffers hold (a compressed
            // one could end, and give its place back, before the client reads).
            let mut stream = slow_socket(server.addr);
            stream
                .write_all(b"GET /big/?download=tar HTTP/1.1\r\nHost: localhost\r\n\r\n")
                .unwrap();
            let mut first = [0u8; 64];
            let n = stream.read(&mut first).unwrap();
            assert!(first[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &first[..n]);
            stream
        })
        .collect();
    let refused = get(&server, "/big/?download=zip");
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.header("Retry-After"), Some("5"));
    assert!(refused.text().contains("8 archives are being made already"));
    assert_eq!(request(&server, head).status, 503);
    assert_eq!(get(&server, "/big/").status, 200, "listings are served");
    // One client goes: its place comes back once the server sees the connection end.
    drop(held.pop());
    let deadline = std::time::Instant::now() + TIMEOUT;
    loop {
        match request(&server, head).status {
            200 => break,
            503 if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            status => panic!("HEAD of an archive: {status}, a place was not given back"),
        }
    }
    assert_eq!(request(&server, head).status, 200, "HEAD holds no place");
}
