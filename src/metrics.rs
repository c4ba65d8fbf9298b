//! The process's counters, and their text rendering for `/metrics`.
//!
//! Counters are process-wide atomics updated with `Relaxed` ordering: a response costs a few
//! atomic increments and no lock. They are read only to be shown, so no ordering between
//! them is promised: a scrape may see a request counted before its bytes. Every counter only
//! rises for the life of the process (a SIGHUP reload keeps them).
//!
//! [`exposition`] writes them in the Prometheus text exposition format, version 0.0.4; every
//! name starts with `nomserve_`. Requests are counted by status class and method:
//! `nomserve_requests_total{status="2xx",method="GET"}`, where `method` is one of the
//! methods of RFC 9110 §9 and PATCH, or `other` (an extension method, or a request that did
//! not parse). The handler that answers `/metrics` and `/health` is
//! [`crate::handlers::metrics`].

use nomserve_grammar::H2ErrorCode;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// The methods counted by name, in label order; anything else is `other`.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];

/// The index of `other` in the request counters.
pub const OTHER_METHOD: usize = METHODS.len();

/// Status classes: 1xx to 5xx.
const CLASSES: usize = 5;

/// The request-duration histogram's upper bounds, in seconds: from half a millisecond (a
/// cached file) to ten seconds (a large file to a slow client).
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Counts of a cache: lookups answered from it and lookups that missed.
#[derive(Debug)]
pub struct CacheCounters {
    /// Lookups answered from the cache.
    pub hits: AtomicU64,
    /// Lookups that found nothing.
    pub misses: AtomicU64,
}

/// Counts kept of on-the-fly compression: answered from the cache of variants, compressions
/// started and dropped, the input bytes in flight, and bytes not sent thanks to compression.
#[derive(Debug)]
pub struct CompressionCounters {
    /// Compressed responses answered from the cache.
    pub hits: AtomicU64,
    /// Requests that found no variant ready and started its compression.
    pub misses: AtomicU64,
    /// The file's size minus the variant's, summed over the compressed responses.
    pub bytes_saved: AtomicU64,
    /// Compressions not queued: the bound on input bytes in flight was reached, or the queue
    /// was full.
    pub dropped: AtomicU64,
    /// Input bytes of the compressions queued or running (a gauge).
    pub in_flight_bytes: AtomicU64,
}

/// Whether `--metrics` is on: only then are responses counted by method and duration (which
/// takes a clock reading per request).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Responses by method (in [`METHODS`] order, then `other`) and status class.
static REQUESTS: [[AtomicU64; CLASSES]; METHODS.len() + 1] =
    [const { [const { AtomicU64::new(0) }; CLASSES] }; METHODS.len() + 1];
/// Content bytes sent, over every response.
static BODY_BYTES: AtomicU64 = AtomicU64::new(0);
/// Responses by duration: each bucket counts those up to its bound and above the previous
/// one; the last counts those above every bound.
static DURATIONS: [AtomicU64; BUCKETS.len() + 1] = [const { AtomicU64::new(0) }; BUCKETS.len() + 1];
/// The durations' sum, in microseconds.
static DURATION_SUM_US: AtomicU64 = AtomicU64::new(0);
/// TLS handshakes completed.
static TLS_HANDSHAKES: AtomicU64 = AtomicU64::new(0);
/// HTTP/2 connections started (by ALPN or with prior knowledge).
static H2_CONNECTIONS: AtomicU64 = AtomicU64::new(0);
/// Responses sent on HTTP/2 streams (also counted in [`REQUESTS`]).
static H2_REQUESTS: AtomicU64 = AtomicU64::new(0);
/// HTTP/2 streams refused past SETTINGS_MAX_CONCURRENT_STREAMS (REFUSED_STREAM).
static H2_REFUSED_STREAMS: AtomicU64 = AtomicU64::new(0);
/// GOAWAY frames sent, by error code (RFC 9113 §7, in wire order): ENHANCE_YOUR_CALM counts
/// the connections closed by a bound against abuse.
static H2_GOAWAYS: [AtomicU64; H2ErrorCode::ALL.len()] =
    [const { AtomicU64::new(0) }; H2ErrorCode::ALL.len()];
/// When the certificate HTTPS now serves expires, in seconds since the Unix epoch; 0 while
/// there is none.
static CERTIFICATE_EXPIRY: AtomicU64 = AtomicU64::new(0);
/// ACME orders placed with the CA.
static ACME_ORDERS: AtomicU64 = AtomicU64::new(0);
/// ACME orders that ended without a certificate.
static ACME_ORDERS_FAILED: AtomicU64 = AtomicU64::new(0);
/// HTTP/3 connections started (QUIC handshakes that began, with `--http3`).
static H3_CONNECTIONS: AtomicU64 = AtomicU64::new(0);
/// Responses sent on HTTP/3 streams (also counted in [`REQUESTS`]).
static H3_REQUESTS: AtomicU64 = AtomicU64::new(0);
/// Access-log lines dropped because the log's buffer was full.
static LOG_DROPPED: AtomicU64 = AtomicU64::new(0);

