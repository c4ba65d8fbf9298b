//! Which level each coding runs at, and the compression itself.
//!
//! Measured on the machine this was written on (2 shared cores; the command-line `gzip`,
//! `zstd` and `brotli`, which share their encoders' algorithms with the crates used here),
//! CPU seconds (user + system) to compress source text, and the output's size:
//!
//! | level     | 1 MiB   | 8 MiB   | 8 MiB out | 32 MiB  |
//! |-----------|---------|---------|-----------|---------|
//! | gzip 1    | 0.012 s | 0.089 s | 1.83 MB   | 0.43 s  |
//! | gzip 6    | 0.027 s | 0.21 s  | 1.47 MB   | 0.91 s  |
//! | gzip 9    | 0.081 s | 0.60 s  | 1.45 MB   |         |
//! | zstd 3    | 0.010 s | 0.043 s | 1.04 MB   | 0.14 s  |
//! | zstd 9    | 0.032 s | 0.15 s  | 0.86 MB   | 0.40 s  |
//! | zstd 15   | 0.18 s  | 0.93 s  | 0.83 MB   |         |
//! | zstd 19   | 0.71 s  | 3.3 s   | 0.76 MB   |         |
//! | brotli 4  | 0.016 s | 0.13 s  | 0.97 MB   | 0.33 s  |
//! | brotli 6  | 0.027 s | 0.21 s  | 0.86 MB   | 0.54 s  |
//! | brotli 9  | 0.086 s | 0.46 s  | 0.82 MB   |         |
//! | brotli 11 | 1.6 s   | 10 s    | 0.73 MB   |         |
//!
//! The best levels (gzip 9, zstd 19, brotli 11) cost up to 1.6 s for 1 MiB and grow with
//! size: 10 s for 8 MiB at brotli 11. So levels fall with size ([`best`]), keeping every
//! compression within about what brotli 11 costs for 1 MiB, whatever the size:
//!
//! - up to 1 MiB: gzip 9, zstd 19, brotli 11 (at most 1.6 s, at 1 MiB);
//! - up to 4 MiB: gzip 9, zstd 15, brotli 9 (at most about 0.5 s, at 4 MiB);
//! - past 4 MiB: gzip 6, zstd 9, brotli 6 (about 30 ms per MiB: 0.9 s at the 32 MiB
//!   maximum), within 17% of the best sizes (1 to 2% for gzip).
//!
//! The fast levels ([`FAST`]: gzip 1, zstd 3, brotli 4) run at 80 to 230 MB/s: 128 KiB in
//! at most 1.7 ms (gzip 1), the bound under which the first response is compressed on the
//! request's own thread.

use crate::handlers::files::coding::ContentCoding;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};

/// Which of a variant's two versions: made fast for the first clients, or the best one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// At the fast level ([`FAST`]).
    Fast,
    /// At the best level the file's size affords ([`best`]).
    Best,
}

/// A level for each coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Levels {
    br: u8,
    zstd: u8,
    gzip: u8,
}

impl Levels {
    /// The level of `coding`.
    const fn of(self, coding: ContentCoding) -> u8 {
        match coding {
            ContentCoding::Br => self.br,
            ContentCoding::Zstd => self.zstd,
            ContentCoding::Gzip => self.gzip,
        }
    }
}

/// The fast levels: brotli 4, zstd 3, gzip 1.
const FAST: Levels = Levels {
    br: 4,
    zstd: 3,
    gzip: 1,
};

/// The best levels by size: each row applies up to its size (inclusive).
const BEST: [(u64, Levels); 3] = [
    (
        1024 * 1024,
        Levels {
            br: 11,
            zstd: 19,
            gzip: 9,
        },
    ),
    (
        4 * 1024 * 1024,
        Levels {
            br: 9,
            zstd: 15,
            gzip: 9,
        },
    ),
    (
        u64::MAX,
        Levels {
            br: 6,
            zstd: 9,
            gzip: 6,
        },
    ),
];

/// The level of `coding` for `len` bytes at `pass`.
pub fn level(coding: ContentCoding, len: u64, pass: Pass) -> u8 {
    let levels = match pass {
        Pass::Fast => FAST,
        Pass::Best => best(len),
    };
    levels.of(coding)
}

/// The best levels for `len` bytes: the first row of [`BEST`] that covers the size.
fn best(len: u64) -> Levels {
    BEST.iter()
        .find(|(up_to, _)| len <= *up_to)
        .map_or(BEST[BEST.len() - 1].1, |(_, levels)| *levels)
}

/// How much of the file is read and compressed at a time, between checks of `stop` (and
/// between the chunks of a streamed response).
pub const CHUNK: usize = 64 * 1024;

/// The `len` bytes of `file`, compressed into `coding` at `level`, read [`CHUNK`] bytes at a
/// time; given up (an error of kind `Interrupted`) as soon as `stop` is set. The same input,
/// coding and level always give the same bytes, which a strong entity-tag needs; a streamed
/// response ([`super::stream`]) makes them the same way, step by step, so it sends the same
/// bytes too.
pub fn compress(
    file: &File,
    len: u64,
    coding: ContentCoding,
    level: u8,
    stop: &AtomicBool,
) -> io::Result<Vec<u8>> {
    let capacity = usize::try_from(len / 3).map_err(io::Error::other)?;
    let mut encoder = Encoder::new(coding, level, len, Vec::with_capacity(capacity))?;
    let mut chunk = Vec::new();
    let mut offset = 0;
    while offset < len {
        if stop.load(Ordering::Relaxed) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, "stopped"));
        }
        offset = encoder.feed(file, offset, len, &mut chunk)?;
    }
    encoder.finish()
}

