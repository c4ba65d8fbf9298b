//! A listing prepared once, rendered per request: each row's HTML and JSON are made when the
//! directory is read, with the three sort orders; a request only picks an order and a page
//! and joins the rows. A request may see only some of them (the auth areas'
//! [`shown`](super::shown)): the pages, their links and the counts are then of those.

use super::super::map::encode_segment;
use super::{Entry, MAX_ENTRIES, PAGE_SIZE, Sort, View};
use crate::http::{html, json};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// The style of the page: light, and dark when the reader's system prefers it
/// (`prefers-color-scheme`, Media Queries Level 5 §11.5). Inline, as the page's
/// Content-Security-Policy allows styles only there.
///
/// Names wrap where [`breakable`] put a `<wbr>`, between their words; `overflow-wrap:
/// anywhere` only breaks a single word wider than the whole column, which would otherwise
/// push the page sideways. The name column gets what the size and date leave: on a screen
/// narrower than 600 px (a phone), where that would be a few characters, each row becomes a
/// grid with the name across the width and the date and size on a line below it, and the
/// column headers a row of sort links.
const STYLE: &str = "\
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--link:#0969da;\
--line:#d1d9e0;--hover:#f6f8fa}\
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;\
--link:#4493f8;--line:#30363d;--hover:#151b23}}\
body{margin:0;padding:1.5em 2em;background:var(--bg);color:var(--fg);\
font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",sans-serif}\
h1{font-size:1.25em;font-weight:600;margin:0 0 1em;overflow-wrap:anywhere}\
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}\
table{border-collapse:collapse;width:100%;max-width:64em}\
th,td{padding:.3em .8em;text-align:left;border-bottom:1px solid var(--line)}\
th a{color:var(--fg)}td:first-child{word-break:normal;overflow-wrap:anywhere}\
.size{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}\
.time{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}\
tbody tr:hover td{background:var(--hover)}tr.dir a{font-weight:600}\
p,nav.pages{color:var(--muted)}nav.pages a,nav.pages strong{margin:0 .3em}\
p.archives a{margin:0 .2em;font-weight:600}\
.readme{max-width:64em;margin-top:1.5em;border-top:1px solid var(--line)}\
.readme p,.readme li{color:var(--fg)}.readme img{max-width:100%}\
.readme pre{overflow-x:auto;padding:.8em;background:var(--hover)}\
@media (max-width:600px){body{padding:1em}table,tbody{display:block}\
thead{display:block;border-bottom:1px solid var(--line)}\
thead tr{display:flex;flex-wrap:wrap;gap:0 1.2em}th{border:0;padding:.3em 0}\
tbody tr{display:grid;grid-template-columns:minmax(0,1fr) auto;column-gap:1em;\
padding:.4em 0;border-bottom:1px solid var(--line)}td{border:0;padding:0}\
td:first-child{grid-column:1/-1}td.time{grid-row:2;grid-column:1;font-size:.85em}\
td.size{grid-row:2;grid-column:2;font-size:.85em;color:var(--muted)}td:empty{display:none}\
tbody tr:hover{background:var(--hover)}}";

/// A directory's listing, ready to render.
#[derive(Debug)]
pub(in crate::handlers::files) struct Listing {
    /// The entries as read, in the order of `rows`.
    entries: Vec<Entry>,
    rows: Vec<Row>,
    /// The rows' indices sorted by each column of [`Sort::ALL`], ascending, directories
    /// first.
    orders: [Vec<u32>; 3],
    /// How many rows are directories (they lead every order).
    dirs: usize,
    /// The names left out because no request could carry them: only counted on the page.
    unwritable: Vec<Vec<u8>>,
    /// The directory holds more than [`MAX_ENTRIES`] entries that could be listed.
    truncated: bool,
}

/// One entry, rendered.
#[derive(Debug)]
struct Row {
    /// The table row of the page.
    html: String,
    /// The object of the JSON array.
    json: String,
}

