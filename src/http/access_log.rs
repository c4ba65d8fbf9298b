//! The access log: one line per response, in the Combined Log Format or as JSON.
//!
//! ```text
//! 127.0.0.1 - - [24/Nov/2026:06:02:13 +0000] "GET / HTTP/1.1" 200 140 "-" "curl/8.0"
//! {"time":"2026-11-24T06:02:13.270Z","client":"127.0.0.1","method":"GET","target":"/",...}
//! ```
//!
//! Where the lines go ([`Destination`]): by default to `log::info!` with target `access`, so
//! `RUST_LOG=warn` (or `access=off`) silences them; or to standard output or a file, through
//! a buffer of at most [`BUFFER_LINES`] lines that one writer thread drains. A worker only
//! hands its line to that buffer: a slow disk never holds a request up. When the buffer is
//! full the line is dropped and counted (the metric `nomserve_access_log_dropped_lines_total`,
//! and a warning in the log at most every [`REPORT_EVERY`]). [`reopen`] (SIGUSR1) makes the
//! writer open the file again by its name, after logrotate renamed it.
//!
//! Every field that comes from the client is escaped. In the Combined Log Format, bytes
//! outside printable ASCII, `"` and `\` become `\xHH`, so a request cannot forge or break
//! log lines. In JSON, strings are escaped as RFC 8259 §7 requires, control characters
//! (and DEL, U+2028 and U+2029) as `\u00XX`, and bytes that are not UTF-8 are each replaced
//! by U+FFFD, so that every line is one valid JSON object.

use crate::http::head::RequestHead;
use crate::http::{clock, json};
use crate::metrics;
use nomserve_grammar::Request;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

/// The log target of access-log lines.
pub const TARGET: &str = "access";

/// Most lines waiting for the writer thread: about a second of a busy server's traffic, a
/// few megabytes at most.
pub const BUFFER_LINES: usize = 8192;

/// How often, at most, the writer reports dropped lines or failed writes.
pub const REPORT_EVERY: Duration = Duration::from_secs(10);

/// How long [`finish`] waits for the writer at exit: a stuck disk does not keep the process
/// from exiting.
const FINISH_WAIT: Duration = Duration::from_secs(5);

/// The format of the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Apache's Combined Log Format.
    Combined,
    /// One JSON object per line.
    Json,
}

/// Where the lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `log::info!` at target [`TARGET`] (the process's log, on stderr).
    Logger,
    /// Nowhere.
    Off,
    /// Standard output, through the writer thread.
    Stdout,
    /// The file, appended to, through the writer thread.
    File(PathBuf),
}

/// The configured log.
struct Sink {
    format: Format,
    out: Out,
}

/// Where a finished line is handed.
enum Out {
    Logger,
    Off,
    Writer(SyncSender<Message>),
}

/// What the writer thread receives.
enum Message {
    /// A line, with its line feed.
    Line(String),
    /// Look at [`REOPEN`].
    Wake,
    /// Write out every line before this one, then say so.
    Finish(SyncSender<()>),
}

/// The log, once [`start`] set it; until then lines go to the logger as Combined.
static SINK: OnceLock<Sink> = OnceLock::new();

/// Set by [`reopen`]; the writer opens its file again when it sees it.
static REOPEN: AtomicBool = AtomicBool::new(false);

const DEFAULT_SINK: Sink = Sink {
    format: Format::Combined,
    out: Out::Logger,
};

/// Sets up the log: for standard output or a file, opens it (creating it if needed) and
/// starts the writer thread. Called once, before the server starts. Fails if the file
/// cannot be opened or the thread started.
pub fn start(destination: Destination, format: Format) -> io::Result<()> {
    let out = match destination {
        Destination::Logger => Out::Logger,
        Destination::Off => Out::Off,
        Destination::Stdout => Out::Writer(spawn_writer(None, Box::new(io::stdout()))?),
        Destination::File(path) => {
            let file = open(&path)?;
            Out::Writer(spawn_writer(Some(path), Box::new(BufWriter::new(file)))?)
        }
    };
    if SINK.set(Sink { format, out }).is_err() {
        log::warn!("the access log was set up twice; the first setting stays");
    }
    Ok(())
}

