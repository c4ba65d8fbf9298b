//! Faults and abuse against the real binary: slow clients, many idle connections, the
//! connection cap, clients that reset mid-response, files that change while being sent,
//! SIGTERM during a download, and a panicking handler.
//!
//! Covered elsewhere and not repeated here: a FIFO in the root is 404 at once without
//! holding a worker (`tests/files.rs`, `fifos_and_sockets_are_not_served`); an unreadable
//! file is 403 (`tests/files.rs`, `unreadable_file_is_forbidden`).
//!
//! No test sleeps to wait for something: each waits on a socket (with the harness's read
//! timeout), on the server's log, or polls a count with a deadline. The only sleeps pace a
//! trickling client, which is input, not waiting.

mod common;

use common::{
    Response, Server, TIMEOUT, get, parse_head, read_response, read_to_close, split_responses, www,
};
use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// A document root holding `big.bin`, `size` bytes of a pattern that shows where a byte
/// came from (its offset, mod 251).
fn root_with_big_file(size: usize) -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().expect("temporary root");
    let contents: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    fs::write(dir.path().join("big.bin"), &contents).expect("write big.bin");
    (dir, contents)
}

/// Reads from `stream` until a whole response head has arrived; returns it and the body
/// bytes read past it.
fn read_head(stream: &mut TcpStream) -> (Response, Vec<u8>) {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((response, len)) = parse_head(&bytes) {
            return (response, bytes.split_off(len));
        }
        let n = stream.read(&mut chunk).expect("read a response head");
        assert!(n > 0, "closed before a whole head: {bytes:?}");
        bytes.extend_from_slice(&chunk[..n]);
    }
}

/// Reads until the server closes, `size` bytes at a time; a reset counts as the close.
fn read_rest(stream: &mut TcpStream, size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; size];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return out,
            Err(e) => panic!("reading a body: {e} after {} bytes", out.len()),
        }
    }
}

