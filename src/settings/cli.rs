//! The command line: where nomserve listens, what it serves, and the bounds it keeps.
//!
//! Parsed with clap's derive API. Every value is checked here, before anything starts, so a
//! bad flag is one clear line on stderr and exit status 2 (clap's usage-error status).

use crate::conn::client::Cidr;
use crate::handlers::files::ErrorPage;
use crate::handlers::files::coding::{ContentCoding, PerCoding};
use crate::http::access_log::{Destination, Format};
use crate::server::listeners::Bind;
use clap::{ArgGroup, Parser};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The longest timeout the flags accept. Deadlines are `Instant::now() + timeout`; a day is
/// far past any useful header or keep-alive timeout and keeps that sum from overflowing.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The group of the flags fixed when the server starts (where and how it listens, its
/// workers, limits and timeouts, TLS, the log): a reload reports a change to one as taking a
/// restart. A flag outside it is applied by a reload.
pub const RESTART: &str = "restart";

/// A strict HTTP/1.1 static file server whose request grammar is written in nom.
#[derive(Debug, Clone, Parser)]
#[command(version, about, group(ArgGroup::new(RESTART).multiple(true)))]
pub struct Args {
    /// Address to listen on: an IPv4 or IPv6 literal such as 127.0.0.1, 0.0.0.0 or ::1, or a
    /// host name such as localhost (each of its addresses, resolved at start), on --port; or
    /// unix:PATH for a Unix socket. Repeatable. Ignored when systemd passes the listening
    /// sockets (socket activation).
    #[arg(
        short,
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1",
        value_parser = parse_bind,
        group = RESTART
    )]
    pub bind: Vec<Bind>,

    /// TCP port to listen on; 0 picks a free one (the banner says which).
    #[arg(short, long, value_name = "N", default_value_t = 8080, group = RESTART)]
    pub port: u16,

    /// The file mode of a --bind unix:PATH socket, in octal. Connecting takes write
    /// permission: 660 lets the owner and the socket's group (a front end's) connect, 666
    /// every local user.
    #[arg(
        long,
        value_name = "MODE",
        default_value = "660",
        value_parser = parse_mode,
        group = RESTART
    )]
    pub unix_socket_mode: u32,

    /// After SIGINT or SIGTERM, how long responses in flight may take to finish before the
    /// process exits anyway. Examples: 30s, 2min.
    #[arg(
        long,
        value_name = "DUR",
        default_value = "30s",
        value_parser = parse_timeout,
        group = RESTART
    )]
    pub shutdown_timeout: Duration,

    /// The document root: the directory whose files are served.
    #[arg(long, value_name = "DIR", default_value = "www")]
    pub root: PathBuf,

    /// The folder to serve, the same as --root DIR (and ahead of NOMSERVE_ROOT or a config
    /// file's root).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Quiet: no banner, and only warnings and errors in the log (the access log on stderr
    /// with them). Overrides RUST_LOG.
    #[arg(short, long, conflicts_with = "verbose", group = RESTART)]
    pub quiet: bool,

    /// Verbose: the log at debug level (each request head and each connection's life).
    /// Overrides RUST_LOG.
    #[arg(short, long, group = RESTART)]
    pub verbose: bool,

    /// Worker threads, each serving its share of the connections [default: one per CPU
    /// core].
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=1024),
        group = RESTART
    )]
    pub threads: Option<u16>,

    /// Most connections open at once; past it an idle connection of the address holding the
    /// most is closed to make room, or, if none is idle, the new connection gets 503 and is
    /// closed. From half of it on, each client address is held to its fair share
    /// (this number divided by the addresses holding connections, at least 8): past it, the
    /// address's own idle connections make room for its new ones, and with none idle it gets
    /// 503.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1024,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        group = RESTART
    )]
    pub max_connections: u32,

    /// Most connections open at once from one client address, however much room the server
    /// has; past it 503 and close. Unset by default: only the fair share of
    /// --max-connections applies.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        group = RESTART
    )]
    pub max_connections_per_ip: Option<u32>,

    /// IPv6 clients are counted as one address per network of this prefix length, for the
    /// fair share and --max-connections-per-ip: a host is usually given a whole /64.
    #[arg(
        long,
        value_name = "LEN",
        default_value_t = 64,
        value_parser = clap::value_parser!(u8).range(0..=128),
        group = RESTART
    )]
    pub ipv6_prefix: u8,

    /// Time a client has from the first byte of a request to the end of its head (then 408),
    /// and to send a request body. Examples: 10s, 500ms.
    #[arg(
        long,
        value_name = "DUR",
        default_value = "10s",
        value_parser = parse_timeout,
        group = RESTART
    )]
    pub header_timeout: Duration,

    /// How long an idle keep-alive connection is kept open. Examples: 5s, 1min.
    #[arg(
        long,
        value_name = "DUR",
        default_value = "5s",
        value_parser = parse_timeout,
        group = RESTART
    )]
    pub keep_alive_timeout: Duration,

    /// How long a response may wait for a client that takes none of it; then the
    /// connection is closed. Also the window over which --min-send-rate is measured.
    /// Examples: 10s, 30s.
    #[arg(
        long,
        value_name = "DUR",
        default_value = "10s",
        value_parser = parse_timeout,
        group = RESTART
    )]
    pub send_timeout: Duration,

    /// The slowest a client may read a response, on average over each --send-timeout
    /// window, before it is disconnected; 0 for no minimum. Examples: 1KiB/s, 512B/s.
    #[arg(
        long,
        value_name = "RATE",
        default_value = "1KiB/s",
        value_parser = parse_rate,
        group = RESTART
    )]
    pub min_send_rate: u64,

    /// Most files kept open in the open-file cache (with their metadata and, when small,
    /// their bytes); 0 turns the cache off.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub file_cache_entries: usize,

    /// Files up to this size are kept in memory by the open-file cache. Examples: 64KiB, 1MiB.
    #[arg(long, value_name = "SIZE", default_value = "64KiB", value_parser = parse_size)]
    pub file_cache_max_file: u64,

    /// Most bytes of file contents the open-file cache keeps in memory. Examples: 64MiB.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub file_cache_size: u64,

    /// Serve dotfiles and dot-directories (hidden by default).
    #[arg(long)]
    pub dotfiles: bool,

    /// List the contents of directories that have no index.html.
    #[arg(long)]
    pub list_dirs: bool,

    /// The Cache-Control value sent with files.
    #[arg(long, value_name = "VALUE", default_value = "no-cache", value_parser = parse_field_value)]
    pub cache_control: String,

    /// The content codings made on the fly for text files (HTML, CSS, JavaScript, JSON, SVG,
    /// ...) of 1 KiB or more: a comma-separated list of br, zstd and gzip, or `none`. Each
    /// file version is compressed at a fast level for its first response, then at the best
    /// level in the background, and kept (see --compress-cache).
    #[arg(long, value_name = "LIST", default_value = "br,zstd,gzip", value_parser = parse_codings)]
    pub compress: Codings,

    /// Most bytes of compressed variants kept in memory; the least recently used go first.
    /// Examples: 64MiB, 256MiB.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub compress_cache: u64,

    /// Require a PROXY protocol header (HAProxy's, version 1 or 2) at the start of every
    /// connection, and take the client's address from it; a connection without a valid one
    /// is closed. For a load balancer that sends one (HAProxy's send-proxy, AWS NLB, ...).
    #[arg(long, group = RESTART)]
    pub proxy_protocol: bool,

    /// A proxy or load balancer (an address or a range such as 10.0.0.0/8) whose Forwarded or
    /// X-Forwarded-For fields name the client, and which is exempt from the fair share and
    /// --max-connections-per-ip. Repeatable, or comma-separated.
    #[arg(long, value_name = "CIDR", value_delimiter = ',', group = RESTART)]
    pub trusted_proxy: Vec<Cidr>,

    /// Serve HTTPS with this certificate: a PEM file, the server's certificate first, then
    /// any intermediates. Needs --tls-key. Reloaded on SIGHUP.
    #[arg(long, value_name = "FILE", requires = "tls_key", group = RESTART)]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert: a PEM file (PKCS#8, PKCS#1 or SEC1). Reloaded on
    /// SIGHUP.
    #[arg(long, value_name = "FILE", requires = "tls_cert", group = RESTART)]
    pub tls_key: Option<PathBuf>,

    /// With HTTPS, also listen for plain HTTP on this port (on each IP address of --bind) and
    /// answer every request there with a 308 redirect to the same path and query over HTTPS.
    #[arg(long, value_name = "PORT", requires = "tls_cert", group = RESTART)]
    pub redirect_http: Option<u16>,

    /// With HTTPS, send Strict-Transport-Security with this max-age on every response, so
    /// that browsers use HTTPS only for the host from then on. Off by default. Examples:
    /// 1y, 180d.
    #[arg(
        long,
        value_name = "DUR",
        requires = "tls_cert",
        value_parser = humantime::parse_duration
    )]
    pub hsts: Option<Duration>,

    /// For a GET or HEAD whose path names no file, from a client that prefers HTML (a
    /// browser navigating), serve this file (relative to the root) with 200: the fallback of
    /// a single-page app with client-side routes. Other requests still get 404.
    #[arg(long, value_name = "FILE", value_parser = parse_site_file)]
    pub fallback: Option<PathBuf>,

    /// The body of error status CODE comes from FILE (relative to the root); the status
    /// stays CODE, the type comes from the file's name. Repeatable, or comma-separated.
    /// Example: 404=404.html.
    #[arg(long, value_name = "CODE=FILE", value_delimiter = ',', value_parser = parse_error_page)]
    pub error_page: Vec<ErrorPage>,

    /// The names tried, in order, for a directory's index. Repeatable, or comma-separated.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "index.html",
        value_delimiter = ',',
        value_parser = parse_index_name
    )]
    pub index: Vec<String>,

    /// A path that names no file is served by the same path with `.html` added, if that
    /// is a file: /about serves about.html.
    #[arg(long)]
    pub clean_urls: bool,

    /// A field added to every file response, such as "X-Frame-Options: DENY". Repeatable.
    /// Per-path fields go in the config file's [[rules]].
    #[arg(long = "header", value_name = "NAME: VALUE", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,

    /// Allow cross-origin requests from ORIGIN (such as https://example.com), or from any
    /// origin with `*`: matching requests get Access-Control-Allow-Origin, and preflight
    /// OPTIONS requests get 204. Repeatable, or comma-separated.
    #[arg(long, value_name = "ORIGIN", value_delimiter = ',', value_parser = parse_origin)]
    pub cors: Vec<String>,

    /// Require HTTP Basic authentication for the whole site, checked against this htpasswd
    /// file (bcrypt entries only, as `htpasswd -B` writes them). Per-path areas go in the
    /// config file's [[auth]].
    #[arg(long, value_name = "FILE")]
    pub auth_file: Option<PathBuf>,

    /// Turn off /echo, which answers with the request it received (method, target, fields
    /// and the query's names and values) as text; a file named `echo` is then served.
    #[arg(long)]
    pub no_echo: bool,

    /// Read settings from this TOML file: every long flag is also a key (`-` written `_`,
    /// repeatable flags as arrays), plus [[rules]], [[redirects]] and [[auth]] tables. The
    /// command line, then NOMSERVE_* environment variables, take precedence over it.
    /// Re-read on SIGHUP.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Check the settings (command line, environment and --config file), report what is
    /// wrong, and exit: 0 when they are valid, 2 when not.
    #[arg(long)]
    pub check_config: bool,

    /// Where the access log goes: a file (appended to, reopened on SIGUSR1), `-` for
    /// standard output, or `off` [default: the process's log on stderr, log target
    /// `access`, which RUST_LOG can silence]. To a file or standard output, lines pass
    /// through a bounded buffer: when the disk cannot keep up, lines are dropped and
    /// counted rather than holding requests up.
    #[arg(long, value_name = "PATH", value_parser = parse_access_log, group = RESTART)]
    pub access_log: Option<Destination>,

    /// The access log's format: `combined` (Apache's Combined Log Format) or `json` (one
    /// object per line: time, client, method, target, protocol, request, status, bytes,
    /// duration_us, referer, user_agent).
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "combined",
        value_parser = parse_log_format,
        group = RESTART
    )]
    pub log_format: Format,

    /// Serve Prometheus metrics at /metrics and a health check at /health (200 while
    /// serving, 503 once shutting down) on this address, such as 127.0.0.1:9090; nothing
    /// there is access-logged.
    #[arg(long, value_name = "ADDR:PORT", group = RESTART)]
    pub metrics: Option<SocketAddr>,
}

