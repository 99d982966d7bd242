//! load limits: slow and oversized requests at once do not starve an honest client; random bodies get
//! typed 4xx answers, never a crash.

use std::io::Write;
use std::net::TcpStream;
use std::time::Instant;

use crate::{next, Bench};

const SLOW_CONNECTIONS: usize = 200;
const OVERSIZED: usize = 16;
const HONEST_REQUESTS: usize = 20;
/// The honest client's bound: each of its requests completes within this, under the abuse.
const HONEST_LATENCY_MS_MAX: u128 = 5_000;

#[test]
fn slow_and_oversized_requests_do_not_starve_an_honest_client() {
    let bench = Bench::start();
    let addr = bench.node.url.trim_start_matches("http://").to_owned();
    // Slowloris: connections that send half a request and then nothing, from an address of their own
    // (the node closes what one address opens past its share, so from the honest client's address
    // they would cut the honest client off instead of testing the timeouts).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let target: std::net::SocketAddr = addr.parse().expect("address");
    let slow: Vec<TcpStream> = (0..SLOW_CONNECTIONS)
        .filter_map(|_| {
            let stream = runtime.block_on(async {
                let socket = tokio::net::TcpSocket::new_v4().ok()?;
                socket.bind("127.0.0.3:0".parse().ok()?).ok()?;
                socket.connect(target).await.ok()
            })?;
            let mut s = stream.into_std().ok()?;
            s.set_nonblocking(false).ok()?;
            s.write_all(b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n")
                .ok()?;
            Some(s)
        })
        .collect();
    // Oversized bodies, sent in full, in parallel.
    let oversized: Vec<_> = (0..OVERSIZED)
        .map(|_| {
            let http = bench.http();
            std::thread::spawn(move || {
                let body = vec![b' '; 5 * 1024 * 1024];
                http.post("/v1/transactions", "application/json", &body)
                    .map(|(status, _)| status)
            })
        })
        .collect();
    let mut worst = 0u128;
    for _ in 0..HONEST_REQUESTS {
        let started = Instant::now();
        let (status, _) = bench
            .http()
            .get("/v1/head")
            .expect("the honest client is served");
        assert_eq!(status, 200);
        worst = worst.max(started.elapsed().as_millis());
    }
    for o in oversized {
        // Refused with 413, or the connection cut mid-upload: either way not served.
        if let Ok(Ok(status)) = o.join() {
            assert_eq!(status, 413);
        }
    }
    println!(
        "load: {} slow connections + {OVERSIZED} oversized bodies; honest client worst latency {worst} ms over {HONEST_REQUESTS} requests",
        slow.len()
    );
    assert!(
        worst < HONEST_LATENCY_MS_MAX,
        "honest client waited {worst} ms"
    );
    drop(slow);
}

#[test]
fn random_bodies_get_typed_client_errors_and_the_node_keeps_serving() {
    let bench = Bench::start();
    let http = bench.http();
    let mut seed = 0xf00d_u64;
    let valid = serde_json::to_vec(&ebl_core::testkit::signed(
        bench.chain,
        bench.chain,
        1,
        bench.cast.buyer.registration().expect("reg"),
        &[&bench.cast.operator],
    ))
    .expect("json");
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..300_u32 {
        let mut body = valid.clone();
        // Mutate a valid transaction: flip, drop or insert bytes.
        for _ in 0..1 + next(&mut seed) % 4 {
            let at = (next(&mut seed) as usize) % body.len();
            match next(&mut seed) % 3 {
                0 => body[at] ^= 1 << (next(&mut seed) % 8),
                1 => {
                    body.remove(at);
                }
                _ => body.insert(at, (next(&mut seed) % 256) as u8),
            }
        }
        let (content_type, body) = if round.is_multiple_of(3) {
            ("application/octet-stream", body.clone())
        } else {
            ("application/json", body)
        };
        let (status, answer) = http
            .post("/v1/transactions", content_type, &body)
            .expect("the node answers");
        assert!(status < 500, "a mutated body got {status}: {answer}");
        assert!(
            answer["error"]["code"].is_string() || answer["status"].is_string(),
            "untyped answer: {answer}"
        );
        *statuses.entry(status).or_default() += 1;
    }
    println!("fuzz over HTTP: 300 mutated bodies, answers by status {statuses:?}, no 5xx");
    assert_eq!(http.get("/v1/health").expect("health").0, 200);
}
