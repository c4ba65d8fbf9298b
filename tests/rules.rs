//! `[[rules]]` and `[[redirects]]` at scale and at their edges, against the real binary: ten
//! thousand of each load and match as a few do, a redirect never sends a client to another
//! host, and a `to` whose host a `*` would complete is refused with its line.

mod common;

use common::{Server, get, run_to_exit};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// How many `[[rules]]`, and how many `[[redirects]]`.
const MANY: usize = 10_000;

/// Writes `text` as `name` in `dir`, returning its path.
fn config_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// A config of `MANY` rules and `MANY` redirects. Rules: the first, `/**`, sets `X-Rule:
/// base` and `X-Base: 1` everywhere; rule `i` after it sets `X-Rule: i`, for `i % 4` = 0
/// under `/r{i}/` (`/r{i}/**`), 1 for the `.txt` files in `/r{i}/` (`/r{i}/*.txt`), 2 for
/// `f{i}.txt` at any depth (`/**/f{i}.txt`), 3 for the `.txt` files in any folder `k{i}`
/// (`/**/k{i}/*.txt`, which also adds `Vary: X-K`). Redirects: `/old{i}/*` to `/new{i}/*`
/// for even `i`, `/page{i}` to `/p/{i}` for odd `i`, then an exact `/old0/shadowed`, which
/// the earlier `/old0/*` always takes first.
fn many() -> String {
    let mut text = String::from(
        "[[rules]]\npath = \"/**\"\nheaders = { \"X-Rule\" = \"base\", \"X-Base\" = \"1\" }\n",
    );
    for i in 1..MANY {
        let (glob, vary) = match i % 4 {
            0 => (format!("/r{i}/**"), ""),
            1 => (format!("/r{i}/*.txt"), ""),
            2 => (format!("/**/f{i}.txt"), ""),
            _ => (format!("/**/k{i}/*.txt"), ", \"Vary\" = \"X-K\""),
        };
        writeln!(
            text,
            "[[rules]]\npath = \"{glob}\"\nheaders = {{ \"X-Rule\" = \"{i}\"{vary} }}"
        )
        .unwrap();
    }
    for i in 0..MANY - 1 {
        let (from, to) = if i % 2 == 0 {
            (format!("/old{i}/*"), format!("/new{i}/*"))
        } else {
            (format!("/page{i}"), format!("/p/{i}"))
        };
        writeln!(text, "[[redirects]]\nfrom = \"{from}\"\nto = \"{to}\"").unwrap();
    }
    text.push_str("[[redirects]]\nfrom = \"/old0/shadowed\"\nto = \"/never\"\n");
    text
}

