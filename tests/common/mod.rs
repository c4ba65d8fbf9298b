//! The harness every integration test uses: it starts the real `nomserve` binary on a free
//! port, reads the port from the banner (on stderr, with the log), and talks to it over real
//! sockets with read timeouts. It waits on the server's own output or on a socket, each with
//! a deadline; only a server started without a banner is polled until it accepts.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single wait in a test may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A running server, killed when dropped.
pub struct Server {
    child: Option<Child>,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// The document root it serves.
    pub root: PathBuf,
    log: Arc<Mutex<String>>,
    log_lines: Receiver<String>,
    stdout: Arc<Mutex<String>>,
    stdout_lines: Receiver<String>,
}

/// The repository's own `www/`.
pub fn www() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("www")
}

impl Server {
    /// Serves the repository's `www/` with default settings.
    pub fn start() -> Server {
        Server::with_args(&www(), &[])
    }

    /// Serves `root` with extra command-line arguments, `RUST_LOG=info`.
    pub fn with_args(root: &Path, args: &[&str]) -> Server {
        Server::with_env(root, args, &[("RUST_LOG", "info")])
    }

    /// Serves `root` with extra arguments and environment variables, on the first `--bind`
    /// address (which must be an IP address), 127.0.0.1 without one.
    pub fn with_env(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nomserve"));
        cmd.arg("--port")
            .arg("0")
            .arg("--root")
            .arg(root)
            .args(args)
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let ip = args
            .windows(2)
            .find(|w| w[0] == "--bind")
            .map(|w| w[1].parse().expect("--bind address"))
            .unwrap_or_else(|| "127.0.0.1".parse().unwrap());
        Server::from_command(cmd, root, ip)
    }

