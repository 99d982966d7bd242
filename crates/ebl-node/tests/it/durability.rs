//! Durability: restarts keep everything, a power cut loses nothing acknowledged (and a store that lies
//! about syncing is caught), and every damaged record is found by `verify` and never served.

use std::sync::{Arc, Mutex};

use ebl_core::api::SubmitOutcome;
use ebl_core::testkit::{self, Cast};
use ebl_core::{Action, Hash, TxId};
use ebl_node::Settings;
use ebl_store::{FaultyKv, Kv, LedgerStore, SledKv, SyncBehaviour};

use crate::support::{assert_accepted, now_ms, Client, Server, TestNode};

#[test]
fn restart_keeps_everything() {
    let mut node = TestNode::start();
    let bill = node.issue_to_buyer("RST-1");
    let c = node.cast.clone();
    let head_before = node.get("/v1/head").1;
    let bill_before = node.get_as(&format!("/v1/bills/{bill}"), &c.operator).1;
    node.restart();
    assert_eq!(node.get("/v1/head").1, head_before);
    assert_eq!(
        node.get_as(&format!("/v1/bills/{bill}"), &c.operator).1,
        bill_before
    );
    // And it goes on from there: the registry and the bill heads survived.
    assert_accepted(&node.act(
        Action::Transfer {
            bill,
            to: c.shipper.id,
        },
        &[&c.buyer.key],
    ));
    let head = node.get("/v1/head").1;
    assert_eq!(
        head["height"].as_u64(),
        head_before["height"].as_u64().map(|h| h + 1)
    );
    node.server.stop().expect("stop");
    let store = LedgerStore::new(SledKv::open(&node.data().store()).expect("open"))
        .sealed_with(node_seal(&node));
    let report =
        ebl_node::verify::verify_store(&store, |_, _| {}).expect("the stored ledger verifies");
    assert_eq!(report.transactions, 7 + 3);
}

/// Deterministic pseudo-random numbers (xorshift), so a failing seed can be replayed.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Plays concurrent trades against a node over `kv`, cuts the power after a seeded number of
/// acknowledgements, powers on, and returns how many acknowledged transactions were lost.
fn acknowledged_lost_after_power_cut(behaviour: SyncBehaviour, mut seed: u64) -> usize {
    let cast = Cast::new();
    let genesis = cast.genesis(now_ms()).expect("genesis");
    let chain = genesis.chain_id();
    let kv = FaultyKv::new(behaviour);
    let store = LedgerStore::new(kv.clone());
    store.init(&genesis).expect("init");
    if behaviour == SyncBehaviour::Lies {
        // The lying store never syncs; give it a durable genesis so the node can start again afterwards.
        kv.sync().expect("sync");
    }
    let mut server = Server::launch(store, cast.node.clone(), Settings::default()).expect("launch");
    let node = Client::new(&server.url, chain);

    let registrations = cast.registrations(chain);
    let acked: Arc<Mutex<Vec<TxId>>> = Arc::default();
    for r in node.batch(&registrations).expect("registrations") {
        if let SubmitOutcome::Accepted { id, .. } = r {
            acked.lock().expect("lock").push(id);
        }
    }
    let cut_after = acked.lock().expect("lock").len() + 5 + (next(&mut seed) % 60) as usize;

    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let (node, acked, cast) = (node.clone(), acked.clone(), cast.clone());
            std::thread::spawn(move || {
                let tx = cast.issue(chain, &format!("PWR-{t}"), 2).expect("issue");
                let bill = tx.id();
                let mut head;
                let mut outcome = node.try_submit(&tx);
                let (mut from, mut to) = (&cast.shipper, &cast.buyer);
                for i in 0..40u64 {
                    match outcome {
                        Some(SubmitOutcome::Accepted { id, .. }) => {
                            acked.lock().expect("lock").push(id);
                            head = id;
                        }
                        // Power is off (or the node stopped): this client is done.
                        _ => return,
                    }
                    let tx = testkit::signed(
                        chain,
                        head,
                        3 + i,
                        Action::Transfer { bill, to: to.id },
                        &[&from.key],
                    );
                    outcome = node.try_submit(&tx);
                    std::mem::swap(&mut from, &mut to);
                }
            })
        })
        .collect();
    // Cut the power once enough transactions were acknowledged.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while acked.lock().expect("lock").len() < cut_after && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_micros(300));
    }
    let acknowledged_at_cut: Vec<TxId> = acked.lock().expect("lock").clone();
    kv.crash().expect("crash");
    for t in threads {
        let _ = t.join();
    }
    let _ = server.stop(); // the sequencer has halted on the dead disk; this only joins the threads
    kv.power_on().expect("power on");
    let store = LedgerStore::new(kv.clone()).sealed_with(ebl_consensus::load::seal_key(&cast.node));
    let lost = acknowledged_at_cut
        .iter()
        .filter(|id| !matches!(store.transaction(id), Ok(Some(_))))
        .count();
    if behaviour == SyncBehaviour::Honest {
        // What survived must be a sound ledger that a node can start on again.
        ebl_node::verify::verify_store(&store, |_, _| {}).expect("the surviving ledger verifies");
        let restarted = Server::launch(store, cast.node.clone(), Settings::default())
            .expect("restart after the cut");
        drop(restarted);
    }
    lost
}

