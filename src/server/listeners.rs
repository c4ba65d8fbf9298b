//! Where the server listens: TCP sockets on `--bind`'s addresses and `--port`, Unix stream
//! sockets at `--bind unix:PATH`, or the sockets systemd passes instead (socket activation).
//!
//! A Unix socket file this process made is removed when the server stops accepting
//! ([`Listener::remove_socket_file`]), or else when its [`Listener`] is dropped. One left behind by a process that could not remove it (a
//! second signal ends the process at once) is replaced by the next start, after checking
//! that it is a socket nothing listens on.

use super::sockopt;
use rustix::fd::OwnedFd;
use rustix::net::{AddressFamily, SocketFlags, SocketType};
use std::fmt;
use std::fs;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// How long the kernel keeps a new connection that sends nothing from `accept` (see
/// `open_tcp`).
const DEFER_ACCEPT_SECONDS: u32 = 1;

/// Where to listen (`--bind`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// A TCP socket on this address and the port.
    Ip(IpAddr),
    /// A TCP socket on each address a host name had when the server started (such as
    /// `localhost`: 127.0.0.1 and ::1), on the port.
    Host(String, Vec<IpAddr>),
    /// A Unix stream socket at this path.
    Unix(PathBuf),
}

impl Bind {
    /// The IP addresses to listen on (none for a Unix socket).
    pub fn addresses(&self) -> Vec<IpAddr> {
        match self {
            Bind::Ip(ip) => vec![*ip],
            Bind::Host(_, ips) => ips.clone(),
            Bind::Unix(_) => Vec::new(),
        }
    }
}

/// What a listening socket is, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A TCP socket on this address.
    Tcp(SocketAddr),
    /// A Unix stream socket: `unix:PATH`, `unix:@NAME` (abstract), or `unix:` (unnamed).
    Unix(String),
}

impl Address {
    /// The TCP socket's address; `None` for a Unix socket.
    pub fn tcp(&self) -> Option<SocketAddr> {
        match self {
            Address::Tcp(addr) => Some(*addr),
            Address::Unix(_) => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp(addr) => write!(f, "{addr}"),
            Address::Unix(name) => write!(f, "unix:{name}"),
        }
    }
}

/// A listening socket.
#[derive(Debug)]
pub struct Listener {
    socket: OwnedFd,
    /// Where it listens.
    pub address: Address,
    /// The socket file this process made, removed once (see [`Listener::remove_socket_file`]).
    made: Mutex<Option<PathBuf>>,
    /// A TCP socket this process made with `SO_REUSEPORT`: others can listen on its address
    /// beside it ([`Listener::sibling`]).
    shareable: bool,
}

impl Listener {
    /// The listening socket.
    pub fn socket(&self) -> &OwnedFd {
        &self.socket
    }

    /// Removes the socket file this process made for it, if it has not been removed yet:
    /// new clients can no longer find it, while those already connected are served on. The
    /// server calls this when it stops accepting, since the socket itself may stay open a
    /// little longer, held by a worker that is still finishing a turn.
    pub fn remove_socket_file(&self) {
        let made = self
            .made
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(path) = made {
            if let Err(e) = fs::remove_file(&path) {
                log::warn!("cannot remove the socket file {}: {e}", path.display());
            }
        }
    }

