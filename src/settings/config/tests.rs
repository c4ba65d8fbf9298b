//! Reading the file: keys, tables, mistakes.

use super::*;

/// Loads `argv` with a config file holding `text`, in a folder that also holds an empty
/// `users.htpasswd` and a folder `site`; the errors without the file's path.
fn with_file(text: &str, argv: &[&str]) -> Result<Settings, String> {
    in_folder(text, argv).1
}

/// [`with_file`], and the folder.
fn in_folder(text: &str, argv: &[&str]) -> (tempfile::TempDir, Result<Settings, String>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users.htpasswd"), "").unwrap();
    std::fs::create_dir(dir.path().join("site")).unwrap();
    let path = dir.path().join("nomserve.toml");
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap().to_string();
    let mut full: Vec<OsString> = vec!["nomserve".into(), "--config".into(), (&path).into()];
    full.extend(argv.iter().map(OsString::from));
    let prefix = format!("{path}:");
    let loaded = load(&full).map_err(|e| e.to_string().replace(&prefix, ""));
    (dir, loaded)
}

#[test]
fn file_keys_are_the_long_flags_and_the_command_line_wins() {
    let text = "port = 9000\ncache_control = \"max-age=60\"\nlist_dirs = true\n\
                index = [\"index.htm\", \"index.html\"]\nheader = [\"X-A: 1\"]\n\
                echo = false\nheader_timeout = \"3s\"\n";
    let settings = with_file(text, &["--port", "9001"]).unwrap();
    let args = &settings.args;
    assert_eq!(args.port, 9001);
    assert_eq!(args.cache_control, "max-age=60");
    assert!(args.list_dirs && args.no_echo);
    assert_eq!(args.index, ["index.htm", "index.html"]);
    assert_eq!(args.headers.len(), 1);
    assert_eq!(args.header_timeout, std::time::Duration::from_secs(3));
    let settings = with_file("index = [\"a.html\"]\n", &["--index", "b.html"]).unwrap();
    assert_eq!(settings.args.index, ["b.html"]);
    let settings = with_file("echo = true\n", &[]).unwrap();
    assert!(!settings.args.no_echo);
}

#[test]
fn a_reload_names_what_changed() {
    let old = with_file("list_dirs = true\nport = 9000\n", &[]).unwrap();
    let new = with_file(
        "port = 9000\ncache_control = \"max-age=9\"\n[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        old.changed(&new),
        ["cache_control", "config", "list_dirs", "redirects"]
    );
    assert!(new.changed(&new).is_empty());
}

#[test]
fn tables_are_read() {
    let text = "[[rules]]\npath = \"/assets/**\"\n\
                headers = { \"Cache-Control\" = \"public, max-age=31536000, immutable\" }\n\
                [[redirects]]\nfrom = \"/old/*\"\nto = \"/new/*\"\nstatus = 308\n\
                [[redirects]]\nfrom = \"/a\"\nto = \"https://example.com/b\"\n\
                [[auth]]\npath = \"/private/**\"\nfile = \"users.htpasswd\"\nrealm = \"Staff\"\n";
    let settings = with_file(text, &[]).unwrap();
    let glob = settings.rules[0].glob.compile_matcher();
    assert!(glob.is_match("/assets/js/app.js"));
    assert!(!glob.is_match("/other/assets/x"));
    assert_eq!(settings.rules[0].fields[0].0, "Cache-Control");
    assert_eq!(
        settings.redirects,
        [
            RedirectRule {
                from: "/old/*".into(),
                to: "/new/*".into(),
                status: 308
            },
            RedirectRule {
                from: "/a".into(),
                to: "https://example.com/b".into(),
                status: 301
            }
        ]
    );
    assert_eq!(settings.auth[0].realm, "Staff");
    // A `*` after the host, in the path or the query, and `://` in a path, are fine.
    for to in ["https://h.example/*", "https://h.example?p=*", "/x://y/*"] {
        let text = format!("[[redirects]]\nfrom = \"/a/*\"\nto = \"{to}\"\n");
        assert_eq!(with_file(&text, &[]).unwrap().redirects[0].to, to);
    }
    assert!(settings.auth[0].glob.is_match("/private/a/b"));
}