/// The open-file cache's lookups.
pub static FILE_CACHE: CacheCounters = CacheCounters {
    hits: AtomicU64::new(0),
    misses: AtomicU64::new(0),
};

/// The listing cache's lookups: listings answered from it, and directories read.
pub static LISTING_CACHE: CacheCounters = CacheCounters {
    hits: AtomicU64::new(0),
    misses: AtomicU64::new(0),
};

/// On-the-fly compression.
pub static COMPRESSION: CompressionCounters = CompressionCounters {
    hits: AtomicU64::new(0),
    misses: AtomicU64::new(0),
    bytes_saved: AtomicU64::new(0),
    dropped: AtomicU64::new(0),
    in_flight_bytes: AtomicU64::new(0),
};

/// Turns request counting on (`--metrics`).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Whether requests are counted.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The counters' index of a method's name: its place in [`METHODS`], or [`OTHER_METHOD`].
pub fn method_index(method: &[u8]) -> usize {
    METHODS
        .iter()
        .position(|m| m.as_bytes() == method)
        .unwrap_or(OTHER_METHOD)
}

/// Counts a response with `status` to a request of method index `method`, which sent
/// `body_bytes` content bytes and took `duration` from its head to its last byte.
pub fn count_response(method: usize, status: u16, body_bytes: u64, duration: Duration) {
    let class = usize::from(status / 100).clamp(1, CLASSES) - 1;
    if let Some(counter) = REQUESTS.get(method).and_then(|row| row.get(class)) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    BODY_BYTES.fetch_add(body_bytes, Ordering::Relaxed);
    let seconds = duration.as_secs_f64();
    let bucket = BUCKETS
        .iter()
        .position(|&bound| seconds <= bound)
        .unwrap_or(BUCKETS.len());
    if let Some(counter) = DURATIONS.get(bucket) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    let micros = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
    DURATION_SUM_US.fetch_add(micros, Ordering::Relaxed);
}

/// Counts a completed TLS handshake.
pub fn count_tls_handshake() {
    TLS_HANDSHAKES.fetch_add(1, Ordering::Relaxed);
}

/// Counts an HTTP/2 connection started.
pub fn count_h2_connection() {
    H2_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
}

/// Counts a response sent on an HTTP/2 stream.
pub fn count_h2_request() {
    H2_REQUESTS.fetch_add(1, Ordering::Relaxed);
}

/// Counts an HTTP/3 connection started.
pub fn count_h3_connection() {
    H3_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
}

/// Counts a response sent on an HTTP/3 stream.
pub fn count_h3_request() {
    H3_REQUESTS.fetch_add(1, Ordering::Relaxed);
}

/// Counts an HTTP/2 stream refused (REFUSED_STREAM).
pub fn count_h2_refused_stream() {
    H2_REFUSED_STREAMS.fetch_add(1, Ordering::Relaxed);
}