    /// Runs `cmd` (the binary, or a program that runs it, such as systemd-socket-activate),
    /// serving `root` on `ip` and the port its banner names. Its stdin is the caller's to set.
    pub fn from_command(cmd: Command, root: &Path, ip: IpAddr) -> Server {
        let (mut server, port_rx) = Server::spawn(cmd, root, ip);
        match port_rx.recv_timeout(TIMEOUT) {
            Ok(port) => server.addr.set_port(port),
            Err(_) => {
                let mut child = server.child.take().unwrap();
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "no banner from nomserve within {TIMEOUT:?} ({status:?}); stderr:\n{}",
                    server.log()
                );
            }
        }
        server
    }

    /// Serves `root` on 127.0.0.1 with extra arguments and environment variables that leave
    /// out the banner (`-q`, `RUST_LOG=warn`): on a port picked free beforehand, waiting until
    /// a connection to it succeeds.
    pub fn without_banner(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|socket| socket.local_addr())
            .expect("a free port")
            .port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nomserve"));
        cmd.arg("--port")
            .arg(port.to_string())
            .arg("--root")
            .arg(root)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        let (mut server, _) = Server::spawn(cmd, root, "127.0.0.1".parse().unwrap());
        server.addr.set_port(port);
        let deadline = Instant::now() + TIMEOUT;
        while TcpStream::connect_timeout(&server.addr, TIMEOUT).is_err() {
            assert!(
                Instant::now() < deadline,
                "nomserve is not listening on {} within {TIMEOUT:?}; stderr:\n{}",
                server.addr,
                server.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Starts `cmd` with its stdout and stderr read by threads: the log (stderr) kept and
    /// passed on line by line, the port of the banner's first line sent on the receiver
    /// returned, and stdout (where `--access-log -` writes) kept and passed on too.
    fn spawn(mut cmd: Command, root: &Path, ip: IpAddr) -> (Server, Receiver<u16>) {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the nomserve binary");

        // stderr is the log and the banner, "Server is listening on port N..." first.
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, log_lines) = channel();
        let (port_tx, port_rx) = channel();
        let stderr = child.stderr.take().unwrap();
        let log_sink = Arc::clone(&log);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                // Kept before anyone is told of it: `log()` holds every line announced.
                log_sink.lock().unwrap().push_str(&line);
                log_sink.lock().unwrap().push('\n');
                if let Some(rest) = line.strip_prefix("Server is listening on port ") {
                    let port: u16 = rest
                        .trim_end_matches("...")
                        .parse()
                        .expect("port in banner");
                    let _ = port_tx.send(port);
                }
                if tx.send(line).is_err() {
                    break;
                }
            }
        });

        let stdout_text = Arc::new(Mutex::new(String::new()));
        let (stdout_tx, stdout_lines) = channel();
        let stdout = child.stdout.take().unwrap();
        let stdout_sink = Arc::clone(&stdout_text);
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                stdout_sink.lock().unwrap().push_str(&line);
                stdout_sink.lock().unwrap().push('\n');
                let _ = stdout_tx.send(line);
            }
        });
        let server = Server {
            child: Some(child),
            addr: SocketAddr::new(ip, 0),
            root: root.to_path_buf(),
            log,
            log_lines,
            stdout: stdout_text,
            stdout_lines,
        };
        (server, port_rx)
    }

    /// `http://ADDR` with `path` appended.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `https://ADDR` with `path` appended, for a server started with a certificate.
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}{}", self.addr, path)
    }

    /// A new connection with read and write timeouts.
    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect_timeout(&self.addr, TIMEOUT).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        stream
    }

    /// Sends `request` on a new connection, half-closes it, and reads until the server
    /// closes: every byte the server sent.
    pub fn exchange(&self, request: &[u8]) -> Vec<u8> {
        let mut stream = self.connect();
        stream.write_all(request).expect("send request");
        stream.shutdown(Shutdown::Write).expect("half-close");
        read_to_close(&mut stream)
    }

    /// Everything logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The banner's block, from its first line to "Press Ctrl+C to stop.", once all of it is
    /// logged.
    pub fn banner(&self) -> String {
        self.wait_for_log("Press Ctrl+C to stop.");
        let log = self.log();
        let start = log
            .find("Server is listening")
            .expect("the banner's first line");
        let end = start + log[start..].find("Press Ctrl+C to stop.\n").unwrap();
        log[start..end + "Press Ctrl+C to stop.\n".len()].to_string()
    }

    /// Everything printed on stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits until a log line contains `needle`, and returns it.
    pub fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    panic!("no log line containing {needle:?}; log:\n{}", self.log())
                }
            }
        }
    }

    /// Waits until a line printed on stdout contains `needle`, and returns it.
    pub fn wait_for_stdout(&self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout_lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "no stdout line containing {needle:?}; stdout:\n{}",
                        self.stdout()
                    )
                }
            }
        }
    }

    /// Waits until the server has closed its stderr (it exited), then returns the whole log.
    /// Use after [`Server::wait_exit`] to assert on everything it ever logged.
    pub fn wait_for_log_end(&self) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log_lines.recv_timeout(left) {
                Ok(_) => {}
                Err(RecvTimeoutError::Disconnected) => return self.log(),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the server's stderr is still open; log:\n{}", self.log())
                }
            }
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Sends `signal` (such as `libc`'s SIGTERM, 15) to the server with `kill`.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the server to exit and returns its status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("server still owned");
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("wait for server") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("server did not exit within {TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a run of the binary that was expected to end on its own left behind.
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the binary with exactly `args` (no `--port` or `--root` added) and waits for it to
/// exit on its own: for `--help`, `--version` and the ways it refuses to start. Fails the test
/// (killing the server) if it is still running after [`TIMEOUT`].
pub fn run_to_exit(args: &[&str]) -> Exited {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nomserve"));
    command.args(args).env("RUST_LOG", "info");
    run_command(command)
}

/// Runs `command` to its end (stdin closed, its output read) and waits for it to exit on its
/// own; fails the test (killing it) if it is still running after [`TIMEOUT`].
pub fn run_command(mut command: Command) -> Exited {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the command") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not exit within {TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Exited {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Reads one response from `stream` (which stays open; a TCP or a TLS stream): the head, then a body framed by
/// Content-Length (none for HEAD requests, `head_request`, and for 1xx, 204 and 304).
/// `leftover` holds bytes read past earlier responses and keeps those read past this one.
pub fn read_response(
    stream: &mut impl Read,
    leftover: &mut Vec<u8>,
    head_request: bool,
) -> Response {
    let deadline = Instant::now() + TIMEOUT;
    let mut chunk = [0u8; 16 * 1024];
    let (mut response, head_len) = loop {
        if let Some(parsed) = parse_head(leftover) {
            break parsed;
        }
        assert!(Instant::now() < deadline, "no whole response head");
        let n = stream.read(&mut chunk).expect("read a response");
        assert!(
            n > 0,
            "connection closed before a whole response head; got:\n{}",
            String::from_utf8_lossy(leftover)
        );
        leftover.extend_from_slice(&chunk[..n]);
    };
    leftover.drain(..head_len);
    let no_body = head_request
        || response.status == 204
        || response.status == 304
        || (100..200).contains(&response.status);
    if !no_body {
        let len: usize = response
            .header("Content-Length")
            .expect("Content-Length on a response with a body")
            .parse()
            .expect("numeric Content-Length");
        while leftover.len() < len {
            let n = stream.read(&mut chunk).expect("read a response body");
            assert!(n > 0, "connection closed inside a response body");
            leftover.extend_from_slice(&chunk[..n]);
        }
        response.body = leftover.drain(..len).collect();
    }
    response
}

/// Reads until the peer closes (or the read timeout fails the test).
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    match stream.read_to_end(&mut out) {
        Ok(_) => out,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => out,
        Err(e) => panic!(
            "reading until close: {e}; got so far:\n{}",
            String::from_utf8_lossy(&out)
        ),
    }
}

/// A response read off the wire, its head checked by httparse (a parser no one here wrote).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Parses the head at the start of `bytes` with httparse; returns the head and its length.
pub fn parse_head(bytes: &[u8]) -> Option<(Response, usize)> {
    let mut fields = [httparse::EMPTY_HEADER; 64];
    let mut parsed = httparse::Response::new(&mut fields);
    match parsed
        .parse(bytes)
        .expect("httparse accepts the response head")
    {
        httparse::Status::Partial => None,
        httparse::Status::Complete(len) => {
            let headers = parsed
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8(h.value.to_vec()).expect("ASCII field value"),
                    )
                })
                .collect();
            let response = Response {
                status: parsed.code.unwrap(),
                reason: parsed.reason.unwrap_or_default().to_string(),
                headers,
                body: Vec::new(),
            };
            Some((response, len))
        }
    }
}

