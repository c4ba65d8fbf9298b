//! Precompressed variants: `FILE.br`, `FILE.zst`, `FILE.gz` beside `FILE`, sent with
//! `Content-Encoding` when the request's `Accept-Encoding` (RFC 9110 §12.5.3) admits them.
//!
//! The variants are files the deployment put there; [`choose`] picks among them and the
//! ones made here ([`super::compress`]). Each variant is its own representation, with its
//! own length and entity-tag, and the original's Content-Type (RFC 9110 §8.4: the coding is
//! applied to the content of that type).

use super::coding::{ContentCoding, PerCoding};
use nomserve_grammar::{Coding, Headers, parse_accept_encoding};

/// The codings of every Accept-Encoding field line, as one list (RFC 9110 §5.3), or `None`
/// when there is no such field or one line does not parse (an invalid field is ignored).
///
/// ```abnf
/// Accept-Encoding  = #( codings [ weight ] )
/// codings          = content-coding / "identity" / "*"
/// ```
pub(super) fn accepted<'b>(headers: &Headers<'b, '_>) -> Option<Vec<Coding<'b>>> {
    let mut all: Option<Vec<Coding<'b>>> = None;
    for value in headers.get_all("accept-encoding") {
        all.get_or_insert_with(Vec::new)
            .extend(parse_accept_encoding(value)?);
    }
    all
}

