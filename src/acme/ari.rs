//! ACME Renewal Information (ARI, RFC 9773): the window in which the CA would have a
//! certificate renewed, for a CA that offers it (its directory names `renewalInfo`). A CA
//! that is about to revoke certificates moves the window earlier, and a certificate is then
//! renewed in it rather than at two thirds of its lifetime.

use instant_acme::{Account, AccountCredentials, CertificateIdentifier, Error, HttpClient};
use rustls::pki_types::Der;
use std::path::Path;
use std::time::Duration;

/// The longest wait between two questions, whatever the CA's Retry-After (RFC 9773 §4.3.2
/// lets a client clamp it): a day.
const LONGEST_POLL: Duration = Duration::from_secs(24 * 60 * 60);

/// The shortest: a minute, so that a CA that says 0 is not asked in a loop.
const SHORTEST_POLL: Duration = Duration::from_secs(60);

/// What the CA said: its window (Unix seconds, start and end) and when to ask again.
#[derive(Debug, PartialEq, Eq)]
pub struct Window {
    /// The window's start and end.
    pub window: (i64, i64),
    /// When to ask again.
    pub ask_again: Duration,
}

/// Asks the CA of the account stored in `account` for `cert`'s (DER) renewal window.
/// `Ok(None)` when there is no account yet, or the CA does not offer ARI.
pub async fn window(
    account: &Path,
    cert: &[u8],
    http: Box<dyn HttpClient>,
) -> Result<Option<Window>, String> {
    let Ok(text) = std::fs::read(account) else {
        return Ok(None);
    };
    let credentials: AccountCredentials =
        serde_json::from_slice(&text).map_err(|e| format!("the account file: {e}"))?;
    let id = identifier(cert)?;
    let account = Account::builder_with_http(http)
        .from_credentials(credentials)
        .await
        .map_err(|e| e.to_string())?;
    match account.renewal_info(&id).await {
        Ok((info, ask_again)) => Ok(Some(Window {
            window: (
                info.suggested_window.start.unix_timestamp(),
                info.suggested_window.end.unix_timestamp(),
            ),
            ask_again: ask_again.clamp(SHORTEST_POLL, LONGEST_POLL),
        })),
        Err(Error::Unsupported(_)) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// The certificate's ARI identifier (RFC 9773 §4.1): its authority key identifier and its
/// serial number.
pub(super) fn identifier(cert: &[u8]) -> Result<CertificateIdentifier<'static>, String> {
    let (_, parsed) =
        x509_parser::parse_x509_certificate(cert).map_err(|e| format!("the certificate: {e}"))?;
    let aki = parsed
        .iter_extensions()
        .find_map(|extension| match extension.parsed_extension() {
            x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|id| id.0)
            }
            _ => None,
        })
        .ok_or("the certificate has no authority key identifier")?;
    let serial = parsed.tbs_certificate.raw_serial();
    Ok(CertificateIdentifier::new(Der::from_slice(aki), Der::from_slice(serial)).into_owned())
}

/// When to renew within `window` (Unix seconds): a point drawn at random in it (`draw`,
/// 0.0 to 1.0), as RFC 9773 §4.2 has a client choose, so that the certificates of one
/// window are not all renewed at its start.
pub fn renewal_time(window: (i64, i64), draw: f64) -> i64 {
    let (start, end) = window;
    let width = (end - start).max(0);
    // `as` truncates toward zero: a whole number of seconds into the window.
    start + (width as f64 * draw.clamp(0.0, 1.0)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acme::fake_ca::{FakeCa, account_file, block_on, issued_cert};

    #[test]
    fn renewal_is_drawn_within_the_window() {
        assert_eq!(renewal_time((100, 200), 0.0), 100);
        assert_eq!(renewal_time((100, 200), 0.5), 150);
        assert_eq!(renewal_time((100, 200), 1.0), 200);
        assert_eq!(renewal_time((100, 50), 0.7), 100);
    }

    /// An account file for the fake CA, and a certificate with an authority key
    /// identifier.
    fn setup(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
        let account = dir.join("account.json");
        account_file(&account);
        (account, issued_cert())
    }

    fn ask(account: &Path, cert: &[u8], ari: bool) -> Result<Option<Window>, String> {
        block_on(window(
            account,
            cert,
            Box::new(FakeCa {
                ari,
                ..FakeCa::default()
            }),
        ))
    }

    #[test]
    fn a_ca_that_offers_ari_gives_its_window_and_when_to_ask_again() {
        let dir = tempfile::tempdir().unwrap();
        let (account, cert) = setup(dir.path());
        let window = ask(&account, &cert, true).unwrap().unwrap();
        assert_eq!(window.window, (1_767_225_600, 1_767_312_000));
        assert_eq!(window.ask_again.as_secs().div_ceil(60), 360);
        assert_eq!(ask(&account, &cert, false).unwrap(), None);
        assert_eq!(
            ask(&dir.path().join("none.json"), &cert, true).unwrap(),
            None
        );
        assert!(ask(&account, b"not a certificate", true).is_err());
    }
}