/// Makes the writer open its file again, by name (SIGUSR1, after a log rotation). Nothing
/// happens when the log is not a file.
pub fn reopen() {
    match &sink().out {
        Out::Writer(sender) => {
            REOPEN.store(true, Ordering::Release);
            // A full buffer means the writer is busy: it sees the flag after its next line.
            let _ = sender.try_send(Message::Wake);
        }
        Out::Logger | Out::Off => {
            log::info!("SIGUSR1: the access log is not a file; nothing to reopen")
        }
    }
}

/// Waits until the lines logged so far are written out (at most [`FINISH_WAIT`]): called
/// as the process exits, so that the last responses of a graceful shutdown are in the log.
pub fn finish() {
    let Out::Writer(sender) = &sink().out else {
        return;
    };
    let deadline = Instant::now() + FINISH_WAIT;
    let (done, finished) = sync_channel(1);
    let mut message = Message::Finish(done);
    loop {
        match sender.try_send(message) {
            Ok(()) => break,
            Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                message = back;
                thread::sleep(Duration::from_millis(10));
            }
            Err(_) => {
                log::warn!("the access log's last lines could not be written before exit");
                return;
            }
        }
    }
    if finished
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .is_err()
    {
        log::warn!("the access log's last lines could not be written before exit");
    }
}

fn sink() -> &'static Sink {
    SINK.get().unwrap_or(&DEFAULT_SINK)
}

/// Opens `path` to append to it, creating it if needed.
fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

/// Starts the thread that writes lines to `out` (the file at `path`, if it is one).
fn spawn_writer(
    path: Option<PathBuf>,
    out: Box<dyn Write + Send>,
) -> io::Result<SyncSender<Message>> {
    let (sender, receiver) = sync_channel(BUFFER_LINES);
    let writer = Writer {
        path,
        out,
        reported_drops: 0,
        last_report: None,
    };
    thread::Builder::new()
        .name("access-log".to_string())
        .spawn(move || writer.run(&receiver))?;
    Ok(sender)
}

/// The writer thread's state.
struct Writer {
    path: Option<PathBuf>,
    out: Box<dyn Write + Send>,
    /// Dropped lines already reported.
    reported_drops: u64,
    /// When a drop or a failed write was last reported.
    last_report: Option<Instant>,
}

impl Writer {
    /// Writes lines as they come, flushing whenever the buffer is empty, until every sender
    /// is gone.
    fn run(mut self, receiver: &Receiver<Message>) {
        loop {
            match receiver.recv_timeout(REPORT_EVERY) {
                Ok(message) => {
                    self.take(message);
                    while let Ok(message) = receiver.try_recv() {
                        self.take(message);
                    }
                    let flushed = self.out.flush();
                    self.check(flushed);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
            self.report_drops();
        }
    }

    fn take(&mut self, message: Message) {
        match message {
            Message::Line(line) => {
                let written = self.out.write_all(line.as_bytes());
                self.check(written);
            }
            Message::Wake => {}
            Message::Finish(done) => {
                let flushed = self.out.flush();
                self.check(flushed);
                let _ = done.send(());
            }
        }
        if REOPEN.swap(false, Ordering::AcqRel) {
            self.reopen();
        }
    }

    /// Opens the file again by its name; on failure keeps writing to the one open.
    fn reopen(&mut self) {
        let Some(path) = self.path.clone() else {
            log::info!("SIGUSR1: the access log is standard output; nothing to reopen");
            return;
        };
        let flushed = self.out.flush();
        self.check(flushed);
        match open(&path) {
            Ok(file) => {
                self.out = Box::new(BufWriter::new(file));
                log::info!("SIGUSR1: reopened the access log {}", path.display());
            }
            Err(e) => log::error!(
                "SIGUSR1: cannot reopen the access log {}: {e}; writing on to the open file",
                path.display()
            ),
        }
    }

    /// Reports a failed write, at most every [`REPORT_EVERY`].
    fn check(&mut self, result: io::Result<()>) {
        if let Err(e) = result {
            if self.may_report() {
                log::error!("cannot write the access log: {e}");
            }
        }
    }

    /// Reports lines dropped since the last report, at most every [`REPORT_EVERY`].
    fn report_drops(&mut self) {
        let dropped = metrics::log_dropped();
        if dropped > self.reported_drops && self.may_report() {
            log::warn!(
                "access log: {} lines dropped (more than {BUFFER_LINES} waiting to be written)",
                dropped - self.reported_drops
            );
            self.reported_drops = dropped;
        }
    }

    fn may_report(&mut self) -> bool {
        let now = Instant::now();
        let due = self
            .last_report
            .is_none_or(|last| now.duration_since(last) >= REPORT_EVERY);
        if due {
            self.last_report = Some(now);
        }
        due
    }
}

/// What the access log and the metrics keep of a request, from when its head is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// The client, when it is not the connection's peer (a trusted proxy named it).
    client: Option<IpAddr>,
    /// When the head was read (or found malformed).
    start: Instant,
    /// The method's index in the metrics' request counts.
    method: usize,
    /// What is logged; `None` when only the metrics are on.
    text: Option<Box<Text>>,
}

/// The client's bytes the access log records, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Text {
    /// The request-line (of an unparsed request: its printable start).
    line: Box<[u8]>,
    /// For a parsed request-line, where the method ends and where the protocol starts
    /// (`method SP request-target SP HTTP-version`, RFC 9112 §3).
    parts: Option<(usize, usize)>,
    referer: Option<Box<[u8]>>,
    user_agent: Option<Box<[u8]>>,
}

