//! nomserve driven by a real HTTP client library no one here wrote: ureq 3, plain HTTP.
//!
//! ureq parses nomserve's responses with its own HTTP/1.1 implementation, pools connections,
//! follows redirects and surfaces error statuses; each test checks one of those paths end to
//! end against the real binary.
//!
//! Connection reuse is proven without trusting the server's word: the agent talks to a small
//! TCP relay in this file that counts the connections it accepts and forwards each to nomserve.

mod common;

use common::{Server, www};
use std::fs;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use ureq::{Agent, ResponseExt};

/// The `Server` field every response carries.
const SERVER: &str = concat!("nomserve/", env!("CARGO_PKG_VERSION"));

/// An agent that returns 4xx and 5xx responses as responses instead of errors, and gives up on
/// any exchange after the harness's timeout.
fn agent() -> Agent {
    Agent::new_with_config(
        Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(common::TIMEOUT))
            .build(),
    )
}

/// A TCP relay in front of a server: every connection accepted on `addr` is counted, then
/// forwarded byte for byte to the server in both directions.
struct Relay {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
}

impl Relay {
    /// Listens on a free loopback port and relays to `target`. The accepting thread lives until
    /// the test process ends; a relayed connection ends when either side closes.
    fn start(target: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the relay");
        let addr = listener.local_addr().expect("relay address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&accepted);
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { break };
                // Counted before any byte is forwarded, so the count is up to date by the time
                // the client sees a response.
                count.fetch_add(1, Ordering::SeqCst);
                let Ok(upstream) = TcpStream::connect(target) else {
                    continue;
                };
                let (Ok(client_rx), Ok(upstream_tx)) = (client.try_clone(), upstream.try_clone())
                else {
                    continue;
                };
                thread::spawn(move || pipe(client_rx, upstream_tx));
                thread::spawn(move || pipe(upstream, client));
            }
        });
        Relay { addr, accepted }
    }

    /// `http://RELAY` with `path` appended.
    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// How many connections clients have opened through the relay so far.
    fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Copies `from` into `to` until `from` ends, then passes the end on by half-closing `to`.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

/// A plain GET of `/` and of a text file: status, type, server field and exact content.
#[test]
fn get_serves_files() {
    let server = Server::start();
    let agent = agent();

    let mut index = agent.get(server.url("/")).call().expect("GET /");
    assert_eq!(index.status(), 200);
    assert_eq!(index.headers()["server"], SERVER);
    assert!(
        index.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/html")),
        "{:?}",
        index.headers()
    );
    let body = index.body_mut().read_to_string().expect("read body");
    assert_eq!(body, fs::read_to_string(www().join("index.html")).unwrap());

    let mut text = agent.get(server.url("/test.txt")).call().expect("GET text");
    assert_eq!(text.status(), 200);
    assert_eq!(text.headers()["content-type"], "text/plain; charset=utf-8");
    let body = text.body_mut().read_to_string().expect("read body");
    assert_eq!(body, fs::read_to_string(www().join("test.txt")).unwrap());
}

/// Two requests through one agent travel on one connection (keep-alive, RFC 9112 §9.3); two
/// agents, which share no pool, need two. The relay's count is the proof.
#[test]
fn one_agent_reuses_one_connection() {
    let server = Server::start();
    let relay = Relay::start(server.addr);

    let agent = agent();
    for path in ["/", "/test.txt", "/missing"] {
        let mut response = agent.get(relay.url(path)).call().expect("GET via relay");
        // Reading the body to its end is what returns the connection to the agent's pool.
        response.body_mut().read_to_vec().expect("read body");
    }
    assert_eq!(
        relay.connections(),
        1,
        "three requests through one agent should share one connection"
    );

    for _ in 0..2 {
        let mut response = self::agent()
            .get(relay.url("/"))
            .call()
            .expect("GET via relay");
        response.body_mut().read_to_vec().expect("read body");
    }
    assert_eq!(
        relay.connections(),
        3,
        "separate agents should each open a connection"
    );
}

