//! Directory listings (`--list-dirs`): a page for a directory without an index file, or the
//! same entries as JSON.
//!
//! Reading the entries touches the file system once per change of the directory, and at
//! most once a second: what is read is kept ([`Listings`]) until the open-file cache's
//! inotify watches see the directory, one of its subdirectories or a directory above it
//! change, and for a second at most ([`super::cache::FRESH`]), so that a change inotify
//! does not report (a file written through a shared mapping, a change on a network file
//! system) is shown within a second too. Rendering is pure and lives in [`render`]; every
//! name is HTML-escaped in text and percent-encoded in links, so no file name can inject
//! markup or turn a link into another scheme or host, and the response carries a
//! Content-Security-Policy that forbids scripts, as a second line of defence.
//!
//! Only what a request could fetch is listed: each name is put through the server's own
//! rules ([`decode_path`] of the link it would get, then [`map::map_path`]), so a name with
//! CR, LF, TAB or `\`, or a dot-name with dotfiles hidden, is left out rather than shown with
//! a link that answers `400` or `404`; the page says how many names were left out for their
//! bytes (not those the dotfiles rule hides). For the same reason, with auth areas, an entry
//! the client may not be served is left out of what it is shown ([`shown`]), and not
//! counted; the listing kept is the whole one: it is filtered per request.

mod render;

use super::cache::{FileCache, Ticket};
use super::guard;
use super::map::{self, encode_segment};
use super::open::Beneath;
use crate::handlers::Gate;
use crate::handlers::lru::Lru;
use crate::http::response::{Body, Response};
use crate::metrics;
use nomserve_grammar::{DecodedPath, Headers, MediaRange, decode_path, parse_accept, parse_query};
pub(super) use render::Listing;
use rustix::fs::{AtFlags, Dir, FileType, statat};
use std::borrow::Cow;
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

/// Entries per page: a larger listing is split into pages of this many (`?page=N`).
pub(super) const PAGE_SIZE: usize = 10_000;

/// The most entries one listing reads. A directory of a million files would otherwise cost
/// a million stats and a hundred megabytes of memory; past this many, the page says that
/// the rest is not shown.
pub(super) const MAX_ENTRIES: usize = 10 * PAGE_SIZE;

/// The most entries kept over all cached listings; past it, the least recently used
/// listings are dropped. A row kept (its HTML and its JSON) takes some 400 bytes, so the
/// listings take at most about 40 MB.
const MAX_CACHED_ENTRIES: usize = MAX_ENTRIES;

/// The most listings kept.
const MAX_CACHED_LISTINGS: usize = 256;

/// One listed entry, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    /// The name, as bytes (file names need not be UTF-8).
    pub(super) name: Vec<u8>,
    /// A directory (linked with a trailing `/`) rather than a regular file.
    pub(super) is_dir: bool,
    /// The size in bytes (files only; 0 for a directory).
    pub(super) size: u64,
    /// The modification time, in seconds since the Unix epoch.
    pub(super) modified: i64,
    /// For a symlink, where it leads beneath the root, in the auth areas' form ([`guard`]),
    /// when that was asked for.
    pub(super) target: Option<PathBuf>,
}

/// What reading a directory gave, and whether it may be cached.
#[derive(Debug, Default)]
pub(super) struct Read {
    pub(super) entries: Vec<Entry>,
    /// The names no request could carry (neither [`servable`] nor [`hidden`]), to say how
    /// many were left out.
    unwritable: Vec<Vec<u8>>,
    /// More than [`MAX_ENTRIES`] entries and unwritable names: the rest were not read.
    pub(super) truncated: bool,
    /// Every entry was reached without a symlink and every file has one link, so a change
    /// to any of them is seen by the watch of this directory (inotify reports a change to a
    /// child only to the watch of the directory it was reached through).
    watchable: bool,
    /// The subdirectories listed, with their identity and modification time as read: their
    /// own watches must be in place before the listing is kept, and they unchanged.
    subdirs: Vec<(Vec<u8>, Identity)>,
}

/// A file's identity and modification time: equal only for the same, unchanged inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Identity {
    // The fields' types differ between architectures (`c_ulong`, `u64`, `u32`): the
    // conversions are to the same type only on some.
    #[allow(clippy::useless_conversion)]
    fn of(stat: &rustix::fs::Stat) -> Identity {
        Identity {
            dev: u64::from(stat.st_dev),
            ino: u64::from(stat.st_ino),
            mtime: i64::from(stat.st_mtime),
            mtime_nsec: i64::try_from(stat.st_mtime_nsec).unwrap_or(0),
        }
    }

    fn of_metadata(meta: &std::fs::Metadata) -> Identity {
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            mtime: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }
}

