//! Auth areas protect files, not only the paths that name them: every other way the server
//! has of reaching a protected file (an in-root symlink to it or to its directory, a clean
//! URL, an index file, a precompressed sibling named directly or picked by Accept-Encoding,
//! the fallback page, an error page) is challenged as the file is, and a listing leaves out
//! what the client could not fetch. Hashes are made here at bcrypt's lowest cost.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Response, Server, get, get_with};
use std::fs;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use tempfile::TempDir;

/// A site (`www/`) with protected files and aliases of them, and the htpasswd file `staff`
/// (alice) beside it.
struct Site {
    top: TempDir,
}

impl Site {
    fn new() -> Site {
        let top = tempfile::tempdir().unwrap();
        let www = top.path().join("www");
        for dir in ["private", "docs", "open"] {
            fs::create_dir_all(www.join(dir)).unwrap();
        }
        let write = |rel: &str, text: &str| fs::write(www.join(rel), text).unwrap();
        let link = |target: &str, rel: &str| symlink(target, www.join(rel)).unwrap();
        write("index.html", "home");
        write("public.txt", "public");
        write("private/x.txt", "private x");
        write("private/app.html", "private app");
        write("private/404.html", "private 404 page");
        write("private/notes.txt.gz", "private notes, gzipped");
        write("admin.html", "admin page");
        write("docs/index.html", "docs index");
        write("report.txt", "report");
        write("report.txt.gz", "report, gzipped");
        write("notes.txt", "public notes");
        write("open/readme.txt", "readme");
        link("private/x.txt", "link.txt");
        link("private", "pubdir");
        link("private/notes.txt.gz", "notes.txt.gz");
        link("../private/x.txt", "open/secret.txt");
        link("../private", "open/inner");
        fs::write(
            top.path().join("staff"),
            format!("alice:{}\n", bcrypt::hash("alice pw", 4).unwrap()),
        )
        .unwrap();
        Site { top }
    }

    fn root(&self) -> PathBuf {
        self.top.path().join("www")
    }

