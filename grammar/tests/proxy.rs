//! The PROXY protocol parser against the `ppp` crate, over generated headers.
//!
//! - Every valid header (v1 TCP4, TCP6 and UNKNOWN lines; v2 blocks for IPv4, IPv6, Unix
//!   and UNSPEC with LOCAL or PROXY and any TLVs, built by ppp's own builder) is parsed by
//!   both, to the same addresses, command and TLVs, and every strict prefix of it is
//!   `Partial` here.
//! - Any input (a valid header with bytes changed, or random bytes) that is parsed here as a
//!   whole header is one ppp accepts too, with the same client: this parser is never the
//!   looser of the two. (ppp leaves TLVs unchecked until they are read, so it accepts some
//!   v2 headers refused here; the comparison runs one way.)
//!
//! ppp splits a v1 line into at most seven parts, so it refuses an UNKNOWN line whose
//! ignored tail has more than four spaces, which §2.1 allows; such lines are left out of the
//! one-way comparison ([`ppp_limit`]), and generated UNKNOWN tails have at most four words.
//!
//! One intended difference: with the UNSPEC family, ppp reads the whole block as addresses
//! (to be ignored), while this parser, as HAProxy does, reads an address block of 0 bytes
//! (§2.2: `PP2_ADDR_LEN_UNSPEC`) and TLVs after it. Their TLVs are not compared there.

use nomserve_grammar::{Parsed, ProxyAddresses, ProxyCommand, ProxyHeader, parse_proxy_header};
use ppp::HeaderResult;
use ppp::v2::{self, Builder};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// A header as the comparison sees it: the client, whether the command is PROXY, the TLVs.
type View = (Option<SocketAddr>, bool, Option<Vec<(u8, Vec<u8>)>>);

/// The client, command and TLVs ppp reads from `bytes`, if it reads a whole header.
/// The TLVs are `None` for the UNSPEC family (see above).
fn ppp_view(bytes: &[u8]) -> Option<View> {
    match HeaderResult::parse(bytes) {
        HeaderResult::V1(Ok(header)) => {
            let client = match header.addresses {
                ppp::v1::Addresses::Tcp4(ip) => Some(SocketAddr::new(
                    IpAddr::V4(ip.source_address),
                    ip.source_port,
                )),
                ppp::v1::Addresses::Tcp6(ip) => Some(SocketAddr::new(
                    IpAddr::V6(ip.source_address),
                    ip.source_port,
                )),
                ppp::v1::Addresses::Unknown => None,
            };
            Some((client, true, Some(Vec::new())))
        }
        HeaderResult::V2(Ok(header)) => {
            let proxy = header.command == v2::Command::Proxy;
            let unspecified = header.addresses == v2::Addresses::Unspecified;
            let client = match (proxy, header.addresses) {
                (true, v2::Addresses::IPv4(ip)) => Some(SocketAddr::new(
                    IpAddr::V4(ip.source_address),
                    ip.source_port,
                )),
                (true, v2::Addresses::IPv6(ip)) => Some(SocketAddr::new(
                    IpAddr::V6(ip.source_address),
                    ip.source_port,
                )),
                _ => None,
            };
            let tlvs = header
                .tlvs()
                .map(|tlv| tlv.map(|tlv| (tlv.kind, tlv.value.to_vec())))
                .collect::<Result<Vec<_>, _>>()
                .ok()?;
            Some((client, proxy, if unspecified { None } else { Some(tlvs) }))
        }
        _ => None,
    }
}

/// The same view of ours; the TLVs left out where ppp's are (`unspecified`).
fn our_view(header: &ProxyHeader<'_>, unspecified: bool) -> View {
    let tlvs = header
        .tlvs()
        .map(|tlv| (tlv.kind, tlv.value.to_vec()))
        .collect();
    (
        header.client(),
        header.command == ProxyCommand::Proxy,
        (!unspecified).then_some(tlvs),
    )
}

/// Whether `line` is a v1 UNKNOWN line ppp cannot split (see the module's notes).
fn ppp_limit(line: &[u8]) -> bool {
    line.starts_with(b"PROXY UNKNOWN ") && line.iter().filter(|&&b| b == b' ').count() > 5
}

