//! The PROXY protocol header (HAProxy's "The PROXY protocol", versions 1 and 2), which a
//! load balancer sends before the client's bytes to say whom the connection is for.
//!
//! Version 1 is a line of text (§2.1), version 2 a binary block (§2.2); the first bytes tell
//! them apart. Both are parsed streaming, like the request head: a strict prefix of a valid
//! header is [`Parsed::Partial`], and [`Parsed::Complete`] says how many bytes the header
//! took, so the bytes after it (the client's request) are left to the caller.
//!
//! Strict where it matters: a v1 line is at most 107 bytes (§2.1), ports have no leading
//! zeros, addresses are those the standard library parses; a v2 block has version 2,
//! command LOCAL or PROXY, a known address family and transport, an address block that
//! fits its length, and TLVs (§2.2.7) that fill the rest of it exactly. A v2 block is bounded
//! by [`MAX_V2_LEN`] bytes in all, so a peer cannot make the caller buffer 64 KiB per
//! connection before the first request byte.

#![forbid(unsafe_code)]

use crate::error::{Error, ErrorKind};
use crate::fail::{PResult, fail, incomplete, offset_in};
use crate::types::Parsed;
use nom::Parser;
use nom::bytes::streaming::{tag, take, take_while_m_n};
use nom::number::streaming::{be_u8, be_u16};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The most bytes a version 2 header may take: its 16 fixed bytes and 2032 of addresses and
/// TLVs. The largest address block (two Unix paths) is 216 bytes; what a balancer adds in
/// TLVs (a unique id, an ALPN, a TLS summary, a cloud endpoint id) is a few hundred.
pub const MAX_V2_LEN: usize = 2048;

/// The most bytes a version 1 line may take, CRLF included (§2.1).
pub const MAX_V1_LEN: usize = 107;

/// The twelve bytes that start a version 2 header (§2.2).
const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// A PROXY protocol header. Every slice borrows from the parsed buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyHeader<'b> {
    /// 1 or 2.
    pub version: u8,
    /// What the connection is.
    pub command: ProxyCommand,
    /// Whom it is for.
    pub addresses: ProxyAddresses<'b>,
    /// The version 2 TLVs, checked to be well formed; empty for version 1. Walk them with
    /// [`ProxyHeader::tlvs`].
    pub tlv_bytes: &'b [u8],
}

/// A version 2 header's command (§2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyCommand {
    /// The balancer's own connection, such as a health check: the addresses say nothing
    /// about a client and are ignored (§2.2).
    Local,
    /// A connection relayed for a client. Every version 1 header is one.
    Proxy,
}

/// Whom the connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyAddresses<'b> {
    /// Not said: v1 `UNKNOWN`, a v2 `UNSPEC` family, or a `LOCAL` command.
    Unknown,
    /// An IP connection: the client's address and the one it connected to.
    Ip {
        /// The client.
        source: SocketAddr,
        /// What the client connected to (the balancer's listener).
        destination: SocketAddr,
        /// `true` for a stream (TCP), `false` for datagrams (UDP).
        stream: bool,
    },
    /// A Unix socket connection: the two paths, 108 bytes each, NUL-padded.
    Unix {
        /// The client's socket path.
        source: &'b [u8],
        /// The listening socket's path.
        destination: &'b [u8],
    },
}

/// One version 2 TLV (§2.2.7): its type and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'b> {
    /// The type (`PP2_TYPE_*`: 0x01 ALPN, 0x02 AUTHORITY, 0x05 UNIQUE_ID, 0x20 SSL, ...).
    pub kind: u8,
    /// The value.
    pub value: &'b [u8],
}

impl<'b> ProxyHeader<'b> {
    /// The TLVs, in order.
    pub fn tlvs(&self) -> impl Iterator<Item = Tlv<'b>> + 'b {
        let mut rest = self.tlv_bytes;
        std::iter::from_fn(move || {
            let (after, tlv) = tlv(rest).ok()?;
            rest = after;
            Some(tlv)
        })
    }

    /// The client's address, when the header names one.
    pub fn client(&self) -> Option<SocketAddr> {
        match (self.command, self.addresses) {
            (ProxyCommand::Proxy, ProxyAddresses::Ip { source, .. }) => Some(source),
            _ => None,
        }
    }
}