#[test]
fn mistakes_name_the_line_the_key_and_the_reason() {
    for (text, expected) in [
        (
            "port = 1\ncache_contrl = \"x\"\n",
            "2: key `cache_contrl`: unknown key",
        ),
        ("port = \"abc\"\n", "1: key `port`: invalid value \"abc\""),
        (
            "list_dirs = \"yes\"\n",
            "1: key `list_dirs`: expected true or false",
        ),
        (
            "port = [1]\n",
            "1: key `port`: expected one value, found an array",
        ),
        (
            "\n\n[[rules]]\npath = \"/a/[b\"\nheaders = {}\n",
            "4: key `rules.path`: bad glob",
        ),
        (
            "header = [\"X-A: 1\\r\\nX-B: 2\"]\n",
            "1: key `header`: invalid value \"X-A: 1\\r\\nX-B: 2\": a field value",
        ),
        (
            "[[rules]]\npath = \"/x\"\nheaders = { \"X-A\" = \"a\\nb\" }\n",
            "3: key `rules.headers`: invalid value",
        ),
        (
            "[[redirects]]\nfrom = \"/a\"\nto = \"/b\"\nstatus = 200\n",
            "4: key `redirects.status`: 301, 302, 307 or 308",
        ),
        (
            "config = \"other.toml\"\n",
            "1: key `config`: a command-line option",
        ),
        (
            "[[redirects]]\nfrom = \"/blog*\"\nto = \"https://blog.example.com*\"\n",
            "3: key `redirects.to`: a * in the host",
        ),
        (
            "[[redirects]]\nfrom = \"/a/*\"\nto = \"https://a@*.example/\"\n",
            "3: key `redirects.to`: a * in the host",
        ),
        (
            "[[redirects]]\nfrom = \"/a/*\"\n\nto = \"//cdn.example/*\"\n",
            "4: key `redirects.to`: a path cannot begin with //",
        ),
    ] {
        let error = with_file(text, &[]).unwrap_err();
        assert!(error.starts_with(expected), "{text:?}: {error}");
    }
}

#[test]
fn every_mistake_is_reported_in_file_order() {
    let text = "zeta = 1\nport = \"abc\"\n[[redirects]]\nfrom = \"a\"\nto = \"/b\"\nstatus = 200\n\
                [[rules]]\npath = \"/x\"\nheaders = { \"X-A\" = 1, \"X-B\" = \"a\\nb\" }\n\
                [[auth]]\npath = \"/p/**\"\nfile = \"nobody.htpasswd\"\n";
    let error = with_file(text, &[]).unwrap_err();
    let lines: Vec<&str> = error.lines().collect();
    let expected = [
        "1: key `zeta`: unknown key",
        "2: key `port`: invalid value \"abc\"",
        "4: key `redirects.from`: a path starting with /",
        "6: key `redirects.status`: 301, 302, 307 or 308",
        "9: key `rules.headers`: a field value is a string",
        "9: key `rules.headers`: invalid value",
        "12: key `auth.file`: no such file ",
    ];
    assert_eq!(lines.len(), expected.len(), "{error}");
    for (line, expected) in lines.iter().zip(expected) {
        assert!(line.starts_with(expected), "{line} / {expected}");
    }
}

#[test]
fn unknown_keys_and_tables_suggest_the_nearest() {
    for (text, expected) in [
        (
            "cache_contrl = \"x\"\n",
            "1: key `cache_contrl`: unknown key; did you mean `cache_control`?",
        ),
        (
            "cache-control = \"x\"\n",
            "1: key `cache-control`: unknown key; did you mean `cache_control`?",
        ),
        (
            "[[redirect]]\nfrom = \"/a\"\nto = \"/b\"\n",
            "1: key `redirect`: unknown key; did you mean `[[redirects]]`?",
        ),
        (
            "[[rules]]\npath = \"/a\"\nheader = { \"X-A\" = \"1\" }\n",
            "3: key `rules.header`: unknown key; did you mean `headers`?",
        ),
        ("zzzzzz = 1\n", "1: key `zzzzzz`: unknown key"),
        (
            "[auth]\npath = \"/a\"\n",
            "1: key `auth`: expected tables: write [[auth]]",
        ),
    ] {
        let error = with_file(text, &[]).unwrap_err();
        assert!(
            error.lines().any(|line| line == expected),
            "{text:?}: {error}"
        );
    }
    let error = with_file("zzzzzz = 1\n", &[]).unwrap_err();
    assert!(!error.contains("did you mean"), "{error}");
}

