//! Static files from the document root.
//!
//! A request travels through these steps, each in its own module:
//!
//! 1. [`map`]: the grammar's decoded path becomes a path relative to the root, or a refusal
//!    (pure; dotfiles hidden unless `--dotfiles`, `/.well-known/` served all the same).
//! 2. [`open`]: the path is opened beneath the root's descriptor with `openat2`
//!    (`RESOLVE_BENEATH`), so no encoding or symlink can reach outside the root; with
//!    dotfiles hidden, nor can a symlink reach a dotfile inside it.
//! 3. `fstat` decides: a directory is redirected (`301` to add the slash), served by its
//!    first index file (`--index`, `index.html` by default), listed ([`listing`], with
//!    `--list-dirs`) or refused; a regular file is served; anything else (FIFO, socket,
//!    device) is `404`. With `--clean-urls`, a missing `/about` is served by `about.html`.
//! 4. A regular file is opened with its precompressed variants (each [`coding`] has its
//!    suffix) into a [`resource`], its plain `200` prepared, and kept in the open-file
//!    [`cache`] when nothing can change unseen.
//! 5. [`represent`]: the representation sent: the file as it is, a precompressed variant
//!    ([`precompressed`], by Accept-Encoding) or one made here ([`compress`]); then
//!    [`validators`] (the conditional request's outcome: `412`, `304`) and [`ranges`]
//!    (`206`, `416` or the whole).
//! 6. [`head`]: the fields of every `200`, `206` and `304` about a file; [`mime`] gives the
//!    Content-Type, and [`headers`] the configured fields (`--cache-control`, `--header`,
//!    `[[rules]]`).
//! 7. A `404` for a browser navigating becomes the `--fallback` page (see
//!    [`StaticFiles::serve`]).
//!
//! A request the auth areas guard comes with a [`Gate`], asked before anything is served
//! from a file ([`guard`] names the files: where each resolved, after symlinks, index files,
//! clean URLs and the fallback, with its precompressed variants), and asked which entries a
//! listing shows. Without one, nothing of this runs.
//!
//! Files are streamed (`Body::File`, `Body::Multipart`): nothing reads a whole file into
//! memory.

pub mod archive;
mod cache;
pub mod coding;
pub mod compress;
mod guard;
mod head;
mod headers;
mod listing;
mod map;
mod mime;
mod open;
mod pages;
mod precompressed;
mod ranges;
mod readme;
mod represent;
mod resource;
mod slots;
mod validators;

use crate::handlers::Gate;
use crate::http::negotiate::prefers_html;
use crate::http::response::Response;
pub use cache::CacheLimits;
use cache::FileCache;
use coding::PerCoding;
use compress::Compression;
use headers::Field;
pub use headers::{FieldRule, FieldRules};
pub(crate) use map::encode_segment;
use nomserve_grammar::{DecodedPath, Request, decode_path};
use open::{Beneath, Failure, Strategy};
pub use pages::{ErrorPage, ErrorPages};
use resource::{Resource, Stat, Variant};
use slots::Places;
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

/// How the static file handler behaves, from the command line.
#[derive(Debug, Clone)]
pub struct FileOptions {
    /// The document root.
    pub root: PathBuf,
    /// Serve dotfiles and dot-directories (`--dotfiles`).
    pub dotfiles: bool,
    /// List directories that have no index file (`--list-dirs`).
    pub list_dirs: bool,
    /// The names tried, in order, for a directory's index (`--index`).
    pub index: Vec<String>,
    /// Serve a missing `/about` by `about.html` (`--clean-urls`).
    pub clean_urls: bool,
    /// The page, relative to the root, that a browser navigating to a missing path gets
    /// (`--fallback`).
    pub fallback: Option<PathBuf>,
    /// The configured fields: `--cache-control`, `--header` and `[[rules]]`.
    pub fields: FieldRules,
    /// The open-file cache's bounds.
    pub cache: CacheLimits,
    /// The codings made on the fly (`--compress`).
    pub compress: PerCoding<bool>,
    /// The most bytes of compressed variants kept (`--compress-cache`).
    pub compress_cache: u64,
    /// The formats a listed folder is offered in as an archive (`--archives`).
    pub archives: Vec<archive::Format>,
    /// Render a listed folder's `README.md` below its listing (`--readme`).
    pub readme: bool,
}