impl RequestInfo {
    /// The fields of a request that parsed, from `client`, or `None` when neither the access
    /// log nor the metrics are on (so that they cost nothing then). The access log takes the
    /// request-line from `head`.
    pub fn parsed(
        head: &RequestHead<'_>,
        request: &Request<'_, '_>,
        client: IpAddr,
    ) -> Option<RequestInfo> {
        let logged = enabled();
        if !logged && !metrics::enabled() {
            return None;
        }
        let text = logged.then(|| {
            let line = head.request_line();
            let method_end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
            let protocol = line
                .iter()
                .rposition(|&b| b == b' ')
                .map_or(line.len(), |i| i + 1);
            let field = |name: &str| request.headers.get(name).map(Box::from);
            Box::new(Text {
                line: Box::from(line.as_ref()),
                parts: (method_end + 1 < protocol).then_some((method_end, protocol)),
                referer: field("Referer"),
                user_agent: field("User-Agent"),
            })
        });
        Some(RequestInfo {
            client: Some(client),
            start: Instant::now(),
            method: metrics::method_index(request.method.as_str().as_bytes()),
            text,
        })
    }

    /// The fields of a request that did not parse: its request-line as far as it is
    /// printable ASCII, no referer, no user agent. `None` when neither the access log nor
    /// the metrics are on.
    pub fn unparsed(bytes: &[u8]) -> Option<RequestInfo> {
        let logged = enabled();
        if !logged && !metrics::enabled() {
            return None;
        }
        let printable = bytes
            .iter()
            .position(|&b| !(b' '..=b'~').contains(&b))
            .unwrap_or(bytes.len());
        let text = logged.then(|| {
            Box::new(Text {
                line: Box::from(&bytes[..printable]),
                parts: None,
                referer: None,
                user_agent: None,
            })
        });
        Some(RequestInfo {
            client: None,
            start: Instant::now(),
            method: metrics::OTHER_METHOD,
            text,
        })
    }
}

/// Whether access-log lines are written at all.
fn enabled() -> bool {
    match sink().out {
        Out::Logger => log::log_enabled!(target: TARGET, log::Level::Info),
        Out::Off => false,
        Out::Writer(_) => true,
    }
}

/// Records one response, in the metrics and the access log: sent to `peer`, for the request
/// `info` describes (`None`: no request was read, or both are off), with `status` and
/// `body_bytes` bytes of content sent.
pub fn record(peer: IpAddr, info: Option<&RequestInfo>, status: u16, body_bytes: u64) {
    let (method, duration) = info.map_or((metrics::OTHER_METHOD, Duration::ZERO), |info| {
        (info.method, info.start.elapsed())
    });
    if metrics::enabled() {
        metrics::count_response(method, status, body_bytes, duration);
    }
    if !enabled() {
        return;
    }
    let peer = info.and_then(|info| info.client).unwrap_or(peer);
    let sink = sink();
    let entry = Entry {
        peer,
        text: info.and_then(|info| info.text.as_deref()),
        status,
        body_bytes,
        duration,
    };
    let line = match sink.format {
        Format::Combined => {
            let time = clock::clf_timestamp(&clock::http_date());
            entry.combined(&time)
        }
        Format::Json => {
            let time = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
            entry.json(&time)
        }
    };
    match &sink.out {
        Out::Logger => log::info!(target: TARGET, "{line}"),
        Out::Off => {}
        Out::Writer(sender) => {
            let mut line = line;
            line.push('\n');
            if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) =
                sender.try_send(Message::Line(line))
            {
                metrics::count_log_dropped();
            }
        }
    }
}

