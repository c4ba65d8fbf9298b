//! The certificate and key HTTPS is served with, and the rustls configuration every TLS
//! connection is made from.
//!
//! The pair is read from PEM files at start and again on SIGHUP ([`Certificates::reload`]):
//! the configuration asks [`Certificates`] for the pair at each handshake, so a reload
//! changes what new handshakes present while open connections go on with what they have. A
//! pair that cannot be read, or whose key does not match the certificate, is refused at
//! start and, on reload, logged while the current pair is kept. With ACME, the ACME thread
//! installs each certificate it obtains the same way ([`Certificates::install`]); until the
//! first is in there is none, and handshakes fail.
//!
//! Crypto provider: aws-lc-rs, rustls's default. It is faster than ring at the work a server
//! does per connection (RSA and ECDSA signatures, AES-GCM), it brings the X25519MLKEM768
//! post-quantum key exchange that rustls prefers when a client offers it, and it builds with
//! the C compiler a Rust toolchain already needs.
//!
//! Settings, all rustls's safe defaults but the ones named: TLS 1.3 and 1.2 only (rustls has
//! nothing older), their AEAD cipher suites with forward secrecy, the server's order of
//! preference first ([`cipher_suites`]); ALPN `http/1.1` only, so a client that offers `h2`
//! and `http/1.1` settles on HTTP/1.1; session resumption by tickets (TLS 1.3 and 1.2; they
//! live 12 hours, their keys change every 6) and, for TLS 1.2 clients that take no ticket, by
//! a cache of [`SESSION_CACHE`] sessions; no 0-RTT data, which could be replayed.
//!
//! Key exchange: rustls's order, the post-quantum hybrid X25519MLKEM768 first, then X25519,
//! P-256, P-384. The server takes the first of these the client sent a key share for (RFC
//! 8446 §4.2.8), so a client that sends shares for both the hybrid and X25519, as browsers do,
//! gets the hybrid. It costs more: measured with a rustls client on this machine's loopback,
//! a full handshake cost the server 303 µs of CPU with the hybrid and 282 µs with X25519
//! (7 % more; a resumed one does the same key exchange, RFC 8446 §4.2.9 `psk_dhe_ke`). It is
//! kept first all the same: what it buys, connections that a recording of today's traffic
//! cannot decrypt once quantum computers can break X25519, is what a user of a server expects
//! now that browsers offer it; and a client that offers only X25519 pays nothing for it.

use rustls::crypto::hash::HashAlgorithm;
use rustls::crypto::{CryptoProvider, aws_lc_rs};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert, ServerSessionMemoryCache};
use rustls::sign::CertifiedKey;
use rustls::{InconsistentKeys, ServerConfig, SupportedCipherSuite};
use std::fmt;
use std::fs;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

pub use super::alpn01::{ACME_TLS_ALPN, TlsAlpn01, write_private};
use crate::metrics;

/// The TLS 1.2 sessions kept for clients that resume by session ID rather than by ticket
/// (RFC 5246 §7.3): rustls's default, 256, is overrun by the 257th client between two visits
/// of one. An entry holds a session's secrets and parameters, a few hundred bytes, so the
/// cache stays under a few MiB when full. TLS 1.3 and ticket-taking TLS 1.2 clients resume by
/// ticket and never use it.
const SESSION_CACHE: usize = 8192;

/// The provider's cipher suites, the ones hashing with SHA-256 first, in the provider's order
/// otherwise: TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, then
/// TLS_AES_256_GCM_SHA384 in TLS 1.3 (RFC 8446 §B.4), and alike in TLS 1.2. The server's order
/// decides, not the client's (OpenSSL clients, curl and Python among them, put AES-256 first).
/// Why: the suite's hash runs the whole key schedule, a few dozen HMACs per handshake (RFC 8446
/// §7.1), and SHA-256 has CPU instructions (x86 SHA-NI, ARMv8) that SHA-384 has on few CPUs:
/// on the bench machine's AMD EPYC aws-lc hashes SHA-384 in portable code, 15 % of the
/// server's CPU in a resumed handshake (perf), and preferring SHA-256 took a new connection
/// from 263 to 231 µs of server CPU (full handshake) and from 240 to 199 µs (resumed).
/// AES-128 has 128-bit security, as X25519 and P-256 have. The price: a client without AES
/// instructions that puts ChaCha20 first still gets AES-128-GCM if it offers it, slower for
/// it on large bodies; phones with 64-bit ARM chips nearly all have them (ARMv8's
/// cryptography extension).
fn cipher_suites(provider: &CryptoProvider) -> Vec<SupportedCipherSuite> {
    let mut suites = provider.cipher_suites.clone();
    suites.sort_by_key(|suite| {
        let hash = match suite {
            SupportedCipherSuite::Tls13(s) => s.common.hash_provider.algorithm(),
            SupportedCipherSuite::Tls12(s) => s.common.hash_provider.algorithm(),
        };
        hash != HashAlgorithm::SHA256
    });
    suites
}