/// `--compress`: which of br, zstd and gzip are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Codings(pub PerCoding<bool>);

impl Codings {
    /// The names of the codings chosen, in the order of [`ContentCoding::ALL`].
    pub fn names(&self) -> Vec<&'static str> {
        self.0.chosen().map(ContentCoding::name).collect()
    }
}

impl Args {
    /// The worker count: `--threads`, or one per available core. No worker ever waits on a
    /// client, so more workers than cores would only take turns on them.
    pub fn worker_threads(&self) -> usize {
        match self.threads {
            Some(n) => usize::from(n),
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Parses a humantime duration (`10s`, `500ms`, `1min`) that is neither zero nor longer than
/// [`MAX_TIMEOUT`].
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        Err("a timeout must be longer than zero".to_string())
    } else if duration > MAX_TIMEOUT {
        Err(format!(
            "a timeout may be at most {}",
            humantime::format_duration(MAX_TIMEOUT)
        ))
    } else {
        Ok(duration)
    }
}

/// Parses `unix:PATH` (a non-empty path) or an IP address literal.
fn parse_bind(text: &str) -> Result<Bind, String> {
    if let Some(path) = text.strip_prefix("unix:") {
        if path.is_empty() {
            return Err("unix: needs a path, such as unix:/run/nomserve.sock".to_string());
        }
        return Ok(Bind::Unix(PathBuf::from(path)));
    }
    if let Ok(ip) = text.parse() {
        return Ok(Bind::Ip(ip));
    }
    let bad = || {
        format!(
            "{text:?} is not an IP address (such as 127.0.0.1 or ::1), a host name or unix:PATH"
        )
    };
    let host_name = text.split('.').all(|label| {
        !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !host_name {
        return Err(bad());
    }
    let mut addresses: Vec<IpAddr> = Vec::new();
    let resolved = std::net::ToSocketAddrs::to_socket_addrs(&(text, 0))
        .map_err(|e| format!("{text:?} cannot be resolved: {e}"))?;
    for address in resolved {
        if !addresses.contains(&address.ip()) {
            addresses.push(address.ip());
        }
    }
    if addresses.is_empty() {
        return Err(format!("{text:?} resolves to no address"));
    }
    Ok(Bind::Host(text.to_string(), addresses))
}

/// Parses a file mode in octal, such as 660, at most 777.
fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|mode| *mode <= 0o777)
        .ok_or_else(|| format!("{text:?} is not a file mode in octal, such as 660"))
}

/// Parses a rate in bytes a second: a size (see [`parse_size`]) and `/s`, such as `1KiB/s`
/// or `512B/s`; or `0` (no minimum).
fn parse_rate(text: &str) -> Result<u64, String> {
    if text == "0" {
        return Ok(0);
    }
    let bad = || format!("{text:?} is not a rate such as 1KiB/s, 512B/s or 0");
    let amount = text.strip_suffix("/s").ok_or_else(bad)?;
    parse_size(amount).map_err(|_| bad())
}

/// Parses a size in bytes: a count and an optional unit (`B`, `KB` = 1000 B, `KiB` =
/// 1024 B, `MB`, `MiB`, `GB`, `GiB`), such as `64KiB` or `512`.
fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a size such as 64KiB, 1MiB or 512");
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().map_err(|_| bad())?;
    let scale: u64 = match unit {
        "" | "B" => 1,
        "KB" => 1000,
        "KiB" => 1 << 10,
        "MB" => 1000 * 1000,
        "MiB" => 1 << 20,
        "GB" => 1000 * 1000 * 1000,
        "GiB" => 1 << 30,
        _ => return Err(bad()),
    };
    number.checked_mul(scale).ok_or_else(bad)
}