#[test]
fn a_power_cut_loses_nothing_acknowledged() {
    let mut total_lost = 0;
    for seed in 1..=8u64 {
        total_lost += acknowledged_lost_after_power_cut(
            SyncBehaviour::Honest,
            seed.wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
    }
    println!("power loss: acknowledged-but-lost = {total_lost} over 8 seeds");
    assert_eq!(total_lost, 0);
}

#[test]
fn a_store_that_acknowledges_before_syncing_is_caught() {
    // The same harness over a store whose sync is a lie must find lost acknowledgements, or the test
    // above proves nothing.
    let lost = acknowledged_lost_after_power_cut(SyncBehaviour::Lies, 0x1234_5678);
    println!("lying store: acknowledged-but-lost = {lost}");
    assert!(
        lost > 0,
        "the power-cut harness did not notice a store that never syncs"
    );
}

/// The seal key of `node`'s checkpoint states, from its node key.
fn node_seal(node: &TestNode) -> ebl_store::SealKey {
    let key = ebl_node::keyfile::read(&node.data().node_key()).expect("node key");
    ebl_consensus::load::seal_key(&key)
}

/// Issue 13: "The node serves state it never checked." A checkpointed bill state rewritten (another
/// possessor) and resealed with a checksum anyone can compute was served by a restarted node. States
/// now carry a seal keyed by the node's secret: the restart refuses the store, and so does verify.
#[test]
fn regression_a_rewritten_checkpoint_state_is_served_after_restart() {
    let mut node = TestNode::start();
    let bill = node.issue("SEAL-1");
    node.server.stop().expect("stop");
    let kv = SledKv::open(&node.data().store()).expect("open");
    let keyed = LedgerStore::new(kv).sealed_with(node_seal(&node));
    let mut stolen = keyed.bill(&bill).expect("read").expect("checkpointed");
    assert_eq!(stolen.possessor, node.cast.shipper.id);
    stolen.possessor = node.cast.buyer.id;
    let height = keyed.state_height().expect("height");
    // The bill's state record, as the store keeps it: `s`, the id, a slot byte.
    let record = keyed
        .raw_entries()
        .expect("entries")
        .into_iter()
        .map(|(k, _)| k)
        .find(|k| k.len() == 34 && k[0] == b's' && &k[1..33] == bill.as_bytes())
        .expect("the bill's state record");
    drop(keyed);
    // The attacker writes the rewritten state as the store would, sealed without the node's secret.
    let sealed = ebl_store::seal_unkeyed(&record, ebl_core::codec::encode(&(height, &stolen)));
    let forger = SledKv::open(&node.data().store()).expect("open");
    forger.apply(vec![(record, Some(sealed))]).expect("rewrite");
    forger.sync().expect("sync");
    drop(forger);
    let refused = ebl_node::open(&node.data()).expect_err("a rewritten state is not served");
    assert!(
        matches!(
            refused,
            ebl_node::NodeError::Store(ebl_store::StoreError::StateSealMismatch { .. })
        ),
        "{refused}"
    );
    let kv = SledKv::open(&node.data().store()).expect("open");
    let keyed = LedgerStore::new(kv).sealed_with(node_seal(&node));
    let failure = ebl_node::verify::verify_store(&keyed, |_, _| {}).expect_err("verify finds it");
    assert_eq!(failure.code, "storage_corrupt");
}

#[test]
fn every_damaged_record_is_found_and_never_served() {
    let mut node = TestNode::start();
    let bill = node.issue_to_buyer("TMP-1");
    let c = node.cast.clone();
    node.server.stop().expect("stop");
    let kv = SledKv::open(&node.data().store()).expect("open");
    let store = LedgerStore::new(kv).sealed_with(node_seal(&node));
    let entries = store.raw_entries().expect("entries");
    // Genesis, head, blocks, certificates and checkpoint states (the id index is in files of its own,
    // whose damage `ebl-store`'s index tests cover).
    assert!(entries.len() > 10, "{} records", entries.len());
    for (i, (key, value)) in entries.iter().enumerate() {
        for at in [0, value.len() / 2, value.len() - 1] {
            let mut damaged = value.clone();
            damaged[at] ^= 0x10;
            store
                .kv()
                .apply(vec![(key.clone(), Some(damaged))])
                .expect("damage");
            let failure = ebl_node::verify::verify_store(&store, |_, _| {})
                .expect_err("damage must be found");
            assert_eq!(failure.code, "storage_corrupt", "record {i}");
            assert!(
                failure.message.contains(&ebl_core::bytes::to_hex(key)),
                "names the record: {failure}"
            );
            store
                .kv()
                .apply(vec![(key.clone(), Some(value.clone()))])
                .expect("repair");
        }
    }
    ebl_node::verify::verify_store(&store, |_, _| {}).expect("repaired store verifies");
    drop(store);
    println!("tamper: {} records x 3 flips, all detected", entries.len());

    // Every transaction in the log, damaged at its first, middle and last byte, is found and named.
    let kv = SledKv::open(&node.data().store()).expect("open");
    let store = LedgerStore::new(kv).sealed_with(node_seal(&node));
    let log_path = node.data().store().with_extension("log");
    let mut positions = Vec::new();
    for height in 1..=store.height().expect("height") {
        let count = store
            .block(height)
            .expect("block")
            .expect("stored")
            .tx_ids
            .len();
        for index in 0..count as u32 {
            let place = store
                .log_position(height, index)
                .expect("position")
                .expect("in the log");
            positions.push((height, index, place));
        }
    }
    assert!(positions.len() >= 9, "{} transactions", positions.len());
    let flip = |at: u64| {
        use std::os::unix::fs::FileExt as _;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&log_path)
            .expect("open log");
        let mut byte = [0u8];
        file.read_exact_at(&mut byte, at).expect("read");
        byte[0] ^= 0x10;
        file.write_all_at(&byte, at).expect("write");
    };
    for (height, index, (offset, len)) in &positions {
        for at in [*offset, offset + *len as u64 / 2, offset + *len as u64 - 1] {
            flip(at);
            let failure = ebl_node::verify::verify_store(&store, |_, _| {})
                .expect_err("damage must be found");
            assert_eq!(
                failure.code, "storage_corrupt",
                "transaction {height}/{index}"
            );
            let mut t_key = vec![b't'];
            t_key.extend_from_slice(&height.to_be_bytes());
            t_key.extend_from_slice(&index.to_be_bytes());
            assert!(
                failure.message.contains(&ebl_core::bytes::to_hex(&t_key)),
                "names the transaction: {failure}"
            );
            flip(at);
        }
    }
    ebl_node::verify::verify_store(&store, |_, _| {}).expect("repaired store verifies");
    println!(
        "tamper: {} logged transactions x 3 flips, all detected",
        positions.len()
    );

    // A damaged transaction is refused by the running node, not served: the bill's issue.
    let (_, _, (offset, len)) = positions
        .iter()
        .find(|(h, i, _)| {
            store
                .block(*h)
                .ok()
                .flatten()
                .is_some_and(|b| b.tx_ids[*i as usize] == bill)
        })
        .copied()
        .expect("the issue is in the log");
    drop(store);
    flip(offset + len as u64 / 2);
    node.restart();
    let (status, body) = node.get_as(&format!("/v1/bills/{bill}/history"), &c.operator);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (500, Some("storage_corrupt")),
        "{body}"
    );
    assert!(!body.to_string().contains("TMP-1"));
}

