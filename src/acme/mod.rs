//! Automatic HTTPS: certificates obtained from an ACME CA (RFC 8555) and renewed on a
//! thread of their own, swapped in with no restart.
//!
//! The ACME client is instant-acme, which is async: it runs on a tokio current-thread
//! runtime that lives on the `acme` thread alone. The workers stay blocking on epoll and
//! never wait for the CA; they only read the certificate the thread installs, as they
//! read the one SIGHUP reloads ([`Certificates::install`]).
//!
//! The thread's life: serve the stored certificate when it is valid and names every
//! domain; when none is, or when two thirds of its lifetime have passed (less a random
//! jitter), or when the CA's renewal information (RFC 9773) puts the renewal earlier, take
//! the state folder's lock and order one; on failure, log the CA's reason and retry after
//! a wait that doubles up to a day (or as long as a `rateLimited` refusal's Retry-After
//! says), serving the old certificate meanwhile. The wait is recorded in the state folder
//! and every instance sharing it keeps it. Every few seconds the thread reads the stored
//! certificate again, and serves it if another instance stored a new one. Until the first certificate is in, HTTPS handshakes fail with an alert (the
//! resolver has none to give) while plain HTTP, the challenges and the metrics answer.

mod ari;
mod client;
#[cfg(test)]
mod fake_ca;
mod order;
mod schedule;
mod state;

use crate::server::certs::Certificates;
use crate::settings::cli::{self, Challenge, KeyType};
use client::{Client, RetryAfter};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use state::{State, Stored};
use std::panic;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How often the stored certificate is read again, to serve one another instance stored:
/// a small file read every few seconds costs nothing, and a renewed certificate or the
/// first one reaches every instance within this.
const RECHECK: Duration = Duration::from_secs(3);

/// The longest an order may take, every request and poll included: a CA that stops
/// answering mid-order must not hold the state folder's lock for ever (it is taken over
/// after [`state::LOCK_STALE`], twice this).
const ORDER_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// How long after a failed question for renewal information (ARI) it is asked again: the
/// default poll interval of RFC 9773 §4.3.2.
const ARI_RETRY: Duration = Duration::from_secs(6 * 60 * 60);

/// How long the CA's directory is waited for, at start to tell its terms of service, and
/// for renewal information.
const TERMS_TIMEOUT: Duration = Duration::from_secs(10);

/// Automatic HTTPS, as the flags configure it.
#[derive(Debug)]
pub struct Acme {
    names: Vec<String>,
    ca: String,
    email: Option<String>,
    agree_tos: bool,
    forced: Option<Challenge>,
    http01: bool,
    key_type: KeyType,
    roots: Option<PathBuf>,
    state: State,
}

/// The ACME settings of `args`, checked without contacting the CA: the state folder (made
/// if missing, refused when others can read it or it cannot be written), the CA's root
/// bundle, and that a forced challenge can be answered. None without `--acme`.
pub fn prepare(args: &cli::Args) -> Result<Option<Acme>, String> {
    let Some(folder) = checked(args)? else {
        return Ok(None);
    };
    let acme = &args.acme;
    let state = State::open(&folder)?;
    Ok(Some(Acme {
        names: acme.domains.clone(),
        ca: acme.ca().to_string(),
        email: acme.acme_email.clone(),
        agree_tos: acme.acme_agree_tos,
        forced: acme.acme_challenge,
        http01: args.redirect_http.is_some(),
        key_type: acme.acme_key_type,
        roots: acme.acme_ca_root.clone(),
        state,
    }))
}

/// `--check-config`: what [`prepare`] checks, changing nothing (a state folder that does
/// not exist yet is not made, see [`State::check`]).
pub fn check(args: &cli::Args) -> Result<(), String> {
    match checked(args)? {
        Some(folder) => State::check(&folder),
        None => Ok(()),
    }
}

/// The checks of the flags, and the state folder to use; None without `--acme`.
fn checked(args: &cli::Args) -> Result<Option<PathBuf>, String> {
    let acme = &args.acme;
    if acme.domains.is_empty() {
        return Ok(None);
    }
    if let Some(roots) = &acme.acme_ca_root {
        client::check_roots(roots)?;
    }
    if acme.acme_challenge == Some(Challenge::Http01) && args.redirect_http.is_none() {
        return Err(
            "--acme-challenge http-01 is answered on the --redirect-http port, which \
                    is not set: add --redirect-http 80"
                .to_string(),
        );
    }
    match &acme.acme_state {
        Some(folder) => Ok(Some(folder.clone())),
        None => default_state().map(Some),
    }
}

