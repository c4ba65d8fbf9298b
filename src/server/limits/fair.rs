//! The fair share: how many connections one address may hold once the server is under
//! pressure, and which addresses count as one.
//!
//! Below half of `--max-connections` the server has at least as much room left as it has in
//! use, so no address is refused or loses a connection, whatever it holds: a load test, or an
//! office or a mobile carrier behind one NAT, is served in full on a quiet server. From half
//! on, the room still free is what others need, so each address is held to its share:
//! `--max-connections` divided by the number of addresses holding connections (a newcomer
//! included), and never fewer than [`SHARE_FLOOR`]. With one address alone its share is the
//! whole server.
//!
//! An IPv6 host is usually given a whole /64 (RFC 4291 §2.5.4, RFC 7421), so IPv6 addresses
//! are counted by their first `--ipv6-prefix` bits (64 by default): one host cannot spread
//! its connections over 2^64 addresses to escape its share. An IPv4 address seen as IPv6
//! (`::ffff:a.b.c.d`, from a dual-stack socket) counts as the IPv4 address it is.

use std::net::{IpAddr, Ipv6Addr};

/// The fewest connections an address's share allows, however many addresses there are: a
/// browser opens up to six connections to a host, so one browser is never held back.
pub const SHARE_FLOOR: usize = 8;

/// The address `ip` counts as: itself (IPv4), or its network of `ipv6_prefix` bits (IPv6).
pub fn group_of(ip: IpAddr, ipv6_prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(ipv6_prefix.min(128)))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
            }
        },
    }
}

/// Whether `total` open connections put the server under pressure: at half of `max` or more.
pub fn under_pressure(total: usize, max: usize) -> bool {
    total.saturating_mul(2) >= max
}

/// One address's share of `max` connections when `addresses` distinct addresses hold
/// connections: an equal part, at least [`SHARE_FLOOR`].
pub fn fair_share(max: usize, addresses: usize) -> usize {
    (max / addresses.max(1)).max(SHARE_FLOOR)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv6_addresses_count_by_their_prefix_and_ipv4_as_themselves() {
        assert_eq!(
            group_of(ip("2001:db8:1:2:aaaa::1"), 64),
            ip("2001:db8:1:2::")
        );
        assert_eq!(
            group_of(ip("2001:db8:1:2:ffff:ffff:ffff:ffff"), 64),
            group_of(ip("2001:db8:1:2::7"), 64)
        );
        assert_ne!(
            group_of(ip("2001:db8:1:2::1"), 64),
            group_of(ip("2001:db8:1:3::1"), 64)
        );
        assert_eq!(group_of(ip("2001:db8:1:2::1"), 48), ip("2001:db8:1::"));
        assert_eq!(group_of(ip("2001:db8:1:2::1"), 128), ip("2001:db8:1:2::1"));
        assert_eq!(group_of(ip("2001:db8:1:2::1"), 0), ip("::"));
        assert_eq!(group_of(ip("2001:db8::1"), 200), ip("2001:db8::1"));
        assert_eq!(group_of(ip("192.0.2.7"), 0), ip("192.0.2.7"));
        assert_eq!(group_of(ip("::ffff:192.0.2.7"), 64), ip("192.0.2.7"));
        assert_ne!(group_of(ip("192.0.2.7"), 64), group_of(ip("192.0.2.8"), 64));
    }

    #[test]
    fn pressure_starts_at_half() {
        assert!(!under_pressure(0, 1024));
        assert!(!under_pressure(511, 1024));
        assert!(under_pressure(512, 1024));
        assert!(under_pressure(1024, 1024));
        assert!(!under_pressure(31, 63));
        assert!(under_pressure(32, 63));
        assert!(!under_pressure(0, 1));
        assert!(under_pressure(1, 1));
    }

    #[test]
    fn the_share_divides_the_server_with_a_floor() {
        assert_eq!(fair_share(1024, 1), 1024);
        assert_eq!(fair_share(1024, 2), 512);
        assert_eq!(fair_share(1024, 3), 341);
        assert_eq!(fair_share(1024, 128), 8);
        assert_eq!(fair_share(1024, 1000), SHARE_FLOOR);
        assert_eq!(fair_share(64, 0), 64);
        assert_eq!(fair_share(4, 1), SHARE_FLOOR);
    }
}
