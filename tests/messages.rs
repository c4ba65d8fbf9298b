//! What the real binary says when it cannot start, in the words a person acts on: the TLS
//! certificate and key files (at start and on SIGHUP), a port below 1024 without the
//! privilege, an address no interface has; and the banner's lines for the config file, auth
//! and the access log.

mod common;

use common::{Server, run_command, run_to_exit, www};
use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A syntactically plausible OpenSSH private key (`ssh-keygen`'s default format since 7.8):
/// the server tells it by its label alone.
const OPENSSH_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDh2rCMoIXFq0hxhE1VXjz2UqWShqr6NhoQyXlzHvqRvAAAAJgE3LJBBNyy
QQAAAAtzc2gtZWQyNTUxOQAAACDh2rCMoIXFq0hxhE1VXjz2UqWShqr6NhoQyXlzHvqRvA
AAAEBtJ6CsV7hDFuG0Vn9S5wSAE5Qy1Rh2sE4GNZNjqzzw9+HasIyghcWrSHGETVVePPZS
pZKGqvo2GhDJeXMe+pG8AAAAEHVzZXJAZXhhbXBsZS5jb20BAgMEBQ==
-----END OPENSSH PRIVATE KEY-----
";

/// A self-signed certificate for `localhost` and its key, as files in their own folder.
struct Pair {
    dir: tempfile::TempDir,
    cert_pem: String,
    cert_der: Vec<u8>,
    key_pem: String,
}

impl Pair {
    fn new() -> Pair {
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
            .expect("a self-signed certificate");
        let pair = Pair {
            dir: tempfile::tempdir().unwrap(),
            cert_pem: made.cert.pem(),
            cert_der: made.cert.der().to_vec(),
            key_pem: made.signing_key.serialize_pem(),
        };
        pair.write("cert.pem", pair.cert_pem.as_bytes());
        pair.write("key.pem", pair.key_pem.as_bytes());
        pair
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, contents).unwrap();
        path
    }

    /// The key, encrypted with a passphrase by openssl (PKCS#8, `ENCRYPTED PRIVATE KEY`).
    fn encrypted_key(&self) -> PathBuf {
        let path = self.path("encrypted.pem");
        let status = Command::new("openssl")
            .args([
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-passout",
                "pass:secret",
            ])
            .arg("-in")
            .arg(self.path("key.pem"))
            .arg("-out")
            .arg(&path)
            .status()
            .expect("openssl pkcs8");
        assert!(status.success());
        path
    }
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Starts the binary on `cert` and `key` and expects it to refuse with exit status 2.
fn refused(cert: &Path, key: &Path) -> String {
    let root = www();
    let run = run_to_exit(&[
        "--port",
        "0",
        "--root",
        arg(&root),
        "--tls-cert",
        arg(cert),
        "--tls-key",
        arg(key),
    ]);
    assert_eq!(run.status.code(), Some(2), "{}", run.stderr);
    assert!(!run.stderr.contains("listening"), "{}", run.stderr);
    run.stderr
}

/// Each way the pair can be wrong gets a message naming the file, what it holds and what to
/// do, instead of the parser's words (`KeyMismatch`, `no items found`, ...).
#[test]
fn certificate_and_key_errors_say_what_the_file_holds_and_what_to_do() {
    let pair = Pair::new();
    let (cert, key) = (pair.path("cert.pem"), pair.path("key.pem"));
    let other_key = pair.write("other-key.pem", Pair::new().key_pem.as_bytes());
    let openssh = pair.write("id_ed25519", OPENSSH_KEY.as_bytes());
    let empty = pair.write("empty.pem", b"");
    let der = pair.write("cert.der", &pair.cert_der);
    let encrypted = pair.encrypted_key();
    let (c, k) = (cert.display(), key.display());
    let cases: [(&str, &Path, &Path, String); 7] = [
        (
            "a key for another certificate",
            &cert,
            &other_key,
            format!(
                "key file {}: the key does not belong to the certificate in {c}",
                other_key.display()
            ),
        ),
        (
            "an OpenSSH key",
            &cert,
            &openssh,
            format!(
                "key file {0}: this is an OpenSSH key; convert it with \
                 `ssh-keygen -p -m PEM -f {0}`",
                openssh.display()
            ),
        ),
        (
            "the files swapped",
            &key,
            &cert,
            format!("{k} holds a private key and {c} a certificate: swapped?"),
        ),
        (
            "an empty certificate file",
            &empty,
            &key,
            format!(
                "certificate file {}: the file is empty; expected a PEM certificate \
                 (-----BEGIN CERTIFICATE-----)",
                empty.display()
            ),
        ),
        (
            "an empty key file",
            &cert,
            &empty,
            format!(
                "key file {}: the file is empty; expected a PEM private key",
                empty.display()
            ),
        ),
        (
            "a DER certificate",
            &der,
            &key,
            format!(
                "certificate file {0}: the file is binary (DER?), not PEM text; expected a PEM \
                 certificate (-----BEGIN CERTIFICATE-----): convert a DER certificate with \
                 `openssl x509 -inform DER -in {0} -out cert.pem`",
                der.display()
            ),
        ),
        (
            "an encrypted key",
            &cert,
            &encrypted,
            format!(
                "key file {0}: the key is encrypted (PKCS#8); nomserve cannot ask for a \
                 passphrase: decrypt it with `openssl pkey -in {0} -out key.pem`",
                encrypted.display()
            ),
        ),
    ];
    for (what, cert, key, expected) in cases {
        let stderr = refused(cert, key);
        assert!(
            stderr.starts_with(&format!("nomserve: {expected}")),
            "{what}: expected {expected:?}, got:\n{stderr}"
        );
    }
}

/// SIGHUP with a bad pair keeps the current one, and the log line says why in the same
/// words as at start.
#[test]
fn a_reload_that_keeps_the_current_certificate_says_why_in_the_same_words() {
    let pair = Pair::new();
    let (cert, key) = (pair.path("cert.pem"), pair.path("key.pem"));
    let server = Server::with_args(&www(), &["--tls-cert", arg(&cert), "--tls-key", arg(&key)]);

    fs::write(&key, OPENSSH_KEY).unwrap();
    server.signal("HUP");
    let line = server.wait_for_log("keeping the current certificate");
    let expected = format!(
        "SIGHUP: key file {0}: this is an OpenSSH key; convert it with `ssh-keygen -p -m PEM \
         -f {0}` (which rewrites the file in place); keeping the current certificate",
        key.display()
    );
    assert!(line.ends_with(&expected), "{line}");

    fs::write(&cert, &pair.key_pem).unwrap();
    fs::write(&key, &pair.cert_pem).unwrap();
    server.signal("HUP");
    let line = server.wait_for_log("keeping the current certificate");
    let expected = format!(
        "SIGHUP: {} holds a private key and {} a certificate: swapped? --tls-cert takes the \
         certificate, --tls-key the private key; keeping the current certificate",
        cert.display(),
        key.display()
    );
    assert!(line.ends_with(&expected), "{line}");
}

/// Whether `CI` is set: a test that cannot run there fails instead of skipping.
fn skip(reason: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{reason} (CI is set: failing)"
    );
    let _ = writeln!(std::io::stderr(), "SKIPPED: {reason}");
}

