//! The assembly, from settings read as the server reads them to the answers of the handler
//! stack they make: each site rule, the server's configuration, and what a reload applies.

use super::*;
use crate::handlers::testing::{self, answer, header};
use crate::http::response::Response;
use std::ffi::OsString;
use std::net::IpAddr;
use std::time::Duration;
use tempfile::TempDir;

/// A site in `www/` beneath a folder that also holds the config file and an htpasswd file.
fn site() -> TempDir {
    let top = tempfile::tempdir().unwrap();
    let root = top.path().join("www");
    for dir in ["dir", "assets", "private"] {
        fs::create_dir_all(root.join(dir)).unwrap();
    }
    for (name, text) in [
        ("index.html", "<p>index</p>"),
        ("home.html", "<p>home</p>"),
        ("about.html", "<p>about</p>"),
        ("404.html", "<p>the page is not here</p>"),
        ("a.txt", "a"),
        ("dir/x.txt", "x"),
        ("assets/app.js", "app();"),
        ("private/secret.txt", "secret"),
    ] {
        fs::write(root.join(name), text).unwrap();
    }
    fs::write(
        root.join("style.css"),
        "body { color: black; }\n".repeat(200),
    )
    .unwrap();
    let hash = bcrypt::hash("password", 4).unwrap();
    fs::write(top.path().join("users"), format!("alice:{hash}\n")).unwrap();
    top
}

/// The settings of `flags` and of a config file holding `file`, serving `top`'s site.
fn settings(top: &TempDir, file: &str, flags: &[&str]) -> Settings {
    let config = top.path().join("nomserve.toml");
    fs::write(&config, file).unwrap();
    let root = top.path().join("www");
    let mut argv: Vec<OsString> = vec!["nomserve".into(), root.into(), "--config".into()];
    argv.push(config.into());
    argv.extend(flags.iter().map(OsString::from));
    config::load(&argv).unwrap()
}

/// What `settings` assemble into.
fn assembled(settings: &Settings) -> Assembly {
    let root = document_root(&settings.args.root).unwrap();
    match assemble(settings, &root) {
        Ok(assembly) => assembly,
        Err(e) => panic!("{e}"),
    }
}

/// The handler stack of the settings of `flags` and `file`.
fn stack(top: &TempDir, file: &str, flags: &[&str]) -> Arc<dyn Handler> {
    assembled(&settings(top, file, flags)).handler
}

/// The answer of `handler` to `GET path` with the fields `fields` (each line ending CRLF).
fn get(handler: &dyn Handler, path: &str, fields: &str) -> Response {
    answer(
        handler,
        &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{fields}\r\n"),
    )
}

/// The body's bytes, as text.
fn body(response: &Response) -> String {
    String::from_utf8_lossy(&testing::body(response)).into_owned()
}

#[test]
fn the_server_configuration_comes_from_the_flags() {
    let top = site();
    let config = assembled(&settings(
        &top,
        "max_connections = 10\n",
        &[
            "--threads",
            "3",
            "--max-connections-per-ip",
            "2",
            "--ipv6-prefix",
            "48",
            "--header-timeout",
            "2s",
            "--keep-alive-timeout",
            "3s",
            "--send-timeout",
            "4s",
            "--min-send-rate",
            "2KiB/s",
            "--trusted-proxy",
            "10.0.0.0/8",
            "--proxy-protocol",
            "--shutdown-timeout",
            "5s",
        ],
    ))
    .config;
    assert_eq!(config.threads, 3);
    assert_eq!(config.max_connections, 10);
    assert_eq!(config.max_connections_per_ip, Some(2));
    assert_eq!(config.ipv6_prefix, 48);
    assert_eq!(config.timeouts.header, Duration::from_secs(2));
    assert_eq!(config.timeouts.keep_alive, Duration::from_secs(3));
    assert_eq!(config.timeouts.send, Duration::from_secs(4));
    assert_eq!(config.timeouts.min_send_rate, 2048);
    assert!(config.trusted.contains(IpAddr::from([10, 1, 2, 3])));
    assert!(!config.trusted.contains(IpAddr::from([127, 0, 0, 1])));
    assert!(config.proxy_protocol);
    assert_eq!(config.shutdown_timeout, Duration::from_secs(5));
    let config = assembled(&settings(&top, "", &[])).config;
    assert_eq!(config.max_connections, 1024);
    assert_eq!(config.max_connections_per_ip, None);
    assert!(!config.proxy_protocol && !config.trusted.contains(IpAddr::from([10, 1, 2, 3])));
}

