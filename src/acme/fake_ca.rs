//! A CA in memory for the ACME unit tests: an [`HttpClient`] that answers the requests
//! instant-acme makes with canned responses, and an account file for it.

use bytes::Bytes;
use instant_acme::{BodyWrapper, BytesResponse, Error, HttpClient};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;

/// The CA's directory URL.
pub const DIRECTORY: &str = "https://ca.test/dir";

/// What the fake CA does.
pub struct FakeCa {
    /// Whether its directory offers renewal information (`renewalInfo`).
    pub ari: bool,
}

impl HttpClient for FakeCa {
    /// The directory; a nonce; every order refused `429 rateLimited` with `Retry-After:
    /// 120`; every renewal information with one window and `Retry-After: 21600`.
    fn request(
        &self,
        request: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, Error>> + Send>> {
        let path = request.uri().path().to_string();
        let ari = if self.ari {
            r#","renewalInfo":"https://ca.test/ari""#
        } else {
            ""
        };
        let (status, body, retry) = match path.as_str() {
            "/dir" => (
                200,
                format!(
                    r#"{{"newNonce":"https://ca.test/nonce","newAccount":"https://ca.test/acct",
                    "newOrder":"https://ca.test/order"{ari}}}"#
                ),
                None,
            ),
            "/nonce" => (200, String::new(), None),
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
        Box::pin(async move { Ok(BytesResponse::from(response)) })
    }
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

/// Runs `future` on a current-thread runtime, as the ACME thread does.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}