/// Counts a GOAWAY sent with `code`.
pub fn count_h2_goaway(code: H2ErrorCode) {
    if let Some(counter) = H2ErrorCode::ALL
        .iter()
        .position(|&c| c == code)
        .and_then(|i| H2_GOAWAYS.get(i))
    {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Records when the certificate now served expires (`not_after`, Unix seconds).
pub fn set_certificate_expiry(not_after: i64) {
    CERTIFICATE_EXPIRY.store(u64::try_from(not_after).unwrap_or(0), Ordering::Relaxed);
}

/// Counts an ACME order placed.
pub fn count_acme_order() {
    ACME_ORDERS.fetch_add(1, Ordering::Relaxed);
}

/// Counts an ACME order that ended without a certificate.
pub fn count_acme_order_failed() {
    ACME_ORDERS_FAILED.fetch_add(1, Ordering::Relaxed);
}

/// Counts an access-log line dropped; returns the count so far.
pub fn count_log_dropped() -> u64 {
    LOG_DROPPED.fetch_add(1, Ordering::Relaxed) + 1
}

/// Access-log lines dropped so far.
pub fn log_dropped() -> u64 {
    LOG_DROPPED.load(Ordering::Relaxed)
}

/// Every metric, in the text exposition format, with `connections` (open, and of those
/// idle) read from the running server.
pub fn exposition(connections: (usize, usize)) -> String {
    let mut out = Exposition::default();
    out.family(
        "nomserve_requests_total",
        "counter",
        "Responses sent, by status class and request method.",
    );
    for (m, row) in REQUESTS.iter().enumerate() {
        let method = METHODS.get(m).copied().unwrap_or("other");
        for (class, counter) in row.iter().enumerate() {
            let count = counter.load(Ordering::Relaxed);
            if count > 0 {
                let status = format!("{}xx", class + 1);
                out.sample(
                    "nomserve_requests_total",
                    &[("status", &status), ("method", method)],
                    count,
                );
            }
        }
    }
    out.counter(
        "nomserve_response_body_bytes_total",
        "Content bytes of responses sent (heads not included).",
        BODY_BYTES.load(Ordering::Relaxed),
    );
    out.family(
        "nomserve_request_duration_seconds",
        "histogram",
        "Time from a request's complete head to its response's last byte handed to the socket.",
    );
    let mut cumulative = 0;
    for (i, counter) in DURATIONS.iter().enumerate() {
        cumulative += counter.load(Ordering::Relaxed);
        let bound = BUCKETS
            .get(i)
            .map_or_else(|| "+Inf".to_string(), f64::to_string);
        out.sample(
            "nomserve_request_duration_seconds_bucket",
            &[("le", &bound)],
            cumulative,
        );
    }
    let sum = DURATION_SUM_US.load(Ordering::Relaxed) as f64 / 1e6;
    out.line(&format!("nomserve_request_duration_seconds_sum {sum}"));
    out.sample("nomserve_request_duration_seconds_count", &[], cumulative);
    let (open, idle) = connections;
    out.gauge(
        "nomserve_connections_open",
        "Client connections open.",
        open as u64,
    );
    out.gauge(
        "nomserve_connections_idle",
        "Open client connections waiting for a request.",
        idle as u64,
    );
    out.counter(
        "nomserve_file_cache_hits_total",
        "Open-file cache lookups answered from the cache.",
        FILE_CACHE.hits.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_file_cache_misses_total",
        "Open-file cache lookups that found nothing.",
        FILE_CACHE.misses.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_listing_cache_hits_total",
        "Directory listings answered from the listing cache.",
        LISTING_CACHE.hits.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_listing_cache_misses_total",
        "Directory listings read from disk: none kept, or the one kept no longer current.",
        LISTING_CACHE.misses.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_compression_hits_total",
        "Compressed responses answered from the cache of variants.",
        COMPRESSION.hits.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_compression_misses_total",
        "Compressions started for a variant that was not ready.",
        COMPRESSION.misses.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_compression_saved_bytes_total",
        "Bytes not sent thanks to compression: file sizes minus variant sizes.",
        COMPRESSION.bytes_saved.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_compression_dropped_total",
        "Compressions not queued: too many input bytes in flight, or the queue full.",
        COMPRESSION.dropped.load(Ordering::Relaxed),
    );
    out.gauge(
        "nomserve_compression_in_flight_bytes",
        "Input bytes of the compressions queued or running.",
        COMPRESSION.in_flight_bytes.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_tls_handshakes_total",
        "TLS handshakes completed.",
        TLS_HANDSHAKES.load(Ordering::Relaxed),
    );
    let expiry = CERTIFICATE_EXPIRY.load(Ordering::Relaxed);
    if expiry > 0 {
        out.gauge(
            "nomserve_tls_certificate_expiry_seconds",
            "When the certificate HTTPS serves expires, in seconds since the Unix epoch.",
            expiry,
        );
    }
    out.counter(
        "nomserve_acme_orders_total",
        "ACME certificate orders placed with the CA.",
        ACME_ORDERS.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_acme_orders_failed_total",
        "ACME certificate orders that ended without a certificate.",
        ACME_ORDERS_FAILED.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_http2_connections_total",
        "HTTP/2 connections started (ALPN h2, or h2c with prior knowledge).",
        H2_CONNECTIONS.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_http2_requests_total",
        "Responses sent over HTTP/2 (also in nomserve_requests_total; the rest are HTTP/1.x).",
        H2_REQUESTS.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_http3_connections_total",
        "HTTP/3 connections started (QUIC, with --http3).",
        H3_CONNECTIONS.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_http3_requests_total",
        "Responses sent over HTTP/3 (also in nomserve_requests_total).",
        H3_REQUESTS.load(Ordering::Relaxed),
    );
    out.counter(
        "nomserve_http2_refused_streams_total",
        "HTTP/2 streams refused past the concurrent stream limit.",
        H2_REFUSED_STREAMS.load(Ordering::Relaxed),
    );
    out.family(
        "nomserve_http2_goaways_total",
        "counter",
        "GOAWAY frames sent, by error code (ENHANCE_YOUR_CALM: a bound against abuse).",
    );
    for (code, counter) in H2ErrorCode::ALL.iter().zip(&H2_GOAWAYS) {
        let count = counter.load(Ordering::Relaxed);
        if count > 0 {
            let name = code.to_string();
            out.sample("nomserve_http2_goaways_total", &[("code", &name)], count);
        }
    }
    out.counter(
        "nomserve_access_log_dropped_lines_total",
        "Access-log lines dropped because the log could not keep up.",
        LOG_DROPPED.load(Ordering::Relaxed),
    );
    if let Some(open) = open_descriptors() {
        out.gauge(
            "nomserve_open_fds",
            "File descriptors the process holds.",
            open,
        );
    }
    if let Some(max) = max_descriptors() {
        out.gauge(
            "nomserve_max_fds",
            "The process's limit on file descriptors (RLIMIT_NOFILE, soft).",
            max,
        );
    }
    out.text
}

/// The descriptors the process holds: the entries of `/proc/self/fd`, less the one reading
/// it. `None` without `/proc`.
fn open_descriptors() -> Option<u64> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some(entries.saturating_sub(1))
}

/// The soft limit on descriptors; `None` when there is none.
fn max_descriptors() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// The text exposition format being written.
#[derive(Debug, Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    /// The `# HELP` and `# TYPE` lines of a metric family.
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    /// A counter family with one unlabelled sample.
    fn counter(&mut self, name: &str, help: &str, value: u64) {
        self.family(name, "counter", help);
        self.sample(name, &[], value);
    }

    /// A gauge family with one unlabelled sample.
    fn gauge(&mut self, name: &str, help: &str, value: u64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }

    /// One sample: `name{label="value",...} value`.
    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: u64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (label, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label(value));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// A line as it is.
    fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
    }
}

