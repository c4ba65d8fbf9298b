//! The site rules, against the real binary: `--fallback`, `--error-page`, `--index`,
//! `--clean-urls`, `--header` and `[[rules]]`, `--cors` and `[[redirects]]`.
//!
//! Each behaviour is driven by a config file, and, where a flag says it, by the flags and by
//! the `NOMSERVE_*` environment variables too: the three ways must behave the same. A
//! headless Chromium loads a deep route of a single-page app served with `--fallback`.

mod common;
#[path = "common/browser.rs"]
mod headless;

use common::{Response, Server, get, get_with, request, run_to_exit};
use headless::{chromium, dump_dom};
use std::fs;
use std::io::Write;
use std::path::Path;

/// What Chromium sends when it navigates to a page.
const NAVIGATE: &str = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,\
                        image/avif,image/webp,image/apng,*/*;q=0.8,\
                        application/signed-exchange;v=b3;q=0.7\r\n";

/// How a setting reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Flags,
    Env,
    File,
}

const ALL: [Via; 3] = [Via::Flags, Via::Env, Via::File];

/// One setting, named by its file key (`clean_urls`).
#[derive(Debug, Clone, Copy)]
enum Setting<'a> {
    /// A flag with one value.
    One(&'a str, &'a str),
    /// A repeatable flag with its values: comma-separated in the environment, except
    /// `header`, whose values hold commas, which the environment gives one of.
    Many(&'a str, &'a [&'a str]),
    /// A switch, on.
    On(&'a str),
}

/// A server and the config file it was started with (kept for as long as the server).
struct Site {
    server: Server,
    config: Option<tempfile::NamedTempFile>,
}

/// `value` as a TOML basic string.
fn toml_string(value: &str) -> String {
    format!("{value:?}")
}

/// Starts a server for `root` with `settings` said `via` one way, and `extra` TOML (tables)
/// in its config file whatever the way (a file is always given when `extra` is not empty).
fn serve(root: &Path, via: Via, settings: &[Setting<'_>], extra: &str) -> Site {
    let mut args: Vec<String> = Vec::new();
    let mut env: Vec<(String, String)> = vec![("RUST_LOG".into(), "info".into())];
    let mut toml = String::new();
    for setting in settings {
        let flag = |key: &str| format!("--{}", key.replace('_', "-"));
        let var = |key: &str| format!("NOMSERVE_{}", key.to_uppercase());
        match (via, *setting) {
            (Via::Flags, Setting::One(key, value)) => args.extend([flag(key), value.into()]),
            (Via::Flags, Setting::Many(key, values)) => {
                for value in values {
                    args.extend([flag(key), value.to_string()]);
                }
            }
            (Via::Flags, Setting::On(key)) => args.push(flag(key)),
            (Via::Env, Setting::One(key, value)) => env.push((var(key), value.into())),
            (Via::Env, Setting::Many(key, values)) => {
                if key == "header" {
                    assert_eq!(values.len(), 1, "one field through the environment");
                }
                env.push((var(key), values.join(",")));
            }
            (Via::Env, Setting::On(key)) => env.push((var(key), "true".into())),
            (Via::File, Setting::One(key, value)) => {
                toml.push_str(&format!("{key} = {}\n", toml_string(value)));
            }
            (Via::File, Setting::Many(key, values)) => {
                let items: Vec<String> = values.iter().map(|v| toml_string(v)).collect();
                toml.push_str(&format!("{key} = [{}]\n", items.join(", ")));
            }
            (Via::File, Setting::On(key)) => toml.push_str(&format!("{key} = true\n")),
        }
    }
    toml.push_str(extra);
    let config = (!toml.is_empty()).then(|| {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(toml.as_bytes()).unwrap();
        file
    });
    if let Some(file) = &config {
        args.extend(["--config".into(), file.path().display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Site {
        server: Server::with_env(root, &args, &env),
        config,
    }
}

/// A temporary document root holding `files` (path, content), directories made as needed.
fn site(files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = root.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    root
}

/// Every value of the fields named `name`.
fn all<'r>(response: &'r Response, name: &str) -> Vec<&'r str> {
    response
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

const APP: &str = "<!doctype html><title>app</title><p>the app</p>\n";

#[test]
fn fallback_answers_browsers_navigating_and_nothing_else() {
    let root = site(&[
        ("index.html", APP),
        ("app.js", "console.log(1);\n"),
        ("docs/readme.txt", "readme\n"),
    ]);
    for via in ALL {
        let site = serve(
            root.path(),
            via,
            &[Setting::One("fallback", "index.html")],
            "",
        );
        let server = &site.server;
        for _ in 0..2 {
            let page = get_with(server, "/app/users/42", NAVIGATE);
            assert_eq!(page.status, 200, "{via:?}");
            assert_eq!(page.text(), APP, "{via:?}");
            assert_eq!(
                page.header("Content-Type"),
                Some("text/html; charset=utf-8")
            );
            assert!(all(&page, "Vary").contains(&"Accept"), "{via:?} {page:?}");
            let tag = page
                .header("ETag")
                .expect("the page's validators")
                .to_string();
            let revalidated = get_with(
                server,
                "/app/users/42",
                &format!("{NAVIGATE}If-None-Match: {tag}\r\n"),
            );
            assert_eq!(revalidated.status, 304, "{via:?}");
        }
        let head = request(
            server,
            &format!("HEAD /settings HTTP/1.1\r\nHost: h\r\n{NAVIGATE}Connection: close\r\n\r\n"),
        );
        assert_eq!(head.status, 200, "{via:?}");
        assert_eq!(head.header("Content-Length"), Some(&*APP.len().to_string()));
        assert!(head.body.is_empty());
        // A directory with nothing to serve is a missing page too.
        assert_eq!(get_with(server, "/docs/", NAVIGATE).text(), APP, "{via:?}");

        // Scripts, images, stylesheets, fetch() and clients that say nothing keep their 404.
        for accept in [
            "",
            "Accept: */*\r\n",
            "Accept: text/css,*/*;q=0.1\r\n",
            "Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8\r\n",
            "Accept: application/json, text/html;q=0.5\r\n",
            "Accept: text/html;q=oops\r\n",
        ] {
            let missing = get_with(server, "/missing.js", accept);
            assert_eq!(missing.status, 404, "{via:?} {accept:?}");
            assert_eq!(missing.text(), "Not Found", "{via:?} {accept:?}");
            assert!(all(&missing, "Vary").contains(&"Accept"), "{via:?}");
        }
        let script = get_with(server, "/app.js", NAVIGATE);
        assert_eq!(script.status, 200);
        assert_eq!(script.text(), "console.log(1);\n");
        let post = request(
            server,
            &format!(
                "POST /app/x HTTP/1.1\r\nHost: h\r\n{NAVIGATE}Content-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            ),
        );
        assert_eq!(post.status, 405, "{via:?}");
    }
    // Without --fallback, a navigation to a missing path is a 404.
    let plain = Server::with_args(root.path(), &[]);
    assert_eq!(get_with(&plain, "/app/users/42", NAVIGATE).status, 404);
}