impl Listing {
    /// Prepares `entries`: each row rendered with times in the server's local time zone
    /// (the `TZ` variable, else `/etc/localtime`), and the three orders sorted.
    pub(super) fn new(entries: Vec<Entry>, truncated: bool) -> Listing {
        let tz = TimeZone::system();
        let keys: Vec<String> = entries
            .iter()
            .map(|e| String::from_utf8_lossy(&e.name).to_lowercase())
            .collect();
        let by_name = |a: usize, b: usize| {
            natural(&keys[a], &keys[b]).then_with(|| entries[a].name.cmp(&entries[b].name))
        };
        let orders = Sort::ALL.map(|sort| {
            let mut order: Vec<u32> = (0..entries.len() as u32).collect();
            order.sort_by(|&a, &b| {
                let (a, b) = (a as usize, b as usize);
                let (x, y) = (&entries[a], &entries[b]);
                let column = match sort {
                    Sort::Name => Ordering::Equal,
                    Sort::Size => x.size.cmp(&y.size),
                    Sort::Modified => x.modified.cmp(&y.modified),
                };
                y.is_dir
                    .cmp(&x.is_dir)
                    .then(column)
                    .then_with(|| by_name(a, b))
            });
            order
        });
        let dirs = entries.iter().filter(|e| e.is_dir).count();
        let rows = entries.iter().map(|e| Row::new(e, &tz)).collect();
        Listing {
            entries,
            rows,
            orders,
            dirs,
            unwritable: Vec::new(),
            truncated,
        }
    }

    /// The listing with `names`, names left out because no request could carry them: the
    /// page says how many of them the client is shown.
    pub(super) fn with_unwritable(self, names: Vec<Vec<u8>>) -> Listing {
        Listing {
            unwritable: names,
            ..self
        }
    }

    /// How many entries are kept: those listed and the unwritable names.
    pub(super) fn len(&self) -> usize {
        self.rows.len() + self.unwritable.len()
    }

    /// The names left out because no request could carry them.
    pub(super) fn unwritable(&self) -> &[Vec<u8>] {
        &self.unwritable
    }

