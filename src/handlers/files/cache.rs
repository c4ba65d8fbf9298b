//! The open-file cache: what a request for a hot path needs, kept between requests.
//!
//! An entry is a [`Resource`]: the open file, its metadata, its content type, which
//! precompressed variants exist (each open), the fields of its plain `200` already
//! serialised, and for a small file the bytes themselves. A request that hits it costs no
//! system call and no allocation in the handler: no `openat2`, no `fstat`, no probe for
//! variants that are not there.
//!
//! Never stale. Every directory from the root down to a cached file is watched with
//! inotify; any change in one (a write, a touch, a create, delete or rename of a name in it,
//! the directory itself moved or deleted) drops every entry below it, as soon as the watcher
//! thread reads the event: microseconds after the change. An entry is only made for a file
//! reached without a symlink (checked by opening the path again with `RESOLVE_NO_SYMLINKS`),
//! so its inode is the one its directory's watch sees. A change between the file's open and
//! its watches is caught by comparing the file opened again after the watches are in place
//! (same inode, size, modification and change times); a change after that bumps the watch's
//! generation, and an entry whose watches moved on since its ticket was taken is not kept.
//! If inotify cannot be had (or the watcher stops), nothing is cached: every request opens
//! its file.
//!
//! Inotify does not see every change: a write through a hard link outside the watched
//! directories, a write through a shared memory mapping, a change made by another host on
//! a network file system, events lost to a full queue. So every entry is also checked on
//! disk ([`FRESH`]): a lookup that finds it last checked a second or more ago first takes
//! one `statx` of each of its files by path (the file and its precompressed variants) and
//! compares device, inode, size, modification and change times; any difference drops it.
//! A write through a mapping updates the modification and change times at its first write
//! fault on a clean page, so it is caught like any other. Between checks a hit makes no
//! system call.
//!
//! Directory listings are kept by the same watches ([`FileCache::watch_dir`] for the
//! directories down to a listed one and each subdirectory it shows, and
//! [`FileCache::current`] before a kept listing is used), so they are invalidated by the
//! same events, and read again once they are a second old.
//!
//! Bounded by entries and by the bytes of small files kept; past either, the least recently
//! used entry of its shard goes. A lookup first tries the calling thread's own copies of the
//! entries it used ([`front`], [`Resource::for_this_thread`]: the bytes and fields copied, a
//! large file opened again), valid while no event has come since they were made and their
//! entry was checked on disk less than a second ago: a hit there touches no memory another
//! worker writes, not even a reference count, and a large file's `sendfile` goes through an
//! open file description of the worker's own. A miss there takes one shard's lock, never
//! across a system call.
//!
//! Dropped (when a reload replaced the handler that owns it, and the last request using it
//! ended), the cache leaves nothing behind: its watcher thread ends and closes the inotify
//! instance ([`watcher`]), and every thread's copies of its entries are dropped with it.

mod front;
mod watcher;

use super::resource::{Resource, Stat};
use crate::handlers::lru::Lru;
use crate::metrics;
use front::{Fronts, Held};
use rustix::fd::OwnedFd;
use rustix::fs::inotify;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Shards of the entry map: lookups on different paths rarely share a lock.
const SHARDS: usize = 16;

/// Most entries a thread keeps copies of; past it, its copies are dropped and made again.
const FRONT_ENTRIES: usize = 256;

/// How long an entry (or a listing) is served after it was last found current on disk: a
/// change inotify does not report is seen within this long.
pub const FRESH: Duration = Duration::from_secs(1);

/// Numbers each cache, so that a thread's copies are never taken for another cache's.
static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// What a watch reports: anything that can change what a path under the directory names or
/// holds.
fn watch_flags() -> inotify::WatchFlags {
    use inotify::WatchFlags as W;
    W::MODIFY
        | W::ATTRIB
        | W::CLOSE_WRITE
        | W::CREATE
        | W::DELETE
        | W::MOVED_FROM
        | W::MOVED_TO
        | W::DELETE_SELF
        | W::MOVE_SELF
        | W::ONLYDIR
        | W::DONT_FOLLOW
}

