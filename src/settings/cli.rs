//! The command line: where nomserve listens, what it serves, and the bounds it keeps.
//!
//! Parsed with clap's derive API. Every value is checked here, before anything starts, so a
//! bad flag is one clear line on stderr and exit status 2 (clap's usage-error status).
//!
//! Each flag's doc comment is its help: the first paragraph is the one line `-h` shows, the
//! whole comment what `--help` shows. `-h` lists the flags a newcomer reaches for; the
//! others carry `hide_short_help` and appear in `--help` only, under the same headings.

use crate::conn::client::Cidr;
use crate::handlers::files::ErrorPage;
use crate::handlers::files::archive::Format as ArchiveFormat;
use crate::handlers::files::coding::{ContentCoding, PerCoding};
use crate::http::access_log::{Destination, Format};
use crate::server::listeners::Bind;
use clap::{ArgGroup, Parser};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
pub(crate) use values::parse_header;
pub(crate) use values::parse_size;
use values::{
    parse_access_log, parse_bind, parse_error_page, parse_field_value, parse_index_name,
    parse_log_format, parse_mode, parse_origin, parse_rate, parse_site_file, parse_timeout,
};

mod acme;
mod values;

pub use acme::{AcmeArgs, Challenge, KeyType};

/// The group of the flags fixed when the server starts (where and how it listens, its
/// workers, limits and timeouts, TLS, the log): a reload reports a change to one as taking a
/// restart. A flag outside it is applied by a reload.
pub const RESTART: &str = "restart";

/// The group of the flags that give HTTPS a certificate: `--tls-cert` or `--acme`, not
/// both.
const HTTPS_SOURCE: &str = "https_source";

/// The help's headings, in the order `--help` shows them (the order of each one's first
/// flag below).
const SERVING: &str = "Serving";
const SITE_RULES: &str = "Site rules";
const HTTPS: &str = "HTTPS";
const LIMITS: &str = "Limits and timeouts";
const LOGGING: &str = "Logging and metrics";
const OPERATIONS: &str = "Operations";

/// What `-h` shows after the flags.
const SHORT_EPILOGUE: &str = "\
Examples: nomserve .    nomserve --list-dirs ~/Downloads
Every flag, more examples and the environment variables: nomserve --help";

/// What `--help` shows after the flags: each line within 80 columns, the last paragraph
/// wrapped to the terminal by clap.
const LONG_EPILOGUE: &str = "\
Examples:
  nomserve .                         Serve this folder on http://127.0.0.1:8080/
  nomserve --list-dirs ~/Downloads   Also list folders that have no index.html
  nomserve -p 0 -b 0.0.0.0 ~/site    Every interface, on a free port
  nomserve --tls-cert cert.pem --tls-key key.pem -p 8443 .
                                     HTTPS on https://127.0.0.1:8443/
  nomserve --config site.toml        Settings from a TOML file
  nomserve --config site.toml --check-config
                                     Check them, and exit

Every long flag is also an environment variable, NOMSERVE_ and the flag's name in upper \
snake case (NOMSERVE_LIST_DIRS=true), and a key of a --config file (`-` written `_`). The \
command line wins over the environment, and the environment over the file.";

/// A strict HTTP/1.1 static file server whose request grammar is written in nom.
#[derive(Debug, Clone, Parser)]
#[command(
    version,
    after_help = SHORT_EPILOGUE,
    after_long_help = LONG_EPILOGUE,
    mut_args = |arg: clap::Arg| arg.hide_env(true),
    group(ArgGroup::new(RESTART).multiple(true)),
    group(ArgGroup::new(HTTPS_SOURCE).args(["tls_cert", "acme"]).multiple(false))
)]
pub struct Args {
    /// The folder to serve (default: www).
    ///
    /// The same as --root DIR, and ahead of NOMSERVE_ROOT or a config file's root.
    #[arg(value_name = "DIR", help_heading = SERVING)]
    pub dir: Option<PathBuf>,