/// The default state folder: `acme` in systemd's `STATE_DIRECTORY` (`StateDirectory=
/// nomserve` makes it /var/lib/nomserve/acme), else `nomserve-acme` in the XDG data home
/// (`$XDG_DATA_HOME`, or ~/.local/share).
fn default_state() -> Result<PathBuf, String> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(systemd) = var("STATE_DIRECTORY") {
        // systemd lists several folders separated by `:` when several are configured.
        let first = systemd
            .to_string_lossy()
            .split(':')
            .next()
            .map(PathBuf::from);
        return Ok(first.unwrap_or_default().join("acme"));
    }
    let data = match (var("XDG_DATA_HOME"), var("HOME")) {
        (Some(data), _) => PathBuf::from(data),
        (None, Some(home)) => Path::new(&home).join(".local/share"),
        (None, None) => {
            return Err("no folder for the ACME state: set --acme-state DIR".to_string());
        }
    };
    Ok(data.join("nomserve-acme"))
}

impl Acme {
    /// The certificates HTTPS serves: the stored one at once when it is valid and names
    /// every domain, else none until the thread orders one.
    pub fn certificates(&self) -> Arc<Certificates> {
        let certificates = Certificates::acme(self.state.tls_alpn01());
        if let Some(stored) = self.usable_stored() {
            match certificates.install(&stored.chain, &stored.key) {
                Ok(()) => log::info!(
                    "ACME: serving the stored certificate for {} (expires {})",
                    self.names.join(", "),
                    rfc3339(stored.validity.1)
                ),
                Err(e) => log::warn!("ACME: the stored certificate cannot be served: {e}"),
            }
        }
        certificates
    }

    /// The stored certificate, if it names every domain and has not expired.
    fn usable_stored(&self) -> Option<Stored> {
        self.state
            .certificate(&self.names)
            .filter(|stored| stored.validity.1 > now())
    }

    /// The folder of the http-01 key authorizations, for the plain-HTTP listener.
    pub fn http01_folder(&self) -> PathBuf {
        self.state.http01()
    }

    /// What the banner says of HTTPS.
    pub fn describe(&self) -> String {
        let folder = self.state.folder().display();
        match self.usable_stored() {
            Some(stored) => format!(
                "certificate for {} from ACME, expires {} (state in {folder})",
                self.names.join(", "),
                rfc3339(stored.validity.1)
            ),
            None => format!(
                "waiting for a certificate for {} from {} (state in {folder}); HTTPS \
                 handshakes fail until it is in",
                self.names.join(", "),
                self.ca
            ),
        }
    }

    /// Refuses to start when an account is still to be created and the CA's terms were
    /// not agreed to: the error quotes the terms' URL when the CA answers within
    /// [`TERMS_TIMEOUT`].
    pub fn check_terms(&self) -> Result<(), String> {
        if self.agree_tos || self.state.account(&self.ca).exists() {
            return Ok(());
        }
        let terms = runtime().ok().and_then(|runtime| {
            runtime.block_on(async {
                let client = Client::new(self.roots.as_deref(), RetryAfter::default()).ok()?;
                let body = tokio::time::timeout(TERMS_TIMEOUT, client.get(&self.ca))
                    .await
                    .ok()?
                    .ok()?;
                let directory: serde_json::Value = serde_json::from_slice(&body).ok()?;
                let terms = directory.get("meta")?.get("termsOfService")?.as_str()?;
                Some(terms.to_string())
            })
        });
        let terms = terms.map_or_else(
            || format!("the CA at {} did not say where they are", self.ca),
            |url| format!("they are at {url}"),
        );
        Err(format!(
            "creating the ACME account takes agreeing to the CA's terms of service ({terms}): \
             read them and add --acme-agree-tos"
        ))
    }

    /// Starts the `acme` thread, which keeps `certificates` served with a valid
    /// certificate.
    pub fn start(self, certificates: Arc<Certificates>) -> std::io::Result<()> {
        let runtime = runtime()?;
        thread::Builder::new()
            .name("acme".to_string())
            .spawn(move || {
                // A panic would leave the site without renewals: it is logged and the
                // thread's work begins again, after a pause so it cannot spin.
                loop {
                    let run = || self.run(&runtime, &certificates);
                    if panic::catch_unwind(panic::AssertUnwindSafe(run)).is_err() {
                        log::error!("ACME: the ACME thread panicked; starting over in 60s");
                        thread::sleep(Duration::from_secs(60));
                    }
                }
            })
            .map(drop)
    }

