//! HTTP Basic authentication, end to end: the whole site behind `--auth-file` (or
//! `NOMSERVE_AUTH_FILE`), parts of it behind `[[auth]]` areas of a config file, htpasswd
//! files that are not bcrypt refused at startup, by `--check-config` and on SIGHUP, the
//! limits on failed logins, and password checks that never hold up a worker. Hashes are made
//! here at bcrypt's lowest cost; a costly one is a cheap one marked with a higher cost.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{
    Response, Server, TIMEOUT, connect_from, get, get_with, read_response, read_to_close, request,
    run_to_exit, split_responses,
};
use std::fs;
use std::io::{ErrorKind, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;

/// A site (`www/`: a page, `private/` and `private/admin/`) and htpasswd files beside it:
/// `staff` (alice, bob) and `admins` (root).
struct Site {
    top: TempDir,
}

impl Site {
    fn new() -> Site {
        let top = tempfile::tempdir().unwrap();
        let www = top.path().join("www");
        fs::create_dir_all(www.join("private/admin")).unwrap();
        fs::write(www.join("index.html"), "home").unwrap();
        fs::write(www.join("public.txt"), "public").unwrap();
        fs::write(www.join("private/x.txt"), "private x").unwrap();
        fs::write(www.join("private/admin/y.txt"), "admin y").unwrap();
        let site = Site { top };
        site.users(
            "staff",
            &format!(
                "# staff\nalice:{}\nbob:{}:Bob B.\n",
                hash("alice pw"),
                hash("bob pw")
            ),
        );
        site.users("admins", &format!("root:{}\n", hash("root pw")));
        site
    }

    fn root(&self) -> PathBuf {
        self.top.path().join("www")
    }

    /// Writes the htpasswd file `name` and returns its path.
    fn users(&self, name: &str, text: &str) -> String {
        let path = self.top.path().join(name);
        fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// Writes the config file `name` and returns its path.
    fn config(&self, name: &str, text: &str) -> String {
        let path = self.top.path().join(name);
        fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// A config file with two areas: `/private/admin/**` (admins, realm "Admin") first, then
    /// `/private/**` (staff, realm "Staff").
    fn areas(&self) -> String {
        let staff = self.top.path().join("staff");
        let admins = self.top.path().join("admins");
        self.config(
            "areas.toml",
            &format!(
                "[[auth]]\npath = \"/private/admin/**\"\nfile = {:?}\nrealm = \"Admin\"\n\n\
                 [[auth]]\npath = \"/private/**\"\nfile = {:?}\nrealm = \"Staff\"\n",
                admins.to_str().unwrap(),
                staff.to_str().unwrap()
            ),
        )
    }
}

/// A bcrypt hash of `password` at the lowest cost.
fn hash(password: &str) -> String {
    bcrypt::hash(password, 4).unwrap()
}

/// An `Authorization` field line for `user` and `password`.
fn basic(user: &str, password: &str) -> String {
    format!(
        "Authorization: Basic {}\r\n",
        STANDARD.encode(format!("{user}:{password}"))
    )
}

fn assert_challenge(response: &Response, realm: &str, what: &str) {
    assert_eq!(response.status, 401, "{what}");
    assert_eq!(
        response.header("WWW-Authenticate"),
        Some(format!("Basic realm=\"{realm}\", charset=\"UTF-8\"").as_str()),
        "{what}"
    );
    assert_eq!(response.header("Cache-Control"), Some("no-store"), "{what}");
    assert!(!response.text().contains("private"), "{what}");
}

/// Every path of the site needs a user of the file, whichever way the file is named.
#[test]
fn the_whole_site_by_flag_and_by_environment() {
    let site = Site::new();
    let staff = site.top.path().join("staff");
    let staff = staff.to_str().unwrap();
    let by_flag = Server::with_args(&site.root(), &["--auth-file", staff]);
    let by_env = Server::with_env(
        &site.root(),
        &[],
        &[("NOMSERVE_AUTH_FILE", staff), ("RUST_LOG", "info")],
    );
    for server in [&by_flag, &by_env] {
        for path in ["/", "/public.txt", "/private/x.txt", "/echo", "/missing"] {
            assert_challenge(&get(server, path), "nomserve", path);
        }
        let response = get_with(server, "/public.txt", &basic("alice", "alice pw"));
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), "public");
        // Remembered or not, the same credentials pass again; and another user's too.
        assert_eq!(
            get_with(server, "/public.txt", &basic("alice", "alice pw")).text(),
            "public"
        );
        assert_eq!(
            get_with(server, "/", &basic("bob", "bob pw")).text(),
            "home"
        );
        // A HEAD is challenged the same way, without a body.
        let head = request(
            server,
            "HEAD /public.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert_challenge(&head, "nomserve", "HEAD");
        assert!(head.body.is_empty());
    }
}

/// A wrong password, an unknown user, another user's password, another scheme, a malformed
/// field or two of them: each is the challenge, and the failure is logged without the
/// password.
#[test]
fn wrong_credentials_are_challenged() {
    let site = Site::new();
    let staff = site.top.path().join("staff");
    let server = Server::with_args(&site.root(), &["--auth-file", staff.to_str().unwrap()]);
    // Accepted (and remembered) first: what is remembered is this user with this password.
    assert_eq!(
        get_with(&server, "/public.txt", &basic("alice", "alice pw")).status,
        200
    );
    for fields in [
        basic("alice", "wrong"),
        basic("alice", "bob pw"),
        basic("mallory", "alice pw"),
        basic("Alice", "alice pw"),
        basic("alice", "alice pw "),
        "Authorization: Bearer abc\r\n".to_string(),
        "Authorization: Basic !!!\r\n".to_string(),
        format!(
            "{}{}",
            basic("alice", "alice pw"),
            basic("alice", "alice pw")
        ),
    ] {
        assert_challenge(
            &get_with(&server, "/public.txt", &fields),
            "nomserve",
            &fields,
        );
    }
    let line = server.wait_for_log("authentication failed for user \"mallory\"");
    assert!(line.contains("(no such user)"), "{line}");
    assert!(!server.log().contains("wrong"), "{}", server.log());
    // The scheme name is case-insensitive.
    let fields = basic("alice", "alice pw").replace("Basic", "bASIC");
    assert_eq!(get_with(&server, "/public.txt", &fields).status, 200);
}

/// `[[auth]]` areas protect their paths only; the first area that matches decides, with its
/// realm and its users; every spelling of a protected path is protected.
#[test]
fn areas_from_the_config_file() {
    let site = Site::new();
    let config = site.areas();
    let server = Server::with_args(&site.root(), &["--config", &config]);
    assert_eq!(get(&server, "/public.txt").text(), "public");
    assert_eq!(get(&server, "/").text(), "home");
    for path in [
        "/private/x.txt",
        "/private/",
        "/%70rivate/x.txt",
        "/public.txt/../private/x.txt",
        "//private//x.txt",
        "http://localhost/private/x.txt",
    ] {
        assert_challenge(&get(&server, path), "Staff", path);
    }
    assert_challenge(&get(&server, "/private/admin/y.txt"), "Admin", "admin");
    assert_eq!(
        get_with(&server, "/private/x.txt", &basic("bob", "bob pw")).text(),
        "private x"
    );
    assert_eq!(
        get_with(&server, "/%70rivate/x.txt", &basic("bob", "bob pw")).text(),
        "private x"
    );
    // Staff are not admins, and an admin is not staff: each area has its own users.
    assert_challenge(
        &get_with(&server, "/private/admin/y.txt", &basic("bob", "bob pw")),
        "Admin",
        "staff in admin",
    );
    assert_challenge(
        &get_with(&server, "/private/x.txt", &basic("root", "root pw")),
        "Staff",
        "admin in staff",
    );
    assert_eq!(
        get_with(&server, "/private/admin/y.txt", &basic("root", "root pw")).text(),
        "admin y"
    );
}

/// `--auth-file` covers what no area matched; the areas keep their own users.
#[test]
fn areas_and_the_site_file_together() {
    let site = Site::new();
    let config = site.config(
        "one.toml",
        &format!(
            "auth_file = {:?}\n[[auth]]\npath = \"/private/admin/**\"\nfile = {:?}\nrealm = \"Admin\"\n",
            site.top.path().join("staff").to_str().unwrap(),
            site.top.path().join("admins").to_str().unwrap()
        ),
    );
    let server = Server::with_args(&site.root(), &["--config", &config]);
    assert_challenge(&get(&server, "/public.txt"), "nomserve", "site");
    assert_eq!(
        get_with(&server, "/public.txt", &basic("alice", "alice pw")).status,
        200
    );
    assert_challenge(
        &get_with(&server, "/private/admin/y.txt", &basic("alice", "alice pw")),
        "Admin",
        "site user in admin area",
    );
    assert_eq!(
        get_with(&server, "/private/admin/y.txt", &basic("root", "root pw")).status,
        200
    );
}

/// A line that is not bcrypt stops the server before it listens: exit 2, the file, the line
/// and the reason; the same from `--check-config` and from an `[[auth]]` area.
#[test]
fn a_non_bcrypt_line_is_refused_at_startup() {
    let site = Site::new();
    let root = site.root();
    let root = root.to_str().unwrap();
    let bad = site.users(
        "bad",
        &format!(
            "alice:{}\nbob:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\n",
            hash("a")
        ),
    );
    let expected = format!("htpasswd file {bad}:2: user \"bob\": an MD5 ($apr1$) hash");
    for args in [
        vec!["--port", "0", "--root", root, "--auth-file", &bad],
        vec!["--root", root, "--auth-file", &bad, "--check-config"],
    ] {
        let exited = run_to_exit(&args);
        assert_eq!(exited.status.code(), Some(2), "{args:?}: {}", exited.stderr);
        assert!(exited.stderr.contains(&expected), "{}", exited.stderr);
        assert!(!exited.stdout.contains("listening"), "{}", exited.stdout);
    }
    let config = site.config(
        "bad.toml",
        &format!("[[auth]]\npath = \"/private/**\"\nfile = {bad:?}\n"),
    );
    let exited = run_to_exit(&["--port", "0", "--root", root, "--config", &config]);
    assert_eq!(exited.status.code(), Some(2), "{}", exited.stderr);
    assert!(
        exited.stderr.contains("[[auth]] path \"/private/**\"")
            && exited.stderr.contains(&expected),
        "{}",
        exited.stderr
    );
    let plain = site.users("plain", "alice:secret\n");
    let exited = run_to_exit(&["--port", "0", "--root", root, "--auth-file", &plain]);
    assert_eq!(exited.status.code(), Some(2));
    assert!(
        exited
            .stderr
            .contains(&format!("{plain}:1: user \"alice\": not a bcrypt hash")),
        "{}",
        exited.stderr
    );
}

/// The files are read again on SIGHUP: a changed password applies, and a file made invalid
/// is logged and the current users kept.
#[test]
fn sighup_rereads_the_users() {
    let site = Site::new();
    let file = site.users("site", &format!("alice:{}\n", hash("first")));
    let server = Server::with_args(&site.root(), &["--auth-file", &file]);
    assert_eq!(
        get_with(&server, "/public.txt", &basic("alice", "first")).status,
        200
    );
    site.users("site", &format!("alice:{}\n", hash("second")));
    server.signal("HUP");
    server.wait_for_log("SIGHUP: new settings applied");
    assert_eq!(
        get_with(&server, "/public.txt", &basic("alice", "first")).status,
        401
    );
    assert_eq!(
        get_with(&server, "/public.txt", &basic("alice", "second")).status,
        200
    );
    site.users("site", "alice:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n");
    server.signal("HUP");
    let line = server.wait_for_log("keeping the current settings");
    assert!(line.contains(&format!("{file}:1")), "{line}");
    assert_eq!(
        get_with(&server, "/public.txt", &basic("alice", "second")).status,
        200
    );
}

/// Past ten failures a minute, an address gets 429 with Retry-After, even with the right
/// password, remembered from before: otherwise the memory would answer guesses past the
/// limit. A request without credentials is still just challenged.
#[test]
fn too_many_failures_are_refused() {
    let site = Site::new();
    let staff = site.top.path().join("staff");
    let server = Server::with_args(&site.root(), &["--auth-file", staff.to_str().unwrap()]);
    assert_eq!(
        get_with(&server, "/public.txt", &basic("alice", "alice pw")).status,
        200
    );
    for attempt in 0..10 {
        let response = get_with(
            &server,
            "/public.txt",
            &basic("alice", &format!("guess {attempt}")),
        );
        assert_challenge(&response, "nomserve", &format!("guess {attempt}"));
    }
    for fields in [basic("alice", "guess 10"), basic("alice", "alice pw")] {
        let response = get_with(&server, "/public.txt", &fields);
        assert_eq!(response.status, 429, "{fields}");
        assert_eq!(response.header("Cache-Control"), Some("no-store"));
        let wait: u64 = response
            .header("Retry-After")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(response.header("WWW-Authenticate").is_none());
    }
    assert_challenge(&get(&server, "/public.txt"), "nomserve", "no credentials");
}

/// A path that does not decode is refused before any area is consulted, as the files
/// would refuse it.
#[test]
fn undecodable_paths_are_bad_requests() {
    let site = Site::new();
    let config = site.areas();
    let server = Server::with_args(&site.root(), &["--config", &config]);
    let response = get(&server, "/private%2fx.txt");
    assert_eq!(response.status, 400);
    assert!(response.text().contains("RFC 3986"), "{}", response.text());
}

/// A hash no password matches, whose check costs `cost`: made at cost 4, then marked with
/// `cost` (verifying reads the cost from the hash; making it at `cost` would cost as much).
fn marked(cost: u32) -> String {
    hash("unused").replacen("$04$", &format!("${cost:02}$"), 1)
}

/// `GET path` with `fields` from the loopback address `source` to `server` (its address), on
/// its own connection.
fn get_from(source: Ipv4Addr, server: SocketAddr, path: &str, fields: &str) -> Response {
    let mut stream = connect_from(source, server);
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: x\r\n{fields}Connection: close\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let mut responses = split_responses(&read_to_close(&mut stream), &[false]);
    assert_eq!(responses.len(), 1, "one response to {path} from {source}");
    responses.remove(0)
}

/// Password checks run off the worker threads: with one worker, while wrong passwords for a
/// user whose hash has cost 14 (about a second a check) are checked for three addresses, a
/// public file is served at once. Its answer comes before any of their 401s (none has
/// arrived when it does), and the 401s all come.
#[test]
fn wrong_passwords_do_not_stall_public_pages() {
    let site = Site::new();
    let slow = site.users("slow", &format!("carol:{}\n", marked(14)));
    let config = site.config(
        "slow.toml",
        &format!("[[auth]]\npath = \"/private/**\"\nfile = {slow:?}\nrealm = \"Slow\"\n"),
    );
    // A long header timeout: the third check may wait for two others on a loaded machine.
    let server = Server::with_env(
        &site.root(),
        &[
            "--config",
            &config,
            "--threads",
            "1",
            "--header-timeout",
            "60s",
        ],
        &[("RUST_LOG", "debug")],
    );
    let mut checked: Vec<TcpStream> = (2..5)
        .map(|n| {
            let mut stream = connect_from(Ipv4Addr::new(127, 0, 0, n), server.addr);
            // Each check takes its turn on the pool: wait as long as three may take.
            stream.set_read_timeout(Some(6 * TIMEOUT)).unwrap();
            let fields = basic("carol", &format!("guess {n}"));
            stream
                .write_all(
                    format!("GET /private/x.txt HTTP/1.1\r\nHost: x\r\n{fields}\r\n").as_bytes(),
                )
                .unwrap();
            stream
        })
        .collect();
    // The first of them has reached the handler: its check is under way.
    server.wait_for_log("request head");
    assert_eq!(get(&server, "/public.txt").text(), "public");
    for stream in &checked {
        stream.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        match stream.peek(&mut byte) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!("a password check was answered before the public file: {other:?}"),
        }
        stream.set_nonblocking(false).unwrap();
    }
    for stream in &mut checked {
        let response = read_response(stream, &mut Vec::new(), false);
        assert_challenge(
            &response,
            "Slow",
            "a wrong password, checked off the worker",
        );
    }
}

/// One failed login from each of 4,100 addresses, more than the limiter tracks, locks no
/// one out: the right password from a new address is accepted. Past the total budget of
/// failures, an address that has failed gets 429 without a check, even with the right
/// password, while one that has not failed is still checked.
#[test]
fn failures_from_many_addresses_lock_no_one_out() {
    let site = Site::new();
    let staff = site.top.path().join("staff");
    let server = Server::with_args(&site.root(), &["--auth-file", staff.to_str().unwrap()]);
    let addresses: Vec<Ipv4Addr> = (0..4100u32)
        .map(|i| Ipv4Addr::new(127, 1, (i / 250) as u8, (i % 250 + 1) as u8))
        .collect();
    std::thread::scope(|scope| {
        for chunk in addresses.chunks(addresses.len() / 8 + 1) {
            let server = server.addr;
            scope.spawn(move || {
                for &address in chunk {
                    let response = get_from(address, server, "/", &basic("alice", "wrong"));
                    assert_eq!(response.status, 401, "{address}");
                }
            });
        }
    });
    let right = basic("alice", "alice pw");
    let response = get_from(Ipv4Addr::new(127, 2, 0, 1), server.addr, "/", &right);
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "home");
    let failed = *addresses.last().unwrap();
    for fields in [basic("alice", "wrong again"), right] {
        let response = get_from(failed, server.addr, "/", &fields);
        assert_eq!(response.status, 429, "{fields}");
        let wait: u64 = response
            .header("Retry-After")
            .expect("Retry-After")
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
    }
    let response = get_from(
        Ipv4Addr::new(127, 2, 0, 2),
        server.addr,
        "/",
        &basic("bob", "no"),
    );
    assert_challenge(&response, "nomserve", "a new address, checked");
}