/// `/dir` answers 301 to `/dir/` (RFC 9110 §15.4.2), which ureq follows to the directory's
/// index.html; an agent that follows no redirects sees the 301 and its Location itself.
#[test]
fn directory_redirect_is_followed() {
    let root = tempfile::tempdir().expect("temp root");
    fs::create_dir(root.path().join("docs")).unwrap();
    fs::write(root.path().join("docs/index.html"), "<p>docs index</p>\n").unwrap();
    let server = Server::with_args(root.path(), &[]);

    let following = Agent::new_with_config(
        Agent::config_builder()
            .save_redirect_history(true)
            .timeout_global(Some(common::TIMEOUT))
            .build(),
    );
    let mut response = following
        .get(server.url("/docs"))
        .call()
        .expect("GET /docs");
    assert_eq!(response.status(), 200);
    assert_eq!(response.get_uri().path(), "/docs/");
    let history: Vec<String> = response
        .get_redirect_history()
        .unwrap_or_default()
        .iter()
        .map(|uri| uri.path().to_string())
        .collect();
    assert_eq!(history, ["/docs", "/docs/"]);
    assert_eq!(
        response.body_mut().read_to_string().expect("read body"),
        "<p>docs index</p>\n"
    );

    let not_following = Agent::new_with_config(
        Agent::config_builder()
            .max_redirects(0)
            .timeout_global(Some(common::TIMEOUT))
            .build(),
    );
    let response = not_following
        .get(server.url("/docs"))
        .call()
        .expect("GET /docs");
    assert_eq!(response.status(), 301);
    let location = response.headers()["location"]
        .to_str()
        .expect("ASCII Location");
    assert!(
        location == "/docs/" || location == server.url("/docs/"),
        "Location: {location}"
    );
}

/// A missing file surfaces as ureq's status error by default, and as a 404 response with body
/// `Not Found` when statuses are not errors.
#[test]
fn not_found_is_surfaced() {
    let server = Server::start();

    match ureq::get(server.url("/missing")).call() {
        Err(ureq::Error::StatusCode(status)) => assert_eq!(status, 404),
        other => panic!("expected a 404 status error, got {other:?}"),
    }

    let mut response = agent()
        .get(server.url("/missing"))
        .call()
        .expect("GET /missing");
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.body_mut().read_to_string().expect("read body"),
        "Not Found"
    );
}

/// Methods other than GET and HEAD get 405 with `Allow: GET, HEAD` (RFC 9110 §15.5.6).
#[test]
fn post_is_405_with_allow() {
    let server = Server::start();
    let response = agent().post(server.url("/")).send("x=1").expect("POST /");
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, HEAD");
}

/// HEAD gives GET's fields, with the file's length, and no content (RFC 9110 §9.3.2).
#[test]
fn head_has_length_and_no_body() {
    let server = Server::start();
    let size = fs::metadata(www().join("test.txt")).unwrap().len();

    let mut response = agent()
        .head(server.url("/test.txt"))
        .call()
        .expect("HEAD /test.txt");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-length"], size.to_string());
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert!(response.body_mut().read_to_vec().expect("read").is_empty());
}

/// A GET that repeats the ETag in If-None-Match gets 304 with no content (RFC 9110 §13.1.2,
/// §15.4.5); another tag gets the file.
#[test]
fn conditional_get_with_etag_is_304() {
    let server = Server::start();
    let agent = agent();

    let mut first = agent.get(server.url("/test.txt")).call().expect("GET");
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"]
        .to_str()
        .expect("ASCII ETag")
        .to_string();
    assert!(
        etag.ends_with('"') && (etag.starts_with('"') || etag.starts_with("W/\"")),
        "ETag is an entity-tag: {etag}"
    );
    first.body_mut().read_to_vec().expect("read body");

    let mut again = agent
        .get(server.url("/test.txt"))
        .header("If-None-Match", &etag)
        .call()
        .expect("conditional GET");
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    assert!(again.body_mut().read_to_vec().expect("read").is_empty());

    let mut other = agent
        .get(server.url("/test.txt"))
        .header("If-None-Match", "\"not-the-tag\"")
        .call()
        .expect("conditional GET");
    assert_eq!(other.status(), 200);
    assert_eq!(
        other.body_mut().read_to_string().expect("read body"),
        fs::read_to_string(www().join("test.txt")).unwrap()
    );
}

/// `/echo` returns the head ureq sent and a line per query parameter.
#[test]
fn echo_returns_the_request_and_parameters() {
    let server = Server::start();
    let mut response = agent()
        .get(server.url("/echo?name=test&lang=rust"))
        .header("X-Test", "value")
        .call()
        .expect("GET /echo");
    assert_eq!(response.status(), 200);
    let body = response.body_mut().read_to_string().expect("read body");
    assert!(
        body.starts_with("GET /echo?name=test&lang=rust HTTP/1.1\r\n"),
        "{body:?}"
    );
    assert!(
        body.contains("x-test: value\r\n") || body.contains("X-Test: value\r\n"),
        "{body:?}"
    );
    assert!(body.contains("name: test"), "{body:?}");
    assert!(body.contains("lang: rust"), "{body:?}");
}
