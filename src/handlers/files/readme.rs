//! A folder's `README.md` below its listing (`--readme`), rendered from CommonMark.
//!
//! The file is found as a request for it would find it (beneath the root, by the dotfiles
//! and symlink rules, shown only if the auth areas let the client have it), read up to
//! [`MAX_README`] bytes, and rendered with `pulldown-cmark`. Raw HTML in it, blocks and
//! inline alike, is shown as text (escaped), never passed through: a README is written by
//! whoever can write to the folder, and the page is the server's. Link and image targets
//! are escaped for their attribute; the listing's Content-Security-Policy forbids scripts
//! (so a `javascript:` link does nothing), and lets images come from the server itself.

use super::guard;
use super::open::{Beneath, Failure};
use crate::handlers::Gate;
use pulldown_cmark::{Event, Options, Parser, html};
use std::io::Read;
use std::path::Path;

/// The file's name.
pub(super) const NAME: &str = "README.md";

/// The largest README rendered: a larger one is left as a file in the listing, as rendering
/// it would take the worker's time on every listing's request.
pub(super) const MAX_README: u64 = 256 * 1024;

/// The README of the folder at `rel` (at `real` after symlinks), rendered as an HTML
/// section; `None` when there is none to show: none, not a regular file, too large, not
/// UTF-8, unreadable, or refused by `gate`.
pub(super) fn section(
    beneath: &Beneath,
    (rel, real): (&Path, &Path),
    gate: Option<&dyn Gate>,
) -> Option<String> {
    let path = rel.join(NAME);
    let (file, resolved) = match gate {
        Some(_) => beneath.open_resolved(&path),
        None => beneath.open(&path).map(|file| (file, None)),
    }
    .map_err(|failure| {
        if let Failure::Other(e) = failure {
            log::warn!("/{}: {e}", path.display());
        }
    })
    .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_README {
        return None;
    }
    if let Some(gate) = gate {
        let mut names = Vec::new();
        guard::file_names(resolved.as_deref().unwrap_or(&real.join(NAME)), &mut names);
        names.push(guard::form(&path, false));
        if !names.iter().all(|name| gate.shows(name)) {
            return None;
        }
    }
    let mut text = String::new();
    file.take(MAX_README).read_to_string(&mut text).ok()?;
    Some(format!(
        "<section class=\"readme\">\n{}</section>\n",
        render(&text)
    ))
}

/// `markdown` as HTML, its raw HTML escaped (see the module's documentation). Tables,
/// strikethrough and task lists, as GitHub renders a README.
pub(super) fn render(markdown: &str) -> String {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commonmark_with_raw_html_escaped() {
        let page = render(
            "# Title\n\nSome *text* and a [link](a%20b.txt).\n\n\
             <script>alert(1)</script>\n\nInline <b onclick=\"x\">bold</b>.\n\n\
             | a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(page.contains("<h1>Title</h1>"), "{page}");
        assert!(page.contains("<em>text</em>"), "{page}");
        assert!(page.contains("<a href=\"a%20b.txt\">link</a>"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
        assert!(
            page.contains("&lt;b onclick=\"x\"&gt;bold&lt;/b&gt;"),
            "{page}"
        );
        assert!(!page.contains("<script") && !page.contains("<b "), "{page}");
        assert!(page.contains("<table>"), "{page}");
    }

    #[test]
    fn attributes_cannot_be_broken_out_of() {
        let page = render("[x](\"onmouseover=alert(1)) ![y](a\"b.png)");
        assert!(!page.contains("\"onmouseover"), "{page}");
        assert!(!page.contains("a\"b"), "{page}");
    }

    #[test]
    fn found_as_a_request_would_find_it() {
        let top = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(top.path().join("d")).unwrap();
        std::fs::create_dir_all(top.path().join("big")).unwrap();
        std::fs::write(top.path().join("d/README.md"), "*hi*").unwrap();
        let big = vec![b'x'; MAX_README as usize + 1];
        std::fs::write(top.path().join("big/README.md"), big).unwrap();
        let beneath = Beneath::open_root(top.path()).unwrap();
        let d = Path::new("d");
        let section = section(&beneath, (d, d), None).unwrap();
        assert!(section.contains("<em>hi</em>"), "{section}");
        let big = Path::new("big");
        assert_eq!(super::section(&beneath, (big, big), None), None);
        let none = Path::new("");
        assert_eq!(super::section(&beneath, (none, none), None), None);
    }
}
