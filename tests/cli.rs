//! The command line people type: `nomserve DIR`, short flags, `-q`, `-v`, and a `RUST_LOG`
//! that names nothing the server logs.

mod common;

use common::{Server, TIMEOUT, get, run_to_exit, www};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Instant;

#[test]
fn the_folder_is_an_argument_and_the_common_flags_are_short() {
    let root = www();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nomserve"));
    let child = cmd
        .args(["-p", "0", "-b", "127.0.0.1"])
        .arg(&root)
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = Guard(child);
    let mut stdout = child.0.stdout.take().unwrap();
    let mut banner = Vec::new();
    let mut byte = [0u8; 1];
    while !banner.ends_with(b"\n") {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "no banner");
        banner.push(byte[0]);
    }
    let banner = String::from_utf8(banner).unwrap();
    let port: u16 = banner
        .trim()
        .strip_prefix("Server is listening on port ")
        .and_then(|rest| rest.strip_suffix("..."))
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("{banner}"));
    let out = Command::new("curl")
        .args(["-sS", &format!("http://127.0.0.1:{port}/test.txt")])
        .output()
        .unwrap();
    assert_eq!(out.stdout, std::fs::read(root.join("test.txt")).unwrap());
}

/// Kills the child when the test ends, however it ends.
struct Guard(std::process::Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_folder_given_twice_or_missing_is_a_clear_error() {
    let root = www();
    let root = root.to_str().unwrap();
    let twice = run_to_exit(&["--root", root, root, "--check-config"]);
    assert_eq!(twice.status.code(), Some(2), "{twice:?}");
    assert!(twice.stderr.contains("given twice"), "{twice:?}");

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("site");
    let run = run_to_exit(&["-p", "0", missing.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert_eq!(
        run.stderr.trim(),
        format!(
            "nomserve: no such directory {}; pass the folder to serve: nomserve DIR",
            missing.display()
        )
    );
}

#[test]
fn quiet_prints_no_banner_and_logs_no_request() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_nomserve"))
        .args(["-q", "-p", &port.to_string()])
        .arg(www())
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Guard(child);
    let deadline = Instant::now() + TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "not listening");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = Command::new("curl")
        .args(["-sS", &format!("http://127.0.0.1:{port}/test.txt")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let pid = child.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stdout, "", "a banner under -q");
    assert!(
        !stderr.contains("GET /test.txt"),
        "a request logged under -q: {stderr}"
    );
    assert!(
        !stderr.contains(" INFO ") && !stderr.contains(" DEBUG "),
        "{stderr}"
    );
}

#[test]
fn verbose_logs_request_heads() {
    let server = Server::with_args(&www(), &["-v"]);
    get(&server, "/test.txt");
    server.wait_for_log("request head");
}

#[test]
fn a_rust_log_that_names_nothing_is_reported_and_the_rest_applies() {
    let server = Server::with_env(&www(), &[], &[("RUST_LOG", "bogus,info")]);
    let line = server.wait_for_log("RUST_LOG");
    assert!(line.contains("\"bogus\" is neither a level"), "{line}");
    get(&server, "/test.txt");
    server.wait_for_log("GET /test.txt");

    // Alone, it leaves the default: the access log stays on.
    let server = Server::with_env(&www(), &[], &[("RUST_LOG", "bogus")]);
    server.wait_for_log("\"bogus\" is neither a level");
    get(&server, "/style.css");
    server.wait_for_log("GET /style.css");
}

#[test]
fn a_host_name_binds_each_of_its_addresses() {
    let server = Server::with_args(&www(), &["-b", "localhost"]);
    assert_eq!(get(&server, "/test.txt").status, 200);
    let banner = server.stdout();
    assert!(banner.contains("at http://127.0.0.1:"), "{banner}");
    let v6 = std::net::TcpListener::bind("[::1]:0").is_ok()
        && std::net::ToSocketAddrs::to_socket_addrs(&("localhost", 0))
            .unwrap()
            .any(|a| a.is_ipv6());
    if v6 {
        assert!(banner.contains("at http://[::1]:"), "{banner}");
    }
}