    /// Address to listen on, or unix:PATH.
    ///
    /// Repeatable. An IPv4 or IPv6 literal such as 127.0.0.1, 0.0.0.0 or ::1, or a host name such as
    /// localhost (each of its addresses, resolved at start), on --port; or unix:PATH for a
    /// Unix socket. Ignored when systemd passes the listening sockets (socket activation).
    #[arg(
        short,
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1",
        value_parser = parse_bind,
        group = RESTART,
        help_heading = SERVING
    )]
    pub bind: Vec<Bind>,

    /// TCP port to listen on; 0 picks a free one.
    ///
    /// With 0, the banner's first line says which port the system picked.
    #[arg(
        short,
        long,
        value_name = "N",
        default_value_t = 8080,
        group = RESTART,
        help_heading = SERVING
    )]
    pub port: u16,

    /// The document root: the directory whose files are served.
    ///
    /// The folder argument DIR takes precedence over it.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "www",
        help_heading = SERVING,
        hide_short_help = true
    )]
    pub root: PathBuf,

    /// List the contents of folders that have no index.html.
    ///
    /// Folders first, names in natural order, with sizes and dates; columns sort when
    /// clicked, and a client asking for application/json gets the listing as JSON.
    #[arg(long, help_heading = SERVING)]
    pub list_dirs: bool,

    /// Serve dotfiles and dot-directories (hidden by default).
    ///
    /// /.well-known/ is served either way.
    #[arg(long, help_heading = SERVING)]
    pub dotfiles: bool,

    /// Offer listed folders as archives: tar, tar.gz and/or zip.
    ///
    /// A comma-separated list, or repeat the flag; none by default. A listing links each
    /// format, and GET /folder/?download=zip sends the folder as it is, made while it is
    /// sent: what the listings show (no dotfiles unless --dotfiles, nothing outside the
    /// root, nothing in an auth area the client has not passed). Only with --list-dirs.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        value_parser = parse_archive_format,
        help_heading = SERVING,
        hide_short_help = true
    )]
    pub archives: Vec<ArchiveFormat>,

    /// Show a listed folder's README.md below its listing.
    ///
    /// Rendered from CommonMark; HTML in it is shown as text. Only with --list-dirs.
    #[arg(long, help_heading = SERVING, hide_short_help = true)]
    pub readme: bool,

    /// Print a QR code of the first address other than loopback in the banner.
    ///
    /// So that a phone on the same network can open the site: bind an address it can
    /// reach, such as -b 0.0.0.0.
    #[arg(long, group = RESTART, help_heading = SERVING, hide_short_help = true)]
    pub qr: bool,

    /// The names tried, in order, for a directory's index.
    ///
    /// Repeatable, or comma-separated.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "index.html",
        value_delimiter = ',',
        value_parser = parse_index_name,
        help_heading = SERVING,
        hide_short_help = true
    )]
    pub index: Vec<String>,

    /// Turn off /echo, which answers with the request it received.
    ///
    /// /echo shows the method, target, fields and the query's names and values as text.
    /// With it off, a file named `echo` is served.
    #[arg(long, help_heading = SERVING, hide_short_help = true)]
    pub no_echo: bool,

    /// The Cache-Control value sent with files.
    ///
    /// Empty ("") for none. Per-path values go in the config file's [[rules]].
    #[arg(
        long,
        value_name = "VALUE",
        default_value = "no-cache",
        value_parser = parse_field_value,
        help_heading = SITE_RULES,
        hide_short_help = true
    )]
    pub cache_control: String,

    /// Compress text files on the fly: br, zstd, gzip, or none.
    ///
    /// The content codings made on the fly for text files (HTML, CSS, JavaScript, JSON, SVG,
    /// ...) of 1 KiB or more: a comma-separated list of br, zstd and gzip, or `none`. Each
    /// file version is compressed at a fast level for its first response, then at the best
    /// level in the background, and kept (see --compress-cache).
    #[arg(
        long,
        value_name = "LIST",
        default_value = "br,zstd,gzip",
        value_parser = parse_codings,
        help_heading = SERVING,
        hide_short_help = true
    )]
    pub compress: Codings,

    /// Serve FILE for paths with no file (single-page apps).
    ///
    /// For a GET or HEAD whose path names no file, from a client that prefers HTML (a
    /// browser navigating), serve this file (relative to the root) with 200: the fallback of a single-page app with
    /// client-side routes. Other requests still get 404.
    #[arg(long, value_name = "FILE", value_parser = parse_site_file, help_heading = SITE_RULES)]
    pub fallback: Option<PathBuf>,

    /// The body of error status CODE comes from FILE, such as 404=404.html.
    ///
    /// FILE is relative to the root; the status stays CODE, the type comes from the file's
    /// name. Repeatable, or comma-separated.
    #[arg(
        long,
        value_name = "CODE=FILE",
        value_delimiter = ',',
        value_parser = parse_error_page,
        help_heading = SITE_RULES,
        hide_short_help = true
    )]
    pub error_page: Vec<ErrorPage>,

    /// Serve /about from about.html when /about names no file.
    ///
    /// A path that names no file is served by the same path with `.html` added, if that
    /// is a file.
    #[arg(long, help_heading = SITE_RULES, hide_short_help = true)]
    pub clean_urls: bool,

    /// A field added to every file response. Repeatable.
    ///
    /// Such as "X-Frame-Options: DENY"; an empty value ("X-Content-Type-Options:") sends
    /// none of that name (but Vary, which only adds). Per-path fields go in the config file's
    /// [[rules]].
    #[arg(
        long = "header",
        value_name = "NAME: VALUE",
        value_parser = parse_header,
        help_heading = SITE_RULES,
        hide_short_help = true
    )]
    pub headers: Vec<(String, String)>,

    /// Allow cross-origin requests from ORIGIN, or from any with `*`.
    ///
    /// ORIGIN is such as https://example.com: matching requests get
    /// Access-Control-Allow-Origin, and preflight OPTIONS requests get 204. Repeatable, or
    /// comma-separated.
    #[arg(
        long,
        value_name = "ORIGIN",
        value_delimiter = ',',
        value_parser = parse_origin,
        help_heading = SITE_RULES,
        hide_short_help = true
    )]
    pub cors: Vec<String>,

    /// Password-protect the site with an htpasswd file.
    ///
    /// HTTP Basic authentication, checked against this htpasswd file (bcrypt entries only,
    /// as `htpasswd -B` writes them). Per-path areas go in the config file's [[auth]].
    #[arg(long, value_name = "FILE", help_heading = SITE_RULES)]
    pub auth_file: Option<PathBuf>,

    /// Take uploads into this URL folder (/inbox).
    ///
    /// Repeatable. The folder's listing shows an upload form (several files, drag and
    /// drop), and it takes a multipart form POSTed to it and PUT /inbox/NAME. It needs an
    /// auth area covering it (--auth-file or [[auth]]) unless --upload-anonymous; it is
    /// created when missing. Per-folder options go in the config file's [[upload]].
    #[arg(long, value_name = "PATH", help_heading = SITE_RULES)]
    pub upload: Vec<String>,

    /// The largest file an upload folder takes.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "1GiB",
        value_parser = parse_size,
        help_heading = SITE_RULES,
        hide_short_help = true
    )]
    pub upload_max_size: u64,

    /// Let anyone upload, without a password.
    #[arg(long, help_heading = SITE_RULES)]
    pub upload_anonymous: bool,

    /// Serve HTTPS with this PEM certificate (and --tls-key).
    ///
    /// A PEM file, the server's certificate first, then any intermediates (what Let's
    /// Encrypt's fullchain.pem holds). Reloaded on SIGHUP.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_key",
        group = RESTART,
        help_heading = HTTPS
    )]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM).
    ///
    /// A PEM file in PKCS#8, PKCS#1 or SEC1 form. Reloaded on SIGHUP.
    #[arg(
        long,
        value_name = "FILE",
        requires = "tls_cert",
        group = RESTART,
        help_heading = HTTPS
    )]
    pub tls_key: Option<PathBuf>,

    /// With HTTPS, also redirect plain HTTP on this port to HTTPS.
    ///
    /// Listens on this port on each IP address of --bind, and answers every request there
    /// with a 308 redirect to the same path and query over HTTPS; with --acme, the CA's
    /// http-01 challenges at /.well-known/acme-challenge/ first.
    #[arg(
        long,
        value_name = "PORT",
        requires = HTTPS_SOURCE,
        group = RESTART,
        help_heading = HTTPS,
        hide_short_help = true
    )]
    pub redirect_http: Option<u16>,

    /// Automatic HTTPS: `--acme` and the flags that go with it.
    #[command(flatten)]
    pub acme: AcmeArgs,

    /// With HTTPS, send Strict-Transport-Security with this max-age, such as 180d.
    ///
    /// Sent on every response, so that browsers use HTTPS only for the host from then on.
    /// Off by default. Examples: 1y, 180d.
    #[arg(
        long,
        value_name = "DUR",
        requires = HTTPS_SOURCE,
        value_parser = humantime::parse_duration,
        help_heading = HTTPS,
        hide_short_help = true
    )]
    pub hsts: Option<Duration>,

    /// Worker threads [default: one per CPU core].
    ///
    /// Each serves its share of the connections.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u16).range(1..=1024),
        group = RESTART,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub threads: Option<u16>,

    /// Most connections open at once.
    ///
    /// Past it an idle connection of the address holding the most is closed to make room,
    /// or, if none is idle, the new connection gets 503 and is closed. From half of it on,
    /// each client address is held to its fair share (this number divided by the addresses
    /// holding connections, at least 8): past it, the address's own idle connections make
    /// room for its new ones, and with none idle it gets 503.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1024,
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        group = RESTART,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub max_connections: u32,

    /// Most connections open at once from one client address.
    ///
    /// However much room the server has; past it 503 and close. Unset by default: only the
    /// fair share of --max-connections applies.
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=1_000_000),
        group = RESTART,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub max_connections_per_ip: Option<u32>,

    /// The prefix length of an IPv6 client's network, counted as one address.
    ///
    /// For the fair share and --max-connections-per-ip: a host is usually given a whole
    /// /64.
    #[arg(
        long,
        value_name = "LEN",
        default_value_t = 64,
        value_parser = clap::value_parser!(u8).range(0..=128),
        group = RESTART,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub ipv6_prefix: u8,

    /// Time a client has to send a request's head, then 408.
    ///
    /// From the first byte of a request to the end of its head, and to send a request
    /// body. Examples: 10s, 500ms.
    #[arg(
        long,
        value_name = "DUR",
        default_value = "10s",
        value_parser = parse_timeout,
        group = RESTART,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub header_timeout: Duration,

    /// How long an idle keep-alive connection is kept open.
    ///
    /// Examples: 5s, 1min.
    #[arg(
        long,
        value_name = "DUR",
        default_value = "5s",
        value_parser = parse_timeout,
        group = RESTART,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub keep_alive_timeout: Duration,

    /// How long a response may wait for a client that takes none of it.
    ///
    /// Then the connection is closed. Also the window over which --min-send-rate is
    /// measured. Examples: 10s, 30s.
    #[arg(
        long,
        value_name = "DUR",
        default_value = "10s",
        value_parser = parse_timeout,
        group = RESTART,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub send_timeout: Duration,

    /// The slowest a client may read a response; 0 for no minimum.
    ///
    /// On average over each --send-timeout window; a slower client is disconnected.
    /// Examples: 1KiB/s, 512B/s.
    #[arg(
        long,
        value_name = "RATE",
        default_value = "1KiB/s",
        value_parser = parse_rate,
        group = RESTART,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub min_send_rate: u64,

    /// Most files kept open in the open-file cache; 0 turns it off.
    ///
    /// Each with its metadata and, when small, its bytes.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 4096,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub file_cache_entries: usize,

    /// Files up to this size are kept in memory by the open-file cache.
    ///
    /// Examples: 64KiB, 1MiB.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "64KiB",
        value_parser = parse_size,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub file_cache_max_file: u64,

    /// Most bytes of file contents the open-file cache keeps in memory.
    ///
    /// Examples: 64MiB.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "64MiB",
        value_parser = parse_size,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub file_cache_size: u64,

    /// Most bytes of compressed variants kept in memory.
    ///
    /// The least recently used go first. Examples: 64MiB, 256MiB.
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "64MiB",
        value_parser = parse_size,
        help_heading = LIMITS,
        hide_short_help = true
    )]
    pub compress_cache: u64,

    /// Quiet: no banner, only warnings and errors in the log.
    ///
    /// The access log stays on stderr with them. Overrides RUST_LOG.
    #[arg(
        short,
        long,
        conflicts_with = "verbose",
        group = RESTART,
        help_heading = LOGGING
    )]
    pub quiet: bool,

    /// Verbose: the log at debug level.
    ///
    /// Each request head and each connection's life. Overrides RUST_LOG.
    #[arg(short, long, group = RESTART, help_heading = LOGGING)]
    pub verbose: bool,

    /// The access log: a file, `-` (stdout) or `off`.
    ///
    /// A file is appended to, and reopened on SIGUSR1. To a file or standard output, lines
    /// pass through a bounded buffer: when the disk cannot keep up, lines are dropped and
    /// counted rather than holding requests up. [default: the process's log on stderr, log
    /// target `access`, which RUST_LOG can silence]
    #[arg(
        long,
        value_name = "PATH",
        value_parser = parse_access_log,
        group = RESTART,
        help_heading = LOGGING
    )]
    pub access_log: Option<Destination>,

    /// The access log's format: `combined` or `json`.
    ///
    /// `combined` is Apache's Combined Log Format; `json` is one object per line: time,
    /// client, method, target, protocol, request, status, bytes, duration_us, referer,
    /// user_agent.
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "combined",
        value_parser = parse_log_format,
        group = RESTART,
        help_heading = LOGGING,
        hide_short_help = true
    )]
    pub log_format: Format,

    /// Serve Prometheus metrics and a health check on this address.
    ///
    /// Metrics at /metrics and a health check at /health (200 while serving, 503 once
    /// shutting down) on an address such as 127.0.0.1:9090; nothing there is access-logged.
    #[arg(
        long,
        value_name = "ADDR:PORT",
        group = RESTART,
        help_heading = LOGGING,
        hide_short_help = true
    )]
    pub metrics: Option<SocketAddr>,

    /// Read settings from this TOML file.
    ///
    /// Every long flag is also a key (`-` written `_`, repeatable flags as arrays), plus
    /// [[rules]], [[redirects]] and [[auth]] tables. The command line, then NOMSERVE_*
    /// environment variables, take precedence over it. Re-read on SIGHUP.
    #[arg(long, value_name = "FILE", help_heading = OPERATIONS)]
    pub config: Option<PathBuf>,

    /// Check the settings, report what is wrong, and exit.
    ///
    /// The command line, environment and --config file; exits 0 when they are valid, 2
    /// when not.
    #[arg(long, help_heading = OPERATIONS)]
    pub check_config: bool,

    /// After SIGINT or SIGTERM, how long responses in flight may take to finish.
    ///
    /// Then the process exits anyway. Examples: 30s, 2min.
    #[arg(
        long,
        value_name = "DUR",
        default_value = "30s",
        value_parser = parse_timeout,
        group = RESTART,
        help_heading = OPERATIONS,
        hide_short_help = true
    )]
    pub shutdown_timeout: Duration,

    /// The file mode of a --bind unix:PATH socket, in octal.
    ///
    /// Connecting takes write permission: 660 lets the owner and the socket's group (a
    /// front end's) connect, 666 every local user.
    #[arg(
        long,
        value_name = "MODE",
        default_value = "660",
        value_parser = parse_mode,
        group = RESTART,
        help_heading = OPERATIONS,
        hide_short_help = true
    )]
    pub unix_socket_mode: u32,

    /// Require a PROXY protocol header (behind a load balancer).
    ///
    /// HAProxy's, version 1 or 2, at the start of every connection; the client's address
    /// is taken from it, and a connection without a valid one is closed. For a load
    /// balancer that sends one (HAProxy's send-proxy, AWS NLB, ...).
    #[arg(long, group = RESTART, help_heading = OPERATIONS, hide_short_help = true)]
    pub proxy_protocol: bool,

    /// A proxy whose Forwarded or X-Forwarded-For fields name the client.
    ///
    /// An address or a range such as 10.0.0.0/8, which is also exempt from the fair share
    /// and --max-connections-per-ip. Repeatable, or comma-separated.
    #[arg(
        long,
        value_name = "CIDR",
        value_delimiter = ',',
        group = RESTART,
        help_heading = OPERATIONS,
        hide_short_help = true
    )]
    pub trusted_proxy: Vec<Cidr>,

    /// Speak HTTP/2 (on or off).
    ///
    /// On: offered first with ALPN over HTTPS (browsers take it; other clients keep
    /// HTTP/1.1 on the same port), and taken in the clear from a client that opens with
    /// the HTTP/2 preface (h2c with prior knowledge, as a proxy in front sends it). Off:
    /// every connection speaks HTTP/1.1.
    #[arg(
        long,
        value_name = "on/off",
        default_value = "on",
        value_parser = parse_on_off,
        group = RESTART,
        help_heading = OPERATIONS,
        hide_short_help = true
    )]
    pub http2: OnOff,

    /// Speak HTTP/3 over QUIC (on or off) [default: on with HTTPS].
    ///
    /// On: HTTP/3 is served on UDP at the HTTPS port (the firewall must let UDP through
    /// there), and HTTP/1.1 and HTTP/2 responses advertise it with
    /// `Alt-Svc: h3=":PORT"; ma=86400`, so that browsers move to it. Unsaid, it is on
    /// whenever HTTPS is served, and a UDP port that cannot be had is a warning (HTTPS goes
    /// on without it); `on` makes that an error, and asks for HTTPS.
    #[arg(
        long,
        value_name = "on/off",
        value_parser = parse_on_off,
        group = RESTART,
        help_heading = OPERATIONS,
        hide_short_help = true
    )]
    pub http3: Option<OnOff>,
}

/// A setting that is on or off (`--http2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnOff(pub bool);

/// Parses `on` or `off` (and `true` or `false`, as a configuration file writes them).
fn parse_on_off(text: &str) -> Result<OnOff, String> {
    match text {
        "on" | "true" => Ok(OnOff(true)),
        "off" | "false" => Ok(OnOff(false)),
        _ => Err(format!("{text:?} is neither on nor off")),
    }
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

/// Parses one archive format: `tar`, `tar.gz` or `zip`.
fn parse_archive_format(text: &str) -> Result<ArchiveFormat, String> {
    ArchiveFormat::named(text.trim())
        .ok_or_else(|| format!("{text:?} is not an archive format: tar, tar.gz or zip"))
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

#[cfg(test)]
mod readme;
#[cfg(test)]
mod tests;
