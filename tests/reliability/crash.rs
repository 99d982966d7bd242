//! crash: kill -9 the node at random points during concurrent submissions, restart, and check that every
//! acknowledged transaction is there, none twice, and `ebl-node verify` passes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ebl_core::api::SubmitOutcome;
use ebl_core::testkit;
use ebl_core::{Action, TxId};
use ebl_store::{LedgerStore, SledKv};
use ebl_tests::Http;

use crate::{next, Bench};

/// Kills per run; `EBL_CRASH_KILLS` raises it for a soak run.
fn kills() -> usize {
    std::env::var("EBL_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(20)
}
const CLIENTS: usize = 4;

#[test]
fn kill_9_at_random_points_loses_nothing_acknowledged() {
    let mut bench = Bench::start();
    let seed0 = std::env::var("EBL_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_c0de_u64);
    let mut seed = seed0;
    let url = Arc::new(Mutex::new(bench.node.url.clone()));
    let acked: Arc<Mutex<Vec<TxId>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let bills: Vec<_> = (0..CLIENTS)
        .map(|i| bench.issue(&format!("CRASH-{i}")))
        .collect();
    acked.lock().expect("lock").extend(bills.iter().copied());

    let clients: Vec<_> = bills
        .iter()
        .enumerate()
        .map(|(i, bill)| {
            let (url, acked, stop, cast, chain, bill) = (
                url.clone(),
                acked.clone(),
                stop.clone(),
                bench.cast.clone(),
                bench.chain,
                *bill,
            );
            std::thread::spawn(move || {
                let (mut holder, mut other) = (&cast.shipper, &cast.buyer);
                let mut head = bill;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let tx = testkit::signed(
                        chain,
                        head,
                        (i as u64) << 32 | n,
                        Action::Transfer { bill, to: other.id },
                        &[&holder.key],
                    );
                    // Resubmit the same transaction until the node answers: it is idempotent.
                    loop {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let http = Http::new(&url.lock().expect("lock"), chain);
                        match http.submit(&tx) {
                            Ok(
                                SubmitOutcome::Accepted { id, .. }
                                | SubmitOutcome::Duplicate { id, .. },
                            ) => {
                                acked.lock().expect("lock").push(id);
                                head = id;
                                std::mem::swap(&mut holder, &mut other);
                                break;
                            }
                            Ok(SubmitOutcome::Rejected { error, .. }) => {
                                panic!("client {i}: refused {}: {}", error.code, error.message)
                            }
                            Err(_) => std::thread::sleep(Duration::from_millis(20)),
                        }
                    }
                }
            })
        })
        .collect();

    let kills = kills();
    for _ in 0..kills {
        std::thread::sleep(Duration::from_millis(30 + next(&mut seed) % 120));
        bench.node.kill9();
        bench.node.start();
        *url.lock().expect("lock") = bench.node.url.clone();
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().expect("client");
    }
    assert_eq!(
        bench.node.terminate(),
        0,
        "graceful stop after the last restart"
    );

    let acked = acked.lock().expect("lock").clone();
    let store = LedgerStore::new(SledKv::open(&bench.node.data.join("store")).expect("open store"));
    let lost = acked
        .iter()
        .filter(|id| !matches!(store.transaction(id), Ok(Some(_))))
        .count();
    let mut seen = HashSet::new();
    let mut duplicated = 0;
    for height in 1..=store.height().expect("height") {
        for id in store.block(height).expect("block").expect("stored").tx_ids {
            if !seen.insert(id) {
                duplicated += 1;
            }
        }
    }
    drop(store);
    let verify = bench.node.verify();
    println!(
        "crash: {kills} kill -9 with {CLIENTS} concurrent clients (seed {seed0:#x}): {} acknowledged, acknowledged-but-lost = {lost}, duplicated = {duplicated}, verify exit {}",
        acked.len(),
        verify.code
    );
    assert!(
        acked.len() > kills,
        "the clients made too little progress to prove anything"
    );
    assert_eq!(lost, 0);
    assert_eq!(duplicated, 0);
    assert_eq!(verify.code, 0, "{}", verify.stdout);
    let _ = &mut bench;
}
