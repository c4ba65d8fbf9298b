//! The seed tickets' own smoke tests, run with the real `curl` binary.
//!
//! `seed/simple_http_server-tickets.txt` (tickets 1–8) tests its server with curl commands and
//! says what each should show. These tests run those commands as the tickets write them,
//! against a nomserve started by the harness on a free port, and assert on what curl prints:
//! the body on stdout, and for `-v` the request and response lines on stderr. Where a ticket's
//! expectation was superseded by a later ticket (ticket 5's `/` → "Hello, World!" became
//! ticket 6's `/` → `www/index.html`), the later one is asserted.
//!
//! curl is a client no one here wrote, so a pass means nomserve talks HTTP/1.1 the way the
//! world's most common command-line client expects. If curl is missing the tests fail and say
//! how to install it: a smoke test that skips itself proves nothing.

mod common;

use common::{Server, parse_head, www};
use std::fs;
use std::process::{Command, Output};

/// The `Server` field every response carries.
const SERVER: &str = concat!("nomserve/", env!("CARGO_PKG_VERSION"));

/// What one curl run printed.
struct Curl {
    stdout: String,
    stderr: String,
}

/// Runs `curl ARGS...` to completion and returns what it printed; fails the test if curl is
/// missing or exits non-zero.
///
/// `--max-time 10` is the only argument added to the ticket's command line: it changes nothing
/// curl sends and turns a server that never answers into a failed test instead of a hung suite.
fn curl(args: &[&str]) -> Curl {
    let output: Output = match Command::new("curl")
        .args(["--max-time", "10"])
        .args(args)
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "curl is not installed, and the seed tickets' tests need the real curl binary: \
             install it with `apt-get install curl`"
        ),
        Err(e) => panic!("could not run curl: {e}"),
    };
    let printed = Curl {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        output.status.success(),
        "curl {args:?} failed ({}); stderr:\n{}",
        output.status,
        printed.stderr
    );
    printed
}

/// Runs `curl -i ARGS...` and returns the response head, parsed by httparse from what curl
/// printed, and the body.
fn curl_head(args: &[&str]) -> (common::Response, String) {
    let mut with_head = vec!["-i"];
    with_head.extend_from_slice(args);
    let printed = curl(&with_head);
    let (head, len) = parse_head(printed.stdout.as_bytes())
        .unwrap_or_else(|| panic!("curl -i printed no whole head:\n{}", printed.stdout));
    let body = printed.stdout.get(len..).unwrap_or_default().to_string();
    (head, body)
}

/// The access log's request-and-status part for `method target` answered with `status`, as the
/// Combined Log Format writes it: `"GET / HTTP/1.1" 200 `.
fn access(method: &str, target: &str, status: u16) -> String {
    format!("\"{method} {target} HTTP/1.1\" {status} ")
}

/// The contents of a file of the repository's `www/`.
fn www_file(name: &str) -> String {
    fs::read_to_string(www().join(name)).expect("read a file of www/")
}

/// Ticket 1: `curl http://localhost:8080` is accepted, and many connections in a row do not
/// bring the server down.
#[test]
fn ticket1_connections_are_accepted_and_survived() {
    let server = Server::start();
    let url = server.url("");
    for _ in 0..5 {
        curl(&[&url]);
    }
    let after = curl(&[&url]);
    assert_eq!(after.stdout, www_file("index.html"));
}

/// Tickets 2, 5 and 6: `curl URL/` prints `www/index.html` (ticket 6 replaced the earlier
/// "Hello, World!"), and the request reaches the server's log (ticket 2 prints it).
#[test]
fn ticket6_root_serves_index_html() {
    let server = Server::start();
    let printed = curl(&[&server.url("/")]);
    assert_eq!(printed.stdout, www_file("index.html"));
    assert!(printed.stdout.contains("<h1>Welcome!</h1>"));
    server.wait_for_log(&access("GET", "/", 200));
}

/// Ticket 3: `curl -X GET URL/` works; `curl -X POST URL/` gets 405 with `Allow: GET, HEAD`.
#[test]
fn ticket3_get_works_and_post_is_405() {
    let server = Server::start();
    let url = server.url("/");

    let get = curl(&["-X", "GET", &url]);
    assert_eq!(get.stdout, www_file("index.html"));
    server.wait_for_log(&access("GET", "/", 200));

    // The ticket's exact command prints only the body; the access log says which status it got.
    curl(&["-X", "POST", &url]);
    server.wait_for_log(&access("POST", "/", 405));

    let (head, _) = curl_head(&["-X", "POST", &url]);
    assert_eq!(head.status, 405);
    assert_eq!(head.reason, "Method Not Allowed");
    assert_eq!(head.header("Allow"), Some("GET, HEAD"));
}

