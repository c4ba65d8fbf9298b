//! Settings from a config file and the environment, against the real binary: precedence,
//! `--check-config`, mistakes refused at startup with where and why, and SIGHUP applying a
//! new file while a connection opened before it goes on.

mod common;

use common::{Server, get, read_response, run_to_exit, www};
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Writes `text` as the config file `name` in `dir`; returns its path as a string.
fn config_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_file_sets_what_the_command_line_and_environment_leave() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(
        dir.path(),
        "nomserve.toml",
        "cache_control = \"max-age=60\"\nlist_dirs = true\n",
    );
    let server = Server::with_args(&www(), &["--config", &file]);
    assert_eq!(
        get(&server, "/test.txt").header("Cache-Control"),
        Some("max-age=60")
    );

    // The environment beats the file, and the command line beats both.
    let server = Server::with_env(
        &www(),
        &["--config", &file],
        &[
            ("RUST_LOG", "info"),
            ("NOMSERVE_CACHE_CONTROL", "max-age=120"),
        ],
    );
    assert_eq!(
        get(&server, "/test.txt").header("Cache-Control"),
        Some("max-age=120")
    );
    let server = Server::with_env(
        &www(),
        &["--config", &file, "--cache-control", "no-store"],
        &[
            ("RUST_LOG", "info"),
            ("NOMSERVE_CACHE_CONTROL", "max-age=120"),
        ],
    );
    assert_eq!(
        get(&server, "/test.txt").header("Cache-Control"),
        Some("no-store")
    );
}

#[test]
fn the_config_file_can_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(dir.path(), "c.toml", "cache_control = \"max-age=7\"\n");
    let server = Server::with_env(
        &www(),
        &[],
        &[("RUST_LOG", "info"), ("NOMSERVE_CONFIG", &file)],
    );
    assert_eq!(
        get(&server, "/test.txt").header("Cache-Control"),
        Some("max-age=7")
    );
}

#[test]
fn check_config_validates_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let root = www();
    let root = root.to_str().unwrap();
    let good = config_file(dir.path(), "good.toml", "list_dirs = true\nport = 1\n");
    let run = run_to_exit(&["--check-config", "--config", &good, "--root", root]);
    assert!(run.status.success(), "{run:?}");
    assert!(run.stdout.contains("configuration OK"), "{run:?}");
    // Nothing listened: port 1 would have needed privileges, and no banner was printed.
    assert!(!run.stderr.contains("Server is listening"), "{run:?}");

    let missing_root = config_file(dir.path(), "root.toml", "root = \"/no/such/dir\"\n");
    let run = run_to_exit(&["--check-config", "--config", &missing_root]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(run.stderr.contains("/no/such/dir"), "{run:?}");
}

#[test]
fn mistakes_are_refused_at_startup_with_file_line_key_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, expected) in [
        (
            "key.toml",
            "list_dirs = true\ncache_contrl = \"x\"\n",
            ":2: key `cache_contrl`: unknown key",
        ),
        (
            "type.toml",
            "list_dirs = \"yes\"\n",
            ":1: key `list_dirs`: expected true or false",
        ),
        (
            "value.toml",
            "header_timeout = \"soon\"\n",
            ":1: key `header_timeout`: invalid value \"soon\"",
        ),
        (
            "glob.toml",
            "[[rules]]\npath = \"/a/[b\"\nheaders = { \"X-A\" = \"1\" }\n",
            ":2: key `rules.path`: bad glob",
        ),
        (
            "field.toml",
            "header = [\"X-A: 1\\r\\nX-Injected: 2\"]\n",
            ":1: key `header`: invalid value \"X-A: 1\\r\\nX-Injected: 2\": a field value",
        ),
        ("syntax.toml", "port = \n", ":1: "),
    ] {
        let file = config_file(dir.path(), name, text);
        let run = run_to_exit(&["--config", &file]);
        assert_eq!(run.status.code(), Some(2), "{name}: {run:?}");
        let expected = format!("{file}{expected}");
        assert!(run.stderr.contains(&expected), "{name}: {run:?}");
        assert!(
            !run.stderr.contains("Server is listening"),
            "{name}: {run:?}"
        );
    }
    // A bad value in the environment is refused the same way, naming the variable's flag.
    let run = {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_nomserve"))
            .env("NOMSERVE_PORT", "eighty")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        (status, stderr)
    };
    assert_eq!(run.0.code(), Some(2), "{run:?}");
    assert!(run.1.contains("--port"), "{run:?}");
}

