//! Where the server listens and how it stops: several `--bind` addresses, Unix sockets,
//! sockets passed by systemd (through `systemd-socket-activate`), sd_notify messages on a
//! notify socket the test makes, `--shutdown-timeout`, and the exit status after a second
//! SIGTERM or SIGINT.
//!
//! Without `systemd-socket-activate` (Debian's `systemd` package) the socket-activation test
//! says how to install it and passes vacuously; when `CI` is set (`.ci/run` installs it) its
//! absence fails it instead.

mod common;

use common::{Server, TIMEOUT, get, parse_head, slow_socket, www};
use std::fs;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Runs `curl --unix-socket SOCKET http://localhost/PATH`; returns the body, failing the test
/// unless the status is 200.
fn curl_unix(socket: &Path, path: &str) -> String {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--max-time", "10"])
        .arg("--unix-socket")
        .arg(socket)
        .arg(format!("http://localhost{path}"))
        .output()
        .expect("run curl");
    assert!(
        output.status.success(),
        "curl --unix-socket {}: {}",
        socket.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("a text body")
}

/// The repository's `www/test.txt`.
fn test_txt() -> String {
    fs::read_to_string(www().join("test.txt")).expect("read www/test.txt")
}

#[test]
fn two_ip_addresses_are_served_on_one_port() {
    // ::1 where the machine has IPv6 on loopback; another loopback IPv4 address otherwise.
    let second = if TcpListener::bind("[::1]:0").is_ok() {
        "::1"
    } else {
        println!("no IPv6 on loopback: binding 127.0.0.2 as the second address");
        "127.0.0.2"
    };
    let server = Server::with_args(&www(), &["--bind", "127.0.0.1", "--bind", second]);
    let port = server.addr.port();
    let other = SocketAddr::new(second.parse().unwrap(), port);
    let banner = server.banner();
    assert!(banner.contains(&format!("  http://{other}/\n")), "{banner}");
    assert!(
        banner.contains(&format!("  http://127.0.0.1:{port}/\n")),
        "{banner}"
    );

    assert_eq!(get(&server, "/test.txt").text(), test_txt());
    let mut stream = TcpStream::connect_timeout(&other, TIMEOUT).expect("connect to the second");
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(b"GET /test.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    let (response, head) = parse_head(&bytes).expect("a response head");
    assert_eq!(response.status, 200);
    assert_eq!(&bytes[head..], test_txt().as_bytes());
    server.wait_for_log(&format!("{} - - ", other.ip()));
}

/// A Unix socket: reached with curl, its file mode as asked, outside the per-address cap
/// (its clients have no address), and its file removed when the server exits.
#[test]
fn a_unix_socket_is_served_with_its_mode_and_removed_at_exit() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("nomserve.sock");
    let bind = format!("unix:{}", socket.display());
    let mut server = Server::with_args(
        &www(),
        &[
            "--bind",
            "127.0.0.1",
            "--bind",
            &bind,
            "--unix-socket-mode",
            "600",
            "--max-connections-per-ip",
            "1",
        ],
    );
    let banner = server.banner();
    assert!(
        banner.contains(&format!("  {bind} (curl --unix-socket ")),
        "{banner}"
    );
    let mode = fs::metadata(&socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    // One connection held open; with a cap of one per address, a second from the same
    // address would be refused.
    let mut held = UnixStream::connect(&socket).unwrap();
    held.set_read_timeout(Some(TIMEOUT)).unwrap();
    held.write_all(b"GET /test.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut bytes = vec![0u8; 4096];
    let n = held.read(&mut bytes).unwrap();
    assert_eq!(parse_head(&bytes[..n]).expect("a head").0.status, 200);

    assert_eq!(curl_unix(&socket, "/test.txt"), test_txt());
    server.wait_for_log("0.0.0.0 - - ");
    drop(held);

    server.signal("TERM");
    assert_eq!(server.wait_exit().code(), Some(0));
    assert!(!socket.exists(), "the socket file is left after exit");
}

/// The path of `program` from Debian's `systemd` package, or `None` (saying so) where it is
/// not installed; with `CI` set its absence fails the test.
fn systemd_tool(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        let message = format!(
            "{program} is not installed, so this test cannot run: install it with \
             `apt-get install systemd`"
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "{message} (CI is set: failing)"
        );
        let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
    }
    found
}

/// Connects to `addr` once something listens there (retrying while the connection is
/// refused, up to [`TIMEOUT`]), sends a GET of `/test.txt` and returns the whole answer.
fn get_when_listening(addr: SocketAddr) -> Vec<u8> {
    let deadline = Instant::now() + TIMEOUT;
    let mut stream = loop {
        match TcpStream::connect_timeout(&addr, TIMEOUT) {
            Ok(stream) => break stream,
            Err(e) => {
                assert!(Instant::now() < deadline, "nothing listens on {addr}: {e}");
                thread::sleep(Duration::from_millis(20));
            }
        }
    };
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(b"GET /test.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).unwrap();
    bytes
}

/// systemd-socket-activate listens on a TCP port and a Unix socket, and starts the server
/// at the first connection, passing both: the server serves on them (the first connection
/// too, made before it started), and neither binds --bind (an address no interface has,
/// which would fail) nor --port.
#[test]
fn sockets_passed_by_systemd_socket_activate_are_served() {
    let Some(activate) = systemd_tool("systemd-socket-activate") else {
        return;
    };
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("activated.sock");
    let mut cmd = Command::new(activate);
    cmd.arg("-l")
        .arg(format!("127.0.0.1:{port}"))
        .arg("-l")
        .arg(&socket)
        .arg("-E")
        .arg("RUST_LOG=info")
        .arg(env!("CARGO_BIN_EXE_nomserve"))
        .arg("--root")
        .arg(www())
        .args(["--bind", "192.0.2.1", "--port", "1"])
        .stdin(Stdio::null());
    let first = thread::spawn(move || get_when_listening(SocketAddr::from(([127, 0, 0, 1], port))));
    let server = Server::from_command(cmd, &www(), IpAddr::from([127, 0, 0, 1]));
    assert_eq!(server.addr.port(), port);
    let first = first.join().expect("the first request");
    let (response, head) = parse_head(&first).expect("a response to the first connection");
    assert_eq!(response.status, 200);
    assert_eq!(&first[head..], test_txt().as_bytes());
    let banner = server.banner();
    assert!(
        banner.contains(&format!("  unix:{} (curl --unix-socket ", socket.display())),
        "{banner}"
    );
    assert!(banner.contains("on the sockets systemd passed"), "{banner}");
    assert!(!banner.contains("192.0.2.1"), "{banner}");

    assert_eq!(get(&server, "/test.txt").text(), test_txt());
    assert_eq!(curl_unix(&socket, "/test.txt"), test_txt());
}

/// Receives one datagram on `socket` as text.
fn receive(socket: &UnixDatagram) -> String {
    let mut buffer = [0u8; 512];
    let n = socket.recv(&mut buffer).expect("a notification");
    String::from_utf8_lossy(&buffer[..n]).into_owned()
}

#[test]
fn ready_reloading_and_stopping_reach_the_notify_socket() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notify");
    let notify = UnixDatagram::bind(&path).unwrap();
    notify.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut server = Server::with_env(
        &www(),
        &[],
        &[
            ("RUST_LOG", "info"),
            ("NOTIFY_SOCKET", path.to_str().unwrap()),
        ],
    );
    assert_eq!(receive(&notify), "READY=1");
    // Ready means serving.
    assert_eq!(get(&server, "/test.txt").status, 200);

    server.signal("HUP");
    let reloading = receive(&notify);
    let usec = reloading
        .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
        .unwrap_or_else(|| panic!("{reloading:?}"));
    assert!(usec.parse::<u64>().is_ok_and(|usec| usec > 0), "{usec}");
    assert_eq!(receive(&notify), "READY=1");

    server.signal("TERM");
    assert_eq!(receive(&notify), "STOPPING=1");
    assert_eq!(server.wait_exit().code(), Some(0));
}

#[test]
fn an_abstract_notify_socket_is_reached() {
    let name = format!("nomserve-test-{}", std::process::id());
    let address = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
    let notify = UnixDatagram::bind_addr(&address).unwrap();
    notify.set_read_timeout(Some(TIMEOUT)).unwrap();
    let target = format!("@{name}");
    let _server = Server::with_env(
        &www(),
        &[],
        &[("RUST_LOG", "info"), ("NOTIFY_SOCKET", &target)],
    );
    assert_eq!(receive(&notify), "READY=1");
}

/// A document root holding `big.bin`, 16 MiB: more than the kernel buffers for a socket, so
/// a client that reads nothing holds its response open.
fn root_with_big_file() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary root");
    let contents: Vec<u8> = (0..16 << 20).map(|i: u32| (i % 251) as u8).collect();
    fs::write(dir.path().join("big.bin"), contents).expect("write big.bin");
    dir
}

/// Requests `big.bin` on a connection with a small receive buffer and returns it after the
/// response head, reading nothing more: the response stays in flight.
fn hold_a_download(server: &Server) -> TcpStream {
    let mut stream = slow_socket(server.addr);
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut bytes = vec![0u8; 4096];
    let n = stream.read(&mut bytes).unwrap();
    assert_eq!(parse_head(&bytes[..n]).expect("a head").0.status, 200);
    stream
}

#[test]
fn a_response_held_past_the_shutdown_timeout_is_cut_off() {
    let root = root_with_big_file();
    let mut server = Server::with_args(
        root.path(),
        &[
            "--shutdown-timeout",
            "1s",
            "--send-timeout",
            "1h",
            "--min-send-rate",
            "0",
        ],
    );
    let _held = hold_a_download(&server);
    server.signal("TERM");
    let line = server.wait_for_log("Server stopped");
    assert!(
        line.ends_with(
            "WARN  nomserve] Server stopped: 1 connections still open after the shutdown \
             timeout of 1s were cut off."
        ),
        "{line}"
    );
    assert_eq!(server.wait_exit().code(), Some(0));
}

/// Sends `signal` twice while a download holds the shutdown open; returns the exit status.
fn exit_code_after_two(signal: &str, name: &str) -> Option<i32> {
    let root = root_with_big_file();
    let mut server = Server::with_args(
        root.path(),
        &["--send-timeout", "1h", "--min-send-rate", "0"],
    );
    let _held = hold_a_download(&server);
    server.signal(signal);
    server.wait_for_log(&format!("{name} received: shutting down gracefully"));
    server.signal(signal);
    let status = server.wait_exit();
    server.wait_for_log(&format!("{name} received again: stopping now"));
    status.code()
}

#[test]
fn a_second_sigterm_exits_143() {
    assert_eq!(exit_code_after_two("TERM", "SIGTERM"), Some(143));
}

#[test]
fn a_second_sigint_exits_130() {
    assert_eq!(exit_code_after_two("INT", "SIGINT"), Some(130));
}

/// The example units in contrib/ pass `systemd-analyze verify` without a warning, with the
/// service's ExecStart pointed at the binary just built (verify checks that it exists).
#[test]
fn the_example_units_verify() {
    let Some(analyze) = systemd_tool("systemd-analyze") else {
        return;
    };
    let contrib = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib");
    let dir = tempfile::tempdir().unwrap();
    let service = fs::read_to_string(contrib.join("nomserve.service")).unwrap();

    // ExecStart's flags are the binary's: checked with --check-config, on the repository's
    // www/ instead of /srv/www.
    let exec_start = service
        .lines()
        .find_map(|line| line.strip_prefix("ExecStart=/usr/local/bin/nomserve "))
        .expect("ExecStart=/usr/local/bin/nomserve ...");
    let www = www();
    let mut args: Vec<&str> = exec_start
        .split_whitespace()
        .map(|arg| {
            if arg == "/srv/www" {
                www.to_str().unwrap()
            } else {
                arg
            }
        })
        .collect();
    args.push("--check-config");
    let checked = common::run_to_exit(&args);
    assert_eq!(checked.status.code(), Some(0), "{}", checked.stderr);

    fs::write(
        dir.path().join("nomserve.service"),
        service.replace("/usr/local/bin/nomserve", env!("CARGO_BIN_EXE_nomserve")),
    )
    .unwrap();
    fs::copy(
        contrib.join("nomserve.socket"),
        dir.path().join("nomserve.socket"),
    )
    .unwrap();
    let output = Command::new(analyze)
        .current_dir(dir.path())
        .args(["verify", "nomserve.socket", "nomserve.service"])
        .output()
        .expect("run systemd-analyze");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.trim().is_empty(), "warnings: {stderr}");
}

