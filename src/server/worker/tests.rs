//! A worker driven step by step on the test's own thread: connections are socket pairs
//! handed through the lane as another worker hands them, or accepted from a Unix listening
//! socket, events are noted as epoll would report them, and the run queue is run when the
//! test says.

use super::*;
use crate::conn::client::TrustedProxies;
use crate::conn::{READ_CHUNK, Timeouts};
use crate::http::head::RequestHead;
use crate::http::response::Response;
use crate::server::Config;
use crate::server::limits::{Admission, Limits, Victim};
use crate::server::turn::TURN_RESPONSES;
use nomserve_grammar::Request;
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr};
use std::os::unix::net::UnixStream;
use std::time::Duration;

pub(super) const TIMEOUTS: Timeouts = Timeouts {
    header: Duration::from_secs(10),
    keep_alive: Duration::from_secs(5),
    send: Duration::from_secs(10),
    min_send_rate: 0,
};

pub(super) const PEER: SocketAddr =
    SocketAddr::new(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

pub(super) const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/// Answers every request 200 with `ok`.
pub(super) struct Fine;

impl Handler for Fine {
    fn handle(
        &self,
        _request: &Request<'_, '_>,
        _head: &RequestHead<'_>,
        _client: IpAddr,
    ) -> Response {
        Response::text(200, "ok\n")
    }
}

/// Requests that take two of the core's reads: their responses are queued in two batches,
/// each spending a turn's budget.
pub(super) fn pipeline() -> Vec<u8> {
    GET.repeat(2 * READ_CHUNK / GET.len())
}

/// A socket pair: the server's end, non-blocking, and the client's.
pub(super) fn pair() -> (OwnedFd, UnixStream) {
    let (ours, client) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    client.set_nonblocking(true).unwrap();
    (OwnedFd::from(ours), client)
}

/// How many responses the client can read now.
pub(super) fn responses(client: &mut UnixStream) -> usize {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match client.read(&mut chunk) {
            // The end; a reset, if the server closed with bytes of the client's unread.
            Ok(0) => break,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("{e}"),
        }
    }
    bytes
        .windows(b"HTTP/1.1 200".len())
        .filter(|window| *window == b"HTTP/1.1 200")
        .count()
}

/// A worker of a server in the clear, and the limits its connections hold places under.
fn worker(proxy_protocol: bool) -> (Worker, Arc<Limits>) {
    let (mut workers, limits) = workers(1, 16, proxy_protocol);
    (workers.remove(0), limits)
}

/// `threads` workers of one server in the clear, under limits of `max` connections, and
/// the limits.
fn workers(threads: usize, max: usize, proxy_protocol: bool) -> (Vec<Worker>, Arc<Limits>) {
    let config = Config {
        threads,
        max_connections: max,
        max_connections_per_ip: None,
        ipv6_prefix: 64,
        timeouts: TIMEOUTS,
        trusted: TrustedProxies::default(),
        proxy_protocol,
        shutdown_timeout: Duration::from_secs(1),
        recorded: true,
        http2: true,
        http3: Some(false),
    };
    let shared = Arc::new(Shared::new(Arc::new(Fine), &config, None, None));
    let limits = Limits::new(max, None, config.ipv6_prefix, threads);
    let lanes: Arc<[Arc<Lane>]> = (0..threads)
        .map(|_| Arc::new(Lane::new().unwrap()))
        .collect();
    let workers = (0..threads)
        .map(|index| Worker::new(&shared, &lanes, index, &limits).unwrap())
        .collect();
    (workers, limits)
}

/// A Unix listening socket in a temporary directory, watched by `workers`; the directory
/// (kept alive with it) and the socket's path.
fn listen(workers: &mut [Worker]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.sock");
    let listeners = crate::server::listeners::bind(
        &[crate::server::listeners::Bind::Unix(path.clone())],
        0,
        0o600,
    )
    .unwrap();
    for listener in &listeners {
        rustix::io::ioctl_fionbio(listener.socket(), true).unwrap();
    }
    let listeners: Vec<Arc<Listener>> = listeners.into_iter().map(Arc::new).collect();
    for worker in workers {
        worker.watch(listeners.clone()).unwrap();
    }
    (dir, path)
}