    /// The config file: `/private/**` and three single files, each an area of staff.
    fn config(&self) -> String {
        let staff = self.top.path().join("staff");
        let mut text = String::new();
        for glob in [
            "/private/**",
            "/admin.html",
            "/docs/index.html",
            "/report.txt",
        ] {
            text.push_str(&format!(
                "[[auth]]\npath = {glob:?}\nfile = {:?}\nrealm = \"Staff\"\n\n",
                staff.to_str().unwrap()
            ));
        }
        let path = self.top.path().join("areas.toml");
        fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// Serves the site with the areas and `args`, logging how paths are resolved.
    fn serve(&self, args: &[&str]) -> Server {
        let config = self.config();
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(args);
        Server::with_env(
            &self.root(),
            &all,
            &[("RUST_LOG", "info,nomserve::handlers::files=debug")],
        )
    }
}

/// Whether the server follows in-root symlinks (with `openat2`); without it every symlink is
/// refused, and there is no alias through one to test.
fn uses_openat2(server: &Server) -> bool {
    server
        .wait_for_log("paths resolved with")
        .contains("openat2(RESOLVE_BENEATH)")
}

/// Alice's `Authorization` field line.
fn alice() -> String {
    format!(
        "Authorization: Basic {}\r\n",
        STANDARD.encode("alice:alice pw")
    )
}

fn assert_challenge(response: &Response, what: &str) {
    assert_eq!(response.status, 401, "{what}: {}", response.text());
    assert_eq!(
        response.header("WWW-Authenticate"),
        Some("Basic realm=\"Staff\", charset=\"UTF-8\""),
        "{what}"
    );
    assert!(!response.text().contains("private"), "{what}");
}

/// `path` with `fields` is challenged without credentials, served `body` with them, and
/// challenged again without them (from the open-file cache, where the file may be kept).
fn assert_protected(server: &Server, path: &str, fields: &str, body: &str) {
    assert_challenge(&get_with(server, path, fields), path);
    let response = get_with(server, path, &format!("{fields}{}", alice()));
    assert_eq!(response.status, 200, "{path} with credentials");
    assert_eq!(response.text(), body, "{path} with credentials");
    assert_challenge(&get_with(server, path, fields), &format!("{path} again"));
}

/// The public files stay public.
#[test]
fn public_files_stay_public() {
    let site = Site::new();
    let server = site.serve(&["--clean-urls"]);
    assert_eq!(get(&server, "/public.txt").text(), "public");
    assert_eq!(get(&server, "/").text(), "home");
    assert_eq!(get(&server, "/open/readme.txt").text(), "readme");
    assert_eq!(get(&server, "/report").status, 404);
}

/// `/admin` with `--clean-urls` is served by the protected `/admin.html`.
#[test]
fn a_clean_url_of_a_protected_page_is_challenged() {
    let site = Site::new();
    let server = site.serve(&["--clean-urls"]);
    assert_protected(&server, "/admin", "", "admin page");
}

/// `/docs/` is served by the protected `/docs/index.html`.
#[test]
fn a_directory_of_a_protected_index_is_challenged() {
    let site = Site::new();
    let server = site.serve(&[]);
    assert_protected(&server, "/docs/", "", "docs index");
}

/// `/report.txt.gz`, named directly, is a variant of the protected `/report.txt`.
#[test]
fn a_precompressed_sibling_of_a_protected_file_is_challenged() {
    let site = Site::new();
    let server = site.serve(&[]);
    assert_protected(&server, "/report.txt.gz", "", "report, gzipped");
}

/// `/link.txt` and `/open/secret.txt` are symlinks to the protected `/private/x.txt`.
#[test]
fn a_symlink_to_a_protected_file_is_challenged() {
    let site = Site::new();
    let server = site.serve(&[]);
    if !uses_openat2(&server) {
        return;
    }
    assert_protected(&server, "/link.txt", "", "private x");
    assert_protected(&server, "/open/secret.txt", "", "private x");
}

/// `/pubdir` is a symlink to the protected `/private/`.
#[test]
fn a_symlink_to_a_protected_directory_is_challenged() {
    let site = Site::new();
    let server = site.serve(&[]);
    if !uses_openat2(&server) {
        return;
    }
    assert_protected(&server, "/pubdir/x.txt", "", "private x");
}

/// The gzip variant of the public `/notes.txt` is a symlink into the protected area: a
/// client whose Accept-Encoding picks it is challenged, and so is one that would get the
/// file as it is, so that the answer does not depend on Accept-Encoding.
#[test]
fn a_protected_compressed_variant_is_challenged() {
    let site = Site::new();
    let server = site.serve(&[]);
    if !uses_openat2(&server) {
        return;
    }
    let gzip = "Accept-Encoding: gzip\r\n";
    assert_protected(&server, "/notes.txt", gzip, "private notes, gzipped");
    let response = get_with(&server, "/notes.txt", &format!("{gzip}{}", alice()));
    assert_eq!(response.header("Content-Encoding"), Some("gzip"));
    assert_challenge(&get(&server, "/notes.txt"), "/notes.txt as it is");
}

/// A browser navigating to a missing path gets the fallback page only if it may be served
/// that page.
#[test]
fn a_protected_fallback_page_is_challenged() {
    let site = Site::new();
    let server = site.serve(&["--fallback", "private/app.html"]);
    let html = "Accept: text/html\r\n";
    assert_protected(&server, "/some/route", html, "private app");
    assert_eq!(get(&server, "/some/route").status, 404);
}

/// An error page in an area is the body of the error only for a client that may be served
/// it; others get the error's own body.
#[test]
fn a_protected_error_page_is_shown_only_to_those_who_may_see_it() {
    let site = Site::new();
    let server = site.serve(&["--error-page", "404=private/404.html"]);
    let response = get(&server, "/missing");
    assert_eq!(response.status, 404);
    assert_eq!(response.text(), "Not Found");
    let response = get_with(&server, "/missing", &alice());
    assert_eq!(response.status, 404);
    assert_eq!(response.text(), "private 404 page");
    assert_eq!(
        response.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
}

/// The page for 401 is for clients that have not logged in: it is theirs to see even inside
/// an area, and under `--auth-file`, where every file is in one.
#[test]
fn the_page_for_401_is_shown_to_those_who_must_log_in() {
    let site = Site::new();
    fs::write(site.root().join("private/401.html"), "please log in").unwrap();
    let staff = site.top.path().join("staff");
    for args in [
        vec!["--error-page", "401=private/401.html"],
        vec![
            "--auth-file",
            staff.to_str().unwrap(),
            "--error-page",
            "401=private/401.html",
        ],
    ] {
        let server = site.serve(&args);
        let response = get(&server, "/private/x.txt");
        assert_eq!(response.status, 401, "{args:?}");
        assert_eq!(response.text(), "please log in", "{args:?}");
    }
}

/// A listing of a public directory leaves out a symlink to a protected file and one to a
/// protected directory, unless the client has the credentials; a symlinked protected
/// directory's own listing is challenged.
#[test]
fn a_listing_leaves_out_protected_entries() {
    let site = Site::new();
    let server = site.serve(&["--list-dirs"]);
    if !uses_openat2(&server) {
        return;
    }
    let listed = |fields: &str| {
        let response = get_with(&server, "/open/", fields);
        assert_eq!(response.status, 200);
        response.text()
    };
    let page = listed("");
    assert!(page.contains("href=\"readme.txt\""), "{page}");
    assert!(!page.contains("secret.txt"), "{page}");
    assert!(!page.contains("inner"), "{page}");
    assert!(page.contains("0 folders, 1 file"), "{page}");
    let json = listed("Accept: application/json\r\n");
    assert!(
        !json.contains("secret") && json.contains("readme"),
        "{json}"
    );
    let page = listed(&alice());
    for name in [
        "href=\"readme.txt\"",
        "href=\"secret.txt\"",
        "href=\"inner/\"",
    ] {
        assert!(page.contains(name), "{name}: {page}");
    }
    assert_challenge(&get(&server, "/pubdir/"), "/pubdir/");
    let response = get_with(&server, "/pubdir/", &alice());
    assert_eq!(response.status, 200);
    assert!(response.text().contains("href=\"x.txt\""));
}