    /// The thread's work: see the module's notes. It returns only by a panic.
    fn run(&self, runtime: &tokio::runtime::Runtime, certificates: &Certificates) {
        let mut served = self.usable_stored();
        let mut renew_at = served.as_ref().map(|s| self.renewal(s));
        let mut retry_at: Option<SystemTime> = None;
        let mut failures = 0;
        let mut ari_at = Some(SystemTime::now());
        let started = SystemTime::now();
        if served.is_none() {
            log::info!(
                "ACME: no certificate for {} yet: ordering one from {}",
                self.names.join(", "),
                self.ca
            );
        }
        loop {
            if let Some(stored) = self.usable_stored().filter(|s| Some(s) != served.as_ref()) {
                match certificates.install(&stored.chain, &stored.key) {
                    Ok(()) => {
                        log::info!(
                            "ACME: now serving the certificate stored in {} (expires {})",
                            self.state.folder().display(),
                            rfc3339(stored.validity.1)
                        );
                        renew_at = Some(self.renewal(&stored));
                        served = Some(stored);
                        failures = 0;
                        retry_at = None;
                        ari_at = Some(SystemTime::now());
                    }
                    Err(e) => log::debug!("ACME: the stored certificate is not whole yet: {e}"),
                }
            }
            let ask = served
                .as_ref()
                .filter(|_| ari_at.is_some_and(|at| at <= SystemTime::now()));
            if let Some(stored) = ask {
                ari_at = self.ask_ari(runtime, stored, &mut renew_at);
            }
            // Another instance's failures count too, so that the CA sees one back-off
            // whatever the number of instances; but not those recorded before this
            // instance started, so that a restart (after a fix, say) tries at once.
            let now = SystemTime::now();
            let shared = self.state.retry(started);
            if let Some((count, at)) = shared.filter(|(_, at)| *at > now) {
                failures = failures.max(count);
                retry_at = Some(retry_at.map_or(at, |mine| mine.max(at)));
            }
            let due = renew_at.is_none_or(|at| at <= now) && retry_at.is_none_or(|at| at <= now);
            let locked = if due { self.state.lock() } else { None };
            if let Some(lock) = locked {
                match self.order(runtime, certificates, served.as_ref()) {
                    Ok(stored) => {
                        renew_at = Some(self.renewal(&stored));
                        served = Some(stored);
                        failures = 0;
                        retry_at = None;
                        ari_at = Some(SystemTime::now());
                        self.state.clear_retry();
                    }
                    Err((message, wait)) => {
                        failures = failures.max(shared.map_or(0, |(count, _)| count)) + 1;
                        let wait = wait.unwrap_or_else(|| schedule::backoff(failures));
                        log::error!(
                            "ACME: no certificate for {} (attempt {failures}): {message}; \
                             retrying in {}s{}",
                            self.names.join(", "),
                            wait.as_secs(),
                            if served.is_some() {
                                "; the current certificate is still served"
                            } else {
                                ""
                            }
                        );
                        retry_at = Some(SystemTime::now() + wait);
                        if let Err(e) = self.state.set_retry(failures, SystemTime::now() + wait) {
                            log::warn!("ACME: cannot record the failure in the state folder: {e}");
                        }
                    }
                }
                drop(lock);
            }
            let next = [renew_at, retry_at, ari_at]
                .into_iter()
                .flatten()
                .filter_map(|at| at.duration_since(SystemTime::now()).ok())
                .fold(RECHECK, Duration::min);
            thread::sleep(next.max(Duration::from_millis(100)));
        }
    }

