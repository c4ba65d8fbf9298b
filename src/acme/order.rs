//! One certificate order, RFC 8555 §7.4 step by step, with instant-acme: the account
//! (restored from the state folder, or created), the order, a challenge answered per name,
//! the finalization with a CSR for a key made here, and the download.
//!
//! Every failure comes back as a [`Failure`] that quotes the CA's problem document (RFC
//! 8555 §6.7: its type and detail, and the subproblems) and, when a challenge failed, the
//! challenge's own error, which names what the CA saw (a refused connection, a wrong
//! answer).

use super::client::{Client, chain};
use super::state::State;
use crate::metrics;
use crate::settings::cli::{Challenge, KeyType};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, CertificateIdentifier, ChallengeType, Error,
    Identifier, NewAccount, NewOrder, OrderStatus, Problem, RetryPolicy,
};
use std::time::Duration;

/// The problem type of a request signed by an account the CA does not know (RFC 8555
/// §7.3.1).
const ACCOUNT_GONE: &str = "urn:ietf:params:acme:error:accountDoesNotExist";

/// The problem type of an order naming a certificate that another order replaced already
/// (RFC 9773 §5, §7.4).
const ALREADY_REPLACED: &str = "urn:ietf:params:acme:error:alreadyReplaced";

/// How long the CA is given to validate the challenges, and again to issue the certificate.
const POLL_TIMEOUT: Duration = Duration::from_secs(90);

/// What an order needs to know.
pub struct Order<'a> {
    /// The domain names, one certificate for all.
    pub names: &'a [String],
    /// The CA's directory URL.
    pub ca: &'a str,
    /// The account's contact address.
    pub email: Option<&'a str>,
    /// Whether the CA's terms were agreed to (`--acme-agree-tos`).
    pub agree_tos: bool,
    /// The challenge forced, if one is.
    pub forced: Option<Challenge>,
    /// Whether http-01 can be answered (a `--redirect-http` port).
    pub http01: bool,
    /// The certificate's key type.
    pub key_type: KeyType,
    /// Where the account and the challenges are kept.
    pub state: &'a State,
    /// The certificate (DER) this order renews, if one is served.
    pub replacing: Option<&'a [u8]>,
}

/// Why an order ended without a certificate.
#[derive(Debug)]
pub struct Failure {
    /// What went wrong, with the CA's problem document.
    pub message: String,
    /// Whether the CA said `rateLimited` (RFC 8555 §6.7).
    pub rate_limited: bool,
}

