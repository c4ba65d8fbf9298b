//! Core rules shared by every grammar (RFC 5234 Appendix B.1, RFC 9110 §5.6), and the byte
//! classes of the URI (RFC 3986), built with `class!`.

#![forbid(unsafe_code)]

use crate::class::{ByteClass, FIELD_VALUE_BYTE, class};
use crate::error::ErrorKind;
use crate::fail::{Fail, PResult, fail, incomplete};
use crate::text::{AsciiClass, CHUNK, non_field_value_mask};
use nom::Parser;
use nom::bytes::complete::tag;
use nom::combinator::{map, opt};
use nom::multi::many0;
use nom::sequence::preceded;

/// ```text
/// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
///         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
/// ```
/// RFC 9110 §5.6.2
pub(crate) static TCHAR: AsciiClass = AsciiClass::new(class!(|b| {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' |
        b'^' | b'_' | b'`' | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}));

/// `HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F"` (RFC 5234 B.1; case-insensitive, as
/// ABNF strings are).
pub(crate) static HEXDIG: ByteClass = class!(|b| b.is_ascii_hexdigit());

/// `DIGIT = %x30-39` (RFC 5234 B.1)
pub(crate) static DIGIT: ByteClass = class!(|b| b.is_ascii_digit());

/// ```text
/// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
/// ```
/// RFC 3986 §2.3
const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// ```text
/// sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
/// ```
/// RFC 3986 §2.2
const fn is_sub_delim(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
    )
}

/// The single bytes of `pchar`; its third form, pct-encoded, is two more bytes after a `%`
/// and is parsed apart.
/// ```text
/// pchar = unreserved / pct-encoded / sub-delims / ":" / "@"
/// ```
/// RFC 3986 §3.3
pub(crate) static PCHAR: ByteClass =
    class!(|b| is_unreserved(b) || is_sub_delim(b) || b == b':' || b == b'@');

/// The single bytes of a path after its first `/`: pchar's single bytes, `/` (which starts
/// the next segment), and the bytes a browser sends unencoded that pchar leaves out
/// (pct-encoded is parsed apart).
/// ```text
/// path-abempty = *( "/" segment )                        ; RFC 3986 §3.3
/// segment      = *pchar
/// ```
/// **Deviation, argued**: `[`, `]`, `|` and `^` are taken too. RFC 9112 §3.2 asks a server to
/// parse the request-target by RFC 3986, whose pchar excludes them, but the WHATWG URL
/// Standard, which is what browsers implement, leaves `[`, `]` and `|` out of the *path
/// percent-encode set* (the C0 controls, SP, `"`, `#`, `<`, `>`, `?`, `^`, `` ` ``, `{`, `}`
/// and everything above `~`), so a browser sends them as they are; `^` joined that set only
/// in a 2024 revision, and browsers and curl still send it raw. None of the four ends a
/// segment, starts a query or a fragment, or means anything to a file system; refusing them
/// only made files like `photo [1].txt` unreachable. Still refused in a path: `\` (WHATWG's
/// parser turns it into `/` for http URLs, so no browser sends it, and it is a separator to
/// some file systems), and the bytes of the path percent-encode set, among them every byte
/// above `~` (see [`QUERY_CHAR`] for raw UTF-8).
pub(crate) static PATH_CHAR: AsciiClass = AsciiClass::new(class!(|b| {
    PCHAR.contains(b) || matches!(b, b'/' | b'[' | b']' | b'|' | b'^')
}));

