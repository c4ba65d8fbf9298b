//! The members of a folder's archive: the folder's tree, depth first, by the listing's rules.
//!
//! Each folder is read as its listing is ([`listing::read_entries`]): only names a request
//! could carry, no dot-names unless dotfiles are served, regular files and folders only,
//! and a symlink only if it resolves beneath the root (to no dot-name while they are
//! hidden). With a judge (the auth areas' verdicts), an entry is judged as the listing
//! judges it, by the path a request would name, by where it is, and for a symlink by where
//! it leads; a file also by its own names as the file handler gives them
//! ([`guard::file_names`]). A folder refused is left out with all it holds.
//!
//! Memory: the folders from the top down to the one being read, each with its entries (at
//! most [`listing::MAX_ENTRIES`] a folder, as a listing); at most [`MAX_DEPTH`] of them. A
//! symlink that leads back to a folder being walked is left out, so a loop ends.

use super::super::guard;
use super::super::listing::{self, Entry, MAX_ENTRIES};
use super::super::open::{Beneath, Failure};
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The deepest folder walked, counted from the archived one: deeper ones are left out (and
/// the log says so). Paths are at most 4096 bytes, so a deeper tree is rare and every
/// level's entries are held while it is walked.
pub(super) const MAX_DEPTH: usize = 64;

/// One member, in the order the walk gives them: a folder before what it holds.
#[derive(Debug)]
pub(super) enum Item {
    /// A folder: its name in the archive (ending with `/`), and its metadata.
    Dir { name: Vec<u8>, meta: Metadata },
    /// A regular file: its name in the archive and its path beneath the root, opened when
    /// its turn comes ([`Walk::open`]).
    File { name: Vec<u8>, rel: PathBuf },
}

/// A folder being walked.
struct Frame {
    /// Its path beneath the root, as requests name it.
    rel: PathBuf,
    /// Where it is beneath the root, after symlinks.
    real: PathBuf,
    /// Its name in the archive: empty for the archived folder, else ending with `/`.
    name: Vec<u8>,
    /// The entries not walked yet.
    entries: std::vec::IntoIter<Entry>,
    /// Its device and inode: a symlink back to it is not followed.
    id: (u64, u64),
}

/// The walk of one folder's tree; `judge` says whether a path (in the auth areas' form)
/// may be shown.
pub(super) struct Walk<J> {
    beneath: Beneath,
    dotfiles: bool,
    /// Symlinks are resolved, for the judge: with auth areas.
    resolve: bool,
    judge: J,
    stack: Vec<Frame>,
}

impl<J: Fn(&Path) -> bool> Walk<J> {
    /// The walk of `dir`, the folder at `rel` beneath the root that is at `real` after
    /// symlinks; with `resolve`, each entry is put to `judge`.
    pub(super) fn new(
        beneath: Beneath,
        (dir, rel, real): (&File, &Path, &Path),
        dotfiles: bool,
        (resolve, judge): (bool, J),
    ) -> io::Result<Walk<J>> {
        let mut walk = Walk {
            beneath,
            dotfiles,
            resolve,
            judge,
            stack: Vec::new(),
        };
        let meta = dir.metadata()?;
        // Descriptors duplicated from `dir` share its position: an earlier walk of the same
        // folder (the areas asked about its tree) read it to its end.
        rustix::fs::seek(dir, rustix::fs::SeekFrom::Start(0))?;
        walk.enter(
            dir,
            &meta,
            (rel.to_path_buf(), real.to_path_buf()),
            Vec::new(),
        )?;
        Ok(walk)
    }

    /// Reads the folder `dir` and makes it the one walked.
    fn enter(
        &mut self,
        dir: &File,
        meta: &Metadata,
        (rel, real): (PathBuf, PathBuf),
        name: Vec<u8>,
    ) -> io::Result<()> {
        let read = listing::read_entries(&self.beneath, (dir, &rel), self.dotfiles, self.resolve)?;
        if read.truncated {
            log::warn!(
                "archive of /{}: more than {MAX_ENTRIES} entries; the rest are left out",
                rel.display()
            );
        }
        self.stack.push(Frame {
            rel,
            real,
            name,
            entries: read.entries.into_iter(),
            id: (meta.dev(), meta.ino()),
        });
        Ok(())
    }

    /// Whether `judge` shows `entry` of the folder `frame` (always, without `resolve`).
    fn shown(&self, frame: &Frame, entry: &Entry) -> bool {
        if !self.resolve {
            return true;
        }
        let within = |dir: &Path| {
            let mut path = guard::form(dir, true).into_os_string();
            path.push(OsStr::from_bytes(&entry.name));
            if entry.is_dir {
                path.push("/");
            }
            PathBuf::from(path)
        };
        let judge = &self.judge;
        judge(&within(&frame.rel))
            && (frame.real == frame.rel || judge(&within(&frame.real)))
            && entry.target.as_deref().is_none_or(judge)
            && (entry.is_dir
                || entry.target.is_some()
                || self.shows_file(&frame.real.join(OsStr::from_bytes(&entry.name))))
    }

    /// Whether `judge` shows the regular file at `real` beneath the root, by each of its
    /// names ([`guard::file_names`]).
    fn shows_file(&self, real: &Path) -> bool {
        let mut names = Vec::with_capacity(2);
        guard::file_names(real, &mut names);
        names.iter().all(|name| (self.judge)(name))
    }

    /// Opens `rel` beneath the root as the file handler would, if it is still a regular
    /// file the judge shows: `None` when it is gone, is something else now, or may not be
    /// read (each left out; an unreadable one is logged). Running out of descriptors is an
    /// error: the archive is not to go on without files it can see.
    pub(super) fn open(&self, rel: &Path) -> io::Result<Option<(File, Metadata)>> {
        let (file, real) = match self.open_beneath(rel) {
            Ok(Some(opened)) => opened,
            Ok(None) => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        let shown = real.as_deref().is_none_or(|real| self.shows_file(real));
        Ok((meta.is_file() && shown).then_some((file, meta)))
    }

    /// Opens `rel` (resolving where it leads with `resolve`); `None` when it is gone or may
    /// not be read.
    fn open_beneath(&self, rel: &Path) -> io::Result<Option<(File, Option<PathBuf>)>> {
        let opened = if self.resolve {
            self.beneath.open_resolved(rel)
        } else {
            self.beneath.open(rel).map(|file| (file, None))
        };
        match opened {
            Ok(opened) => Ok(Some(opened)),
            Err(Failure::NotFound) => Ok(None),
            Err(Failure::Forbidden) => {
                log::warn!("archive: /{} may not be read; left out", rel.display());
                Ok(None)
            }
            Err(Failure::Unavailable) => Err(io::Error::other("out of file descriptors")),
            Err(Failure::Other(e)) => Err(e),
        }
    }

    /// Steps into the folder `entry` of the folder walked, if it is one to walk: its item.
    fn descend(&mut self, entry: &Entry) -> io::Result<Option<Item>> {
        let frame = self.stack.last().expect("a folder is being walked");
        let rel = frame.rel.join(OsStr::from_bytes(&entry.name));
        let mut name = frame.name.clone();
        name.extend_from_slice(&entry.name);
        name.push(b'/');
        let Some((dir, real)) = self.open_beneath(&rel)? else {
            return Ok(None);
        };
        let meta = dir.metadata()?;
        if !meta.is_dir() {
            return Ok(None);
        }
        let id = (meta.dev(), meta.ino());
        if self.stack.iter().any(|frame| frame.id == id) {
            log::warn!(
                "archive: /{} leads back to a folder above it; left out",
                rel.display()
            );
            return Ok(None);
        }
        if self.stack.len() > MAX_DEPTH {
            log::warn!(
                "archive: /{} is more than {MAX_DEPTH} folders deep; left out",
                rel.display()
            );
            return Ok(None);
        }
        let real = real.unwrap_or_else(|| rel.clone());
        self.enter(&dir, &meta, (rel, real), name.clone())?;
        Ok(Some(Item::Dir { name, meta }))
    }
}

impl<J: Fn(&Path) -> bool> Iterator for Walk<J> {
    type Item = io::Result<Item>;

    fn next(&mut self) -> Option<io::Result<Item>> {
        loop {
            let frame = self.stack.last_mut()?;
            let Some(entry) = frame.entries.next() else {
                self.stack.pop();
                continue;
            };
            let frame = self.stack.last().expect("the frame just read");
            if !self.shown(frame, &entry) {
                continue;
            }
            if entry.is_dir {
                match self.descend(&entry) {
                    Ok(Some(item)) => return Some(Ok(item)),
                    Ok(None) => continue,
                    Err(e) => return Some(Err(e)),
                }
            }
            let mut name = frame.name.clone();
            name.extend_from_slice(&entry.name);
            let rel = frame.rel.join(OsStr::from_bytes(&entry.name));
            return Some(Ok(Item::File { name, rel }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// The names the walk of `root`'s folder `rel` gives, sorted.
    fn names(root: &Path, rel: &str, dotfiles: bool, judge: impl Fn(&Path) -> bool) -> Vec<String> {
        let beneath = Beneath::open_root(root).unwrap().hiding_dotfiles(!dotfiles);
        let dir = beneath.open(Path::new(rel)).unwrap();
        let walk = Walk::new(
            beneath,
            (&dir, Path::new(rel), Path::new(rel)),
            dotfiles,
            (true, judge),
        )
        .unwrap();
        let mut names: Vec<String> = walk
            .map(|item| match item.unwrap() {
                Item::Dir { name, .. } | Item::File { name, .. } => {
                    String::from_utf8(name).unwrap()
                }
            })
            .collect();
        names.sort();
        names
    }

    fn tree() -> tempfile::TempDir {
        let top = tempfile::tempdir().unwrap();
        let outside = top.path().join("outside");
        let root = top.path().join("root");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "s").unwrap();
        std::fs::create_dir_all(root.join("d/sub/deeper")).unwrap();
        std::fs::create_dir_all(root.join("d/private")).unwrap();
        std::fs::write(root.join("d/a.txt"), "a").unwrap();
        std::fs::write(root.join("d/.env"), "e").unwrap();
        std::fs::write(root.join("d/sub/b.txt"), "b").unwrap();
        std::fs::write(root.join("d/private/p.txt"), "p").unwrap();
        std::fs::write(root.join("d/sub/deeper/caf\u{e9}.txt"), "c").unwrap();
        symlink(&outside, root.join("d/out")).unwrap();
        symlink(outside.join("secret"), root.join("d/secret")).unwrap();
        symlink("..", root.join("d/sub/up")).unwrap();
        symlink("private/p.txt", root.join("d/p-link")).unwrap();
        top
    }

    #[test]
    fn the_tree_by_the_listing_rules() {
        let top = tree();
        let root = top.path().join("root");
        assert_eq!(
            names(&root, "d", false, |_| true),
            [
                "a.txt",
                "p-link",
                "private/",
                "private/p.txt",
                "sub/",
                "sub/b.txt",
                "sub/deeper/",
                "sub/deeper/caf\u{e9}.txt",
            ],
            "no dotfile, nothing outside the root, the loop back up left out"
        );
        assert!(names(&root, "d", true, |_| true).contains(&".env".to_string()));
    }

    #[test]
    fn what_the_judge_refuses_is_left_out() {
        let top = tree();
        let root = top.path().join("root");
        let judge = |path: &Path| !path.starts_with("/d/private");
        assert_eq!(
            names(&root, "d", false, judge),
            [
                "a.txt",
                "sub/",
                "sub/b.txt",
                "sub/deeper/",
                "sub/deeper/caf\u{e9}.txt"
            ],
            "the area's folder, and the symlink into it, left out"
        );
    }

    #[test]
    fn folders_deeper_than_the_bound_are_left_out() {
        let top = tempfile::tempdir().unwrap();
        let mut deep = top.path().join("d");
        for _ in 0..MAX_DEPTH + 5 {
            deep.push("n");
        }
        std::fs::create_dir_all(&deep).unwrap();
        let names = names(top.path(), "d", false, |_| true);
        // `n/`, `n/n/`, ... down to MAX_DEPTH folders below the archived one.
        assert_eq!(names.len(), MAX_DEPTH);
        assert_eq!(names.last().unwrap().len(), 2 * MAX_DEPTH);
    }

    #[test]
    fn a_file_gone_or_replaced_is_not_opened() {
        let top = tree();
        let root = top.path().join("root");
        let beneath = Beneath::open_root(&root).unwrap();
        let dir = beneath.open(Path::new("d")).unwrap();
        let walk = Walk::new(
            beneath,
            (&dir, Path::new("d"), Path::new("d")),
            false,
            (false, |_: &Path| true),
        )
        .unwrap();
        assert!(walk.open(Path::new("d/a.txt")).unwrap().is_some());
        assert!(walk.open(Path::new("d/gone")).unwrap().is_none());
        assert!(walk.open(Path::new("d/sub")).unwrap().is_none());
    }
}