/// Splits a byte stream into the responses it holds, framed by Content-Length. `head_only`
/// marks responses to HEAD requests, which carry no body whatever their Content-Length.
pub fn split_responses(mut bytes: &[u8], head_only: &[bool]) -> Vec<Response> {
    let mut out = Vec::new();
    let mut i = 0;
    while !bytes.is_empty() {
        let (mut response, len) = parse_head(bytes).expect("a whole response head");
        bytes = &bytes[len..];
        let no_body = head_only.get(i).copied().unwrap_or(false)
            || response.status == 304
            || response.status == 204
            || (100..200).contains(&response.status);
        if !no_body {
            let n = match response.header("Content-Length") {
                Some(v) => v.parse::<usize>().expect("numeric Content-Length"),
                None => bytes.len(),
            };
            assert!(bytes.len() >= n, "body shorter than its Content-Length");
            response.body = bytes[..n].to_vec();
            bytes = &bytes[n..];
        }
        out.push(response);
        i += 1;
    }
    out
}

/// Sends one request on a new connection and returns the single response.
pub fn request(server: &Server, raw: &str) -> Response {
    let bytes = server.exchange(raw.as_bytes());
    let head = raw.starts_with("HEAD ");
    let mut responses = split_responses(&bytes, &[head]);
    assert_eq!(responses.len(), 1, "expected one response to {raw:?}");
    responses.remove(0)
}

/// `GET path` with a Host and `Connection: close`.
pub fn get(server: &Server, path: &str) -> Response {
    get_with(server, path, "")
}

/// `GET path` with a Host, `fields` (each line ending in CRLF) and `Connection: close`.
pub fn get_with(server: &Server, path: &str, fields: &str) -> Response {
    request(
        server,
        &format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{fields}Connection: close\r\n\r\n"),
    )
}

/// A TCP connection to `addr`, its socket set up by `setup` before connecting, with the
/// harness's read and write timeouts.
fn connect_with(addr: SocketAddr, setup: impl FnOnce(&rustix::fd::OwnedFd)) -> TcpStream {
    let family = match addr {
        SocketAddr::V4(_) => rustix::net::AddressFamily::INET,
        SocketAddr::V6(_) => rustix::net::AddressFamily::INET6,
    };
    let fd = rustix::net::socket(family, rustix::net::SocketType::STREAM, None).expect("socket");
    setup(&fd);
    rustix::net::connect(&fd, &addr).expect("connect");
    let stream = TcpStream::from(fd);
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// A connection to `addr` from the loopback address `source` (any of 127.0.0.0/8): a client
/// of its own, as far as the server's per-address accounting can tell.
pub fn connect_from(source: impl Into<IpAddr>, addr: SocketAddr) -> TcpStream {
    let source = SocketAddr::new(source.into(), 0);
    connect_with(addr, |fd| {
        rustix::net::bind(fd, &source).expect("bind the source address");
    })
}

/// A connection to `addr` whose receive buffer is set small *before* connecting, so that the
/// window it advertises stays small: a client that stops reading soon stops the server's
/// writes.
pub fn slow_socket(addr: SocketAddr) -> TcpStream {
    connect_with(addr, |fd| {
        rustix::net::sockopt::set_socket_recv_buffer_size(fd, 4096).expect("SO_RCVBUF");
    })
}

/// The address the banner gives for `server`'s metrics listener (`--metrics`).
pub fn metrics_addr(server: &Server) -> SocketAddr {
    let line = server.wait_for_log("metrics at http://");
    let rest = line.split_once("metrics at http://").unwrap().1;
    rest.split('/').next().unwrap().parse().unwrap()
}

/// The value of the sample `name` (without labels) on the metrics listener at `addr`.
pub fn metric(addr: SocketAddr, name: &str) -> u64 {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
        .unwrap();
    let text = split_responses(&read_to_close(&mut stream), &[false])
        .remove(0)
        .text();
    let value = text
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in {text}"));
    value.parse().unwrap()
}
