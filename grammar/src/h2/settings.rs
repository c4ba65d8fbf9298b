//! The SETTINGS frame's parameters (RFC 9113 §6.5): each checked as it is parsed, then
//! walked without allocation.

#![forbid(unsafe_code)]

use super::error::{Fail, H2Rule, fail};
use super::header::FRAME_HEADER_LEN;
use crate::fail::offset_in;
use nom::Parser;
use nom::number::complete::{be_u16, be_u32};

/// The length of one parameter: a 16-bit identifier and a 32-bit value (§6.5.1).
pub(crate) const SETTING_LEN: usize = 6;

/// The largest flow-control window, and the largest SETTINGS_INITIAL_WINDOW_SIZE
/// (RFC 9113 §6.5.2, §6.9.1).
pub const MAX_WINDOW_SIZE: u32 = 0x7fff_ffff;

/// The smallest SETTINGS_MAX_FRAME_SIZE, and its initial value (RFC 9113 §4.2, §6.5.2).
pub const MIN_MAX_FRAME_SIZE: u32 = 1 << 14;

/// The largest SETTINGS_MAX_FRAME_SIZE: 2^24−1 (RFC 9113 §6.5.2).
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;

/// A SETTINGS parameter this crate knows (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1),
/// its value checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// SETTINGS_HEADER_TABLE_SIZE (0x01): the largest HPACK dynamic table the sender's
    /// decoder keeps.
    HeaderTableSize(u32),
    /// SETTINGS_ENABLE_PUSH (0x02): whether the sender accepts server push.
    EnablePush(bool),
    /// SETTINGS_MAX_CONCURRENT_STREAMS (0x03): the most streams the sender lets its peer
    /// open.
    MaxConcurrentStreams(u32),
    /// SETTINGS_INITIAL_WINDOW_SIZE (0x04): each new stream's flow-control window, at most
    /// [`MAX_WINDOW_SIZE`].
    InitialWindowSize(u32),
    /// SETTINGS_MAX_FRAME_SIZE (0x05): the largest frame payload the sender accepts,
    /// [`MIN_MAX_FRAME_SIZE`] to [`MAX_MAX_FRAME_SIZE`].
    MaxFrameSize(u32),
    /// SETTINGS_MAX_HEADER_LIST_SIZE (0x06): advisory, the largest field section the sender
    /// accepts.
    MaxHeaderListSize(u32),
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (0x08, RFC 8441 §3): extended CONNECT.
    EnableConnectProtocol(bool),
    /// SETTINGS_NO_RFC7540_PRIORITIES (0x09, RFC 9218 §2.1): the sender ignores RFC 7540's
    /// priority signals.
    NoRfc7540Priorities(bool),
}

impl Setting {
    /// The parameter's identifier on the wire.
    pub const fn id(self) -> u16 {
        use Setting::*;
        match self {
            HeaderTableSize(_) => 0x1,
            EnablePush(_) => 0x2,
            MaxConcurrentStreams(_) => 0x3,
            InitialWindowSize(_) => 0x4,
            MaxFrameSize(_) => 0x5,
            MaxHeaderListSize(_) => 0x6,
            EnableConnectProtocol(_) => 0x8,
            NoRfc7540Priorities(_) => 0x9,
        }
    }

    /// The parameter's value on the wire.
    pub const fn value(self) -> u32 {
        use Setting::*;
        match self {
            HeaderTableSize(v)
            | MaxConcurrentStreams(v)
            | InitialWindowSize(v)
            | MaxFrameSize(v)
            | MaxHeaderListSize(v) => v,
            EnablePush(b) | EnableConnectProtocol(b) | NoRfc7540Priorities(b) => b as u32,
        }
    }
}

/// The parameters of a SETTINGS frame (not an acknowledgment), borrowed from the frame and
/// already checked: [`SettingsFrame::iter`] walks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettingsFrame<'a> {
    payload: &'a [u8],
}

impl<'a> SettingsFrame<'a> {
    /// The known parameters, in the order sent; unknown identifiers are skipped, as §6.5.2
    /// requires ("MUST ignore"). A parameter sent twice appears twice: the later one wins
    /// (§6.5.3, "processed in the order in which they appear").
    pub fn iter(&self) -> impl Iterator<Item = Setting> + 'a {
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

    /// How many parameters the frame holds, unknown ones included.
    pub const fn len(&self) -> usize {
        self.payload.len() / SETTING_LEN
    }

    /// Whether the frame holds no parameter at all.
    pub const fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }
}

/// The payload of a SETTINGS frame that is not an acknowledgment:
///
/// ```text
/// SETTINGS Frame {
///   Length (24),
///   Type (8) = 0x04,
///   Unused Flags (7),
///   ACK Flag (1),
///   Reserved (1),
///   Stream Identifier (31) = 0,
///   Setting (48) ...,
/// }
/// ```
/// RFC 9113 §6.5. A length that is not a multiple of 6 fails at the Length field (it is also
/// checked with the frame's header, before the payload is read); each known parameter's
/// value is checked, and an offending one fails at its value's first byte.
pub(super) fn settings_payload(payload: &[u8]) -> Result<SettingsFrame<'_>, Fail> {
    let mut rest = payload;
    while !rest.is_empty() {
        let value_at = FRAME_HEADER_LEN + offset_in(payload, rest) + 2;
        let Ok((after, (id, value))) = setting(rest) else {
            return fail(H2Rule::SettingsLength, 0);
        };
        if let Err(rule) = known_setting(id, value) {
            return fail(rule, value_at);
        }
        rest = after;
    }
    Ok(SettingsFrame { payload })
}