/// A port below the unprivileged range, as a user without CAP_NET_BIND_SERVICE: the message
/// names the capability, the command that gives it, and a higher port. Tests run as root
/// here and in CI, so the binary is run as `nobody` by setpriv (util-linux); as another
/// user, directly.
#[test]
fn a_privileged_port_as_a_user_says_how_to_get_it_or_what_else_to_do() {
    let unprivileged: u16 = fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .map_or(1024, |text| text.trim().parse().unwrap());
    if unprivileged <= 1 {
        return skip("net.ipv4.ip_unprivileged_port_start is 0 or 1: every port is open to all");
    }
    let port = unprivileged.min(81) - 1;
    let mut id = Command::new("id");
    id.arg("-u");
    let uid = run_command(id);
    let as_root = uid.stdout.trim() == "0";
    // The binary, where `nobody` can run it whatever the permissions of the checkout.
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let binary = dir.path().join("nomserve");
    fs::copy(env!("CARGO_BIN_EXE_nomserve"), &binary).unwrap();
    let mut command = if as_root {
        if Command::new("setpriv").arg("--version").output().is_err() {
            return skip("setpriv is not installed: `apt-get install util-linux`");
        }
        let mut setpriv = Command::new("setpriv");
        setpriv.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]);
        setpriv.arg(&binary);
        setpriv
    } else {
        Command::new(&binary)
    };
    command
        .args(["--bind", "127.0.0.1", "--port", &port.to_string(), "--root"])
        .arg(std::env::temp_dir())
        .env("RUST_LOG", "info");
    let run = run_command(command);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "nomserve: cannot listen on 127.0.0.1:{port}: ports below {unprivileged} need root \
             or the CAP_NET_BIND_SERVICE capability (`sudo setcap \
             cap_net_bind_service=+ep $(which nomserve)` gives it to the binary), or pick a \
             port from {unprivileged} up, such as -p 8080\n"
        )
    );
}