/// A valid header: v1 or v2, over every address family.
fn valid_header() -> impl Strategy<Value = Vec<u8>> {
    let v4 = (
        any::<[u8; 4]>(),
        any::<[u8; 4]>(),
        any::<u16>(),
        any::<u16>(),
    );
    let v6 = (
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
        any::<u16>(),
        any::<u16>(),
    );
    let tlvs = prop::collection::vec(
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..40)),
        0..4,
    );
    prop_oneof![
        v4.prop_map(|(s, d, sp, dp)| format!(
            "PROXY TCP4 {} {} {sp} {dp}\r\n",
            Ipv4Addr::from(s),
            Ipv4Addr::from(d)
        )
        .into_bytes()),
        v6.prop_map(|(s, d, sp, dp)| format!(
            "PROXY TCP6 {} {} {sp} {dp}\r\n",
            Ipv6Addr::from(s),
            Ipv6Addr::from(d)
        )
        .into_bytes()),
        "[!-~]{1,20}( [!-~]{1,20}){0,3}"
            .prop_map(|rest| format!("PROXY UNKNOWN {rest}\r\n").into_bytes()),
        Just(b"PROXY UNKNOWN\r\n".to_vec()),
        (v4, any::<bool>(), tlvs.clone()).prop_map(|((s, d, sp, dp), local, tlvs)| {
            let addresses: v2::Addresses = v2::IPv4::new(s, d, sp, dp).into();
            build(local, addresses, &tlvs)
        }),
        (v6, any::<bool>(), tlvs.clone()).prop_map(|((s, d, sp, dp), local, tlvs)| {
            let addresses: v2::Addresses = v2::IPv6::new(s, d, sp, dp).into();
            build(local, addresses, &tlvs)
        }),
        (any::<bool>(), tlvs.clone()).prop_map(|(local, tlvs)| {
            let addresses = v2::Addresses::Unix(v2::Unix::new([b'a'; 108], [b'b'; 108]));
            build(local, addresses, &tlvs)
        }),
        (any::<bool>(), tlvs)
            .prop_map(|(local, tlvs)| { build(local, v2::Addresses::Unspecified, &tlvs) }),
    ]
}

/// A v2 header built by ppp: LOCAL or PROXY, over a stream (UNSPEC for UNSPEC addresses,
/// the only transport the specification allows with them).
fn build(local: bool, addresses: v2::Addresses, tlvs: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let command = if local { 0x20 } else { 0x21 };
    let protocol = match addresses {
        v2::Addresses::Unspecified => v2::Protocol::Unspecified,
        _ => v2::Protocol::Stream,
    };
    let mut builder = Builder::with_addresses(command, protocol, addresses);
    for (kind, value) in tlvs {
        builder = builder.write_tlv(*kind, value).unwrap();
    }
    builder.build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn valid_headers_agree_and_their_prefixes_are_partial(header in valid_header()) {
        let Ok(Parsed::Complete { value, consumed }) = parse_proxy_header(&header) else {
            panic!("refused {header:?}: {:?}", parse_proxy_header(&header));
        };
        prop_assert_eq!(consumed, header.len());
        let theirs = ppp_view(&header).expect("ppp reads it");
        prop_assert_eq!(our_view(&value, theirs.2.is_none()), theirs);
        if let ProxyAddresses::Unix { source, destination } = value.addresses {
            prop_assert_eq!(source.len(), 108);
            prop_assert_eq!(destination.len(), 108);
        }
        for end in 0..header.len() {
            prop_assert_eq!(parse_proxy_header(&header[..end]), Ok(Parsed::Partial));
        }
    }

    #[test]
    fn what_is_accepted_here_ppp_accepts_too(
        header in valid_header(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        tail in prop::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut bytes = header;
        for (at, byte) in changes {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        bytes.extend(tail);
        prop_assume!(!ppp_limit(&bytes));
        if let Ok(Parsed::Complete { value, consumed }) = parse_proxy_header(&bytes) {
            let theirs = ppp_view(&bytes[..consumed]);
            prop_assert!(theirs.is_some(), "ppp refuses {:?}", &bytes[..consumed]);
            let theirs = theirs.unwrap();
            prop_assert_eq!(our_view(&value, theirs.2.is_none()), theirs);
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_proxy_header(&bytes);
    }
}
