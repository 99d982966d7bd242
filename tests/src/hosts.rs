//! Hosts of their own for member nodes: each in a network namespace with its own address, joined to
//! the tests' namespace by a veth link. A member's peer address is an address of the tests' namespace
//! where a delaying relay listens ([`crate::relay`]), so every link between two members has the delay
//! the test gives it; clients (the tests) reach each node directly, as a member's own users would.
//! Made and removed by the tests (root and `ip` needed); where they cannot be made, a test says why and
//! is skipped.

use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The port every node listens on in its namespace (each namespace has its own ports).
pub const NODE_PORT: u16 = 7000;

/// Namespaces made by one test, removed when dropped.
#[derive(Debug)]
pub struct Hosts {
    /// The namespaces' names, one per host.
    pub names: Vec<String>,
    /// The tests' end of each host's veth link.
    links: Vec<String>,
    /// Each host's address (in its namespace).
    pub addresses: Vec<Ipv4Addr>,
    /// Each host's peer address: in the tests' namespace, where its relay listens.
    pub peer_addresses: Vec<Ipv4Addr>,
    /// Hosts added to the tests' loopback device.
    on_loopback: Vec<Ipv4Addr>,
}

/// Why hosts could not be made here.
#[derive(Debug)]
pub struct Unavailable(pub String);

fn ip(args: &[&str]) -> Result<(), Unavailable> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| Unavailable(format!("`ip` could not run: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Unavailable(format!(
            "`ip {}`: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Numbers the hosts of this process apart from those of other test processes (by pid) and from each
/// other (by a counter), so concurrent tests never share a name or an address.
fn next_family() -> (u32, u32) {
    static FAMILIES: AtomicU32 = AtomicU32::new(0);
    (std::process::id(), FAMILIES.fetch_add(1, Ordering::Relaxed))
}

impl Hosts {
    /// `count` hosts (at most 8 per family, 8 families per process).
    pub fn make(count: usize) -> Result<Hosts, Unavailable> {
        assert!(count <= 8, "at most 8 hosts");
        let (pid, family) = next_family();
        assert!(family < 8, "at most 8 families of hosts per test process");
        let (a, b) = (
            u8::try_from(100 + (pid >> 8) % 100).expect("an octet"),
            u8::try_from(pid & 0xff).expect("an octet"),
        );
        let mut hosts = Hosts {
            names: Vec::new(),
            links: Vec::new(),
            addresses: Vec::new(),
            peer_addresses: Vec::new(),
            on_loopback: Vec::new(),
        };
        for i in 0..count {
            let slot = u8::try_from(family as usize * 32 + 4 * i).expect("an octet");
            let name = format!("ebl{pid:x}-{family}{i}");
            let link = format!("eb{:x}{family}{i}", pid & 0xfffff);
            let peer = format!("{link}p");
            let ours = Ipv4Addr::new(10, a, b, slot + 1);
            let theirs = Ipv4Addr::new(10, a, b, slot + 2);
            let relay = Ipv4Addr::new(172, 16 + (a % 16), b, slot + 1);
            ip(&["netns", "add", &name])?;
            hosts.names.push(name.clone());
            ip(&["link", "add", &link, "type", "veth", "peer", "name", &peer])?;
            hosts.links.push(link.clone());
            ip(&["link", "set", &peer, "netns", &name])?;
            ip(&["addr", "add", &format!("{ours}/30"), "dev", &link])?;
            ip(&["link", "set", &link, "up"])?;
            let inside = |args: &[&str]| {
                let mut all = vec!["netns", "exec", &name, "ip"];
                all.extend_from_slice(args);
                ip(&all)
            };
            inside(&["addr", "add", &format!("{theirs}/30"), "dev", &peer])?;
            inside(&["link", "set", &peer, "up"])?;
            inside(&["link", "set", "lo", "up"])?;
            inside(&["route", "add", "default", "via", &ours.to_string()])?;
            ip(&["addr", "add", &format!("{relay}/32"), "dev", "lo"])?;
            hosts.on_loopback.push(relay);
            hosts.addresses.push(theirs);
            hosts.peer_addresses.push(relay);
        }
        Ok(hosts)
    }

    /// Host `i`'s address, as its relay sees connections from it.
    pub fn source(&self, i: usize) -> IpAddr {
        IpAddr::V4(self.addresses[i])
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for address in &self.on_loopback {
            let _ = ip(&["addr", "del", &format!("{address}/32"), "dev", "lo"]);
        }
        // Removing one end of a veth removes the other; the namespace goes once no process is in it.
        for link in &self.links {
            let _ = ip(&["link", "del", link]);
        }
        for name in &self.names {
            let _ = ip(&["netns", "del", name]);
        }
    }
}
