//! A trade on a three-member cluster with the real wallet: each party talks to a different member's
//! node, and the bank's offline check counts the member nodes' signatures on every block it relies on.

use ebl_tests::cluster::Members;
use ebl_tests::{bin, run, Market};

#[test]
fn a_bank_checks_a_bill_traded_on_a_cluster_against_the_member_nodes_certificates() {
    // Threshold 2 of 3: governance takes two admins, and finality two member nodes.
    let members = Members::start_governed(3, 2, &[]);
    members
        .leader(std::time::Duration::from_secs(20))
        .expect("a leader");
    let addresses = members.listens.clone();
    let Members { dir, mut nodes, .. } = members;
    let others: Vec<_> = nodes.drain(1..).collect();
    let m = Market::over(dir, nodes.remove(0), ebl_core::testkit::key(1));
    for (who, seed) in [("operator", 1u8), ("admin2", 41)] {
        let file = m.path(&format!("{who}.seed"));
        let key = ebl_core::testkit::key(seed);
        std::fs::write(&file, ebl_core::bytes::to_hex(&key.to_bytes())).expect("seed");
        m.ebl(who, &["key", "import", who, &file]).ok();
    }
    // Each party admitted by two admins: one proposes, the other co-signs and submits.
    let admit = |who: &str, name: &str, role: &str, ids: &[&str]| {
        let public = m.json(who, &["key", "new", who])["public_key"]
            .as_str()
            .expect("key")
            .to_owned();
        let proposal = m.path(&format!("{who}.proposal"));
        let mut args = vec![
            "party", "register", name, "--key", &public, "--role", role, "--as", "operator", "-o",
            &proposal,
        ];
        for id in ids {
            args.extend_from_slice(&["--id", id]);
        }
        m.json("operator", &args);
        let done = m.json("admin2", &["gov", "approve", &proposal, "--as", "admin2"]);
        assert_eq!(done["status"], "accepted", "{done}");
    };
    admit(
        "carrier",
        "Mediterranean Shipping",
        "carrier",
        &["SMDG:MSC"],
    );
    admit(
        "shipper",
        "DCSA CTK",
        "trader",
        &["LEI:5493001KJTIIGC8Y1R12"],
    );
    admit("buyer1", "Buyer One", "trader", &[]);
    let bill = m.issue("CLUSTER-1");
    // The shipper trades through another member's node: its submissions are forwarded to the leader.
    let via = |who: &str, node: usize, args: &[&str]| {
        let home = m.home(who).to_string_lossy().into_owned();
        let mut full = vec!["--json", "--node"];
        let url = format!("http://{}", addresses[node]);
        full.push(&url);
        full.extend_from_slice(args);
        run(
            &bin("ebl"),
            &full,
            &[
                ("EBL_HOME", &home),
                ("EBL_PASSPHRASE", ebl_tests::PASSPHRASE),
            ],
        )
        .ok()
        .json()
    };
    via(
        "shipper",
        1,
        &[
            "bill",
            "endorse",
            &bill,
            "--to",
            "Buyer One",
            "--to-order",
            "--as",
            "shipper",
        ],
    );
    let transferred = via(
        "shipper",
        2,
        &[
            "bill",
            "transfer",
            &bill,
            "--to",
            "Buyer One",
            "--as",
            "shipper",
        ],
    );
    // The receipt is final: it comes with at least the threshold of member nodes' signatures.
    let signatures = transferred["certificate"]["signatures"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(signatures >= 2, "{transferred}");
    let v = m.bank_checks("buyer1", &bill);
    assert_eq!(v["bill"]["possessor"], m.id("Buyer One").as_str(), "{v}");
    let signers = v["block_signers"].as_object().expect("signers by block");
    assert!(!signers.is_empty());
    for (height, names) in signers {
        let names = names.as_array().expect("names");
        assert!(
            names.len() >= 2,
            "block {height} relies on fewer than the threshold of member nodes: {names:?}"
        );
    }

    // A bundle whose certificates were cut down to one node's signature is refused: no single node's
    // word makes a block final.
    let file = m.path("cut.json");
    m.json(
        "buyer1",
        &["bill", "export", &bill, "-o", &file, "--as", "buyer1"],
    );
    let mut bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).expect("bundle")).expect("json");
    for block in bundle["blocks"].as_array_mut().expect("blocks") {
        let signatures = block["signatures"].as_array_mut().expect("signatures");
        signatures.truncate(1);
    }
    std::fs::write(&file, bundle.to_string()).expect("write");
    let chain = m.json("buyer1", &["chain", "show"])["chain"]
        .as_str()
        .expect("chain")
        .to_owned();
    let home = m.home("offline-bank").to_string_lossy().into_owned();
    let refused = run(
        &bin("ebl"),
        &["--json", "verify", &file, "--chain", &chain],
        &[("EBL_HOME", &home), ("EBL_NODE", "http://127.0.0.1:9")],
    );
    assert_ne!(refused.code, 0);
    assert_eq!(
        refused.json()["error"]["code"],
        "not_final",
        "{}",
        refused.stdout
    );

    // The wallet given every member's node turns to the next when the first does not answer.
    let all: Vec<String> = addresses.iter().map(|a| format!("http://{a}")).collect();
    let all = all.join(",");
    let buyer = m.id("Buyer One");
    let mut m = m;
    m.node.kill9();
    let home = m.home("buyer1").to_string_lossy().into_owned();
    let shown = run(
        &bin("ebl"),
        &[
            "--json", "--node", &all, "bill", "show", &bill, "--as", "buyer1",
        ],
        &[
            ("EBL_HOME", &home),
            ("EBL_PASSPHRASE", ebl_tests::PASSPHRASE),
        ],
    )
    .ok()
    .json();
    assert_eq!(shown["bill"]["possessor"], buyer.as_str(), "{shown}");
    drop(others);
}

#[test]
fn the_cluster_demo_finishes_its_trade_across_the_leaders_death() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = run(
        &bin("ebl"),
        &[
            "demo",
            "--cluster",
            "3",
            "--keep",
            &dir.path().to_string_lossy(),
        ],
        &[],
    );
    assert_eq!(demo.code, 0, "{}\n{}", demo.stdout, demo.stderr);
    for expected in [
        "killed with SIGKILL",
        "the others elected",
        "each final",
        "ACCOMPLISHED",
        "demo complete",
    ] {
        assert!(
            demo.stdout.contains(expected),
            "{expected}: {}",
            demo.stdout
        );
    }
    // Each of the three stores passed `ebl-node verify`.
    assert_eq!(
        demo.stdout.matches("  ok: chain").count(),
        3,
        "{}",
        demo.stdout
    );
}
