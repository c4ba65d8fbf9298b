//! nomserve over HTTPS: the real binary started with `--tls-cert` and `--tls-key`, driven by
//! clients no one here wrote (curl, `openssl s_client`, a rustls client, headless Chromium).
//!
//! Every test makes its own small PKI with rcgen: a root CA, an intermediate CA, and leaf
//! certificates for `localhost` and 127.0.0.1 signed by the intermediate. The server is given
//! the leaf and the intermediate as a chain, so a client that trusts only the root verifies
//! the chain the server sends.

mod common;
#[path = "common/browser.rs"]
mod headless;

use common::{
    Response, Server, TIMEOUT, parse_head, read_response, read_to_close, run_to_exit, www,
};
use headless::{chromium, dump_dom};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData, SerialNumber,
};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::collections::VecDeque;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// A root CA and an intermediate CA it signed; leaves are signed by the intermediate.
struct Pki {
    root_der: CertificateDer<'static>,
    root_pem: String,
    intermediate: Issuer<'static, KeyPair>,
    intermediate_pem: String,
}

/// A leaf certificate with its own key.
struct Leaf {
    /// The leaf's DER, as a client sees it first in the chain.
    der: CertificateDer<'static>,
    /// The leaf then the intermediate, in PEM: what the server is given as `--tls-cert`.
    chain_pem: String,
    /// The leaf's private key, PKCS#8 PEM.
    key_pem: String,
    /// The leaf's SubjectPublicKeyInfo, DER.
    spki_der: Vec<u8>,
}

impl Pki {
    fn new() -> Pki {
        let root_key = KeyPair::generate().expect("root key");
        let root_params = ca_params("nomserve test root CA");
        let root = root_params
            .self_signed(&root_key)
            .expect("self-sign the root");
        let root_issuer = Issuer::new(root_params, root_key);

        let intermediate_key = KeyPair::generate().expect("intermediate key");
        let mut intermediate_params = ca_params("nomserve test intermediate CA");
        intermediate_params.use_authority_key_identifier_extension = true;
        let intermediate = intermediate_params
            .signed_by(&intermediate_key, &root_issuer)
            .expect("sign the intermediate");
        Pki {
            root_der: root.der().clone(),
            root_pem: root.pem(),
            intermediate: Issuer::new(intermediate_params, intermediate_key),
            intermediate_pem: intermediate.pem(),
        }
    }

    /// A leaf for `localhost` and 127.0.0.1 with serial number `serial` and a fresh key.
    fn leaf(&self, serial: u64) -> Leaf {
        let mut params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("leaf names");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.serial_number = Some(SerialNumber::from(serial));
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("leaf key");
        let cert = params
            .signed_by(&key, &self.intermediate)
            .expect("sign the leaf");
        Leaf {
            der: cert.der().clone(),
            chain_pem: format!("{}{}", cert.pem(), self.intermediate_pem),
            key_pem: key.serialize_pem(),
            spki_der: key.subject_public_key_info(),
        }
    }
}

/// The parameters of a CA certificate named `name`.
fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// A directory holding `ca.pem` (the root), `cert.pem` and `key.pem` (the served pair).
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    /// A new directory with the root of `pki` and the pair of `leaf`.
    fn new(pki: &Pki, leaf: &Leaf) -> Files {
        let files = Files {
            dir: tempfile::tempdir().expect("temp dir for the PEM files"),
        };
        fs::write(files.ca(), &pki.root_pem).expect("write ca.pem");
        files.install(leaf);
        files
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("key.pem")
    }

    /// Writes `leaf`'s chain and key over `cert.pem` and `key.pem`.
    fn install(&self, leaf: &Leaf) {
        fs::write(self.cert(), &leaf.chain_pem).expect("write cert.pem");
        fs::write(self.key(), &leaf.key_pem).expect("write key.pem");
    }
}

/// A path as the `&str` a command line takes.
fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// Serves `root` over HTTPS with the pair in `files`, and `args`.
fn serve(root: &Path, files: &Files, args: &[&str]) -> Server {
    let (cert, key) = (files.cert(), files.key());
    let mut all = vec!["--tls-cert", arg(&cert), "--tls-key", arg(&key)];
    all.extend_from_slice(args);
    Server::with_args(root, &all)
}