/// Ticket 3: a malformed request gets 400, whose text/plain body names the broken rule, the
/// byte and the RFC section. curl sends a field name with a space in it when told to.
#[test]
fn ticket3_malformed_request_is_400_with_a_sentence() {
    let server = Server::start();
    let (head, body) = curl_head(&["-H", "X Test: value", &server.url("/")]);
    assert_eq!(head.status, 400);
    assert_eq!(
        head.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert!(
        body.starts_with("whitespace between field name and colon at byte ")
            && body.ends_with(", found SP (0x20) (RFC 9112 §5.1)\n"),
        "400 body should name the rule, the offset, the byte and the RFC section: {body:?}"
    );
}

/// Ticket 4: `curl -v URL/` shows the request curl sent and the response head nomserve gave.
#[test]
fn ticket4_verbose_shows_request_and_response_heads() {
    let server = Server::start();
    let printed = curl(&["-v", &server.url("/")]);
    let host = format!("> Host: {}", server.addr);
    for line in [
        "> GET / HTTP/1.1",
        host.as_str(),
        "< HTTP/1.1 200 OK",
        &format!("< Server: {SERVER}"),
        "< Content-Type: text/html",
        "< Date: ",
    ] {
        assert!(
            printed.stderr.lines().any(|l| l.starts_with(line)),
            "curl -v shows no line starting with {line:?}:\n{}",
            printed.stderr
        );
    }
    assert_eq!(printed.stdout, www_file("index.html"));
}

/// Ticket 4: `curl -H "X-Test: value" URL/` is served, and with `RUST_LOG=debug` the server
/// logs the header it received; at the default `info` it does not.
#[test]
fn ticket4_custom_header_is_logged_at_debug() {
    let debug = Server::with_env(&www(), &[], &[("RUST_LOG", "debug")]);
    let printed = curl(&["-H", "X-Test: value", &debug.url("/")]);
    assert_eq!(printed.stdout, www_file("index.html"));
    let logged = debug.wait_for_log("X-Test: value");
    assert!(
        logged.contains("DEBUG"),
        "the request's fields should be logged at debug level: {logged}"
    );

    let info = Server::start();
    curl(&["-H", "X-Test: value", &info.url("/")]);
    info.wait_for_log(&access("GET", "/", 200));
    assert!(
        !info.log().contains("X-Test"),
        "request fields are not logged at info level:\n{}",
        info.log()
    );
}

/// Ticket 5: `curl URL/echo` prints the request back: its request line and fields, including a
/// custom one when curl sends it.
#[test]
fn ticket5_echo_returns_the_request() {
    let server = Server::start();
    let url = server.url("/echo");

    let plain = curl(&[&url]);
    assert!(
        plain.stdout.starts_with("GET /echo HTTP/1.1\r\n"),
        "echo starts with the request line: {:?}",
        plain.stdout
    );
    assert!(
        plain.stdout.contains(&format!("Host: {}\r\n", server.addr)),
        "{:?}",
        plain.stdout
    );
    assert!(
        plain.stdout.contains("User-Agent: curl/"),
        "{:?}",
        plain.stdout
    );

    let custom = curl(&["-H", "X-Test: value", &url]);
    assert!(
        custom.stdout.contains("X-Test: value\r\n"),
        "{:?}",
        custom.stdout
    );

    let (head, _) = curl_head(&[&url]);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
}

/// Ticket 5: `curl URL/invalid` prints `Not Found`, with status 404.
#[test]
fn ticket5_unknown_path_is_404_not_found() {
    let server = Server::start();
    let url = server.url("/invalid");
    assert_eq!(curl(&[&url]).stdout, "Not Found");
    server.wait_for_log(&access("GET", "/invalid", 404));

    let (head, body) = curl_head(&[&url]);
    assert_eq!(head.status, 404);
    assert_eq!(body, "Not Found");
}

/// Ticket 6: `curl URL/test.txt` prints the file; its type is text/plain; `/style.css` is
/// text/css.
#[test]
fn ticket6_files_are_served_with_their_type() {
    let server = Server::start();
    let text = curl(&[&server.url("/test.txt")]);
    assert_eq!(text.stdout, www_file("test.txt"));

    let (head, body) = curl_head(&[&server.url("/test.txt")]);
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(body, www_file("test.txt"));

    let (css, body) = curl_head(&[&server.url("/style.css")]);
    assert_eq!(css.status, 200);
    assert!(
        css.header("Content-Type")
            .is_some_and(|t| t.starts_with("text/css")),
        "{:?}",
        css.headers
    );
    assert_eq!(body, www_file("style.css"));
}

/// Ticket 6: `curl URL/missing` prints `Not Found`, with status 404.
#[test]
fn ticket6_missing_file_is_404() {
    let server = Server::start();
    let url = server.url("/missing");
    assert_eq!(curl(&[&url]).stdout, "Not Found");
    let (head, _) = curl_head(&[&url]);
    assert_eq!(head.status, 404);
}

/// Ticket 6: `curl URL/../secret` "should 404 or 400". curl itself removes the `..` unless
/// told `--path-as-is`, so that flag makes it send `/../secret` raw; nomserve answers 404,
/// never anything from outside the root.
#[test]
fn ticket6_traversal_is_404() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("www");
    fs::create_dir(&root).expect("make root");
    fs::write(dir.path().join("secret"), "top secret").expect("write secret");
    let server = Server::with_args(&root, &[]);
    let url = server.url("/../secret");

    let printed = curl(&["--path-as-is", &url]);
    assert_eq!(printed.stdout, "Not Found");
    server.wait_for_log(&access("GET", "/../secret", 404));

    let (head, body) = curl_head(&["--path-as-is", &url]);
    assert_eq!(head.status, 404);
    assert!(!body.contains("top secret"));
}

