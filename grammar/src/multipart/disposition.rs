//! A part's `Content-Disposition: form-data` (RFC 7578 §4.2, RFC 6266 §4.1) and the
//! `filename*` ext-value (RFC 8187 §3.2.1).

#![forbid(unsafe_code)]

use super::error::{Fail, MResult, MultipartErrorKind, fail, named};
use crate::abnf::{HEXDIG, hex_value, ows, token};
use crate::class::FIELD_VALUE_BYTE;

/// What a part's Content-Disposition says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Disposition {
    /// The `name` parameter, unquoted.
    pub(crate) name: String,
    /// The `filename` parameter, unquoted and otherwise as given.
    pub(crate) filename: Option<String>,
    /// The `filename*` parameter, decoded.
    pub(crate) filename_star: Option<String>,
}

/// ```text
/// content-disposition = "Content-Disposition" ":"
///                        disposition-type *( ";" disposition-parm )
/// disposition-type    = "inline" | "attachment" | disp-ext-type
/// disp-ext-type       = token
/// disposition-parm    = filename-parm | disp-ext-parm
/// filename-parm       = "filename" "=" value
///                     | "filename*" "=" ext-value
/// disp-ext-parm       = token "=" value
///                     | ext-token "=" ext-value
/// ext-token           = <the characters in token, followed by "*">
/// ```
/// RFC 6266 §4.1, the field's value whole. In a multipart/form-data part the type is
/// `form-data` (RFC 7578 §4.2, case-insensitive), and `name` is required (`MissingName`, at
/// the value's start). Parameter names are case-insensitive; one given twice is
/// `DuplicateParameter` (RFC 6266 §4.1 makes such a value invalid); unknown ones are parsed
/// and ignored. RFC 6266 keeps RFC 2616's implied linear whitespace, so OWS is taken around
/// `;` and `=`; an empty parameter (`;;`, a trailing `;`) is skipped, as RFC 9110 §5.6.6
/// allows in media-type parameters. `name` and `filename` must be UTF-8 (`InvalidUtf8`), as
/// the HTML form submission sends them (RFC 7578 §5.1.1).
///
/// `filename*` is accepted although RFC 7578 §4.2 tells senders not to use it in a form: a
/// client that sends it means the decoded name, which is preferred (RFC 6266 §4.3).
pub(crate) fn content_disposition(input: &[u8]) -> MResult<'_, Disposition> {
    use MultipartErrorKind::*;
    let (mut rest, kind) = named(InvalidContentDisposition, token(input))?;
    if !kind.eq_ignore_ascii_case(b"form-data") {
        return fail(InvalidContentDisposition, input);
    }
    let mut name = None;
    let mut disposition = Disposition::default();
    loop {
        let after_ws = ows(rest).map_or(rest, |r| r.0);
        let after_semicolon = match after_ws {
            [] => break,
            [b';', after @ ..] => ows(after).map_or(after, |r| r.0),
            _ => return fail(InvalidContentDisposition, after_ws),
        };
        if matches!(after_semicolon, [] | [b';', ..]) {
            rest = after_semicolon;
            continue;
        }
        let (after, (param, value)) = disposition_parm(after_semicolon)?;
        let duplicate = || fail(DuplicateParameter, after_semicolon);
        match value {
            ParmValue::Value(written, bytes) => {
                let slot = if param.eq_ignore_ascii_case(b"name") {
                    &mut name
                } else if param.eq_ignore_ascii_case(b"filename") {
                    &mut disposition.filename
                } else {
                    rest = after;
                    continue;
                };
                if slot.is_some() {
                    return duplicate();
                }
                *slot = Some(utf8(written, bytes)?);
            }
            ParmValue::Ext(written) if param.eq_ignore_ascii_case(b"filename*") => {
                if disposition.filename_star.is_some() {
                    return duplicate();
                }
                disposition.filename_star = Some(decode_ext_value(written)?);
            }
            ParmValue::Ext(_) => {}
        }
        rest = after;
    }
    match name {
        Some(name) => Ok((
            rest,
            Disposition {
                name,
                ..disposition
            },
        )),
        None => fail(MissingName, input),
    }
}

