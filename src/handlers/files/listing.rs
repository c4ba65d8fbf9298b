//! Directory listings (`--list-dirs`): a small HTML page for a directory without index.html.
//!
//! Reading the entries touches the file system; rendering them is a pure function. Every
//! name is HTML-escaped in text and percent-encoded in links, so no file name can inject
//! markup or turn a link into another scheme or host; the response also carries a
//! Content-Security-Policy that forbids scripts, as a second line of defence.

use super::map::encode_segment;
use super::open::Beneath;
use rustix::fs::Dir;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The most entries one listing shows. A directory of a million files would otherwise cost
/// a million opens and a page of a hundred megabytes; past this many, the page says it is
/// truncated.
pub(super) const MAX_ENTRIES: usize = 10_000;

/// One listed entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    /// The name, as bytes (file names need not be UTF-8).
    pub(super) name: Vec<u8>,
    /// A directory (linked with a trailing `/`) rather than a regular file.
    pub(super) is_dir: bool,
    /// The size in bytes (files only).
    pub(super) size: u64,
    /// The modification time.
    pub(super) modified: SystemTime,
}

/// Reads the entries of `dir` (consumed), which is the directory at `rel` beneath the root. Lists only
/// what the handler would serve: regular files and directories, reached the way a request
/// would reach them (a symlink that leaves the root, or any symlink under the walking
/// fallback, is left out), dotfiles only if `dotfiles`: without it, neither a dot-name nor
/// an entry that resolves to one (`beneath` refuses those) is listed, and `.well-known`,
/// served though it is, is not listed either, as nginx's autoindex lists no dot-name.
/// Stops after [`MAX_ENTRIES`]; the
/// flag says whether it did. The order is the file system's.
pub(super) fn read_entries(
    beneath: &Beneath,
    dir: File,
    rel: &Path,
    dotfiles: bool,
) -> io::Result<(Vec<Entry>, bool)> {
    let mut entries = Vec::new();
    for entry in Dir::new(OwnedFd::from(dir))? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." || (name.first() == Some(&b'.') && !dotfiles) {
            continue;
        }
        if entries.len() == MAX_ENTRIES {
            return Ok((entries, true));
        }
        let Ok(meta) = beneath
            .inspect(&rel.join(OsStr::from_bytes(name)))
            .and_then(|f| f.metadata().map_err(super::open::Failure::Other))
        else {
            continue;
        };
        if !(meta.is_dir() || meta.is_file()) {
            continue;
        }
        let modified = UNIX_EPOCH
            .checked_add(Duration::from_secs(
                u64::try_from(meta.mtime()).unwrap_or(0),
            ))
            .unwrap_or(UNIX_EPOCH);
        entries.push(Entry {
            name: name.to_vec(),
            is_dir: meta.is_dir(),
            size: meta.len(),
            modified,
        });
    }
    Ok((entries, false))
}

/// Escapes `text` for HTML text and double- or single-quoted attribute values (the five
/// characters the HTML standard's serialisation algorithm and OWASP name).
fn escape_html(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The listing page for the directory whose decoded path is `title` (such as `/a b/`, shown
/// escaped in the title and heading). Directories come first, then files, each group sorted
/// by name (bytewise); each row links to the entry by a relative reference of one
/// percent-encoded segment (a `/` after a directory), with the size of files and the
/// modification time in RFC 3339 UTC. A row `../` leads up, except at the root. A truncated
/// listing says so.
pub(super) fn render(title: &str, at_root: bool, entries: &mut [Entry], truncated: bool) -> String {
    entries.sort_by(|a, b| b.is_dir.cmp(&a.is_dir).then_with(|| a.name.cmp(&b.name)));
    let mut escaped_title = String::new();
    escape_html(title, &mut escaped_title);
    let mut page = String::with_capacity(1024 + entries.len() * 160);
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(page, "<title>Index of {escaped_title}</title>");
    page.push_str(
        "<style>body{font-family:system-ui,sans-serif;margin:2em}\
         table{border-collapse:collapse}th,td{padding:.2em 1em;text-align:left}\
         td.size{text-align:right;font-variant-numeric:tabular-nums}</style>\n",
    );
    page.push_str("</head>\n<body>\n");
    let _ = writeln!(page, "<h1>Index of {escaped_title}</h1>");
    page.push_str("<table>\n<thead><tr><th>Name</th><th>Size</th><th>Last modified</th></tr></thead>\n<tbody>\n");
    if !at_root {
        page.push_str("<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n");
    }
    for entry in entries.iter() {
        let mut href = String::new();
        encode_segment(&entry.name, &mut href);
        let mut text = String::new();
        escape_html(&String::from_utf8_lossy(&entry.name), &mut text);
        let (slash, size) = if entry.is_dir {
            ("/", String::from("-"))
        } else {
            ("", entry.size.to_string())
        };
        let _ = writeln!(
            page,
            "<tr><td><a href=\"{href}{slash}\">{text}{slash}</a></td><td class=\"size\">{size}</td><td>{}</td></tr>",
            humantime::format_rfc3339_seconds(entry.modified)
        );
    }
    page.push_str("</tbody>\n</table>\n");
    if truncated {
        let _ = writeln!(
            page,
            "<p>Only the first {MAX_ENTRIES} entries are shown.</p>"
        );
    }
    page.push_str("</body>\n</html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &[u8], is_dir: bool, size: u64) -> Entry {
        Entry {
            name: name.to_vec(),
            is_dir,
            size,
            modified: UNIX_EPOCH + Duration::from_secs(1_704_164_645),
        }
    }

    #[test]
    fn directories_first_then_files_by_name() {
        let mut entries = vec![
            entry(b"b.txt", false, 2),
            entry(b"zdir", true, 0),
            entry(b"a.txt", false, 1),
            entry(b"adir", true, 0),
        ];
        let page = render("/x/", false, &mut entries, false);
        let order: Vec<usize> = ["adir/", "zdir/", "a.txt", "b.txt"]
            .iter()
            .map(|name| page.find(&format!("href=\"{name}\"")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{page}");
        assert!(page.contains("<a href=\"../\">../</a>"));
        assert!(page.contains("<td class=\"size\">2</td><td>2024-01-02T03:04:05Z</td>"));
        assert!(page.contains("<title>Index of /x/</title>"));
    }

    #[test]
    fn no_parent_link_at_the_root() {
        let page = render("/", true, &mut [entry(b"a", false, 0)], false);
        assert!(!page.contains("../"));
    }

    #[test]
    fn names_are_escaped_and_links_encoded() {
        let mut entries = vec![
            entry(b"<script>alert(1)</script>", false, 0),
            entry(b"a \"b\" & 'c'", false, 0),
            entry(b"javascript:alert(1)", false, 0),
            entry(b"caf\xc3\xa9 100%", true, 0),
            entry(b"bad\xff", false, 0),
        ];
        let page = render("/<i>/", false, &mut entries, false);
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
        assert!(page.contains("<title>Index of /&lt;i&gt;/</title>"));
    }

    #[test]
    fn truncation_is_said() {
        let page = render("/", true, &mut [], true);
        assert!(page.contains("Only the first 10000 entries are shown."));
    }
}