/// How many names the file `stat` describes has.
#[allow(clippy::useless_conversion)] // `st_nlink` is `u32` on some architectures.
fn links(stat: &rustix::fs::Stat) -> u64 {
    u64::from(stat.st_nlink)
}

/// Whether a request could fetch the entry `name`: the link the listing would give it,
/// `/` and the name percent-encoded, decodes to exactly that name ([`decode_path`] refuses
/// encoded controls, CR, LF and TAB among them, and `\`) and is mapped by [`map::map_path`]
/// (which refuses `.`, `..`, and dot-names unless `dotfiles`). `.well-known`, served though
/// it is at the root, is not listed with dotfiles hidden, as nginx's autoindex lists no
/// dot-name.
fn servable(name: &[u8], dotfiles: bool) -> bool {
    if hidden(name, dotfiles) {
        return false;
    }
    let mut link = String::from("/");
    encode_segment(name, &mut link);
    decode_path(&link).is_ok_and(|decoded| {
        matches!(decoded.segments.as_slice(), [only] if **only == *name)
            && map::map_path(&decoded, dotfiles).is_ok()
    })
}

/// Whether `name` is left out by the server's rules rather than for its bytes: `.` and `..`,
/// and any dot-name with dotfiles hidden. Any other name not [`servable`] is one no request
/// could carry (it holds a control character or `\`): such a name is counted, so that the
/// page can say how many were left out, where a hidden one is not.
fn hidden(name: &[u8], dotfiles: bool) -> bool {
    name == b"." || name == b".." || (!dotfiles && name.first() == Some(&b'.'))
}

/// Reads the entries of `dir`, the directory at `rel` beneath the root. Lists only what the
/// handler would serve ([`servable`]): regular files and directories, reached the way a
/// request would reach them (a symlink that leaves the root, or any symlink under the
/// walking fallback, is left out; with dotfiles hidden, so is one that resolves to a
/// dot-name, which `beneath` refuses). An entry that is not a symlink is looked at with one
/// `statat` beside it in `dir`; a symlink is resolved beneath the root. Stops after
/// [`MAX_ENTRIES`], the names no request could carry counted among them. The order is the file system's. With `resolve`, a symlink's entry says
/// where it leads.
pub(super) fn read_entries(
    beneath: &Beneath,
    (dir, rel): (&File, &Path),
    dotfiles: bool,
    resolve: bool,
) -> io::Result<Read> {
    let mut read = Read {
        watchable: true,
        ..Read::default()
    };
    for entry in Dir::new(OwnedFd::from(dir.try_clone()?))? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        let listed = servable(name, dotfiles);
        if !listed && hidden(name, dotfiles) {
            continue;
        }
        if read.entries.len() + read.unwritable.len() == MAX_ENTRIES {
            read.truncated = true;
            break;
        }
        if !listed {
            read.unwritable.push(name.to_vec());
            continue;
        }
        let Ok(stat) = statat(dir, entry.file_name(), AtFlags::SYMLINK_NOFOLLOW) else {
            continue;
        };
        let kind = FileType::from_raw_mode(stat.st_mode);
        let mut target = None;
        let (is_dir, is_file, size, modified) = if kind == FileType::Symlink {
            read.watchable = false;
            let path = rel.join(OsStr::from_bytes(name));
            let inspected = if resolve {
                beneath.inspect_resolved(&path)
            } else {
                beneath.inspect(&path).map(|file| (file, None))
            };
            let Ok((meta, real)) = inspected.and_then(|(file, real)| {
                let meta = file.metadata().map_err(super::open::Failure::Other)?;
                Ok((meta, real))
            }) else {
                continue;
            };
            target = real.map(|real| guard::form(&real, meta.is_dir()));
            (meta.is_dir(), meta.is_file(), meta.len(), meta.mtime())
        } else {
            let is_file = kind == FileType::RegularFile;
            if is_file && links(&stat) > 1 {
                read.watchable = false;
            }
            let size = u64::try_from(stat.st_size).unwrap_or(0);
            (
                kind == FileType::Directory,
                is_file,
                size,
                Identity::of(&stat).mtime,
            )
        };
        if !(is_dir || is_file) {
            continue;
        }
        if is_dir && kind == FileType::Directory {
            read.subdirs.push((name.to_vec(), Identity::of(&stat)));
        }
        read.entries.push(Entry {
            name: name.to_vec(),
            is_dir,
            size: if is_dir { 0 } else { size },
            modified,
            target,
        });
    }
    Ok(read)
}