/// A label value escaped as the format requires: `\`, `"` and line feed.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Help text escaped as the format requires: `\` and line feed.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_samples_in_the_text_format() {
        let mut out = Exposition::default();
        out.family("nomserve_x_total", "counter", "Things.\nMore \\ things.");
        out.sample(
            "nomserve_x_total",
            &[("status", "2xx"), ("method", "a\"b\\c\nd")],
            7,
        );
        out.gauge("nomserve_y", "Y.", 3);
        assert_eq!(
            out.text,
            "# HELP nomserve_x_total Things.\\nMore \\\\ things.\n\
             # TYPE nomserve_x_total counter\n\
             nomserve_x_total{status=\"2xx\",method=\"a\\\"b\\\\c\\nd\"} 7\n\
             # HELP nomserve_y Y.\n\
             # TYPE nomserve_y gauge\n\
             nomserve_y 3\n"
        );
    }

    #[test]
    fn methods_are_counted_by_name_or_as_other() {
        assert_eq!(method_index(b"GET"), 0);
        assert_eq!(method_index(b"PATCH"), 8);
        assert_eq!(method_index(b"get"), OTHER_METHOD);
        assert_eq!(method_index(b"PROPFIND"), OTHER_METHOD);
    }

    #[test]
    fn the_exposition_has_every_family_and_a_cumulative_histogram() {
        count_response(method_index(b"DELETE"), 404, 10, Duration::from_micros(700));
        count_response(method_index(b"DELETE"), 404, 0, Duration::from_secs(60));
        let text = exposition((5, 2));
        // Other tests count responses too: the DELETE 4xx sample is this test's alone.
        assert!(text.contains("\nnomserve_requests_total{status=\"4xx\",method=\"DELETE\"} 2\n"));
        assert!(text.contains("\nnomserve_connections_open 5\n"));
        assert!(text.contains("\nnomserve_connections_idle 2\n"));
        let buckets: Vec<u64> = text
            .lines()
            .filter(|l| l.starts_with("nomserve_request_duration_seconds_bucket"))
            .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(buckets.len(), BUCKETS.len() + 1);
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
        assert!(text.contains("nomserve_request_duration_seconds_bucket{le=\"+Inf\"}"));
        for name in [
            "nomserve_response_body_bytes_total",
            "nomserve_tls_handshakes_total",
            "nomserve_access_log_dropped_lines_total",
            "nomserve_file_cache_hits_total",
            "nomserve_listing_cache_misses_total",
            "nomserve_compression_saved_bytes_total",
            "nomserve_compression_dropped_total",
            "nomserve_compression_in_flight_bytes",
            "nomserve_open_fds",
            "nomserve_max_fds",
        ] {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
