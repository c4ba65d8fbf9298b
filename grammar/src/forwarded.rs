//! The Forwarded field (RFC 7239): which clients and proxies a request passed through.
//!
//! A value parser: an invalid value is `None`, "as if the field were absent" (see the crate
//! docs); a proxy that cannot write the field correctly cannot be trusted to name a client.

#![forbid(unsafe_code)]

use crate::abnf::{list, quoted_string, token};
use crate::error::ErrorKind;
use crate::fail::{Fail, PResult};
use nom::Parser;
use nom::combinator::all_consuming;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One `forwarded-element`: what one proxy said of the hop it received the request on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForwardedElement<'b> {
    /// `for`: the node that made the request to that proxy (the client, for the first).
    pub for_node: Option<ForwardedNode>,
    /// `by`: the proxy's interface that received it.
    pub by: Option<ForwardedNode>,
    /// `host`: the Host the proxy received.
    pub host: Option<Cow<'b, str>>,
    /// `proto`: the scheme the proxy received it over (`http`, `https`).
    pub proto: Option<Cow<'b, str>>,
}

/// A `node` (RFC 7239 §6): an address, `unknown`, or an obfuscated identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardedNode {
    /// An IPv4 or IPv6 address, with its port when one was given as a number.
    Ip(IpAddr, Option<u16>),
    /// `unknown`: the proxy does not know or will not say (§6.2).
    Unknown,
    /// An obfuscated identifier (`_hidden`, §6.3): a node the proxy will not name.
    Obfuscated,
}

/// Parses a Forwarded field value (all field lines joined by `, `).
///
/// ```text
/// Forwarded         = 1#forwarded-element
/// forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )
/// forwarded-pair    = token "=" value
/// value             = token / quoted-string
/// ```
/// RFC 7239 §4. Parameter names are case-insensitive; `for`, `by`, `host` and `proto` are
/// read, other extension parameters skipped; a parameter twice in one element, or a `for`
/// or `by` that is not a `node`, makes the value invalid (§4: "MUST NOT occur more than
/// once"). Empty list elements are ignored, as RFC 9110 §5.6.1 asks.
///
/// ```
/// use nomserve_grammar::{parse_forwarded, ForwardedNode};
///
/// let hops = parse_forwarded(b"for=192.0.2.60;proto=http;by=203.0.113.43, for=\"[2001:db8::17]:4711\"").unwrap();
/// assert_eq!(hops[0].for_node, Some(ForwardedNode::Ip("192.0.2.60".parse().unwrap(), None)));
/// assert_eq!(hops[1].for_node, Some(ForwardedNode::Ip("2001:db8::17".parse().unwrap(), Some(4711))));
/// assert_eq!(parse_forwarded(b"for=192.0.2.60;for=192.0.2.61"), None);
/// ```
pub fn parse_forwarded(value: &[u8]) -> Option<Vec<ForwardedElement<'_>>> {
    let (_, elements) = all_consuming(list(element)).parse(value).ok()?;
    if elements.is_empty() {
        return None;
    }
    elements.into_iter().collect()
}

/// One element; `None` inside when a pair is invalid (a node that is not one, a repeat).
fn element(input: &[u8]) -> PResult<'_, Option<ForwardedElement<'_>>> {
    let (mut rest, first) = nom::combinator::opt(pair).parse(input)?;
    let mut pairs = Vec::from_iter(first);
    while let [b';', after @ ..] = rest {
        let (next, found) = nom::combinator::opt(pair).parse(after)?;
        pairs.extend(found);
        rest = next;
    }
    if pairs.is_empty() {
        return Err(nom::Err::Error(Fail {
            kind: ErrorKind::InvalidFieldValue,
            at: input,
        }));
    }
    let mut element = ForwardedElement::default();
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in pairs {
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        if seen.contains(&name) {
            return Ok((rest, None));
        }
        let valid = match name.as_str() {
            "for" => node(&value).map(|n| element.for_node = Some(n)).is_some(),
            "by" => node(&value).map(|n| element.by = Some(n)).is_some(),
            "host" => {
                element.host = Some(value);
                true
            }
            "proto" => {
                element.proto = Some(value);
                true
            }
            _ => true,
        };
        if !valid {
            return Ok((rest, None));
        }
        seen.push(name);
    }
    Ok((rest, Some(element)))
}

/// `forwarded-pair = token "=" value`, the value unquoted.
fn pair(input: &[u8]) -> PResult<'_, (&[u8], Cow<'_, str>)> {
    let (rest, name) = token(input)?;
    let [b'=', rest @ ..] = rest else {
        return Err(nom::Err::Error(Fail {
            kind: ErrorKind::InvalidFieldValue,
            at: rest,
        }));
    };
    let (rest, value) = match rest.first() {
        Some(b'"') => {
            let (rest, quoted) = quoted_string(rest)?;
            (rest, unquote(quoted))
        }
        _ => {
            let (rest, plain) = token(rest)?;
            (rest, String::from_utf8_lossy(plain))
        }
    };
    Ok((rest, (name, value)))
}