/// The single bytes of a query: every byte the WHATWG URL Standard's *query percent-encode
/// set* leaves unencoded, that is VCHAR except `"`, `#`, `<` and `>`.
/// ```text
/// query = *( pchar / "/" / "?" )                          ; RFC 3986 §3.4
/// ```
/// **Deviation, argued**: beyond RFC 3986's query, this takes `[`, `]`, `\`, `^`, `` ` ``,
/// `{`, `|`, `}` and a `%` that does not start a `%XX` escape. Browsers send the first eight
/// unencoded in a query (WHATWG URL: the query percent-encode set is the C0 control
/// percent-encode set and SP, `"`, `#`, `<`, `>`; for http URLs also `'`, which is a
/// sub-delim anyway), and a stray `%` (`?q=100%`) as typed. A query is not a path and not
/// framing: it reaches handlers only through the form decoder, which keeps a `%` without two
/// hex digits as it is, as WHATWG's *percent-decode* does. `"`, `<` and `>`, which every
/// browser encodes, stay refused, as do `#`, SP, controls and DEL (RFC 9112 §3.2).
///
/// **Decision, argued**: raw bytes above `~` stay refused in a path and a query, although
/// nginx, h2o and hyper take raw UTF-8. RFC 3986 §2.1 has them percent-encoded, WHATWG's C0
/// control percent-encode set encodes them (so browsers never send them raw), and curl 7.88
/// encodes a typed `/日本.txt` itself; the conformance suite this server is held to (Http11Probe)
/// requires a 400 for them.
pub(crate) static QUERY_CHAR: AsciiClass = AsciiClass::new(class!(|b| {
    matches!(b, 0x21..=0x7e) && !matches!(b, b'"' | b'#' | b'<' | b'>')
}));

/// The single bytes of `reg-name` (pct-encoded apart).
/// ```text
/// reg-name = *( unreserved / pct-encoded / sub-delims )
/// ```
/// RFC 3986 §3.2.2
pub(crate) static REG_NAME_CHAR: AsciiClass =
    AsciiClass::new(class!(|b| is_unreserved(b) || is_sub_delim(b)));

/// The bytes that may appear between the brackets of an `IP-literal`: the union of the
/// alphabets of IPv6address (HEXDIG, ":", and "." for an embedded IPv4address) and IPvFuture
/// ( "v", HEXDIG, ".", unreserved, sub-delims, ":" ). Used to find the closing bracket; the
/// contents are then checked against the one rule they claim.
/// ```text
/// IP-literal = "[" ( IPv6address / IPvFuture  ) "]"
/// IPvFuture  = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
/// ```
/// RFC 3986 §3.2.2
pub(crate) static IP_LITERAL_CHAR: ByteClass =
    class!(|b| is_unreserved(b) || is_sub_delim(b) || b == b':');

/// The bytes after a scheme's first letter.
/// ```text
/// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
/// ```
/// RFC 3986 §3.1
pub(crate) static SCHEME_CHAR: ByteClass =
    class!(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));

/// Whether `bytes` is a `token` (`1*tchar`, RFC 9110 §5.6.2), as a field name must be: for a
/// sender checking the fields it is about to write.
pub fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && TCHAR.prefix_len(bytes) == bytes.len()
}

/// Whether `bytes` may be sent as a field value: only VCHAR, obs-text, SP and HTAB
/// (RFC 9110 §5.5), so no CR, LF or NUL can split a message.
pub fn is_field_value(bytes: &[u8]) -> bool {
    FIELD_VALUE_BYTE.prefix_len(bytes) == bytes.len()
}

/// A field value's bytes without the whitespace a value may not start or end with.
static FIELD_VCHAR: ByteClass = class!(|b| FIELD_VALUE_BYTE.contains(b) && b != b' ' && b != b'\t');

/// Whether `value` is a field value as HTTP/2 and HTTP/3 carry it: only VCHAR, obs-text, SP
/// and HTAB (RFC 9110 §5.5), neither starting nor ending with SP or HTAB (RFC 9113 §8.2.1,
/// RFC 9114 §4.2); the request mapping says which rule a refused value breaks, and where.
/// Sixteen bytes at a time, then the rest looked up without a branch; the input is tested
/// once, at the end: most values are short and clean.
pub(crate) fn is_trimmed_field_value(value: &[u8]) -> bool {
    let mut chunks = value.chunks_exact(CHUNK);
    let bad = chunks
        .by_ref()
        .fold(0, |bad, chunk| bad | non_field_value_mask(chunk));
    let clean = chunks
        .remainder()
        .iter()
        .fold(bad == 0, |all, &b| all & FIELD_VALUE_BYTE.contains(b));
    let ends = match value {
        [first, .., last] => FIELD_VCHAR.contains(*first) & FIELD_VCHAR.contains(*last),
        [only] => FIELD_VCHAR.contains(*only),
        [] => true,
    };
    clean & ends
}

