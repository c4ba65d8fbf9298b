//! Unidirectional stream types (RFC 9114 §6.2): the variable-length integer that opens each
//! unidirectional stream and says what it carries.

#![forbid(unsafe_code)]

use super::error::H3Rule;
use super::varint::varint;

/// What a client's unidirectional stream carries, from its first integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniStreamType {
    /// 0x00: the control stream (RFC 9114 §6.2.1).
    Control,
    /// 0x02: the QPACK encoder stream (RFC 9204 §4.2).
    QpackEncoder,
    /// 0x03: the QPACK decoder stream (RFC 9204 §4.2).
    QpackDecoder,
    /// A type this crate does not know, the reserved `0x1f * N + 0x21` ones included: the
    /// stream is to be ignored, its reading aborted with H3_STREAM_CREATION_ERROR or left
    /// unread (RFC 9114 §6.2: "the recipient MUST either abort reading of the stream or
    /// discard incoming data without further processing").
    Unknown(u64),
}

impl UniStreamType {
    /// The type's value on the wire, for the streams a server opens itself.
    pub const fn wire(self) -> u64 {
        match self {
            UniStreamType::Control => 0x00,
            UniStreamType::QpackEncoder => 0x02,
            UniStreamType::QpackDecoder => 0x03,
            UniStreamType::Unknown(value) => value,
        }
    }
}

/// Whether `value` is one of the reserved values `0x1f * N + 0x21` that frame types, setting
/// identifiers, stream types and error codes set aside for a peer to exercise the "ignore
/// what is unknown" rule (RFC 9114 §6.2.3, §7.2.8, §7.2.4.1, §8.1).
pub const fn is_reserved_h3_value(value: u64) -> bool {
    value >= 0x21 && (value - 0x21) % 0x1f == 0
}

/// ```text
/// Unidirectional Stream Header {
///   Stream Type (i),
/// }
/// ```
/// RFC 9114 §6.2, on a stream a client opened: the type and the bytes it took, or `Ok(None)`
/// while the integer is partial. Fails with `PushStreamFromClient` at byte 0 for type 0x01
/// (H3_STREAM_CREATION_ERROR, §6.2.2: "Only servers can push").
///
/// ```
/// use nomserve_grammar::{UniStreamType, parse_uni_stream_type};
///
/// assert_eq!(parse_uni_stream_type(b"\x02\xff"), Ok(Some((UniStreamType::QpackEncoder, 1))));
/// assert_eq!(parse_uni_stream_type(b"\x40"), Ok(None));
/// assert_eq!(parse_uni_stream_type(b"\x40\x21"), Ok(Some((UniStreamType::Unknown(0x21), 2))));
/// assert!(parse_uni_stream_type(b"\x01").is_err());
/// ```
pub fn parse_uni_stream_type(buf: &[u8]) -> Result<Option<(UniStreamType, usize)>, super::H3Error> {
    let Ok((rest, value)) = varint(buf) else {
        return Ok(None);
    };
    let kind = match value {
        0x00 => UniStreamType::Control,
        0x01 => return Err(super::H3Error::new(H3Rule::PushStreamFromClient, 0)),
        0x02 => UniStreamType::QpackEncoder,
        0x03 => UniStreamType::QpackDecoder,
        other => UniStreamType::Unknown(other),
    };
    Ok(Some((kind, buf.len() - rest.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h3::write_varint;

    #[test]
    fn known_types() {
        for kind in [
            UniStreamType::Control,
            UniStreamType::QpackEncoder,
            UniStreamType::QpackDecoder,
            UniStreamType::Unknown(0x21),
            UniStreamType::Unknown(0x54),
            UniStreamType::Unknown(1 << 40),
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, kind.wire());
            assert_eq!(parse_uni_stream_type(&out), Ok(Some((kind, out.len()))));
            for cut in 0..out.len() {
                assert_eq!(parse_uni_stream_type(&out[..cut]), Ok(None));
            }
        }
    }

    #[test]
    fn a_push_stream_from_a_client_is_refused() {
        for wire in [&b"\x01"[..], b"\x40\x01", b"\x01\x00"] {
            let error = parse_uni_stream_type(wire).unwrap_err();
            assert_eq!(error.rule(), H3Rule::PushStreamFromClient);
            assert_eq!(error.offset(), 0);
        }
    }

    #[test]
    fn reserved_values() {
        for n in [0, 1, 2, 1000] {
            assert!(is_reserved_h3_value(0x1f * n + 0x21));
            assert!(!is_reserved_h3_value(0x1f * n + 0x22));
        }
        assert!(!is_reserved_h3_value(0x02));
        assert!(!is_reserved_h3_value(0x20));
    }
}