    /// The entries, in the order [`Listing::new`] was given them.
    pub(super) fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// How many of the directories and of the files are `shown` (all, when it is `None`;
    /// else those whose index it marks).
    fn counts(&self, shown: Option<&[bool]>) -> (usize, usize) {
        let Some(shown) = shown else {
            return (self.dirs, self.rows.len() - self.dirs);
        };
        let mut counts = (0, 0);
        for (entry, _) in self.entries.iter().zip(shown).filter(|(_, shown)| **shown) {
            if entry.is_dir {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
        counts
    }

    /// How many pages the `shown` entries take (at least one).
    pub(super) fn pages(&self, shown: Option<&[bool]>) -> usize {
        let (dirs, files) = self.counts(shown);
        (dirs + files).div_ceil(PAGE_SIZE).max(1)
    }

    /// The `shown` rows of `view`'s page, in its order: directories first, each group
    /// ascending or descending by the column.
    fn page(&self, view: View, shown: Option<&[bool]>) -> impl Iterator<Item = &Row> {
        let order = match view.sort {
            Sort::Name => &self.orders[0],
            Sort::Size => &self.orders[1],
            Sort::Modified => &self.orders[2],
        };
        let (dirs, files) = order.split_at(self.dirs);
        let ordered: Vec<u32> = if view.descending {
            dirs.iter()
                .rev()
                .chain(files.iter().rev())
                .copied()
                .collect()
        } else {
            order.clone()
        };
        ordered
            .into_iter()
            .filter(move |&i| shown.is_none_or(|shown| shown.get(i as usize) == Some(&true)))
            .skip(view.page * PAGE_SIZE)
            .take(PAGE_SIZE)
            .map(|i| &self.rows[i as usize])
    }

    /// The entries of `view`'s page as a JSON array (RFC 8259): one object per entry with
    /// `name` (a name that is not UTF-8 has U+FFFD for its invalid bytes), `type` (`"dir"`
    /// or `"file"`), `size` (bytes; 0 for a directory) and `modified` (RFC 3339, UTC).
    pub(super) fn json(&self, view: View, shown: Option<&[bool]>) -> String {
        let mut out = String::from("[");
        for (i, row) in self.page(view, shown).enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push_str(&row.json);
        }
        out.push_str("\n]\n");
        out
    }

    /// The page for the directory whose decoded path has `segments`, showing `view` of the
    /// `shown` entries.
    ///
    /// The heading is the path as breadcrumbs: every ancestor a link (absolute, each segment
    /// percent-encoded). The column headers are links that sort by their column (the
    /// current one's reversing its order), so sorting needs no script. Each row links to its
    /// entry by a relative reference of one percent-encoded segment (`/` after a
    /// directory), shows a file's size in binary units with the exact bytes in its `title`,
    /// and the modification time in the server's local time, machine-readable in its
    /// `<time datetime>` (UTC). A row `../` leads up, except at the root. Below the table,
    /// the counts, and how many of the names no request could carry the client is `shown`
    /// (they follow the entries in `shown`), so that no name is left out silently.
    pub(super) fn html(&self, segments: &[&[u8]], view: View, shown: Option<&[bool]>) -> String {
        let mut title = String::from("/");
        for segment in segments {
            html::escape(&String::from_utf8_lossy(segment), &mut title);
            title.push('/');
        }
        let mut page = String::with_capacity(2048 + self.rows.len().min(PAGE_SIZE) * 200);
        page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        page.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
        let _ = writeln!(page, "<title>Index of {title}</title>");
        let _ = writeln!(page, "<style>{STYLE}</style>");
        page.push_str("</head>\n<body>\n<h1>Index of ");
        breadcrumbs(segments, &mut page);
        page.push_str("</h1>\n<table>\n<thead><tr>");
        for (sort, label) in Sort::ALL.into_iter().zip(["Name", "Size", "Modified"]) {
            let current = sort == view.sort;
            let target = View {
                sort,
                descending: current && !view.descending,
                page: 0,
            };
            let class = if sort == Sort::Size {
                " class=\"size\""
            } else {
                ""
            };
            let (aria, arrow) = match (current, view.descending) {
                (false, _) => ("", ""),
                (true, false) => (" aria-sort=\"ascending\"", " \u{25b2}"),
                (true, true) => (" aria-sort=\"descending\"", " \u{25bc}"),
            };
            let mut href = String::new();
            html::escape(&target.query(), &mut href);
            let _ = write!(
                page,
                "<th{class}{aria}><a href=\"?{href}\">{label}{arrow}</a></th>"
            );
        }
        page.push_str("</tr></thead>\n<tbody>\n");
        if !segments.is_empty() {
            page.push_str(
                "<tr class=\"dir\"><td><a href=\"../\">../</a></td><td class=\"size\"></td>\
                 <td class=\"time\"></td></tr>\n",
            );
        }
        for row in self.page(view, shown) {
            page.push_str(&row.html);
        }
        page.push_str("</tbody>\n</table>\n");
        let pages = self.pages(shown);
        if pages > 1 {
            self.page_links(view, pages, &mut page);
        }
        let (dirs, files) = self.counts(shown);
        let _ = writeln!(
            page,
            "<p>{} {}, {} {}</p>",
            dirs,
            if dirs == 1 { "folder" } else { "folders" },
            files,
            if files == 1 { "file" } else { "files" }
        );
        let unwritable = match shown {
            None => self.unwritable.len(),
            Some(shown) => shown
                .iter()
                .skip(self.entries.len())
                .filter(|shown| **shown)
                .count(),
        };
        if unwritable > 0 {
            let _ = writeln!(
                page,
                "<p>{unwritable} {} could not be written in a URL and {} not shown.</p>",
                if unwritable == 1 { "name" } else { "names" },
                if unwritable == 1 { "is" } else { "are" },
            );
        }
        if self.truncated {
            let _ = writeln!(
                page,
                "<p>Only the first {MAX_ENTRIES} entries are read; the rest are not listed.</p>"
            );
        }
        page.push_str("</body>\n</html>\n");
        page
    }

    /// The navigation between pages: the previous and next, and each page by number.
    fn page_links(&self, view: View, pages: usize, page: &mut String) {
        let link = |n: usize| {
            let mut href = String::new();
            html::escape(&View { page: n, ..view }.query(), &mut href);
            href
        };
        let _ = write!(
            page,
            "<nav class=\"pages\" aria-label=\"Pages\">Page {} of {pages}:",
            view.page + 1
        );
        if view.page > 0 {
            let _ = write!(
                page,
                " <a rel=\"prev\" href=\"?{}\">Previous</a>",
                link(view.page - 1)
            );
        }
        for n in 0..pages {
            if n == view.page {
                let _ = write!(page, " <strong aria-current=\"page\">{}</strong>", n + 1);
            } else {
                let _ = write!(page, " <a href=\"?{}\">{}</a>", link(n), n + 1);
            }
        }
        if view.page + 1 < pages {
            let _ = write!(
                page,
                " <a rel=\"next\" href=\"?{}\">Next</a>",
                link(view.page + 1)
            );
        }
        page.push_str("</nav>\n");
    }
}

impl Row {
    fn new(entry: &Entry, tz: &TimeZone) -> Row {
        let mut href = String::new();
        encode_segment(&entry.name, &mut href);
        let name = String::from_utf8_lossy(&entry.name);
        let mut text = String::new();
        breakable(&name, &mut text);
        let slash = if entry.is_dir { "/" } else { "" };
        let time = Timestamp::from_second(entry.modified).unwrap_or(Timestamp::UNIX_EPOCH);
        let zoned = time.to_zoned(tz.clone());
        let local = zoned.strftime("%Y-%m-%d %H:%M").to_string();
        let mut full = String::new();
        html::escape(
            &zoned.strftime("%Y-%m-%d %H:%M:%S %Z").to_string(),
            &mut full,
        );
        let size = if entry.is_dir {
            String::from("<td class=\"size\">\u{2014}</td>")
        } else {
            format!(
                "<td class=\"size\" title=\"{} bytes\">{}</td>",
                entry.size,
                human_size(entry.size)
            )
        };
        let html = format!(
            "<tr{}><td><a href=\"{href}{slash}\">{text}{slash}</a></td>{size}\
             <td class=\"time\"><time datetime=\"{time}\" title=\"{full}\">{local}</time></td></tr>\n",
            if entry.is_dir { " class=\"dir\"" } else { "" },
        );
        let mut json = String::from("{\"name\":");
        json::string(&mut json, name.as_bytes());
        let _ = write!(
            json,
            ",\"type\":\"{}\",\"size\":{},\"modified\":\"{time}\"}}",
            if entry.is_dir { "dir" } else { "file" },
            entry.size
        );
        Row { html, json }
    }
}

/// Appends `name` to `out`, HTML-escaped, with a `<wbr>` (a line break opportunity, HTML
/// §4.5.29) after each run of separators (`-`, `_`, `.`) between two words of it and between
/// a lowercase and an uppercase letter (camelCase): a long name then wraps between its words
/// rather than inside one. A leading or trailing separator (`.env`) gets none, and nor does
/// the last `.`, so that an extension stays with the word before it (`linux.tar.gz` wraps as
/// `linux.` and `tar.gz`, never leaves `gz` alone on a line).
fn breakable(name: &str, out: &mut String) {
    let separator = |c: char| matches!(c, '-' | '_' | '.');
    let extension = name.rfind('.');
    let mut word = false;
    let mut previous = None;
    let mut chars = name.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if previous.is_some_and(|p: char| p.is_lowercase() && c.is_uppercase()) {
            out.push_str("<wbr>");
        }
        html::escape(c.encode_utf8(&mut [0; 4]), out);
        let before_word = chars.peek().is_some_and(|&(_, next)| !separator(next));
        if separator(c) && word && before_word && Some(at) != extension {
            out.push_str("<wbr>");
        }
        word |= !separator(c);
        previous = Some(c);
    }
}