#[test]
fn a_missing_fallback_or_error_page_refuses_to_start() {
    let root = site(&[("index.html", APP), (".secret", "secret\n")]);
    std::os::unix::fs::symlink(".secret", root.path().join("404.html")).unwrap();
    let root_arg = root.path().to_str().unwrap();
    for (args, expected) in [
        (
            &["--fallback", "nothing.html"][..],
            "fallback nothing.html: no such file",
        ),
        (
            &["--error-page", "404=errors/404.html"],
            "error page 404=errors/404.html: no such file",
        ),
        (&["--header", "ETag: \"x\""], "ETag is computed"),
        (
            &["--check-config", "--fallback", "nothing.html"],
            "fallback nothing.html: no such file",
        ),
        // With dotfiles hidden, a page that resolves to one is not there either.
        (
            &["--error-page", "404=404.html"],
            "error page 404=404.html: no such file",
        ),
    ] {
        let mut full = vec!["--port", "0", "--root", root_arg];
        full.extend(args);
        let exited = run_to_exit(&full);
        assert_eq!(exited.status.code(), Some(2), "{args:?}: {exited:?}");
        assert!(
            exited.stderr.contains(expected),
            "{args:?}: {}",
            exited.stderr
        );
    }
    let shown = Server::with_args(root.path(), &["--dotfiles", "--error-page", "404=404.html"]);
    assert_eq!(get(&shown, "/nothing").text(), "secret\n");
}

