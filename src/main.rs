//! nomserve: a strict, fast HTTP/1.1 static file server.
//!
//! `main` only starts things: it reads the [`settings`] and has them assembled into the
//! handler stack and the server's configuration, sets up the log, opens the listening
//! sockets, prints the banner, and runs the [`server`] until a shutdown signal. The modules
//! import one way, each only those after it: [`acme`] (certificates from an ACME CA, on a
//! thread of its own) → [`settings`] (the command line, the config file,
//! their assembly) → [`server`] (accept, limits, workers, the socket) → [`conn`] (the
//! connection's state machine: head, body, dispatch) → [`handlers`] (echo, static files) →
//! [`http`] (response, writer, output, access log).
//!
//! `unsafe` is denied everywhere but in `server::sockopt`, one `setsockopt` call for the one
//! socket option rustix has no call for (`TCP_DEFER_ACCEPT`), which the bench shows pays.

#![deny(unsafe_code)]
#![deny(clippy::undocumented_unsafe_blocks)]

mod acme;
mod banner;
mod conn;
mod handlers;
mod http;
mod metrics;
mod server;
mod settings;
mod systemd;

use banner::Banner;
use handlers::acme::Http01;
use handlers::https::RedirectToHttps;
use handlers::metrics::Metrics;
use http::access_log;
use server::certs::{Certificates, Source, TlsFiles};
use server::listeners::{self, Bind, Listener};
use server::{Config, Control, Server};
use settings::{Assembly, Settings, cli, config};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
use signal_hook::iterator::Signals;
use std::ffi::OsString;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;

/// Exit status when the command line names something unusable (a bad document root, TLS
/// files that cannot be read), as for clap's usage errors.
const EXIT_BAD_CONFIG: u8 = 2;
/// Exit status when the server cannot start for another reason (the port is taken, ...).
const EXIT_CANNOT_START: u8 = 1;
/// Exit status after a second SIGINT: 128 + the signal's number, as a shell reports a
/// process the signal ended.
const EXIT_SIGINT: i32 = 128 + SIGINT;
/// Exit status after a second SIGTERM (128 + 15).
const EXIT_SIGTERM: i32 = 128 + SIGTERM;

/// Why the server could not start: a one-line message and the exit status.
struct Fatal {
    message: String,
    status: u8,
}

/// A setting that cannot be used: fatal with exit status 2, saying what is wrong.
fn bad_config(message: String) -> Fatal {
    Fatal {
        message,
        status: EXIT_BAD_CONFIG,
    }
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let settings = match config::load(&argv) {
        Ok(settings) => settings,
        Err(config::Error::Usage(e)) => e.exit(),
        Err(e) => {
            for line in e.to_string().lines() {
                eprintln!("nomserve: {line}");
            }
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    init_logging(&settings.args);
    let outcome = if settings.args.check_config {
        check(&settings)
    } else {
        run(settings, argv)
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(fatal) => {
            eprintln!("nomserve: {}", fatal.message);
            ExitCode::from(fatal.status)
        }
    }
}

/// `--check-config`: everything the server would check before listening (the document
/// root, the site's files and rules, the TLS pair), without listening. Slow bcrypt hashes
/// are warned of on stderr, and pass.
fn check(settings: &Settings) -> Result<(), Fatal> {
    let root = settings::document_root(&settings.args.root).map_err(bad_config)?;
    settings::assemble(settings, &root).map_err(bad_config)?;
    load_certificates(&settings.args)?;
    acme::check(&settings.args).map_err(bad_config)?;
    let auth_file = settings.args.auth_file.as_deref();
    for warning in handlers::auth::slow_hashes(&settings.auth, auth_file) {
        eprintln!("nomserve: warning: {warning}");
    }
    match &settings.args.config {
        Some(file) => println!(
            "nomserve: configuration OK ({}; paths relative to {})",
            file.display(),
            config::folder_of(file).display()
        ),
        None => println!("nomserve: configuration OK"),
    }
    Ok(())
}

/// The TLS pair `--tls-cert` and `--tls-key` name, if they do.
fn load_certificates(args: &cli::Args) -> Result<Option<Arc<Certificates>>, Fatal> {
    match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Certificates::load(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        })
        .map(Some)
        .map_err(bad_config),
        _ => Ok(None),
    }
}

