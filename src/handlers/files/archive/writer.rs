//! The archive as a [`Source`]: made one step at a time, as the connection sends the last.
//!
//! The format writers (`flate2`'s gzip encoder, `zip`'s streaming writer, the tar framing in
//! [`ustar`]) write into a [`Sink`], a buffer that each step empties into what the
//! connection sends. A step does one thing: writes a member's header, or copies one
//! [`CHUNK`] of a file, or ends the archive; so the sink holds one step's output (a chunk,
//! or less once compressed, and a header or two), whatever the archive's size, and nothing
//! is made ahead of the client ([`crate::http::output`] asks for the next step only when the
//! socket has taken the last).
//!
//! A file that changes while it is archived cuts the response off: its length and version
//! (inode, size, modification and change times) are taken when it is opened; a read that
//! ends short of that length, or a version found different once its content is read
//! ([`Version::same_content`]), fails the step before the member is finished, and a failed
//! step closes the connection without the body's last chunk (RFC 9112 §8: the client sees
//! an incomplete message), so no archive is ever complete with a member mixing old and new
//! bytes. The change time moves with every write, and cannot be set back by the writer. A
//! file replaced by a rename while it is read is archived whole in its old form (the
//! descriptor holds the old inode).

use super::Format;
use super::ustar::{self, Kind};
use super::walk::{Item, Walk};
use crate::handlers::files::slots::Slot;
use crate::http::response::Source;
use flate2::write::GzEncoder;
use std::fs::{File, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, DateTime, ZipWriter};

/// The most bytes of a file read in one step: some 1 ms of worker time at the fast
/// compression levels used here, as for a response compressed on the fly.
pub(super) const CHUNK: usize = 64 * 1024;

/// The most members of a zip archive. A zip ends with a central directory listing every
/// member, which the writer holds until then (some 150 bytes and the name, each): past this
/// many, the response is cut off (and the log says to use tar, which has no directory).
pub(super) const MAX_ZIP_MEMBERS: usize = 100_000;

/// The compression level of `tar.gz` and `zip`: the fast level (1), so that a step takes
/// little of the worker's time; a folder is often mostly compressed files already.
const LEVEL: u32 = 1;

