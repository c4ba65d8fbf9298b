//! A plain stream socket (TCP or Unix) under a connection core: one turn of a [`Core`] over
//! its non-blocking socket.
//!
//! The turn does what the core asks (write, read, shut down, close) until the socket would
//! block or the turn's budget is spent. Readiness is edge-triggered (the worker's epoll
//! reports each change once), so it is tracked here: a read that fills less than the room it
//! was given, or any `EAGAIN`, means the socket is drained until the next event; a write that
//! meets `EAGAIN` means it is full until the next event. No call ever waits.
//!
//! Bytes leave with `send` (`MSG_MORE` when a file region follows, so a head shares a
//! segment with the file's first bytes despite `TCP_NODELAY`), file regions with
//! `sendfile(2)`: the kernel moves the bytes from the page cache to the socket without a
//! copy through user space. (Not `io::copy`, which no longer uses sendfile from a `File` to
//! a socket and copies through an 8 KiB buffer.) A static file server takes sendfile's
//! trade-off knowingly, as nginx's `sendfile on` does: a file rewritten while it is sent
//! yields mixed content either way.
//!
//! HTTP/2 is the exception: its file regions are DATA frames' payloads, at most 16 KiB each,
//! and a `sendfile` per frame (with a `send` for its header) would take two system calls
//! per 16 KiB. They are read into the worker's stage with the frames around them and leave
//! together, up to 60 KiB per `send` ([`staged`](super::staged)).

use super::staged::{Held, Stage};
use super::turn::{Budget, Readiness, SEND_MAX, Turn, log_io_error};
use crate::conn::{Context, Core, Want};
use crate::http::output::Item;
use rustix::buffer::spare_capacity;
use rustix::fd::OwnedFd;
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags};
use std::time::Instant;

/// Runs one turn of `conn` over `socket`; `held` is what the connection staged and the
/// socket has not taken, `stage` the worker's staging buffer (see [`super::staged`]).
pub fn drive(
    conn: &mut Core,
    socket: &OwnedFd,
    ready: &mut Readiness,
    ctx: &Context<'_>,
    held: &mut Held,
    stage: &mut [u8],
) -> Turn {
    let mut stage = Stage::new(stage, held);
    let mut budget = Budget::new(conn.stats().responses);
    // One reading of the clock per turn: a turn lasts microseconds, and deadlines are
    // kept to milliseconds.
    let now = Instant::now();
    let turn = turn(conn, socket, ready, ctx, &mut stage, &mut budget, now);
    if turn == Turn::Close {
        return turn;
    }
    // What is staged when the turn ends is sent now, or held for the next.
    if stage.flush(socket, ready, conn, now, &mut budget).is_err() {
        return Turn::Close;
    }
    turn
}

