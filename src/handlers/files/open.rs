//! Opening a path beneath the document root, race-free.
//!
//! Checking a path and then opening it leaves a window in which a directory can be swapped for
//! a symlink that points out of the root. So the kernel does the check while it resolves the
//! path: `openat2(root_fd, path, …, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` refuses, as one
//! step, any resolution that would leave the directory `root_fd` names — through `..`, an
//! absolute symlink, a relative symlink that climbs out, or a `/proc` magic link. Symlinks
//! that stay beneath the root are followed.
//!
//! Kernels before Linux 5.6 lack `openat2` (`ENOSYS`), and some container sandboxes filter it
//! (`EPERM`). There the fallback walks the path one component at a time with
//! `openat(dir_fd, component, O_NOFOLLOW)`, each directory opened relative to the previous
//! one's descriptor: no symlink is ever followed, so nothing outside the root can be reached.
//! The price: under the fallback every symlink is refused, even one that stays inside the
//! root. Which strategy applies is probed once, when the root is opened.
//!
//! # Dotfiles by what they are
//!
//! With dotfiles hidden, what is refused is a file whose path *as resolved* has a dot-name
//! component (see [`map::is_hidden`](super::map::is_hidden)), not only a request that names
//! one: an in-root symlink `page.txt -> .secret`, `cfg -> .git/config` or
//! `page.txt.gz -> .secret.gz` serves nothing. [`Beneath::open`] and [`Beneath::inspect`]
//! check it (so every opener gets it: files, indexes, precompressed variants, listing
//! entries), in two steps:
//!
//! 1. `openat2` with `RESOLVE_NO_SYMLINKS` as well. A path without a symlink resolves to its
//!    own components, which the request mapper already checked: this one call is the whole
//!    cost, as before.
//! 2. Only when that meets a symlink (`ELOOP`): the path is opened as usual (symlinks beneath
//!    the root followed), and the path the kernel reports for the opened descriptor
//!    (`readlink` of `/proc/self/fd/N`), made relative to the root's own (read the same way,
//!    so a root renamed meanwhile still compares), is checked component by component.
//!
//! The check is of the open file itself, not of a name looked up again, so no swap of a
//! symlink between check and use can slip a dotfile through: what is judged is what is
//! served. It fails closed: without `/proc`, or when the file's path does not lie under the
//! root's (a file renamed away meanwhile), a path through a symlink is refused. The open-file
//! cache adds nothing to the fast path: it only keeps files reached without a symlink.
//! Hard links are not symlinks: a second name of a dotfile's inode is that name's file.
//! Under [`Strategy::Walk`] every symlink is refused already, so the request's names decide.
//!
//! # Where a path leads
//!
//! The auth areas protect files, not only the names requests give them, so a request guarded
//! by them asks where its path leads ([`Beneath::open_resolved`]): the same two steps, the
//! second giving the path the open file has beneath the root. It fails closed as the dotfile
//! check does, and also refuses a file that has no name left (removed after it was opened,
//! when the kernel reports a name it no longer has). Without the areas nothing is asked.

use super::map::is_hidden;
use rustix::fs::{Mode, OFlags, ResolveFlags, openat, openat2};
use rustix::io::Errno;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// How paths are resolved beneath the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strategy {
    /// One `openat2` call with `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`; symlinks that stay
    /// beneath the root are followed.
    Openat2,
    /// One `openat(…, O_NOFOLLOW)` per component; every symlink is refused.
    Walk,
}

/// What the startup log says about how paths are resolved.
impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Strategy::Openat2 => "openat2(RESOLVE_BENEATH), symlinks within the root followed",
            Strategy::Walk => "openat per component with O_NOFOLLOW, symlinks refused",
        })
    }
}

