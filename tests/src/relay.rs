//! A delaying TCP relay: what `tc netem` would do to a link, done by the tests themselves (this
//! machine's kernel has no netem). It listens at a member's peer address and passes each connection on
//! to the member's node, holding every chunk, in each direction, for the one-way delay of the link the
//! connection came over (known by its source address: each member sends from a host of its own), plus
//! jitter. Order is kept, as TCP keeps it: a chunk never overtakes the one before it. Loss is not
//! simulated here: over TCP it shows as a retransmission's delay, which the jitter stands in for.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

/// The delays of the links into one node: each sender's one-way delay, by its address.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// One-way delay of the link from each source address.
    pub one_way: HashMap<IpAddr, Duration>,
    /// The most jitter added to a chunk's delay (drawn evenly from zero to it).
    pub jitter: Duration,
}

/// A relay at `address` in front of one node.
#[derive(Debug, Clone)]
pub struct Relay {
    pub address: SocketAddr,
    links: Arc<Mutex<Links>>,
}

/// The most bytes read at once: a chunk is delayed whole.
const CHUNK_BYTES_MAX: usize = 64 * 1024;

impl Relay {
    /// Listens on `listener`, passing connections to `target` with the delays of `links`.
    pub fn start(listener: TcpListener, target: SocketAddr, links: Links) -> Relay {
        let address = listener.local_addr().expect("relay address");
        let links = Arc::new(Mutex::new(links));
        let shared = links.clone();
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().flatten().enumerate() {
                let delays = shared.lock().unwrap_or_else(|p| p.into_inner()).clone();
                std::thread::spawn(move || relay(client, target, &delays, n as u64));
            }
        });
        Relay { address, links }
    }

    /// The delays of this relay's links, for connections made from now on.
    pub fn set_links(&self, links: Links) {
        *self.links.lock().unwrap_or_else(|p| p.into_inner()) = links;
    }
}

fn relay(client: TcpStream, target: SocketAddr, links: &Links, seed: u64) {
    let Ok(source) = client.peer_addr() else {
        return;
    };
    let delay = links
        .one_way
        .get(&source.ip())
        .copied()
        .unwrap_or(Duration::ZERO);
    let Ok(upstream) = TcpStream::connect_timeout(&target, Duration::from_secs(2)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (Ok(client_in), Ok(upstream_in)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let jitter = links.jitter;
    // The handshake: a real connection sends its first bytes a round trip after it asked to connect,
    // so they arrive a round trip and a one-way delay after.
    let handshake = Instant::now() + 3 * delay;
    let there =
        std::thread::spawn(move || delayed(client_in, upstream, delay, jitter, seed, handshake));
    delayed(
        upstream_in,
        client,
        delay,
        jitter,
        seed ^ 0x9e37_79b9,
        Instant::now(),
    );
    let _ = there.join();
}

/// Copies `from` to `to`, each chunk written `delay` (and up to `jitter` more) after it was read, and
/// none before `not_before`.
fn delayed(
    mut from: TcpStream,
    to: TcpStream,
    delay: Duration,
    jitter: Duration,
    seed: u64,
    not_before: Instant,
) {
    let (chunks, due) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = std::thread::spawn(move || {
        let mut to = to;
        for (at, chunk) in due {
            let now = Instant::now();
            if at > now {
                std::thread::sleep(at - now);
            }
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut last = not_before;
    let mut buf = vec![0u8; CHUNK_BYTES_MAX];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let extra = if jitter.is_zero() {
                    Duration::ZERO
                } else {
                    jitter.mul_f64(rng.gen_range(0.0..1.0))
                };
                // Never before the chunk ahead of it: a stream keeps its order.
                let at = (Instant::now() + delay + extra).max(last);
                last = at;
                if chunks.send((at, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        }
    }
    drop(chunks);
    let _ = writer.join();
    let _ = from.shutdown(Shutdown::Read);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_trip_through_the_relay_takes_both_ways_delays_and_keeps_the_bytes() {
        let echo = TcpListener::bind("127.0.0.1:0").expect("echo");
        let target = echo.local_addr().expect("addr");
        std::thread::spawn(move || {
            for mut c in echo.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut back = c.try_clone().expect("clone");
                    let _ = std::io::copy(&mut c, &mut back);
                });
            }
        });
        let one_way = Duration::from_millis(40);
        let relay = Relay::start(
            TcpListener::bind("127.0.0.1:0").expect("relay"),
            target,
            Links {
                one_way: HashMap::from([("127.0.0.1".parse().expect("ip"), one_way)]),
                jitter: Duration::ZERO,
            },
        );
        let message: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        // Timed from before the connection: the relay counts the handshake from its accept (a first
        // version started the clock after, and a slow machine came in under the bound).
        let started = Instant::now();
        let mut c = TcpStream::connect(relay.address).expect("connect");
        c.write_all(&message).expect("write");
        let mut back = vec![0u8; message.len()];
        c.read_exact(&mut back).expect("read");
        let took = started.elapsed();
        assert_eq!(back, message);
        // The handshake's round trip, then the bytes there and back.
        assert!(took >= 4 * one_way, "{took:?}");
        assert!(took < 4 * one_way + Duration::from_millis(500), "{took:?}");
    }
}