/// The weight (thousandths) the list `codings` gives to `coding` ([`Coding::weight`]: its
/// own entry's, else the `*` entry's, else 0), where an entry for another of its tokens
/// stands for it when its name itself is not listed (`x-gzip` for `gzip`,
/// [`ContentCoding::tokens`]).
fn weight(codings: &[Coding<'_>], coding: ContentCoding) -> u16 {
    let listed = |wanted: &str| codings.iter().any(|c| c.name.eq_ignore_ascii_case(wanted));
    let token = coding
        .tokens()
        .iter()
        .copied()
        .find(|token| listed(token))
        .unwrap_or(coding.name());
    Coding::weight(codings, token)
}

/// Which coding to send, given the request's codings
/// (`None`: no valid Accept-Encoding) and which variants exist. `None` means the file as it is.
///
/// RFC 9110 §12.5.3 rules: a coding is acceptable if its weight is above 0. Among the
/// variants that exist and are acceptable, the highest weight wins, ties going to the
/// order of [`ContentCoding::ALL`]. It is sent unless the client weighed `identity` higher, by an
/// `identity` entry or a `*` entry. An `identity` the client did not weigh at all is
/// acceptable (§12.5.3) but not preferred: `br;q=0.5, gzip;q=0.8` ranks the codings the
/// client listed, and sending neither would ignore what it said.
///
/// Deviation, argued: RFC 9110 §12.5.3 says a request without Accept-Encoding accepts any
/// coding; we send the file as it is, because a client that did not ask (curl, scripts)
/// usually cannot decode what it did not ask for. When every acceptable coding is missing
/// and `identity` is refused, we still send the file as it is rather than 406: §12.5.3
/// allows either, and a usable answer beats an error.
pub(super) fn choose(
    codings: Option<&[Coding<'_>]>,
    available: PerCoding<bool>,
) -> Option<ContentCoding> {
    let codings = codings?;
    let weighed = |name: &str| codings.iter().any(|c| c.name.eq_ignore_ascii_case(name));
    let identity = if weighed("identity") || weighed("*") {
        Coding::weight(codings, "identity")
    } else {
        0
    };
    let mut best: Option<(ContentCoding, u16)> = None;
    for coding in available.chosen() {
        let q = weight(codings, coding);
        if q > 0 && best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((coding, q));
        }
    }
    best.filter(|&(_, q)| q >= identity)
        .map(|(coding, _)| coding)
}

/// Whether `codings` refuse the file as it is: `identity;q=0`, or `*;q=0` without
/// `identity` listed (RFC 9110 §12.5.3).
pub(super) fn identity_refused(codings: Option<&[Coding<'_>]>) -> bool {
    let Some(codings) = codings else {
        return false;
    };
    let listed = |name: &str| codings.iter().any(|c| c.name.eq_ignore_ascii_case(name));
    (listed("identity") || listed("*")) && Coding::weight(codings, "identity") == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const BR: ContentCoding = ContentCoding::Br;
    const ZSTD: ContentCoding = ContentCoding::Zstd;
    const GZIP: ContentCoding = ContentCoding::Gzip;

    /// The coding chosen for `accept` among the `available` ones.
    fn pick(accept: &str, available: &[ContentCoding]) -> Option<&'static str> {
        let available = PerCoding::from_fn(|coding| available.contains(&coding));
        let fields = [nomserve_grammar::Header {
            name: "Accept-Encoding",
            value: accept.as_bytes(),
        }];
        let codings = accepted(&Headers::new(&fields));
        choose(codings.as_deref(), available).map(ContentCoding::name)
    }

    const ALL: &[ContentCoding] = &[BR, ZSTD, GZIP];

    fn all() -> PerCoding<bool> {
        PerCoding::from_fn(|_| true)
    }

    #[test]
    fn prefers_br_then_zstd_then_gzip_when_weights_tie() {
        assert_eq!(pick("gzip, deflate, br, zstd", ALL), Some("br"));
        assert_eq!(pick("gzip, zstd", ALL), Some("zstd"));
        assert_eq!(pick("gzip", ALL), Some("gzip"));
        assert_eq!(pick("x-gzip", ALL), Some("gzip"));
        assert_eq!(pick("*", ALL), Some("br"));
        assert_eq!(pick("gzip, br", &[ZSTD, GZIP]), Some("gzip"));
        assert_eq!(pick("br", &[ZSTD, GZIP]), None);
    }

    #[test]
    fn the_highest_weight_wins() {
        assert_eq!(pick("br;q=0.5, gzip;q=0.8", ALL), Some("gzip"));
        assert_eq!(pick("br;q=0.5, *;q=0.9", ALL), Some("zstd"));
        assert_eq!(pick("gzip;q=0.5, identity", ALL), None);
        assert_eq!(pick("gzip;q=0.5, identity;q=0.4", ALL), Some("gzip"));
        assert_eq!(pick("gzip;q=0.5, *;q=0.6", &[GZIP]), None);
    }

    #[test]
    fn identity_is_refused_only_when_said() {
        let refused = |accept: &str| {
            let fields = [nomserve_grammar::Header {
                name: "Accept-Encoding",
                value: accept.as_bytes(),
            }];
            identity_refused(accepted(&Headers::new(&fields)).as_deref())
        };
        assert!(refused("identity;q=0"));
        assert!(refused("br;q=0, identity;q=0"));
        assert!(refused("*;q=0"));
        assert!(!refused("*;q=0, identity"));
        assert!(!refused("gzip;q=0"));
        assert!(!refused("br"));
        assert!(!identity_refused(None));
    }

    #[test]
    fn weight_zero_refuses() {
        assert_eq!(pick("br;q=0, gzip", ALL), Some("gzip"));
        assert_eq!(pick("br;q=0, gzip;q=0", ALL), None);
        assert_eq!(pick("*;q=0", ALL), None);
        assert_eq!(pick("gzip;q=0", &[GZIP]), None);
    }

    #[test]
    fn no_or_empty_or_invalid_field_means_the_file_as_it_is() {
        assert_eq!(choose(None, all()), None);
        assert_eq!(pick("", ALL), None);
        assert_eq!(pick("identity", ALL), None);
        assert_eq!(pick("gzip;q=2", ALL), None);
    }

    #[test]
    fn field_lines_form_one_list() {
        let fields = [
            nomserve_grammar::Header {
                name: "Accept-Encoding",
                value: b"br;q=0.1",
            },
            nomserve_grammar::Header {
                name: "accept-encoding",
                value: b"gzip",
            },
        ];
        let codings = accepted(&Headers::new(&fields));
        assert_eq!(choose(codings.as_deref(), all()), Some(ContentCoding::Gzip));
    }
}
