//! Compression on the fly, done once per file version and coding.
//!
//! A file's bytes change only when the file does, so each (file version, coding) is
//! compressed once, kept in a cache bounded in bytes, and served like a static file: with a
//! Content-Length, its own strong ETag, and conditional requests. Peers that compress per
//! response (nginx's `gzip on`) pay for the same bytes again on every request.
//!
//! - **Which files.** Types that compress well (text, JavaScript, JSON, XML, SVG, wasm,
//!   uncompressed fonts; never images, video, audio, archives or already-encoded files,
//!   see [`compressible`]), from [`MIN_SIZE`] to [`MAX_SIZE`] bytes. A variant that comes out
//!   no smaller than the file is remembered as not worth sending.
//! - **Levels.** The best ratio each coding offers at a speed that one compression per file
//!   version can afford: gzip 9, zstd 19, brotli 11 (brotli 9 past [`BROTLI_11_UP_TO`] bytes:
//!   quality 11 runs near 1 MB/s, and a large file would hold a compression thread for long).
//! - **Never in the request's path.** The first request for a variant is answered with the
//!   file as it is (with `Vary: Accept-Encoding`), and the compression is queued for a small
//!   pool of threads ([`THREADS`], at most [`QUEUE`] jobs waiting; when the queue is full the
//!   job is dropped and a later request asks again). Streaming a compressed body instead would
//!   make that first response chunked, without a Content-Length, ranges or a strong ETag, and
//!   cost a compression per concurrent first request; serving identity once costs only bytes.
//! - **Never stale.** Entries are keyed by the file's version (device, inode, size,
//!   modification and change times, as the open-file cache checks them): a file changed on disk is a new
//!   key, compressed anew, and the old entry ages out of the cache.

use super::Stat;
use crate::metrics;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};

/// Files smaller than this are sent as they are: the saving would not pay for the fields.
pub const MIN_SIZE: u64 = 1024;

/// Files larger than this are sent as they are: compressing one holds its bytes twice in
/// memory, and such files are rarely text.
pub const MAX_SIZE: u64 = 32 * 1024 * 1024;

/// Brotli runs at quality 11 up to this size, at quality 9 past it.
const BROTLI_11_UP_TO: u64 = 1024 * 1024;

/// Threads that compress.
const THREADS: usize = 2;

/// Compressions waiting for a thread, at most.
const QUEUE: usize = 64;

/// The codings the server can make, in the order of the precompressed variants (`br`,
/// `zstd`, `gzip`).
pub const CODINGS: [&str; 3] = ["br", "zstd", "gzip"];

/// A variant's identity: the file's version (which names the file: device and inode) and
/// the coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    stat: Stat,
    coding: usize,
}

/// A finished compression: the bytes, or `None` when they came out no smaller.
type Variant = Option<Arc<[u8]>>;

/// The cache: variants by key, and their last use, for least-recently-used eviction.
#[derive(Debug, Default)]
struct Cache {
    entries: HashMap<Key, (Variant, u64)>,
    by_use: BTreeMap<u64, Key>,
    clock: u64,
    bytes: u64,
    pending: HashSet<Key>,
}

/// The compressed variants of files: what is made, the bound, the queue of work.
#[derive(Debug)]
pub struct Compression {
    enabled: [bool; 3],
    limit: u64,
    cache: Mutex<Cache>,
    jobs: Mutex<Option<SyncSender<Job>>>,
}

/// One file version to compress into one coding.
struct Job {
    key: Key,
    file: Arc<File>,
}

impl Compression {
    /// Compresses into the `enabled` codings (in [`CODINGS`] order), keeping at most `limit`
    /// bytes of variants. The threads start with the first job.
    pub fn new(enabled: [bool; 3], limit: u64) -> Arc<Compression> {
        Arc::new(Compression {
            enabled,
            limit,
            cache: Mutex::new(Cache::default()),
            jobs: Mutex::new(None),
        })
    }

    /// Which codings may be offered for a file of `content_type` and `len` bytes.
    pub fn offers(&self, content_type: &str, len: u64) -> [bool; 3] {
        if (MIN_SIZE..=MAX_SIZE).contains(&len) && compressible(content_type) {
            self.enabled
        } else {
            [false; 3]
        }
    }

