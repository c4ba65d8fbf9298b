//! Dotfiles hidden by what they are, not what they are called: with dotfiles hidden (no
//! `--dotfiles`), a path that resolves to a dot-name through an in-root symlink is 404, for
//! files, precompressed variants, directory indexes and listing entries alike; and
//! `/.well-known/` is served all the same.

mod common;

use common::{Response, Server, get, get_with};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use tempfile::TempDir;

/// A root holding dotfiles, and in-root symlinks to them under visible names.
fn root() -> TempDir {
    let top = tempfile::tempdir().unwrap();
    let root = top.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(".secret", "SECRET");
    write(".secret.gz", "SECRET GZIPPED");
    write(".git/config", "[core] secret");
    write(".hidden-docs/index.html", "HIDDEN INDEX");
    write(".well-known/acme-challenge/tok3n", "acme token");
    write(
        ".well-known/security.txt",
        "Contact: mailto:security@example.com",
    );
    write(".well-known/.htaccess", "HTACCESS");
    write("page.txt", "the page");
    write("list/plain.txt", "plain");
    let link = |target: &str, rel: &str| symlink(target, root.join(rel)).unwrap();
    link(".secret", "secret.txt");
    link(".git/config", "cfg");
    link(".git", "git");
    link(".secret.gz", "page.txt.gz");
    link(".hidden-docs", "docs");
    link("../.secret", "list/linked.txt");
    link("../.git", "list/gitdir");
    link("../page.txt", "list/page-link.txt");
    link(".well-known/acme-challenge/tok3n", "token");
    top
}

fn assert_not_found(response: &Response, what: &str) {
    assert_eq!(response.status, 404, "{what}");
    assert_eq!(response.text(), "Not Found", "{what}");
}

/// The log filter under which the file handler says how it resolves paths.
const FILES_DEBUG: &str = "info,nomserve::handlers::files=debug";

/// Whether the server resolves paths with `openat2`; without it every symlink is refused,
/// which hides these dotfiles too.
fn uses_openat2(server: &Server) -> bool {
    server
        .wait_for_log("paths resolved with")
        .contains("openat2(RESOLVE_BENEATH)")
}

/// Serves `root`, logging at debug the file handler's start (see [`uses_openat2`]).
fn serve(root: &Path, args: &[&str]) -> Server {
    Server::with_env(root, args, &[("RUST_LOG", FILES_DEBUG)])
}

#[test]
fn symlinks_to_dotfiles_are_not_served() {
    let top = root();
    let server = serve(top.path(), &["--list-dirs"]);
    for target in [
        "/secret.txt",
        "/cfg",
        "/git/config",
        "/git/",
        "/docs/",
        "/docs/index.html",
        "/list/linked.txt",
        "/list/gitdir/config",
    ] {
        let response = get(&server, target);
        assert_not_found(&response, target);
        assert!(!response.text().contains("SECRET"), "{target}");
    }
    // The variant that links to a dotfile's variant is not one: the file is sent as it is.
    let response = get_with(&server, "/page.txt", "Accept-Encoding: gzip\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "the page");
    assert_eq!(response.header("Content-Encoding"), None);
    assert_eq!(response.header("Vary"), None);
    // A symlink to a visible file is followed, where the kernel lets the server follow one.
    let linked = get(&server, "/list/page-link.txt");
    if uses_openat2(&server) {
        assert_eq!(linked.text(), "the page");
    } else {
        assert_not_found(&linked, "/list/page-link.txt under the fallback");
    }
}

#[test]
fn listings_leave_out_what_resolves_to_a_dotfile() {
    let top = root();
    let server = serve(top.path(), &["--list-dirs"]);
    let listing = get(&server, "/list/").text();
    assert!(listing.contains("href=\"plain.txt\""), "{listing}");
    for hidden in ["linked.txt", "gitdir"] {
        assert!(!listing.contains(hidden), "{hidden} listed: {listing}");
    }
    if uses_openat2(&server) {
        assert!(listing.contains("href=\"page-link.txt\""), "{listing}");
    }
    let root_listing = get(&server, "/").text();
    for hidden in ["secret.txt", "\"cfg\"", "git/", "docs/", ".secret", ".git"] {
        assert!(
            !root_listing.contains(hidden),
            "{hidden} listed: {root_listing}"
        );
    }
    assert!(root_listing.contains("href=\"page.txt\""), "{root_listing}");
}

#[test]
fn well_known_is_served_with_dotfiles_hidden() {
    let top = root();
    let server = serve(top.path(), &["--list-dirs"]);
    let token = get(&server, "/.well-known/acme-challenge/tok3n");
    assert_eq!(token.status, 200);
    assert_eq!(token.text(), "acme token");
    assert_eq!(
        get(&server, "/%2Ewell-known/security.txt").text(),
        "Contact: mailto:security@example.com"
    );
    assert_eq!(get(&server, "/.well-known").status, 301);
    let listing = get(&server, "/.well-known/").text();
    assert!(listing.contains("href=\"acme-challenge/\""), "{listing}");
    assert!(!listing.contains("htaccess"), "{listing}");
    // Below it, a dot-name stays hidden; elsewhere, the name is not special.
    assert_not_found(&get(&server, "/.well-known/.htaccess"), ".htaccess");
    assert_not_found(&get(&server, "/list/.well-known/x"), "nested .well-known");
    if uses_openat2(&server) {
        assert_eq!(get(&server, "/token").text(), "acme token");
    }
}

/// `--dotfiles` serves them all, through symlinks too.
#[test]
fn dotfiles_flag_serves_them() {
    let top = root();
    let server = serve(top.path(), &["--dotfiles"]);
    assert_eq!(get(&server, "/.secret").text(), "SECRET");
    assert_eq!(get(&server, "/.well-known/.htaccess").text(), "HTACCESS");
    if uses_openat2(&server) {
        assert_eq!(get(&server, "/secret.txt").text(), "SECRET");
        assert_eq!(get(&server, "/git/config").text(), "[core] secret");
        let gz = get_with(&server, "/page.txt", "Accept-Encoding: gzip\r\n");
        assert_eq!(gz.text(), "SECRET GZIPPED");
    }
}
