//! The one socket option the server sets that rustix has no call for: `TCP_DEFER_ACCEPT`.
//!
//! This module holds the binary's only `unsafe` code, one `setsockopt(2)` call, which the
//! bench's new-connection row shows pays (see [`crate::server::listeners`]'s `open_tcp`
//! for the figures).

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// Has the kernel keep a new connection on `socket` (a listening TCP socket) out of the
/// accept queue until its first bytes arrive, for up to about `seconds` (tcp(7): the kernel
/// counts the wait in SYN-ACK retransmissions, the first after one second). A client still
/// silent then is queued all the same, when it answers the retransmitted SYN-ACK.
pub fn defer_accept(socket: impl AsFd, seconds: u32) -> io::Result<()> {
    let value = libc::c_int::try_from(seconds).unwrap_or(libc::c_int::MAX);
    let length = libc::socklen_t::try_from(size_of::<libc::c_int>())
        .map_err(|_| io::Error::other("an int's size does not fit a socklen_t"))?;
    // SAFETY: the descriptor is borrowed, so it stays open for the call; the option value
    // points at `value`, a live `c_int` on this stack frame, and `length` is its size, so
    // the kernel reads exactly that int and writes nothing.
    let done = unsafe {
        libc::setsockopt(
            socket.as_fd().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&raw const value).cast(),
            length,
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
