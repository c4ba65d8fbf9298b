//! Directory listings (`--list-dirs`) through the real binary: the orders, sizes, times,
//! breadcrumbs and JSON a client sees, the names left out, the pages of a large directory,
//! and that a large listing is read once per change, not per request.

mod common;

use base64::Engine;
use common::{Response, Server, get, get_with, metric, metrics_addr};
use std::collections::HashMap;
use std::fs::{self, File, FileTimes};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;
use std::thread;
use std::time::{Duration, UNIX_EPOCH};

/// How long after a change on disk a request must see it: the bound the server promises
/// for its open-file cache, whose watches the listings share.
const BOUND: Duration = Duration::from_millis(50);

/// The links of a listing's rows, in order, without the `../` row.
fn rows(page: &str) -> Vec<String> {
    page.split("<td><a href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| *href != "../")
        .map(str::to_string)
        .collect()
}

/// Sets the modification time of `path` (a file or a directory) to `secs` after the epoch.
fn set_mtime(path: &Path, secs: u64) {
    File::open(path)
        .unwrap()
        .set_times(FileTimes::new().set_modified(UNIX_EPOCH + Duration::from_secs(secs)))
        .unwrap();
}

/// Writes `len` bytes to `path`, modified at `secs`.
fn file(path: &Path, len: usize, secs: u64) {
    fs::write(path, vec![b'x'; len]).unwrap();
    set_mtime(path, secs);
}

/// The sorting fixture: names that byte order gets wrong, sizes and times that each put
/// them in another order, and two folders.
fn sorting_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("s");
    fs::create_dir(&dir).unwrap();
    file(&dir.join("file10.txt"), 10, 1_000);
    file(&dir.join("file2.txt"), 300, 3_000);
    file(&dir.join("Zebra.txt"), 20, 2_000);
    file(&dir.join("app.wasm"), 5, 4_000);
    fs::create_dir(dir.join("Music")).unwrap();
    fs::create_dir(dir.join("docs")).unwrap();
    set_mtime(&dir.join("Music"), 500);
    set_mtime(&dir.join("docs"), 600);
    root
}

#[test]
fn sorted_by_each_column_both_ways_folders_first() {
    let root = sorting_root();
    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let order = |query: &str| {
        let response = get(&server, &format!("/s/{query}"));
        assert_eq!(response.status, 200, "{query}");
        rows(&response.text())
    };
    // Natural, case-insensitive: file2 before file10, app before Zebra, docs before Music.
    let by_name = [
        "docs/",
        "Music/",
        "app.wasm",
        "file2.txt",
        "file10.txt",
        "Zebra.txt",
    ];
    assert_eq!(order(""), by_name);
    assert_eq!(order("?sort=name&order=asc"), by_name);
    assert_eq!(
        order("?sort=name&order=desc"),
        [
            "Music/",
            "docs/",
            "Zebra.txt",
            "file10.txt",
            "file2.txt",
            "app.wasm"
        ]
    );
    // Folders have no size: among themselves they stay in name order.
    assert_eq!(
        order("?sort=size&order=asc"),
        [
            "docs/",
            "Music/",
            "app.wasm",
            "file10.txt",
            "Zebra.txt",
            "file2.txt"
        ]
    );
    assert_eq!(
        order("?sort=size&order=desc"),
        [
            "Music/",
            "docs/",
            "file2.txt",
            "Zebra.txt",
            "file10.txt",
            "app.wasm"
        ]
    );
    assert_eq!(
        order("?sort=modified"),
        [
            "Music/",
            "docs/",
            "file10.txt",
            "Zebra.txt",
            "file2.txt",
            "app.wasm"
        ]
    );
    assert_eq!(
        order("?sort=modified&order=desc"),
        [
            "docs/",
            "Music/",
            "app.wasm",
            "file2.txt",
            "Zebra.txt",
            "file10.txt"
        ]
    );
    // Anything invalid falls back to its default: by name, ascending, the first page.
    for query in [
        "?sort=bogus",
        "?order=sideways",
        "?sort=&order=",
        "?page=0",
        "?page=99",
        "?page=x",
        "?sort=SIZE",
    ] {
        assert_eq!(order(query), by_name, "{query}");
    }
    assert_eq!(order("?sort=size&order=bogus")[2], "app.wasm");
}