#[test]
fn fields_come_from_the_flags_and_the_rules() {
    let top = site();
    let rules = "[[rules]]\npath = \"/assets/**\"\nheaders = { \"X-A\" = \"rule\" }\n";
    let handler = stack(
        &top,
        rules,
        &["--cache-control", "max-age=60", "--header", "X-A: flag"],
    );
    let plain = get(&*handler, "/a.txt", "");
    assert_eq!(plain.status, 200);
    assert_eq!(header(&plain, "Cache-Control"), Some("max-age=60"));
    assert_eq!(header(&plain, "X-A"), Some("flag"));
    let ruled = get(&*handler, "/assets/app.js", "");
    assert_eq!(header(&ruled, "X-A"), Some("rule"));
    assert_eq!(header(&ruled, "Cache-Control"), Some("max-age=60"));
    let defaults = get(&*stack(&top, "", &[]), "/assets/app.js", "");
    assert_eq!(header(&defaults, "Cache-Control"), Some("no-cache"));
    assert_eq!(header(&defaults, "X-A"), None);
}

#[test]
fn redirects_answer_before_the_files() {
    let top = site();
    let file = "[[redirects]]\nfrom = \"/old/*\"\nto = \"/new/*\"\nstatus = 308\n\
                [[redirects]]\nfrom = \"/a.txt\"\nto = \"https://example.com/b\"\n";
    let handler = stack(&top, file, &[]);
    let moved = get(&*handler, "/old/x?q", "");
    assert_eq!(moved.status, 308);
    assert_eq!(header(&moved, "Location"), Some("/new/x?q"));
    let file_moved = get(&*handler, "/a.txt", "");
    assert_eq!(file_moved.status, 301);
    assert_eq!(
        header(&file_moved, "Location"),
        Some("https://example.com/b")
    );
    assert_eq!(get(&*stack(&top, "", &[]), "/a.txt", "").status, 200);
}

#[test]
fn error_pages_give_errors_their_bodies() {
    let top = site();
    let handler = stack(&top, "", &["--error-page", "404=404.html"]);
    let missing = get(&*handler, "/missing", "");
    assert_eq!(missing.status, 404);
    assert_eq!(body(&missing), "<p>the page is not here</p>");
    let plain = get(&*stack(&top, "", &[]), "/missing", "");
    assert_eq!(plain.status, 404);
    assert_ne!(body(&plain), "<p>the page is not here</p>");
}

#[test]
fn auth_areas_and_the_auth_file_challenge() {
    let top = site();
    let users = top.path().join("users");
    let users = users.to_str().unwrap();
    let area = format!("[[auth]]\npath = \"/private/**\"\nfile = \"{users}\"\nrealm = \"Staff\"\n");
    let handler = stack(&top, &area, &[]);
    let protected = get(&*handler, "/private/secret.txt", "");
    assert_eq!(protected.status, 401);
    let challenge = header(&protected, "WWW-Authenticate").unwrap();
    assert!(challenge.contains("realm=\"Staff\""), "{challenge}");
    assert_eq!(get(&*handler, "/a.txt", "").status, 200);

    let everything = stack(&top, "", &["--auth-file", users]);
    let site_wide = get(&*everything, "/a.txt", "");
    assert_eq!(site_wide.status, 401);
    let challenge = header(&site_wide, "WWW-Authenticate").unwrap();
    assert!(challenge.contains("realm=\"nomserve\""), "{challenge}");
    assert_eq!(
        get(&*stack(&top, "", &[]), "/private/secret.txt", "").status,
        200
    );
}

