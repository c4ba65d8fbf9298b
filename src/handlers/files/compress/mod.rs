//! Compression on the fly, done once per file version and coding, within a CPU budget.
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
//! - **Two versions of a variant.** The first client that accepts a coding gets the file
//!   compressed at a fast level (gzip 1, zstd 3, brotli 4): made whole on its request's
//!   thread for files up to [`INLINE_UP_TO`] bytes (at most about 2 ms, see [`level`]);
//!   for a larger file, compressed as it is sent ([`stream`]: chunked, without a
//!   Content-Length), while the compression threads make that fast version (tens of
//!   milliseconds of CPU, first in the job) and then the best one, at the highest level the
//!   file's size affords ([`level`]: the maximum up to 1 MiB, lower levels above), which
//!   replaces it. Each version has its own strong ETag (`-gzip-fast`, `-gzip`), the streamed
//!   fast version the same as the kept one (the same bytes); a client holding either gets
//!   `304` (both decode to the file's current bytes). At most [`stream::STREAMS`] responses
//!   are streamed at once, and only to HTTP/1.1 clients (HTTP/1.0 has no chunked coding);
//!   past that, a larger file goes as it is until its fast version is kept.
//! - **A CPU budget.** The threads ([`pool`]) run at the lowest CPU priority (`SCHED_IDLE`,
//!   else nice 19), so that they take only a core nothing else wants. At most
//!   [`IN_FLIGHT`] bytes of input are queued or being compressed (and at most
//!   [`pool::QUEUE`] jobs wait); past that a job is dropped, and a later request asks again.
//!   A variant is queued at most once at a time.
//! - **Never stale.** Entries are keyed by the file's version (device, inode, size,
//!   modification and change times, as the open-file cache checks them): a file changed on
//!   disk, even with its modification time put back, is a new
//!   key, compressed anew, and the old entry ages out of the cache.
//! - **Nothing left behind.** Dropping the [`Compression`] (a reload replaces the handlers)
//!   ends its threads: they give up the compression they are in at its next chunk, and leave
//!   the rest of the queue. It does not wait for them: the last holder may be a worker
//!   thread, which must not wait for threads that run only when the CPU is idle.

mod level;
mod pool;
mod stream;

use super::coding::{ContentCoding, PerCoding};
use super::resource::Stat;
use super::slots::Places;
use crate::handlers::lru::Lru;
use crate::http::response::Body;
use crate::metrics;
pub use level::Pass;
use std::collections::HashSet;
use std::fs::File;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Files smaller than this are sent as they are: the saving would not pay for the fields.
pub const MIN_SIZE: u64 = 1024;

/// Files larger than this are sent as they are: a variant of one would take much of the
/// cache, and such files are rarely text.
pub const MAX_SIZE: u64 = 32 * 1024 * 1024;

/// Files up to this size have their first compressed response made on the request's own
/// thread, at the fast level: at most about 2 ms of CPU (gzip 1 at 80 MB/s, see [`level`]),
/// once per file version and coding. It covers most pages, stylesheets and scripts; a larger
/// file would hold up the worker's other connections for longer, and is streamed instead.
pub const INLINE_UP_TO: u64 = 128 * 1024;

/// The most bytes of input queued or being compressed: 16 MiB, about 15 s of the two
/// threads' time at the best levels, so that a burst of requests for many large files
/// cannot queue work for minutes. A file larger than this is taken when nothing else is in
/// flight.
pub const IN_FLIGHT: u64 = 16 * 1024 * 1024;

/// What the entity-tag of `coding` at `pass` ends with: the coding's name for the best
/// version, with `-fast` for the fast one, so that the two versions' tags differ (RFC 9110
/// §8.8.3: a strong tag names one sequence of bytes).
pub fn label(coding: ContentCoding, pass: Pass) -> &'static str {
    match pass {
        Pass::Best => coding.name(),
        Pass::Fast => coding.fast_label(),
    }
}