/// A parameter's value, as the rules read it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ParmValue<'b> {
    /// `value = token | quoted-string`, unquoted.
    Value(&'b [u8], Vec<u8>),
    /// `ext-value`, as written.
    Ext(&'b [u8]),
}

/// `token [ BWS "=" BWS ] ( value | ext-value )`: one `disposition-parm` (RFC 6266 §4.1),
/// its name and its value; the value is an ext-value when the name ends in `*`.
fn disposition_parm(input: &[u8]) -> MResult<'_, (&[u8], ParmValue<'_>)> {
    use MultipartErrorKind::InvalidContentDisposition;
    let (rest, name) = named(InvalidContentDisposition, token(input))?;
    let rest = ows(rest).map_or(rest, |r| r.0);
    let [b'=', rest @ ..] = rest else {
        return fail(InvalidContentDisposition, rest);
    };
    let value = ows(rest).map_or(rest, |r| r.0);
    if name.ends_with(b"*") {
        let (rest, ext) = ext_value(value)?;
        return Ok((rest, (name, ParmValue::Ext(ext))));
    }
    let (rest, unquoted) = match value {
        [b'"', ..] => quoted_string(value)?,
        _ => named(InvalidContentDisposition, token(value)).map(|(r, t)| (r, t.to_vec()))?,
    };
    Ok((rest, (name, ParmValue::Value(value, unquoted))))
}

/// The bytes a quoted-pair may escape here:
/// ```text
/// tspecials := "(" / ")" / "<" / ">" / "@" /
///              "," / ";" / ":" / "\" / <">
///              "/" / "[" / "]" / "?" / "="
/// ```
/// RFC 2045 §5.1
const fn is_tspecial(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')'
            | b'<'
            | b'>'
            | b'@'
            | b','
            | b';'
            | b':'
            | b'\\'
            | b'"'
            | b'/'
            | b'['
            | b']'
            | b'?'
            | b'='
    )
}

/// ```text
/// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
/// qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
/// quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
/// ```
/// RFC 9110 §5.6.4, unquoted. **Deviation, argued**: a `\` stands for itself unless a
/// tspecial follows it (then the pair stands for the tspecial), as Go's `mime` package reads
/// it. The HTML form submission (and so every browser, curl `-F` and urllib3) escapes `"`
/// as `%22` and sends a `\` as it is, so `filename="C:\new\x.txt"` or urllib3's
/// `"a\name.bin"` means those backslashes; no encoder escapes a letter. An unterminated
/// string or a control byte inside is `InvalidContentDisposition`.
fn quoted_string(input: &[u8]) -> MResult<'_, Vec<u8>> {
    use MultipartErrorKind::InvalidContentDisposition;
    let mut out = Vec::new();
    let mut rest = input.get(1..).unwrap_or_default();
    loop {
        rest = match rest {
            [b'"', after @ ..] => return Ok((after, out)),
            [b'\\', b, after @ ..] if is_tspecial(*b) => {
                out.push(*b);
                after
            }
            [b, after @ ..] if FIELD_VALUE_BYTE.contains(*b) => {
                out.push(*b);
                after
            }
            _ => return fail(InvalidContentDisposition, rest),
        }
    }
}

/// A name or filename, `bytes` unquoted from `written`, as UTF-8 (`InvalidUtf8` at
/// `written`).
fn utf8<'b>(written: &'b [u8], bytes: Vec<u8>) -> Result<String, nom::Err<Fail<'b>>> {
    String::from_utf8(bytes).map_err(|_| {
        nom::Err::Error(Fail {
            kind: MultipartErrorKind::InvalidUtf8,
            at: written,
        })
    })
}