#[test]
fn column_headers_are_links_that_sort() {
    let root = sorting_root();
    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let page = get(&server, "/s/").text();
    assert!(
        page.contains(
            "<th aria-sort=\"ascending\"><a href=\"?sort=name&amp;order=desc\">Name \u{25b2}</a></th>"
        ),
        "{page}"
    );
    assert!(page.contains("<a href=\"?sort=size&amp;order=asc\">Size</a>"));
    assert!(page.contains("<a href=\"?sort=modified&amp;order=asc\">Modified</a>"));
    let page = get(&server, "/s/?sort=size&order=asc").text();
    assert!(
        page.contains(
            "<th class=\"size\" aria-sort=\"ascending\"><a href=\"?sort=size&amp;order=desc\">Size \u{25b2}</a></th>"
        ),
        "{page}"
    );
    assert!(page.contains("<a href=\"?sort=name&amp;order=asc\">Name</a>"));
}

#[test]
fn sizes_for_people_exact_bytes_on_hover_and_local_times() {
    let root = tempfile::tempdir().unwrap();
    let big = File::create(root.path().join("big.bin")).unwrap();
    big.set_len(1_258_291).unwrap();
    drop(big);
    set_mtime(&root.path().join("big.bin"), 1_704_164_645);
    file(&root.path().join("small.txt"), 512, 1_704_164_645);
    let huge = File::create(root.path().join("huge.iso")).unwrap();
    huge.set_len(314_572_800).unwrap();
    drop(huge);
    // A zone 5 h 30 min east of UTC, as a POSIX TZ string: no time zone database needed.
    let server = Server::with_env(
        root.path(),
        &["--list-dirs"],
        &[("RUST_LOG", "info"), ("TZ", "IST-5:30")],
    );
    let page = get(&server, "/").text();
    for cell in [
        "<td class=\"size\" title=\"1258291 bytes\">1.2 MiB</td>",
        "<td class=\"size\" title=\"512 bytes\">512 B</td>",
        "<td class=\"size\" title=\"314572800 bytes\">300 MiB</td>",
        // 2024-01-02T03:04:05Z is 08:34 in that zone; UTC stays machine-readable.
        "<time datetime=\"2024-01-02T03:04:05Z\" title=\"2024-01-02 08:34:05 IST\">2024-01-02 08:34</time>",
    ] {
        assert!(page.contains(cell), "no {cell} in\n{page}");
    }
    assert!(!page.contains("314572800<"), "{page}");
}

#[test]
fn breadcrumbs_link_every_ancestor() {
    let root = tempfile::tempdir().unwrap();
    fs::create_dir_all(root.path().join("a b/c#d/e\u{e9}")).unwrap();
    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let page = get(&server, "/a%20b/c%23d/e%C3%A9/").text();
    assert!(
        page.contains(
            "<h1>Index of <a href=\"/\">/</a><wbr><a href=\"/a%20b/\">a b/</a><wbr>\
             <a href=\"/a%20b/c%23d/\">c#d/</a><wbr><span aria-current=\"page\">e\u{e9}/</span></h1>"
        ),
        "{page}"
    );
    assert!(page.contains("<title>Index of /a b/c#d/e\u{e9}/</title>"));
    for ancestor in ["/", "/a%20b/", "/a%20b/c%23d/"] {
        assert_eq!(get(&server, ancestor).status, 200, "{ancestor}");
    }
    let top = get(&server, "/").text();
    assert!(
        top.contains("<h1>Index of <span aria-current=\"page\">/</span></h1>"),
        "{top}"
    );
}