/// A variant's identity: the file's version (which names the file: device and inode) and
/// the coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    stat: Stat,
    coding: ContentCoding,
}

/// A finished compression: the bytes, or `None` when they came out no smaller.
type Variant = Option<Arc<[u8]>>;

/// A cached variant: its bytes, and which version they are.
#[derive(Debug)]
struct Entry {
    variant: Variant,
    pass: Pass,
}

/// The cache: variants by key, weighed by their bytes, the least recently used going first
/// when it is full; and the work in flight.
#[derive(Debug)]
struct Cache {
    entries: Lru<Key, Entry>,
    /// The variants queued or being compressed.
    pending: HashSet<Key>,
    /// Their input bytes.
    in_flight: u64,
}

/// What the threads share with the requests: the cache, its bound, and the signal to stop.
#[derive(Debug)]
struct Shared {
    limit: u64,
    cache: Mutex<Cache>,
    stop: AtomicBool,
}

/// The compressed variants of files: what is made, the bound, the queue of work.
#[derive(Debug)]
pub struct Compression {
    enabled: PerCoding<bool>,
    shared: Arc<Shared>,
    jobs: Mutex<Option<SyncSender<Job>>>,
    /// The responses being streamed ([`stream::STREAMS`] at most).
    streams: Places,
}

/// One file version to compress into one coding: the fast version first when asked, then
/// the best one.
struct Job {
    key: Key,
    file: Arc<File>,
    fast_first: bool,
}

/// A variant ready to send: its bytes (kept, or made as they are sent), and which version
/// they are.
#[derive(Debug)]
pub struct Made {
    pub body: Body,
    pub pass: Pass,
}

impl Compression {
    /// Compresses into the `enabled` codings, keeping at most `limit` bytes of variants. The
    /// threads start with the first job.
    pub fn new(enabled: PerCoding<bool>, limit: u64) -> Compression {
        Compression {
            enabled,
            shared: Arc::new(Shared {
                limit,
                cache: Mutex::new(Cache {
                    entries: Lru::new(usize::MAX, limit),
                    pending: HashSet::new(),
                    in_flight: 0,
                }),
                stop: AtomicBool::new(false),
            }),
            jobs: Mutex::new(None),
            streams: Places::new(stream::STREAMS),
        }
    }

    /// Which codings may be offered for a file of `content_type` and `len` bytes.
    pub fn offers(&self, content_type: &str, len: u64) -> PerCoding<bool> {
        if (MIN_SIZE..=MAX_SIZE).contains(&len) && compressible(content_type) {
            self.enabled
        } else {
            PerCoding::default()
        }
    }

    /// The variant of `file`, at version `stat`, in `coding`, when there is one to send: the
    /// best version when it is ready, else the fast one (made here, for a file of up to
    /// [`INLINE_UP_TO`] bytes; for a larger one, streamed when `streamable`, the response can
    /// be chunked, and a stream's place is free). Until the best version is ready, its
    /// compression is queued (within the budget).
    /// `None`: the file goes as it is for now, or for good when no version came out smaller.
    pub fn variant(
        &self,
        stat: Stat,
        coding: ContentCoding,
        file: &Arc<File>,
        streamable: bool,
    ) -> Option<Made> {
        let key = Key { stat, coding };
        let (found, job) = {
            let mut cache = self.shared.lock();
            let found = cache.touch(&key);
            if let Some((variant, Pass::Best)) = found {
                return variant.map(|bytes| served(stat, bytes, Pass::Best, true));
            }
            let fast_first = found.is_none() && stat.len > INLINE_UP_TO;
            (found, admit(&mut cache, key, file, fast_first))
        };
        if let Some(job) = job {
            self.queue(job);
        }
        match found {
            Some((variant, pass)) => variant.map(|bytes| served(stat, bytes, pass, true)),
            None if stat.len <= INLINE_UP_TO => self.inline(key, file),
            None if streamable => {
                let slot = self.streams.take()?;
                let stream = stream::Stream::new(Arc::clone(file), stat.len, coding, slot);
                Some(Made {
                    body: Body::Stream(Box::new(stream)),
                    pass: Pass::Fast,
                })
            }
            None => None,
        }
    }