/// A client of the listening socket at `path`, non-blocking as [`pair`]'s.
fn dial(path: &std::path::Path) -> UnixStream {
    let client = UnixStream::connect(path).unwrap();
    client.set_nonblocking(true).unwrap();
    client
}

/// Hands the worker a connection as another worker does, and has it taken in; returns the
/// client's end and the connection's token.
fn connect(worker: &mut Worker, limits: &Arc<Limits>) -> (UnixStream, u64) {
    let (stream, client) = pair();
    let Admission::Place(slot) = limits.admit(None) else {
        panic!("no place");
    };
    let before: Vec<u64> = worker.table.iter().map(|(token, _)| token).collect();
    worker.lane.hand(Admitted {
        stream,
        peer: PEER,
        slot,
        evict: None,
        refusal: None,
    });
    worker.answer_bell();
    let token = worker
        .table
        .iter()
        .map(|(token, _)| token)
        .find(|token| !before.contains(token))
        .expect("registered");
    (client, token)
}

const READABLE: epoll::EventFlags = epoll::EventFlags::IN;

#[test]
fn a_connection_is_served_and_counted_until_it_closes() {
    let (mut worker, limits) = worker(false);
    let (mut client, token) = connect(&mut worker, &limits);
    assert_eq!(worker.lane.open(), 1);
    assert_eq!(
        worker.lane.idle(),
        1,
        "a new connection waits for its request"
    );
    client.write_all(GET).unwrap();
    worker.note(token, READABLE);
    worker.run_queued();
    assert_eq!(responses(&mut client), 1);
    drop(client);
    worker.note(token, READABLE | epoll::EventFlags::RDHUP);
    worker.run_queued();
    assert_eq!(worker.table.len(), 0);
    assert_eq!(worker.lane.open(), 0);
    assert_eq!(worker.lane.idle(), 0);
}

#[test]
fn a_stale_event_after_a_close_finds_nothing() {
    let (mut worker, limits) = worker(false);
    let (_first, stale) = connect(&mut worker, &limits);
    worker.remove(stale);
    let (mut client, token) = connect(&mut worker, &limits);
    assert_ne!(token, stale, "the place is reused under a new generation");
    // An event, and a wake-up, for the closed connection: nothing is queued or marked.
    worker.note(stale, READABLE);
    worker.lane.bell.waker(stale).wake();
    worker.answer_bell();
    assert!(worker.run.is_empty());
    assert!(!worker.table.get_mut(token).unwrap().ready.readable);
    // Its successor's own event is its own.
    client.write_all(GET).unwrap();
    worker.note(token, READABLE);
    assert_eq!(worker.run, [token]);
    worker.run_queued();
    assert_eq!(responses(&mut client), 1);
    assert_eq!(worker.lane.open(), 1);
}

#[test]
fn a_turn_that_spends_its_budget_goes_behind_the_others() {
    let (mut worker, limits) = worker(false);
    let (mut busy, pipelining) = connect(&mut worker, &limits);
    let (mut other, waiting) = connect(&mut worker, &limits);
    let requests = pipeline();
    busy.write_all(&requests).unwrap();
    other.write_all(GET).unwrap();
    worker.note(pipelining, READABLE);
    worker.note(waiting, READABLE);
    worker.run_queued();
    // The pipelining client had its budget's worth, then the other its turn; the first is
    // queued again for the rest.
    let mut answered = responses(&mut busy);
    assert!(answered >= usize::try_from(TURN_RESPONSES).unwrap());
    assert!(answered < requests.len() / GET.len());
    assert_eq!(responses(&mut other), 1);
    assert_eq!(worker.run, [pipelining]);
    while !worker.run.is_empty() {
        worker.run_queued();
        answered += responses(&mut busy);
    }
    assert_eq!(answered, requests.len() / GET.len());
}

#[test]
fn the_longest_idle_connection_makes_room() {
    let (mut worker, limits) = worker(false);
    let (_older, first) = connect(&mut worker, &limits);
    let (mut busy, second) = connect(&mut worker, &limits);
    let (_newer, third) = connect(&mut worker, &limits);
    // The second is busy (a head begun): not idle, whatever its age.
    busy.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    worker.note(second, READABLE);
    worker.run_queued();
    assert!(worker.evict_idle(&Victim::Any));
    assert!(worker.table.get_mut(first).is_none());
    assert!(worker.evict_idle(&Victim::Any));
    assert!(worker.table.get_mut(third).is_none());
    assert!(!worker.evict_idle(&Victim::Any), "none idle");
    assert!(worker.table.get_mut(second).is_some());
    assert_eq!(worker.lane.open(), 1);
}