/// A socket handed over as systemd does it (descriptor 3, `LISTEN_PID`, `LISTEN_FDS`), by a
/// holder that keeps its own copy, as systemd does to start the next run: the server
/// serves on it, and after it stops (SIGTERM) the socket still listens, so the holder (or
/// the next run) takes the next client.
#[test]
fn a_passed_socket_still_listens_after_the_server_stops() {
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = holder.local_addr().unwrap();
    let passed = rustix::fd::OwnedFd::from(holder.try_clone().unwrap());
    // The shell moves its stdin (the socket) to descriptor 3 and runs the server in its own
    // process, whose id $$ is.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("exec 3<&0 0</dev/null; LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" --root \"$1\"")
        .arg(env!("CARGO_BIN_EXE_nomserve"))
        .arg(www())
        .env("RUST_LOG", "info")
        .stdin(Stdio::from(passed));
    let mut server = Server::from_command(cmd, &www(), addr.ip());
    assert_eq!(server.addr, addr);
    let banner = server.banner();
    assert!(banner.contains("on the sockets systemd passed"), "{banner}");
    assert_eq!(get(&server, "/test.txt").text(), test_txt());

    server.signal("TERM");
    assert_eq!(server.wait_exit().code(), Some(0));
    let _client = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect after the stop");
    holder.set_nonblocking(false).unwrap();
    let (_, peer) = holder.accept().expect("the holder accepts the next client");
    assert!(peer.ip().is_loopback());
}
