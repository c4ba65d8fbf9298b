//! A real ACME CA on loopback for the ACME tests: Debian's `pebble` (the CA) and
//! `pebble-challtestsrv` (the DNS server it asks, which resolves every name to 127.0.0.1).
//!
//! Each test starts its own pair on free ports, with its own key pair for pebble's HTTPS
//! (made here with rcgen: pebble's package ships none), and pebble's challenge ports pointed
//! at the ports nomserve will listen on.

// Each test crate that includes this file uses some of it, as with `common/mod.rs`.
#![allow(dead_code)]

use crate::common::{Server, TIMEOUT, www};
use std::env;
use std::fs;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Whether pebble and pebble-challtestsrv are installed. When they are not: prints why the
/// test is skipped, or fails it when `CI` is set (CI installs them).
pub fn installed() -> bool {
    let on_path = |name: &str| {
        env::var_os("PATH")
            .is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(name).is_file()))
    };
    let found = on_path("pebble") && on_path("pebble-challtestsrv");
    if !found {
        let message = "pebble is not installed, so the ACME tests cannot run: install it \
                       with `apt-get install pebble`";
        assert!(
            env::var_os("CI").is_none(),
            "{message} (CI is set: failing)"
        );
        // Straight to stderr, which the test harness does not capture: a skip must be seen.
        let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
    }
    found
}

/// The lowest port [`free_port`] gives.
const LOWEST_PORT: u16 = 10_000;

/// A port free now on 127.0.0.1, below the kernel's ephemeral range
/// (net.ipv4.ip_local_port_range). Pebble is told the ports before nomserve binds them, and
/// a port from that range (what binding port 0 gives) can meanwhile become the local port of
/// any test's outgoing connection, failing nomserve's bind with "the port is in use". The
/// candidates differ per process (its id and start time), and per call within one: the
/// prime stride walks every port of the span once (the span, 22,768 ports by default, is
/// no multiple of it).
pub fn free_port() -> u16 {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let low = fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let span = u32::from(low.saturating_sub(LOWEST_PORT)).max(1);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let start = std::process::id().wrapping_mul(2_654_435_761) ^ nanos;
    for _ in 0..span {
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let offset = start.wrapping_add(call.wrapping_mul(7_919)) % span;
        let port = LOWEST_PORT + u16::try_from(offset).expect("below the span");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port from {LOWEST_PORT} to {low}");
}

/// How pebble is started.
pub struct Setup<'a> {
    /// The port it validates tls-alpn-01 on (nomserve's HTTPS port).
    pub tls_port: u16,
    /// The port it validates http-01 on (nomserve's --redirect-http port).
    pub http_port: u16,
    /// The certificates' lifetime in seconds, when not pebble's default (5 years).
    pub validity: Option<u64>,
    /// Extra environment variables (PEBBLE_WFE_NONCEREJECT, ...).
    pub env: &'a [(&'a str, &'a str)],
}

/// A running pebble and its DNS server, killed when dropped.
pub struct Pebble {
    dir: tempfile::TempDir,
    pebble: Option<Child>,
    dns: Child,
    dns_port: u16,
    /// The ACME directory URL.
    pub directory: String,
    listen: u16,
    management: u16,
}

