//! Writing an uploaded file: into a temporary file in the target folder, renamed into place
//! only once it is complete and within its size.
//!
//! - The folder is opened once, when the settings are assembled, beneath the root
//!   (`openat2` with `RESOLVE_BENEATH`): every file operation of an upload is relative to
//!   that descriptor, so no path is resolved again while a body arrives.
//! - The temporary file is created with `O_CREAT | O_EXCL` under a hidden random name
//!   (`.nomserve-upload-<hex>.part`: a dotfile, left out of listings and not served unless
//!   `--dotfiles`), written piece by piece as the body arrives, flushed to the device
//!   (`fdatasync`) once complete, then renamed to its name with `RENAME_NOREPLACE`, so that
//!   a file that appeared meanwhile is never overwritten (where the file system lacks the
//!   flag, `link` then `unlink`, which refuse an existing name the same way), and the folder
//!   synced, so that the name is as durable as the bytes. With
//!   `overwrite`, a name taken is replaced by a plain `rename`, atomically: a reader sees
//!   the old file or the new one, never a part.
//! - A [`Staged`] file not committed removes its temporary file when dropped: a cut
//!   connection, a size overrun, a malformed body or a write error leaves nothing behind.
//! - Errors keep their reason: no space (`ENOSPC`) or quota (`EDQUOT`) is 507 (RFC 4918
//!   §11.5), permission (`EACCES`, `EPERM`) or a read-only file system is 403, a name taken
//!   409 (RFC 9110 §15.5.10), a file over its size 413.

use crate::http::response::Refusal;
use crate::http::response::Response;
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags, linkat, openat, renameat, renameat_with};
use rustix::fs::{fsync, statat, unlinkat};
use rustix::io::Errno;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::sync::Arc;

/// An upload folder, opened.
#[derive(Debug)]
pub struct Folder {
    /// Its URL path, with a trailing `/` (`/inbox/`; `/` for the root): the listing a form
    /// returns to, and the base of a stored file's Location.
    pub url: String,
    /// Its directory, opened beneath the root.
    pub dir: OwnedFd,
    /// The largest file taken, in bytes.
    pub max_size: u64,
    /// A name taken may be replaced.
    pub overwrite: bool,
}

/// A file being uploaded: its temporary file in the folder, removed on drop unless
/// committed.
#[derive(Debug)]
pub struct Staged {
    folder: Arc<Folder>,
    /// The name it gets once committed.
    pub name: String,
    temp: String,
    file: Option<File>,
    size: u64,
    committed: bool,
}

/// A file in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// Its name in the folder.
    pub name: String,
    /// It replaced a file of that name (`overwrite`).
    pub replaced: bool,
}

impl Folder {
    /// Whether `name` is taken in the folder (by any kind of entry).
    pub fn has(&self, name: &str) -> bool {
        statat(&self.dir, name, AtFlags::SYMLINK_NOFOLLOW).is_ok()
    }

    /// The 409 for `name`, taken.
    pub fn taken(&self, name: &str) -> Refusal {
        Box::new(Response::text(
            409,
            format!("a file named {name:?} exists already in {}\n", self.url),
        ))
    }