/// Ticket 7: every request is logged (method, target and status), and every response carries
/// `Server: nomserve/VERSION` and a `Date`, whatever its status.
#[test]
fn ticket7_every_request_is_logged_and_carries_server() {
    let server = Server::start();
    for (method, target, status) in [
        ("GET", "/", 200),
        ("GET", "/test.txt", 200),
        ("GET", "/missing", 404),
        ("DELETE", "/", 405),
        ("GET", "/echo", 200),
    ] {
        let (head, _) = curl_head(&["-X", method, &server.url(target)]);
        assert_eq!(head.status, status, "{method} {target}");
        assert_eq!(head.header("Server"), Some(SERVER), "{method} {target}");
        assert!(head.header("Date").is_some(), "{method} {target}");
        server.wait_for_log(&access(method, target, status));
    }
}

/// Ticket 8: `curl URL/echo?name=test` includes `name: test`; several parameters each get a
/// line.
#[test]
fn ticket8_echo_lists_query_parameters() {
    let server = Server::start();
    let one = curl(&[&server.url("/echo?name=test")]);
    assert!(one.stdout.starts_with("GET /echo?name=test HTTP/1.1\r\n"));
    assert!(one.stdout.contains("name: test"), "{:?}", one.stdout);

    let two = curl(&[&server.url("/echo?name=Alice&age=30")]);
    assert!(two.stdout.contains("name: Alice"), "{:?}", two.stdout);
    assert!(two.stdout.contains("age: 30"), "{:?}", two.stdout);
}

/// The help text lists every flag, with its default where it has a fixed one; `--version`
/// names the binary and its version.
#[test]
fn help_lists_every_flag_with_its_default() {
    let output = Command::new(env!("CARGO_BIN_EXE_nomserve"))
        .arg("--help")
        .output()
        .expect("run nomserve --help");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout).into_owned();

    let flags: [(&str, Option<&str>); 12] = [
        ("--bind", Some("127.0.0.1")),
        ("--port", Some("8080")),
        ("--root", Some("www")),
        ("--threads", None),
        ("--max-connections", None),
        ("--header-timeout", Some("10s")),
        ("--keep-alive-timeout", Some("5s")),
        ("--dotfiles", None),
        ("--list-dirs", None),
        ("--cache-control", Some("no-cache")),
        ("--help", None),
        ("--version", None),
    ];
    for (flag, default) in flags {
        let entry = help_entry(&help, flag)
            .unwrap_or_else(|| panic!("--help does not list {flag}:\n{help}"));
        if let Some(default) = default {
            assert!(
                entry.contains(&format!("[default: {default}]")),
                "--help gives {flag} no default {default}:\n{entry}"
            );
        }
    }

    let version = Command::new(env!("CARGO_BIN_EXE_nomserve"))
        .arg("--version")
        .output()
        .expect("run nomserve --version");
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        concat!("nomserve ", env!("CARGO_PKG_VERSION"))
    );
}

/// The part of `help` that documents `flag`: from the line that introduces it (`--port <PORT>`
/// or `-p, --port <PORT>`) up to the line that introduces the next option. `None` if no line
/// introduces it.
fn help_entry(help: &str, flag: &str) -> Option<String> {
    let introduces_an_option = |line: &str| line.trim_start().starts_with('-');
    let introduces = |line: &str| {
        introduces_an_option(line)
            && line
                .split_whitespace()
                .take(2)
                .any(|word| word.trim_end_matches(',') == flag)
    };
    let lines: Vec<&str> = help.lines().collect();
    let start = lines.iter().position(|line| introduces(line))?;
    let rest = lines.get(start + 1..).unwrap_or_default();
    let len = rest
        .iter()
        .position(|line| introduces_an_option(line))
        .unwrap_or(rest.len());
    Some(lines.get(start..start + 1 + len)?.join("\n"))
}