impl Pebble {
    /// Starts pebble as `setup` says, and waits until its directory answers.
    pub fn start(setup: &Setup<'_>) -> Pebble {
        let listen = free_port();
        let dir = tempfile::tempdir().expect("a folder for pebble");
        let (ca, leaf) = pki();
        fs::write(dir.path().join("ca.pem"), ca).unwrap();
        fs::write(dir.path().join("cert.pem"), &leaf.0).unwrap();
        fs::write(dir.path().join("key.pem"), &leaf.1).unwrap();
        let (management, dns_port) = (free_port(), free_port());
        let validity = setup.validity.map_or_else(String::new, |s| {
            format!(r#", "certificateValidityPeriod": {s}"#)
        });
        let config = format!(
            r#"{{"pebble": {{"listenAddress": "127.0.0.1:{listen}",
            "managementListenAddress": "127.0.0.1:{management}",
            "certificate": "{cert}", "privateKey": "{key}",
            "httpPort": {http}, "tlsPort": {tls}, "ocspResponderURL": "",
            "externalAccountBindingRequired": false{validity}}}}}"#,
            cert = dir.path().join("cert.pem").display(),
            key = dir.path().join("key.pem").display(),
            http = setup.http_port,
            tls = setup.tls_port,
        );
        fs::write(dir.path().join("pebble.json"), config).unwrap();
        let dns = Command::new("pebble-challtestsrv")
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .args(["-dns01", &format!("127.0.0.1:{dns_port}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-management", &format!("127.0.0.1:{}", free_port())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pebble-challtestsrv");
        let mut pebble = Pebble {
            dir,
            pebble: None,
            dns,
            dns_port,
            directory: format!("https://127.0.0.1:{listen}/dir"),
            listen,
            management,
        };
        pebble.restart(setup.env);
        pebble
    }

    /// Starts pebble anew (it forgets every account and order, and issues under a new
    /// root) at the same URL with the same HTTPS certificate, with `env` as extra
    /// environment variables; waits until it listens.
    pub fn restart(&mut self, env: &[(&str, &str)]) {
        self.stop();
        // It makes its root and intermediate keys first, which takes a while on a loaded
        // machine; one that exits before it listens (seen under a loaded CI run) is started
        // again, a few times.
        for _ in 0..3 {
            let mut child = Command::new("pebble")
                .arg("-config")
                .arg(self.dir.path().join("pebble.json"))
                .args(["-dnsserver", &format!("127.0.0.1:{}", self.dns_port)])
                .env("PEBBLE_VA_NOSLEEP", "1")
                // Fresh authorizations each order: a reused one would skip the challenge.
                .env("PEBBLE_AUTHZREUSE", "0")
                .env("PEBBLE_WFE_NONCEREJECT", "0")
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start pebble");
            let deadline = Instant::now() + 6 * TIMEOUT;
            let listening = loop {
                if TcpStream::connect(("127.0.0.1", self.listen)).is_ok()
                    && TcpStream::connect(("127.0.0.1", self.management)).is_ok()
                {
                    break true;
                }
                if child.try_wait().ok().flatten().is_some() {
                    break false;
                }
                assert!(Instant::now() < deadline, "pebble does not listen");
                thread::sleep(Duration::from_millis(50));
            };
            self.pebble = Some(child);
            if listening {
                return;
            }
        }
        panic!("pebble exits before it listens");
    }

    /// The root pebble's own HTTPS is signed by: `--acme-ca-root`.
    pub fn https_root(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The root pebble issues certificates under, fetched from its management interface
    /// (`/roots/0`) into a file, for curl's `--cacert`.
    pub fn issuing_root(&self) -> PathBuf {
        // The management interface has a self-signed certificate of its own; on loopback,
        // from a process this test started, it is taken unchecked.
        let out = Command::new("curl")
            .args(["-sSfk"])
            .arg(format!("https://127.0.0.1:{}/roots/0", self.management))
            .output()
            .expect("run curl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let file = self.dir.path().join("issuing-root.pem");
        fs::write(&file, out.stdout).unwrap();
        file
    }

    /// The flags that point nomserve at this CA, with its state in `state`.
    pub fn flags(&self, state: &Path) -> Vec<String> {
        vec![
            "--acme-ca".into(),
            self.directory.clone(),
            "--acme-ca-root".into(),
            self.https_root().display().to_string(),
            "--acme-state".into(),
            state.display().to_string(),
            "--acme-agree-tos".into(),
        ]
    }

    /// Stops pebble (the CA goes down), leaving its DNS server.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.pebble.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Pebble {
    fn drop(&mut self) {
        self.stop();
        let _ = self.dns.kill();
        let _ = self.dns.wait();
    }
}

/// A CA and a leaf certificate for 127.0.0.1 and localhost signed by it (PEM, and the
/// leaf's key).
fn pki() -> (String, (String, String)) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    (ca.pem(), (leaf.pem(), leaf_key.serialize_pem()))
}

/// A nomserve started with `args` on HTTPS port `port`, serving the repository's www/.
pub fn nomserve(port: u16, args: &[String]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nomserve"));
    cmd.args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(args)
        .arg(www())
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    Server::from_command(cmd, &www(), "127.0.0.1".parse().unwrap())
}

/// Waits until `server`'s log holds `needle` `count` times, for up to `within`; the log.
pub fn wait_log_count(server: &Server, needle: &str, count: usize, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let log = server.log();
        if log.matches(needle).count() >= count {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "{needle:?} not {count} times in the log within {within:?}:\n{log}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

/// curl's GET of `/` over HTTPS at `name`:`port` (resolved to 127.0.0.1), trusting `root`
/// only: its exit status and its body or error.
pub fn curl(name: &str, port: u16, root: &Path) -> (bool, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "5", "--cacert"])
        .arg(root)
        .args(["--resolve", &format!("{name}:{port}:127.0.0.1")])
        .arg(format!("https://{name}:{port}/"))
        .output()
        .expect("run curl");
    let text = if out.status.success() {
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    (out.status.success(), text)
}
