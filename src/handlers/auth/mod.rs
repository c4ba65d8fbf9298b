//! HTTP Basic authentication (RFC 7617) in front of another handler.
//!
//! Areas: each `[[auth]]` table of the config file protects the paths its glob matches,
//! in file order, the first that matches a path deciding for it; `--auth-file` protects
//! every path no table matched (the whole site, when there are none). An area protects
//! files, not only the names requests give them. A request is checked against the areas of
//! its path, then (by the file handler, through a [`Gate`]) against the areas of every file
//! it would be served from, named by where it is beneath the root: after symlinks, the index
//! file, the clean URL's page, the fallback page, and each precompressed variant on disk
//! (which is named by its original's path as well: `/report.txt.gz` is protected by what
//! protects `/report.txt`, and the other way round). It must pass all of those areas: an
//! in-root symlink to a protected file, `/admin` for a protected `/admin.html` with
//! `--clean-urls` or `/docs/` for a protected `/docs/index.html` is challenged as the file
//! is. A listing leaves out the entries the client could not be served (so entries of an
//! area it has not sent credentials for), and an error page it could not be served is not
//! used (see the file handler's error pages). The path's areas are checked first, before
//! anything is opened, so that a protected path tells nothing about what it holds.
//!
//! Globs are matched against paths beneath the root in one form: `/`, the components
//! joined by `/`, and a trailing `/` for a directory. For the request's path that is its
//! decoded path (percent-decoded, dot-segments removed, `//` collapsed: the path the file
//! handler resolves, so no spelling of a path slips past its area), with a trailing `/` when
//! the request had one. Hard links are not symlinks: a second name of a file is that name's
//! file, protected by that name's areas.
//!
//! A request for a protected path needs Basic credentials of a user in the area's htpasswd
//! file ([`htpasswd`]); without them it gets `401` with the challenge
//! `WWW-Authenticate: Basic realm="…", charset="UTF-8"` (RFC 7617 §2, §2.1) and
//! `Cache-Control: no-store`. The files are read at startup and on SIGHUP (the whole handler
//! is rebuilt then, with an empty memory), which is how a changed password takes effect. A
//! relative `file` is taken from the working directory, as every other path in the
//! settings is (`root`, `tls_cert`, `auth_file`), whichever source gave it.
//!
//! Costs and timing. bcrypt is slow on purpose, so:
//! - a credential bcrypt accepted is remembered for [`REMEMBER_FOR`] (at most
//!   [`REMEMBERED`] of them), keyed by a SHA-256 of the area, user and password under a
//!   random key drawn at startup: a browser sending the same credentials with every request
//!   costs one bcrypt per user per five minutes, and the memory holds no password nor
//!   anything that can be checked against one without the key;
//! - each client address (an IPv6 /64) may fail [`ATTEMPTS`] verifications a minute; past
//!   that it gets `429` with `Retry-After` (RFC 6585 §4) without bcrypt running, and without
//!   its credentials being looked up in memory either, so that the limit bounds guesses as
//!   well as CPU. At most [`CLIENTS`] addresses are tracked: beyond that, new ones wait too;
//! - an unknown user is verified against a stand-in hash of the file's usual cost, so it
//!   takes as long to refuse as a wrong password; bcrypt compares its output in constant
//!   time, and so does the memory of accepted credentials.
//!
//! The locks around that memory are held for a map operation, never during bcrypt. What a
//! failure logs is the user name and the client; a password is never logged.

mod credentials;
mod htpasswd;
mod memory;

use super::{Gate, Handler};
use crate::config::AuthArea;
use crate::http::response::Response;
use globset::{Glob, GlobMatcher};
use htpasswd::Users;
use memory::{Attempts, Client, Digest, Remembered};
use nomserve_grammar::{Request, decode_path};
use sha2::{Digest as _, Sha256};
use std::cell::Cell;
use std::ffi::OsString;
use std::net::IpAddr;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How long an accepted credential is remembered.
pub const REMEMBER_FOR: Duration = Duration::from_secs(5 * 60);
/// How many accepted credentials are remembered at most.
pub const REMEMBERED: usize = 1024;
/// How many failed verifications a client may have in [`ATTEMPT_WINDOW`].
pub const ATTEMPTS: u32 = 10;
/// The window [`ATTEMPTS`] is counted over.
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(60);
/// How many client addresses the attempt counter tracks at most.
pub const CLIENTS: usize = 4096;

/// The realm of `--auth-file`, which has no table to name one.
const SITE_REALM: &str = "nomserve";

/// `inner`, with the areas of the settings behind a password.
#[derive(Debug)]
pub struct Auth<H> {
    inner: H,
    areas: Vec<Area>,
    key: [u8; 32],
    remembered: Mutex<Remembered>,
    attempts: Mutex<Attempts>,
}