/// Accepts `text` only if it can be sent as a field value: `field-value = *field-content`,
/// VCHAR, SP and HTAB (RFC 9110 §5.5), without leading or trailing whitespace. A configured
/// value holding CR or LF would otherwise split the response.
fn parse_field_value(text: &str) -> Result<String, String> {
    let valid = text
        .bytes()
        .all(|b| b == b'\t' || b == b' ' || b.is_ascii_graphic());
    if !valid {
        Err("a field value holds only visible ASCII, spaces and tabs (RFC 9110 §5.5)".to_string())
    } else if text.trim() != text {
        Err("a field value has no leading or trailing whitespace (RFC 9110 §5.5)".to_string())
    } else {
        Ok(text.to_string())
    }
}

/// Parses `none` or a comma-separated list of `br`, `zstd` and `gzip`.
fn parse_codings(text: &str) -> Result<Codings, String> {
    let mut chosen = PerCoding::default();
    if text == "none" {
        return Ok(Codings(chosen));
    }
    for name in text.split(',') {
        let coding = ContentCoding::named(name.trim())
            .ok_or_else(|| format!("{name:?} is not br, zstd or gzip (or the list `none`)"))?;
        chosen[coding] = true;
    }
    Ok(Codings(chosen))
}

/// Accepts a path relative to the root that stays beneath it: not absolute, no `..`, not
/// empty.
fn parse_site_file(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text.trim_start_matches('/'));
    let beneath = path
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if text.is_empty() || !beneath {
        return Err(format!(
            "{text:?} is not a file beneath the root (a relative path without `..`)"
        ));
    }
    Ok(path)
}

