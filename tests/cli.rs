//! The command line people type: `nomserve DIR`, short flags, `-q`, `-v`, and a `RUST_LOG`
//! that names nothing the server logs.

mod common;

use common::{Server, TIMEOUT, get, run_to_exit, www};
use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::process::{Command, Stdio};

#[test]
fn the_folder_is_an_argument_and_the_common_flags_are_short() {
    let root = www();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nomserve"));
    cmd.args(["-p", "0", "-b", "127.0.0.1"])
        .arg(&root)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    let server = Server::from_command(cmd, &root, "127.0.0.1".parse().unwrap());
    let out = Command::new("curl")
        .args(["-sS", &server.url("/test.txt")])
        .output()
        .unwrap();
    assert_eq!(out.stdout, std::fs::read(root.join("test.txt")).unwrap());
    let banner = server.banner();
    let served = std::fs::canonicalize(&root).unwrap();
    assert!(
        banner.contains(&format!(" serving {}\n", served.display())),
        "{banner}"
    );
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
    // `-q` wins over RUST_LOG.
    let mut server = Server::without_banner(&www(), &["-q"], &[("RUST_LOG", "debug")]);
    let out = Command::new("curl")
        .args(["-sS", &server.url("/test.txt")])
        .output()
        .unwrap();
    assert!(out.status.success());
    server.signal("TERM");
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}");
    assert_eq!(server.wait_for_log_end(), "", "output on stderr under -q");
    assert_eq!(server.stdout(), "", "output on stdout under -q");
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
    let banner = server.banner();
    let port = server.addr.port();
    assert!(
        banner.contains(&format!("  http://127.0.0.1:{port}/\n")),
        "{banner}"
    );
    let v6 = std::net::TcpListener::bind("[::1]:0").is_ok()
        && std::net::ToSocketAddrs::to_socket_addrs(&("localhost", 0))
            .unwrap()
            .any(|a| a.is_ipv6());
    if v6 {
        assert!(
            banner.contains(&format!("  http://[::1]:{port}/\n")),
            "{banner}"
        );
    }
}

/// Bound to the IPv4 wildcard, the banner gives a URL for each of the machine's IPv4
/// addresses (as `getifaddrs` lists them), loopback first, and none with 0.0.0.0.
#[test]
fn a_wildcard_bind_lists_each_address_a_person_can_open() {
    let server = Server::with_args(&www(), &["-b", "0.0.0.0"]);
    let banner = server.banner();
    let port = server.addr.port();
    let urls: Vec<&str> = banner
        .lines()
        .filter_map(|line| line.strip_prefix("  http://"))
        .collect();
    assert_eq!(
        urls.first(),
        Some(&format!("127.0.0.1:{port}/").as_str()),
        "{banner}"
    );
    for interface in if_addrs::get_if_addrs().unwrap() {
        if let IpAddr::V4(ip) = interface.ip() {
            assert!(
                urls.contains(&format!("{ip}:{port}/").as_str()),
                "{ip}: {banner}"
            );
        }
    }
    assert!(
        urls.iter().all(|url| !url.starts_with("0.0.0.0")),
        "{banner}"
    );
    assert!(urls.iter().all(|url| !url.starts_with('[')), "{banner}");
}

/// The banner as a terminal shows it: `nomserve -p 0 www` run by `script` (util-linux) on a
/// pseudo-terminal, with `extra_env` set, up to "Press Ctrl+C to stop."; then the server is
/// stopped. A shell prints its process id first, then becomes the server.
fn banner_on_a_terminal(extra_env: &[(&str, &str)]) -> String {
    let command = format!(
        "echo pid $$; exec {} -p 0 {}",
        env!("CARGO_BIN_EXE_nomserve"),
        www().display()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-q", "-e", "-c", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .env("RUST_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in extra_env {
        cmd.env(name, value);
    }
    let mut child = Guard(cmd.spawn().expect("run script (util-linux)"));
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            text.push_str(line.trim_end_matches('\r'));
            text.push('\n');
            if line.contains("to stop.") {
                let _ = tx.send(text.clone());
            }
        }
    });
    let text = rx.recv_timeout(TIMEOUT).expect("a banner on the terminal");
    let pid = text
        .lines()
        .find_map(|line| line.strip_prefix("pid "))
        .expect("the server's process id");
    Command::new("kill").args(["-TERM", pid]).status().unwrap();
    let status = child.0.wait().unwrap();
    assert!(status.success(), "{status:?}");
    text
}

