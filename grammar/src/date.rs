//! HTTP-date (RFC 9110 §5.6.7).

use std::time::SystemTime;

/// Parses any of the three forms.
pub fn parse_http_date(input: &[u8]) -> Option<SystemTime> {
    let _ = input;
    todo!()
}

/// Formats as IMF-fixdate.
pub fn format_http_date(time: SystemTime) -> [u8; 29] {
    let _ = time;
    todo!()
}