    /// Starts the upload of `name`: refused at once (409) when the name is taken and may
    /// not be replaced, else its temporary file is created.
    pub fn stage(self: &Arc<Self>, name: &str) -> Result<Staged, Refusal> {
        if !self.overwrite && self.has(name) {
            return Err(self.taken(name));
        }
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| {
            Box::new(Response::text(
                500,
                format!("no random name for a temporary file: {e}\n"),
            ))
        })?;
        let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
        let temp = format!(".nomserve-upload-{hex}.part");
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
        let fd = openat(&self.dir, &temp, flags, Mode::from_raw_mode(0o644))
            .map_err(|e| self.failed(name, e.into()))?;
        log::debug!("receiving {name:?} into {} as {temp}", self.url);
        Ok(Staged {
            folder: Arc::clone(self),
            name: name.to_string(),
            temp,
            file: Some(File::from(fd)),
            size: 0,
            committed: false,
        })
    }

    /// The answer to `e`, met while storing `name`.
    pub fn failed(&self, name: &str, e: io::Error) -> Refusal {
        let errno = e.raw_os_error().map(Errno::from_raw_os_error);
        let (status, why) = match errno {
            Some(Errno::NOSPC) => (507, "no space left on the device"),
            Some(Errno::DQUOT) => (507, "disk quota exceeded"),
            Some(Errno::ACCESS | Errno::PERM) => (403, "permission denied"),
            Some(Errno::ROFS) => (403, "read-only file system"),
            Some(Errno::FBIG) => (413, "file too large for the file system"),
            Some(Errno::NAMETOOLONG) => (400, "file name too long for the file system"),
            _ => (500, "could not write the file"),
        };
        log::warn!("upload of {name:?} into {}: {e}; {status}", self.url);
        Box::new(Response::text(
            status,
            format!("{name:?} was not stored in {}: {why}\n", self.url),
        ))
    }

    /// The 413 for `name`, past the folder's size.
    pub fn too_large(&self, name: &str) -> Refusal {
        Box::new(Response::text(
            413,
            format!(
                "{name:?} is larger than the {} bytes a file may have in {}\n",
                self.max_size, self.url
            ),
        ))
    }
}

impl Staged {
    /// Appends `bytes` to the file; refused (413) past the folder's size.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), Refusal> {
        let folder = &self.folder;
        self.size += bytes.len() as u64;
        if self.size > folder.max_size {
            return Err(folder.too_large(&self.name));
        }
        let Some(file) = self.file.as_mut() else {
            return Err(folder.failed(&self.name, io::Error::other("file closed")));
        };
        file.write_all(bytes)
            .map_err(|e| folder.failed(&self.name, e))
    }

    /// The file is complete: flushed to the device and closed (a form's next file does not
    /// hold this one's descriptor).
    pub fn complete(&mut self) -> Result<(), Refusal> {
        if let Some(file) = self.file.take() {
            file.sync_data()
                .map_err(|e| self.folder.failed(&self.name, e))?;
        }
        Ok(())
    }

    /// Puts the file in place under its name: never over an existing one unless the folder
    /// allows it (then atomically).
    pub fn commit(mut self) -> Result<Stored, Refusal> {
        self.complete()?;
        let folder = Arc::clone(&self.folder);
        let dir = &folder.dir;
        let placed = match renameat_with(dir, &self.temp, dir, &self.name, RenameFlags::NOREPLACE) {
            // A file system without RENAME_NOREPLACE: a link fails on a name taken too.
            Err(Errno::INVAL | Errno::NOSYS) => {
                linkat(dir, &self.temp, dir, &self.name, AtFlags::empty()).map(|()| {
                    let _ = unlinkat(dir, &self.temp, AtFlags::empty());
                })
            }
            other => other,
        };
        let replaced = match placed {
            Ok(()) => false,
            Err(Errno::EXIST) if folder.overwrite => {
                renameat(dir, &self.temp, dir, &self.name)
                    .map_err(|e| folder.failed(&self.name, e.into()))?;
                true
            }
            Err(Errno::EXIST) => return Err(folder.taken(&self.name)),
            Err(e) => return Err(folder.failed(&self.name, e.into())),
        };
        self.committed = true;
        // The new name is durable once the folder is: a crash after the answer does not
        // lose a file the client was told is stored.
        if let Err(e) = fsync(dir) {
            log::warn!("could not sync the folder {}: {e}", folder.url);
        }
        log::info!(
            "stored {:?} in {} ({} bytes)",
            self.name,
            folder.url,
            self.size
        );
        Ok(Stored {
            name: std::mem::take(&mut self.name),
            replaced,
        })
    }
}

impl Drop for Staged {
    /// An upload that did not end in place leaves nothing: its temporary file is removed.
    fn drop(&mut self) {
        if !self.committed {
            self.file = None;
            match unlinkat(&self.folder.dir, &self.temp, AtFlags::empty()) {
                Ok(()) => log::info!(
                    "upload of {:?} into {} not completed: its temporary file is removed",
                    self.name,
                    self.folder.url
                ),
                Err(e) => log::warn!(
                    "could not remove the temporary file {} in {}: {e}",
                    self.temp,
                    self.folder.url
                ),
            }
        }
    }
}

