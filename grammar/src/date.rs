//! HTTP-date (RFC 9110 §5.6.7): parsing all three forms, formatting the preferred one.
//!
//! Dates decide conditional requests (If-Modified-Since, If-Unmodified-Since, If-Range) and
//! are sent in Date and Last-Modified. RFC 9110 obliges a recipient to accept the two obsolete
//! forms too, so the parser has one rule per form; the formatter writes only IMF-fixdate.
//! Calendar arithmetic is done by hand (Howard Hinnant's `days_from_civil` and
//! `civil_from_days`), exact over the proleptic Gregorian calendar, so no date crate is needed.
//!
//! Both entry points are total and do constant work: any input gives a value or `None`.

#![forbid(unsafe_code)]

use crate::abnf::{DIGIT, decimal};
use crate::error::ErrorKind;
use crate::fail::{Fail, PResult, fail};
use nom::Parser;
use nom::branch::alt;
use nom::bytes::complete::{tag, take_while_m_n};
use nom::combinator::{all_consuming, map, map_parser, value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses an HTTP-date in any of its three forms; `None` if `input` is not exactly one.
///
/// ```text
/// HTTP-date    = IMF-fixdate / obs-date
/// obs-date     = rfc850-date / asctime-date
/// ```
/// RFC 9110 §5.6.7. The match is exact and case-sensitive, as the RFC says: no surrounding
/// whitespace (the head parser already stripped the field value's OWS), `GMT` in capitals.
///
/// Decisions where the RFC leaves room:
/// - The day-name is checked against the grammar but not against the date. RFC 9110 §5.6.7
///   says nothing about a day-name that disagrees with the date; it says "Recipients of
///   timestamp values are encouraged to be robust in parsing timestamps", and the day-name
///   is redundant (the date fixes the weekday), so the date wins.
/// - The day of the month must exist in its month (`Feb 29` only in leap years), hour ≤ 23,
///   minute ≤ 59; second 60 (a leap second) is read as 59, since `SystemTime` has none.
/// - Dates before 1970 are clamped to the epoch: they stay valid HTTP-dates (so an
///   If-Unmodified-Since of 1969 still fails for any file), but cannot be earlier than every
///   time this server emits.
/// - rfc850-date's two-digit year is resolved against the clock: see `parse_http_date_at`.
///
/// ```
/// use nomserve_grammar::parse_http_date;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let t = UNIX_EPOCH + Duration::from_secs(784111777);
/// assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
/// assert_eq!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), Some(t));
/// assert_eq!(parse_http_date(b"Sun Nov  6 08:49:37 1994"), Some(t));
/// ```
pub fn parse_http_date(input: &[u8]) -> Option<SystemTime> {
    parse_http_date_at(input, SystemTime::now())
}

/// [`parse_http_date`] with the current time given, for rfc850-date's two-digit year.
///
/// RFC 9110 §5.6.7: "Recipients of a timestamp value in rfc850-date format, which uses a
/// two-digit year, MUST interpret a timestamp that appears to be more than 50 years in the
/// future as representing the most recent year in the past that had the same last two
/// digits." The year is placed in `now`'s century; if that is more than 50 years after `now`'s
/// year, it moves back a century. Taking the time as an argument keeps the grammar free of
/// hidden clock reads and the rule testable.
pub fn parse_http_date_at(input: &[u8], now: SystemTime) -> Option<SystemTime> {
    let (_, date) = all_consuming(alt((imf_fixdate, rfc850_date, asctime_date)))
        .parse(input)
        .ok()?;
    let year = match date.year {
        Year::Full(year) => year,
        Year::TwoDigit(yy) => {
            let this_year = civil_from_days(unix_seconds(now) / 86_400).0;
            let mut year = this_year - this_year.rem_euclid(100) + yy;
            if year > this_year + 50 {
                year -= 100;
            }
            year
        }
    };
    if date.day < 1 || date.day > days_in_month(year, date.month) {
        return None;
    }
    let days = days_from_civil(year, date.month, date.day);
    let seconds = days * 86_400 + date.hour * 3_600 + date.minute * 60 + date.second.min(59);
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0)))
}

