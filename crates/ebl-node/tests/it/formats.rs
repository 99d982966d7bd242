//! A chain changing format by governance, at the node: only the next format this release knows is
//! ordered, and a node whose release does not know a scheduled format stops ordering at its height,
//! keeps what it had, and goes on once a release that knows it runs in its place.

use ebl_core::api::SubmitOutcome;
use ebl_core::format::FORMAT_VERSION;
use ebl_core::{Action, Hash};
use ebl_node::Settings;

use crate::support::{assert_accepted, assert_rejected, TestNode};

/// The registry's head: the last registry transaction, or the chain id.
fn registry_head(node: &TestNode) -> Hash {
    let (status, body) = node.get_as("/v1/registry/history", &node.cast.operator);
    assert_eq!(status, 200, "{body}");
    let entries: Vec<ebl_core::api::HistoryEntry> = serde_json::from_value(body).expect("history");
    entries.last().map_or(node.chain, |e| e.transaction.id())
}

fn height(node: &TestNode) -> u64 {
    let (status, body) = node.get("/v1/head");
    assert_eq!(status, 200, "{body}");
    body["height"].as_u64().expect("height")
}

/// The operator (the one admin, t = 1) schedules `format` from `from`.
fn schedule(node: &mut TestNode, format: u16, from: u64) -> SubmitOutcome {
    let head = registry_head(node);
    let operator = node.cast.operator.clone();
    let tx = node.sign(
        head,
        Action::ScheduleFormat {
            format,
            height: from,
        },
        &[&operator],
    );
    node.submit(&tx)
}

#[test]
fn a_node_orders_only_the_next_format_it_knows_from_a_height_ahead() {
    let mut node = TestNode::start();
    let at = height(&node);
    assert_rejected(
        &schedule(&mut node, FORMAT_VERSION + 1, at + 5),
        "format_unknown",
    );
    assert_rejected(
        &schedule(&mut node, FORMAT_VERSION, at + 5),
        "format_not_next",
    );
    assert_eq!(height(&node), at, "refusals change nothing");
}

#[test]
fn a_node_of_a_release_that_does_not_know_the_scheduled_format_stops_at_its_height_and_goes_on_when_replaced(
) {
    // A release that knows the next format schedules it, two blocks ahead.
    let next = FORMAT_VERSION + 1;
    let mut node = TestNode::start_with(Settings {
        newest_format: next,
        ..Settings::default()
    });
    let at = height(&node);
    let from = at + 3;
    assert_accepted(&schedule(&mut node, next, from));
    // Its operator goes back to this release, which does not know it.
    node.settings = Settings::default();
    node.restart();
    let bill = node.issue("BEFORE-THE-CHANGE");
    assert_eq!(height(&node), from - 1, "the last block of the old format");
    let shipper = node.cast.shipper.key.clone();
    let buyer = node.cast.buyer.id;
    let endorse = Action::EndorseToOrder { bill, to: buyer };
    match node.act(endorse.clone(), &[&shipper]) {
        SubmitOutcome::Rejected { error, .. } => {
            assert_eq!(error.code, "format_too_new", "{}", error.message);
            assert!(
                error.message.contains(&format!("format {next}")),
                "{}",
                error.message
            );
        }
        other => panic!("ordered past a format it does not know: {other:?}"),
    }
    assert_eq!(height(&node), from - 1, "nothing written");
    let (status, body) = node.get_as(&format!("/v1/bills/{bill}"), &node.cast.shipper.key);
    assert_eq!(status, 200, "{body}");
    // The release that knows it runs in its place: the same endorsement is ordered in the new format.
    node.settings = Settings {
        newest_format: next,
        ..Settings::default()
    };
    node.restart();
    assert_accepted(&node.act(endorse, &[&shipper]));
    assert_eq!(height(&node), from);
}