#[test]
fn json_for_a_client_that_prefers_it() {
    let root = sorting_root();
    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let response = get_with(&server, "/s/", "Accept: application/json\r\n");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Content-Type"), Some("application/json"));
    assert_eq!(response.header("Vary"), Some("Accept"));
    let entries: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    let entries = entries.as_array().expect("an array");
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "docs",
            "Music",
            "app.wasm",
            "file2.txt",
            "file10.txt",
            "Zebra.txt"
        ]
    );
    for entry in entries {
        let object = entry.as_object().unwrap();
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["modified", "name", "size", "type"], "{entry}");
        assert!(entry["size"].is_u64(), "{entry}");
        let modified = entry["modified"].as_str().unwrap();
        assert!(humantime::parse_rfc3339(modified).is_ok(), "{modified}");
    }
    assert_eq!(entries[0]["type"], "dir");
    assert_eq!(entries[0]["modified"], "1970-01-01T00:10:00Z");
    assert_eq!(entries[3]["type"], "file");
    assert_eq!(entries[3]["size"], 300);
    assert_eq!(entries[3]["modified"], "1970-01-01T00:50:00Z");

    // The same sort parameters apply.
    let by_size = get_with(
        &server,
        "/s/?sort=size&order=desc",
        "Accept: text/html;q=0.5, application/json\r\n",
    );
    let by_size: serde_json::Value = serde_json::from_slice(&by_size.body).unwrap();
    assert_eq!(by_size[2]["name"], "file2.txt");

    // A browser, `*/*` and no Accept at all get the page, also with Vary: Accept.
    for accept in [
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n",
        "Accept: */*\r\n",
        "",
    ] {
        let response = get_with(&server, "/s/", accept);
        assert_eq!(
            response.header("Content-Type"),
            Some("text/html; charset=utf-8"),
            "{accept}"
        );
        assert_eq!(response.header("Vary"), Some("Accept"), "{accept}");
    }
}

#[test]
fn names_the_server_would_refuse_are_left_out_and_every_link_loads() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("n");
    fs::create_dir(&dir).unwrap();
    let refused = [
        "line\nLFNAME",
        "carriage\rCRNAME",
        "tab\tTABNAME",
        "back\\BSNAME",
        ".env",
    ];
    for name in refused {
        fs::write(dir.join(name), "refused").unwrap();
    }
    let served = [
        "sp ace.txt",
        "hash#tag.txt",
        "what?.txt",
        "100%.txt",
        "caf\u{e9}.txt",
        "\u{65e5}\u{672c}.txt",
        "plus+and&amp.txt",
    ];
    for name in served {
        fs::write(dir.join(name), name).unwrap();
    }
    fs::create_dir(dir.join("sub dir#1")).unwrap();
    let server = Server::with_args(root.path(), &["--list-dirs"]);

    let page = get(&server, "/n/").text();
    let links = rows(&page);
    assert_eq!(links.len(), served.len() + 1, "{links:?}");
    for word in ["LFNAME", "CRNAME", "TABNAME", "BSNAME", ".env"] {
        assert!(!page.contains(word), "{word} listed:\n{page}");
    }
    let json = get_with(&server, "/n/", "Accept: application/json\r\n");
    let json: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
    let mut names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = served.iter().copied().chain(["sub dir#1"]).collect();
    expected.sort_unstable();
    assert_eq!(names, expected);

    // Every link, resolved against the listing's URL, loads: the files with their content.
    for href in &links {
        let response = get(&server, &format!("/n/{href}"));
        assert_eq!(response.status, 200, "{href}");
        if !href.ends_with('/') {
            assert!(served.contains(&response.text().as_str()), "{href}");
        }
    }
    assert!(links.contains(&"sub%20dir%231/".to_string()), "{links:?}");
    assert!(links.contains(&"100%25.txt".to_string()), "{links:?}");
    assert!(links.contains(&"what%3F.txt".to_string()), "{links:?}");
    assert!(links.contains(&"caf%C3%A9.txt".to_string()), "{links:?}");

    // With --dotfiles, the dotfile is listed; the names a request cannot carry still are not.
    let server = Server::with_args(root.path(), &["--list-dirs", "--dotfiles"]);
    let page = get(&server, "/n/").text();
    assert!(page.contains("href=\".env\""), "{page}");
    assert_eq!(get(&server, "/n/.env").status, 200);
    assert_eq!(rows(&page).len(), served.len() + 2);
}