/// An unknown user of a file that mixes costs is refused like a wrong password (the check
/// runs against a stand-in hash of the file's highest cost).
#[test]
fn unknown_users_of_a_file_mixing_costs_are_challenged() {
    let site = Site::new();
    let mixed = site.users(
        "mixed",
        &format!("alice:{}\nslow:{}\n", hash("alice pw"), marked(10)),
    );
    let server = Server::with_args(&site.root(), &["--auth-file", &mixed]);
    let response = get_with(&server, "/public.txt", &basic("mallory", "alice pw"));
    assert_challenge(&response, "nomserve", "unknown user");
    let line = server.wait_for_log("authentication failed for user \"mallory\"");
    assert!(line.contains("(no such user)"), "{line}");
    assert_eq!(
        get_with(&server, "/public.txt", &basic("alice", "alice pw")).text(),
        "public"
    );
}

/// `--check-config` warns of every htpasswd line whose bcrypt cost is above 12, with the
/// file, the line, the cost and the time a check takes, and passes; cost 12 passes quietly.
#[test]
fn check_config_warns_of_costly_hashes() {
    let site = Site::new();
    let root = site.root();
    let root = root.to_str().unwrap();
    let costly = site.users(
        "costly",
        &format!(
            "alice:{}\n# slow ones\nbob:{}\ncarol:{}\n",
            marked(12),
            marked(13),
            marked(15)
        ),
    );
    let config = site.config(
        "costly.toml",
        &format!("[[auth]]\npath = \"/private/**\"\nfile = {costly:?}\n"),
    );
    for args in [
        vec!["--root", root, "--auth-file", &costly, "--check-config"],
        vec!["--root", root, "--config", &config, "--check-config"],
    ] {
        let exited = run_to_exit(&args);
        assert_eq!(exited.status.code(), Some(0), "{args:?}: {}", exited.stderr);
        assert!(
            exited.stdout.contains("configuration OK"),
            "{}",
            exited.stdout
        );
        for expected in [
            format!("{costly}:3: bcrypt cost 13: each check takes ~0.8 s on a small machine"),
            format!("{costly}:4: bcrypt cost 15: each check takes ~3.2 s on a small machine"),
        ] {
            assert!(exited.stderr.contains(&expected), "{}", exited.stderr);
        }
        assert!(!exited.stderr.contains(":1:"), "{}", exited.stderr);
    }
    let fine = site.users("fine", &format!("alice:{}\n", marked(12)));
    let exited = run_to_exit(&["--root", root, "--auth-file", &fine, "--check-config"]);
    assert_eq!(exited.status.code(), Some(0), "{}", exited.stderr);
    assert!(!exited.stderr.contains("warning"), "{}", exited.stderr);
}

