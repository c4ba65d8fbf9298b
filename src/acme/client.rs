//! The HTTPS client the ACME protocol runs over: hyper with rustls, trusting the roots of
//! `--acme-ca-root` (a whole PEM bundle) or the system's, and noting the `Retry-After` the
//! CA sends with a refusal, which instant-acme's problem documents do not carry.

use bytes::Bytes;
use http::{Request, header::RETRY_AFTER};
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use instant_acme::{BodyWrapper, BytesResponse, Error, HttpClient};
use nomserve_grammar::parse_http_date;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

/// When the CA last asked to be left alone until: the `Retry-After` of its last `429` or
/// `503` answer (RFC 8555 §6.6, RFC 9110 §10.2.3).
#[derive(Debug, Clone, Default)]
pub struct RetryAfter(Arc<Mutex<Option<SystemTime>>>);

impl RetryAfter {
    /// Takes the time noted, if any.
    pub fn take(&self) -> Option<SystemTime> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }

    fn note(&self, at: SystemTime) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(at);
    }
}

/// The client: a transport (hyper, for the CA), and the Retry-After noted from it.
pub struct Client {
    inner: Box<dyn HttpClient>,
    retry_after: RetryAfter,
}

impl Client {
    /// A client trusting the certificates of the PEM bundle `roots`, or the system's
    /// roots; it notes Retry-After in `retry_after`. The error says what is wrong with the
    /// bundle.
    pub fn new(roots: Option<&Path>, retry_after: RetryAfter) -> Result<Client, String> {
        let builder = HttpsConnectorBuilder::new();
        let builder = match roots {
            Some(file) => {
                let config = rustls::ClientConfig::builder()
                    .with_root_certificates(read_roots(file)?)
                    .with_no_client_auth();
                builder.with_tls_config(config)
            }
            None => builder
                .with_native_roots()
                .map_err(|e| format!("cannot read the system's trusted roots: {e}"))?,
        };
        let connector = builder.https_only().enable_http1().build();
        let hyper: HyperClient<_, BodyWrapper<Bytes>> =
            HyperClient::builder(TokioExecutor::new()).build(connector);
        Ok(Client::over(Box::new(hyper), retry_after))
    }

    /// A client over the transport `inner`, noting Retry-After in `retry_after`.
    pub fn over(inner: Box<dyn HttpClient>, retry_after: RetryAfter) -> Client {
        Client { inner, retry_after }
    }

    /// GETs `url` and returns its body (the directory, read for its terms of service).
    pub async fn get(&self, url: &str) -> Result<Bytes, String> {
        let request = Request::get(url)
            .body(BodyWrapper::default())
            .map_err(|e| e.to_string())?;
        let mut response = self.request(request).await.map_err(|e| chain(&e))?;
        let status = response.parts.status;
        let body = response.body.into_bytes().await.map_err(|e| chain(&*e))?;
        if !status.is_success() {
            return Err(format!("{url} answered {status}"));
        }
        Ok(body)
    }
}

impl HttpClient for Client {
    fn request(
        &self,
        request: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, Error>> + Send>> {
        let sent = self.inner.request(request);
        let retry_after = self.retry_after.clone();
        Box::pin(async move {
            let response = sent.await?;
            if matches!(response.parts.status.as_u16(), 429 | 503) {
                let value = response.parts.headers.get(RETRY_AFTER);
                if let Some(at) = value.and_then(|v| parse_retry_after(v.as_bytes())) {
                    retry_after.note(at);
                }
            }
            Ok(response)
        })
    }
}

/// An error and its sources, joined by `: ` (the cause of a refused connection is deep).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(&format!(": {e}"));
        source = e.source();
    }
    text
}

/// Every certificate of the PEM bundle `file`.
fn read_roots(file: &Path) -> Result<RootCertStore, String> {
    let shown = file.display();
    let pem = std::fs::read(file).map_err(|e| format!("--acme-ca-root {shown}: {e}"))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("--acme-ca-root {shown}: damaged PEM: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("--acme-ca-root {shown}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!(
            "--acme-ca-root {shown}: no certificate in it (expected PEM, -----BEGIN \
             CERTIFICATE-----)"
        ));
    }
    Ok(roots)
}

/// `Retry-After = HTTP-date / delay-seconds` (RFC 9110 §10.2.3), as the time it names.
fn parse_retry_after(value: &[u8]) -> Option<SystemTime> {
    if !value.is_empty() && value.iter().all(u8::is_ascii_digit) {
        let seconds: u64 = std::str::from_utf8(value).ok()?.parse().ok()?;
        return SystemTime::now().checked_add(Duration::from_secs(seconds));
    }
    parse_http_date(value)
}

/// Checks the `--acme-ca-root` bundle at start.
pub fn check_roots(file: &Path) -> Result<(), String> {
    read_roots(file).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        let soon = parse_retry_after(b"120").unwrap();
        let wait = soon.duration_since(SystemTime::now()).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120));
        let date = parse_retry_after(b"Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        let since = date.duration_since(SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(since.as_secs(), 784_111_777);
        for bad in [&b""[..], b"-1", b"soon", b"12 "] {
            assert_eq!(parse_retry_after(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_root_bundle_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("roots.pem");
        std::fs::write(&file, "no PEM here\n").unwrap();
        assert!(check_roots(&file).unwrap_err().contains("no certificate"));
        let made = rcgen::generate_simple_self_signed(vec!["ca.test".to_string()]).unwrap();
        let bundle = format!("{}{}", made.cert.pem(), made.cert.pem());
        std::fs::write(&file, bundle).unwrap();
        check_roots(&file).unwrap();
        assert!(check_roots(&dir.path().join("absent.pem")).is_err());
    }
}
