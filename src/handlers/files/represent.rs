//! Which representation of a file answers a request, and the answer: the file as it is, a
//! precompressed variant ([`precompressed`]) or a variant made here ([`compress`]: kept
//! whole, or streamed), after the conditional and range steps of RFC 9110 §13.2.2. Every
//! answer about a representation has its head from [`head::head`].

use super::coding::{ContentCoding, PerCoding};
use super::compress::{self, Pass};
use super::head::{self, Answer, Representation};
use super::ranges::{self, Decision};
use super::resource::Resource;
use super::validators::{self, Precondition, Validators};
use super::{StaticFiles, nosniff, precompressed};
use crate::handlers::Gate;
use crate::http::response::{Body, Response};
use nomserve_grammar::{Request, Version};
use std::sync::Arc;
use std::time::SystemTime;

/// The request fields that make an answer depend on more than the file: with none of them,
/// a GET or HEAD of an identity representation is a plain `200`.
const CONDITIONAL_FIELDS: [&str; 6] = [
    "Range",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "If-Unmodified-Since",
    "If-Range",
];

// [`changes_the_answer`] passes over a name by its first letter: each of the fields above
// must start with `I` or `R`.
const _: () = {
    let mut i = 0;
    while i < CONDITIONAL_FIELDS.len() {
        assert!(matches!(CONDITIONAL_FIELDS[i].as_bytes()[0], b'I' | b'R'));
        i += 1;
    }
};

/// Whether a request field named `name` makes the answer depend on more than the file: one
/// of [`CONDITIONAL_FIELDS`], or Accept-Encoding for a `negotiable` file (ASCII
/// case-insensitive, RFC 9110 §5.1). Every name there starts with `a`, `i` or `r`, so a field
/// starting otherwise is passed over with one test: the plain answer reads each field line
/// once.
fn changes_the_answer(name: &str, negotiable: bool) -> bool {
    match name.as_bytes().first().map(u8::to_ascii_lowercase) {
        Some(b'i' | b'r') => CONDITIONAL_FIELDS
            .iter()
            .any(|conditional| name.eq_ignore_ascii_case(conditional)),
        Some(b'a') => negotiable && name.eq_ignore_ascii_case("Accept-Encoding"),
        _ => false,
    }
}

impl StaticFiles {
    /// Answers `request` for `resource`: a plain GET or HEAD (no precondition, no range, no
    /// variant to choose) from what is prepared, without allocating; anything else after
    /// the conditional and range steps of RFC 9110 §13.2.2. First of all, `gate` is asked
    /// about every file the resource names: the answer does not depend on which of them is
    /// sent.
    pub(super) fn represent(
        &self,
        request: &Request<'_, '_>,
        resource: &Resource,
        gate: Option<&dyn Gate>,
    ) -> Response {
        if let Some(refusal) = gate.and_then(|gate| gate.enter(&resource.names)) {
            return refusal;
        }
        let on_disk = resource.variants.map(|_, variant| variant.is_some());
        let negotiable = on_disk.any() || resource.offers.any();
        let plain = request
            .headers
            .iter()
            .all(|field| !changes_the_answer(field.name, negotiable));
        if plain {
            let mut response = Response::new(200);
            response.fields = Some(Arc::clone(&resource.fields));
            return response.body(match &resource.bytes {
                Some(bytes) => Body::Shared(Arc::clone(bytes)),
                None => Body::File {
                    file: Arc::clone(&resource.file),
                    offset: 0,
                    len: resource.stat.len,
                },
            });
        }
        let now = SystemTime::now();
        let vary = negotiable;
        let codings = precompressed::accepted(&request.headers);
        // A range is answered from the file as it is, never from a variant made here (RFC
        // 9110 §12.1 leaves the choice of representation to the server): ranges serve
        // resumed downloads and media seeking, which want offsets into the file, and a
        // range of a variant still being made could not be answered at all.
        let ranged = request.headers.get("Range").is_some();
        let available =
            PerCoding::from_fn(|coding| on_disk[coding] || (resource.offers[coding] && !ranged));
        let choice = precompressed::choose(codings.as_deref(), available);
        if let Some(coding) = choice.filter(|&coding| !on_disk[coding]) {
            if let Some(response) = self.made_here(request, resource, coding, now) {
                return response;
            }
        }
        if choice.is_none() && precompressed::identity_refused(codings.as_deref()) {
            // RFC 9110 §12.5.3: the file as it is would be sent, but the client refused it,
            // and no coding it accepts is available: 406 (RFC 9110 §15.5.7).
            return not_a_representation(
                Response::text(
                    406,
                    "Not Acceptable: no content coding the request accepts is available\n",
                ),
                true,
            );
        }
        let chosen = choice.and_then(|coding| Some((coding, resource.variants[coding].as_ref()?)));
        let (file, stat, coding) = match chosen {
            Some((coding, (file, stat))) => (Arc::clone(file), stat, Some(coding)),
            None => (Arc::clone(&resource.file), &resource.stat, None),
        };
        let len = stat.len;
        let name = coding.map(ContentCoding::name);
        let current = Validators::new(len, stat.mtime_sec, stat.mtime_nsec, name, now);
        let representation = Representation {
            validators: &current,
            content_type: &resource.content_type,
            coding,
            ranges: true,
            vary,
        };
        let answer = |status: u16, answer: Answer<'_>| {
            let mut response = Response::new(status);
            response.headers = head::head(&representation, answer, &resource.configured);
            response
        };