/// Formats `time` as IMF-fixdate, the form RFC 9110 §5.6.7 says senders MUST generate:
/// `Sun, 06 Nov 1994 08:49:37 GMT`, always 29 bytes.
///
/// Fractions of a second are dropped. Times before 1970 are written as the epoch, and times
/// after 9999-12-31 23:59:59 (which a four-digit year cannot hold) as that instant.
///
/// ```
/// use nomserve_grammar::format_http_date;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let t = UNIX_EPOCH + Duration::from_secs(784111777);
/// assert_eq!(&format_http_date(t), b"Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
pub fn format_http_date(time: SystemTime) -> [u8; 29] {
    let seconds = unix_seconds(time).clamp(0, MAX_FORMATTED_SECONDS);
    let days = seconds / 86_400;
    let secs_of_day = seconds % 86_400;
    let (year, month, day) = civil_from_days(days);
    let weekday = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday, day 4 from Sunday.
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    let digits = |n: i64| -> u8 { b'0' + n.rem_euclid(10) as u8 };
    out[..3].copy_from_slice(DAY_NAMES[weekday as usize % 7].as_bytes());
    out[5] = digits(day / 10);
    out[6] = digits(day);
    out[8..11].copy_from_slice(MONTHS[(month as usize).saturating_sub(1) % 12].as_bytes());
    out[12] = digits(year / 1000);
    out[13] = digits(year / 100);
    out[14] = digits(year / 10);
    out[15] = digits(year);
    out[17] = digits(secs_of_day / 36_000);
    out[18] = digits(secs_of_day / 3_600);
    out[20] = digits(secs_of_day % 3_600 / 600);
    out[21] = digits(secs_of_day % 3_600 / 60);
    out[23] = digits(secs_of_day % 60 / 10);
    out[24] = digits(secs_of_day % 60);
    out
}

/// 9999-12-31 23:59:59 UTC, the last instant a four-digit year can write.
const MAX_FORMATTED_SECONDS: i64 = 253_402_300_799;

/// `day-name` in the order Sunday = 0, as [`format_http_date`] indexes them.
const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// `month` names, January = index 0.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds since the epoch, negative before it, saturating far outside.
fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

/// The fields of a date as written, before calendar checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DateParts {
    year: Year,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
}

/// A year as written: four digits, or rfc850-date's two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Year {
    Full(i64),
    TwoDigit(i64),
}

/// ```text
/// IMF-fixdate = day-name "," SP date1 SP time-of-day SP GMT
/// date1       = day SP month SP year
///             ; e.g., 02 Jun 1982
/// ```
/// RFC 9110 §5.6.7
fn imf_fixdate(input: &[u8]) -> PResult<'_, DateParts> {
    map(
        (
            day_name,
            tag(", "),
            digits(2),
            tag(" "),
            month,
            tag(" "),
            digits(4),
            tag(" "),
            time_of_day,
            tag(" "),
            gmt,
        ),
        |(_, _, day, _, month, _, year, _, (hour, minute, second), _, _)| DateParts {
            year: Year::Full(year),
            month,
            day,
            hour,
            minute,
            second,
        },
    )
    .parse(input)
}

/// ```text
/// rfc850-date = day-name-l "," SP date2 SP time-of-day SP GMT
/// date2       = day "-" month "-" 2DIGIT
///             ; e.g., 02-Jun-82
/// ```
/// RFC 9110 §5.6.7
fn rfc850_date(input: &[u8]) -> PResult<'_, DateParts> {
    map(
        (
            day_name_l,
            tag(", "),
            digits(2),
            tag("-"),
            month,
            tag("-"),
            digits(2),
            tag(" "),
            time_of_day,
            tag(" "),
            gmt,
        ),
        |(_, _, day, _, month, _, yy, _, (hour, minute, second), _, _)| DateParts {
            year: Year::TwoDigit(yy),
            month,
            day,
            hour,
            minute,
            second,
        },
    )
    .parse(input)
}

/// ```text
/// asctime-date = day-name SP date3 SP time-of-day SP year
/// date3        = month SP ( 2DIGIT / ( SP DIGIT ) )
///              ; e.g., Jun  2
/// ```
/// RFC 9110 §5.6.7
fn asctime_date(input: &[u8]) -> PResult<'_, DateParts> {
    map(
        (
            day_name,
            tag(" "),
            month,
            tag(" "),
            alt((digits(2), map((tag(" "), digits(1)), |(_, d)| d))),
            tag(" "),
            time_of_day,
            tag(" "),
            digits(4),
        ),
        |(_, _, month, _, day, _, (hour, minute, second), _, year)| DateParts {
            year: Year::Full(year),
            month,
            day,
            hour,
            minute,
            second,
        },
    )
    .parse(input)
}

/// ```text
/// day-name = %s"Mon" / %s"Tue" / %s"Wed" / %s"Thu" / %s"Fri" / %s"Sat" / %s"Sun"
/// ```
/// RFC 9110 §5.6.7 (case-sensitive)
fn day_name(input: &[u8]) -> PResult<'_, &[u8]> {
    alt((
        tag("Mon"),
        tag("Tue"),
        tag("Wed"),
        tag("Thu"),
        tag("Fri"),
        tag("Sat"),
        tag("Sun"),
    ))
    .parse(input)
}