/// Parses a PROXY protocol header, version 1 or 2, from the start of `buf`.
///
/// Contract, as [`parse_request`](crate::parse_request)'s: `Complete` with the bytes the
/// header took, `Partial` for a strict prefix of a valid header (read more and call again),
/// or an error at the offending byte. Errors: `ProxyHeaderMissing` when `buf` starts with
/// neither version's signature; `InvalidProxyV1` at the first byte of a v1 line that breaks
/// its grammar, `ProxyV1TooLong` when 107 bytes hold no CRLF; `InvalidProxyV2` at a v2
/// version, command, family or length that is not allowed, `ProxyV2TooLong` past
/// [`MAX_V2_LEN`].
///
/// ```
/// use nomserve_grammar::{parse_proxy_header, Parsed, ProxyAddresses};
///
/// let buf = b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET / HTTP/1.1\r\n";
/// let Ok(Parsed::Complete { value, consumed }) = parse_proxy_header(buf) else { panic!() };
/// assert_eq!(value.client(), Some("192.0.2.7:56324".parse().unwrap()));
/// assert_eq!(&buf[consumed..], b"GET / HTTP/1.1\r\n");
/// assert_eq!(parse_proxy_header(b"PROXY TCP4 192.0"), Ok(Parsed::Partial));
/// ```
pub fn parse_proxy_header(buf: &[u8]) -> Result<Parsed<ProxyHeader<'_>>, Error> {
    let result = match buf.first() {
        None => return Ok(Parsed::Partial),
        Some(b'P') => {
            let line = buf.get(..MAX_V1_LEN).unwrap_or(buf);
            match v1(line) {
                Err(nom::Err::Incomplete(_)) if line.len() == MAX_V1_LEN => {
                    return Err(Error::new(ErrorKind::ProxyV1TooLong, MAX_V1_LEN - 1));
                }
                other => other,
            }
        }
        Some(b'\r') => v2(buf),
        Some(_) => return Err(Error::new(ErrorKind::ProxyHeaderMissing, 0)),
    };
    match result {
        Ok((rest, value)) => Ok(Parsed::Complete {
            value,
            consumed: offset_in(buf, rest),
        }),
        Err(nom::Err::Incomplete(_)) => Ok(Parsed::Partial),
        Err(nom::Err::Error(f) | nom::Err::Failure(f)) => Err(f.into_error(buf)),
    }
}

/// ```text
/// proxy-v1 = "PROXY" SP ( "TCP4" SP addresses / "TCP6" SP addresses
///                       / "UNKNOWN" [ SP *( %x20-7E ) ] ) CRLF
/// addresses = source-address SP destination-address SP source-port SP destination-port
/// ```
/// The PROXY protocol §2.1: the line is US-ASCII, and what follows UNKNOWN is ignored, so
/// it may be any printable characters.
fn v1(input: &[u8]) -> PResult<'_, ProxyHeader<'_>> {
    let invalid = |at| fail(ErrorKind::InvalidProxyV1, at);
    let (rest, _) = literal(input, b"PROXY ", ErrorKind::ProxyHeaderMissing)?;
    let (rest, addresses) = if rest.starts_with(b"UNKNOWN") || b"UNKNOWN".starts_with(rest) {
        let (rest, _) = literal(rest, b"UNKNOWN", ErrorKind::InvalidProxyV1)?;
        let rest = match rest {
            [b' ', after @ ..] => {
                let end = after.iter().position(|b| !(b' '..=b'~').contains(b));
                match end {
                    Some(end) => after.get(end..).unwrap_or_default(),
                    None => return incomplete(),
                }
            }
            _ => rest,
        };
        (rest, ProxyAddresses::Unknown)
    } else {
        let (rest, six) = match rest {
            [b'T', b'C', b'P', b'4', b' ', after @ ..] => (after, false),
            [b'T', b'C', b'P', b'6', b' ', after @ ..] => (after, true),
            _ if b"TCP4 ".starts_with(rest) || b"TCP6 ".starts_with(rest) => {
                return incomplete();
            }
            _ => return invalid(rest),
        };
        let (rest, source) = v1_address(rest, six)?;
        let (rest, destination) = v1_address(rest, six)?;
        let (rest, source_port) = v1_port(rest, b' ')?;
        let (rest, destination_port) = v1_port(rest, b'\r')?;
        let addresses = ProxyAddresses::Ip {
            source: SocketAddr::new(source, source_port),
            destination: SocketAddr::new(destination, destination_port),
            stream: true,
        };
        (rest, addresses)
    };
    let (rest, _) = literal(rest, b"\r\n", ErrorKind::InvalidProxyV1)?;
    Ok((
        rest,
        ProxyHeader {
            version: 1,
            command: ProxyCommand::Proxy,
            addresses,
            tlv_bytes: &[],
        },
    ))
}