#[test]
fn cors_and_hsts_are_added_when_configured() {
    let top = site();
    let handler = stack(&top, "", &["--cors", "https://app.example"]);
    let origin = "Origin: https://app.example\r\n";
    let allowed = get(&*handler, "/a.txt", origin);
    assert_eq!(
        header(&allowed, "Access-Control-Allow-Origin"),
        Some("https://app.example")
    );
    let preflight = answer(
        &*handler,
        "OPTIONS /a.txt HTTP/1.1\r\nHost: localhost\r\nOrigin: https://app.example\r\n\
         Access-Control-Request-Method: GET\r\n\r\n",
    );
    assert_eq!(preflight.status, 204);
    let plain = stack(&top, "", &[]);
    assert_eq!(
        header(
            &get(&*plain, "/a.txt", origin),
            "Access-Control-Allow-Origin"
        ),
        None
    );

    let hsts = stack(
        &top,
        "",
        &["--tls-cert", "c", "--tls-key", "k", "--hsts", "1d"],
    );
    let secure = get(&*hsts, "/a.txt", "");
    assert_eq!(
        header(&secure, "Strict-Transport-Security"),
        Some("max-age=86400")
    );
    assert_eq!(
        header(&get(&*plain, "/a.txt", ""), "Strict-Transport-Security"),
        None
    );
}

#[test]
fn fallback_clean_urls_and_index_names_choose_the_file() {
    let top = site();
    let html = "Accept: text/html\r\n";
    let app = stack(&top, "", &["--fallback", "home.html"]);
    let route = get(&*app, "/app/route", html);
    assert_eq!((route.status, body(&route).as_str()), (200, "<p>home</p>"));
    let plain = stack(&top, "", &[]);
    assert_eq!(get(&*plain, "/app/route", html).status, 404);

    let clean = stack(&top, "", &["--clean-urls"]);
    let about = get(&*clean, "/about", "");
    assert_eq!((about.status, body(&about).as_str()), (200, "<p>about</p>"));
    assert_eq!(get(&*plain, "/about", "").status, 404);

    let index = stack(&top, "index = [\"home.html\"]\n", &[]);
    assert_eq!(body(&get(&*index, "/", "")), "<p>home</p>");
    assert_eq!(body(&get(&*plain, "/", "")), "<p>index</p>");
}

#[test]
fn echo_and_listings_are_on_or_off() {
    let top = site();
    let plain = stack(&top, "", &[]);
    let echo = get(&*plain, "/echo", "");
    assert_eq!(echo.status, 200);
    assert!(body(&echo).contains("/echo"), "{}", body(&echo));
    assert_eq!(
        get(&*stack(&top, "echo = false\n", &[]), "/echo", "").status,
        404
    );

    let listing = get(&*stack(&top, "", &["--list-dirs"]), "/dir/", "");
    assert_eq!(listing.status, 200);
    assert!(body(&listing).contains("x.txt"), "{}", body(&listing));
    assert_eq!(get(&*plain, "/dir/", "").status, 404);
}

#[test]
fn compression_makes_the_codings_chosen() {
    let top = site();
    let gzip = "Accept-Encoding: gzip\r\n";
    let compressed = get(&*stack(&top, "", &[]), "/style.css", gzip);
    assert_eq!(compressed.status, 200);
    assert_eq!(header(&compressed, "Content-Encoding"), Some("gzip"));
    let brotli_only = stack(&top, "", &["--compress", "br"]);
    assert_eq!(
        header(&get(&*brotli_only, "/style.css", gzip), "Content-Encoding"),
        None
    );
    let none = stack(&top, "", &["--compress", "none"]);
    assert_eq!(
        header(&get(&*none, "/style.css", gzip), "Content-Encoding"),
        None
    );
}

