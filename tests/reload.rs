//! SIGHUP reloads leave nothing behind: what the replaced settings owned (the open-file
//! cache's watcher thread and inotify instance, its open files, the listings, the
//! compression threads and variants, the authentication's tables) is released once no
//! request uses it, however many reloads there were.
//!
//! The server runs with everything that owns something: the open-file cache (on by
//! default), a precompressed variant, compression on the fly, listings and an `[[auth]]`
//! area, all from a config file that every SIGHUP reads again, served over HTTPS with a
//! certificate every SIGHUP reads again too. Its threads, descriptors and
//! inotify instances are counted in /proc after a first round of traffic, and again after
//! 200 reloads made while a client keeps requesting (one in ten refused, after the file
//! handler was built) and the same round of traffic: they must not have grown.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Response, Server, TIMEOUT, split_responses};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Reloads made while the client requests.
const RELOADS: usize = 200;

/// What the server holds, from /proc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    threads: usize,
    descriptors: usize,
    inotify: usize,
}

impl Held {
    fn of(pid: u32) -> Held {
        let threads = fs::read_dir(format!("/proc/{pid}/task")).unwrap().count();
        let links: Vec<_> = fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .filter_map(|entry| fs::read_link(entry.ok()?.path()).ok())
            .collect();
        let inotify = links
            .iter()
            .filter(|target| target.as_os_str() == "anon_inode:inotify")
            .count();
        Held {
            threads,
            descriptors: links.len(),
            inotify,
        }
    }

    fn within(self, bound: Held) -> bool {
        self.threads <= bound.threads
            && self.descriptors <= bound.descriptors
            && self.inotify <= bound.inotify
    }
}

/// Writes the site into `top`: `www/` (a text page that compresses, a file with its `.gz`
/// beside it, a listed directory, a protected one) and the config file and htpasswd file
/// beside it. Returns the config file's path.
fn site(top: &Path) -> String {
    let www = top.join("www");
    fs::create_dir_all(www.join("listed")).unwrap();
    fs::create_dir_all(www.join("private")).unwrap();
    fs::write(
        www.join("page.txt"),
        "a page that compresses well. ".repeat(100),
    )
    .unwrap();
    fs::write(www.join("style.css"), "body { color: black }\n".repeat(60)).unwrap();
    fs::write(www.join("style.css.gz"), "precompressed").unwrap();
    fs::write(www.join("listed/a.txt"), "a").unwrap();
    fs::write(www.join("listed/b.txt"), "b").unwrap();
    fs::write(www.join("private/secret.txt"), "secret").unwrap();
    let users = top.join("users");
    fs::write(
        &users,
        format!("alice:{}\n", bcrypt::hash("pw", 4).unwrap()),
    )
    .unwrap();
    let config = top.join("site.toml");
    fs::write(
        &config,
        format!(
            "list_dirs = true\n\n[[auth]]\npath = \"/private/**\"\nfile = {:?}\n",
            users.to_str().unwrap()
        ),
    )
    .unwrap();
    config.to_str().unwrap().to_string()
}

/// Writes a self-signed certificate for `localhost` and its key into `top`; returns their
/// paths and a client that trusts the certificate.
fn certificate(top: &Path) -> (String, String, Arc<ClientConfig>) {
    let pair = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert, key) = (top.join("cert.pem"), top.join("key.pem"));
    fs::write(&cert, pair.cert.pem()).unwrap();
    fs::write(&key, pair.signing_key.serialize_pem()).unwrap();
    let mut roots = RootCertStore::empty();
    roots.add(pair.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let path = |p: &Path| p.to_str().unwrap().to_string();
    (path(&cert), path(&key), Arc::new(client))
}

/// `GET path` with `fields` over HTTPS on a new connection to `addr`, and its response.
fn get_with(addr: SocketAddr, client: &Arc<ClientConfig>, path: &str, fields: &str) -> Response {
    let name = ServerName::try_from("localhost").unwrap();
    let session = ClientConnection::new(Arc::clone(client), name).unwrap();
    let socket = TcpStream::connect_timeout(&addr, TIMEOUT).unwrap();
    socket.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut tls = StreamOwned::new(session, socket);
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{fields}Connection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    match tls.read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("reading the response to {path}: {e}"),
    }
    let mut responses = split_responses(&bytes, &[false]);
    assert_eq!(responses.len(), 1, "one response to {path}");
    responses.remove(0)
}