/// Where the format writers write; emptied after each step.
#[derive(Debug, Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Sink {
    /// Moves what was written to the end of `out`.
    fn take(&self, out: &mut Vec<u8>) {
        out.append(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        held.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A format's writer.
enum Encoder {
    Tar(Sink),
    TarGz(GzEncoder<Sink>),
    Zip {
        zip: Box<ZipWriter<StreamWriter<Sink>>>,
        members: usize,
    },
}

impl Encoder {
    fn new(format: Format, sink: Sink) -> Encoder {
        match format {
            Format::Tar => Encoder::Tar(sink),
            Format::TarGz => Encoder::TarGz(GzEncoder::new(sink, flate2::Compression::new(LEVEL))),
            Format::Zip => Encoder::Zip {
                zip: Box::new(ZipWriter::new_stream(sink)),
                members: 0,
            },
        }
    }

    /// Begins the member `name` of `kind`, whose metadata is `meta`.
    fn begin(&mut self, name: &[u8], kind: Kind, meta: &Metadata) -> io::Result<()> {
        // Only whether a file is executable is kept: owners and other bits mean nothing on
        // the client's machine.
        let mode = match kind {
            Kind::Dir => 0o755,
            Kind::File(_) if meta.mode() & 0o111 != 0 => 0o755,
            Kind::File(_) => 0o644,
        };
        let out: &mut dyn Write = match self {
            Encoder::Tar(sink) => sink,
            Encoder::TarGz(gz) => gz,
            Encoder::Zip { zip, members } => {
                *members += 1;
                if *members > MAX_ZIP_MEMBERS {
                    return Err(io::Error::other(format!(
                        "more than {MAX_ZIP_MEMBERS} members for a zip archive; tar has no limit"
                    )));
                }
                // A zip name is UTF-8 (the writer sets the UTF-8 flag, APPNOTE 6.3 §4.4.4
                // bit 11, for a name that is not ASCII); other bytes become U+FFFD.
                let name = String::from_utf8_lossy(name).into_owned();
                let options = SimpleFileOptions::default()
                    .compression_method(CompressionMethod::Deflated)
                    .compression_level(Some(i64::from(LEVEL)))
                    .last_modified_time(dos_time(meta.mtime()))
                    .unix_permissions(mode);
                return match kind {
                    Kind::Dir => zip.add_directory(name, options),
                    // Zip64 extra fields for a member that needs them (APPNOTE §4.5.3).
                    Kind::File(len) => {
                        zip.start_file(name, options.large_file(len >= u64::from(u32::MAX)))
                    }
                }
                .map_err(io::Error::other);
            }
        };
        ustar::header(out, name, kind, mode, meta.mtime())
    }

    /// The next bytes of the member begun.
    fn data(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Tar(sink) => sink.write_all(bytes),
            Encoder::TarGz(gz) => gz.write_all(bytes),
            Encoder::Zip { zip, .. } => zip.write_all(bytes),
        }
    }

    /// Ends the file member begun, of `len` bytes.
    fn end(&mut self, len: u64) -> io::Result<()> {
        match self {
            Encoder::Tar(sink) => sink.write_all(ustar::padding(len)),
            Encoder::TarGz(gz) => gz.write_all(ustar::padding(len)),
            // The next member, or the end, finishes it.
            Encoder::Zip { .. } => Ok(()),
        }
    }

    /// Ends the archive.
    fn finish(self) -> io::Result<()> {
        match self {
            Encoder::Tar(mut sink) => sink.write_all(&ustar::END),
            Encoder::TarGz(mut gz) => {
                gz.write_all(&ustar::END)?;
                gz.finish().map(drop)
            }
            Encoder::Zip { zip, .. } => zip.finish().map(drop).map_err(io::Error::other),
        }
    }
}

/// `mtime` (seconds since the Unix epoch) as a zip time: the date and time in UTC (zip
/// stores no zone), and 1980-01-01, zip's first, for a time it cannot hold.
fn dos_time(mtime: i64) -> DateTime {
    jiff::Timestamp::from_second(mtime)
        .ok()
        .and_then(|at| {
            let at = at.to_zoned(jiff::tz::TimeZone::UTC);
            DateTime::from_date_and_time(
                u16::try_from(at.year()).ok()?,
                u8::try_from(at.month()).ok()?,
                u8::try_from(at.day()).ok()?,
                u8::try_from(at.hour()).ok()?,
                u8::try_from(at.minute()).ok()?,
                u8::try_from(at.second()).ok()?,
            )
            .ok()
        })
        .unwrap_or_default()
}

/// Which version of a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    links: u64,
}

impl Version {
    fn of(meta: &Metadata) -> Version {
        Version {
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            links: meta.nlink(),
        }
    }

    /// Whether `now` holds the same bytes: nothing wrote to the file. A write moves the
    /// modification time and the change time; the change time also moves when a name is
    /// added or removed (a file replaced by a rename loses its name), so it is compared
    /// only while the number of names is the same, and the modification time then tells.
    fn same_content(&self, now: &Version) -> bool {
        self.ino == now.ino
            && self.size == now.size
            && self.mtime == now.mtime
            && (self.links != now.links || self.ctime == now.ctime)
    }
}

/// The file member being copied.
struct Member {
    file: File,
    name: Vec<u8>,
    len: u64,
    offset: u64,
    version: Version,
}

/// A folder's archive, made as it is sent.
pub(super) struct Archive<J> {
    walk: Walk<J>,
    /// `None` once the archive is ended.
    encoder: Option<Encoder>,
    sink: Sink,
    member: Option<Member>,
    chunk: Vec<u8>,
    _slot: Slot,
}

impl<J: Fn(&Path) -> bool> Archive<J> {
    /// The archive of what `walk` gives, in `format`, holding `slot` until it is dropped.
    pub(super) fn new(walk: Walk<J>, format: Format, slot: Slot) -> Archive<J> {
        let sink = Sink::default();
        Archive {
            walk,
            encoder: Some(Encoder::new(format, sink.clone())),
            sink,
            member: None,
            chunk: Vec::new(),
            _slot: slot,
        }
    }