impl Failure {
    fn new(step: &str, error: Error) -> Failure {
        let rate_limited = matches!(&error, Error::Api(problem)
            if problem.r#type.as_deref() == Some("urn:ietf:params:acme:error:rateLimited"));
        let message = match error {
            Error::Api(problem) => format!("{step}: the CA refused: {}", describe(&problem)),
            Error::Other(e) => format!("{step}: {}", chain(&*e)),
            e => format!("{step}: {e}"),
        };
        Failure {
            message,
            rate_limited,
        }
    }

    fn plain(message: String) -> Failure {
        Failure {
            message,
            rate_limited: false,
        }
    }
}

/// A problem document in words: its type, detail and subproblems.
fn describe(problem: &Problem) -> String {
    let mut text = format!(
        "type {}, detail {:?}",
        problem.r#type.as_deref().unwrap_or("(none)"),
        problem.detail.as_deref().unwrap_or("")
    );
    for sub in &problem.subproblems {
        text.push_str(&format!("; {sub}"));
    }
    text
}

/// A challenge type as RFC 8555 §8 spells it.
fn challenge_name(kind: &ChallengeType) -> &str {
    match kind {
        ChallengeType::Http01 => "http-01",
        ChallengeType::Dns01 => "dns-01",
        ChallengeType::TlsAlpn01 => "tls-alpn-01",
        ChallengeType::DeviceAttest01 => "device-attest-01",
        ChallengeType::Unknown(name) => name,
        _ => "an unknown challenge",
    }
}

/// Orders a certificate: the PEM chain and the PEM key on success.
pub async fn obtain(order: &Order<'_>, client: Client) -> Result<(String, String), Failure> {
    let account = account(order, client).await?;
    let identifiers: Vec<Identifier> = order
        .names
        .iter()
        .map(|name| Identifier::Dns(name.clone()))
        .collect();
    metrics::count_acme_order();
    let replaces = order
        .replacing
        .and_then(|cert| super::ari::identifier(cert).ok());
    let mut placed = match place(&account, &identifiers, replaces).await {
        Ok(placed) => placed,
        Err(Error::Api(problem)) if problem.r#type.as_deref() == Some(ACCOUNT_GONE) => {
            // The CA forgot the account (deactivated, or a test CA restarted): a new one
            // is created at the next attempt.
            let _ = std::fs::remove_file(order.state.account(order.ca));
            return Err(Failure::plain(format!(
                "placing the order: the CA does not know the stored account ({}); it is \
                 forgotten, and a new one is created at the next attempt",
                describe(&problem)
            )));
        }
        Err(e) => return Err(Failure::new("placing the order", e)),
    };
    log::info!("ACME: order placed for {}", order.names.join(", "));
    let mut answered = Vec::new();
    let answering = answer(order, &mut placed, &mut answered).await;
    let polls = RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .backoff(1.5)
        .timeout(POLL_TIMEOUT);
    let validating = format!(
        "validating {}",
        answered
            .iter()
            .map(|(kind, name, _)| format!("{name} by {}", challenge_name(kind)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let status = match answering {
        Ok(()) => placed
            .poll_ready(&polls)
            .await
            .map_err(|e| Failure::new(&validating, e)),
        Err(failure) => Err(failure),
    };
    // Answered or not, the challenges are over.
    for (kind, name, token) in &answered {
        match kind {
            ChallengeType::Http01 => order.state.remove_http01(token),
            _ => order.state.tls_alpn01().remove(name),
        }
    }
    match status? {
        OrderStatus::Ready => {}
        status => {
            let mut errors = Vec::new();
            let mut authorizations = placed.authorizations();
            while let Some(Ok(mut authorization)) = authorizations.next().await {
                if let Ok(state) = authorization.refresh().await {
                    let name = state.identifier().to_string();
                    for challenge in &state.challenges {
                        if let Some(problem) = &challenge.error {
                            let kind = challenge_name(&challenge.r#type);
                            errors.push(format!("{name}: {kind}: {}", describe(problem)));
                        }
                    }
                }
            }
            return Err(Failure::plain(format!(
                "{validating}: the order is {status:?}: {}",
                if errors.is_empty() {
                    "the CA gave no reason".to_string()
                } else {
                    errors.join("; ")
                }
            )));
        }
    }
    let key = match order.key_type {
        KeyType::EcdsaP256 => rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
        KeyType::Rsa2048 => {
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        }
    }
    .map_err(|e| Failure::plain(format!("cannot make the certificate's key: {e}")))?;
    let mut params = rcgen::CertificateParams::new(order.names.to_vec())
        .map_err(|e| Failure::plain(format!("cannot make the CSR: {e}")))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .map_err(|e| Failure::plain(format!("cannot make the CSR: {e}")))?;
    placed
        .finalize_csr(csr.der())
        .await
        .map_err(|e| Failure::new("finalizing", e))?;
    let chain = placed
        .poll_certificate(&polls)
        .await
        .map_err(|e| Failure::new("downloading the certificate", e))?;
    Ok((chain, key.serialize_pem()))
}

/// A challenge answered: its type, the domain and the token.
type Answered = (ChallengeType, String, String);

/// Answers a challenge for each authorization of `placed` not yet valid, noting each in
/// `answered` as soon as its key authorization is stored (so that it is removed whatever
/// happens next), and tells the CA to validate.
async fn answer(
    order: &Order<'_>,
    placed: &mut instant_acme::Order,
    answered: &mut Vec<Answered>,
) -> Result<(), Failure> {
    let mut authorizations = placed.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization =
            authorization.map_err(|e| Failure::new("reading an authorization", e))?;
        if authorization.status == AuthorizationStatus::Valid {
            continue;
        }
        let name = authorization.identifier().to_string();
        let offered: Vec<ChallengeType> = authorization
            .challenges
            .iter()
            .map(|c| c.r#type.clone())
            .collect();
        let Some(kind) = offered.into_iter().find(|kind| order.answers(kind)) else {
            return Err(Failure::plain(format!(
                "the CA offers no challenge nomserve can answer for {name} ({}); \
                 tls-alpn-01 needs HTTPS on port 443, http-01 needs --redirect-http 80",
                order.answerable()
            )));
        };
        let mut challenge = authorization.challenge(kind.clone()).ok_or_else(|| {
            let kind = challenge_name(&kind);
            Failure::plain(format!("no {kind} challenge for {name}"))
        })?;
        let key_authorization = challenge.key_authorization();
        let stored = match kind {
            ChallengeType::Http01 => order
                .state
                .write_http01(&challenge.token, key_authorization.as_str()),
            _ => order
                .state
                .tls_alpn01()
                .write(&name, key_authorization.as_str()),
        };
        stored.map_err(|e| Failure::plain(format!("cannot store the challenge: {e}")))?;
        answered.push((kind.clone(), name.clone(), challenge.token.clone()));
        log::info!("ACME: answering {} for {name}", challenge_name(&kind));
        challenge.set_ready().await.map_err(|e| {
            let step = format!("validating {name} by {}", challenge_name(&kind));
            Failure::new(&step, e)
        })?;
    }
    Ok(())
}

impl Order<'_> {
    /// Whether nomserve answers `kind` here: the forced one only, else tls-alpn-01 and,
    /// with a plain-HTTP port, http-01.
    fn answers(&self, kind: &ChallengeType) -> bool {
        match (self.forced, kind) {
            (Some(Challenge::TlsAlpn01), ChallengeType::TlsAlpn01) => true,
            (Some(Challenge::Http01), ChallengeType::Http01) => self.http01,
            (Some(_), _) => false,
            (None, ChallengeType::TlsAlpn01) => true,
            (None, ChallengeType::Http01) => self.http01,
            (None, _) => false,
        }
    }

    /// The challenges nomserve answers here, in words.
    fn answerable(&self) -> &'static str {
        match (self.forced, self.http01) {
            (Some(Challenge::TlsAlpn01), _) | (None, false) => "nomserve answers tls-alpn-01",
            (Some(Challenge::Http01), _) | (None, true) => {
                "nomserve answers tls-alpn-01 and http-01"
            }
        }
    }
}

/// Places the order for `identifiers`, naming the certificate it `replaces` (RFC 9773 §5),
/// so that the CA can let the renewal past its rate limits and see the old one is done
/// with. A CA that offers no renewal information, or says the certificate was replaced
/// already (by another instance's order, say), gets the order without it.
async fn place(
    account: &Account,
    identifiers: &[Identifier],
    replaces: Option<CertificateIdentifier<'_>>,
) -> Result<instant_acme::Order, Error> {
    if let Some(replaces) = replaces {
        match account
            .new_order(&NewOrder::new(identifiers).replaces(replaces))
            .await
        {
            Err(Error::Unsupported(_)) => {}
            Err(Error::Api(problem)) if problem.r#type.as_deref() == Some(ALREADY_REPLACED) => {
                log::info!(
                    "ACME: the CA says the certificate was replaced already ({}): ordering \
                     without naming it",
                    describe(&problem)
                );
            }
            placed => return placed,
        }
    }
    account.new_order(&NewOrder::new(identifiers)).await
}

/// The account: restored from the state folder, else created (which takes
/// `--acme-agree-tos`) and stored.
async fn account(order: &Order<'_>, client: Client) -> Result<Account, Failure> {
    let file = order.state.account(order.ca);
    if let Ok(text) = std::fs::read(&file) {
        let credentials: AccountCredentials = serde_json::from_slice(&text).map_err(|e| {
            Failure::plain(format!(
                "the account file {} is damaged: {e}",
                file.display()
            ))
        })?;
        return Account::builder_with_http(Box::new(client))
            .from_credentials(credentials)
            .await
            .map_err(|e| Failure::new("restoring the account", e));
    }
    if !order.agree_tos {
        return Err(Failure::plain(
            "creating the account needs --acme-agree-tos (the CA's terms of service)".to_string(),
        ));
    }
    let contact = order.email.map(|email| format!("mailto:{email}"));
    let contacts: Vec<&str> = contact.iter().map(String::as_str).collect();
    let (account, credentials) = Account::builder_with_http(Box::new(client))
        .create(
            &NewAccount {
                contact: &contacts,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            order.ca.to_string(),
            None,
        )
        .await
        .map_err(|e| Failure::new("creating the account", e))?;
    let json = serde_json::to_vec(&credentials)
        .map_err(|e| Failure::plain(format!("cannot store the account: {e}")))?;
    crate::server::certs::write_private(&file, &json).map_err(|e| {
        Failure::plain(format!(
            "cannot store the account in {}: {e}",
            file.display()
        ))
    })?;
    log::info!(
        "ACME: account created at {}, stored in {}",
        order.ca,
        file.display()
    );
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acme::client::RetryAfter;
    use crate::acme::fake_ca::{DIRECTORY, FakeCa, account_file, block_on, issued_cert};
    use std::time::SystemTime;

    /// An order of a certificate for `a.test` from `ca`, with a stored account, renewing
    /// `replacing`: how it failed, and the orders the CA was sent.
    fn refused_order(
        ca: FakeCa,
        replacing: Option<&[u8]>,
        retry_after: RetryAfter,
    ) -> (Failure, Vec<serde_json::Value>) {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("acme")).unwrap();
        account_file(&state.account(DIRECTORY));
        let orders = std::sync::Arc::clone(&ca.orders);
        let client = Client::over(Box::new(ca), retry_after);
        let names = ["a.test".to_string()];
        let order = Order {
            names: &names,
            ca: DIRECTORY,
            email: None,
            agree_tos: false,
            forced: None,
            http01: false,
            key_type: KeyType::EcdsaP256,
            state: &state,
            replacing,
        };
        let failure = block_on(obtain(&order, client)).unwrap_err();
        let sent = orders.lock().unwrap().clone();
        (failure, sent)
    }

    #[test]
    fn a_rate_limited_order_fails_with_the_cas_reason_and_its_retry_after() {
        let retry_after = RetryAfter::default();
        let (failure, _) = refused_order(FakeCa::default(), None, retry_after.clone());
        assert!(failure.rate_limited);
        assert!(
            failure.message.contains(
                "placing the order: the CA refused: type \
                 urn:ietf:params:acme:error:rateLimited, detail \"too many new orders"
            ),
            "{}",
            failure.message
        );
        let wait = retry_after
            .take()
            .unwrap()
            .duration_since(SystemTime::now())
            .unwrap();
        assert!(wait.as_secs() > 100 && wait.as_secs() <= 120, "{wait:?}");
    }

    /// The orders `ca` was sent for a renewal of `replacing`, which it refuses in the end.
    fn orders_placed(ca: FakeCa, replacing: &[u8]) -> Vec<serde_json::Value> {
        let (failure, orders) = refused_order(ca, Some(replacing), RetryAfter::default());
        assert!(failure.rate_limited, "{}", failure.message);
        orders
    }

    #[test]
    fn a_renewal_names_the_certificate_it_replaces_where_the_ca_takes_it() {
        let cert = issued_cert();
        let id = crate::acme::ari::identifier(&cert).unwrap().to_string();
        let with_ari = FakeCa {
            ari: true,
            ..FakeCa::default()
        };
        let orders = orders_placed(with_ari, &cert);
        assert_eq!(orders.len(), 1);
        assert_eq!(orders[0]["replaces"], id.as_str());
        assert_eq!(orders[0]["identifiers"][0]["value"], "a.test");
        // Replaced already: the order again, without naming it.
        let replaced = FakeCa {
            ari: true,
            already_replaced: true,
            ..FakeCa::default()
        };
        let orders = orders_placed(replaced, &cert);
        assert_eq!(orders.len(), 2);
        assert_eq!(orders[0]["replaces"], id.as_str());
        assert!(orders[1].get("replaces").is_none(), "{}", orders[1]);
        // A CA without renewal information is not told.
        let orders = orders_placed(FakeCa::default(), &cert);
        assert_eq!(orders.len(), 1);
        assert!(orders[0].get("replaces").is_none(), "{}", orders[0]);
    }

    #[test]
    fn without_an_account_or_the_terms_no_order_is_made() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("acme")).unwrap();
        let client = Client::over(Box::new(FakeCa::default()), RetryAfter::default());
        let names = ["a.test".to_string()];
        let order = Order {
            names: &names,
            ca: DIRECTORY,
            email: None,
            agree_tos: false,
            forced: None,
            http01: false,
            key_type: KeyType::EcdsaP256,
            state: &state,
            replacing: None,
        };
        let failure = block_on(obtain(&order, client)).unwrap_err();
        assert!(!failure.rate_limited);
        assert!(
            failure.message.contains("--acme-agree-tos"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn challenges_are_chosen_among_those_answerable() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("acme")).unwrap();
        let order = |forced, http01| Order {
            names: &[],
            ca: DIRECTORY,
            email: None,
            agree_tos: false,
            forced,
            http01,
            key_type: KeyType::EcdsaP256,
            state: &state,
            replacing: None,
        };
        let (alpn, http, dns) = (
            ChallengeType::TlsAlpn01,
            ChallengeType::Http01,
            ChallengeType::Dns01,
        );
        assert!(order(None, false).answers(&alpn) && !order(None, false).answers(&http));
        assert!(order(None, true).answers(&http) && !order(None, true).answers(&dns));
        let forced = order(Some(Challenge::Http01), true);
        assert!(forced.answers(&http) && !forced.answers(&alpn));
        let forced = order(Some(Challenge::TlsAlpn01), true);
        assert!(forced.answers(&alpn) && !forced.answers(&http));
    }
}
