//! `[[redirects]]`: paths of the site that have moved, answered with a redirect before any
//! file is looked for.
//!
//! `from` is compared with the request's decoded path (percent-decoded, dot-segments
//! removed: RFC 3986 §2.1, §5.2.4), so `/old%20page` and `/a/../old page` both match
//! `from = "/old page"`. A `from` ending in `*` matches every path that starts with what
//! comes before the `*` (and, when that ends in `/`, the same path without it: `/old/*`
//! matches `/old` too, as Netlify's splats do); the rest of the path, percent-encoded again,
//! takes the place of the `*` in `to`. The request's query is carried over, after `to`'s
//! own if it has one. The first table in file order that matches applies, whether its `from`
//! is exact or a prefix, for every method (a 307 or 308 keeps the method, RFC 9110 §15.4.8,
//! §15.4.9).
//!
//! A path target stays a path on this site: when the rest of the path would make it begin
//! with `//` (`from = "/app*"`, `to = "/*"` and `/app//evil.example/x`, whose rest is
//! `/evil.example/x`), the leading slashes are collapsed into one (`/evil.example/x`). A
//! Location beginning with `//` is a network-path reference (RFC 3986 §4.2), which the client
//! resolves against the request's scheme alone (RFC 9110 §10.2.2), to another host: an open
//! redirect. The collapsed path is the one the rule means, since the server reads `//` in a
//! path as `/` too. A `\` cannot follow (it is refused in a request's path and
//! percent-encoded in the rest), and the settings refuse a `to` that begins with `//` or
//! `/\`, or whose host a `*` would complete.
//!
//! The rules are found in a tree of their `from`s (without the `*`), walked along the path
//! once: the time to find the rule does not grow with the number of rules.

use super::Handler;
use super::prefix::PrefixTree;
use crate::http::head::RequestHead;
use crate::http::response::Response;
use nomserve_grammar::{Request, decode_path};
use std::net::IpAddr;

/// One `[[redirects]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectRule {
    /// The decoded path matched, or a prefix of it followed by `*`.
    pub from: String,
    /// Where to: a path or an absolute URL, with at most one `*`.
    pub to: String,
    /// 301, 302, 307 or 308.
    pub status: u16,
}

/// Answers the paths that match a rule with its redirect; the rest go to the handler it
/// wraps.
#[derive(Debug)]
pub struct Redirects<H> {
    inner: H,
    rules: Vec<RedirectRule>,
    tree: Tree,
}

impl<H: Handler> Redirects<H> {
    /// `inner`, behind `rules` (in order: the first that matches applies).
    pub fn new(inner: H, rules: Vec<RedirectRule>) -> Self {
        let tree = Tree::new(&rules);
        Redirects { inner, rules, tree }
    }
}

impl<H: Handler> Handler for Redirects<H> {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        head: &RequestHead<'_>,
        client: IpAddr,
    ) -> Response {
        let path = request
            .target
            .path()
            .and_then(|raw| decode_path(raw).ok())
            .map(|decoded| {
                let mut path = Vec::new();
                for segment in &decoded.segments {
                    path.push(b'/');
                    path.extend_from_slice(segment);
                }
                if decoded.trailing_slash || decoded.segments.is_empty() {
                    path.push(b'/');
                }
                path
            });
        let location = path.and_then(|path| {
            let rule = &self.rules[self.tree.find(&path)?];
            let to = location(rule, &path, request.target.query())?;
            Some((rule.status, to))
        });
        match location {
            Some((status, to)) => Response::text(status, format!("Moved to {to}\n"))
                .header("Location", to)
                .header("X-Content-Type-Options", "nosniff"),
            None => self.inner.handle(request, head, client),
        }
    }
}

/// Where `rule` sends the decoded path `path` with the query `query`, if it matches.
fn location(rule: &RedirectRule, path: &[u8], query: Option<&str>) -> Option<String> {
    let rest = match rule.from.strip_suffix('*') {
        None => (path == rule.from.as_bytes()).then_some(&path[..0])?,
        Some(prefix) => match path.strip_prefix(prefix.as_bytes()) {
            Some(rest) => rest,
            None if prefix.ends_with('/') && path == &prefix.as_bytes()[..prefix.len() - 1] => {
                &path[..0]
            }
            None => return None,
        },
    };
    let mut to = match rule.to.split_once('*') {
        Some((before, after)) => {
            let mut to = before.to_string();
            encode_path(rest, &mut to);
            to.push_str(after);
            // A path, never a network-path reference (see the module's documentation).
            if to.starts_with("//") {
                let slashes = to.len() - to.trim_start_matches('/').len();
                to.drain(..slashes - 1);
            }
            to
        }
        None => rule.to.clone(),
    };
    if let Some(query) = query {
        to.push(if to.contains('?') { '&' } else { '?' });
        to.push_str(query);
    }
    Some(to)
}

/// The rules by their `from`: the `from`s without their `*` in a prefix tree, each holding
/// the first rule (in file order) that is exactly it and the first that is it followed by `*`.
#[derive(Debug)]
struct Tree(PrefixTree<Ends>);

#[derive(Debug, Default)]
struct Ends {
    exact: Option<usize>,
    splat: Option<usize>,
}