/// The cache's bounds, from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Most entries; 0 turns the cache off.
    pub entries: usize,
    /// Most bytes of small files kept in memory, over all entries.
    pub bytes: u64,
    /// Files up to this size are kept in memory with their entry.
    pub max_file: u64,
}

/// The open-file cache.
#[derive(Debug)]
pub struct FileCache {
    id: usize,
    /// Bumped by every event: a thread's copies made before it are dropped.
    epoch: AtomicU64,
    root: PathBuf,
    limits: CacheLimits,
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
    watches: Mutex<Watches>,
    inotify: Option<Arc<OwnedFd>>,
    /// The watcher thread is reading events: entries may be served.
    alive: AtomicBool,
    /// Each thread's copies of the entries it used.
    fronts: Fronts,
    /// Ends the watcher thread when the cache is dropped.
    stop: Mutex<Option<watcher::Stop>>,
}

/// A shard's entries: each counts its uses itself, so that lookups on different shards share
/// no counter; weighed by the bytes kept in memory.
type Shard = Lru<Box<str>, Slot>;

#[derive(Debug)]
struct Slot {
    resource: Arc<Resource>,
    /// The file's path relative to the root, where it is checked on disk.
    rel: PathBuf,
    /// When it was last found current: a moment before the check's `statx` calls.
    checked: Instant,
    watches: Vec<i32>,
}

/// The watched directories.
#[derive(Debug, Default)]
struct Watches {
    by_dir: HashMap<PathBuf, i32>,
    by_wd: HashMap<i32, Watch>,
}

#[derive(Debug)]
struct Watch {
    dir: PathBuf,
    /// Bumped by every event: an entry built while it moved is not kept.
    generation: u64,
    /// The entries under this directory.
    keys: HashSet<Box<str>>,
}

/// The watches of a file's directories and their generations, taken before its variants
/// are looked for, and when.
#[derive(Debug, Default)]
pub struct Ticket {
    watches: Vec<(i32, u64)>,
    /// When the watches were noted: what is read after it is current as of then at least.
    taken: Option<Instant>,
}

impl Ticket {
    /// The watches of all of `tickets`, each once, taken when the first of them was.
    pub fn joined(tickets: impl IntoIterator<Item = Ticket>) -> Ticket {
        let mut taken: Option<Instant> = None;
        let mut watches = Vec::new();
        for ticket in tickets {
            watches.extend(ticket.watches);
            taken = match (taken, ticket.taken) {
                (Some(one), Some(other)) => Some(one.min(other)),
                (one, other) => one.or(other),
            };
        }
        watches.sort_unstable();
        watches.dedup();
        Ticket { watches, taken }
    }

    /// Whether the ticket holds no watch: what it stands for cannot be cached.
    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }
}