/// Parses `CODE=FILE`: an error status (400 to 599) and a file beneath the root.
fn parse_error_page(text: &str) -> Result<ErrorPage, String> {
    let (code, file) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not CODE=FILE, such as 404=404.html"))?;
    let status: u16 = code
        .parse()
        .ok()
        .filter(|status| (400..=599).contains(status))
        .ok_or_else(|| format!("{code:?} is not an error status (400 to 599)"))?;
    Ok(ErrorPage {
        status,
        file: parse_site_file(file)?,
    })
}

/// Accepts an index name: a file name, without `/`, not `.` or `..`.
fn parse_index_name(text: &str) -> Result<String, String> {
    if text.is_empty() || text.contains('/') || text == "." || text == ".." {
        Err(format!("{text:?} is not a file name"))
    } else {
        Ok(text.to_string())
    }
}

/// Parses `Name: value` into the name and the value: a token name (RFC 9110 §5.1, §5.6.2)
/// and a field value (see [`parse_field_value`]), with optional whitespace after the colon.
/// Fields the server sets itself, and framing fields, are refused: a configured one would
/// contradict the response.
pub(crate) fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not a field such as \"X-Frame-Options: DENY\""))?;
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(tchar) {
        return Err(format!(
            "{name:?} is not a field name (a token: letters, digits and !#$%&'*+-.^_`|~, RFC 9110 §5.1)"
        ));
    }
    const RESERVED: [&str; 6] = [
        "content-length",
        "transfer-encoding",
        "connection",
        "date",
        "server",
        "content-range",
    ];
    if RESERVED.iter().any(|r| name.eq_ignore_ascii_case(r)) {
        return Err(format!(
            "{name} is set by the server and cannot be configured"
        ));
    }
    Ok((
        name.to_string(),
        parse_field_value(value.trim_matches([' ', '\t']))?,
    ))
}