    /// One step (see the module's documentation); `true` once the archive is ended.
    fn step(&mut self) -> io::Result<bool> {
        let Some(encoder) = self.encoder.as_mut() else {
            return Ok(true);
        };
        if let Some(member) = &mut self.member {
            let rest = member.len - member.offset;
            if rest > 0 {
                let want = usize::try_from(rest).map_or(CHUNK, |rest| rest.min(CHUNK));
                self.chunk.resize(want, 0);
                let read = member.file.read_at(&mut self.chunk, member.offset)?;
                if read == 0 {
                    return Err(changed(&member.name, "shrank"));
                }
                encoder.data(&self.chunk[..read])?;
                member.offset += read as u64;
            }
            if member.offset == member.len {
                if !member
                    .version
                    .same_content(&Version::of(&member.file.metadata()?))
                {
                    return Err(changed(&member.name, "was written to"));
                }
                encoder.end(member.len)?;
                self.member = None;
            }
            return Ok(false);
        }
        match self.walk.next() {
            Some(Ok(Item::Dir { name, meta })) => encoder.begin(&name, Kind::Dir, &meta)?,
            Some(Ok(Item::File { name, rel })) => {
                if let Some((file, meta)) = self.walk.open(&rel)? {
                    encoder.begin(&name, Kind::File(meta.len()), &meta)?;
                    self.member = Some(Member {
                        file,
                        name,
                        len: meta.len(),
                        offset: 0,
                        version: Version::of(&meta),
                    });
                }
            }
            Some(Err(e)) => return Err(e),
            None => {
                if let Some(encoder) = self.encoder.take() {
                    encoder.finish()?;
                }
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// The error that cuts the archive off: the member `name` changed while it was read.
fn changed(name: &[u8], how: &str) -> io::Error {
    io::Error::other(format!(
        "archive: {} {how} while it was archived; the response is cut off",
        String::from_utf8_lossy(name)
    ))
}

impl<J: Fn(&Path) -> bool + Send> Source for Archive<J> {
    fn fill(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        let done = self.step()?;
        self.sink.take(out);
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handlers::files::open::Beneath;
    use crate::handlers::files::slots::Places;
    use std::collections::BTreeMap;
    use std::io::Read;

    /// A folder `d` beneath a root: nested folders, a unicode name, a file of several chunks.
    fn folder() -> tempfile::TempDir {
        let top = tempfile::tempdir().unwrap();
        let d = top.path().join("d");
        std::fs::create_dir_all(d.join("sub/empty")).unwrap();
        std::fs::write(d.join("a.txt"), "alpha").unwrap();
        std::fs::write(d.join("sub/\u{65e5}\u{672c}.txt"), "nihon").unwrap();
        let big: Vec<u8> = (0..3 * CHUNK + 100).map(|i| (i % 251) as u8).collect();
        std::fs::write(d.join("sub/big.bin"), big).unwrap();
        top
    }

    fn archive(root: &Path, format: Format) -> Archive<impl Fn(&Path) -> bool + Send> {
        let beneath = Beneath::open_root(root).unwrap();
        let dir = beneath.open(Path::new("d")).unwrap();
        let d = Path::new("d");
        let walk = Walk::new(beneath, (&dir, d, d), false, (false, |_: &Path| true)).unwrap();
        Archive::new(walk, format, Places::new(1).take().unwrap())
    }

    /// Every step's output, and the most one step gave.
    fn run(archive: &mut impl Source) -> io::Result<(Vec<u8>, usize)> {
        let (mut all, mut most) = (Vec::new(), 0);
        loop {
            let mut step = Vec::new();
            let done = archive.fill(&mut step)?;
            most = most.max(step.len());
            all.extend_from_slice(&step);
            if done {
                return Ok((all, most));
            }
        }
    }

    /// The files of `d` on disk, by their names relative to it.
    fn on_disk(root: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        for name in ["a.txt", "sub/\u{65e5}\u{672c}.txt", "sub/big.bin"] {
            files.insert(
                name.to_string(),
                std::fs::read(root.join("d").join(name)).unwrap(),
            );
        }
        files
    }

    fn read_tar(bytes: impl Read) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        for entry in tar::Archive::new(bytes).entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            if entry.header().entry_type().is_dir() {
                assert!(name.ends_with('/') && content.is_empty(), "{name}");
            } else {
                files.insert(name, content);
            }
        }
        files
    }

    #[test]
    fn each_format_reads_back_as_the_files_in_bounded_steps() {
        let top = folder();
        let files = on_disk(top.path());
        for format in Format::ALL {
            let (bytes, most) = run(&mut archive(top.path(), format)).unwrap();
            assert!(
                most <= CHUNK + 4096,
                "{}: a step gave {most} bytes",
                format.name()
            );
            let read = match format {
                Format::Tar => read_tar(&bytes[..]),
                Format::TarGz => read_tar(flate2::read::GzDecoder::new(&bytes[..])),
                Format::Zip => {
                    let mut zip = zip::ZipArchive::new(io::Cursor::new(&bytes)).unwrap();
                    let mut read = BTreeMap::new();
                    for i in 0..zip.len() {
                        let mut member = zip.by_index(i).unwrap();
                        let mut content = Vec::new();
                        member.read_to_end(&mut content).unwrap();
                        if !member.is_dir() {
                            read.insert(member.name().to_string(), content);
                        }
                    }
                    assert!(zip.file_names().any(|name| name == "sub/empty/"));
                    read
                }
            };
            assert_eq!(read, files, "{}", format.name());
        }
    }

    #[test]
    fn a_file_written_to_while_archived_cuts_the_archive_off() {
        for format in Format::ALL {
            let top = folder();
            let mut archive = archive(top.path(), format);
            let big = top.path().join("d/sub/big.bin");
            let mut failed = None;
            for _ in 0..100 {
                let mut step = Vec::new();
                match archive.fill(&mut step) {
                    Ok(true) => break,
                    Ok(false) => {}
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
                // Once the big file's first chunk is read, it is rewritten in place.
                if archive.member.as_ref().is_some_and(|m| m.offset > 0) {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .open(&big)
                        .unwrap()
                        .write_all(b"new")
                        .unwrap();
                }
            }
            let error = failed.expect("the archive failed").to_string();
            assert!(error.contains("big.bin was written to"), "{error}");
        }
    }

    #[test]
    fn a_file_that_shrank_cuts_the_archive_off() {
        let top = folder();
        let mut archive = archive(top.path(), Format::Tar);
        let big = top.path().join("d/sub/big.bin");
        let mut step = Vec::new();
        while archive.member.as_ref().is_none_or(|m| m.offset == 0) {
            assert!(!archive.fill(&mut step).unwrap());
        }
        std::fs::OpenOptions::new()
            .write(true)
            .open(&big)
            .unwrap()
            .set_len(10)
            .unwrap();
        let error = run(&mut archive).unwrap_err().to_string();
        assert!(error.contains("big.bin shrank"), "{error}");
    }

    #[test]
    fn a_file_replaced_while_archived_goes_whole_in_its_old_form() {
        let top = folder();
        let mut archive = archive(top.path(), Format::Tar);
        let big = top.path().join("d/sub/big.bin");
        let old = std::fs::read(&big).unwrap();
        let mut step = Vec::new();
        let mut bytes = Vec::new();
        while archive.member.as_ref().is_none_or(|m| m.offset == 0) {
            assert!(!archive.fill(&mut step).unwrap());
        }
        bytes.append(&mut step);
        std::fs::write(top.path().join("new"), "replaced").unwrap();
        std::fs::rename(top.path().join("new"), &big).unwrap();
        bytes.extend(run(&mut archive).unwrap().0);
        assert_eq!(read_tar(&bytes[..])["sub/big.bin"], old);
    }

    #[test]
    fn zip_times_are_utc_and_clamped_to_what_zip_holds() {
        let time = dos_time(1_700_000_000);
        assert_eq!(
            (
                time.year(),
                time.month(),
                time.day(),
                time.hour(),
                time.minute()
            ),
            (2023, 11, 14, 22, 13)
        );
        assert_eq!(dos_time(0), DateTime::default());
        assert_eq!(dos_time(i64::MAX), DateTime::default());
    }
}
