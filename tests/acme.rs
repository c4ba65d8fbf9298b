//! Automatic HTTPS against a real ACME CA on loopback (Debian's pebble, see
//! `common/pebble.rs`): certificates obtained with tls-alpn-01 and http-01 and checked by
//! curl against pebble's issuing root, renewal with a connection from before going on,
//! refusals retried and logged, two instances on one state folder, a restart without the
//! CA; and the bad inputs refused at start. The pebble tests are skipped (with a printed
//! reason) when pebble is not installed, and fail then when `CI` is set.

#[path = "common/cert.rs"]
mod cert;
mod common;
#[path = "common/pebble.rs"]
mod pebble;

use common::{TIMEOUT, metric, metrics_addr, read_response, run_to_exit};
use pebble::{Pebble, Setup, curl, free_port, installed, nomserve, wait_log_count};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long an order may take on loopback (pebble without its random sleeps).
const ORDERED: Duration = Duration::from_secs(20);

/// What the log says when a certificate is in.
const OBTAINED: &str = "ACME: obtained and serving a certificate";

/// The flags of one instance: `pebble`'s, the state in `state`, the names, and `extra`.
fn flags(pebble: &Pebble, state: &Path, names: &str, extra: &[&str]) -> Vec<String> {
    let mut flags = pebble.flags(state);
    flags.extend(["--acme".to_string(), names.to_string()]);
    flags.extend(extra.iter().map(|s| s.to_string()));
    flags
}

