//! The static table of RFC 7541 Appendix A: 61 fields every HPACK coder knows, indices 1
//! to 61 (§2.3.1).

#![forbid(unsafe_code)]

/// Entries 1 to 61, in order (RFC 7541 Appendix A): `STATIC[i - 1]` is index `i`.
#[rustfmt::skip]
pub(crate) const STATIC: [(&[u8], &[u8]); 61] = [
    (b":authority", b""), // 1
    (b":method", b"GET"), // 2
    (b":method", b"POST"), // 3
    (b":path", b"/"), // 4
    (b":path", b"/index.html"), // 5
    (b":scheme", b"http"), // 6
    (b":scheme", b"https"), // 7
    (b":status", b"200"), // 8
    (b":status", b"204"), // 9
    (b":status", b"206"), // 10
    (b":status", b"304"), // 11
    (b":status", b"400"), // 12
    (b":status", b"404"), // 13
    (b":status", b"500"), // 14
    (b"accept-charset", b""), // 15
    (b"accept-encoding", b"gzip, deflate"), // 16
    (b"accept-language", b""), // 17
    (b"accept-ranges", b""), // 18
    (b"accept", b""), // 19
    (b"access-control-allow-origin", b""), // 20
    (b"age", b""), // 21
    (b"allow", b""), // 22
    (b"authorization", b""), // 23
    (b"cache-control", b""), // 24
    (b"content-disposition", b""), // 25
    (b"content-encoding", b""), // 26
    (b"content-language", b""), // 27
    (b"content-length", b""), // 28
    (b"content-location", b""), // 29
    (b"content-range", b""), // 30
    (b"content-type", b""), // 31
    (b"cookie", b""), // 32
    (b"date", b""), // 33
    (b"etag", b""), // 34
    (b"expect", b""), // 35
    (b"expires", b""), // 36
    (b"from", b""), // 37
    (b"host", b""), // 38
    (b"if-match", b""), // 39
    (b"if-modified-since", b""), // 40
    (b"if-none-match", b""), // 41
    (b"if-range", b""), // 42
    (b"if-unmodified-since", b""), // 43
    (b"last-modified", b""), // 44
    (b"link", b""), // 45
    (b"location", b""), // 46
    (b"max-forwards", b""), // 47
    (b"proxy-authenticate", b""), // 48
    (b"proxy-authorization", b""), // 49
    (b"range", b""), // 50
    (b"referer", b""), // 51
    (b"refresh", b""), // 52
    (b"retry-after", b""), // 53
    (b"server", b""), // 54
    (b"set-cookie", b""), // 55
    (b"strict-transport-security", b""), // 56
    (b"transfer-encoding", b""), // 57
    (b"user-agent", b""), // 58
    (b"vary", b""), // 59
    (b"via", b""), // 60
    (b"www-authenticate", b""), // 61
];