/// One response, as logged.
struct Entry<'a> {
    peer: IpAddr,
    text: Option<&'a Text>,
    status: u16,
    body_bytes: u64,
    duration: Duration,
}

impl Entry<'_> {
    /// A Combined Log Format line at `time`. Like Apache's `%b`, a response without content
    /// bytes logs `-` as its size.
    fn combined(&self, time: &str) -> String {
        let text = self.text;
        let mut out = String::with_capacity(192);
        let _ = write!(out, "{} - - [{time}] \"", self.peer);
        escape_or_dash(&mut out, text.map(|text| &text.line[..]));
        let _ = write!(out, "\" {} ", self.status);
        match self.body_bytes {
            0 => out.push('-'),
            n => {
                let _ = write!(out, "{n}");
            }
        }
        out.push_str(" \"");
        escape_or_dash(&mut out, text.and_then(|text| text.referer.as_deref()));
        out.push_str("\" \"");
        escape_or_dash(&mut out, text.and_then(|text| text.user_agent.as_deref()));
        out.push('"');
        out
    }

    /// A JSON object at `time` (RFC 3339): `request` is the request-line as received;
    /// `method`, `target` and `protocol` its parts, `null` when it did not parse; `referer`
    /// and `user_agent` are `null` when the request had none.
    fn json(&self, time: &str) -> String {
        let text = self.text;
        let line = text.map(|text| &text.line[..]);
        let part = |pick: fn(&[u8], usize, usize) -> &[u8]| {
            let text = text?;
            let (method_end, protocol) = text.parts?;
            Some(pick(&text.line, method_end, protocol))
        };
        let mut out = String::with_capacity(256);
        out.push_str("{\"time\":");
        json::string(&mut out, time.as_bytes());
        let _ = write!(out, ",\"client\":\"{}\"", self.peer);
        out.push_str(",\"method\":");
        json_value(&mut out, part(|line, method_end, _| &line[..method_end]));
        out.push_str(",\"target\":");
        json_value(
            &mut out,
            part(|line, method_end, protocol| &line[method_end + 1..protocol - 1]),
        );
        out.push_str(",\"protocol\":");
        json_value(&mut out, part(|line, _, protocol| &line[protocol..]));
        out.push_str(",\"request\":");
        json_value(&mut out, line);
        let _ = write!(
            out,
            ",\"status\":{},\"bytes\":{},\"duration_us\":{}",
            self.status,
            self.body_bytes,
            self.duration.as_micros()
        );
        out.push_str(",\"referer\":");
        json_value(&mut out, text.and_then(|text| text.referer.as_deref()));
        out.push_str(",\"user_agent\":");
        json_value(&mut out, text.and_then(|text| text.user_agent.as_deref()));
        out.push('}');
        out
    }
}

/// Appends `bytes` escaped (see [`escape`]), or `-` when absent or empty.
fn escape_or_dash(out: &mut String, bytes: Option<&[u8]>) {
    match bytes {
        Some(bytes) if !bytes.is_empty() => escape_into(out, bytes),
        _ => out.push('-'),
    }
}

/// `bytes` with every byte outside printable ASCII, and `"` and `\`, written as `\xHH`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    escape_into(&mut out, bytes);
    out
}

/// Appends `bytes` escaped as [`escape`] does.
fn escape_into(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\x{b:02X}");
        }
    }
}

