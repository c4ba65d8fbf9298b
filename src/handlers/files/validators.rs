//! Validators (RFC 9110 §8.8) and the evaluation of preconditions (RFC 9110 §13).
//!
//! Every function here is pure: it takes the request's fields, the file's validators and the
//! current time, and says what the response must be. The handler reads the file's metadata
//! and the clock; the tests need neither.

use nomserve_grammar::{
    EntityTag, EntityTagList, Headers, Method, format_http_date, parse_entity_tag,
    parse_entity_tag_list, parse_http_date,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A representation's validators: its strong entity-tag and its modification time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Validators {
    /// The opaque-tag, without its quotes (RFC 9110 §8.8.3: `opaque-tag = DQUOTE *etagc
    /// DQUOTE`). Always strong.
    pub(super) tag: String,
    /// The Last-Modified time, in whole seconds: the file's modification time, or `now` if
    /// that lies in the future (RFC 9110 §8.8.2.1).
    pub(super) last_modified: SystemTime,
}

impl Validators {
    /// The validators of a file of `len` bytes modified at `mtime_sec` seconds and
    /// `mtime_nsec` nanoseconds after the epoch (as `fstat` gives them), served with the
    /// content-coding `coding` (`None` for the file as it is), at time `now`.
    ///
    /// The entity-tag is `<len hex>-<mtime in nanoseconds hex>`, then `-<coding>` for an
    /// encoded variant, so that a variant's tag never equals the identity one (RFC 9110
    /// §8.8.3: a tag identifies one representation). It deliberately leaves out the inode:
    /// the same files deployed on several hosts get the same tags, so a cache behind a load
    /// balancer revalidates instead of refetching.
    pub(super) fn new(
        len: u64,
        mtime_sec: i64,
        mtime_nsec: i64,
        coding: Option<&str>,
        now: SystemTime,
    ) -> Validators {
        let nanos = i128::from(mtime_sec) * 1_000_000_000 + i128::from(mtime_nsec);
        let tag = match coding {
            None => format!("{len:x}-{nanos:x}"),
            Some(coding) => format!("{len:x}-{nanos:x}-{coding}"),
        };
        let mtime = if mtime_sec >= 0 {
            UNIX_EPOCH.checked_add(Duration::from_secs(mtime_sec.unsigned_abs()))
        } else {
            UNIX_EPOCH.checked_sub(Duration::from_secs(mtime_sec.unsigned_abs()))
        }
        .unwrap_or(UNIX_EPOCH);
        Validators {
            tag,
            last_modified: mtime.min(whole_seconds(now)),
        }
    }

    /// The ETag field value (RFC 9110 §8.8.3): `entity-tag = [ weak ] opaque-tag`, strong.
    pub(super) fn etag(&self) -> String {
        self.entity_tag().to_header()
    }

    /// The Last-Modified field value (RFC 9110 §8.8.2), an IMF-fixdate.
    pub(super) fn last_modified_value(&self) -> String {
        format_http_date(self.last_modified)
            .iter()
            .map(|&b| char::from(b))
            .collect()
    }

    /// Our entity-tag, always strong.
    fn entity_tag(&self) -> EntityTag<'_> {
        EntityTag {
            weak: false,
            tag: &self.tag,
        }
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both tags strong and their opaque-tags equal.
    fn strong_match(&self, other: &EntityTag<'_>) -> bool {
        self.entity_tag().strong_eq(other)
    }

    /// Weak comparison (RFC 9110 §8.8.3.2): the opaque-tags are equal, weak or not.
    fn weak_match(&self, other: &EntityTag<'_>) -> bool {
        self.entity_tag().weak_eq(other)
    }
}

/// `time` rounded down to a whole second, the resolution of an HTTP-date.
fn whole_seconds(time: SystemTime) -> SystemTime {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => UNIX_EPOCH + Duration::from_secs(since.as_secs()),
        Err(_) => time,
    }
}

/// What the preconditions decide (RFC 9110 §13.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Precondition {
    /// Every precondition holds (or none was sent): go on to Range handling.
    Proceed,
    /// `304 Not Modified` (RFC 9110 §15.4.5).
    NotModified,
    /// `412 Precondition Failed` (RFC 9110 §15.5.13).
    Failed,
}