/// Where the certificate chain and the private key are read from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// PEM: the server's certificate, then any intermediates.
    pub cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Where the pair comes from.
#[derive(Debug)]
pub enum Source {
    /// Files the operator names (`--tls-cert`, `--tls-key`), read at start and on SIGHUP.
    Files(TlsFiles),
    /// An ACME client that installs each certificate it obtains ([`Certificates::install`]);
    /// the handshakes of an ACME server validating tls-alpn-01 are answered from its
    /// challenges.
    Acme(TlsAlpn01),
}

/// The pair new handshakes are served with.
pub struct Certificates {
    source: Source,
    provider: Arc<CryptoProvider>,
    /// None until the first certificate is in (with ACME, while it is being ordered): a
    /// handshake then fails with a `handshake_failure` alert (RFC 8446 §6.2), as it does
    /// when a server has no certificate for the client.
    current: RwLock<Option<Arc<CertifiedKey>>>,
}

impl Certificates {
    /// Reads the pair from `files`. The error names the file and what is wrong with it.
    pub fn load(files: TlsFiles) -> Result<Arc<Certificates>, String> {
        let provider = provider();
        let current = read_pair(&files, &provider)?;
        record_expiry(&current);
        Ok(Arc::new(Certificates {
            source: Source::Files(files),
            provider,
            current: RwLock::new(Some(Arc::new(current))),
        }))
    }

    /// No pair yet: one is installed by the ACME client, which answers its CA's tls-alpn-01
    /// validations through `challenges`.
    pub fn acme(challenges: TlsAlpn01) -> Arc<Certificates> {
        Arc::new(Certificates {
            source: Source::Acme(challenges),
            provider: provider(),
            current: RwLock::new(None),
        })
    }

    /// Reads the files again; on success new handshakes use the new pair. On failure the
    /// current pair stays and the error says why. A pair from ACME has no files to read.
    pub fn reload(&self) -> Result<(), String> {
        let Source::Files(files) = &self.source else {
            return Ok(());
        };
        let pair = read_pair(files, &self.provider)?;
        record_expiry(&pair);
        self.swap(pair);
        Ok(())
    }

    /// Serves `chain` (PEM, the certificate first) with `key` (PEM) to new handshakes, as
    /// [`Certificates::reload`] does; open connections keep theirs. The error says what is
    /// wrong with them, and the current pair stays.
    pub fn install(&self, chain: &[u8], key: &[u8]) -> Result<(), String> {
        let chain = CertificateDer::pem_slice_iter(chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the certificate's PEM text is damaged: {e}"))?;
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| format!("the key's PEM text is damaged: {e}"))?;
        let pair = CertifiedKey::from_der(chain, key, &self.provider)
            .map_err(|e| format!("the certificate and its key cannot be used: {e}"))?;
        record_expiry(&pair);
        self.swap(pair);
        Ok(())
    }

    fn swap(&self, pair: CertifiedKey) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(pair));
    }

    /// Where the pair comes from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The rustls configuration that serves HTTPS with this pair (see the module's notes).
    /// With `http2`, ALPN offers `h2` first (RFC 9113 §3.2; RFC 7301 §3.2: the server picks
    /// from the client's list in its own order), then `http/1.1` and `http/1.0` (a client
    /// that offers only `http/1.0`, as `curl --http1.0` does, would otherwise get a fatal
    /// `no_application_protocol` alert, though the server speaks it). With ACME it also takes
    /// `acme-tls/1`, which only a CA validating tls-alpn-01 offers (RFC 8737 §3).
    pub fn server_config(self: &Arc<Self>, http2: bool) -> Result<Arc<ServerConfig>, String> {
        let resolver: Arc<dyn ResolvesServerCert> = Arc::clone(self) as _;
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("TLS settings: {e}"))?
            .with_no_client_auth()
            .with_cert_resolver(resolver);
        config.alpn_protocols = if http2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec(), b"http/1.0".to_vec()]
        } else {
            vec![b"http/1.1".to_vec(), b"http/1.0".to_vec()]
        };
        if let Source::Acme(_) = self.source {
            config.alpn_protocols.push(ACME_TLS_ALPN.to_vec());
        }
        config.ignore_client_order = true;
        config.session_storage = ServerSessionMemoryCache::new(SESSION_CACHE);
        config.ticketer =
            aws_lc_rs::Ticketer::new().map_err(|e| format!("TLS session tickets: {e}"))?;
        Ok(Arc::new(config))
    }
}

