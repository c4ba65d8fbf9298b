//! Telling systemd how the service is doing (sd_notify(3)): one datagram a state change,
//! sent to the Unix socket `NOTIFY_SOCKET` names (a path, or `@NAME` for an abstract
//! socket). Without `NOTIFY_SOCKET` (not run by systemd as `Type=notify`) nothing is sent.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The server is listening and serving.
pub fn ready() {
    notify("READY=1");
}

/// The server reloads its settings; [`ready`] follows. systemd's `Type=notify-reload`
/// wants the time of the reload on the monotonic clock with it.
pub fn reloading() {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::Monotonic);
    let usec = now.tv_sec.unsigned_abs() * 1_000_000 + now.tv_nsec.unsigned_abs() / 1000;
    notify(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
}

/// The server is shutting down.
pub fn stopping() {
    notify("STOPPING=1");
}

/// Sends `state` to `NOTIFY_SOCKET`, if it is set. A failure is logged: systemd then sees
/// the service as not ready (and times it out), which the log explains.
fn notify(state: &str) {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let bytes = target.as_encoded_bytes();
    let address = match bytes.strip_prefix(b"@") {
        Some(name) => SocketAddr::from_abstract_name(name),
        None => SocketAddr::from_pathname(&target),
    };
    let sent = address.and_then(|address| {
        let socket = UnixDatagram::unbound()?;
        socket.send_to_addr(state.as_bytes(), &address)
    });
    if let Err(e) = sent {
        log::warn!(
            "cannot tell systemd {state:?} at NOTIFY_SOCKET={}: {e}",
            target.to_string_lossy()
        );
    }
}