/// The names no request could carry are left out, and the page says how many: not the
/// dot-names `--dotfiles` hides (then no name at all is said of them), and not the entries an
/// auth area hides from the client (the count would tell they exist).
#[test]
fn the_page_says_how_many_names_were_left_out() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("n");
    fs::create_dir(&dir).unwrap();
    for name in [
        "line\nfeed",
        "tab\there",
        "back\\slash",
        ".dot\nline",
        ".env",
        "kept.txt",
        "SECRET.txt",
        "note\nSECRET",
    ] {
        fs::write(dir.join(name), "x").unwrap();
    }
    let note =
        |n: usize| format!("<p>{n} names could not be written in a URL and are not shown.</p>");

    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let page = get(&server, "/n/").text();
    assert_eq!(rows(&page), ["kept.txt", "SECRET.txt"], "{page}");
    assert!(page.contains("<p>0 folders, 2 files</p>"), "{page}");
    assert!(page.contains(&note(4)), "{page}");
    let json = get_with(&server, "/n/", "Accept: application/json\r\n");
    assert_eq!(json.status, 200);
    assert!(!json.text().contains("URL"), "the JSON is the entries only");

    // With dotfiles served, the dot-name that holds a line feed is one more left out.
    let server = Server::with_args(root.path(), &["--list-dirs", "--dotfiles"]);
    let page = get(&server, "/n/").text();
    assert!(page.contains("href=\".env\""), "{page}");
    assert!(page.contains(&note(5)), "{page}");

    // An area over every name with SECRET in it: the client that has not logged in is shown
    // neither SECRET.txt nor a count that includes the unwritable name in the area.
    let staff = root.path().join("staff");
    fs::write(
        &staff,
        format!("alice:{}\n", bcrypt::hash("alice pw", 4).unwrap()),
    )
    .unwrap();
    let config = root.path().join("areas.toml");
    fs::write(
        &config,
        format!(
            "[[auth]]\npath = \"/n/*SECRET*\"\nfile = {:?}\nrealm = \"Staff\"\n",
            staff.to_str().unwrap()
        ),
    )
    .unwrap();
    let www = root.path().join("www");
    fs::create_dir(&www).unwrap();
    fs::rename(&dir, www.join("n")).unwrap();
    let server = Server::with_args(&www, &["--list-dirs", "--config", config.to_str().unwrap()]);
    let page = get(&server, "/n/").text();
    assert_eq!(rows(&page), ["kept.txt"], "{page}");
    assert!(page.contains(&note(3)), "{page}");
    let alice = format!(
        "Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode("alice:alice pw")
    );
    let page = get_with(&server, "/n/", &alice).text();
    assert_eq!(rows(&page), ["kept.txt", "SECRET.txt"], "{page}");
    assert!(page.contains(&note(4)), "{page}");
}

/// A directory holding `n` files `f0` … `f{n-1}`.
fn many(n: usize) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("many");
    fs::create_dir(&dir).unwrap();
    for i in 0..n {
        fs::write(dir.join(format!("f{i}")), "").unwrap();
    }
    root
}

/// The number of calls of each system call the process `pid` (all its threads) makes while
/// `during` runs, counted by `strace -c`. `None` if strace is not installed (and `CI` is not
/// set: there its absence fails the test).
fn syscalls_during(pid: u32, during: impl FnOnce()) -> Option<HashMap<String, u64>> {
    let summary = tempfile::NamedTempFile::new().unwrap();
    let spawned = Command::new("strace")
        .args(["-f", "-c", "-e"])
        .arg("trace=openat,openat2,statx,newfstatat,fstat,getdents64")
        .arg("-o")
        .arg(summary.path())
        .arg("-p")
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut strace = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(
                std::env::var_os("CI").is_none(),
                "strace is not installed (CI is set: failing)"
            );
            eprintln!("SKIPPED: strace is not installed: apt-get install strace");
            return None;
        }
        Err(e) => panic!("start strace: {e}"),
    };
    // strace says "Process N attached with M threads" once it traces every thread.
    let (tx, rx) = channel();
    let stderr = strace.stderr.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.contains("attached") {
                let _ = tx.send(line);
            }
        }
    });
    if rx.recv_timeout(common::TIMEOUT).is_err() {
        let _ = strace.kill();
        panic!("strace did not attach to {pid}");
    }
    during();
    let status = Command::new("kill")
        .arg("-INT")
        .arg(strace.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    strace.wait().unwrap();
    let text = fs::read_to_string(summary.path()).unwrap();
    let mut counts = HashMap::new();
    for line in text.lines() {
        // "% time  seconds  usecs/call  calls  [errors]  syscall"
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let (Some(calls), Some(name)) = (fields.get(3), fields.last()) {
            if let Ok(calls) = calls.parse::<u64>() {
                if *name != "total" {
                    counts.insert(name.to_string(), calls);
                }
            }
        }
    }
    Some(counts)
}

