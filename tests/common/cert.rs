//! A throwaway certificate for the tests that serve HTTPS to clients no one here wrote.

// Each test crate that includes this file uses some of it, as with `common/mod.rs`.
#![allow(dead_code)]

use std::fs;

/// A self-signed certificate for `localhost` and 127.0.0.1 in a temporary directory, as
/// `--tls-cert` and `--tls-key` take it, with what a browser needs to trust it.
pub struct TestCert {
    dir: tempfile::TempDir,
    /// base64(SHA-256(SubjectPublicKeyInfo)): the form Chromium's
    /// `--ignore-certificate-errors-spki-list` takes.
    pub spki_hash: String,
}

impl TestCert {
    /// A new certificate with a fresh key.
    pub fn new() -> TestCert {
        use base64::Engine;
        use rcgen::PublicKeyData;
        use sha2::{Digest, Sha256};
        let made = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("a self-signed certificate");
        let dir = tempfile::tempdir().expect("temp dir for the PEM files");
        fs::write(dir.path().join("cert.pem"), made.cert.pem()).expect("write cert.pem");
        fs::write(dir.path().join("key.pem"), made.signing_key.serialize_pem())
            .expect("write key.pem");
        let spki = made.signing_key.subject_public_key_info();
        let spki_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&spki));
        TestCert { dir, spki_hash }
    }

    /// The arguments that make the server use it.
    pub fn args(&self) -> Vec<String> {
        let path = |name: &str| self.dir.path().join(name).to_str().unwrap().to_string();
        vec![
            "--tls-cert".into(),
            path("cert.pem"),
            "--tls-key".into(),
            path("key.pem"),
        ]
    }
}