#[test]
fn a_start_after_a_cut_replays_the_blocks_after_the_last_checkpoint() {
    let cast = Cast::new();
    let genesis = cast.genesis(now_ms()).expect("genesis");
    let chain = genesis.chain_id();
    let kv = FaultyKv::new(SyncBehaviour::Honest);
    let store = LedgerStore::new(kv.clone());
    store.init(&genesis).expect("init");
    let settings = Settings {
        checkpoint_transactions: 5,
        ..Settings::default()
    };
    let mut server = Server::launch(store, cast.node.clone(), settings).expect("launch");
    let client = Client::new(&server.url, chain);
    client
        .batch(&cast.registrations(chain))
        .expect("registrations");
    let tx = cast.issue(chain, "CKPT-1", 2).expect("issue");
    let bill = tx.id();
    assert_accepted(&client.submit(&tx));
    let mut head = bill;
    let (mut from, mut to) = (&cast.shipper, &cast.buyer);
    for i in 0..3 {
        let tx = testkit::signed(
            chain,
            head,
            3 + i,
            Action::Transfer { bill, to: to.id },
            &[&from.key],
        );
        head = tx.id();
        assert_accepted(&client.submit(&tx));
        std::mem::swap(&mut from, &mut to);
    }
    let before = client
        .get_as(&format!("/v1/bills/{bill}"), &cast.operator)
        .1;
    // Power cut: no graceful checkpoint; the last one was at the registrations' block.
    kv.crash().expect("crash");
    let _ = server.stop();
    kv.power_on().expect("power on");
    let store = LedgerStore::new(kv.clone()).sealed_with(ebl_consensus::load::seal_key(&cast.node));
    let (state_height, height) = (
        store.state_height().expect("state"),
        store.height().expect("height"),
    );
    assert!(
        state_height >= 1 && state_height < height,
        "checkpoint at {state_height}, head {height}"
    );
    ebl_node::verify::verify_store(&store, |_, _| {})
        .expect("verifies, state checked at the checkpoint");
    let server = Server::launch(store, cast.node.clone(), settings).expect("restart replays");
    let client = Client::new(&server.url, chain);
    let after = client
        .get_as(&format!("/v1/bills/{bill}"), &cast.operator)
        .1;
    assert_eq!(
        after, before,
        "the replayed state is the state before the cut"
    );
}