        match validators::evaluate(request.method, &request.headers, &current, now) {
            Precondition::Proceed => {}
            Precondition::Failed => {
                return not_a_representation(Response::text(412, "Precondition Failed"), vary);
            }
            Precondition::NotModified => return answer(304, Answer::NotModified),
        }

        let if_range = validators::if_range_holds(&request.headers, &current);
        match ranges::decide(request.method, &request.headers, len, if_range) {
            Decision::Full => answer(200, Answer::Content).body(Body::File {
                file,
                offset: 0,
                len,
            }),
            Decision::Partial(parts) => match parts.as_slice() {
                [one] => answer(206, Answer::Content)
                    .header("Content-Range", ranges::content_range(one, len))
                    .body(Body::File {
                        file,
                        offset: one.start,
                        len: one.end.saturating_sub(one.start),
                    }),
                many => {
                    let boundary = ranges::boundary();
                    let content_type = &resource.content_type;
                    let (parts, tail) = ranges::multipart(&boundary, content_type, many, len);
                    let multipart = format!("multipart/byteranges; boundary={boundary}");
                    answer(206, Answer::Parts(&multipart)).body(Body::Multipart {
                        file,
                        parts,
                        tail,
                    })
                }
            },
            Decision::Unsatisfiable => not_a_representation(
                Response::text(416, "Range Not Satisfiable")
                    .header("Content-Range", ranges::unsatisfied_range(len))
                    .header("Accept-Ranges", "bytes"),
                vary,
            ),
        }
    }

    /// The answer from the variant of `resource` in `coding` that this server makes
    /// ([`compress`]), when it has one to give: the variant's best or fast version, whichever
    /// is ready (200, or 304 and 412 by its validators), or 304 when the client's copy of
    /// either version is current although it is not the one ready or none is. `None` sends
    /// the file as it is: no version is ready, or none is worth sending.
    ///
    /// Both versions decode to the file's current bytes, so a client holding either is told
    /// its copy is current (RFC 9110 §13.1.2: the server selects the representation whose
    /// entity-tag If-None-Match is evaluated against), rather than sent the other again.
    fn made_here(
        &self,
        request: &Request<'_, '_>,
        resource: &Resource,
        coding: ContentCoding,
        now: SystemTime,
    ) -> Option<Response> {
        let stat = resource.stat;
        // The validators of the best and the fast version: the entity-tag ends with the
        // coding's name, and `-fast` for the fast version.
        let [best, fast] = [Pass::Best, Pass::Fast].map(|pass| {
            let label = compress::label(coding, pass);
            Validators::new(stat.len, stat.mtime_sec, stat.mtime_nsec, Some(label), now)
        });
        let evaluate = |version: &Validators| {
            validators::evaluate(request.method, &request.headers, version, now)
        };
        let answer = |version: &Validators, status: u16, answer: Answer<'_>| {
            let representation = Representation {
                validators: version,
                content_type: &resource.content_type,
                coding: Some(coding),
                ranges: false,
                vary: true,
            };
            let mut response = Response::new(status);
            response.headers = head::head(&representation, answer, &resource.configured);
            response
        };
        let not_modified = |version: &Validators| answer(version, 304, Answer::NotModified);
        // The version the client holds a current copy of, if any.
        let held = || {
            [&best, &fast]
                .into_iter()
                .find(|version| evaluate(version) == Precondition::NotModified)
        };
        // A streamed response is chunked, which HTTP/1.0 lacks (RFC 9112 §7.1): an HTTP/1.0
        // client gets the file as it is, with its length and keep-alive, until a version is
        // kept, rather than a body delimited by closing the connection.
        let streamable = request.version != Version::HTTP_10;
        let Some(made) = self
            .compression
            .variant(stat, coding, &resource.file, streamable)
        else {
            return held().map(not_modified);
        };
        let current = match made.pass {
            Pass::Best => &best,
            Pass::Fast => &fast,
        };
        Some(match evaluate(current) {
            Precondition::Proceed => match held() {
                Some(version) => not_modified(version),
                None => answer(current, 200, Answer::Content).body(made.body),
            },
            Precondition::NotModified => not_modified(current),
            Precondition::Failed => {
                not_a_representation(Response::text(412, "Precondition Failed"), true)
            }
        })
    }
}

/// `response`, an answer about the file that is none of its representations (`406`, `412`,
/// `416`), with `Vary: Accept-Encoding` when the file has other codings (caches key on
/// Accept-Encoding for every answer about it, RFC 9110 §12.5.5) and nosniff.
fn not_a_representation(response: Response, vary: bool) -> Response {
    let response = if vary {
        response.header("Vary", "Accept-Encoding")
    } else {
        response
    };
    nosniff(response)
}
