//! The listener: accepts connections, keeps their number under the cap, and shuts down.
//!
//! One thread blocks in `accept`. Each accepted connection takes a slot (at most
//! `--max-connections` exist; past that the connection gets 503 and is closed at once) and is
//! parked in the [`Poller`] until its first bytes arrive. A fixed pool of worker threads
//! wait on the poller themselves; a worker takes a readable connection (or one whose deadline
//! passed, which the poller's timer thread sets aside), runs its state machine until it needs
//! bytes that have not arrived, then parks it again.
//!
//! ```text
//! accept ──park──▶ poller ──readable / deadline──▶ worker ──park──▶ poller …
//! ```
//!
//! Shutdown (SIGINT, SIGTERM): the accept is woken with `shutdown(2)` on the listening socket,
//! parked connections are closed, and the connections being served get a grace period to
//! finish their responses.

use crate::connection::Conn;
use crate::handlers::Handler;
use crate::poller::Poller;
use crate::response::Response;
use crate::{access_log, pool, writer};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// How long in-flight responses may take to finish after a shutdown signal, as systemd's
/// default stop timeout (90 s) leaves room for; past it the process exits anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// How long writing a response may block without progress. A client that reads nothing for
/// this long holds a worker no longer; 10 s matches the default header timeout.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the accept thread may block writing a 503: the accept thread serves every new
/// client, so it must not wait on one. A 503 is one small segment into an empty send buffer.
const BUSY_WRITE_TIMEOUT: Duration = Duration::from_millis(100);

/// How long the accept thread pauses when it runs out of memory, or out of file descriptors
/// without a spare one to answer with, so that a full table is not retried in a tight loop;
/// connections closing meanwhile free descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The server's settings, from the command line.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Worker threads.
    pub threads: usize,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Time from the first byte of a request to the end of its head; also the time allowed for
    /// a request body.
    pub header_timeout: Duration,
    /// Time an idle keep-alive connection is kept.
    pub keep_alive_timeout: Duration,
}

/// What the workers share: the handler, the timeouts, the poller, and whether the server is
/// shutting down.
pub struct Shared {
    /// Answers requests.
    pub handler: Box<dyn Handler>,
    /// The settings.
    pub config: Config,
    /// Where connections wait for bytes.
    pub poller: Poller,
    shutting_down: AtomicBool,
}

impl Shared {
    /// Whether a shutdown has begun: responses then close their connections.
    pub fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }
}

/// The count of open connections, against the cap.
#[derive(Debug)]
pub struct Live {
    count: Mutex<usize>,
    all_closed: Condvar,
    max: usize,
}

/// One connection's place under the cap; dropping it frees the place.
#[derive(Debug)]
pub struct Slot(Arc<Live>);

impl Live {
    fn new(max: usize) -> Arc<Live> {
        Arc::new(Live {
            count: Mutex::new(0),
            all_closed: Condvar::new(),
            max,
        })
    }

    /// A slot, or `None` if `max` connections are open.
    fn try_acquire(self: &Arc<Self>) -> Option<Slot> {
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Slot(Arc::clone(self)))
    }

    /// Waits until no connection is open or `grace` has passed; returns how many are open.
    fn wait_all_closed(&self, grace: Duration) -> usize {
        let count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, _) = self
            .all_closed
            .wait_timeout_while(count, grace, |count| *count > 0)
            .unwrap_or_else(PoisonError::into_inner);
        *count
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut count = self.0.count.lock().unwrap_or_else(PoisonError::into_inner);
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.0.all_closed.notify_all();
        }
    }
}

/// A running server: the poller and the workers are up; [`Server::run`] accepts.
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
    live: Arc<Live>,
    next_token: AtomicU64,
    /// A descriptor held in reserve (a duplicate of the listening socket): when the process
    /// runs out of descriptors, closing it lets one more connection be accepted, answered 503
    /// and closed, instead of leaving clients waiting in the backlog (see [`Server::run`]).
    spare: Option<TcpListener>,
}

