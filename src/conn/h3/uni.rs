//! The client's unidirectional streams (RFC 9114 §6.2): its control stream (SETTINGS first
//! and once, then GOAWAY, MAX_PUSH_ID, CANCEL_PUSH and unknown frames, §6.2.1, §7.2), its
//! QPACK encoder stream (fed to our decoder) and decoder stream (fed to our encoder, RFC 9204
//! §4.2), and streams of unknown types, whose bytes are discarded (§6.2). One stream of each
//! critical type (§6.2.1, RFC 9204 §4.2: a second is H3_STREAM_CREATION_ERROR).

use super::H3Conn;
use nomserve_grammar::{
    H3ErrorCode, H3Frame, H3StreamKind, ParsedH3Frame, UniStreamType, parse_h3_frame,
    parse_uni_stream_type,
};

/// Bytes of control frames a control stream buffers: a SETTINGS frame and its fellows are
/// tens of bytes; a client needs no more.
const MAX_CONTROL_FRAME: u64 = 4096;

/// What one of the client's unidirectional streams is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Its type has not arrived whole yet.
    Untyped,
    /// The control stream; `settings`: its SETTINGS frame arrived; `skip`: bytes of an
    /// unknown frame left to skip.
    Control {
        settings: bool,
        skip: u64,
    },
    QpackEncoder,
    QpackDecoder,
    /// A type we do not know: discarded (§6.2).
    Ignored,
}

/// One of the client's unidirectional streams.
#[derive(Debug)]
pub struct UniStream {
    kind: Kind,
    /// Bytes received and not yet used (a partial frame or instruction).
    input: Vec<u8>,
}

impl UniStream {
    /// Whether closing this stream ends the connection (§6.2.1, RFC 9204 §4.2).
    pub fn is_critical(&self) -> bool {
        matches!(
            self.kind,
            Kind::Control { .. } | Kind::QpackEncoder | Kind::QpackDecoder
        )
    }
}

impl H3Conn {
    /// Bytes on the client's unidirectional stream `id`.
    pub(super) fn uni_bytes(&mut self, id: u64, bytes: &[u8], fin: bool) {
        let stream = self.uni.entry(id).or_insert(UniStream {
            kind: Kind::Untyped,
            input: Vec::new(),
        });
        if stream.kind == Kind::Ignored {
            if fin {
                self.uni.remove(&id);
            }
            return;
        }
        stream.input.extend_from_slice(bytes);
        if stream.kind == Kind::Untyped {
            match parse_uni_stream_type(&stream.input) {
                Ok(None) => return,
                Ok(Some((kind, used))) => {
                    stream.input.drain(..used);
                    let kind = match kind {
                        UniStreamType::Control => Kind::Control {
                            settings: false,
                            skip: 0,
                        },
                        UniStreamType::QpackEncoder => Kind::QpackEncoder,
                        UniStreamType::QpackDecoder => Kind::QpackDecoder,
                        UniStreamType::Unknown(_) => Kind::Ignored,
                    };
                    let twice = kind != Kind::Ignored
                        && self.uni.values().any(|other| same_kind(other.kind, kind));
                    if twice {
                        return self
                            .fail(H3ErrorCode::StreamCreationError, "a second critical stream");
                    }
                    if let Some(stream) = self.uni.get_mut(&id) {
                        stream.kind = kind;
                        if kind == Kind::Ignored {
                            stream.input = Vec::new();
                        }
                    }
                }
                Err(e) => return self.fail(e.code(), &e.to_string()),
            }
        }
        self.uni_read(id);
        if fin {
            if self.uni.get(&id).is_some_and(UniStream::is_critical) {
                self.fail(
                    H3ErrorCode::ClosedCriticalStream,
                    "a critical stream was closed",
                );
            } else {
                // A stream of another type is over: it leaves nothing behind, however many
                // a client opens one after the other.
                self.uni.remove(&id);
            }
        }
    }

    /// Uses what stream `id` has buffered, as its kind reads it.
    fn uni_read(&mut self, id: u64) {
        let Some(stream) = self.uni.get_mut(&id) else {
            return;
        };
        let mut input = std::mem::take(&mut stream.input);
        let kind = stream.kind;
        let used = match kind {
            Kind::QpackEncoder => self
                .decoder
                .feed_encoder_stream(&input)
                .map_err(|e| (e.code(), e.to_string())),
            Kind::QpackDecoder => self
                .encoder
                .feed_decoder_stream(&input)
                .map_err(|e| (e.code(), e.to_string())),
            Kind::Control { settings, skip } => self.control_frames(id, &input, settings, skip),
            Kind::Untyped | Kind::Ignored => Ok(input.len()),
        };
        match used {
            Ok(used) => {
                input.drain(..used.min(input.len()));
                if let Some(stream) = self.uni.get_mut(&id) {
                    stream.input = input;
                }
            }
            Err((code, why)) => self.fail(code, &why),
        }
    }

    /// Reads the control stream's whole frames in `input`; returns the bytes used.
    fn control_frames(
        &mut self,
        id: u64,
        input: &[u8],
        mut settings: bool,
        mut skip: u64,
    ) -> Result<usize, (H3ErrorCode, String)> {
        let mut at = 0;
        loop {
            let rest = input.get(at..).unwrap_or_default();
            if skip > 0 {
                let n = skip.min(rest.len() as u64);
                skip -= n;
                at += n as usize;
                if skip > 0 {
                    break;
                }
                continue;
            }
            if rest.is_empty() {
                break;
            }
            let (frame, consumed) =
                match parse_h3_frame(rest, H3StreamKind::Control, MAX_CONTROL_FRAME) {
                    Ok(ParsedH3Frame::Partial { .. }) => break,
                    Ok(ParsedH3Frame::Complete { frame, consumed }) => (frame, consumed),
                    Err(e) => return Err((e.code(), e.to_string())),
                };
            at += consumed;
            match frame {
                H3Frame::Settings(_) if !settings => settings = true,
                // §6.2.1: SETTINGS first, and once (§7.2.4).
                _ if !settings => {
                    return Err((
                        H3ErrorCode::MissingSettings,
                        "a control frame before SETTINGS".into(),
                    ));
                }
                H3Frame::Settings(_) => {
                    return Err((H3ErrorCode::FrameUnexpected, "a second SETTINGS".into()));
                }
                // §7.2.3: we never push, so every push id is unknown.
                H3Frame::CancelPush { .. } => {
                    return Err((
                        H3ErrorCode::IdError,
                        "CANCEL_PUSH of a push never promised".into(),
                    ));
                }
                H3Frame::Unknown { length, .. } => skip = length,
                // GOAWAY from a client names pushes it refuses, MAX_PUSH_ID pushes it allows:
                // a server that never pushes has nothing to do with either.
                _ => {}
            }
        }
        if let Some(stream) = self.uni.get_mut(&id) {
            stream.kind = Kind::Control { settings, skip };
        }
        Ok(at)
    }
}

/// Whether two kinds are the same critical stream type.
fn same_kind(a: Kind, b: Kind) -> bool {
    matches!(
        (a, b),
        (Kind::Control { .. }, Kind::Control { .. })
            | (Kind::QpackEncoder, Kind::QpackEncoder)
            | (Kind::QpackDecoder, Kind::QpackDecoder)
    )
}