/// The index of the first static entry named `name` (names with several entries, such as
/// `:status`, have them in a row). Dispatched on the length first, so a lookup compares at
/// most a handful of names.
#[rustfmt::skip]
pub(crate) fn name_index(name: &[u8]) -> Option<u32> {
    match name.len() {
        3 => match name {
            b"age" => Some(21),
            b"via" => Some(60),
            _ => None,
        },
        4 => match name {
            b"date" => Some(33),
            b"etag" => Some(34),
            b"from" => Some(37),
            b"host" => Some(38),
            b"link" => Some(45),
            b"vary" => Some(59),
            _ => None,
        },
        5 => match name {
            b":path" => Some(4),
            b"allow" => Some(22),
            b"range" => Some(50),
            _ => None,
        },
        6 => match name {
            b"accept" => Some(19),
            b"cookie" => Some(32),
            b"expect" => Some(35),
            b"server" => Some(54),
            _ => None,
        },
        7 => match name {
            b":method" => Some(2),
            b":scheme" => Some(6),
            b":status" => Some(8),
            b"expires" => Some(36),
            b"referer" => Some(51),
            b"refresh" => Some(52),
            _ => None,
        },
        8 => match name {
            b"if-match" => Some(39),
            b"if-range" => Some(42),
            b"location" => Some(46),
            _ => None,
        },
        10 => match name {
            b":authority" => Some(1),
            b"set-cookie" => Some(55),
            b"user-agent" => Some(58),
            _ => None,
        },
        11 => match name {
            b"retry-after" => Some(53),
            _ => None,
        },
        12 => match name {
            b"content-type" => Some(31),
            b"max-forwards" => Some(47),
            _ => None,
        },
        13 => match name {
            b"accept-ranges" => Some(18),
            b"authorization" => Some(23),
            b"cache-control" => Some(24),
            b"content-range" => Some(30),
            b"if-none-match" => Some(41),
            b"last-modified" => Some(44),
            _ => None,
        },
        14 => match name {
            b"accept-charset" => Some(15),
            b"content-length" => Some(28),
            _ => None,
        },
        15 => match name {
            b"accept-encoding" => Some(16),
            b"accept-language" => Some(17),
            _ => None,
        },
        16 => match name {
            b"content-encoding" => Some(26),
            b"content-language" => Some(27),
            b"content-location" => Some(29),
            b"www-authenticate" => Some(61),
            _ => None,
        },
        17 => match name {
            b"if-modified-since" => Some(40),
            b"transfer-encoding" => Some(57),
            _ => None,
        },
        18 => match name {
            b"proxy-authenticate" => Some(48),
            _ => None,
        },
        19 => match name {
            b"content-disposition" => Some(25),
            b"if-unmodified-since" => Some(43),
            b"proxy-authorization" => Some(49),
            _ => None,
        },
        25 => match name {
            b"strict-transport-security" => Some(56),
            _ => None,
        },
        27 => match name {
            b"access-control-allow-origin" => Some(20),
            _ => None,
        },
        _ => None,
    }
}

/// The last entry with a value, `accept-encoding: gzip, deflate` (Appendix A).
const LAST_WITH_VALUE: u32 = 16;

/// The static index of `name` with `value`, when the table holds both, else of `name` alone
/// (the first entry with that name), with whether the value matched too.
pub(crate) fn find(name: &[u8], value: &[u8]) -> Option<(u32, bool)> {
    let first = name_index(name)?;
    // Past index 16 every entry has an empty value (Appendix A): no scan.
    if first > LAST_WITH_VALUE {
        return Some((first, value.is_empty()));
    }
    let same_name = STATIC
        .iter()
        .enumerate()
        .skip(first as usize - 1)
        .take_while(|(_, (n, _))| *n == name);
    for (i, &(_, v)) in same_name {
        if v == value {
            return Some((i as u32 + 1, true));
        }
    }
    Some((first, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_match_appendix_a() {
        assert_eq!(STATIC[0], (&b":authority"[..], &b""[..]));
        assert_eq!(STATIC[7], (&b":status"[..], &b"200"[..]));
        assert_eq!(STATIC[60], (&b"www-authenticate"[..], &b""[..]));
    }

    #[test]
    fn no_entry_past_the_last_with_a_value_has_one() {
        let past = &STATIC[LAST_WITH_VALUE as usize..];
        assert!(past.iter().all(|&(_, value)| value.is_empty()));
        assert!(!STATIC[LAST_WITH_VALUE as usize - 1].1.is_empty());
    }

    #[test]
    fn finds_name_and_value_or_name() {
        assert_eq!(find(b"etag", b""), Some((34, true)));
        assert_eq!(find(b"etag", b"\"a\""), Some((34, false)));
        assert_eq!(find(b":status", b"404"), Some((13, true)));
        assert_eq!(find(b":status", b"301"), Some((8, false)));
        assert_eq!(find(b"content-type", b"text/html"), Some((31, false)));
        assert_eq!(find(b"x-unknown", b""), None);
    }

    #[test]
    fn name_index_is_the_first_entry_of_every_name() {
        for (i, &(name, _)) in STATIC.iter().enumerate() {
            let first = STATIC.iter().position(|&(n, _)| n == name).unwrap() as u32 + 1;
            assert_eq!(name_index(name), Some(first), "entry {}", i + 1);
        }
        assert_eq!(name_index(b"x-content-type-options"), None);
        assert_eq!(name_index(b"Server"), None);
    }
}