/// The breadcrumbs of the directory with `segments`: `/`, then each segment and `/`, every
/// ancestor a link to itself and the directory itself plain text. Each `/` ends with a `<wbr>`
/// and each segment is [`breakable`], so a long path wraps between its parts.
fn breadcrumbs(segments: &[&[u8]], out: &mut String) {
    if segments.is_empty() {
        out.push_str("<span aria-current=\"page\">/</span>");
        return;
    }
    out.push_str("<a href=\"/\">/</a><wbr>");
    let mut href = String::from("/");
    for (i, segment) in segments.iter().enumerate() {
        encode_segment(segment, &mut href);
        href.push('/');
        let mut text = String::new();
        breakable(&String::from_utf8_lossy(segment), &mut text);
        if i + 1 == segments.len() {
            let _ = write!(out, "<span aria-current=\"page\">{text}/</span>");
        } else {
            let _ = write!(out, "<a href=\"{href}\">{text}/</a><wbr>");
        }
    }
}

/// `bytes` in binary units, as people read sizes: `512 B`, `1.2 KiB`, `300 MiB` (one decimal
/// below 10, none from 10 up).
fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let digits = if value < 9.95 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    };
    // Rounding can reach the next unit: 1023.7 KiB reads as 1.0 MiB, not 1024 KiB.
    match UNITS.get(unit + 1) {
        Some(next) if digits == "1024" => format!("1.0 {next}"),
        _ => format!("{digits} {}", UNITS[unit]),
    }
}

