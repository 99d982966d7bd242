//! The operator's verify of a running node (`POST /v1/admin/verify`): signed by the node's own key and
//! nobody else's, and sound while the node goes on writing blocks and checkpoints.

use std::sync::atomic::{AtomicBool, Ordering};

use ebl_core::testkit;
use ebl_core::{Action, Hash};
use ebl_node::admin::{Verdict, VERIFY_PATH};
use ebl_node::operator::Operator;
use ebl_node::Settings;

use crate::support::{assert_accepted, Client, TestNode};

fn operator(node: &TestNode) -> Operator {
    let key = ebl_node::keyfile::read(&node.data().node_key()).expect("node key");
    Operator::new(&node.server.url, key, &node.data().tls_cert()).expect("operator")
}

fn report(verdict: Verdict) -> ebl_node::verify::VerifyReport {
    match verdict {
        Verdict::Ok { report } => report,
        Verdict::Fault { failure } => panic!("fault: {failure}"),
    }
}

/// A verify reads the state checkpoint while the node may be rewriting it: a comparison with half of an
/// old and half of a new checkpoint must not be reported as a fault, and a quiet node's checkpoint is
/// compared in full.
#[test]
fn a_running_node_verifies_itself_while_it_writes_and_checkpoints() {
    let node = TestNode::start_with(Settings {
        // A checkpoint every other transaction: the verify meets rewritten ones all the time.
        checkpoint_transactions: 2,
        ..Settings::default()
    });
    let issues: Vec<_> = (0..400)
        .map(|n| {
            let action = Action::Issue {
                document: testkit::to_order_document(&format!("LIVE{n}")).expect("document"),
                issue_to: node.cast.shipper.id,
                shipper: node.cast.shipper.id,
                consignee: None,
                replaces: None,
            };
            testkit::signed(
                node.chain,
                Hash::ZERO,
                10 + n,
                action,
                &[&node.cast.carrier.key],
            )
        })
        .collect();
    let writing = AtomicBool::new(true);
    let client = Client::new(&node.server.url, node.chain);
    let operator = operator(&node);
    let (verdicts, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut written = 0;
            for tx in &issues {
                if !writing.load(Ordering::Relaxed) {
                    break;
                }
                assert_accepted(&client.submit(tx));
                written += 1;
            }
            written
        });
        let verdicts: Vec<Verdict> = (0..3)
            .map(|_| operator.verify(|_, _| {}).expect("asked"))
            .collect();
        writing.store(false, Ordering::Relaxed);
        (verdicts, writer.join().expect("writer"))
    });
    assert!(written > 0, "the node wrote nothing during the verifies");
    for verdict in verdicts {
        report(verdict);
    }
    // Quiet now: the checkpoint is compared, at the head.
    let quiet = report(operator.verify(|_, _| {}).expect("asked"));
    let (_, head) = node.get("/v1/head");
    assert_eq!(Some(quiet.blocks), head["height"].as_u64());
    assert!(quiet.state_checked_at.is_some(), "{quiet:?}");
}

/// Verifying is the node operator's: no party, member admin or auditor may start it or read it, and an
/// unsigned request is refused as one.
#[test]
fn only_the_node_key_may_ask_a_node_to_verify() {
    let node = TestNode::start();
    for key in [
        &node.cast.operator,
        &node.cast.auditor.key,
        &node.cast.bank.key,
    ] {
        let (status, body) = node.get_as(VERIFY_PATH, key);
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("not_this_node")),
            "{body}"
        );
    }
    let (status, body) = node.get(VERIFY_PATH);
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthenticated")),
        "{body}"
    );
    let (status, body) = node.post_raw(VERIFY_PATH, "application/json", b"");
    assert_eq!(status, 401, "{body}");
    // The node's own key may.
    let sound = report(operator(&node).verify(|_, _| {}).expect("asked"));
    assert_eq!(sound.chain, node.chain);
}