/// Why an open failed, reduced to what the response says.
#[derive(Debug)]
pub(super) enum Failure {
    /// Nothing servable there: missing, a path through a non-directory, a symlink that leaves
    /// the root (or any symlink, under [`Strategy::Walk`]), a socket. Answered `404`.
    NotFound,
    /// The file exists but the server may not read it (`EACCES`, `EPERM`). Answered `403`.
    Forbidden,
    /// The process or the system is out of file descriptors (`EMFILE`, `ENFILE`): a
    /// temporary overload, answered `503` with `Retry-After` (RFC 9110 §15.6.4).
    Unavailable,
    /// Anything else (an I/O error): the server's fault, answered `500`.
    Other(io::Error),
}

impl Failure {
    /// Classifies an `errno` from `openat2`/`openat`.
    ///
    /// `ENOENT`, `ENOTDIR`, `ENAMETOOLONG` name nothing; `EXDEV` is `RESOLVE_BENEATH` refusing
    /// to leave the root; `ELOOP` is a symlink refused (`O_NOFOLLOW`, or
    /// `RESOLVE_NO_MAGICLINKS`) or a loop; `ENXIO` is a Unix socket, which cannot be opened.
    /// A refusal to escape is answered like a missing file so that it tells nothing about what
    /// lies outside the root.
    pub(super) fn from_errno(errno: Errno) -> Failure {
        match errno {
            Errno::NOENT
            | Errno::NOTDIR
            | Errno::NAMETOOLONG
            | Errno::XDEV
            | Errno::LOOP
            | Errno::NXIO => Failure::NotFound,
            Errno::ACCESS | Errno::PERM => Failure::Forbidden,
            Errno::MFILE | Errno::NFILE => Failure::Unavailable,
            other => Failure::Other(other.into()),
        }
    }
}

/// How often an `openat2` that answered `EAGAIN` is retried. With `RESOLVE_BENEATH`, the
/// kernel answers `EAGAIN` when a rename or mount raced the resolution and it could not rule
/// out an escape; a second try almost always succeeds, and the bound keeps a hostile rename
/// loop from holding a worker.
const OPENAT2_RETRIES: usize = 4;

/// The flags every open for reading uses: `O_NONBLOCK` so that opening a FIFO returns at once
/// instead of blocking a worker until a writer appears (the caller then refuses it after
/// `fstat`; on a regular file the flag changes nothing), `O_NOCTTY` so that a terminal device
/// never becomes the server's controlling terminal.
fn read_flags() -> OFlags {
    OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY
}

/// The document root, held open as a directory descriptor, and the way paths beneath it are
/// resolved.
#[derive(Debug)]
pub(super) struct Beneath {
    root: OwnedFd,
    strategy: Strategy,
    /// Refuse what resolves to a dot-name (see the module's documentation).
    hide_dotfiles: bool,
}

impl Beneath {
    /// Opens `path` as the root and probes once whether `openat2` works here.
    ///
    /// Fails with a message naming `path` if it is missing, not a directory or unreadable.
    pub(super) fn open_root(path: &Path) -> io::Result<Beneath> {
        let root = openat(
            rustix::fs::CWD,
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| {
            let error = io::Error::from(errno);
            let message = if errno == Errno::NOTDIR {
                format!("document root {} is not a directory", path.display())
            } else {
                format!("document root {}: {error}", path.display())
            };
            io::Error::new(error.kind(), message)
        })?;
        let strategy = match openat2(
            &root,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
        ) {
            Ok(_) => Strategy::Openat2,
            Err(Errno::NOSYS | Errno::PERM) => Strategy::Walk,
            Err(errno) => {
                let error = io::Error::from(errno);
                return Err(io::Error::new(
                    error.kind(),
                    format!("document root {}: {error}", path.display()),
                ));
            }
        };
        Ok(Beneath {
            root,
            strategy,
            hide_dotfiles: false,
        })
    }

    /// The same root, refusing (as not found) what resolves to a dot-name when `hide`.
    pub(super) fn hiding_dotfiles(self, hide: bool) -> Beneath {
        Beneath {
            hide_dotfiles: hide,
            ..self
        }
    }

    /// The same root resolved with `strategy`: lets tests exercise the fallback on a kernel
    /// that has `openat2`.
    #[cfg(test)]
    pub(super) fn with_strategy(self, strategy: Strategy) -> Beneath {
        Beneath { strategy, ..self }
    }

