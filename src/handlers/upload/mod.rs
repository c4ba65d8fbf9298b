//! Uploads into the folders configured for them (`--upload PATH`, `[[upload]]`): `PUT
//! /folder/name` with the file as the body, and a `multipart/form-data` `POST` to the
//! folder (RFC 7578) with any number of files, which the folder's listing offers as a form
//! ([`page`]).
//!
//! A request is answered in two steps. At its head, [`Uploads::handle`] decides: the folder
//! and the name (each name checked by the URL's rules, [`names`]; a name taken refused with
//! 409 at once unless the folder may overwrite), the authentication, the declared size. Then
//! it accepts the body ([`Response::accepting`]) with a sink ([`sinks`]) that writes each
//! file as it arrives to a temporary file in the folder and puts it in place once the body
//! is through ([`store`]). A body cut short drops the sink, which removes what it wrote.
//!
//! Upload folders need authentication: the settings refuse to start unless an auth area
//! covers each folder (its path, in the areas' form `/inbox/`), or `--upload-anonymous` says
//! anyone may upload. The handler asks the request's gate for the folder before anything
//! else, so a client that has not authenticated for the folder's area is challenged,
//! whatever name it puts to. An upload folder takes files directly in it, not in its
//! subfolders: each folder is configured on its own (a production server's user expects the
//! place files land in to be exactly the one configured).

mod names;
pub mod page;
mod sinks;
mod store;

use crate::handlers::Gate;
use crate::handlers::files::encode_segment;
use crate::http::negotiate::prefers_html;
use crate::http::response::Response;
use nomserve_grammar::{
    BodyFraming, Method, MultipartDecoder, MultipartLimits, Request, decode_path, parse_boundary,
};
use rustix::fs::{Mode, OFlags, ResolveFlags, mkdirat, openat2};
use rustix::io::Errno;
use sinks::{FormSink, PutSink};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use store::Folder;

/// One upload folder, as configured (`--upload PATH`, or a `[[upload]]` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadFolder {
    /// Its URL path (`/inbox`).
    pub path: String,
    /// The largest file it takes; `None`: `--upload-max-size`.
    pub max_size: Option<u64>,
    /// A file may replace one of the same name (default: no, 409).
    pub overwrite: bool,
    /// The folder is created beneath the root when missing (default: yes).
    pub mkdir: bool,
}

impl UploadFolder {
    /// The folder at `path` with the defaults: `--upload PATH`.
    pub fn at(path: &str) -> UploadFolder {
        UploadFolder {
            path: path.to_string(),
            max_size: None,
            overwrite: false,
            mkdir: true,
        }
    }
}

/// How uploads are taken, from the settings.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// The folders.
    pub folders: Vec<UploadFolder>,
    /// The largest file a folder takes unless it says (`--upload-max-size`).
    pub max_size: u64,
    /// Anyone may upload, authenticated or not (`--upload-anonymous`).
    pub anonymous: bool,
    /// Dotfiles are served (`--dotfiles`): a file's name may start with `.`.
    pub dotfiles: bool,
}

/// The upload folders, opened.
#[derive(Debug)]
pub struct Uploads {
    /// Each folder: its path's segments, its path in the auth areas' form, the folder.
    folders: Vec<(Vec<Vec<u8>>, PathBuf, Arc<Folder>)>,
    anonymous: bool,
    dotfiles: bool,
}

/// What a request's path names, for uploads.
enum Target<'a> {
    /// The folder (and its path in the areas' form): a form is posted to it, its listing
    /// shows the form.
    Folder(&'a Arc<Folder>, &'a Path),
    /// A file in it: `PUT`.
    File(&'a Arc<Folder>, &'a Path, String),
}