impl FileCache {
    /// A cache of files under `root` (absolute) with `limits`. Without inotify (or with 0
    /// entries) it keeps nothing; the reason is logged.
    pub fn new(root: &Path, limits: CacheLimits) -> Arc<FileCache> {
        let inotify = if limits.entries == 0 {
            None
        } else {
            let flags = inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK;
            match inotify::init(flags) {
                Ok(fd) => Some(Arc::new(fd)),
                Err(e) => {
                    log::warn!("no inotify ({e}): the open-file cache is off");
                    None
                }
            }
        };
        let cache = Arc::new(FileCache {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            epoch: AtomicU64::new(0),
            root: root.to_path_buf(),
            limits,
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Lru::new(
                        limits.entries.div_ceil(SHARDS).max(1),
                        limits.bytes / SHARDS as u64,
                    ))
                })
                .collect(),
            hasher: RandomState::new(),
            watches: Mutex::default(),
            alive: AtomicBool::new(inotify.is_some()),
            inotify: inotify.clone(),
            fronts: Fronts::default(),
            stop: Mutex::new(None),
        });
        if let Some(inotify) = inotify {
            match watcher::start(Arc::downgrade(&cache), inotify) {
                Ok(stop) => *cache.stop.lock().unwrap_or_else(PoisonError::into_inner) = Some(stop),
                Err(e) => {
                    log::warn!("cannot start the file cache's watcher ({e}): the cache is off");
                    cache.alive.store(false, Ordering::Release);
                }
            }
        }
        cache
    }

    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        self.shards
            .get(index)
            .unwrap_or(&self.shards[0])
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn watches(&self) -> MutexGuard<'_, Watches> {
        self.watches.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether entries are kept at all.
    pub fn enabled(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }

    /// The limits it keeps.
    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    /// The entry for the request path `key`, if one is cached and current: this thread's
    /// copy of it. An entry last found current on disk [`FRESH`] ago or more is checked
    /// again first ([`FileCache::on_disk`]), and dropped if it changed.
    pub fn get(&self, key: &str) -> Option<Arc<Resource>> {
        if !self.enabled() {
            return None;
        }
        let now = Instant::now();
        let epoch = self.epoch.load(Ordering::Acquire);
        let expired = self.fronts.with(self.id, |front| {
            if front.epoch != epoch {
                front.clear();
                front.epoch = epoch;
            }
            match front.map.get(key) {
                Some(copy) if now < copy.until => Ok(Arc::clone(&copy.resource)),
                Some(copy) => Err(Some(copy.source.as_ptr())),
                None => Err(None),
            }
        });
        let source = match expired {
            Ok(copy) => {
                metrics::FILE_CACHE.hits.fetch_add(1, Ordering::Relaxed);
                return Some(copy);
            }
            Err(source) => source,
        };
        let (shared, until) = self.shared(key, now)?;
        metrics::FILE_CACHE.hits.fetch_add(1, Ordering::Relaxed);
        let copy = self.fronts.with(self.id, |front| {
            if front.epoch != epoch {
                front.clear();
                front.epoch = epoch;
            }
            if source == Some(Arc::as_ptr(&shared)) {
                if let Some(copy) = front.map.get_mut(key) {
                    copy.until = until;
                    return Arc::clone(&copy.resource);
                }
            }
            let copy = Arc::new(shared.for_this_thread());
            let size = copy.kept_bytes();
            if front.map.len() >= FRONT_ENTRIES || front.bytes + size > self.limits.bytes {
                front.clear();
            }
            front.bytes += size;
            let old = front.map.insert(
                Box::from(key),
                Held {
                    resource: Arc::clone(&copy),
                    source: Arc::downgrade(&shared),
                    until,
                },
            );
            front.bytes -= old.map_or(0, |old| old.resource.kept_bytes());
            copy
        });
        Some(copy)
    }

    /// The shared entry for `key` and until when it may be served, checked on disk first if
    /// it was last found current [`FRESH`] before `now` or earlier; `None` (a miss) if there
    /// is none or it changed (then it is dropped).
    fn shared(&self, key: &str, now: Instant) -> Option<(Arc<Resource>, Instant)> {
        let (resource, rel) = {
            let mut shard = self.shard(key);
            let Some(slot) = shard.get(key) else {
                metrics::FILE_CACHE.misses.fetch_add(1, Ordering::Relaxed);
                return None;
            };
            if now < slot.checked + FRESH {
                return Some((Arc::clone(&slot.resource), slot.checked + FRESH));
            }
            (Arc::clone(&slot.resource), slot.rel.clone())
        };
        // `now` was read before the `statx` calls: the entry is current as of then.
        if self.on_disk(&rel, &resource) {
            let mut shard = self.shard(key);
            if let Some(slot) = shard.peek_mut(key) {
                if Arc::ptr_eq(&slot.resource, &resource) {
                    slot.checked = slot.checked.max(now);
                }
            }
            return Some((resource, now + FRESH));
        }
        log::debug!("{key}: changed on disk unseen by inotify; dropped from the cache");
        self.remove(key, &resource);
        metrics::FILE_CACHE.misses.fetch_add(1, Ordering::Relaxed);
        None
    }

    /// Whether `resource`, the file at `rel` and its precompressed variants, is what is on
    /// disk: each path's `statx` (without following a final symlink) gives the device, inode,
    /// size, modification and change times it was cached with. By path rather than `fstat`
    /// on the open file: both see a write through any link or mapping (the inode is the
    /// same), and the path also sees its name given to another inode where no watch looks.
    /// A variant made since is not looked for: its creation is an event in a watched
    /// directory.
    fn on_disk(&self, rel: &Path, resource: &Resource) -> bool {
        let same = |rel: &Path, stat: &Stat| {
            std::fs::symlink_metadata(self.root.join(rel))
                .is_ok_and(|meta| Stat::of(&meta) == *stat)
        };
        same(rel, &resource.stat)
            && resource.variants.iter().all(|(coding, variant)| {
                variant.as_ref().is_none_or(|(_, stat)| {
                    let mut name = rel.as_os_str().to_owned();
                    name.push(coding.suffix());
                    same(Path::new(&name), stat)
                })
            })
    }

    /// Drops the entry for `key` if it is still `resource`, and every thread's copies.
    fn remove(&self, key: &str, resource: &Arc<Resource>) {
        let mut watches = self.watches();
        let _bump = Bump(&self.epoch);
        let mut shard = self.shard(key);
        if shard
            .peek(key)
            .is_some_and(|slot| Arc::ptr_eq(&slot.resource, resource))
        {
            if let Some(old) = shard.remove(key) {
                drop(shard);
                forget(&mut watches, key, &old.watches);
            }
        }
    }

    /// Watches every directory from the root down to the one holding `rel`, and notes their
    /// generations. Empty if the cache is off or a watch cannot be added (then nothing under
    /// it is cached).
    pub fn watch(&self, rel: &Path) -> Ticket {
        self.watch_down_to(rel.parent())
    }

    /// Watches every directory from the root down to the directory `dir` itself, and notes
    /// their generations: a directory listing's ticket. Empty as [`FileCache::watch`]'s can be.
    pub fn watch_dir(&self, dir: &Path) -> Ticket {
        self.watch_down_to(Some(dir))
    }

    /// Whether what was read under `ticket` is current: no watch of it has seen a change
    /// since it was taken, less than [`FRESH`] ago (and the cache is on; an empty ticket is
    /// never current).
    pub fn current(&self, ticket: &Ticket) -> bool {
        let fresh = ticket.taken.is_some_and(|taken| taken.elapsed() < FRESH);
        if ticket.watches.is_empty() || !fresh || !self.enabled() {
            return false;
        }
        let watches = self.watches();
        ticket.watches.iter().all(|&(wd, generation)| {
            watches
                .by_wd
                .get(&wd)
                .is_some_and(|w| w.generation == generation)
        })
    }

    /// The root and the directories of `last` (a path relative to the root), watched.
    fn watch_down_to(&self, last: Option<&Path>) -> Ticket {
        let Some(inotify) = self.inotify.as_ref().filter(|_| self.enabled()) else {
            return Ticket::default();
        };
        let mut watches = self.watches();
        let mut ticket = Ticket {
            watches: Vec::new(),
            taken: Some(Instant::now()),
        };
        let mut dir = PathBuf::new();
        let parents = last.map(Path::components).into_iter().flatten();
        for component in std::iter::once(None).chain(parents.map(Some)) {
            if let Some(component) = component {
                dir.push(component);
            }
            let wd = match watches.by_dir.get(&dir) {
                Some(&wd) => wd,
                None => match inotify::add_watch(inotify, self.root.join(&dir), watch_flags()) {
                    Ok(wd) => {
                        watches.by_dir.insert(dir.clone(), wd);
                        watches.by_wd.insert(
                            wd,
                            Watch {
                                dir: dir.clone(),
                                generation: 0,
                                keys: HashSet::new(),
                            },
                        );
                        wd
                    }
                    Err(e) => {
                        log::debug!("cannot watch {}: {e}; not cached", dir.display());
                        return Ticket::default();
                    }
                },
            };
            let generation = watches.by_wd.get(&wd).map_or(0, |w| w.generation);
            ticket.watches.push((wd, generation));
        }
        ticket
    }

    /// Keeps `resource`, the file at `rel`, for `key` if no watch of `ticket` has seen a
    /// change since it was taken (it counts as found current on disk when the ticket was
    /// taken: the caller compared the file with a fresh open since); evicts least recently
    /// used entries to stay within the limits.
    pub fn insert(&self, key: &str, rel: &Path, ticket: Ticket, resource: Arc<Resource>) {
        let Some(checked) = ticket.taken.filter(|_| !ticket.watches.is_empty()) else {
            return;
        };
        if !self.enabled() {
            return;
        }
        let mut watches = self.watches();
        let unchanged = ticket.watches.iter().all(|&(wd, generation)| {
            watches
                .by_wd
                .get(&wd)
                .is_some_and(|w| w.generation == generation)
        });
        if !unchanged {
            return;
        }
        let size = resource.kept_bytes();
        let mut shard = self.shard(key);
        if let Some(old) = shard.remove(key) {
            forget(&mut watches, key, &old.watches);
        }
        shard.make_room(
            size,
            |_| true,
            |oldest, old| forget(&mut watches, &oldest, &old.watches),
        );
        if size > self.limits.bytes / SHARDS as u64 {
            return;
        }
        let wds: Vec<i32> = ticket.watches.iter().map(|&(wd, _)| wd).collect();
        for wd in &wds {
            if let Some(watch) = watches.by_wd.get_mut(wd) {
                watch.keys.insert(Box::from(key));
            }
        }
        shard.insert(
            Box::from(key),
            Slot {
                resource,
                rel: rel.to_path_buf(),
                checked,
                watches: wds,
            },
            size,
        );
    }

    /// Turns the cache off after its watcher stopped on `error`: nothing is kept from now on.
    fn off(&self, error: rustix::io::Errno) {
        log::error!("the file cache's watcher stopped ({error}): the cache is off");
        self.alive.store(false, Ordering::Release);
        self.clear();
    }

    /// Drops every entry under the directory watched as `wd`; `gone`: the watch itself ended
    /// (its directory was deleted or the watch removed).
    fn changed(&self, wd: i32, gone: bool) {
        let mut watches = self.watches();
        // Every thread's copies go too, once the entries below are out of the shards.
        let _bump = Bump(&self.epoch);
        let keys: Vec<Box<str>> = match watches.by_wd.get_mut(&wd) {
            Some(watch) => {
                watch.generation += 1;
                watch.keys.iter().cloned().collect()
            }
            None => return,
        };
        for key in keys {
            let mut shard = self.shard(&key);
            if let Some(old) = shard.remove(&key) {
                drop(shard);
                forget(&mut watches, &key, &old.watches);
            }
        }
        if gone {
            if let Some(watch) = watches.by_wd.remove(&wd) {
                watches.by_dir.remove(&watch.dir);
            }
        }
    }

    /// Drops every entry.
    fn clear(&self) {
        let mut watches = self.watches();
        let _bump = Bump(&self.epoch);
        for watch in watches.by_wd.values_mut() {
            watch.generation += 1;
            watch.keys.clear();
        }
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
            shard.clear();
        }
    }
}

/// Bumps the epoch when dropped: at the end of an invalidation, after the shards changed.
struct Bump<'a>(&'a AtomicU64);

impl Drop for Bump<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Release);
    }
}

/// Removes `key` from the watches `wds` it was listed under.
fn forget(watches: &mut Watches, key: &str, wds: &[i32]) {
    for wd in wds {
        if let Some(watch) = watches.by_wd.get_mut(wd) {
            watch.keys.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_joined_ticket_has_each_watch_once_and_is_as_old_as_its_oldest_part() {
        let first = Instant::now();
        let later = first + Duration::from_millis(5);
        let ticket = |wd, taken| Ticket {
            watches: vec![(wd, 0)],
            taken: Some(taken),
        };
        let joined = Ticket::joined([ticket(2, later), ticket(1, first), ticket(2, later)]);
        assert_eq!(joined.watches, vec![(1, 0), (2, 0)]);
        assert_eq!(joined.taken, Some(first));
        let partial = Ticket::joined([Ticket::default(), ticket(3, later)]);
        assert_eq!(partial.taken, Some(later));
        assert!(Ticket::joined([]).is_empty());
    }
}
