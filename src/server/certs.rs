//! The certificate and key HTTPS is served with, and the rustls configuration every TLS
//! connection is made from.
//!
//! The pair is read from PEM files at start and again on SIGHUP ([`Certificates::reload`]):
//! the configuration asks [`Certificates`] for the pair at each handshake, so a reload
//! changes what new handshakes present while open connections go on with what they have. A
//! pair that cannot be read, or whose key does not match the certificate, is refused at
//! start and, on reload, logged while the current pair is kept.
//!
//! Crypto provider: aws-lc-rs, rustls's default. It is faster than ring at the work a server
//! does per connection (RSA and ECDSA signatures, AES-GCM), it brings the X25519MLKEM768
//! post-quantum key exchange that rustls prefers when a client offers it, and it builds with
//! the C compiler a Rust toolchain already needs.
//!
//! Settings, all rustls's safe defaults but the ones named: TLS 1.3 and 1.2 only (rustls has
//! nothing older), their AEAD cipher suites with forward secrecy; ALPN `http/1.1` only, so a
//! client that offers `h2` and `http/1.1` settles on HTTP/1.1; session resumption by
//! tickets (TLS 1.3 and 1.2; they live 12 hours, their keys change every 6) and by a cache of 256
//! sessions; no 0-RTT data, which could be replayed.

use rustls::ServerConfig;
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

/// Where the certificate chain and the private key are read from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM: the server's certificate, then any intermediates.
    pub cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// The pair new handshakes are served with.
pub struct Certificates {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// Reads the pair from `files`. The error names the file and what is wrong with it.
    pub fn load(files: TlsFiles) -> Result<Arc<Certificates>, String> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let current = read_pair(&files, &provider)?;
        Ok(Arc::new(Certificates {
            files,
            provider,
            current: RwLock::new(Arc::new(current)),
        }))
    }

    /// Reads the files again; on success new handshakes use the new pair. On failure the
    /// current pair stays and the error says why.
    pub fn reload(&self) -> Result<(), String> {
        let pair = read_pair(&self.files, &self.provider)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(pair);
        Ok(())
    }

    /// The files the pair is read from.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// The rustls configuration that serves HTTPS with this pair (see the module's notes).
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<ServerConfig>, String> {
        let resolver: Arc<dyn ResolvesServerCert> = Arc::clone(self) as _;
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS settings: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(resolver);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config.ticketer =
            aws_lc_rs::Ticketer::new().map_err(|e| format!("TLS session tickets: {e}"))?;
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for Certificates {
    /// One pair for every server name: a client's SNI is accepted whatever it names.
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(PoisonError::into_inner),
        ))
    }
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

/// Reads and checks the pair: a chain of at least one certificate, a key the provider can
/// sign with, and the key matching the first certificate's public key.
fn read_pair(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let cert_file = files.cert.display();
    let key_file = files.key.display();
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("certificate {cert_file}: {e}"))?;
    if chain.is_empty() {
        return Err(format!("certificate {cert_file}: no PEM certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| format!("private key {key_file}: {e}"))?;
    CertifiedKey::from_der(chain, key, provider)
        .map_err(|e| format!("private key {key_file} with certificate {cert_file}: {e}"))
}