/// One protected area.
#[derive(Debug)]
struct Area {
    /// The paths it protects.
    glob: GlobMatcher,
    /// The `WWW-Authenticate` value.
    challenge: String,
    users: Users,
}

/// What a request for a protected path gets.
enum Verdict {
    Allowed,
    Challenge,
    Wait(Duration),
}

impl<H: Handler> Auth<H> {
    /// `inner` behind the `[[auth]]` areas `tables` and, for every other path, the htpasswd
    /// file `site` (`--auth-file`). Reads every file; the error says which file, line and
    /// why (see [`htpasswd`]).
    pub fn new(inner: H, tables: &[AuthArea], site: Option<&Path>) -> Result<Self, String> {
        let mut areas = Vec::with_capacity(tables.len() + 1);
        for table in tables {
            let area = Area::new(table.glob.clone(), &table.realm, &table.file)
                .map_err(|e| format!("[[auth]] path {:?}: {e}", table.path))?;
            areas.push(area);
        }
        if let Some(file) = site {
            let everything = Glob::new("**")
                .map_err(|e| e.to_string())?
                .compile_matcher();
            areas.push(Area::new(everything, SITE_REALM, file)?);
        }
        let mut key = [0; 32];
        getrandom::fill(&mut key).map_err(|e| format!("no random key for [[auth]]: {e}"))?;
        Ok(Auth {
            inner,
            areas,
            key,
            remembered: Mutex::new(Remembered::new(REMEMBERED, REMEMBER_FOR)),
            attempts: Mutex::new(Attempts::new(ATTEMPTS, ATTEMPT_WINDOW, CLIENTS)),
        })
    }

    /// Whether `request`, for a path of `area` (the `index`th), may pass.
    fn verdict(
        &self,
        index: usize,
        area: &Area,
        request: &Request<'_, '_>,
        address: IpAddr,
    ) -> Verdict {
        let Some(given) = credentials::from_headers(&request.headers) else {
            return Verdict::Challenge;
        };
        let client = Client::of(address);
        let now = Instant::now();
        if let Some(wait) = lock(&self.attempts).wait(client, now) {
            return Verdict::Wait(wait);
        }
        let digest = self.digest(index, &given);
        if lock(&self.remembered).knows(&digest, now) {
            return Verdict::Allowed;
        }
        if let Err(wait) = lock(&self.attempts).begin(client, now) {
            return Verdict::Wait(wait);
        }
        let (hash, known) = area.users.hash_for(&given.user);
        let matches = bcrypt::verify(&given.password, hash).unwrap_or(false);
        if known && matches {
            lock(&self.remembered).remember(digest, Instant::now());
            lock(&self.attempts).succeeded(client);
            Verdict::Allowed
        } else {
            log::info!(
                "authentication failed for user {:?} from {address}{}",
                String::from_utf8_lossy(&given.user),
                if known { "" } else { " (no such user)" }
            );
            Verdict::Challenge
        }
    }

    /// The keyed digest of `given` in area `index`: SHA-256 over the key, the area, and the
    /// user and password, each length-prefixed so that no two triples share an input.
    fn digest(&self, index: usize, given: &credentials::Credentials) -> Digest {
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        hasher.update((index as u64).to_le_bytes());
        hasher.update((given.user.len() as u64).to_le_bytes());
        hasher.update(&given.user);
        hasher.update((given.password.len() as u64).to_le_bytes());
        hasher.update(&given.password);
        hasher.finalize().into()
    }
}

/// The areas' verdicts for one request, each asked for at most once: the [`Gate`] the file
/// handler asks about the files the request resolves to.
struct Check<'a, 'b, 'h, H> {
    auth: &'a Auth<H>,
    request: &'a Request<'b, 'h>,
    client: IpAddr,
    /// Per area: passed, refused, or not asked yet.
    passed: Vec<Cell<Option<bool>>>,
}

impl<'a, 'b, 'h, H: Handler> Check<'a, 'b, 'h, H> {
    fn new(auth: &'a Auth<H>, request: &'a Request<'b, 'h>, client: IpAddr) -> Self {
        Check {
            auth,
            request,
            client,
            passed: auth.areas.iter().map(|_| Cell::new(None)).collect(),
        }
    }

    /// The area that decides for `path`: the first that matches it.
    fn area_of(&self, path: &Path) -> Option<(usize, &'a Area)> {
        self.auth
            .areas
            .iter()
            .enumerate()
            .find(|(_, area)| area.glob.is_match(path))
    }
}

