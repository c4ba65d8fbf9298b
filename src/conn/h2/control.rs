//! The control frames that change the connection's state (RFC 9113 §6.4, §6.5, §6.9):
//! RST_STREAM, SETTINGS and WINDOW_UPDATE, applied once the read side has parsed them.

use super::H2Conn;
use super::bounds::Verdict;
use nomserve_grammar::{H2ErrorCode, MAX_WINDOW_SIZE, Setting, write_settings_ack};

impl H2Conn {
    /// RST_STREAM (§6.4): the stream is closed, its response dropped.
    pub(super) fn rst_stream(&mut self, id: u32) {
        if self.is_idle_stream(id) {
            return self.connection_error(
                H2ErrorCode::ProtocolError,
                b"RST_STREAM on an idle stream (RFC 9113 6.4)",
            );
        }
        if self.streams.contains_key(&id) {
            self.close_stream(id);
            if let Verdict::Calm(why) = self.floods.early_reset() {
                self.connection_error(H2ErrorCode::EnhanceYourCalm, why.as_bytes());
            }
        }
    }

    /// SETTINGS (§6.5): applied, then acknowledged.
    pub(super) fn settings(&mut self, settings: &[Setting]) {
        self.settings_seen = true;
        for &setting in settings {
            match setting {
                Setting::HeaderTableSize(size) => {
                    self.encoder.set_peer_table_size(size as usize);
                }
                Setting::InitialWindowSize(size) => {
                    // §6.9.2: the change applies to every open stream's window.
                    let delta = i64::from(size) - self.peer_initial_window;
                    self.peer_initial_window = i64::from(size);
                    for stream in self.streams.values_mut() {
                        stream.send_window += delta;
                        if stream.send_window > i64::from(MAX_WINDOW_SIZE) {
                            return self.connection_error(
                                H2ErrorCode::FlowControlError,
                                b"SETTINGS_INITIAL_WINDOW_SIZE overflows a window",
                            );
                        }
                    }
                    self.requeue_blocked();
                }
                Setting::MaxFrameSize(size) => self.peer_max_frame = size,
                Setting::EnablePush(_)
                | Setting::MaxConcurrentStreams(_)
                | Setting::MaxHeaderListSize(_)
                | Setting::EnableConnectProtocol(_)
                | Setting::NoRfc7540Priorities(_) => {}
            }
        }
        write_settings_ack(&mut self.out);
        self.cheap("SETTINGS flood");
    }

    /// WINDOW_UPDATE (§6.9): a send window grows; past 2^31−1 is an error.
    pub(super) fn window_update(&mut self, id: u32, increment: u32) {
        if id == 0 {
            self.send_window += i64::from(increment);
            if self.send_window > i64::from(MAX_WINDOW_SIZE) {
                return self.connection_error(
                    H2ErrorCode::FlowControlError,
                    b"connection window past 2^31-1 (RFC 9113 6.9.1)",
                );
            }
            return;
        }
        if self.is_idle_stream(id) {
            return self.connection_error(
                H2ErrorCode::ProtocolError,
                b"WINDOW_UPDATE on an idle stream",
            );
        }
        let Some(stream) = self.streams.get_mut(&id) else {
            return;
        };
        stream.send_window += i64::from(increment);
        if stream.send_window > i64::from(MAX_WINDOW_SIZE) {
            return self.stream_error(
                id,
                H2ErrorCode::FlowControlError,
                "stream window past 2^31-1 (RFC 9113 6.9.1)",
            );
        }
        if stream.has_data() && !self.ready.contains(id, stream.urgency) {
            self.ready.push_back(id, stream.urgency);
        }
    }
}
