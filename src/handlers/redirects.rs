//! `[[redirects]]`: paths of the site that have moved, answered with a redirect before any
//! file is looked for.
//!
//! `from` is compared with the request's decoded path (percent-decoded, dot-segments
//! removed: RFC 3986 §2.1, §5.2.4), so `/old%20page` and `/a/../old page` both match
//! `from = "/old page"`. A `from` ending in `*` matches every path that starts with what
//! comes before the `*` (and, when that ends in `/`, the same path without it: `/old/*`
//! matches `/old` too, as Netlify's splats do); the rest of the path, percent-encoded again,
//! takes the place of the `*` in `to`. The request's query is carried over, after `to`'s
//! own if it has one. The first table that matches applies, for every method (a 307 or 308
//! keeps the method, RFC 9110 §15.4.8, §15.4.9).

use super::Handler;
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
}

impl<H: Handler> Redirects<H> {
    /// `inner`, behind `rules` (in order: the first that matches applies).
    pub fn new(inner: H, rules: Vec<RedirectRule>) -> Self {
        Redirects { inner, rules }
    }
}

impl<H: Handler> Handler for Redirects<H> {
    fn handle(&self, request: &Request<'_, '_>, head: &[u8], client: IpAddr) -> Response {
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
            self.rules.iter().find_map(|rule| {
                let to = location(rule, &path, request.target.query())?;
                Some((rule.status, to))
            })
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
        ] {
            assert_eq!(
                location(rule, path.as_bytes(), query).as_deref(),
                expected,
                "{} {path}",
                rule.from
            );
        }
    }
}
