//! Who the client is: the connection's peer, or, when the peer is a trusted proxy, the
//! address the proxy names in `Forwarded` (RFC 7239) or, failing that, `X-Forwarded-For`.
//!
//! A proxy appends the address it received a request from to what the request already
//! said, so only the right end of the list is the trusted proxies' own word; everything to
//! the left of the first untrusted address may have been written by the client. The client is
//! therefore the right-most address that is not itself a trusted proxy (a chain of trusted
//! proxies is walked back through), and the fields are not read at all from a peer that is
//! not trusted. When every address is trusted, the left-most is the client; when the node
//! there is `unknown` or obfuscated, or the fields cannot be read, the peer is.

use nomserve_grammar::{ForwardedNode, Headers, parse_forwarded};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// An address range, `ADDR/PREFIX` (or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is in the range. An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`, as a
    /// dual-stack socket reports it) is compared as the IPv4 address it is.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = String;

    /// `192.0.2.0/24`, `2001:db8::/32`, or one address (`10.0.0.7`: a /32 or /128).
    fn from_str(text: &str) -> Result<Cidr, String> {
        let bad = || format!("{text:?} is not an address or range such as 10.0.0.0/8 or ::1");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(digits) => digits
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max && !digits.starts_with('+'))
                .ok_or_else(bad)?,
        };
        Ok(Cidr { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// The `--trusted-proxy` ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Trusts the peers in `ranges`.
    pub fn new(ranges: Vec<Cidr>) -> Self {
        TrustedProxies(ranges)
    }

    /// Whether `ip` is a trusted proxy.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|range| range.contains(ip))
    }

    /// The client of a request with `headers` received from `peer` (see the module's notes).
    pub fn client(&self, peer: IpAddr, headers: &Headers<'_, '_>) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers).or_else(|| x_forwarded_for_chain(headers));
        let Some(chain) = chain else {
            return peer;
        };
        let mut client = None;
        for node in chain.iter().rev() {
            match node {
                Some(ip) if self.contains(*ip) => client = Some(*ip),
                Some(ip) => return *ip,
                None => return peer,
            }
        }
        client.unwrap_or(peer)
    }
}

/// The `for` nodes of every Forwarded field line, in order (`None` for a node that names no
/// address); `None` when there is no valid Forwarded field.
fn forwarded_chain(headers: &Headers<'_, '_>) -> Option<Vec<Option<IpAddr>>> {
    let mut chain = Vec::new();
    let mut any = false;
    for value in headers.get_all("forwarded") {
        any = true;
        for element in parse_forwarded(value)? {
            chain.push(match element.for_node {
                Some(ForwardedNode::Ip(ip, _)) => Some(ip),
                _ => None,
            });
        }
    }
    any.then_some(chain)
}

/// The addresses of every X-Forwarded-For field line, in order: each element an IP address,
/// or an address with a port (`192.0.2.7:5000`, `[2001:db8::1]:5000`), as some proxies write
/// it; `None` when there is none, or when an element is neither.
fn x_forwarded_for_chain(headers: &Headers<'_, '_>) -> Option<Vec<Option<IpAddr>>> {
    let mut chain = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let text = std::str::from_utf8(value).ok()?;
        for element in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let ip = element
                .parse::<IpAddr>()
                .or_else(|_| element.parse::<SocketAddr>().map(|a| a.ip()))
                .ok()?;
            chain.push(Some(ip));
        }
    }
    (!chain.is_empty()).then_some(chain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nomserve_grammar::Header;

    fn trusted(ranges: &[&str]) -> TrustedProxies {
        TrustedProxies::new(ranges.iter().map(|r| r.parse().unwrap()).collect())
    }

    fn client(trust: &TrustedProxies, peer: &str, fields: &[(&'static str, &str)]) -> IpAddr {
        let headers: Vec<Header<'_>> = fields
            .iter()
            .map(|(name, value)| Header {
                name,
                value: value.as_bytes(),
            })
            .collect();
        trust.client(peer.parse().unwrap(), &Headers::new(&headers))
    }

    #[test]
    fn ranges() {
        let range: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(range.contains("10.200.3.4".parse().unwrap()));
        assert!(range.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(!range.contains("11.0.0.1".parse().unwrap()));
        assert!(!range.contains("::1".parse().unwrap()));
        let one: Cidr = "2001:db8::1".parse().unwrap();
        assert!(one.contains("2001:db8::1".parse().unwrap()));
        assert!(!one.contains("2001:db8::2".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "host",
            "10.0.0.0/+8",
            "10.0.0.0/",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let trust = trusted(&["10.0.0.0/8"]);
        let xff = |value| client(&trust, "10.0.0.1", &[("X-Forwarded-For", value)]);
        assert_eq!(xff("203.0.113.7"), "203.0.113.7".parse::<IpAddr>().unwrap());
        // A client that writes its own X-Forwarded-For: the proxy appended the real one.
        assert_eq!(
            xff("1.1.1.1, 203.0.113.7"),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Through two trusted proxies.
        assert_eq!(
            xff("203.0.113.7, 10.0.0.2"),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            xff("10.0.0.3, 10.0.0.2"),
            "10.0.0.3".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            xff("[2001:db8::7]:4000"),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        // Unreadable: the peer.
        assert_eq!(
            xff("203.0.113.7, junk"),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn forwarded_comes_first_and_only_trusted_peers_are_believed() {
        let trust = trusted(&["10.0.0.0/8"]);
        let both = [
            ("Forwarded", "for=192.0.2.60;proto=https"),
            ("X-Forwarded-For", "198.51.100.1"),
        ];
        assert_eq!(
            client(&trust, "10.0.0.1", &both),
            "192.0.2.60".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client(&trust, "192.0.2.99", &both),
            "192.0.2.99".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client(&trust, "10.0.0.1", &[("Forwarded", "for=unknown")]),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client(
                &trust,
                "10.0.0.1",
                &[("Forwarded", "for=\"[2001:db8::1]:80\", for=10.0.0.9")]
            ),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        // An invalid Forwarded is as if absent: X-Forwarded-For decides.
        assert_eq!(
            client(
                &trust,
                "10.0.0.1",
                &[
                    ("Forwarded", "for=a;for=b"),
                    ("X-Forwarded-For", "198.51.100.1")
                ]
            ),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        // Nobody trusted: nothing is read.
        assert_eq!(
            client(&TrustedProxies::default(), "10.0.0.1", &both),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
    }
}