impl<H: Handler> Gate for Check<'_, '_, '_, H> {
    /// The paths' areas in turn, each asked once: the first refusal is the answer. An area
    /// already refused (by [`Gate::shows`]) is answered with its challenge.
    fn enter(&self, paths: &[PathBuf]) -> Option<Response> {
        for path in paths {
            let Some((index, area)) = self.area_of(path) else {
                continue;
            };
            match self.passed[index].get() {
                Some(true) => continue,
                Some(false) => return Some(challenge(area)),
                None => {}
            }
            let refusal = refusal(
                area,
                self.auth.verdict(index, area, self.request, self.client),
            );
            self.passed[index].set(Some(refusal.is_none()));
            if refusal.is_some() {
                return refusal;
            }
        }
        None
    }

    fn shows(&self, path: &Path) -> bool {
        let Some((index, area)) = self.area_of(path) else {
            return true;
        };
        if let Some(passed) = self.passed[index].get() {
            return passed;
        }
        let passed = matches!(
            self.auth.verdict(index, area, self.request, self.client),
            Verdict::Allowed
        );
        self.passed[index].set(Some(passed));
        passed
    }
}

/// The answer to a request `verdict` does not let pass through `area`; `None` if it does.
fn refusal(area: &Area, verdict: Verdict) -> Option<Response> {
    match verdict {
        Verdict::Allowed => None,
        Verdict::Challenge => Some(challenge(area)),
        Verdict::Wait(wait) => {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Some(
                Response::text(
                    429,
                    "Too Many Requests: too many failed logins from this address\n",
                )
                .header("Retry-After", seconds.max(1).to_string())
                .header("Cache-Control", "no-store")
                .header("X-Content-Type-Options", "nosniff"),
            )
        }
    }
}

/// `401` with the challenge of `area`.
fn challenge(area: &Area) -> Response {
    Response::text(401, "Unauthorized\n")
        .header("WWW-Authenticate", area.challenge.clone())
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
}

impl Area {
    fn new(glob: GlobMatcher, realm: &str, file: &Path) -> Result<Area, String> {
        Ok(Area {
            glob,
            challenge: format!("Basic realm=\"{realm}\", charset=\"UTF-8\""),
            users: Users::load(file)?,
        })
    }
}

/// The request's decoded path as the areas' globs see it: `/`, the segments joined with
/// `/`, and a trailing `/` when the request had one.
fn glob_path(segments: &[std::borrow::Cow<'_, [u8]>], trailing_slash: bool) -> PathBuf {
    let mut path = Vec::with_capacity(64);
    for segment in segments {
        path.push(b'/');
        path.extend_from_slice(segment);
    }
    if trailing_slash || segments.is_empty() {
        path.push(b'/');
    }
    PathBuf::from(OsString::from_vec(path))
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<H: Handler> Handler for Auth<H> {
    /// A request whose path's area it has not passed is answered here; one that passes (or
    /// whose path no area matches) goes to the inner handler with the [`Gate`] of the
    /// files' areas. One without a path (`OPTIONS *`) goes to it untouched. A path that does
    /// not decode is answered here, as the file handler would (`400`), so that no inner
    /// handler reads it differently from the areas.
    fn handle(&self, request: &Request<'_, '_>, head: &[u8], client: IpAddr) -> Response {
        if self.areas.is_empty() {
            return self.inner.handle(request, head, client);
        }
        let Some(raw) = request.target.path() else {
            return self.inner.handle(request, head, client);
        };
        let decoded = match decode_path(raw) {
            Ok(decoded) => decoded,
            Err(error) => {
                return Response::text(error.status(), error.to_string())
                    .header("X-Content-Type-Options", "nosniff");
            }
        };
        let path = glob_path(&decoded.segments, decoded.trailing_slash);
        let check = Check::new(self, request, client);
        if let Some(refusal) = check.enter(&[path]) {
            return refusal;
        }
        self.inner.handle_gated(request, head, client, &check)
    }

    /// The areas, for the error pages outside: a gate when there are any.
    fn gate<'a>(
        &'a self,
        request: &'a Request<'_, '_>,
        client: IpAddr,
    ) -> Option<Box<dyn Gate + 'a>> {
        if self.areas.is_empty() {
            return None;
        }
        Some(Box::new(Check::new(self, request, client)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn the_path_the_globs_see() {
        let seg = |s: &'static str| Cow::Borrowed(s.as_bytes());
        assert_eq!(glob_path(&[], false), Path::new("/"));
        assert_eq!(glob_path(&[], true), Path::new("/"));
        assert_eq!(
            glob_path(&[seg("a"), seg("b c")], false),
            Path::new("/a/b c")
        );
        assert_eq!(glob_path(&[seg("private")], true).as_os_str(), "/private/");
    }
}