/// ```text
/// ext-value     = charset  "'" [ language ] "'" value-chars
/// charset       = "UTF-8" / "ISO-8859-1" / mime-charset
/// mime-charset  = 1*mime-charsetc
/// mime-charsetc = ALPHA / DIGIT / "!" / "#" / "$" / "%" / "&"
///               / "+" / "-" / "^" / "_" / "`" / "{" / "}" / "~"
/// language      = <Language-Tag, see RFC 5646 §2.1>
/// value-chars   = *( pct-encoded / attr-char )
/// pct-encoded   = "%" HEXDIG HEXDIG
/// attr-char     = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "."
///               / "^" / "_" / "`" / "|" / "~"
/// ```
/// RFC 8187 §3.2.1: the ext-value as written, checked. The language is taken as
/// `*( ALPHA / DIGIT / "-" )`, the bytes of every Language-Tag, and not checked further: it
/// is ignored. Fails with `InvalidExtValue` at the byte that does not fit, a `%` without two
/// hex digits included.
fn ext_value(input: &[u8]) -> MResult<'_, &[u8]> {
    use MultipartErrorKind::InvalidExtValue;
    let charset = input.iter().take_while(|&&b| is_mime_charsetc(b)).count();
    let after = &input[charset..];
    let [b'\'', after @ ..] = after else {
        return fail(InvalidExtValue, after);
    };
    let language = after
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-')
        .count();
    let [b'\'', value_chars @ ..] = &after[language..] else {
        return fail(InvalidExtValue, &after[language..]);
    };
    let mut rest = value_chars;
    if charset == 0 {
        return fail(InvalidExtValue, input);
    }
    loop {
        rest = match rest {
            [b'%', h, l, after @ ..] if HEXDIG.contains(*h) && HEXDIG.contains(*l) => after,
            [b'%', ..] => return fail(InvalidExtValue, rest),
            [b, after @ ..] if is_attr_char(*b) => after,
            _ => break,
        };
    }
    let used = input.len() - rest.len();
    Ok((rest, &input[..used]))
}

/// `mime-charsetc` (RFC 8187 §3.2.1).
const fn is_mime_charsetc(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'+'
                | b'-'
                | b'^'
                | b'_'
                | b'`'
                | b'{'
                | b'}'
                | b'~'
        )
}

/// `attr-char` (RFC 8187 §3.2.1).
const fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// The text of a `filename*` ext-value that [`ext_value`] checked: the charset must be
/// UTF-8, case-insensitive (`UnsupportedCharset` at the charset: this server writes UTF-8
/// names only, and RFC 8187 §3.2.1 requires only UTF-8 of a recipient); the value-chars
/// are percent-decoded and must be UTF-8 (`InvalidUtf8` at the value-chars).
fn decode_ext_value(written: &[u8]) -> Result<String, nom::Err<Fail<'_>>> {
    let failure = |kind, at| nom::Err::Error(Fail { kind, at });
    let mut fields = written.splitn(3, |&b| b == b'\'');
    let (charset, chars) = match (fields.next(), fields.next(), fields.next()) {
        (Some(charset), Some(_), Some(chars)) => (charset, chars),
        _ => return Err(failure(MultipartErrorKind::InvalidExtValue, written)),
    };
    if !charset.eq_ignore_ascii_case(b"UTF-8") {
        return Err(failure(MultipartErrorKind::UnsupportedCharset, written));
    }
    let mut decoded = Vec::with_capacity(chars.len());
    let mut rest = chars;
    while let Some((&b, after)) = rest.split_first() {
        rest = match (b, after) {
            (b'%', [h, l, after @ ..]) => {
                decoded.push(hex_value(*h) << 4 | hex_value(*l));
                after
            }
            _ => {
                decoded.push(b);
                after
            }
        };
    }
    String::from_utf8(decoded).map_err(|_| failure(MultipartErrorKind::InvalidUtf8, chars))
}

#[cfg(test)]
mod tests {
    use super::*;
    use MultipartErrorKind::*;

    fn parse(value: &[u8]) -> Result<Disposition, (MultipartErrorKind, usize)> {
        match content_disposition(value) {
            Ok((rest, d)) => {
                assert!(rest.is_empty());
                Ok(d)
            }
            Err(nom::Err::Error(f) | nom::Err::Failure(f)) => {
                Err((f.kind, crate::fail::offset_in(value, f.at)))
            }
            Err(nom::Err::Incomplete(_)) => panic!("complete rule"),
        }
    }

    fn named(name: &str, filename: Option<&str>, star: Option<&str>) -> Disposition {
        Disposition {
            name: name.into(),
            filename: filename.map(Into::into),
            filename_star: star.map(Into::into),
        }
    }