/// A client configuration that trusts only the test root and offers `alpn`.
fn client_config(pki: &Pki, alpn: &[&[u8]]) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(pki.root_der.clone()).expect("trust the root");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // Every handshake a full one: a resumed session presents no certificate, and rustls then
    // reports the one of the session it resumed.
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// A TLS connection to a test server, from the rustls client.
type Tls = StreamOwned<ClientConnection, TcpStream>;

/// Connects to `server` and completes a handshake for `name` (failing the test if it fails).
fn tls_connect(server: &Server, config: &Arc<ClientConfig>, name: &str) -> Tls {
    let name = ServerName::try_from(name.to_string()).expect("server name");
    let conn = ClientConnection::new(Arc::clone(config), name).expect("client connection");
    let mut tls = StreamOwned::new(conn, server.connect());
    while tls.conn.is_handshaking() {
        tls.conn
            .complete_io(&mut tls.sock)
            .expect("TLS handshake with nomserve");
    }
    tls
}

/// Sends `GET path` with a Host and `fields` (each ending in CRLF) on `tls`, and reads the
/// response.
fn tls_get(tls: &mut Tls, leftover: &mut Vec<u8>, path: &str, fields: &str) -> Response {
    tls.write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{fields}\r\n").as_bytes())
        .expect("send a request over TLS");
    tls.flush().expect("flush the request");
    read_response(tls, leftover, false)
}

/// The certificate the server presented first (its leaf) on `tls`.
fn peer_leaf(tls: &Tls) -> CertificateDer<'static> {
    tls.conn.peer_certificates().expect("server certificates")[0].clone()
}

/// A small deterministic generator (xorshift64*), enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// How many descriptors the process `pid` holds.
fn fd_count(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("list /proc/<pid>/fd")
        .count()
}

/// curl, trusting only the test root, gets the index over HTTPS by IP address and by name,
/// and the banner names the https URL.
#[test]
fn curl_gets_the_index_by_address_and_by_name() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(&www(), &files, &[]);
    let banner = server.banner();
    assert!(
        banner.contains(&format!("  https://{}/\n", server.addr)),
        "{banner}"
    );
    assert!(banner.contains("HTTPS on"), "{banner}");

    let index = fs::read(www().join("index.html")).unwrap();
    let port = server.addr.port();
    for url in [server.https_url("/"), format!("https://localhost:{port}/")] {
        let out = Command::new("curl")
            .args(["--silent", "--show-error", "--fail", "--max-time", "10"])
            .arg("--cacert")
            .arg(files.ca())
            // localhost is pinned to the address the server listens on, not ::1.
            .arg("--resolve")
            .arg(format!("localhost:{port}:127.0.0.1"))
            .arg(&url)
            .output()
            .expect("run curl");
        assert!(
            out.status.success(),
            "curl {url}: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout == index,
            "curl {url} got a body other than index.html"
        );
    }
}

/// Two requests on one TLS connection get two whole responses (keep-alive over TLS), and
/// ALPN picks http/1.1 for a client that offers only it (RFC 7301 §3.2: the server picks
/// from the client's list; one that offers h2 gets HTTP/2, see tests/h2.rs).
#[test]
fn keep_alive_reuses_one_tls_connection_and_alpn_is_http11() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(&www(), &files, &[]);
    let h2_first = tls_connect(
        &server,
        &client_config(&pki, &[b"h2", b"http/1.1"]),
        "localhost",
    );
    assert_eq!(h2_first.conn.alpn_protocol(), Some(&b"h2"[..]));
    let config = client_config(&pki, &[b"http/1.1"]);
    let mut tls = tls_connect(&server, &config, "localhost");
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(
        tls.conn.peer_certificates().map(<[_]>::len),
        Some(2),
        "the server should send the leaf and the intermediate"
    );

    let mut leftover = Vec::new();
    let first = tls_get(&mut tls, &mut leftover, "/", "");
    assert_eq!(first.status, 200);
    assert_eq!(first.body, fs::read(www().join("index.html")).unwrap());
    let second = tls_get(&mut tls, &mut leftover, "/style.css", "");
    assert_eq!(second.status, 200);
    assert_eq!(second.body, fs::read(www().join("style.css")).unwrap());
    assert!(leftover.is_empty(), "bytes after the second response");
}

