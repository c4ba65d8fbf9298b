//! The start-up banner: one block on stderr that tells a person where to open the site, what
//! is switched on, and how to stop. Its first line is the one scripts read the port from:
//! `Server is listening on port N...`.
//!
//! A server bound to a wildcard address (`0.0.0.0`, `::`) is reachable at each of the
//! machine's addresses, so the banner lists those (from `getifaddrs`), loopback first; it
//! leaves out IPv6 link-local addresses, which a URL can only name with a zone.

mod qr;

use crate::http::access_log::Destination;
use crate::server::listeners::{Address, interface_addresses};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// One listening socket, as the banner shows it.
pub struct Listening {
    /// Where it listens.
    pub address: Address,
    /// Whether it is an IPv6 socket that takes IPv4 clients too.
    pub takes_ipv4: bool,
}

/// What the banner reports.
pub struct Banner<'a> {
    /// The document root.
    pub root: &'a Path,
    /// The listening sockets, in the order they were bound.
    pub listening: &'a [Listening],
    /// Whether systemd passed the sockets (socket activation).
    pub activated: bool,
    /// Whether the server speaks TLS on them.
    pub tls: bool,
    /// With ACME, where its certificate stands (served, or being ordered).
    pub acme: Option<String>,
    /// Whether directory listings are on (`--list-dirs`).
    pub list_dirs: bool,
    /// Whether `/echo` is on (no `--no-echo`).
    pub echo: bool,
    /// The codings made on the fly (`--compress`), none when off.
    pub compress: Vec<&'static str>,
    /// Where `/metrics` and `/health` are served, if they are.
    pub metrics: Option<SocketAddr>,
    /// Where plain HTTP is redirected to HTTPS (`--redirect-http`).
    pub redirect: &'a [SocketAddr],
    /// The config file the settings were read from (`--config`), if any.
    pub config: Option<PathBuf>,
    /// How many parts of the site need a password: the `[[auth]]` areas, and the whole
    /// site's when `auth_file` is given.
    pub auth_areas: usize,
    /// The htpasswd file of the whole site (`--auth-file`), if any.
    pub auth_file: Option<PathBuf>,
    /// Where the access log goes (`--access-log`); `None` for the default, the log on stderr.
    pub access_log: Option<Destination>,
    /// Whether to draw a QR code of the first URL another machine can reach (`--qr`).
    pub qr: bool,
    /// The upload folders (`--upload`, `[[upload]]`), none when uploads are off.
    pub uploads: Vec<String>,
    /// Whether anyone may upload, without authentication (`--upload-anonymous`).
    pub upload_anonymous: bool,
}

/// The escape sequences of the banner's few styles (SGR, ECMA-48 §8.3.117), or nothing at
/// all when colour is off.
struct Styles {
    bold: &'static str,
    url: &'static str,
    on: &'static str,
    off: &'static str,
    warn: &'static str,
    reset: &'static str,
}

impl Styles {
    fn new(colour: bool) -> Styles {
        match colour {
            true => Styles {
                bold: "\x1b[1m",
                url: "\x1b[1;36m",
                on: "\x1b[32m",
                off: "\x1b[2m",
                warn: "\x1b[1;33m",
                reset: "\x1b[0m",
            },
            false => Styles {
                bold: "",
                url: "",
                on: "",
                off: "",
                warn: "",
                reset: "",
            },
        }
    }
}