    #[test]
    fn accepted() {
        let cases: &[(&[u8], Disposition)] = &[
            (b"form-data; name=\"a\"", named("a", None, None)),
            (b"Form-Data;name=a", named("a", None, None)),
            (b"form-data; name=\"\"", named("", None, None)),
            (
                b"form-data; name=\"f\"; filename=\"a b.txt\"",
                named("f", Some("a b.txt"), None),
            ),
            (
                b"form-data; NAME = f ;FileName=x.bin;",
                named("f", Some("x.bin"), None),
            ),
            (
                b"form-data; name=\"f\"; filename=\"a%22b%22.txt\"",
                named("f", Some("a%22b%22.txt"), None),
            ),
            (
                b"form-data; name=\"f\"; filename=\"C:\\new\\x.txt\"",
                named("f", Some("C:\\new\\x.txt"), None),
            ),
            (
                b"form-data; name=\"f\"; filename=\"q\\\"s\\\\.txt\"",
                named("f", Some("q\"s\\.txt"), None),
            ),
            (
                "form-data; name=\"é\"; filename=\"résumé.pdf\"".as_bytes(),
                named("é", Some("résumé.pdf"), None),
            ),
            (
                b"form-data; name=f; filename=\"x.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt",
                named("f", Some("x.txt"), Some("€ rates.txt")),
            ),
            (
                b"form-data; name=f; filename*=utf-8'en-GB'a.txt; size=3; other*=iso-8859-1''%A3",
                named("f", None, Some("a.txt")),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(
                parse(value).as_ref(),
                Ok(expected),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn refused() {
        let cases: &[(&[u8], MultipartErrorKind, usize)] = &[
            (b"attachment; name=a", InvalidContentDisposition, 0),
            (b"", InvalidContentDisposition, 0),
            (b"form-data name=a", InvalidContentDisposition, 10),
            (b"form-data; name", InvalidContentDisposition, 15),
            (b"form-data; name=\"a", InvalidContentDisposition, 18),
            (b"form-data; name=\"a\x7f\"", InvalidContentDisposition, 18),
            (b"form-data; name=a b", InvalidContentDisposition, 18),
            (b"form-data; name=", InvalidContentDisposition, 16),
            (b"form-data", MissingName, 0),
            (b"form-data; filename=x", MissingName, 0),
            (b"form-data; name=a; Name=b", DuplicateParameter, 19),
            (
                b"form-data; name=a; filename=x; filename=y",
                DuplicateParameter,
                31,
            ),
            (b"form-data; name=\"\xff\"", InvalidUtf8, 16),
            (b"form-data; name=a; filename=\"\xc3\"", InvalidUtf8, 28),
            (b"form-data; name=a; filename*=UTF-8''%ff", InvalidUtf8, 36),
            (
                b"form-data; name=a; filename*=ISO-8859-1''%A3",
                UnsupportedCharset,
                29,
            ),
            (b"form-data; name=a; filename*=UTF-8'x", InvalidExtValue, 36),
            (b"form-data; name=a; filename*=UTF-8", InvalidExtValue, 34),
            (b"form-data; name=a; filename*=''x", InvalidExtValue, 29),
            (
                b"form-data; name=a; filename*=UTF-8''%4",
                InvalidExtValue,
                36,
            ),
            (
                b"form-data; name=a; filename*=UTF-8''a b",
                InvalidContentDisposition,
                38,
            ),
            (
                b"form-data; name=a; filename*=\"UTF-8''a\"",
                InvalidExtValue,
                29,
            ),
        ];
        for &(value, kind, offset) in cases {
            assert_eq!(
                parse(value),
                Err((kind, offset)),
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }

    #[test]
    fn ext_value_rule() {
        let ok: &[&[u8]] = &[b"UTF-8''", b"utf-8'de'%41b", b"x'y'!#$&+-.^_`|~"];
        for value in ok {
            assert_eq!(ext_value(value), Ok((&b""[..], *value)));
        }
        assert_eq!(ext_value(b"UTF-8''a;b"), Ok((&b";b"[..], &b"UTF-8''a"[..])));
    }
}