/// A client that offers only `http/1.0` (as `curl --http1.0` does) gets it, not a
/// `no_application_protocol` alert: the server speaks HTTP/1.0 (RFC 7301 §3.2 refuses only a
/// client whose protocols the server has none of; `http/1.0` is registered in §6). Its
/// request is answered whole, the close's close_notify after it.
#[test]
fn an_http10_client_offering_alpn_http10_is_served_and_closed_after() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(&www(), &files, &[]);
    let mut tls = tls_connect(&server, &client_config(&pki, &[b"http/1.0"]), "localhost");
    assert_eq!(tls.conn.alpn_protocol(), Some(&b"http/1.0"[..]));
    tls.write_all(b"GET /style.css HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .expect("send a request over TLS");
    let mut received = Vec::new();
    tls.read_to_end(&mut received)
        .expect("the response, then close_notify");
    let style = fs::read(www().join("style.css")).unwrap();
    assert!(
        received.starts_with(b"HTTP/1.1 200 "),
        "{}",
        received.escape_ascii()
    );
    assert!(received.ends_with(&style), "{}", received.escape_ascii());
}

/// A 20 MiB file of random bytes arrives whole and intact over TLS.
#[test]
fn a_large_file_arrives_intact_over_tls() {
    let root = tempfile::tempdir().unwrap();
    let content = Rng(0x9E37_79B9_7F4A_7C15).bytes(20 << 20);
    fs::write(root.path().join("big.bin"), &content).unwrap();
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(root.path(), &files, &[]);
    let mut tls = tls_connect(&server, &client_config(&pki, &[]), "127.0.0.1");
    let mut leftover = Vec::new();
    let response = tls_get(&mut tls, &mut leftover, "/big.bin", "");
    assert_eq!(response.status, 200);
    assert_eq!(response.body.len(), content.len());
    assert!(response.body == content, "the body differs from big.bin");
}

/// Ranges (RFC 9110 §14.2) and conditional requests (RFC 9110 §13.1.2) work over TLS as over
/// plain TCP.
#[test]
fn range_and_not_modified_over_tls() {
    let root = tempfile::tempdir().unwrap();
    let content = Rng(7).bytes(1000);
    fs::write(root.path().join("data.bin"), &content).unwrap();
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(root.path(), &files, &[]);
    let mut tls = tls_connect(&server, &client_config(&pki, &[]), "localhost");
    let mut leftover = Vec::new();

    let partial = tls_get(
        &mut tls,
        &mut leftover,
        "/data.bin",
        "Range: bytes=100-199\r\n",
    );
    assert_eq!(partial.status, 206);
    assert_eq!(partial.header("Content-Range"), Some("bytes 100-199/1000"));
    assert_eq!(partial.body, content[100..200]);

    let full = tls_get(&mut tls, &mut leftover, "/data.bin", "");
    assert_eq!(full.status, 200);
    let etag = full.header("ETag").expect("ETag").to_string();
    let again = tls_get(
        &mut tls,
        &mut leftover,
        "/data.bin",
        &format!("If-None-Match: {etag}\r\n"),
    );
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("ETag"), Some(etag.as_str()));
}

/// Runs `openssl s_client` against `server` with `args`, stdin empty; returns stdout and stderr
/// together.
fn s_client(server: &Server, files: &Files, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .arg("s_client")
        .arg("-connect")
        .arg(server.addr.to_string())
        .args(["-servername", "localhost", "-CAfile"])
        .arg(files.ca())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run openssl s_client");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `openssl s_client` completes TLS 1.2 and TLS 1.3 handshakes with ALPN http/1.1 and a chain
/// it verifies; a client that offers at most TLS 1.1 is refused by the server with a fatal
/// alert.
#[test]
fn openssl_negotiates_tls12_and_tls13_and_tls11_is_refused() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(&www(), &files, &[]);

    for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let out = s_client(
            &server,
            &files,
            &[flag, "-alpn", "http/1.1", "-verify_return_error"],
        );
        assert!(
            out.contains(&format!("New, {version}, Cipher is ")),
            "{flag}:\n{out}"
        );
        assert!(out.contains("ALPN protocol: http/1.1"), "{flag}:\n{out}");
        assert!(out.contains("Verify return code: 0 (ok)"), "{flag}:\n{out}");
    }

    let out = tls11_attempt(&server, &files);
    assert!(
        out.lines()
            .any(|l| l.starts_with("<<< ") && l.contains(", Alert [") && l.contains(" fatal ")),
        "no fatal alert from the server:\n{out}"
    );
    assert!(out.contains("New, (NONE), Cipher is (NONE)"), "{out}");
}