#[test]
fn a_proxy_header_is_read_before_the_request_in_the_same_turn() {
    let (mut worker, limits) = worker(true);
    let (mut client, token) = connect(&mut worker, &limits);
    client
        .write_all(b"PROXY TCP4 192.0.2.7 192.0.2.1 ")
        .unwrap();
    worker.note(token, READABLE);
    worker.run_queued();
    let entry = worker.table.get_mut(token).unwrap();
    assert!(entry.awaiting_proxy);
    assert_eq!(entry.conn.peer(), PEER);
    client.write_all(b"56324 443\r\n").unwrap();
    client.write_all(GET).unwrap();
    worker.note(token, READABLE);
    worker.run_queued();
    assert_eq!(responses(&mut client), 1);
    let entry = worker.table.get_mut(token).unwrap();
    assert!(!entry.awaiting_proxy);
    assert_eq!(entry.conn.peer(), "192.0.2.7:56324".parse().unwrap());
}

#[test]
fn a_bad_proxy_header_closes_the_connection() {
    let (mut worker, limits) = worker(true);
    let (mut client, token) = connect(&mut worker, &limits);
    client.write_all(GET).unwrap();
    worker.note(token, READABLE);
    worker.run_queued();
    assert_eq!(worker.table.len(), 0);
    assert_eq!(worker.lane.open(), 0);
    assert_eq!(responses(&mut client), 0, "closed without an answer");
}

#[test]
fn an_accepted_request_already_there_is_answered_in_the_accepting_turn() {
    let (mut workers, _limits) = workers(1, 16, false);
    let (_dir, path) = listen(&mut workers);
    let worker = &mut workers[0];
    let mut client = dial(&path);
    client
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    worker.accept_from(0);
    // Served and closed within the accept: no event, no turn of the run queue.
    assert_eq!(responses(&mut client), 1);
    assert_eq!(worker.table.len(), 0);
    assert_eq!(worker.lane.open(), 0);
}

#[test]
fn an_accepted_connection_without_its_request_waits_for_it() {
    let (mut workers, _limits) = workers(1, 16, false);
    let (_dir, path) = listen(&mut workers);
    let worker = &mut workers[0];
    let mut client = dial(&path);
    worker.accept_from(0);
    assert_eq!(worker.table.len(), 1);
    assert_eq!(worker.lane.open(), 1);
    assert_eq!(worker.lane.idle(), 1, "waiting for its first request");
    let token = worker.table.iter().map(|(token, _)| token).next().unwrap();
    client.write_all(GET).unwrap();
    worker.note(token, READABLE);
    worker.run_queued();
    assert_eq!(responses(&mut client), 1);
    // Nothing else waits: accepting again takes no one.
    worker.accept_from(0);
    assert_eq!(worker.table.len(), 1);
}

#[test]
fn a_newcomer_at_the_cap_goes_to_the_worker_holding_the_idle_connection() {
    let (mut workers, _limits) = workers(2, 1, false);
    let (_dir, path) = listen(&mut workers);
    // The one place, held idle by worker 1.
    let _idle = dial(&path);
    workers[1].accept_from(0);
    assert_eq!(workers[1].table.len(), 1);
    assert_eq!(workers[1].lane.idle(), 1);
    // Worker 0 accepts the next one: it takes the idle one's place, on worker 1.
    let mut newcomer = dial(&path);
    workers[0].accept_from(0);
    assert_eq!(workers[0].table.len(), 0);
    assert_eq!(workers[1].lane.open(), 2, "handed over");
    workers[1].answer_bell();
    assert_eq!(
        workers[1].table.len(),
        1,
        "the idle one closed to make room"
    );
    let token = workers[1]
        .table
        .iter()
        .map(|(token, _)| token)
        .next()
        .unwrap();
    newcomer.write_all(GET).unwrap();
    workers[1].note(token, READABLE);
    workers[1].run_queued();
    assert_eq!(responses(&mut newcomer), 1);
}