impl Banner<'_> {
    /// Writes the banner to stderr in one write, in colour when stderr is a terminal and
    /// `NO_COLOR` is unset or empty (<https://no-color.org>) and `TERM` is not `dumb`.
    pub fn print(&self) {
        let stderr = std::io::stderr();
        let colour = stderr.is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
            && std::env::var_os("TERM").is_none_or(|term| term != "dumb");
        let interfaces = if self.has_wildcard() {
            interface_addresses()
        } else {
            Vec::new()
        };
        let text = self.render(&interfaces, colour);
        let _ = stderr.lock().write_all(text.as_bytes());
    }

    /// Whether a TCP socket listens on a wildcard address.
    fn has_wildcard(&self) -> bool {
        self.listening
            .iter()
            .any(|l| matches!(&l.address, Address::Tcp(addr) if addr.ip().is_unspecified()))
    }

    /// The banner's text, a wildcard address standing for each of `interfaces`.
    fn render(&self, interfaces: &[IpAddr], colour: bool) -> String {
        let s = Styles::new(colour);
        let mut text = String::new();
        let first_tcp = self.listening.iter().find_map(|l| l.address.tcp());
        match (first_tcp.map(|addr| addr.port()), self.listening.first()) {
            (Some(port), _) => _ = writeln!(text, "Server is listening on port {port}..."),
            (None, Some(l)) => _ = writeln!(text, "Server is listening on {}...", l.address),
            (None, None) => {}
        }
        let version = env!("CARGO_PKG_VERSION");
        let _ = writeln!(
            text,
            "  {}nomserve {version}{} serving {}",
            s.bold,
            s.reset,
            self.root.display()
        );
        if self.activated {
            let _ = writeln!(
                text,
                "  on the sockets systemd passed (--bind and --port are not used)"
            );
        }
        let addresses = self.addresses(interfaces);
        for (url, _) in &addresses {
            let _ = writeln!(text, "  {}{url}{}", s.url, s.reset);
        }
        if self.qr {
            match qr::phone_url(&addresses).and_then(|url| qr::render(url, colour)) {
                Some(code) => text.push_str(&code),
                None => {
                    _ = writeln!(
                        text,
                        "  no QR code: no address here is reachable from another machine \
                     (bind one, such as -b 0.0.0.0)"
                    )
                }
            }
        }
        let switch = |on: bool, detail: &str| match on {
            true => format!("{}on{}{detail}", s.on, s.reset),
            false => format!("{}off{}{detail}", s.off, s.reset),
        };
        let listings = match self.list_dirs {
            true => switch(true, ""),
            false => switch(false, " (--list-dirs)"),
        };
        let echo = match self.echo {
            true => switch(true, " at /echo"),
            false => switch(false, ""),
        };
        let https = match (self.tls, &self.acme) {
            (true, Some(acme)) => switch(true, &format!(": {acme}")),
            (true, None) => switch(true, ""),
            (false, _) => switch(false, " (--tls-cert, --tls-key)"),
        };
        let compression = match self.compress.is_empty() {
            true => switch(false, ""),
            false => switch(true, &format!(" ({})", self.compress.join(", "))),
        };
        let auth = match (self.auth_areas, &self.auth_file) {
            (0, _) => switch(false, " (--auth-file)"),
            (areas, file) => {
                let plural = if areas == 1 { "" } else { "s" };
                let file = file.as_ref().map_or_else(String::new, |file| {
                    format!(
                        ", --auth-file {} for the whole site",
                        absolute(file).display()
                    )
                });
                switch(true, &format!(" ({areas} area{plural}{file})"))
            }
        };
        let access_log = match &self.access_log {
            None | Some(Destination::Logger) => "on stderr, with the log".to_string(),
            Some(Destination::Stdout) => "on stdout".to_string(),
            Some(Destination::File(path)) => format!("to {}", absolute(path).display()),
            Some(Destination::Off) => switch(false, ""),
        };
        if let Some(config) = &self.config {
            let _ = writeln!(text, "  settings from {}", absolute(config).display());
        }
        let _ = writeln!(text, "  listings {listings}, echo {echo}");
        let _ = writeln!(text, "  HTTPS {https}, compression {compression}");
        let _ = writeln!(text, "  auth {auth}, access log {access_log}");
        if let Some(metrics) = self.metrics {
            let _ = writeln!(
                text,
                "  metrics at {}http://{metrics}/metrics{}, health at {}http://{metrics}/health{}",
                s.url, s.reset, s.url, s.reset
            );
        }
        for addr in self.redirect {
            let _ = writeln!(text, "  redirecting http://{addr}/ to HTTPS");
        }
        self.render_uploads(&s, &mut text);
        let _ = writeln!(text, "Press {}Ctrl+C{} to stop.", s.bold, s.reset);
        text
    }

    /// The uploads line, and a warning when anyone may upload and the server is reachable
    /// from another machine (a TCP socket not on a loopback address).
    fn render_uploads(&self, s: &Styles, text: &mut String) {
        if self.uploads.is_empty() {
            return;
        }
        let who = match self.upload_anonymous {
            true => "anyone",
            false => "authenticated users",
        };
        let folders = self.uploads.join(", ");
        let _ = writeln!(
            text,
            "  uploads {}on{} ({folders}, by {who})",
            s.on, s.reset
        );
        let exposed = self
            .listening
            .iter()
            .any(|l| matches!(&l.address, Address::Tcp(addr) if !addr.ip().is_loopback()));
        if self.upload_anonymous && exposed {
            let _ = writeln!(
                text,
                "  {}warning: anyone who can reach this server can upload files into {folders} \
                 (--upload-anonymous){}",
                s.warn, s.reset
            );
        }
    }

    /// Where a person can reach the site: a URL for each TCP socket (for a wildcard address,
    /// one for each of `interfaces` of the families it takes), and for a Unix socket the
    /// `curl` command that reaches it. Without duplicates, in the order of the sockets. Each
    /// with the address it names (`None` for a Unix socket).
    fn addresses(&self, interfaces: &[IpAddr]) -> Vec<(String, Option<IpAddr>)> {
        let scheme = if self.tls { "https" } else { "http" };
        let mut urls: Vec<(String, Option<IpAddr>)> = Vec::new();
        for listening in self.listening {
            let addr = match &listening.address {
                Address::Tcp(addr) => *addr,
                Address::Unix(name) => {
                    let url =
                        format!("unix:{name} (curl --unix-socket {name} {scheme}://localhost/)");
                    urls.push((url, None));
                    continue;
                }
            };
            let ips = match addr.ip() {
                IpAddr::V4(ip) if ip.is_unspecified() => interfaces
                    .iter()
                    .filter(|ip| ip.is_ipv4())
                    .copied()
                    .collect(),
                IpAddr::V6(ip) if ip.is_unspecified() => interfaces
                    .iter()
                    .filter(|ip| ip.is_ipv6() || listening.takes_ipv4)
                    .copied()
                    .collect(),
                ip => vec![ip],
            };
            for ip in ips {
                let url = url(scheme, SocketAddr::new(ip, addr.port()));
                if !urls.iter().any(|(known, _)| *known == url) {
                    urls.push((url, Some(ip)));
                }
            }
        }
        urls
    }
}