/// `openssl s_client -tls1_1 -msg` against `server`: its output, after checking that the
/// client did send a TLS 1.1 ClientHello. OpenSSL 3 may refuse TLS 1.1 itself at its default
/// security level; level 0 makes it send the hello, so any refusal seen is the server's.
fn tls11_attempt(server: &Server, files: &Files) -> String {
    let out = s_client(
        server,
        files,
        &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-msg"],
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with(">>> TLS 1.1, Handshake") && l.ends_with("ClientHello")),
        "the client did not send a TLS 1.1 ClientHello:\n{out}"
    );
    out
}

/// The alert that refuses a TLS 1.1 client is protocol_version: RFC 5246 Appendix E.1 (a
/// server that supports only versions above the client's MUST send it) and RFC 8446
/// Appendix D.2 (likewise for a ClientHello without supported_versions).
#[test]
fn tls11_is_refused_with_protocol_version() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(&www(), &files, &[]);
    let out = tls11_attempt(&server, &files);
    assert!(
        out.lines().any(|l| l.starts_with("<<< ")
            && l.contains(", Alert [")
            && l.ends_with("fatal protocol_version")),
        "no protocol_version alert from the server:\n{out}"
    );
}

/// Plain HTTP on the TLS port gets a plain-text 400 saying the port speaks HTTPS, and the
/// server closes the connection by itself.
#[test]
fn plain_http_to_the_tls_port_gets_400_and_is_closed() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(&www(), &files, &[]);
    let mut stream = server.connect();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let bytes = read_to_close(&mut stream);
    let (head, len) = parse_head(&bytes).unwrap_or_else(|| {
        panic!(
            "no plain HTTP response head:\n{}",
            String::from_utf8_lossy(&bytes)
        )
    });
    assert_eq!(head.status, 400);
    assert_eq!(head.reason, "Bad Request");
    assert_eq!(head.header("Connection"), Some("close"));
    let body = String::from_utf8_lossy(&bytes[len..]);
    assert!(body.contains("speaks HTTPS"), "{body}");
    if let Some(length) = head.header("Content-Length") {
        assert_eq!(length.parse::<usize>().unwrap(), bytes.len() - len);
    }
}

/// A TLS handshake that does not finish within --header-timeout is closed: one client sends
/// nothing, another the first bytes of a ClientHello.
#[test]
fn an_unfinished_handshake_is_closed_at_the_header_timeout() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(&www(), &files, &["--header-timeout", "300ms"]);
    let hello = client_hellos(&pki).remove(0);
    for prefix in [&hello[..0], &hello[..hello.len() / 2]] {
        let mut stream = server.connect();
        stream.write_all(prefix).unwrap();
        // Fails the test if the server has not closed within the harness's read timeout.
        let answer = read_to_close(&mut stream);
        assert!(
            !answer.starts_with(b"HTTP/"),
            "an HTTP answer to a partial ClientHello"
        );
    }
    let mut tls = tls_connect(&server, &client_config(&pki, &[]), "localhost");
    assert_eq!(tls_get(&mut tls, &mut Vec::new(), "/", "").status, 200);
}

