//! Observing the server, against the real binary: the access log as JSON, to a file that
//! SIGUSR1 reopens after a rotation, to standard output, or off; `/metrics` counting exactly
//! the requests made (parsed as Prometheus text) without being logged itself; `/health`
//! turning 503 once a shutdown has begun; the metrics listener served as any other: many
//! scrapes at once, keep-alive, the same 400s.

mod common;

use common::{
    Response, Server, TIMEOUT, get, metrics_addr, read_to_close, request, split_responses,
};
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// A root with a small text file and an index page.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "hello\n").unwrap();
    fs::write(dir.path().join("index.html"), "<!doctype html><p>home\n").unwrap();
    dir
}

/// The lines of the file at `path` once it holds at least `count` (the log is written by a
/// thread of its own, so a line can land just after its response).
fn wait_for_lines(path: &Path, count: usize) -> Vec<String> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let text = fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= count {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "{} has {} lines, not {count}:\n{text}",
            path.display(),
            lines.len()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Parses one line of the JSON log.
fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

#[test]
fn the_json_log_has_one_object_per_response_with_its_fields_escaped() {
    let root = site();
    let log = root.path().join("access.log");
    let server = Server::with_args(
        root.path(),
        &[
            "--access-log",
            log.to_str().unwrap(),
            "--log-format",
            "json",
        ],
    );
    // obs-text in a field value is allowed (RFC 9110 §5.5); a byte that is not UTF-8 must
    // still give valid JSON.
    let raw = b"GET /a.txt?x=1&y=%22 HTTP/1.1\r\nHost: localhost\r\n\
        Referer: http://example.com/\"q\"\r\nUser-Agent: tester \\ \xff\r\n\
        Connection: close\r\n\r\n";
    let first = split_responses(&server.exchange(raw), &[false]).remove(0);
    assert_eq!(first.status, 200);
    let head = request(
        &server,
        "HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(head.status, 200);
    let bad = split_responses(&server.exchange(b"GET /x\x01 HTTP/1.1\r\n\r\n"), &[false]);
    assert_eq!(bad[0].status, 400);

    let lines = wait_for_lines(&log, 3);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let entries: Vec<serde_json::Value> = lines.iter().map(|line| json(line)).collect();
    for entry in &entries {
        let time = entry["time"].as_str().unwrap();
        // RFC 3339, UTC: 2026-11-24T06:02:13.270Z
        assert_eq!(time.len(), 24, "{time}");
        assert_eq!((&time[4..5], &time[10..11], &time[23..]), ("-", "T", "Z"));
        assert_eq!(entry["client"], "127.0.0.1");
        assert!(entry["duration_us"].is_u64(), "{entry}");
    }
    let first = &entries[0];
    assert_eq!(first["method"], "GET");
    assert_eq!(first["target"], "/a.txt?x=1&y=%22");
    assert_eq!(first["protocol"], "HTTP/1.1");
    assert_eq!(first["request"], "GET /a.txt?x=1&y=%22 HTTP/1.1");
    assert_eq!(first["status"], 200);
    assert_eq!(first["bytes"], 6);
    assert_eq!(first["referer"], "http://example.com/\"q\"");
    assert_eq!(first["user_agent"], "tester \\ \u{FFFD}");

    let head = &entries[1];
    assert_eq!(head["method"], "HEAD");
    assert_eq!(head["target"], "/");
    assert_eq!(head["status"], 200);
    assert_eq!(head["bytes"], 0);
    assert_eq!(head["referer"], serde_json::Value::Null);
    assert_eq!(head["user_agent"], serde_json::Value::Null);

    // A request that did not parse: its printable start, and no parts.
    let bad = &entries[2];
    assert_eq!(bad["status"], 400);
    assert_eq!(bad["method"], serde_json::Value::Null);
    assert_eq!(bad["request"], "GET /x");
}

#[test]
fn json_lines_go_to_the_process_log_by_default() {
    let root = site();
    let server = Server::with_args(root.path(), &["--log-format", "json"]);
    assert_eq!(get(&server, "/a.txt").status, 200);
    let line = server.wait_for_log("\"target\":\"/a.txt\"");
    let entry = json(&line);
    assert_eq!(entry["method"], "GET");
    assert_eq!(entry["status"], 200);
}

#[test]
fn sigusr1_reopens_the_log_file_after_it_was_renamed() {
    let root = site();
    let log = root.path().join("access.log");
    let rotated = root.path().join("access.log.1");
    let server = Server::with_args(root.path(), &["--access-log", log.to_str().unwrap()]);
    assert_eq!(get(&server, "/a.txt?before").status, 200);
    let lines = wait_for_lines(&log, 1);
    assert!(
        lines[0].contains("\"GET /a.txt?before HTTP/1.1\" 200 6 "),
        "{lines:?}"
    );

    fs::rename(&log, &rotated).unwrap();
    server.signal("USR1");
    server.wait_for_log("reopened the access log");
    assert_eq!(get(&server, "/a.txt?after").status, 200);

    let lines = wait_for_lines(&log, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("\"GET /a.txt?after HTTP/1.1\" 200 6 "),
        "{lines:?}"
    );
    let old = fs::read_to_string(&rotated).unwrap();
    assert_eq!(old.lines().count(), 1, "{old}");
    assert!(old.contains("?before"), "{old}");
    // The access log left the process log.
    assert!(!server.log().contains("GET /a.txt"), "{}", server.log());
}

#[test]
fn the_log_goes_to_standard_output_with_a_dash() {
    let root = site();
    let server = Server::with_args(root.path(), &["--access-log", "-"]);
    assert_eq!(get(&server, "/a.txt").status, 200);
    let line = server.wait_for_stdout("\"GET /a.txt HTTP/1.1\" 200 6 ");
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    assert!(!server.log().contains("GET /a.txt"), "{}", server.log());
}

#[test]
fn an_access_log_that_is_off_writes_nothing() {
    let root = site();
    let mut server = Server::with_args(root.path(), &["--access-log", "off"]);
    assert_eq!(get(&server, "/a.txt").status, 200);
    assert_eq!(get(&server, "/missing").status, 404);
    server.signal("TERM");
    assert!(server.wait_exit().success());
    let log = server.wait_for_log_end();
    assert!(log.contains("SIGTERM received"), "{log}");
    assert!(!log.contains("GET /"), "{log}");
    assert!(!server.stdout().contains("GET /"), "{}", server.stdout());
}

/// A connection to the metrics listener.
fn connect_to(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// `GET path` on a new connection to the metrics listener, closed after the answer.
fn fetch(addr: SocketAddr, path: &str) -> Response {
    let mut stream = connect_to(addr);
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
    split_responses(&read_to_close(&mut stream), &[false]).remove(0)
}

/// A sample's name and its labels, sorted.
type Key = (String, Vec<(String, String)>);

/// Parses the text exposition format (version 0.0.4): `# HELP` and `# TYPE` lines, then
/// `name{label="value",...} value` samples. Every sample must belong to a family whose TYPE
/// came before it, named `nomserve_...`.
fn parse_prometheus(text: &str) -> BTreeMap<Key, f64> {
    let mut typed: HashSet<String> = HashSet::new();
    let mut histograms: HashSet<String> = HashSet::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            if kind == "histogram" {
                histograms.insert(name.to_string());
            }
            assert!(typed.insert(name.to_string()), "TYPE given twice: {line}");
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(name.starts_with("nomserve_"), "{line}");
        assert!(
            name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "{line}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| histograms.contains(*base))
            })
            .unwrap_or(name);
        assert!(typed.contains(family), "no TYPE before {line}");
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            let mut label = String::new();
            loop {
                let (_, c) = chars.next().expect("unterminated labels");
                match c {
                    '}' => break,
                    ',' => {}
                    '=' => {
                        assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                        let mut value = String::new();
                        loop {
                            match chars.next().unwrap().1 {
                                '"' => break,
                                '\\' => match chars.next().unwrap().1 {
                                    'n' => value.push('\n'),
                                    c => value.push(c),
                                },
                                c => value.push(c),
                            }
                        }
                        labels.push((std::mem::take(&mut label), value));
                    }
                    c => label.push(c),
                }
            }
            let end = chars.next().map_or(inner.len(), |(i, _)| i);
            rest = &inner[end..];
        }
        let value: f64 = rest
            .strip_prefix(' ')
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no value: {line}"));
        labels.sort();
        assert!(
            samples.insert((name.to_string(), labels), value).is_none(),
            "sample given twice: {line}"
        );
    }
    samples
}