/// aws-lc-rs with the cipher suites in the server's order (see the module's notes).
fn provider() -> Arc<CryptoProvider> {
    let mut provider = aws_lc_rs::default_provider();
    provider.cipher_suites = cipher_suites(&provider);
    Arc::new(provider)
}

/// Shows the expiry of the pair now served in the metrics.
fn record_expiry(pair: &CertifiedKey) {
    if let Some(not_after) = pair.cert.first().and_then(|cert| validity(cert)) {
        metrics::set_certificate_expiry(not_after.1);
    }
}

/// The validity period of a DER certificate (RFC 5280 §4.1.2.5), as seconds since the Unix
/// epoch: notBefore and notAfter. None when it cannot be read.
pub fn validity(cert: &[u8]) -> Option<(i64, i64)> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert).ok()?;
    let validity = parsed.validity();
    Some((
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    ))
}

impl ResolvesServerCert for Certificates {
    /// One pair for every server name: a client's SNI is accepted whatever it names. A
    /// client that offers only `acme-tls/1` is a CA validating tls-alpn-01, and gets the
    /// challenge's certificate for the name it asks for (RFC 8737 §3).
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        if let Source::Acme(challenges) = &self.source {
            let validating = hello
                .alpn()
                .is_some_and(|mut offered| offered.all(|p| p == ACME_TLS_ALPN));
            if validating {
                return challenges.certificate(hello.server_name()?, &self.provider);
            }
        }
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// Reads and checks the pair: a chain of at least one certificate, a key the provider can
/// sign with, and the key matching the first certificate's public key. The error names the
/// file, says what it holds and what was expected instead, in words rather than the parser's.
fn read_pair(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let cert_file = files.cert.display();
    let key_file = files.key.display();
    let cert_pem = fs::read(&files.cert)
        .map_err(|e| format!("cannot read the certificate file {cert_file}: {e}"))?;
    let key_pem =
        fs::read(&files.key).map_err(|e| format!("cannot read the key file {key_file}: {e}"))?;
    let (cert_held, key_held) = (Held::of(&cert_pem), Held::of(&key_pem));
    let swapped = cert_held.has_key()
        && !cert_held.has_certificate()
        && key_held.has_certificate()
        && !key_held.has_key();
    if swapped {
        return Err(format!(
            "{cert_file} holds a private key and {key_file} a certificate: swapped? \
             --tls-cert takes the certificate, --tls-key the private key"
        ));
    }
    if let Some(problem) = cert_held.certificate_problem(&cert_file.to_string()) {
        return Err(format!("certificate file {cert_file}: {problem}"));
    }
    if let Some(problem) = key_held.key_problem(&key_file.to_string()) {
        return Err(format!("key file {key_file}: {problem}"));
    }

    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate file {cert_file}: its PEM text is damaged: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|e| format!("key file {key_file}: its PEM text is damaged: {e}"))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => format!(
            "key file {key_file}: the key does not belong to the certificate in {cert_file} \
             (their public keys differ); give the key the certificate was made for"
        ),
        rustls::Error::InvalidCertificate(e) => {
            format!("certificate file {cert_file}: the first certificate cannot be read ({e})")
        }
        e => format!(
            "key file {key_file}: the key cannot be used ({e}); expected an RSA, ECDSA or \
             Ed25519 key"
        ),
    })
}

/// What a file given as the certificate or the key holds, told by its PEM labels
/// (RFC 7468 §2: `-----BEGIN LABEL-----` lines).
enum Held {
    /// Nothing, or only white space.
    Empty,
    /// Bytes that are not text (not UTF-8, or control characters): DER, most likely.
    Binary,
    /// Text, and these labels in order (none when no line begins a PEM block); `encrypted`
    /// when a block carries OpenSSL's `Proc-Type: 4,ENCRYPTED` header (RFC 1421 §4.6.1.1).
    Pem {
        labels: Vec<String>,
        encrypted: bool,
    },
}