    /// The same root on a descriptor of its own, for work that outlives the request (a
    /// folder's archive, made as the client reads it).
    pub(super) fn try_clone(&self) -> io::Result<Beneath> {
        Ok(Beneath {
            root: self.root.try_clone()?,
            ..*self
        })
    }

    /// The strategy in use.
    pub(super) fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// Opens `rel` (relative, no `..`; empty for the root itself) for reading, beneath the
    /// root, with the flags of [`read_flags`]. The result may be any kind of file: the caller
    /// must `fstat` it before reading. With dotfiles hidden, a file that resolves to a
    /// dot-name is not found.
    pub(super) fn open(&self, rel: &Path) -> Result<File, Failure> {
        self.open_with(rel, read_flags())
    }

    /// Opens `rel` with `O_PATH`, to look at what it is without opening it for reading: no
    /// device driver is called, a FIFO is not touched. For directory listings.
    pub(super) fn inspect(&self, rel: &Path) -> Result<File, Failure> {
        self.open_with(rel, OFlags::PATH | OFlags::CLOEXEC)
    }

    /// Opens `rel` for reading as [`Beneath::open`] does, but refusing a symlink anywhere in
    /// the path (`RESOLVE_NO_SYMLINKS`; the walk refuses every symlink already): the file is
    /// then the one its directory holds, which the open-file cache requires.
    pub(super) fn open_without_symlinks(&self, rel: &Path) -> Result<File, Failure> {
        match self.strategy {
            Strategy::Openat2 => self
                .open_openat2(rel, read_flags(), ResolveFlags::NO_SYMLINKS)
                .map(File::from),
            Strategy::Walk => self.open(rel),
        }
    }

    /// Opens `rel` as [`Beneath::open`] does, and says which file it is: `None` when the
    /// path crossed no symlink (the file is the one `rel` names), else the path the file
    /// has beneath the root (see "Where a path leads" in the module's documentation).
    pub(super) fn open_resolved(&self, rel: &Path) -> Result<(File, Option<PathBuf>), Failure> {
        self.resolve_with(rel, read_flags()).and_then(still_named)
    }

    /// [`Beneath::inspect`], saying which file it is as [`Beneath::open_resolved`] does.
    pub(super) fn inspect_resolved(&self, rel: &Path) -> Result<(File, Option<PathBuf>), Failure> {
        self.resolve_with(rel, OFlags::PATH | OFlags::CLOEXEC)
            .and_then(still_named)
    }

    fn open_with(&self, rel: &Path, flags: OFlags) -> Result<File, Failure> {
        match self.strategy {
            Strategy::Openat2 if self.hide_dotfiles => {
                return self.resolve_with(rel, flags).map(|(file, _)| file);
            }
            Strategy::Openat2 => self.open_openat2(rel, flags, ResolveFlags::empty()),
            Strategy::Walk => self.open_walk(rel, flags),
        }
        .map(File::from)
    }

    /// Opens `rel` without symlinks if it can, else following them and reading where it
    /// landed, which is refused when that cannot be read, or is a dot-name while dotfiles
    /// are hidden (the module's documentation argues it). Under [`Strategy::Walk`] no
    /// symlink is followed, so the file is always the one `rel` names.
    fn resolve_with(&self, rel: &Path, flags: OFlags) -> Result<(File, Option<PathBuf>), Failure> {
        if self.strategy == Strategy::Walk {
            return self.open_walk(rel, flags).map(|fd| (File::from(fd), None));
        }
        match self.try_openat2(rel, flags, ResolveFlags::NO_SYMLINKS) {
            Ok(fd) => Ok((File::from(fd), None)),
            Err(Errno::LOOP) => {
                let file = File::from(self.open_openat2(rel, flags, ResolveFlags::empty())?);
                let shown = |real: &PathBuf| !(self.hide_dotfiles && hides(real));
                match self.resolved(&file).filter(shown) {
                    Some(real) => Ok((file, Some(real))),
                    None => {
                        log::debug!(
                            "{}: resolves to a hidden or unknown name; refused",
                            rel.display()
                        );
                        Err(Failure::NotFound)
                    }
                }
            }
            Err(errno) => Err(Failure::from_errno(errno)),
        }
    }

