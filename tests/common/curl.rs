//! curl against the real binary, what it got, and the SHA-256 that files are compared by.

// Each test crate that includes this file uses some of it, as with `common/mod.rs`.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::fs;
use std::path::Path;
use std::process::Command;

/// What curl got: the protocol version, the status, the header block, the body.
pub struct Got {
    pub version: String,
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Got {
    /// The value of the header field `name` (any case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Runs curl with `args` on `url` (certificates not checked), the body written to `body`
/// and the header block beside it.
pub fn curl(body: &Path, url: &str, args: &[&str]) -> Got {
    let head = body.with_extension("head");
    // curl writes no file for an empty body: none is left from an earlier call.
    let _ = fs::remove_file(body);
    let _ = fs::remove_file(&head);
    let out = Command::new("curl")
        .args(["-sS", "-k", "-o"])
        .arg(body)
        .arg("-D")
        .arg(&head)
        .args(["-w", "%{http_version} %{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = String::from_utf8(out.stdout).unwrap();
    let (version, status) = written.split_once(' ').unwrap();
    Got {
        version: version.to_string(),
        status: status.parse().unwrap(),
        head: fs::read_to_string(&head).unwrap_or_default(),
        body: fs::read(body).unwrap_or_default(),
    }
}

/// The SHA-256 of `bytes`, in hex.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