/// `path` made absolute against the working directory (so that the banner says where a file
/// is whatever directory the server was started in), as it is when that fails.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// `scheme://ip:port/`, without the port when it is the scheme's default.
fn url(scheme: &str, addr: SocketAddr) -> String {
    let default = matches!((scheme, addr.port()), ("http", 80) | ("https", 443));
    match (addr, default) {
        (SocketAddr::V4(v4), true) => format!("{scheme}://{}/", v4.ip()),
        (SocketAddr::V6(v6), true) => format!("{scheme}://[{}]/", v6.ip()),
        (addr, false) => format!("{scheme}://{addr}/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(addr: &str, takes_ipv4: bool) -> Listening {
        Listening {
            address: Address::Tcp(addr.parse().unwrap()),
            takes_ipv4,
        }
    }

    fn urls(banner: &Banner<'_>, interfaces: &[IpAddr]) -> Vec<String> {
        let addresses = banner.addresses(interfaces);
        addresses.into_iter().map(|(url, _)| url).collect()
    }

    fn banner<'a>(listening: &'a [Listening], root: &'a Path) -> Banner<'a> {
        Banner {
            root,
            listening,
            activated: false,
            tls: false,
            acme: None,
            list_dirs: false,
            echo: true,
            compress: vec!["br", "zstd", "gzip"],
            metrics: None,
            redirect: &[],
            config: None,
            auth_areas: 0,
            auth_file: None,
            access_log: None,
            qr: false,
            uploads: Vec::new(),
            upload_anonymous: false,
        }
    }

    #[test]
    fn anonymous_uploads_on_a_reachable_address_are_warned_of_in_colour() {
        let root = Path::new("/srv/www");
        let exposed = [tcp("0.0.0.0:8080", false)];
        let mut open = banner(&exposed, root);
        open.uploads = vec!["/inbox".to_string()];
        open.upload_anonymous = true;
        let text = open.render(&[], true);
        assert!(
            text.contains("uploads \x1b[32mon\x1b[0m (/inbox, by anyone)"),
            "{text}"
        );
        assert!(
            text.contains("\x1b[1;33mwarning: anyone who can reach this server can upload"),
            "{text}"
        );
        // On loopback only, or with authentication: no warning.
        let local = [tcp("127.0.0.1:8080", false)];
        let mut quiet = banner(&local, root);
        quiet.uploads = vec!["/inbox".to_string()];
        quiet.upload_anonymous = true;
        assert!(!quiet.render(&[], false).contains("warning"));
        open.upload_anonymous = false;
        let text = open.render(&[], false);
        assert!(
            text.contains("uploads on (/inbox, by authenticated users)"),
            "{text}"
        );
        assert!(!text.contains("warning"), "{text}");
    }

    #[test]
    fn a_wildcard_stands_for_each_interface_of_its_families() {
        let interfaces: Vec<IpAddr> = ["127.0.0.1", "::1", "192.168.1.20", "2001:db8::7"]
            .iter()
            .map(|ip| ip.parse().unwrap())
            .collect();
        let root = Path::new("/srv/www");
        let v4 = [tcp("0.0.0.0:8080", false)];
        assert_eq!(
            urls(&banner(&v4, root), &interfaces),
            ["http://127.0.0.1:8080/", "http://192.168.1.20:8080/"]
        );
        let v6_only = [tcp("[::]:8080", false)];
        assert_eq!(
            urls(&banner(&v6_only, root), &interfaces),
            ["http://[::1]:8080/", "http://[2001:db8::7]:8080/"]
        );
        let dual = [tcp("[::]:80", true)];
        assert_eq!(
            urls(&banner(&dual, root), &interfaces),
            [
                "http://127.0.0.1/",
                "http://[::1]/",
                "http://192.168.1.20/",
                "http://[2001:db8::7]/"
            ]
        );
        let both = [tcp("0.0.0.0:8080", false), tcp("127.0.0.1:8080", false)];
        assert_eq!(
            urls(&banner(&both, root), &interfaces[..1]),
            ["http://127.0.0.1:8080/"]
        );
    }

    #[test]
    fn the_block_says_what_is_on_and_how_to_stop() {
        let root = Path::new("/srv/www");
        let listening = [
            tcp("127.0.0.1:8443", false),
            Listening {
                address: Address::Unix("/run/site.sock".to_string()),
                takes_ipv4: false,
            },
        ];
        let mut shown = banner(&listening, root);
        shown.tls = true;
        shown.list_dirs = true;
        shown.echo = false;
        shown.compress = Vec::new();
        shown.metrics = Some("127.0.0.1:9100".parse().unwrap());
        shown.config = Some("/etc/site.toml".into());
        shown.auth_areas = 2;
        shown.access_log = Some(Destination::File("/var/log/site.log".into()));
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            shown.render(&[], false),
            format!(
                "Server is listening on port 8443...\n  nomserve {version} serving /srv/www\n  \
                 https://127.0.0.1:8443/\n  unix:/run/site.sock (curl --unix-socket \
                 /run/site.sock https://localhost/)\n  settings from /etc/site.toml\n  \
                 listings on, echo off\n  HTTPS on, compression off\n  auth on (2 areas), \
                 access log to /var/log/site.log\n  metrics at \
                 http://127.0.0.1:9100/metrics, health at http://127.0.0.1:9100/health\n\
                 Press Ctrl+C to stop.\n"
            )
        );
        let coloured = shown.render(&[], true);
        assert!(coloured.contains("\x1b[1;36mhttps://127.0.0.1:8443/\x1b[0m"));
        assert!(coloured.starts_with("Server is listening on port 8443...\n"));
    }

    #[test]
    fn auth_counts_its_areas_and_names_the_whole_sites_file() {
        let root = Path::new("/srv/www");
        let listening = [tcp("127.0.0.1:8080", false)];
        let auth_line = |areas: usize, file: Option<&str>, access_log: Option<Destination>| {
            let mut shown = banner(&listening, root);
            shown.auth_areas = areas;
            shown.auth_file = file.map(PathBuf::from);
            shown.access_log = access_log;
            let text = shown.render(&[], false);
            let line = text.lines().find(|line| line.starts_with("  auth "));
            line.unwrap_or_default().to_string()
        };
        let users = "/srv/users";
        assert_eq!(
            auth_line(0, None, None),
            "  auth off (--auth-file), access log on stderr, with the log"
        );
        assert_eq!(
            auth_line(1, Some(users), Some(Destination::Stdout)),
            "  auth on (1 area, --auth-file /srv/users for the whole site), access log on stdout"
        );
        assert_eq!(
            auth_line(3, Some(users), Some(Destination::Off)),
            "  auth on (3 areas, --auth-file /srv/users for the whole site), access log off"
        );
        assert_eq!(
            auth_line(1, None, None),
            "  auth on (1 area), access log on stderr, with the log"
        );
    }
}