    /// The fast version of `key`'s variant, made here and kept (unless a version is kept
    /// already).
    fn inline(&self, key: Key, file: &File) -> Option<Made> {
        let len = key.stat.len;
        let level = level::level(key.coding, len, Pass::Fast);
        let variant = match level::compress(file, len, key.coding, level, &AtomicBool::new(false)) {
            Ok(bytes) => worth(bytes, len),
            Err(e) => {
                log_failure(key, &e);
                return None;
            }
        };
        self.shared.store(key, variant.clone(), Pass::Fast);
        variant.map(|bytes| served(key.stat, bytes, Pass::Fast, false))
    }

    /// Queues `job`, starting the threads on first use; drops it when the queue is full.
    fn queue(&self, job: Job) {
        let refused = {
            let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
            let sender = jobs.get_or_insert_with(|| pool::start(&self.shared));
            match sender.try_send(job) {
                Ok(()) => None,
                Err(TrySendError::Full(job) | TrySendError::Disconnected(job)) => Some(job),
            }
        };
        match refused {
            None => {
                metrics::COMPRESSION.misses.fetch_add(1, Ordering::Relaxed);
            }
            Some(job) => {
                metrics::COMPRESSION.dropped.fetch_add(1, Ordering::Relaxed);
                self.shared.finish(&job);
            }
        }
    }
}

impl Drop for Compression {
    /// Tells the threads to stop, and takes the jobs left out of the work in flight; the
    /// queue's sending side goes with `self`, which ends the threads that wait for a job.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        let mut cache = self.shared.lock();
        cache.pending.clear();
        let left = std::mem::take(&mut cache.in_flight);
        metrics::COMPRESSION
            .in_flight_bytes
            .fetch_sub(left, Ordering::Relaxed);
    }
}