/// One request of the traffic, and what it must answer.
struct Ask {
    path: &'static str,
    fields: String,
    check: fn(&Response) -> bool,
}

fn traffic() -> Vec<Ask> {
    let login = format!("Authorization: Basic {}\r\n", STANDARD.encode("alice:pw"));
    vec![
        Ask {
            path: "/page.txt",
            fields: String::new(),
            check: |r| r.status == 200,
        },
        Ask {
            path: "/page.txt",
            fields: "Accept-Encoding: gzip\r\n".to_string(),
            check: |r| r.status == 200,
        },
        Ask {
            path: "/style.css",
            fields: "Accept-Encoding: gzip\r\n".to_string(),
            check: |r| r.header("Content-Encoding") == Some("gzip"),
        },
        Ask {
            path: "/listed/",
            fields: String::new(),
            check: |r| r.status == 200 && r.text().contains("b.txt"),
        },
        Ask {
            path: "/private/secret.txt",
            fields: String::new(),
            check: |r| r.status == 401,
        },
        Ask {
            path: "/private/secret.txt",
            fields: login,
            check: |r| r.status == 200 && r.text() == "secret",
        },
    ]
}

/// A round of traffic that leaves the server in the same state whatever it held before:
/// every request answered as it must be, twice (the second from the caches), and the page's
/// gzip variant made (so the compression threads run).
fn round(server: SocketAddr, client: &Arc<ClientConfig>) {
    for ask in traffic().iter().chain(traffic().iter()) {
        let response = get_with(server, client, ask.path, &ask.fields);
        assert!((ask.check)(&response), "{}: {}", ask.path, response.status);
    }
    let deadline = Instant::now() + TIMEOUT;
    while get_with(server, client, "/page.txt", "Accept-Encoding: gzip\r\n")
        .header("Content-Encoding")
        != Some("gzip")
    {
        assert!(
            Instant::now() < deadline,
            "no gzip variant within {TIMEOUT:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_hundred_reloads_under_load_leave_nothing_behind() {
    let top = tempfile::tempdir().unwrap();
    let config = site(top.path());
    let (cert, key, client) = certificate(top.path());
    let args = ["--config", &config, "--tls-cert", &cert, "--tls-key", &key];
    let server = Server::with_args(&top.path().join("www"), &args);
    round(server.addr, &client);
    let before = Held::of(server.pid());

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let requests = {
        let (addr, stop, answered) = (server.addr, Arc::clone(&stop), Arc::clone(&answered));
        let client = Arc::clone(&client);
        thread::spawn(move || {
            let asks = traffic();
            while !stop.load(Ordering::Relaxed) {
                for ask in &asks {
                    let response = get_with(addr, &client, ask.path, &ask.fields);
                    // The gzip variant of a page may still be being made after a reload.
                    let made_here = ask.path == "/page.txt";
                    assert!(
                        made_here || (ask.check)(&response),
                        "{} during the reloads: {}",
                        ask.path,
                        response.status
                    );
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let good = fs::read_to_string(&config).unwrap();
    for i in 0..RELOADS {
        if i % 10 == 5 {
            // Refused after the file handler is built (its error page is missing): what
            // that handler made is released too, and the current settings stay.
            fs::write(
                &config,
                format!("error_page = [\"404=missing.html\"]\n{good}"),
            )
            .unwrap();
            server.signal("HUP");
            server.wait_for_log("keeping the current settings");
            server.wait_for_log("SIGHUP: reloaded the TLS certificate");
            fs::write(&config, &good).unwrap();
            continue;
        }
        server.signal("HUP");
        server.wait_for_log("SIGHUP: new settings applied");
        server.wait_for_log("SIGHUP: reloaded the TLS certificate");
    }
    stop.store(true, Ordering::Relaxed);
    requests
        .join()
        .expect("the client's requests were answered as they must be");
    assert!(answered.load(Ordering::Relaxed) > 0);

    round(server.addr, &client);
    // The old settings' threads end, and their descriptors close, as their last users let
    // go: wait for that rather than assume it took no time.
    let deadline = Instant::now() + TIMEOUT;
    let mut after = Held::of(server.pid());
    while !after.within(before) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
        after = Held::of(server.pid());
    }
    assert!(
        after.within(before),
        "after {RELOADS} reloads the server holds {after:?}, before them {before:?}"
    );
}
