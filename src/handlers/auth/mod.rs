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
//! - it never runs on a worker thread. Checks go to a small pool ([`pool`]: one thread on a
//!   machine of one or two cores, two on larger ones, started at the first check) through a
//!   queue of at most [`CHECK_QUEUE`]. The request waits parked, its worker serving its other
//!   connections meanwhile, and is handled again once its check is done ([`verify`]). A
//!   request that finds the queue full gets `503` with `Retry-After: 1` (RFC 9110 §15.6.4)
//!   and no check; so does one whose check has not ended within the header timeout. The pool
//!   is the handler's: rebuilt on SIGHUP, the old one's threads end with the check they
//!   are running;
//! - a credential bcrypt accepted is remembered for [`REMEMBER_FOR`] (at most
//!   [`REMEMBERED`] of them), keyed by a SHA-256 of the area, user and password under a
//!   random key drawn at startup: a browser sending the same credentials with every request
//!   costs one bcrypt per user per five minutes, and the memory holds no password nor
//!   anything that can be checked against one without the key. Requests of one client with
//!   the same credentials share a check under way, and a refusal is kept for that client
//!   for [`REFUSAL_KEPT`]: its repeats get `401` without bcrypt;
//! - failures are limited per client address (an IPv6 /64) and in total ([`limiter`]: the
//!   numbers and why): [`ATTEMPTS`] per address and [`FAILURES`] in all per
//!   [`ATTEMPT_WINDOW`]. An address that has failed, once either is spent, gets `429` with
//!   `Retry-After` (RFC 6585 §4) without bcrypt running, and without its credentials being
//!   looked up among those accepted either, so that the limit bounds guesses as well as CPU
//!   (only its own checks begun within the limit are answered, as they end). An address
//!   that has not failed is always checked, so no one can be locked out by others'
//!   failures; at most [`CLIENTS`] addresses are tracked, the oldest forgotten first;
//! - an unknown user is verified against a stand-in hash of the highest cost in the file,
//!   so that no known user's wrong password takes longer to refuse than an unknown user's:
//!   timing does not tell which users exist, even in a file that mixes costs. bcrypt
//!   compares its output in constant time, and so does the memory of credentials.
//!
//! The locks around that memory are held for a map operation, never during bcrypt. What a
//! failure logs is the user name and the client; a password is never logged.

mod credentials;
mod gate;
mod htpasswd;
mod limiter;
mod memory;
mod pool;
mod verify;

use super::{Gate, Handler};
use crate::http::head::RequestHead;
use crate::http::response::{Response, Ticket};
use gate::Areas;
use globset::{Glob, GlobMatcher};
use htpasswd::Users;
use limiter::{Attempts, Client};
use memory::{Check, Checks, Digest, Remembered};
use nomserve_grammar::{Request, decode_path};
use pool::Pool;
use sha2::{Digest as _, Sha256};
use std::ffi::OsString;
use std::net::IpAddr;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use verify::{Asked, Memory, Verification, lock};

/// How long an accepted credential is remembered.
pub const REMEMBER_FOR: Duration = Duration::from_secs(5 * 60);
/// How many accepted credentials are remembered at most.
pub const REMEMBERED: usize = 1024;
/// How many failed verifications a client may have in [`ATTEMPT_WINDOW`].
pub const ATTEMPTS: u32 = 10;
/// The window [`ATTEMPTS`] is counted over.
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(60);
/// How many failed verifications all clients together may have in [`ATTEMPT_WINDOW`].
pub const FAILURES: u32 = 100;
/// How many client addresses the attempt counter tracks at most.
pub const CLIENTS: usize = 4096;
/// How long a refused check is kept for the client that asked: long enough for its parked
/// requests to be handled again, short enough that the memory stays small.
pub const REFUSAL_KEPT: Duration = Duration::from_secs(10);
/// How many refused checks are kept at most.
pub const REFUSALS: usize = 1024;
/// How many checks may wait for a thread of the pool: at cost 12 (about 0.4 s a check on a
/// small machine, one thread), the last waits some 6 s, within the default header timeout.
pub const CHECK_QUEUE: usize = 16;

/// The realm of `--auth-file`, which has no table to name one.
const SITE_REALM: &str = "nomserve";

/// A protected part of the site (an `[[auth]]` table): the paths matching `glob` need a
/// user and password from the htpasswd `file`; `realm` names the area in the challenge.
#[derive(Debug, Clone)]
pub struct Area {
    /// The glob, as written, for messages.
    pub path: String,
    /// The glob, compiled: matched against the request's decoded path.
    pub glob: GlobMatcher,
    /// The htpasswd file.
    pub file: PathBuf,
    /// The realm (RFC 7617 §2).
    pub realm: String,
}

/// `inner`, with the areas of the settings behind a password.
#[derive(Debug)]
pub struct Auth<H> {
    inner: H,
    areas: Vec<Protected>,
    key: [u8; 32],
    memory: Arc<Memory>,
    pool: Pool<Verification>,
}

/// One protected area.
#[derive(Debug)]
struct Protected {
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
    /// Too many failures: `429`.
    Wait(Duration),
    /// Its check is under way.
    Pending(Ticket),
    /// The pool's queue is full: `503`.
    Busy,
}