/// Takes `key`'s compression into the work in flight, unless it is there already or the
/// budget is spent ([`IN_FLIGHT`]: the job is then dropped, and counted).
fn admit(cache: &mut Cache, key: Key, file: &Arc<File>, fast_first: bool) -> Option<Job> {
    if cache.pending.contains(&key) {
        return None;
    }
    let len = key.stat.len;
    if cache.in_flight > 0 && cache.in_flight.saturating_add(len) > IN_FLIGHT {
        metrics::COMPRESSION.dropped.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    cache.pending.insert(key);
    cache.in_flight += len;
    metrics::COMPRESSION
        .in_flight_bytes
        .fetch_add(len, Ordering::Relaxed);
    Some(Job {
        key,
        file: Arc::clone(file),
        fast_first,
    })
}

/// `bytes` counted as a compressed response of a file of `stat.len` bytes (`hit`: answered
/// from the cache).
fn served(stat: Stat, bytes: Arc<[u8]>, pass: Pass, hit: bool) -> Made {
    if hit {
        metrics::COMPRESSION.hits.fetch_add(1, Ordering::Relaxed);
    }
    metrics::COMPRESSION.bytes_saved.fetch_add(
        stat.len.saturating_sub(bytes.len() as u64),
        Ordering::Relaxed,
    );
    Made {
        body: Body::Shared(bytes),
        pass,
    }
}

/// The variant `bytes` make of a file of `len` bytes: `None` when they are no smaller.
fn worth(bytes: Vec<u8>, len: u64) -> Variant {
    ((bytes.len() as u64) < len).then(|| Arc::from(bytes))
}

/// Logs a compression that failed (not one given up because the threads stop).
fn log_failure(key: Key, error: &std::io::Error) {
    if error.kind() != std::io::ErrorKind::Interrupted {
        log::warn!(
            "compressing the file of inode {} into {} failed: {error}",
            key.stat.ino,
            key.coding.name()
        );
    }
}

impl Shared {
    /// The cache, locked.
    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Compresses one job's versions, stores them, and takes the job out of the work in
    /// flight.
    fn run(&self, job: Job) {
        let passes: &[Pass] = if job.fast_first {
            &[Pass::Fast, Pass::Best]
        } else {
            &[Pass::Best]
        };
        let (len, coding) = (job.key.stat.len, job.key.coding);
        for &pass in passes {
            let level = level::level(coding, len, pass);
            match level::compress(&job.file, len, coding, level, &self.stop) {
                Ok(bytes) => self.store(job.key, worth(bytes, len), pass),
                Err(e) => {
                    log_failure(job.key, &e);
                    break;
                }
            }
        }
        self.finish(&job);
    }

    /// Takes `job` out of the work in flight.
    fn finish(&self, job: &Job) {
        let mut cache = self.lock();
        if cache.pending.remove(&job.key) {
            let len = job.key.stat.len;
            cache.in_flight = cache.in_flight.saturating_sub(len);
            metrics::COMPRESSION
                .in_flight_bytes
                .fetch_sub(len, Ordering::Relaxed);
        }
    }

    /// Keeps `variant` as `key`'s version `pass`: the best one replaces whatever is kept, a
    /// fast one is kept only when nothing is. A variant larger than the whole cache is not
    /// kept: its best version is remembered as not worth sending.
    fn store(&self, key: Key, variant: Variant, pass: Pass) {
        let size = variant.as_ref().map_or(0, |bytes| bytes.len() as u64);
        let mut cache = self.lock();
        if pass == Pass::Fast && cache.entries.contains_key(&key) {
            return;
        }
        let variant = match (size > self.limit, pass) {
            (false, _) => variant,
            (true, Pass::Best) => None,
            (true, Pass::Fast) => return,
        };
        cache.insert(key, variant, pass);
    }
}

impl Cache {
    /// The entry of `key`, marked as just used.
    fn touch(&mut self, key: &Key) -> Option<(Variant, Pass)> {
        let entry = self.entries.get(key)?;
        Some((entry.variant.clone(), entry.pass))
    }

    /// Keeps `variant` as `key`'s (replacing what was), dropping the least recently used
    /// entries so that the cache holds at most its bound in bytes.
    fn insert(&mut self, key: Key, variant: Variant, pass: Pass) {
        let size = variant.as_ref().map_or(0, |bytes| bytes.len() as u64);
        self.entries.remove(&key);
        self.entries.make_room(size, |_| true, |_, _| {});
        self.entries.insert(key, Entry { variant, pass }, size);
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

#[cfg(test)]
mod tests {
    use super::*;

    const GZIP: ContentCoding = ContentCoding::Gzip;
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    /// A version of a file of `len` bytes, naming it by `ino`.
    fn stat(ino: u64, len: u64) -> Stat {
        Stat {
            len,
            mtime_sec: 1,
            mtime_nsec: 0,
            ctime_sec: 1,
            ctime_nsec: 0,
            dev: 1,
            ino,
        }
    }

    /// The kept bytes `made` sends.
    fn bytes(made: &Made) -> &[u8] {
        match &made.body {
            Body::Shared(bytes) => bytes,
            other => panic!("expected kept bytes, got {other:?}"),
        }
    }

    /// A file holding `text`.
    fn file(text: &str) -> Arc<File> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        Arc::new(file)
    }

    /// A compression whose queue nothing takes from: the jobs stay in flight.
    fn without_threads(limit: u64) -> (Compression, std::sync::mpsc::Receiver<Job>) {
        let compression = Compression::new(PerCoding::from_fn(|c| c == GZIP), limit);
        let (sender, receiver) = std::sync::mpsc::sync_channel(pool::QUEUE);
        *compression.jobs.lock().unwrap() = Some(sender);
        (compression, receiver)
    }

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
    fn the_cache_keeps_within_its_bound_and_drops_the_least_recently_used() {
        let text = "abcdefgh".repeat(1250);
        let file = file(&text);
        let stop = AtomicBool::new(false);
        let size = level::compress(
            &file,
            10_000,
            GZIP,
            level::level(GZIP, 10_000, Pass::Best),
            &stop,
        )
        .unwrap()
        .len() as u64;
        let (compression, _queue) = without_threads(size * 2);
        // Run the jobs by hand, without the threads.
        for ino in 1..=3 {
            compression.shared.run(Job {
                key: Key {
                    stat: stat(ino, 10_000),
                    coding: GZIP,
                },
                file: Arc::clone(&file),
                fast_first: false,
            });
            if ino == 2 {
                // Used again: the first is now the least recently used.
                assert!(
                    compression
                        .variant(stat(1, 10_000), GZIP, &file, false)
                        .is_some()
                );
            }
        }
        let cache = compression.shared.lock();
        // Room for two: the least recently used of the three went.
        let kept = |ino| {
            let key = Key {
                stat: stat(ino, 10_000),
                coding: GZIP,
            };
            cache.entries.contains_key(&key)
        };
        assert!(kept(1) && kept(3) && !kept(2));
    }

    #[test]
    fn the_first_answer_is_the_fast_version_and_the_best_replaces_it() {
        let text: String = (0..3000).map(|i| format!("<p>row {i}</p>\n")).collect();
        let len = text.len() as u64;
        assert!((MIN_SIZE..=INLINE_UP_TO).contains(&len));
        let file = file(&text);
        let (compression, queue) = without_threads(1 << 20);
        let decode = |name: &str, bytes: &[u8]| {
            let mut out = Vec::new();
            match name {
                "br" => {
                    brotli::Decompressor::new(bytes, 4096)
                        .read_to_end(&mut out)
                        .unwrap();
                }
                "zstd" => out = zstd::decode_all(bytes).unwrap(),
                _ => {
                    flate2::read::GzDecoder::new(bytes)
                        .read_to_end(&mut out)
                        .unwrap();
                }
            }
            out
        };
        for coding in ContentCoding::ALL {
            let name = coding.name();
            let first = compression
                .variant(stat(1, len), coding, &file, false)
                .unwrap();
            assert_eq!(first.pass, Pass::Fast, "{name}");
            assert_eq!(decode(name, bytes(&first)), text.as_bytes());
            // Until the best version is made, the same fast bytes (their tag names them),
            // and the best one queued once.
            let again = compression
                .variant(stat(1, len), coding, &file, false)
                .unwrap();
            assert_eq!((again.pass, bytes(&again)), (Pass::Fast, bytes(&first)));
            let job = queue.try_recv().unwrap();
            assert!(queue.try_recv().is_err());
            assert!(!job.fast_first);
            compression.shared.run(job);
            let best = compression
                .variant(stat(1, len), coding, &file, false)
                .unwrap();
            assert_eq!(best.pass, Pass::Best, "{name}");
            assert_eq!(decode(name, bytes(&best)), text.as_bytes());
        }
        let cache = compression.shared.lock();
        for coding in ContentCoding::ALL {
            let key = Key {
                stat: stat(1, len),
                coding,
            };
            assert!(cache.entries.contains_key(&key), "{}", coding.name());
        }
        assert!(cache.pending.is_empty());
        assert_eq!(cache.in_flight, 0);
    }

    #[test]
    fn a_large_file_is_queued_for_its_fast_version_then_its_best() {
        let text: String = (0..20_000).map(|i| format!("<p>row {i}</p>\n")).collect();
        let len = text.len() as u64;
        assert!(len > INLINE_UP_TO);
        let file = file(&text);
        let (compression, queue) = without_threads(1 << 20);
        assert!(
            compression
                .variant(stat(1, len), GZIP, &file, false)
                .is_none()
        );
        let job = queue.try_recv().unwrap();
        assert!(job.fast_first);
        // The fast version is kept first, while the best one is made.
        let key = job.key;
        let fast = level::compress(&file, len, GZIP, 1, &AtomicBool::new(false)).unwrap();
        compression.shared.store(key, worth(fast, len), Pass::Fast);
        let made = compression
            .variant(stat(1, len), GZIP, &file, false)
            .unwrap();
        assert_eq!(made.pass, Pass::Fast);
        compression.shared.run(job);
        let made = compression
            .variant(stat(1, len), GZIP, &file, false)
            .unwrap();
        assert_eq!(made.pass, Pass::Best);
        assert_eq!(compression.shared.lock().in_flight, 0);
    }

    #[test]
    fn a_large_file_is_streamed_while_its_versions_are_made_and_streams_are_bounded() {
        let text: String = (0..20_000).map(|i| format!("<p>row {i}</p>\n")).collect();
        let len = text.len() as u64;
        let file = file(&text);
        let (compression, queue) = without_threads(1 << 20);
        let streams: Vec<Made> = (0..stream::STREAMS)
            .map(|_| {
                compression
                    .variant(stat(1, len), GZIP, &file, true)
                    .unwrap()
            })
            .collect();
        for made in &streams {
            assert!(matches!(made.body, Body::Stream(_)));
            assert_eq!(made.pass, Pass::Fast);
        }
        // Both versions are still made in the background, queued once.
        let job = queue.try_recv().unwrap();
        assert!(job.fast_first);
        assert!(queue.try_recv().is_err());
        // No more streams at once: the file goes as it is.
        assert!(
            compression
                .variant(stat(1, len), GZIP, &file, true)
                .is_none()
        );
        drop(streams);
        assert!(
            compression
                .variant(stat(1, len), GZIP, &file, true)
                .is_some()
        );
        // Once a version is kept, it is sent from memory.
        compression.shared.run(job);
        let made = compression
            .variant(stat(1, len), GZIP, &file, true)
            .unwrap();
        assert!(matches!(made.body, Body::Shared(_)));
    }

    #[test]
    fn input_in_flight_is_bounded_and_a_variant_is_queued_once() {
        const MIB: u64 = 1024 * 1024;
        let (compression, queue) = without_threads(64 * MIB);
        // Never read: the jobs stay queued.
        let file = file("");
        for ino in 1..=16 {
            assert!(
                compression
                    .variant(stat(ino, MIB), GZIP, &file, false)
                    .is_none()
            );
        }
        for ino in [1, 2, 17, 18] {
            assert!(
                compression
                    .variant(stat(ino, MIB), GZIP, &file, false)
                    .is_none()
            );
        }
        {
            let cache = compression.shared.lock();
            assert_eq!(cache.in_flight, IN_FLIGHT);
            assert_eq!(cache.pending.len(), 16);
            assert!(!cache.pending.iter().any(|key| key.stat.ino > 16));
        }
        let queued: Vec<u64> = queue.try_iter().map(|job| job.key.stat.ino).collect();
        assert_eq!(queued, (1..=16).collect::<Vec<_>>());

        // A file larger than the bound goes when nothing else is in flight.
        let (compression, queue) = without_threads(64 * MIB);
        assert!(
            compression
                .variant(stat(1, 20 * MIB), GZIP, &file, false)
                .is_none()
        );
        assert!(
            compression
                .variant(stat(2, MIB), GZIP, &file, false)
                .is_none()
        );
        let queued: Vec<(u64, bool)> = queue
            .try_iter()
            .map(|job| (job.key.stat.ino, job.fast_first))
            .collect();
        assert_eq!(queued, [(1, true)]);
    }

    #[test]
    fn dropping_the_compression_ends_its_threads() {
        let compression = Compression::new(PerCoding::from_fn(|c| c == ContentCoding::Br), 1 << 20);
        *compression.jobs.lock().unwrap() = Some(pool::start(&compression.shared));
        // Each thread holds the shared state until it ends.
        let shared = Arc::downgrade(&compression.shared);
        assert_eq!(shared.strong_count(), 3);
        drop(compression);
        let deadline = Instant::now() + Duration::from_secs(60);
        while shared.upgrade().is_some() {
            assert!(Instant::now() < deadline, "the threads did not end");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