/// The value of a sample; 0 when absent (a request counter appears with its first request).
fn value(samples: &BTreeMap<Key, f64>, name: &str, labels: &[(&str, &str)]) -> f64 {
    let mut labels: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.sort();
    samples
        .get(&(name.to_string(), labels))
        .copied()
        .unwrap_or(0.0)
}

/// Scrapes until `done` holds of the samples (a response is counted once its last byte is
/// handed to the socket, which can be just after the client has it), then returns them.
fn scrape_until(
    addr: SocketAddr,
    what: &str,
    done: impl Fn(&BTreeMap<Key, f64>) -> bool,
) -> BTreeMap<Key, f64> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let response = fetch(addr, "/metrics");
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("Content-Type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        let samples = parse_prometheus(&response.text());
        if done(&samples) {
            return samples;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not reached; last scrape:\n{}",
            response.text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn metrics_count_exactly_the_requests_made_and_are_not_logged() {
    let root = site();
    let log = root.path().join("access.log");
    let server = Server::with_args(
        root.path(),
        &[
            "--access-log",
            log.to_str().unwrap(),
            "--metrics",
            "127.0.0.1:0",
        ],
    );
    let addr = metrics_addr(&server);
    let before = parse_prometheus(&fetch(addr, "/metrics").text());
    assert_eq!(fetch(addr, "/health").text(), "ok\n");

    let mut made: Vec<(&str, Response)> = Vec::new();
    for _ in 0..3 {
        made.push(("GET", get(&server, "/a.txt")));
    }
    made.push((
        "HEAD",
        request(
            &server,
            "HEAD /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        ),
    ));
    for _ in 0..2 {
        made.push(("GET", get(&server, "/missing")));
    }
    made.push((
        "DELETE",
        request(
            &server,
            "DELETE /a.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        ),
    ));
    made.push((
        "other",
        split_responses(&server.exchange(b"BREW / HTTP/1.1\r\n\r\n"), &[false]).remove(0),
    ));
    let statuses: Vec<u16> = made.iter().map(|(_, r)| r.status).collect();
    assert_eq!(&statuses[..6], [200, 200, 200, 200, 404, 404]);

    let mut expected: BTreeMap<(String, &str), f64> = BTreeMap::new();
    for (method, response) in &made {
        let class = format!("{}xx", response.status / 100);
        *expected.entry((class, method)).or_default() += 1.0;
    }
    let bytes: usize = made.iter().map(|(_, r)| r.body.len()).sum();
    let count = |samples: &BTreeMap<Key, f64>| {
        value(samples, "nomserve_request_duration_seconds_count", &[])
    };
    let after = scrape_until(addr, "8 responses counted", |s| {
        count(s) - count(&before) >= made.len() as f64
    });
    assert_eq!(count(&after) - count(&before), made.len() as f64);
    for ((class, method), n) in &expected {
        let labels = [("status", class.as_str()), ("method", *method)];
        let delta = value(&after, "nomserve_requests_total", &labels)
            - value(&before, "nomserve_requests_total", &labels);
        assert_eq!(delta, *n, "{class} {method}");
    }
    let total = |samples: &BTreeMap<Key, f64>| -> f64 {
        samples
            .iter()
            .filter(|((name, _), _)| name == "nomserve_requests_total")
            .map(|(_, v)| v)
            .sum()
    };
    assert_eq!(total(&after) - total(&before), made.len() as f64);
    let body = |s: &BTreeMap<Key, f64>| value(s, "nomserve_response_body_bytes_total", &[]);
    assert_eq!(body(&after) - body(&before), bytes as f64);
    let inf = [("le", "+Inf")];
    assert_eq!(
        value(&after, "nomserve_request_duration_seconds_bucket", &inf),
        count(&after)
    );
    let fds = value(&after, "nomserve_open_fds", &[]);
    assert!(
        fds > 0.0 && fds <= value(&after, "nomserve_max_fds", &[]),
        "{fds}"
    );

    // One keep-alive connection left open after its response: open and idle.
    let mut kept = server.connect();
    kept.write_all(b"GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut leftover = Vec::new();
    assert_eq!(
        common::read_response(&mut kept, &mut leftover, false).status,
        200
    );
    scrape_until(addr, "one open idle connection", |s| {
        value(s, "nomserve_connections_open", &[]) == 1.0
            && value(s, "nomserve_connections_idle", &[]) == 1.0
    });
    drop(kept);

    // Nothing on the metrics listener was logged: only the requests made, and a last one
    // that shows the log is written up to here.
    assert_eq!(get(&server, "/last").status, 404);
    let lines = wait_for_lines(&log, made.len() + 2);
    assert!(lines.last().unwrap().contains("GET /last "), "{lines:?}");
    assert_eq!(lines.len(), made.len() + 2, "{lines:?}");
    assert!(
        lines
            .iter()
            .all(|line| !line.contains("/metrics") && !line.contains("/health")),
        "{lines:?}"
    );
}

#[test]
fn health_turns_503_while_draining() {
    let root = site();
    let big = fs::File::create(root.path().join("big.bin")).unwrap();
    big.set_len(64 << 20).unwrap();
    let server = Server::with_args(
        root.path(),
        &["--metrics", "127.0.0.1:0", "--send-timeout", "1min"],
    );
    let addr = metrics_addr(&server);
    let ok = fetch(addr, "/health");
    assert_eq!((ok.status, ok.text().as_str()), (200, "ok\n"));

    // A response in flight that the client does not read: the shutdown waits for it.
    let mut slow = server.connect();
    slow.write_all(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 1];
    assert_eq!(slow.read(&mut first).unwrap(), 1);

    server.signal("TERM");
    // Logged once the flag that /health reads is set.
    server.wait_for_log("shutting down: no new connections");
    let draining = fetch(addr, "/health");
    assert_eq!(
        (draining.status, draining.text().as_str()),
        (503, "draining\n")
    );
    assert_eq!(fetch(addr, "/metrics").status, 200);
    assert_eq!(fetch(addr, "/nothing").status, 404);
    let mut post = connect_to(addr);
    post.write_all(
        b"POST /metrics HTTP/1.1\r\nHost: m\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let refused = split_responses(&read_to_close(&mut post), &[false]).remove(0);
    assert_eq!(refused.status, 405);
    assert_eq!(refused.header("Allow"), Some("GET, HEAD"));
}

#[test]
fn a_silent_client_holds_up_none_of_100_concurrent_scrapes() {
    let root = site();
    // A header timeout longer than the test: the server leaves the silent connection open
    // for as long as the scrapes take, however loaded the machine.
    let server = Server::with_args(
        root.path(),
        &["--metrics", "127.0.0.1:0", "--header-timeout", "10min"],
    );
    let addr = metrics_addr(&server);
    let mut silent = connect_to(addr);
    let scrapes: Vec<_> = (0..100)
        .map(|_| std::thread::spawn(move || fetch(addr, "/metrics").status))
        .collect();
    let statuses: Vec<u16> = scrapes.into_iter().map(|s| s.join().unwrap()).collect();
    assert!(statuses.iter().all(|&status| status == 200), "{statuses:?}");
    // Only now does the silent client speak: its connection was open all along.
    silent
        .write_all(b"GET /health HTTP/1.1\r\nHost: m\r\nConnection: close\r\n\r\n")
        .unwrap();
    let answer = split_responses(&read_to_close(&mut silent), &[false]).remove(0);
    assert_eq!((answer.status, answer.text().as_str()), (200, "ok\n"));
}

#[test]
fn the_metrics_listener_keeps_a_connection_alive_between_requests() {
    let root = site();
    let server = Server::with_args(root.path(), &["--metrics", "127.0.0.1:0"]);
    let addr = metrics_addr(&server);
    let mut stream = connect_to(addr);
    let mut leftover = Vec::new();
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: m\r\n\r\n")
        .unwrap();
    let first = common::read_response(&mut stream, &mut leftover, false);
    assert_eq!((first.status, first.text().as_str()), (200, "ok\n"));
    assert_eq!(first.header("Connection"), None);
    stream
        .write_all(b"HEAD /metrics HTTP/1.1\r\nHost: m\r\n\r\n")
        .unwrap();
    let second = common::read_response(&mut stream, &mut leftover, true);
    assert_eq!(second.status, 200);
    assert_eq!(
        second.header("Content-Type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
}

#[test]
fn a_malformed_request_to_the_metrics_listener_gets_the_same_400_as_the_site() {
    let root = site();
    let server = Server::with_args(root.path(), &["--metrics", "127.0.0.1:0"]);
    let addr = metrics_addr(&server);
    let raw = b"GET /metrics HTTP/1.1\r\nHost: x\r\nBad\x01: y\r\n\r\n";
    let from_site = split_responses(&server.exchange(raw), &[false]).remove(0);
    let mut stream = connect_to(addr);
    stream.write_all(raw).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let from_metrics = split_responses(&read_to_close(&mut stream), &[false]).remove(0);
    assert_eq!(from_site.status, 400);
    assert_eq!(from_metrics.status, 400);
    assert_eq!(from_metrics.text(), from_site.text());
    assert!(
        from_metrics.text().contains("0x01"),
        "{}",
        from_metrics.text()
    );
}

/// `count` GET requests for `/a.txt` pipelined on one keep-alive connection, in batches;
/// returns how many were answered 200.
fn pipeline(server: &Server, count: usize) -> usize {
    const BATCH: usize = 500;
    let mut stream = server.connect();
    let mut leftover = Vec::new();
    let mut ok = 0;
    let mut left = count;
    while left > 0 {
        let batch = left.min(BATCH);
        let requests = "GET /a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(batch);
        stream.write_all(requests.as_bytes()).unwrap();
        for _ in 0..batch {
            if common::read_response(&mut stream, &mut leftover, false).status == 200 {
                ok += 1;
            }
        }
        left -= batch;
    }
    ok
}

#[test]
fn a_log_that_cannot_keep_up_drops_and_counts_lines_without_holding_requests_up() {
    let root = site();
    let fifo = root.path().join("access.fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    // The reader opens the pipe (which waits for the server to open it too), then reads
    // nothing until told: the log's writer blocks once the pipe is full, as on a stuck disk.
    let (drain, drain_now) = std::sync::mpsc::channel::<()>();
    let lines_read = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let reader = {
        let fifo = fifo.clone();
        let lines_read = std::sync::Arc::clone(&lines_read);
        std::thread::spawn(move || {
            let pipe = fs::File::open(&fifo).unwrap();
            drain_now.recv().unwrap();
            let mut pipe = std::io::BufReader::new(pipe);
            let mut line = String::new();
            while std::io::BufRead::read_line(&mut pipe, &mut line).unwrap() > 0 {
                assert!(line.contains("\"GET /a.txt HTTP/1.1\" 200 6 "), "{line}");
                line.clear();
                lines_read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        })
    };
    let server = Server::with_args(
        root.path(),
        &[
            "--access-log",
            fifo.to_str().unwrap(),
            "--metrics",
            "127.0.0.1:0",
        ],
    );
    let addr = metrics_addr(&server);
    // More than the pipe (64 KiB) and the log's buffer (8192 lines) hold.
    const REQUESTS: usize = 12_000;
    assert_eq!(pipeline(&server, REQUESTS), REQUESTS);
    let get_2xx = [("status", "2xx"), ("method", "GET")];
    let counted = scrape_until(addr, "every request counted", |s| {
        value(s, "nomserve_requests_total", &get_2xx) == REQUESTS as f64
    });
    let dropped = value(&counted, "nomserve_access_log_dropped_lines_total", &[]);
    assert!(dropped > 0.0, "no line dropped");

    // Once the pipe is read again, every line is either written or counted as dropped, and
    // the drop is reported in the process log.
    drain.send(()).unwrap();
    server.wait_for_log("lines dropped");
    let deadline = Instant::now() + TIMEOUT;
    while lines_read.load(std::sync::atomic::Ordering::Relaxed) + (dropped as usize) < REQUESTS {
        assert!(Instant::now() < deadline, "lines missing from the log");
        std::thread::sleep(Duration::from_millis(20));
    }
    let after = parse_prometheus(&fetch(addr, "/metrics").text());
    assert_eq!(
        value(&after, "nomserve_access_log_dropped_lines_total", &[]),
        dropped
    );
    assert_eq!(
        lines_read.load(std::sync::atomic::Ordering::Relaxed) + dropped as usize,
        REQUESTS
    );
    drop(server);
    reader.join().unwrap();
}

#[test]
fn tls_handshakes_are_counted() {
    let root = site();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert = root.path().join("cert.pem");
    let key = root.path().join("key.pem");
    fs::write(&cert, certified.cert.pem()).unwrap();
    fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let server = Server::with_args(
        root.path(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--metrics",
            "127.0.0.1:0",
        ],
    );
    let addr = metrics_addr(&server);
    let handshakes = |s: &BTreeMap<Key, f64>| value(s, "nomserve_tls_handshakes_total", &[]);
    assert_eq!(
        handshakes(&parse_prometheus(&fetch(addr, "/metrics").text())),
        0.0
    );
    for _ in 0..2 {
        let out = std::process::Command::new("curl")
            .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(server.https_url("/a.txt"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "200");
    }
    // A connection that is not TLS completes no handshake.
    let plain = request(&server, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    assert_eq!(plain.status, 400);
    let after = scrape_until(addr, "two handshakes", |s| handshakes(s) >= 2.0);
    assert_eq!(handshakes(&after), 2.0);
}

#[test]
fn an_access_log_that_cannot_be_opened_stops_the_start() {
    let root = site();
    let log = root.path().join("no-such-dir").join("access.log");
    let exited = common::run_to_exit(&[
        "--port",
        "0",
        "--root",
        root.path().to_str().unwrap(),
        "--access-log",
        log.to_str().unwrap(),
    ]);
    assert_eq!(exited.status.code(), Some(2), "{exited:?}");
    assert!(
        exited.stderr.contains("cannot open the access log")
            && exited.stderr.contains("no-such-dir"),
        "{}",
        exited.stderr
    );
    assert!(!exited.stdout.contains("listening"), "{}", exited.stdout);
}

#[test]
fn the_last_lines_are_in_the_log_file_when_the_server_exits() {
    let root = site();
    let log = root.path().join("access.log");
    let mut server = Server::with_args(root.path(), &["--access-log", log.to_str().unwrap()]);
    for i in 0..50 {
        assert_eq!(get(&server, &format!("/a.txt?{i}")).status, 200);
    }
    server.signal("TERM");
    assert!(server.wait_exit().success());
    let text = fs::read_to_string(&log).unwrap();
    assert_eq!(text.lines().count(), 50, "{text}");
    assert!(
        text.lines().last().unwrap().contains("GET /a.txt?49 "),
        "{text}"
    );
}

#[test]
fn the_settings_come_from_the_environment_and_the_config_file_and_need_a_restart() {
    let root = site();
    let config = root.path().join("nomserve.toml");
    fs::write(&config, "log_format = \"json\"\n").unwrap();
    let server = Server::with_env(
        root.path(),
        &["--config", config.to_str().unwrap()],
        &[("RUST_LOG", "info"), ("NOMSERVE_METRICS", "127.0.0.1:0")],
    );
    let addr = metrics_addr(&server);
    assert_eq!(fetch(addr, "/health").status, 200);
    assert_eq!(get(&server, "/a.txt").status, 200);
    let entry = json(&server.wait_for_log("\"target\":\"/a.txt\""));
    assert_eq!(entry["status"], 200);

    fs::write(&config, "log_format = \"combined\"\naccess_log = \"off\"\n").unwrap();
    server.signal("HUP");
    let warning = server.wait_for_log("not applied until restart");
    assert!(
        warning.contains("access_log") && warning.contains("log_format"),
        "{warning}"
    );
    // Until then the log keeps its format.
    assert_eq!(get(&server, "/a.txt?again").status, 200);
    json(&server.wait_for_log("\"target\":\"/a.txt?again\""));
}

#[test]
fn the_json_log_names_the_client_a_trusted_proxy_gives() {
    let root = site();
    let server = Server::with_args(
        root.path(),
        &["--log-format", "json", "--trusted-proxy", "127.0.0.1"],
    );
    let response = request(
        &server,
        "GET /a.txt?proxied HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 203.0.113.7\r\n\
         Connection: close\r\n\r\n",
    );
    assert_eq!(response.status, 200);
    let entry = json(&server.wait_for_log("\"target\":\"/a.txt?proxied\""));
    assert_eq!(entry["client"], "203.0.113.7");
}