    /// Another socket listening on the same address, for another worker, when this one can
    /// have one (a TCP socket this process made): the kernel spreads new clients over the
    /// sockets of one address by a hash of the client's address and port (`SO_REUSEPORT`,
    /// socket(7)), so each worker accepts from a queue of its own. `None` for a Unix socket
    /// or one systemd passed, which every worker then shares.
    pub fn sibling(&self) -> io::Result<Option<Listener>> {
        match self.address {
            Address::Tcp(addr) if self.shareable => {
                let v6only = addr.is_ipv6() && rustix::net::sockopt::ipv6_v6only(&self.socket)?;
                open_tcp(addr, v6only).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// Whether it is a TCP socket (not a Unix one).
    pub fn is_tcp(&self) -> bool {
        matches!(self.address, Address::Tcp(_))
    }

    /// Whether it is an IPv6 socket that takes IPv4 clients too (as mapped addresses): one
    /// without `IPV6_V6ONLY`, as `::` is when bound alone, or as systemd may pass one.
    pub fn takes_ipv4(&self) -> bool {
        matches!(self.address, Address::Tcp(SocketAddr::V6(_)))
            && rustix::net::sockopt::ipv6_v6only(&self.socket).is_ok_and(|only| !only)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.remove_socket_file();
    }
}

/// Listens on each of `binds`: IP addresses on `port` (when `port` is 0, the first picks a
/// free port and the others take the same one), Unix sockets with file mode `mode`. An
/// IPv6 address listens for IPv6 only when an IPv4 address is bound too, so that `::` and
/// `0.0.0.0` can be given together; alone, `::` takes IPv4 clients as well (as mapped
/// addresses).
pub fn bind(binds: &[Bind], port: u16, mode: u32) -> Result<Vec<Listener>, String> {
    let with_ipv4 = binds
        .iter()
        .flat_map(Bind::addresses)
        .any(|ip| ip.is_ipv4());
    let mut port = port;
    let mut listeners = Vec::with_capacity(binds.len());
    for bind in binds {
        if let Bind::Unix(path) = bind {
            let listener = bind_unix(path, mode)
                .map_err(|e| format!("cannot listen on unix:{}: {e}", path.display()))?;
            listeners.push(listener);
            continue;
        }
        for ip in bind.addresses() {
            let requested = SocketAddr::new(ip, port);
            let listener =
                bind_tcp(requested, ip.is_ipv6() && with_ipv4).map_err(|e| match e.kind() {
                    io::ErrorKind::AddrInUse => format!(
                        "cannot listen on {requested}: the port is in use; pick another \
                         with --port N, or let the system choose with --port 0"
                    ),
                    _ => format!(
                        "cannot listen on {requested}: {}",
                        explain(requested, &e, "-p 8080")
                    ),
                })?;
            if let Address::Tcp(addr) = listener.address {
                port = addr.port();
            }
            listeners.push(listener);
        }
    }
    Ok(listeners)
}

/// Why a TCP socket cannot listen on `addr`: `e`, or in its place plain words where they
/// help. A port below the unprivileged range without the capability (EACCES, ip(7)): what
/// to do instead, such as `higher` (an argument with a higher port). An address no
/// interface has (EADDRNOTAVAIL): the addresses the machine has.
pub fn explain(addr: SocketAddr, e: &io::Error, higher: &str) -> String {
    // net.ipv4.ip_unprivileged_port_start, IPv6 included (1024 unless changed).
    let unprivileged = fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|text| text.trim().parse::<u16>().ok())
        .unwrap_or(1024);
    match e.kind() {
        io::ErrorKind::PermissionDenied if addr.port() < unprivileged => format!(
            "ports below {unprivileged} need root or the CAP_NET_BIND_SERVICE capability \
             (`sudo setcap cap_net_bind_service=+ep $(which nomserve)` gives it to the \
             binary), or pick a port from {unprivileged} up, such as {higher}"
        ),
        io::ErrorKind::AddrNotAvailable => {
            let existing: Vec<String> = interface_addresses()
                .iter()
                .map(IpAddr::to_string)
                .collect();
            format!(
                "no network interface here has the address {}; the addresses here are {} \
                 (and 0.0.0.0 or :: stands for all of them)",
                addr.ip(),
                existing.join(", ")
            )
        }
        _ => e.to_string(),
    }
}

/// The machine's IP addresses, loopback first (IPv4 before IPv6 within each kind), without
/// IPv6 link-local ones (which a socket address or a URL can only name with a zone). When
/// they cannot be read, the log says why and the loopback addresses stand in.
pub fn interface_addresses() -> Vec<IpAddr> {
    let mut ips: Vec<IpAddr> = match if_addrs::get_if_addrs() {
        Ok(interfaces) => interfaces
            .iter()
            .map(|interface| interface.ip())
            .filter(|ip| !matches!(ip, IpAddr::V6(v6) if v6.is_unicast_link_local()))
            .collect(),
        Err(e) => {
            log::warn!("cannot list the network interfaces' addresses: {e}");
            vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ]
        }
    };
    ips.sort_by_key(|ip| (!ip.is_loopback(), ip.is_ipv6()));
    ips.dedup();
    ips
}

/// A TCP socket listening on `addr` alone (an IPv6 address takes IPv4 clients too, as the
/// system's default says).
pub fn tcp(addr: SocketAddr) -> io::Result<Listener> {
    bind_tcp(addr, false)
}

/// A TCP socket listening on `addr` (with `SO_REUSEADDR`, so that a restart need not wait
/// out the previous run's `TIME_WAIT` connections), for IPv6 only if `v6only`, which other
/// workers' sockets can join ([`Listener::sibling`]).
///
/// The port is first bound by a socket without `SO_REUSEPORT`, and let go: that bind fails
/// if any socket listens on the port, so a second server started on a port in use is told
/// so rather than sharing the port with the first; it also picks the port for port 0.
fn bind_tcp(addr: SocketAddr, v6only: bool) -> io::Result<Listener> {
    let probe = tcp_socket(addr, v6only)?;
    rustix::net::bind(&probe, &addr)?;
    let picked = local_address(&probe)?;
    drop(probe);
    open_tcp(picked, v6only)
}

/// A TCP socket with `SO_REUSEADDR`, for IPv6 only if `v6only`.
fn tcp_socket(addr: SocketAddr, v6only: bool) -> io::Result<OwnedFd> {
    let family = if addr.is_ipv4() {
        AddressFamily::INET
    } else {
        AddressFamily::INET6
    };
    let socket = rustix::net::socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None)?;
    rustix::net::sockopt::set_socket_reuseaddr(&socket, true)?;
    if v6only {
        rustix::net::sockopt::set_ipv6_v6only(&socket, true)?;
    }
    Ok(socket)
}

