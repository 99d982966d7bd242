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
    m.import_testkit_key("operator", 1);
    m.import_testkit_key("admin2", 41);
    // Each party admitted by two admins: one proposes, the other co-signs and submits.
    let admins = ("operator", "admin2");
    m.admit_by_two(
        admins,
        "carrier",
        "Mediterranean Shipping",
        "carrier",
        &["SMDG:MSC"],
    );
    m.admit_by_two(
        admins,
        "shipper",
        "DCSA CTK",
        "trader",
        &["LEI:5493001KJTIIGC8Y1R12"],
    );
    m.admit_by_two(admins, "buyer1", "Buyer One", "trader", &[]);
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
    // Issue 35: the carrier reads its own issue at once through another member's node: its wallet kept
    // the height of the receipt and asks that node to have applied the block first.
    let shown = via("carrier", 2, &["bill", "show", &bill, "--as", "carrier"]);
    assert_eq!(
        shown["document"]["transportDocumentReference"], "CLUSTER-1",
        "{shown}"
    );
    let kept = std::fs::read_dir(m.home("carrier").join("applied"))
        .expect("the carrier's wallet keeps the height of its receipts")
        .count();
    assert_eq!(kept, 1, "one chain");
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
    // The statement of the bill now is vouched for by the finality quorum of member nodes (chain
    // format 7: three of three), not by the one node the bank asked.
    let vouched: Vec<&str> = v["statement_signers"]
        .as_array()
        .expect("statement signers")
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert_eq!(vouched.len(), 3, "{v}");
    let signers = v["block_signers"].as_object().expect("signers by block");
    assert!(!signers.is_empty());
    for (height, names) in signers {
        let names = names.as_array().expect("names");
        assert!(
            names.len() >= 2,
            "block {height} relies on fewer than the threshold of member nodes: {names:?}"
        );
    }

    // A bank's offline check of the buyer's bundle after `tamper`: the refusal's code.
    let chain = m.json("buyer1", &["chain", "show"])["chain"]
        .as_str()
        .expect("chain")
        .to_owned();
    let home = m.home("offline-bank").to_string_lossy().into_owned();
    let refused_after = |name: &str, tamper: &dyn Fn(&mut serde_json::Value)| {
        let file = m.path(name);
        m.json(
            "buyer1",
            &["bill", "export", &bill, "-o", &file, "--as", "buyer1"],
        );
        let mut bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).expect("bundle")).expect("json");
        assert_eq!(bundle["format"], "ebl-bundle/4");
        tamper(&mut bundle);
        std::fs::write(&file, bundle.to_string()).expect("write");
        let refused = run(
            &bin("ebl"),
            &["--json", "verify", &file, "--chain", &chain],
            &[("EBL_HOME", &home), ("EBL_NODE", "http://127.0.0.1:9")],
        );
        assert_ne!(refused.code, 0, "{}", refused.stdout);
        refused.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // A bundle whose certificates were cut down to one node's signature is refused: no single node's
    // word makes a block final.
    let cut = refused_after("cut.json", &|bundle| {
        for block in bundle["blocks"].as_array_mut().expect("blocks") {
            block["signatures"]
                .as_array_mut()
                .expect("signatures")
                .truncate(1);
        }
    });
    assert_eq!(cut, "not_final");
    // Finding 4 of the attack review: one node's fresh statement (a lying node, or a removed member's)
    // passed for the bill now. A bundle whose statement carries one node's signature is refused.
    let lone = refused_after("lone-statement.json", &|bundle| {
        bundle["statement"]["signatures"]
            .as_array_mut()
            .expect("statement signatures")
            .truncate(1);
    });
    assert_eq!(lone, "statement_uncertified");

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

/// Plays `ebl demo --cluster N` and checks what every run of it shows, then what `expected` adds.
fn cluster_demo(members: usize, expected: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let demo = run(
        &bin("ebl"),
        &[
            "demo",
            "--cluster",
            &members.to_string(),
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
    ]
    .iter()
    .chain(expected)
    {
        assert!(
            demo.stdout.contains(expected),
            "{expected}: {}",
            demo.stdout
        );
    }
    // Each store passed `ebl-node verify`.
    assert_eq!(
        demo.stdout.matches("  ok: chain").count(),
        members,
        "{}",
        demo.stdout
    );
    demo.stdout
}

/// Four members: finality takes three, so the trade finishes on the three left after the leader's
/// death, and the killed node catches up afterwards.
#[test]
fn the_cluster_demo_finishes_its_trade_across_the_leaders_death() {
    let shown = cluster_demo(4, &["The killed node comes back and catches up"]);
    assert!(
        !shown.contains("comes back before the trade goes on"),
        "{shown}"
    );
}

/// Three members: finality takes all three (one lying node must not make two blocks final), so the
/// killed node comes back before the trade goes on. The first version of this demo pledged with one node
/// down and the bank's check found block 1 signed by two of the three it needs (CI, 2026-12-05).
#[test]
fn regression_the_three_member_demo_brings_the_killed_node_back_before_the_trade_goes_on() {
    cluster_demo(3, &["comes back before the trade goes on"]);
}