/// `token = 1*tchar` (RFC 9110 §5.6.2). Complete: a token that reaches the end of the input
/// ends there. Fails at the first byte when it is not a tchar.
#[inline]
pub(crate) fn token(input: &[u8]) -> PResult<'_, &[u8]> {
    match TCHAR.prefix_len(input) {
        0 => Err(nom::Err::Error(Fail {
            kind: ErrorKind::InvalidFieldValue,
            at: input,
        })),
        len => Ok((&input[len..], &input[..len])),
    }
}

/// ```text
/// OWS = *( SP / HTAB )
/// BWS = OWS
/// ```
/// RFC 9110 §5.6.3: optional whitespace, and "bad" whitespace, which the grammar allows only
/// for recipients to tolerate; both are this one rule. Never fails; complete: a run that
/// reaches the end of the input ends there (a streaming caller checks for that).
#[inline(always)]
pub(crate) fn ows(input: &[u8]) -> PResult<'_, &[u8]> {
    let len = input.iter().take_while(|&&b| is_ows_byte(b)).count();
    Ok((&input[len..], &input[..len]))
}

/// The bytes of [`ows`]: SP and HTAB (RFC 9110 §5.6.3), for a caller that trims OWS from
/// the end of a value.
#[inline(always)]
pub(crate) const fn is_ows_byte(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// ```text
/// CRLF = CR LF
/// ```
/// RFC 5234 B.1, RFC 9112 §2.1; for a line ending where one is due. Streaming: `Incomplete`
/// for no input or a lone CR at its end.
///
/// **Decision, argued**: RFC 9112 §2.2 lets a recipient accept a bare LF as a line terminator,
/// and says a bare CR MUST be rejected or replaced with SP. This grammar accepts neither: any
/// other byte where the CRLF is due is `InvalidLineEnding` there (at the LF, or at the CR
/// that no LF follows). Two parsers that disagree on where a line ends can be made to disagree
/// on where a request ends (request smuggling); CRLF only leaves no room for that.
#[inline(always)]
pub(crate) fn crlf(input: &[u8]) -> PResult<'_, ()> {
    match input {
        [b'\r', b'\n', rest @ ..] => Ok((rest, ())),
        [] | [b'\r'] => incomplete(),
        _ => fail(ErrorKind::InvalidLineEnding, input),
    }
}

/// ```text
/// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
/// qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
/// quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
/// ```
/// RFC 9110 §5.6.4. Returns the whole quoted string, quotes included. Streaming:
/// `Incomplete` when the input ends before the closing DQUOTE. Fails at the first byte that
/// does not fit: not a DQUOTE at the start, a control or DEL inside (`InvalidFieldValue`;
/// the caller names the rule it was parsing).
pub(crate) fn quoted_string(input: &[u8]) -> PResult<'_, &[u8]> {
    let [b'"', inside @ ..] = input else {
        return match input {
            [] => incomplete(),
            _ => fail(ErrorKind::InvalidFieldValue, input),
        };
    };
    let mut rest = inside;
    loop {
        rest = match rest {
            [b'"', after @ ..] => {
                let len = input.len() - after.len();
                return Ok((after, &input[..len]));
            }
            [] | [b'\\'] => return incomplete(),
            [b'\\', b, after @ ..] if FIELD_VALUE_BYTE.contains(*b) => after,
            [b'\\', _, ..] => return fail(ErrorKind::InvalidFieldValue, &rest[1..]),
            [b, after @ ..] if FIELD_VALUE_BYTE.contains(*b) => after,
            _ => return fail(ErrorKind::InvalidFieldValue, rest),
        };
    }
}

/// `1*DIGIT` (RFC 5234 B.1) as a `u64`: the one decimal rule, for Content-Length, byte
/// ranges and the fields of a date. Complete: digits that reach the end of the input end
/// there. Fails at the first byte when it is not a digit, and at the digit that would take
/// the value past `u64::MAX` (never wraps).
pub(crate) fn decimal(input: &[u8]) -> PResult<'_, u64> {
    let len = DIGIT.prefix_len(input);
    if len == 0 {
        return fail(ErrorKind::InvalidFieldValue, input);
    }
    let mut value: u64 = 0;
    for (i, &d) in input[..len].iter().enumerate() {
        value = match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
        {
            Some(v) => v,
            None => return fail(ErrorKind::InvalidFieldValue, &input[i..]),
        };
    }
    Ok((&input[len..], value))
}

