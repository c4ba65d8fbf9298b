//! What a `[[redirects]]` table's `to` may be.

/// Checks `to`, the target of a redirect from `from`: a path starting with `/` or an
/// http(s) URL, in visible ASCII (it goes into a field, RFC 9110 §5.5), with at most one
/// `*`, and that only if `from` ends with one. The reason it is refused, if it is.
///
/// A path target cannot begin with `//`, a network-path reference (RFC 3986 §4.2) that a
/// client resolves to another host (RFC 9110 §10.2.2), nor with `/\`, which browsers read
/// the same way. A `*` cannot stand in a URL's authority, which ends at the first `/`, `?` or
/// `#` after `//` (RFC 3986 §3.2): the request's path would choose the host
/// (`https://blog.example.com*` and the rest `.evil.example/x` make
/// `https://blog.example.com.evil.example/x`).
pub fn check_to(from: &str, to: &str) -> Result<(), &'static str> {
    let absolute = to.starts_with("http://") || to.starts_with("https://");
    let field_safe = to.bytes().all(|b| b.is_ascii_graphic());
    if !(to.starts_with('/') || absolute) || !field_safe || to.matches('*').count() > 1 {
        return Err("a path starting with / or an http(s):// URL, visible ASCII, at most one *");
    }
    if to.contains('*') && !from.ends_with('*') {
        return Err("a * in `to` needs a * at the end of `from`");
    }
    if to.starts_with("//") || to.starts_with("/\\") {
        return Err(
            "a path cannot begin with // or /\\ (that names another host): \
             write the URL with its scheme, https://host/...",
        );
    }
    if let Some((_, rest)) = to.split_once("://").filter(|_| absolute) {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('*') {
            return Err(
                "a * in the host of a URL would let the request choose the host: \
                 put it after the / that ends the host",
            );
        }
    }
    Ok(())
}
