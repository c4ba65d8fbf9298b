//! Parking: a request whose handler's answer is not ready waits, and is handled again when
//! its ticket is done.

use super::*;
use crate::http::head::RequestHead;

/// Answers `/wait` with a 503 that waits for `ticket` until the ticket is done, then like
/// every other path: 200 with the path. With `done_at_once`, the first `/wait` gets a
/// ticket that is done already (the work finished before the connection could park).
struct Waits {
    ticket: Ticket,
    done_at_once: AtomicBool,
}

impl Handler for Waits {
    fn handle(
        &self,
        request: &Request<'_, '_>,
        _head: &RequestHead<'_>,
        _client: IpAddr,
    ) -> Response {
        let path = request.target.path().unwrap_or("*");
        if path == "/wait" && self.done_at_once.swap(false, Ordering::SeqCst) {
            let (ticket, completion) = Ticket::new();
            drop(completion);
            return Response::text(503, "not yet\n").pending(ticket);
        }
        if path == "/wait" && !self.ticket.is_done() {
            return Response::text(503, "not yet\n")
                .header("Retry-After", "1")
                .pending(self.ticket.clone());
        }
        Response::text(200, path.to_string())
    }
}

/// Counts its wake-ups.
#[derive(Default)]
struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A new connection from a loopback client, accepted at `now`.
fn connection(now: Instant) -> Conn {
    Conn::new(
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9),
        TIMEOUTS,
        now,
    )
}

/// Does what `conn` asks at `now` until it wants bytes, parks or closes; returns what it
/// sent and which of those it came to.
fn until_stopped(conn: &mut Conn, ctx: &Context<'_>, now: Instant) -> (String, &'static str) {
    let mut sent = Vec::new();
    loop {
        match conn.poll(ctx, now) {
            Want::Write(Item::Bytes { bytes, .. }) => {
                let n = bytes.len();
                sent.extend_from_slice(bytes);
                conn.wrote(n, now);
            }
            Want::Write(Item::File { .. }) => panic!("no file here"),
            Want::ShutdownWrite => conn.write_shut(now),
            Want::Read => return (String::from_utf8(sent).unwrap(), "read"),
            Want::Park => return (String::from_utf8(sent).unwrap(), "park"),
            Want::Close => return (String::from_utf8(sent).unwrap(), "close"),
        }
    }
}

const WAIT_THEN_NEXT: &[u8] =
    b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n";

/// A request whose answer is not ready parks: nothing is sent, nothing read, the requests
/// behind it wait; once its ticket is done (which wakes the connection once), its head is
/// handled again, and the answers go out in order.
#[test]
fn a_request_parks_until_its_ticket_is_done() {
    let (ticket, completion) = Ticket::new();
    let handler = Waits {
        ticket,
        done_at_once: AtomicBool::new(false),
    };
    let wakes = Arc::new(Wakes::default());
    let waker = || Waker::from(Arc::clone(&wakes));
    let ctx = Context {
        handler: &handler,
        trusted: &TrustedProxies::default(),
        shutting_down: false,
        waker: &waker,
    };
    let t0 = Instant::now();
    let mut conn = connection(t0);
    conn.read_buffer().extend_from_slice(WAIT_THEN_NEXT);
    assert_eq!(until_stopped(&mut conn, &ctx, t0), (String::new(), "park"));
    assert_eq!(conn.deadline(), Some(t0 + TIMEOUTS.header));
    // Neither idle (for eviction) nor quiet (a shutdown waits for its answer).
    assert!(!conn.is_idle() && !conn.is_quiet());
    // A turn before the work is done (the client sent bytes, say) parks again.
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(until_stopped(&mut conn, &ctx, t1), (String::new(), "park"));
    conn.expire(t1);
    assert_eq!(until_stopped(&mut conn, &ctx, t1), (String::new(), "park"));
    assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
    drop(completion);
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "one waker, woken once");
    let (sent, ended) = until_stopped(&mut conn, &ctx, t1);
    assert_eq!(statuses(&sent), [200, 200], "{sent}");
    assert!(sent.find("/wait").unwrap() < sent.find("/next").unwrap());
    assert_eq!(ended, "read");
    assert!(conn.is_idle());
}

/// A ticket done before the connection could register its waker: the request is handled
/// again at once, without waiting for a wake-up that would never come.
#[test]
fn a_ticket_done_before_the_park_is_seen_at_once() {
    let (ticket, _completion) = Ticket::new();
    let handler = Waits {
        ticket,
        done_at_once: AtomicBool::new(true),
    };
    let ctx = Context {
        handler: &handler,
        trusted: &TrustedProxies::default(),
        shutting_down: false,
        waker: &|| Waker::noop().clone(),
    };
    let t0 = Instant::now();
    let mut conn = connection(t0);
    conn.read_buffer().extend_from_slice(
        b"GET /next HTTP/1.1\r\nHost: x\r\n\r\nGET /wait HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    // The second request parks for real: its ticket is the handler's, not done.
    let (sent, ended) = until_stopped(&mut conn, &ctx, t0);
    assert_eq!(statuses(&sent), [200], "{sent}");
    assert_eq!(ended, "park");
}

/// A parked request whose work is not done within one header timeout gets the response its
/// handler gave with the ticket, and the connection closes (lingering).
#[test]
fn a_parked_request_gets_the_handlers_answer_at_its_deadline() {
    let (ticket, _completion) = Ticket::new();
    let handler = Waits {
        ticket,
        done_at_once: AtomicBool::new(false),
    };
    let ctx = Context {
        handler: &handler,
        trusted: &TrustedProxies::default(),
        shutting_down: false,
        waker: &|| Waker::noop().clone(),
    };
    let t0 = Instant::now();
    let mut conn = connection(t0);
    conn.read_buffer().extend_from_slice(WAIT_THEN_NEXT);
    assert_eq!(until_stopped(&mut conn, &ctx, t0), (String::new(), "park"));
    let due = t0 + TIMEOUTS.header;
    conn.expire(due - Duration::from_millis(1));
    assert_eq!(until_stopped(&mut conn, &ctx, due), (String::new(), "park"));
    conn.expire(due);
    let (sent, ended) = until_stopped(&mut conn, &ctx, due);
    assert_eq!(statuses(&sent), [503], "{sent}");
    assert!(sent.contains("\r\nRetry-After: 1\r\n"), "{sent}");
    assert!(sent.contains("\r\nConnection: close\r\n"), "{sent}");
    assert_eq!(ended, "read", "a lingering close reads what is left");
}
