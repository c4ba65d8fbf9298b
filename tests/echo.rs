//! `/echo`: on by default, never stored by a cache nor sniffed by a browser, and turned off
//! by `--no-echo`, `NOMSERVE_NO_ECHO` or `echo = false` in the config file, after which a
//! file named `echo` is served like any other.

mod common;

use common::{Server, get, get_with, run_to_exit};
use std::fs;

#[test]
fn echo_is_not_stored_nor_sniffed() {
    let root = tempfile::tempdir().unwrap();
    fs::write(root.path().join("echo"), "the file named echo").unwrap();
    let server = Server::with_args(root.path(), &[]);
    let response = get_with(&server, "/echo?a=1", "Cookie: session=s3cret\r\n");
    assert_eq!(response.status, 200);
    assert!(response.text().contains("Cookie: session=s3cret\r\n"));
    assert!(response.text().ends_with("a: 1\n"), "{}", response.text());
    assert_eq!(response.header("Cache-Control"), Some("no-store"));
    assert_eq!(response.header("X-Content-Type-Options"), Some("nosniff"));
}

/// Each way of turning echo off serves the file named `echo` at `/echo`; without such a
/// file `/echo` is 404.
#[test]
fn no_echo_serves_the_file_named_echo() {
    let root = tempfile::tempdir().unwrap();
    fs::write(root.path().join("echo"), "the file named echo").unwrap();
    let config = |name: &str, text: &str| {
        let path = root.path().join(name);
        fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let echo_false = config("echo.toml", "echo = false\n");
    let no_echo_true = config("no-echo.toml", "no_echo = true\n");
    let servers = [
        Server::with_args(root.path(), &["--no-echo"]),
        Server::with_env(root.path(), &[], &[("NOMSERVE_NO_ECHO", "true")]),
        Server::with_args(root.path(), &["--config", &echo_false]),
        Server::with_args(root.path(), &["--config", &no_echo_true]),
    ];
    for server in &servers {
        let response = get(server, "/echo");
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), "the file named echo");
        assert_eq!(response.header("Cache-Control"), Some("no-cache"));
    }

    let empty = tempfile::tempdir().unwrap();
    let server = Server::with_args(empty.path(), &["--no-echo"]);
    let response = get(&server, "/echo");
    assert_eq!(response.status, 404);
    assert_eq!(response.text(), "Not Found");
}

/// `echo = true` in the file keeps it on; the command line still wins over the file.
#[test]
fn echo_true_in_the_file_keeps_it_on() {
    let root = tempfile::tempdir().unwrap();
    fs::write(root.path().join("echo"), "the file named echo").unwrap();
    let config = root.path().join("nomserve.toml");
    fs::write(&config, "echo = true\n").unwrap();
    let config = config.to_str().unwrap();
    let on = Server::with_args(root.path(), &["--config", config]);
    assert!(
        get(&on, "/echo")
            .text()
            .starts_with("GET /echo HTTP/1.1\r\n")
    );
    let off = Server::with_args(root.path(), &["--config", config, "--no-echo"]);
    assert_eq!(get(&off, "/echo").text(), "the file named echo");
}

#[test]
fn help_says_what_echo_is() {
    let help = run_to_exit(&["--help"]);
    assert!(help.status.success());
    let text = help.stdout.replace('\n', " ");
    assert!(text.contains("--no-echo"), "{}", help.stdout);
    assert!(
        text.contains("Turn off /echo, which answers with the request it received"),
        "{}",
        help.stdout
    );
}