#[test]
fn the_banner_is_in_colour_on_a_terminal_unless_no_color_is_set() {
    let coloured = banner_on_a_terminal(&[]);
    assert!(
        coloured.contains("Server is listening on port "),
        "{coloured}"
    );
    assert!(
        coloured.contains("\x1b[1;36mhttp://127.0.0.1:"),
        "{coloured:?}"
    );
    assert!(
        coloured.contains("Press \x1b[1mCtrl+C\x1b[0m to stop."),
        "{coloured:?}"
    );

    for env in [("NO_COLOR", "1"), ("TERM", "dumb")] {
        let plain = banner_on_a_terminal(&[env]);
        assert!(
            plain.contains("Press Ctrl+C to stop."),
            "{env:?}: {plain:?}"
        );
        assert!(!plain.contains('\x1b'), "{env:?}: {plain:?}");
    }
}

/// `::` alone takes IPv4 clients too (no IPV6_V6ONLY), so the banner lists the IPv4
/// loopback beside the IPv6 one, and both answer.
#[test]
fn the_ipv6_wildcard_alone_lists_and_serves_ipv4_too() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        println!("no IPv6 on loopback: nothing to test");
        return;
    }
    let server = Server::with_args(&www(), &["-b", "::"]);
    let port = server.addr.port();
    let banner = server.banner();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::1]:{port}/"),
    ] {
        assert!(banner.contains(&format!("  {url}\n")), "{banner}");
        let out = Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", &url])
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{url}");
    }
}

/// The headings of `--help`, in order.
const HEADINGS: [&str; 6] = [
    "Serving:",
    "Site rules:",
    "HTTPS:",
    "Limits and timeouts:",
    "Logging and metrics:",
    "Operations:",
];

/// What `nomserve FLAG` prints for a terminal of 80 columns (`-h` or `--help`).
fn help(flag: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nomserve"))
        .arg(flag)
        .env("COLUMNS", "80")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The flags the README's generated table lists (the unit test in src/settings/cli/
/// keeps that table equal to the flags' definition): `--bind`, `-b`, `[DIR]`, ...
fn flags_in_the_readme() -> Vec<String> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("<!-- BEGIN FLAGS")
        .expect("the flag table's marker");
    let end = readme
        .find("<!-- END FLAGS -->")
        .expect("the flag table's end");
    let flags: Vec<String> = readme[start..end]
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .flat_map(|row| {
            let cell = row.split(" |").next().unwrap_or_default();
            cell.split(", ")
                .map(|name| {
                    name.trim_matches('`')
                        .split(' ')
                        .next()
                        .unwrap()
                        .to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(flags.len() > 40, "{flags:?}");
    flags
}

#[test]
fn short_help_fits_a_screen_one_line_a_flag() {
    let short = help("-h");
    let lines: Vec<&str> = short.lines().collect();
    assert!(lines.len() <= 40, "{} lines:\n{short}", lines.len());
    assert!(
        lines.iter().all(|line| line.chars().count() <= 80),
        "{short}"
    );
    // An indented line is a flag's: a help wrapped onto a second line would start with
    // the spaces of its column.
    for line in &lines {
        if line.starts_with(' ') {
            let start = line.trim_start();
            assert!(
                start.starts_with('-') || start.starts_with('['),
                "{line:?}\n{short}"
            );
        }
    }
    for heading in HEADINGS.iter().filter(|h| **h != "Limits and timeouts:") {
        assert!(lines.contains(heading), "{heading}\n{short}");
    }
    for flag in [
        "--port",
        "--bind",
        "--list-dirs",
        "--tls-cert",
        "--config",
        "[DIR]",
    ] {
        assert!(short.contains(flag), "{flag}\n{short}");
    }
    assert!(!short.contains("--max-connections"), "{short}");
    assert!(short.contains("nomserve --help"), "{short}");
}

#[test]
fn long_help_has_every_heading_every_flag_and_examples() {
    let long = help("--help");
    let lines: Vec<&str> = long.lines().collect();
    let mut at = 0;
    for heading in HEADINGS {
        let found = lines.iter().position(|line| *line == heading);
        let found = found.unwrap_or_else(|| panic!("{heading} missing:\n{long}"));
        assert!(found > at, "{heading} out of order:\n{long}");
        at = found;
    }
    for flag in flags_in_the_readme() {
        assert!(long.contains(&flag), "{flag} missing:\n{long}");
    }
    let examples = &long[long.find("\nExamples:\n").expect("examples")..];
    for example in [
        "nomserve .",
        "nomserve --list-dirs",
        "--tls-cert cert.pem --tls-key key.pem",
        "nomserve --config site.toml",
    ] {
        assert!(examples.contains(example), "{example}\n{examples}");
    }
    assert!(examples.contains("NOMSERVE_LIST_DIRS=true"), "{examples}");
}
