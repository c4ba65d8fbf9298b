//! Fair sharing of connections against the real binary: no address is refused while the
//! server has room, and under pressure one address cannot keep others out, whether its
//! connections are idle (they make room) or busy (it is held to its share).
//!
//! Several client addresses come from binding the client socket to 127.0.0.N. Whether the
//! server closed a connection is read without blocking: the server closes an idle
//! connection to make room before it serves the newcomer that took its place, so by the time
//! the newcomer has its response the close has reached this side of the loopback.

mod common;

use common::{Server, connect_from, read_response, read_to_close, split_responses, www};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpStream};

const GET: &[u8] = b"GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";

/// Raises this process's soft limit on open files to at least `wanted` (within the hard
/// limit), so that it and the server it starts (which inherits it) can hold the connections
/// a test makes.
fn raise_open_files(wanted: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_none_or(|current| current >= wanted) {
        return;
    }
    let raised = limit.maximum.map_or(wanted, |maximum| maximum.min(wanted));
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(raised),
            maximum: limit.maximum,
        },
    )
    .expect("raise RLIMIT_NOFILE");
    assert!(
        raised >= wanted,
        "the hard limit on open files is below {wanted}"
    );
}

/// A keep-alive connection from `source` that has had one request answered with 200: idle.
fn idle_from(source: &str, server: &Server) -> TcpStream {
    let source: Ipv4Addr = source.parse().expect("an IPv4 address");
    let mut stream = connect_from(source, server.addr);
    stream.write_all(GET).unwrap();
    let response = read_response(&mut stream, &mut Vec::new(), false);
    assert_eq!(response.status, 200, "{source}: {}", response.text());
    stream
}

/// Whether the server has closed `stream` (read without waiting: see the module's notes).
fn is_closed(mut stream: &TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut byte = [0u8; 1];
    let closed = match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => panic!("unexpected bytes on an idle connection"),
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(e) if e.kind() == ErrorKind::ConnectionReset => true,
        Err(e) => panic!("reading an idle connection: {e}"),
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

fn count_closed(streams: &[TcpStream]) -> usize {
    streams.iter().filter(|s| is_closed(s)).count()
}

/// With the defaults, a thousand keep-alive clients from one address (a load test, or an
/// office behind one NAT) are all served, and all stay open at once: each answers a second
/// request after every one has had its first. Only the keep-alive timeout is raised, so that
/// connections made early are not closed as idle while the rest are made on a loaded machine.
#[test]
fn a_thousand_keep_alive_clients_from_one_address_are_all_served_with_the_defaults() {
    let count = 1000;
    raise_open_files(count + 1000);
    let server = Server::with_args(&www(), &["--keep-alive-timeout", "120s"]);
    let mut conns: Vec<(TcpStream, Vec<u8>)> = (0..count)
        .map(|i| {
            let mut stream = server.connect();
            stream.write_all(GET).expect("first request");
            let mut leftover = Vec::new();
            let response = read_response(&mut stream, &mut leftover, false);
            assert_eq!(response.status, 200, "connection {i}: {}", response.text());
            (stream, leftover)
        })
        .collect();
    for (i, (stream, leftover)) in conns.iter_mut().enumerate() {
        stream.write_all(GET).expect("second request");
        let response = read_response(stream, leftover, false);
        assert_eq!(response.status, 200, "connection {i}, second request");
    }
}

/// The server full of one address's idle connections: a second address is served in the
/// place of one of them, which is closed; the others go on.
#[test]
fn a_server_full_of_one_address_admits_another_in_place_of_an_idle_connection() {
    let server = Server::with_args(&www(), &["--max-connections", "64"]);
    let held: Vec<TcpStream> = (0..64).map(|_| idle_from("127.0.0.1", &server)).collect();
    let _newcomer = idle_from("127.0.0.2", &server);
    assert_eq!(count_closed(&held), 1);
}

/// Under pressure, one address's new connections take the places of its own idle
/// connections, never those of another address: a light address's idle connections survive
/// a heavy one's churn and a newcomer's arrival at the limit, and the heavy address holds no
/// more than its share (half the server between two addresses) once the server is under
/// pressure.
#[test]
fn one_address_cannot_take_the_places_of_another() {
    let server = Server::with_args(&www(), &["--max-connections", "64"]);
    let mut light: Vec<TcpStream> = (0..8).map(|_| idle_from("127.0.0.2", &server)).collect();
    let heavy: Vec<TcpStream> = (0..64).map(|_| idle_from("127.0.0.1", &server)).collect();
    let _newcomer = idle_from("127.0.0.3", &server);
    let open = heavy.len() - count_closed(&heavy);
    assert!(
        open <= 32,
        "127.0.0.1 holds {open} of 64 with another address"
    );
    assert_eq!(count_closed(&light), 0, "127.0.0.2 lost connections");
    for stream in &mut light {
        stream.write_all(GET).unwrap();
        assert_eq!(read_response(stream, &mut Vec::new(), false).status, 200);
    }
}

/// Under pressure, an address holding its share with none of its connections idle gets 503
/// for the next one, while another address is still served.
#[test]
fn past_its_share_with_none_idle_an_address_gets_503_and_others_are_served() {
    let server = Server::with_env(
        &www(),
        &["--max-connections", "64", "--header-timeout", "60s"],
        &[("RUST_LOG", "debug")],
    );
    let _light: Vec<TcpStream> = (0..8).map(|_| idle_from("127.0.0.2", &server)).collect();
    // Each holds a request whose body has not arrived: busy, never closed to make room. The
    // server logs each head at debug level once it has read it.
    let _busy: Vec<TcpStream> = (0..32)
        .map(|i| {
            let mut stream = connect_from(Ipv4Addr::new(127, 0, 0, 1), server.addr);
            stream
                .write_all(
                    format!("POST /busy{i} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n")
                        .as_bytes(),
                )
                .unwrap();
            server.wait_for_log(&format!("POST /busy{i} "));
            stream
        })
        .collect();
    // 40 of 64 open: under pressure; 127.0.0.1 holds its share of 32.
    let mut refused = connect_from(Ipv4Addr::new(127, 0, 0, 1), server.addr);
    let responses = split_responses(&read_to_close(&mut refused), &[]);
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].status, 503);
    assert_eq!(responses[0].header("Retry-After"), Some("1"));
    let _served = idle_from("127.0.0.2", &server);
    let _newcomer = idle_from("127.0.0.3", &server);
}