/// `#element`, as a recipient reads a list (RFC 9110 §5.6.1.2):
/// ```text
/// #element => [ element ] *( OWS "," OWS [ element ] )
/// ```
/// Empty elements (`a, , b`, a leading or trailing comma) are skipped, as the RFC asks of
/// recipients; the elements are returned in order. Stops before the first byte that does not
/// continue the list (the caller checks that the whole value was used).
pub(crate) fn list<'a, O, F>(element: F) -> impl Parser<&'a [u8], Output = Vec<O>, Error = Fail<'a>>
where
    F: Fn(&'a [u8]) -> PResult<'a, O> + Copy,
{
    map(
        (
            opt(element),
            many0(preceded((ows, tag(","), ows), opt(element))),
        ),
        |(first, more)| {
            first
                .into_iter()
                .chain(more.into_iter().flatten())
                .collect()
        },
    )
}

/// The value of one HEXDIG.
#[inline(always)]
pub(crate) const fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// Bytes that a rule has already checked to be ASCII, as `&str`. For ASCII input this is the
/// identity; it returns `""` only if a caller broke that contract. For the strings a request
/// holds once or never (a method name, a scheme, an authority); the hot ones are returned as
/// `&str` by the scan that matched them ([`AsciiClass::run`], [`AsciiClass::text`]).
pub(crate) fn ascii_str(ascii: &[u8]) -> &str {
    std::str::from_utf8(ascii).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fail::failure;

    #[test]
    fn sender_checks_of_names_and_values() {
        assert!(is_token(b"X-Content-Type-Options"));
        assert!(!is_token(b""));
        assert!(!is_token(b"X Test"));
        assert!(!is_token(b"X-Test:"));
        assert!(!is_token("Tést".as_bytes()));
        assert!(is_field_value(b""));
        assert!(is_field_value(b"text/plain; charset=utf-8\t \x80\xff"));
        assert!(!is_field_value(b"a\r\nSet-Cookie: x"));
        assert!(!is_field_value(b"a\0b"));
        assert!(!is_field_value(b"a\x7fb"));
        // Long values go through the eight-byte steps; the bad byte is past the first word.
        assert!(!is_field_value(b"0123456789abcdef\n"));
    }

    #[test]
    fn tchar_is_exactly_the_rfc_set() {
        let listed =
            b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for b in 0..=255u8 {
            assert_eq!(TCHAR.contains(b), listed.contains(&b), "byte {b:#04x}");
        }
    }

    #[test]
    fn token_takes_tchars_and_stops() {
        assert_eq!(token(b"GET / x"), Ok((&b" / x"[..], &b"GET"[..])));
        assert_eq!(token(b"GET"), Ok((&b""[..], &b"GET"[..])));
        assert!(token(b" GET").is_err());
    }

    #[test]
    fn crlf_only() {
        assert_eq!(crlf(b"\r\nx"), Ok((&b"x"[..], ())));
        assert_eq!(failure(b"", crlf(b"")), None);
        assert_eq!(failure(b"\r", crlf(b"\r")), None);
        for input in [&b"\nx"[..], b"\rx", b"x\r\n"] {
            assert_eq!(
                failure(input, crlf(input)),
                Some((ErrorKind::InvalidLineEnding, 0)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn quoted_strings() {
        for (input, quoted, rest) in [
            (&b"\"a b\" x"[..], &b"\"a b\""[..], &b" x"[..]),
            (b"\"\"", b"\"\"", b""),
            (b"\"a\\\"b\";", b"\"a\\\"b\"", b";"),
            (b"\"\x80\t\"", b"\"\x80\t\"", b""),
        ] {
            assert_eq!(quoted_string(input), Ok((rest, quoted)), "{input:?}");
        }
        for input in [&b"\"abc"[..], b"\"a\\", b""] {
            assert_eq!(failure(input, quoted_string(input)), None, "{input:?}");
        }
        for (input, at) in [(&b"a\""[..], 0), (b"\"a\x00\"", 2), (b"\"\\\x7f\"", 2)] {
            assert_eq!(
                failure(input, quoted_string(input)),
                Some((ErrorKind::InvalidFieldValue, at)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn decimals_refuse_to_overflow() {
        assert_eq!(decimal(b"0042,"), Ok((&b","[..], 42)));
        assert_eq!(decimal(b"18446744073709551615"), Ok((&b""[..], u64::MAX)));
        assert_eq!(
            failure(b"18446744073709551616", decimal(b"18446744073709551616")),
            Some((ErrorKind::InvalidFieldValue, 19))
        );
        assert_eq!(
            failure(b"+1", decimal(b"+1")),
            Some((ErrorKind::InvalidFieldValue, 0))
        );
    }

    #[test]
    fn ows_takes_sp_and_htab_only() {
        assert_eq!(ows(b" \t x"), Ok((&b"x"[..], &b" \t "[..])));
        assert_eq!(ows(b"x"), Ok((&b"x"[..], &b""[..])));
        assert_eq!(ows(b" "), Ok((&b""[..], &b" "[..])));
    }

    #[test]
    fn uri_classes_are_exactly_the_rfc_sets() {
        let unreserved = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
        let sub_delims = b"!$&'()*+,;=";
        for b in 0..=255u8 {
            let base = unreserved.contains(&b) || sub_delims.contains(&b);
            assert_eq!(REG_NAME_CHAR.contains(b), base, "reg-name {b:#04x}");
            assert_eq!(
                IP_LITERAL_CHAR.contains(b),
                base || b == b':',
                "IP-literal {b:#04x}"
            );
            assert_eq!(
                PCHAR.contains(b),
                base || b":@".contains(&b),
                "pchar {b:#04x}"
            );
            // WHATWG URL: the bytes a browser leaves unencoded in a path and a query.
            let c0_set = !(0x20..=0x7e).contains(&b);
            let query_set = c0_set || b" \"#<>".contains(&b);
            let path_set = query_set || b"?^`{}".contains(&b);
            assert_eq!(
                PATH_CHAR.contains(b),
                (!path_set && b != b'%' && b != b'\\') || b == b'^',
                "path {b:#04x}"
            );
            assert_eq!(QUERY_CHAR.contains(b), !query_set, "query {b:#04x}");
            if !PATH_CHAR.contains(b) && !query_set {
                assert!(b"%\\?`{}".contains(&b), "path refuses {b:#04x}");
            }
            let scheme = b.is_ascii_alphanumeric() || b"+-.".contains(&b);
            assert_eq!(SCHEME_CHAR.contains(b), scheme, "scheme {b:#04x}");
            assert_eq!(DIGIT.contains(b), b.is_ascii_digit(), "DIGIT {b:#04x}");
        }
        for b in b"#%[]/?\\\"<>^`{|} \x7f" {
            assert!(!PCHAR.contains(*b), "{b:#04x} is not a pchar");
        }
    }

    #[test]
    fn prefix_len_matches_a_byte_by_byte_scan() {
        for len in 0..40 {
            for stop in 0..=len {
                let mut bytes = vec![b'a'; len];
                if let Some(b) = bytes.get_mut(stop) {
                    *b = b'/';
                }
                assert_eq!(TCHAR.prefix_len(&bytes), stop, "{len} {stop}");
            }
        }
    }

    #[test]
    fn ascii_class_runs_are_text() {
        assert!(!FIELD_VALUE_BYTE.is_ascii());
        assert_eq!(TCHAR.run(b"Content-Type: x"), ("Content-Type", &b": x"[..]));
        assert_eq!(TCHAR.run("Tést".as_bytes()).0, "T");
        assert_eq!(TCHAR.run(b""), ("", &b""[..]));
        assert_eq!(ascii_str(b"caf\xe9"), "");
    }

    #[test]
    fn hex_values() {
        assert_eq!(hex_value(b'0'), 0);
        assert_eq!(hex_value(b'a'), 10);
        assert_eq!(hex_value(b'F'), 15);
    }
}