/// Serves files under one root.
#[derive(Debug)]
pub struct StaticFiles {
    beneath: Beneath,
    options: FileOptions,
    cache: Arc<FileCache>,
    compression: Compression,
    listings: listing::Listings,
    /// The archives being made ([`archive::AT_ONCE`] at most).
    archives: Places,
}

/// The body of every `404`.
const NOT_FOUND: &str = "Not Found";

/// A file opened beneath the root, with its metadata.
struct Opened {
    file: File,
    meta: Metadata,
    /// Where it is beneath the root, when that was asked for and a symlink led there: `None`
    /// if the path it was opened by led straight to it, or if nobody asked.
    real: Option<PathBuf>,
}

impl StaticFiles {
    /// Opens the root once, as a directory descriptor every request resolves beneath, and
    /// probes whether the kernel has `openat2`. Fails, with a message naming the root, if the
    /// root is missing, not a directory, or cannot be opened.
    pub fn new(options: FileOptions) -> io::Result<Self> {
        let beneath = Beneath::open_root(&options.root)?.hiding_dotfiles(!options.dotfiles);
        // Without `openat2` (Linux before 5.6) symlinks are refused: worth a warning.
        let level = match beneath.strategy() {
            Strategy::Openat2 => log::Level::Debug,
            Strategy::Walk => log::Level::Warn,
        };
        log::log!(
            level,
            "serving {} (paths resolved with {})",
            options.root.display(),
            beneath.strategy()
        );
        let cache = FileCache::new(&options.root, options.cache);
        let compression = Compression::new(options.compress, options.compress_cache);
        Ok(StaticFiles {
            beneath,
            options,
            cache,
            compression,
            listings: listing::Listings::default(),
            archives: Places::new(archive::AT_ONCE),
        })
    }

    /// Checks that the `--fallback` page, if any, is a regular file beneath the root: a
    /// fallback that is missing would turn every navigation to a missing path into a `404`
    /// without a word, so the server refuses to start (and a reload is refused) instead.
    pub fn check_fallback(&self) -> Result<(), String> {
        let Some(fallback) = &self.options.fallback else {
            return Ok(());
        };
        match self.open(fallback, false) {
            Ok(opened) if opened.meta.is_file() => Ok(()),
            Ok(_) => Err(format!("fallback {}: not a file", fallback.display())),
            Err(failure) => Err(format!(
                "fallback {}: {}",
                fallback.display(),
                describe(&failure)
            )),
        }
    }

    /// Answers a GET or HEAD request for a path under the root. HEAD is answered like GET;
    /// the connection layer leaves the body out. Never panics: every failure is a response
    /// (`400` for a malformed path, `403`, `404`, `503` when out of file descriptors, `500`
    /// for the server's own errors).
    ///
    /// With `--fallback`, a `404` becomes the fallback page, with `200`, when the client
    /// prefers HTML ([`prefers_html`]): a browser navigating to a client-side route of a
    /// single-page app gets the app. Any `404`, as `try_files $uri $uri/ /index.html` gives in
    /// nginx: a missing file, a hidden one, a directory with nothing to serve. The page is
    /// served as a request for its own path would be (its type, validators and fields; its
    /// `[[rules]]` matched on its own path, since the requested path names nothing), and
    /// keeps conditional requests and ranges. Since the answer for a missing path then
    /// depends on Accept, both it and the `404` say `Vary: Accept` (RFC 9110 §12.5.5).
    ///
    /// With a `gate`, each file is served only if the gate lets the client in (else its
    /// answer, a challenge, is the response), and a listing shows only what it shows: see
    /// the module's documentation.
    pub fn serve(&self, request: &Request<'_, '_>, gate: Option<&dyn Gate>) -> Response {
        let response = self.find(request, gate);
        let Some(fallback) = &self.options.fallback else {
            return response;
        };
        if response.status != 404 {
            return response;
        }
        if !prefers_html(&request.headers) {
            return response.header("Vary", "Accept");
        }
        let mut key = String::new();
        for component in fallback.iter() {
            key.push('/');
            map::encode_segment(component.as_encoded_bytes(), &mut key);
        }
        let page = match self.cache.get(&key) {
            Some(resource) => self.represent(request, &resource, gate),
            None => match self.open(fallback, gate.is_some()) {
                Ok(opened) if opened.meta.is_file() => {
                    let path = format!("/{}", fallback.to_string_lossy());
                    self.file(request, &key, &path, fallback, opened, gate)
                }
                Ok(_) => return response.header("Vary", "Accept"),
                Err(failure) => failure_response(&key, failure),
            },
        };
        page.header("Vary", "Accept")
    }