#[test]
fn error_pages_replace_the_body_and_keep_the_status() {
    let root = site(&[
        ("index.html", APP),
        ("errors/404.html", "<h1>No such page</h1>\n"),
        ("errors/405.txt", "Only GET and HEAD here.\n"),
    ]);
    for via in ALL {
        let pages = ["404=errors/404.html", "405=errors/405.txt"];
        let site = serve(root.path(), via, &[Setting::Many("error_page", &pages)], "");
        let server = &site.server;
        let missing = get(server, "/nothing/here");
        assert_eq!(missing.status, 404, "{via:?}");
        assert_eq!(missing.text(), "<h1>No such page</h1>\n", "{via:?}");
        assert_eq!(
            missing.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        let head = request(
            server,
            "HEAD /nothing HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(head.status, 404);
        assert_eq!(head.header("Content-Length"), Some("22"));
        let post = request(
            server,
            "DELETE / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(post.status, 405, "{via:?}");
        assert_eq!(post.header("Allow"), Some("GET, HEAD"));
        assert_eq!(post.text(), "Only GET and HEAD here.\n", "{via:?}");
        assert_eq!(
            post.header("Content-Type"),
            Some("text/plain; charset=utf-8")
        );
        // Found files are untouched.
        assert_eq!(get(server, "/").text(), APP);
    }
}

#[test]
fn error_page_and_fallback_together() {
    let root = site(&[("index.html", APP), ("404.html", "<p>lost</p>\n")]);
    let site = serve(
        root.path(),
        Via::File,
        &[
            Setting::One("fallback", "index.html"),
            Setting::Many("error_page", &["404=404.html"]),
        ],
        "",
    );
    assert_eq!(get_with(&site.server, "/route", NAVIGATE).text(), APP);
    let missing = get_with(&site.server, "/app.js", "Accept: */*\r\n");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.text(), "<p>lost</p>\n");
}

#[test]
fn index_names_are_tried_in_order() {
    let root = site(&[
        ("both/default.htm", "default\n"),
        ("both/index.html", "index\n"),
        ("only-index/index.html", "index\n"),
        ("neither/file.txt", "file\n"),
    ]);
    for via in ALL {
        let names = ["default.htm", "index.html"];
        let site = serve(root.path(), via, &[Setting::Many("index", &names)], "");
        let server = &site.server;
        let both = get(server, "/both/");
        assert_eq!(both.text(), "default\n", "{via:?}");
        assert_eq!(
            both.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(get(server, "/only-index/").text(), "index\n", "{via:?}");
        assert_eq!(get(server, "/neither/").status, 404, "{via:?}");
    }
    let default = Server::with_args(root.path(), &[]);
    assert_eq!(get(&default, "/both/").text(), "index\n");
}

#[test]
fn clean_urls_serve_the_html_page() {
    let root = site(&[
        ("about.html", "<p>about</p>\n"),
        ("docs/intro.html", "<p>intro</p>\n"),
        ("plain", "no extension\n"),
        ("plain.html", "<p>shadowed</p>\n"),
    ]);
    for via in ALL {
        let site = serve(root.path(), via, &[Setting::On("clean_urls")], "");
        let server = &site.server;
        for _ in 0..2 {
            let about = get(server, "/about?x=1");
            assert_eq!(about.status, 200, "{via:?}");
            assert_eq!(about.text(), "<p>about</p>\n");
            assert_eq!(
                about.header("Content-Type"),
                Some("text/html; charset=utf-8")
            );
        }
        assert_eq!(get(server, "/docs/intro").text(), "<p>intro</p>\n");
        assert_eq!(get(server, "/about.html").text(), "<p>about</p>\n");
        assert_eq!(get(server, "/plain").text(), "no extension\n");
        assert_eq!(get(server, "/about/").status, 404, "{via:?}");
        assert_eq!(get(server, "/nothing").status, 404, "{via:?}");
    }
    let off = Server::with_args(root.path(), &[]);
    assert_eq!(get(&off, "/about").status, 404);
}

#[test]
fn headers_and_rules_by_path_last_rule_wins() {
    let root = site(&[
        ("index.html", APP),
        ("assets/app.js", "console.log(1);\n"),
        ("assets/site.css", "p{}\n"),
        ("assets/site.css.gz", "gzipped css"),
        ("notes.txt", "notes\n"),
    ]);
    let rules = "[[rules]]\npath = \"/assets/**\"\n\
                 headers = { \"Cache-Control\" = \"public, max-age=31536000, immutable\" }\n\
                 [[rules]]\npath = \"/assets/*.css\"\n\
                 headers = { \"X-Site\" = \"css\", \"Vary\" = \"Origin\" }\n\
                 [[rules]]\npath = \"/**/*.html\"\n\
                 headers = { \"Content-Security-Policy\" = \"default-src 'self'\" }\n\
                 [[rules]]\npath = \"/\"\nheaders = { \"X-Root\" = \"yes\" }\n";
    for via in ALL {
        let headers: &[&str] = if via == Via::Env {
            &["X-Frame-Options: DENY"]
        } else {
            &["X-Frame-Options: DENY", "X-Site: one"]
        };
        let site = serve(
            root.path(),
            via,
            &[
                Setting::One("cache_control", "no-cache"),
                Setting::Many("header", headers),
            ],
            rules,
        );
        let server = &site.server;
        // Twice: the second answer comes from the open-file cache's prepared fields.
        for round in 0..2 {
            let js = get(server, "/assets/app.js");
            assert_eq!(js.status, 200);
            assert_eq!(
                all(&js, "Cache-Control"),
                ["public, max-age=31536000, immutable"],
                "{via:?} {round}"
            );
            assert_eq!(js.header("X-Frame-Options"), Some("DENY"), "{via:?}");
            assert_eq!(
                js.header("Content-Type"),
                Some("text/javascript; charset=utf-8")
            );
            let css = get(server, "/assets/site.css");
            assert_eq!(all(&css, "X-Site"), ["css"], "{via:?}");
            let mut vary = all(&css, "Vary");
            vary.sort_unstable();
            assert_eq!(vary, ["Accept-Encoding", "Origin"], "{via:?}");
            let txt = get(server, "/notes.txt");
            assert_eq!(all(&txt, "Cache-Control"), ["no-cache"], "{via:?}");
            if via != Via::Env {
                assert_eq!(txt.header("X-Site"), Some("one"), "{via:?}");
            }
            assert_eq!(txt.header("Content-Security-Policy"), None);
            let html = get(server, "/index.html");
            assert_eq!(
                html.header("Content-Security-Policy"),
                Some("default-src 'self'")
            );
            assert_eq!(html.header("X-Root"), None);
            let dir = get(server, "/");
            assert_eq!(dir.header("X-Root"), Some("yes"), "{via:?}");
        }
        // The answers built per request carry them too: a range, a revalidation, a variant.
        let part = get_with(server, "/assets/app.js", "Range: bytes=0-6\r\n");
        assert_eq!(part.status, 206);
        assert_eq!(part.text(), "console");
        assert_eq!(
            part.header("Cache-Control"),
            Some("public, max-age=31536000, immutable")
        );
        let tag = get(server, "/assets/app.js")
            .header("ETag")
            .unwrap()
            .to_string();
        let not_modified = get_with(
            server,
            "/assets/app.js",
            &format!("If-None-Match: {tag}\r\n"),
        );
        assert_eq!(not_modified.status, 304);
        assert_eq!(
            all(&not_modified, "Cache-Control"),
            ["public, max-age=31536000, immutable"]
        );
        assert_eq!(not_modified.header("X-Frame-Options"), Some("DENY"));
        let gz = get_with(server, "/assets/site.css", "Accept-Encoding: gzip\r\n");
        assert_eq!(gz.text(), "gzipped css");
        assert_eq!(gz.header("Content-Encoding"), Some("gzip"));
        assert_eq!(
            gz.header("Cache-Control"),
            Some("public, max-age=31536000, immutable")
        );
        // Errors are not file responses.
        let missing = get(server, "/assets/none.js");
        assert_eq!(missing.status, 404);
        assert_eq!(missing.header("X-Frame-Options"), None);
    }
}

#[test]
fn a_rule_overrides_the_cache_control_flag() {
    let root = site(&[("assets/a.js", "a\n"), ("b.txt", "b\n")]);
    let config =
        "[[rules]]\npath = \"/assets/**\"\nheaders = { \"cache-control\" = \"max-age=60\" }\n";
    let site = serve(
        root.path(),
        Via::Flags,
        &[Setting::One("cache_control", "no-store")],
        config,
    );
    assert_eq!(
        all(&get(&site.server, "/assets/a.js"), "Cache-Control"),
        ["max-age=60"]
    );
    assert_eq!(
        all(&get(&site.server, "/b.txt"), "Cache-Control"),
        ["no-store"]
    );
}

/// A preflight, from `origin`.
fn preflight(server: &Server, origin: &str) -> Response {
    request(
        server,
        &format!(
            "OPTIONS /api/data.json HTTP/1.1\r\nHost: h\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: GET\r\n\
             Access-Control-Request-Headers: x-requested-with\r\nConnection: close\r\n\r\n"
        ),
    )
}

#[test]
fn cors_grants_allowed_origins_only() {
    let root = site(&[("api/data.json", "{}\n")]);
    let allowed = "https://docs.example";
    for via in ALL {
        let origins = [allowed, "http://localhost:3000"];
        let site = serve(root.path(), via, &[Setting::Many("cors", &origins)], "");
        let server = &site.server;
        let data = get_with(server, "/api/data.json", &format!("Origin: {allowed}\r\n"));
        assert_eq!(data.status, 200, "{via:?}");
        assert_eq!(data.text(), "{}\n");
        assert_eq!(
            data.header("Access-Control-Allow-Origin"),
            Some(allowed),
            "{via:?}"
        );
        assert!(all(&data, "Vary").contains(&"Origin"), "{via:?}");
        for other in ["https://evil.example", "null"] {
            let response = get_with(server, "/api/data.json", &format!("Origin: {other}\r\n"));
            assert_eq!(response.status, 200);
            assert_eq!(
                response.header("Access-Control-Allow-Origin"),
                None,
                "{via:?}"
            );
            assert_eq!(preflight(server, other).status, 405, "{via:?}");
        }
        let answer = preflight(server, allowed);
        assert_eq!(answer.status, 204, "{via:?}");
        assert!(answer.body.is_empty());
        assert_eq!(answer.header("Access-Control-Allow-Origin"), Some(allowed));
        assert_eq!(
            answer.header("Access-Control-Allow-Methods"),
            Some("GET, HEAD")
        );
        assert_eq!(
            answer.header("Access-Control-Allow-Headers"),
            Some("x-requested-with")
        );
        assert!(answer.header("Access-Control-Max-Age").is_some());
        // Not a preflight: OPTIONS without Access-Control-Request-Method.
        let options = request(
            server,
            &format!(
                "OPTIONS / HTTP/1.1\r\nHost: h\r\nOrigin: {allowed}\r\nConnection: close\r\n\r\n"
            ),
        );
        assert_eq!(options.status, 405, "{via:?}");
        let local = get_with(
            server,
            "/api/data.json",
            "Origin: http://localhost:3000\r\n",
        );
        assert_eq!(
            local.header("Access-Control-Allow-Origin"),
            Some("http://localhost:3000")
        );
    }
    let any = serve(
        root.path(),
        Via::Flags,
        &[Setting::Many("cors", &["*"])],
        "",
    );
    let data = get_with(
        &any.server,
        "/api/data.json",
        "Origin: https://x.example\r\n",
    );
    assert_eq!(data.header("Access-Control-Allow-Origin"), Some("*"));
    assert_eq!(preflight(&any.server, "https://y.example").status, 204);
    // Without --cors, a preflight is an OPTIONS like any other: 405.
    let none = Server::with_args(root.path(), &[]);
    let refused = preflight(&none, allowed);
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("Access-Control-Allow-Origin"), None);
}

#[test]
fn redirects_map_paths_and_keep_the_query() {
    let root = site(&[("new/page.html", "new\n"), ("stay.txt", "stay\n")]);
    let config = "[[redirects]]\nfrom = \"/docs/special\"\nto = \"/special\"\nstatus = 302\n\
                  [[redirects]]\nfrom = \"/docs/*\"\nto = \"https://docs.example/v2/*\"\n\
                  [[redirects]]\nfrom = \"/old/*\"\nto = \"/new/*\"\nstatus = 308\n\
                  [[redirects]]\nfrom = \"/old/*\"\nto = \"/never\"\nstatus = 307\n\
                  [[redirects]]\nfrom = \"/blog\"\nto = \"/news?from=blog\"\nstatus = 307\n";
    let site = serve(root.path(), Via::File, &[], config);
    let server = &site.server;
    for (target, status, location) in [
        ("/old/page.html", 308, "/new/page.html"),
        ("/old/a%20b/c?x=1&y=2", 308, "/new/a%20b/c?x=1&y=2"),
        ("/old", 308, "/new/"),
        ("/x/../old/page.html", 308, "/new/page.html"),
        ("/docs/special?q", 302, "/special?q"),
        (
            "/docs/guide/intro",
            301,
            "https://docs.example/v2/guide/intro",
        ),
        ("/blog?page=2", 307, "/news?from=blog&page=2"),
    ] {
        let response = get(server, target);
        assert_eq!(response.status, status, "{target}");
        assert_eq!(response.header("Location"), Some(location), "{target}");
    }
    // A POST is redirected too (a 308 keeps the method).
    let post = request(
        server,
        "POST /old/form HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(post.status, 308);
    assert_eq!(post.header("Location"), Some("/new/form"));
    assert_eq!(get(server, "/new/page.html").text(), "new\n");
    assert_eq!(get(server, "/stay.txt").text(), "stay\n");
    assert_eq!(get(server, "/blog/x").status, 404);
}

#[test]
fn sighup_applies_new_site_rules() {
    let root = site(&[("index.html", APP), ("a.txt", "a\n")]);
    let site = serve(root.path(), Via::File, &[Setting::On("clean_urls")], "");
    let server = &site.server;
    assert_eq!(get_with(server, "/route", NAVIGATE).status, 404);
    assert_eq!(get(server, "/a.txt").header("X-New"), None);
    let config = site.config.as_ref().unwrap().path();
    fs::write(
        config,
        "fallback = \"index.html\"\nheader = [\"X-New: 1\"]\n\
         [[redirects]]\nfrom = \"/moved\"\nto = \"/a.txt\"\n",
    )
    .unwrap();
    server.signal("HUP");
    server.wait_for_log("SIGHUP: new settings applied");
    assert_eq!(get_with(server, "/route", NAVIGATE).text(), APP);
    assert_eq!(get(server, "/a.txt").header("X-New"), Some("1"));
    assert_eq!(get(server, "/moved").header("Location"), Some("/a.txt"));
    // A reload whose fallback is missing is refused; the running rules stay.
    fs::write(config, "fallback = \"gone.html\"\n").unwrap();
    server.signal("HUP");
    server.wait_for_log("fallback gone.html: no such file");
    assert_eq!(get_with(server, "/route", NAVIGATE).text(), APP);
}

/// A single-page app with client-side routes: the browser loads a deep route directly (as a
/// reload or a shared link does), gets the app's page from the fallback, runs its script
/// (a real JavaScript file, which must not be answered with the page) and renders the route.
#[test]
fn browser_spa_deep_route_renders_the_app() {
    let Some(browser) = chromium() else { return };
    let root = site(&[
        (
            "index.html",
            "<!doctype html><html><head><title>spa</title></head>\
             <body><main id=\"view\">loading</main><script src=\"/app.js\"></script></body></html>\n",
        ),
        (
            "app.js",
            "const parts = location.pathname.split('/').filter(Boolean);\n\
             const view = document.getElementById('view');\n\
             if (parts[0] === 'app' && parts[1] === 'users') {\n\
               view.textContent = 'user ' + parts[2];\n\
             } else {\n\
               view.textContent = 'home';\n\
             }\n",
        ),
    ]);
    let server = Server::with_args(root.path(), &["--fallback", "index.html"]);
    let dom = dump_dom(&browser, &server.url("/app/users/42"), &[]);
    assert!(
        dom.contains("<main id=\"view\">user 42</main>"),
        "rendered DOM:\n{dom}"
    );
    let script = server.wait_for_log("\"GET /app.js HTTP/1.1\" 200 ");
    assert!(script.contains("Chrome/"), "{script}");
    assert!(
        server.log().contains("\"GET /app/users/42 HTTP/1.1\" 200 "),
        "{}",
        server.log()
    );
}

/// With the whole site behind a password, a preflight is still answered (a browser never
/// sends credentials with one), a cross-origin request without them gets its 401 with the
/// grant (so the page can read the challenge), and the 401 takes its configured page.
#[test]
fn cors_preflight_needs_no_password_and_a_401_takes_its_page() {
    let root = site(&[("api/data.json", "{}\n"), ("401.html", "<p>log in</p>\n")]);
    let users = tempfile::NamedTempFile::new().unwrap();
    fs::write(
        users.path(),
        format!("alice:{}\n", bcrypt::hash("alice pw", 4).unwrap()),
    )
    .unwrap();
    let allowed = "https://docs.example";
    let site = serve(
        root.path(),
        Via::File,
        &[
            Setting::One("auth_file", users.path().to_str().unwrap()),
            Setting::Many("cors", &[allowed]),
            Setting::Many("error_page", &["401=401.html"]),
        ],
        "",
    );
    let server = &site.server;
    let answer = preflight(server, allowed);
    assert_eq!(answer.status, 204);
    assert_eq!(answer.header("Access-Control-Allow-Origin"), Some(allowed));
    assert_eq!(answer.header("WWW-Authenticate"), None);
    let challenged = get_with(server, "/api/data.json", &format!("Origin: {allowed}\r\n"));
    assert_eq!(challenged.status, 401);
    assert_eq!(
        challenged.header("Access-Control-Allow-Origin"),
        Some(allowed)
    );
    assert!(challenged.header("WWW-Authenticate").is_some());
    assert_eq!(challenged.text(), "<p>log in</p>\n");
    assert_eq!(
        challenged.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    // Another origin's preflight is no preflight: it meets the password like any request.
    assert_eq!(preflight(server, "https://evil.example").status, 401);
}

/// A variant the server compresses itself carries the rules' fields like the file: on its
/// 200 and on its 304.
#[test]
fn rules_reach_variants_compressed_here() {
    let page = "<p>a line of a page that compresses well</p>\n".repeat(1500);
    let root = site(&[("page.html", &page)]);
    let rules = "[[rules]]\npath = \"/**/*.html\"\n\
                 headers = { \"Cache-Control\" = \"no-store\", \"X-Rule\" = \"html\" }\n";
    let site = serve(root.path(), Via::File, &[], rules);
    let server = &site.server;
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    let gzip = loop {
        let response = get_with(server, "/page.html", "Accept-Encoding: gzip\r\n");
        assert_eq!(all(&response, "Cache-Control"), ["no-store"]);
        if response.header("Content-Encoding") == Some("gzip") {
            break response;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no gzip variant in time"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(gzip.body.len() < page.len() / 4);
    assert_eq!(gzip.header("X-Rule"), Some("html"));
    assert_eq!(
        gzip.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    let tag = gzip.header("ETag").unwrap();
    let not_modified = get_with(
        server,
        "/page.html",
        &format!("Accept-Encoding: gzip\r\nIf-None-Match: {tag}\r\n"),
    );
    assert_eq!(not_modified.status, 304);
    assert_eq!(all(&not_modified, "Cache-Control"), ["no-store"]);
    assert_eq!(not_modified.header("X-Rule"), Some("html"));
}
