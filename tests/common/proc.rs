//! What the tests that bound a server's resources read of it in `/proc/PID`: its resident
//! memory and its descriptors.

// Each test crate that includes this file uses some of it, as with `common/mod.rs`.
#![allow(dead_code)]

use crate::common::{Server, TIMEOUT};
use std::fs;
use std::thread;
use std::time::{Duration, Instant};

/// A field of `/proc/<pid>/status`, such as `VmRSS`, in kB (as tests/hardening.rs reads it).
pub fn proc_status_kb(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The server's resident memory, in kB.
pub fn rss_kb(server: &Server) -> u64 {
    proc_status_kb(server.pid(), "VmRSS")
}

/// How many descriptors the process `pid` holds.
pub fn fd_count(pid: u32) -> usize {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("list /proc/<pid>/fd")
        .count()
}

/// Polls the server's descriptor count until it is at most `target`, failing the test after
/// [`TIMEOUT`]. Returns the last count.
pub fn wait_fds_at_most(server: &Server, target: usize) -> usize {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let now = fd_count(server.pid());
        if now <= target {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the server still holds {now} descriptors, more than {target}, after {TIMEOUT:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}