/// Asks a running server to shut down, from another thread (the signal handler's).
#[derive(Debug)]
pub struct ShutdownHandle {
    listener: TcpListener,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .field("shutting_down", &self.shutting_down())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts the poller's timer thread and `config.threads` workers that answer with `handler`;
    /// connections are accepted from `listener` once [`Server::run`] is called. Fails if a
    /// thread or the poller's descriptors cannot be created.
    pub fn start(
        listener: TcpListener,
        config: Config,
        handler: Box<dyn Handler>,
    ) -> io::Result<Server> {
        let shared = Arc::new(Shared {
            handler,
            config,
            poller: Poller::new()?,
            shutting_down: AtomicBool::new(false),
        });
        let timer = Arc::clone(&shared);
        thread::Builder::new()
            .name("timer".to_string())
            .spawn(move || timer.poller.run_timer())?;
        pool::spawn(config.threads, &shared)?;
        let spare = Some(listener.try_clone()?);
        Ok(Server {
            listener,
            shared,
            live: Live::new(config.max_connections),
            next_token: AtomicU64::new(0),
            spare,
        })
    }

    /// A handle that stops [`Server::run`].
    pub fn shutdown_handle(&self) -> io::Result<ShutdownHandle> {
        Ok(ShutdownHandle {
            listener: self.listener.try_clone()?,
            shared: Arc::clone(&self.shared),
        })
    }

    /// Accepts connections until a shutdown is triggered; then closes the parked connections,
    /// waits up to [`SHUTDOWN_GRACE`] for the others to finish, and returns how many were
    /// still open at the end.
    ///
    /// Out of descriptors (`EMFILE`, `ENFILE`: the process's limit can be below the connection
    /// cap, or lowered while it runs), a waiting client is answered as past the cap: the spare
    /// descriptor is closed, the client accepted into its place, answered 503 and closed, and
    /// the spare taken again. Without the spare (it could not be taken back), and out of
    /// memory, the accept pauses [`ACCEPT_BACKOFF`] and retries.
    pub fn run(mut self) -> usize {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if self.shared.shutting_down() {
                        break;
                    }
                    self.admit(stream, peer);
                }
                Err(_) if self.shared.shutting_down() => break,
                Err(e) => match e.raw_os_error() {
                    Some(code)
                        if self.spare.is_some()
                            && [rustix::io::Errno::MFILE, rustix::io::Errno::NFILE]
                                .iter()
                                .any(|errno| errno.raw_os_error() == code) =>
                    {
                        self.reject_with_spare();
                    }
                    // Out of descriptors or memory: accepting again at once would fail again.
                    Some(code)
                        if [
                            rustix::io::Errno::MFILE,
                            rustix::io::Errno::NFILE,
                            rustix::io::Errno::NOBUFS,
                            rustix::io::Errno::NOMEM,
                        ]
                        .iter()
                        .any(|errno| errno.raw_os_error() == code) =>
                    {
                        log::warn!("accept failed: {e}; pausing {ACCEPT_BACKOFF:?}");
                        thread::sleep(ACCEPT_BACKOFF);
                        if self.spare.is_none() {
                            self.spare = self.listener.try_clone().ok();
                        }
                    }
                    // A connection reset before it was accepted, an interrupted call: next.
                    _ => log::debug!("accept failed: {e}"),
                },
            }
        }
        log::info!(
            "shutting down: no new connections; in-flight responses have {SHUTDOWN_GRACE:?}"
        );
        self.shared.poller.close_all();
        self.live.wait_all_closed(SHUTDOWN_GRACE)
    }

    /// Frees the spare descriptor, accepts one waiting client into its place and answers it
    /// 503, then takes the spare again (logged if it cannot be: the next shortage backs off).
    fn reject_with_spare(&mut self) {
        drop(self.spare.take());
        match self.listener.accept() {
            Ok((stream, peer)) => {
                log::warn!("{peer}: out of file descriptors; answered 503");
                reject_busy(stream, peer);
            }
            Err(e) => log::debug!("accept with the spare descriptor failed: {e}"),
        }
        match self.listener.try_clone() {
            Ok(spare) => self.spare = Some(spare),
            Err(e) => log::warn!("cannot take a spare descriptor again: {e}"),
        }
    }

    /// Gives an accepted connection a slot and parks it until its first bytes arrive; without
    /// a free slot, answers 503.
    fn admit(&self, stream: TcpStream, peer: SocketAddr) {
        let Some(slot) = self.live.try_acquire() else {
            reject_busy(stream, peer);
            return;
        };
        // Small responses go out at once instead of waiting for an ACK (Nagle's algorithm);
        // file heads are sent with MSG_MORE instead.
        if let Err(e) = stream
            .set_nodelay(true)
            .and_then(|()| stream.set_write_timeout(Some(WRITE_TIMEOUT)))
        {
            log::debug!("{peer}: socket options failed: {e}; closing");
            return;
        }
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.shared.config.header_timeout;
        let conn = Conn::new(stream, peer, token, slot, deadline);
        self.shared.poller.park(Box::new(conn), deadline);
    }
}

