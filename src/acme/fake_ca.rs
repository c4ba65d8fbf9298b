//! A CA in memory for the ACME unit tests: an [`HttpClient`] that answers the requests
//! instant-acme makes with canned responses, and an account file for it.

use bytes::Bytes;
use instant_acme::{BodyWrapper, BytesResponse, Error, HttpClient};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

/// The CA's directory URL.
pub const DIRECTORY: &str = "https://ca.test/dir";

/// What the fake CA does.
#[derive(Default)]
pub struct FakeCa {
    /// Whether its directory offers renewal information (`renewalInfo`).
    pub ari: bool,
    /// Whether it refuses an order that names a certificate it `replaces` as
    /// `alreadyReplaced` (RFC 9773 §5).
    pub already_replaced: bool,
    /// The payload of each order placed, as JSON.
    pub orders: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl HttpClient for FakeCa {
    /// The directory; a nonce; every order refused `429 rateLimited` with `Retry-After:
    /// 120` (or `409 alreadyReplaced`, as asked), its payload kept; every renewal
    /// information with one window and `Retry-After: 21600`.
    fn request(
        &self,
        request: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, Error>> + Send>> {
        let (ari, already_replaced) = (self.ari, self.already_replaced);
        let orders = Arc::clone(&self.orders);
        Box::pin(async move {
            let path = request.uri().path().to_string();
            let payload = payload(request.into_body()).await;
            let replaces = payload
                .as_ref()
                .is_some_and(|p| p.get("replaces").is_some());
            if path == "/order" {
                orders.lock().unwrap().extend(payload);
            }
            Ok(answer(&path, ari, already_replaced && replaces))
        })
    }
}

/// The JWS payload of a request's body (RFC 8555 §6.2), if it has one.
async fn payload(body: BodyWrapper<Bytes>) -> Option<serde_json::Value> {
    use base64::Engine;
    use http_body_util::BodyExt;
    let bytes = body.collect().await.ok()?.to_bytes();
    let jws: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let encoded = jws.get("payload")?.as_str()?;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()?;
    serde_json::from_slice(&decoded).ok()
}

/// The fake CA's answer to a request for `path`.
fn answer(path: &str, ari: bool, already_replaced: bool) -> BytesResponse {
    let ari = if ari {
        r#","renewalInfo":"https://ca.test/ari""#
    } else {
        ""
    };
    let (status, body, retry) = match path {
        "/dir" => (
            200,
            format!(
                r#"{{"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/acct",
                "newOrder":"https://ca.test/order"{ari}}}"#
            ),
            None,
        ),
        "/nonce" => (200, String::new(), None),
        "/order" if already_replaced => (
            409,
            r#"{"type":"urn:ietf:params:acme:error:alreadyReplaced",
            "detail":"the certificate was replaced already","status":409}"#
                .to_string(),
            None,
        ),
        "/order" => (
            429,
            r#"{"type":"urn:ietf:params:acme:error:rateLimited",
            "detail":"too many new orders recently","status":429}"#
                .to_string(),
            Some("120"),
        ),
        _ => {
            assert!(path.starts_with("/ari/"), "{path}");
            let window = r#"{"suggestedWindow":{"start":"2026-01-01T00:00:00Z",
                "end":"2026-01-02T00:00:00Z"}}"#;
            (200, window.to_string(), Some("21600"))
        }
    };
    let mut response = http::Response::builder()
        .status(status)
        .header("Replay-Nonce", "bm9uY2U");
    if let Some(retry) = retry {
        response = response.header("Retry-After", retry);
    }
    let response = response
        .body(http_body_util::Full::new(Bytes::from(body)))
        .unwrap();
    BytesResponse::from(response)
}

/// Writes an account at the fake CA to `file`, as instant-acme stores one.
pub fn account_file(file: &Path) {
    use base64::Engine;
    let key = rcgen::KeyPair::generate().unwrap();
    let pkcs8 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.serialize_der());
    let json = format!(
        r#"{{"id":"https://ca.test/acct/1","key_pkcs8":"{pkcs8}","directory":"{DIRECTORY}"}}"#
    );
    std::fs::write(file, json).unwrap();
}

/// A certificate for `a.test` with an authority key identifier, as a CA issues one (DER).
pub fn issued_cert() -> Vec<u8> {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_identifier_method = rcgen::KeyIdMethod::Sha256;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let mut params = rcgen::CertificateParams::new(vec!["a.test".to_string()]).unwrap();
    params.use_authority_key_identifier_extension = true;
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    params.signed_by(&leaf_key, &issuer).unwrap().der().to_vec()
}

/// Runs `future` on a current-thread runtime, as the ACME thread does.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}
