//! The SETTINGS frame's parameters (RFC 9114 §7.2.4): checked as the frame is parsed, then
//! walked without allocation.

#![forbid(unsafe_code)]

use super::error::H3Rule;
use super::varint::{varint, write_varint};

/// A setting this crate knows (RFC 9114 §7.2.4.1, RFC 9204 §5, RFC 9220 §3, RFC 9297 §2.1.1),
/// its value checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum H3Setting {
    /// SETTINGS_QPACK_MAX_TABLE_CAPACITY (0x01): the largest dynamic table the sender's QPACK
    /// decoder keeps (RFC 9204 §5); 0 when not sent.
    QpackMaxTableCapacity(u64),
    /// SETTINGS_MAX_FIELD_SECTION_SIZE (0x06): advisory, the largest field section the sender
    /// accepts, counted as RFC 9114 §4.2.2 counts it; unlimited when not sent.
    MaxFieldSectionSize(u64),
    /// SETTINGS_QPACK_BLOCKED_STREAMS (0x07): how many streams the sender's decoder lets wait
    /// for dynamic table inserts (RFC 9204 §5); 0 when not sent.
    QpackBlockedStreams(u64),
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (0x08, RFC 9220 §3): extended CONNECT.
    EnableConnectProtocol(bool),
    /// SETTINGS_H3_DATAGRAM (0x33, RFC 9297 §2.1.1): HTTP datagrams.
    H3Datagram(bool),
}

impl H3Setting {
    /// The setting's identifier on the wire.
    pub const fn id(self) -> u64 {
        use H3Setting::*;
        match self {
            QpackMaxTableCapacity(_) => 0x01,
            MaxFieldSectionSize(_) => 0x06,
            QpackBlockedStreams(_) => 0x07,
            EnableConnectProtocol(_) => 0x08,
            H3Datagram(_) => 0x33,
        }
    }

    /// The setting's value on the wire.
    pub const fn value(self) -> u64 {
        use H3Setting::*;
        match self {
            QpackMaxTableCapacity(v) | MaxFieldSectionSize(v) | QpackBlockedStreams(v) => v,
            EnableConnectProtocol(b) | H3Datagram(b) => b as u64,
        }
    }

    /// Appends the setting, identifier then value (RFC 9114 §7.2.4).
    pub(super) fn write(self, out: &mut Vec<u8>) {
        write_varint(out, self.id());
        write_varint(out, self.value());
    }
}

/// The settings of a SETTINGS frame, borrowed from the frame and already checked:
/// [`H3SettingsFrame::iter`] walks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H3SettingsFrame<'a> {
    payload: &'a [u8],
}

impl<'a> H3SettingsFrame<'a> {
    /// The known settings, in the order sent; unknown identifiers, the reserved
    /// `0x1f * N + 0x21` ones among them, are skipped, as RFC 9114 §7.2.4.1 requires
    /// ("MUST be ignored").
    pub fn iter(&self) -> impl Iterator<Item = H3Setting> + 'a {
        let mut rest = self.payload;
        std::iter::from_fn(move || {
            loop {
                let (after, (id, value)) = setting(rest).ok()?;
                rest = after;
                if let Ok(Some(known)) = known_setting(id, value) {
                    return Some(known);
                }
            }
        })
    }

    /// Whether the frame holds no setting at all.
    pub const fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }
}

/// ```text
/// SETTINGS Frame {
///   Type (i) = 0x04,
///   Length (i),
///   Setting (..) ...,
/// }
/// ```
/// RFC 9114 §7.2.4. The payload, whole; `at` is its offset in the parsed input, for the
/// errors. A payload that ends inside a setting fails at that setting (`SettingTruncated`,
/// H3_FRAME_ERROR: §7.1, "a frame payload that terminates before the end of the identified
/// fields"); a reserved HTTP/2 identifier (`Http2Setting`), a known identifier sent twice
/// (`DuplicateSetting`) or a boolean setting other than 0 or 1 (`SettingValue`) fail at
/// their identifier, with H3_SETTINGS_ERROR.
///
/// **Decision, argued**: §7.2.4 lets a receiver treat any duplicate identifier as an error
/// ("MAY"); only the known ones are checked here, with one bit each, since a repeated known
/// setting leaves its value ambiguous while a repeated unknown one is ignored either way, and
/// finding it would cost a quadratic scan or an allocation per frame.
pub(super) fn settings_payload(
    payload: &[u8],
    at: usize,
) -> Result<H3SettingsFrame<'_>, (H3Rule, usize)> {
    let mut rest = payload;
    let mut seen = 0u64;
    while !rest.is_empty() {
        let offset = at + payload.len() - rest.len();
        let Ok((after, (id, value))) = setting(rest) else {
            return Err((H3Rule::SettingTruncated, offset));
        };
        match known_setting(id, value) {
            Err(rule) => return Err((rule, offset)),
            Ok(Some(known)) => {
                let bit = 1u64 << (known.id() & 0x3f);
                if seen & bit != 0 {
                    return Err((H3Rule::DuplicateSetting, offset));
                }
                seen |= bit;
            }
            Ok(None) => {}
        }
        rest = after;
    }
    Ok(H3SettingsFrame { payload })
}