#[test]
fn sighup_applies_a_new_file_and_keeps_open_connections() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(dir.path(), "live.toml", "cache_control = \"max-age=60\"\n");
    let server = Server::with_args(&www(), &["--config", &file]);
    let mut stream = server.connect();
    let mut leftover = Vec::new();
    let ask = b"GET /test.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    stream.write_all(ask).unwrap();
    let before = read_response(&mut stream, &mut leftover, false);
    assert_eq!(before.header("Cache-Control"), Some("max-age=60"));

    config_file(dir.path(), "live.toml", "cache_control = \"max-age=120\"\n");
    server.signal("HUP");
    let line = server.wait_for_log("new settings applied");
    assert!(line.contains("changed: cache_control)"), "{line}");
    // The connection opened before the reload is still served, with the new settings.
    stream.write_all(ask).unwrap();
    let after = read_response(&mut stream, &mut leftover, false);
    assert_eq!(after.status, 200);
    assert_eq!(after.header("Cache-Control"), Some("max-age=120"));

    // An invalid file is logged and ignored: the settings in force stay.
    config_file(dir.path(), "live.toml", "cache_control = 5\nbogus = 1\n");
    server.signal("HUP");
    let line = server.wait_for_log("keeping the current settings");
    assert!(line.contains("live.toml"), "{line}");
    stream.write_all(ask).unwrap();
    let kept = read_response(&mut stream, &mut leftover, false);
    assert_eq!(kept.header("Cache-Control"), Some("max-age=120"));
    assert_eq!(
        get(&server, "/test.txt").header("Cache-Control"),
        Some("max-age=120")
    );
}

#[test]
fn sighup_says_which_settings_the_connections_started_with_take_a_restart() {
    // The trusted proxies, the PROXY protocol and the log's level are fixed when the server
    // starts, as its limits are: a reload names them as taking a restart, and applies the
    // rest.
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(dir.path(), "live.toml", "cache_control = \"max-age=60\"\n");
    let server = Server::with_args(&www(), &["--config", &file]);
    config_file(
        dir.path(),
        "live.toml",
        "cache_control = \"max-age=120\"\ntrusted_proxy = [\"10.0.0.0/8\"]\n\
         proxy_protocol = true\nverbose = true\n",
    );
    server.signal("HUP");
    let warning = server.wait_for_log("not applied until restart");
    assert!(
        warning
            .contains("SIGHUP: not applied until restart: proxy_protocol, trusted_proxy, verbose"),
        "{warning}"
    );
    let line = server.wait_for_log("new settings applied");
    assert!(line.contains("(changed: cache_control)"), "{line}");
    // Still without a PROXY header, as the server started.
    assert_eq!(
        get(&server, "/test.txt").header("Cache-Control"),
        Some("max-age=120")
    );
}

/// The server, started in `cwd` with exactly `args` (no `--port` or `--root` added: the
/// config file may set them), `RUST_LOG=info`.
fn start_in(cwd: &Path, args: &[&str]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nomserve"));
    cmd.args(args)
        .current_dir(cwd)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    Server::from_command(cmd, cwd, "127.0.0.1".parse().unwrap())
}

/// The lines of `stderr` that report a mistake in the file `file`.
fn mistakes<'a>(stderr: &'a str, file: &str) -> Vec<&'a str> {
    let prefix = format!("nomserve: {file}:");
    stderr
        .lines()
        .filter(|line| line.starts_with(&prefix))
        .collect()
}

#[test]
fn every_mistake_in_a_file_is_reported_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(
        dir.path(),
        "three.toml",
        "bogus_key = 1\nlist_dirs = \"yes\"\nport = 1\nheader_timeout = \"soon\"\n",
    );
    let run = run_to_exit(&["--config", &file]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    let lines = mistakes(&run.stderr, &file);
    let expected = [
        ":1: key `bogus_key`: unknown key",
        ":2: key `list_dirs`: expected true or false, found a string",
        ":4: key `header_timeout`: invalid value \"soon\"",
    ];
    assert_eq!(lines.len(), expected.len(), "{run:?}");
    for (line, expected) in lines.iter().zip(expected) {
        let expected = format!("nomserve: {file}{expected}");
        assert!(line.starts_with(&expected), "{expected}\n{run:?}");
    }
    assert!(!run.stderr.contains("Server is listening"), "{run:?}");
}