/// SIGHUP re-reads the pair: new handshakes see the new leaf, an open connection goes on;
/// a corrupt key, a key for another certificate or a missing file keeps the current pair.
#[test]
fn sighup_reloads_the_pair_and_keeps_it_when_the_new_one_is_bad() {
    let pki = Pki::new();
    let (a, b) = (pki.leaf(1), pki.leaf(2));
    let files = Files::new(&pki, &a);
    let server = serve(&www(), &files, &[]);
    let config = client_config(&pki, &[]);

    let mut old = tls_connect(&server, &config, "localhost");
    let mut old_leftover = Vec::new();
    assert_eq!(tls_get(&mut old, &mut old_leftover, "/", "").status, 200);
    assert_eq!(peer_leaf(&old), a.der);

    files.install(&b);
    server.signal("HUP");
    server.wait_for_log("reloaded the TLS certificate");
    let mut new = tls_connect(&server, &config, "localhost");
    assert_eq!(peer_leaf(&new), b.der, "a new connection after SIGHUP");
    assert_eq!(tls_get(&mut new, &mut Vec::new(), "/", "").status, 200);
    assert_eq!(
        tls_get(&mut old, &mut old_leftover, "/style.css", "").status,
        200,
        "the connection opened before SIGHUP"
    );

    let other = pki.leaf(3);
    let bad: [(&str, &dyn Fn()); 3] = [
        ("a corrupt key", &|| {
            fs::write(
                files.key(),
                "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n",
            )
            .unwrap()
        }),
        ("a key for another certificate", &|| {
            fs::write(files.cert(), &other.chain_pem).unwrap();
            fs::write(files.key(), &b.key_pem).unwrap();
        }),
        ("a missing key file", &|| {
            fs::remove_file(files.key()).unwrap()
        }),
    ];
    for (what, break_files) in bad {
        break_files();
        server.signal("HUP");
        server.wait_for_log("keeping the current certificate");
        let mut tls = tls_connect(&server, &config, "localhost");
        assert_eq!(peer_leaf(&tls), b.der, "after {what}");
        assert_eq!(
            tls_get(&mut tls, &mut Vec::new(), "/", "").status,
            200,
            "after {what}"
        );
    }
    assert!(!server.log().contains("panic"), "{}", server.log());
}

/// Headless Chromium, told to trust the leaf's key, renders the index over HTTPS and fetches
/// its stylesheet, over HTTP/2 (ALPN h2).
#[test]
fn browser_loads_the_index_and_stylesheet_over_https() {
    let Some(browser) = chromium() else { return };
    let pki = Pki::new();
    let leaf = pki.leaf(1);
    let files = Files::new(&pki, &leaf);
    let server = serve(&www(), &files, &[]);

    // base64(SHA-256(SubjectPublicKeyInfo)), the form --ignore-certificate-errors-spki-list
    // takes, computed by openssl from the DER rcgen gives.
    let spki = files.dir.path().join("spki.der");
    fs::write(&spki, &leaf.spki_der).unwrap();
    let hash = Command::new("sh")
        .arg("-c")
        .arg("openssl dgst -sha256 -binary \"$1\" | openssl base64 -A")
        .arg("sh")
        .arg(&spki)
        .output()
        .expect("hash the SPKI with openssl");
    assert!(hash.status.success());
    let hash = String::from_utf8(hash.stdout).unwrap();
    assert_eq!(hash.len(), 44, "base64 of 32 bytes: {hash:?}");

    let flag = format!("--ignore-certificate-errors-spki-list={hash}");
    let dom = dump_dom(&browser, &server.https_url("/"), &[&flag]);
    assert!(dom.contains("<h1>Welcome!</h1>"), "rendered DOM:\n{dom}");
    assert!(
        dom.contains("<title>nomserve</title>"),
        "rendered DOM:\n{dom}"
    );
    let css = server.wait_for_log("\"GET /style.css HTTP/2.0\" 200 ");
    assert!(css.contains("Chrome/"), "{css}");
}

