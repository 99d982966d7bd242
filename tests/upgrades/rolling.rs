//! A consortium's rolling upgrade with the real binaries: three members run the release before
//! format 5 (built from its commit), each operator in turn stops its node and starts this release on
//! the same data directory while a trade runs, then the admins move the chain to format 5 by
//! governance. Nothing acknowledged is lost, the majority never stops, and a bill issued under format
//! 4 and sold under format 5 verifies offline.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ebl_tests::cluster::Members;
use ebl_tests::releases::{built, BEFORE_FORMAT_5};
use ebl_tests::wallets::Wallets;
use ebl_tests::{bin, NodeProcess};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);

/// Waits until node `i` answers at `height` or above, with a leader every running node agrees on.
fn caught_up(members: &Members, i: usize, height: u64) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let at = members.head(i).map_or(0, |h| h.0);
        if at >= height && members.leader(Duration::from_secs(1)).is_some() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "node {i} stayed at {at} below {height}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn highest(members: &Members) -> u64 {
    (0..members.nodes.len())
        .filter_map(|i| members.head(i))
        .map(|h| h.0)
        .max()
        .unwrap_or(0)
}

#[test]
fn a_consortium_upgrades_one_node_at_a_time_then_moves_to_format_5_while_a_trade_runs() {
    let old = built(BEFORE_FORMAT_5);
    let mut members = Members::start_release(3, 2, &old.join("ebl-node"));
    members.leader(LIMIT).expect("a leader");
    let urls: Vec<String> = members
        .listens
        .iter()
        .map(|l| format!("http://{l}"))
        .collect();
    // Every wallet knows the three nodes and turns to the next when one does not answer.
    let w = Wallets::new(
        tempfile::tempdir().expect("dir"),
        &urls.join(","),
        None,
        bin("ebl"),
    );
    w.import_testkit_key("operator", 1);
    w.import_testkit_key("admin2", 41);
    let admins = ("operator", "admin2");
    w.admit_by_two(
        admins,
        "carrier",
        "Mediterranean Shipping",
        "carrier",
        &["SMDG:MSC"],
    );
    w.admit_by_two(
        admins,
        "shipper",
        "DCSA CTK",
        "trader",
        &["LEI:5493001KJTIIGC8Y1R12"],
    );
    w.admit_by_two(admins, "buyer", "Buyer One", "trader", &[]);
    let first = w.issue("ROLLING-FIRST");

    // The trade: the carrier issues bill after bill; each acknowledged one is kept.
    let acknowledged = Mutex::new(vec![first.clone()]);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let doc = w.document(&format!("ROLLING-{n}"), None);
                let issued = w.ebl(
                    "carrier",
                    &[
                        "--json", "bill", "issue", &doc, "--to", "DCSA CTK", "--as", "carrier",
                    ],
                );
                if issued.code == 0 {
                    let bill = issued.json()["bill"].as_str().expect("bill").to_owned();
                    acknowledged.lock().expect("lock").push(bill);
                }
            }
        });

        // Each operator in turn: SIGTERM, then this release on the same data directory.
        for i in [2, 1, 0] {
            let before = highest(&members);
            assert_eq!(
                members.nodes[i].terminate(),
                0,
                "node {i} stopped gracefully"
            );
            let data = members.dir.path().join(format!("node-{i}"));
            members.nodes[i] = NodeProcess::of_binary(&bin("ebl-node"), &data, &members.listens[i]);
            members.nodes[i].start();
            caught_up(&members, i, before);
            let grown = acknowledged.lock().expect("lock").len();
            // The trade went on through the upgrade: the majority never stopped.
            let deadline = Instant::now() + LIMIT;
            while acknowledged.lock().expect("lock").len() < grown + 2 {
                assert!(
                    Instant::now() < deadline,
                    "the trade stopped after node {i}'s upgrade"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }

        // Every node runs this release: two admins schedule format 5 a few blocks ahead.
        let from = highest(&members) + 6;
        let proposal = w.path("format5.proposal");
        let from_text = from.to_string();
        w.json(
            "operator",
            &[
                "gov",
                "schedule-format",
                "5",
                "--height",
                &from_text,
                "--as",
                "operator",
                "-o",
                &proposal,
            ],
        );
        let done = w.json("admin2", &["gov", "approve", &proposal, "--as", "admin2"]);
        assert_eq!(done["status"], "accepted", "{done}");
        let deadline = Instant::now() + LIMIT;
        while highest(&members) < from + 3 {
            assert!(
                Instant::now() < deadline,
                "the chain stopped before format 5"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        stop.store(true, Ordering::SeqCst);
    });

    // The first bill, issued under format 4, is sold under format 5 and verifies offline.
    let members_json = w.json("operator", &["gov", "members", "--as", "operator"]);
    let from = members_json["formats"]["activations"][0]["height"]
        .as_u64()
        .expect("scheduled");
    assert!(highest(&members) >= from);
    w.sell("shipper", &first, "Buyer One");
    let bundle = w.path("first.bundle.json");
    w.json(
        "buyer",
        &["bill", "export", &first, "-o", &bundle, "--as", "buyer"],
    );
    let offline = tempfile::tempdir().expect("dir");
    let verified = ebl_tests::run(
        &bin("ebl"),
        &[
            "--json",
            "verify",
            &bundle,
            "--chain",
            &members.chain.to_hex(),
        ],
        &[
            ("EBL_HOME", &offline.path().to_string_lossy()),
            ("EBL_NODE", "http://127.0.0.1:9"),
        ],
    )
    .json();
    assert_eq!(verified["valid"], true, "{verified}");
    let heights: BTreeSet<u64> = verified["verdict"]["block_signers"]
        .as_object()
        .expect("blocks")
        .keys()
        .filter_map(|h| h.parse().ok())
        .collect();
    assert!(
        heights.iter().any(|h| *h < from) && heights.iter().any(|h| *h >= from),
        "the bundle spans both formats: {heights:?} around {from}"
    );

    // Every acknowledged bill is on every node, and the nodes agree on one head.
    let acknowledged = acknowledged.into_inner().expect("lock");
    assert!(
        acknowledged.len() > 8,
        "a trade ran: {}",
        acknowledged.len()
    );
    members.converged(LIMIT).expect("one head");
    for url in &urls {
        let listed = w.ebl(
            "shipper",
            &["--json", "--node", url, "bill", "list", "--as", "shipper"],
        );
        let listed: Value = listed.ok().json();
        let text = listed.to_string();
        for bill in &acknowledged {
            assert!(text.contains(bill.as_str()), "{bill} missing at {url}");
        }
    }
    // Stopped, every member's store verifies across the boundary.
    for (i, node) in members.nodes.iter_mut().enumerate() {
        assert_eq!(node.terminate(), 0);
        let verified = node.verify().ok().json();
        assert_eq!(verified["verdict"], "ok", "node {i}: {verified}");
    }
}