#[test]
fn a_reload_reports_the_restart_keys_and_applies_the_rest() {
    let top = site();
    let old = settings(&top, "port = 9000\n", &[]);
    let new = settings(
        &top,
        "port = 9001\ncache_control = \"max-age=5\"\nlist_dirs = true\n",
        &[],
    );
    assert_eq!(old.restart_only(&new), ["port"]);
    assert_eq!(old.changed(&new), ["cache_control", "list_dirs", "port"]);
    let handler = assembled(&new).handler;
    let file = get(&*handler, "/a.txt", "");
    assert_eq!(header(&file, "Cache-Control"), Some("max-age=5"));
    assert_eq!(get(&*handler, "/dir/", "").status, 200);
    let reloadable = settings(&top, "port = 9000\nclean_urls = true\n", &[]);
    assert!(old.restart_only(&reloadable).is_empty());
    assert_eq!(old.changed(&reloadable), ["clean_urls"]);

    // Every setting of the server's configuration, of where it listens and of the log takes
    // a restart.
    for (flag, value) in [
        ("--bind", "127.0.0.2"),
        ("--unix-socket-mode", "600"),
        ("--threads", "3"),
        ("--max-connections", "9"),
        ("--max-connections-per-ip", "2"),
        ("--ipv6-prefix", "48"),
        ("--header-timeout", "2s"),
        ("--keep-alive-timeout", "2s"),
        ("--send-timeout", "2s"),
        ("--min-send-rate", "0"),
        ("--trusted-proxy", "10.0.0.1"),
        ("--shutdown-timeout", "2s"),
        ("--access-log", "off"),
        ("--log-format", "json"),
        ("--metrics", "127.0.0.1:0"),
    ] {
        let changed = settings(&top, "port = 9000\n", &[flag, value]);
        let key = flag.trim_start_matches("--").replace('-', "_");
        assert_eq!(old.restart_only(&changed), [key], "{flag}");
    }
    let proxied = settings(&top, "port = 9000\nproxy_protocol = true\n", &[]);
    assert_eq!(old.restart_only(&proxied), ["proxy_protocol"]);
}

#[test]
fn an_upload_folder_needs_an_auth_area_covering_it_unless_anonymous() {
    let top = site();
    let users = top.path().join("users");
    let users = users.to_str().unwrap();
    let area = |glob: &str| format!("[[auth]]\npath = \"{glob}\"\nfile = \"{users}\"\n");
    let root = document_root(&top.path().join("www")).unwrap();
    for glob in ["/inbox/**", "/inbox/", "/**"] {
        let settings = settings(&top, &area(glob), &["--upload", "/inbox"]);
        assert!(assemble(&settings, &root).is_ok(), "{glob}");
    }
    let uncovered = settings(&top, &area("/private/**"), &["--upload", "/inbox"]);
    let Err(e) = assemble(&uncovered, &root) else {
        panic!("an upload folder outside every area was taken");
    };
    assert!(e.contains("no auth area covers /inbox/"), "{e}");
    let anonymous = settings(&top, "", &["--upload", "/inbox", "--upload-anonymous"]);
    assert!(assemble(&anonymous, &root).is_ok());
    // Through the whole stack: a PUT without credentials is challenged, with them taken.
    let handler = stack(&top, &area("/inbox/**"), &["--upload", "/inbox"]);
    let put = "PUT /inbox/a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\n";
    assert_eq!(answer(&*handler, put).status, 401);
    assert!(
        top.path().join("www/inbox").is_dir(),
        "created beneath the root"
    );
    // A folder's name is matched decoded, as the areas match every path; an area of the
    // folder alone guards the files put into it.
    let handler = stack(&top, &area("/caf\u{e9}/"), &["--upload", "/caf\u{e9}"]);
    let put = "PUT /caf%C3%A9/a.txt HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\n";
    assert_eq!(answer(&*handler, put).status, 401);
}