    /// [`StaticFiles::serve`] without the fallback: the file the path names, or why not.
    fn find(&self, request: &Request<'_, '_>, gate: Option<&dyn Gate>) -> Response {
        let Some(raw) = request.target.path() else {
            return not_found();
        };
        if let Some(resource) = self.cache.get(raw) {
            return self.represent(request, &resource, gate);
        }
        let decoded = match decode_path(raw) {
            Ok(decoded) => decoded,
            Err(error) => return nosniff(Response::text(error.status(), error.to_string())),
        };
        let rel = match map::map_path(&decoded, self.options.dotfiles) {
            Ok(rel) => rel,
            Err(refusal) => {
                log::debug!("{raw}: refused ({refusal:?})");
                return not_found();
            }
        };
        let path = decoded_path(&decoded);
        let opened = match self.open(&rel, gate.is_some()) {
            Ok(opened) => opened,
            Err(Failure::NotFound) if self.options.clean_urls && !decoded.trailing_slash => {
                return self.clean_url(request, raw, &path, &rel, gate);
            }
            Err(failure) => return failure_response(raw, failure),
        };
        if opened.meta.is_dir() {
            let real = opened.real.as_deref().unwrap_or(&rel);
            if let Some(refusal) = gate.and_then(|gate| gate.enter(&[guard::form(real, true)])) {
                return refusal;
            }
            if !decoded.trailing_slash && !decoded.segments.is_empty() {
                let location = map::directory_location(&decoded, request.target.query());
                return nosniff(
                    Response::text(301, "Moved Permanently").header("Location", location),
                );
            }
            return self.directory(request, raw, &decoded, &rel, opened, gate);
        }
        // A regular file named with a trailing slash names nothing (as POSIX path resolution
        // says: "file.txt/" is ENOTDIR).
        if !opened.meta.is_file() || decoded.trailing_slash {
            return not_found();
        }
        self.file(request, raw, &path, &rel, opened, gate)
    }

    /// `--clean-urls`: `rel` names nothing, so the file `rel` + `.html` serves it if there is
    /// one (`/about` is served by `about.html`); else `404`. Only a path without a trailing
    /// slash, so a directory's URL never becomes a page's. The page is not redirected to
    /// the shorter URL: `/about.html` is served too, as the file it is.
    fn clean_url(
        &self,
        request: &Request<'_, '_>,
        key: &str,
        path: &str,
        rel: &Path,
        gate: Option<&dyn Gate>,
    ) -> Response {
        let mut name = rel.as_os_str().to_owned();
        if name.is_empty() {
            return not_found();
        }
        name.push(".html");
        let html = PathBuf::from(name);
        match self.open(&html, gate.is_some()) {
            Ok(opened) if opened.meta.is_file() => {
                self.file(request, key, path, &html, opened, gate)
            }
            Ok(_) | Err(Failure::NotFound) => not_found(),
            Err(failure) => failure_response(key, failure),
        }
    }

    /// The root folder's own name, for its archive's file name (`root` if it has none).
    fn root_name(&self) -> Vec<u8> {
        let name = self.options.root.file_name().unwrap_or("root".as_ref());
        name.as_encoded_bytes().to_vec()
    }