/// The log goes to stderr, at `info` unless `-q` (warnings), `-v` (debug) or `RUST_LOG` says
/// otherwise. Access-log lines are written bare (Combined Log Format, for log tools); other
/// records carry time, level and target. A `RUST_LOG` directive that names neither a level nor
/// one of the server's log targets is reported and left out: taken as it is, a bare word such
/// as `bogus` would enable that target alone and silence everything else.
fn init_logging(args: &cli::Args) {
    let (filter, ignored) = if args.quiet {
        ("warn".to_string(), Vec::new())
    } else if args.verbose {
        ("debug".to_string(), Vec::new())
    } else {
        log_filter(std::env::var("RUST_LOG").ok().as_deref())
    };
    env_logger::Builder::new()
        .parse_filters(&filter)
        .target(env_logger::Target::Stderr)
        .format(|buf, record| {
            if record.target() == access_log::TARGET {
                writeln!(buf, "{}", record.args())
            } else {
                writeln!(
                    buf,
                    "[{} {:<5} {}] {}",
                    buf.timestamp(),
                    record.level(),
                    record.target(),
                    record.args()
                )
            }
        })
        .init();
    for directive in ignored {
        log::warn!(
            "RUST_LOG: {directive:?} is neither a level (error, warn, info, debug, trace, off) \
             nor a log target of nomserve (nomserve, access, ...); ignored"
        );
    }
}

/// The filter `RUST_LOG` asks for (`info` when it is unset or says nothing usable), and its
/// directives left out (see [`init_logging`]).
fn log_filter(rust_log: Option<&str>) -> (String, Vec<String>) {
    const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];
    let is_level = |word: &str| LEVELS.iter().any(|l| l.eq_ignore_ascii_case(word));
    let is_target = |word: &str| {
        word == access_log::TARGET || word == "nomserve" || word.starts_with("nomserve::")
    };
    let mut kept = Vec::new();
    let mut ignored = Vec::new();
    for directive in rust_log.unwrap_or_default().split(',').map(str::trim) {
        if directive.is_empty() {
            continue;
        }
        let usable = match directive.split_once('=') {
            Some((target, level)) => !target.is_empty() && is_level(level),
            None => is_level(directive) || is_target(directive),
        };
        if usable {
            kept.push(directive);
        } else {
            ignored.push(directive.to_string());
        }
    }
    if kept.is_empty() {
        kept.push("info");
    }
    (kept.join(","), ignored)
}