impl ShutdownHandle {
    /// Begins the shutdown: [`Server::run`] stops accepting, and responses from now on close
    /// their connections. Wakes the blocked `accept` by shutting the listening socket down
    /// (on Linux, `accept` then fails with `EINVAL`).
    pub fn trigger(&self) {
        self.shared.shutting_down.store(true, Ordering::Release);
        if let Err(e) = rustix::net::shutdown(&self.listener, rustix::net::Shutdown::Read) {
            log::error!("could not wake the accept loop: {e}");
        }
    }
}

/// Answers a connection past the cap with 503 (Service Unavailable: "temporarily overloaded",
/// RFC 9110 §15.6.4) and `Connection: close`, under a short write timeout, then closes it
/// after taking in what the client already sent, so the close does not reset the connection
/// before the client reads the answer. The request itself is not read: the accept thread
/// must not wait on a client, so the 503 may precede the request; clients watch for such an
/// early error response while they send (RFC 9112 §9.5).
fn reject_busy(mut stream: TcpStream, peer: SocketAddr) {
    if stream.set_write_timeout(Some(BUSY_WRITE_TIMEOUT)).is_err() {
        return;
    }
    let response =
        Response::text(503, "too many connections; try again shortly\n").header("Retry-After", "1");
    let framing = writer::Framing {
        head_request: false,
        close: true,
        http10_keep_alive: false,
    };
    let written = writer::write_response(&mut stream, response, framing);
    access_log::record(peer.ip(), None, written.status, written.body_bytes);
    if let Err(e) = written.result {
        log::debug!("{peer}: writing 503 failed: {e}");
        return;
    }
    let _ = stream.shutdown(Shutdown::Write);
    let mut scratch = [0u8; 4096];
    // Only what is already here: recv never waits (MSG_DONTWAIT), and at most 16 KiB.
    for _ in 0..4 {
        match rustix::net::recv(&stream, &mut scratch, rustix::net::RecvFlags::DONTWAIT) {
            Ok((0, _)) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::Request;
    use std::io::{Read, Write};

    /// Panics on `/panic`, answers 200 elsewhere.
    struct Fragile;

    impl Handler for Fragile {
        fn handle(&self, request: &Request<'_, '_>, _head: &[u8]) -> Response {
            if request.target.path() == Some("/panic") {
                panic!("the handler broke");
            }
            Response::text(200, "fine\n")
        }
    }

    fn exchange(addr: SocketAddr, raw: &[u8]) -> String {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(raw).unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_panicking_handler_costs_its_connection_only() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config {
            threads: 1,
            max_connections: 8,
            header_timeout: Duration::from_secs(5),
            keep_alive_timeout: Duration::from_secs(5),
        };
        let server = Server::start(listener, config, Box::new(Fragile)).unwrap();
        let shutdown = server.shutdown_handle().unwrap();
        let running = thread::spawn(move || server.run());

        let broken = exchange(addr, b"GET /panic HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(
            broken.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{broken}"
        );
        assert!(broken.contains("\r\nConnection: close\r\n"), "{broken}");
        // The only worker survived and serves the next connection.
        for _ in 0..2 {
            let fine = exchange(
                addr,
                b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            assert!(fine.starts_with("HTTP/1.1 200 OK\r\n"), "{fine}");
            assert!(fine.ends_with("\r\n\r\nfine\n"), "{fine}");
        }

        shutdown.trigger();
        assert_eq!(running.join().unwrap(), 0);
    }
}