impl Folder {
    /// Takes back `stored`, put in place by a request that then failed on another file: a
    /// file it created is removed; one it replaced cannot be given back, and stays.
    pub fn withdraw(&self, stored: &Stored) {
        if !stored.replaced {
            let _ = unlinkat(&self.dir, &stored.name, AtFlags::empty());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A folder in a new temporary directory.
    pub(crate) fn folder(max_size: u64, overwrite: bool) -> (tempfile::TempDir, Arc<Folder>) {
        let dir = tempfile::tempdir().unwrap();
        let fd = File::open(dir.path()).unwrap();
        let folder = Folder {
            url: "/inbox/".to_string(),
            dir: OwnedFd::from(fd),
            max_size,
            overwrite,
        };
        (dir, Arc::new(folder))
    }

    /// The names in `dir`, sorted.
    pub(crate) fn names(dir: &tempfile::TempDir) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_file_is_hidden_until_committed_then_in_place() {
        let (dir, folder) = folder(100, false);
        let mut staged = folder.stage("a.txt").unwrap();
        staged.write(b"hello ").unwrap();
        staged.write(b"world").unwrap();
        let during = names(&dir);
        assert_eq!(during.len(), 1);
        assert!(during[0].starts_with(".nomserve-upload-"), "{during:?}");
        let stored = staged.commit().unwrap();
        assert_eq!(
            stored,
            Stored {
                name: "a.txt".into(),
                replaced: false
            }
        );
        assert_eq!(names(&dir), ["a.txt"]);
        assert_eq!(
            std::fs::read(dir.path().join("a.txt")).unwrap(),
            b"hello world"
        );
    }

    #[test]
    fn a_file_dropped_or_over_its_size_leaves_nothing() {
        let (dir, folder) = folder(8, false);
        let mut staged = folder.stage("a.txt").unwrap();
        staged.write(b"12345678").unwrap();
        let refusal = staged.write(b"9").unwrap_err();
        assert_eq!(refusal.status, 413);
        drop(staged);
        assert!(names(&dir).is_empty());
    }

    #[test]
    fn a_name_taken_is_409_before_and_at_the_rename_unless_overwriting() {
        let (dir, keeping) = folder(100, false);
        std::fs::write(dir.path().join("a.txt"), "old").unwrap();
        assert_eq!(keeping.stage("a.txt").unwrap_err().status, 409);
        // Taken while the upload ran: the rename refuses to replace it.
        let staged = keeping.stage("b.txt").unwrap();
        std::fs::write(dir.path().join("b.txt"), "raced").unwrap();
        assert_eq!(staged.commit().unwrap_err().status, 409);
        assert_eq!(names(&dir), ["a.txt", "b.txt"]);
        assert_eq!(std::fs::read(dir.path().join("b.txt")).unwrap(), b"raced");

        let (dir, replacing) = folder(100, true);
        std::fs::write(dir.path().join("a.txt"), "old").unwrap();
        let mut staged = replacing.stage("a.txt").unwrap();
        staged.write(b"new").unwrap();
        assert!(staged.commit().unwrap().replaced);
        assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"new");
        assert_eq!(names(&dir), ["a.txt"]);
    }

    #[test]
    fn errors_keep_their_reason_and_status() {
        let (_dir, folder) = folder(100, false);
        let status = |errno: Errno| folder.failed("x", io::Error::from(errno)).status;
        assert_eq!(status(Errno::NOSPC), 507);
        assert_eq!(status(Errno::DQUOT), 507);
        assert_eq!(status(Errno::ACCESS), 403);
        assert_eq!(status(Errno::PERM), 403);
        assert_eq!(status(Errno::ROFS), 403);
        assert_eq!(status(Errno::IO), 500);
        let text = folder.failed("x", io::Error::from(Errno::DQUOT));
        let crate::http::response::Body::Bytes(body) = &text.body else {
            panic!("a text body")
        };
        assert!(String::from_utf8_lossy(body).contains("quota"));
    }
}