#[test]
fn ten_thousand_rules_and_redirects_match_first_middle_and_last() {
    let root = tempfile::tempdir().unwrap();
    let files = [
        "r1/a.txt",
        "r1/sub/b.txt",
        "r4/sub/b.txt",
        "x/y/f2.txt",
        "k3/a.txt",
        "r5000/sub/b.txt",
        "r5001/a.txt",
        "f5002.txt",
        "deep/er/k5003/a.txt",
        "r9996/a.txt",
        "r9997/a.txt",
        "r9997/sub/b.txt",
        "x/f9998.txt",
        "k9999/k9999/a.txt",
        "other.txt",
    ];
    for file in files {
        let path = root.path().join(file);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "a\n").unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), "many.toml", &many());
    let server = Server::with_args(root.path(), &["--config", &config]);

    for (path, rule) in [
        ("/r1/a.txt", "1"),
        // `*` stays within a segment: only the first rule matches below /r1/sub/.
        ("/r1/sub/b.txt", "base"),
        ("/r4/sub/b.txt", "4"),
        ("/x/y/f2.txt", "2"),
        ("/k3/a.txt", "3"),
        ("/r5000/sub/b.txt", "5000"),
        ("/r5001/a.txt", "5001"),
        ("/f5002.txt", "5002"),
        ("/deep/er/k5003/a.txt", "5003"),
        ("/r9996/a.txt", "9996"),
        ("/r9997/a.txt", "9997"),
        ("/r9997/sub/b.txt", "base"),
        ("/x/f9998.txt", "9998"),
        ("/k9999/k9999/a.txt", "9999"),
        ("/other.txt", "base"),
    ] {
        let response = get(&server, path);
        assert_eq!(response.status, 200, "{path}");
        // For each name the last matching rule wins; names it does not set stay.
        assert_eq!(response.header("X-Rule"), Some(rule), "{path}");
        assert_eq!(response.header("X-Base"), Some("1"), "{path}");
        // A rule applies once, however many times the path holds what it names.
        let vary = response
            .headers
            .iter()
            .filter(|(name, value)| name.eq_ignore_ascii_case("Vary") && value == "X-K")
            .count();
        let by_k = path.contains("/k");
        assert_eq!(vary, usize::from(by_k), "{path}");
    }

    for (path, location) in [
        ("/old0/x", Some("/new0/x")),
        ("/old0/shadowed", Some("/new0/shadowed")),
        ("/page1", Some("/p/1")),
        ("/old5000/a/b?q=1", Some("/new5000/a/b?q=1")),
        ("/page4999", Some("/p/4999")),
        ("/old9998", Some("/new9998/")),
        ("/page9997", Some("/p/9997")),
        ("/page9997/x", None),
        ("/old1/x", None),
        ("/page2", None),
    ] {
        let response = get(&server, path);
        assert_eq!(response.header("Location"), location, "{path}");
        let status = if location.is_some() { 301 } else { 404 };
        assert_eq!(response.status, status, "{path}");
    }
}

#[test]
fn a_path_target_never_names_another_host() {
    let root = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(
        dir.path(),
        "splat.toml",
        "[[redirects]]\nfrom = \"/app*\"\nto = \"/*\"\nstatus = 302\n",
    );
    let server = Server::with_args(root.path(), &["--config", &config]);
    for (target, location) in [
        ("/app//evil.example/x", "/evil.example/x"),
        ("/app/evil.example/x?a=b", "/evil.example/x?a=b"),
        ("/app///evil.example", "/evil.example"),
        ("/app/", "/"),
        ("/apple", "/le"),
    ] {
        let response = get(&server, target);
        assert_eq!(response.status, 302, "{target}");
        assert_eq!(response.header("Location"), Some(location), "{target}");
    }
}

#[test]
fn a_target_a_request_could_turn_into_another_host_is_refused_with_its_line() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path().to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, to) in [
        ("authority.toml", "https://blog.example.com*"),
        ("port.toml", "http://blog.example.com:*"),
        ("scheme-relative.toml", "//cdn.example/*"),
        ("backslash.toml", "/\\\\cdn.example/*"),
    ] {
        let text = format!(
            "[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\n\n\
             [[redirects]]\nfrom = \"/blog*\"\nto = \"{to}\"\n"
        );
        let file = config_file(dir.path(), name, &text);
        let expected = format!("{file}:7: key `redirects.to`");
        for check in [true, false] {
            let mut args = vec!["--config", &file, "--root", root, "--port", "0"];
            if check {
                args.insert(0, "--check-config");
            }
            let run = run_to_exit(&args);
            assert_eq!(run.status.code(), Some(2), "{name}: {run:?}");
            assert!(run.stderr.contains(&expected), "{name}: {run:?}");
            assert!(!run.stdout.contains("configuration OK"), "{name}: {run:?}");
        }
    }
    // A `*` after the host is fine.
    let file = config_file(
        dir.path(),
        "good.toml",
        "[[redirects]]\nfrom = \"/blog/*\"\nto = \"https://blog.example.com/*\"\n\
         [[redirects]]\nfrom = \"/q/*\"\nto = \"https://q.example?path=*\"\n",
    );
    let run = run_to_exit(&["--check-config", "--config", &file, "--root", root]);
    assert!(run.status.success(), "{run:?}");
}