/// An address no interface has (192.0.2.1, TEST-NET-1, RFC 5737 §3): the message lists the
/// addresses there are. The bind fails locally; nothing is sent.
#[test]
fn an_address_no_interface_has_lists_the_ones_there_are() {
    let missing: IpAddr = "192.0.2.1".parse().unwrap();
    let mut addresses: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap()
        .iter()
        .map(|interface| interface.ip())
        .filter(|ip| !matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local()))
        .collect();
    if addresses.contains(&missing) {
        return skip("an interface here has 192.0.2.1, so binding it cannot fail");
    }
    addresses.sort_by_key(|ip| (!ip.is_loopback(), ip.is_ipv6()));
    addresses.dedup();
    let listed: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
    let root = www();
    for (args, what) in [
        (
            vec!["--bind", "192.0.2.1", "--port", "8080"],
            "cannot listen on 192.0.2.1:8080",
        ),
        (
            vec!["--port", "0", "--metrics", "192.0.2.1:9090"],
            "cannot listen on 192.0.2.1:9090 for metrics",
        ),
    ] {
        let mut args = args;
        args.extend(["--root", arg(&root)]);
        let run = run_to_exit(&args);
        assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
        assert_eq!(
            run.stderr,
            format!(
                "nomserve: {what}: no network interface here has the address 192.0.2.1; the \
                 addresses here are {} (and 0.0.0.0 or :: stands for all of them)\n",
                listed.join(", ")
            )
        );
    }
}

/// The banner names the config file, the auth areas with the whole site's htpasswd file, and
/// where the access log goes, each as an absolute path.
#[test]
fn the_banner_names_the_config_file_auth_and_the_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    fs::write(
        &users,
        format!("ann:{}\n", bcrypt::hash("secret", 4).unwrap()),
    )
    .unwrap();
    let config = dir.path().join("site.toml");
    fs::write(
        &config,
        format!(
            "[[auth]]\npath = \"/private/**\"\nfile = \"{0}\"\n\n[[auth]]\npath = \
             \"/admin/**\"\nfile = \"{0}\"\n",
            users.display()
        ),
    )
    .unwrap();
    let access_log = dir.path().join("access.log");
    let server = Server::with_args(
        &www(),
        &[
            "--config",
            arg(&config),
            "--auth-file",
            arg(&users),
            "--access-log",
            arg(&access_log),
        ],
    );
    let banner = server.banner();
    let lines: Vec<&str> = banner.lines().collect();
    assert_eq!(
        lines[3..],
        [
            format!("  settings from {}", config.display()).as_str(),
            "  listings off (--list-dirs), echo on at /echo",
            "  HTTPS off (--tls-cert, --tls-key), compression on (br, zstd, gzip)",
            format!(
                "  auth on (3 areas, --auth-file {} for the whole site), access log to {}",
                users.display(),
                access_log.display()
            )
            .as_str(),
            "Press Ctrl+C to stop.",
        ],
        "{banner}"
    );

    let quiet = Server::with_args(&www(), &["--access-log", "off"]);
    let banner = quiet.banner();
    assert!(
        banner.contains("\n  auth off (--auth-file), access log off\n"),
        "{banner}"
    );
}