    /// Opens `rel` beneath the root for reading and `fstat`s it; `resolve` says where it
    /// leads as well, for a [`Gate`].
    fn open(&self, rel: &Path, resolve: bool) -> Result<Opened, Failure> {
        let (file, real) = if resolve {
            self.beneath.open_resolved(rel)?
        } else {
            (self.beneath.open(rel)?, None)
        };
        let meta = file.metadata().map_err(Failure::Other)?;
        Ok(Opened { file, meta, real })
    }

    /// A directory requested with its trailing slash: the first of the `--index` names that
    /// is a regular file in it, else a listing with `--list-dirs`, else `404`. An index file
    /// that exists but may not be read is `403` (the names after it are not tried, as nginx's
    /// `index` stops at a file it finds).
    ///
    /// With a `gate`, the listing leaves out the entries it does not show: each is judged by
    /// the path a request for it would name, by where it is, and for a symlink by where that
    /// leads ([`listing::shown`]); what is cached is the whole listing, filtered per request.
    fn directory(
        &self,
        request: &Request<'_, '_>,
        key: &str,
        decoded: &DecodedPath<'_>,
        rel: &Path,
        dir: Opened,
        gate: Option<&dyn Gate>,
    ) -> Response {
        let path = decoded_path(decoded);
        for name in &self.options.index {
            let index = rel.join(name);
            match self.open(&index, gate.is_some()) {
                Ok(opened) if opened.meta.is_file() => {
                    return self.file(request, key, &path, &index, opened, gate);
                }
                Ok(_) | Err(Failure::NotFound) => {}
                Err(failure) => return failure_response(name, failure),
            }
        }
        if !self.options.list_dirs {
            // The client gets the plain 404; the operator, who can change it, is told why.
            log::info!(
                "{key}: a directory without an index file ({}), and listings are off \
                 (--list-dirs turns them on): 404",
                self.options.index.join(", ")
            );
            return not_found();
        }
        let real = dir.real.as_deref().unwrap_or(rel);
        if let Some(asked) = archive::requested(request.target.query()) {
            let name = match decoded.segments.last() {
                Some(name) => name.to_vec(),
                None => self.root_name(),
            };
            let folder = archive::Folder {
                beneath: &self.beneath,
                dir: &dir.file,
                rel,
                real,
                name: &name,
                dotfiles: self.options.dotfiles,
            };
            let response = archive::respond(
                &self.options.archives,
                &self.archives,
                &asked,
                request,
                &folder,
                gate,
            );
            return with_fields(response, &self.options.fields.for_path(&path));
        }
        let listing = match listing::load(
            &self.beneath,
            &self.cache,
            &self.listings,
            (&dir.file, rel),
            self.options.dotfiles,
            gate.is_some(),
        ) {
            Ok(listing) => listing,
            Err(error) => return failure_response(key, Failure::Other(error)),
        };
        let shown = gate.map(|gate| listing::shown(&listing, (rel, real), gate));
        let mut footer = archive::links(&self.options.archives);
        if self.options.readme {
            footer.extend(readme::section(&self.beneath, (rel, real), gate));
        }
        let response = listing::respond(
            &listing,
            shown.as_deref(),
            decoded,
            (request.target.query(), &request.headers),
            &footer,
        );
        with_fields(response, &self.options.fields.for_path(&path))
    }