/// ```text
/// day-name-l = %s"Monday" / %s"Tuesday" / %s"Wednesday" / %s"Thursday"
///            / %s"Friday" / %s"Saturday" / %s"Sunday"
/// ```
/// RFC 9110 §5.6.7 (case-sensitive)
fn day_name_l(input: &[u8]) -> PResult<'_, &[u8]> {
    alt((
        tag("Monday"),
        tag("Tuesday"),
        tag("Wednesday"),
        tag("Thursday"),
        tag("Friday"),
        tag("Saturday"),
        tag("Sunday"),
    ))
    .parse(input)
}

/// ```text
/// month = %s"Jan" / %s"Feb" / %s"Mar" / %s"Apr" / %s"May" / %s"Jun"
///       / %s"Jul" / %s"Aug" / %s"Sep" / %s"Oct" / %s"Nov" / %s"Dec"
/// ```
/// RFC 9110 §5.6.7 (case-sensitive). The month's number, 1 to 12.
fn month(input: &[u8]) -> PResult<'_, i64> {
    alt((
        value(1, tag("Jan")),
        value(2, tag("Feb")),
        value(3, tag("Mar")),
        value(4, tag("Apr")),
        value(5, tag("May")),
        value(6, tag("Jun")),
        value(7, tag("Jul")),
        value(8, tag("Aug")),
        value(9, tag("Sep")),
        value(10, tag("Oct")),
        value(11, tag("Nov")),
        value(12, tag("Dec")),
    ))
    .parse(input)
}

/// ```text
/// time-of-day = hour ":" minute ":" second
///             ; 00:00:00 - 23:59:60 (leap second)
/// hour        = 2DIGIT
/// minute      = 2DIGIT
/// second      = 2DIGIT
/// ```
/// RFC 9110 §5.6.7, with the ranges in its comment enforced.
fn time_of_day(input: &[u8]) -> PResult<'_, (i64, i64, i64)> {
    let (rest, (hour, _, minute, _, second)) =
        (digits(2), tag(":"), digits(2), tag(":"), digits(2)).parse(input)?;
    if hour > 23 || minute > 59 || second > 60 {
        return fail(ErrorKind::InvalidFieldValue, input);
    }
    Ok((rest, (hour, minute, second)))
}

/// `GMT = %s"GMT"` (RFC 9110 §5.6.7, case-sensitive)
fn gmt(input: &[u8]) -> PResult<'_, &[u8]> {
    tag("GMT").parse(input)
}

/// Exactly `n` DIGITs (RFC 5234 B.1) as a number: `day = 2DIGIT`, `year = 4DIGIT`, and so on;
/// the `n` digits are read by [`decimal`].
fn digits<'a>(n: usize) -> impl Parser<&'a [u8], Output = i64, Error = Fail<'a>> {
    map(
        map_parser(take_while_m_n(n, n, |b| DIGIT.contains(b)), decimal),
        // At most four digits: far inside i64.
        |v| v as i64,
    )
}

/// Whether `year` is a Gregorian leap year.
fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