#[test]
fn tls_alpn_01_gets_a_certificate_curl_trusts_and_a_restart_needs_no_ca() {
    if !installed() {
        return;
    }
    let port = free_port();
    let mut ca = Pebble::start(&Setup {
        tls_port: port,
        http_port: free_port(),
        validity: None,
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let state = state.path().join("acme");
    let mut args = flags(&ca, &state, "alpn.nomserve.test", &[]);
    args.extend(
        [
            "--acme-challenge",
            "tls-alpn-01",
            "--metrics",
            "127.0.0.1:0",
        ]
        .map(String::from),
    );
    let server = nomserve(port, &args);
    // Before the banner, which reads the log lines past it.
    let metrics = metrics_addr(&server);
    assert!(
        server
            .banner()
            .contains("waiting for a certificate for alpn.nomserve.test")
    );
    let log = wait_log_count(&server, OBTAINED, 1, ORDERED);
    assert!(
        log.contains("answering tls-alpn-01 for alpn.nomserve.test"),
        "{log}"
    );
    let root = ca.issuing_root();
    let (ok, body) = curl("alpn.nomserve.test", port, &root);
    assert!(ok, "curl: {body}");
    assert!(body.contains("<html"), "{body}");
    let mut served = tls_connect("alpn.nomserve.test", port, &root);
    assert_eq!(get_on(&mut served, "alpn.nomserve.test"), 200);
    let cert = served.conn.peer_certificates().unwrap()[0].clone();
    let (_, cert) = x509_parser::parse_x509_certificate(&cert).unwrap();
    let algorithm = cert.public_key().algorithm.algorithm.to_id_string();
    assert_eq!(algorithm, "1.2.840.10045.2.1", "ECDSA by default");
    assert_eq!(metric(metrics, "nomserve_acme_orders_total"), 1);
    assert_eq!(metric(metrics, "nomserve_acme_orders_failed_total"), 0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(metric(metrics, "nomserve_tls_certificate_expiry_seconds") > now + 86_400);
    let mode = fs::metadata(state.join("certificate.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    drop(server);

    // The CA down, a restart serves the stored certificate at once.
    ca.stop();
    let args = flags(&ca, &state, "alpn.nomserve.test", &[]);
    let server = nomserve(port, &args);
    let banner = server.banner();
    assert!(
        banner.contains("certificate for alpn.nomserve.test from ACME, expires"),
        "{banner}"
    );
    let (ok, body) = curl("alpn.nomserve.test", port, &root);
    assert!(ok, "curl after the restart: {body}");
    let log = server.log();
    assert!(
        !log.contains("order placed") && !log.contains("ERROR"),
        "{log}"
    );
}

#[test]
fn http_01_is_answered_on_the_redirect_port_and_rsa_keys_are_ordered() {
    if !installed() {
        return;
    }
    let (port, http) = (free_port(), free_port());
    let ca = Pebble::start(&Setup {
        tls_port: port,
        http_port: http,
        validity: None,
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let http_flag = http.to_string();
    let extra = [
        "--acme-challenge",
        "http-01",
        "--redirect-http",
        &http_flag,
        "--acme-key-type",
        "rsa2048",
    ];
    let server = nomserve(
        port,
        &flags(&ca, &state.path().join("acme"), "web.nomserve.test", &extra),
    );
    let log = wait_log_count(&server, OBTAINED, 1, ORDERED);
    assert!(log.contains("GET /.well-known/acme-challenge/"), "{log}");
    assert!(
        log.contains("answering http-01 for web.nomserve.test"),
        "{log}"
    );
    let root = ca.issuing_root();
    let (ok, body) = curl("web.nomserve.test", port, &root);
    assert!(ok, "curl: {body}");
    let mut served = tls_connect("web.nomserve.test", port, &root);
    assert_eq!(get_on(&mut served, "web.nomserve.test"), 200);
    let cert = served.conn.peer_certificates().unwrap()[0].clone();
    let (_, cert) = x509_parser::parse_x509_certificate(&cert).unwrap();
    let algorithm = cert.public_key().algorithm.algorithm.to_id_string();
    assert_eq!(algorithm, "1.2.840.113549.1.1.1", "rsaEncryption");
    // Plain HTTP still redirects everything but the challenges.
    let mut plain = TcpStream::connect(("127.0.0.1", http)).unwrap();
    plain.set_read_timeout(Some(TIMEOUT)).unwrap();
    plain
        .write_all(b"GET /x HTTP/1.1\r\nHost: web.nomserve.test\r\n\r\n")
        .unwrap();
    let response = read_response(&mut plain, &mut Vec::new(), false);
    assert_eq!(response.status, 308);
}

/// A TLS connection to `port` trusting `root` only, as `name`.
fn tls_connect(name: &str, port: u16, root: &Path) -> StreamOwned<ClientConnection, TcpStream> {
    let mut roots = RootCertStore::empty();
    let pem = fs::read(root).unwrap();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    let conn = ClientConnection::new(Arc::new(config), server_name).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
    StreamOwned::new(conn, tcp)
}

/// One GET of `/` on `stream`, kept alive; its status.
fn get_on(stream: &mut StreamOwned<ClientConnection, TcpStream>, name: &str) -> u16 {
    let request = format!("GET / HTTP/1.1\r\nHost: {name}\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    read_response(stream, &mut Vec::new(), false).status
}

#[test]
fn a_short_lived_certificate_is_renewed_and_a_connection_from_before_goes_on() {
    if !installed() {
        return;
    }
    let port = free_port();
    let ca = Pebble::start(&Setup {
        tls_port: port,
        http_port: free_port(),
        validity: Some(15),
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let extra = ["--keep-alive-timeout", "60s"];
    let server = nomserve(
        port,
        &flags(
            &ca,
            &state.path().join("acme"),
            "renew.nomserve.test",
            &extra,
        ),
    );
    wait_log_count(&server, OBTAINED, 1, ORDERED);
    let root = ca.issuing_root();
    let mut before = tls_connect("renew.nomserve.test", port, &root);
    assert_eq!(get_on(&mut before, "renew.nomserve.test"), 200);
    let first = before.conn.peer_certificates().unwrap()[0].clone();
    // Two thirds of 15 s, less at most a twentieth of it.
    wait_log_count(&server, OBTAINED, 2, ORDERED);
    assert_eq!(get_on(&mut before, "renew.nomserve.test"), 200);
    let mut after = tls_connect("renew.nomserve.test", port, &root);
    assert_eq!(get_on(&mut after, "renew.nomserve.test"), 200);
    let second = after.conn.peer_certificates().unwrap()[0].clone();
    assert_ne!(
        first, second,
        "a new connection gets the renewed certificate"
    );
}

#[test]
fn the_ca_down_at_renewal_is_retried_and_logged_while_the_old_certificate_serves() {
    if !installed() {
        return;
    }
    let port = free_port();
    let mut ca = Pebble::start(&Setup {
        tls_port: port,
        http_port: free_port(),
        validity: Some(24),
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let server = nomserve(
        port,
        &flags(&ca, &state.path().join("acme"), "down.nomserve.test", &[]),
    );
    wait_log_count(&server, OBTAINED, 1, ORDERED);
    let root = ca.issuing_root();
    ca.stop();
    let log = wait_log_count(&server, "(attempt 1)", 1, ORDERED);
    assert!(
        log.contains("the current certificate is still served"),
        "{log}"
    );
    assert!(log.contains("retrying in 10s"), "{log}");
    assert!(log.contains("Connection refused"), "the reason: {log}");
    let (ok, body) = curl("down.nomserve.test", port, &root);
    assert!(ok, "the old certificate: {body}");
    wait_log_count(&server, "(attempt 2)", 1, ORDERED);
}

#[test]
fn an_invalid_challenge_is_logged_with_the_cas_reason_and_https_waits() {
    if !installed() {
        return;
    }
    let (port, http) = (free_port(), free_port());
    // pebble validates http-01 on a port nothing listens on.
    let ca = Pebble::start(&Setup {
        tls_port: port,
        http_port: free_port(),
        validity: None,
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let http_flag = http.to_string();
    let extra = ["--acme-challenge", "http-01", "--redirect-http", &http_flag];
    let args = flags(&ca, &state.path().join("acme"), "bad.nomserve.test", &extra);
    let server = nomserve(
        port,
        &[args, vec!["--metrics".into(), "127.0.0.1:0".into()]].concat(),
    );
    let log = wait_log_count(&server, "(attempt 1)", 1, ORDERED);
    assert!(
        log.contains("validating bad.nomserve.test by http-01"),
        "{log}"
    );
    assert!(
        log.contains("type urn:ietf:params:acme:error:connection"),
        "{log}"
    );
    assert!(
        log.contains("connection refused"),
        "the challenge's error: {log}"
    );
    assert!(log.contains("retrying in 10s"), "{log}");
    let answers = fs::read_dir(state.path().join("acme/http-01"))
        .unwrap()
        .count();
    assert_eq!(
        answers, 0,
        "the challenge's answer is removed once it failed"
    );
    let metrics = metrics_addr(&server);
    assert_eq!(metric(metrics, "nomserve_acme_orders_failed_total"), 1);
    // HTTPS has no certificate to show yet: the handshake fails.
    let (ok, error) = curl("bad.nomserve.test", port, &ca.https_root());
    assert!(!ok && error.contains("alert"), "{error}");
}

#[test]
fn a_challenge_failing_at_renewal_is_logged_while_the_old_certificate_serves() {
    if !installed() {
        return;
    }
    let (first_port, second_port) = (free_port(), free_port());
    let ca = Pebble::start(&Setup {
        tls_port: first_port,
        http_port: free_port(),
        validity: Some(24),
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let args = flags(&ca, &state.path().join("acme"), "moved.nomserve.test", &[]);
    let first = nomserve(first_port, &args);
    wait_log_count(&first, OBTAINED, 1, ORDERED);
    drop(first);
    // A new account, so that the CA has no valid authorization to reuse and validates.
    remove_accounts(&state.path().join("acme"));
    // Moved to a port the CA does not validate on: the renewal's challenge fails.
    let second = nomserve(second_port, &args);
    let log = wait_log_count(&second, "(attempt 1)", 1, ORDERED);
    assert!(!log.contains(OBTAINED), "{log}");
    assert!(
        log.contains("validating moved.nomserve.test by tls-alpn-01"),
        "{log}"
    );
    let reason = format!("Failed to connect to 127.0.0.1:{first_port}");
    assert!(log.contains(&reason), "the CA's reason: {log}");
    assert!(
        log.contains("the current certificate is still served"),
        "{log}"
    );
    let (ok, body) = curl("moved.nomserve.test", second_port, &ca.issuing_root());
    assert!(ok, "the old certificate: {body}");
}

#[test]
fn rejected_nonces_are_retried_and_logged_while_the_old_certificate_serves() {
    if !installed() {
        return;
    }
    let port = free_port();
    let mut ca = Pebble::start(&Setup {
        tls_port: port,
        http_port: free_port(),
        validity: Some(24),
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let args = flags(&ca, &state.path().join("acme"), "nonce.nomserve.test", &[]);
    let server = nomserve(port, &args);
    wait_log_count(&server, OBTAINED, 1, ORDERED);
    let root = ca.issuing_root();
    // The CA back at the same URL, rejecting every nonce: instant-acme retries a request
    // three times, then the order fails. The new CA knows no account: the stored one is
    // removed, so that the first request is the new account's, which pebble checks for its
    // nonce first (a request by an account it does not know fails on that first).
    ca.restart(&[("PEBBLE_WFE_NONCEREJECT", "100")]);
    remove_accounts(&state.path().join("acme"));
    let log = wait_log_count(&server, "(attempt 1)", 1, ORDERED);
    assert!(log.contains("urn:ietf:params:acme:error:badNonce"), "{log}");
    assert!(
        log.contains("the current certificate is still served"),
        "{log}"
    );
    let (ok, body) = curl("nonce.nomserve.test", port, &root);
    assert!(ok, "the old certificate: {body}");
    wait_log_count(&server, "(attempt 2)", 1, ORDERED);
}

#[test]
fn an_account_the_ca_forgot_is_created_anew() {
    if !installed() {
        return;
    }
    let port = free_port();
    let mut ca = Pebble::start(&Setup {
        tls_port: port,
        http_port: free_port(),
        validity: None,
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let state = state.path().join("acme");
    let server = nomserve(port, &flags(&ca, &state, "old.nomserve.test", &[]));
    wait_log_count(&server, OBTAINED, 1, ORDERED);
    drop(server);
    // A new CA at the same URL, which knows no account; another name, so an order is due.
    ca.restart(&[]);
    let server = nomserve(port, &flags(&ca, &state, "new.nomserve.test", &[]));
    let log = wait_log_count(&server, "(attempt 1)", 1, ORDERED);
    assert!(log.contains("accountDoesNotExist"), "{log}");
    let log = wait_log_count(&server, OBTAINED, 1, ORDERED);
    assert!(log.contains("ACME: account created"), "{log}");
    let (ok, body) = curl("new.nomserve.test", port, &ca.issuing_root());
    assert!(ok, "curl: {body}");
}

#[test]
fn two_instances_on_one_state_folder_make_one_order_and_both_serve() {
    if !installed() {
        return;
    }
    let (first_port, second_port) = (free_port(), free_port());
    // The CA validates tls-alpn-01 on the first instance's port, whichever one ordered:
    // the first answers from the key authorization the other stored.
    let ca = Pebble::start(&Setup {
        tls_port: first_port,
        http_port: free_port(),
        validity: None,
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let args = flags(&ca, &state.path().join("acme"), "pair.nomserve.test", &[]);
    let first = nomserve(first_port, &args);
    let second = nomserve(second_port, &args);
    let served = "ACME: now serving the certificate stored in";
    let deadline = std::time::Instant::now() + ORDERED;
    let (one, two): (String, String) = loop {
        let (one, two) = (first.log(), second.log());
        let done = |log: &str| log.contains(OBTAINED) || log.contains(served);
        if done(&one) && done(&two) {
            break (one, two);
        }
        assert!(std::time::Instant::now() < deadline, "{one}\n---\n{two}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let orders = one.matches("order placed").count() + two.matches("order placed").count();
    assert_eq!(orders, 1, "{one}\n---\n{two}");
    let root = ca.issuing_root();
    for port in [first_port, second_port] {
        let (ok, body) = curl("pair.nomserve.test", port, &root);
        assert!(ok, "curl on {port}: {body}");
    }
}

/// Removes the accounts stored in the state folder `state`: the next order creates one.
fn remove_accounts(state: &Path) {
    for entry in fs::read_dir(state).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with(".json") {
            fs::remove_file(path).unwrap();
        }
    }
}

/// Runs the binary with `args` and the document root, expecting exit status 2 and `needle`
/// in what it printed.
fn refused(args: &[&str], needle: &str) {
    let root = common::www();
    let mut all = args.to_vec();
    all.extend(["--port", "0", root.to_str().unwrap()]);
    let exited = run_to_exit(&all);
    assert_eq!(exited.status.code(), Some(2), "{all:?}: {}", exited.stderr);
    assert!(exited.stderr.contains(needle), "{all:?}: {}", exited.stderr);
}

#[test]
fn bad_acme_settings_are_refused_at_start_with_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("acme");
    let state = state.to_str().unwrap();
    let ok = ["--acme-state", state, "--acme-agree-tos", "--check-config"];
    refused(
        &["--acme", "a.test", "--acme-ca", "http://ca.test/dir"],
        "not an https URL",
    );
    refused(
        &["--acme", "a.test", "--acme-ca", "ca.test"],
        "is not an https URL",
    );
    refused(&["--acme", "a_b.test"], "not a valid DNS name");
    refused(&["--acme", "*.a.test"], "wildcard");
    let cert = cert::TestCert::new();
    let tls: Vec<String> = cert.args();
    let mut both: Vec<&str> = tls.iter().map(String::as_str).collect();
    both.extend(["--acme", "a.test"]);
    refused(&both, "cannot be used with");

    // A state folder others can read, and one that cannot be made.
    let exited = run_to_exit(&[&["--acme", "a.test"][..], &ok[..]].concat());
    assert!(exited.status.success(), "{}", exited.stderr);
    fs::create_dir(state).unwrap();
    fs::set_permissions(state, fs::Permissions::from_mode(0o755)).unwrap();
    refused(
        &[&["--acme", "a.test"][..], &ok[..]].concat(),
        "has mode 755",
    );
    let file = dir.path().join("file");
    fs::write(&file, "").unwrap();
    let under_file = file.join("acme");
    let under_file = under_file.to_str().unwrap();
    refused(
        &[
            "--acme",
            "a.test",
            "--acme-state",
            under_file,
            "--check-config",
        ],
        "cannot create the ACME state folder",
    );
    refused(
        &[
            "--acme",
            "a.test",
            "--acme-state",
            under_file,
            "--acme-agree-tos",
        ],
        "cannot create the ACME state folder",
    );
}

#[test]
fn without_agreeing_to_the_terms_a_new_account_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("acme");
    // A CA that cannot be reached: the terms cannot be quoted, the refusal stands.
    let ca = format!("https://127.0.0.1:{}/dir", free_port());
    let state = state.to_str().unwrap();
    refused(
        &["--acme", "a.test", "--acme-ca", &ca, "--acme-state", state],
        "add --acme-agree-tos",
    );
}

/// The flags and the config key say the same.
#[test]
fn the_config_file_takes_acme_as_an_array() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("site.toml");
    fs::write(
        &config,
        "acme = [\"a.test\", \"b.test\"]\nacme_state = \"state\"\nacme_ca = \"ftp://x\"\n",
    )
    .unwrap();
    refused(&["--config", config.to_str().unwrap()], "not an https URL");
    fs::write(
        &config,
        "acme = [\"a.test\", \"b.test\"]\nacme_state = \"state\"\nacme_agree_tos = true\n",
    )
    .unwrap();
    let exited = run_to_exit(&["--config", config.to_str().unwrap(), "--check-config"]);
    assert!(exited.status.success(), "{}", exited.stderr);
    assert!(
        !dir.path().join("state").exists(),
        "the check makes nothing"
    );
    // Beside the config file: a file there in the folder's place is refused.
    fs::write(dir.path().join("state"), "").unwrap();
    let exited = run_to_exit(&["--config", config.to_str().unwrap(), "--check-config"]);
    assert_eq!(exited.status.code(), Some(2), "{}", exited.stderr);
    assert!(
        exited.stderr.contains("state is not a folder"),
        "{}",
        exited.stderr
    );
}

#[test]
fn instances_on_one_state_folder_share_the_back_off() {
    if !installed() {
        return;
    }
    let (first_port, second_port) = (free_port(), free_port());
    // tls-alpn-01 validated on a port that holds each connection two seconds and drops it:
    // every order fails, and the first failure comes after both instances have started.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for connection in silent.incoming() {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(2));
                drop(connection);
            });
        }
    });
    let ca = Pebble::start(&Setup {
        tls_port: silent_port,
        http_port: free_port(),
        validity: None,
        env: &[],
    });
    let state = tempfile::tempdir().unwrap();
    let args = flags(&ca, &state.path().join("acme"), "shy.nomserve.test", &[]);
    let first = nomserve(first_port, &args);
    let second = nomserve(second_port, &args);
    let deadline = std::time::Instant::now() + ORDERED;
    let (one, two): (String, String) = loop {
        let (one, two) = (first.log(), second.log());
        if one.contains("(attempt 2)") || two.contains("(attempt 2)") {
            break (one, two);
        }
        assert!(std::time::Instant::now() < deadline, "{one}\n---\n{two}");
        std::thread::sleep(Duration::from_millis(50));
    };
    // One failure, then the wait it set held for both: the second attempt is the next.
    let attempts = one.matches("(attempt ").count() + two.matches("(attempt ").count();
    assert_eq!(attempts, 2, "{one}\n---\n{two}");
}