/// An encoder of one coding at one level, writing into a buffer its user may empty between
/// writes (what it writes does not depend on that).
pub enum Encoder {
    /// brotli, with a 4 MiB window.
    Br(Box<brotli::CompressorWriter<Vec<u8>>>),
    /// zstd, told the input's length (it goes in the frame's header).
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
    /// gzip.
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
}

impl Encoder {
    /// An encoder of the `len` bytes of input into `coding` at `level`, writing into
    /// `output`.
    pub fn new(coding: ContentCoding, level: u8, len: u64, output: Vec<u8>) -> io::Result<Encoder> {
        Ok(match coding {
            ContentCoding::Br => Encoder::Br(Box::new(brotli::CompressorWriter::new(
                output,
                CHUNK,
                u32::from(level),
                22,
            ))),
            ContentCoding::Zstd => {
                let mut encoder = zstd::stream::write::Encoder::new(output, i32::from(level))?;
                encoder.set_pledged_src_size(Some(len))?;
                Encoder::Zstd(encoder)
            }
            ContentCoding::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                output,
                flate2::Compression::new(u32::from(level)),
            )),
        })
    }

    /// Reads the next [`CHUNK`] (or less, up to `len`) of `file` from `offset` into `chunk`
    /// and compresses it; returns the offset after it. A file that ended before `len` (it
    /// shrank) is an error.
    pub fn feed(
        &mut self,
        file: &File,
        offset: u64,
        len: u64,
        chunk: &mut Vec<u8>,
    ) -> io::Result<u64> {
        let n = usize::try_from(len.saturating_sub(offset).min(CHUNK as u64)).unwrap_or(CHUNK);
        chunk.resize(n, 0);
        file.read_exact_at(chunk, offset)?;
        match self {
            Encoder::Br(writer) => writer.write_all(chunk)?,
            Encoder::Zstd(encoder) => encoder.write_all(chunk)?,
            Encoder::Gzip(encoder) => encoder.write_all(chunk)?,
        }
        Ok(offset + n as u64)
    }

    /// The bytes written so far and not taken.
    pub fn output(&mut self) -> &mut Vec<u8> {
        match self {
            Encoder::Br(writer) => writer.get_mut(),
            Encoder::Zstd(encoder) => encoder.get_mut(),
            Encoder::Gzip(encoder) => encoder.get_mut(),
        }
    }

    /// Ends the compressed stream; returns the output with its last bytes.
    pub fn finish(self) -> io::Result<Vec<u8>> {
        match self {
            Encoder::Br(mut writer) => {
                writer.flush()?;
                Ok(writer.into_inner())
            }
            Encoder::Zstd(encoder) => encoder.finish(),
            Encoder::Gzip(encoder) => encoder.finish(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn the_best_levels_fall_with_size_and_the_fast_ones_do_not() {
        let at = |len| ContentCoding::ALL.map(|coding| level(coding, len, Pass::Best));
        assert_eq!(at(1024), [11, 19, 9]);
        assert_eq!(at(MIB), [11, 19, 9]);
        assert_eq!(at(MIB + 1), [9, 15, 9]);
        assert_eq!(at(4 * MIB), [9, 15, 9]);
        assert_eq!(at(4 * MIB + 1), [6, 9, 6]);
        assert_eq!(at(32 * MIB), [6, 9, 6]);
        for len in [1024, MIB, 32 * MIB] {
            assert_eq!(
                ContentCoding::ALL.map(|coding| level(coding, len, Pass::Fast)),
                [4, 3, 1]
            );
        }
        // Never higher for a larger file.
        for coding in ContentCoding::ALL {
            let levels: Vec<u8> = [1, MIB, MIB + 1, 4 * MIB, 5 * MIB, 32 * MIB]
                .map(|len| level(coding, len, Pass::Best))
                .to_vec();
            assert!(levels.windows(2).all(|w| w[0] >= w[1]), "{levels:?}");
        }
    }

    #[test]
    fn each_coding_and_level_decodes_to_the_input_and_is_repeatable() {
        // Larger than a chunk, so that the input goes in several writes.
        let text = "nomserve compresses each file version once. ".repeat(4000);
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        let len = text.len() as u64;
        let stop = AtomicBool::new(false);
        for coding in ContentCoding::ALL {
            let name = coding.name();
            for pass in [Pass::Fast, Pass::Best] {
                let level = level(coding, len, pass);
                let bytes = compress(&file, len, coding, level, &stop).unwrap();
                assert!(bytes.len() < text.len() / 10, "{name} {level}");
                assert_eq!(
                    compress(&file, len, coding, level, &stop).unwrap(),
                    bytes,
                    "{name} {level}"
                );
                let mut out = Vec::new();
                match name {
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
                assert_eq!(out, text.as_bytes(), "{name} {level}");
            }
        }
    }

    #[test]
    fn a_stop_gives_up() {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&[b'a'; 4096]).unwrap();
        let error =
            compress(&file, 4096, ContentCoding::Gzip, 9, &AtomicBool::new(true)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::Interrupted);
    }
}