/// The listings read, by directory, each with the ticket of the watches that must not have
/// moved for it to be current; each weighs its number of entries.
#[derive(Debug)]
pub(super) struct Listings {
    kept: Mutex<Lru<PathBuf, Slot>>,
}

#[derive(Debug)]
struct Slot {
    listing: Arc<Listing>,
    ticket: Ticket,
}

impl Default for Listings {
    fn default() -> Listings {
        Listings {
            kept: Mutex::new(Lru::new(MAX_CACHED_LISTINGS, MAX_CACHED_ENTRIES as u64)),
        }
    }
}

impl Listings {
    fn kept(&self) -> std::sync::MutexGuard<'_, Lru<PathBuf, Slot>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The listing of `rel`, if one is kept, no watch of its ticket has seen a change since
    /// it was read, and it was read less than a second ago ([`super::cache::FRESH`]); any
    /// other is dropped.
    fn get(&self, files: &FileCache, rel: &Path) -> Option<Arc<Listing>> {
        let mut kept = self.kept();
        if files.current(&kept.peek(rel)?.ticket) {
            return kept.get(rel).map(|slot| Arc::clone(&slot.listing));
        }
        kept.remove(rel);
        None
    }

    /// Keeps `listing` for `rel`, dropping the least recently used listings to stay within
    /// [`MAX_CACHED_ENTRIES`] and [`MAX_CACHED_LISTINGS`].
    fn insert(&self, rel: &Path, ticket: Ticket, listing: Arc<Listing>) {
        let size = listing.len();
        if size > MAX_CACHED_ENTRIES {
            return;
        }
        let mut kept = self.kept();
        kept.remove(rel);
        kept.make_room(size as u64, |_| true, |_, _| {});
        kept.insert(rel.to_path_buf(), Slot { listing, ticket }, size as u64);
    }
}

/// The listing of `dir`, the directory at `rel` beneath the root: the one kept if it is
/// current, else read now, and kept when a change to anything it shows is sure to be seen.
///
/// It is kept only if the cache's watches cover it: the directories from the root down to
/// `rel` are watched before it is read (so a change while reading moves their generation)
/// and `rel` resolves, without a symlink, to the directory read (so the watches are on the
/// directory whose entries these are); no entry was reached through a symlink and no file
/// has a second link (a change through another name would be reported to that name's
/// directory only); and each subdirectory listed is watched too (its modification time is
/// shown, and changes with what it holds), then found unchanged since it was read. So a
/// listing kept holds no symlink, and what `resolve` asks for is not needed in one.
pub(super) fn load(
    beneath: &Beneath,
    files: &FileCache,
    listings: &Listings,
    (dir, rel): (&File, &Path),
    dotfiles: bool,
    resolve: bool,
) -> io::Result<Arc<Listing>> {
    if let Some(listing) = listings.get(files, rel) {
        metrics::LISTING_CACHE.hits.fetch_add(1, Ordering::Relaxed);
        return Ok(listing);
    }
    metrics::LISTING_CACHE
        .misses
        .fetch_add(1, Ordering::Relaxed);
    let ticket = files.watch_dir(rel);
    let read = read_entries(beneath, (dir, rel), dotfiles, resolve)?;
    let listing =
        Arc::new(Listing::new(read.entries, read.truncated).with_unwritable(read.unwritable));
    if ticket.is_empty() || !read.watchable {
        return Ok(listing);
    }
    let same_dir = dir.metadata().is_ok_and(|opened| {
        beneath
            .open_without_symlinks(rel)
            .ok()
            .and_then(|again| again.metadata().ok())
            .is_some_and(|again| Identity::of_metadata(&again) == Identity::of_metadata(&opened))
    });
    if !same_dir {
        return Ok(listing);
    }
    let mut tickets = vec![ticket];
    for (name, identity) in &read.subdirs {
        let name = OsStr::from_bytes(name);
        let sub = files.watch_dir(&rel.join(name));
        let unchanged = statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|stat| Identity::of(&stat) == *identity);
        if sub.is_empty() || !unchanged {
            return Ok(listing);
        }
        tickets.push(sub);
    }
    listings.insert(rel, Ticket::joined(tickets), Arc::clone(&listing));
    Ok(listing)
}