/// ```text
/// Setting {
///   Identifier (i),
///   Value (i),
/// }
/// ```
/// RFC 9114 §7.2.4.
fn setting(input: &[u8]) -> nom::IResult<&[u8], (u64, u64), ()> {
    let (rest, id) = varint(input)?;
    let (rest, value) = varint(rest)?;
    Ok((rest, (id, value)))
}

/// The setting `id` with `value`, checked; `None` for an identifier this crate does not know,
/// which is ignored (RFC 9114 §7.2.4.1).
fn known_setting(id: u64, value: u64) -> Result<Option<H3Setting>, H3Rule> {
    let flag = match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(H3Rule::SettingValue),
    };
    Ok(Some(match id {
        0x01 => H3Setting::QpackMaxTableCapacity(value),
        // RFC 9114 §7.2.4.1: "Setting identifiers that were defined in [HTTP/2] where there
        // is no corresponding HTTP/3 setting have also been reserved ... Their receipt MUST
        // be treated as a connection error of type H3_SETTINGS_ERROR."
        0x02..=0x05 => return Err(H3Rule::Http2Setting),
        0x06 => H3Setting::MaxFieldSectionSize(value),
        0x07 => H3Setting::QpackBlockedStreams(value),
        0x08 => H3Setting::EnableConnectProtocol(flag?),
        0x33 => H3Setting::H3Datagram(flag?),
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(pairs: &[(u64, u64)]) -> Vec<u8> {
        let mut out = Vec::new();
        for &(id, value) in pairs {
            write_varint(&mut out, id);
            write_varint(&mut out, value);
        }
        out
    }

    #[test]
    fn accepted_settings() {
        let bytes = payload(&[
            (0x01, 4096),
            (0x06, 65_536),
            (0x07, 100),
            (0x21, 7),
            (0x1f * 3 + 0x21, 1 << 40),
            (0x08, 1),
            (0x33, 0),
            (0x00, 1),
            (0xffff, 2),
        ]);
        let settings = settings_payload(&bytes, 0).unwrap();
        assert!(!settings.is_empty());
        let got: Vec<H3Setting> = settings.iter().collect();
        assert_eq!(
            got,
            [
                H3Setting::QpackMaxTableCapacity(4096),
                H3Setting::MaxFieldSectionSize(65_536),
                H3Setting::QpackBlockedStreams(100),
                H3Setting::EnableConnectProtocol(true),
                H3Setting::H3Datagram(false),
            ]
        );
        for setting in got {
            assert_eq!(
                known_setting(setting.id(), setting.value()),
                Ok(Some(setting))
            );
        }
        assert!(settings_payload(&[], 0).unwrap().is_empty());
    }

    #[test]
    fn unknown_identifiers_may_repeat() {
        let bytes = payload(&[(0x21, 1), (0x21, 2), (0x01, 0)]);
        let got: Vec<H3Setting> = settings_payload(&bytes, 0).unwrap().iter().collect();
        assert_eq!(got, [H3Setting::QpackMaxTableCapacity(0)]);
    }

    #[test]
    fn refused_settings() {
        use H3Rule::*;
        type Case = (&'static [(u64, u64)], H3Rule, usize);
        let cases: &[Case] = &[
            (&[(0x02, 0)], Http2Setting, 5),
            (&[(0x03, 100)], Http2Setting, 5),
            (&[(0x04, 65_535)], Http2Setting, 5),
            (&[(0x01, 0), (0x05, 16_384)], Http2Setting, 7),
            (&[(0x01, 0), (0x01, 0)], DuplicateSetting, 7),
            (&[(0x06, 1), (0x07, 1), (0x06, 1)], DuplicateSetting, 9),
            (&[(0x08, 2)], SettingValue, 5),
            (&[(0x33, 1 << 20)], SettingValue, 5),
        ];
        for &(pairs, rule, offset) in cases {
            assert_eq!(
                settings_payload(&payload(pairs), 5).map(|_| ()),
                Err((rule, offset)),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn a_payload_ending_inside_a_setting_is_a_frame_error() {
        let bytes = payload(&[(0x01, 4096), (0x06, 65_536)]);
        for cut in [1, 2, 4, 5, bytes.len() - 1] {
            let expected = if cut < 3 { 0 } else { 3 };
            assert_eq!(
                settings_payload(&bytes[..cut], 0).map(|_| ()),
                Err((H3Rule::SettingTruncated, expected)),
                "{cut}"
            );
        }
    }
}
