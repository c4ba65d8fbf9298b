//! What a [`Gate`](crate::handlers::Gate) is asked about: the files a request is served
//! from, named by the paths they have beneath the root, in the form the auth areas' globs
//! match (`/dir/file`, `/dir/` for a directory; the root is `/`).
//!
//! A file is named by where it is, not by how it was reached: after symlinks (the path the
//! open file has, [`Beneath::open_resolved`](super::open::Beneath::open_resolved)), clean
//! URLs, index files and the fallback page (each the file actually opened). A precompressed
//! variant is named by its own path and by its original's (`/report.txt.gz` by
//! `/report.txt` too), so that an area protecting either protects both, however the client
//! asks: by the variant's name, or by the original's with an Accept-Encoding that picks it.

use super::coding::ContentCoding;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// `rel` (relative to the root) in the areas' form: `/` and its components, and a trailing
/// `/` for a directory other than the root.
pub(super) fn form(rel: &Path, dir: bool) -> PathBuf {
    let rel = rel.as_os_str().as_bytes();
    let mut path = Vec::with_capacity(rel.len() + 2);
    path.push(b'/');
    path.extend_from_slice(rel);
    if dir && !rel.is_empty() {
        path.push(b'/');
    }
    PathBuf::from(OsString::from_vec(path))
}

/// Adds to `names` the paths that name the regular file at `real` (relative to the root):
/// its own, and when its name is a precompressed variant's (`x.gz`, `x.br`, `x.zst`) that of
/// the file it is a variant of (`x`).
pub(super) fn file_names(real: &Path, names: &mut Vec<PathBuf>) {
    let own = form(real, false);
    let bytes = own.as_os_str().as_bytes();
    let original = ContentCoding::ALL
        .iter()
        .filter_map(|coding| bytes.strip_suffix(coding.suffix().as_bytes()))
        .find(|original| original.len() > 1 && !original.ends_with(b"/"))
        .map(|original| PathBuf::from(OsString::from_vec(original.to_vec())));
    names.push(own);
    names.extend(original);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_end_with_a_slash_and_the_root_is_one() {
        assert_eq!(form(Path::new(""), true), Path::new("/"));
        assert_eq!(form(Path::new("a/b"), true).as_os_str(), "/a/b/");
        assert_eq!(form(Path::new("a/b.txt"), false).as_os_str(), "/a/b.txt");
    }

    #[test]
    fn a_variant_is_named_by_its_original_too() {
        let names = |real: &str| {
            let mut names = Vec::new();
            file_names(Path::new(real), &mut names);
            names
        };
        assert_eq!(names("report.txt"), [Path::new("/report.txt")]);
        assert_eq!(
            names("d/report.txt.gz"),
            [Path::new("/d/report.txt.gz"), Path::new("/d/report.txt")]
        );
        assert_eq!(names("a.br"), [Path::new("/a.br"), Path::new("/a")]);
        assert_eq!(names("x.zst"), [Path::new("/x.zst"), Path::new("/x")]);
        assert_eq!(names(".gz"), [Path::new("/.gz")]);
        assert_eq!(names("d/.gz"), [Path::new("/d/.gz")]);
    }
}