    /// The path of the open file `fd` relative to the root, as the kernel reports both now;
    /// `None` if either cannot be read or the file is not under the root's path.
    fn resolved(&self, fd: &impl AsRawFd) -> Option<PathBuf> {
        let path_of = |fd: i32| std::fs::read_link(format!("/proc/self/fd/{fd}")).ok();
        let root = path_of(self.root.as_raw_fd())?;
        let file = path_of(fd.as_raw_fd())?;
        file.strip_prefix(root).ok().map(Path::to_path_buf)
    }

    /// One `openat2` call; `EAGAIN` retried [`OPENAT2_RETRIES`] times.
    fn open_openat2(
        &self,
        rel: &Path,
        flags: OFlags,
        extra: ResolveFlags,
    ) -> Result<OwnedFd, Failure> {
        self.try_openat2(rel, flags, extra)
            .map_err(Failure::from_errno)
    }

    /// [`Beneath::open_openat2`], the error left as the kernel's.
    fn try_openat2(
        &self,
        rel: &Path,
        flags: OFlags,
        extra: ResolveFlags,
    ) -> Result<OwnedFd, Errno> {
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS | extra;
        let mut tries = 0;
        loop {
            match openat2(&self.root, rel, flags, Mode::empty(), resolve) {
                Err(Errno::AGAIN) if tries < OPENAT2_RETRIES => tries += 1,
                result => return result,
            }
        }
    }

    /// The component walk: every directory opened with `O_DIRECTORY | O_NOFOLLOW` relative to
    /// the previous one, the last component with `O_NOFOLLOW`. A symlink anywhere fails with
    /// `ELOOP` (or `ENOTDIR`), and a component that is not a plain name is refused outright.
    fn open_walk(&self, rel: &Path, flags: OFlags) -> Result<OwnedFd, Failure> {
        let names: Vec<&std::ffi::OsStr> = rel
            .components()
            .filter(|c| *c != Component::CurDir)
            .map(|c| match c {
                Component::Normal(name) => Ok(name),
                _ => Err(Failure::NotFound),
            })
            .collect::<Result<_, _>>()?;
        let Some((last, dirs)) = names.split_last() else {
            return openat(&self.root, ".", flags, Mode::empty()).map_err(Failure::from_errno);
        };
        let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut dir: Option<OwnedFd> = None;
        for name in dirs {
            let parent = dir.as_ref().unwrap_or(&self.root);
            let next =
                openat(parent, *name, dir_flags, Mode::empty()).map_err(Failure::from_errno)?;
            dir = Some(next);
        }
        let parent = dir.as_ref().unwrap_or(&self.root);
        openat(parent, *last, flags | OFlags::NOFOLLOW, Mode::empty()).map_err(Failure::from_errno)
    }
}

/// `opened`, unless it was reached through a symlink and has no name left now: then the name
/// read for it (the kernel's, with " (deleted)" added) is not where it is, and it is not
/// found.
fn still_named(opened: (File, Option<PathBuf>)) -> Result<(File, Option<PathBuf>), Failure> {
    match opened {
        (file, Some(_)) if !file.metadata().is_ok_and(|meta| meta.nlink() > 0) => {
            Err(Failure::NotFound)
        }
        opened => Ok(opened),
    }
}

