//! Folder archives (`--archives tar,tar.gz,zip`): `GET /folder/?download=zip` sends the
//! folder, as it is at that moment, as one archive made while it is sent.
//!
//! An archive is offered where a listing would be shown (a folder without an index file,
//! with `--list-dirs`), and holds what the listings show ([`walk`]): no dotfiles unless
//! they are served, nothing outside the root, no symlink that leaves it, nothing in an auth
//! area the client has not passed. Names are the paths relative to the folder. It is made a
//! step at a time ([`writer`]): no temporary file, and the memory of one step and of the
//! walk's path, however large the folder; like any response, it is under the send timeout
//! and the minimum send rate, which cut off a client that stops reading.
//!
//! With auth areas, the areas are asked about every path in the tree while the request is
//! handled (a walk that reads names and opens no file), since a password check may have to
//! wait on another thread ([`Gate::pending`]); the archive, made later, is judged by the
//! verdicts reached ([`Gate::verdicts`]), so a path added since, in an area not asked
//! about, is left out.
//!
//! The body is streamed without a length (chunked in HTTP/1.1, DATA frames in HTTP/2), so
//! an HTTP/1.0 request, which has no chunked coding, is refused with `400`; a format that
//! is not offered is `404`, as the archive does not exist; a value that names no format is
//! `400`, naming the formats.
//!
//! At most [`AT_ONCE`] archives are made at once by one server: each holds a walk, an
//! encoder (gzip's or zip's, some 300 KiB) and, for zip, the directory of what it sent, and
//! takes worker time for every step its client reads. Past that, `503` with `Retry-After`
//! (RFC 9110 §15.6.4, §10.2.3): an archive is made while it is sent, so a client that asks
//! again once one has ended gets it whole. The send timeout and minimum send rate cut off a
//! client that holds a place without reading.

mod ustar;
mod walk;
mod writer;

use super::map::encode_segment;
use super::open::Beneath;
use super::slots::{Places, Slot};
use crate::handlers::Gate;
use crate::http::response::{Body, Response};
use nomserve_grammar::{Request, Version, parse_query};
use std::fs::File;
use std::path::Path;
use walk::Walk;
use writer::Archive;

/// The most archives made at once by one server.
pub(super) const AT_ONCE: usize = 8;

/// How long a client refused for [`AT_ONCE`] is asked to wait, in seconds.
const RETRY_AFTER: &str = "5";

/// An archive format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A tar archive (POSIX ustar with GNU long names).
    Tar,
    /// A tar archive compressed with gzip.
    TarGz,
    /// A zip archive, members compressed with deflate, names in UTF-8.
    Zip,
}

impl Format {
    /// Every format, in the order a listing offers them.
    pub const ALL: [Format; 3] = [Format::Tar, Format::TarGz, Format::Zip];

    /// Its name: the value of `--archives` and of `?download=`, and the file name's
    /// extension.
    pub fn name(self) -> &'static str {
        match self {
            Format::Tar => "tar",
            Format::TarGz => "tar.gz",
            Format::Zip => "zip",
        }
    }

    /// The format named `name`, if any.
    pub fn named(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|format| format.name() == name)
    }

    /// Its media type.
    fn content_type(self) -> &'static str {
        match self {
            Format::Tar => "application/x-tar",
            Format::TarGz => "application/gzip",
            Format::Zip => "application/zip",
        }
    }
}

/// The value of the query's first `download` parameter, if it has one.
pub(super) fn requested(query: Option<&str>) -> Option<String> {
    query
        .map(parse_query)
        .into_iter()
        .flatten()
        .find(|(name, _)| name == "download")
        .map(|(_, value)| value.into_owned())
}

/// The links a listing page shows to the archives of its folder in the `offered` formats
/// (HTML; nothing when none are offered).
pub(super) fn links(offered: &[Format]) -> String {
    if offered.is_empty() {
        return String::new();
    }
    let links: Vec<String> = offered
        .iter()
        .map(|format| {
            let name = format.name();
            format!("<a href=\"?download={name}\" download>{name}</a>")
        })
        .collect();
    format!(
        "<p class=\"archives\">Download as {}</p>\n",
        links.join(" \u{b7} ")
    )
}

/// The folder an archive is asked of.
pub(super) struct Folder<'a> {
    /// The root, to open the folder's files beneath.
    pub(super) beneath: &'a Beneath,
    /// The folder, opened.
    pub(super) dir: &'a File,
    /// Its path beneath the root, as requested.
    pub(super) rel: &'a Path,
    /// Where it is beneath the root, after symlinks.
    pub(super) real: &'a Path,
    /// Its name: the archive's file name, before the extension.
    pub(super) name: &'a [u8],
    /// Dotfiles are served.
    pub(super) dotfiles: bool,
}