/// ```text
/// Setting {
///   Identifier (16),
///   Value (32),
/// }
/// ```
/// RFC 9113 §6.5.1.
fn setting(input: &[u8]) -> nom::IResult<&[u8], (u16, u32)> {
    (be_u16, be_u32).parse(input)
}

/// The parameter `id` with `value`, checked (RFC 9113 §6.5.2; RFC 8441 §3 and RFC 9218 §2.1
/// for the two boolean extensions, which also allow only 0 and 1); `None` for an identifier
/// this crate does not know, which is ignored.
fn known_setting(id: u16, value: u32) -> Result<Option<Setting>, H2Rule> {
    let flag = |rule| match value {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(rule),
    };
    Ok(Some(match id {
        0x1 => Setting::HeaderTableSize(value),
        0x2 => Setting::EnablePush(flag(H2Rule::EnablePushValue)?),
        0x3 => Setting::MaxConcurrentStreams(value),
        0x4 if value > MAX_WINDOW_SIZE => return Err(H2Rule::InitialWindowSizeValue),
        0x4 => Setting::InitialWindowSize(value),
        0x5 if !(MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) => {
            return Err(H2Rule::MaxFrameSizeValue);
        }
        0x5 => Setting::MaxFrameSize(value),
        0x6 => Setting::MaxHeaderListSize(value),
        0x8 => Setting::EnableConnectProtocol(flag(H2Rule::EnableConnectProtocolValue)?),
        0x9 => Setting::NoRfc7540Priorities(flag(H2Rule::NoRfc7540PrioritiesValue)?),
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(pairs: &[(u16, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (id, value) in pairs {
            out.extend_from_slice(&id.to_be_bytes());
            out.extend_from_slice(&value.to_be_bytes());
        }
        out
    }

    #[test]
    fn accepted_parameters() {
        let bytes = payload(&[
            (0x1, 0),
            (0x2, 1),
            (0x3, 100),
            (0x4, MAX_WINDOW_SIZE),
            (0x5, MIN_MAX_FRAME_SIZE),
            (0x5, MAX_MAX_FRAME_SIZE),
            (0x6, u32::MAX),
            (0x7, 12),
            (0xffff, u32::MAX),
            (0x8, 0),
            (0x9, 1),
            (0x0, 7),
        ]);
        let settings = settings_payload(&bytes).unwrap();
        assert_eq!(settings.len(), 12);
        assert!(!settings.is_empty());
        let got: Vec<Setting> = settings.iter().collect();
        assert_eq!(
            got,
            [
                Setting::HeaderTableSize(0),
                Setting::EnablePush(true),
                Setting::MaxConcurrentStreams(100),
                Setting::InitialWindowSize(MAX_WINDOW_SIZE),
                Setting::MaxFrameSize(MIN_MAX_FRAME_SIZE),
                Setting::MaxFrameSize(MAX_MAX_FRAME_SIZE),
                Setting::MaxHeaderListSize(u32::MAX),
                Setting::EnableConnectProtocol(false),
                Setting::NoRfc7540Priorities(true),
            ]
        );
        for setting in got {
            assert_eq!(
                known_setting(setting.id(), setting.value()),
                Ok(Some(setting))
            );
        }
        assert!(settings_payload(&[]).unwrap().is_empty());
        assert_eq!(
            settings_payload(&bytes[..13]),
            Err(Fail {
                rule: H2Rule::SettingsLength,
                offset: 0
            })
        );
    }

    #[test]
    fn refused_values() {
        use H2Rule::*;
        type Case = (&'static [(u16, u32)], H2Rule, usize);
        let cases: &[Case] = &[
            (&[(0x2, 2)], EnablePushValue, 11),
            (&[(0x1, 1), (0x2, u32::MAX)], EnablePushValue, 17),
            (&[(0x4, MAX_WINDOW_SIZE + 1)], InitialWindowSizeValue, 11),
            (&[(0x4, u32::MAX)], InitialWindowSizeValue, 11),
            (&[(0x5, MIN_MAX_FRAME_SIZE - 1)], MaxFrameSizeValue, 11),
            (&[(0x5, 0)], MaxFrameSizeValue, 11),
            (&[(0x5, MAX_MAX_FRAME_SIZE + 1)], MaxFrameSizeValue, 11),
            (&[(0x8, 2)], EnableConnectProtocolValue, 11),
            (&[(0x9, 5)], NoRfc7540PrioritiesValue, 11),
        ];
        for &(pairs, rule, offset) in cases {
            assert_eq!(
                settings_payload(&payload(pairs)),
                Err(Fail { rule, offset }),
                "{pairs:?}"
            );
        }
    }
}