/// ClientHellos from the rustls client, each a whole TLS record: with and without ALPN,
/// server name by DNS name and by address, and TLS 1.2 only.
fn client_hellos(pki: &Pki) -> Vec<Vec<u8>> {
    let tls12_only = {
        let mut roots = RootCertStore::empty();
        roots.add(pki.root_der.clone()).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        Arc::new(
            ClientConfig::builder_with_provider(provider)
                .with_protocol_versions(&[&rustls::version::TLS12])
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    };
    [
        (client_config(pki, &[]), "localhost"),
        (client_config(pki, &[b"h2", b"http/1.1"]), "localhost"),
        (client_config(pki, &[b"http/1.1"]), "127.0.0.1"),
        (tls12_only, "localhost"),
    ]
    .into_iter()
    .map(|(config, name)| {
        let name = ServerName::try_from(name).unwrap();
        let mut conn = ClientConnection::new(config, name).unwrap();
        let mut hello = Vec::new();
        while conn.wants_write() {
            conn.write_tls(&mut hello).unwrap();
        }
        assert_eq!(hello[0], 0x16, "a handshake record");
        hello
    })
    .collect()
}

/// What one hostile client sends: a ClientHello cut short, one with bytes flipped, one with a
/// random record length, a record header followed by random bytes, or random bytes alone.
fn hostile_bytes(rng: &mut Rng, hellos: &[Vec<u8>]) -> Vec<u8> {
    let hello = &hellos[rng.below(hellos.len())];
    match rng.below(5) {
        0 => hello[..rng.below(hello.len())].to_vec(),
        1 => {
            let mut bytes = hello.clone();
            for _ in 0..=rng.below(8) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            bytes
        }
        2 => {
            let mut bytes = hello.clone();
            bytes[3..5].copy_from_slice(&(rng.next() as u16).to_be_bytes());
            bytes
        }
        3 => {
            let mut bytes = hello[..5].to_vec();
            let n = rng.below(2000);
            bytes.extend(rng.bytes(n));
            bytes
        }
        _ => {
            let n = 1 + rng.below(2000);
            rng.bytes(n)
        }
    }
}

/// Thousands of malformed, truncated or random ClientHellos, each on its own connection and
/// ended in one of three ways (close, reset, or half-close and wait for the server to close):
/// afterwards the server holds no more descriptors than before, logged no panic, and still
/// serves HTTPS. A handshake that can no longer finish may be held until the header deadline,
/// short here, so that the connections waited on close within the test's read timeout.
#[test]
fn malformed_client_hellos_leak_nothing_and_break_nothing() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    // One worker, so the file cache's descriptors are all opened by the warm-up below; room
    // for every connection the clients keep open at once.
    let server = serve(
        &www(),
        &files,
        &[
            "--threads",
            "1",
            "--header-timeout",
            "300ms",
            "--max-connections-per-ip",
            "1024",
        ],
    );
    let config = client_config(&pki, &[]);
    let pid = server.pid();
    for _ in 0..2 {
        let mut tls = tls_connect(&server, &config, "localhost");
        let response = tls_get(&mut tls, &mut Vec::new(), "/", "Connection: close\r\n");
        assert_eq!(response.status, 200);
        let mut rest = Vec::new();
        match tls.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {}
            Err(e) => panic!("reading to the close after Connection: close: {e}"),
        }
    }
    let baseline = fd_count(pid);

    let hellos = Arc::new(client_hellos(&pki));
    let addr = server.addr;
    let clients: Vec<_> = (0..4u64)
        .map(|seed| {
            let hellos = Arc::clone(&hellos);
            thread::spawn(move || {
                let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (seed + 1));
                // Half-closed connections waiting for the server to close, oldest first.
                let mut waiting = VecDeque::new();
                for _ in 0..750 {
                    let bytes = hostile_bytes(&mut rng, &hellos);
                    if let Some(stream) = send_hostile(addr, &bytes, rng.below(3)) {
                        waiting.push_back((stream, bytes));
                    }
                    if waiting.len() == 50 {
                        let (stream, bytes) = waiting.pop_front().unwrap();
                        wait_for_close(stream, &bytes);
                    }
                }
                for (stream, bytes) in waiting {
                    wait_for_close(stream, &bytes);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a hostile client thread");
    }

    let deadline = Instant::now() + TIMEOUT;
    loop {
        let now = fd_count(pid);
        if now <= baseline {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{now} descriptors after the hostile clients, {baseline} before"
        );
        thread::sleep(Duration::from_millis(10));
    }
    let mut tls = tls_connect(&server, &config, "localhost");
    assert_eq!(tls_get(&mut tls, &mut Vec::new(), "/", "").status, 200);
    assert!(!server.log().contains("panic"), "{}", server.log());
}

/// Sends `bytes` on a new connection to `addr`, then: 0 closes, 1 resets (SO_LINGER 0), 2
/// half-closes and returns the connection, to be read until the server closes it.
fn send_hostile(addr: SocketAddr, bytes: &[u8], ending: usize) -> Option<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    // The server may have refused the bytes and closed before all were written.
    let _ = stream.write_all(bytes);
    match ending {
        0 => None,
        1 => {
            rustix::net::sockopt::set_socket_linger(&stream, Some(Duration::ZERO))
                .expect("SO_LINGER 0");
            None
        }
        _ => {
            let _ = stream.shutdown(Shutdown::Write);
            Some(stream)
        }
    }
}

/// Reads `stream`, on which `bytes` were sent, until the server closes it (failing the test
/// after the read timeout), and checks that no page was served for them.
fn wait_for_close(mut stream: TcpStream, bytes: &[u8]) {
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!(
            "the server did not close after {} bytes and a half-close ({e}; {} bytes \
             answered): {bytes:02x?}",
            bytes.len(),
            answer.len()
        ),
    }
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "a 200 to {bytes:02x?}"
    );
}