    /// The variant of `file`, at version `stat`, in coding `coding` (an index into
    /// [`CODINGS`]): `Ok(bytes)` when it is ready, `Err(true)` when it is being made (or was
    /// just queued), `Err(false)` when it is not worth sending.
    pub fn variant(
        self: &Arc<Self>,
        stat: Stat,
        coding: usize,
        file: &Arc<File>,
    ) -> Result<Arc<[u8]>, bool> {
        let key = Key { stat, coding };
        let mut guard = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let cache = &mut *guard;
        cache.clock += 1;
        let now = cache.clock;
        if let Some((variant, used)) = cache.entries.get_mut(&key) {
            let previous = std::mem::replace(used, now);
            let variant = variant.clone();
            cache.by_use.remove(&previous);
            cache.by_use.insert(now, key);
            return match variant {
                Some(bytes) => {
                    metrics::COMPRESSION.hits.fetch_add(1, Ordering::Relaxed);
                    metrics::COMPRESSION.bytes_saved.fetch_add(
                        stat.len.saturating_sub(bytes.len() as u64),
                        Ordering::Relaxed,
                    );
                    Ok(bytes)
                }
                None => Err(false),
            };
        }
        if !cache.pending.insert(key) {
            return Err(true);
        }
        drop(guard);
        metrics::COMPRESSION.misses.fetch_add(1, Ordering::Relaxed);
        let job = Job {
            key,
            file: Arc::clone(file),
        };
        if let Err(job) = self.queue(job) {
            self.cache
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pending
                .remove(&job.key);
        }
        Err(true)
    }

    /// Queues `job`, starting the threads on first use; gives it back when the queue is full.
    fn queue(self: &Arc<Self>, job: Job) -> Result<(), Job> {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let sender = jobs.get_or_insert_with(|| self.start());
        match sender.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => Err(job),
        }
    }

    /// Starts the compression threads; returns the queue's sending side.
    fn start(self: &Arc<Self>) -> SyncSender<Job> {
        let (sender, receiver) = sync_channel::<Job>(QUEUE);
        let receiver = Arc::new(Mutex::new(receiver));
        for i in 0..THREADS {
            let receiver = Arc::clone(&receiver);
            let compression = Arc::downgrade(self);
            let spawned = std::thread::Builder::new()
                .name(format!("compress-{i}"))
                .spawn(move || {
                    loop {
                        let job = {
                            let receiver = receiver.lock().unwrap_or_else(PoisonError::into_inner);
                            receiver.recv()
                        };
                        let (Ok(job), Some(compression)) = (job, compression.upgrade()) else {
                            break;
                        };
                        compression.run(job);
                    }
                });
            if let Err(e) = spawned {
                log::warn!("cannot start a compression thread: {e}");
            }
        }
        sender
    }

    /// Compresses and stores one variant.
    fn run(&self, job: Job) {
        let variant = compress(&job.file, job.key.stat.len, job.key.coding);
        let mut guard = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let cache = &mut *guard;
        cache.pending.remove(&job.key);
        let variant = match variant {
            Ok(bytes) if (bytes.len() as u64) < job.key.stat.len => Some(Arc::from(bytes)),
            Ok(_) => None,
            Err(e) => {
                log::warn!(
                    "compressing the file of inode {} into {} failed: {e}",
                    job.key.stat.ino,
                    CODINGS.get(job.key.coding).unwrap_or(&"?")
                );
                return;
            }
        };
        let size = variant
            .as_ref()
            .map_or(0, |bytes: &Arc<[u8]>| bytes.len() as u64);
        if size > self.limit {
            return;
        }
        cache.clock += 1;
        let now = cache.clock;
        cache.bytes += size;
        cache.by_use.insert(now, job.key);
        cache.entries.insert(job.key, (variant, now));
        while cache.bytes > self.limit {
            let Some((_, oldest)) = cache.by_use.pop_first() else {
                break;
            };
            if let Some((variant, _)) = cache.entries.remove(&oldest) {
                cache.bytes -= variant.map_or(0, |bytes| bytes.len() as u64);
            }
        }
    }
}

