//! The HTTP/3 tests' client: `tests/h3_client.py`, aioquic's example HTTP/3 client cut
//! down (PyPI `aioquic`), run against the real binary, and what the tests share: a site with
//! a large file, a server with `--http3 on`, and the check that a tool is installed (a test
//! without it passes vacuously, printing why, unless `CI` is set, when it fails).

// Each test crate that includes this file uses some of it, as with `common/mod.rs`.
#![allow(dead_code)]

use crate::cert::TestCert;
use crate::common::{Server, run_command};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::env;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The size of the large file: many congestion windows, flow-control updates and GSO
/// batches.
pub const LARGE: usize = 20 * 1024 * 1024;

/// Whether `program` with `args` runs; prints why a test is skipped when it does not, and
/// fails the test instead when `CI` is set.
pub fn installed(program: &str, args: &[&str], install: &str) -> bool {
    let found = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        let message = format!("{program} {args:?} failed, so this test cannot run: {install}");
        assert!(
            env::var_os("CI").is_none(),
            "{message} (CI is set: failing)"
        );
        let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
    }
    found
}

pub fn aioquic_installed() -> bool {
    installed(
        "python3",
        &["-c", "import aioquic"],
        "install it with `pip install aioquic`",
    )
}

/// A document root with a small file and the large one (bytes of a simple pattern that
/// repeats with a period no frame size divides).
pub fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temp root");
    fs::write(dir.path().join("small.txt"), "hello over QUIC\n").unwrap();
    let large: Vec<u8> = (0..LARGE).map(|i| (i % 251) as u8).collect();
    fs::write(dir.path().join("large.bin"), large).unwrap();
    dir
}

/// An HTTPS server with `--http3 on` for `root`, with `extra` arguments.
pub fn h3_server(root: &Path, cert: &TestCert, extra: &[&str]) -> Server {
    let mut args: Vec<String> = cert.args();
    args.extend(["--http3", "on"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::with_args(root, &args)
}

/// Runs the aioquic client against `server` with `args`; its JSON lines.
pub fn h3(server: &Server, args: &[&str]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/h3_client.py");
    let mut command = Command::new("python3");
    command
        .arg(script)
        .arg("127.0.0.1")
        .arg(server.addr.port().to_string())
        .args(args);
    let run = run_command(command);
    assert!(
        run.status.success(),
        "h3_client {args:?} failed ({}):\n{}\nserver log:\n{}",
        run.status,
        run.stderr,
        server.log()
    );
    // The connection's close, which the client reports as it comes, is left out.
    run.stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .filter(|line: &Value| line.get("terminated").is_none())
        .collect()
}

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