/// Starts the server and serves until SIGINT or SIGTERM; then finishes in-flight responses
/// (up to `--shutdown-timeout`) and returns. `argv` is read again, with the config file, on
/// SIGHUP.
fn run(settings: Settings, argv: Vec<OsString>) -> Result<(), Fatal> {
    let args = &settings.args;
    let root = settings::document_root(&args.root).map_err(bad_config)?;
    let cannot_start = |what: &str, e: std::io::Error| Fatal {
        message: format!("{what}: {e}"),
        status: EXIT_CANNOT_START,
    };
    let cannot_listen = |message: String| Fatal {
        message,
        status: EXIT_CANNOT_START,
    };
    let (listeners, activated) = match listeners::from_systemd().map_err(cannot_listen)? {
        Some(passed) => (passed, true),
        None => (
            listeners::bind(&args.bind, args.port, args.unix_socket_mode).map_err(cannot_listen)?,
            false,
        ),
    };
    let listening: Vec<banner::Listening> = listeners
        .iter()
        .map(|l| banner::Listening {
            address: l.address.clone(),
            takes_ipv4: l.takes_ipv4(),
        })
        .collect();
    let metrics_listener = match args.metrics {
        Some(requested) => Some(listeners::tcp(requested).map_err(|e| {
            let why = listeners::explain(requested, &e, "--metrics 127.0.0.1:9090");
            cannot_listen(format!("cannot listen on {requested} for metrics: {why}"))
        })?),
        None => None,
    };
    start_access_log(args)?;
    // After binding: a port in use is reported before the file handler logs anything.
    let Assembly { config, handler } = settings::assemble(&settings, &root).map_err(bad_config)?;
    let acme = acme::prepare(args).map_err(bad_config)?;
    let certificates = match &acme {
        Some(acme) => {
            acme.check_terms().map_err(bad_config)?;
            Some(acme.certificates())
        }
        None => load_certificates(args)?,
    };
    let tls = certificates
        .as_ref()
        .map(|certificates| certificates.server_config(config.http2))
        .transpose()
        .map_err(|e| cannot_start("cannot set up TLS", std::io::Error::other(e)))?;

    let speaks_tls = tls.is_some();
    if config.http3 == Some(true) && !speaks_tls {
        return Err(bad_config(
            "--http3 needs HTTPS (--tls-cert and --tls-key): QUIC is always encrypted".to_string(),
        ));
    }
    let server = Server::start(listeners, config.clone(), handler, tls)
        .map_err(|e| cannot_start("cannot start the worker threads", e))?;
    let mut controls = vec![server.control()];
    let redirect = match args.redirect_http {
        Some(port) => {
            let https = listening.iter().find_map(|l| l.address.tcp());
            let http01 = acme.as_ref().map(acme::Acme::http01_folder);
            let (redirect, addrs) =
                start_redirect(&args.bind, port, https, http01, config.clone())?;
            controls.push(redirect.control());
            thread::Builder::new()
                .name("redirect".to_string())
                .spawn(move || redirect.run())
                .map_err(|e| cannot_start("cannot start the redirect listener", e))?;
            addrs
        }
        None => Vec::new(),
    };
    let metrics_addr = match metrics_listener {
        Some(listener) => {
            let addr = listener.address.tcp();
            start_metrics(listener, &server, config.clone())
                .map_err(|e| cannot_start("cannot start the metrics listener", e))?;
            addr
        }
        None => None,
    };
    let banner = Banner {
        root: &root,
        listening: &listening,
        activated,
        tls: speaks_tls,
        acme: acme.as_ref().map(acme::Acme::describe),
        list_dirs: args.list_dirs,
        echo: !args.no_echo,
        compress: args.compress.names(),
        metrics: metrics_addr,
        redirect: &redirect,
        config: args.config.clone(),
        auth_areas: settings.auth.len() + usize::from(args.auth_file.is_some()),
        auth_file: args.auth_file.clone(),
        access_log: args.access_log.clone(),
        qr: args.qr,
        uploads: settings.upload.iter().map(|f| f.path.clone()).collect(),
        upload_anonymous: args.upload_anonymous,
    };
    if let (Some(acme), Some(certificates)) = (acme, &certificates) {
        acme.start(Arc::clone(certificates))
            .map_err(|e| cannot_start("cannot start the ACME thread", e))?;
    }
    let signals = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGUSR1])
        .map_err(|e| cannot_start("cannot handle signals", e))?;
    thread::Builder::new()
        .name("signals".to_string())
        .spawn(move || {
            let mut live = Live {
                argv,
                started: settings.clone(),
                settings,
                controls,
                certificates,
            };
            on_signals(signals, &mut live);
        })
        .map_err(|e| cannot_start("cannot start the signal thread", e))?;

    // The banner is information: `-q` and `RUST_LOG=warn` leave it out with the rest.
    if log::log_enabled!(log::Level::Info) {
        banner.print();
    }
    systemd::ready();
    log::debug!(
        "{} workers, at most {} connections ({} per address, IPv6 per /{}), header timeout \
         {:?}, keep-alive timeout {:?}, send timeout {:?} at {} bytes/s at least",
        config.threads,
        config.max_connections,
        config
            .max_connections_per_ip
            .map_or_else(|| "fair share".to_string(), |cap| format!("at most {cap}")),
        config.ipv6_prefix,
        config.timeouts.header,
        config.timeouts.keep_alive,
        config.timeouts.send,
        config.timeouts.min_send_rate
    );

    let still_open = server.run();
    access_log::finish();
    if still_open == 0 {
        log::info!("Server stopped: all connections closed.");
    } else {
        log::warn!(
            "Server stopped: {still_open} connections still open after the shutdown timeout \
             of {:?} were cut off.",
            config.shutdown_timeout
        );
    }
    Ok(())
}

