//! A regular file as the handler serves it and the open-file cache keeps it: open, with
//! its precompressed variants, its plain `200`'s fields prepared, and small content read
//! into memory.

use super::coding::PerCoding;
use super::head::{self, Answer, Representation};
use super::headers::Field;
use super::validators::Validators;
use crate::http::response::Prebuilt;
use std::borrow::Cow;
use std::fs::{File, Metadata};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// A precompressed variant on disk: open, with its stat.
pub(super) type Variant = (Arc<File>, Stat);

/// A regular file as the handler serves it, and the open-file cache keeps it: the file and
/// its precompressed variants, each open, with what answering needs.
#[derive(Debug)]
pub struct Resource {
    /// The files it is served from, as a [`Gate`](crate::handlers::Gate) is asked about them
    /// ([`super::guard`]): the file and each variant on disk, by where they are when a gate
    /// was given, else by the paths they were opened by. A resource the open-file cache keeps
    /// was reached without a symlink, so for it the two are the same, whichever request made
    /// it.
    pub(super) names: Box<[PathBuf]>,
    pub(super) file: Arc<File>,
    pub(super) stat: Stat,
    pub(super) content_type: Cow<'static, str>,
    pub(super) variants: PerCoding<Option<Variant>>,
    /// The codings this server makes for the file ([`super::compress`]).
    pub(super) offers: PerCoding<bool>,
    /// The configured fields for its path (Cache-Control among them), for the answers built
    /// per request.
    pub(super) configured: Arc<[Field]>,
    /// The fields of a plain `200` for the file as it is, serialised: ETag, Last-Modified,
    /// Accept-Ranges, Content-Type, Vary (with variants, on disk or made here), nosniff,
    /// merged with the configured fields.
    pub(super) fields: Arc<Prebuilt>,
    /// The content, for a file small enough to keep in memory.
    pub(super) bytes: Option<Arc<[u8]>>,
}

impl Resource {
    /// The resource of `file` (open, with its stat) of `content_type`, with its `variants`
    /// on disk and the codings this server `offers` for it, named by `names`, with the
    /// `configured` fields; its content read into memory when `keep_up_to` is given and the
    /// file is no larger (a read that fails or comes up short keeps nothing, and the file
    /// is sent from its descriptor).
    pub(super) fn new(
        names: Box<[PathBuf]>,
        (file, stat): (Arc<File>, Stat),
        (content_type, offers): (Cow<'static, str>, PerCoding<bool>),
        variants: PerCoding<Option<Variant>>,
        configured: Vec<Field>,
        keep_up_to: Option<u64>,
        now: SystemTime,
    ) -> Resource {
        let current = Validators::new(stat.len, stat.mtime_sec, stat.mtime_nsec, None, now);
        let representation = Representation {
            validators: &current,
            content_type: &content_type,
            coding: None,
            ranges: true,
            vary: variants.iter().any(|(_, variant)| variant.is_some()) || offers.any(),
        };
        let fields = head::serialise(&head::head(&representation, Answer::Content, &configured));
        let bytes = keep_up_to
            .filter(|&max| stat.len <= max)
            .and_then(|_| read_whole(&file, stat.len));
        Resource {
            names,
            file,
            stat,
            content_type,
            variants,
            offers,
            configured: Arc::from(configured),
            fields: Arc::new(Prebuilt::new(fields)),
            bytes,
        }
    }

    /// A copy for the calling worker thread to keep: the fields and bytes copied, so that
    /// answering from it bumps no reference count another worker bumps, and a file sent
    /// from its descriptor opened again (through `/proc/self/fd`), so that the worker's
    /// `sendfile` calls have an open file description of their own (its reference count and
    /// read-ahead state are written by every read). Where that open fails, the descriptor is
    /// shared.
    pub fn for_this_thread(&self) -> Resource {
        let file = match self.bytes {
            Some(_) => Arc::clone(&self.file),
            None => File::open(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
                .map_or_else(|_| Arc::clone(&self.file), Arc::new),
        };
        Resource {
            names: self.names.clone(),
            file,
            stat: self.stat,
            content_type: self.content_type.clone(),
            variants: self.variants.clone(),
            offers: self.offers,
            configured: Arc::from(&self.configured[..]),
            fields: Arc::new(Prebuilt::clone(&self.fields)),
            bytes: self.bytes.as_deref().map(Arc::from),
        }
    }

    /// The bytes the cache counts for this entry: its content kept in memory.
    pub fn kept_bytes(&self) -> u64 {
        self.bytes.as_ref().map_or(0, |bytes| bytes.len() as u64)
    }
}

/// All `len` bytes of `file`, or `None` if a read fails or the file turns out shorter.
fn read_whole(file: &File, len: u64) -> Option<Arc<[u8]>> {
    let mut bytes = vec![0; usize::try_from(len).ok()?];
    file.read_exact_at(&mut bytes, 0).ok()?;
    Some(Arc::from(bytes))
}

/// The parts of a file's metadata the validators use (length, modification time), its
/// identity (device, inode) and its change time: two stats are equal only for the same
/// file, unchanged. (A file replaced by one of the same length and modification time, as
/// `rsync -t` or `cp -p` make, is another inode; one rewritten in place and given its old
/// modification time back has a new change time, which no one can set.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stat {
    pub(super) len: u64,
    pub(super) mtime_sec: i64,
    pub(super) mtime_nsec: i64,
    pub(super) ctime_sec: i64,
    pub(super) ctime_nsec: i64,
    pub(super) dev: u64,
    pub(super) ino: u64,
}

impl Stat {
    /// What `fstat` gave.
    pub(super) fn of(meta: &Metadata) -> Stat {
        Stat {
            len: meta.len(),
            mtime_sec: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
            ctime_sec: meta.ctime(),
            ctime_nsec: meta.ctime_nsec(),
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }
}
