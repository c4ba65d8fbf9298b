//! The content codings the file handler sends (RFC 9110 §8.4.1): Brotli (`br`, RFC 7932),
//! Zstandard (`zstd`, RFC 8878) and gzip (`gzip`, RFC 9110 §8.4.1.3), each with its name,
//! its precompressed file's suffix and the Accept-Encoding tokens that ask for it; and
//! [`PerCoding`], one value for each.

use std::ops::{Index, IndexMut};

/// A content coding the server sends, precompressed on disk or made on the fly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentCoding {
    Br,
    Zstd,
    Gzip,
}

impl ContentCoding {
    /// Every coding, in the server's order of preference when the client weighs them
    /// equally: Brotli compresses text best, then Zstandard, then gzip, which every client
    /// has. Also the order `--compress` lists them in.
    pub const ALL: [ContentCoding; 3] =
        [ContentCoding::Br, ContentCoding::Zstd, ContentCoding::Gzip];

    /// Its place in [`ContentCoding::ALL`], where [`PerCoding`] keeps its value.
    pub const fn index(self) -> usize {
        match self {
            ContentCoding::Br => 0,
            ContentCoding::Zstd => 1,
            ContentCoding::Gzip => 2,
        }
    }

    /// Its content-coding name, as sent in Content-Encoding and written in `--compress`.
    pub const fn name(self) -> &'static str {
        match self {
            ContentCoding::Br => "br",
            ContentCoding::Zstd => "zstd",
            ContentCoding::Gzip => "gzip",
        }
    }

    /// What its precompressed variant's file name adds to the original's.
    pub const fn suffix(self) -> &'static str {
        match self {
            ContentCoding::Br => ".br",
            ContentCoding::Zstd => ".zst",
            ContentCoding::Gzip => ".gz",
        }
    }

    /// The Accept-Encoding tokens that ask for it, its name first: `x-gzip` stands for
    /// `gzip` (RFC 9110 §8.4.1.3: "A recipient SHOULD consider "x-gzip" to be equivalent to
    /// "gzip"").
    pub const fn tokens(self) -> &'static [&'static str] {
        match self {
            ContentCoding::Br => &["br"],
            ContentCoding::Zstd => &["zstd"],
            ContentCoding::Gzip => &["gzip", "x-gzip"],
        }
    }

    /// What the entity-tag of its fast version ends with: its name and `-fast`, so that the
    /// fast and the best version's tags differ (RFC 9110 §8.8.3).
    pub const fn fast_label(self) -> &'static str {
        match self {
            ContentCoding::Br => "br-fast",
            ContentCoding::Zstd => "zstd-fast",
            ContentCoding::Gzip => "gzip-fast",
        }
    }

    /// The coding named `name` (exactly, as `--compress` writes it).
    pub fn named(name: &str) -> Option<ContentCoding> {
        ContentCoding::ALL
            .into_iter()
            .find(|coding| coding.name() == name)
    }
}

/// One value for each content coding, indexed by the coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PerCoding<T>([T; 3]);

impl<T> PerCoding<T> {
    /// The value `f` gives each coding.
    pub fn from_fn(mut f: impl FnMut(ContentCoding) -> T) -> PerCoding<T> {
        PerCoding(ContentCoding::ALL.map(&mut f))
    }

    /// Each coding with its value, in [`ContentCoding::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (ContentCoding, &T)> {
        ContentCoding::ALL.into_iter().zip(&self.0)
    }

    /// Each coding with its value, mutable, in [`ContentCoding::ALL`] order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (ContentCoding, &mut T)> {
        ContentCoding::ALL.into_iter().zip(&mut self.0)
    }

    /// The value of each coding mapped by `f`.
    pub fn map<U>(&self, mut f: impl FnMut(ContentCoding, &T) -> U) -> PerCoding<U> {
        PerCoding::from_fn(|coding| f(coding, &self[coding]))
    }
}

impl PerCoding<bool> {
    /// Whether any coding's value is true.
    pub fn any(&self) -> bool {
        self.0.contains(&true)
    }

    /// The codings whose value is true, in [`ContentCoding::ALL`] order.
    pub fn chosen(&self) -> impl Iterator<Item = ContentCoding> + '_ {
        self.iter().filter(|&(_, &on)| on).map(|(coding, _)| coding)
    }
}

impl<T> Index<ContentCoding> for PerCoding<T> {
    type Output = T;

    fn index(&self, coding: ContentCoding) -> &T {
        &self.0[coding.index()]
    }
}

impl<T> IndexMut<ContentCoding> for PerCoding<T> {
    fn index_mut(&mut self, coding: ContentCoding) -> &mut T {
        &mut self.0[coding.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_coding_has_its_place_name_suffix_and_tokens() {
        for (i, coding) in ContentCoding::ALL.into_iter().enumerate() {
            assert_eq!(coding.index(), i);
            assert_eq!(ContentCoding::named(coding.name()), Some(coding));
            assert_eq!(coding.tokens()[0], coding.name());
            assert_eq!(coding.fast_label(), format!("{}-fast", coding.name()));
        }
        let table: Vec<_> = ContentCoding::ALL.map(|c| (c.name(), c.suffix())).to_vec();
        assert_eq!(table, [("br", ".br"), ("zstd", ".zst"), ("gzip", ".gz")]);
        assert_eq!(ContentCoding::Gzip.tokens(), ["gzip", "x-gzip"]);
        assert_eq!(ContentCoding::named("deflate"), None);
        assert_eq!(ContentCoding::named(" gzip"), None);
    }

    #[test]
    fn per_coding_values_are_found_by_their_coding() {
        let mut on = PerCoding::from_fn(|coding| coding == ContentCoding::Zstd);
        assert!(on[ContentCoding::Zstd] && !on[ContentCoding::Br] && on.any());
        on[ContentCoding::Gzip] = true;
        assert_eq!(
            on.chosen().collect::<Vec<_>>(),
            [ContentCoding::Zstd, ContentCoding::Gzip]
        );
        let names = on.map(|coding, &on| on.then_some(coding.name()));
        assert_eq!(names[ContentCoding::Gzip], Some("gzip"));
        assert_eq!(names[ContentCoding::Br], None);
        assert!(!PerCoding::<bool>::default().any());
        for (coding, value) in on.iter_mut() {
            *value = coding == ContentCoding::Br;
        }
        assert_eq!(on.chosen().collect::<Vec<_>>(), [ContentCoding::Br]);
    }
}