/// Compares two names as people sort them: runs of ASCII digits by their value (`file2`
/// before `file10`; `01` and `1` equal), everything else by code point. The callers pass
/// names already lowercased, so the order is case-insensitive.
fn natural(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let split = |s: &[u8]| s.iter().take_while(|c| c.is_ascii_digit()).count();
                let (digits_a, rest_a) = a.split_at(split(a));
                let (digits_b, rest_b) = b.split_at(split(b));
                let (value_a, value_b) = (without_zeros(digits_a), without_zeros(digits_b));
                let ordering = value_a
                    .len()
                    .cmp(&value_b.len())
                    .then_with(|| value_a.cmp(value_b));
                if ordering != Ordering::Equal {
                    return ordering;
                }
                (a, b) = (rest_a, rest_b);
            }
            // UTF-8's byte order is its code points' order.
            (Some(x), Some(y)) if x != y => return x.cmp(y),
            (Some(_), Some(_)) => (a, b) = (&a[1..], &b[1..]),
        }
    }
}

/// `digits` without its leading zeros.
fn without_zeros(digits: &[u8]) -> &[u8] {
    let zeros = digits.iter().take_while(|&&c| c == b'0').count();
    &digits[zeros..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &[u8], is_dir: bool, size: u64, modified: i64) -> Entry {
        Entry {
            name: name.to_vec(),
            is_dir,
            size,
            modified,
            target: None,
        }
    }

    fn hrefs(page: &str) -> Vec<&str> {
        page.split("<td><a href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect()
    }

    const NAME: View = View {
        sort: Sort::Name,
        descending: false,
        page: 0,
    };

    #[test]
    fn natural_case_insensitive_order_with_directories_first() {
        let listing = Listing::new(
            vec![
                entry(b"file10", false, 1, 0),
                entry(b"Zebra.txt", false, 1, 0),
                entry(b"file2", false, 1, 0),
                entry(b"app.wasm", false, 1, 0),
                entry(b"zdir", true, 0, 0),
                entry(b"Adir", true, 0, 0),
            ],
            false,
        );
        let page = listing.html(&[b"x"], NAME, None);
        assert_eq!(
            hrefs(&page),
            [
                "../",
                "Adir/",
                "zdir/",
                "app.wasm",
                "file2",
                "file10",
                "Zebra.txt"
            ]
        );
        let down = listing.html(
            &[b"x"],
            View {
                descending: true,
                ..NAME
            },
            None,
        );
        assert_eq!(
            hrefs(&down),
            [
                "../",
                "zdir/",
                "Adir/",
                "Zebra.txt",
                "file10",
                "file2",
                "app.wasm"
            ]
        );
    }

    #[test]
    fn natural_compares_digit_runs_by_value() {
        for (a, b) in [
            ("file2", "file10"),
            ("a", "b"),
            ("a", "a1"),
            ("x9y", "x10a"),
            ("v1.2", "v1.10"),
            ("0099", "100"),
        ] {
            assert_eq!(natural(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(natural(b, a), Ordering::Greater, "{b} > {a}");
        }
        assert_eq!(natural("file01", "file1"), Ordering::Equal);
    }

    #[test]
    fn names_break_between_their_words() {
        let broken = |name: &str| {
            let mut out = String::new();
            breakable(name, &mut out);
            out
        };
        assert_eq!(
            broken("my-long_file.name.tar.gz"),
            "my-<wbr>long_<wbr>file.<wbr>name.<wbr>tar.gz"
        );
        assert_eq!(broken("readMe--Now"), "read<wbr>Me--<wbr>Now");
        assert_eq!(broken(".env"), ".env");
        assert_eq!(broken("..a.."), "..a..");
        assert_eq!(broken("x-"), "x-");
        assert_eq!(broken("<b>.&.x"), "&lt;b&gt;.<wbr>&amp;.x");
        assert_eq!(broken("a.txt"), "a.txt");
        assert_eq!(
            broken("caf\u{e9}.\u{c9}t\u{e9}.x"),
            "caf\u{e9}.<wbr>\u{c9}t\u{e9}.x"
        );
        assert_eq!(broken("HTTPServer"), "HTTPServer");
    }

    #[test]
    fn human_sizes() {
        for (bytes, text) in [
            (0, "0 B"),
            (1023, "1023 B"),
            (1024, "1.0 KiB"),
            (1536, "1.5 KiB"),
            (1_258_291, "1.2 MiB"),
            (314_572_800, "300 MiB"),
            (1024 * 1024 - 1, "1.0 MiB"),
            (10 * 1024 - 1, "10 KiB"),
            (u64::MAX, "16 EiB"),
        ] {
            assert_eq!(human_size(bytes), text, "{bytes}");
        }
    }

    #[test]
    fn rows_show_human_sizes_exact_bytes_and_times() {
        let listing = Listing::new(vec![entry(b"f", false, 1_258_291, 1_704_164_645)], false);
        let page = listing.html(&[], NAME, None);
        assert!(
            page.contains("<td class=\"size\" title=\"1258291 bytes\">1.2 MiB</td>"),
            "{page}"
        );
        assert!(
            page.contains("<time datetime=\"2024-01-02T03:04:05Z\""),
            "{page}"
        );
        assert!(!page.contains("../"));
        assert_eq!(
            listing.json(NAME, None),
            "[\n{\"name\":\"f\",\"type\":\"file\",\"size\":1258291,\
             \"modified\":\"2024-01-02T03:04:05Z\"}\n]\n"
        );
    }

    #[test]
    fn names_are_escaped_and_links_encoded() {
        let listing = Listing::new(
            vec![
                entry(b"<script>alert(1)</script>", false, 0, 0),
                entry(b"a \"b\" & 'c'", false, 0, 0),
                entry(b"javascript:alert(1)", false, 0, 0),
                entry(b"caf\xc3\xa9 100%", true, 0, 0),
                entry(b"bad\xff", false, 0, 0),
            ],
            false,
        );
        let page = listing.html(&[b"<i>", b"a b"], NAME, None);
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<i>"));
        assert!(page.contains(
            "href=\"%3Cscript%3Ealert%281%29%3C%2Fscript%3E\">&lt;script&gt;alert(1)&lt;/script&gt;</a>"
        ));
        assert!(page.contains(
            "href=\"a%20%22b%22%20%26%20%27c%27\">a &quot;b&quot; &amp; &#39;c&#39;</a>"
        ));
        assert!(page.contains("href=\"javascript%3Aalert%281%29\""));
        assert!(page.contains("href=\"caf%C3%A9%20100%25/\">café 100%/</a>"));
        assert!(page.contains("href=\"bad%FF\">bad\u{fffd}</a>"));
        assert!(page.contains("<title>Index of /&lt;i&gt;/a b/</title>"));
        assert!(page.contains(
            "<h1>Index of <a href=\"/\">/</a><wbr><a href=\"/%3Ci%3E/\">&lt;i&gt;/</a><wbr>\
             <span aria-current=\"page\">a b/</span></h1>"
        ));
        let json = listing.json(NAME, None);
        assert!(json.contains("{\"name\":\"a \\\"b\\\" & 'c'\""), "{json}");
        assert!(
            json.contains("{\"name\":\"caf\u{e9} 100%\",\"type\":\"dir\""),
            "{json}"
        );
    }

    #[test]
    fn json_escapes_quotes_backslashes_and_controls() {
        let mut out = String::new();
        json::string(&mut out, "a\"b\\c\u{1}d\u{7f}é".as_bytes());
        assert_eq!(out, "\"a\\\"b\\\\c\\u0001d\\u007fé\"");
    }

    #[test]
    fn sort_links_reverse_the_current_column_only() {
        let listing = Listing::new(vec![entry(b"a", false, 0, 0)], false);
        let page = listing.html(&[], NAME, None);
        assert!(page.contains(
            "<th aria-sort=\"ascending\"><a href=\"?sort=name&amp;order=desc\">Name \u{25b2}</a></th>"
        ));
        assert!(
            page.contains("<th class=\"size\"><a href=\"?sort=size&amp;order=asc\">Size</a></th>")
        );
        let page = listing.html(
            &[],
            View {
                sort: Sort::Modified,
                descending: true,
                page: 0,
            },
            None,
        );
        assert!(page.contains(
            "<th aria-sort=\"descending\"><a href=\"?sort=modified&amp;order=asc\">Modified \u{25bc}</a></th>"
        ));
        assert!(page.contains("<a href=\"?sort=name&amp;order=asc\">Name</a>"));
    }

    #[test]
    fn pages_split_a_large_listing() {
        let entries = (0..PAGE_SIZE + 5)
            .map(|i| entry(format!("f{i}").as_bytes(), false, 0, 0))
            .collect();
        let listing = Listing::new(entries, true);
        assert_eq!(listing.pages(None), 2);
        let second = listing.html(&[], View { page: 1, ..NAME }, None);
        assert_eq!(
            hrefs(&second),
            ["f10000", "f10001", "f10002", "f10003", "f10004"]
        );
        assert!(second.contains("Page 2 of 2:"));
        assert!(second.contains("<a rel=\"prev\" href=\"?sort=name&amp;order=asc\">Previous</a>"));
        assert!(second.contains("Only the first 100000 entries are read"));
        let first = listing.html(&[], NAME, None);
        assert_eq!(hrefs(&first).len(), PAGE_SIZE);
        assert!(
            first.contains("<a rel=\"next\" href=\"?sort=name&amp;order=asc&amp;page=2\">Next</a>")
        );
    }
    /// The names no request could carry are counted below the table, those the gate hides
    /// not; no such paragraph when there are none.
    #[test]
    fn names_left_out_are_counted() {
        let listing = Listing::new(vec![entry(b"a", false, 0, 0)], false).with_unwritable(vec![
            b"x\ny".to_vec(),
            b"t\tz".to_vec(),
            b"b\\s".to_vec(),
        ]);
        assert_eq!(listing.len(), 4);
        let page = listing.html(&[], NAME, None);
        assert!(
            page.contains(
                "<p>0 folders, 1 file</p>\n\
                 <p>3 names could not be written in a URL and are not shown.</p>\n"
            ),
            "{page}"
        );
        let one = listing.html(&[], NAME, Some(&[true, false, true, false]));
        assert!(
            one.contains("<p>1 name could not be written in a URL and is not shown.</p>"),
            "{one}"
        );
        let none = listing.html(&[], NAME, Some(&[true, false, false, false]));
        assert!(!none.contains("URL"), "{none}");
        let plain = Listing::new(vec![entry(b"a", false, 0, 0)], false);
        assert!(!plain.html(&[], NAME, None).contains("URL"));
    }

    /// Only the shown entries are rendered, paged and counted, in the same order.
    #[test]
    fn only_what_is_shown() {
        let listing = Listing::new(
            vec![
                entry(b"d", true, 0, 0),
                entry(b"e", true, 0, 0),
                entry(b"a.txt", false, 1, 0),
                entry(b"b.txt", false, 1, 0),
            ],
            false,
        );
        let shown = [false, true, true, false];
        let page = listing.html(&[], NAME, Some(&shown));
        assert_eq!(hrefs(&page), ["e/", "a.txt"]);
        assert!(page.contains("<p>1 folder, 1 file</p>"), "{page}");
        let json = listing.json(NAME, Some(&shown));
        assert!(
            json.contains("\"e\"") && json.contains("\"a.txt\""),
            "{json}"
        );
        assert!(!json.contains("\"d\"") && !json.contains("b.txt"), "{json}");
        assert_eq!(listing.pages(Some(&[false; 4])), 1);
        assert_eq!(hrefs(&listing.html(&[], NAME, Some(&[false; 4]))).len(), 0);
    }
}
