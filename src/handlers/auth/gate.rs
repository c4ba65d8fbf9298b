//! One request's passage through the areas: the [`Gate`] the file handler asks about the
//! files a request resolves to, each area's verdict asked for at most once.

use super::{Auth, Protected, Verdict, unavailable};
use crate::handlers::{Gate, Handler, Verdicts};
use crate::http::response::{Response, Ticket};
use globset::GlobMatcher;
use nomserve_grammar::Request;
use std::cell::Cell;
use std::cell::RefCell;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The areas' verdicts for one request.
pub(super) struct Areas<'a, 'b, 'h, H> {
    auth: &'a Auth<H>,
    request: &'a Request<'b, 'h>,
    client: IpAddr,
    /// Per area: passed, refused, or not decided yet. A check under way (or refused for a
    /// full queue) decides nothing: asked again, the area finds the same check and answers
    /// with it.
    passed: Vec<Cell<Option<bool>>>,
    /// A check under way that an area's verdict waits for.
    pending: RefCell<Option<Ticket>>,
}

impl<'a, 'b, 'h, H: Handler> Areas<'a, 'b, 'h, H> {
    pub(super) fn new(auth: &'a Auth<H>, request: &'a Request<'b, 'h>, client: IpAddr) -> Self {
        Areas {
            auth,
            request,
            client,
            passed: auth.areas.iter().map(|_| Cell::new(None)).collect(),
            pending: RefCell::new(None),
        }
    }

    /// The area that decides for `path`: the first that matches it.
    fn area_of(&self, path: &Path) -> Option<(usize, &'a Protected)> {
        self.auth
            .areas
            .iter()
            .enumerate()
            .find(|(_, area)| area.glob.is_match(path))
    }

    /// Asks area `index` for its verdict, and remembers it for this request if it decides.
    fn ask(&self, index: usize, area: &Protected) -> Verdict {
        let verdict = self.auth.verdict(index, area, self.request, self.client);
        match &verdict {
            Verdict::Allowed => self.passed[index].set(Some(true)),
            Verdict::Challenge | Verdict::Wait(_) => self.passed[index].set(Some(false)),
            Verdict::Pending(ticket) => *self.pending.borrow_mut() = Some(ticket.clone()),
            Verdict::Busy => {}
        }
        verdict
    }
}

impl<H: Handler> Gate for Areas<'_, '_, '_, H> {
    /// The paths' areas in turn, each asked once: the first refusal is the answer (a check
    /// under way parks the request, see [`Response::pending`]). An area already refused (by
    /// [`Gate::shows`]) is answered with its challenge.
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
            if let Some(refusal) = refusal(area, self.ask(index, area)) {
                return Some(refusal);
            }
        }
        None
    }

    /// Whether `path` may be shown. An area whose check is under way is not shown in the
    /// provisional answer, which waits for the check ([`Gate::pending`]).
    fn shows(&self, path: &Path) -> bool {
        let Some((index, area)) = self.area_of(path) else {
            return true;
        };
        if let Some(passed) = self.passed[index].get() {
            return passed;
        }
        matches!(self.ask(index, area), Verdict::Allowed)
    }

    fn pending(&self) -> Option<Ticket> {
        self.pending.borrow().clone()
    }

    /// The first area matching a path decides, as in [`Areas::area_of`]: its verdict if
    /// this request reached one that let the client in; refused otherwise.
    fn verdicts(&self) -> Verdicts {
        let areas: Vec<(GlobMatcher, bool)> = self
            .auth
            .areas
            .iter()
            .zip(&self.passed)
            .map(|(area, passed)| (area.glob.clone(), passed.get() == Some(true)))
            .collect();
        Arc::new(move |path: &Path| {
            areas
                .iter()
                .find(|(glob, _)| glob.is_match(path))
                .is_none_or(|(_, passed)| *passed)
        })
    }
}

/// The answer to a request `verdict` does not let pass through `area`; `None` if it does.
fn refusal(area: &Protected, verdict: Verdict) -> Option<Response> {
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
        // Sent only if the check has not ended within the header timeout.
        Verdict::Pending(ticket) => Some(
            unavailable("Service Unavailable: the password check took too long; try again\n")
                .pending(ticket),
        ),
        Verdict::Busy => Some(unavailable(
            "Service Unavailable: too many password checks waiting; try again shortly\n",
        )),
    }
}

/// `401` with the challenge of `area`.
fn challenge(area: &Protected) -> Response {
    Response::text(401, "Unauthorized\n")
        .header("WWW-Authenticate", area.challenge.clone())
        .header("Cache-Control", "no-store")
        .header("X-Content-Type-Options", "nosniff")
}
