//! The ACME state folder: what is kept between runs and shared between instances.
//!
//! Layout (the folder mode 0700, every file 0600, written whole through a rename):
//!
//! ```text
//! DIR/
//!   account-HOST.json     the account's key and URL at the CA whose host is HOST
//!   certificate.pem       the certificate chain served, the certificate first
//!   certificate.key       its private key (PKCS#8 PEM)
//!   lock                  held by the instance that orders (its pid and the time inside)
//!   retry                 after failures: how many in a row, and when to try again
//!   http-01/TOKEN         key authorizations of pending http-01 challenges
//!   tls-alpn-01/DOMAIN    key authorizations of pending tls-alpn-01 challenges
//! ```
//!
//! Refused at start, with what to run: a folder or file that others than the owner may
//! read or write (the keys in it sign as the site), and a folder the server cannot write.

use crate::server::certs::{TlsAlpn01, validity, write_private};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long a lock may be held before another instance takes it: a crashed instance leaves
/// its lock behind, and an order is given up well within this (in half of it).
pub const LOCK_STALE: Duration = Duration::from_secs(10 * 60);

/// A certificate and key as stored, and when the certificate is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// PEM: the chain, the certificate first.
    pub chain: Vec<u8>,
    /// PEM: the private key.
    pub key: Vec<u8>,
    /// notBefore and notAfter, Unix seconds.
    pub validity: (i64, i64),
}

/// The state folder.
#[derive(Debug, Clone)]
pub struct State {
    folder: PathBuf,
}

impl State {
    /// The folder at `folder`, created (mode 0700) if missing; refused when others than
    /// its owner may read or write it or a file in it, or when it cannot be written.
    pub fn open(folder: &Path) -> Result<State, String> {
        let shown = folder.display();
        if !folder.exists() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(folder)
                .map_err(|e| format!("cannot create the ACME state folder {shown}: {e}"))?;
        }
        inspect(folder)?;
        for sub in ["http-01", "tls-alpn-01"] {
            let path = folder.join(sub);
            if !path.exists() {
                fs::DirBuilder::new()
                    .mode(0o700)
                    .create(&path)
                    .map_err(|e| unwritable(folder, &e))?;
            }
        }
        let probe = folder.join(format!(".probe.{}", std::process::id()));
        write_private(&probe, b"").map_err(|e| unwritable(folder, &e))?;
        let _ = fs::remove_file(probe);
        Ok(State {
            folder: folder.to_path_buf(),
        })
    }

    /// Checks `folder` as [`State::open`] does, changing nothing (`--check-config`): a
    /// folder that does not exist yet passes when the nearest folder above it that exists
    /// can be written, since the server makes it at start. (Made by the check, it would
    /// belong to whoever ran the check, often not the server's user.)
    pub fn check(folder: &Path) -> Result<(), String> {
        if folder.exists() {
            inspect(folder)?;
            return rustix::fs::access(folder, rustix::fs::Access::WRITE_OK)
                .map_err(|e| unwritable(folder, &e.into()));
        }
        let Some(above) = folder.ancestors().skip(1).find(|a| a.exists()) else {
            return Ok(());
        };
        if !above.is_dir() {
            return Err(format!(
                "cannot create the ACME state folder {}: {} is not a folder",
                folder.display(),
                above.display()
            ));
        }
        rustix::fs::access(above, rustix::fs::Access::WRITE_OK).map_err(|e| {
            format!(
                "cannot create the ACME state folder {}: {} cannot be written ({})",
                folder.display(),
                above.display(),
                io::Error::from(e)
            )
        })
    }

    /// The folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// The folder of http-01 key authorizations, one file per token.
    pub fn http01(&self) -> PathBuf {
        self.folder.join("http-01")
    }

    /// Stores the key authorization of the http-01 challenge with `token`, for whichever
    /// instance the CA reaches. The token is refused unless it is base64url (RFC 8555
    /// §8.3), which keeps it a plain file name.
    pub fn write_http01(&self, token: &str, key_authorization: &str) -> io::Result<()> {
        let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if token.is_empty() || !token.bytes().all(base64url) {
            let why = format!("the CA's token {token:?} is not base64url");
            return Err(io::Error::new(io::ErrorKind::InvalidData, why));
        }
        write_private(&self.http01().join(token), key_authorization.as_bytes())
    }

    /// Forgets the http-01 challenge with `token`.
    pub fn remove_http01(&self, token: &str) {
        if !token.is_empty() && !token.contains(['/', '.']) {
            let _ = fs::remove_file(self.http01().join(token));
        }
    }

    /// The tls-alpn-01 key authorizations, one file per domain.
    pub fn tls_alpn01(&self) -> TlsAlpn01 {
        TlsAlpn01::new(self.folder.join("tls-alpn-01"))
    }

    /// The account file for the CA whose directory is `ca`.
    pub fn account(&self, ca: &str) -> PathBuf {
        let host: String = ca
            .parse::<http::Uri>()
            .ok()
            .and_then(|uri| uri.authority().map(|a| a.as_str().to_string()))
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.folder.join(format!("account-{host}.json"))
    }

    /// The stored certificate, if there is one that can be read and names every one of
    /// `names`.
    pub fn certificate(&self, names: &[String]) -> Option<Stored> {
        let chain = fs::read(self.folder.join("certificate.pem")).ok()?;
        let key = fs::read(self.folder.join("certificate.key")).ok()?;
        let first = CertificateDer::pem_slice_iter(&chain).next()?.ok()?;
        if !covers(&first, names) {
            return None;
        }
        let validity = validity(&first)?;
        Some(Stored {
            chain,
            key,
            validity,
        })
    }

    /// Stores a certificate chain and its key: the key first, so that a reader that finds a
    /// new certificate also finds its key (a reader that sees the new key with the old
    /// certificate is told by the key not matching, and reads again later).
    pub fn store(&self, chain: &[u8], key: &[u8]) -> io::Result<()> {
        write_private(&self.folder.join("certificate.key"), key)?;
        write_private(&self.folder.join("certificate.pem"), chain)
    }

    /// The failures in a row that every instance sharing the folder counts, and when the
    /// next attempt may be made, as recorded since `since`: none after a success.
    pub fn retry(&self, since: SystemTime) -> Option<(u32, SystemTime)> {
        let file = self.folder.join("retry");
        let written = fs::metadata(&file).and_then(|m| m.modified()).ok()?;
        if written < since {
            return None;
        }
        let text = fs::read_to_string(file).ok()?;
        let (failures, at) = text.trim().split_once(' ')?;
        let at = Duration::from_secs(at.parse().ok()?);
        Some((failures.parse().ok()?, SystemTime::UNIX_EPOCH + at))
    }

    /// Records `failures` in a row, and the time before which no instance tries again.
    pub fn set_retry(&self, failures: u32, at: SystemTime) -> io::Result<()> {
        let at = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let text = format!("{failures} {}\n", at.as_secs());
        write_private(&self.folder.join("retry"), text.as_bytes())
    }

    /// Forgets the failures, after a success.
    pub fn clear_retry(&self) {
        let _ = fs::remove_file(self.folder.join("retry"));
    }

    /// Takes the lock, if no other instance holds it (or its hold is older than
    /// [`LOCK_STALE`]); it is let go when the guard is dropped.
    pub fn lock(&self) -> Option<Lock> {
        let path = self.folder.join("lock");
        let stale = fs::metadata(&path)
            .and_then(|m| m.modified())
            .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > LOCK_STALE));
        if stale {
            log::warn!(
                "ACME: the lock {} is older than {}s; taking it over",
                path.display(),
                LOCK_STALE.as_secs()
            );
            let _ = fs::remove_file(&path);
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .ok()?;
        let holder = format!(
            "pid {} since {}\n",
            std::process::id(),
            humantime::format_rfc3339_seconds(SystemTime::now())
        );
        let _ = io::Write::write_all(&mut file, holder.as_bytes());
        Some(Lock { path })
    }
}