/// `expected` at the start of `input`; `Incomplete` for a prefix of it, else `kind` at the
/// first byte that differs.
fn literal<'b>(input: &'b [u8], expected: &[u8], kind: ErrorKind) -> PResult<'b, &'b [u8]> {
    match tag::<_, _, nom::error::Error<&[u8]>>(expected).parse(input) {
        Ok(done) => Ok(done),
        Err(nom::Err::Incomplete(needed)) => Err(nom::Err::Incomplete(needed)),
        Err(_) => {
            let same = input
                .iter()
                .zip(expected)
                .take_while(|(a, b)| a == b)
                .count();
            fail(kind, input.get(same..).unwrap_or_default())
        }
    }
}

/// An IPv4 (dotted quad) or IPv6 address (as `std::net` reads them) and the SP after it.
fn v1_address(input: &[u8], six: bool) -> PResult<'_, IpAddr> {
    let (rest, text) = take_while_m_n(1, 45, |b: u8| {
        b.is_ascii_digit() || b == b'.' || (six && (b.is_ascii_hexdigit() || b == b':'))
    })
    .parse(input)
    .map_err(|e: nom::Err<nom::error::Error<&[u8]>>| match e {
        nom::Err::Incomplete(n) => nom::Err::Incomplete(n),
        _ => nom::Err::Error(crate::fail::Fail {
            kind: ErrorKind::InvalidProxyV1,
            at: input,
        }),
    })?;
    let text = std::str::from_utf8(text).unwrap_or_default();
    let address = if six {
        text.parse::<Ipv6Addr>().map(IpAddr::V6).ok()
    } else {
        text.parse::<Ipv4Addr>().map(IpAddr::V4).ok()
    };
    match (rest, address) {
        ([], _) => incomplete(),
        ([b' ', after @ ..], Some(address)) => Ok((after, address)),
        ([b' ', ..], None) => fail(ErrorKind::InvalidProxyV1, input),
        _ => fail(ErrorKind::InvalidProxyV1, rest),
    }
}

/// A port: 1 to 5 digits, no leading zero (but `0` itself), at most 65535; then `end`,
/// which is left in the input when it is CR.
fn v1_port(input: &[u8], end: u8) -> PResult<'_, u16> {
    let digits = input.iter().take_while(|b| b.is_ascii_digit()).count();
    let (text, rest) = input.split_at(digits);
    match rest {
        [] if digits <= 5 => return incomplete(),
        [] => return fail(ErrorKind::InvalidProxyV1, input),
        [b, ..] if *b != end => return fail(ErrorKind::InvalidProxyV1, rest),
        _ => {}
    }
    let leading_zero = text.len() > 1 && text.first() == Some(&b'0');
    let port = std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<u16>().ok());
    match port {
        Some(port) if !leading_zero => {
            let after = if end == b' ' {
                rest.get(1..).unwrap_or_default()
            } else {
                rest
            };
            Ok((after, port))
        }
        _ => fail(ErrorKind::InvalidProxyV1, input),
    }
}

/// ```text
/// proxy-v2 = signature ver-cmd fam len addresses *tlv   ; len counts addresses and TLVs
/// ```
/// The PROXY protocol §2.2, bounded by [`MAX_V2_LEN`].
fn v2(input: &[u8]) -> PResult<'_, ProxyHeader<'_>> {
    let (rest, _) = literal(input, V2_SIGNATURE, ErrorKind::ProxyHeaderMissing)?;
    let at_version = rest;
    let (rest, version_command) = be_u8(rest)?;
    let command = match version_command {
        0x20 => ProxyCommand::Local,
        0x21 => ProxyCommand::Proxy,
        _ => return fail(ErrorKind::InvalidProxyV2, at_version),
    };
    let at_family = rest;
    let (rest, family) = be_u8(rest)?;
    let (family_size, stream) = match family {
        0x00 => (0, true),
        0x11 => (12, true),
        0x12 => (12, false),
        0x21 => (36, true),
        0x22 => (36, false),
        0x31 => (216, true),
        0x32 => (216, false),
        _ => return fail(ErrorKind::InvalidProxyV2, at_family),
    };
    let at_length = rest;
    let (rest, length) = be_u16(rest)?;
    let length = usize::from(length);
    if 16 + length > MAX_V2_LEN {
        return fail(ErrorKind::ProxyV2TooLong, at_length);
    }
    if length < family_size {
        return fail(ErrorKind::InvalidProxyV2, at_length);
    }
    let (after, block) = take(length).parse(rest)?;
    let (addresses_bytes, tlv_bytes) = block.split_at(family_size);
    let mut tlvs_left = tlv_bytes;
    while !tlvs_left.is_empty() {
        match tlv(tlvs_left) {
            Ok((next, _)) => tlvs_left = next,
            Err(_) => return fail(ErrorKind::InvalidProxyV2, tlvs_left),
        }
    }
    let addresses = match (command, family >> 4) {
        (ProxyCommand::Local, _) | (_, 0) => ProxyAddresses::Unknown,
        (_, 1) | (_, 2) => ip_addresses(addresses_bytes, stream),
        _ => {
            let (source, destination) = addresses_bytes.split_at(108);
            ProxyAddresses::Unix {
                source,
                destination,
            }
        }
    };
    Ok((
        after,
        ProxyHeader {
            version: 2,
            command,
            addresses,
            tlv_bytes,
        },
    ))
}