fn local_address(socket: &OwnedFd) -> io::Result<SocketAddr> {
    SocketAddr::try_from(rustix::net::getsockname(socket)?)
        .map_err(|_| io::Error::other("the socket has no IP address"))
}

/// A TCP socket listening on `addr` with `SO_REUSEPORT`, so that each worker can have one.
fn open_tcp(addr: SocketAddr, v6only: bool) -> io::Result<Listener> {
    let socket = tcp_socket(addr, v6only)?;
    rustix::net::sockopt::set_socket_reuseport(&socket, true)?;
    rustix::net::bind(&socket, &addr)?;
    // TCP_DEFER_ACCEPT (one second, as h2o sets it): the kernel queues a connection for
    // `accept` once its first bytes (a request, a TLS ClientHello, a PROXY header) arrive,
    // not at the end of the handshake. Without it the client's `connect` itself wakes a
    // worker, which takes one or two connections and sleeps again: 0.71 times a connection
    // without it, 0.14 with it (2 workers, wrk -t1 -c50 Connection: close), and the
    // wake-ups cost the client too. On the bench's close-50 row, side by side: 13.9–14.3 µs
    // of CPU per request and 40.4 k requests/s without, 8.1–8.6 µs and 49.9 k with. A client
    // that connects and sends nothing is kept by the kernel (a request socket in the SYN
    // queue, not a descriptor of ours) for about a second, then queued when it answers the
    // retransmitted SYN-ACK: from then on the limits count it and the header timeout runs,
    // as before (tests/tls.rs: an unfinished handshake). A kernel that refuses the option
    // costs the wake-ups, not the listener.
    //
    // TCP_FASTOPEN is left off: it saves a round trip only for clients that send data in
    // their SYN, which wrk, curl by default and the browsers in use do not; and data in a
    // SYN can be replayed (RFC 7413 §6), which a request that writes must not be.
    if let Err(e) = sockopt::defer_accept(&socket, DEFER_ACCEPT_SECONDS) {
        log::warn!("{addr}: cannot set TCP_DEFER_ACCEPT: {e}; every connect wakes a worker");
    }
    // A negative backlog is the system's maximum (net.core.somaxconn, 4096 since Linux 5.4):
    // a burst of clients waits in the kernel rather than being refused, and the workers
    // drain it at their pace.
    rustix::net::listen(&socket, -1)?;
    let local = local_address(&socket)?;
    Ok(Listener {
        socket,
        address: Address::Tcp(local),
        made: Mutex::new(None),
        shareable: true,
    })
}

/// A Unix socket listening at `path`, with file mode `mode`. A socket file already there is
/// replaced if nothing listens on it (a previous run's); anything else there is an error.
fn bind_unix(path: &Path, mode: u32) -> io::Result<Listener> {
    if let Ok(metadata) = fs::symlink_metadata(path) {
        if !metadata.file_type().is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "a file that is not a socket is there",
            ));
        }
        match UnixStream::connect(path) {
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    "another process listens on it",
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => fs::remove_file(path)?,
            Err(e) => return Err(e),
        }
    }
    let listener = UnixListener::bind(path)?;
    let made = Listener {
        socket: OwnedFd::from(listener),
        address: Address::Unix(path.display().to_string()),
        made: Mutex::new(Some(path.to_path_buf())),
        shareable: false,
    };
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(made)
}

