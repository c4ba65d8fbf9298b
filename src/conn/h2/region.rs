//! A DATA frame's file payload handed to the transport as a region of the file
//! ([`Item::File`]) instead of read into the output. The transports copy the output into a
//! staging buffer of their own (TLS: one record's plaintext; in the clear: several frames
//! for one `send`): a region is read from the file straight into it (with `pread`; in the
//! clear, one `preadv` for a stream's consecutive frames), one copy where reading it into
//! the output first made two (and zero-filled the room before each read).
//!
//! With a region pending, the output is three parts, written in this order: the bytes up
//! to the region (ending with its DATA frame's header), the region, and the bytes queued
//! after it. At most one region is pending: no more DATA is made until the transport has
//! taken it ([`H2Conn::fill`]). Frames queued meanwhile (acknowledgements, resets, response
//! heads) go after it, that is after the whole DATA frame: a frame's header is followed by
//! exactly the payload its length announces (RFC 9113 §4.1), and header blocks stay
//! contiguous (§4.3), since nothing is queued inside the bytes after the region.

use super::H2Conn;
use crate::http::output::Item;
use nomserve_grammar::FRAME_HEADER_LEN;
use std::fs::File;
use std::sync::Arc;

/// The most file payload a DATA frame carries as a region: with its 9-byte header it fills
/// one TLS record's plaintext (16 KiB, RFC 8446 §5.1), so the transport, which encrypts as
/// soon as a file read fills its staging buffer, makes one record per frame and no record
/// of a header alone.
pub const REGION_PAYLOAD: usize = 16 * 1024 - FRAME_HEADER_LEN;

/// A pending region: `len` bytes of `file` from `offset`, which go on the wire where
/// `out[at]` is, after the bytes before it and before the bytes from `at` on.
#[derive(Debug)]
pub(super) struct Region {
    pub(super) at: usize,
    pub(super) file: Arc<File>,
    pub(super) offset: u64,
    pub(super) len: u64,
}

impl H2Conn {
    /// What the transport writes next: the bytes up to the pending region (`more`: the
    /// region follows at once), the region, or, with none pending, the bytes queued.
    pub(super) fn next_output(&self) -> Item<'_> {
        match &self.region {
            Some(region) if self.out_pos < region.at => Item::Bytes {
                bytes: self.out.get(self.out_pos..region.at).unwrap_or_default(),
                more: true,
            },
            Some(region) => Item::File {
                file: &region.file,
                offset: region.offset,
                len: region.len,
            },
            None => Item::Bytes {
                bytes: self.out.get(self.out_pos..).unwrap_or_default(),
                more: false,
            },
        }
    }

    /// Moves the output on by `n` bytes taken (a prefix of what [`H2Conn::next_output`]
    /// gave): through the bytes before the region, the region, then the bytes after it. A
    /// region taken in full is over, and DATA can be made again.
    pub(super) fn advance_output(&mut self, mut n: usize) {
        if let Some(region) = &mut self.region {
            let before = n.min(region.at - self.out_pos);
            self.out_pos += before;
            n -= before;
            if self.out_pos == region.at {
                let from_file = region.len.min(n as u64);
                region.offset += from_file;
                region.len -= from_file;
                n -= from_file as usize;
                if region.len == 0 {
                    self.region = None;
                }
            }
        }
        self.out_pos = (self.out_pos + n).min(self.out.len());
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            // A region still pending sat at the end of the bytes written.
            if let Some(region) = &mut self.region {
                region.at = 0;
            }
        }
    }
}