impl Tree {
    fn new(rules: &[RedirectRule]) -> Tree {
        let mut tree = PrefixTree::<Ends>::default();
        for (i, rule) in rules.iter().enumerate() {
            let ends = match rule.from.strip_suffix('*') {
                Some(prefix) => &mut tree.entry(prefix.as_bytes()).splat,
                None => &mut tree.entry(rule.from.as_bytes()).exact,
            };
            ends.get_or_insert(i);
        }
        Tree(tree)
    }

    /// The first rule (in file order) that matches `path`: an exact `from` equal to it, or a
    /// `*` rule whose prefix starts it, or whose prefix is it followed by `/`.
    fn find(&self, path: &[u8]) -> Option<usize> {
        let mut found = None;
        self.0
            .prefixes_of(path, |ends, _| found = first(found, ends.splat));
        if let Some(ends) = self.0.get(path) {
            found = first(found, ends.exact);
        }
        // `/old/*` matches `/old` too.
        let mut slash = Vec::with_capacity(path.len() + 1);
        slash.extend_from_slice(path);
        slash.push(b'/');
        if let Some(ends) = self.0.get(&slash) {
            found = first(found, ends.splat);
        }
        found
    }
}

/// The earlier of two rules, either of which may be missing.
fn first(a: Option<usize>, b: Option<usize>) -> Option<usize> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        _ => a.or(b),
    }
}

/// Appends `path` to `out`, every byte percent-encoded (RFC 3986 §2.1) but `/` and the
/// unreserved ones (RFC 3986 §2.3), so the result is a path whatever the name holds.
fn encode_path(path: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in path {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(from: &str, to: &str) -> RedirectRule {
        RedirectRule {
            from: from.to_string(),
            to: to.to_string(),
            status: 301,
        }
    }

    #[test]
    fn mapping() {
        let splat = rule("/old/*", "/new/*");
        let to_site = rule("/blog/*", "https://blog.example/posts/*?from=site");
        let exact = rule("/about", "/about-us");
        let drop_rest = rule("/gone/*", "/");
        for (rule, path, query, expected) in [
            (&splat, "/old/a/b.html", None, Some("/new/a/b.html")),
            (&splat, "/old/", Some("x=1&y"), Some("/new/?x=1&y")),
            (&splat, "/old", None, Some("/new/")),
            (&splat, "/older", None, None),
            (&splat, "/old/a b/é", None, Some("/new/a%20b/%C3%A9")),
            (
                &to_site,
                "/blog/2024/post",
                Some("utm=1"),
                Some("https://blog.example/posts/2024/post?from=site&utm=1"),
            ),
            (&exact, "/about", Some("q"), Some("/about-us?q")),
            (&exact, "/about/", None, None),
            (&exact, "/about/x", None, None),
            (&drop_rest, "/gone/a/b", None, Some("/")),
            (
                &rule("/app*", "/*"),
                "/app/evil.example/x",
                None,
                Some("/evil.example/x"),
            ),
            (&rule("/app*", "/*"), "/app/", None, Some("/")),
            (&rule("/app*", "/*"), "/app", None, Some("/")),
            (&rule("/app/*", "/n/*"), "/app/x", None, Some("/n/x")),
            (&rule("/a*", "/b/*"), "/a/x", None, Some("/b//x")),
            (
                &rule("/app*", "https://site.example/*"),
                "/app/x",
                None,
                Some("https://site.example//x"),
            ),
        ] {
            assert_eq!(
                location(rule, path.as_bytes(), query).as_deref(),
                expected,
                "{} {path}",
                rule.from
            );
        }
    }

    #[test]
    fn the_tree_finds_the_first_rule_that_matches() {
        let rules = [
            rule("/docs/special", "/1"),
            rule("/docs/*", "/2"),
            rule("/docs/special", "/3"),
            rule("/old/*", "/4"),
            rule("/old/*", "/5"),
            rule("/ol*", "/6"),
            rule("/o", "/7"),
            rule("/old/deep/*", "/8"),
            rule("/about", "/9"),
            rule("/a*", "/10"),
            rule("/*", "/11"),
            rule("/zz/", "/12"),
            rule("/zz/*", "/13"),
            rule("/", "/14"),
        ];
        let tree = Tree::new(&rules);
        for path in [
            "/",
            "/docs",
            "/docs/",
            "/docs/special",
            "/docs/specialx",
            "/doc",
            "/old",
            "/old/",
            "/old/deep",
            "/old/deep/",
            "/old/deep/x",
            "/ol",
            "/o",
            "/ox",
            "/about",
            "/about/",
            "/abc",
            "/a",
            "/zz",
            "/zz/",
            "/zz/a",
            "/z",
            "/q/r",
        ] {
            // The first rule in order whose own test matches: what a scan of every rule finds.
            let scan = rules
                .iter()
                .position(|rule| location(rule, path.as_bytes(), None).is_some());
            assert_eq!(tree.find(path.as_bytes()), scan, "{path}");
        }
        let only = [rule("/zz/*", "/x"), rule("/old/deep", "/y")];
        let tree = Tree::new(&only);
        assert_eq!(tree.find(b"/zz"), Some(0));
        assert_eq!(tree.find(b"/z"), None);
        assert_eq!(tree.find(b"/old/dee"), None);
        assert_eq!(tree.find(b"/old/deep"), Some(1));
        assert_eq!(tree.find(b"/old/deep/"), None);
        assert_eq!(Tree::new(&[]).find(b"/a"), None);
    }
}