/// Accepts `*` or a serialised origin (RFC 6454 §6.2): `scheme://host[:port]`, without a
/// path; compared with a request's `Origin` as written.
fn parse_origin(text: &str) -> Result<String, String> {
    if text == "*" {
        return Ok(text.to_string());
    }
    let bad = || format!("{text:?} is not an origin such as https://example.com, or *");
    let (scheme, rest) = text.split_once("://").ok_or_else(bad)?;
    let scheme_ok = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let host_ok =
        !rest.is_empty() && !rest.contains('/') && rest.bytes().all(|b| b.is_ascii_graphic());
    if scheme_ok && host_ok {
        Ok(text.to_string())
    } else {
        Err(bad())
    }
}

/// Parses `--access-log`: `off`, `-` (standard output) or a file's path.
fn parse_access_log(text: &str) -> Result<Destination, String> {
    match text {
        "" => Err("the access log is a file's path, `-` or `off`".to_string()),
        "off" => Ok(Destination::Off),
        "-" => Ok(Destination::Stdout),
        path => Ok(Destination::File(PathBuf::from(path))),
    }
}

/// Parses `--log-format`: `combined` or `json`.
fn parse_log_format(text: &str) -> Result<Format, String> {
    match text {
        "combined" => Ok(Format::Combined),
        "json" => Ok(Format::Json),
        _ => Err(format!("{text:?} is not combined or json")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn defaults() {
        let args = Args::try_parse_from(["nomserve"]).unwrap();
        assert_eq!(args.bind, [Bind::Ip(IpAddr::from([127, 0, 0, 1]))]);
        assert_eq!(args.port, 8080);
        assert_eq!(args.unix_socket_mode, 0o660);
        assert_eq!(args.shutdown_timeout, Duration::from_secs(30));
        assert_eq!(args.root, PathBuf::from("www"));
        assert_eq!(args.max_connections, 1024);
        assert_eq!(args.max_connections_per_ip, None);
        assert_eq!(args.ipv6_prefix, 64);
        assert_eq!(args.send_timeout, Duration::from_secs(10));
        assert_eq!(args.min_send_rate, 1024);
        assert_eq!(args.header_timeout, Duration::from_secs(10));
        assert_eq!(args.keep_alive_timeout, Duration::from_secs(5));
        assert_eq!(args.cache_control, "no-cache");
        assert!(!args.dotfiles && !args.list_dirs);
        assert!(args.tls_cert.is_none() && args.redirect_http.is_none() && args.hsts.is_none());
        assert_eq!(args.index, ["index.html"]);
        assert!(args.fallback.is_none() && args.error_page.is_empty() && args.headers.is_empty());
        assert!(args.cors.is_empty() && !args.clean_urls && !args.no_echo);
        assert_eq!(args.compress.names(), ["br", "zstd", "gzip"]);
        assert_eq!(args.compress_cache, 64 << 20);
        assert_eq!(parse_codings("none"), Ok(Codings(PerCoding::default())));
        assert_eq!(parse_codings("gzip").unwrap().names(), ["gzip"]);
        assert!(parse_codings("deflate").is_err());
        assert!(args.worker_threads() >= 1);
        assert_eq!(args.access_log, None);
        assert_eq!(args.log_format, Format::Combined);
        assert_eq!(args.metrics, None);
    }

    #[test]
    fn observing_flags() {
        let args = Args::try_parse_from([
            "nomserve",
            "--access-log",
            "/var/log/nomserve/access.log",
            "--log-format",
            "json",
            "--metrics",
            "[::1]:9090",
        ])
        .unwrap();
        assert_eq!(
            args.access_log,
            Some(Destination::File(PathBuf::from(
                "/var/log/nomserve/access.log"
            )))
        );
        assert_eq!(args.log_format, Format::Json);
        assert_eq!(args.metrics, Some("[::1]:9090".parse().unwrap()));
        assert_eq!(parse_access_log("-"), Ok(Destination::Stdout));
        assert_eq!(parse_access_log("off"), Ok(Destination::Off));
        for bad in [
            &["--access-log", ""][..],
            &["--log-format", "common"],
            &["--metrics", "9090"],
            &["--metrics", "localhost:9090"],
        ] {
            let argv = std::iter::once("nomserve").chain(bad.iter().copied());
            assert!(Args::try_parse_from(argv).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn site_flags() {
        let args = Args::try_parse_from([
            "nomserve",
            "--fallback",
            "/app/index.html",
            "--error-page",
            "404=errors/404.html",
            "--index",
            "index.htm",
            "--index",
            "default.html",
            "--header",
            "X-Frame-Options:DENY",
            "--header",
            "Permissions-Policy: camera=(), microphone=()",
            "--cors",
            "*",
            "--cors",
            "http://localhost:3000",
        ])
        .unwrap();
        assert_eq!(args.fallback, Some(PathBuf::from("app/index.html")));
        assert_eq!(
            args.error_page,
            [ErrorPage {
                status: 404,
                file: PathBuf::from("errors/404.html")
            }]
        );
        assert_eq!(args.index, ["index.htm", "default.html"]);
        assert_eq!(args.headers[0].1, "DENY");
        assert_eq!(args.headers[1].0, "Permissions-Policy");
        assert_eq!(args.headers[1].1, "camera=(), microphone=()");
        assert_eq!(args.cors, ["*", "http://localhost:3000"]);
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("0"), Ok(0));
        assert_eq!(parse_rate("512B/s"), Ok(512));
        assert_eq!(parse_rate("512/s"), Ok(512));
        assert_eq!(parse_rate("4KiB/s"), Ok(4096));
        assert_eq!(parse_rate("4KB/s"), Ok(4000));
        assert_eq!(parse_rate("2MiB/s"), Ok(2 * 1024 * 1024));
        assert!(parse_rate("99999999999999999999MiB/s").is_err());
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("64 KiB").is_err());
    }

    #[test]
    fn durations_addresses_and_bounds() {
        let args = Args::try_parse_from([
            "nomserve",
            "--bind",
            "::1",
            "--bind",
            "unix:/run/nomserve.sock",
            "--unix-socket-mode",
            "666",
            "--shutdown-timeout",
            "2s",
            "--header-timeout",
            "500ms",
            "--keep-alive-timeout",
            "1min",
            "--threads",
            "3",
        ])
        .unwrap();
        assert_eq!(
            args.bind,
            [
                Bind::Ip("::1".parse().unwrap()),
                Bind::Unix(PathBuf::from("/run/nomserve.sock"))
            ]
        );
        assert_eq!(args.unix_socket_mode, 0o666);
        assert_eq!(args.shutdown_timeout, Duration::from_secs(2));
        assert_eq!(args.header_timeout, Duration::from_millis(500));
        assert_eq!(args.keep_alive_timeout, Duration::from_secs(60));
        assert_eq!(args.worker_threads(), 3);

        for bad in [
            &["--header-timeout", "0s"][..],
            &["--header-timeout", "2days"],
            &["--keep-alive-timeout", "soon"],
            &["--threads", "0"],
            &["--max-connections", "0"],
            &["--max-connections-per-ip", "0"],
            &["--ipv6-prefix", "129"],
            &["--ipv6-prefix", "-1"],
            &["--send-timeout", "0s"],
            &["--min-send-rate", "1KiB"],
            &["--min-send-rate", "fast/s"],
            &["--min-send-rate", "1TiB/s"],
            &["--file-cache-max-file", "big"],
            &["--bind", "local host"],
            &["--bind", "a..b"],
            &["--bind", "unix:"],
            &["--bind", "unix:"],
            &["--unix-socket-mode", "1777"],
            &["--unix-socket-mode", "rw"],
            &["--shutdown-timeout", "0s"],
            &["--cache-control", "no-cache\r\nX-Evil: 1"],
            &["--cache-control", " no-cache"],
            &["--tls-cert", "cert.pem"],
            &["--tls-key", "key.pem"],
            &["--redirect-http", "80"],
            &["--hsts", "1y"],
            &["--tls-cert", "c", "--tls-key", "k", "--hsts", "soon"],
            &["--fallback", "../secret.html"],
            &["--error-page", "200=ok.html"],
            &["--error-page", "404"],
            &["--index", "a/b.html"],
            &["--header", "X-Bad\r\nInjected: 1"],
            &["--header", "X-Value: a\rb"],
            &["--header", "Content-Length: 5"],
            &["--header", "NoColon"],
            &["--cors", "example.com"],
            &["--cors", "https://example.com/path"],
        ] {
            let argv = std::iter::once("nomserve").chain(bad.iter().copied());
            assert!(Args::try_parse_from(argv).is_err(), "{bad:?} accepted");
        }
    }
}
