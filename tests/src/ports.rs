//! Ports for processes that bind them later: a genesis names member nodes' peer addresses before the
//! nodes run, so a test must choose a port it cannot yet hold.
//!
//! A port found by binding port 0 and letting go lies in the kernel's ephemeral range, where every
//! other listener on port 0 and every outgoing connection of every test running beside this one gets
//! its port too: one of them can take it before the node binds it. CI once saw exactly that: a member
//! node's peer port answered by another test's node of another chain, which refused the leader
//! (`peer_not_a_member`) until a governance approval timed out. These ports are drawn below the
//! ephemeral range instead, where only this allocator hands ports out, each once per process, from an
//! offset chosen by the process id so that test processes running side by side start far apart.

use std::sync::atomic::{AtomicU32, Ordering};

/// How many ports below the ephemeral range this allocator uses.
const SPAN: u32 = 10_000;

/// Where Linux starts its ephemeral ports unless told otherwise.
const EPHEMERAL_LOW_DEFAULT: u32 = 32_768;

static NEXT: AtomicU32 = AtomicU32::new(0);

fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(EPHEMERAL_LOW_DEFAULT)
}

/// A port on 127.0.0.1 that is free now and that neither port-0 listeners nor outgoing connections
/// will be given, nor any other caller in this process.
pub fn free_port() -> u16 {
    let low = ephemeral_low();
    if low <= SPAN + 1_024 {
        // An ephemeral range reaching down this far leaves no room below it: the kernel's choice.
        return std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
    }
    let base = low - SPAN;
    let offset = std::process::id().wrapping_mul(2_654_435_761) % SPAN;
    for _ in 0..SPAN {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = base + (offset + n) % SPAN;
        let port = u16::try_from(port).expect("ports are below 65536");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {base}..{low}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_bindable_and_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..200).map(|_| free_port()).collect();
        let distinct: std::collections::BTreeSet<u16> = ports.iter().copied().collect();
        assert_eq!(distinct.len(), ports.len());
        let low = ephemeral_low();
        if low > SPAN + 1_024 {
            assert!(ports.iter().all(|&p| u32::from(p) < low), "{ports:?}");
        }
        for port in ports.iter().take(5) {
            std::net::TcpListener::bind(("127.0.0.1", *port)).expect("bindable");
        }
    }
}
