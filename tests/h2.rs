//! HTTP/2 against the real binary, with curl: h2c with prior knowledge on a plain port,
//! h2 by ALPN over TLS (HTTP/1.1 clients keep HTTP/1.1 on the same port), and `--http2 off`.
//! Files arrive byte-identical (a 20 MiB one compared by SHA-256), with Range, 304, HEAD,
//! compression and an auth area, and the access log says `HTTP/2.0`.

mod common;
#[path = "common/curl.rs"]
mod curl;

use common::{Server, metric, metrics_addr};
use curl::{curl, sha256};
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use tempfile::TempDir;

/// A site: a page, a 20 MiB file, a compressible text, and an area behind a password.
struct Site {
    dir: TempDir,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("www");
        fs::create_dir_all(root.join("private")).unwrap();
        fs::write(root.join("index.html"), "<h1>home</h1>\n").unwrap();
        let big: Vec<u8> = (0..20 * 1024 * 1024u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        fs::write(root.join("big.bin"), big).unwrap();
        fs::write(root.join("text.txt"), "compress me ".repeat(2000)).unwrap();
        fs::write(root.join("private/secret.txt"), "secret\n").unwrap();
        let hash = bcrypt::hash("pw", 4).unwrap();
        fs::write(dir.path().join("users"), format!("alice:{hash}\n")).unwrap();
        fs::write(
            dir.path().join("site.toml"),
            format!(
                "[[auth]]\npath = \"/private/**\"\nfile = \"{}\"\n",
                dir.path().join("users").display()
            ),
        )
        .unwrap();
        Site { dir }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("www")
    }

    fn file(&self, name: &str) -> Vec<u8> {
        fs::read(self.root().join(name)).unwrap()
    }

    /// Where curl writes the body it gets.
    fn body(&self) -> PathBuf {
        self.dir.path().join("body")
    }

    /// A self-signed certificate for localhost: `--tls-cert` and `--tls-key` arguments.
    fn tls_args(&self) -> Vec<String> {
        let pair = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = self.dir.path().join("cert.pem");
        let key = self.dir.path().join("key.pem");
        fs::write(&cert, pair.cert.pem()).unwrap();
        fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
        vec![
            "--tls-cert".to_string(),
            cert.display().to_string(),
            "--tls-key".to_string(),
            key.display().to_string(),
        ]
    }

    fn serve(&self, extra: &[String]) -> Server {
        let config = self.dir.path().join("site.toml");
        let mut args = vec!["--config".to_string(), config.display().to_string()];
        args.extend_from_slice(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::with_args(&self.root(), &args)
    }
}

/// The exchanges every HTTP/2 client gets, by `flag` (`--http2-prior-knowledge` in the
/// clear, `--http2` over TLS) at `base`.
fn files_over_h2(site: &Site, base: &str, flag: &str) {
    let body = site.body();
    let url = |path: &str| format!("{base}{path}");
    let page = curl(&body, &url("/"), &[flag]);
    assert_eq!((page.version.as_str(), page.status), ("2", 200));
    assert_eq!(page.body, site.file("index.html"));
    let big = curl(&body, &url("/big.bin"), &[flag]);
    assert_eq!(big.status, 200);
    assert_eq!(sha256(&big.body), sha256(&site.file("big.bin")));
    let range = curl(&body, &url("/big.bin"), &[flag, "-r", "1000-1999"]);
    assert_eq!(range.status, 206);
    assert_eq!(range.body, site.file("big.bin")[1000..2000]);
    let etag = page.header("etag").expect("an ETag").to_string();
    let if_none = format!("If-None-Match: {etag}");
    let not_modified = curl(&body, &url("/"), &[flag, "-H", &if_none]);
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());
    let head = curl(&body, &url("/big.bin"), &[flag, "-I"]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("20971520"));
    let gzip = curl(
        &body,
        &url("/text.txt"),
        &[flag, "-H", "Accept-Encoding: gzip"],
    );
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let decoded = curl(&body, &url("/text.txt"), &[flag, "--compressed"]);
    assert_eq!(decoded.body, site.file("text.txt"));
    let challenged = curl(&body, &url("/private/secret.txt"), &[flag]);
    assert_eq!(challenged.status, 401);
    assert!(challenged.header("www-authenticate").is_some());
    let allowed = curl(
        &body,
        &url("/private/secret.txt"),
        &[flag, "-u", "alice:pw"],
    );
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.body, b"secret\n");
}