/// The text of a `quoted-string` (with its quotes), `\` escapes undone (RFC 9110 §5.6.4).
fn unquote(quoted: &[u8]) -> Cow<'_, str> {
    let inside = quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default();
    if !inside.contains(&b'\\') {
        return String::from_utf8_lossy(inside);
    }
    let mut out = Vec::with_capacity(inside.len());
    let mut escaped = false;
    for &b in inside {
        if escaped || b != b'\\' {
            out.push(b);
            escaped = false;
        } else {
            escaped = true;
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// ```text
/// node      = nodename [ ":" node-port ]
/// nodename  = IPv4address / "[" IPv6address "]" / "unknown" / obfnode
/// node-port = port / obfport
/// obfnode   = "_" 1*( ALPHA / DIGIT / "." / "_" / "-")
/// ```
/// RFC 7239 §6. A port given as a number is kept; an obfuscated port is checked and dropped.
fn node(text: &str) -> Option<ForwardedNode> {
    let (name, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (v6, after) = rest.split_once(']')?;
            let address = v6.parse::<Ipv6Addr>().ok()?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':')?),
            };
            return Some(ForwardedNode::Ip(IpAddr::V6(address), port_number(port)?));
        }
        None => match text.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (text, None),
        },
    };
    let port = port_number(port)?;
    if name.eq_ignore_ascii_case("unknown") {
        return Some(ForwardedNode::Unknown);
    }
    if obfuscated(name) {
        return Some(ForwardedNode::Obfuscated);
    }
    let address = name.parse::<Ipv4Addr>().ok()?;
    Some(ForwardedNode::Ip(IpAddr::V4(address), port))
}

/// `node-port`: `None` inside when absent or obfuscated, the number when a port; `None` for
/// anything else.
fn port_number(port: Option<&str>) -> Option<Option<u16>> {
    match port {
        None => Some(None),
        Some(port) if obfuscated(port) => Some(None),
        Some(port) if (1..=5).contains(&port.len()) && port.bytes().all(|b| b.is_ascii_digit()) => {
            port.parse().ok().map(Some)
        }
        Some(_) => None,
    }
}

/// `"_" 1*( ALPHA / DIGIT / "." / "_" / "-")`
fn obfuscated(text: &str) -> bool {
    text.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(value: &str) -> Option<Vec<Option<ForwardedNode>>> {
        parse_forwarded(value.as_bytes()).map(|hops| hops.into_iter().map(|h| h.for_node).collect())
    }

    #[test]
    fn the_rfcs_examples() {
        let ip = |s: &str| Some(ForwardedNode::Ip(s.parse().unwrap(), None));
        assert_eq!(
            client("for=\"_gazonk\""),
            Some(vec![Some(ForwardedNode::Obfuscated)])
        );
        assert_eq!(
            client("For=\"[2001:db8:cafe::17]:4711\""),
            Some(vec![Some(ForwardedNode::Ip(
                "2001:db8:cafe::17".parse().unwrap(),
                Some(4711)
            ))])
        );
        assert_eq!(
            client("for=192.0.2.60;proto=http;by=203.0.113.43"),
            Some(vec![ip("192.0.2.60")])
        );
        assert_eq!(
            client("for=192.0.2.43, for=198.51.100.17"),
            Some(vec![ip("192.0.2.43"), ip("198.51.100.17")])
        );
        assert_eq!(
            client("for=unknown"),
            Some(vec![Some(ForwardedNode::Unknown)])
        );
        assert_eq!(client("proto=https"), Some(vec![None]));
        let hops = parse_forwarded(b"for=1.2.3.4;host=\"a\\\"b\";proto=https").unwrap();
        assert_eq!(hops[0].host.as_deref(), Some("a\"b"));
        assert_eq!(hops[0].proto.as_deref(), Some("https"));
        assert_eq!(
            client("for=1.2.3.4 , ,for=5.6.7.8").map(|h| h.len()),
            Some(2)
        );
    }

    #[test]
    fn invalid_values_are_none() {
        for bad in [
            "",
            "for",
            "for=",
            "for=1.2.3.4;for=5.6.7.8",
            "for=2001:db8::1",
            "for=\"[2001:db8::1\"",
            "for=1.2.3.4:99999",
            "for=1.2.3.4:",
            "for=host.example",
            "for=_",
            "for=1.2.3.4 junk",
            "for=\"1.2.3.4",
            "by=300.1.1.1",
        ] {
            assert_eq!(parse_forwarded(bad.as_bytes()), None, "{bad:?}");
        }
    }
}