/// The sockets systemd passed (sd_listen_fds(3)): when `LISTEN_PID` is this process's id,
/// the `LISTEN_FDS` descriptors from 3 on, each a listening TCP or Unix stream socket.
/// The variables are removed (whoever they were for), so that no child takes them for its
/// own. `None` when systemd passed none.
pub fn from_systemd() -> Result<Option<Vec<Listener>>, String> {
    let pid = std::env::var("LISTEN_PID").ok();
    let ours = pid.and_then(|pid| pid.parse::<u32>().ok()) == Some(std::process::id());
    // Read in every case: this removes the variables. Descriptors not taken stay as they are.
    let mut passed = listenfd::ListenFd::from_env();
    if !ours {
        return Ok(None);
    }
    let mut listeners = Vec::with_capacity(passed.len());
    for index in 0..passed.len() {
        let not_stream = || {
            format!(
                "descriptor {} from systemd is not a listening TCP or Unix stream socket",
                index + 3
            )
        };
        let listener = match passed.take_tcp_listener(index) {
            Ok(Some(listener)) => passed_tcp(listener),
            Ok(None) => return Err(not_stream()),
            Err(_) => match passed.take_unix_listener(index) {
                Ok(Some(listener)) => passed_unix(listener),
                Ok(None) | Err(_) => return Err(not_stream()),
            },
        }
        .map_err(|e| format!("descriptor {} from systemd: {e}", index + 3))?;
        listeners.push(listener);
    }
    Ok((!listeners.is_empty()).then_some(listeners))
}

fn passed_tcp(listener: TcpListener) -> io::Result<Listener> {
    let address = Address::Tcp(listener.local_addr()?);
    Ok(Listener {
        socket: OwnedFd::from(listener),
        address,
        made: Mutex::new(None),
        shareable: false,
    })
}

fn passed_unix(listener: UnixListener) -> io::Result<Listener> {
    let local = listener.local_addr()?;
    let name = match (local.as_pathname(), local.as_abstract_name()) {
        (Some(path), _) => path.display().to_string(),
        (None, Some(name)) => format!("@{}", String::from_utf8_lossy(name)),
        (None, None) => String::new(),
    };
    Ok(Listener {
        socket: OwnedFd::from(listener),
        address: Address::Unix(name),
        made: Mutex::new(None),
        shareable: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_socket_file_is_replaced_and_a_live_one_or_a_file_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        // Closed without its file removed, as a process ended at once leaves it.
        drop(UnixListener::bind(&path).unwrap());
        let live = bind_unix(&path, 0o600).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            bind_unix(&path, 0o600).unwrap_err().kind(),
            io::ErrorKind::AddrInUse
        );
        drop(live);
        assert!(!path.exists(), "the socket file is removed on drop");

        fs::write(&path, "not a socket").unwrap();
        assert_eq!(
            bind_unix(&path, 0o660).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
    }

    #[test]
    fn a_tcp_listener_has_siblings_on_its_port_and_a_second_server_is_refused_it() {
        let listeners = bind(&[Bind::Ip("127.0.0.1".parse().unwrap())], 0, 0o660).unwrap();
        let first = &listeners[0];
        let sibling = first.sibling().unwrap().expect("a TCP socket can have one");
        assert_eq!(sibling.address, first.address);
        let Address::Tcp(addr) = first.address else {
            panic!("not TCP");
        };
        // Another server on the same port is told it is in use, siblings or not.
        let again = bind(&[Bind::Ip(addr.ip())], addr.port(), 0o660).unwrap_err();
        assert!(again.contains("the port is in use"), "{again}");

        let dir = tempfile::tempdir().unwrap();
        let unix = bind_unix(&dir.path().join("s.sock"), 0o600).unwrap();
        assert!(unix.sibling().unwrap().is_none(), "a Unix socket is shared");
    }

    #[test]
    fn ip_listeners_share_the_first_ones_port() {
        let binds = [
            Bind::Ip("127.0.0.1".parse().unwrap()),
            Bind::Ip("127.0.0.2".parse().unwrap()),
        ];
        let listeners = bind(&binds, 0, 0o660).unwrap();
        let ports: Vec<u16> = listeners
            .iter()
            .map(|l| match l.address {
                Address::Tcp(addr) => addr.port(),
                Address::Unix(_) => 0,
            })
            .collect();
        assert_ne!(ports[0], 0);
        assert_eq!(ports[0], ports[1]);
    }
}