/// Over HTTPS a login parks and is woken as over plain TCP: the right password gets the
/// page, a wrong one the challenge, each on a connection of its own and on one kept alive.
#[test]
fn logins_over_https() {
    let site = Site::new();
    let pair = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = site.config("cert.pem", &pair.cert.pem());
    let key = site.config("key.pem", &pair.signing_key.serialize_pem());
    let staff = site.top.path().join("staff");
    let server = Server::with_args(
        &site.root(),
        &[
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
            "--auth-file",
            staff.to_str().unwrap(),
        ],
    );
    // Two URLs on one command line: curl keeps the connection for the second.
    let curl = |user: &str| {
        let out = std::process::Command::new("curl")
            .args(["--silent", "--show-error", "--insecure", "--max-time", "10"])
            .args(["--user", user, "--write-out", " %{http_code}\n"])
            .arg(server.https_url("/public.txt"))
            .arg(server.https_url("/"))
            .output()
            .expect("run curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(curl("alice:alice pw"), "public 200\nhome 200\n");
    assert_eq!(
        curl("alice:wrong"),
        "Unauthorized\n 401\nUnauthorized\n 401\n"
    );
}

/// The threads of this process named `auth-check…` (the password-check pool's).
fn check_threads(server: &Server) -> usize {
    fs::read_dir(format!("/proc/{}/task", server.pid()))
        .unwrap()
        .filter_map(|task| fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("auth-check"))
        .count()
}

/// The password-check thread is the handler's: each reload's handler starts its own at its
/// first check, and the replaced one's ends, so reloads leave one, not one each.
#[test]
fn reloads_leave_one_password_check_thread() {
    let site = Site::new();
    let staff = site.top.path().join("staff");
    let server = Server::with_args(
        &site.root(),
        &["--auth-file", staff.to_str().unwrap(), "--threads", "1"],
    );
    for round in 0..5 {
        let fields = basic("alice", &format!("wrong {round}"));
        assert_challenge(&get_with(&server, "/", &fields), "nomserve", "a check");
        server.signal("HUP");
        server.wait_for_log("SIGHUP: new settings applied");
    }
    // The worker takes the last handler, and drops the one before, at its next request.
    assert_eq!(
        get_with(&server, "/", &basic("alice", "alice pw")).text(),
        "home"
    );
    let deadline = std::time::Instant::now() + TIMEOUT;
    while check_threads(&server) > 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(check_threads(&server), 1);
}