/// The addresses of a v2 `AF_INET` (12 bytes) or `AF_INET6` (36 bytes) block: source and
/// destination addresses, then source and destination ports, in network byte order.
fn ip_addresses(block: &[u8], stream: bool) -> ProxyAddresses<'_> {
    let size = block.len() / 2 - 2;
    let address = |bytes: &[u8]| -> IpAddr {
        match <[u8; 4]>::try_from(bytes) {
            Ok(four) => IpAddr::from(four),
            Err(_) => IpAddr::from(<[u8; 16]>::try_from(bytes).unwrap_or([0; 16])),
        }
    };
    let port = |at: usize| {
        u16::from_be_bytes([
            block.get(at).copied().unwrap_or(0),
            block.get(at + 1).copied().unwrap_or(0),
        ])
    };
    let source = address(block.get(..size).unwrap_or_default());
    let destination = address(block.get(size..2 * size).unwrap_or_default());
    ProxyAddresses::Ip {
        source: SocketAddr::new(source, port(2 * size)),
        destination: SocketAddr::new(destination, port(2 * size + 2)),
        stream,
    }
}

/// ```text
/// tlv = type length value   ; type: 1 byte, length: 2 bytes, value: length bytes
/// ```
/// The PROXY protocol §2.2.7, within a block already taken whole.
fn tlv(input: &[u8]) -> PResult<'_, Tlv<'_>> {
    let (rest, kind) = be_u8(input)?;
    let (rest, length) = be_u16(rest)?;
    let (rest, value) = take(length).parse(rest)?;
    Ok((rest, Tlv { kind, value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8]) -> Result<Parsed<ProxyHeader<'_>>, Error> {
        parse_proxy_header(buf)
    }

    fn v2_header(command: u8, family: u8, block: &[u8]) -> Vec<u8> {
        let mut header = V2_SIGNATURE.to_vec();
        header.push(command);
        header.push(family);
        header.extend_from_slice(&u16::try_from(block.len()).unwrap().to_be_bytes());
        header.extend_from_slice(block);
        header
    }

    #[test]
    fn v1_lines() {
        let Ok(Parsed::Complete { value, consumed }) =
            parse(b"PROXY TCP6 2001:db8::1 ::1 65535 0\r\nGET")
        else {
            panic!()
        };
        assert_eq!(consumed, 36);
        assert_eq!(value.client(), Some("[2001:db8::1]:65535".parse().unwrap()));
        for unknown in [
            &b"PROXY UNKNOWN\r\n"[..],
            b"PROXY UNKNOWN ffff::1 whatever\r\n",
        ] {
            let Ok(Parsed::Complete { value, .. }) = parse(unknown) else {
                panic!("{unknown:?}")
            };
            assert_eq!(value.addresses, ProxyAddresses::Unknown);
            assert_eq!(value.client(), None);
        }
    }

    #[test]
    fn v1_prefixes_are_partial_and_mistakes_are_placed() {
        let line = b"PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\n";
        for end in 0..line.len() {
            assert_eq!(parse(&line[..end]), Ok(Parsed::Partial), "{end}");
        }
        for (bad, kind, at) in [
            (&b"GET / HTTP/1.1\r\n"[..], ErrorKind::ProxyHeaderMissing, 0),
            (b"PROXY UDP4 1.2.3.4", ErrorKind::InvalidProxyV1, 6),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
                ErrorKind::InvalidProxyV1,
                27,
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
                ErrorKind::InvalidProxyV1,
                27,
            ),
            (
                b"PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n",
                ErrorKind::InvalidProxyV1,
                11,
            ),
            (b"PROXY TCP4 ::1 ::1 1 2\r\n", ErrorKind::InvalidProxyV1, 11),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 655360",
                ErrorKind::InvalidProxyV1,
                27,
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
                ErrorKind::InvalidProxyV1,
                30,
            ),
            (
                b"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
                ErrorKind::InvalidProxyV1,
                19,
            ),
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!((error.kind(), error.offset()), (kind, at), "{bad:?}");
        }
        let error = parse(b"PROXY UNKNOWN caf\xc3\xa9\r\n").unwrap_err();
        assert_eq!(
            (error.kind(), error.offset()),
            (ErrorKind::InvalidProxyV1, 17)
        );
        let long = [b"PROXY UNKNOWN ".as_slice(), &[b'x'; 120]].concat();
        assert_eq!(parse(&long).unwrap_err().kind(), ErrorKind::ProxyV1TooLong);
    }

    #[test]
    fn v2_blocks() {
        let mut block = vec![192, 0, 2, 7, 198, 51, 100, 1, 0xdc, 0x04, 0x01, 0xbb];
        block.extend_from_slice(&[0x01, 0x00, 0x02, b'h', b'2', 0x04, 0x00, 0x00]);
        let header = [v2_header(0x21, 0x11, &block), b"GET".to_vec()].concat();
        let Ok(Parsed::Complete { value, consumed }) = parse(&header) else {
            panic!()
        };
        assert_eq!(consumed, header.len() - 3);
        assert_eq!(value.client(), Some("192.0.2.7:56324".parse().unwrap()));
        let tlvs: Vec<_> = value.tlvs().collect();
        assert_eq!(
            tlvs,
            [
                Tlv {
                    kind: 1,
                    value: b"h2"
                },
                Tlv {
                    kind: 4,
                    value: b""
                }
            ]
        );
        for end in 0..header.len() - 3 {
            assert_eq!(parse(&header[..end]), Ok(Parsed::Partial), "{end}");
        }
        // LOCAL (a health check): whatever the addresses, none is a client.
        let local = v2_header(0x20, 0x11, &block);
        let Ok(Parsed::Complete { value, .. }) = parse(&local) else {
            panic!()
        };
        assert_eq!(value.command, ProxyCommand::Local);
        assert_eq!(value.client(), None);
        let v6 = v2_header(
            0x21,
            0x21,
            &[[0; 15].as_slice(), &[1], &[0; 16], &[0, 80, 1, 187]].concat(),
        );
        let Ok(Parsed::Complete { value, .. }) = parse(&v6) else {
            panic!()
        };
        assert_eq!(value.client(), Some("[::1]:80".parse().unwrap()));
    }

    #[test]
    fn v2_mistakes_are_refused() {
        let block = [127, 0, 0, 1, 127, 0, 0, 1, 0, 80, 0, 81];
        for (header, kind, at) in [
            (v2_header(0x11, 0x11, &block), ErrorKind::InvalidProxyV2, 12),
            (v2_header(0x22, 0x11, &block), ErrorKind::InvalidProxyV2, 12),
            (v2_header(0x21, 0x41, &block), ErrorKind::InvalidProxyV2, 13),
            (v2_header(0x21, 0x13, &block), ErrorKind::InvalidProxyV2, 13),
            (v2_header(0x21, 0x21, &block), ErrorKind::InvalidProxyV2, 14),
            (
                v2_header(0x21, 0x11, &[block.as_slice(), &[1, 0, 5, b'x']].concat()),
                ErrorKind::InvalidProxyV2,
                28,
            ),
            (
                v2_header(0x21, 0x11, &[block.as_slice(), &[0; 3000]].concat()),
                ErrorKind::ProxyV2TooLong,
                14,
            ),
        ] {
            let error = parse(&header).unwrap_err();
            assert_eq!((error.kind(), error.offset()), (kind, at), "{header:?}");
        }
        let mut wrong_signature = v2_header(0x21, 0x11, &block);
        wrong_signature[5] = b'X';
        assert_eq!(
            parse(&wrong_signature).unwrap_err().kind(),
            ErrorKind::ProxyHeaderMissing
        );
    }
}
