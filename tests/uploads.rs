//! Uploads against the real binary: `curl -F` (several files), `curl -T`, over HTTP/2
//! (`--http2-prior-knowledge`) and over TLS, Python's `requests`, and Chromium submitting
//! the listing's form; the bytes on disk compared with SHA-256, binary files included. A cut upload, an
//! oversize one, a refused name, a name taken and a full disk each leave the folder as it
//! was and get the stated status.
//!
//! Tools that may be missing (curl, Python's `requests`, Chromium, a tmpfs mount, which
//! needs root) make their test say SKIPPED and pass, unless `CI` is set, when it fails.

#[path = "common/cert.rs"]
mod cert;
mod common;
#[path = "common/curl.rs"]
mod curl;
#[path = "common/browser.rs"]
mod headless;

use common::{Server, read_response};
use curl::sha256;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The largest file the tests' upload folder takes.
const MAX: usize = 1024 * 1024;

/// A site whose `inbox/` is an upload folder holding `kept.txt`, served with listings,
/// anonymous uploads and a 1 MiB limit (plus `extra` arguments).
fn serve(extra: &[&str]) -> (tempfile::TempDir, Server) {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir(root.path().join("inbox")).unwrap();
    fs::write(root.path().join("inbox/kept.txt"), "kept\n").unwrap();
    let mut args = vec![
        "--list-dirs",
        "--upload",
        "/inbox",
        "--upload-anonymous",
        "--upload-max-size",
        "1MiB",
    ];
    args.extend_from_slice(extra);
    let server = Server::with_args(root.path(), &args);
    (root, server)
}

/// Every entry of `dir`, by name, with the SHA-256 of each file's bytes.
fn contents(dir: &Path) -> BTreeMap<String, String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, sha256(&fs::read(entry.path()).unwrap_or_default()))
        })
        .collect()
}

/// `len` bytes that are not text: every byte value, in a scrambled order, CR, LF and NUL
/// and a delimiter-like `\r\n--` among them.
fn binary(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect();
    if len > 64 {
        bytes[10..16].copy_from_slice(b"\r\n--\r\n");
    }
    bytes
}

/// Writes `bytes` to `name` in a new temporary directory (kept alive by the caller).
fn local_file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// Whether `program` runs; if not, says SKIPPED (or fails under CI).
fn have(program: &str, args: &[&str], what: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !ok {
        skip(what);
    }
    ok
}

fn skip(what: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} (CI is set: failing)"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED: {what}");
}