/// The entity-tag lists of every field line named `name`, merged: `Some(Any)` if one line is
/// `*`, `Some(Tags)` with all tags otherwise, `None` if no line is present or any line is not
/// a valid list (`If-Match = "*" / #entity-tag`, RFC 9110 §13.1.1; `If-None-Match = "*" /
/// #entity-tag`, RFC 9110 §13.1.2). Several field lines form one list (RFC 9110 §5.3).
fn tag_list<'b>(headers: &Headers<'b, '_>, name: &str) -> Option<Result<EntityTagList<'b>, ()>> {
    let mut merged: Option<EntityTagList<'b>> = None;
    for value in headers.get_all(name) {
        let Some(list) = parse_entity_tag_list(value) else {
            return Some(Err(()));
        };
        merged = Some(match (merged, list) {
            (Some(EntityTagList::Any), _) | (_, EntityTagList::Any) => EntityTagList::Any,
            (Some(EntityTagList::Tags(mut tags)), EntityTagList::Tags(more)) => {
                tags.extend(more);
                EntityTagList::Tags(tags)
            }
            (None, tags) => tags,
        });
    }
    merged.map(Ok)
}

/// The date of a field that must hold exactly one HTTP-date (RFC 9110 §5.6.7), or `None` when
/// the field is absent, appears on several lines (a list of dates is invalid), or is not a
/// valid date: RFC 9110 §13.1.3 and §13.1.4 say to ignore the field in each of those cases.
fn single_date(headers: &Headers<'_, '_>, name: &str) -> Option<SystemTime> {
    let mut values = headers.get_all(name);
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_http_date(value)
}

/// Evaluates the preconditions of a request for a representation that exists, with validators
/// `current`, in the order of RFC 9110 §13.2.2:
///
/// 1. `If-Match` present: false → `412`. `*` is true (the representation exists); a list is
///    true if one tag matches by strong comparison (§13.1.1).
/// 2. Else `If-Unmodified-Since` present and a valid date: false (modified after it) → `412`
///    (§13.1.4).
/// 3. `If-None-Match` present: false (`*`, or a tag matches by weak comparison) → `304` for
///    GET and HEAD, `412` for other methods (§13.1.2).
/// 4. Else, for GET and HEAD, `If-Modified-Since` a valid date not after `now`: false (not
///    modified since) → `304` (§13.1.3).
///
/// Range and `If-Range` (step 5) are left to the caller, for a `Proceed`.
///
/// Deviation, argued: RFC 9110 does not say what an `If-Match` that is not a valid list
/// means. We take it as a list that matches nothing, so it fails (`412`): the client meant to
/// guard its request and we cannot tell it holds. An invalid `If-None-Match` is ignored as if
/// absent, which leads to a full `200`, the answer that is always correct for a GET.
pub(super) fn evaluate(
    method: Method<'_>,
    headers: &Headers<'_, '_>,
    current: &Validators,
    now: SystemTime,
) -> Precondition {
    let safe = matches!(method, Method::Get | Method::Head);
    match tag_list(headers, "if-match") {
        Some(Ok(EntityTagList::Any)) => {}
        Some(Ok(EntityTagList::Tags(tags))) => {
            if !tags.iter().any(|tag| current.strong_match(tag)) {
                return Precondition::Failed;
            }
        }
        Some(Err(())) => return Precondition::Failed,
        None => {
            if let Some(date) = single_date(headers, "if-unmodified-since") {
                if current.last_modified > date {
                    return Precondition::Failed;
                }
            }
        }
    }
    let not_modified = if safe {
        Precondition::NotModified
    } else {
        Precondition::Failed
    };
    match tag_list(headers, "if-none-match") {
        Some(Ok(EntityTagList::Any)) => return not_modified,
        Some(Ok(EntityTagList::Tags(tags))) => {
            if tags.iter().any(|tag| current.weak_match(tag)) {
                return not_modified;
            }
        }
        // Invalid: ignored, but present, so If-Modified-Since is not looked at (§13.1.3).
        Some(Err(())) => {}
        None => {
            if let Some(date) = single_date(headers, "if-modified-since").filter(|_| safe) {
                if date <= now && current.last_modified <= date {
                    return Precondition::NotModified;
                }
            }
        }
    }
    Precondition::Proceed
}