#[test]
fn relative_paths_are_read_from_the_file_s_folder() {
    let text = "root = \"site\"\nauth_file = \"users.htpasswd\"\naccess_log = \"access.log\"\n\
                bind = [\"unix:nomserve.sock\", \"127.0.0.1\"]\n\
                [[auth]]\npath = \"/p/**\"\nfile = \"users.htpasswd\"\n";
    let (dir, settings) = in_folder(text, &[]);
    let args = settings.unwrap().args;
    let dir = dir.path();
    assert_eq!(args.root, dir.join("site"));
    assert_eq!(args.auth_file, Some(dir.join("users.htpasswd")));
    let log = crate::http::access_log::Destination::File(dir.join("access.log"));
    assert_eq!(args.access_log, Some(log));
    assert!(
        matches!(&args.bind[0], crate::server::listeners::Bind::Unix(p) if *p == dir.join("nomserve.sock"))
    );
    // Absolute paths, `-` and `off` stay as written.
    let (_, settings) = in_folder("access_log = \"-\"\nauth_file = \"/dev/null\"\n", &[]);
    let args = settings.unwrap().args;
    assert_eq!(
        args.access_log,
        Some(crate::http::access_log::Destination::Stdout)
    );
    assert_eq!(args.auth_file, Some(PathBuf::from("/dev/null")));
    // A path that names nothing is reported with the key that set it.
    let error = with_file(
        "root = \"dist\"\ntls_cert = \"c.pem\"\ntls_key = \"k.pem\"\n",
        &[],
    );
    let error = error.unwrap_err();
    assert!(
        error.starts_with("1: key `root`: no such directory /"),
        "{error}"
    );
    assert!(error.contains("dist\n"), "{error}");
    assert!(
        error.contains("2: key `tls_cert`: no such file /"),
        "{error}"
    );
    // The command line's folder wins, and the file's is then not looked for.
    let with_dir = with_file("root = \"dist\"\n", &["/tmp"]).unwrap();
    assert_eq!(with_dir.args.root, PathBuf::from("/tmp"));
}

#[test]
fn a_reload_tells_restart_only_keys_from_the_rest() {
    let old = with_file("port = 9000\ncache_control = \"a\"\n", &[]).unwrap();
    let new = with_file("port = 9001\ncache_control = \"b\"\n", &[]).unwrap();
    assert_eq!(old.restart_only(&new), ["port"]);
    assert_eq!(old.reloadable(&new), ["cache_control", "config"]);
}

#[test]
fn http2_is_on_by_default_and_turned_off_by_a_boolean_or_a_word() {
    use crate::settings::cli::OnOff;
    assert_eq!(with_file("", &[]).unwrap().args.http2, OnOff(true));
    for text in ["http2 = false\n", "http2 = \"off\"\n"] {
        assert_eq!(
            with_file(text, &[]).unwrap().args.http2,
            OnOff(false),
            "{text}"
        );
    }
    let on = with_file("http2 = false\n", &["--http2", "on"]).unwrap();
    assert_eq!(on.args.http2, OnOff(true), "the command line wins");
    let error = with_file("http2 = \"maybe\"\n", &[]).unwrap_err();
    assert!(error.contains("neither on nor off"), "{error}");
}

#[test]
fn upload_folders_come_from_the_flag_and_the_file() {
    let text = "\
                [[upload]]\npath = \"/inbox\"\nmax_size = \"10MiB\"\noverwrite = true\nmkdir = false\n\
                [[upload]]\npath = \"/bytes\"\nmax_size = 4096\n";
    // A folder given by both is configured by the file's table.
    let settings = with_file(text, &["--upload", "/cli", "--upload", "/inbox"]).unwrap();
    let folders: Vec<(&str, Option<u64>, bool, bool)> = settings
        .upload
        .iter()
        .map(|f| (f.path.as_str(), f.max_size, f.overwrite, f.mkdir))
        .collect();
    assert_eq!(
        folders,
        [
            ("/cli", None, false, true),
            ("/inbox", Some(10 * 1024 * 1024), true, false),
            ("/bytes", Some(4096), false, true),
        ]
    );
    let settings = with_file("upload = [\"/drop\"]\n", &[]).unwrap();
    assert_eq!(settings.upload[0], UploadFolder::at("/drop"));
    let mistakes = with_file(
        "[[upload]]\npath = \"inbox\"\nsize = 3\noverwrite = \"yes\"\n",
        &[],
    )
    .unwrap_err();
    for expected in [
        "key `upload.size`: unknown key",
        "key `upload.overwrite`: expected true or false",
        "key `upload.path`: a folder path starts with /",
    ] {
        assert!(mistakes.contains(expected), "{expected}: {mistakes}");
    }
}

#[test]
fn http3_is_unsaid_by_default_and_set_by_a_boolean_or_a_word() {
    use crate::settings::cli::OnOff;
    assert_eq!(with_file("", &[]).unwrap().args.http3, None);
    for text in ["http3 = true\n", "http3 = \"on\"\n"] {
        assert_eq!(
            with_file(text, &[]).unwrap().args.http3,
            Some(OnOff(true)),
            "{text}"
        );
    }
    let off = with_file("http3 = true\n", &["--http3", "off"]).unwrap();
    assert_eq!(off.args.http3, Some(OnOff(false)), "the command line wins");
}
