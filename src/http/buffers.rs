//! Byte buffers kept by each worker thread for its connections to reuse.
//!
//! A connection holds its read and write buffers only while it works: idle, it gives them
//! back here, so ten thousand idle connections hold no buffers, and the next request on
//! any of them takes one back without allocating. Each thread keeps at most
//! [`MAX_KEPT`] buffers of at most [`MAX_SIZE`] bytes; the rest are freed.

use std::cell::RefCell;

/// Buffers a thread keeps: enough for its busy connections at once under load.
const MAX_KEPT: usize = 256;

/// A buffer that grew past this (a large head, a big listing) is freed, not kept.
const MAX_SIZE: usize = 64 * 1024;

thread_local! {
    static KEPT: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for at least `capacity` bytes: a kept one if there is one.
pub fn take(capacity: usize) -> Vec<u8> {
    let kept = KEPT.with(|kept| kept.borrow_mut().pop());
    match kept {
        Some(mut buffer) => {
            buffer.reserve(capacity);
            buffer
        }
        None => Vec::with_capacity(capacity),
    }
}

/// A connection's read buffer `input`, of which `input[..*pos]` is used up, made ready for
/// a read: the used bytes dropped, and room for at least `chunk` more (a kept buffer if it
/// had none).
pub fn ready_for_read<'a>(
    input: &'a mut Vec<u8>,
    pos: &mut usize,
    chunk: usize,
) -> &'a mut Vec<u8> {
    if *pos > 0 {
        input.drain(..*pos);
        *pos = 0;
    }
    if input.capacity() == 0 {
        *input = take(chunk);
    }
    input.reserve(chunk);
    input
}

/// After a read that found nothing: an empty `input` goes back to the thread, so that a
/// connection waiting for bytes (a new one's first turn runs before its request has
/// arrived) holds no buffer meanwhile.
pub fn give_if_empty(input: &mut Vec<u8>, pos: &mut usize) {
    if input.is_empty() && input.capacity() > 0 {
        give(std::mem::take(input));
        *pos = 0;
    }
}

/// Gives `buffer` back for reuse (or frees it).
pub fn give(mut buffer: Vec<u8>) {
    if buffer.capacity() == 0 || buffer.capacity() > MAX_SIZE {
        return;
    }
    buffer.clear();
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.len() < MAX_KEPT {
            if kept.capacity() == 0 {
                kept.reserve_exact(MAX_KEPT);
            }
            kept.push(buffer);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again() {
        let buffer = take(100);
        let address = buffer.as_ptr();
        give(buffer);
        let again = take(10);
        assert_eq!(again.as_ptr(), address);
        assert!(again.is_empty() && again.capacity() >= 100);
    }

    #[test]
    fn oversized_buffers_are_freed() {
        give(Vec::with_capacity(MAX_SIZE + 1));
        let taken = take(1);
        assert!(taken.capacity() <= MAX_SIZE);
    }
}
