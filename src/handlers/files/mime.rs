//! Content-Type (RFC 9110 §8.3) from a file name's extension.
//!
//! `mime_guess` knows most extensions; a small table on top of it corrects the entries where
//! its answer is obsolete or not what browsers need. Text types get `; charset=utf-8`: the
//! files a static site serves are UTF-8, and without the parameter a browser guesses.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Extensions (lowercase) where `mime_guess` 2.0 is wrong or outdated, and the type to send.
const OVERRIDES: &[(&str, &str)] = &[
    // RFC 9239 §6: text/javascript is the one type for JavaScript, classic or module;
    // mime_guess says application/javascript for .mjs.
    ("js", "text/javascript; charset=utf-8"),
    ("mjs", "text/javascript; charset=utf-8"),
    // RFC 8081 §4: the font top-level type; mime_guess says application/font-woff,
    // application/font-sfnt.
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    // Source maps are JSON (ECMA-426 draft); mime_guess says text/plain.
    ("map", "application/json"),
    // RFC 7303 §4.2: application/xml lets the document's own encoding declaration decide;
    // text/xml with our charset=utf-8 would override a Latin-1 declaration.
    ("xml", "application/xml"),
    // The IANA-registered type; mime_guess says image/x-icon.
    ("ico", "image/vnd.microsoft.icon"),
];

/// The Content-Type for a file named `name`: the override table first, then `mime_guess`
/// (its first guess), then `application/octet-stream` (RFC 9110 §8.3: a recipient may treat
/// unknown content as that). `; charset=utf-8` is appended to every `text/*` type.
/// `application/json` gets no charset: JSON is UTF-8 by definition (RFC 8259 §8.1) and its
/// registration defines no charset parameter (RFC 8259 §11).
pub(super) fn content_type(name: &Path) -> Cow<'static, str> {
    let Some(ext) = name
        .extension()
        .map(OsStr::as_bytes)
        .and_then(|e| std::str::from_utf8(e).ok())
    else {
        return Cow::Borrowed("application/octet-stream");
    };
    if let Some((_, ty)) = OVERRIDES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(ext))
    {
        return Cow::Borrowed(ty);
    }
    match mime_guess::from_ext(ext).first_raw() {
        Some(ty) if ty.starts_with("text/") => Cow::Owned(format!("{ty}; charset=utf-8")),
        Some(ty) => Cow::Borrowed(ty),
        None => Cow::Borrowed("application/octet-stream"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let table = [
            ("index.html", "text/html; charset=utf-8"),
            ("INDEX.HTM", "text/html; charset=utf-8"),
            ("style.css", "text/css; charset=utf-8"),
            ("test.txt", "text/plain; charset=utf-8"),
            ("data.csv", "text/csv; charset=utf-8"),
            ("app.js", "text/javascript; charset=utf-8"),
            ("mod.mjs", "text/javascript; charset=utf-8"),
            ("APP.JS", "text/javascript; charset=utf-8"),
            ("app.js.map", "application/json"),
            ("data.json", "application/json"),
            ("feed.xml", "application/xml"),
            ("m.wasm", "application/wasm"),
            ("logo.svg", "image/svg+xml"),
            ("a.png", "image/png"),
            ("a.jpg", "image/jpeg"),
            ("a.jpeg", "image/jpeg"),
            ("a.gif", "image/gif"),
            ("a.webp", "image/webp"),
            ("a.avif", "image/avif"),
            ("favicon.ico", "image/vnd.microsoft.icon"),
            ("f.woff", "font/woff"),
            ("f.woff2", "font/woff2"),
            ("f.ttf", "font/ttf"),
            ("f.otf", "font/otf"),
            ("v.mp4", "video/mp4"),
            ("v.webm", "video/webm"),
            ("s.mp3", "audio/mpeg"),
            ("doc.pdf", "application/pdf"),
            ("a.zip", "application/zip"),
            ("a.gz", "application/gzip"),
            ("unknown.qqqzz", "application/octet-stream"),
            ("Makefile", "application/octet-stream"),
            (".bashrc", "application/octet-stream"),
        ];
        for (name, expected) in table {
            assert_eq!(content_type(Path::new(name)), expected, "{name}");
        }
        // An extension that is not UTF-8 is unknown.
        assert_eq!(
            content_type(Path::new(OsStr::from_bytes(b"x.\xff"))),
            "application/octet-stream"
        );
    }
}