/// Reads the port of the plain-HTTP redirect listener from its stdout line.
fn redirect_addr(server: &Server) -> SocketAddr {
    let line = server.wait_for_log("redirecting http://");
    line.split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
}

/// `--redirect-http` answers every plain request with 308 to the same path and query on
/// https, at the Host's name and the TLS port (RFC 9110 §15.4.9); the redirect itself carries
/// no Strict-Transport-Security, which is only for secure transport (RFC 6797 §7.2).
#[test]
fn redirect_http_sends_308_to_https() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let server = serve(&www(), &files, &["--redirect-http", "0", "--hsts", "1d"]);
    let redirect = redirect_addr(&server);
    let tls_port = server.addr.port();
    for host in ["example.com", "example.com:8080"] {
        let mut stream = TcpStream::connect_timeout(&redirect, TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream
            .write_all(
                format!("GET /a/b?x=1 HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .unwrap();
        let bytes = read_to_close(&mut stream);
        let (response, _) = parse_head(&bytes).expect("a response head");
        assert_eq!(response.status, 308, "Host: {host}");
        assert_eq!(response.reason, "Permanent Redirect");
        assert_eq!(
            response.header("Location"),
            Some(format!("https://example.com:{tls_port}/a/b?x=1").as_str()),
            "Host: {host}"
        );
        assert_eq!(response.header("Strict-Transport-Security"), None);
    }
}

/// `--hsts 1d` adds `Strict-Transport-Security: max-age=86400` (RFC 6797 §6.1.1) to HTTPS
/// responses; without it there is no such field.
#[test]
fn hsts_only_when_asked() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let config = client_config(&pki, &[]);
    for (args, expected) in [
        (&["--hsts", "1d"][..], Some("max-age=86400")),
        (&[][..], None),
    ] {
        let server = serve(&www(), &files, args);
        let mut tls = tls_connect(&server, &config, "localhost");
        let mut leftover = Vec::new();
        for path in ["/", "/no-such-file"] {
            let response = tls_get(&mut tls, &mut leftover, path, "");
            assert_eq!(
                response.header("Strict-Transport-Security"),
                expected,
                "{args:?} {path}: {}",
                response.status
            );
        }
    }
}

/// The keys in the forms the contract names (PKCS#8, PKCS#1 for RSA, SEC1 for EC), converted
/// by openssl, each serve a handshake.
#[test]
fn pkcs8_pkcs1_and_sec1_keys_are_accepted() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let rsa_pkcs8 = dir.path().join("rsa8.pem");
    let status = Command::new("openssl")
        .args([
            "genpkey",
            "-quiet",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
        ])
        .arg(&rsa_pkcs8)
        .status()
        .expect("openssl genpkey");
    assert!(status.success());
    let rsa_key = KeyPair::from_pem(&fs::read_to_string(&rsa_pkcs8).unwrap()).expect("the RSA key");

    let ec = pki.leaf(1);
    let rsa = {
        let mut params =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        params.use_authority_key_identifier_extension = true;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let cert = params.signed_by(&rsa_key, &pki.intermediate).unwrap();
        Leaf {
            der: cert.der().clone(),
            chain_pem: format!("{}{}", cert.pem(), pki.intermediate_pem),
            key_pem: rsa_key.serialize_pem(),
            spki_der: rsa_key.subject_public_key_info(),
        }
    };
    for (leaf, form, header) in [
        (&ec, "PKCS#8", "-----BEGIN PRIVATE KEY-----"),
        (&ec, "SEC1", "-----BEGIN EC PRIVATE KEY-----"),
        (&rsa, "PKCS#8", "-----BEGIN PRIVATE KEY-----"),
        (&rsa, "PKCS#1", "-----BEGIN RSA PRIVATE KEY-----"),
    ] {
        let files = Files::new(&pki, leaf);
        if form != "PKCS#8" {
            let traditional = files.dir.path().join("traditional.pem");
            let status = Command::new("openssl")
                .args(["pkey", "-traditional", "-in"])
                .arg(files.key())
                .arg("-out")
                .arg(&traditional)
                .status()
                .expect("openssl pkey -traditional");
            assert!(status.success());
            fs::rename(&traditional, files.key()).unwrap();
        }
        let key = fs::read_to_string(files.key()).unwrap();
        assert!(key.starts_with(header), "{form}: {key}");
        let server = serve(&www(), &files, &[]);
        let mut tls = tls_connect(&server, &client_config(&pki, &[]), "localhost");
        assert_eq!(peer_leaf(&tls), leaf.der, "{form}");
        assert_eq!(
            tls_get(&mut tls, &mut Vec::new(), "/", "").status,
            200,
            "{form}"
        );
    }
}