#[test]
fn h2c_with_prior_knowledge_serves_files() {
    let site = Site::new();
    let server = site.serve(&[]);
    files_over_h2(&site, &server.url(""), "--http2-prior-knowledge");
    server.wait_for_log("\"GET /big.bin HTTP/2.0\" 200 20971520");
    // HTTP/1.1 on the same port, as before.
    let plain = curl(&site.body(), &server.url("/"), &["--http1.1"]);
    assert_eq!((plain.version.as_str(), plain.status), ("1.1", 200));
}

#[test]
fn h2_over_tls_by_alpn_and_http11_on_the_same_port() {
    let site = Site::new();
    let server = site.serve(&site.tls_args());
    let base = format!("https://localhost:{}", server.addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", server.addr.port());
    let body = site.body();
    let page = curl(
        &body,
        &format!("{base}/"),
        &["--http2", "--resolve", &resolve],
    );
    assert_eq!((page.version.as_str(), page.status), ("2", 200));
    files_over_h2(&site, &server.https_url(""), "--http2");
    let old = curl(&body, &server.https_url("/"), &["--http1.1"]);
    assert_eq!((old.version.as_str(), old.status), ("1.1", 200));
    assert_eq!(old.body, site.file("index.html"));
}

#[test]
fn http2_off_keeps_every_connection_on_http11() {
    let site = Site::new();
    let mut args = site.tls_args();
    args.extend(["--http2".to_string(), "off".to_string()]);
    let server = site.serve(&args);
    let got = curl(&site.body(), &server.https_url("/"), &["--http2"]);
    assert_eq!((got.version.as_str(), got.status), ("1.1", 200));
    // In the clear, the preface is what HTTP/1.1 makes of it: a version it does not speak.
    let site = Site::new();
    let server = site.serve(&["--http2".to_string(), "off".to_string()]);
    let answer = server.exchange(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    assert!(
        answer.starts_with(b"HTTP/1.1 505"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// nghttp (Debian `nghttp2-client`) sends 100 requests at once on one connection, over h2c
/// and over TLS: every stream is answered 200 with the whole file. Skipped without nghttp.
#[test]
fn nghttp_fetches_many_streams_at_once() {
    if Command::new("nghttp").arg("--version").output().is_err() {
        eprintln!("nghttp is not installed; skipped");
        return;
    }
    let site = Site::new();
    let plain = site.serve(&[]);
    let secure = site.serve(&site.tls_args());
    for url in [plain.url("/index.html"), secure.https_url("/index.html")] {
        let out = Command::new("nghttp")
            .args(["-ns", "-m", "100"])
            .arg(&url)
            .output()
            .expect("nghttp runs");
        assert!(
            out.status.success(),
            "{url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stats = String::from_utf8_lossy(&out.stdout);
        let size = site.file("index.html").len().to_string();
        let whole = stats
            .lines()
            .map(|line| line.split_whitespace().rev().take(3).collect::<Vec<_>>())
            .filter(|last| *last == ["/index.html", size.as_str(), "200"])
            .count();
        assert_eq!(whole, 100, "{url}:\n{stats}");
    }
}

/// `/metrics` counts HTTP/2 connections and the requests they carried.
#[test]
fn metrics_count_http2_requests() {
    let site = Site::new();
    let server = site.serve(&["--metrics".to_string(), "127.0.0.1:0".to_string()]);
    let addr = metrics_addr(&server);
    for _ in 0..3 {
        let got = curl(&site.body(), &server.url("/"), &["--http2-prior-knowledge"]);
        assert_eq!(got.status, 200);
    }
    let plain = curl(&site.body(), &server.url("/"), &["--http1.1"]);
    assert_eq!(plain.status, 200);
    assert_eq!(metric(addr, "nomserve_http2_connections_total"), 3);
    assert_eq!(metric(addr, "nomserve_http2_requests_total"), 3);
}