/// The labels of the private keys rustls reads: PKCS#8 (RFC 5958 §5), PKCS#1 and SEC1.
const KEY_LABELS: [&str; 3] = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

impl Held {
    fn of(bytes: &[u8]) -> Held {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Held::Binary;
        };
        if text.trim().is_empty() {
            return Held::Empty;
        }
        if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Held::Binary;
        }
        let labels = text
            .lines()
            .filter_map(|line| {
                line.trim()
                    .strip_prefix("-----BEGIN ")?
                    .strip_suffix("-----")
            })
            .map(str::to_string)
            .collect();
        let encrypted = text
            .lines()
            .any(|line| line.trim() == "Proc-Type: 4,ENCRYPTED");
        Held::Pem { labels, encrypted }
    }

    fn labels(&self) -> &[String] {
        match self {
            Held::Pem { labels, .. } => labels,
            Held::Empty | Held::Binary => &[],
        }
    }

    fn has(&self, label: &str) -> bool {
        self.labels().iter().any(|l| l == label)
    }

    fn has_certificate(&self) -> bool {
        self.has("CERTIFICATE")
    }

    /// Whether it holds a private key of any kind (one rustls reads or not).
    fn has_key(&self) -> bool {
        self.labels().iter().any(|l| l.ends_with("PRIVATE KEY"))
    }

    /// What keeps it from being a certificate file, if anything; `file` is its name, for
    /// commands.
    fn certificate_problem(&self, file: &str) -> Option<String> {
        const EXPECTED: &str = "expected a PEM certificate (-----BEGIN CERTIFICATE-----)";
        match self {
            Held::Empty => Some(format!("the file is empty; {EXPECTED}")),
            Held::Binary => Some(format!(
                "the file is binary (DER?), not PEM text; {EXPECTED}: convert a DER \
                 certificate with `openssl x509 -inform DER -in {file} -out cert.pem`"
            )),
            Held::Pem { labels, .. } if labels.is_empty() => Some(format!(
                "no PEM block in it (no -----BEGIN line); {EXPECTED}"
            )),
            Held::Pem { labels, .. } if !self.has_certificate() => Some(format!(
                "it holds {}, not a certificate; {EXPECTED}",
                describe(&labels[0])
            )),
            Held::Pem { .. } => None,
        }
    }

    /// What keeps it from being a key file, if anything; `file` is its name, for commands.
    fn key_problem(&self, file: &str) -> Option<String> {
        const EXPECTED: &str = "expected a PEM private key (-----BEGIN PRIVATE KEY-----, or \
                                RSA PRIVATE KEY or EC PRIVATE KEY)";
        let decrypt = format!(
            "nomserve cannot ask for a passphrase: decrypt it with `openssl pkey -in {file} \
             -out key.pem` and keep that file readable by the server's user only"
        );
        let usable = KEY_LABELS.iter().any(|label| self.has(label));
        match self {
            Held::Empty => Some(format!("the file is empty; {EXPECTED}")),
            Held::Binary => Some(format!(
                "the file is binary (DER?), not PEM text; {EXPECTED}: convert a DER key \
                 with `openssl pkey -inform DER -in {file} -out key.pem`"
            )),
            Held::Pem {
                encrypted: true, ..
            } if usable => Some(format!("the key is encrypted; {decrypt}")),
            Held::Pem { .. } if usable => None,
            Held::Pem { labels, .. } if labels.is_empty() => Some(format!(
                "no PEM block in it (no -----BEGIN line); {EXPECTED}"
            )),
            Held::Pem { .. } if self.has("OPENSSH PRIVATE KEY") => Some(format!(
                "this is an OpenSSH key; convert it with `ssh-keygen -p -m PEM -f {file}` \
                 (which rewrites the file in place)"
            )),
            Held::Pem { .. } if self.has("ENCRYPTED PRIVATE KEY") => {
                Some(format!("the key is encrypted (PKCS#8); {decrypt}"))
            }
            Held::Pem { labels, .. } => Some(format!(
                "it holds {}, not a private key; {EXPECTED}",
                describe(&labels[0])
            )),
        }
    }
}