    /// Serves the regular file `opened` (at `rel`), requested as `key`, whose decoded path
    /// `path` the `[[rules]]` are matched against: looks for its precompressed variants
    /// (after watching its directories, so that a variant made meanwhile is not missed),
    /// keeps the lot in the open-file cache when it may, and answers (if `gate` lets the
    /// client in).
    fn file(
        &self,
        request: &Request<'_, '_>,
        key: &str,
        path: &str,
        rel: &Path,
        opened: Opened,
        gate: Option<&dyn Gate>,
    ) -> Response {
        let ticket = self.cache.watch(rel);
        let mut names = Vec::with_capacity(2);
        guard::file_names(opened.real.as_deref().unwrap_or(rel), &mut names);
        let mut variants: PerCoding<Option<Variant>> = PerCoding::default();
        for (coding, slot) in variants.iter_mut() {
            let mut name = rel.as_os_str().to_owned();
            name.push(coding.suffix());
            let name = PathBuf::from(name);
            let Some(found) = self
                .open(&name, gate.is_some())
                .ok()
                .filter(|found| found.meta.is_file())
            else {
                continue;
            };
            guard::file_names(found.real.as_deref().unwrap_or(&name), &mut names);
            *slot = Some((Arc::new(found.file), Stat::of(&found.meta)));
        }
        let now = SystemTime::now();
        let (file, meta) = (opened.file, opened.meta);
        let stat = Stat::of(&meta);
        let keep = self.cache.enabled() && self.cacheable(rel, &stat, &variants, now);
        let content_type = mime::content_type(rel);
        let offers = self.compression.offers(&content_type, stat.len);
        let resource = Arc::new(Resource::new(
            names.into_boxed_slice(),
            (Arc::new(file), stat),
            (content_type, offers),
            variants,
            self.options.fields.for_path(path),
            keep.then_some(self.cache.limits().max_file),
            now,
        ));
        if keep {
            self.cache.insert(key, rel, ticket, Arc::clone(&resource));
        }
        self.represent(request, &resource, gate)
    }

    /// Whether the file at `rel` (and each variant found) may be cached: reached without a
    /// symlink and unchanged since it was opened (the same inode, size and modification
    /// time when opened again, now that its directories are watched), and not modified in
    /// the future (its Last-Modified would then depend on the clock).
    fn cacheable(
        &self,
        rel: &Path,
        stat: &Stat,
        variants: &PerCoding<Option<Variant>>,
        now: SystemTime,
    ) -> bool {
        let same = |rel: &Path, stat: &Stat| {
            self.beneath
                .open_without_symlinks(rel)
                .and_then(|file| file.metadata().map_err(Failure::Other))
                .is_ok_and(|meta| Stat::of(&meta) == *stat)
        };
        let not_in_future = |stat: &Stat| {
            u64::try_from(stat.mtime_sec).is_ok_and(|sec| {
                now.duration_since(SystemTime::UNIX_EPOCH)
                    .is_ok_and(|d| sec <= d.as_secs())
            })
        };
        not_in_future(stat)
            && same(rel, stat)
            && variants.iter().all(|(coding, variant)| match variant {
                None => true,
                Some((_, stat)) => {
                    let mut name = rel.as_os_str().to_owned();
                    name.push(coding.suffix());
                    not_in_future(stat) && same(Path::new(&name), stat)
                }
            })
    }
}

/// `response` with the `configured` fields merged in ([`headers::apply`]: each replaces the
/// handler's field of its name, `Vary` excepted; an empty one is none).
fn with_fields(mut response: Response, configured: &[Field]) -> Response {
    headers::apply(&mut response.headers, configured);
    response
}

/// The decoded path as the `[[rules]]` globs see it: `/`, the segments joined by `/` (bytes
/// that are not UTF-8 replaced by U+FFFD), and `/` after a directory's.
fn decoded_path(decoded: &DecodedPath<'_>) -> String {
    let mut path = String::from("/");
    for (i, segment) in decoded.segments.iter().enumerate() {
        if i > 0 {
            path.push('/');
        }
        path.push_str(&String::from_utf8_lossy(segment));
    }
    if decoded.trailing_slash && !decoded.segments.is_empty() {
        path.push('/');
    }
    path
}

/// `X-Content-Type-Options: nosniff` added: the browser must believe our Content-Type.
fn nosniff(response: Response) -> Response {
    response.header("X-Content-Type-Options", "nosniff")
}

/// `404` with the body exactly `Not Found`.
fn not_found() -> Response {
    nosniff(Response::text(404, NOT_FOUND))
}

/// What `failure` means, for a message about a configured file.
fn describe(failure: &Failure) -> String {
    match failure {
        Failure::NotFound => "no such file beneath the root".to_string(),
        Failure::Forbidden => "permission denied".to_string(),
        Failure::Unavailable => "out of file descriptors".to_string(),
        Failure::Other(error) => error.to_string(),
    }
}