#[test]
fn misspelt_keys_tables_and_table_keys_get_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(
        dir.path(),
        "typos.toml",
        "cache_contrl = \"max-age=60\"\n\
         [[redirect]]\nfrom = \"/old\"\nto = \"/new\"\n\
         [[rules]]\npath = \"/assets/**\"\nheader = { \"X-A\" = \"1\" }\n",
    );
    let run = run_to_exit(&["--check-config", "--config", &file]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    let lines = mistakes(&run.stderr, &file);
    for expected in [
        ":1: key `cache_contrl`: unknown key; did you mean `cache_control`?",
        ":2: key `redirect`: unknown key; did you mean `[[redirects]]`?",
        ":7: key `rules.header`: unknown key; did you mean `headers`?",
    ] {
        let expected = format!("nomserve: {file}{expected}");
        assert!(lines.contains(&expected.as_str()), "{expected}\n{run:?}");
    }
}

#[test]
fn a_table_written_with_single_brackets_is_named_in_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(
        dir.path(),
        "auth.toml",
        "[auth]\npath = \"/private/**\"\nfile = \"users.htpasswd\"\n",
    );
    let run = run_to_exit(&["--config", &file]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    let expected = format!("nomserve: {file}:1: key `auth`: expected tables: write [[auth]]");
    assert!(run.stderr.lines().any(|line| line == expected), "{run:?}");
}

#[test]
fn relative_paths_in_a_file_are_read_from_its_folder() {
    // The file's folder has site/, and so has the working directory, with another page.
    let etc = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    for (dir, text) in [
        (&etc, "from the config's folder"),
        (&elsewhere, "from the cwd"),
    ] {
        fs::create_dir(dir.path().join("site")).unwrap();
        fs::write(dir.path().join("site/page.txt"), text).unwrap();
    }
    let file = config_file(etc.path(), "nomserve.toml", "port = 0\nroot = \"site\"\n");
    let server = start_in(elsewhere.path(), &["--config", &file]);
    let page = get(&server, "/page.txt");
    assert_eq!(page.status, 200);
    assert_eq!(page.text(), "from the config's folder");

    // --check-config says where relative paths are read from.
    let run = run_to_exit(&["--check-config", "--config", &file]);
    assert!(run.status.success(), "{run:?}");
    let folder = etc.path().display().to_string();
    assert!(
        run.stdout.contains(&format!("paths relative to {folder})")),
        "{run:?}"
    );
}

#[test]
fn a_folder_that_does_not_exist_is_reported_with_the_key_that_named_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(
        dir.path(),
        "dist.toml",
        "list_dirs = true\nroot = \"dist\"\n",
    );
    let run = run_to_exit(&["--config", &file]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    let dist = dir.path().join("dist");
    let expected = format!(
        "nomserve: {file}:2: key `root`: no such directory {}",
        dist.display()
    );
    assert!(run.stderr.lines().any(|line| line == expected), "{run:?}");
    assert!(!run.stderr.contains("nomserve DIR"), "{run:?}");
}

#[test]
fn a_reload_names_restart_only_keys_once_and_applies_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let root = www();
    let root = root.to_str().unwrap().to_string();
    let text = |port: u16, age: u32| {
        format!("port = {port}\nroot = {root:?}\ncache_control = \"max-age={age}\"\n")
    };
    let file = config_file(dir.path(), "live.toml", &text(0, 60));
    let server = start_in(dir.path(), &["--config", &file]);
    config_file(dir.path(), "live.toml", &text(8081, 120));
    server.signal("HUP");
    let warning = server.wait_for_log("not applied until restart");
    assert!(
        warning.ends_with("SIGHUP: not applied until restart: port"),
        "{warning}"
    );
    let applied = server.wait_for_log("new settings applied");
    assert!(applied.ends_with("(changed: cache_control)"), "{applied}");
    // The port is named once, and as taking a restart only.
    let log = server.log();
    let naming_port: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("SIGHUP") && l.contains("port"))
        .collect();
    assert_eq!(naming_port, [warning.as_str()], "{log}");
    assert_eq!(
        get(&server, "/test.txt").header("Cache-Control"),
        Some("max-age=120")
    );
}