    /// Orders a certificate, stores and serves it (or serves the one another instance
    /// stored since `served` was read). On failure, why, and how long the CA asked to wait
    /// if it did.
    fn order(
        &self,
        runtime: &tokio::runtime::Runtime,
        certificates: &Certificates,
        served: Option<&Stored>,
    ) -> Result<Stored, (String, Option<Duration>)> {
        // Another instance may have stored a new one between the check and the lock.
        if let Some(stored) = self.usable_stored().filter(|s| Some(s) != served) {
            certificates
                .install(&stored.chain, &stored.key)
                .map_err(|e| (e, None))?;
            return Ok(stored);
        }
        let retry_after = RetryAfter::default();
        let client = Client::new(self.roots.as_deref(), retry_after.clone())
            .map_err(|message| (message, None))?;
        let current = served.and_then(leaf);
        let order = order::Order {
            names: &self.names,
            ca: &self.ca,
            email: self.email.as_deref(),
            agree_tos: self.agree_tos,
            forced: self.forced,
            http01: self.http01,
            key_type: self.key_type,
            state: &self.state,
            replacing: current.as_deref(),
        };
        // The timer is made inside the runtime, whose clock it needs.
        let bounded =
            async { tokio::time::timeout(ORDER_TIMEOUT, order::obtain(&order, client)).await };
        let obtained = runtime.block_on(bounded).unwrap_or_else(|_| {
            Err(order::Failure {
                message: format!(
                    "the CA did not finish within {}s; given up",
                    ORDER_TIMEOUT.as_secs()
                ),
                rate_limited: false,
            })
        });
        let (chain, key) = obtained.map_err(|f| {
            crate::metrics::count_acme_order_failed();
            let asked = retry_after
                .take()
                .filter(|_| f.rate_limited)
                .and_then(|at| at.duration_since(SystemTime::now()).ok());
            (f.message, asked)
        })?;
        let stored_err = |e: String| (e, None);
        self.state
            .store(chain.as_bytes(), key.as_bytes())
            .map_err(|e| stored_err(format!("cannot store the certificate: {e}")))?;
        certificates
            .install(chain.as_bytes(), key.as_bytes())
            .map_err(stored_err)?;
        let stored = self
            .state
            .certificate(&self.names)
            .ok_or_else(|| stored_err("the CA's certificate does not name every domain".into()))?;
        log::info!(
            "ACME: obtained and serving a certificate for {} (expires {}), stored in {}",
            self.names.join(", "),
            rfc3339(stored.validity.1),
            self.state.folder().display()
        );
        Ok(stored)
    }

    /// Asks the CA for `stored`'s renewal window (ARI), and moves `renew_at` earlier when
    /// the window says so. When to ask again: as the CA says, in [`ARI_RETRY`] after a
    /// failure, never for a CA that does not offer it.
    fn ask_ari(
        &self,
        runtime: &tokio::runtime::Runtime,
        stored: &Stored,
        renew_at: &mut Option<SystemTime>,
    ) -> Option<SystemTime> {
        let cert = leaf(stored)?;
        let client = Client::new(self.roots.as_deref(), RetryAfter::default()).ok()?;
        let account = self.state.account(&self.ca);
        let asked = ari::window(&account, &cert, Box::new(client));
        let answer = runtime
            .block_on(async { tokio::time::timeout(TERMS_TIMEOUT, asked).await })
            .unwrap_or_else(|_| Err("no answer in time".to_string()));
        match answer {
            Ok(Some(window)) => {
                let at = ari::renewal_time(window.window, schedule::draw());
                let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(at).unwrap_or(0));
                if renew_at.is_none_or(|current| at < current) {
                    log::info!(
                        "ACME: the CA's renewal information has the certificate renewed at {}",
                        humantime::format_rfc3339_seconds(at)
                    );
                    *renew_at = Some(at);
                }
                Some(SystemTime::now() + window.ask_again)
            }
            Ok(None) => None,
            Err(e) => {
                log::warn!(
                    "ACME: cannot read the CA's renewal information: {e}; asking again in {}s",
                    ARI_RETRY.as_secs()
                );
                Some(SystemTime::now() + ARI_RETRY)
            }
        }
    }

    /// When `stored` is to be renewed.
    fn renewal(&self, stored: &Stored) -> SystemTime {
        let (not_before, not_after) = stored.validity;
        let at = schedule::renewal_time(not_before, not_after, schedule::draw());
        UNIX_EPOCH + Duration::from_secs(u64::try_from(at).unwrap_or(0))
    }
}

/// The tokio runtime of the ACME thread: one thread, the calling one, with its timers and
/// sockets.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    // rustls's process-wide provider, which hyper-rustls's builders take: aws-lc-rs, as
    // the server's own configuration has it.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// The leaf certificate (DER) of `stored`'s chain: what renewal information is asked of,
/// and what a renewal's order names as the certificate it replaces (RFC 9773 §4.1, §5).
fn leaf(stored: &Stored) -> Option<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(&stored.chain).next()?.ok()
}

/// Now, in Unix seconds.
fn now() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
}

/// Unix seconds as an RFC 3339 time.
fn rfc3339(seconds: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_is_given_up_before_its_lock_counts_as_stale() {
        assert!(ORDER_TIMEOUT * 2 <= state::LOCK_STALE);
        assert!(RECHECK < schedule::FIRST_RETRY);
    }

    #[test]
    fn times_are_shown_in_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(-5), "1970-01-01T00:00:00Z");
        assert!(now() > 1_700_000_000);
    }
}