/// Which of `listing`'s entries `gate` shows, in the listing's order: each entry judged by
/// the path a request for it would name (in the directory at `rel`, as requested), by where
/// it is (in the directory at `real`, where `rel` led), and, for a symlink, by where it
/// leads. A directory's paths end with `/`, as its link does.
///
/// After them, in the same vector, whether it shows each of the listing's unwritable names
/// ([`Listing::unwritable`]), so that the count of names left out reveals none in an area:
/// each is judged in both directories, as a file and as a directory, as its kind is not read.
pub(super) fn shown(listing: &Listing, (rel, real): (&Path, &Path), gate: &dyn Gate) -> Vec<bool> {
    let asked = guard::form(rel, true);
    let found = (real != rel).then(|| guard::form(real, true));
    let within = |dir: &Path, name: &[u8], is_dir: bool| {
        let mut path = dir.as_os_str().to_owned();
        path.push(OsStr::from_bytes(name));
        if is_dir {
            path.push("/");
        }
        PathBuf::from(path)
    };
    let shows = |name: &[u8], is_dir: bool| {
        gate.shows(&within(&asked, name, is_dir))
            && found
                .as_deref()
                .is_none_or(|dir| gate.shows(&within(dir, name, is_dir)))
    };
    let entries = listing.entries().iter().map(|entry| {
        shows(&entry.name, entry.is_dir)
            && entry
                .target
                .as_deref()
                .is_none_or(|target| gate.shows(target))
    });
    let unwritable = listing
        .unwritable()
        .iter()
        .map(|name| shows(name, false) && shows(name, true));
    entries.chain(unwritable).collect()
}

/// The column a listing is sorted by (`?sort=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sort {
    Name,
    Size,
    Modified,
}

impl Sort {
    /// Every column, in the order the page shows them.
    const ALL: [Sort; 3] = [Sort::Name, Sort::Size, Sort::Modified];

    /// The value of `sort=` that names this column.
    fn key(self) -> &'static str {
        match self {
            Sort::Name => "name",
            Sort::Size => "size",
            Sort::Modified => "modified",
        }
    }
}

/// How one request wants the listing: its order and page (`?sort=name|size|modified`,
/// `&order=asc|desc`, `&page=N` from 1). Each parameter missing or invalid falls back to its
/// default: by name, ascending, the first page. Directories always come first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct View {
    pub(super) sort: Sort,
    pub(super) descending: bool,
    /// The page, from 0.
    pub(super) page: usize,
}

impl View {
    /// The view a query string asks for; the first occurrence of each parameter counts.
    pub(super) fn from_query(query: Option<&str>) -> View {
        let mut sort = None;
        let mut order = None;
        let mut page = None;
        for (name, value) in query.map(parse_query).into_iter().flatten() {
            match &*name {
                "sort" if sort.is_none() => {
                    sort = Some(Sort::ALL.into_iter().find(|s| s.key() == value));
                }
                "order" if order.is_none() => {
                    order = Some(match &*value {
                        "asc" => Some(false),
                        "desc" => Some(true),
                        _ => None,
                    });
                }
                "page" if page.is_none() => {
                    page = Some(value.parse::<usize>().ok().and_then(|n| n.checked_sub(1)));
                }
                _ => {}
            }
        }
        View {
            sort: sort.flatten().unwrap_or(Sort::Name),
            descending: order.flatten().unwrap_or(false),
            page: page.flatten().unwrap_or(0),
        }
    }

    /// The query string that asks for this view: `sort=…&order=…`, then `&page=N` past the
    /// first page.
    fn query(self) -> String {
        let order = if self.descending { "desc" } else { "asc" };
        let mut query = format!("sort={}&order={order}", self.sort.key());
        if self.page > 0 {
            query.push_str(&format!("&page={}", self.page + 1));
        }
        query
    }
}

/// Whether the client prefers JSON to HTML: its Accept fields (all of them, as one list, RFC
/// 9110 §5.3) list `application/json` explicitly with a weight above 0 that exceeds the
/// weight they give `text/html` (RFC 9110 §12.5.1, §12.4.2). `*/*`, no Accept, a tie or a
/// malformed field get the page.
pub(super) fn prefers_json(headers: &Headers<'_, '_>) -> bool {
    let mut ranges: Vec<MediaRange<'_>> = Vec::new();
    for value in headers.get_all("accept") {
        match parse_accept(value) {
            Some(more) => ranges.extend(more),
            None => return false,
        }
    }
    let listed = ranges.iter().any(|r| {
        r.kind.eq_ignore_ascii_case("application") && r.subtype.eq_ignore_ascii_case("json")
    });
    let json = MediaRange::quality(&ranges, "application", "json").unwrap_or(0);
    let html = MediaRange::quality(&ranges, "text", "html").unwrap_or(0);
    listed && json > 0 && json > html
}