/// Runs curl with `args` and the server's `path`; returns the status and the body.
fn curl(server: &Server, path: &str, args: &[&str]) -> (u16, String) {
    let output = Command::new("curl")
        .args(["-sS", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .arg(server.url(path))
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.trim().parse().unwrap_or(0), body.to_string())
}

#[test]
fn curl_form_with_several_binary_files_stores_each_byte_for_byte() {
    if !have(
        "curl",
        &["--version"],
        "curl is not installed: apt-get install curl",
    ) {
        return;
    }
    let (root, server) = serve(&[]);
    let local = tempfile::tempdir().unwrap();
    let first = binary(300_000, 1);
    let second = binary(MAX, 2);
    let a = local_file(&local, "photo.jpg", &first);
    let b = local_file(&local, "caf\u{e9} notes.bin", &second);
    let empty = local_file(&local, "empty.txt", b"");
    let (status, body) = curl(
        &server,
        "/inbox/",
        &[
            "-F",
            &format!("one=@{}", a.display()),
            "-F",
            &format!("two=@{}", b.display()),
            "-F",
            &format!("three=@{}", empty.display()),
            "-F",
            "comment=a plain field is not a file",
        ],
    );
    assert_eq!(status, 201, "{body}");
    let stored = contents(&root.path().join("inbox"));
    assert_eq!(stored["photo.jpg"], sha256(&first));
    assert_eq!(stored["caf\u{e9} notes.bin"], sha256(&second));
    assert_eq!(stored["empty.txt"], sha256(b""));
    assert_eq!(stored.len(), 4, "no temporary file left: {stored:?}");
}

#[test]
fn curl_put_stores_the_body_with_201_and_location_and_over_http2_too() {
    if !have(
        "curl",
        &["--version"],
        "curl is not installed: apt-get install curl",
    ) {
        return;
    }
    let (root, server) = serve(&[]);
    let local = tempfile::tempdir().unwrap();
    let bytes = binary(700_000, 3);
    let file = local_file(&local, "upload.bin", &bytes);
    let output = Command::new("curl")
        .args(["-sS", "-i", "-T"])
        .arg(&file)
        .arg(server.url("/inbox/r%C3%A9sum%C3%A9.bin"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("HTTP/1.1 201 Created"), "{text}");
    assert!(
        text.contains("Location: /inbox/r%C3%A9sum%C3%A9.bin\r\n"),
        "{text}"
    );
    let (status, body) = curl(
        &server,
        "/inbox/h2.bin",
        &["--http2-prior-knowledge", "-T", &file.to_string_lossy()],
    );
    assert_eq!(status, 201, "{body}");
    server.wait_for_log("\"PUT /inbox/h2.bin HTTP/2.0\" 201");
    let stored = contents(&root.path().join("inbox"));
    assert_eq!(stored["r\u{e9}sum\u{e9}.bin"], sha256(&bytes));
    assert_eq!(stored["h2.bin"], sha256(&bytes));
    assert_eq!(stored.len(), 3, "{stored:?}");
}

#[test]
fn curl_uploads_over_tls_with_http2_and_http11_alike() {
    if !have(
        "curl",
        &["--version"],
        "curl is not installed: apt-get install curl",
    ) {
        return;
    }
    let cert = cert::TestCert::new();
    let mut args = cert.args();
    args.extend(["--upload", "/inbox", "--upload-anonymous"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = tempfile::tempdir().unwrap();
    let server = Server::with_args(root.path(), &args);
    let local = tempfile::tempdir().unwrap();
    let bytes = binary(900_000, 11);
    let file = local_file(&local, "tls.bin", &bytes);
    for (version, name) in [("--http2", "h2.bin"), ("--http1.1", "h1.bin")] {
        let output = Command::new("curl")
            .args([
                "-sS",
                "-k",
                version,
                "-o",
                "/dev/null",
                "-w",
                "%{http_code} %{http_version}",
            ])
            .arg("-F")
            .arg(format!("f=@{};filename={name}", file.display()))
            .arg(server.https_url("/inbox/"))
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        let expected = if name == "h2.bin" { "201 2" } else { "201 1.1" };
        assert_eq!(
            printed,
            expected,
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stored = contents(&root.path().join("inbox"));
    assert_eq!(stored["h2.bin"], sha256(&bytes));
    assert_eq!(stored["h1.bin"], sha256(&bytes));
}

#[test]
fn python_requests_uploads_several_files() {
    let probe = "import requests";
    if !have(
        "python3",
        &["-c", probe],
        "Python's requests is missing: pip install requests",
    ) {
        return;
    }
    let (root, server) = serve(&[]);
    let local = tempfile::tempdir().unwrap();
    let first = binary(200_000, 4);
    let second = binary(5_000, 5);
    let a = local_file(&local, "a.dat", &first);
    let b = local_file(&local, "b.dat", &second);
    let script = format!(
        "import requests, sys\n\
         files = [('f', ('from python.dat', open({a:?}, 'rb'))), \
                  ('g', ('second.dat', open({b:?}, 'rb'), 'application/octet-stream'))]\n\
         r = requests.post({url:?}, files=files, data={{'note': 'x'}})\n\
         print(r.status_code)\n",
        a = a.display().to_string(),
        b = b.display().to_string(),
        url = server.url("/inbox/"),
    );
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        printed.trim(),
        "201",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stored = contents(&root.path().join("inbox"));
    assert_eq!(stored["from python.dat"], sha256(&first));
    assert_eq!(stored["second.dat"], sha256(&second));
}

/// Sends `head` and `body` on a new connection; returns the response.
fn send(server: &Server, head: &str, body: &[u8]) -> common::Response {
    let mut stream = server.connect();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    read_response(&mut stream, &mut Vec::new(), false)
}

#[test]
fn refusals_leave_the_folder_as_it_was() {
    let (root, server) = serve(&[]);
    let inbox = root.path().join("inbox");
    let before = contents(&inbox);
    let put = |path: &str, body: &[u8]| {
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        send(&server, &head, body)
    };
    // A name taken: 409 naming it; the file is untouched.
    let taken = put("/inbox/kept.txt", b"replaced?");
    assert_eq!(taken.status, 409);
    assert!(taken.text().contains("\"kept.txt\""), "{}", taken.text());
    // Refused names: 400 naming the rule.
    let long = format!("/inbox/{}", "x".repeat(256));
    for (path, rule) in [
        ("/inbox/.env", "cannot start with ."),
        (long.as_str(), "longer than 255 bytes"),
        ("/inbox/a%2Fb", "encoded"),
        ("/inbox/a%0Ab", "control"),
    ] {
        let refused = put(path, b"x");
        assert_eq!(refused.status, 400, "{path}: {}", refused.text());
        assert!(refused.text().contains(rule), "{path}: {}", refused.text());
    }
    let form = |name: &str| {
        let body = format!(
            "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"{name}\"\r\n\r\n\
             data\r\n--b--\r\n"
        );
        let head = format!(
            "POST /inbox/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        send(&server, &head, body.as_bytes())
    };
    for (name, rule) in [
        ("../escape", "cannot hold /"),
        ("a\\\\b", "cannot hold \\"),
        (".hidden", "cannot start with ."),
        ("..", "cannot be . or .."),
    ] {
        let refused = form(name);
        assert_eq!(refused.status, 400, "{name}: {}", refused.text());
        assert!(refused.text().contains(rule), "{name}: {}", refused.text());
    }
    let taken = form("kept.txt");
    assert_eq!(taken.status, 409, "{}", taken.text());
    // Oversize: declared (413 at once), and found while streaming a form.
    let over = put("/inbox/big.bin", &vec![0; MAX + 1]);
    assert_eq!(over.status, 413, "{}", over.text());
    let mut body =
        b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n\r\n".to_vec();
    body.extend_from_slice(&binary(MAX + MAX / 2, 6));
    body.extend_from_slice(b"\r\n--b--\r\n");
    let head = format!(
        "POST /inbox/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let over = send(&server, &head, &body);
    assert_eq!(over.status, 413, "{}", over.text());
    server.wait_for_log("upload of \"big.bin\" into /inbox/ not completed");
    // A form whose second file is refused stores neither.
    let body = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"new.txt\"\r\n\r\n\
                new\r\n--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"kept.txt\"\r\n\r\n\
                again\r\n--b--\r\n";
    let head = format!(
        "POST /inbox/ HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    assert_eq!(send(&server, &head, body.as_bytes()).status, 409);
    // Not an upload folder: 405, as before; in one, the methods it takes are allowed.
    let head = "PUT /elsewhere.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n";
    assert_eq!(send(&server, head, b"x").status, 405);
    let head = "DELETE /inbox/kept.txt HTTP/1.1\r\nHost: x\r\n\r\n";
    let refused = send(&server, head, b"");
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("Allow"), Some("GET, HEAD, PUT"));
    let head = "PUT /inbox/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n";
    let refused = send(&server, head, b"x");
    assert_eq!(refused.header("Allow"), Some("GET, HEAD, POST"));
    assert_eq!(contents(&inbox), before);
}

#[test]
fn expect_100_continue_gets_its_100_only_for_an_upload_taken() {
    let (root, server) = serve(&[]);
    let mut stream = server.connect();
    stream
        .write_all(
            b"PUT /inbox/kept.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\
              Expect: 100-continue\r\n\r\n",
        )
        .unwrap();
    let refused = read_response(&mut stream, &mut Vec::new(), false);
    assert_eq!(refused.status, 409, "answered at once, without a 100");
    assert_eq!(refused.header("Connection"), Some("close"));
    let mut stream = server.connect();
    stream
        .write_all(
            b"PUT /inbox/new.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\
              Expect: 100-continue\r\n\r\n",
        )
        .unwrap();
    let mut leftover = Vec::new();
    let interim = read_response(&mut stream, &mut leftover, false);
    assert_eq!(interim.status, 100);
    stream.write_all(b"hello").unwrap();
    let created = read_response(&mut stream, &mut leftover, false);
    assert_eq!(created.status, 201);
    assert_eq!(
        fs::read(root.path().join("inbox/new.txt")).unwrap(),
        b"hello"
    );
}

#[test]
fn a_cut_upload_leaves_nothing_behind() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir(root.path().join("inbox")).unwrap();
    fs::write(root.path().join("inbox/kept.txt"), "kept\n").unwrap();
    let args = ["--upload", "/inbox", "--upload-anonymous"];
    let server = Server::with_env(root.path(), &args, &[("RUST_LOG", "debug")]);
    let inbox = root.path().join("inbox");
    let before = contents(&inbox);
    for framing in ["Content-Length: 500000", "Transfer-Encoding: chunked"] {
        let mut stream = server.connect();
        let head = format!("PUT /inbox/cut.bin HTTP/1.1\r\nHost: x\r\n{framing}\r\n\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let piece = binary(100_000, 7);
        if framing.starts_with("Transfer") {
            stream
                .write_all(format!("{:x}\r\n", piece.len()).as_bytes())
                .unwrap();
        }
        stream.write_all(&piece).unwrap();
        // The temporary file exists while the body arrives...
        let line = server.wait_for_log("receiving \"cut.bin\" into /inbox/ as ");
        let temp = line.rsplit(' ').next().unwrap().trim();
        assert!(inbox.join(temp).is_file(), "{line}");
        // ...and is gone once the client goes away.
        drop(stream);
        server.wait_for_log("upload of \"cut.bin\" into /inbox/ not completed");
        assert_eq!(contents(&inbox), before, "{framing}");
    }
}

#[test]
fn the_listing_of_an_upload_folder_shows_the_form_with_its_script_allowed() {
    let (_root, server) = serve(&[]);
    let listing = common::get(&server, "/inbox/");
    assert_eq!(listing.status, 200);
    let page = listing.text();
    assert!(
        page.contains("<form id=\"upload\" method=\"post\""),
        "{page}"
    );
    assert!(page.contains("multiple"), "{page}");
    let policy = listing.header("Content-Security-Policy").unwrap();
    assert!(policy.contains("script-src 'sha256-"), "{policy}");
    let scripts = policy
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap();
    assert!(!scripts.contains("unsafe"), "{policy}");
    // Elsewhere, no form and no script.
    let root = common::get(&server, "/");
    assert!(!root.text().contains("<form"));
    assert!(
        !root
            .header("Content-Security-Policy")
            .unwrap()
            .contains("script-src")
    );
}

#[test]
fn uploads_need_an_auth_area_unless_anonymous() {
    let root = tempfile::tempdir().unwrap();
    let exited = common::run_to_exit(&[
        "--root",
        &root.path().to_string_lossy(),
        "--port",
        "0",
        "--upload",
        "/inbox",
    ]);
    assert!(!exited.status.success());
    assert!(
        exited.stderr.contains("no auth area covers /inbox/"),
        "{}",
        exited.stderr
    );
    // With a password file: the upload is challenged, then taken.
    let hash = |password, cost| bcrypt::hash(password, cost).unwrap();
    let users = root.path().join("users.htpasswd");
    fs::write(
        &users,
        format!("ann:{}\ncy:{}\n", hash("secret", 4), hash("other", 10)),
    )
    .unwrap();
    let users = users.to_string_lossy().into_owned();
    let www = root.path().join("www");
    fs::create_dir(&www).unwrap();
    let server = Server::with_args(&www, &["--upload", "/inbox", "--auth-file", &users]);
    let head = "PUT /inbox/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n";
    assert_eq!(send(&server, head, b"hi").status, 401);
    let head = "PUT /inbox/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\
                Authorization: Basic YW5uOnNlY3JldA==\r\n\r\n";
    assert_eq!(send(&server, head, b"hi").status, 201);
    assert_eq!(fs::read(www.join("inbox/a.txt")).unwrap(), b"hi");
    // Over HTTP/2 the DATA comes without waiting: what arrives while a password not seen
    // before is checked (the request parked: a slow hash) is held, then stored first.
    if !have(
        "curl",
        &["--version"],
        "curl is not installed: apt-get install curl",
    ) {
        return;
    }
    let bytes = binary(300_000, 12);
    let file = local_file(&root, "h2.bin", &bytes);
    let (status, body) = curl(
        &server,
        "/inbox/h2.bin",
        &[
            "--http2-prior-knowledge",
            "-u",
            "bob:wrong",
            "-T",
            &file.to_string_lossy(),
        ],
    );
    assert_eq!(status, 401, "{body}");
    let (status, body) = curl(
        &server,
        "/inbox/h2.bin",
        &[
            "--http2-prior-knowledge",
            "-u",
            "cy:other",
            "-T",
            &file.to_string_lossy(),
        ],
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        sha256(&fs::read(www.join("inbox/h2.bin")).unwrap()),
        sha256(&bytes)
    );
}

/// A tmpfs mounted on `path` for the test's life.
struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_507_and_leaves_the_folder_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    let inbox = root.path().join("inbox");
    fs::create_dir(&inbox).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=128k", "tmpfs"])
        .arg(&inbox)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !mounted {
        skip("mounting a small tmpfs needs root (the full-disk test)");
        return;
    }
    let _mount = Mounted(inbox.clone());
    fs::write(inbox.join("kept.txt"), "kept\n").unwrap();
    let before = contents(&inbox);
    let server = Server::with_args(root.path(), &["--upload", "/inbox", "--upload-anonymous"]);
    let body = binary(400_000, 8);
    let head = format!(
        "PUT /inbox/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let full = send(&server, &head, &body);
    assert_eq!(full.status, 507, "{}", full.text());
    assert!(full.text().contains("no space left"), "{}", full.text());
    assert_eq!(contents(&inbox), before);
    // The server is unharmed: a file that fits is stored.
    let head = "PUT /inbox/small.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n";
    assert_eq!(send(&server, head, b"small").status, 201);
}

#[test]
fn chromium_submits_the_listing_form() {
    let Some(browser) = headless::chromium() else {
        return;
    };
    if !have(
        "node",
        &["--version"],
        "node is not installed: apt-get install nodejs",
    ) {
        return;
    }
    let (root, server) = serve(&[]);
    let local = tempfile::tempdir().unwrap();
    let first = binary(400_000, 9);
    let second = binary(3_000, 10);
    let a = local_file(&local, "from chromium.bin", &first);
    let b = local_file(&local, "second.bin", &second);
    let c = local_file(&local, "by script.bin", &second);
    // The screenshots go where the other browser tests put theirs (docs/screenshots/README.md).
    let (_temporary, shots) = headless::screenshot_dir();
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/upload_form.js");
    let run = |mode: &str, shot: &str, files: &[&PathBuf]| {
        let output = Command::new("node")
            .arg(&driver)
            .arg(&browser)
            .arg(server.url("/inbox/"))
            .arg(shots.join(shot))
            .arg(mode)
            .args(files)
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(output.status.success(), "{printed}");
        printed
    };
    // The browser's own multipart encoding and navigation: 303 back to the listing.
    let printed = run("native", "upload-form-native.png", &[&a, &b]);
    assert!(printed.contains("from chromium.bin"), "{printed}");
    // The page's script: XMLHttpRequest with progress, then a reload.
    let printed = run("script", "upload-form.png", &[&c]);
    assert!(printed.contains("by script.bin"), "{printed}");
    let stored = contents(&root.path().join("inbox"));
    assert_eq!(stored["from chromium.bin"], sha256(&first));
    assert_eq!(stored["second.bin"], sha256(&second));
    assert_eq!(stored["by script.bin"], sha256(&second));
    assert_eq!(stored.len(), 4, "{stored:?}");
    let png = fs::read(shots.join("upload-form.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