/// Whether a Range request may be answered with a part (RFC 9110 §13.1.5): true when there is
/// no `If-Range`, or its validator matches `current`:
///
/// ```abnf
/// If-Range = entity-tag / HTTP-date
/// ```
///
/// An entity-tag matches by strong comparison (a weak one never does); an HTTP-date matches
/// only if it equals Last-Modified exactly. A value that is neither, or several field lines,
/// is false: the client then gets the whole representation, which is never wrong.
pub(super) fn if_range_holds(headers: &Headers<'_, '_>, current: &Validators) -> bool {
    let mut values = headers.get_all("if-range");
    let Some(value) = values.next() else {
        return true;
    };
    if values.next().is_some() {
        return false;
    }
    // §13.1.5: "A valid entity-tag can be distinguished from a valid HTTP-date by examining
    // the first three characters for a DQUOTE."
    if value.iter().take(3).any(|&b| b == b'"') {
        parse_entity_tag(value).is_some_and(|tag| current.strong_match(&tag))
    } else {
        parse_http_date(value).is_some_and(|date| date == current.last_modified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::Header;

    /// 2024-01-02T03:04:05Z, and that date as an IMF-fixdate.
    const MTIME: i64 = 1_704_164_645;
    const MTIME_DATE: &str = "Tue, 02 Jan 2024 03:04:05 GMT";
    const BEFORE: &str = "Tue, 02 Jan 2024 03:04:04 GMT";
    const AFTER: &str = "Tue, 02 Jan 2024 03:04:06 GMT";

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }

    fn current() -> Validators {
        Validators::new(0x1234, MTIME, 500, None, now())
    }

    fn headers<'a>(fields: &'a [(&'a str, &'a str)]) -> Vec<Header<'a>> {
        fields
            .iter()
            .map(|(name, value)| Header {
                name,
                value: value.as_bytes(),
            })
            .collect()
    }

    fn eval(method: Method<'_>, fields: &[(&str, &str)]) -> Precondition {
        let fields = headers(fields);
        evaluate(method, &Headers::new(&fields), &current(), now())
    }

    #[test]
    fn etag_and_last_modified_format() {
        let v = current();
        assert_eq!(v.etag(), "\"1234-17a668b7300133f4\"");
        assert_eq!(v.last_modified_value(), MTIME_DATE);
        let gz = Validators::new(0x1234, MTIME, 500, Some("gzip"), now());
        assert_eq!(gz.etag(), "\"1234-17a668b7300133f4-gzip\"");
        // A different nanosecond is a different tag; the date is the same second.
        let later = Validators::new(0x1234, MTIME, 501, None, now());
        assert_ne!(later.tag, v.tag);
        assert_eq!(later.last_modified, v.last_modified);
        // A modification time in the future is replaced by now (RFC 9110 §8.8.2.1).
        let future = Validators::new(1, 1_900_000_000, 0, None, now());
        assert_eq!(future.last_modified, now());
    }

    #[test]
    fn no_preconditions_proceed() {
        assert_eq!(eval(Method::Get, &[]), Precondition::Proceed);
    }

    #[test]
    fn if_match() {
        let tag = current().etag();
        let weak = format!("W/{tag}");
        let list = format!("\"other\", {tag}");
        for (value, expected) in [
            ("*", Precondition::Proceed),
            (tag.as_str(), Precondition::Proceed),
            (list.as_str(), Precondition::Proceed),
            ("\"other\"", Precondition::Failed),
            // Strong comparison: a weak tag never matches.
            (weak.as_str(), Precondition::Failed),
            // Not a list of entity-tags.
            ("nonsense", Precondition::Failed),
        ] {
            assert_eq!(
                eval(Method::Get, &[("If-Match", value)]),
                expected,
                "{value}"
            );
        }
        // Two field lines are one list.
        assert_eq!(
            eval(Method::Get, &[("If-Match", "\"a\""), ("if-match", &tag)]),
            Precondition::Proceed
        );
    }

    #[test]
    fn if_unmodified_since_only_without_if_match() {
        for (date, expected) in [
            (BEFORE, Precondition::Failed),
            (MTIME_DATE, Precondition::Proceed),
            (AFTER, Precondition::Proceed),
            ("not a date", Precondition::Proceed),
        ] {
            assert_eq!(
                eval(Method::Get, &[("If-Unmodified-Since", date)]),
                expected,
                "{date}"
            );
        }
        // If-Match present and true: If-Unmodified-Since is not looked at.
        assert_eq!(
            eval(
                Method::Get,
                &[("If-Match", "*"), ("If-Unmodified-Since", BEFORE)]
            ),
            Precondition::Proceed
        );
        // Two dates are a list, and invalid: ignored.
        assert_eq!(
            eval(
                Method::Get,
                &[
                    ("If-Unmodified-Since", BEFORE),
                    ("If-Unmodified-Since", BEFORE)
                ]
            ),
            Precondition::Proceed
        );
    }

    #[test]
    fn if_none_match() {
        let tag = current().etag();
        let weak = format!("W/{tag}");
        let list = format!("\"a\", \"b\", {weak}");
        for (value, expected) in [
            ("*", Precondition::NotModified),
            (tag.as_str(), Precondition::NotModified),
            // Weak comparison: a weak tag matches.
            (weak.as_str(), Precondition::NotModified),
            (list.as_str(), Precondition::NotModified),
            ("\"other\"", Precondition::Proceed),
            ("nonsense", Precondition::Proceed),
        ] {
            assert_eq!(
                eval(Method::Get, &[("If-None-Match", value)]),
                expected,
                "{value}"
            );
            let head = eval(Method::Head, &[("If-None-Match", value)]);
            assert_eq!(head, expected, "HEAD {value}");
        }
        // For other methods a false If-None-Match is a 412.
        assert_eq!(
            eval(Method::Put, &[("If-None-Match", "*")]),
            Precondition::Failed
        );
    }

    #[test]
    fn if_modified_since() {
        let far_future = "Fri, 01 Jan 2100 00:00:00 GMT";
        for (date, expected) in [
            (MTIME_DATE, Precondition::NotModified),
            (AFTER, Precondition::NotModified),
            (BEFORE, Precondition::Proceed),
            // A date after now is invalid: ignored.
            (far_future, Precondition::Proceed),
            ("yesterday", Precondition::Proceed),
        ] {
            assert_eq!(
                eval(Method::Get, &[("If-Modified-Since", date)]),
                expected,
                "{date}"
            );
        }
        // Only for GET and HEAD.
        assert_eq!(
            eval(Method::Post, &[("If-Modified-Since", AFTER)]),
            Precondition::Proceed
        );
        // Ignored when If-None-Match is present, even one that does not parse.
        assert_eq!(
            eval(
                Method::Get,
                &[("If-None-Match", "\"other\""), ("If-Modified-Since", AFTER)]
            ),
            Precondition::Proceed
        );
        assert_eq!(
            eval(
                Method::Get,
                &[("If-None-Match", "nonsense"), ("If-Modified-Since", AFTER)]
            ),
            Precondition::Proceed
        );
    }

    #[test]
    fn order_of_evaluation() {
        // A failed If-Match wins over a matching If-None-Match.
        assert_eq!(
            eval(
                Method::Get,
                &[("If-Match", "\"other\""), ("If-None-Match", "*")]
            ),
            Precondition::Failed
        );
        // A failed If-Unmodified-Since wins over a false If-Modified-Since.
        assert_eq!(
            eval(
                Method::Get,
                &[
                    ("If-Unmodified-Since", BEFORE),
                    ("If-Modified-Since", AFTER)
                ]
            ),
            Precondition::Failed
        );
    }

    #[test]
    fn if_range() {
        let v = current();
        let tag = v.etag();
        let weak = format!("W/{tag}");
        for (value, expected) in [
            (tag.as_str(), true),
            (weak.as_str(), false),
            ("\"other\"", false),
            (MTIME_DATE, true),
            (AFTER, false),
            (BEFORE, false),
            ("garbage", false),
        ] {
            let pairs = [("If-Range", value)];
            let fields = headers(&pairs);
            assert_eq!(
                if_range_holds(&Headers::new(&fields), &v),
                expected,
                "{value}"
            );
        }
        assert!(if_range_holds(&Headers::new(&[]), &v));
    }
}