#[test]
fn a_store_that_lost_acknowledged_blocks_is_caught_and_not_served() {
    let mut node = TestNode::start();
    node.issue_to_buyer("WIT-1");
    node.server.stop().expect("stop");
    // What sled's recovery does after a damaged log entry: the tail is gone, the rest looks sound.
    {
        let store = LedgerStore::new(SledKv::open(&node.data().store()).expect("open"))
            .sealed_with(node_seal(&node));
        let height = store.height().expect("height");
        let mut last_block = vec![b'b'];
        last_block.extend_from_slice(&height.to_be_bytes());
        // The head key rewritten to the block before, sealed exactly as the store seals records.
        let mut head = ebl_core::codec::encode(&(height - 1));
        let check = Hash::of_parts(&[b"H", &head]);
        head.extend_from_slice(check.as_bytes());
        store
            .kv()
            .apply(vec![(last_block, None), (b"H".to_vec(), Some(head))])
            .expect("truncate");
        store.sync().expect("sync");
        assert_eq!(
            store.height().expect("height"),
            height - 1,
            "the store now looks one block shorter"
        );
        let failure =
            ebl_node::verify::verify_store(&store, |_, _| {}).expect_err("truncation is caught");
        assert_eq!(failure.code, "store_truncated", "{failure}");
    }
    // The node refuses to start on it: going on would fork the acknowledged history.
    let store = LedgerStore::new(SledKv::open(&node.data().store()).expect("open"))
        .sealed_with(node_seal(&node));
    let key = ebl_node::keyfile::read(&node.data().node_key()).expect("key");
    let refused = ebl_node::start(store, key).expect_err("refuses to start");
    assert!(refused.to_string().contains("lost its tail"), "{refused}");
}

/// sled can hold the store's file lock for a moment after the store is closed, and reports that as an
/// IO error of kind `Other` ("could not acquire lock"): under a loaded test run, a node started right
/// after `init` in the same process failed to open its store (seen in 2 of 4 runs of this suite) until
/// `SledKv::open` learned to wait for that lock.
#[test]
fn a_node_opens_its_store_right_after_init_many_at_once() {
    // Several at once, as in a test run: the flusher's tick then often outlives the drop.
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for round in 0..5 {
                    let dir = tempfile::tempdir().expect("dir");
                    let data = ebl_node::DataDir(dir.path().to_owned());
                    ebl_node::init(
                        &data,
                        "reopen",
                        ebl_core::PartyKey::of(&testkit::key(1)),
                        "EBL",
                    )
                    .expect("init");
                    let node = ebl_node::LocalNode::open(&data, Settings::default())
                        .unwrap_or_else(|e| panic!("thread {t} round {round}: {e}"));
                    drop(node);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no thread failed to open its store");
    }
}