/// Appends `bytes` as a JSON string, or `null` when absent.
fn json_value(out: &mut String, bytes: Option<&[u8]>) {
    match bytes {
        Some(bytes) => json::string(out, bytes),
        None => out.push_str("null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &[u8], referer: Option<&[u8]>, user_agent: Option<&[u8]>) -> Text {
        let method_end = line.iter().position(|&b| b == b' ').unwrap();
        let protocol = line.iter().rposition(|&b| b == b' ').unwrap() + 1;
        Text {
            line: Box::from(line),
            parts: Some((method_end, protocol)),
            referer: referer.map(Box::from),
            user_agent: user_agent.map(Box::from),
        }
    }

    fn json(bytes: &[u8]) -> String {
        let mut out = String::new();
        json::string(&mut out, bytes);
        out
    }

    #[test]
    fn escape_keeps_printable_ascii_and_hides_the_rest() {
        assert_eq!(escape(b"GET / HTTP/1.1"), "GET / HTTP/1.1");
        assert_eq!(escape(b"a\"b\\c"), "a\\x22b\\x5Cc");
        assert_eq!(escape(b"x\r\ny\x00\x7f\xff"), "x\\x0D\\x0Ay\\x00\\x7F\\xFF");
        assert_eq!(escape(b""), "");
    }

    #[test]
    fn json_strings_escape_quotes_controls_and_replace_what_is_not_utf8() {
        assert_eq!(json(b"plain /a?b=c"), "\"plain /a?b=c\"");
        assert_eq!(json(b"a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(json(b"\r\n\t"), "\"\\r\\n\\t\"");
        assert_eq!(
            json(b"\x00\x01\x1f\x7f"),
            "\"\\u0000\\u0001\\u001f\\u007f\""
        );
        assert_eq!(
            json("caf\u{e9} \u{2028}".as_bytes()),
            "\"caf\u{e9} \\u2028\""
        );
        // An invalid byte, a truncated sequence, and an overlong encoding of `/`.
        assert_eq!(json(b"a\xffb"), "\"a\u{FFFD}b\"");
        assert_eq!(json(b"x\xe2\x82"), "\"x\u{FFFD}\"");
        assert_eq!(json(b"\xc0\xaf"), "\"\u{FFFD}\u{FFFD}\"");
        assert_eq!(json(b""), "\"\"");
    }

    #[test]
    fn a_combined_log_format_line() {
        let request = text(b"GET / HTTP/1.1", None, Some(b"curl/8.0"));
        let entry = Entry {
            peer: IpAddr::from([127, 0, 0, 1]),
            text: Some(&request),
            status: 200,
            body_bytes: 140,
            duration: Duration::from_micros(5),
        };
        assert_eq!(
            entry.combined("24/Nov/2026:06:02:13 +0000"),
            "127.0.0.1 - - [24/Nov/2026:06:02:13 +0000] \"GET / HTTP/1.1\" 200 140 \"-\" \"curl/8.0\""
        );
        let head = text(b"HEAD / HTTP/1.1", None, None);
        let empty = Entry {
            peer: "::1".parse().unwrap(),
            text: Some(&head),
            status: 200,
            body_bytes: 0,
            duration: Duration::ZERO,
        };
        assert_eq!(
            empty.combined("t"),
            "::1 - - [t] \"HEAD / HTTP/1.1\" 200 - \"-\" \"-\""
        );
    }

    #[test]
    fn a_json_line() {
        let request = text(
            b"GET /a\"b?q=\\ HTTP/1.1",
            Some(b"http://x/\xff"),
            Some(b"ua\x01"),
        );
        let entry = Entry {
            peer: "::1".parse().unwrap(),
            text: Some(&request),
            status: 404,
            body_bytes: 9,
            duration: Duration::from_micros(1234),
        };
        assert_eq!(
            entry.json("2026-11-24T06:02:13.270Z"),
            "{\"time\":\"2026-11-24T06:02:13.270Z\",\"client\":\"::1\",\"method\":\"GET\",\
             \"target\":\"/a\\\"b?q=\\\\\",\"protocol\":\"HTTP/1.1\",\
             \"request\":\"GET /a\\\"b?q=\\\\ HTTP/1.1\",\"status\":404,\"bytes\":9,\
             \"duration_us\":1234,\"referer\":\"http://x/\u{FFFD}\",\"user_agent\":\"ua\\u0001\"}"
        );
        let refused = Entry {
            peer: IpAddr::from([10, 0, 0, 1]),
            text: None,
            status: 503,
            body_bytes: 0,
            duration: Duration::ZERO,
        };
        assert_eq!(
            refused.json("t"),
            "{\"time\":\"t\",\"client\":\"10.0.0.1\",\"method\":null,\"target\":null,\
             \"protocol\":null,\"request\":null,\"status\":503,\"bytes\":0,\"duration_us\":0,\
             \"referer\":null,\"user_agent\":null}"
        );
    }
}
