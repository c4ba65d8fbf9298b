//! nomserve's HTTP/3 bounds, each against the real binary with aioquic's client
//! (`tests/h3_client.py`): connections per address and in total as for TCP, 128 request
//! streams per connection, the QPACK bounds, the idle timeout, the send timeout for a client
//! that stops acknowledging, Retry under load, the amplification limit before address
//! validation, and a flood of garbage Initial packets.
//!
//! Without aioquic the tests say how to install it and pass vacuously; when `CI` is set
//! (`.ci/run` installs it) its absence fails them instead.

#[path = "common/cert.rs"]
mod cert;
mod common;
#[path = "common/h3.rs"]
mod h3client;

use cert::TestCert;
use common::Server;
use h3client::*;
use serde_json::Value;
use std::net::UdpSocket;
use std::path::Path;
use std::process::{Command, Stdio};

#[test]
fn connections_per_address_are_capped_as_for_tcp() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &["--max-connections-per-ip", "2"]);
    let got = h3(&server, &["--connections", "3", "/small.txt"]);
    let ok: Vec<&Value> = got.iter().map(|r| &r["ok"]).collect();
    assert_eq!(ok, [true, true, false], "{got:?}");
}

#[test]
fn an_idle_connection_is_closed_at_the_keep_alive_timeout() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let mut args = cert.args();
    args.extend(["--http3", "on", "--keep-alive-timeout", "1s"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::with_env(
        root.path(),
        &args,
        &[("RUST_LOG", "info,nomserve::server::quic=debug")],
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/h3_client.py");
    let mut client = Command::new("python3")
        .arg(script)
        .args(["127.0.0.1", &server.addr.port().to_string()])
        .args(["--pause", "8", "/small.txt", "/small.txt"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the client");
    server.wait_for_log("\"GET /small.txt HTTP/3.0\" 200");
    server.wait_for_log("QUIC connection lost: timed out");
    let _ = client.kill();
    let _ = client.wait();
}

#[test]
fn a_flood_of_garbage_initial_packets_leaves_the_server_serving() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &["--metrics", "127.0.0.1:0"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = server.addr;
    let mut datagram = vec![0u8; 1200];
    for i in 0..20_000u32 {
        // A long header, Initial, QUIC v1, connection ids of 8 bytes, then garbage.
        datagram[..6].copy_from_slice(&[0xc0, 0, 0, 0, 1, 8]);
        datagram[6..10].copy_from_slice(&i.to_be_bytes());
        datagram[14] = 8;
        for (j, byte) in datagram[15..].iter_mut().enumerate() {
            *byte = (i as usize).wrapping_mul(31).wrapping_add(j) as u8;
        }
        let _ = socket.send_to(&datagram, target);
    }
    // Truncated and empty datagrams too.
    for len in 0..64 {
        let _ = socket.send_to(&datagram[..len], target);
    }
    let got = h3(&server, &["/small.txt"]);
    assert_eq!(got[0]["status"], 200);
    // No state for the garbage: the one connection started is the client's.
    let metrics = common::metrics_addr(&server);
    assert_eq!(
        common::metric(metrics, "nomserve_http3_connections_total"),
        1
    );
}

#[test]
fn many_handshakes_under_way_make_new_clients_prove_their_address_with_a_retry() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let mut args = cert.args();
    args.extend(["--http3", "on"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::with_env(
        root.path(),
        &args,
        &[("RUST_LOG", "info,nomserve::server::quic=debug")],
    );
    // 20 handshakes that never go on, past the 16 under way that trigger Retry.
    let got = h3(&server, &["--half-open", "20", "/small.txt"]);
    assert_eq!(got[0]["status"], 200, "served after the Retry");
    server.wait_for_log("QUIC Retry (16 handshakes under way)");
}

/// A client that stops acknowledging leaves QUIC's send buffer full: QUIC takes no more of
/// the response, and the send timeout cuts the client off, as over HTTP/1.1 and HTTP/2, long
/// before the idle timeout would.
#[test]
fn a_client_that_stops_acknowledging_is_cut_off_at_the_send_timeout() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let mut args = cert.args();
    args.extend(
        [
            "--http3",
            "on",
            "--send-timeout",
            "1s",
            "--keep-alive-timeout",
            "30s",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::with_env(
        root.path(),
        &args,
        &[("RUST_LOG", "info,nomserve::conn::h3=debug")],
    );
    let got = h3(&server, &["--stall", "4", "/large.bin"]);
    assert_eq!(got[0]["stalled"], true);
    server.wait_for_log("the client took nothing of its response for 1s");
    // The response is logged cut short, with what was sent: at most the send window and
    // what was in flight, never the whole file.
    let line = server.wait_for_log("\"GET /large.bin HTTP/3.0\" 200 ");
    let sent: usize = line
        .split("200 ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the bytes sent");
    assert!(sent < LARGE, "{line}");
}

#[test]
fn connections_in_total_are_capped_as_for_tcp() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &["--max-connections", "4"]);
    let got = h3(&server, &["--connections", "5", "/small.txt"]);
    let ok: Vec<&Value> = got.iter().map(|r| &r["ok"]).collect();
    assert_eq!(ok, [true, true, true, true, false], "{got:?}");
}

#[test]
fn a_connection_has_128_request_streams_at_once_and_more_in_turn() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &[]);
    let mut args = vec!["--show-limits"];
    args.extend(std::iter::repeat_n("/small.txt", 200));
    let got = h3(&server, &args);
    assert_eq!(
        got[0]["max_streams_bidi"], 128,
        "MAX_STREAMS (RFC 9000 §4.6)"
    );
    let ok = got[1..].iter().filter(|r| r["status"] == 200).count();
    assert_eq!(ok, 200, "every request answered as streams free up");
}

#[test]
fn qpack_bounds_too_large_or_too_many_fields_get_431() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &[]);
    // Past the 64 KiB field section (RFC 9114 §4.2.2, counted as HPACK counts it).
    let large: Vec<String> = (0..8)
        .map(|i| format!("x-large-{i}:{}", "a".repeat(9000)))
        .collect();
    // Past the 100 fields of a request.
    let many: Vec<String> = (0..120).map(|i| format!("x-field-{i}:v")).collect();
    for fields in [large, many] {
        let mut args: Vec<&str> = Vec::new();
        for field in &fields {
            args.extend(["--header", field.as_str()]);
        }
        args.extend(["/small.txt", "/small.txt"]);
        let got = h3(&server, &args);
        assert_eq!(got[0]["status"], 431, "{}", got[0]);
        assert_eq!(got[1]["status"], 431, "the connection goes on");
    }
}

#[test]
fn before_its_address_is_validated_a_client_gets_at_most_three_times_what_it_sent() {
    if !aioquic_installed() {
        return;
    }
    let root = site();
    let cert = TestCert::new();
    let server = h3_server(root.path(), &cert, &[]);
    // One Initial, never answered: the server's flight and its retransmissions over four
    // seconds stay within the amplification limit (RFC 9000 §8.1).
    let got = h3(&server, &["--amplification", "4", "/"]);
    let (sent, received) = (&got[0]["sent"], &got[0]["received"]);
    let (sent, received) = (sent.as_u64().unwrap(), received.as_u64().unwrap());
    assert!(sent >= 1200, "a client's Initial is padded to 1200 bytes");
    assert!(received > 0, "the server answered");
    assert!(received <= 3 * sent, "sent {sent}, received {received}");
}
