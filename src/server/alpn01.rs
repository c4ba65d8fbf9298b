//! The tls-alpn-01 challenge (RFC 8737): the certificate an ACME server is shown when it
//! validates a name by a TLS handshake on the HTTPS port.
//!
//! The ACME client writes each challenge's key authorization to a file named after the
//! domain in a folder of its state folder ([`TlsAlpn01::write`]); the certificate resolver
//! reads it when a handshake offers ALPN `acme-tls/1` only. A file rather than memory: with
//! several instances on one state folder, the CA may reach any of them, and each answers
//! what the one that ordered stored.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The ALPN protocol of tls-alpn-01 (RFC 8737 §6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The folder of the key authorizations of pending tls-alpn-01 challenges, one file per
/// domain name.
#[derive(Debug, Clone)]
pub struct TlsAlpn01 {
    folder: PathBuf,
}

impl TlsAlpn01 {
    /// Challenges kept in `folder`.
    pub fn new(folder: PathBuf) -> TlsAlpn01 {
        TlsAlpn01 { folder }
    }

    /// The file of `name`'s challenge: the name in lower case, which a DNS name checked at
    /// start makes a safe file name (letters, digits, `-` and `.`, no `..`).
    fn file(&self, name: &str) -> Option<PathBuf> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let safe = !name.is_empty()
            && !name.starts_with('.')
            && !name.contains("..")
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        safe.then(|| self.folder.join(name))
    }

    /// Stores `key_authorization` (RFC 8555 §8.1) for `name`'s challenge, readable by the
    /// server's user only.
    pub fn write(&self, name: &str, key_authorization: &str) -> io::Result<()> {
        let file = self.file(name).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("bad name {name:?}"))
        })?;
        write_private(&file, key_authorization.as_bytes())
    }

    /// Forgets `name`'s challenge, once the CA has validated it or given up.
    pub fn remove(&self, name: &str) {
        if let Some(file) = self.file(name) {
            let _ = fs::remove_file(file);
        }
    }

    /// The challenge certificate for `name` (RFC 8737 §3): self-signed, with `name` as its
    /// only subjectAltName and the critical acmeIdentifier extension holding the SHA-256
    /// digest of the key authorization stored for it. None when none is stored, or the
    /// certificate cannot be made (logged).
    pub fn certificate(&self, name: &str, provider: &CryptoProvider) -> Option<Arc<CertifiedKey>> {
        let key_authorization = fs::read(self.file(name)?).ok()?;
        match challenge_certificate(name, &key_authorization, provider) {
            Ok(pair) => Some(Arc::new(pair)),
            Err(e) => {
                log::error!("ACME: cannot make the tls-alpn-01 certificate for {name}: {e}");
                None
            }
        }
    }
}

/// Makes the certificate of RFC 8737 §3 for `name` and `key_authorization`.
fn challenge_certificate(
    name: &str,
    key_authorization: &[u8],
    provider: &CryptoProvider,
) -> Result<CertifiedKey, String> {
    let digest = Sha256::digest(key_authorization);
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params =
        rcgen::CertificateParams::new(vec![name.to_string()]).map_err(|e| e.to_string())?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(&digest)];
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let chain = vec![CertificateDer::from(cert.der().to_vec())];
    // Not `CertifiedKey::from_der`: it checks the certificate with webpki, which refuses
    // the critical acmeIdentifier extension it does not know.
    let signing_key = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|e| e.to_string())?;
    Ok(CertifiedKey::new(chain, signing_key))
}

/// Writes `bytes` to `file` with mode 0600 (readable and writable by the owner only),
/// through a temporary file renamed over it, so a reader sees the old contents or the new,
/// never part of them.
pub fn write_private(file: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut temporary = file.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let _ = fs::remove_file(&temporary);
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    fs::rename(&temporary, file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::aws_lc_rs;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_certificate_names_the_domain_and_carries_the_digest_critical() {
        let dir = tempfile::tempdir().unwrap();
        let challenges = TlsAlpn01::new(dir.path().to_path_buf());
        challenges.write("Example.COM", "token.thumbprint").unwrap();
        let mode = fs::metadata(dir.path().join("example.com"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let provider = aws_lc_rs::default_provider();
        let pair = challenges.certificate("example.com", &provider).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&pair.cert[0]).unwrap();
        let names: Vec<String> = cert
            .subject_alternative_name()
            .unwrap()
            .unwrap()
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, ["DNSName(example.com)"]);
        let oid = x509_parser::oid_registry::Oid::from(&[1, 3, 6, 1, 5, 5, 7, 1, 31]).unwrap();
        let extension = cert.get_extension_unique(&oid).unwrap().unwrap();
        assert!(extension.critical);
        // An OCTET STRING of the 32 bytes of the digest (RFC 8737 §3).
        let digest = Sha256::digest(b"token.thumbprint");
        assert_eq!(&extension.value[..2], &[0x04, 0x20]);
        assert_eq!(&extension.value[2..], digest.as_slice());
    }

    #[test]
    fn no_certificate_without_a_stored_challenge_or_for_an_unsafe_name() {
        let dir = tempfile::tempdir().unwrap();
        let challenges = TlsAlpn01::new(dir.path().to_path_buf());
        let provider = aws_lc_rs::default_provider();
        assert!(challenges.certificate("example.com", &provider).is_none());
        assert!(challenges.write("../escape", "x").is_err());
        assert!(challenges.certificate("../escape", &provider).is_none());
        challenges.write("example.com", "x").unwrap();
        challenges.remove("example.com");
        assert!(challenges.certificate("example.com", &provider).is_none());
    }
}