/// The response for an open that failed; a server-side error is logged with `what` (the
/// request path or the index name).
fn failure_response(what: &str, failure: Failure) -> Response {
    match failure {
        Failure::NotFound => not_found(),
        Failure::Forbidden => nosniff(Response::text(403, "Forbidden")),
        Failure::Unavailable => {
            log::warn!("{what}: out of file descriptors; answered 503");
            nosniff(Response::text(
                503,
                "the server is out of file descriptors; try again shortly\n",
            ))
            .header("Retry-After", "1")
        }
        Failure::Other(error) => {
            log::error!("{what}: {error}");
            nosniff(Response::text(500, "Internal Server Error"))
        }
    }
}

/// `serve` called in-process with requests built by hand: the handler's decisions without a
/// socket. `tests/files.rs` checks the same behaviour through the real binary.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::testing::{body, header};
    use nomserve_grammar::{
        BodyFraming, ConnectionOptions, Header, Headers, Method, RequestTarget, Version,
    };

    fn files(root: &Path, list_dirs: bool) -> StaticFiles {
        StaticFiles::new(FileOptions {
            root: root.to_path_buf(),
            dotfiles: false,
            list_dirs,
            index: vec!["index.html".to_string()],
            clean_urls: false,
            fallback: None,
            fields: FieldRules::new("no-cache", &[], &[]).unwrap(),
            cache: CacheLimits {
                entries: 64,
                bytes: 1 << 20,
                max_file: 64 * 1024,
            },
            compress: PerCoding::default(),
            compress_cache: 0,
            archives: Vec::new(),
            readme: false,
        })
        .unwrap()
    }

    fn serve(
        files: &StaticFiles,
        method: Method<'_>,
        target: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let fields: Vec<Header<'_>> = fields
            .iter()
            .map(|(name, value)| Header {
                name,
                value: value.as_bytes(),
            })
            .collect();
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (target, None),
        };
        files.serve(
            &Request {
                method,
                target: RequestTarget::Origin { path, query },
                version: Version::HTTP_11,
                headers: Headers::new(&fields),
                host: Some("localhost"),
                framing: BodyFraming::None,
                connection: ConnectionOptions::default(),
            },
            None,
        )
    }

    #[test]
    fn files_directories_and_refusals() {
        let top = tempfile::tempdir().unwrap();
        let root = top.path();
        std::fs::create_dir_all(root.join("dir")).unwrap();
        std::fs::create_dir_all(root.join("empty")).unwrap();
        std::fs::write(root.join("dir/index.html"), "<p>dir</p>").unwrap();
        std::fs::write(root.join("a.txt"), "hello").unwrap();
        std::fs::write(root.join(".env"), "x").unwrap();
        let files = files(root, false);
        let get = Method::Get;

        let response = serve(&files, get, "/a.txt", &[]);
        assert_eq!(response.status, 200);
        assert_eq!(body(&response), b"hello");
        assert_eq!(
            header(&response, "Content-Type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(header(&response, "X-Content-Type-Options"), Some("nosniff"));

        let response = serve(&files, get, "/dir?q=1", &[]);
        assert_eq!(response.status, 301);
        assert_eq!(header(&response, "Location"), Some("/dir/?q=1"));
        assert_eq!(body(&serve(&files, get, "/dir/", &[])), b"<p>dir</p>");

        for target in ["/missing", "/.env", "/empty/", "/a.txt/", "/../a.txt/"] {
            let response = serve(&files, get, target, &[]);
            assert_eq!(response.status, 404, "{target}");
            assert_eq!(body(&response), b"Not Found", "{target}");
        }
        let response = serve(&files, get, "/a%2fb", &[]);
        assert_eq!(response.status, 400);
        assert!(
            String::from_utf8(body(&response))
                .unwrap()
                .contains("RFC 3986")
        );
    }

    #[test]
    fn listing_when_asked_for() {
        let top = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(top.path().join("d/sub")).unwrap();
        std::fs::write(top.path().join("d/f.txt"), "f").unwrap();
        let response = serve(&files(top.path(), true), Method::Get, "/d/", &[]);
        assert_eq!(response.status, 200);
        let page = String::from_utf8(body(&response)).unwrap();
        assert!(
            page.contains("href=\"sub/\"") && page.contains("href=\"f.txt\""),
            "{page}"
        );
    }

    #[test]
    fn archives_where_listings_are_and_refusals() {
        let top = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(top.path().join("caf\u{e9}/sub")).unwrap();
        std::fs::create_dir_all(top.path().join("site")).unwrap();
        std::fs::write(top.path().join("caf\u{e9}/sub/f.txt"), "f").unwrap();
        std::fs::write(top.path().join("site/index.html"), "<p>site</p>").unwrap();
        let mut files = files(top.path(), true);
        files.options.archives = vec![archive::Format::Tar, archive::Format::TarGz];
        let get = |target: &str| serve(&files, Method::Get, target, &[]);

        let made = get("/caf%C3%A9/?download=tar.gz");
        assert_eq!(made.status, 200);
        assert!(matches!(made.body, crate::http::response::Body::Stream(_)));
        assert_eq!(header(&made, "Content-Type"), Some("application/gzip"));
        // The configured fields, as on the folder's listing.
        assert_eq!(header(&made, "Cache-Control"), Some("no-cache"));
        assert_eq!(
            header(&made, "Content-Disposition"),
            Some("attachment; filename*=UTF-8''caf%C3%A9.tar.gz")
        );
        let page = String::from_utf8(body(&get("/caf%C3%A9/"))).unwrap();
        assert!(page.contains("?download=tar.gz"), "{page}");
        assert_eq!(get("/caf%C3%A9/?download=zip").status, 404);
        let unknown = get("/caf%C3%A9/?download=rar");
        assert_eq!(unknown.status, 400);
        assert!(
            String::from_utf8(body(&unknown))
                .unwrap()
                .contains("tar, tar.gz or zip")
        );
        // A folder served by its index file is a page, not a listing: no archive.
        assert_eq!(body(&get("/site/?download=tar")), b"<p>site</p>");
    }

    #[test]
    fn conditionals_ranges_and_variants() {
        let top = tempfile::tempdir().unwrap();
        let root = top.path();
        std::fs::write(root.join("d.txt"), "0123456789").unwrap();
        std::fs::write(root.join("d.txt.gz"), "GZIPPED").unwrap();
        let files = files(root, false);
        let get = Method::Get;

        let plain = serve(&files, get, "/d.txt", &[]);
        let tag = header(&plain, "ETag").unwrap().to_string();
        assert_eq!(header(&plain, "Vary"), Some("Accept-Encoding"));
        let not_modified = serve(&files, get, "/d.txt", &[("If-None-Match", &tag)]);
        assert_eq!(not_modified.status, 304);
        assert!(body(&not_modified).is_empty());
        assert_eq!(
            serve(&files, get, "/d.txt", &[("If-Match", "\"x\"")]).status,
            412
        );

        let part = serve(&files, get, "/d.txt", &[("Range", "bytes=2-4")]);
        assert_eq!(part.status, 206);
        assert_eq!(body(&part), b"234");
        assert_eq!(header(&part, "Content-Range"), Some("bytes 2-4/10"));

        let parts = serve(&files, get, "/d.txt", &[("Range", "bytes=0-0,-1")]);
        assert_eq!(parts.status, 206);
        let content_type = header(&parts, "Content-Type").unwrap();
        let boundary = content_type
            .strip_prefix("multipart/byteranges; boundary=")
            .unwrap();
        let text = String::from_utf8(body(&parts)).unwrap();
        assert!(text.starts_with(&format!("--{boundary}\r\n")), "{text}");
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")), "{text}");
        assert_eq!(parts.body.len(), text.len() as u64);

        let refused = serve(&files, get, "/d.txt", &[("Range", "bytes=10-")]);
        assert_eq!(refused.status, 416);
        assert_eq!(header(&refused, "Content-Range"), Some("bytes */10"));

        let gz = serve(&files, get, "/d.txt", &[("Accept-Encoding", "gzip")]);
        assert_eq!(body(&gz), b"GZIPPED");
        assert_eq!(header(&gz, "Content-Encoding"), Some("gzip"));
        assert_ne!(header(&gz, "ETag"), Some(tag.as_str()));
    }
}
