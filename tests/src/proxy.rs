//! A fault-injecting TCP proxy in front of a member node's peer address. It reads the head of each
//! connection's first request to learn which node sends it (peer requests carry the sender's node key),
//! and can cut everything to its node, or everything from one sender, including connections already
//! open: enough to cut one node off from the others in both directions while clients still reach it.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
struct Rules {
    /// Nothing passes to the node behind this proxy.
    cut: bool,
    /// Nothing passes, and nothing is answered either: connections are held open, as a network that
    /// drops packets holds them, until the hold ends.
    hold: bool,
    /// The connections held.
    held: Vec<TcpStream>,
    /// Node keys (hex) whose requests do not pass.
    senders: HashSet<String>,
    /// Open connections: the sender (if any) and both ends, to cut them when the rules change.
    open: Vec<(Option<String>, TcpStream, TcpStream)>,
}

/// A proxy listening on `address`, passing connections on to `target`.
#[derive(Debug, Clone)]
pub struct Proxy {
    pub address: String,
    rules: Arc<Mutex<Rules>>,
}

/// The most bytes of a request head read to find its sender.
const HEAD_BYTES_MAX: usize = 64 * 1024;

fn sender_of(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("x-ebl-key"))
        .map(|(_, value)| value.trim().to_owned())
}

impl Proxy {
    pub fn start(listener: TcpListener, target: String) -> Proxy {
        let address = listener
            .local_addr()
            .map(|a| a.to_string())
            .expect("proxy address");
        let rules = Arc::new(Mutex::new(Rules::default()));
        let shared = rules.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let rules = shared.clone();
                let target = target.clone();
                std::thread::spawn(move || pass(client, &target, &rules));
            }
        });
        Proxy { address, rules }
    }

    fn rules(&self) -> std::sync::MutexGuard<'_, Rules> {
        self.rules
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Cuts (or restores) everything to the node behind this proxy.
    pub fn cut(&self, on: bool) {
        let mut rules = self.rules();
        rules.cut = on;
        if on {
            for (_, a, b) in rules.open.drain(..) {
                let _ = a.shutdown(Shutdown::Both);
                let _ = b.shutdown(Shutdown::Both);
            }
        }
    }

    /// Holds (or lets through again) everything to the node behind this proxy: open connections are cut,
    /// new ones accepted and never answered until the hold ends (a cut that drops packets, where
    /// [`Proxy::cut`] refuses them).
    pub fn hold(&self, on: bool) {
        let mut rules = self.rules();
        rules.hold = on;
        for (_, a, b) in rules.open.drain(..) {
            let _ = a.shutdown(Shutdown::Both);
            let _ = b.shutdown(Shutdown::Both);
        }
        if !on {
            for held in rules.held.drain(..) {
                let _ = held.shutdown(Shutdown::Both);
            }
        }
    }

    /// Drops (or lets through again) every request the node with `key` sends through this proxy.
    pub fn refuse_sender(&self, key: &str, on: bool) {
        let mut rules = self.rules();
        if on {
            rules.senders.insert(key.to_owned());
            rules.open.retain(|(sender, a, b)| {
                if sender.as_deref() == Some(key) {
                    let _ = a.shutdown(Shutdown::Both);
                    let _ = b.shutdown(Shutdown::Both);
                    false
                } else {
                    true
                }
            });
        } else {
            rules.senders.remove(key);
        }
    }
}

fn pass(mut client: TcpStream, target: &str, rules: &Mutex<Rules>) {
    {
        let mut rules = rules.lock().unwrap_or_else(|p| p.into_inner());
        if rules.hold {
            rules.held.push(client);
            return;
        }
    }
    // The head of the first request: enough to know who sends.
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < HEAD_BYTES_MAX {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let sender = sender_of(&head);
    let Ok(mut upstream) = TcpStream::connect(target) else {
        return;
    };
    {
        let mut rules = rules.lock().unwrap_or_else(|p| p.into_inner());
        let refused = rules.cut || sender.as_ref().is_some_and(|s| rules.senders.contains(s));
        if refused {
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        if let (Ok(a), Ok(b)) = (client.try_clone(), upstream.try_clone()) {
            rules.open.push((sender, a, b));
        }
    }
    if upstream.write_all(&head).is_err() {
        return;
    }
    let (Ok(mut from_client), Ok(mut to_client)) = (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let forward = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut upstream);
        let _ = upstream.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut to_client, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = forward.join();
}
