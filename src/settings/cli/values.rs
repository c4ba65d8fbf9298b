//! The parsers of the flags' values: each accepts what its flag documents and says, in its
//! error, what it expected.

use crate::handlers::files::ErrorPage;
use crate::http::access_log::{Destination, Format};
use crate::server::listeners::Bind;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The longest timeout the flags accept. Deadlines are `Instant::now() + timeout`; a day is
/// far past any useful header or keep-alive timeout and keeps that sum from overflowing.
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Parses a humantime duration (`10s`, `500ms`, `1min`) that is neither zero nor longer than
/// [`MAX_TIMEOUT`].
pub(super) fn parse_timeout(text: &str) -> Result<Duration, String> {
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
pub(super) fn parse_bind(text: &str) -> Result<Bind, String> {
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
pub(super) fn parse_mode(text: &str) -> Result<u32, String> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|mode| *mode <= 0o777)
        .ok_or_else(|| format!("{text:?} is not a file mode in octal, such as 660"))
}

/// Parses a rate in bytes a second: a size (see [`parse_size`]) and `/s`, such as `1KiB/s`
/// or `512B/s`; or `0` (no minimum).
pub(super) fn parse_rate(text: &str) -> Result<u64, String> {
    if text == "0" {
        return Ok(0);
    }
    let bad = || format!("{text:?} is not a rate such as 1KiB/s, 512B/s or 0");
    let amount = text.strip_suffix("/s").ok_or_else(bad)?;
    parse_size(amount).map_err(|_| bad())
}

/// Parses a size in bytes: a count and an optional unit (`B`, `KB` = 1000 B, `KiB` =
/// 1024 B, `MB`, `MiB`, `GB`, `GiB`), such as `64KiB` or `512`.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
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
pub(super) fn parse_field_value(text: &str) -> Result<String, String> {
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

/// Accepts a path relative to the root that stays beneath it: not absolute, no `..`, not
/// empty.
pub(super) fn parse_site_file(text: &str) -> Result<PathBuf, String> {
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
pub(super) fn parse_error_page(text: &str) -> Result<ErrorPage, String> {
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
pub(super) fn parse_index_name(text: &str) -> Result<String, String> {
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
pub(super) fn parse_origin(text: &str) -> Result<String, String> {
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
pub(super) fn parse_access_log(text: &str) -> Result<Destination, String> {
    match text {
        "" => Err("the access log is a file's path, `-` or `off`".to_string()),
        "off" => Ok(Destination::Off),
        "-" => Ok(Destination::Stdout),
        path => Ok(Destination::File(PathBuf::from(path))),
    }
}

/// Parses `--log-format`: `combined` or `json`.
pub(super) fn parse_log_format(text: &str) -> Result<Format, String> {
    match text {
        "combined" => Ok(Format::Combined),
        "json" => Ok(Format::Json),
        _ => Err(format!("{text:?} is not combined or json")),
    }
}