/// The answer to `?download=asked` for `folder`, with the `offered` formats: the archive,
/// or why not (see the module's documentation), holding one of the `places` while it is
/// made. With a `gate`, the archive holds what it shows.
pub(super) fn respond(
    offered: &[Format],
    places: &Places,
    asked: &str,
    request: &Request<'_, '_>,
    folder: &Folder<'_>,
    gate: Option<&dyn Gate>,
) -> Response {
    let Some(format) = Format::named(asked) else {
        return refusal(
            400,
            format!("unknown archive format {asked:?}: tar, tar.gz or zip\n"),
        );
    };
    if !offered.contains(&format) {
        return refusal(404, "Not Found");
    }
    if request.version == Version::HTTP_10 {
        return refusal(
            400,
            "an archive is sent with the chunked coding, which HTTP/1.0 does not have: \
             ask with HTTP/1.1\n",
        );
    }
    let Some(slot) = places.take() else {
        log::info!(
            "archive of /{}: {AT_ONCE} archives are being made already: 503",
            folder.rel.display()
        );
        return refusal(
            503,
            format!(
                "{AT_ONCE} archives are being made already, the most at once: \
                 ask again in a few seconds\n"
            ),
        )
        .header("Retry-After", RETRY_AFTER);
    };
    match archive(format, folder, gate, slot) {
        Ok(body) => Response::new(200)
            .header("Content-Type", format.content_type())
            .header("Content-Disposition", disposition(folder.name, format))
            .header("X-Content-Type-Options", "nosniff")
            .body(Body::Stream(body)),
        Err(e) => {
            log::error!("archive of /{}: {e}", folder.rel.display());
            refusal(500, "Internal Server Error")
        }
    }
}

/// The archive of `folder` in `format`, judged by `gate`'s verdicts, holding `slot`.
fn archive(
    format: Format,
    folder: &Folder<'_>,
    gate: Option<&dyn Gate>,
    slot: Slot,
) -> std::io::Result<Box<dyn crate::http::response::Source>> {
    let place = (folder.dir, folder.rel, folder.real);
    let Some(gate) = gate else {
        let walk = Walk::new(
            folder.beneath.try_clone()?,
            place,
            folder.dotfiles,
            (false, |_: &Path| true),
        )?;
        return Ok(Box::new(Archive::new(walk, format, slot)));
    };
    let asking = Walk::new(
        folder.beneath.try_clone()?,
        place,
        folder.dotfiles,
        (true, |path: &Path| gate.shows(path)),
    )?;
    for item in asking {
        item?;
    }
    let verdicts = gate.verdicts();
    let walk = Walk::new(
        folder.beneath.try_clone()?,
        place,
        folder.dotfiles,
        (true, move |path: &Path| verdicts(path)),
    )?;
    Ok(Box::new(Archive::new(walk, format, slot)))
}

/// `Content-Disposition: attachment` with the file name `name.ext` (RFC 6266 §4.1), in the
/// `filename*` form of RFC 8187 §3.2 (UTF-8, percent-encoded: the bytes outside
/// `attr-char` encoded, and a few more; a name that is not UTF-8 is sent as its bytes).
fn disposition(name: &[u8], format: Format) -> String {
    let mut value = String::from("attachment; filename*=UTF-8''");
    encode_segment(name, &mut value);
    value.push('.');
    value.push_str(format.name());
    value
}

/// A refusal with `text`.
fn refusal(status: u16, text: impl Into<String>) -> Response {
    Response::text(status, text).header("X-Content-Type-Options", "nosniff")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name() {
        for format in Format::ALL {
            assert_eq!(Format::named(format.name()), Some(format));
        }
        for name in ["", "TAR", "tgz", "tar.bz2", "zip "] {
            assert_eq!(Format::named(name), None, "{name:?}");
        }
    }

    #[test]
    fn the_download_parameter() {
        assert_eq!(requested(None), None);
        assert_eq!(requested(Some("sort=name")), None);
        assert_eq!(requested(Some("download=zip")).as_deref(), Some("zip"));
        assert_eq!(
            requested(Some("sort=size&download=tar.gz&download=zip")).as_deref(),
            Some("tar.gz")
        );
        assert_eq!(requested(Some("download=")).as_deref(), Some(""));
    }

    #[test]
    fn the_file_name_is_percent_encoded_utf8() {
        assert_eq!(
            disposition("Ph\u{f6}tos 2026".as_bytes(), Format::TarGz),
            "attachment; filename*=UTF-8''Ph%C3%B6tos%202026.tar.gz"
        );
        assert_eq!(
            disposition(b"a\"b;c", Format::Zip),
            "attachment; filename*=UTF-8''a%22b%3Bc.zip"
        );
    }

    #[test]
    fn links_for_the_formats_offered() {
        assert_eq!(links(&[]), "");
        let page = links(&[Format::Tar, Format::Zip]);
        assert!(page.contains("href=\"?download=tar\""), "{page}");
        assert!(page.contains("href=\"?download=zip\""), "{page}");
        assert!(!page.contains("tar.gz"), "{page}");
    }
}