impl Uploads {
    /// Opens the folders of `options` beneath `root` (creating those with `mkdir`), checked
    /// against `protected` (whether an auth area covers a folder's path in the areas' form)
    /// unless uploads are anonymous. The error names the folder and what is wrong.
    pub fn new(
        root: &Path,
        options: &UploadOptions,
        protected: &dyn Fn(&str) -> bool,
    ) -> Result<Uploads, String> {
        let root_dir = std::fs::File::open(root)
            .map_err(|e| format!("document root {}: {e}", root.display()))?;
        let mut folders = Vec::with_capacity(options.folders.len());
        for folder in &options.folders {
            let fail = |why: String| format!("upload folder {:?}: {why}", folder.path);
            let segments = segments_of(&folder.path, options.dotfiles).map_err(fail)?;
            let rel: PathBuf = segments
                .iter()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect();
            let mut url = String::from("/");
            let mut area = PathBuf::from("/");
            for segment in &segments {
                encode_segment(segment, &mut url);
                url.push('/');
                area.push(String::from_utf8_lossy(segment).as_ref());
            }
            // The areas' form of a directory: decoded, with a trailing `/`.
            let mut area = area.into_os_string();
            if !segments.is_empty() {
                area.push("/");
            }
            let area = PathBuf::from(area);
            if !options.anonymous && !protected(&area.to_string_lossy()) {
                return Err(fail(format!(
                    "no auth area covers {}: add an [[auth]] table for it (or --auth-file), \
                     or pass --upload-anonymous to let anyone upload",
                    area.display()
                )));
            }
            let dir = open_beneath(&root_dir, &rel, folder.mkdir)
                .map_err(|e| fail(format!("cannot be opened beneath the root: {e}")))?;
            let opened = Folder {
                url,
                dir,
                max_size: folder.max_size.unwrap_or(options.max_size),
                overwrite: folder.overwrite,
            };
            folders.push((segments, area, Arc::new(opened)));
        }
        Ok(Uploads {
            folders,
            anonymous: options.anonymous,
            dotfiles: options.dotfiles,
        })
    }

    /// What `request`'s path names among the folders, if anything.
    fn target(&self, request: &Request<'_, '_>) -> Option<Target<'_>> {
        let decoded = decode_path(request.target.path()?).ok()?;
        let segments: Vec<&[u8]> = decoded.segments.iter().map(|s| &**s).collect();
        for (folder, area, opened) in &self.folders {
            if segments == *folder {
                return Some(Target::Folder(opened, area));
            }
            let (Some((name, parent)), false) = (segments.split_last(), decoded.trailing_slash)
            else {
                continue;
            };
            if parent == folder.as_slice() {
                let name = String::from_utf8_lossy(name).into_owned();
                return Some(Target::File(opened, area, name));
            }
        }
        None
    }

    /// Whether `request` is an upload this handler answers: `POST` to a folder, `PUT` to a
    /// name in one.
    pub fn takes(&self, request: &Request<'_, '_>) -> bool {
        matches!(
            (request.method, self.target(request)),
            (Method::Post, Some(Target::Folder(..))) | (Method::Put, Some(Target::File(..)))
        )
    }

    /// The 400 for a `POST` or `PUT` whose path does not decode (an encoded control
    /// character or `/`, a bad escape): named by its rule, as a `GET` of it is, rather than a
    /// 405 that would hide why.
    pub fn malformed(&self, request: &Request<'_, '_>) -> Option<Response> {
        if !matches!(request.method, Method::Post | Method::Put) {
            return None;
        }
        let error = decode_path(request.target.path()?).err()?;
        Some(Response::text(error.status(), format!("{error}\n")))
    }

    /// The methods `request`'s path takes, for the `Allow` of a 405, when it is an upload
    /// folder (`POST`) or a name in one (`PUT`).
    pub fn allow(&self, request: &Request<'_, '_>) -> Option<&'static str> {
        match self.target(request)? {
            Target::Folder(..) => Some("GET, HEAD, POST"),
            Target::File(..) => Some("GET, HEAD, PUT"),
        }
    }

    /// Whether `request`'s path is an upload folder (its listing shows the form).
    pub fn is_folder(&self, request: &Request<'_, '_>) -> bool {
        matches!(self.target(request), Some(Target::Folder(..)))
    }

    /// Answers an upload ([`Uploads::takes`]): a refusal, or the acceptance of its body.
    pub fn handle(&self, request: &Request<'_, '_>, gate: Option<&dyn Gate>) -> Response {
        let Some(target) = self.target(request) else {
            return Response::text(404, "not an upload folder\n");
        };
        let area = match &target {
            Target::Folder(_, area) | Target::File(_, area, _) => *area,
        };
        if !self.anonymous {
            let Some(gate) = gate else {
                return Response::text(403, "uploads need authentication\n");
            };
            if let Some(challenge) = gate.enter(&[area.to_path_buf()]) {
                return challenge;
            }
        }
        match target {
            Target::File(folder, _, name) => self.put(request, folder, &name),
            Target::Folder(folder, _) => self.post(request, folder),
        }
    }

    /// `PUT /folder/name`: the name checked, a body declared over the size refused at once.
    fn put(&self, request: &Request<'_, '_>, folder: &Arc<Folder>, name: &str) -> Response {
        if let Err(rule) = names::check(name, self.dotfiles) {
            return Response::text(
                400,
                format!("{name:?} was not stored: {}\n", rule.sentence()),
            );
        }
        if let BodyFraming::ContentLength(length) = request.framing {
            if length > folder.max_size {
                return *folder.too_large(name);
            }
        }
        let mut location = folder.url.clone();
        encode_segment(name.as_bytes(), &mut location);
        match PutSink::new(folder, name, location) {
            Ok(sink) => Response::accepting(Box::new(sink)),
            Err(refusal) => *refusal,
        }
    }

    /// `POST /folder/` with a `multipart/form-data` body.
    fn post(&self, request: &Request<'_, '_>, folder: &Arc<Folder>) -> Response {
        let content_type = request.headers.get("content-type").unwrap_or_default();
        let boundary = match parse_boundary(content_type) {
            Ok(boundary) => boundary,
            Err(e) => {
                return Response::text(e.status(), format!("not an upload form: {e}\n"));
            }
        };
        let decoder = MultipartDecoder::new(boundary, MultipartLimits::default());
        let browser = prefers_html(&request.headers);
        let sink = FormSink::new(Arc::clone(folder), decoder, self.dotfiles, browser);
        Response::accepting(Box::new(sink))
    }
}