/// How many days `month` (1 to 12) of `year` has.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's `days_from_civil`:
/// eras of 400 years, years starting in March so the leap day is last).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date `(year, month, day)` of a day count since 1970-01-01 (Hinnant's
/// `civil_from_days`, the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn parse(s: &str) -> Option<u64> {
        parse_http_date_at(s.as_bytes(), at(1_750_000_000))
            .map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs())
    }

    #[test]
    fn the_three_rfc_examples() {
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(parse("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
    }

    #[test]
    fn accepted_edges() {
        assert_eq!(parse("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(parse("Thu, 29 Feb 2024 12:00:00 GMT"), Some(1_709_208_000));
        assert_eq!(parse("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        assert_eq!(
            parse("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(253_402_300_799)
        );
        assert_eq!(parse("Sun Nov 16 08:49:37 1994"), Some(784_975_777));
        assert_eq!(parse("Sun Nov 06 08:49:37 1994"), Some(784_111_777));
    }

    #[test]
    fn leap_second_reads_as_59() {
        assert_eq!(
            parse("Sat, 31 Dec 2016 23:59:60 GMT"),
            parse("Sat, 31 Dec 2016 23:59:59 GMT")
        );
    }

    #[test]
    fn inconsistent_day_name_is_not_rejected() {
        assert_eq!(parse("Mon, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
    }

    #[test]
    fn before_1970_clamps_to_the_epoch() {
        assert_eq!(parse("Wed, 31 Dec 1969 23:59:59 GMT"), Some(0));
        assert_eq!(parse("Sat, 01 Jan 0000 00:00:00 GMT"), Some(0));
    }

    #[test]
    fn invalid_dates() {
        for bad in [
            "Thu, 30 Feb 2024 00:00:00 GMT",
            "Wed, 29 Feb 2023 00:00:00 GMT",
            "Thu, 31 Apr 2024 00:00:00 GMT",
            "Thu, 00 Jan 2024 00:00:00 GMT",
            "Thu, 32 Jan 2024 00:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 06 Nov 1994 08:49:37 gmt",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            " Sun, 06 Nov 1994 08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov  1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov   6 08:49:37 1994",
            "Sun Nov  6 08:49:37 1994 GMT",
            "Sun Nov  6 08:49:37 94",
            "Sun, 06 Nov 1994 08:49:37 GMT\0",
            "Sun, ０6 Nov 1994 08:49:37 GMT",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rfc850_two_digit_years_resolve_against_the_clock() {
        // 2025-06-15: "75" is 50 years ahead, kept; "76" is 51 ahead, so 1976.
        let now = at(1_749_945_600);
        let year_of = |s: &str| {
            let t = parse_http_date_at(s.as_bytes(), now).unwrap();
            let days = unix_seconds(t) / 86_400;
            civil_from_days(days).0
        };
        assert_eq!(year_of("Sunday, 01-Jan-75 00:00:00 GMT"), 2075);
        assert_eq!(year_of("Sunday, 01-Jan-76 00:00:00 GMT"), 1976);
        assert_eq!(year_of("Sunday, 01-Jan-25 00:00:00 GMT"), 2025);
        assert_eq!(year_of("Sunday, 01-Jan-00 00:00:00 GMT"), 2000);
        assert_eq!(year_of("Sunday, 01-Jan-99 00:00:00 GMT"), 1999);
        // In 2090, "30" is 2030: the rule only moves a year back from the far future, it
        // never moves a past year forward.
        let later = at(3_786_912_000);
        let t = parse_http_date_at(b"Sunday, 01-Jan-30 00:00:00 GMT", later).unwrap();
        assert_eq!(civil_from_days(unix_seconds(t) / 86_400).0, 2030);
    }

    #[test]
    fn formats_the_rfc_example_and_the_edges() {
        assert_eq!(
            &format_http_date(at(784_111_777)),
            b"Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            &format_http_date(UNIX_EPOCH),
            b"Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            &format_http_date(at(951_782_400)),
            b"Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(
            &format_http_date(at(253_402_300_799)),
            b"Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            &format_http_date(at(253_402_300_800)),
            b"Fri, 31 Dec 9999 23:59:59 GMT"
        );
        assert_eq!(
            &format_http_date(UNIX_EPOCH - Duration::from_secs(86_400)),
            b"Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            &format_http_date(at(1_000_000_000) + Duration::from_millis(999)),
            b"Sun, 09 Sep 2001 01:46:40 GMT"
        );
    }

    /// A day-by-day walk from the epoch, the naive reference for the civil arithmetic.
    #[test]
    fn civil_arithmetic_matches_a_day_by_day_walk() {
        let (mut y, mut m, mut d) = (1970, 1, 1);
        for days in 0..(800 * 366) {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            assert_eq!(days_from_civil(y, m, d), days);
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(secs in 0u64..=253_402_300_799) {
            let formatted = format_http_date(at(secs));
            prop_assert_eq!(parse_http_date(&formatted), Some(at(secs)));
        }

        #[test]
        fn asctime_and_rfc850_agree_with_imf_fixdate(secs in 0u64..=4_102_444_799) {
            // Rewrite the IMF-fixdate into the two obsolete forms and parse them back.
            let imf = format_http_date(at(secs));
            let s = std::str::from_utf8(&imf).unwrap();
            let (name, day, month, year, time) = (&s[..3], &s[5..7], &s[8..11], &s[12..16], &s[17..25]);
            let asctime = format!("{name} {month} {:>2} {time} {year}", day.trim_start_matches('0'));
            prop_assert_eq!(parse_http_date(asctime.as_bytes()), Some(at(secs)));
            let long = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
                [DAY_NAMES.iter().position(|n| *n == name).unwrap()];
            let rfc850 = format!("{long}, {day}-{month}-{} {time} GMT", &year[2..]);
            // Resolve the two-digit year in the same century, 20 years later.
            let now = at(secs + 20 * 365 * 86_400);
            prop_assert_eq!(parse_http_date_at(rfc850.as_bytes(), now), Some(at(secs)));
        }

        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse_http_date(&input);
        }
    }
}