/// The turn itself: what the core asks, until the socket would block, the budget is spent
/// or the connection is over.
fn turn(
    conn: &mut Core,
    socket: &OwnedFd,
    ready: &mut Readiness,
    ctx: &Context<'_>,
    stage: &mut Stage<'_>,
    budget: &mut Budget,
    now: Instant,
) -> Turn {
    let peer = conn.peer();
    loop {
        // Bytes held go out before anything else; HTTP/2 reads on while they wait for the
        // socket, as far as its core takes more.
        if stage.is_holding() {
            // The core cut the client off at a send deadline: what is held is dropped.
            if conn.is_finished() {
                return Turn::Close;
            }
            if stage.send_held(socket, ready, conn, now, budget).is_err() {
                return Turn::Close;
            }
            if !ready.writable {
                if !(ready.readable && conn.reads_while_writing()) {
                    return Turn::Wait;
                }
                match read(conn, socket, ready) {
                    Ok(n) => {
                        budget.wrote(n);
                        conn.absorb(ctx, now);
                    }
                    Err(()) => return Turn::Close,
                }
            }
            if budget.spent(conn.stats().responses) {
                return Turn::Yield;
            }
            continue;
        }
        let h2 = conn.is_h2();
        match conn.poll(ctx, now) {
            Want::Write(item) if h2 && ready.writable && stage.takes(&item) => {
                let Ok(n) = stage.push(item, peer) else {
                    return Turn::Close;
                };
                conn.took(n);
                // The frames that follow, while they fit: one `send` takes them all.
                while let Some(item) = conn.more_output().filter(|item| stage.takes(item)) {
                    let Ok(n) = stage.push(item, peer) else {
                        return Turn::Close;
                    };
                    conn.took(n);
                }
                if stage.flush(socket, ready, conn, now, budget).is_err() {
                    return Turn::Close;
                }
            }
            // What is staged leaves before anything else is done.
            _ if !stage.is_empty() => {
                if stage.flush(socket, ready, conn, now, budget).is_err() {
                    return Turn::Close;
                }
            }
            Want::Write(item) => {
                if ready.writable {
                    match write(socket, item) {
                        Ok(n) => {
                            conn.wrote(n, now);
                            budget.wrote(n);
                        }
                        Err(Errno::AGAIN) => ready.writable = false,
                        Err(Errno::INTR) => {}
                        // A file that shrank: logged where it was found.
                        Err(Errno::NODATA) => return Turn::Close,
                        Err(e) => {
                            log_io_error(peer, "writing the response", &e.into());
                            return Turn::Close;
                        }
                    }
                }
                // HTTP/2 reads on while its output waits for the socket (a WINDOW_UPDATE,
                // the next request), as far as its core takes more.
                if !ready.writable {
                    if !(ready.readable && conn.reads_while_writing()) {
                        return Turn::Wait;
                    }
                    match read(conn, socket, ready) {
                        // What HTTP/2 reads while it writes counts against the turn too:
                        // a client that keeps sending cannot keep the worker.
                        Ok(n) => budget.wrote(n),
                        Err(()) => return Turn::Close,
                    }
                }
            }
            Want::Read => {
                if !ready.readable {
                    return Turn::Wait;
                }
                match read(conn, socket, ready) {
                    Ok(n) if conn.is_h2() => budget.wrote(n),
                    Ok(_) => {}
                    Err(()) => return Turn::Close,
                }
            }
            Want::ShutdownWrite => {
                match rustix::net::shutdown(socket, rustix::net::Shutdown::Write) {
                    Ok(()) => conn.write_shut(now),
                    Err(e) => {
                        log_io_error(peer, "shutting down the write side", &e.into());
                        return Turn::Close;
                    }
                }
            }
            // Woken through the connection's waker.
            Want::Park => return Turn::Wait,
            Want::Close => return Turn::Close,
        }
        if budget.spent(conn.stats().responses) {
            return Turn::Yield;
        }
    }
}

/// Reads what the socket holds into `conn`'s buffer (or tells it of the end of the
/// stream); returns the bytes read, `Err` when the connection failed (logged).
fn read(conn: &mut Core, socket: &OwnedFd, ready: &mut Readiness) -> Result<usize, ()> {
    let peer = conn.peer();
    let buffer = conn.read_buffer();
    let room = buffer.capacity() - buffer.len();
    match rustix::net::recv(socket, spare_capacity(buffer), RecvFlags::empty()) {
        Ok((0, _)) => conn.peer_closed(),
        Ok((n, _)) => {
            if n < room && !ready.peer_shut {
                ready.readable = false;
            }
            return Ok(n);
        }
        Err(Errno::AGAIN) => {
            ready.readable = false;
            conn.nothing_read();
        }
        Err(Errno::INTR) => {}
        Err(e) => {
            log_io_error(peer, "reading", &e.into());
            return Err(());
        }
    }
    Ok(0)
}

/// Writes a prefix of `item`; returns how many bytes the socket took. A file region that
/// ends early (the file shrank since it was opened) is an error.
fn write(socket: &OwnedFd, item: Item<'_>) -> Result<usize, Errno> {
    match item {
        Item::Bytes { bytes, more } => {
            let mut flags = SendFlags::NOSIGNAL;
            if more {
                flags |= SendFlags::MORE;
            }
            rustix::net::send(socket, bytes, flags)
        }
        Item::File { file, offset, len } => {
            let mut position = offset;
            let count = usize::try_from(len).map_or(SEND_MAX, |len| len.min(SEND_MAX));
            match rustix::fs::sendfile(socket, file, Some(&mut position), count)? {
                0 => {
                    log::warn!(
                        "closing a connection: a file ended {len} bytes early (it shrank while being sent)"
                    );
                    Err(Errno::NODATA)
                }
                n => Ok(n),
            }
        }
    }
}