/// Sets up the access log as `--access-log` and `--log-format` say.
fn start_access_log(args: &cli::Args) -> Result<(), Fatal> {
    let destination = args
        .access_log
        .clone()
        .unwrap_or(access_log::Destination::Logger);
    let described = match &destination {
        access_log::Destination::File(path) => path.display().to_string(),
        _ => "standard output".to_string(),
    };
    access_log::start(destination, args.log_format).map_err(|e| Fatal {
        message: format!("cannot open the access log {described}: {e}"),
        status: EXIT_BAD_CONFIG,
    })
}

/// Counts requests from now on, and serves `/metrics` and `/health` of `server` on
/// `listener`, by a server of its own, as the redirect listener is:
/// one worker, `config`'s limits and timeouts, in the clear (the certificate names the
/// site, and scrapes stay on a private address), no PROXY protocol header (a scraper
/// connects directly), nothing recorded. It is not shut down with the site: through a
/// graceful shutdown, `/health` answers `503 draining` until the process exits.
fn start_metrics(listener: Listener, server: &Server, config: Config) -> std::io::Result<()> {
    metrics::enable();
    let config = Config {
        threads: 1,
        proxy_protocol: false,
        recorded: false,
        ..config
    };
    let handler = Metrics::new(server.control());
    let metrics = Server::start(vec![listener], config, Arc::new(handler), None)?;
    thread::Builder::new()
        .name("metrics".to_string())
        .spawn(move || metrics.run())
        .map(drop)
}

