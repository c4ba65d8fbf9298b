//! The tar framing of an archive (POSIX.1-1988 ustar blocks with GNU extensions, as GNU tar
//! and Python's `tarfile` read them): each member is a 512-byte header, its content, and
//! zeros to the next 512-byte boundary; two zero blocks end the archive.
//!
//! Written by hand around [`tar::Header`] rather than through `tar::Builder`, whose
//! `append` copies a whole member from a reader at once: here a member's content is given a
//! piece at a time, as the client takes the archive, so the header, each piece and the
//! padding are separate writes.

use std::io::{self, Write};
use tar::{EntryType, Header};

/// The size of a tar block: headers and padded content come in these.
const BLOCK: usize = 512;

/// The end of an archive: two blocks of zeros.
pub(super) const END: [u8; 2 * BLOCK] = [0; 2 * BLOCK];

/// The longest name a header's own `name` field holds; a longer one goes before it in a
/// GNU long-name member (type `L`, named `././@LongLink`), as GNU tar writes it.
const NAME_FIELD: usize = 100;

/// What a member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A folder: its name ends with `/`, and it has no content.
    Dir,
    /// A regular file of this many bytes.
    File(u64),
}

/// Writes to `out` the header (or headers, for a long name) of the member `name` (its path
/// in the archive, any bytes but NUL), of `kind`, with permissions `mode` and modification
/// time `mtime` (seconds since the Unix epoch; a time before it is written as the epoch).
pub(super) fn header(
    out: &mut dyn Write,
    name: &[u8],
    kind: Kind,
    mode: u32,
    mtime: i64,
) -> io::Result<()> {
    if name.len() > NAME_FIELD {
        let mut long = Header::new_gnu();
        set_name(&mut long, b"././@LongLink");
        long.set_entry_type(EntryType::GNULongName);
        long.set_mode(0o644);
        // The name and its terminating NUL.
        long.set_size(name.len() as u64 + 1);
        long.set_cksum();
        out.write_all(long.as_bytes())?;
        out.write_all(name)?;
        out.write_all(&[0])?;
        out.write_all(padding(name.len() as u64 + 1))?;
    }
    let mut header = Header::new_gnu();
    set_name(&mut header, &name[..name.len().min(NAME_FIELD)]);
    let (entry_type, size) = match kind {
        Kind::Dir => (EntryType::Directory, 0),
        Kind::File(len) => (EntryType::Regular, len),
    };
    header.set_entry_type(entry_type);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(u64::try_from(mtime).unwrap_or(0));
    header.set_cksum();
    out.write_all(header.as_bytes())
}

/// Puts `name` (at most [`NAME_FIELD`] bytes) in the header's `name` field, NUL-padded.
fn set_name(header: &mut Header, name: &[u8]) {
    let field = &mut header.as_old_mut().name;
    field.fill(0);
    field[..name.len()].copy_from_slice(name);
}

/// The zeros that follow `len` bytes of content to the next block boundary.
pub(super) fn padding(len: u64) -> &'static [u8] {
    const ZEROS: [u8; BLOCK] = [0; BLOCK];
    let rest = (len % BLOCK as u64) as usize;
    &ZEROS[..(BLOCK - rest) % BLOCK]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A file member's header, content and padding.
    fn member(out: &mut Vec<u8>, name: &[u8], content: &[u8]) {
        header(
            out,
            name,
            Kind::File(content.len() as u64),
            0o644,
            1_700_000_000,
        )
        .unwrap();
        out.extend_from_slice(content);
        out.extend_from_slice(padding(content.len() as u64));
    }

    #[test]
    fn members_read_back_with_their_names_sizes_and_times() {
        let long: Vec<u8> = b"deep/".repeat(30).into_iter().chain(*b"file").collect();
        let mut out = Vec::new();
        header(&mut out, b"dir/", Kind::Dir, 0o755, 1_600_000_000).unwrap();
        member(&mut out, b"dir/a.txt", b"hello");
        member(&mut out, "dir/caf\u{e9}".as_bytes(), &[7; 512]);
        member(&mut out, &long, b"");
        member(&mut out, b"bytes\xff", b"x");
        out.extend_from_slice(&END);
        assert_eq!(out.len() % BLOCK, 0);

        let mut archive = tar::Archive::new(&out[..]);
        let mut read = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path_bytes().into_owned();
            let kind = entry.header().entry_type();
            let mtime = entry.header().mtime().unwrap();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            read.push((name, kind, mtime, content));
        }
        assert_eq!(read.len(), 5);
        assert_eq!(read[0].0, b"dir/");
        assert_eq!(read[0].1, EntryType::Directory);
        assert_eq!(read[0].2, 1_600_000_000);
        assert_eq!(
            (&read[1].0[..], &read[1].3[..]),
            (&b"dir/a.txt"[..], &b"hello"[..])
        );
        assert_eq!(read[2].3, [7; 512]);
        assert_eq!(read[3].0, long, "a long name comes back whole");
        assert_eq!(read[4].0, b"bytes\xff");
    }

    proptest::proptest! {
        /// Any name (bytes without NUL, short or long) and content come back as written.
        #[test]
        fn any_member_round_trips(
            name in proptest::collection::vec(1u8..=255, 1..300),
            content in proptest::collection::vec(proptest::num::u8::ANY, 0..1500),
        ) {
            let mut out = Vec::new();
            member(&mut out, &name, &content);
            out.extend_from_slice(&END);
            let mut archive = tar::Archive::new(&out[..]);
            let mut entries = archive.entries().unwrap();
            let mut entry = entries.next().unwrap().unwrap();
            proptest::prop_assert_eq!(&entry.path_bytes()[..], &name[..]);
            let mut read = Vec::new();
            entry.read_to_end(&mut read).unwrap();
            proptest::prop_assert_eq!(read, content);
            drop(entry);
            proptest::prop_assert!(entries.next().is_none());
        }
    }

    #[test]
    fn padding_reaches_the_next_block() {
        assert_eq!(padding(0).len(), 0);
        assert_eq!(padding(1).len(), 511);
        assert_eq!(padding(512).len(), 0);
        assert_eq!(padding(513).len(), 511);
        assert_eq!(padding(3 << 30).len(), 0);
    }

    #[test]
    fn a_time_before_the_epoch_is_the_epoch() {
        let mut out = Vec::new();
        header(&mut out, b"old", Kind::File(0), 0o644, -5).unwrap();
        let header = Header::from_byte_slice(&out);
        assert_eq!(header.mtime().unwrap(), 0);
        assert_eq!(header.size().unwrap(), 0);
    }
}
