//! The access log: one line per response, in the Combined Log Format.
//!
//! ```text
//! 127.0.0.1 - - [24/Nov/2026:06:02:13 +0000] "GET / HTTP/1.1" 200 140 "-" "curl/8.0"
//! ```
//!
//! Lines go to `log::info!` with target `access`, so `RUST_LOG=warn` (or `access=off`)
//! silences them. Every field that comes from the client is escaped: bytes outside printable
//! ASCII, `"` and `\` become `\xHH`, so a request cannot forge or break log lines.

use crate::http::clock;
use nomserve_grammar::Request;
use std::net::IpAddr;

/// The log target of access-log lines.
pub const TARGET: &str = "access";

/// What the access log records of a request, escaped once when the head is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// The client, when it is not the connection's peer (a trusted proxy named it).
    client: Option<IpAddr>,
    line: String,
    referer: String,
    user_agent: String,
}

impl RequestInfo {
    /// The fields of a request that parsed, from `client`, or `None` when access logging is
    /// off (so a silenced log costs no allocation). `head` is the raw head; its first line is
    /// the request-line.
    pub fn parsed(head: &[u8], request: &Request<'_, '_>, client: IpAddr) -> Option<RequestInfo> {
        if !enabled() {
            return None;
        }
        let line_end = head.iter().position(|&b| b == b'\r').unwrap_or(head.len());
        let field = |name: &str| match request.headers.get(name) {
            Some(value) => escape(value),
            None => "-".to_string(),
        };
        Some(RequestInfo {
            client: Some(client),
            line: escape(&head[..line_end]),
            referer: field("Referer"),
            user_agent: field("User-Agent"),
        })
    }

    /// The fields of a request that did not parse: its request-line as far as it is
    /// printable ASCII (`-` if nothing is), no referer, no user agent. `None` when access
    /// logging is off.
    pub fn unparsed(bytes: &[u8]) -> Option<RequestInfo> {
        if !enabled() {
            return None;
        }
        let printable = bytes
            .iter()
            .position(|&b| !(b' '..=b'~').contains(&b))
            .unwrap_or(bytes.len());
        let line = match escape(&bytes[..printable]) {
            line if line.is_empty() => "-".to_string(),
            line => line,
        };
        Some(RequestInfo {
            client: None,
            line,
            referer: "-".to_string(),
            user_agent: "-".to_string(),
        })
    }
}

/// Whether access-log lines are written at all.
fn enabled() -> bool {
    log::log_enabled!(target: TARGET, log::Level::Info)
}

/// Logs one response: sent to `peer`, for the request `info` describes (`None`: no request
/// was read, or logging is off), with `status` and `body_bytes` bytes of content sent.
pub fn record(peer: IpAddr, info: Option<&RequestInfo>, status: u16, body_bytes: u64) {
    if !enabled() {
        return;
    }
    let time = clock::clf_timestamp(&clock::http_date());
    let peer = info.and_then(|info| info.client).unwrap_or(peer);
    let (line, referer, user_agent) = match info {
        Some(info) => (
            info.line.as_str(),
            info.referer.as_str(),
            info.user_agent.as_str(),
        ),
        None => ("-", "-", "-"),
    };
    log::info!(target: TARGET, "{}", format_line(peer, &time, line, status, body_bytes, referer, user_agent));
}

/// One Combined Log Format line. Like Apache's `%b`, a response without content bytes logs
/// `-` as its size.
fn format_line(
    peer: IpAddr,
    time: &str,
    line: &str,
    status: u16,
    body_bytes: u64,
    referer: &str,
    user_agent: &str,
) -> String {
    let size = match body_bytes {
        0 => "-".to_string(),
        n => n.to_string(),
    };
    format!("{peer} - - [{time}] \"{line}\" {status} {size} \"{referer}\" \"{user_agent}\"")
}

/// `bytes` with every byte outside printable ASCII, and `"` and `\`, written as `\xHH`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_keeps_printable_ascii_and_hides_the_rest() {
        assert_eq!(escape(b"GET / HTTP/1.1"), "GET / HTTP/1.1");
        assert_eq!(escape(b"a\"b\\c"), "a\\x22b\\x5Cc");
        assert_eq!(escape(b"x\r\ny\x00\x7f\xff"), "x\\x0D\\x0Ay\\x00\\x7F\\xFF");
        assert_eq!(escape(b""), "");
    }

    #[test]
    fn a_combined_log_format_line() {
        let line = format_line(
            IpAddr::from([127, 0, 0, 1]),
            "24/Nov/2026:06:02:13 +0000",
            "GET / HTTP/1.1",
            200,
            140,
            "-",
            "curl/8.0",
        );
        assert_eq!(
            line,
            "127.0.0.1 - - [24/Nov/2026:06:02:13 +0000] \"GET / HTTP/1.1\" 200 140 \"-\" \"curl/8.0\""
        );
        let empty = format_line(
            "::1".parse().unwrap(),
            "t",
            "HEAD / HTTP/1.1",
            200,
            0,
            "-",
            "-",
        );
        assert_eq!(empty, "::1 - - [t] \"HEAD / HTTP/1.1\" 200 - \"-\" \"-\"");
    }
}
