//! Precompressed variants: `FILE.br`, `FILE.zst`, `FILE.gz` beside `FILE`, sent with
//! `Content-Encoding` when the request's `Accept-Encoding` (RFC 9110 §12.5.3) admits them.
//!
//! The server never compresses anything itself: it picks among files the deployment put
//! there. Each variant is its own representation, with its own length and entity-tag, and
//! the original's Content-Type (RFC 9110 §8.4: the coding is applied to the content of that
//! type).

use nomserve_grammar::{Coding, Headers, parse_accept_encoding};

/// One kind of precompressed variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Variant {
    /// The suffix the variant's file name adds to the original's.
    pub(super) suffix: &'static str,
    /// The content-coding (RFC 9110 §8.4.1), as sent in Content-Encoding and matched in
    /// Accept-Encoding.
    pub(super) coding: &'static str,
}

/// The variants looked for, in the server's order of preference when the client weighs them
/// equally: Brotli compresses text best, then Zstandard, then gzip, which every client has.
/// Codings: `br` (RFC 7932), `zstd` (RFC 8878), `gzip` (RFC 9110 §8.4.1.3).
pub(super) const VARIANTS: [Variant; 3] = [
    Variant {
        suffix: ".br",
        coding: "br",
    },
    Variant {
        suffix: ".zst",
        coding: "zstd",
    },
    Variant {
        suffix: ".gz",
        coding: "gzip",
    },
];

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

/// The weight (thousandths) the list `codings` gives to the content-coding `name`
/// ([`Coding::weight`]: its own entry's, else the `*` entry's, else 0), where an `x-gzip`
/// entry stands for `gzip` when `gzip` itself is not listed (RFC 9110 §8.4.1.3: "A recipient
/// SHOULD consider "x-gzip" to be equivalent to "gzip"").
fn weight(codings: &[Coding<'_>], name: &str) -> u16 {
    let listed = |wanted: &str| codings.iter().any(|c| c.name.eq_ignore_ascii_case(wanted));
    if name == "gzip" && !listed("gzip") && listed("x-gzip") {
        Coding::weight(codings, "x-gzip")
    } else {
        Coding::weight(codings, name)
    }
}

/// Which variant to send, as an index into [`VARIANTS`], given the request's codings
/// (`None`: no valid Accept-Encoding) and which variants exist. `None` means the file as it is.
///
/// RFC 9110 §12.5.3 rules: a coding is acceptable if its weight is above 0. Among the
/// variants that exist and are acceptable, the highest weight wins, ties going to the
/// order of [`VARIANTS`]. It is sent unless the client weighed `identity` higher, by an
/// `identity` entry or a `*` entry. An `identity` the client did not weigh at all is
/// acceptable (§12.5.3) but not preferred: `br;q=0.5, gzip;q=0.8` ranks the codings the
/// client listed, and sending neither would ignore what it said.
///
/// Deviation, argued: RFC 9110 §12.5.3 says a request without Accept-Encoding accepts any
/// coding; we send the file as it is, because a client that did not ask (curl, scripts)
/// usually cannot decode what it did not ask for. When every acceptable coding is missing
/// and `identity` is refused, we still send the file as it is rather than 406: §12.5.3
/// allows either, and a usable answer beats an error.
pub(super) fn choose(codings: Option<&[Coding<'_>]>, available: [bool; 3]) -> Option<usize> {
    let codings = codings?;
    let weighed = |name: &str| codings.iter().any(|c| c.name.eq_ignore_ascii_case(name));
    let identity = if weighed("identity") || weighed("*") {
        Coding::weight(codings, "identity")
    } else {
        0
    };
    let mut best: Option<(usize, u16)> = None;
    for (i, variant) in VARIANTS.iter().enumerate() {
        let q = weight(codings, variant.coding);
        if available[i] && q > 0 && best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((i, q));
        }
    }
    best.filter(|&(_, q)| q >= identity).map(|(i, _)| i)
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

    fn pick(accept: &str, available: [bool; 3]) -> Option<&'static str> {
        let fields = [nomserve_grammar::Header {
            name: "Accept-Encoding",
            value: accept.as_bytes(),
        }];
        let codings = accepted(&Headers::new(&fields));
        choose(codings.as_deref(), available).map(|i| VARIANTS[i].coding)
    }

    const ALL: [bool; 3] = [true, true, true];

    #[test]
    fn prefers_br_then_zstd_then_gzip_when_weights_tie() {
        assert_eq!(pick("gzip, deflate, br, zstd", ALL), Some("br"));
        assert_eq!(pick("gzip, zstd", ALL), Some("zstd"));
        assert_eq!(pick("gzip", ALL), Some("gzip"));
        assert_eq!(pick("x-gzip", ALL), Some("gzip"));
        assert_eq!(pick("*", ALL), Some("br"));
        assert_eq!(pick("gzip, br", [false, true, true]), Some("gzip"));
        assert_eq!(pick("br", [false, true, true]), None);
    }

    #[test]
    fn the_highest_weight_wins() {
        assert_eq!(pick("br;q=0.5, gzip;q=0.8", ALL), Some("gzip"));
        assert_eq!(pick("br;q=0.5, *;q=0.9", ALL), Some("zstd"));
        assert_eq!(pick("gzip;q=0.5, identity", ALL), None);
        assert_eq!(pick("gzip;q=0.5, identity;q=0.4", ALL), Some("gzip"));
        assert_eq!(pick("gzip;q=0.5, *;q=0.6", [false, false, true]), None);
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
        assert_eq!(pick("gzip;q=0", [false, false, true]), None);
    }

    #[test]
    fn no_or_empty_or_invalid_field_means_the_file_as_it_is() {
        assert_eq!(choose(None, ALL), None);
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
        assert_eq!(choose(codings.as_deref(), ALL), Some(2));
    }
}