/// The `200` for `listing` of the directory `decoded`, as JSON when the client prefers it
/// ([`prefers_json`]), else as a page, in the order and page the query asks for, with
/// `footer` (HTML: the archives' links, the README) at its end; only the entries `shown`
/// says, when it says. Both carry `Vary: Accept` (RFC 9110 §12.5.5), and a
/// `Link` to the previous and next pages (RFC 8288 §3) when there are several.
pub(super) fn respond(
    listing: &Listing,
    shown: Option<&[bool]>,
    decoded: &DecodedPath<'_>,
    (query, headers): (Option<&str>, &Headers<'_, '_>),
    footer: &str,
) -> Response {
    let mut view = View::from_query(query);
    let pages = listing.pages(shown);
    if view.page >= pages {
        view.page = 0;
    }
    let (content_type, body) = if prefers_json(headers) {
        ("application/json", listing.json(view, shown))
    } else {
        let segments: Vec<&[u8]> = decoded.segments.iter().map(|s| &**s).collect();
        let mut page = listing.html(&segments, view, shown);
        if let Some(end) = page.rfind("</body>") {
            page.insert_str(end, footer);
        }
        ("text/html; charset=utf-8", page)
    };
    let mut response = Response::new(200)
        .header("Content-Type", content_type)
        .header(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
        )
        .header("X-Content-Type-Options", "nosniff")
        .header("Vary", "Accept");
    let mut links = Vec::new();
    if view.page > 0 {
        let previous = View {
            page: view.page - 1,
            ..view
        };
        links.push(format!("<?{}>; rel=\"prev\"", previous.query()));
    }
    if view.page + 1 < pages {
        let next = View {
            page: view.page + 1,
            ..view
        };
        links.push(format!("<?{}>; rel=\"next\"", next.query()));
    }
    if !links.is_empty() {
        response = response.header("Link", links.join(", "));
    }
    response.body(Body::Bytes(Cow::Owned(body.into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_request_could_not_fetch_are_not_servable() {
        for name in [
            &b"a.txt"[..],
            b"a b#c?d%e",
            b"caf\xc3\xa9",
            b"bad\xff",
            b"x:y",
        ] {
            assert!(servable(name, false), "{name:?}");
        }
        for name in [
            &b"line\nfeed"[..],
            b"carriage\rreturn",
            b"tab\there",
            b"back\\slash",
            b"del\x7f",
            b".env",
            b".well-known",
            b".",
            b"..",
        ] {
            assert!(!servable(name, false), "{name:?}");
        }
        assert!(servable(b".env", true));
        assert!(!servable(b"..", true));
    }

    #[test]
    fn the_query_picks_the_view_and_anything_invalid_falls_back() {
        let view = |q: &str| View::from_query(Some(q));
        let default = View {
            sort: Sort::Name,
            descending: false,
            page: 0,
        };
        assert_eq!(View::from_query(None), default);
        assert_eq!(
            view("sort=size&order=desc&page=3"),
            View {
                sort: Sort::Size,
                descending: true,
                page: 2
            }
        );
        assert_eq!(
            view("sort=modified"),
            View {
                sort: Sort::Modified,
                ..default
            }
        );
        for bad in [
            "sort=bogus",
            "order=up",
            "page=0",
            "page=-1",
            "page=x",
            "sort=Name",
            "",
        ] {
            assert_eq!(view(bad), default, "{bad}");
        }
        assert_eq!(view("sort=size&sort=name").sort, Sort::Size);
        assert_eq!(
            view("sort=size&order=desc&page=2").query(),
            "sort=size&order=desc&page=2"
        );
        assert_eq!(default.query(), "sort=name&order=asc");
    }

    #[test]
    fn json_only_when_preferred() {
        use nomserve_grammar::Header;
        let prefers = |value: &str| {
            let fields = [Header {
                name: "Accept",
                value: value.as_bytes(),
            }];
            prefers_json(&Headers::new(&fields))
        };
        assert!(prefers("application/json"));
        assert!(prefers("application/json, */*;q=0.1"));
        assert!(prefers("text/html;q=0.5, application/json"));
        for not in [
            "*/*",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "application/json;q=0.5, text/html;q=0.5",
            "application/*",
            "application/json;q=0",
            "application/json;q=2",
        ] {
            assert!(!prefers(not), "{not}");
        }
        assert!(!prefers_json(&Headers::new(&[])));
    }
}