/// Starts the plain-HTTP listener of `--redirect-http` on `port` of each IP address in
/// `binds`, with one worker, redirecting to the HTTPS listener at `https` (the first TCP
/// one, if there is one), and answering ACME http-01 challenges from `http01` first when
/// given. Returns it and the addresses it listens on.
fn start_redirect(
    binds: &[Bind],
    port: u16,
    https: Option<SocketAddr>,
    http01: Option<std::path::PathBuf>,
    config: Config,
) -> Result<(Server, Vec<SocketAddr>), Fatal> {
    let cannot_start = |message: String| Fatal {
        message,
        status: EXIT_CANNOT_START,
    };
    let Some(https) = https else {
        return Err(cannot_start(
            "--redirect-http needs HTTPS on a TCP address to redirect to".to_string(),
        ));
    };
    let ip_binds: Vec<Bind> = binds
        .iter()
        .filter(|bind| !bind.addresses().is_empty())
        .cloned()
        .collect();
    if ip_binds.is_empty() {
        return Err(cannot_start(
            "--redirect-http listens on the IP addresses of --bind, and it names none".to_string(),
        ));
    }
    let listeners: Vec<Listener> = listeners::bind(&ip_binds, port, 0)
        .map_err(|e| cannot_start(format!("{e} (to redirect)")))?;
    let addrs = listeners
        .iter()
        .filter_map(|listener| listener.address.tcp())
        .collect();
    let fallback_host = match https.ip() {
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let redirect = RedirectToHttps::new(https.port(), fallback_host);
    let handler: Arc<dyn handlers::Handler> = match http01 {
        Some(folder) => Arc::new(Http01::new(folder, redirect)),
        None => Arc::new(redirect),
    };
    let config = Config {
        threads: 1,
        ..config
    };
    let server = Server::start(listeners, config, handler, None)
        .map_err(|e| cannot_start(format!("cannot start the redirect listener: {e}")))?;
    Ok((server, addrs))
}

/// What the signal thread acts on: how the server was configured and started, and the
/// controls of its listeners (the main one first).
struct Live {
    argv: Vec<OsString>,
    /// The settings the server started with: those of the [`cli::RESTART`] group stay in
    /// force until a restart.
    started: Settings,
    /// The settings last applied (of the [`cli::RESTART`] group, those last read).
    settings: Settings,
    controls: Vec<Control>,
    certificates: Option<Arc<Certificates>>,
}

/// The signal thread. SIGHUP reloads the settings and the TLS pair (see [`reload`]),
/// telling systemd it reloads. The first SIGINT or SIGTERM starts a graceful shutdown (and
/// tells systemd it stops); a second one ends the process at once, for an operator who does
/// not want to wait out `--shutdown-timeout`, with the status a shell gives a process the
/// signal ended: 130 for SIGINT, 143 for SIGTERM.
fn on_signals(mut signals: Signals, live: &mut Live) {
    let mut received = 0;
    for signal in signals.forever() {
        if signal == SIGHUP {
            systemd::reloading();
            reload(live);
            systemd::ready();
            continue;
        }
        if signal == SIGUSR1 {
            access_log::reopen();
            continue;
        }
        let (name, status) = if signal == SIGINT {
            ("SIGINT", EXIT_SIGINT)
        } else {
            ("SIGTERM", EXIT_SIGTERM)
        };
        received += 1;
        if received == 1 {
            log::info!("{name} received: shutting down gracefully (again to stop at once)");
            systemd::stopping();
            for control in &live.controls {
                control.shut_down();
            }
        } else {
            log::warn!("{name} received again: stopping now");
            std::process::exit(status);
        }
    }
}

/// SIGHUP: reads the settings again (the same command line and environment, the config
/// file anew) and the TLS pair. Valid new settings answer new requests from then on, without
/// a connection dropped, and the log names the keys that changed; invalid ones are logged
/// and ignored. What is fixed when the server starts (where it listens, its workers and
/// limits, whether it speaks TLS) is named once, as not applied until a restart, for as long
/// as it differs from what the server started with; the line of what was applied names the
/// rest only.
fn reload(live: &mut Live) {
    log::info!("SIGHUP received: reloading the settings");
    match config::load(&live.argv) {
        Ok(settings) => {
            let assembled = settings::document_root(&settings.args.root)
                .and_then(|root| settings::assemble(&settings, &root));
            match assembled {
                Ok(Assembly { handler, .. }) => {
                    if let Some(main) = live.controls.first() {
                        main.replace_handler(handler);
                    }
                    let fixed = live.started.restart_only(&settings);
                    if !fixed.is_empty() {
                        log::warn!("SIGHUP: not applied until restart: {}", fixed.join(", "));
                    }
                    let changed = live.settings.reloadable(&settings);
                    let changed = match (changed.is_empty(), fixed.is_empty()) {
                        (false, _) => format!("changed: {}", changed.join(", ")),
                        (true, true) => "nothing changed".to_string(),
                        (true, false) => "nothing else changed".to_string(),
                    };
                    log::info!("SIGHUP: new settings applied to new requests ({changed})");
                    live.settings = settings;
                }
                Err(message) => {
                    log::error!("SIGHUP: {message}; keeping the current settings")
                }
            }
        }
        Err(e) => log::error!(
            "SIGHUP: {}; keeping the current settings",
            e.to_string().trim_end().replace('\n', "; ")
        ),
    }
    let Some(certificates) = &live.certificates else {
        return;
    };
    let Source::Files(files) = certificates.source() else {
        log::info!("SIGHUP: the ACME certificate is renewed on its own; nothing to reload");
        return;
    };
    match certificates.reload() {
        Ok(()) => log::info!(
            "SIGHUP: reloaded the TLS certificate {} and key {}; new connections use them",
            files.cert.display(),
            files.key.display()
        ),
        Err(e) => log::error!("SIGHUP: {e}; keeping the current certificate"),
    }
}