/// The calls that look at a directory's entries, summed.
fn entry_calls(counts: &HashMap<String, u64>) -> u64 {
    [
        "openat",
        "openat2",
        "statx",
        "newfstatat",
        "fstat",
        "getdents64",
    ]
    .iter()
    .filter_map(|name| counts.get(*name))
    .sum()
}

#[test]
fn a_second_request_for_a_large_listing_is_served_from_the_cache() {
    let root = many(10_000);
    let server = Server::with_args(root.path(), &["--list-dirs", "--metrics", "127.0.0.1:0"]);
    let metrics = metrics_addr(&server);
    let mut first = None;
    let Some(reading) = syscalls_during(server.pid(), || {
        first = Some(get_with(&server, "/many/", "Accept: application/json\r\n"));
    }) else {
        return;
    };
    let first = first.unwrap();
    assert_eq!(first.status, 200);
    // Reading the directory looks at every entry: the count measures what it should.
    assert!(
        entry_calls(&reading) >= 10_000,
        "the first request made {reading:?}"
    );
    let second = from_the_cache(&server, metrics, || {
        get_with(&server, "/many/", "Accept: application/json\r\n")
    });
    assert_eq!(second.body, first.body);
    // Another order and the page form come from the same reading.
    let page = from_the_cache(&server, metrics, || {
        get(&server, "/many/?sort=modified&order=desc")
    });
    assert_eq!(rows(&page.text()).len(), 10_000);
}

/// `request`, answered from the listing cache (the metrics listener at `metrics` counts it a
/// hit, and no directory read). A listing is read again once it is a second old, the cache's
/// bound on staleness: so `request` follows a request for `/many/` that brings the reading
/// up to date, and is tried again, a few times at most, if the machine was too slow for it
/// to come within the second.
fn from_the_cache(
    server: &Server,
    metrics: SocketAddr,
    request: impl Fn() -> Response,
) -> Response {
    for _ in 0..5 {
        assert_eq!(get(server, "/many/").status, 200);
        let hits = metric(metrics, "nomserve_listing_cache_hits_total");
        let misses = metric(metrics, "nomserve_listing_cache_misses_total");
        let response = request();
        assert_eq!(response.status, 200);
        if metric(metrics, "nomserve_listing_cache_misses_total") == misses {
            assert_eq!(
                metric(metrics, "nomserve_listing_cache_hits_total"),
                hits + 1
            );
            return response;
        }
    }
    panic!("five requests in a row, each right after a reading, read the directory again");
}

/// The names the JSON listing of `path` gives.
fn json_names(server: &Server, path: &str) -> Vec<String> {
    let response: Response = get_with(server, path, "Accept: application/json\r\n");
    assert_eq!(response.status, 200, "{path}");
    let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_cached_listing_follows_every_change() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("d");
    fs::create_dir_all(dir.join("sub")).unwrap();
    fs::write(dir.join("a.txt"), "a").unwrap();
    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let listing = |path: &str| {
        let response = get_with(&server, path, "Accept: application/json\r\n");
        serde_json::from_slice::<serde_json::Value>(&response.body).unwrap()
    };
    listing("/d/");
    assert_eq!(json_names(&server, "/d/"), ["sub", "a.txt"]);

    fs::write(dir.join("b.txt"), "b").unwrap();
    thread::sleep(BOUND);
    assert_eq!(json_names(&server, "/d/"), ["sub", "a.txt", "b.txt"]);

    fs::write(dir.join("a.txt"), "grown").unwrap();
    thread::sleep(BOUND);
    assert_eq!(listing("/d/")[1]["size"], 5);

    set_mtime(&dir.join("a.txt"), 1_000);
    thread::sleep(BOUND);
    assert_eq!(listing("/d/")[1]["modified"], "1970-01-01T00:16:40Z");

    // A change inside a subdirectory changes the subdirectory's modification time.
    set_mtime(&dir.join("sub"), 2_000);
    thread::sleep(BOUND);
    assert_eq!(listing("/d/")[0]["modified"], "1970-01-01T00:33:20Z");
    fs::write(dir.join("sub/new"), "").unwrap();
    thread::sleep(BOUND);
    assert_ne!(listing("/d/")[0]["modified"], "1970-01-01T00:33:20Z");

    fs::remove_file(dir.join("b.txt")).unwrap();
    fs::rename(dir.join("sub"), dir.join("moved")).unwrap();
    thread::sleep(BOUND);
    assert_eq!(json_names(&server, "/d/"), ["moved", "a.txt"]);

    // The directory itself replaced by another of the same name.
    fs::rename(&dir, root.path().join("old")).unwrap();
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("fresh.txt"), "").unwrap();
    thread::sleep(BOUND);
    assert_eq!(json_names(&server, "/d/"), ["fresh.txt"]);
}

