//! The current time as an HTTP-date, formatted at most once a second per thread.
//!
//! Every response carries a Date field (RFC 9110 §6.6.1) and every access-log line a
//! timestamp; both have a resolution of one second, so each thread keeps the IMF-fixdate of
//! the current second and formats again only when the second changes.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    /// The second (since the epoch) the cached date is for, and the date.
    static CACHE: Cell<(u64, [u8; 29])> = const { Cell::new((u64::MAX, [b' '; 29])) };
}

/// The current time as an IMF-fixdate, such as `Tue, 24 Nov 2026 06:02:13 GMT`
/// (RFC 9110 §5.6.7).
pub fn http_date() -> [u8; 29] {
    let now = SystemTime::now();
    // A clock set before 1970 is reported as 1970 rather than failing a response.
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CACHE.with(|cache| {
        let (cached_second, date) = cache.get();
        if cached_second == second {
            date
        } else {
            let date = nomserve_grammar::format_http_date(now);
            cache.set((second, date));
            date
        }
    })
}

/// Rewrites an IMF-fixdate (`Tue, 24 Nov 2026 06:02:13 GMT`) into the Common Log Format's
/// timestamp (`24/Nov/2026:06:02:13 +0000`). IMF-fixdate has fixed columns (RFC 9110
/// §5.6.7), so this only moves bytes.
pub fn clf_timestamp(date: &[u8; 29]) -> String {
    let day = &date[5..7];
    let month = &date[8..11];
    let year = &date[12..16];
    let time = &date[17..25];
    let mut out = Vec::with_capacity(26);
    for (i, part) in [day, month, year].into_iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        out.extend_from_slice(part);
    }
    out.push(b':');
    out.extend_from_slice(time);
    out.extend_from_slice(b" +0000");
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_timestamp_moves_the_fields() {
        assert_eq!(
            clf_timestamp(b"Tue, 24 Nov 2026 06:02:13 GMT"),
            "24/Nov/2026:06:02:13 +0000"
        );
        assert_eq!(
            clf_timestamp(b"Thu, 01 Jan 1970 00:00:00 GMT"),
            "01/Jan/1970:00:00:00 +0000"
        );
    }

    #[test]
    fn http_date_is_an_imf_fixdate_of_now() {
        let date = http_date();
        let text = std::str::from_utf8(&date).unwrap();
        assert!(text.ends_with(" GMT"), "{text}");
        assert_eq!(&text[3..5], ", ", "{text}");
        // The cached value is returned again within the same second, or a later date.
        let again = http_date();
        assert!(
            nomserve_grammar::parse_http_date(&again) >= nomserve_grammar::parse_http_date(&date)
        );
    }
}