/// What a PEM block with `label` is, in words.
fn describe(label: &str) -> String {
    match label {
        "CERTIFICATE" => "a certificate".to_string(),
        "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
            "a certificate signing request".to_string()
        }
        "PUBLIC KEY" | "RSA PUBLIC KEY" => "a public key".to_string(),
        "OPENSSH PRIVATE KEY" => "an OpenSSH private key".to_string(),
        "ENCRYPTED PRIVATE KEY" => "an encrypted private key".to_string(),
        label if label.ends_with("PRIVATE KEY") => "a private key".to_string(),
        label => format!("a PEM block labelled {label}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::crypto::aws_lc_rs::cipher_suite;
    use rustls::{ClientConfig, ClientConnection, Connection, RootCertStore, ServerConnection};

    /// The server's configuration from a fresh self-signed pair, and the certificate to trust.
    fn server() -> (Arc<ServerConfig>, CertificateDer<'static>) {
        let dir = tempfile::tempdir().unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let files = TlsFiles {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        };
        fs::write(&files.cert, made.cert.pem()).unwrap();
        fs::write(&files.key, made.signing_key.serialize_pem()).unwrap();
        let config = Certificates::load(files)
            .unwrap()
            .server_config(true)
            .unwrap();
        (config, made.cert.der().clone())
    }

    /// A handshake in memory between a rustls client offering `suites`, in that order, and
    /// the server; the suite the server chose.
    fn negotiate(suites: &[SupportedCipherSuite]) -> rustls::CipherSuite {
        let (config, cert) = server();
        let mut roots = RootCertStore::empty();
        roots.add(cert).unwrap();
        let mut provider = aws_lc_rs::default_provider();
        provider.cipher_suites = suites.to_vec();
        let client = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = "localhost".try_into().unwrap();
        let mut client = Connection::from(ClientConnection::new(Arc::new(client), name).unwrap());
        let mut server = Connection::from(ServerConnection::new(config).unwrap());
        while client.is_handshaking() || server.is_handshaking() {
            let mut bytes = Vec::new();
            client.write_tls(&mut bytes).unwrap();
            server.read_tls(&mut &bytes[..]).unwrap();
            server.process_new_packets().unwrap();
            bytes.clear();
            server.write_tls(&mut bytes).unwrap();
            client.read_tls(&mut &bytes[..]).unwrap();
            client.process_new_packets().unwrap();
        }
        server.negotiated_cipher_suite().unwrap().suite()
    }

    /// A handshake in memory between a client offering `alpn` for `name` and `config`'s
    /// server: the certificate the client was shown, or the error that ended it.
    fn shown(
        config: Arc<ServerConfig>,
        name: &str,
        alpn: &[&[u8]],
    ) -> Result<CertificateDer<'static>, rustls::Error> {
        #[derive(Debug)]
        struct AnyCertificate;
        impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
            fn verify_server_cert(
                &self,
                _: &CertificateDer<'_>,
                _: &[CertificateDer<'_>],
                _: &rustls::pki_types::ServerName<'_>,
                _: &[u8],
                _: rustls::pki_types::UnixTime,
            ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            }
            fn verify_tls12_signature(
                &self,
                _: &[u8],
                _: &CertificateDer<'_>,
                _: &rustls::DigitallySignedStruct,
            ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error>
            {
                Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
            }
            fn verify_tls13_signature(
                &self,
                _: &[u8],
                _: &CertificateDer<'_>,
                _: &rustls::DigitallySignedStruct,
            ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error>
            {
                Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
            }
            fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
                aws_lc_rs::default_provider()
                    .signature_verification_algorithms
                    .supported_schemes()
            }
        }
        let mut client =
            ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate))
                .with_no_client_auth();
        client.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let name = name.to_string().try_into().unwrap();
        let mut client = Connection::from(ClientConnection::new(Arc::new(client), name).unwrap());
        let mut server = Connection::from(ServerConnection::new(config).unwrap());
        while client.is_handshaking() || server.is_handshaking() {
            let mut bytes = Vec::new();
            client.write_tls(&mut bytes).unwrap();
            server.read_tls(&mut &bytes[..]).unwrap();
            server.process_new_packets()?;
            bytes.clear();
            server.write_tls(&mut bytes).unwrap();
            client.read_tls(&mut &bytes[..]).unwrap();
            client.process_new_packets()?;
        }
        Ok(client.peer_certificates().unwrap()[0].clone())
    }

    #[test]
    fn with_acme_handshakes_wait_for_a_certificate_and_validations_get_the_challenge() {
        let dir = tempfile::tempdir().unwrap();
        let challenges = TlsAlpn01::new(dir.path().to_path_buf());
        let certificates = Certificates::acme(challenges.clone());
        let config = certificates.server_config(true).unwrap();
        let http = [&b"h2"[..], b"http/1.1"];
        // No certificate yet: the handshake ends with an alert.
        assert!(shown(Arc::clone(&config), "a.test", &http).is_err());
        // A validation with no challenge stored gets nothing either.
        assert!(shown(Arc::clone(&config), "a.test", &[ACME_TLS_ALPN]).is_err());
        challenges.write("a.test", "token.thumbprint").unwrap();
        let challenge = shown(Arc::clone(&config), "a.test", &[ACME_TLS_ALPN]).unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["a.test".to_string()]).unwrap();
        certificates
            .install(
                made.cert.pem().as_bytes(),
                made.signing_key.serialize_pem().as_bytes(),
            )
            .unwrap();
        let served = shown(Arc::clone(&config), "a.test", &http).unwrap();
        assert_eq!(&served, made.cert.der());
        assert_ne!(served, challenge);
        // The validation still gets the challenge's certificate, not the site's.
        let again = shown(config, "a.test", &[ACME_TLS_ALPN]).unwrap();
        assert_ne!(again, served);
        assert!(certificates.install(b"junk", b"junk").is_err());
    }

    #[test]
    fn the_suites_hashing_with_sha256_come_first_and_none_is_lost() {
        let provider = aws_lc_rs::default_provider();
        let ordered = cipher_suites(&provider);
        let tls13: Vec<_> = ordered
            .iter()
            .filter(|s| s.tls13().is_some())
            .map(|s| s.suite())
            .collect();
        assert_eq!(
            tls13,
            [
                rustls::CipherSuite::TLS13_AES_128_GCM_SHA256,
                rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256,
                rustls::CipherSuite::TLS13_AES_256_GCM_SHA384,
            ]
        );
        assert_eq!(ordered.len(), provider.cipher_suites.len());
        assert!(provider.cipher_suites.iter().all(|s| ordered.contains(s)));
    }

    #[test]
    fn the_server_chooses_the_suite_by_its_own_order() {
        // OpenSSL's client order: AES-256 first.
        let openssl_order = [
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
            cipher_suite::TLS13_AES_128_GCM_SHA256,
        ];
        assert_eq!(
            negotiate(&openssl_order),
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
        );
        // A client without the server's first choice gets its next.
        assert_eq!(
            negotiate(&openssl_order[..2]),
            rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
        );
        assert_eq!(
            negotiate(&openssl_order[..1]),
            rustls::CipherSuite::TLS13_AES_256_GCM_SHA384
        );
    }

    #[test]
    fn tls12_sessions_have_a_cache_beyond_rustls_default() {
        let (config, _) = server();
        for id in 0..SESSION_CACHE as u32 {
            assert!(
                config
                    .session_storage
                    .put(id.to_be_bytes().to_vec(), vec![1])
            );
        }
        // The first is still there once the cache holds SESSION_CACHE sessions.
        assert_eq!(
            config.session_storage.get(&0u32.to_be_bytes()),
            Some(vec![1])
        );
        assert!(config.ticketer.enabled());
    }

    #[test]
    fn a_file_is_told_by_its_labels_and_headers() {
        assert!(matches!(Held::of(b" \n\t"), Held::Empty));
        assert!(matches!(Held::of(&[0x30, 0x82, 0x01, 0x0a]), Held::Binary));
        assert!(matches!(
            Held::of(&[0x30, 0x03, 0x02, 0x01, 0x00]),
            Held::Binary
        ));
        let traditional = Held::of(
            b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\
              \nAAAA\n-----END RSA PRIVATE KEY-----\n",
        );
        assert_eq!(
            traditional.key_problem("k.pem").as_deref(),
            Some(
                "the key is encrypted; nomserve cannot ask for a passphrase: decrypt it with \
                 `openssl pkey -in k.pem -out key.pem` and keep that file readable by the \
                 server's user only"
            )
        );
        let chain_and_key = Held::of(
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n\
              -----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
        );
        assert_eq!(chain_and_key.certificate_problem("both.pem"), None);
        assert_eq!(chain_and_key.key_problem("both.pem"), None);
        let public = Held::of(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        assert_eq!(
            public.key_problem("pub.pem").as_deref(),
            Some(
                "it holds a public key, not a private key; expected a PEM private key \
                 (-----BEGIN PRIVATE KEY-----, or RSA PRIVATE KEY or EC PRIVATE KEY)"
            )
        );
    }
}