/// Whether a type is worth compressing: text, and the application types that are text or
/// uncompressed binary (JavaScript, JSON, XML, wasm), SVG, and fonts that are not already
/// compressed (TrueType, OpenType; never WOFF or WOFF2).
fn compressible(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/javascript"
                | "application/json"
                | "application/xml"
                | "application/wasm"
                | "application/x-javascript"
                | "image/svg+xml"
                | "image/x-icon"
                | "image/vnd.microsoft.icon"
                | "font/ttf"
                | "font/otf"
                | "application/vnd.ms-fontobject"
        )
}

/// The `len` bytes of `file`, compressed into coding `coding` (an index into [`CODINGS`]).
fn compress(file: &File, len: u64, coding: usize) -> std::io::Result<Vec<u8>> {
    let mut input = vec![0; usize::try_from(len).map_err(std::io::Error::other)?];
    file.read_exact_at(&mut input, 0)?;
    match CODINGS.get(coding) {
        Some(&"br") => {
            let quality = if len <= BROTLI_11_UP_TO { 11 } else { 9 };
            let mut output = Vec::with_capacity(input.len() / 3);
            {
                let mut writer = brotli::CompressorWriter::new(&mut output, 64 * 1024, quality, 22);
                writer.write_all(&input)?;
                writer.flush()?;
            }
            Ok(output)
        }
        Some(&"zstd") => zstd::bulk::compress(&input, 19),
        Some(&"gzip") => {
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(input.len() / 3),
                flate2::Compression::best(),
            );
            encoder.write_all(&input)?;
            encoder.finish()
        }
        _ => Err(std::io::Error::other("no such coding")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn types_that_compress() {
        for yes in [
            "text/html; charset=utf-8",
            "text/css",
            "application/javascript",
            "application/json",
            "application/manifest+json",
            "image/svg+xml",
            "application/wasm",
            "font/ttf",
        ] {
            assert!(compressible(yes), "{yes}");
        }
        for no in [
            "image/png",
            "image/jpeg",
            "video/mp4",
            "application/zip",
            "application/gzip",
            "font/woff2",
            "application/octet-stream",
        ] {
            assert!(!compressible(no), "{no}");
        }
    }

    #[test]
    fn each_coding_decodes_to_the_input() {
        let text = "nomserve compresses each file version once. ".repeat(200);
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let len = text.len() as u64;
        let decoded = |coding: usize| {
            let bytes = compress(&file, len, coding).unwrap();
            assert!(bytes.len() < text.len() / 10, "{}", CODINGS[coding]);
            let mut out = Vec::new();
            match CODINGS[coding] {
                "br" => {
                    brotli::Decompressor::new(&bytes[..], 4096)
                        .read_to_end(&mut out)
                        .unwrap();
                }
                "zstd" => out = zstd::decode_all(&bytes[..]).unwrap(),
                _ => {
                    flate2::read::GzDecoder::new(&bytes[..])
                        .read_to_end(&mut out)
                        .unwrap();
                }
            }
            out
        };
        for (coding, name) in CODINGS.iter().enumerate() {
            assert_eq!(decoded(coding), text.as_bytes(), "{name}");
        }
    }

    #[test]
    fn the_cache_keeps_within_its_bound_and_drops_the_least_recently_used() {
        let compression = Compression::new([false, false, true], 0);
        let stat = |ino| Stat {
            len: 10_000,
            mtime_sec: 1,
            mtime_nsec: 0,
            ctime_sec: 1,
            ctime_nsec: 0,
            dev: 1,
            ino,
        };
        let text = "abcdefgh".repeat(1250);
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let file = Arc::new(file);
        // Run the jobs by hand, without the threads.
        let size = compress(&file, 10_000, 2).unwrap().len() as u64;
        let compression = Arc::new(Compression {
            limit: size * 2,
            ..Arc::try_unwrap(compression).unwrap()
        });
        for ino in 1..=3 {
            compression.run(Job {
                key: Key {
                    stat: stat(ino),
                    coding: 2,
                },
                file: Arc::clone(&file),
            });
            if ino == 2 {
                // Used again: the first is now the least recently used.
                assert!(compression.variant(stat(1), 2, &file).is_ok());
            }
        }
        assert!(compression.variant(stat(1), 2, &file).is_ok());
        assert!(compression.variant(stat(3), 2, &file).is_ok());
        let cache = compression.cache.lock().unwrap();
        assert!(cache.bytes <= size * 2);
        assert!(!cache.entries.keys().any(|key| key.stat.ino == 2));
    }
}