/// A connection whose receive buffer is set small *before* connecting, so that the window
/// it advertises stays small and the server must wait on this client to send a large body.
fn slow_reader(addr: SocketAddr) -> TcpStream {
    let family = match addr {
        SocketAddr::V4(_) => rustix::net::AddressFamily::INET,
        SocketAddr::V6(_) => rustix::net::AddressFamily::INET6,
    };
    let fd = rustix::net::socket(family, rustix::net::SocketType::STREAM, None).expect("socket");
    rustix::net::sockopt::set_socket_recv_buffer_size(&fd, 4096).expect("SO_RCVBUF");
    rustix::net::connect(&fd, &addr).expect("connect");
    let stream = TcpStream::from(fd);
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Whether process `pid` is alive: it exists and is not a zombie waiting to be reaped.
fn is_running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_owned();
            Some(state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// A field of `/proc/<pid>/status`, such as `VmRSS`, in kB.
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// How many descriptors the process `pid` holds.
fn fd_count(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("list /proc/<pid>/fd")
        .count()
}

/// This process's soft limit on open files (`ulimit -n`), from `/proc/self/limits`.
fn open_files_limit() -> u64 {
    let limits = fs::read_to_string("/proc/self/limits").expect("read /proc/self/limits");
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(1024)
}

/// Polls `count` until it returns a value at most `target`, failing the test after
/// [`TIMEOUT`]. Returns the last value.
fn poll_until_at_most(target: usize, mut count: impl FnMut() -> usize) -> usize {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let now = count();
        if now <= target {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "still {now}, expected at most {target}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// RFC 9110 §15.5.9, RFC 9112 §9.3: a client trickling one byte every 300 ms never finishes
/// its head, so the header deadline (1 s here) answers it with 408 and closes — no earlier
/// than the deadline, and long before the trickle would have ended (it has 60 s of bytes).
#[test]
fn a_trickling_client_gets_408_and_is_closed_at_the_header_deadline() {
    let server = Server::with_args(&www(), &["--header-timeout", "1s"]);
    let started = Instant::now();
    let mut reader = server.connect();
    let mut writer = reader.try_clone().unwrap();
    let trickle = thread::spawn(move || {
        for &b in b"GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: "
            .iter()
            .chain([b'a'; 160].iter())
        {
            if writer.write_all(&[b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(300));
        }
    });
    let bytes = read_to_close(&mut reader);
    let elapsed = started.elapsed();
    let responses = split_responses(&bytes, &[]);
    assert_eq!(responses.len(), 1, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(responses[0].status, 408);
    assert_eq!(responses[0].header("Connection"), Some("close"));
    assert!(
        elapsed >= Duration::from_secs(1),
        "408 before the deadline: {elapsed:?}"
    );
    drop(reader);
    trickle.join().unwrap();
    println!("408 and close after {elapsed:?}");
}

/// A thousand idle keep-alive connections are parked, not given a thread each: every one is
/// served a second time, and the server's resident memory stays bounded. The count is the
/// lower of 1,000 and what this process's descriptor limit leaves room for (the server,
/// started by this process, inherits the same limit; its `--max-connections` default is
/// 1,024).
#[test]
fn a_thousand_idle_keep_alive_connections_are_all_served_again() {
    let limit = open_files_limit();
    let count = 1000.min(limit.saturating_sub(64) as usize);
    println!("open files limit {limit}: {count} connections");
    assert!(count >= 500, "ulimit -n {limit} is too low for this test");
    let server = Server::with_args(&www(), &["--keep-alive-timeout", "60s"]);
    let pid = server.pid();
    let rss_before = proc_status_kb(pid, "VmRSS");
    let request = b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut conns: Vec<(TcpStream, Vec<u8>)> = (0..count)
        .map(|_| {
            let mut stream = server.connect();
            stream.write_all(request).expect("first request");
            let mut leftover = Vec::new();
            let response = read_response(&mut stream, &mut leftover, false);
            assert_eq!(response.status, 200);
            (stream, leftover)
        })
        .collect();
    let rss_idle = proc_status_kb(pid, "VmRSS");
    let fds_idle = fd_count(pid);
    for (stream, leftover) in &mut conns {
        stream.write_all(request).expect("second request");
        let response = read_response(stream, leftover, false);
        assert_eq!(response.status, 200);
        assert!(leftover.is_empty());
    }
    let rss_after = proc_status_kb(pid, "VmRSS");
    println!(
        "VmRSS: {rss_before} kB at start, {rss_idle} kB with {count} idle connections \
         ({fds_idle} descriptors), {rss_after} kB after serving each again"
    );
    assert!(
        fds_idle >= count,
        "{fds_idle} descriptors for {count} connections"
    );
    assert!(rss_after < 128 * 1024, "VmRSS {rss_after} kB");
}

/// Past `--max-connections`: 503 and a close, never a hang; service resumes as held
/// connections close, whether they end with `Connection: close` (the place is free before
/// the close is visible) or the client just goes away (the server notices, with a deadline).
#[test]
fn past_the_cap_503_and_service_resumes_after_several_close() {
    const CAP: usize = 4;
    let server = Server::with_args(&www(), &["--max-connections", &CAP.to_string()]);
    let keep_alive = b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";
    let hold = |server: &Server| {
        let mut stream = server.connect();
        stream.write_all(keep_alive).unwrap();
        let mut leftover = Vec::new();
        assert_eq!(read_response(&mut stream, &mut leftover, false).status, 200);
        stream
    };
    let refused = |server: &Server| {
        let mut stream = server.connect();
        let bytes = read_to_close(&mut stream);
        let responses = split_responses(&bytes, &[]);
        assert_eq!(responses.len(), 1);
        assert_eq!(responses[0].status, 503);
        assert_eq!(responses[0].header("Connection"), Some("close"));
    };
    let mut held: Vec<TcpStream> = (0..CAP).map(|_| hold(&server)).collect();
    for _ in 0..3 {
        refused(&server);
    }

    // Three leave with Connection: close; their places are free once each close is seen.
    for mut stream in held.drain(1..) {
        stream
            .write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let responses = split_responses(&read_to_close(&mut stream), &[]);
        assert_eq!(responses.len(), 1);
        assert_eq!(responses[0].status, 200);
    }
    held.extend((1..CAP).map(|_| hold(&server)));
    refused(&server);

    // All four clients go away without a word. The server sees each EOF in its own time:
    // a new connection is served once it has, which is polled for with a deadline.
    drop(held);
    let deadline = Instant::now() + TIMEOUT;
    let mut again = Vec::new();
    while again.len() < CAP {
        assert!(
            Instant::now() < deadline,
            "the cap's places did not come back"
        );
        let mut stream = server.connect();
        stream.write_all(keep_alive).unwrap();
        let mut leftover = Vec::new();
        match read_response(&mut stream, &mut leftover, false).status {
            200 => again.push(stream),
            503 => thread::sleep(Duration::from_millis(10)),
            other => panic!("status {other}"),
        }
    }
    refused(&server);
}

/// A thousand clients reset their connections (SO_LINGER 0, then close) while a 1 MiB file
/// is being sent to them: the server leaks no descriptor (the count returns to its baseline)
/// and still answers.
#[test]
fn clients_resetting_mid_response_leak_no_descriptor() {
    let (root, _) = root_with_big_file(1 << 20);
    let server = Server::with_args(root.path(), &[]);
    let pid = server.pid();
    assert_eq!(get(&server, "/echo").status, 200);
    let baseline = fd_count(pid);
    let addr = server.addr;
    let clients: Vec<_> = (0..8)
        .map(|_| {
            thread::spawn(move || {
                for _ in 0..125 {
                    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).expect("connect");
                    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
                    stream
                        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                        .unwrap();
                    let (response, _) = read_head(&mut stream);
                    assert_eq!(response.status, 200);
                    rustix::net::sockopt::set_socket_linger(&stream, Some(Duration::ZERO))
                        .expect("SO_LINGER 0");
                    drop(stream);
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client thread");
    }
    let settled = poll_until_at_most(baseline, || fd_count(pid));
    println!("descriptors: {baseline} before, {settled} after 1,000 resets");
    assert_eq!(get(&server, "/echo").status, 200);
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

/// Changes the file while a slow reader is in the middle of it: `change` runs after the
/// head has arrived. Returns the body received (until the server closed) and the
/// Content-Length promised.
fn download_while(server: &Server, change: impl FnOnce(&Path)) -> (Vec<u8>, usize) {
    let mut stream = slow_reader(server.addr);
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (response, mut body) = read_head(&mut stream);
    assert_eq!(response.status, 200);
    let length: usize = response
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .expect("Content-Length");
    change(&server.root.join("big.bin"));
    body.extend(read_rest(&mut stream, 4096));
    (body, length)
}

/// A large file truncated, removed, or replaced (renamed over) while being sent: the
/// connection ends cleanly — no hang: the read timeout would fail the test — the server
/// still answers, and nothing panics. Removing or replacing the file leaves the open
/// descriptor's data in place, so those downloads are whole; truncating cuts the data, so
/// that body is short and then the connection closes (a response cannot take back its
/// Content-Length, RFC 9112 §6.3 item 5 tells the client the message is incomplete).
#[test]
fn a_file_changed_while_being_sent_ends_the_connection_cleanly() {
    const SIZE: usize = 16 << 20;
    let (root, contents) = root_with_big_file(SIZE);
    let server = Server::with_args(root.path(), &[]);

    let (body, length) = download_while(&server, |path| {
        File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(0))
            .expect("truncate");
    });
    assert_eq!(length, SIZE);
    assert!(body.len() < SIZE, "the truncated download was whole");
    assert_eq!(body[..], contents[..body.len()], "bytes out of place");
    println!("truncated: {} of {SIZE} bytes, then close", body.len());

    fs::write(root.path().join("big.bin"), &contents).unwrap();
    let (body, _) = download_while(&server, |path| fs::remove_file(path).expect("remove"));
    assert!(body == contents, "removed: {} of {SIZE} bytes", body.len());

    fs::write(root.path().join("big.bin"), &contents).unwrap();
    let (body, _) = download_while(&server, |path| {
        let new = path.with_file_name("new.bin");
        fs::write(&new, b"replacement").unwrap();
        fs::rename(&new, path).expect("rename over");
    });
    assert!(body == contents, "replaced: {} of {SIZE} bytes", body.len());

    assert_eq!(get(&server, "/big.bin").text(), "replacement");
    assert_eq!(get(&server, "/echo").status, 200);
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

/// SIGTERM while a slow client is downloading: the download completes with every byte, and
/// the server then exits 0 with its shutdown line. The file (16 MiB) is larger than the most
/// the kernel buffers for a socket (net.ipv4.tcp_wmem's 4 MiB maximum here, with a 4 KiB
/// receive buffer on the client), so the server is still sending when the signal arrives;
/// the test checks it is still running after it logged the shutdown, before the client has
/// read the rest.
#[test]
fn sigterm_during_a_slow_download_lets_it_finish() {
    const SIZE: usize = 16 << 20;
    let (root, contents) = root_with_big_file(SIZE);
    let mut server = Server::with_args(root.path(), &[]);
    let mut stream = slow_reader(server.addr);
    stream
        .write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (response, mut body) = read_head(&mut stream);
    assert_eq!(response.status, 200);

    server.signal("TERM");
    server.wait_for_log("shutting down");
    assert!(
        is_running(server.pid()),
        "the server exited before the download it was sending had been read"
    );
    body.extend(read_rest(&mut stream, 64 * 1024));
    assert!(body == contents, "{} of {SIZE} bytes", body.len());

    let status = server.wait_exit();
    assert_eq!(status.code(), Some(0));
    server.wait_for_stdout("Server stopped");
}

/// A panic in a handler costs its own connection only: 500 and a close, the panic in the
/// log, and the next connection is served. The panicking route exists in debug builds only
/// (`handlers::PANIC_PATH`); this test's build profile is the binary's, so in a release
/// build it checks instead that the route does not exist.
#[test]
fn a_panicking_handler_is_contained() {
    let server = Server::start();
    let path = "/__nomserve/panic";
    if !cfg!(debug_assertions) {
        println!("release build: {path} does not exist, so the panic cannot be tested here");
        assert_eq!(get(&server, path).status, 404);
        return;
    }
    let mut stream = server.connect();
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    // No half-close and no `Connection: close`: the close is the server's decision.
    let bytes = read_to_close(&mut stream);
    let responses = split_responses(&bytes, &[]);
    assert_eq!(responses.len(), 1, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(responses[0].status, 500);
    assert_eq!(responses[0].header("Connection"), Some("close"));
    server.wait_for_log("handler panicked");
    assert_eq!(get(&server, "/echo").status, 200);
}

/// Past the server's own descriptor limit (lowered here to 48 with `prlimit`, below the
/// default `--max-connections` of 1,024), a new client must still get an answer — 503 and a
/// close, as past the cap (RFC 9110 §15.6.4) — and never be left waiting in the accept
/// backlog. Each client holds its connection open (a 60 s keep-alive), so no descriptor
/// frees itself during the test. Skipped, saying so, where `prlimit` is not installed.
#[test]
fn past_the_descriptor_limit_a_client_is_answered_not_left_waiting() {
    let server = Server::with_args(&www(), &["--keep-alive-timeout", "60s"]);
    let lowered = std::process::Command::new("prlimit")
        .arg(format!("--pid={}", server.pid()))
        .arg("--nofile=48:48")
        .status();
    if !lowered.is_ok_and(|s| s.success()) {
        println!("prlimit is not available: the descriptor limit cannot be lowered; skipped");
        return;
    }
    let mut held = Vec::new();
    let mut refused = 0;
    for i in 0..64 {
        let mut stream = server.connect();
        stream
            .write_all(b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 1024];
        let response = loop {
            if let Some((response, _)) = parse_head(&bytes) {
                break response;
            }
            match stream.read(&mut chunk) {
                Ok(0) => panic!("connection {i} closed without a response"),
                Ok(n) => bytes.extend_from_slice(&chunk[..n]),
                Err(e) => panic!("connection {i}: no response ({e}); the client was left waiting"),
            }
        };
        match response.status {
            200 => held.push(stream),
            503 => refused += 1,
            other => panic!("connection {i}: status {other}"),
        }
    }
    println!(
        "{} connections held, {refused} refused with 503",
        held.len()
    );
    assert!(refused > 0);
}