impl<H: Handler> Auth<H> {
    /// `inner` behind the `[[auth]]` areas `tables` and, for every other path, the htpasswd
    /// file `site` (`--auth-file`). Reads every file; the error says which file, line and
    /// why (see [`htpasswd`]).
    pub fn new(inner: H, tables: &[Area], site: Option<&Path>) -> Result<Self, String> {
        let mut areas = Vec::with_capacity(tables.len() + 1);
        for table in tables {
            let area = Protected::new(table.glob.clone(), &table.realm, &table.file)
                .map_err(|e| format!("[[auth]] path {:?}: {e}", table.path))?;
            areas.push(area);
        }
        if let Some(file) = site {
            let everything = Glob::new("**")
                .map_err(|e| e.to_string())?
                .compile_matcher();
            areas.push(Protected::new(everything, SITE_REALM, file)?);
        }
        let mut key = [0; 32];
        getrandom::fill(&mut key).map_err(|e| format!("no random key for [[auth]]: {e}"))?;
        Ok(Auth {
            inner,
            areas,
            key,
            memory: Arc::new(Memory {
                remembered: Mutex::new(Remembered::new(REMEMBERED, REMEMBER_FOR)),
                attempts: Mutex::new(Attempts::new(ATTEMPTS, FAILURES, ATTEMPT_WINDOW, CLIENTS)),
                checks: Mutex::new(Checks::new(REFUSALS, REFUSAL_KEPT)),
            }),
            pool: Pool::new("auth-check", check_threads(), CHECK_QUEUE),
        })
    }

    /// Whether `request`, for a path of `area` (the `index`th), may pass.
    fn verdict(
        &self,
        index: usize,
        area: &Protected,
        request: &Request<'_, '_>,
        address: IpAddr,
    ) -> Verdict {
        let Some(given) = credentials::from_headers(&request.headers) else {
            return Verdict::Challenge;
        };
        let client = Client::of(address);
        let now = Instant::now();
        let digest = self.digest(index, &given);
        let memory = &self.memory;
        // This client's own check of these credentials, under way or just refused: the
        // limit was applied when it began.
        match lock(&memory.checks).find(&digest, client, now) {
            Some(Check::Running(ticket)) => return Verdict::Pending(ticket),
            Some(Check::Refused(_)) => return Verdict::Challenge,
            None => {}
        }
        if let Some(wait) = lock(&memory.attempts).wait(client, now) {
            return Verdict::Wait(wait);
        }
        if lock(&memory.remembered).knows(&digest, now) {
            return Verdict::Allowed;
        }
        if let Err(wait) = lock(&memory.attempts).begin(client, now) {
            return Verdict::Wait(wait);
        }
        let (hash, known) = area.users.hash_for(&given.user);
        let (ticket, completion) = Ticket::new();
        lock(&memory.checks).start(digest, client, ticket.clone());
        let asked = Asked {
            digest,
            address,
            user: given.user,
            password: given.password,
            hash: hash.to_string(),
            known,
        };
        match self
            .pool
            .submit(Verification::new(Arc::clone(memory), asked, completion))
        {
            Ok(()) => Verdict::Pending(ticket),
            Err(check) => {
                check.cancel();
                log::warn!("{address}: too many password checks waiting; answered 503");
                Verdict::Busy
            }
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

/// What `--check-config` warns of: each htpasswd line, of the `[[auth]]` tables' files and
/// of `site` (`--auth-file`), whose bcrypt cost is above 12, with the time a check takes at
/// that cost on a small machine (a one-core VPS or a single-board computer: about 0.1 s at
/// cost 10, doubling with each step). Files that do not load are left to [`Auth::new`].
pub fn slow_hashes(tables: &[Area], site: Option<&Path>) -> Vec<String> {
    let mut files: Vec<&Path> = tables.iter().map(|table| table.file.as_path()).collect();
    files.extend(site);
    files.sort_unstable();
    files.dedup();
    let mut warnings = Vec::new();
    for file in files {
        let Ok(users) = Users::load(file) else {
            continue;
        };
        for &(line, cost) in users.slow() {
            let seconds = 0.1 * 2f64.powi(cost as i32 - 10);
            warnings.push(format!(
                "htpasswd file {}:{line}: bcrypt cost {cost}: each check takes ~{seconds:.1} s \
                 on a small machine (cost {} or less keeps logins quick)",
                file.display(),
                htpasswd::SLOW_COST,
            ));
        }
    }
    warnings
}

impl Protected {
    fn new(glob: GlobMatcher, realm: &str, file: &Path) -> Result<Protected, String> {
        Ok(Protected {
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

/// Threads that run bcrypt: one on a machine of one or two cores, two on larger ones, so
/// that password checks, however many arrive, leave most of the CPU to the workers.
fn check_threads() -> usize {
    match std::thread::available_parallelism() {
        Ok(cores) if cores.get() > 2 => 2,
        _ => 1,
    }
}

/// A `503` that says to try again in a second (RFC 9110 §15.6.4).
fn unavailable(text: &'static str) -> Response {
    Response::text(503, text)
        .header("Retry-After", "1")
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
}

impl<H: Handler> Handler for Auth<H> {
    /// A request whose path no area matches goes to the inner handler untouched, as does one
    /// without a path (`OPTIONS *`). A path that does not decode is answered here, as the
    /// file handler would (`400`), so that no inner handler reads it differently from the
    /// areas.
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
    ) -> Response {
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
        let check = Areas::new(self, request, client);
        if let Some(refusal) = check.enter(&[path]) {
            return refusal;
        }
        let response = self.inner.handle_gated(request, head, client, &check);
        match check.pending() {
            // A listing's entry or a page waited for a check: handled again when it ends.
            Some(ticket) => response.pending(ticket),
            None => response,
        }
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
        Some(Box::new(Areas::new(self, request, client)))
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
