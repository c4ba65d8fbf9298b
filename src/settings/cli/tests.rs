//! The flags' defaults, and the values each parser accepts and refuses.

use super::*;
use clap::CommandFactory;
use std::net::IpAddr;

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
