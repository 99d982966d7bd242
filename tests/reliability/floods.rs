//! Floods of work before trust (issue 31): strangers' signed reads, peer uploads from strangers, junk
//! envelopes (the last in `crates/ebl-node/tests/it/pint.rs`). Each while an honest party reads, whose
//! every answer must come, and in time; each prints its figure for docs/reliability.md.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ebl_core::SigningKey;
use ebl_tests::{now_ms, Http};

use crate::Bench;

/// Signed reads by unregistered keys: past `SEEN_REQUESTS_MAX` (100 000), as in the finding.
const STRANGER_READS: usize = 101_000;
const FLOODERS: usize = 8;
/// The honest party's bound: each of its reads answered 200 within this, under the flood.
const HONEST_LATENCY_MS_MAX: u128 = 5_000;

/// The honest party (the bank of the cast) reads its bills every 20 ms until `stop`; returns how many
/// reads it made and the slowest.
fn honest_reads(http: &Http, key: &SigningKey, stop: &AtomicBool) -> (usize, u128) {
    let (mut reads, mut worst) = (0, 0u128);
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        let (status, body) = http.get_as("/v1/bills", key).expect("answered");
        assert_eq!(
            status, 200,
            "the honest party's read under the flood: {body}"
        );
        worst = worst.max(started.elapsed().as_millis());
        reads += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    (reads, worst)
}

/// Finding 2 of the attack review, against the real binary: 101 000 signed reads by unregistered keys
/// made every party's signed read answer `503 busy` for about 85 s.
#[test]
fn regression_strangers_signed_reads_leave_every_partys_reads_answered() {
    let bench = Bench::start();
    let (stop, sent) = (AtomicBool::new(false), AtomicUsize::new(0));
    let started = Instant::now();
    let (reads, worst) = std::thread::scope(|s| {
        let honest = s.spawn(|| honest_reads(&bench.http(), &bench.cast.bank.key, &stop));
        let flooders: Vec<_> = (0..FLOODERS)
            .map(|f| {
                let (http, sent) = (bench.http(), &sent);
                s.spawn(move || {
                    for i in 0..STRANGER_READS / FLOODERS + 1 {
                        let mut seed = [0u8; 32];
                        seed[..8].copy_from_slice(&((f * 1_000_000 + i) as u64).to_le_bytes());
                        seed[31] = 0x5a;
                        let stranger = SigningKey::from_bytes(&seed);
                        let (status, _) = http
                            .get_signed_at("/v1/bills", &stranger, now_ms())
                            .expect("answered");
                        assert_eq!(status, 401, "a stranger's read is refused");
                        sent.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for f in flooders {
            f.join().expect("flooder");
        }
        stop.store(true, Ordering::SeqCst);
        honest.join().expect("honest")
    });
    let flood = sent.load(Ordering::SeqCst);
    println!(
        "floods: {flood} strangers' signed reads in {:.1} s; the honest party's {reads} reads all 200, slowest {worst} ms",
        started.elapsed().as_secs_f64()
    );
    assert!(flood >= STRANGER_READS);
    assert!(
        worst < HONEST_LATENCY_MS_MAX,
        "the honest party waited {worst} ms"
    );
    // And right after it, still served.
    assert_eq!(
        bench
            .http()
            .get_as("/v1/bills", &bench.cast.bank.key)
            .expect("read")
            .0,
        200
    );
}

/// Finding 3 of the attack review, against the real binary: 16 held-open peer uploads from strangers
/// took a node from 16 to 977 MiB. Each is answered at once from its headers; the node's memory stays
/// where it was.
#[test]
fn regression_held_open_peer_uploads_take_no_memory() {
    let bench = Bench::start();
    let address = bench.node.url.trim_start_matches("http://").to_owned();
    let before = bench.node.rss_bytes().unwrap_or(0);
    let started = Instant::now();
    let held: Vec<std::net::TcpStream> = (0..16)
        .map(|i| {
            let mut stream = std::net::TcpStream::connect(&address).expect("connect");
            let head = format!(
                "POST /v1/peer/append HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/octet-stream\r\n\
                 content-length: {}\r\nx-ebl-key: {}\r\nx-ebl-time: {}\r\nx-ebl-signature: {}\r\n\r\n",
                64 * 1024 * 1024,
                ebl_core::PartyKey::of(&ebl_core::testkit::key(100 + i)).to_hex(),
                now_ms(),
                "00".repeat(64),
            );
            stream.write_all(head.as_bytes()).expect("headers");
            // Keep sending body while the node allows it: a held upload.
            let _ = stream.write_all(&vec![0u8; 4 * 1024 * 1024]);
            stream
        })
        .collect();
    let answered = started.elapsed();
    let after = bench.node.rss_bytes().unwrap_or(0);
    let (status, _) = bench
        .http()
        .get_as("/v1/bills", &bench.cast.bank.key)
        .expect("read");
    assert_eq!(status, 200);
    println!(
        "floods: 16 held-open peer uploads of 64 MiB from strangers: RSS {} -> {} MiB in {} ms; the honest party served",
        before / (1024 * 1024),
        after / (1024 * 1024),
        answered.as_millis()
    );
    assert!(
        after < before + 64 * 1024 * 1024,
        "the node grew from {before} to {after} bytes"
    );
    drop(held);
}