/// Opens the directory `rel` beneath the root `root` (`openat2` with `RESOLVE_BENEATH`:
/// no `..` nor symlink leads out of it), creating the components that are missing when
/// `mkdir`, each beneath the one before: nothing is created outside the root, whatever
/// symlink a path holds.
fn open_beneath(root: &std::fs::File, rel: &Path, mkdir: bool) -> rustix::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
    let mut dir = openat2(root, ".", flags, Mode::empty(), resolve)?;
    let mut path = PathBuf::new();
    for component in rel.components() {
        let name = component.as_os_str();
        path.push(name);
        // Each step resolved from the root: a symlink is judged by where it leads in it.
        dir = match openat2(root, &path, flags, Mode::empty(), resolve) {
            Err(Errno::NOENT) if mkdir => {
                match mkdirat(&dir, name, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e),
                }
                openat2(root, &path, flags, Mode::empty(), resolve)?
            }
            other => other?,
        };
    }
    Ok(dir)
}

/// The segments of a configured folder path, each checked as a file name would be.
fn segments_of(path: &str, dotfiles: bool) -> Result<Vec<Vec<u8>>, String> {
    if !path.starts_with('/') {
        return Err("a folder path starts with /".to_string());
    }
    let mut segments = Vec::new();
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        names::check(segment, dotfiles).map_err(|rule| rule.sentence())?;
        segments.push(segment.as_bytes().to_vec());
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_made_and_opened_beneath_the_root_only() {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("root");
        let outside = top.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("out")).unwrap();
        std::os::unix::fs::symlink("deep", root.join("alias")).unwrap();
        let root_dir = std::fs::File::open(&root).unwrap();
        open_beneath(&root_dir, Path::new("a/b/c"), true).unwrap();
        assert!(root.join("a/b/c").is_dir());
        assert!(open_beneath(&root_dir, Path::new("missing"), false).is_err());
        assert!(open_beneath(&root_dir, Path::new("out/new"), true).is_err());
        assert!(
            !outside.join("new").exists(),
            "nothing made outside the root"
        );
        // A symlink that stays beneath the root is followed.
        std::fs::create_dir(root.join("deep")).unwrap();
        open_beneath(&root_dir, Path::new("alias/x"), true).unwrap();
        assert!(root.join("deep/x").is_dir());
    }

    #[test]
    fn folder_paths_are_checked_as_names() {
        assert_eq!(segments_of("/", false).unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(
            segments_of("/a//b/", false).unwrap(),
            [b"a".to_vec(), b"b".to_vec()]
        );
        assert!(segments_of("inbox", false).is_err());
        assert!(segments_of("/a/../b", false).is_err());
        assert!(segments_of("/.private", false).is_err());
        assert!(segments_of("/.private", true).is_ok());
    }
}