/// Whether the path `rel` (relative to the root) has a hidden component ([`is_hidden`]).
fn hides(rel: &Path) -> bool {
    rel.components()
        .enumerate()
        .any(|(index, component)| is_hidden(index, component.as_os_str().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    /// A root holding `a.txt`, `dir/b.txt`, a symlink inside (`in -> dir/b.txt`), symlinks out
    /// (`out -> ../secret.txt`, `abs -> /etc/hostname`, `outdir -> ..`), and a secret beside
    /// the root.
    fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("root");
        fs::create_dir_all(root.join("dir")).unwrap();
        fs::write(root.join("a.txt"), "a").unwrap();
        fs::write(root.join("dir/b.txt"), "b").unwrap();
        fs::write(top.path().join("secret.txt"), "secret").unwrap();
        symlink("dir/b.txt", root.join("in")).unwrap();
        symlink("../secret.txt", root.join("out")).unwrap();
        symlink("/etc/hostname", root.join("abs")).unwrap();
        symlink("..", root.join("outdir")).unwrap();
        symlink("../../secret.txt", root.join("dir/up")).unwrap();
        (top, root)
    }

    fn read(beneath: &Beneath, rel: &str) -> Result<String, Failure> {
        let mut text = String::new();
        beneath
            .open(Path::new(rel))?
            .read_to_string(&mut text)
            .map_err(Failure::Other)?;
        Ok(text)
    }

    fn both(root: &Path) -> Vec<Beneath> {
        let openat2 = Beneath::open_root(root).unwrap();
        let walk = Beneath::open_root(root)
            .unwrap()
            .with_strategy(Strategy::Walk);
        vec![openat2, walk]
    }

    #[test]
    fn opens_plain_files_with_either_strategy() {
        let (_top, root) = fixture();
        for beneath in both(&root) {
            assert_eq!(read(&beneath, "a.txt").unwrap(), "a");
            assert_eq!(read(&beneath, "dir/b.txt").unwrap(), "b");
            assert!(
                beneath
                    .open(Path::new(""))
                    .unwrap()
                    .metadata()
                    .unwrap()
                    .is_dir()
            );
            assert!(matches!(read(&beneath, "missing"), Err(Failure::NotFound)));
            assert!(matches!(read(&beneath, "a.txt/x"), Err(Failure::NotFound)));
        }
    }

    #[test]
    fn symlinks_out_of_the_root_are_not_found() {
        let (_top, root) = fixture();
        for beneath in both(&root) {
            for rel in ["out", "abs", "outdir/secret.txt", "dir/up", "../secret.txt"] {
                assert!(
                    matches!(read(&beneath, rel), Err(Failure::NotFound)),
                    "{rel} with {:?}",
                    beneath.strategy()
                );
            }
        }
    }

    #[test]
    fn symlinks_inside_are_followed_by_openat2_only() {
        let (_top, root) = fixture();
        let [openat2, walk]: [Beneath; 2] = both(&root).try_into().unwrap();
        if openat2.strategy() == Strategy::Openat2 {
            assert_eq!(read(&openat2, "in").unwrap(), "b");
        }
        assert!(matches!(read(&walk, "in"), Err(Failure::NotFound)));
    }

    /// Where a path leads: nowhere else without a symlink; through one, the path the file
    /// has beneath the root (of a file, of a directory, through a linked directory).
    #[test]
    fn open_resolved_says_where_a_symlink_leads() {
        let (_top, root) = fixture();
        symlink("dir", root.join("linked")).unwrap();
        let [openat2, walk]: [Beneath; 2] = both(&root).try_into().unwrap();
        let real = |beneath: &Beneath, rel: &str| {
            beneath
                .open_resolved(Path::new(rel))
                .map(|(_, real)| real)
                .map_err(|failure| format!("{failure:?}"))
        };
        for beneath in [&openat2, &walk] {
            assert_eq!(real(beneath, "a.txt"), Ok(None));
            assert_eq!(real(beneath, "dir/b.txt"), Ok(None));
            assert!(real(beneath, "out").is_err());
        }
        assert!(real(&walk, "in").is_err());
        if openat2.strategy() == Strategy::Openat2 {
            assert_eq!(real(&openat2, "in"), Ok(Some(PathBuf::from("dir/b.txt"))));
            assert_eq!(real(&openat2, "linked"), Ok(Some(PathBuf::from("dir"))));
            assert_eq!(
                real(&openat2, "linked/b.txt"),
                Ok(Some(PathBuf::from("dir/b.txt")))
            );
            let (_, real) = openat2.inspect_resolved(Path::new("in")).unwrap();
            assert_eq!(real, Some(PathBuf::from("dir/b.txt")));
        }
    }

    /// With dotfiles hidden, what resolves to a dot-name is not found, however it is reached
    /// (a link to a file, through a link to a directory, a link to a link); what resolves to
    /// a visible name or under a leading `.well-known` is opened.
    #[test]
    fn hiding_dotfiles_judges_the_resolved_path() {
        let (_top, root) = fixture();
        fs::write(root.join(".secret"), "s").unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        fs::write(root.join(".git/config"), "c").unwrap();
        fs::create_dir_all(root.join(".well-known/acme-challenge")).unwrap();
        fs::write(root.join(".well-known/acme-challenge/t"), "t").unwrap();
        symlink(".secret", root.join("page.txt")).unwrap();
        symlink(".git/config", root.join("cfg")).unwrap();
        symlink(".git", root.join("git")).unwrap();
        symlink("page.txt", root.join("again")).unwrap();
        symlink(".well-known/acme-challenge/t", root.join("token")).unwrap();
        let beneath = Beneath::open_root(&root).unwrap().hiding_dotfiles(true);
        if beneath.strategy() != Strategy::Openat2 {
            return;
        }
        for rel in ["page.txt", "cfg", "git/config", "again", "git"] {
            assert!(
                matches!(read(&beneath, rel), Err(Failure::NotFound)),
                "{rel}"
            );
            assert!(
                matches!(beneath.inspect(Path::new(rel)), Err(Failure::NotFound)),
                "{rel}"
            );
        }
        assert_eq!(read(&beneath, "in").unwrap(), "b");
        assert_eq!(read(&beneath, "token").unwrap(), "t");
        assert_eq!(read(&beneath, "a.txt").unwrap(), "a");
        let shown = Beneath::open_root(&root).unwrap();
        assert_eq!(read(&shown, "page.txt").unwrap(), "s");
    }

    #[test]
    fn hidden_components() {
        for (rel, hidden) in [
            ("a/b.txt", false),
            (".secret", true),
            ("a/.git/config", true),
            (".well-known/acme-challenge/x", false),
            (".well-known/.x", true),
            ("a/.well-known", true),
            ("", false),
        ] {
            assert_eq!(hides(Path::new(rel)), hidden, "{rel}");
        }
    }

    #[test]
    fn inspect_does_not_follow_symlinks_out() {
        let (_top, root) = fixture();
        for beneath in both(&root) {
            assert!(beneath.inspect(Path::new("a.txt")).is_ok());
            assert!(matches!(
                beneath.inspect(Path::new("outdir/secret.txt")),
                Err(Failure::NotFound)
            ));
        }
    }

    #[test]
    fn errno_mapping() {
        assert!(matches!(
            Failure::from_errno(Errno::ACCESS),
            Failure::Forbidden
        ));
        assert!(matches!(
            Failure::from_errno(Errno::PERM),
            Failure::Forbidden
        ));
        for errno in [
            Errno::NOENT,
            Errno::NOTDIR,
            Errno::XDEV,
            Errno::LOOP,
            Errno::NXIO,
            Errno::NAMETOOLONG,
        ] {
            assert!(matches!(Failure::from_errno(errno), Failure::NotFound));
        }
        for errno in [Errno::MFILE, Errno::NFILE] {
            assert!(matches!(Failure::from_errno(errno), Failure::Unavailable));
        }
        assert!(matches!(Failure::from_errno(Errno::IO), Failure::Other(_)));
    }

    #[test]
    fn a_missing_or_file_root_is_a_clear_error() {
        let top = tempfile::tempdir().unwrap();
        let missing = top.path().join("nope");
        let err = Beneath::open_root(&missing).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("nope"), "{err}");
        let file = top.path().join("file");
        fs::write(&file, "x").unwrap();
        let err = Beneath::open_root(&file).unwrap_err();
        assert!(err.to_string().ends_with("is not a directory"), "{err}");
    }
}