/// One of --tls-cert and --tls-key without the other, or --redirect-http or --hsts without
/// either, is a usage error (exit status 2); a key that does not match the certificate, or a
/// missing file, stops the server with a message naming the file.
#[test]
fn bad_tls_arguments_and_files_stop_the_server() {
    let pki = Pki::new();
    let files = Files::new(&pki, &pki.leaf(1));
    let root = www();
    let base = ["--port", "0", "--root", arg(&root)];
    let (cert, key) = (files.cert(), files.key());
    for (flag, path, other) in [
        ("--tls-cert", &cert, "--tls-key"),
        ("--tls-key", &key, "--tls-cert"),
    ] {
        let mut args = base.to_vec();
        args.extend([flag, arg(path)]);
        let run = run_to_exit(&args);
        assert_eq!(run.status.code(), Some(2), "{flag} alone: {}", run.stderr);
        assert!(run.stderr.contains(other), "{flag} alone: {}", run.stderr);
        assert!(!run.stdout.contains("listening"), "{}", run.stdout);
    }
    // The redirect listener and HSTS only make sense beside HTTPS.
    for extra in [["--redirect-http", "0"], ["--hsts", "1d"]] {
        let mut args = base.to_vec();
        args.extend(extra);
        let run = run_to_exit(&args);
        assert_eq!(run.status.code(), Some(2), "{extra:?}: {}", run.stderr);
        assert!(!run.stdout.contains("listening"), "{}", run.stdout);
    }

    let dir = tempfile::tempdir().unwrap();
    let other_key = dir.path().join("other-key.pem");
    fs::write(&other_key, pki.leaf(2).key_pem).unwrap();
    let missing = dir.path().join("missing.pem");
    // A mismatch is a fact about both files: naming either is naming the file.
    for (what, cert, key, named) in [
        (
            "a key for another certificate",
            &cert,
            &other_key,
            &[&cert, &other_key][..],
        ),
        ("a missing key", &cert, &missing, &[&missing][..]),
        ("a missing certificate", &missing, &key, &[&missing][..]),
    ] {
        let mut args = base.to_vec();
        args.extend(["--tls-cert", arg(cert), "--tls-key", arg(key)]);
        let run = run_to_exit(&args);
        assert!(!run.status.success(), "{what}: started");
        assert!(
            named.iter().any(|path| run.stderr.contains(arg(path))),
            "{what}: the message names none of {named:?}:\n{}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
        assert!(!run.stdout.contains("listening"), "{}", run.stdout);
    }
}