/// The state folder's lock, held while this instance orders.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Whether the certificate `cert` names each of `names` among its subjectAltName DNS
/// names (RFC 5280 §4.2.1.6).
fn covers(cert: &[u8], names: &[String]) -> bool {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert) else {
        return false;
    };
    let Ok(Some(san)) = parsed.subject_alternative_name() else {
        return false;
    };
    let dns: Vec<String> = san
        .value
        .general_names
        .iter()
        .filter_map(|name| match name {
            x509_parser::extensions::GeneralName::DNSName(dns) => Some(dns.to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    names.iter().all(|name| dns.contains(name))
}

/// Refuses the folder when it is not one, or when it or an entry in it is not private.
fn inspect(folder: &Path) -> Result<(), String> {
    let shown = folder.display();
    let meta = fs::metadata(folder)
        .map_err(|e| format!("cannot read the ACME state folder {shown}: {e}"))?;
    if !meta.is_dir() {
        return Err(format!("the ACME state folder {shown} is not a folder"));
    }
    check_private(folder, &meta)?;
    for entry in walk(folder).map_err(|e| format!("cannot read {shown}: {e}"))? {
        let meta = fs::symlink_metadata(&entry)
            .map_err(|e| format!("cannot read {}: {e}", entry.display()))?;
        check_private(&entry, &meta)?;
    }
    Ok(())
}

/// Refuses `path` when its mode lets the group or others in (any of 0o077), or another
/// user owns it.
fn check_private(path: &Path, meta: &fs::Metadata) -> Result<(), String> {
    let mode = meta.permissions().mode() & 0o777;
    let shown = path.display();
    let wanted = if meta.is_dir() { "700" } else { "600" };
    if mode & 0o077 != 0 {
        return Err(format!(
            "the ACME state {shown} has mode {mode:03o}: others than its owner may read it, \
             and the keys in it sign as the site; run `chmod -R go= {shown}` (folders 0{wanted})"
        ));
    }
    if meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(format!(
            "the ACME state {shown} belongs to user {} and nomserve runs as user {}: give \
             it to the server's user (chown)",
            meta.uid(),
            rustix::process::geteuid().as_raw()
        ));
    }
    Ok(())
}

/// The error of a state folder that cannot be written.
fn unwritable(folder: &Path, e: &io::Error) -> String {
    format!(
        "the ACME state folder {} cannot be written ({e}); it must be writable by the \
         server's user",
        folder.display()
    )
}

/// The entries of `folder` and of its sub-folders, one level down.
fn walk(folder: &Path) -> io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_dir() {
            for inner in fs::read_dir(&path)? {
                found.push(inner?.path());
            }
        }
        found.push(path);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(names: &[&str]) -> (Vec<u8>, Vec<u8>) {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let made = rcgen::generate_simple_self_signed(names).unwrap();
        (
            made.cert.pem().into_bytes(),
            made.signing_key.serialize_pem().into_bytes(),
        )
    }

    #[test]
    fn a_new_folder_is_made_private_and_keeps_what_is_stored() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("acme");
        let state = State::open(&folder).unwrap();
        let mode = fs::metadata(&folder).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(state.certificate(&["a.test".to_string()]).is_none());
        let (chain, key) = pair(&["a.test", "b.test"]);
        state.store(&chain, &key).unwrap();
        let mode = fs::metadata(folder.join("certificate.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let names = ["b.test".to_string(), "a.test".to_string()];
        let stored = state.certificate(&names).unwrap();
        assert_eq!(stored.chain, chain);
        assert!(stored.validity.0 < stored.validity.1);
        // A certificate that leaves a name out is not the one wanted.
        assert!(state.certificate(&["c.test".to_string()]).is_none());
        // Opening it again finds it as private as it was left.
        State::open(&folder).unwrap();
    }

    #[test]
    fn a_folder_or_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("acme");
        let state = State::open(&folder).unwrap();
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o755)).unwrap();
        let error = State::open(&folder).unwrap_err();
        assert!(
            error.contains("mode 755") && error.contains("chmod"),
            "{error}"
        );
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o700)).unwrap();
        let (chain, key) = pair(&["a.test"]);
        state.store(&chain, &key).unwrap();
        let key_file = folder.join("certificate.key");
        fs::set_permissions(&key_file, fs::Permissions::from_mode(0o644)).unwrap();
        let error = State::open(&folder).unwrap_err();
        assert!(error.contains("certificate.key has mode 644"), "{error}");
    }

    #[test]
    fn the_check_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("acme");
        State::check(&folder).unwrap();
        assert!(!folder.exists());
        fs::write(dir.path().join("file"), "").unwrap();
        let error = State::check(&dir.path().join("file/acme")).unwrap_err();
        assert!(error.contains("file is not a folder"), "{error}");
        State::open(&folder).unwrap();
        State::check(&folder).unwrap();
        fs::set_permissions(&folder, fs::Permissions::from_mode(0o750)).unwrap();
        assert!(State::check(&folder).unwrap_err().contains("mode 750"));
    }

    #[test]
    fn one_lock_holder_at_a_time_and_a_stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("acme")).unwrap();
        let held = state.lock().unwrap();
        assert!(state.lock().is_none());
        drop(held);
        let again = state.lock().unwrap();
        let old = SystemTime::now() - LOCK_STALE - Duration::from_secs(1);
        let file = fs::File::options()
            .write(true)
            .open(dir.path().join("acme/lock"))
            .unwrap();
        file.set_modified(old).unwrap();
        assert!(state.lock().is_some());
        drop(again);
    }

    #[test]
    fn the_failures_are_shared_until_a_success() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("acme")).unwrap();
        let before = SystemTime::now() - Duration::from_secs(60);
        assert_eq!(state.retry(before), None);
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        state.set_retry(3, at).unwrap();
        assert_eq!(state.retry(before), Some((3, at)));
        // What was recorded before a time is not counted from it.
        let later = SystemTime::now() + Duration::from_secs(60);
        assert_eq!(state.retry(later), None);
        state.clear_retry();
        assert_eq!(state.retry(before), None);
    }

    #[test]
    fn the_account_file_is_named_after_the_ca_host() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("acme")).unwrap();
        let file = state.account("https://127.0.0.1:14000/dir");
        assert_eq!(file, dir.path().join("acme/account-127.0.0.1_14000.json"));
    }
}