#[test]
fn a_large_listing_is_paginated() {
    let root = many(10_050);
    let server = Server::with_args(root.path(), &["--list-dirs"]);

    let first = get(&server, "/many/");
    let first_rows = rows(&first.text());
    assert_eq!(first_rows.len(), 10_000);
    assert_eq!(first_rows[..3], ["f0", "f1", "f2"]);
    assert_eq!(
        first.header("Link"),
        Some("<?sort=name&order=asc&page=2>; rel=\"next\"")
    );
    let page = first.text();
    assert!(page.contains("Page 1 of 2:"), "no page navigation");
    assert!(page.contains("<a rel=\"next\" href=\"?sort=name&amp;order=asc&amp;page=2\">Next</a>"));
    assert!(page.contains("0 folders, 10050 files"));

    let second = get(&server, "/many/?sort=name&order=asc&page=2");
    let second_rows = rows(&second.text());
    assert_eq!(second_rows.len(), 50);
    assert_eq!(second_rows[0], "f10000");
    assert_eq!(second_rows[49], "f10049");
    assert_eq!(
        second.header("Link"),
        Some("<?sort=name&order=asc>; rel=\"prev\"")
    );
    assert!(
        second
            .text()
            .contains("<a rel=\"prev\" href=\"?sort=name&amp;order=asc\">Previous</a>")
    );

    // Pages follow the order: the second page of the reverse order holds f0 … f49.
    let reversed = json_names(&server, "/many/?sort=name&order=desc&page=2");
    assert_eq!(reversed.len(), 50);
    assert_eq!(reversed[0], "f49");
    assert_eq!(reversed[49], "f0");

    // Every entry is on exactly one page.
    let mut all = json_names(&server, "/many/");
    all.extend(json_names(&server, "/many/?page=2"));
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 10_050);

    // A page past the last falls back to the first.
    assert_eq!(rows(&get(&server, "/many/?page=3").text()), first_rows);
}

/// A change the directory's watch cannot see, to a file listed through a symlink or with a
/// second name elsewhere, is seen all the same: such a listing is read every time.
#[test]
fn entries_reached_by_another_name_are_never_stale() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("d");
    let elsewhere = root.path().join("elsewhere");
    fs::create_dir_all(&dir).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    fs::write(elsewhere.join("target.txt"), "1").unwrap();
    std::os::unix::fs::symlink("../elsewhere/target.txt", dir.join("link.txt")).unwrap();
    let server = Server::with_args(root.path(), &["--list-dirs"]);
    let sizes = |path: &str| {
        let response = get_with(&server, path, "Accept: application/json\r\n");
        let value: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    e["size"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(sizes("/d/"), [("link.txt".to_string(), 1)]);
    assert_eq!(sizes("/d/"), [("link.txt".to_string(), 1)]);
    fs::write(elsewhere.join("target.txt"), "four").unwrap();
    thread::sleep(BOUND);
    assert_eq!(sizes("/d/"), [("link.txt".to_string(), 4)]);

    let linked = root.path().join("linked");
    fs::create_dir(&linked).unwrap();
    fs::write(elsewhere.join("shared.txt"), "1").unwrap();
    fs::hard_link(elsewhere.join("shared.txt"), linked.join("shared.txt")).unwrap();
    assert_eq!(sizes("/linked/"), [("shared.txt".to_string(), 1)]);
    assert_eq!(sizes("/linked/"), [("shared.txt".to_string(), 1)]);
    fs::write(elsewhere.join("shared.txt"), "seven!!").unwrap();
    thread::sleep(BOUND);
    assert_eq!(sizes("/linked/"), [("shared.txt".to_string(), 7)]);
}
